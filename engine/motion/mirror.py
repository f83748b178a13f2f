"""Left/right mirroring of motions, in joint space and directly in feature space."""

from __future__ import annotations

import numpy as np

from engine.motion.features import FeatureLayout
from engine.motion.skeleton import Skeleton, skeleton_for_feature_dim, skeleton_for_joint_count

_FLIP_X = np.array([-1.0, 1.0, 1.0])
# A local rotation M becomes S M S under the reflection S = diag(-1, 1, 1); on the two
# stored matrix columns that flips these components.
_FLIP_6D = np.array([1.0, -1.0, -1.0, -1.0, 1.0, 1.0])


def mirror_joints(joints: np.ndarray, skeleton: Skeleton | None = None) -> np.ndarray:
    """Mirror positions (T, J, 3) across the YZ plane and swap left and right joints."""
    skeleton = skeleton or skeleton_for_joint_count(np.shape(joints)[-2])
    return (np.asarray(joints) * _FLIP_X)[:, skeleton.mirror_permutation()]


def mirror_features(features: np.ndarray, skeleton: Skeleton | None = None) -> np.ndarray:
    """Mirror features (T, D) without going through joints.

    Matches re-processing the mirrored joints except for the reference skeleton's own
    small left/right bone-length asymmetry (a few millimetres), which retargeting
    re-imposes and this keeps mirrored.
    """
    features = np.asarray(features)
    skeleton = skeleton or skeleton_for_feature_dim(features.shape[-1])
    layout = FeatureLayout(skeleton.num_joints)
    perm = skeleton.mirror_permutation()
    n = len(features)
    out = features.copy()
    out[:, 0] = -features[:, 0]
    out[:, 1] = -features[:, 1]
    ric = features[:, layout.ric].reshape(n, -1, 3) * _FLIP_X
    out[:, layout.ric] = ric[:, perm[1:] - 1].reshape(n, -1)
    rot = features[:, layout.rot].reshape(n, -1, 6) * _FLIP_6D
    out[:, layout.rot] = rot[:, perm[1:] - 1].reshape(n, -1)
    vel = features[:, layout.vel].reshape(n, -1, 3) * _FLIP_X
    out[:, layout.vel] = vel[:, perm].reshape(n, -1)
    contacts = features[:, layout.contacts]
    out[:, layout.contacts] = np.concatenate([contacts[:, 2:], contacts[:, :2]], axis=-1)
    return out
