"""The per-motion generator and the corpus writer.

Motion i depends only on (seed, i): its split, plan, performer, joints and captions come
from numpy generators seeded with (seed, i, stream). So any subset (the test split the
demo uses as its gallery, say) is generated alone, and the result does not depend on the
number of worker processes.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from engine.data.corpus.actions import ACTIONS, MIRRORED_ACTION
from engine.data.corpus.captions import Caption, caption_plan
from engine.data.corpus.compose import action_plan, render_plan, sample_plan
from engine.data.corpus.config import (
    CORPUS_VERSION,
    HELDOUT_COMBO_SPLIT,
    HELDOUT_PHRASING_SPLIT,
    SPLITS,
    CorpusConfig,
)
from engine.data.corpus.grammar import humanml3d_line
from engine.data.corpus.style import sample_style
from engine.errors import EngineError
from engine.motion.features import features_to_joints, joints_to_features
from engine.motion.mirror import mirror_joints
from engine.motion.normalization import Normalizer
from engine.storage import atomic_directory, atomic_write_json

_SPLIT_STREAM, _MOTION_STREAM, _ACTION_STREAM = 0, 1, 2
# True: a progress bar on stderr; False: silence; a callable: called with (done, total)
Progress = bool | Callable[[int, int], None]
_SIDE_SWAP = {"left": "right", "right": "left"}


@dataclass
class GeneratedMotion:
    """One generated clip. `joints` (T, 22, 3) are the generator's raw output in metres
    (Y up, floor at y = 0, starting at the origin facing +Z); the corpus stores them after
    HumanML3D's processing. `segments` are dicts {action, side, start, end} (seconds)."""

    index: int
    joints: np.ndarray
    segments: list[dict]
    tagged_captions: list[Caption]  # with lemma and part-of-speech per word
    split: str
    subsets: tuple[str, ...] = ()
    fps: float = 20.0
    mirrored: bool = False

    @property
    def id(self) -> str:
        return ("M" if self.mirrored else "") + f"{self.index:06d}"

    @property
    def captions(self) -> list[str]:
        return [c.text for c in self.tagged_captions]

    def mirror(self) -> GeneratedMotion:
        """The left-right mirror: joints reflected, sides and turn directions swapped in
        the segments and the captions. It stays in the same split."""
        segments = [
            {
                **s,
                "action": MIRRORED_ACTION.get(s["action"], s["action"]),
                "side": _SIDE_SWAP.get(s["side"], s["side"]),
            }
            for s in self.segments
        ]
        return replace(
            self,
            joints=mirror_joints(self.joints),
            segments=segments,
            tagged_captions=[c.mirrored() for c in self.tagged_captions],
            mirrored=not self.mirrored,
        )


def split_of(seed: int, index: int, config: CorpusConfig) -> tuple[str, tuple[str, ...]]:
    """The split of motion `index` and the held-out test subsets it belongs to; cheap, so
    a split can be enumerated without generating anything."""
    u, v = np.random.default_rng([seed, index, _SPLIT_STREAM]).random(2)
    if u < config.train_fraction:
        return "train", ()
    if u < config.train_fraction + config.val_fraction:
        return "val", ()
    if v < config.heldout_combo_share:
        return "test", (HELDOUT_COMBO_SPLIT,)
    if v < config.heldout_combo_share + config.heldout_phrasing_share:
        return "test", (HELDOUT_PHRASING_SPLIT,)
    return "test", ()


def generate_motion(seed: int, index: int, config: CorpusConfig | None = None) -> GeneratedMotion:
    """Motion number `index` of the corpus drawn with `seed`."""
    config = config or CorpusConfig()
    split, subsets = split_of(seed, index, config)
    rng = np.random.default_rng([seed, index, _MOTION_STREAM])
    style = sample_style(rng)
    plan = sample_plan(rng, style, config, heldout_combo=HELDOUT_COMBO_SPLIT in subsets)
    return _realize(plan, style, rng, config, index, split, subsets)


