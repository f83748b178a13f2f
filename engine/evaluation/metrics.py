"""Recall at K and median rank, text→motion and motion→text."""

from __future__ import annotations

import numpy as np

RECALL_KS = (1, 2, 3, 5, 10)


def ranks(scores: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """1-based rank of the best-scoring correct item for each query (row).

    scores, correct: (queries, gallery). Items scoring strictly higher than the best
    correct item are ranked before it; ties are resolved in the query's favour.
    """
    if not correct.any(axis=1).all():
        raise ValueError("every query needs at least one correct gallery item")
    best_correct = np.where(correct, scores, -np.inf).max(axis=1, keepdims=True)
    return 1 + (scores > best_correct).sum(axis=1)


def summarize(query_ranks: np.ndarray) -> dict[str, float]:
    """R@K in percent and the median rank."""
    summary = {f"R@{k}": float(100.0 * (query_ranks <= k).mean()) for k in RECALL_KS}
    summary["MedR"] = float(np.median(query_ranks))
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
