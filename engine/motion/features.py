"""The HumanML3D feature representation (263-d; 251-d for KIT-ML), both directions.

Layout per frame, for a skeleton of J joints (T-1 feature frames for T poses):
  [0]                 root angular velocity about Y (half-angle, as HumanML3D stores it)
  [1:3]               root linear velocity (x, z) in the root's facing frame
  [3]                 root height
  [4 : 4+3(J-1)]      root-relative joint positions, rotated to face +Z ("ric")
  [.. : ..+6(J-1)]    continuous 6-D local joint rotations
  [.. : ..+3J]        joint velocities in the root's facing frame
  [-4:]               foot contacts (left ankle, left toe, right ankle, right toe)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.motion.kinematics import (
    FORWARD,
    body_forward,
    inverse_kinematics,
    retarget,
)
from engine.motion.rotations import qbetween, qinv, qmul, qrot, quat_to_cont6d, qyaw
from engine.motion.skeleton import HUMANML3D, Skeleton, skeleton_for_feature_dim


@dataclass(frozen=True)
class FeatureLayout:
    """Slices of the feature vector for one skeleton."""

    num_joints: int

    @property
    def root(self) -> slice:
        return slice(0, 4)

    @property
    def ric(self) -> slice:
        return slice(4, 4 + 3 * (self.num_joints - 1))

    @property
    def rot(self) -> slice:
        start = self.ric.stop
        return slice(start, start + 6 * (self.num_joints - 1))

    @property
    def vel(self) -> slice:
        start = self.rot.stop
        return slice(start, start + 3 * self.num_joints)

    @property
    def contacts(self) -> slice:
        start = self.vel.stop
        return slice(start, start + 4)

    @property
    def dim(self) -> int:
        return self.contacts.stop

    def std_blocks(self) -> list[slice]:
        """The entries that share one standard deviation in HumanML3D's Std.npy (its
        cal_mean_variance): the root's yaw velocity, its planar velocity, its height, then
        positions, rotations, velocities and contacts, each as one block."""
        return [slice(0, 1), slice(1, 3), slice(3, 4), self.ric, self.rot, self.vel, self.contacts]

    def block(self, name: str) -> slice:
        """A block by its configuration name (`engine.config.FeatureBlock`)."""
        blocks = {
            "root": self.root,
            "positions": self.ric,
            "rotations": self.rot,
            "velocities": self.vel,
            "contacts": self.contacts,
        }
        if name not in blocks:
            raise ValueError(f"unknown feature block {name!r}; known: {', '.join(blocks)}")
        return blocks[name]

    def in_blocks(self, names: Sequence[str]) -> np.ndarray:
        """(D,) True for the entries of the named blocks."""
        inside = np.zeros(self.dim, dtype=bool)
        for name in names:
            inside[self.block(name)] = True
        return inside


def canonicalize(joints: np.ndarray, skeleton: Skeleton = HUMANML3D) -> np.ndarray:
    """Put a motion where HumanML3D puts every clip: reference bone lengths, the lowest
    joint on the floor (y = 0), the first root at the XZ origin and the first pose
    facing +Z."""
    positions = retarget(np.asarray(joints, dtype=np.float64), skeleton)
    positions[..., 1] -= positions[..., 1].min()
    positions -= positions[0, 0] * np.array([1.0, 0.0, 1.0])
    facing = qbetween(body_forward(positions[0], skeleton), FORWARD)
    return qrot(facing, positions)


def foot_contacts(positions: np.ndarray, skeleton: Skeleton) -> tuple[np.ndarray, np.ndarray]:
    """(T-1, 2) left and right contact flags: feet that move less than the threshold."""

    def still(foot: tuple[int, int]) -> np.ndarray:
        step = positions[1:, list(foot)] - positions[:-1, list(foot)]
        return ((step**2).sum(-1) < skeleton.contact_threshold).astype(np.float32)

    return still(skeleton.left_foot), still(skeleton.right_foot)


def joints_to_features(joints: np.ndarray, skeleton: Skeleton = HUMANML3D) -> np.ndarray:
    """Features (T-1, D) from joint positions (T, J, 3) in the data set's unit.

    This is HumanML3D's canonical processing: retarget, floor, origin, facing, then the
    rotation-invariant representation.
    """
    _check_joints(joints, skeleton)
    positions = canonicalize(joints, skeleton)
    feet_l, feet_r = foot_contacts(positions, skeleton)

    quats = inverse_kinematics(positions, skeleton, smooth_forward=True)
    rot6d = quat_to_cont6d(quats)
    root_rot = quats[:, 0]
    root_vel = qrot(root_rot[1:], positions[1:, 0] - positions[:-1, 0])
    root_ang = qmul(root_rot[1:], qinv(root_rot[:-1]))

    local = positions.copy()
    local[..., [0, 2]] -= positions[:, :1, [0, 2]]
    local = qrot(root_rot[:, None], local)
    local_vel = qrot(root_rot[:-1, None], positions[1:] - positions[:-1])

    n = len(positions) - 1
    features = np.concatenate(
        [
            np.arcsin(root_ang[:, 2:3].clip(-1, 1)),
            root_vel[:, [0, 2]],
            local[:-1, 0, 1:2],
            local[:-1, 1:].reshape(n, -1),
            rot6d[:-1, 1:].reshape(n, -1),
            local_vel.reshape(n, -1),
            feet_l,
            feet_r,
        ],
        axis=-1,
    )
    return features.astype(np.float32)


def root_trajectory(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame root yaw quaternions (T, 4) and root positions (T, 3) from features."""
    features = np.asarray(features, dtype=np.float64)
    angle = np.zeros(features.shape[:-1])
    angle[1:] = np.cumsum(features[:-1, 0])
    # HumanML3D stores half the yaw step, then builds (cos a, 0, sin a, 0): a 2a rotation
    yaw = qyaw(2.0 * angle)
    position = np.zeros(features.shape[:-1] + (3,))
    position[1:, [0, 2]] = features[:-1, 1:3]
    position = np.cumsum(qrot(qinv(yaw), position), axis=0)
    position[:, 1] = features[:, 3]
    return yaw, position


