"""How a model transfers from the procedural corpus to real motion capture.

Labelled real clips (`../shared/data/real_dev`: joints `(T, 22, 3)` with the corpus's
action labels, `labels.json`) are used three ways, as in the real-transfer issue:

- as **motion queries** against a gallery: label hit@k — one of the top k results
  carries one of the clip's labels — next to the chance of that under a random ranking;
- as a small **gallery searched by text**: each clip's description (written by a person)
  must find that clip first;
- as **embeddings**: real clips must be no more alike than corpus clips (mean pairwise
  cosine), and each should find a gallery neighbour about as close as a corpus clip does.

The clips are measured, never trained on: the product meets real motion nobody labelled.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.motion_import import load_motion_file
from engine.encoder import MotionTextEncoder
from engine.errors import EngineError
from engine.evaluation.metrics import ranks
from engine.motion.motion import Motion
from engine.search import SearchEngine
from engine.twins import mirror_name

KS = (1, 5)


@dataclass(frozen=True)
class RealClip:
    """A real motion with the corpus labels that match it (none: an unknown action)."""

    name: str
    motion: Motion
    labels: frozenset[str]
    description: str


def load_real_dev(folder: str | Path) -> list[RealClip]:
    """The clips of a `labels.json` folder, read as a user's upload would be."""
    folder = Path(folder)
    index = folder / "labels.json"
    if not index.is_file():
        raise EngineError(f"{folder}: no labels.json")
    clips = json.loads(index.read_text(encoding="utf-8"))["clips"]
    return [
        RealClip(
            Path(name).stem,
            load_motion_file(folder / name),
            frozenset(entry["labels"]),
            _plain_description(entry["what"]),
        )
        for name, entry in sorted(clips.items())
    ]


def _plain_description(text: str) -> str:
    """'a backflip (no corpus action: ...)' -> 'a backflip': the words a person would type."""
    return re.sub(r"\s*\([^)]*\)", "", text).strip()


def expected_hits(scores: np.ndarray, correct: np.ndarray, k: int) -> tuple[float, float]:
    """(hit@k, chance@k): the mean probability that a correct item is among the top k,
    ties broken at random (engine/evaluation/metrics.py), and the same for a model that
    scores everything alike."""
    hit = ranks(scores, correct).recall_at(k).mean()
    chance = ranks(np.zeros_like(scores), correct).recall_at(k).mean()
    return float(hit), float(chance)


def motion_query_hits(engine: SearchEngine, clips: list[RealClip]) -> dict:
    """Label hit@k of each labelled clip used as a motion query against the gallery (a
    result is right when it carries one of the clip's labels), with chance and what the
    top results were."""
    labelled = [clip for clip in clips if clip.labels]
    vectors = engine.encoder.encode_motions([clip.motion.features for clip in labelled])
    gallery_labels = [set(item.actions) for item in engine.gallery.items]
    correct = np.array([[bool(c.labels & g) for g in gallery_labels] for c in labelled])
    missing = [c.name for c, row in zip(labelled, correct, strict=True) if not row.any()]
    if missing:
        raise EngineError(f"no gallery motion carries the labels of {', '.join(missing)}")
    scores = vectors @ engine.gallery.embeddings.T
    per_clip = {}
    for row, clip in enumerate(labelled):
        hits = engine.search_vector(vectors[row], max(KS))
        per_clip[clip.name] = {
            "labels": sorted(clip.labels),
            "top": [hit.actions[0] if hit.actions else "" for hit in hits],
            "best_score": hits[0].score,
        }
    summary = {}
    for k in KS:
        summary[f"hit@{k}"], summary[f"chance@{k}"] = expected_hits(scores, correct, k)
    return {"queries": len(labelled), **summary, "clips": per_clip}


