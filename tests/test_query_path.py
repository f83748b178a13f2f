"""The fast text-query path (`QueryPath`) retrieves what the float reference path does.

The shipped model on a small generated gallery: 60 motions from the corpus generator
and their mirrors, embedded with the float motion encoder; the queries are their captions.
Each query path's top-10 is compared with the float32 reference's (`encode_texts`).

Tolerances, from the measurements on the 1,756-motion test gallery
(`python -m benchmarks.query_path_bench`, docs/benchmarks.md):
- traced float32 is the same maths (embeddings equal to ~3e-7): every top-1 and ≥ 99 %
  of the top-10 places must agree (a 1e-7 difference can only swap an exact near-tie);
- bfloat16 MiniLM (the default on CPUs with native bfloat16) kept 99.1 % of the top-10
  and 98.9 % of the top-1 there; here ≥ 97 % and ≥ 95 % (a gallery of ~160 motions and
  ~300 queries: one swapped place is 0.03 % of the places, one changed top-1 0.3 %),
  so a broken path (wrong weights, a mask or length bug: overlap near chance, ~8 %)
  fails by far while rounding noise does not;
- int8 MiniLM (an option, off by default) kept 87.6 % / 79.1 %; here ≥ 75 % / 65 %.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.defaults import resolve_checkpoint
from engine.encoder import FLOAT_QUERY_PATH, MotionTextEncoder, QueryPath
from engine.errors import EngineError

K = 10


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread here: two threads per parallel operation wait on each other when
    another process (a training run, other tests) keeps the cores busy, which turns a
    3-ms query into hundreds of ms; the tolerances do not depend on it."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def reference() -> MotionTextEncoder:
    return MotionTextEncoder.load(resolve_checkpoint(None), "cpu", FLOAT_QUERY_PATH)


@pytest.fixture(scope="module")
def generated(reference) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(motion embeddings (N, E), caption queries, the reference's top-10 per query) of
    120 generated motions (60 and their mirrors)."""
    from engine.data.corpus import generate_motion
    from engine.motion.features import joints_to_features

    motions = [generate_motion(1, index) for index in range(60)]
    motions += [m.mirror() for m in motions]
    features = [joints_to_features(m.joints).astype(np.float32) for m in motions]
    embeddings = reference.encode_motions(features)
    queries = list(dict.fromkeys(m.captions[0] for m in motions))
    return embeddings, queries, top10(reference.encode_texts(queries), embeddings)


@pytest.fixture(scope="module")
def encoders(reference):
    """One encoder per query path, sharing the reference's checkpoint."""
    made: dict[QueryPath, MotionTextEncoder] = {}

    def get(path: QueryPath) -> MotionTextEncoder:
        if path not in made:
            made[path] = MotionTextEncoder(reference.checkpoint, "cpu", path)
        return made[path]

    return get


def top10(vectors: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    return np.argsort(-(vectors @ gallery.T), axis=1, kind="stable")[:, :K]


def agreement(encoder: MotionTextEncoder, generated) -> tuple[float, float]:
    gallery, queries, truth = generated
    found = top10(encoder.encode_queries(queries), gallery)
    overlap = np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)])
    return float(overlap), float(np.mean(found[:, 0] == truth[:, 0]))


@pytest.mark.parametrize(
    ("path", "min_overlap", "min_top1"),
    [
        (QueryPath(language="float32"), 0.99, 1.0),
        (QueryPath(language="bfloat16"), 0.97, 0.95),
        (QueryPath(), 0.97, 0.95),  # the default: bfloat16 or float32, by CPU
        (QueryPath(traced=False, language="bfloat16"), 0.97, 0.95),
        (QueryPath(language="int8"), 0.75, 0.65),
    ],
    ids=["traced-float32", "traced-bfloat16", "default", "eager-bfloat16", "traced-int8"],
)
def test_fast_query_paths_keep_the_float_top10(path, min_overlap, min_top1, encoders, generated):
    overlap, same_top1 = agreement(encoders(path), generated)
    assert overlap >= min_overlap, f"{path}: top-10 overlap {overlap:.3f}"
    assert same_top1 >= min_top1, f"{path}: same top-1 {same_top1:.3f}"


def test_traced_float32_is_the_reference_maths_batched_or_not(reference, encoders, generated):
    _, queries, _ = generated
    encoder = encoders(QueryPath(language="float32"))
    batched = encoder.encode_queries(queries[:40])  # padded to the longest of the batch
    alone = np.stack([encoder.encode_queries([q])[0] for q in queries[:40]])
    expected = reference.encode_texts(queries[:40])
    assert np.abs(batched - expected).max() < 1e-5
    assert np.abs(alone - expected).max() < 1e-5
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)


def test_int8_encodes_each_query_alone(encoders, generated):
    """Dynamic quantisation scales activations per call: batched with others, a query
    would get another embedding, so the int8 path encodes queries one at a time."""
    _, queries, _ = generated
    encoder = encoders(QueryPath(language="int8"))
    batched = encoder.encode_queries(queries[:8])
    alone = np.stack([encoder.encode_queries([q])[0] for q in queries[:8]])
    assert np.array_equal(batched, alone)


def test_the_search_engine_uses_the_query_path_and_the_gallery_does_not(
    reference, encoders, generated
):
    from engine.gallery import Gallery
    from engine.search import SearchEngine

    gallery_embeddings, queries, _ = generated
    encoder = encoders(QueryPath(language="int8"))
    gallery = Gallery("g", [], gallery_embeddings, [], np.zeros(0, int), lambda: None)
    engine = SearchEngine(encoder, gallery)
    assert np.array_equal(engine.embed_text(queries[0]), encoder.encode_queries(queries[:1])[0])
    # captions (what a gallery stores) go through the float reference path
    assert np.array_equal(encoder.encode_texts(queries[:3]), reference.encode_texts(queries[:3]))


def test_query_path_is_checked_data():
    assert FLOAT_QUERY_PATH.is_reference and not QueryPath().is_reference
    with pytest.raises(EngineError, match=r"QueryPath\.language"):
        QueryPath(language="float8")
    import torch

    assert QueryPath(language="int8").precision_on(torch.device("cuda")) == "float32"
    assert QueryPath().precision_on(torch.device("cuda")) == "float32"
