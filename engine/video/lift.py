"""Lifting: a followed person's landmarks (`PoseTrack`) -> the 22-joint HumanML3D body
(T, 22, 3): Y up, metres, at the motion frame rate, root trajectory included.

- Pose: the estimator's 3-D world landmarks (metres, origin between the hips, camera
  axes: x right, y down, z away) turned to Y up; joints that exist in both bodies are
  taken by name, the pelvis, neck and head are placed from hips, shoulders and ears, the
  spine (spine1-3) along pelvis-neck and the collars between spine3, neck and shoulders
  exactly as for KIT-ML and BVH imports (`engine.data.kit`).
- Root: world landmarks carry no translation. Under weak perspective the landmarks' image
  offsets from the hip centre are their world offsets times f/Z (pixels per metre), so a
  least-squares fit gives Z per frame up to the focal length f, and the hip centre's pixel
  position gives X and Y exactly: sideways motion is measured, motion towards or away
  from the camera has the scale of an assumed field of view (`VideoConfig`).
- Levelling: one rotation per clip turns the mean body axis upright (`level`), undoing
  the camera's pitch and roll as the pose shows them; a second one makes the plane the
  root travels in horizontal (`ground_tilt`).
- Smoothing in time (Gaussian), then resampling to the motion rate. Bone lengths, floor,
  origin and facing are set by the motion features' canonicalisation
  (`engine.motion.features.canonicalize`) like any imported motion.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import gaussian_filter1d

from engine.data.kit import collar_between, resample_positions, spine_between
from engine.motion.kinematics import UP
from engine.motion.rotations import IDENTITY, qbetween, qrot
from engine.motion.skeleton import HUMANML3D
from engine.video.config import DEFAULT, VideoConfig
from engine.video.track import PoseTrack

CAMERA_TO_Y_UP = np.array([1.0, -1.0, -1.0])  # x right, y down, z away -> y up, z towards
_DIRECT = ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")
# The pelvis sits above the line between the hip landmarks, the neck joint above the
# shoulders' midpoint: these fractions of mid-hip -> mid-shoulder and mid-shoulder -> ears
# put them where the reference skeleton has them (HumanML3D clip 012314).
PELVIS_UP = 0.12
NECK_UP = 0.2


def _mid(track_points: np.ndarray, track: PoseTrack, name: str) -> np.ndarray:
    return (
        track_points[:, track.index(f"left_{name}")] + track_points[:, track.index(f"right_{name}")]
    ) / 2.0


def body_joints(track: PoseTrack, points: np.ndarray) -> np.ndarray:
    """The 22 joints (T, 22, 3) from landmarks (T, N, 3) in any frame of axes."""
    out = np.zeros((len(points), HUMANML3D.num_joints, 3))
    for side in ("left", "right"):
        for name in _DIRECT:
            out[:, HUMANML3D.index(f"{side}_{name}")] = points[:, track.index(f"{side}_{name}")]
        out[:, HUMANML3D.index(f"{side}_foot")] = points[:, track.index(f"{side}_foot_index")]
    hips, shoulders, ears = (_mid(points, track, n) for n in ("hip", "shoulder", "ear"))
    pelvis = hips + PELVIS_UP * (shoulders - hips)
    neck = shoulders + NECK_UP * (ears - shoulders)
    out[:, HUMANML3D.index("pelvis")] = pelvis
    out[:, HUMANML3D.index("neck")] = neck
    out[:, HUMANML3D.index("head")] = ears
    spine = [HUMANML3D.index(n) for n in ("spine1", "spine2", "spine3")]
    out[:, spine] = spine_between(np.stack([pelvis, neck], axis=1))
    for side in ("left", "right"):
        out[:, HUMANML3D.index(f"{side}_collar")] = collar_between(
            out[:, spine[2]], neck, out[:, HUMANML3D.index(f"{side}_shoulder")]
        )
    return out


def focal_length(track: PoseTrack, config: VideoConfig) -> float:
    """The focal length in pixels of the assumed horizontal field of view."""
    return track.frame_size[0] / 2.0 / math.tan(math.radians(config.field_of_view_degrees) / 2.0)


def root_in_camera(track: PoseTrack, config: VideoConfig) -> np.ndarray:
    """The hip centre's position (T, 3) in camera axes (x right, y down, z away), metres."""
    hips_px = _mid(track.image, track, "hip")
    offsets_px = track.image - hips_px[:, None]
    offsets_m = track.world[..., :2] - _mid(track.world, track, "hip")[:, None, :2]
    weight = np.maximum(track.confidence, 1e-3)[..., None]
    # pixels per metre: least squares of offsets_px ~ k * offsets_m, per frame
    k = (weight * offsets_px * offsets_m).sum((1, 2)) / (weight * offsets_m**2).sum((1, 2))
    k = np.exp(gaussian_filter1d(np.log(np.maximum(k, 1e-6)), config.smooth_root, mode="nearest"))
    centre = np.array(track.frame_size, dtype=float) / 2.0
    xy = (hips_px - centre) / k[:, None]
    z = focal_length(track, config) / k
    return np.concatenate([xy, z[:, None]], axis=1)


