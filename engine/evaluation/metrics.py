"""Recall at K and median rank, text→motion and motion→text, with ties broken fairly.

A query's correct item may score exactly as high as other items (identical motions,
identical captions, a collapsed model). Counting such ties in the query's favour lets a
model that has learnt nothing score 100; counting them against it punishes duplicates.
TMR's reference evaluation (`break_ties="averaging"`) gives the correct item the mean of
the positions the tied items occupy. We use that mean rank for the median rank, and for
R@K the *expected* recall over a uniformly random order of the tied items: both agree
with the plain rank when there is no tie, and with all N items tied, R@K is exactly K/N
(chance) for every K, where TMR's averaged rank compared with K would give 0 below N/2
and 100 above it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

RECALL_KS = (1, 2, 3, 5, 10)
# Scores closer than this are one score: a motion encoded twice in different batch rows
# may differ in the last bits of float32, far below any difference a model means.
TIE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Ranks:
    """Per query: items ranked strictly before the correct one, items tied with it (the
    best-scoring correct item and every item within TIE_TOLERANCE of it, correct ones
    included), and how many of those tied items are correct."""

    before: np.ndarray
    tied: np.ndarray
    tied_correct: np.ndarray

    def mean_rank(self) -> np.ndarray:
        """Expected 1-based position of the first correct item among the tied ones."""
        return self.before + (self.tied + 1) / (self.tied_correct + 1)

    def recall_at(self, k: int) -> np.ndarray:
        """Probability, per query, that a random order of the ties puts a correct item
        within the first k: 1 - C(tied - correct, m) / C(tied, m), m = k - before."""
        draws = np.clip(k - self.before, 0, self.tied)
        wrong = self.tied - self.tied_correct
        miss = np.zeros(len(draws))
        possible = draws <= wrong  # more draws than wrong items always hit a correct one
        t, w, m = self.tied[possible], wrong[possible], draws[possible]
        miss[possible] = np.exp(
            gammaln(w + 1) - gammaln(w - m + 1) - gammaln(t + 1) + gammaln(t - m + 1)
        )
        return 1.0 - miss


def ranks(scores: np.ndarray, correct: np.ndarray) -> Ranks:
    """Where the best-scoring correct item of each query (row) stands.

    scores, correct: (queries, gallery).
    """
    if not correct.any(axis=1).all():
        raise ValueError("every query needs at least one correct gallery item")
    best_correct = np.where(correct, scores, -np.inf).max(axis=1, keepdims=True)
    above = scores > best_correct + TIE_TOLERANCE
    tied = ~above & (scores >= best_correct - TIE_TOLERANCE)
    return Ranks(
        before=above.sum(axis=1),
        tied=tied.sum(axis=1),
        tied_correct=(tied & correct).sum(axis=1),
    )


def summarize(query_ranks: Ranks) -> dict[str, float]:
    """R@K in percent (expected over tie orders) and the median of the mean ranks."""
    summary = {f"R@{k}": float(100.0 * query_ranks.recall_at(k).mean()) for k in RECALL_KS}
    summary["MedR"] = float(np.median(query_ranks.mean_rank()))
    return summary


def retrieval_metrics(similarity: np.ndarray, correct: np.ndarray) -> dict[str, dict[str, float]]:
    """similarity, correct: (texts, motions); `correct[i, j]` when motion j matches text i."""
    return {
        "t2m": summarize(ranks(similarity, correct)),
        "m2t": summarize(ranks(similarity.T, correct.T)),
    }


def average_metrics(results: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    return {
        direction: {
            key: float(np.mean([r[direction][key] for r in results]))
            for key in results[0][direction]
        }
        for direction in results[0]
    }


def headline(metrics: dict[str, dict[str, float]]) -> float:
    """One number for model selection: mean of R@1, R@5 and R@10 in both directions."""
    return float(np.mean([metrics[d][f"R@{k}"] for d in ("t2m", "m2t") for k in (1, 5, 10)]))
