"""Framing: a camera that follows the motion smoothly at a fixed 3/4 view.

The camera looks at the smoothed root (so steps and sways do not shake the picture),
from a fixed elevation and a fixed azimuth relative to the body's initial facing, at one
distance for the whole clip chosen so that every joint of every frame stays in view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from engine.motion.kinematics import UP, body_forward
from engine.motion.skeleton import Skeleton
from engine.render.body import body_shape
from engine.render.settings import RenderSettings


@dataclass(frozen=True)
class CameraPath:
    """Per-frame camera poses (T, 4, 4) (camera-to-world, looking down -Z) and optics."""

    poses: np.ndarray
    targets: np.ndarray  # (T, 3) the point looked at
    distance: float  # metres from target to camera
    yfov: float  # radians
    aspect: float  # width / height

    @property
    def znear(self) -> float:
        return max(0.01, self.distance / 100)

    @property
    def zfar(self) -> float:
        return self.distance * 20


def follow_camera(joints: np.ndarray, skeleton: Skeleton, settings: RenderSettings) -> CameraPath:
    """Camera poses that keep the whole body of `joints` (T, J, 3) in frame."""
    yfov = np.radians(settings.fov_deg)
    aspect = settings.width / settings.height
    direction = view_direction(joints, skeleton, settings)
    targets = follow_targets(joints, settings.follow_smoothing_s * settings.video_fps)
    shape = body_shape(skeleton, settings.body_thickness)
    outline = shape.points(joints) - targets[:, None, :]  # joints, head top and hands
    shift = centring_shift(outline, direction)
    targets += shift
    outline -= shift
    distance = fitting_distance(outline, direction, yfov, aspect, shape.largest_radius)
    distance *= settings.framing_margin
    poses = np.stack([look_at(t + distance * direction, t) for t in targets])
    return CameraPath(poses, targets, float(distance), float(yfov), aspect)


def centring_shift(offsets: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """The constant move of the look-at point that centres the points at `offsets` (..., 3)
    from it in a picture seen from `direction` (the middle of their extent, left to right
    and bottom to top): a raised arm then does not leave the floor half empty."""
    pose = look_at(direction, np.zeros(3))
    shift = np.zeros(3)
    for axis in (pose[:3, 0], pose[:3, 1]):
        across = offsets @ axis
        shift += axis * (across.min() + across.max()) / 2
    return shift


def fitting_distance(
    offsets: np.ndarray, direction: np.ndarray, yfov: float, aspect: float, pad: float
) -> float:
    """The least distance along `direction` from which every point at `offsets` (..., 3)
    from the look-at point, grown by `pad` metres, lies inside the view frustum."""
    pose = look_at(direction, np.zeros(3))
    right, up, back = pose[:3, 0], pose[:3, 1], pose[:3, 2]
    tan_y = np.tan(yfov / 2)
    tan_x = tan_y * aspect
    depth = offsets @ back
    needed = np.maximum(
        (np.abs(offsets @ right) + pad) / tan_x, (np.abs(offsets @ up) + pad) / tan_y
    )
    return float(max(np.max(depth + needed), 1.0))


def follow_targets(joints: np.ndarray, sigma_frames: float) -> np.ndarray:
    """(T, 3) points to follow: the root smoothed over time, at its mean height."""
    targets = joints[:, 0, :].astype(np.float64)
    if sigma_frames > 0:
        targets = gaussian_filter1d(targets, sigma_frames, axis=0, mode="nearest")
    targets[:, 1] = targets[:, 1].mean()
    return targets


def initial_facing(joints: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """Unit horizontal direction the body faces over its first frames (+Z if unclear)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        forwards = body_forward(joints[:10], skeleton)
    forwards = forwards[np.isfinite(forwards).all(axis=1)]  # poses with no width say nothing
    forward = forwards.mean(axis=0) if len(forwards) else np.zeros(3)
    forward[1] = 0.0
    norm = np.linalg.norm(forward)
    return forward / norm if norm > 1e-6 else np.array([0.0, 0.0, 1.0])


def view_direction(joints: np.ndarray, skeleton: Skeleton, settings: RenderSettings) -> np.ndarray:
    """Unit vector from the target towards the camera."""
    forward = initial_facing(joints, skeleton)
    azimuth = np.arctan2(forward[0], forward[2]) + np.radians(settings.azimuth_deg)
    elevation = np.radians(settings.elevation_deg)
    return np.array(
        [
            np.cos(elevation) * np.sin(azimuth),
            np.sin(elevation),
            np.cos(elevation) * np.cos(azimuth),
        ]
    )


def look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Camera-to-world pose at `eye` looking at `target` with +Y up (OpenGL convention)."""
    back = eye - target
    back /= np.linalg.norm(back)
    right = np.cross(UP, back)
    right /= np.linalg.norm(right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, np.cross(back, right), back, eye
    return pose
