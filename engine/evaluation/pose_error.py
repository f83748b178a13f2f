"""How far a recovered motion's joints are from the true ones: the mean per-joint error
after Procrustes alignment (PA-MPJPE), the usual measure of 3-D pose estimation. Each
frame is aligned on its own (rotation, translation, scale), so the error is the pose's,
not the camera's, the person's position or the skeleton's size."""

from __future__ import annotations

import numpy as np


def procrustes_aligned(target: np.ndarray, points: np.ndarray) -> np.ndarray:
    """`points` (N, 3) moved by the similarity transform that best fits them onto
    `target` (N, 3) in the least-squares sense (no reflection)."""
    target_mean, points_mean = target.mean(0), points.mean(0)
    a, b = target - target_mean, points - points_mean
    u, s, vt = np.linalg.svd(b.T @ a)
    sign = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ sign @ vt
    scale = float((s * np.diag(sign)).sum() / max((b**2).sum(), 1e-12))
    return scale * b @ rotation + target_mean


def pa_mpjpe(truth: np.ndarray, recovered: np.ndarray) -> float:
    """Mean per-joint position error after per-frame Procrustes alignment, in the units
    of `truth` (T, J, 3); `recovered` (T, J, 3) frame for frame."""
    if truth.shape != recovered.shape:
        raise ValueError(f"shapes differ: {truth.shape} vs {recovered.shape}")
    errors = [
        np.linalg.norm(procrustes_aligned(t, r) - t, axis=1).mean()
        for t, r in zip(truth, recovered, strict=True)
    ]
    return float(np.mean(errors))
