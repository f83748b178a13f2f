"""`Motion`: one motion in the engine's common representation, with what is known of it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.motion.features import features_to_joints, joints_to_features
from engine.motion.skeleton import HUMANML3D


@dataclass
class Motion:
    """A motion on the 22-joint HumanML3D body at 20 fps.

    `features` (T-1, 263) is what models read; `joints` (T-1, 22, 3) in metres (Y up,
    floor at 0, first pose at the origin facing +Z) is what rendering and export read.
    Both describe the same poses: build one from the other with the constructors.
    """

    id: str
    features: np.ndarray
    joints: np.ndarray
    captions: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    source: str = ""
    meta: dict = field(default_factory=dict)

    fps = HUMANML3D.fps

    @classmethod
    def from_features(cls, motion_id: str, features: np.ndarray, **known) -> Motion:
        features = np.asarray(features, dtype=np.float32)
        joints = features_to_joints(features, HUMANML3D).astype(np.float32)
        return cls(motion_id, features, joints, **known)

    @classmethod
    def from_joints(cls, motion_id: str, joints: np.ndarray, **known) -> Motion:
        """Canonicalise raw positions (T, 22, 3) in metres through HumanML3D's processing."""
        features = joints_to_features(np.asarray(joints, dtype=np.float64), HUMANML3D)
        return cls.from_features(motion_id, features, **known)

    @property
    def num_frames(self) -> int:
        return len(self.features)

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps
