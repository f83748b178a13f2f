"""A still picture of a motion: its most telling frame, framed as in its video."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from engine.motion.skeleton import Skeleton
from engine.render.errors import RenderError
from engine.render.frames import iter_frames
from engine.render.inputs import prepare_joints
from engine.render.settings import RenderSettings
from engine.storage import atomic_write_bytes


def representative_frame(joints: np.ndarray) -> int:
    """Index of the frame whose pose spreads widest (limbs out): the most telling still."""
    spread = np.linalg.norm(joints - joints.mean(axis=1, keepdims=True), axis=-1).mean(axis=1)
    return int(np.argmax(spread))


def render_thumbnail(
    joints: np.ndarray,
    path: str | Path,
    settings: RenderSettings | None = None,
    skeleton: Skeleton | None = None,
    frame: int | None = None,
) -> Path:
    """Write a PNG of frame `frame` (default: the representative one) to `path`."""
    settings = settings or RenderSettings()
    joints, skeleton = prepare_joints(joints, skeleton)
    drawn = joints[:: settings.frame_step]
    if frame is None:
        frame = representative_frame(drawn)
    elif not 0 <= frame < len(drawn):
        raise RenderError(f"frame {frame} is outside the motion's {len(drawn)} drawn frames")
    (picture,) = iter_frames(joints, settings, skeleton, frames=[frame])
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG", optimize=True)
    return atomic_write_bytes(path, buffer.getvalue())
