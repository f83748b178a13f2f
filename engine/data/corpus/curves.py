"""Smooth curves over frames: minimum-jerk blends, keyframe interpolation, band-limited
noise, and direction interpolation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def minimum_jerk(s: np.ndarray) -> np.ndarray:
    """The minimum-jerk blend weight 10s³ − 15s⁴ + 6s⁵ on s clipped to [0, 1]."""
    s = np.clip(s, 0.0, 1.0)
    return s * s * s * (10.0 - 15.0 * s + 6.0 * s * s)


def ramp(frames: int, start: float, length: float) -> np.ndarray:
    """Weights over `frames` frames rising (minimum jerk) from 0 at frame `start` to 1 at
    `start + length`."""
    return minimum_jerk((np.arange(frames) - start) / max(length, 1e-6))


def window(frames: int, start: float, stop: float, edge: float) -> np.ndarray:
    """1 between `start` and `stop` (frames), minimum-jerk edges `edge` frames long."""
    return ramp(frames, start, edge) * (1.0 - ramp(frames, stop - edge, edge))


def keyframes(frames: int, times: Sequence[float], values: Sequence) -> np.ndarray:
    """Values at frame times `times` (ascending, in frames), joined by minimum-jerk
    segments (zero velocity at every key) and held before the first / after the last."""
    values = np.asarray(values, dtype=float)
    times = np.asarray(times, dtype=float)
    t = np.arange(frames, dtype=float)
    k = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1)
    k_next = np.minimum(k + 1, len(times) - 1)
    span = np.maximum(times[k_next] - times[k], 1e-9)
    s = minimum_jerk((t - times[k]) / span)
    s = s.reshape((-1,) + (1,) * (values.ndim - 1))
    return values[k] * (1.0 - s) + values[k_next] * s


def slerp_vectors(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Spherical interpolation of unit vectors (..., 3) by weights w (...)."""
    w = np.asarray(w, float)[..., None]
    dot = (a * b).sum(-1, keepdims=True).clip(-1.0, 1.0)
    theta = np.arccos(dot)
    sin = np.sin(theta)
    small = sin < 1e-5
    safe = np.where(small, 1.0, sin)
    wa = np.where(small, 1.0 - w, np.sin((1.0 - w) * theta) / safe)
    wb = np.where(small, w, np.sin(w * theta) / safe)
    out = wa * a + wb * b
    return out / np.maximum(np.linalg.norm(out, axis=-1, keepdims=True), 1e-9)


def key_directions(frames: int, times: Sequence[float], directions: Sequence) -> np.ndarray:
    """Unit vectors (frames, ..., 3) through keyed directions, interpolated on the sphere
    with minimum-jerk timing."""
    directions = np.asarray(directions, dtype=float)
    directions = directions / np.linalg.norm(directions, axis=-1, keepdims=True)
    times = np.asarray(times, dtype=float)
    t = np.arange(frames, dtype=float)
    k = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1)
    k_next = np.minimum(k + 1, len(times) - 1)
    span = np.maximum(times[k_next] - times[k], 1e-9)
    s = minimum_jerk((t - times[k]) / span)
    s = np.broadcast_to(s.reshape((-1,) + (1,) * (directions.ndim - 2)), directions[k].shape[:-1])
    return slerp_vectors(directions[k], directions[k_next], s)


def band_noise(
    rng: np.random.Generator, frames: int, fps: float, low: float, high: float, size: int = 1
) -> np.ndarray:
    """Smooth random signals (frames, size) with unit RMS, a sum of three sinusoids with
    frequencies drawn in [low, high] Hz."""
    t = np.arange(frames)[:, None, None] / fps
    freq = rng.uniform(low, high, (1, size, 3))
    phase = rng.uniform(0, 2 * np.pi, (1, size, 3))
    amp = rng.uniform(0.5, 1.0, (1, size, 3))
    signal = (amp * np.sin(2 * np.pi * freq * t + phase)).sum(-1)
    return signal / np.sqrt((amp**2).sum(-1) / 2)


def hermite(t: np.ndarray, t0: float, t1: float, y0: float, y1: float, v0: float, v1: float):
    """Cubic Hermite curve from (t0, y0, slope v0) to (t1, y1, slope v1), evaluated at t
    (clipped to [t0, t1])."""
    h = max(t1 - t0, 1e-9)
    s = np.clip((np.asarray(t, float) - t0) / h, 0.0, 1.0)
    h00 = 2 * s**3 - 3 * s**2 + 1
    h10 = s**3 - 2 * s**2 + s
    h01 = -2 * s**3 + 3 * s**2
    h11 = s**3 - s**2
    return h00 * y0 + h10 * h * v0 + h01 * y1 + h11 * h * v1
