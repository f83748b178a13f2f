"""Ship the embeddings of the embedded gallery under the shipped model in assets/gallery/,
so a fresh machine generates the gallery's motions but does not encode them (nor their
captions) before answering its first query. Run it again whenever the shipped model or
the corpus generator changes (tests/test_search.py fails while the seed is stale).

    python -m scripts.ship_gallery
"""

from __future__ import annotations

import shutil
import sys

from engine.catalog import open_search_engine
from engine.defaults import SHIPPED_GALLERY_DIR
from engine.gallery import save_embeddings
from scripts import checked_size_mb

MAX_MB = 10


def main() -> None:
    def report(stage: str, done: int, total: int) -> None:
        print(f"\r{stage}: {done}/{total}", end="", file=sys.stderr)

    engine = open_search_engine(progress=report)
    print(file=sys.stderr)
    target = SHIPPED_GALLERY_DIR / engine.encoder.fingerprint
    for old in SHIPPED_GALLERY_DIR.glob("*"):
        if old != target:
            shutil.rmtree(old)
    save_embeddings(engine.gallery, target)
    size = checked_size_mb(target, MAX_MB)
    print(f"{target}: {len(engine.gallery)} motions, {size:.1f} MB")


if __name__ == "__main__":
    main()