def level(joints: np.ndarray, max_degrees: float = 45.0) -> np.ndarray:
    """The rotation (4,) that turns the clip's mean body axis (feet to neck) upright.

    Camera axes are not the world's: a camera looking down at a street sees walkers lean
    towards it and rise in the picture as they walk away. A person's mean axis over a clip
    is close to vertical for most motions; a tilt beyond `max_degrees` (lying, crawling)
    is left as it is.
    """
    feet = joints[:, [HUMANML3D.index("left_ankle"), HUMANML3D.index("right_ankle")]].mean(1)
    axis = (joints[:, HUMANML3D.index("neck")] - feet).mean(0)
    axis = axis / np.linalg.norm(axis)
    if np.degrees(np.arccos(np.clip(axis @ UP, -1.0, 1.0))) > max_degrees:
        return IDENTITY.copy()
    return qbetween(axis, UP)


def ground_tilt(root: np.ndarray, min_travel: float = 0.5, max_degrees: float = 45.0) -> np.ndarray:
    """The rotation (4,) that makes the plane the root travels in (fit by least squares,
    y = a x + b z + c) horizontal: a camera looking down at a street sees a walker rise
    in the picture as they walk away, while their body still looks upright. Left alone
    for a root that travels less than `min_travel` metres (no plane to fit) or a tilt
    beyond `max_degrees`."""
    flat = root[:, [0, 2]] - root[:, [0, 2]].mean(0)
    if np.linalg.norm(flat, axis=1).max() < min_travel:
        return IDENTITY.copy()
    design = np.column_stack([flat, np.ones(len(root))])
    (a, b, _), *_ = np.linalg.lstsq(design, root[:, 1], rcond=None)
    normal = np.array([-a, 1.0, -b]) / np.sqrt(a * a + 1.0 + b * b)
    if np.degrees(np.arccos(normal[1])) > max_degrees:
        return IDENTITY.copy()
    return qbetween(normal, UP)


def lift(track: PoseTrack, config: VideoConfig = DEFAULT) -> np.ndarray:
    """Joints (T', 22, 3), Y up, metres, at `config.fps`, from a gap-filled track."""
    pose = body_joints(track, track.world * CAMERA_TO_Y_UP)
    root = root_in_camera(track, config) * CAMERA_TO_Y_UP
    upright = level(pose)
    pose, root = qrot(upright, pose), qrot(upright, root)
    root = qrot(ground_tilt(root), root)
    root = gaussian_filter1d(root - root[0], config.smooth_root, axis=0, mode="nearest")
    pose = gaussian_filter1d(pose, config.smooth_joints, axis=0, mode="nearest")
    joints = pose + root[:, None]
    if track.fps != config.fps:
        joints = resample_positions(joints, track.fps, config.fps)
    return joints
