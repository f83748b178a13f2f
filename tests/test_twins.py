"""Mirror twins share one slot in results for people (`SearchEngine.search_distinct`), while
`search_vector` (the command line, the evaluation) keeps every item."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.dataset import MotionItem
from engine.data.loading import open_gallery_dataset
from engine.encoder import MotionTextEncoder
from engine.gallery import build_gallery
from engine.motion.mirror import mirror_features
from engine.search import SearchEngine
from engine.twins import distinct, mirror_name, pair_key, twin_of


@pytest.mark.parametrize(
    ("item_id", "twin"),
    [
        ("000123", "M000123"),
        ("M000123", "000123"),
        ("HumanML3D/000123", "HumanML3D/M000123"),
        ("HumanML3D/M000123", "HumanML3D/000123"),
        ("M000123#1.5-4", "000123#1.5-4"),
        ("M", "MM"),  # a bare "M" is a name, not a prefix
    ],
)
def test_mirror_name(item_id, twin):
    assert mirror_name(item_id) == twin


def test_twins_only_when_both_exist():
    known = {"000001", "M000001", "000002", "Mary", "my_wave"}
    assert twin_of("000001", known) == "M000001" and twin_of("M000001", known) == "000001"
    assert twin_of("000002", known) is None
    assert twin_of("Mary", known) is None  # "ary" is not in the gallery
    assert pair_key("M000001", known) == pair_key("000001", known) == "000001"
    assert pair_key("000002", known) == "000002"


def test_distinct_keeps_rank_order_and_pairs_the_twin():
    known = {"a", "Ma", "b", "Mb", "c"}
    ranked = ["Ma", "b", "a", "c", "Mb"]
    assert distinct(ranked, str, known) == [("Ma", "a"), ("b", "Mb"), ("c", None)]
    # at most k slots, but a later twin still joins a slot already there
    assert distinct(ranked, str, known, k=2) == [("Ma", "a"), ("b", "Mb")]
    assert distinct([], str, known, k=3) == []


@pytest.fixture(scope="module")
def twin_engine(tiny_dataset, tiny_checkpoint, tmp_path_factory) -> SearchEngine:
    """The tiny gallery with a mirror twin `M<id>` of every motion; the twins alone carry
    the label `mirrored`."""
    encoder = MotionTextEncoder.load(tiny_checkpoint, "cpu")
    dataset, ids = open_gallery_dataset(tiny_dataset, encoder.normalizer.dim)
    items = []
    for item in (dataset.items[i] for i in ids):
        items.append(item)
        items.append(
            MotionItem(
                f"M{item.id}",
                mirror_features(item.features),
                item.captions,
                f"M{item.id}",
                item.dataset,
                [*item.actions, "mirrored"],
            )
        )
    gallery = build_gallery("twins", "t", items, encoder, root=tmp_path_factory.mktemp("g"))
    return SearchEngine(encoder, gallery)


def between_twins(engine: SearchEngine, item_id: str) -> np.ndarray:
    """A query as close to a motion as to its mirror: the two rank first and second."""
    embeddings = engine.gallery.embeddings
    vector = embeddings[engine.gallery.row(item_id)] + embeddings[engine.gallery.row("M" + item_id)]
    return vector / np.linalg.norm(vector)


@pytest.mark.parametrize("k", [1, 5, 8, 20])
@pytest.mark.parametrize("query", ["text", "between twins"])
def test_search_distinct_fills_k_slots_with_distinct_motions(twin_engine, k, query):
    if query == "text":
        vector = twin_engine.embed_text("a person serves a tennis ball with the right hand")
    else:
        vector = between_twins(twin_engine, twin_engine.gallery.items[0].id)
    every = twin_engine.search_vector(vector, len(twin_engine.gallery))
    hits = twin_engine.search_distinct(vector, k)
    ids = [h.id for h in hits]
    assert len(hits) == k
    assert not {mirror_name(i) for i in ids} & set(ids), "a motion and its mirror in one answer"
    # the better-scoring of each pair, in the order of the full ranking's pairs
    pairs = list(dict.fromkeys(pair_key(h.id, twin_engine.gallery) for h in every))[:k]
    assert [pair_key(i, twin_engine.gallery) for i in ids] == pairs
    for hit in hits:
        assert hit.twin is not None and hit.twin.id == mirror_name(hit.id)
        assert hit.score >= hit.twin.score - 1e-6
        assert hit.twin.score == pytest.approx(
            float(twin_engine.gallery.embeddings[twin_engine.gallery.row(hit.twin.id)] @ vector),
            abs=1e-4,
        )
        record = hit.to_json()
        assert record["mirror_twin"]["id"] == hit.twin.id
    # the protocol's search keeps every item: here the twins side by side
    if query == "between twins":
        top = [h.id for h in every[:10]]
        assert any(mirror_name(i) in top for i in top)
    assert all("mirror_twin" not in h.to_json() for h in every)


def test_search_distinct_with_a_filter_still_names_the_twin(twin_engine):
    vector = twin_engine.embed_text("someone serves")
    hits = twin_engine.search_distinct(vector, 6, actions=["mirrored"])
    assert len(hits) == 6 and all(h.id.startswith("M") for h in hits)
    # the twin is outside the filter but one click away: named and scored
    assert all(h.twin is not None and h.twin.id == h.id[1:] for h in hits)


def test_search_distinct_without_twins_is_the_plain_search(tiny_dataset, tiny_checkpoint):
    encoder = MotionTextEncoder.load(tiny_checkpoint, "cpu")
    dataset, ids = open_gallery_dataset(tiny_dataset, encoder.normalizer.dim)
    gallery = build_gallery("tiny", "x", [dataset.items[i] for i in ids], encoder, persist=False)
    engine = SearchEngine(encoder, gallery)
    vector = engine.embed_text("someone serves")
    plain = engine.search_vector(vector, 7)
    hits = engine.search_distinct(vector, 7)
    assert [h.id for h in hits] == [h.id for h in plain]
    assert all(h.twin is None for h in hits)
