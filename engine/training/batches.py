"""From data set items to padded, normalised tensor batches."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.data.dataset import MotionItem
from engine.models.inputs import MotionBatch, motion_batch
from engine.models.language import TextFeatureStore, TokenFeatures
from engine.motion.normalization import Normalizer


@dataclass
class Batch:
    motion: MotionBatch
    text: TokenFeatures
    captions: list[str]
    ids: list[str]


def random_window(features: np.ndarray, max_frames: int, rng: np.random.Generator) -> np.ndarray:
    if len(features) <= max_frames:
        return features
    start = rng.integers(0, len(features) - max_frames + 1)
    return features[start : start + max_frames]


def centre_window(features: np.ndarray, max_frames: int) -> np.ndarray:
    if len(features) <= max_frames:
        return features
    start = (len(features) - max_frames) // 2
    return features[start : start + max_frames]


def training_batches(
    items: Sequence[MotionItem],
    batch_size: int,
    rng: np.random.Generator,
    normalizer: Normalizer,
    store: TextFeatureStore,
    max_frames: int,
    shard: tuple[int, int] = (0, 1),
    variants: Mapping[str, Sequence[np.ndarray]] | None = None,
) -> Iterator[Batch]:
    """One epoch: shuffled items, a random caption and a random window each — of the
    item's features or, with `variants` (by id), of one of its versions at random.

    `shard` = (rank, world size) keeps every `world`-th batch for distributed training.
    Incomplete batches are dropped, and so are batches that would give one process more
    steps than another (which would stall the others' gradient synchronisation).
    """
    order = rng.permutation(len(items))
    rank, world = shard
    for number in range(steps_per_epoch(len(items), batch_size, world) * world):
        start = number * batch_size
        chosen = [items[i] for i in order[start : start + batch_size]]
        captions = [item.captions[rng.integers(len(item.captions))] for item in chosen]
        windows = [random_window(version(item, variants, rng), max_frames, rng) for item in chosen]
        if number % world != rank:
            continue
        yield Batch(
            motion_batch(windows, normalizer),
            store.batch(captions),
            captions,
            [item.id for item in chosen],
        )


def version(
    item: MotionItem, variants: Mapping[str, Sequence[np.ndarray]] | None, rng: np.random.Generator
) -> np.ndarray:
    """The item's features or one of its variants, each as likely."""
    others = (variants or {}).get(item.id, ())
    if not others:
        return item.features
    pick = rng.integers(len(others) + 1)
    return item.features if pick == len(others) else others[pick].astype(np.float32)


def steps_per_epoch(num_items: int, batch_size: int, world: int = 1) -> int:
    """Optimiser steps per epoch for each of `world` processes."""
    return num_items // batch_size // world
