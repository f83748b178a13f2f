"""Open a search engine over a data source: checkpoint + gallery (cached) + index."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.data.loading import open_gallery_dataset
from engine.defaults import is_embedded, resolve_checkpoint, resolve_data, shipped_gallery_seed
from engine.encoder import MotionTextEncoder
from engine.gallery import Gallery, build_gallery
from engine.search import SearchEngine

Progress = Callable[[str, int, int], None]


def open_gallery(
    encoder: MotionTextEncoder,
    data: str | Path | None = None,
    split: str | None = None,
    progress: Progress | None = None,
) -> Gallery:
    """The gallery of a data folder (default: the embedded one) under the encoder's model."""
    corpus = encoder.checkpoint.config.data

    def report(stage: str) -> Callable[[int, int], None] | None:
        return None if progress is None else (lambda done, total: progress(stage, done, total))

    folder, default_split = resolve_data(
        data, corpus.corpus_size, corpus.corpus_seed, report("generating the gallery motions")
    )
    dataset, ids = open_gallery_dataset(folder, encoder.normalizer.dim, split or default_split)
    items = [dataset.items[i] for i in ids]
    seed = shipped_gallery_seed(encoder.fingerprint) if is_embedded(data) else None
    return build_gallery(
        dataset.name,
        str(folder.resolve()),
        items,
        encoder,
        report("encoding the gallery"),
        seed=seed,
    )


def open_search_engine(
    checkpoint: str | Path | None = None,
    data: str | Path | None = None,
    split: str | None = None,
    device: str = "auto",
    index_kind: str = "exact",
    progress: Progress | None = None,
) -> SearchEngine:
    encoder = MotionTextEncoder.load(resolve_checkpoint(checkpoint), device)
    gallery = open_gallery(encoder, data, split, progress)
    return SearchEngine(encoder, gallery, index_kind)
