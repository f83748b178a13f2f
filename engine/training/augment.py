"""Domain randomisation: training motions made to look like the real motion they must meet.

Real captures differ from the procedural corpus in measurable ways (docs/corpus.md,
`benchmarks/real_transfer.py --profile`): the spine, neck and shoulders move all the time,
the body sways, motion is faster and carries capture noise, and skeletons other than
SMPL's place some joints differently — sparse rigs and pose estimators have no spine
segments or collars (they are interpolated) and put the hip joints level with the pelvis.
Each variant of a training motion draws all of these at random, on joint positions,
before HumanML3D's feature processing — exactly the path a user's upload takes.

Variants are made once, before training, over worker processes; each epoch then reads
one of a motion's versions (the original or a variant) at random.
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Iterable, Sequence

import numpy as np
import torch

from engine.config import AugmentConfig
from engine.data.dataset import MotionItem
from engine.evaluation.realism import feature_groups
from engine.motion.features import features_to_joints, joints_to_features
from engine.motion.normalization import Normalizer
from engine.motion.rotations import qfrom_axis_angle, qrot
from engine.motion.skeleton import HUMANML3D, Skeleton

PELVIS, SPINE1, SPINE2, SPINE3, NECK, HEAD = 0, 3, 6, 9, 12, 15
LEFT_HIP, RIGHT_HIP = 1, 2
COLLARS = (13, 14)
SHOULDERS = (16, 17)
MIN_FRAMES = 12
FPS = HUMANML3D.fps


def descendants(joint: int, parents: Sequence[int] = HUMANML3D.parents) -> list[int]:
    """Every joint below `joint` in the kinematic tree."""
    below = [j for j, p in enumerate(parents) if p == joint]
    for child in list(below):
        below += descendants(child, parents)
    return below


def smooth_signal(frames: int, rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """(frames, 3) slow random signal: a static offset plus two sines of 0.2–1.5 Hz, each
    component within about ±amplitude."""
    t = np.arange(frames)[:, None] / FPS
    signal = rng.uniform(-0.5, 0.5, 3) * amplitude
    for _ in range(2):
        hz = rng.uniform(0.2, 1.5, 3)
        phase = rng.uniform(0, 2 * np.pi, 3)
        signal = signal + rng.uniform(0, 0.25, 3) * amplitude * np.sin(2 * np.pi * hz * t + phase)
    return signal


def rotate_subtree(joints: np.ndarray, joint: int, rotvec: np.ndarray) -> np.ndarray:
    """Rotate the joints below `joint` about it by per-frame axis-angle vectors (T, 3)."""
    angle = np.linalg.norm(rotvec, axis=-1)
    axis = rotvec / np.maximum(angle, 1e-9)[:, None]
    quat = qfrom_axis_angle(axis, angle)[:, None]
    below = descendants(joint)
    pivot = joints[:, joint : joint + 1]
    out = joints.copy()
    out[:, below] = pivot + qrot(
        np.broadcast_to(quat, (*joints[:, below].shape[:2], 4)), joints[:, below] - pivot
    )
    return out


def resample(joints: np.ndarray, times: np.ndarray) -> np.ndarray:
    """The motion at fractional frame `times` (increasing, within the clip), linearly."""
    low = np.floor(times).astype(int).clip(0, len(joints) - 2)
    weight = (times - low)[:, None, None]
    return joints[low] * (1 - weight) + joints[low + 1] * weight


def change_speed(joints: np.ndarray, factor: float) -> np.ndarray:
    """Resample in time: `factor` > 1 plays the motion faster (fewer frames)."""
    frames = len(joints)
    count = max(MIN_FRAMES, round((frames - 1) / factor) + 1)
    return resample(joints, np.linspace(0, frames - 1, count))


def warp_time(joints: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Uneven timing: the playback rate drifts slowly within 1 ± `amount` (< 1) over the
    clip, as a person speeds up and slows down within one action; same frame count."""
    frames = len(joints)
    rate = 1.0 + amount * np.tanh(smooth_signal(frames, rng, 2.0)[:, 0])
    times = np.concatenate([[0.0], np.cumsum(rate[1:])])
    return resample(joints, times * (frames - 1) / times[-1])


def drop_frames(joints: np.ndarray, rng: np.random.Generator, probability: float) -> np.ndarray:
    """Each frame after the first lost with `probability` and the previous pose held in its
    place, as a capture or a video pipeline does when a frame is missing."""
    kept = np.arange(len(joints))
    lost = np.flatnonzero(rng.random(len(joints)) < probability)
    for frame in lost[lost > 0]:
        kept[frame] = kept[frame - 1]
    return joints[kept]


def interpolate_sparse_joints(joints: np.ndarray, weight: float) -> np.ndarray:
    """Move spine, neck and collars toward where a rig without them would put them: the
    spine on the pelvis–neck line, the neck between the shoulders, each collar halfway
    between the neck and its shoulder."""
    out = joints.copy()
    neck = 0.5 * (joints[:, SHOULDERS[0]] + joints[:, SHOULDERS[1]])
    out[:, NECK] = (1 - weight) * joints[:, NECK] + weight * neck
    for fraction, spine in zip((0.25, 0.5, 0.75), (SPINE1, SPINE2, SPINE3), strict=True):
        line = joints[:, PELVIS] + fraction * (out[:, NECK] - joints[:, PELVIS])
        out[:, spine] = (1 - weight) * joints[:, spine] + weight * line
    for collar, shoulder in zip(COLLARS, SHOULDERS, strict=True):
        middle = 0.5 * (out[:, NECK] + joints[:, shoulder])
        out[:, collar] = (1 - weight) * joints[:, collar] + weight * middle
    return out


