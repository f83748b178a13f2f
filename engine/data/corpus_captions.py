"""The captions (and action labels) of the procedural corpus without its motions.

A motion's captions are drawn from the same random stream as its joints, after them
(engine/data/corpus/generate.py: plan, then `render_plan`, then `caption_plan`), so they
cannot be drawn from the plan alone. Only the last step of rendering, solving the joint
positions (`solve`, ~2/3 of the time), draws nothing from that stream; this module
calls the generator's own `compose_track` and `draw_captions` and skips the solve. The
result is identical to what `write_corpus` writes into texts/ and meta/
(tests/test_query_overlap.py checks it against the real generator), at about a third of
the cost and without writing anything.

It lives outside engine/data/corpus on purpose: every file there is part of the
generator's fingerprint (engine/data/embedded.py), and this reader changes no corpus.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.data.corpus.actions import MIRRORED_ACTION
from engine.data.corpus.compose import compose_track, sample_plan
from engine.data.corpus.config import (
    HELDOUT_COMBO_SPLIT,
    HELDOUT_PHRASING_SPLIT,
    SPLITS,
    CorpusConfig,
)
from engine.data.corpus.generate import _MOTION_STREAM, draw_captions, split_of
from engine.data.corpus.style import sample_style
from engine.errors import EngineError
from engine.paths import cache_dir
from engine.storage import atomic_write_json

# every split name a corpus writes a file for: the three splits and the two held-out
# test subsets (whose motions are also in "test")
SPLIT_NAMES = (*SPLITS, HELDOUT_PHRASING_SPLIT, HELDOUT_COMBO_SPLIT)


@dataclass(frozen=True)
class MotionCaptions:
    """One clip of the corpus as written (an original or its mirror "M..."): its id,
    split, held-out test subsets, action labels (as meta/*.json's segments list them,
    the layered action last) and captions (as texts/*.txt holds them, in order)."""

    id: str
    split: str
    subsets: tuple[str, ...]
    actions: tuple[str, ...]
    captions: tuple[str, ...]


def motion_captions(
    seed: int, index: int, config: CorpusConfig, with_captions: bool = True
) -> tuple[MotionCaptions, MotionCaptions]:
    """Motion `index` of the corpus drawn with `seed` and its mirror, without joints.
    `with_captions=False` stops after the plan (labels only, ~50x cheaper)."""
    split, subsets = split_of(seed, index, config)
    rng = np.random.default_rng([seed, index, _MOTION_STREAM])
    style = sample_style(rng)
    plan = sample_plan(rng, style, config, heldout_combo=HELDOUT_COMBO_SPLIT in subsets)
    labels = tuple(segment.action for segment, _, _ in plan.times(config.fps))
    texts: tuple[str, ...] = ()
    mirrored: tuple[str, ...] = ()
    if with_captions:
        compose_track(plan, style, rng, config.fps)  # the draws rendering makes
        captions = draw_captions(plan, rng, config, subsets)
        texts = tuple(c.text for c in captions)
        mirrored = tuple(c.mirrored().text for c in captions)
    mirror_labels = tuple(MIRRORED_ACTION.get(a, a) for a in labels)
    return (
        MotionCaptions(f"{index:06d}", split, subsets, labels, texts),
        MotionCaptions(f"M{index:06d}", split, subsets, mirror_labels, mirrored),
    )


def _job(job: tuple[int, int, CorpusConfig, bool]) -> tuple[MotionCaptions, MotionCaptions]:
    return motion_captions(*job)


def corpus_captions(
    size: int,
    seed: int,
    splits: Sequence[str] | None = None,
    config: CorpusConfig | None = None,
    with_captions: bool = True,
    workers: int = 1,
) -> list[MotionCaptions]:
    """Every clip (originals and mirrors, in the order of the corpus's all.txt) of the
    corpus `write_corpus(size=size, seed=seed, config=config)` would write, restricted to
    `splits` (of train/val/test), with its captions unless `with_captions` is False."""
    if size < 1:
        raise EngineError(f"corpus size must be at least 1, got {size}")
    if workers < 1:
        raise EngineError(f"workers must be at least 1, got {workers}")
    chosen = tuple(SPLITS if splits is None else splits)
    unknown = [s for s in chosen if s not in SPLITS]
    if unknown or not chosen:
        raise EngineError(f"unknown split(s) {unknown or chosen}; choose from {', '.join(SPLITS)}")
    config = (config or CorpusConfig()).replace(size=size)
    jobs = [
        (seed, i, config, with_captions)
        for i in range(size)
        if split_of(seed, i, config)[0] in chosen
    ]
    if workers == 1 or len(jobs) < 2 * workers:
        pairs = [_job(job) for job in jobs]
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            pairs = pool.map(_job, jobs, chunksize=16)
    return [clip for pair in pairs for clip in pair]


def captions_by_split(clips: Sequence[MotionCaptions]) -> dict[str, list[str]]:
    """The captions of each split name (train, val, test and the two held-out test
    subsets) among `clips`, in corpus order; a name without clips maps to []."""
    out: dict[str, list[str]] = {name: [] for name in SPLIT_NAMES}
    for clip in clips:
        out[clip.split].extend(clip.captions)
        for subset in clip.subsets:
            out[subset].extend(clip.captions)
    return out


def split_captions(size: int, seed: int, workers: int = 1) -> dict[str, list[str]]:
    """`captions_by_split` of the whole default-config corpus (size, seed), cached on disk
    under the generator's fingerprint (the corpus folder's name), so an edited generator
    never reuses old captions."""
    from engine.data.embedded import corpus_folder  # the generator's fingerprinted name

    path = cache_dir() / "corpus-captions" / f"{corpus_folder(size, seed).name}.json"
    if path.is_file():
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
            if set(cached) == set(SPLIT_NAMES):
                return cached
        except (OSError, ValueError):
            pass  # unreadable: computed again and rewritten
    result = captions_by_split(corpus_captions(size, seed, workers=workers))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, result)
    return result
