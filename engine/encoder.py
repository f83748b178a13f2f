"""Inference: a loaded checkpoint that turns captions and motions into embeddings.

This is what the evaluation, the gallery, the search command and the demo call; it
hides batching, normalisation, devices and the language model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from engine.models.language import LanguageModel, TextFeatureStore
from engine.motion.skeleton import Skeleton, skeleton_for_feature_dim
from engine.training.batches import motion_batch
from engine.training.checkpoint import Checkpoint, load_checkpoint

Progress = Callable[[int, int], None]


def pick_device(preference: str = "auto") -> torch.device:
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if preference.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {preference!r} requested but CUDA is not available")
    return torch.device(preference)


class MotionTextEncoder:
    """Embeddings (L2-normalised float32 numpy arrays) for captions and motions."""

    def __init__(self, checkpoint: Checkpoint, device: str | torch.device = "auto") -> None:
        self.device = pick_device(device) if isinstance(device, str) else device
        self.checkpoint = checkpoint
        self.model = checkpoint.model.to(self.device).eval()
        self.normalizer = checkpoint.normalizer
        max_tokens = checkpoint.config.model.max_tokens
        self._language_model: LanguageModel | None = self.model.language_model
        self._language_model_lock = threading.Lock()  # one load, even from two threads
        self._max_tokens = max_tokens

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> MotionTextEncoder:
        return cls(load_checkpoint(path), device)

    @property
    def fingerprint(self) -> str:
        return self.checkpoint.fingerprint

    @property
    def skeleton(self) -> Skeleton:
        return skeleton_for_feature_dim(self.normalizer.dim)

    @property
    def embed_dim(self) -> int:
        return self.checkpoint.config.model.embed_dim

    @property
    def language_model(self) -> LanguageModel:
        with self._language_model_lock:
            if self._language_model is None:
                self._language_model = LanguageModel(self._max_tokens).to(self.device).eval()
            return self._language_model

    def load_language_model(self) -> None:
        """Load MiniLM now (the demo does it while the gallery is being prepared), so that
        the first text query does not wait for it."""
        _ = self.language_model  # the property loads it once (a model's own: already there)

    @torch.inference_mode()
    def encode_texts(
        self, captions: Sequence[str], store: TextFeatureStore | None = None, batch_size: int = 256
    ) -> np.ndarray:
        """Embeddings (N, E); `store` reuses cached frozen MiniLM features when given.

        Captions are batched by length so that little time goes into padding."""
        order = np.argsort([len(c) for c in captions], kind="stable")
        result = np.zeros((len(captions), self.embed_dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            chunk = [captions[i] for i in rows]
            if self.model.language_model is not None:
                encoded = self.model.encode_text(chunk)
            else:
                features = store.batch(chunk) if store is not None else self.language_model(chunk)
                encoded = self.model.encode_text(features.to(self.device))
            result[rows] = encoded.embedding.float().cpu().numpy()
        return result

    @torch.inference_mode()
    def encode_motions(
        self,
        sequences: Sequence[np.ndarray],
        batch_size: int = 64,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """Embeddings (N, E) of raw (unnormalised) feature sequences (T_i, D).

        Sequences are batched by length so that little time goes into padding.
        """
        order = np.argsort([len(s) for s in sequences], kind="stable")
        result = np.zeros((len(sequences), self.embed_dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = motion_batch([sequences[i] for i in rows], self.normalizer).to(self.device)
            encoded = self.model.encode_motion(batch.features, batch.mask)
            result[rows] = encoded.embedding.float().cpu().numpy()
            if progress is not None:
                progress(min(start + batch_size, len(order)), len(order))
        return result

    @torch.inference_mode()
    def sentence_embeddings(self, captions: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """MiniLM sentence embeddings (N, 384): caption-caption similarity."""
        out = [
            self.language_model(list(captions[s : s + batch_size])).sentence.float().cpu().numpy()
            for s in range(0, len(captions), batch_size)
        ]
        return np.concatenate(out) if out else np.zeros((0, 384), np.float32)
