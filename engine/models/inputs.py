"""What a motion encoder reads: raw feature sequences padded into a normalised batch with
a frame mask. Training and inference (encoder, gallery, search) both build batches here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from engine.motion.normalization import Normalizer


@dataclass
class MotionBatch:
    features: torch.Tensor  # (B, T, D) normalised
    mask: torch.Tensor  # (B, T) True = real frame

    def to(self, device: torch.device | str) -> MotionBatch:
        return MotionBatch(self.features.to(device), self.mask.to(device))


def motion_batch(sequences: Sequence[np.ndarray], normalizer: Normalizer) -> MotionBatch:
    """Pad raw feature sequences (T_i, D) into a normalised batch with a frame mask."""
    length = max(len(s) for s in sequences)
    dim = normalizer.dim
    features = np.zeros((len(sequences), length, dim), dtype=np.float32)
    mask = np.zeros((len(sequences), length), dtype=bool)
    for i, sequence in enumerate(sequences):
        features[i, : len(sequence)] = normalizer.normalize(sequence)
        mask[i, : len(sequence)] = True
    return MotionBatch(torch.from_numpy(features), torch.from_numpy(mask))
