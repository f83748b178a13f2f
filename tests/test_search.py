"""Gallery caching and search, through the library and the command line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from engine.data.dataset import MotionItem
from engine.data.loading import open_gallery_dataset
from engine.encoder import MotionTextEncoder
from engine.errors import EngineError
from engine.gallery import build_gallery, item_hash, save_embeddings
from engine.search import SearchEngine
from tests.conftest import REPO


@pytest.fixture(scope="module")
def encoder(tiny_checkpoint) -> MotionTextEncoder:
    return MotionTextEncoder.load(tiny_checkpoint, "cpu")


@pytest.fixture(scope="module")
def items(tiny_dataset, encoder) -> list[MotionItem]:
    dataset, ids = open_gallery_dataset(tiny_dataset, encoder.normalizer.dim)
    return [dataset.items[i] for i in ids]


class CountingEncoder:
    """Wraps the encoder to count how many motions and captions it encodes."""

    def __init__(self, encoder):
        self._encoder = encoder
        self.motions = 0
        self.texts = 0

    def __getattr__(self, name):
        return getattr(self._encoder, name)

    def encode_motions(self, sequences, **kwargs):
        self.motions += len(sequences)
        return self._encoder.encode_motions(sequences, **kwargs)

    def encode_texts(self, captions, **kwargs):
        self.texts += len(captions)
        return self._encoder.encode_texts(captions, **kwargs)


def test_gallery_cache_reencodes_only_what_changed(items, encoder, tmp_path):
    counting = CountingEncoder(encoder)
    first = build_gallery("tiny", "x", items, counting, root=tmp_path)
    assert counting.motions == len(items) == 64
    again = build_gallery("tiny", "x", items, counting, root=tmp_path)
    assert counting.motions == 64  # all from the cache
    assert np.array_equal(first.embeddings, again.embeddings)
    changed = list(items[:-1])
    changed[0] = MotionItem("new", items[0].features[5:], ["a new motion"], "new", "tiny")
    updated = build_gallery("tiny", "x", changed, counting, root=tmp_path)
    assert counting.motions == 65  # only the new item
    assert np.array_equal(updated.embeddings[1:], first.embeddings[1:-1])
    assert len(updated) == 63
    # another data source gets its own cache
    build_gallery("other", "y", items[:3], counting, root=tmp_path)
    assert counting.motions == 68


def test_a_seed_spares_encoding_what_it_holds(items, encoder, tmp_path):
    first = build_gallery("tiny", "x", items, encoder, root=tmp_path / "a")
    save_embeddings(first, tmp_path / "seed")
    counting = CountingEncoder(encoder)
    changed = [*items[1:], MotionItem("new", items[0].features[5:], ["a new one"], "new", "t")]
    seeded = build_gallery(
        "tiny", "x", changed, counting, root=tmp_path / "b", seed=tmp_path / "seed"
    )
    assert counting.motions == 1  # only the item the seed does not hold
    assert np.array_equal(seeded.embeddings[:-1], first.embeddings[1:])
    assert np.allclose(seeded.embeddings[-1], encoder.encode_motions([items[0].features[5:]])[0])
    captions = seeded.caption_embeddings
    assert counting.texts == 1
    skipped = len(items[0].captions)
    assert np.array_equal(captions[:-1], first.caption_embeddings[skipped:])


def test_item_hash_ignores_rounding_noise_but_not_changes(items):
    item = items[0]
    noisy = MotionItem(item.id, item.features * (1 + 1e-12), item.captions, item.id, "t")
    moved = MotionItem(item.id, item.features + 1e-3, item.captions, item.id, "t")
    recaptioned = MotionItem(item.id, item.features, ["another caption"], item.id, "t")
    assert item_hash(noisy) == item_hash(item)
    assert item_hash(moved) != item_hash(item)
    assert item_hash(recaptioned) != item_hash(item)


def test_the_shipped_seed_covers_the_embedded_gallery():
    """assets/gallery must match the shipped model and the corpus generator: after changing
    either, run `python -m scripts.ship_gallery` (a stale seed misses nearly every item). A
    fresh start then encodes (next to) nothing: 1% is allowed for another machine's
    floating-point maths moving a feature across a rounding boundary of the item hash."""
    from engine.catalog import open_gallery
    from engine.defaults import resolve_checkpoint

    counting = CountingEncoder(MotionTextEncoder.load(resolve_checkpoint(None), "cpu"))
    gallery = open_gallery(counting)
    assert len(gallery) >= 1000
    stale = "assets/gallery is stale: run python -m scripts.ship_gallery"
    assert counting.motions <= len(gallery) // 100, stale
    assert len(gallery.caption_embeddings) >= len(gallery)
    assert counting.texts <= len(gallery.caption_texts) // 100, stale


def test_gallery_cache_survives_a_corrupt_file(items, encoder, tmp_path):
    build_gallery("tiny", "x", items[:4], encoder, root=tmp_path)
    (cache,) = list(tmp_path.glob("tiny-*/*/embeddings.safetensors"))
    cache.write_bytes(b"garbage")
    counting = CountingEncoder(encoder)
    gallery = build_gallery("tiny", "x", items[:4], counting, root=tmp_path)
    assert counting.motions == 4 and len(gallery) == 4


@pytest.fixture(scope="module")
def engine(items, encoder, tmp_path_factory) -> SearchEngine:
    gallery = build_gallery("tiny", "x", items, encoder, root=tmp_path_factory.mktemp("g"))
    return SearchEngine(encoder, gallery)


def test_text_search_ranks_the_described_motions_first(engine):
    hits = engine.search_text("a person serves a tennis ball with the left hand", k=8)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and len(hits) == 8
    assert sum(h.actions == ["serve_left"] for h in hits) >= 5


def test_filters(engine):
    hits = engine.search_text("someone serves", k=50, actions=["serve_backwards"])
    assert hits and all(h.actions == ["serve_backwards"] for h in hits)
    assert len(hits) == 16
    assert engine.search_text("someone serves", k=3, datasets=["nope"]) == []
    first = engine.search_text("someone serves", k=1)[0]
    assert engine.search_text("someone serves", k=1, exclude=[first.id])[0].id != first.id
    with pytest.raises(EngineError, match="unknown action label"):
        engine.search_text("someone serves", actions=["fly"])
    with pytest.raises(EngineError, match="empty"):
        engine.search_text("   ")
    with pytest.raises(EngineError, match="at least 1"):
        engine.search_text("serve", k=0)


def test_motion_queries_and_captions(engine, items):
    query = items[0]
    hits = engine.search_motion(query.features, k=3)
    assert hits[0].id == query.id and hits[0].score == pytest.approx(1.0, abs=1e-4)
    captions = engine.nearest_captions(engine.embed_motion(query.features), k=4)
    texts = [c.caption for c in captions]
    assert len(set(texts)) == len(texts) == 4
    assert all(c.id is not None for c in captions)
    given = engine.nearest_captions(engine.embed_motion(query.features), 2, ["x jumps", "y sits"])
    assert {c.caption for c in given} == {"x jumps", "y sits"} and given[0].id is None


def test_familiarity_of_a_query_reads_its_unfiltered_best_match(engine, items):
    """The familiarity check finds the query's best match in the whole gallery itself, so a
    caller's filters (or a caller that has no vector) cannot change what it reports."""
    query = items[0]
    vector = engine.embed_motion(query.features)
    found = engine.familiarity_of_query(query.features, vector)
    assert found.best_cosine == pytest.approx(1.0, abs=1e-4)  # the gallery's own motion
    assert engine.familiarity_of_query(query.features).best_cosine == pytest.approx(
        found.best_cosine, abs=1e-5
    )
    filtered = engine.search_vector(vector, 1, exclude=[query.id])[0].score
    assert filtered < found.best_cosine - 1e-3


