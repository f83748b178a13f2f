"""Feature normalisation with a statistics pair that travels with each checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# HumanML3D and TMR floor the standard deviation so that near-constant dimensions
# (foot contacts of a motionless foot, say) do not explode after normalisation.
MIN_STD = 1e-3


@dataclass
class Normalizer:
    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self) -> None:
        self.mean = np.asarray(self.mean, dtype=np.float32)
        self.std = np.asarray(self.std, dtype=np.float32)
        if self.mean.shape != self.std.shape or self.mean.ndim != 1:
            raise ValueError(
                f"mean and std must be 1-D of the same size, got {self.mean.shape} and "
                f"{self.std.shape}"
            )
        if not (np.isfinite(self.mean).all() and np.isfinite(self.std).all()):
            raise ValueError("normalisation statistics contain NaN or infinite values")
        self.std = np.maximum(self.std, MIN_STD)

    @property
    def dim(self) -> int:
        return self.mean.shape[0]

    def normalize(self, features: np.ndarray) -> np.ndarray:
        self._check(features)
        return (features - self.mean) / self.std

    def denormalize(self, features: np.ndarray) -> np.ndarray:
        self._check(features)
        return features * self.std + self.mean

    def block_averaged(self, blocks: Sequence[slice]) -> Normalizer:
        """The same means, each block's entries sharing its mean standard deviation: a
        joint that barely moves in the training data (the corpus's upper spine) is then
        not magnified tenfold when a real motion moves it."""
        std = self.std.copy()
        for block in blocks:
            std[block] = std[block].mean()
        return Normalizer(self.mean, std)

    @classmethod
    def fit(cls, sequences: list[np.ndarray]) -> Normalizer:
        """Statistics over all frames of the given (T, D) feature sequences."""
        frames = np.concatenate([np.asarray(s, dtype=np.float64) for s in sequences], axis=0)
        return cls(frames.mean(0), frames.std(0))

    @classmethod
    def load(cls, folder: str | Path) -> Normalizer:
        """Read `Mean.npy` and `Std.npy` (HumanML3D's file names) from a folder."""
        folder = Path(folder)
        arrays = []
        for name in ("Mean.npy", "Std.npy"):
            path = folder / name
            if not path.is_file():
                raise FileNotFoundError(f"{path}: missing normalisation statistics file")
            arrays.append(np.load(path, allow_pickle=False))
        return cls(*arrays)

    def _check(self, features: np.ndarray) -> None:
        if np.shape(features)[-1] != self.dim:
            raise ValueError(
                f"features have {np.shape(features)[-1]} values per frame, "
                f"the statistics {self.dim}"
            )
