"""Frames to an H.264 MP4 that browsers play: yuv420p, moov atom first (+faststart).

Frames go to ffmpeg (the static build inside imageio-ffmpeg, with libx264) through a
pipe while the next ones are drawn, so drawing and encoding overlap.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from engine.motion.skeleton import Skeleton
from engine.render.errors import RenderError
from engine.render.frames import iter_frames
from engine.render.settings import RenderSettings
from engine.storage import atomic_file


def write_mp4(
    frames: Iterable[np.ndarray], path: str | Path, fps: float, settings: RenderSettings
) -> Path:
    """Encode RGB frames (H, W, 3) uint8 of the settings' size to `path`, atomically."""
    path = Path(path)
    size = (settings.width, settings.height)
    with atomic_file(path) as tmp:
        writer = imageio_ffmpeg.write_frames(
            str(tmp),
            size,
            fps=float(fps),
            codec="libx264",
            pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p",
            quality=None,
            macro_block_size=2,
            ffmpeg_log_level="error",
            output_params=[
                *("-preset", settings.x264_preset),
                *("-crf", str(settings.x264_crf)),
                *("-movflags", "+faststart"),
            ],
        )
        writer.send(None)
        try:
            count = 0
            for frame in frames:
                writer.send(np.ascontiguousarray(frame))
                count += 1
        finally:
            writer.close()
        if count == 0:
            raise RenderError(f"no frames to encode into {path}")
    return path


def render_video(
    joints: np.ndarray,
    path: str | Path,
    settings: RenderSettings | None = None,
    skeleton: Skeleton | None = None,
) -> Path:
    """Render the motion (T, J, 3) to an MP4 at `path`; returns the path."""
    settings = settings or RenderSettings()
    frames = iter_frames(joints, settings, skeleton)
    return write_mp4(frames, path, settings.video_fps, settings)