def test_text_query_embeddings_are_kept(engine, monkeypatch):
    """A repeated query is not encoded again (the last QUERY_CACHE_SIZE are kept), gives
    the same embedding, and a caller changing its copy changes nothing kept."""
    import engine.search as search_module

    calls = []
    encode = engine.encoder.encode_queries
    monkeypatch.setattr(
        engine.encoder, "encode_queries", lambda texts: calls.append(texts) or encode(texts)
    )
    monkeypatch.setattr(search_module, "QUERY_CACHE_SIZE", 2)
    first = engine.embed_text("a person serves overhead")
    first[:] = 0.0  # the caller's copy
    again = engine.embed_text("  a person serves overhead ")
    assert len(calls) == 1 and np.allclose(again, encode(["a person serves overhead"])[0])
    engine.embed_text("someone serves twice")
    engine.embed_text("a person serves overhead")  # the most recent two are kept
    engine.embed_text("a third serve")  # pushes out "someone serves twice"
    assert len(calls) == 3
    engine.embed_text("someone serves twice")
    assert len(calls) == 4


def test_the_checkpoint_fingerprint_is_hashed_once(encoder, monkeypatch):
    """Every search asks for the model's fingerprint (the engine's key); hashing the
    checkpoint's files each time cost ~10 ms of a ~35 ms search."""
    from engine.models import checkpoint as module
    from engine.models.checkpoint import load_checkpoint

    loaded = load_checkpoint(encoder.checkpoint.path)
    hashed = []
    real = module.checkpoint_fingerprint
    monkeypatch.setattr(module, "checkpoint_fingerprint", lambda p: hashed.append(p) or real(p))
    assert {loaded.fingerprint for _ in range(5)} == {real(encoder.checkpoint.path)}
    assert len(hashed) == 1


