"""Text query → ranked ids: the engine against a plain baseline, like for like.

    python -m benchmarks.search_bench [--sizes 1000,10000,100000,1000000] [--threads 2]
        [--repeats 40] [--checkpoint DIR] [--faiss] [--json]

One process; torch and the BLAS under numpy are both pinned to `--threads` threads
(torch.set_num_threads, threadpoolctl), and whatever is compared is measured
interleaved: repetition after repetition, A then B then B then A..., so a machine that
is busy with something else slows both alike. Each row gives medians and the ratio
engine/baseline as the median of the per-repetition ratios (paired, back to back).

1. Scan: an exhaustive top-10 over the same N x 256 matrix (the engine's embedding
   width), in float32 and in float16, by the engine (`ExactIndex`: torch) and by the
   baseline (numpy: matrix-vector product, argpartition, sort of the 10). The engine
   stores float16 from 50,000 items on (`engine.index.HALF_PRECISION_FROM`).
2. Text encoding alone, one query: the baseline's MiniLM sentence embedding (transformers'
   BertModel, mean-pooled, normalised), the engine's float reference path (`encode_texts`:
   the same MiniLM + the trained text head, eager), its query path (`encode_queries`:
   `QueryPath()`, the default: the same float maths traced into one graph) and the int8
   option (`QueryPath(language="int8")`); and throughput at batch 64.
3. End to end, one text query (encode + scan + top-10): the engine's query path over
   N x 256 embeddings against the baseline — MiniLM's sentence embedding over N x 384
   vectors (MiniLM's width), scanned by the same `ExactIndex` with the same storage rule,
   so the two differ only in the text side and the embedding width — and, for
   comparison, the engine with the float32 graph and with its float reference path.
4. With --faiss (faiss-cpu): HNSW latency and recall@10 against exact search, 100k and up
   (building the 1M graph takes minutes).

Galleries are clustered random unit vectors: scan cost does not depend on what they
mean. docs/benchmarks.md holds the numbers; benchmarks/query_path_bench.py measures what
each query-path option costs in retrieval quality.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

QUERIES = [
    "a person walks forward and waves",
    "someone jumps twice",
    "a man kicks with his left leg",
    "the person sits down slowly",
    "a figure throws a ball",
    "a person is dancing",
    "someone crawls on the floor",
    "a person bows deeply",
    "a person walks in a circle, then stops and raises both arms above the head",
    "someone does jumping jacks",
    "the man punches forward with his right hand three times",
    "a person stretches to the side while standing",
    "somebody squats down and stands back up",
    "a woman runs forward and then turns around",
    "a person waves with the left hand",
    "someone picks something up from the ground with both hands and puts it on a shelf",
]
K = 10


def pin_threads(threads: int):
    """torch and the BLAS/OpenMP pools loaded so far, all at `threads` threads."""
    torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return None
    return threadpool_limits(limits=threads)  # keep the object: the limit lasts with it


def interleaved(fns: dict[str, Callable[[int], object]], repeats: int, warmup: int = 3):
    """Median ms of each function, measured in alternating order (A B, B A, ...), and
    the per-repetition times (for paired ratios)."""
    for fn in fns.values():
        for i in range(warmup):
            fn(i)
    names = list(fns)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            fns[name](r)
            times[name].append(1000 * (time.perf_counter() - start))
    return {name: statistics.median(t) for name, t in times.items()}, times


def paired_ratio(times: dict[str, list[float]], a: str, b: str) -> float:
    """Median over repetitions of time(a) / time(b), each pair measured back to back."""
    return statistics.median(x / y for x, y in zip(times[a], times[b], strict=True))


def unit_rows(n: int, dim: int, seed: int, clusters: int = 2000, spread: float = 0.6) -> np.ndarray:
    """Unit vectors in `clusters` groups, as embeddings of many variants of a few thousand
    kinds of motion are (uniform random vectors are the worst case for graph indexes and
    unlike any real gallery)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    rows = centres[rng.integers(0, clusters, n)]
    rows += spread / np.sqrt(dim) * rng.standard_normal((n, dim), dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def queries_near(gallery: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Queries that fall among the gallery's vectors (perturbed gallery items)."""
    rng = np.random.default_rng(seed)
    picked = gallery[rng.integers(0, len(gallery), count)]
    picked = picked + 0.5 / np.sqrt(gallery.shape[1]) * rng.standard_normal(
        picked.shape, dtype=np.float32
    )
    return picked / np.linalg.norm(picked, axis=1, keepdims=True)


def numpy_top(matrix: np.ndarray, query: np.ndarray, k: int = K) -> np.ndarray:
    """The plain baseline's exact top-k: one product, argpartition, sort of the k."""
    scores = matrix @ query
    top = np.argpartition(-scores, k)[:k]
    return top[np.argsort(-scores[top])]


def load_encoder(checkpoint: str | None):
    from engine.config import ExperimentConfig
    from engine.defaults import SHIPPED_MODEL_DIR
    from engine.encoder import MotionTextEncoder
    from engine.models.checkpoint import save_checkpoint
    from engine.models.retrieval import RetrievalModel
    from engine.motion.normalization import Normalizer
    from engine.motion.skeleton import HUMANML3D

    path = Path(checkpoint) if checkpoint else SHIPPED_MODEL_DIR
    if not (path / "model.safetensors").is_file():
        # timing does not depend on the weights: an untrained model of the default shape
        config = ExperimentConfig()
        path = Path(tempfile.mkdtemp()) / "untrained"
        normalizer = Normalizer(np.zeros(263), np.ones(263))
        save_checkpoint(
            path, RetrievalModel(config.model, HUMANML3D), config, normalizer, "humanml3d"
        )
    return MotionTextEncoder.load(path, "cpu"), path


# ---------------------------------------------------------------------------- 1. scan
def measure_scan(n: int, dim: int, repeats: int) -> dict:
    from engine.index import HALF_PRECISION_FROM, ExactIndex

    gallery = unit_rows(n, dim, 0)
    queries = queries_near(gallery, 64, 1)
    row: dict = {"engine_storage": "float16" if n >= HALF_PRECISION_FROM else "float32"}
    for half in (False, True):
        dtype = "float16" if half else "float32"
        index = ExactIndex(gallery, half=half)
        matrix = index.matrix.numpy()  # the very matrix the engine scans
        typed = queries.astype(matrix.dtype)
        medians, times = interleaved(
            {
                "engine": lambda i, index=index: index.search(queries[i % 64][None], K),
                "numpy": lambda i, matrix=matrix, typed=typed: numpy_top(matrix, typed[i % 64]),
            },
            repeats,
        )
        row[dtype] = {
            "engine_ms": medians["engine"],
            "numpy_ms": medians["numpy"],
            "ratio": paired_ratio(times, "engine", "numpy"),
        }
        if half:
            row["float16_top10_agreement"] = top10_agreement(gallery, index)
        del index, matrix
    return row


def top10_agreement(gallery: np.ndarray, index) -> float:
    """Share of float32 top-10 ids that the float16 scan also returns (200 queries)."""
    from engine.index import ExactIndex

    queries = queries_near(gallery, 200, 3)
    _, truth = ExactIndex(gallery, half=False).search(queries, K)
    _, found = index.search(queries, K)
    return float(np.mean([len(set(t) & set(f)) / K for t, f in zip(truth, found, strict=True)]))


# ---------------------------------------------------------------------------- 2. encoding
def measure_encoding(encoder, float32_encoder, int8_encoder, repeats: int) -> dict:
    language = encoder.language_model

    def query(i: int) -> list[str]:
        return [QUERIES[i % len(QUERIES)]]

    @torch.inference_mode()
    def baseline(i: int) -> np.ndarray:
        return language(query(i)).sentence[0].numpy()

    medians, times = interleaved(
        {
            "baseline": baseline,
            "reference": lambda i: encoder.encode_texts(query(i))[0],
            "query_path": lambda i: encoder.encode_queries(query(i))[0],
            "float32_graph": lambda i: float32_encoder.encode_queries(query(i))[0],
            "int8": lambda i: int8_encoder.encode_queries(query(i))[0],
        },
        repeats,
    )
    result = {
        "batch1_ms": medians,
        "batch1_ratio_to_baseline": {
            name: paired_ratio(times, name, "baseline") for name in medians if name != "baseline"
        },
    }
    batch = [QUERIES[i % len(QUERIES)] + f" {i}" for i in range(64)]
    medians, _ = interleaved(
        {
            "reference": lambda i: encoder.encode_texts(batch),
            "query_path": lambda i: encoder.encode_queries(batch),
        },
        max(5, repeats // 8),
        warmup=1,
    )
    result["batch64_per_second"] = {name: 64_000 / ms for name, ms in medians.items()}
    return result


# ---------------------------------------------------------------------------- 3. end to end
def measure_end_to_end(n: int, encoder, float32_encoder, repeats: int) -> dict:
    from engine.index import ExactIndex

    language = encoder.language_model
    ours = ExactIndex(unit_rows(n, encoder.embed_dim, 0))
    plain = ExactIndex(unit_rows(n, 384, 1))

    def query(i: int) -> list[str]:
        return [QUERIES[i % len(QUERIES)]]

    @torch.inference_mode()
    def baseline(i: int):
        return plain.search(language(query(i)).sentence.numpy(), K)

    medians, times = interleaved(
        {
            "engine": lambda i: ours.search(encoder.encode_queries(query(i)), K),
            "baseline": baseline,
            "float32_graph": lambda i: ours.search(float32_encoder.encode_queries(query(i)), K),
            "reference": lambda i: ours.search(encoder.encode_texts(query(i)), K),
        },
        repeats,
    )
    return {
        "ms": medians,
        "engine_ratio": paired_ratio(times, "engine", "baseline"),
        "float32_graph_ratio": paired_ratio(times, "float32_graph", "baseline"),
        "reference_ratio": paired_ratio(times, "reference", "baseline"),
    }


# ---------------------------------------------------------------------------- 4. FAISS
def measure_faiss(n: int, encoder, repeats: int) -> dict:
    from engine.index import ExactIndex, FaissIndex

    gallery = unit_rows(n, encoder.embed_dim, 0)
    start = time.perf_counter()
    try:
        approximate = FaissIndex(gallery)
    except Exception as error:  # faiss-cpu is optional
        return {"faiss": f"unavailable: {error}"}
    build = time.perf_counter() - start
    medians, _ = interleaved(
        {"hnsw": lambda i: approximate.search(encoder.encode_queries([QUERIES[i % 16]]), K)},
        repeats,
    )
    queries = queries_near(gallery, 200, 7)
    _, truth = ExactIndex(gallery, half=False).search(queries, K)
    _, found = approximate.search(queries, K)
    recall = np.mean([len(set(t) & set(f)) / K for t, f in zip(truth, found, strict=True)])
    return {"faiss_ms": medians["hnsw"], "faiss_recall_at_10": float(recall), "build_s": build}


def run(args) -> dict:
    from engine.encoder import MotionTextEncoder, QueryPath

    encoder, path = load_encoder(args.checkpoint)
    encoder.load_language_model()  # MiniLM and the traced query graph, before timing
    int8_encoder = MotionTextEncoder(encoder.checkpoint, "cpu", QueryPath(language="int8"))
    int8_encoder.load_language_model()
    float32_encoder = MotionTextEncoder(encoder.checkpoint, "cpu", QueryPath(language="float32"))
    float32_encoder.load_language_model()
    limits = pin_threads(args.threads)  # now that every library's pool is loaded
    pools = []
    if limits is not None:
        from threadpoolctl import threadpool_info

        pools = [f"{p['internal_api']}:{p['num_threads']}" for p in threadpool_info()]
    results = {
        "checkpoint": str(path),
        "threads": torch.get_num_threads(),
        "thread_pools": pools,
        "cpus": os.cpu_count(),
        "load_average_start": os.getloadavg()[0],
        "repeats": args.repeats,
        "query_path": encoder.query_path.precision_on(encoder.device),
        "encoding": measure_encoding(encoder, float32_encoder, int8_encoder, args.repeats * 2),
        "scan": {},
        "end_to_end": {},
        "faiss": {},
    }
    for n in args.sizes:
        results["scan"][n] = measure_scan(n, encoder.embed_dim, args.repeats)
        results["end_to_end"][n] = measure_end_to_end(n, encoder, float32_encoder, args.repeats)
        if args.faiss and n >= 100_000:
            results["faiss"][n] = measure_faiss(n, encoder, args.repeats)
    results["load_average_end"] = os.getloadavg()[0]
    return results


def markdown(results: dict) -> str:
    enc = results["encoding"]
    ms, ratio = enc["batch1_ms"], enc["batch1_ratio_to_baseline"]
    lines = [
        f"{results['threads']} torch threads, BLAS/OpenMP pools {results['thread_pools']}, "
        f"{results['cpus']} CPUs, load average {results['load_average_start']:.1f} → "
        f"{results['load_average_end']:.1f}; medians of {results['repeats']} interleaved "
        "repetitions (encoding: twice as many); ratio = median of paired ratios.",
        "",
        "Scan: exhaustive top-10 over the same N x 256 matrix",
        "",
        "| gallery | engine stores | float32: torch ms | numpy ms | ratio "
        "| float16: torch ms | numpy ms | ratio | float16 top-10 = float32 |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, row in results["scan"].items():
        f32, f16 = row["float32"], row["float16"]
        lines.append(
            f"| {int(n):,} | {row['engine_storage']} | {f32['engine_ms']:.2f} | "
            f"{f32['numpy_ms']:.2f} | {f32['ratio']:.2f} | {f16['engine_ms']:.2f} | "
            f"{f16['numpy_ms']:.2f} | {f16['ratio']:.2f} | "
            f"{row['float16_top10_agreement']:.3f} |"
        )
    lines += [
        "",
        "Text encoding alone, one query (median ms; ratio to the baseline)",
        "",
        "| baseline: MiniLM sentence embedding | engine float reference (`encode_texts`) "
        f"| engine query path, default (traced, MiniLM in {results['query_path']}) "
        "| traced, float32 | traced, int8 option |",
        "|---:|---:|---:|---:|---:|",
        f"| {ms['baseline']:.2f} | {ms['reference']:.2f} ({ratio['reference']:.2f}x) | "
        f"{ms['query_path']:.2f} ({ratio['query_path']:.2f}x) | "
        f"{ms['float32_graph']:.2f} ({ratio['float32_graph']:.2f}x) | "
        f"{ms['int8']:.2f} ({ratio['int8']:.2f}x) |",
        "",
        "Batch 64: reference {:.0f} queries/s, query path {:.0f} queries/s.".format(
            enc["batch64_per_second"]["reference"], enc["batch64_per_second"]["query_path"]
        ),
        "",
        "End to end, one text query: encode + scan + top-10 (median ms)",
        "",
        f"| gallery | engine, default query path ({results['query_path']} MiniLM) "
        "| baseline: MiniLM + exact scan (384-d) | ratio engine/baseline "
        "| engine, traced float32 | ratio | engine, float reference path | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, row in results["end_to_end"].items():
        m = row["ms"]
        lines.append(
            f"| {int(n):,} | {m['engine']:.2f} | {m['baseline']:.2f} | "
            f"{row['engine_ratio']:.2f} | {m['float32_graph']:.2f} | "
            f"{row['float32_graph_ratio']:.2f} | {m['reference']:.2f} | "
            f"{row['reference_ratio']:.2f} |"
        )
    if results["faiss"]:
        lines += ["", "| gallery | FAISS HNSW ms (query path) | recall@10 | build s |"]
        lines.append("|---:|---:|---:|---:|")
        for n, row in results["faiss"].items():
            if "faiss_ms" in row:
                lines.append(
                    f"| {int(n):,} | {row['faiss_ms']:.2f} | {row['faiss_recall_at_10']:.3f} "
                    f"| {row['build_s']:.0f} |"
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint")
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--faiss", action="store_true", help="also FAISS HNSW (100k and up)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", help="also write the JSON results to this file")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results = run(args)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2) if args.json else markdown(results))


if __name__ == "__main__":
    main()
