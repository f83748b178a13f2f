"""TMR's four evaluation protocols on a test split.

Every protocol pairs each motion with one caption, its first (as TMR does), and ranks
text→motion and motion→text:

- all: the whole split is the gallery; only the paired item counts as correct, in both
  directions. Another item whose caption is the identical string does NOT count (some
  papers count it; `threshold` is where near-identical captions count): identical
  strings have identical text embeddings, so in motion→text the paired caption and its
  twin tie, and the tie is broken fairly (engine/evaluation/metrics.py) — a perfect
  model scores R@1 = 50 on such a pair, not 100.
- threshold: as `all`, but any item whose caption has a MiniLM sentence cosine above the
  threshold (TMR: 0.9) with the query's caption also counts as correct.
- dissimilar: a fixed subset of 100 items with mutually dissimilar captions (the data
  set's `nsim_test.txt` if it has one, otherwise chosen greedily, deterministically).
- batches32: the split shuffled with seed 0 and cut into batches of 32 (the remainder
  dropped); metrics are computed within each batch and averaged.

A query subset (held-out phrasings, held-out action combinations) is measured as `all`
on the whole split's gallery: its items are the queries, every item of the split is a
candidate, so its numbers share a gallery with the split's own.
"""

from __future__ import annotations

import numpy as np

from engine.evaluation.metrics import average_metrics, ranks, retrieval_metrics, summarize

PROTOCOLS = ("all", "threshold", "dissimilar", "batches32")
THRESHOLD = 0.9
DISSIMILAR_SIZE = 100
BATCH_SIZE = 32


def evaluate_protocol(
    protocol: str,
    text: np.ndarray,
    motion: np.ndarray,
    sentence: np.ndarray,
    dissimilar: np.ndarray | None = None,
    threshold: float = THRESHOLD,
) -> dict[str, dict[str, float]]:
    """Metrics for row-aligned text (N, E), motion (N, E) and sentence (N, S) embeddings."""
    n = len(text)
    if protocol == "all":
        return retrieval_metrics(text @ motion.T, np.eye(n, dtype=bool))
    if protocol == "threshold":
        near = (sentence @ sentence.T) > threshold
        return retrieval_metrics(text @ motion.T, near | np.eye(n, dtype=bool))
    if protocol == "dissimilar":
        subset = dissimilar if dissimilar is not None else select_dissimilar(sentence)
        t, m = text[subset], motion[subset]
        return retrieval_metrics(t @ m.T, np.eye(len(subset), dtype=bool))
    if protocol == "batches32":
        order = np.random.default_rng(0).permutation(n)
        results = [
            retrieval_metrics(text[rows] @ motion[rows].T, np.eye(BATCH_SIZE, dtype=bool))
            for rows in (
                order[s : s + BATCH_SIZE] for s in range(0, n - BATCH_SIZE + 1, BATCH_SIZE)
            )
        ]
        if not results:
            raise ValueError(f"batches32 needs at least {BATCH_SIZE} test items, got {n}")
        return average_metrics(results)
    raise ValueError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")


def evaluate_query_subset(
    text: np.ndarray, motion: np.ndarray, rows: np.ndarray
) -> dict[str, dict[str, float]]:
    """Protocol `all` for the items at `rows` as queries against every item as candidate:
    their captions search all motions, their motions search all captions."""
    if len(rows) == 0:
        raise ValueError("the query subset is empty")
    correct = np.zeros((len(rows), len(text)), dtype=bool)
    correct[np.arange(len(rows)), rows] = True
    return {
        "t2m": summarize(ranks(text[rows] @ motion.T, correct)),
        "m2t": summarize(ranks(motion[rows] @ text.T, correct)),
    }


def select_dissimilar(
    sentence: np.ndarray, size: int = DISSIMILAR_SIZE, seed: int = 0
) -> np.ndarray:
    """Greedy max-min selection: each new item is the one least similar to those chosen."""
    n = len(sentence)
    if n <= size:
        return np.arange(n)
    first = int(np.random.default_rng(seed).integers(n))
    chosen = [first]
    closest = sentence @ sentence[first]
    closest[first] = np.inf
    for _ in range(size - 1):
        nxt = int(np.argmin(closest))
        chosen.append(nxt)
        closest = np.maximum(closest, sentence @ sentence[nxt])
        closest[chosen] = np.inf
    return np.array(sorted(chosen))