def generate_action(action: str, seed: int, config: CorpusConfig | None = None) -> GeneratedMotion:
    """A clip of one given action (random details, performer and captions) outside any
    corpus: for previews, tests and per-action quality reports. Its split is "test"."""
    if action not in ACTIONS:
        raise EngineError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    config = config or CorpusConfig()
    rng = np.random.default_rng([seed, ACTIONS.index(action), _ACTION_STREAM])
    style = sample_style(rng)
    plan = action_plan(rng, style, config, action)
    return _realize(plan, style, rng, config, seed, "test", ())


def draw_captions(plan, rng: np.random.Generator, config: CorpusConfig, subsets) -> list[Caption]:
    """The captions of a rendered plan: drawn from `rng` right after the rendering."""
    count = int(rng.integers(config.captions[0], config.captions[1] + 1))
    return caption_plan(
        plan,
        rng,
        count,
        config.heldout_phrasings,
        heldout=HELDOUT_PHRASING_SPLIT in subsets,
        typo_rate=config.typo_rate,
    )


def _realize(plan, style, rng, config, index, split, subsets) -> GeneratedMotion:
    joints = render_plan(plan, style, rng, config.fps)
    captions = draw_captions(plan, rng, config, subsets)
    segments = [
        {"action": s.action, "side": s.side, "start": round(start, 3), "end": round(end, 3)}
        for s, start, end in plan.times(config.fps)
    ]
    return GeneratedMotion(index, joints, segments, captions, split, subsets, config.fps)


# ------------------------------------------------------------------ writing a corpus

FOLDERS = ("new_joints", "new_joint_vecs", "texts", "meta")


@dataclass
class CorpusSummary:
    path: Path
    seed: int
    size: int
    split_sizes: dict[str, int]
    seconds: float = 0.0


