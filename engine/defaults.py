"""What the engine uses when the user names nothing: the shipped model and the embedded
gallery (the test split of the procedural corpus that model was trained on)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.errors import EngineError
from engine.paths import ASSETS_DIR

SHIPPED_MODEL_DIR = ASSETS_DIR / "model"
SHIPPED_GALLERY_DIR = ASSETS_DIR / "gallery"  # <model fingerprint>/: embeddings (a seed)
EMBEDDED = "embedded"  # the name that selects the embedded gallery / corpus on the CLI
GALLERY_SPLIT = "test"

Progress = Callable[[int, int], None]


def resolve_checkpoint(path: str | Path | None) -> Path:
    if path:
        return Path(path)
    if not (SHIPPED_MODEL_DIR / "model.safetensors").is_file():
        raise EngineError(
            f"the shipped model is missing from {SHIPPED_MODEL_DIR}; pass --checkpoint, or "
            "train one with `python -m engine train` (see docs/model_card.md)"
        )
    return SHIPPED_MODEL_DIR


def embedded_gallery_dir(
    corpus_size: int, corpus_seed: int, progress: Progress | None = None
) -> Path:
    """The test split of the corpus (size, seed) — motions a model trained on that corpus
    never saw — generated on first use and cached."""
    from engine.data.embedded import embedded_corpus

    return embedded_corpus(corpus_size, corpus_seed, progress, splits=(GALLERY_SPLIT,))


def shipped_gallery_seed(model_fingerprint: str) -> Path | None:
    """The shipped embeddings of the embedded gallery under a model, if there are any."""
    folder = SHIPPED_GALLERY_DIR / model_fingerprint
    return folder if (folder / "gallery.json").is_file() else None


def is_embedded(path: str | Path | None) -> bool:
    return not path or str(path) == EMBEDDED


def resolve_data(
    path: str | Path | None, corpus_size: int, corpus_seed: int, progress: Progress | None = None
) -> tuple[Path, str | None]:
    """(folder, split): a user's folder (its own splits), or the embedded gallery."""
    if not is_embedded(path):
        return Path(path), None
    return embedded_gallery_dir(corpus_size, corpus_seed, progress), GALLERY_SPLIT
