"""Where real motion sits relative to a model's training distribution, per feature group.

A model reads features normalised by its training corpus's statistics; a real clip whose
normalised values are far from 0 in some group (the spine's rotations, say) is outside
what the model has seen there. `feature_profile` gives the mean |z| of each group for
one clip, `dynamics` the speed and jerk of its joints; `docs/corpus.md` and
`benchmarks/real_transfer.py` put the corpus and every real clip side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.motion.features import FeatureLayout
from engine.motion.normalization import Normalizer
from engine.motion.skeleton import HUMANML3D, Skeleton


@dataclass(frozen=True)
class FeatureGroup:
    name: str
    columns: np.ndarray


def feature_groups(
    skeleton: Skeleton = HUMANML3D, ignored: Sequence[str] = ()
) -> list[FeatureGroup]:
    """Root components, then per joint its position, 6-D rotation and velocity, contacts;
    without the groups of the `ignored` blocks (`ModelConfig.ignored_features`)."""
    layout = FeatureLayout(skeleton.num_joints)
    groups = [
        FeatureGroup("root yaw velocity", np.array([0])),
        FeatureGroup("root lateral velocity", np.array([1])),
        FeatureGroup("root forward velocity", np.array([2])),
        FeatureGroup("root height", np.array([3])),
    ]
    for kind, block, width, first in (
        ("position", layout.ric, 3, 1),
        ("rotation", layout.rot, 6, 1),
        ("velocity", layout.vel, 3, 0),
    ):
        for joint in range(first, skeleton.num_joints):
            start = block.start + (joint - first) * width
            name = f"{kind}: {skeleton.joint_names[joint]}"
            groups.append(FeatureGroup(name, np.arange(start, start + width)))
    groups.append(FeatureGroup("foot contacts", np.arange(layout.contacts.start, layout.dim)))
    unread = layout.in_blocks(ignored)
    return [group for group in groups if not unread[group.columns].any()]


def feature_profile(features: np.ndarray, normalizer: Normalizer) -> dict[str, float]:
    """Mean |z| of each feature group over a clip's frames."""
    z = np.abs(normalizer.normalize(np.asarray(features, dtype=np.float32)))
    return {group.name: float(z[:, group.columns].mean()) for group in feature_groups()}


def dynamics(joints: np.ndarray, fps: float = HUMANML3D.fps) -> dict[str, float]:
    """Mean joint speed (m/s) and median joint jerk (m/s³) of a clip (T, J, 3)."""
    joints = np.asarray(joints, dtype=np.float64)
    speed = np.linalg.norm(np.diff(joints, axis=0), axis=-1) * fps
    jerk = np.linalg.norm(np.diff(joints, n=3, axis=0), axis=-1) * fps**3
    return {
        "mean_joint_speed_m_s": float(speed.mean()),
        "median_jerk_m_s3": float(np.median(jerk)) if jerk.size else 0.0,
    }
