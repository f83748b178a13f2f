"""The body's volume: which tapered limbs make up a skeleton, and how thick each is.

A motion is only joint positions, so the body drawn around them is a mannequin: every
bone is a tapered capsule as thick as that part of a person (thigh, shin, upper arm,
torso segments, neck), and three pieces no joint marks are added as extensions of the
bone before them: the head above the head joint, the hands past the wrists and, for
skeletons whose feet end at the ankle, nothing more (both known skeletons have feet).
Thickness comes from the child joint's name (the same table serves HumanML3D's 22 joints
and KIT's 21), with a plain limb for any name it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.motion.skeleton import Skeleton

# (radius at the parent, radius at the child) in metres, by the child joint's name
# without its side: an adult of average build, slightly slimmed so limbs stay apart.
_LIMB_RADII = {
    # HumanML3D
    "hip": (0.095, 0.085),  # pelvis -> hip: the pelvis's width
    "spine1": (0.10, 0.095),
    "spine2": (0.095, 0.10),
    "spine3": (0.10, 0.11),
    "neck": (0.06, 0.045),
    "collar": (0.085, 0.07),  # spine3 -> collar: the chest's width
    "head": (0.045, 0.045),
    "shoulder": (0.07, 0.052),  # collar -> shoulder (HumanML3D), neck -> shoulder (KIT)
    "elbow": (0.05, 0.038),
    "wrist": (0.038, 0.03),
    "knee": (0.075, 0.052),
    "ankle": (0.05, 0.038),
    "foot": (0.04, 0.032),
    # KIT
    "pelvis_top": (0.10, 0.095),
    "thorax": (0.095, 0.11),
    "lower_neck": (0.11, 0.06),
    "metatarsal": (0.04, 0.034),
    "toe": (0.034, 0.028),
}
_PLAIN_LIMB = (0.04, 0.035)
# limbs that are part of the trunk (the pelvis's and chest's width) are drawn in the
# mid-line colour, so the torso reads as one piece and only arms and legs show a side
_TRUNK = {"hip", "collar"}
# Pieces past a joint, along the bone that ends there: (joint, length, start and end
# radius). The head's joint sits where the skull meets the neck.
_EXTENSIONS = {
    "head": (0.11, 0.095, 0.085),
    "wrist": (0.08, 0.036, 0.03),
}


@dataclass(frozen=True)
class BodyShape:
    """Tapered capsules between points: the skeleton's joints, then extension tips."""

    starts: np.ndarray  # (L,) point index where each limb starts
    ends: np.ndarray  # (L,) point index where it ends
    start_radii: np.ndarray  # (L,) metres
    end_radii: np.ndarray  # (L,)
    sides: tuple[str | None, ...]  # (L,) 'left', 'right' or None, for colours
    extension_joints: np.ndarray  # (E,) joint each extension continues
    extension_parents: np.ndarray  # (E,) that joint's parent (the bone's direction)
    extension_lengths: np.ndarray  # (E,) metres

    @property
    def largest_radius(self) -> float:
        return float(max(self.start_radii.max(), self.end_radii.max()))

    @property
    def point_count(self) -> int:
        return int(max(self.starts.max(), self.ends.max())) + 1

    def point_radii(self) -> np.ndarray:
        """(P,) the radius of the thickest limb end at each point: the joint's own size."""
        radii = np.zeros(self.point_count)
        np.maximum.at(radii, self.starts, self.start_radii)
        np.maximum.at(radii, self.ends, self.end_radii)
        return radii

    def points(self, pose: np.ndarray) -> np.ndarray:
        """The joints of `pose` (..., J, 3) followed by the extension tips (..., E, 3)."""
        joint, parent = pose[..., self.extension_joints, :], pose[..., self.extension_parents, :]
        direction = joint - parent
        length = np.linalg.norm(direction, axis=-1, keepdims=True)
        direction = direction / np.maximum(length, 1e-9)
        tips = joint + direction * self.extension_lengths[:, None]
        return np.concatenate([pose, tips], axis=-2)


def body_shape(skeleton: Skeleton, thickness: float = 1.0) -> BodyShape:
    """The limbs of `skeleton`'s body, radii scaled by `thickness`."""
    names = [_without_side(n) for n in skeleton.joint_names]
    starts, ends, radii, sides = [], [], [], []
    for parent, child in skeleton.bones:
        starts.append(parent)
        ends.append(child)
        radii.append(_LIMB_RADII.get(names[child], _PLAIN_LIMB))
        sides.append(None if names[child] in _TRUNK else skeleton.side_of(child))
    extended = [(j, _EXTENSIONS[n]) for j, n in enumerate(names) if n in _EXTENSIONS]
    parents = skeleton.parents
    for e, (joint, (_, start_radius, end_radius)) in enumerate(extended):
        starts.append(joint)
        ends.append(skeleton.num_joints + e)
        radii.append((start_radius, end_radius))
        sides.append(skeleton.side_of(joint))
    radii_array = np.array(radii, dtype=np.float64) * thickness
    return BodyShape(
        np.array(starts),
        np.array(ends),
        radii_array[:, 0],
        radii_array[:, 1],
        tuple(sides),
        np.array([j for j, _ in extended], dtype=int),
        np.array([parents[j] for j, _ in extended], dtype=int),
        np.array([length for _, (length, _, _) in extended], dtype=np.float64),
    )


def _without_side(name: str) -> str:
    for prefix in ("left_", "right_"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name
