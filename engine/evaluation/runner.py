"""Evaluate a model on a split: embed captions and motions, apply the protocols."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np

from engine.data.dataset import MotionItem
from engine.encoder import MotionTextEncoder
from engine.evaluation.protocols import PROTOCOLS, evaluate_protocol, evaluate_query_subset
from engine.models.language import TextFeatureStore


def evaluate_items(
    encoder: MotionTextEncoder,
    items: Sequence[MotionItem],
    protocols: Sequence[str] = PROTOCOLS,
    store: TextFeatureStore | None = None,
    dissimilar_ids: Sequence[str] | None = None,
    query_subsets: Mapping[str, Collection[str]] | None = None,
) -> dict[str, dict[str, dict[str, float]]]:
    """{protocol: {"t2m": {...}, "m2t": {...}}} with each motion paired to its first caption.

    `query_subsets` ({name: item ids}) adds, under each name, protocol `all` with only
    those items as queries against the whole of `items` as gallery.
    """
    if not items:
        raise ValueError("nothing to evaluate: the split is empty")
    captions = [item.captions[0] for item in items]
    text = encoder.encode_texts(captions, store)
    motion = encoder.encode_motions([item.features for item in items])
    sentence = (
        store.sentences(captions) if store is not None else encoder.sentence_embeddings(captions)
    )
    dissimilar = None
    if dissimilar_ids is not None:
        position = {item.id: i for i, item in enumerate(items)}
        dissimilar = np.array([position[i] for i in dissimilar_ids if i in position])
    results = {}
    for protocol in protocols:
        if protocol == "batches32" and len(items) < 32:
            continue
        results[protocol] = evaluate_protocol(protocol, text, motion, sentence, dissimilar)
    for name, ids in (query_subsets or {}).items():
        wanted = set(ids)
        rows = np.array([i for i, item in enumerate(items) if item.id in wanted], dtype=int)
        if len(rows) != len(wanted):
            raise ValueError(f"{len(wanted) - len(rows)} items of {name!r} are not in the gallery")
        results[name] = evaluate_query_subset(text, motion, rows)
    return results