def level_hips(joints: np.ndarray, weight: float) -> np.ndarray:
    """Raise the hip joints toward the pelvis along the torso's axis (weight 1: level)."""
    up = joints[:, SPINE1] - joints[:, PELVIS]
    up = up / np.maximum(np.linalg.norm(up, axis=-1, keepdims=True), 1e-9)
    out = joints.copy()
    for hip in (LEFT_HIP, RIGHT_HIP):
        below = ((joints[:, PELVIS] - joints[:, hip]) * up).sum(-1, keepdims=True)
        out[:, hip] = joints[:, hip] + weight * below * up
    return out


def augment_joints(
    joints: np.ndarray, rng: np.random.Generator, config: AugmentConfig
) -> np.ndarray:
    """One random variant of a motion (T, 22, 3) in metres."""
    out = change_speed(
        np.asarray(joints, np.float64), rng.uniform(config.speed_min, config.speed_max)
    )
    frames = len(out)
    spine = np.radians(config.spine_degrees)
    for joint in (SPINE1, SPINE2, SPINE3, NECK):
        out = rotate_subtree(out, joint, smooth_signal(frames, rng, spine))
    for collar in COLLARS:
        out = rotate_subtree(out, collar, smooth_signal(frames, rng, 0.5 * spine))
    for shoulder in SHOULDERS:
        out = rotate_subtree(
            out, shoulder, smooth_signal(frames, rng, np.radians(config.arm_degrees))
        )
    sway = smooth_signal(frames, rng, config.sway_metres) * np.array([1.0, 0.0, 1.0])
    out = out + sway[:, None]
    if rng.random() < config.sparse_probability:
        out = interpolate_sparse_joints(out, rng.uniform(0.5, 1.0))
    if rng.random() < config.level_hips_probability:
        out = level_hips(out, rng.uniform(0.5, 1.0))
    if config.time_warp > 0:
        out = warp_time(out, rng, config.time_warp)
    if config.drop_frames > 0:
        out = drop_frames(out, rng, rng.uniform(0.0, config.drop_frames))
    return out + rng.normal(0.0, rng.uniform(0.0, config.noise_metres), out.shape)


def _variants_of(job: tuple[np.ndarray, AugmentConfig, tuple[int, ...]]) -> list[np.ndarray]:
    features, config, seed = job
    rng = np.random.default_rng(seed)
    joints = features_to_joints(features)
    variants = []
    for _ in range(config.copies):
        made = joints_to_features(augment_joints(joints, rng, config))
        if np.isfinite(made).all():
            variants.append(made.astype(np.float16))  # half the memory; normalised later
    return variants


def make_variants(
    items: Sequence[MotionItem], config: AugmentConfig, seed: int, workers: int = 1
) -> dict[str, list[np.ndarray]]:
    """`config.copies` feature variants of each item, by id (deterministic in `seed`)."""
    if config.copies < 1:
        return {}
    jobs = [(item.features, config, (seed, index)) for index, item in enumerate(items)]
    if workers <= 1:
        made = [_variants_of(job) for job in jobs]
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            made = pool.map(_variants_of, jobs, chunksize=16)
    return {item.id: variants for item, variants in zip(items, made, strict=True)}


def statistics_with_variants(
    items: Sequence[MotionItem], variants: dict[str, list[np.ndarray]]
) -> Normalizer:
    """Per-feature statistics of the training motions and their variants together: what
    the model sees in training, and so the units a query's features are judged in."""
    originals = (item.features for item in items)
    copies = (v for versions in variants.values() for v in versions)
    return fit_normalizer(itertools.chain(originals, copies))


def fit_normalizer(sequences: Iterable[np.ndarray]) -> Normalizer:
    """Mean and std over all frames, accumulated sequence by sequence: the originals and
    their variants together are too many frames to concatenate (and copy) in memory."""
    total = squares = None
    count = 0
    for sequence in sequences:
        frames = np.asarray(sequence, dtype=np.float64)
        if total is None:
            total, squares = np.zeros(frames.shape[-1]), np.zeros(frames.shape[-1])
        total += frames.sum(0)
        squares += (frames * frames).sum(0)
        count += len(frames)
    if total is None:
        raise ValueError("no sequences to fit normalisation statistics on")
    mean = total / count
    return Normalizer(mean, np.sqrt(np.maximum(squares / count - mean * mean, 0.0)))


def group_of_columns(skeleton: Skeleton) -> torch.Tensor:
    """(D,) the index of the feature group (engine/evaluation/realism.py) of each column."""
    groups = feature_groups(skeleton)
    owner = torch.empty(skeleton.feature_dim, dtype=torch.long)
    for index, group in enumerate(groups):
        owner[torch.from_numpy(group.columns)] = index
    return owner


def drop_feature_groups(
    features: torch.Tensor, owner: torch.Tensor, probability: float
) -> torch.Tensor:
    """Normalised features (B, T, D) with each clip's feature groups held at 0 (the
    training mean) independently with `probability`: the encoder learns not to depend on
    any one group, as a real rig may disagree with the corpus in any of them."""
    groups = int(owner.max()) + 1
    keep = torch.rand(features.shape[0], groups, device=features.device) >= probability
    return features * keep[:, owner.to(features.device)].unsqueeze(1).to(features.dtype)
