"""Text query → ranked ids: latency against gallery size, next to a plain baseline.

    python -m benchmarks.search_bench [--checkpoint DIR] [--sizes 1000,10000,100000,1000000]

For each gallery size N (random unit embeddings; search cost does not depend on what
the vectors mean) it measures, in one process and one run:
- ours: `SearchEngine`'s path — MiniLM + the text head, then an exhaustive top-10 over
  the N gallery embeddings in torch (float32; float16 storage from 50k items on);
- baseline: MiniLM sentence embedding + a numpy matrix product + argpartition over N
  vectors of MiniLM's 384 dimensions;
- FAISS HNSW (approximate), where faiss-cpu is installed: latency and recall@10 against
  exact search.
Also the text encoder alone: latency at batch 1 and throughput at batch 64.
Prints a markdown table (and JSON with --json); docs/benchmarks.md holds the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
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
]


def median_ms(fn, repeats: int) -> float:
    for _ in range(3):
        fn(0)
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


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


def load_encoder(checkpoint: str | None):
    from engine.config import ExperimentConfig
    from engine.defaults import SHIPPED_MODEL_DIR
    from engine.encoder import MotionTextEncoder
    from engine.models.retrieval import RetrievalModel
    from engine.motion.normalization import Normalizer
    from engine.motion.skeleton import HUMANML3D
    from engine.training.checkpoint import save_checkpoint

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


def run(sizes: list[int], checkpoint: str | None, repeats: int) -> dict:
    encoder, path = load_encoder(checkpoint)
    language = encoder.language_model
    results = {"checkpoint": str(path), "threads": torch.get_num_threads(), "sizes": {}}

    def encode_ours(i: int) -> np.ndarray:
        return encoder.encode_texts([QUERIES[i % len(QUERIES)]])[0]

    @torch.inference_mode()
    def encode_baseline(i: int) -> np.ndarray:
        return language([QUERIES[i % len(QUERIES)]]).sentence[0].numpy()

    results["text_encoder_ms_batch1"] = median_ms(encode_ours, repeats)
    batch = [QUERIES[i % len(QUERIES)] + f" {i}" for i in range(64)]
    start = time.perf_counter()
    for _ in range(5):
        encoder.encode_texts(batch)
    results["text_encoder_per_second_batch64"] = 5 * 64 / (time.perf_counter() - start)

    for n in sizes:
        results["sizes"][n] = measure_size(n, encoder, encode_ours, encode_baseline, repeats)
    return results


def measure_size(n: int, encoder, encode_ours, encode_baseline, repeats: int) -> dict:
    from engine.index import ExactIndex, FaissIndex

    gallery = unit_rows(n, encoder.embed_dim, 0)
    index = ExactIndex(gallery)
    plain = unit_rows(n, 384, 1)

    def baseline(i: int) -> np.ndarray:
        scores = plain @ encode_baseline(i)
        top = np.argpartition(-scores, 10)[:10]
        return top[np.argsort(-scores[top])]

    row = {
        "ours_ms": median_ms(lambda i: index.search(encode_ours(i)[None], 10), repeats),
        "baseline_ms": median_ms(baseline, repeats),
        "index_storage": str(index.matrix.dtype).replace("torch.", ""),
    }
    if index.matrix.dtype == torch.float16:
        row["top10_agreement_with_float32"] = top10_agreement(gallery, index)
    if n >= 100_000:
        try:
            row.update(faiss_row(gallery, encode_ours, repeats, FaissIndex))
        except Exception as error:  # faiss-cpu is optional
            row["faiss"] = f"unavailable: {error}"
    return row


def top10_agreement(gallery: np.ndarray, index) -> float:
    """Share of float32 top-10 ids that the float16 scan also returns (200 queries)."""
    from engine.index import ExactIndex

    queries = queries_near(gallery, 200, 3)
    _, truth = ExactIndex(gallery, half=False).search(queries, 10)
    _, found = index.search(queries, 10)
    return float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]))


def faiss_row(gallery, encode, repeats, faiss_index) -> dict:
    start = time.perf_counter()
    approximate = faiss_index(gallery)
    build = time.perf_counter() - start
    latency = median_ms(lambda i: approximate.search(encode(i)[None], 10), repeats)
    from engine.index import ExactIndex

    queries = queries_near(gallery, 200, 7)
    _, truth = ExactIndex(gallery, half=False).search(queries, 10)
    _, found = approximate.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    return {"faiss_ms": latency, "faiss_recall_at_10": float(recall), "faiss_build_s": build}


def markdown(results: dict) -> str:
    lines = [
        f"Text encoder (MiniLM + head): {results['text_encoder_ms_batch1']:.1f} ms per query "
        f"(batch 1), {results['text_encoder_per_second_batch64']:.0f} queries/s (batch 64).",
        "",
        "| gallery | ours (median ms) | baseline: MiniLM + numpy (ms) | storage "
        "| float16 top-10 = float32 | FAISS HNSW ms | HNSW recall@10 |",
        "|---:|---:|---:|---|---:|---:|---:|",
    ]
    for n, row in results["sizes"].items():
        faiss_ms = row.get("faiss_ms")
        recall = row.get("faiss_recall_at_10")
        agreement = row.get("top10_agreement_with_float32")
        lines.append(
            f"| {int(n):,} | {row['ours_ms']:.1f} | {row['baseline_ms']:.1f} | "
            f"{row['index_storage']} | {f'{agreement:.3f}' if agreement is not None else '–'} | "
            f"{f'{faiss_ms:.2f}' if faiss_ms else '–'} | "
            f"{f'{recall:.3f}' if recall is not None else '–'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint")
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results = run([int(s) for s in args.sizes.split(",")], args.checkpoint, args.repeats)
    print(json.dumps(results, indent=2) if args.json else markdown(results))


if __name__ == "__main__":
    main()
