"""Measures of physical plausibility for any joints array (T, 22, 3) in metres, Y up,
floor at y = 0. The tests hold generated motions to them and `benchmarks/corpus_quality.py`
reports them next to the same measures on real motion capture."""

from __future__ import annotations

import numpy as np

from engine.motion.kinematics import body_forward
from engine.motion.skeleton import HUMANML3D

FOOT_JOINTS = (7, 10, 8, 11)  # left ankle, left toe, right ankle, right toe
# a foot joint is in contact when it is this close to the floor and slower than
# HumanML3D's contact threshold (0.002 m² per frame at 20 fps, i.e. ~0.89 m/s)
CONTACT_HEIGHT = {7: 0.12, 10: 0.06, 8: 0.12, 11: 0.06}
CONTACT_SPEED = np.sqrt(HUMANML3D.contact_threshold) * HUMANML3D.fps
WRISTS = (20, 21)


def _speeds(joints: np.ndarray, fps: float) -> np.ndarray:
    return np.linalg.norm(np.diff(joints, axis=0), axis=-1) * fps


def bone_length_drift(joints: np.ndarray) -> float:
    """Largest change of any bone's length over the clip, m."""
    drift = 0.0
    for parent, child in HUMANML3D.bones:
        length = np.linalg.norm(joints[:, child] - joints[:, parent], axis=-1)
        drift = max(drift, float(length.max() - length.min()))
    return drift


def floor_penetration(joints: np.ndarray) -> float:
    """How far the lowest joint goes below the floor (y = 0), m."""
    return float(max(0.0, -joints[..., 1].min()))


def ground_clearance(joints: np.ndarray) -> float:
    """Median over frames of the lowest joint's height, m: a clip that floats (or was lifted
    because one frame went through the floor) shows it here."""
    return float(np.median(joints[..., 1].min(axis=1)))


def foot_contacts(joints: np.ndarray, fps: float) -> np.ndarray:
    """(T-1, 4) contact flags of FOOT_JOINTS: near the floor and nearly still."""
    speed = _speeds(joints[:, list(FOOT_JOINTS)], fps)
    height = joints[1:, list(FOOT_JOINTS), 1]
    limit = np.array([CONTACT_HEIGHT[j] for j in FOOT_JOINTS])
    return (height < limit) & (speed < CONTACT_SPEED)


def foot_skating(joints: np.ndarray, fps: float) -> float:
    """Mean horizontal speed of the foot joints while in contact, m/s (0 without contact)."""
    contacts = foot_contacts(joints, fps)
    step = np.diff(joints[:, list(FOOT_JOINTS)][..., [0, 2]], axis=0)
    horizontal = np.linalg.norm(step, axis=-1) * fps
    return float(horizontal[contacts].mean()) if contacts.any() else 0.0


def max_speed(joints: np.ndarray, fps: float, which: tuple[int, ...]) -> float:
    """Highest speed of the given joints, m/s."""
    return float(_speeds(joints[:, list(which)], fps).max())


def mean_jerk(joints: np.ndarray, fps: float) -> float:
    """Mean magnitude of the third derivative of joint positions, m/s³."""
    if len(joints) < 4:
        return 0.0
    return float(np.linalg.norm(np.diff(joints, n=3, axis=0), axis=-1).mean() * fps**3)


def headings(joints: np.ndarray) -> np.ndarray:
    """Unwrapped facing angle per frame (T,), rad; 0 = +Z, positive = turned left."""
    forward = body_forward(joints, HUMANML3D)
    return np.unwrap(np.arctan2(forward[:, 0], forward[:, 2]))


def heading_change(joints: np.ndarray, start: int = 0, stop: int | None = None) -> float:
    """Net turn between two frames (radians, positive = left), averaged over a few frames
    at each end so that gait sway does not count."""
    angle = headings(joints)
    stop = len(angle) if stop is None else stop
    k = max(1, min(4, (stop - start) // 4))
    return float(angle[stop - k : stop].mean() - angle[start : start + k].mean())


def root_displacement(joints: np.ndarray, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Root travel (left, forward), m, between two frames, in the frame the body faced at
    `start`."""
    stop = len(joints) if stop is None else stop
    yaw = headings(joints)[start]
    delta = joints[stop - 1, 0] - joints[start, 0]
    left = np.array([np.cos(yaw), 0.0, -np.sin(yaw)])
    forward = np.array([np.sin(yaw), 0.0, np.cos(yaw)])
    return np.array([delta @ left, delta @ forward])


def quality_report(joints: np.ndarray, fps: float = HUMANML3D.fps) -> dict[str, float]:
    """Every measure of this module for one clip."""
    joints = np.asarray(joints, dtype=np.float64)
    return {
        "finite": float(np.isfinite(joints).all()),
        "bone_drift_m": bone_length_drift(joints),
        "floor_penetration_m": floor_penetration(joints),
        "ground_clearance_m": ground_clearance(joints),
        "foot_skating_m_s": foot_skating(joints, fps),
        "contact_fraction": float(foot_contacts(joints, fps).mean()),
        "max_wrist_speed_m_s": max_speed(joints, fps, WRISTS),
        "max_root_speed_m_s": max_speed(joints, fps, (0,)),
        "mean_jerk_m_s3": mean_jerk(joints, fps),
    }
