"""Rendering a motion to pictures: the scene and the frame loop.

Each frame is one merged mesh (the lit body and its shadow) replacing the previous one in
a scene that also holds the static floor and trajectory; everything is drawn with the
flat shader because the lighting is already in the vertex colours (see `shading`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from engine.motion.skeleton import Skeleton
from engine.render.backend import renderer
from engine.render.camera import CameraPath, follow_camera
from engine.render.gl import Batch, projection
from engine.render.inputs import prepare_joints
from engine.render.mesh import Geometry, SkeletonMesh, floor, merge, trajectory
from engine.render.settings import RenderSettings, srgb
from engine.render.shading import Lighting, lighting_for_view

# The floor fades into the background from this far from the path to this far, in units
# of the camera's distance: a stage under the figure with no hard edge.
FLOOR_FADE = (0.5, 1.5)


@dataclass(frozen=True)
class Plan:
    """Everything a clip's frames share, computed once before drawing."""

    joints: np.ndarray  # (T, J, 3): the frames to draw (after frame_step)
    settings: RenderSettings
    body: SkeletonMesh
    camera: CameraPath
    lighting: Lighting
    scenery: Geometry | None  # floor and trajectory: static

    def frame_geometry(self, t: int) -> Geometry:
        """The lit body of drawn frame `t`, with its shadow when asked for."""
        points = self.body.points(self.joints[t])
        lit = self.lighting.shade(self.body.body(points))
        return merge(lit, self.body.shadow(points)) if self.settings.show_shadow else lit


def plan(joints: np.ndarray, settings: RenderSettings, skeleton: Skeleton | None = None) -> Plan:
    """Validate the joints and precompute the camera, lights, body geometry and scenery."""
    joints, skeleton = prepare_joints(joints, skeleton)
    joints = joints[:: settings.frame_step]
    camera = follow_camera(joints, skeleton, settings)
    path_xz = joints[:, 0, [0, 2]]
    parts = []
    if settings.show_floor:
        fade = (FLOOR_FADE[0] * camera.distance, FLOOR_FADE[1] * camera.distance)
        parts.append(floor(path_xz, fade[1], fade, settings))
    if settings.show_trajectory:
        parts.append(trajectory(path_xz, settings))
    parts = [p for p in parts if not p.is_empty]
    return Plan(
        joints,
        settings,
        SkeletonMesh(skeleton, settings),
        camera,
        lighting_for_view(camera.poses[0][:3, 2], settings),
        merge(*parts) if parts else None,
    )


def iter_frames(
    joints: np.ndarray,
    settings: RenderSettings | None = None,
    skeleton: Skeleton | None = None,
    frames: Sequence[int] | None = None,
) -> Iterator[np.ndarray]:
    """Yield RGB pictures (H, W, 3) uint8 of the motion, one per drawn frame.

    `frames` picks some of the drawn frames (indices after `frame_step`); default all.
    Raises RenderError for bad joints, RenderUnavailable when no OpenGL works here.
    """
    settings = settings or RenderSettings()
    scene_plan = plan(joints, settings, skeleton)
    camera = scene_plan.camera
    lens = projection(camera.yfov, camera.aspect, camera.znear, camera.zfar)
    background = srgb(settings.background_colour)
    with renderer(settings.width, settings.height, settings.msaa_samples) as gl:
        scenery = [] if scene_plan.scenery is None else [_batch(scene_plan.scenery)]
        body = None
        try:
            for t in range(len(scene_plan.joints)) if frames is None else frames:
                geometry = scene_plan.frame_geometry(t)
                if body is None:
                    body = _batch(geometry)
                else:
                    body.update(geometry.positions, geometry.colours)
                view = lens @ np.linalg.inv(camera.poses[t])
                yield gl.draw([*scenery, body], view, background)
        finally:
            for batch in [*scenery, *([body] if body is not None else [])]:
                batch.delete()


def render_frames(
    joints: np.ndarray, settings: RenderSettings | None = None, skeleton: Skeleton | None = None
) -> np.ndarray:
    """All drawn frames of the motion as one array (T', H, W, 3) uint8."""
    return np.stack(list(iter_frames(joints, settings, skeleton)))


def _batch(geometry: Geometry) -> Batch:
    return Batch(geometry.positions, geometry.colours, geometry.faces)