def _check_target(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise EngineError(f"{out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / "corpus.json").is_file():
        raise EngineError(
            f"{out_dir}: exists and is not a generated corpus (no corpus.json); "
            "refusing to replace it — choose another --out"
        )


def _check_splits(splits) -> tuple[str, ...]:
    if splits is None:
        return SPLITS
    splits = tuple(dict.fromkeys(splits))
    unknown = [s for s in splits if s not in SPLITS]
    if unknown or not splits:
        raise EngineError(f"unknown split(s) {unknown or splits}; choose from {', '.join(SPLITS)}")
    return splits


def _save_clip(folder: Path, motion: GeneratedMotion) -> tuple[np.ndarray, int]:
    """Write one clip in HumanML3D's layout; returns its features' (sum, sum of squares)
    stacked (2, 263) and frame count, for the normalisation statistics."""
    features = joints_to_features(motion.joints)
    joints = features_to_joints(features)
    np.save(folder / "new_joint_vecs" / f"{motion.id}.npy", features.astype(np.float32))
    np.save(folder / "new_joints" / f"{motion.id}.npy", joints.astype(np.float32))
    lines = "\n".join(humanml3d_line(list(c.tokens)) for c in motion.tagged_captions) + "\n"
    (folder / "texts" / f"{motion.id}.txt").write_text(lines, encoding="utf-8")
    meta = {
        "id": motion.id,
        "fps": motion.fps,
        "segments": motion.segments,
        "captions": motion.captions,
    }
    (folder / "meta" / f"{motion.id}.json").write_text(
        json.dumps(meta, indent=1) + "\n", encoding="utf-8"
    )
    f64 = features.astype(np.float64)
    return np.stack([f64.sum(0), (f64 * f64).sum(0)]), len(features)


def _write_one(job: tuple[Path, int, int, CorpusConfig]) -> dict:
    folder, seed, index, config = job
    motion = generate_motion(seed, index, config)
    moments, frames = np.zeros((2, 263)), 0
    ids = []
    for clip in (motion, motion.mirror()):
        m, n = _save_clip(folder, clip)
        moments += m
        frames += n
        ids.append(clip.id)
    return {
        "index": index,
        "split": motion.split,
        "subsets": motion.subsets,
        "ids": ids,
        "moments": moments,
        "frames": frames,
    }


def _run_jobs(jobs, workers: int, progress: Progress):
    report = progress if callable(progress) else None
    bar = tqdm(
        total=len(jobs), desc="corpus", unit="motion", disable=progress is not True, file=sys.stderr
    )
    results = []

    def done(result: dict) -> None:
        results.append(result)
        bar.update()
        if report is not None:
            report(len(results), len(jobs))

    try:
        if workers <= 1:
            for job in jobs:
                done(_write_one(job))
        else:
            with multiprocessing.get_context("spawn").Pool(workers) as pool:
                for result in pool.imap_unordered(_write_one, jobs, chunksize=4):
                    done(result)
    finally:
        bar.close()
    return sorted(results, key=lambda r: r["index"])


def _statistics(results: list[dict], split: str | None) -> Normalizer:
    chosen = [r for r in results if split is None or r["split"] == split]
    moments = sum(r["moments"] for r in chosen)
    frames = sum(r["frames"] for r in chosen)
    mean = moments[0] / frames
    std = np.sqrt(np.maximum(moments[1] / frames - mean * mean, 0.0))
    return Normalizer(mean, std)


def write_corpus(
    out_dir: str | Path,
    size: int,
    seed: int,
    config: CorpusConfig | None = None,
    splits=None,
    workers: int = 2,
    progress: Progress = True,
) -> CorpusSummary:
    """Generate `size` motions (plus their mirrors) into `out_dir` in HumanML3D's layout,
    over `workers` processes, with a progress bar (`progress=True`), none, or a callback.

    `splits` restricts generation to some of train/val/test (ids keep their numbers). The
    folder appears complete or not at all. Mean/Std come from the train split, or from
    everything generated when train is not (corpus.json says which)."""
    if size < 1:
        raise EngineError(f"corpus size must be at least 1, got {size}")
    if workers < 1:
        raise EngineError(f"workers must be at least 1, got {workers}")
    splits = _check_splits(splits)
    out_dir = Path(out_dir)
    _check_target(out_dir)
    config = (config or CorpusConfig()).replace(size=size)
    started = time.perf_counter()
    indices = [i for i in range(size) if split_of(seed, i, config)[0] in splits]
    if not indices:
        raise EngineError(
            f"none of the {size} motions falls in split(s) {', '.join(splits)}; use a larger --size"
        )
    with atomic_directory(out_dir) as tmp:
        for name in FOLDERS:
            (tmp / name).mkdir()
        results = _run_jobs([(tmp, seed, i, config) for i in indices], workers, progress)
        files = {s: [] for s in (*splits, HELDOUT_PHRASING_SPLIT, HELDOUT_COMBO_SPLIT)}
        for r in results:
            files[r["split"]] += r["ids"]
            for subset in r["subsets"]:
                files[subset] += r["ids"]
        if "test" not in splits:
            del files[HELDOUT_PHRASING_SPLIT], files[HELDOUT_COMBO_SPLIT]
        for name, ids in files.items():
            (tmp / f"{name}.txt").write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
        all_ids = [i for r in results for i in r["ids"]]
        (tmp / "all.txt").write_text("".join(f"{i}\n" for i in all_ids), encoding="utf-8")
        stats_split = "train" if any(r["split"] == "train" for r in results) else None
        normalizer = _statistics(results, stats_split)
        np.save(tmp / "Mean.npy", normalizer.mean)
        np.save(tmp / "Std.npy", normalizer.std)
        split_sizes = {name: len(ids) for name, ids in files.items()}
        atomic_write_json(
            tmp / "corpus.json",
            {
                "version": CORPUS_VERSION,
                "seed": seed,
                "size": size,
                "fps": config.fps,
                "mirrored": True,
                "splits_generated": list(splits),
                "split_sizes": split_sizes,
                "statistics_from": stats_split or "all generated clips",
                "actions": list(ACTIONS),
                "config": config.to_dict(),
            },
        )
    return CorpusSummary(out_dir, seed, size, split_sizes, time.perf_counter() - started)
