"""What the system saw: the video's sampled frames with the followed person's crop and
detected 2-D skeleton drawn over them, as a browser-playable H.264 MP4 (OpenCV draws,
no OpenGL: safe in any thread)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from engine.render.settings import RenderSettings
from engine.render.video import write_mp4
from engine.video.config import DEFAULT, VideoConfig
from engine.video.decode import VideoInfo, sampled_frames
from engine.video.pose import BLAZEPOSE_BONES
from engine.video.track import PoseTrack

LEFT, RIGHT, MID = (59, 116, 232), (208, 127, 47), (87, 78, 74)  # BGR: orange, blue, slate
BOX = (80, 200, 80)
MAX_SIDE = 640  # the overlay video's longer side


def _colour(a: str, b: str) -> tuple[int, int, int]:
    if a.startswith("left") and b.startswith("left"):
        return LEFT
    if a.startswith("right") and b.startswith("right"):
        return RIGHT
    return MID


def draw_pose(frame: np.ndarray, track: PoseTrack, t: int, min_confidence: float) -> np.ndarray:
    """The BGR frame with frame `t`'s crop box and skeleton; interpolated poses (no
    estimate in that frame) are drawn dashed-thin in grey."""
    out = frame.copy()
    scale = max(frame.shape[:2]) / 600.0
    thick = max(1, round(2 * scale))
    box = track.boxes[t]
    if np.isfinite(box).all():
        cv2.rectangle(out, (int(box[0]), int(box[1])), (int(box[2]), int(box[3])), BOX, thick)
    estimated = bool(track.found[t])
    points = track.image[t]
    seen = track.confidence[t] >= min_confidence if estimated else np.ones(len(points), bool)
    for a, b in BLAZEPOSE_BONES:
        i, j = track.index(a), track.index(b)
        if not (seen[i] and seen[j]) or not np.isfinite(points[[i, j]]).all():
            continue
        colour = _colour(a, b) if estimated else (160, 160, 160)
        p, q = tuple(int(v) for v in points[i]), tuple(int(v) for v in points[j])
        cv2.line(out, p, q, colour, thick + 1 if estimated else 1, cv2.LINE_AA)
    for i in np.flatnonzero(seen):
        if np.isfinite(points[i]).all():
            centre = tuple(int(v) for v in points[i])
            cv2.circle(out, centre, thick + 1, (255, 255, 255), -1, cv2.LINE_AA)
    return out


def overlay_frames(
    path: str | Path, info: VideoInfo, track: PoseTrack, config: VideoConfig
) -> Iterator[np.ndarray]:
    """RGB frames of the sampled video with the skeleton drawn, at most MAX_SIDE wide."""
    first = track.first_frame
    for t, frame in enumerate(sampled_frames(path, info, config)):
        if t < first:
            continue
        if t - first >= len(track):
            break
        drawn = draw_pose(frame, track, t - first, config.min_confidence)
        factor = min(1.0, MAX_SIDE / max(drawn.shape[:2]))
        if factor < 1.0:
            drawn = cv2.resize(drawn, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        yield cv2.cvtColor(drawn, cv2.COLOR_BGR2RGB)


def write_overlay(
    path: str | Path,
    info: VideoInfo,
    track: PoseTrack,
    target: str | Path,
    config: VideoConfig = DEFAULT,
) -> Path:
    """The overlay video of a tracked video as an H.264 MP4 at `target`."""
    factor = min(1.0, MAX_SIDE / max(track.frame_size))
    width, height = (round(s * factor) // 2 * 2 for s in track.frame_size)
    frames = (_fit(frame, width, height) for frame in overlay_frames(path, info, track, config))
    settings = RenderSettings(width=width, height=height, fps=info.sample_fps)
    return write_mp4(frames, target, info.sample_fps, settings)


def _fit(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    if frame.shape[:2] == (height, width):
        return frame
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