def test_timeline_over_sliding_windows(engine, items):
    long = np.concatenate([items[0].features, items[20].features])
    vector = engine.embed_motion(items[20].features)
    timeline = engine.timeline(vector, long)
    assert len(timeline.times) == len(timeline.scores) >= 3
    assert np.all(np.diff(timeline.times) > 0)
    start, end = timeline.best_window
    assert end - start == pytest.approx(2.0, abs=1e-6) or start == 0.0


def run_cli(*args, env=None):
    env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_index_and_search(tiny_dataset, tiny_checkpoint, tmp_path):
    env = {"MOTION_RETRIEVAL_CACHE": str(tmp_path / "cache")}
    common = ["--data", str(tiny_dataset), "--checkpoint", str(tiny_checkpoint)]
    done = run_cli("index", *common, "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["motions"] == 64
    done = run_cli("search", "--text", "a lefty serves", *common, "--k", "5", "--json", env=env)
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert len(hits) == 5 and {"id", "score", "caption", "actions"} <= set(hits[0])
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    queries = tmp_path / "queries.txt"
    queries.write_text("a lefty serves\n\nthe serve played backwards\n")
    done = run_cli("search", "--queries", str(queries), *common, "--k", "2", "--json", env=env)
    rankings = json.loads(done.stdout)
    assert len(rankings) == 2 and all(len(r) == 2 for r in rankings)
    done = run_cli("search", "--text", "a lefty serves", *common, "--to", "text", "--json", env=env)
    captions = json.loads(done.stdout)
    assert {"caption", "score", "id"} <= set(captions[0])
    candidates = tmp_path / "candidates.txt"
    candidates.write_text("a person serves with the left hand\nsomeone sits down\n")
    motion = tiny_dataset / "new_joint_vecs" / "serve_left_00.npy"
    done = run_cli(
        "search",
        "--motion",
        str(motion),
        *common,
        "--to",
        "text",
        "--captions",
        str(candidates),
        "--json",
        env=env,
    )
    ranked = json.loads(done.stdout)
    assert ranked[0]["caption"] == "a person serves with the left hand"
    assert all(c["id"] is None for c in ranked)


def test_cli_on_a_folder_of_motion_files(tiny_dataset, tiny_checkpoint, tmp_path):
    folder = tmp_path / "library"
    folder.mkdir()
    for name in ("serve_left_00", "serve_right_03", "left_backwards_07"):
        shutil.copy(tiny_dataset / "new_joint_vecs" / f"{name}.npy", folder / f"{name}.npy")
    (folder / "broken.npy").write_bytes(b"not numpy")
    env = {"MOTION_RETRIEVAL_CACHE": str(tmp_path / "cache")}
    common = ["--data", str(folder), "--checkpoint", str(tiny_checkpoint)]
    query = folder / "serve_right_03.npy"
    done = run_cli("search", "--motion", str(query), *common, "--k", "3", "--json", env=env)
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert hits[0]["id"] == "serve_right_03" and hits[0]["actions"] == []
    assert {h["id"] for h in hits} == {"serve_left_00", "serve_right_03", "left_backwards_07"}


def test_cli_errors_are_clear(tiny_checkpoint, tmp_path):
    done = run_cli(
        "search", "--text", "x", "--data", str(tmp_path), "--checkpoint", str(tiny_checkpoint)
    )
    assert done.returncode == 2
    assert "not a data set folder nor a folder of .npy/.bvh motion files" in done.stderr
    done = run_cli("search", "--text", "x", "--checkpoint", str(tmp_path))
    assert done.returncode == 2 and "not a checkpoint (missing model.safetensors)" in done.stderr


def test_exact_index_float16_and_faiss_agree_with_float32():
    from engine.index import ExactIndex, make_index

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[:20] + 0.01 * rng.standard_normal((20, 32)).astype(np.float32)
    _, exact = ExactIndex(vectors, half=False).search(queries, 5)
    assert list(exact[:, 0]) == list(range(20))
    scores, half = ExactIndex(vectors, half=True).search(queries, 5)
    assert scores.dtype == np.float32 and list(half[:, 0]) == list(range(20))
    pytest.importorskip("faiss", reason="faiss-cpu is the optional approximate index")
    approximate = make_index(vectors, "faiss-hnsw")
    for query, truth in zip(queries, exact, strict=True):
        _, found = approximate.search(query[None], 5)
        assert found[0, 0] == truth[0]
    candidates = np.arange(100, 200)
    _, rows = approximate.search(queries[:1], 3, candidates)
    assert set(rows[0]) <= set(candidates)
    with pytest.raises(EngineError, match="unknown index kind"):
        make_index(vectors, "annoy")


def test_faiss_masks_missing_neighbours_per_query():
    """HNSW pads a query's row with -1 where it found fewer than k: each query keeps its
    own found rows, whatever the first query found."""
    pytest.importorskip("faiss", reason="faiss-cpu is the optional approximate index")
    from engine.index import make_index

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((50, 8)).astype(np.float32)
    approximate = make_index(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), "faiss")

    class PaddedHnsw:  # what faiss returns when a graph search comes back short
        ntotal = 50

        def search(self, queries, k):
            scores = np.array([[0.9, 0.8, 0.7], [0.9, 0.1, 0.1], [0.5, 0.4, 0.3]], np.float32)
            rows = np.array([[3, 1, -1], [7, -1, -1], [4, 5, 6]])
            return scores, rows

    approximate.index = PaddedHnsw()
    scores, rows = approximate.search(np.zeros((3, 8), np.float32), 3)
    assert rows.tolist() == [[3, 1, -1], [7, -1, -1], [4, 5, 6]]
    assert np.isneginf(scores[0, 2]) and np.isneginf(scores[1, 1:]).all()
    assert scores[2].tolist() == pytest.approx([0.5, 0.4, 0.3])