def features_to_joints(features: np.ndarray, skeleton: Skeleton | None = None) -> np.ndarray:
    """Joint positions (T, J, 3) from features (T, D): HumanML3D's recover-from-ric."""
    features = np.asarray(features)
    if features.ndim != 2:
        raise ValueError(f"features must be (frames, dims), got shape {features.shape}")
    skeleton = skeleton or skeleton_for_feature_dim(features.shape[-1])
    layout = FeatureLayout(skeleton.num_joints)
    if features.shape[-1] != layout.dim:
        raise ValueError(
            f"{skeleton.name} features have {layout.dim} values per frame, got {features.shape[-1]}"
        )
    yaw, root = root_trajectory(features)
    ric = np.asarray(features[:, layout.ric], dtype=np.float64).reshape(len(features), -1, 3)
    joints = qrot(qinv(yaw)[:, None], ric)
    joints[..., [0, 2]] += root[:, None, [0, 2]]
    return np.concatenate([root[:, None], joints], axis=1)


def _check_joints(joints: np.ndarray, skeleton: Skeleton) -> None:
    shape = np.shape(joints)
    if len(shape) != 3 or shape[1:] != (skeleton.num_joints, 3):
        raise ValueError(
            f"{skeleton.name} joint positions must be (frames, {skeleton.num_joints}, 3), "
            f"got {shape}"
        )
    if shape[0] < 2:
        raise ValueError(f"a motion needs at least 2 frames to have velocities, got {shape[0]}")
    if not np.isfinite(joints).all():
        raise ValueError("joint positions contain NaN or infinite values")
