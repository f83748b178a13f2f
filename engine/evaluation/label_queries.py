"""Retrieval judged by action labels, for descriptions the generator never wrote.

A query file lists descriptions with the action labels a matching motion must have
(assets/eval/human_queries.tsv: written by hand, none of them among the training
captions — engine/evaluation/overlap.py checks). Each description searches the
gallery; a retrieved motion is relevant when its labels include every required label.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import EngineError
from engine.search import SearchEngine

KS = (1, 5, 10)


@dataclass(frozen=True)
class LabelQuery:
    labels: frozenset[str]
    text: str


def load_label_queries(path: str | Path) -> list[LabelQuery]:
    path = Path(path)
    if not path.is_file():
        raise EngineError(f"{path}: no such query file")
    queries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        labels, sep, text = line.partition("\t")
        if not sep or not text.strip() or not labels.strip():
            raise EngineError(f"{path}:{number}: expected 'labels<TAB>description'")
        queries.append(LabelQuery(frozenset(labels.split(",")), text.strip()))
    if not queries:
        raise EngineError(f"{path}: no queries")
    return queries


def evaluate_label_queries(engine: SearchEngine, queries: list[LabelQuery]) -> dict:
    """hit@k (a relevant motion in the top k), precision@10 and MRR, in percent, over all
    queries and separately for single-action and multi-action descriptions."""
    known = set(engine.gallery.actions)
    missing = sorted({label for q in queries for label in q.labels} - known)
    if missing:
        raise EngineError(f"the gallery has no motion labelled {', '.join(missing)}")
    vectors = engine.encoder.encode_texts([q.text for q in queries])
    rows = []
    for query, vector in zip(queries, vectors, strict=True):
        hits = engine.search_vector(vector, max(KS))
        relevant = [query.labels <= set(hit.actions) for hit in hits]
        first = next((i + 1 for i, r in enumerate(relevant) if r), None)
        rows.append((len(query.labels) > 1, relevant, first))

    def summary(selected: list) -> dict:
        if not selected:
            return {}
        out = {f"hit@{k}": 100.0 * np.mean([any(r[:k]) for _, r, _ in selected]) for k in KS}
        out["precision@10"] = 100.0 * np.mean([np.mean(r[:10]) for _, r, _ in selected])
        out["MRR"] = 100.0 * np.mean([1.0 / f if f else 0.0 for _, _, f in selected])
        out["queries"] = len(selected)
        return out

    return {
        "all": summary(rows),
        "single_action": summary([r for r in rows if not r[0]]),
        "multi_action": summary([r for r in rows if r[0]]),
    }
