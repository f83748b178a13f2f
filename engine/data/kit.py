"""Putting other bodies on HumanML3D's 22 joints: KIT-ML's 21-joint body here, and the
geometric steps the BVH import shares with it (time resampling, spine and collar placement).
"""

from __future__ import annotations

import numpy as np

from engine.motion.skeleton import HUMANML3D, KIT

_SPINE = ("spine1", "spine2", "spine3")


def resample_positions(
    positions: np.ndarray, source_fps: float, target_fps: float = HUMANML3D.fps
) -> np.ndarray:
    """Positions (T, ...) sampled at `target_fps`, interpolated linearly in time; the clip
    keeps its duration (the last sample is at or before the last source frame)."""
    positions = np.asarray(positions, dtype=np.float64)
    duration = (len(positions) - 1) / source_fps
    # the epsilon keeps a clip of exactly n target frames from losing its last one to rounding
    count = int(np.floor(duration * target_fps + 1e-6)) + 1
    source_time = np.arange(count) * (source_fps / target_fps)
    before = np.minimum(np.floor(source_time).astype(int), len(positions) - 1)
    after = np.minimum(before + 1, len(positions) - 1)
    weight = (source_time - before).reshape((-1,) + (1,) * (positions.ndim - 1))
    return positions[before] * (1.0 - weight) + positions[after] * weight


def spine_fractions() -> np.ndarray:
    """Where spine1, spine2 and spine3 sit along HumanML3D's pelvis-to-neck chain, as
    fractions of its length (from the reference bone lengths)."""
    lengths = HUMANML3D.bone_lengths[[HUMANML3D.index(n) for n in (*_SPINE, "neck")]]
    return np.cumsum(lengths)[:-1] / lengths.sum()


def points_along(polyline: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Points (F, N, 3) at arc-length `fractions` (N,) of per-frame polylines (F, K, 3)."""
    segments = np.diff(polyline, axis=1)
    lengths = np.linalg.norm(segments, axis=-1)
    cumulative = np.concatenate([np.zeros((len(polyline), 1)), np.cumsum(lengths, axis=1)], 1)
    targets = np.asarray(fractions)[None] * cumulative[:, -1:]
    segment = (cumulative[:, None, 1:-1] <= targets[..., None]).sum(-1)
    start = np.take_along_axis(cumulative, segment, 1)
    length = np.take_along_axis(lengths, segment, 1)
    t = (targets - start) / np.where(length > 0, length, 1.0)
    origin = np.take_along_axis(polyline, segment[..., None], 1)
    step = np.take_along_axis(segments, segment[..., None], 1)
    return origin + t[..., None] * step


def spine_between(pelvis_to_neck: np.ndarray) -> np.ndarray:
    """spine1, spine2, spine3 (F, 3, 3) placed along a source's pelvis-to-neck polyline
    (F, K, 3) where the reference skeleton has them."""
    return points_along(pelvis_to_neck, spine_fractions())


def collar_between(spine3: np.ndarray, neck: np.ndarray, shoulder: np.ndarray) -> np.ndarray:
    """A collar joint for bodies that have none: the mean of spine3, neck and shoulder.

    On the real HumanML3D clip 012314 this lands 2-3 cm from the true collar; the midpoint
    of neck and shoulder alone is 6 cm off (the collar sits lower, towards spine3).
    """
    return (spine3 + neck + shoulder) / 3.0


# HumanML3D joint -> KIT joint, where KIT has a joint there (the others share their names)
_KIT_SOURCE = {
    "pelvis": "root",
    "neck": "lower_neck",
    "left_foot": "left_metatarsal",
    "right_foot": "right_metatarsal",
}
_KIT_SPINE = ("root", "pelvis_top", "thorax", "lower_neck")


def kit_to_humanml3d_joints(joints_mm: np.ndarray) -> np.ndarray:
    """KIT-ML joint positions (T, 21, 3) in millimetres at 12.5 fps -> (T', 22, 3) HumanML3D
    joints in metres at 20 fps (both Y up).

    KIT's root, hips, knees, ankles, shoulders, elbows, wrists, lower neck and head are the
    pelvis, hips, ..., neck and head; its metatarsals are the feet. spine1-3 are placed
    along KIT's root-pelvis_top-thorax-lower_neck chain and the collars between spine3,
    neck and shoulders, as neither exists in KIT.
    """
    joints_mm = np.asarray(joints_mm, dtype=np.float64)
    if joints_mm.ndim != 3 or joints_mm.shape[1:] != (KIT.num_joints, 3):
        raise ValueError(f"KIT joints must be (frames, {KIT.num_joints}, 3), got {joints_mm.shape}")
    kit = joints_mm * KIT.unit_scale
    out = np.zeros((len(kit), HUMANML3D.num_joints, 3))
    for j, name in enumerate(HUMANML3D.joint_names):
        source = _KIT_SOURCE.get(name, name)
        if source in KIT.joint_names:
            out[:, j] = kit[:, KIT.index(source)]
    chain = kit[:, [KIT.index(name) for name in _KIT_SPINE]]
    out[:, [HUMANML3D.index(name) for name in _SPINE]] = spine_between(chain)
    for side in ("left", "right"):
        out[:, HUMANML3D.index(f"{side}_collar")] = collar_between(
            out[:, HUMANML3D.index("spine3")],
            out[:, HUMANML3D.index("neck")],
            out[:, HUMANML3D.index(f"{side}_shoulder")],
        )
    return resample_positions(out, KIT.fps, HUMANML3D.fps)
