"""Skeleton definitions shared by every part of the engine.

Two bodies are described here, once: the 22-joint SMPL-order body of HumanML3D (the
engine's common representation) and the 21-joint KIT-ML body. Rendering, import, the
corpus generator and the feature code all read joint names, parents, kinematic chains
and offsets from these objects and nowhere else.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Skeleton:
    """A kinematic tree: joint names, chains, rest offsets and the feature conventions."""

    name: str
    joint_names: tuple[str, ...]
    kinematic_chains: tuple[tuple[int, ...], ...]
    raw_offsets: np.ndarray  # (J, 3) unit rest directions of each bone (parent -> joint)
    bone_lengths: np.ndarray  # (J,) metres; 0 for the root
    face_joints: tuple[int, int, int, int]  # right hip, left hip, right shoulder, left shoulder
    left_foot: tuple[int, int]  # ankle, toe joints whose speed decides foot contact
    right_foot: tuple[int, int]
    leg_joints: tuple[int, int]  # knee, ankle: their offsets give the scale used to retarget
    mirror_pairs: tuple[tuple[int, int], ...]  # (right, left) joint pairs swapped by mirroring
    # torso (with the root), left arm, right arm, left leg, right leg: the body-part tokens
    # of the spatio-temporal motion encoder
    body_parts: tuple[tuple[int, ...], ...]
    fps: float
    unit_scale: float  # multiply the data set's stored positions by this to get metres
    # Squared per-frame displacement (in the data set's unit) under which a foot joint is
    # in contact: HumanML3D's 0.002 m^2 at 20 fps, i.e. a foot speed below ~0.89 m/s.
    contact_threshold: float
    parents: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        parents = [-1] * len(self.joint_names)
        for chain in self.kinematic_chains:
            for parent, child in itertools.pairwise(chain):
                parents[child] = parent
        object.__setattr__(self, "parents", tuple(parents))

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def offsets(self) -> np.ndarray:
        """Rest offsets (J, 3) in metres: unit direction times bone length."""
        return self.raw_offsets * self.bone_lengths[:, None]

    @property
    def feature_dim(self) -> int:
        """Size of the per-frame feature vector (263 for HumanML3D, 251 for KIT-ML)."""
        j = self.num_joints
        return 4 + (j - 1) * 3 + (j - 1) * 6 + j * 3 + 4

    @property
    def bones(self) -> list[tuple[int, int]]:
        """(parent, child) pairs, one per bone."""
        return [(p, c) for c, p in enumerate(self.parents) if p >= 0]

    def mirror_permutation(self) -> np.ndarray:
        """Joint index permutation that swaps left and right."""
        perm = np.arange(self.num_joints)
        for right, left in self.mirror_pairs:
            perm[right], perm[left] = left, right
        return perm

    def side_of(self, joint: int) -> str | None:
        """'left', 'right' or None (on the mid-line), used to colour the two sides."""
        for right, left in self.mirror_pairs:
            if joint == right:
                return "right"
            if joint == left:
                return "left"
        return None

    def index(self, name: str) -> int:
        return self.joint_names.index(name)


# Bone lengths (metres) of HumanML3D's reference skeleton (the one every clip is
# retargeted to). They are the lengths measured on the real clip 012314 of the data set,
# constant there to 2.5e-7 m; tests/test_skeleton.py re-measures them on that clip.
_HUMANML3D_BONE_LENGTHS = np.array(
    [
        0.0,
        0.103074,
        0.109883,
        0.131568,
        0.393623,
        0.390188,
        0.14319,
        0.432433,
        0.425643,
        0.057365,
        0.143382,
        0.149419,
        0.21936,
        0.137487,
        0.143383,
        0.103039,
        0.131614,
        0.122984,
        0.25684,
        0.263092,
        0.266012,
        0.269876,
    ]
)

HUMANML3D = Skeleton(
    name="humanml3d",
    joint_names=(
        "pelvis",
        "left_hip",
        "right_hip",
        "spine1",
        "left_knee",
        "right_knee",
        "spine2",
        "left_ankle",
        "right_ankle",
        "spine3",
        "left_foot",
        "right_foot",
        "neck",
        "left_collar",
        "right_collar",
        "head",
        "left_shoulder",
        "right_shoulder",
        "left_elbow",
        "right_elbow",
        "left_wrist",
        "right_wrist",
    ),
    kinematic_chains=(
        (0, 2, 5, 8, 11),
        (0, 1, 4, 7, 10),
        (0, 3, 6, 9, 12, 15),
        (9, 14, 17, 19, 21),
        (9, 13, 16, 18, 20),
    ),
    raw_offsets=np.array(
        [
            [0, 0, 0],
            [1, 0, 0],
            [-1, 0, 0],
            [0, 1, 0],
            [0, -1, 0],
            [0, -1, 0],
            [0, 1, 0],
            [0, -1, 0],
            [0, -1, 0],
            [0, 1, 0],
            [0, 0, 1],
            [0, 0, 1],
            [0, 1, 0],
            [1, 0, 0],
            [-1, 0, 0],
            [0, 0, 1],
            [0, -1, 0],
            [0, -1, 0],
            [0, -1, 0],
            [0, -1, 0],
            [0, -1, 0],
            [0, -1, 0],
        ],
        dtype=np.float64,
    ),
    bone_lengths=_HUMANML3D_BONE_LENGTHS,
    face_joints=(2, 1, 17, 16),
    left_foot=(7, 10),
    right_foot=(8, 11),
    leg_joints=(5, 8),
    mirror_pairs=((2, 1), (5, 4), (8, 7), (11, 10), (14, 13), (17, 16), (19, 18), (21, 20)),
    body_parts=(
        (0, 3, 6, 9, 12, 15),
        (13, 16, 18, 20),
        (14, 17, 19, 21),
        (1, 4, 7, 10),
        (2, 5, 8, 11),
    ),
    fps=20.0,
    unit_scale=1.0,
    contact_threshold=0.002,
)

# KIT-ML's 21-joint body (MMM reference model). Bone lengths are typical adult values in
# metres; KIT clips are retargeted to them exactly as HumanML3D clips are retargeted to
# the reference skeleton above.
KIT = Skeleton(
    name="kit",
    joint_names=(
        "root",
        "pelvis_top",
        "thorax",
        "lower_neck",
        "head",
        "right_shoulder",
        "right_elbow",
        "right_wrist",
        "left_shoulder",
        "left_elbow",
        "left_wrist",
        "right_hip",
        "right_knee",
        "right_ankle",
        "right_metatarsal",
        "right_toe",
        "left_hip",
        "left_knee",
        "left_ankle",
        "left_metatarsal",
        "left_toe",
    ),
    kinematic_chains=(
        (0, 11, 12, 13, 14, 15),
        (0, 16, 17, 18, 19, 20),
        (0, 1, 2, 3, 4),
        (3, 5, 6, 7),
        (3, 8, 9, 10),
    ),
    raw_offsets=np.array(
        [
            [0, 0, 0],
            [0, 1, 0],
            [0, 1, 0],
            [0, 1, 0],
            [0, 1, 0],
            [1, 0, 0],
            [0, -1, 0],
            [0, -1, 0],
            [-1, 0, 0],
            [0, -1, 0],
            [0, -1, 0],
            [1, 0, 0],
            [0, -1, 0],
            [0, -1, 0],
            [0, 0, 1],
            [0, 0, 1],
            [-1, 0, 0],
            [0, -1, 0],
            [0, -1, 0],
            [0, 0, 1],
            [0, 0, 1],
        ],
        dtype=np.float64,
    ),
    bone_lengths=np.array(
        [
            0.0,
            0.10,
            0.20,
            0.22,
            0.14,
            0.20,
            0.28,
            0.25,
            0.20,
            0.28,
            0.25,
            0.10,
            0.42,
            0.41,
            0.10,
            0.05,
            0.10,
            0.42,
            0.41,
            0.10,
            0.05,
        ]
    ),
    face_joints=(11, 16, 5, 8),
    left_foot=(19, 20),
    right_foot=(14, 15),
    leg_joints=(12, 13),
    mirror_pairs=((5, 8), (6, 9), (7, 10), (11, 16), (12, 17), (13, 18), (14, 19), (15, 20)),
    body_parts=((0, 1, 2, 3, 4), (8, 9, 10), (5, 6, 7), (16, 17, 18, 19, 20), (11, 12, 13, 14, 15)),
    fps=12.5,
    unit_scale=0.001,
    # the same ~0.89 m/s foot speed as HumanML3D's threshold, at 12.5 fps in millimetres
    contact_threshold=(0.002**0.5 * 20.0 / 12.5 * 1000.0) ** 2,
)

SKELETONS = {s.name: s for s in (HUMANML3D, KIT)}


def skeleton_for_feature_dim(dim: int) -> Skeleton:
    """The skeleton whose feature vector has `dim` entries (263 or 251)."""
    for skeleton in SKELETONS.values():
        if skeleton.feature_dim == dim:
            return skeleton
    known = ", ".join(f"{s.feature_dim} ({s.name})" for s in SKELETONS.values())
    raise ValueError(f"no skeleton has {dim}-d features; known sizes: {known}")


def skeleton_for_joint_count(count: int) -> Skeleton:
    """The skeleton with `count` joints (22 or 21)."""
    for skeleton in SKELETONS.values():
        if skeleton.num_joints == count:
            return skeleton
    known = ", ".join(f"{s.num_joints} ({s.name})" for s in SKELETONS.values())
    raise ValueError(f"no skeleton has {count} joints; known joint counts: {known}")
