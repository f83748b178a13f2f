"""Where the engine looks for shipped assets, data and caches."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSETS_DIR = REPO_ROOT / "assets"


def cache_dir() -> Path:
    """Root of every on-disk cache (corpus, gallery embeddings, renders).

    `MOTION_RETRIEVAL_CACHE` overrides it; otherwise `~/.cache/motion-retrieval`.
    """
    configured = os.environ.get("MOTION_RETRIEVAL_CACHE")
    path = Path(configured) if configured else Path.home() / ".cache" / "motion-retrieval"
    path.mkdir(parents=True, exist_ok=True)
    return path
