"""Forward and inverse kinematics on a `Skeleton`, in HumanML3D's conventions.

Rotations are quaternions (w, x, y, z). Joint 0's rotation is the global root rotation;
every other joint's rotation is local, relative to its parent, and rotates the bone's
rest direction (`Skeleton.raw_offsets`) onto the bone's direction.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.ndimage import gaussian_filter1d

from engine.motion.rotations import IDENTITY, cross, qbetween, qinv, qmul, qrot
from engine.motion.skeleton import Skeleton

UP = np.array([0.0, 1.0, 0.0])
FORWARD = np.array([0.0, 0.0, 1.0])


def forward_from_across(across: np.ndarray) -> np.ndarray:
    """Horizontal unit forward vectors from right-to-left 'across' vectors (..., 3)."""
    across = across / np.linalg.norm(across, axis=-1, keepdims=True)
    forward = cross(UP, across)
    return forward / np.linalg.norm(forward, axis=-1, keepdims=True)


def body_forward(joints: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """Facing direction of each pose (..., J, 3) from hips and shoulders."""
    r_hip, l_hip, r_shoulder, l_shoulder = skeleton.face_joints
    across = (joints[..., r_hip, :] - joints[..., l_hip, :]) + (
        joints[..., r_shoulder, :] - joints[..., l_shoulder, :]
    )
    return forward_from_across(across)


def _ik_forward(joints: np.ndarray, skeleton: Skeleton, smooth: bool) -> np.ndarray:
    """The facing direction that HumanML3D's inverse kinematics uses.

    The reference implementation unpacks the face joints in a different order here
    than in its canonicalisation step, so the hip term enters with the opposite sign
    (the shoulders, wider than the hips, still decide the direction). Features only
    match the published data if this is reproduced.
    """
    r_hip, l_hip, r_shoulder, l_shoulder = skeleton.face_joints
    across = (joints[:, l_hip] - joints[:, r_hip]) + (joints[:, r_shoulder] - joints[:, l_shoulder])
    across = across / np.linalg.norm(across, axis=-1, keepdims=True)
    forward = cross(UP, across)
    if smooth:
        forward = gaussian_filter1d(forward, 20, axis=0, mode="nearest")
    return forward / np.linalg.norm(forward, axis=-1, keepdims=True)


def inverse_kinematics(
    joints: np.ndarray, skeleton: Skeleton, smooth_forward: bool = False
) -> np.ndarray:
    """Per-joint rotations (T, J, 4) that reproduce the bone directions of `joints` (T, J, 3).

    As in the HumanML3D release, the first frame's root rotation is the identity: the
    data is already turned to face +Z there, and the stored root angular velocities
    (the first one included) are measured from that frame.
    """
    forward = _ik_forward(joints, skeleton, smooth_forward)
    root = qbetween(forward, np.broadcast_to(FORWARD, forward.shape))
    root[0] = IDENTITY
    quats = np.zeros(joints.shape[:-1] + (4,))
    quats[:, 0] = root
    for chain in skeleton.kinematic_chains:
        parent_global = root
        for parent, child in itertools.pairwise(chain):
            rest = np.broadcast_to(skeleton.raw_offsets[child], (len(joints), 3))
            bone = joints[:, child] - joints[:, parent]
            bone = bone / np.linalg.norm(bone, axis=-1, keepdims=True)
            local = qmul(qinv(parent_global), qbetween(rest, bone))
            quats[:, child] = local
            parent_global = qmul(parent_global, local)
    return quats


def forward_kinematics(
    quats: np.ndarray, root_positions: np.ndarray, offsets: np.ndarray, skeleton: Skeleton
) -> np.ndarray:
    """Joint positions (T, J, 3) from rotations (T, J, 4), root positions (T, 3) and rest
    offsets (J, 3) (bone vectors in the rest pose, in the unit of the output)."""
    joints = np.zeros(quats.shape[:-1] + (3,))
    joints[:, 0] = root_positions
    for chain in skeleton.kinematic_chains:
        rotation = quats[:, 0]
        for parent, child in itertools.pairwise(chain):
            rotation = qmul(rotation, quats[:, child])
            joints[:, child] = qrot(rotation, np.broadcast_to(offsets[child], (len(quats), 3)))
            joints[:, child] += joints[:, parent]
    return joints


def offsets_from_pose(pose: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """Rest offsets (J, 3) with the bone lengths measured on one pose (J, 3)."""
    lengths = np.zeros(skeleton.num_joints)
    for child, parent in enumerate(skeleton.parents):
        if parent >= 0:
            lengths[child] = np.linalg.norm(pose[child] - pose[parent])
    return skeleton.raw_offsets * lengths[:, None]


def retarget(joints: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """Move a motion onto the skeleton's reference bone lengths (HumanML3D's
    'uniform skeleton' step): rotations are kept, the root path is scaled by the ratio
    of leg lengths."""
    target = skeleton.offsets / skeleton.unit_scale
    source = offsets_from_pose(joints[0], skeleton)
    knee, ankle = skeleton.leg_joints

    def leg_length(offsets: np.ndarray) -> float:
        return np.abs(offsets[knee]).max() + np.abs(offsets[ankle]).max()

    scale = leg_length(target) / leg_length(source)
    quats = inverse_kinematics(joints, skeleton)
    return forward_kinematics(quats, joints[:, 0] * scale, target, skeleton)


def rotate_about_y(points: np.ndarray, quat: np.ndarray) -> np.ndarray:
    """Apply one rotation quaternion (4,) or per-frame quaternions (T, 4) to (T, J, 3)."""
    if quat.ndim == 2:
        quat = quat[:, None, :]
    return qrot(quat, points)
