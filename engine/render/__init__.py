"""Rendering motions: animated skeleton videos, stills and animated GLB files.

    from engine.render import RenderSettings, render_video, rendering_available
    if rendering_available():
        render_video(motion.joints, "clip.mp4", RenderSettings(width=480, height=480))

Everything takes joints (T, J, 3) in metres, Y up, floor at y = 0, on a known skeleton
(22 joints: HumanML3D, 21: KIT; or pass `skeleton=`). Bad input raises `RenderError`;
a machine without offscreen OpenGL raises `RenderUnavailable` (check it cheaply with
`rendering_available()` / `unavailable_reason()`). `export_glb` needs no OpenGL.

The functions above draw in the calling process. A program that renders from several
threads (a web server) goes through `RenderCache`, whose `get`, `render_many` and `export`
draw in render worker processes, each holding its own OpenGL context.
See docs/rendering.md for the design and measured speed.
"""

from engine.render.backend import rendering_available, unavailable_reason
from engine.render.cache import RenderCache, warm_up
from engine.render.errors import RenderError, RenderUnavailable
from engine.render.frames import iter_frames, render_frames
from engine.render.gltf import GlbAnimation, export_glb, read_glb_animation
from engine.render.settings import RenderSettings
from engine.render.thumbnail import render_thumbnail, representative_frame
from engine.render.video import render_video
from engine.render.workers import shutdown_workers

__all__ = [
    "GlbAnimation",
    "RenderCache",
    "RenderError",
    "RenderSettings",
    "RenderUnavailable",
    "export_glb",
    "iter_frames",
    "read_glb_animation",
    "render_frames",
    "render_thumbnail",
    "render_video",
    "rendering_available",
    "representative_frame",
    "shutdown_workers",
    "unavailable_reason",
    "warm_up",
]
