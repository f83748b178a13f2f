"""Several rendered motion videos played side by side in one video, in step: one clock for
all (a shorter motion holds its last pose), a label over each, a title, and under them the
similarity of the query over one motion's time with its best-matching window shaded and a
cursor that moves as the video plays.

This composes videos already rendered (by the render workers); it decodes, pastes and
encodes, and draws no 3D: no OpenGL context is needed, so it may run in any thread."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.render.errors import RenderError
from engine.render.settings import RenderSettings
from engine.render.video import write_mp4

GAP = 8  # pixels between panels
LABEL_H = 24
TITLE_H = 30
CURVE_H = 120
BACKGROUND = (255, 255, 255)
INK = (40, 44, 52)
CURVE = (47, 127, 208)
WINDOW = (253, 226, 196)
CURSOR = (192, 57, 43)


@dataclass
class Panel:
    video: Path  # an MP4 (all panels the same size)
    label: str


@dataclass
class Curve:
    """Similarity over the time of panel `follows` (seconds), best window [start, end]."""

    times: np.ndarray
    scores: np.ndarray
    window: tuple[float, float]
    follows: int = 0


@dataclass
class _Clip:
    frames: np.ndarray  # (N, H, W, 3)
    fps: float

    @property
    def duration(self) -> float:
        return len(self.frames) / self.fps

    def at(self, seconds: float) -> np.ndarray:
        return self.frames[min(int(seconds * self.fps), len(self.frames) - 1)]


def compose(panels: Sequence[Panel], out: Path, title: str, curve: Curve | None = None) -> Path:
    """Write the side-by-side video of `panels` to `out` (atomically); returns `out`."""
    if not panels:
        raise RenderError("nothing to put side by side")
    clips = [_read(panel.video) for panel in panels]
    height, width = clips[0].frames.shape[1:3]
    if any(clip.frames.shape[1:3] != (height, width) for clip in clips):
        raise RenderError("the videos to put side by side differ in size")
    fps = max(clip.fps for clip in clips)
    duration = max(clip.duration for clip in clips)
    base = _background(panels, title, curve, width, height)
    layout = _Layout(width, height, len(panels), curve is not None)
    frames = _frames(clips, base, layout, curve, fps, duration)
    settings = RenderSettings(width=base.shape[1], height=base.shape[0])
    return write_mp4(frames, out, fps, settings)


@dataclass
class _Layout:
    width: int
    height: int
    count: int
    has_curve: bool

    def panel_x(self, index: int) -> int:
        return GAP + index * (self.width + GAP)

    @property
    def panel_y(self) -> int:
        return TITLE_H + LABEL_H

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the frame, both even as yuv420p needs."""
        height = self.panel_y + self.height + (CURVE_H if self.has_curve else GAP)
        width = GAP + self.count * (self.width + GAP)
        return height + height % 2, width + width % 2

    @property
    def plot(self) -> tuple[int, int, int, int]:
        """The curve's box: left, top, right, bottom."""
        height, width = self.size
        return 48, self.panel_y + self.height + 14, width - 16, height - 24


def _frames(
    clips: list[_Clip],
    base: np.ndarray,
    layout: _Layout,
    curve: Curve | None,
    fps: float,
    end: float,
) -> Iterator[np.ndarray]:
    for index in range(max(1, round(end * fps))):
        seconds = index / fps
        frame = base.copy()
        for k, clip in enumerate(clips):
            x = layout.panel_x(k)
            frame[layout.panel_y : layout.panel_y + layout.height, x : x + layout.width] = clip.at(
                seconds
            )
        if curve is not None:
            followed = clips[curve.follows].duration
            _cursor(frame, layout, curve, min(seconds, followed))
        yield frame


def _read(path: Path) -> _Clip:
    try:
        reader = imageio.get_reader(str(path), format="FFMPEG")
        fps = float(reader.get_meta_data()["fps"])
        frames = np.stack([np.asarray(f)[..., :3] for f in reader.iter_data()])
        reader.close()
    except (OSError, RuntimeError, ValueError, KeyError) as error:
        raise RenderError(f"could not read the rendered video {path.name}: {error}") from None
    return _Clip(frames, fps)


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _background(
    panels: Sequence[Panel], title: str, curve: Curve | None, width: int, height: int
) -> np.ndarray:
    """Everything that does not move: title, labels, the curve and its shaded window."""
    layout = _Layout(width, height, len(panels), curve is not None)
    frame_h, frame_w = layout.size
    image = Image.new("RGB", (frame_w, frame_h), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((GAP, 6), _fit(draw, title, frame_w - 2 * GAP, _font(17)), INK, _font(17))
    for k, panel in enumerate(panels):
        label = _fit(draw, panel.label, width, _font(14))
        draw.text((layout.panel_x(k), TITLE_H + 3), label, INK, _font(14))
    if curve is not None:
        _draw_curve(draw, layout, curve)
    return np.asarray(image).copy()


@dataclass
class _Axes:
    """Where seconds and scores of the curve fall in the frame."""

    box: tuple[int, int, int, int]  # left, top, right, bottom
    end: float  # seconds at the right edge
    low: float
    high: float

    @classmethod
    def of(cls, layout: _Layout, curve: Curve) -> _Axes:
        end = max(float(curve.times[-1]) + 1.0, curve.window[1])
        low, high = float(curve.scores.min()), float(curve.scores.max())
        if high - low < 1e-6:
            low, high = low - 0.5, high + 0.5
        return cls(layout.plot, end, low, high)

    def x(self, seconds: float) -> float:
        left, _, right, _ = self.box
        return left + (right - left) * min(max(seconds / self.end, 0.0), 1.0)

    def y(self, score: float) -> float:
        _, top, _, bottom = self.box
        return bottom - (bottom - top) * (score - self.low) / (self.high - self.low)


def _draw_curve(draw: ImageDraw.ImageDraw, layout: _Layout, curve: Curve) -> None:
    axes = _Axes.of(layout, curve)
    left, top, right, bottom = axes.box
    start, end = curve.window
    draw.rectangle((axes.x(start), top, axes.x(end), bottom), fill=WINDOW)
    draw.line((left, bottom, right, bottom), fill=INK)
    draw.line((left, top, left, bottom), fill=INK)
    points = [(axes.x(t), axes.y(s)) for t, s in zip(curve.times, curve.scores, strict=True)]
    if len(points) == 1:  # a motion shorter than one window: one score
        points = [(left, points[0][1]), (right, points[0][1])]
    draw.line(points, fill=CURVE, width=3)
    small = _font(12)
    draw.text((4, top - 6), f"{axes.high:.2f}", INK, small)
    draw.text((4, bottom - 8), f"{axes.low:.2f}", INK, small)
    draw.text((left, bottom + 4), "0 s", INK, small)
    draw.text((right - 30, bottom + 4), f"{axes.end:.0f} s", INK, small)
    draw.text((axes.x(start) + 4, top - 14), "best match", (170, 90, 20), small)
    draw.text((left + 60, bottom + 4), "similarity to the query over time", INK, small)


def _cursor(frame: np.ndarray, layout: _Layout, curve: Curve, seconds: float) -> None:
    axes = _Axes.of(layout, curve)
    _, top, _, bottom = axes.box
    column = round(axes.x(seconds))
    frame[top : bottom + 1, max(column - 1, 0) : column + 2] = CURSOR


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, font) -> str:
    """`text`, shortened with an ellipsis to fit `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"
