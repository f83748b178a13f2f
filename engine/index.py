"""Nearest-neighbour search over L2-normalised embeddings (inner product = cosine).

`ExactIndex` (the default) scores every item with one matrix product in torch, so the
query path stays on torch's thread pool (mixing torch and numpy's BLAS pools on two
cores makes both slow). `FaissIndex` is an approximate HNSW index for galleries beyond
a million items; it needs the optional `faiss-cpu` package. Its recall against exact
search is measured in benchmarks/search_bench.py.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.errors import EngineError

# From this many items on, the exhaustive search stores embeddings in float16: it halves
# the memory traffic that bounds a scan (1M x 256: ~125 ms in float32, ~20 ms in float16
# on 2 cores) and keeps the top-10 of float32 scoring (agreement measured in
# benchmarks/search_bench.py).
HALF_PRECISION_FROM = 50_000


class ExactIndex:
    """Scores every item (an exhaustive scan), in float16 for large galleries."""

    kind = "exact"

    def __init__(self, vectors: np.ndarray, half: bool | None = None) -> None:
        matrix = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        half = len(matrix) >= HALF_PRECISION_FROM if half is None else half
        self.matrix = matrix.half() if half else matrix

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def search(
        self, queries: np.ndarray, k: int, candidates: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, rows), each (Q, k'), best first; `candidates` restricts the rows."""
        query = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32))
        query = query.to(self.matrix.dtype)
        matrix = self.matrix if candidates is None else self.matrix[torch.from_numpy(candidates)]
        k = min(k, matrix.shape[0])
        if k == 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        scores, rows = torch.topk(query @ matrix.T, k, dim=1)
        rows = rows.numpy()
        if candidates is not None:
            rows = candidates[rows]
        return scores.float().numpy(), rows


class FaissIndex:
    """HNSW over inner products (approximate); filtered searches fall back to exact."""

    kind = "faiss-hnsw"

    def __init__(self, vectors: np.ndarray, neighbours: int = 32, ef_search: int = 128) -> None:
        try:
            import faiss
        except ImportError as error:
            raise EngineError(
                "approximate search needs the optional package faiss-cpu (pip install faiss-cpu)"
            ) from error
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.index = faiss.IndexHNSWFlat(vectors.shape[1], neighbours, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = 80
        self.index.add(vectors)
        self.index.hnsw.efSearch = ef_search
        self.exact = ExactIndex(vectors, half=False)

    def __len__(self) -> int:
        return self.index.ntotal

    def search(
        self, queries: np.ndarray, k: int, candidates: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """As ExactIndex.search, but a query's row may end in places HNSW did not fill:
        row -1 with score -inf."""
        if candidates is not None:
            return self.exact.search(queries, k, candidates)
        scores, rows = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        # HNSW may find fewer than k neighbours for a query and pads its row with -1.
        # The padding is per query: each query's missing places get row -1 and score
        # -inf (callers skip them), whatever the other queries found.
        missing = rows < 0
        scores = np.where(missing, -np.inf, scores).astype(np.float32)
        return scores, np.where(missing, -1, rows).astype(np.int64)


def make_index(vectors: np.ndarray, kind: str = "exact") -> ExactIndex | FaissIndex:
    if kind == "exact":
        return ExactIndex(vectors)
    if kind in ("faiss", "faiss-hnsw"):
        return FaissIndex(vectors)
    raise EngineError(f"unknown index kind {kind!r}; use exact or faiss-hnsw")
