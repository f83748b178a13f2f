"""`RenderSettings`: everything that decides how a motion looks, as one frozen value.

Settings are data: they are hashed into render-cache keys, sent to worker processes, and
validated once here, so the drawing code reads them without re-checking.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass

from engine.render.errors import RenderError

_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)


@dataclass(frozen=True)
class RenderSettings:
    """How to draw a skeleton motion: picture, colours, geometry, camera and encoder.

    Colours are sRGB hex strings. Positions are Y up, metres, floor at y = 0.
    """

    width: int = 256
    height: int = 256
    # frame rate of the joints given (HumanML3D: 20); the video plays at fps / frame_step
    fps: float = 20.0
    # draw every n-th frame: 2 halves the work for grid previews and keeps real time
    frame_step: int = 1

    left_colour: str = "#e8743b"  # orange
    right_colour: str = "#2f7fd0"  # blue
    mid_colour: str = "#4a4e57"  # slate
    background_colour: str = "#f4f5f7"
    floor_colours: tuple[str, str] = ("#e6e8ec", "#d6d9df")  # checkerboard tiles
    trajectory_colour: str = "#c0392b"
    shadow_colour: str = "#b9bcc3"

    # the body's limbs are as thick as a person's (engine/render/body.py) times this
    body_thickness: float = 1.0
    capsule_segments: int = 12  # around each limb
    floor_tile: float = 0.5  # metres
    trajectory_width: float = 0.035

    show_floor: bool = True
    show_trajectory: bool = True
    show_shadow: bool = True

    # per-vertex lighting of the body (the floor, trajectory and shadow are not lit)
    ambient_light: float = 0.5  # from the sky; half of it from the ground
    key_light: float = 0.75  # above the camera, to its left
    fill_light: float = 0.3  # low, to the camera's right

    elevation_deg: float = 22.0  # camera above the horizon
    azimuth_deg: float = 35.0  # camera turned from the body's initial facing: a 3/4 view
    fov_deg: float = 40.0  # vertical field of view
    framing_margin: float = 1.08  # >1 leaves room around the body in the picture
    follow_smoothing_s: float = 0.4  # std-dev of the Gaussian smoothing the camera follows

    # multisample anti-aliasing: samples per pixel (1: none); 2 smooths the edges of a
    # body this size for far less rasteriser work than 4 (docs/rendering.md)
    msaa_samples: int = 4

    x264_preset: str = "veryfast"
    x264_crf: int = 23

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise RenderError("invalid render settings: " + "; ".join(problems))

    @property
    def video_fps(self) -> float:
        return self.fps / self.frame_step

    def side_colour(self, side: str | None) -> str:
        """The colour of a joint or bone on the 'left', 'right' or mid-line (None)."""
        return {"left": self.left_colour, "right": self.right_colour}.get(side, self.mid_colour)

    def replace(self, **changes: object) -> RenderSettings:
        """A copy with some fields changed (validated like any other)."""
        return dataclasses.replace(self, **changes)

    def key(self) -> str:
        """A canonical text of every field, for cache keys."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


def _problems(s: RenderSettings) -> list[str]:
    problems = []
    for name in ("width", "height"):
        value = getattr(s, name)
        if not isinstance(value, int) or not 16 <= value <= 4096 or value % 2:
            problems.append(f"{name}={value!r} must be an even integer in 16..4096 (H.264)")
    if not s.fps > 0:
        problems.append(f"fps={s.fps!r} must be positive")
    if not isinstance(s.frame_step, int) or s.frame_step < 1:
        problems.append(f"frame_step={s.frame_step!r} must be an integer >= 1")
    colours = {
        "left_colour": s.left_colour,
        "right_colour": s.right_colour,
        "mid_colour": s.mid_colour,
        "background_colour": s.background_colour,
        "trajectory_colour": s.trajectory_colour,
        "shadow_colour": s.shadow_colour,
    }
    colours.update({f"floor_colours[{i}]": c for i, c in enumerate(s.floor_colours)})
    problems += [
        f"{name}={value!r} must be a '#rrggbb' hex colour"
        for name, value in colours.items()
        if not (isinstance(value, str) and _HEX_COLOUR.match(value))
    ]
    if len(s.floor_colours) != 2:
        problems.append("floor_colours must hold two colours (the checkerboard)")
    if not 0.1 <= s.body_thickness <= 3.0:
        problems.append(f"body_thickness={s.body_thickness!r} must be in 0.1..3")
    for name in ("floor_tile", "trajectory_width"):
        if not getattr(s, name) > 0:
            problems.append(f"{name}={getattr(s, name)!r} must be positive")
    for name in ("ambient_light", "key_light", "fill_light"):
        if not 0 <= getattr(s, name) <= 4:
            problems.append(f"{name}={getattr(s, name)!r} must be in 0..4")
    if not isinstance(s.capsule_segments, int) or s.capsule_segments < 4:
        problems.append(f"capsule_segments={s.capsule_segments!r} must be an integer >= 4")
    if not -10.0 <= s.elevation_deg <= 80.0:
        problems.append(f"elevation_deg={s.elevation_deg!r} must be in -10..80")
    if not 10.0 <= s.fov_deg <= 120.0:
        problems.append(f"fov_deg={s.fov_deg!r} must be in 10..120")
    if not s.framing_margin >= 1.0:
        problems.append(f"framing_margin={s.framing_margin!r} must be >= 1")
    if not s.follow_smoothing_s >= 0.0:
        problems.append(f"follow_smoothing_s={s.follow_smoothing_s!r} must be >= 0")
    if s.msaa_samples not in (1, 2, 4, 8):
        problems.append(f"msaa_samples={s.msaa_samples!r} must be 1, 2, 4 or 8")
    if s.x264_preset not in _X264_PRESETS:
        problems.append(f"x264_preset={s.x264_preset!r} must be one of {', '.join(_X264_PRESETS)}")
    if not isinstance(s.x264_crf, int) or not 0 <= s.x264_crf <= 51:
        problems.append(f"x264_crf={s.x264_crf!r} must be an integer in 0..51")
    return problems


def srgb(colour: str) -> tuple[float, float, float]:
    """'#rrggbb' -> (r, g, b) in 0..1 (sRGB-encoded, as displayed)."""
    return tuple(int(colour[i : i + 2], 16) / 255.0 for i in (1, 3, 5))
