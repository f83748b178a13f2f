"""A guard against evaluation text the model was trained on.

An evaluation query (assets/eval/human_queries.tsv) or a held-out test caption that also
occurs among the training captions measures memory, not generalisation. Texts are
compared after `normalize_caption` (case, punctuation and spacing ignored), so
"A person runs forward." and "a person  runs forward" count as the same text.

    from engine.evaluation.overlap import check_queries_unseen
    check_queries_unseen("assets/eval/human_queries.tsv", corpus_size=6000, corpus_seed=0)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from engine.errors import EngineError

_APOSTROPHES = re.compile(r"['\u2018\u2019`]")


def normalize_caption(text: str) -> str:
    """`text` case-folded, without punctuation, its words separated by single spaces.

    Apostrophes are dropped ("person's" → "persons"); other punctuation (hyphens,
    commas, full stops, ...) separates words ("side-steps" → "side steps")."""
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text).casefold())
    kept = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in text)
    return " ".join(kept.split())


def find_overlaps(queries: Iterable[str], training: Iterable[str]) -> list[str]:
    """The queries (as given, in order, each once) whose normalised text equals the
    normalised text of some training caption."""
    seen = {normalize_caption(t) for t in training}
    found: dict[str, None] = {}
    for query in queries:
        if normalize_caption(query) in seen:
            found.setdefault(query)
    return list(found)


def check_no_overlap(
    queries: Iterable[str], training: Iterable[str], what: str = "evaluation queries"
) -> None:
    """Raise EngineError listing every query that occurs among the training captions."""
    overlaps = find_overlaps(queries, training)
    if overlaps:
        listed = "\n".join(f"  {q}" for q in overlaps)
        raise EngineError(
            f"{len(overlaps)} {what} occur verbatim (after normalisation) among the "
            f"training captions, so they measure memory, not generalisation:\n{listed}"
        )


def check_queries_unseen(
    path: str | Path,
    corpus_size: int,
    corpus_seed: int,
    train_split: str = "train",
    workers: int = 1,
) -> None:
    """For scripts: raise EngineError if a description of the label-query file `path`
    occurs among the captions of `train_split` of the procedural corpus (size, seed) —
    the data a model trained on the embedded corpus saw. The captions are computed
    without synthesising motions and cached (engine.data.corpus_captions.split_captions)."""
    from engine.data.corpus_captions import split_captions
    from engine.evaluation.label_queries import load_label_queries

    queries = [q.text for q in load_label_queries(path)]
    training = split_captions(corpus_size, corpus_seed, workers=workers)[train_split]
    check_no_overlap(
        queries,
        training,
        what=f"of the {len(queries)} descriptions in {path}",
    )