def text_to_real_hits(encoder: MotionTextEncoder, clips: list[RealClip]) -> dict:
    """Each clip's description searches the gallery of all the clips: hit@1 (chance 1/N)."""
    motions = encoder.encode_motions([clip.motion.features for clip in clips])
    texts = encoder.encode_texts([clip.description for clip in clips])
    scores = texts @ motions.T
    hit, chance = expected_hits(scores, np.eye(len(clips), dtype=bool), 1)
    best = scores.argmax(1)
    return {
        "queries": len(clips),
        "hit@1": hit,
        "chance@1": chance,
        "found": {clip.name: clips[b].name for clip, b in zip(clips, best, strict=True)},
    }


def mean_pairwise_cosine(embeddings: np.ndarray) -> float:
    """Mean cosine over distinct pairs of L2-normalised rows."""
    count = len(embeddings)
    if count < 2:
        raise EngineError("the mean pairwise cosine needs at least two embeddings")
    gram = embeddings @ embeddings.T
    return float((gram.sum() - np.trace(gram)) / (count * (count - 1)))


def nearest_gallery_cosine(
    engine: SearchEngine, vectors: np.ndarray, exclude: list[set[str]] | None = None
) -> np.ndarray:
    """Each vector's best cosine in the gallery, skipping the ids in `exclude[i]`."""
    exclude = exclude or [set() for _ in vectors]
    return np.array(
        [
            engine.search_vector(vector, 1, exclude=skip)[0].score
            for vector, skip in zip(vectors, exclude, strict=True)
        ]
    )


def embedding_spread(
    engine: SearchEngine, motions: list[Motion], corpus_sample: int = 200, seed: int = 0
) -> dict:
    """Mean pairwise cosine of real motions and of gallery clips, and how close each finds
    its nearest gallery motion (a gallery clip skips itself and its mirror twin)."""
    real = engine.encoder.encode_motions([motion.features for motion in motions])
    items = engine.gallery.items
    rows = np.random.default_rng(seed).choice(
        len(items), min(corpus_sample, len(items)), replace=False
    )
    corpus = engine.gallery.embeddings[rows]
    twins = [{items[r].id, mirror_name(items[r].id)} for r in rows]
    return {
        "real_mean_pairwise_cosine": mean_pairwise_cosine(real),
        "corpus_mean_pairwise_cosine": mean_pairwise_cosine(corpus),
        "real_nearest_gallery_cosine": float(np.median(nearest_gallery_cosine(engine, real))),
        "corpus_nearest_gallery_cosine": float(
            np.median(nearest_gallery_cosine(engine, corpus, twins))
        ),
    }


def label_matched_spread(
    engine: SearchEngine, clips: list[RealClip], draws: int = 20, seed: int = 0
) -> dict:
    """Mean pairwise cosine of the labelled real clips next to that of gallery clips with
    the same labels (one per real clip, drawn `draws` times): whether real clips are more
    alike than corpus clips *of the same actions*, not only than a random corpus sample."""
    labelled = [clip for clip in clips if clip.labels]
    real = engine.encoder.encode_motions([clip.motion.features for clip in labelled])
    items = engine.gallery.items
    candidates = [
        [row for row, item in enumerate(items) if clip.labels & set(item.actions)]
        for clip in labelled
    ]
    rng = np.random.default_rng(seed)
    corpus = [
        mean_pairwise_cosine(engine.gallery.embeddings[[rng.choice(rows) for rows in candidates]])
        for _ in range(draws)
    ]
    return {
        "real_labelled_mean_pairwise_cosine": mean_pairwise_cosine(real),
        "corpus_same_labels_mean_pairwise_cosine": float(np.mean(corpus)),
    }


def familiarity_of(engine: SearchEngine, clips: list[RealClip]) -> dict[str, bool]:
    """Whether the familiarity check (engine/familiarity.py) accepts each clip — it
    should, for the actions the corpus has, and should not for the ones it lacks."""
    vectors = engine.encoder.encode_motions([clip.motion.features for clip in clips])
    return {
        clip.name: engine.familiarity_of_query(clip.motion.features, vector).familiar
        for clip, vector in zip(clips, vectors, strict=True)
    }
