"""The embedded default data: the procedural corpus, generated on first use and cached.

A cached corpus is identified by the generator's version and a hash of its source code
(and of the motion-representation code it calls), its size, seed and the splits
generated, so an edited generator or another size never reuses an old folder; once the
new one is written, the same corpus's folders from other versions of the generator are
deleted (each is up to GBs and would never be read again). Generation writes the folder
atomically: an interrupted first start leaves nothing half-made behind.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

from engine.data.corpus import CORPUS_VERSION, write_corpus
from engine.paths import REPO_ROOT, cache_dir

Progress = Callable[[int, int], None]
GENERATOR_SOURCES = ("engine/data/corpus", "engine/motion")


@cache
def generator_fingerprint() -> str:
    digest = hashlib.sha1(CORPUS_VERSION.encode())
    for folder in GENERATOR_SOURCES:
        for path in sorted((REPO_ROOT / folder).glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def corpus_folder(size: int, seed: int, splits: Sequence[str] | None = None) -> Path:
    name = f"{CORPUS_VERSION}-{generator_fingerprint()}-n{size}-s{seed}"
    if splits:
        name += "-" + "+".join(splits)
    return cache_dir() / "corpus" / name


def embedded_corpus(
    size: int, seed: int, progress: Progress | None = None, splits: Sequence[str] | None = None
) -> Path:
    """The folder of the corpus (size, seed) — only `splits` of it if given."""
    folder = corpus_folder(size, seed, splits)
    if not (folder / "corpus.json").is_file():
        write_corpus(folder, size, seed, splits=splits, progress=progress or False)
        _remove_other_generations(folder)
    return folder


def _remove_other_generations(folder: Path) -> None:
    """Delete the folders of the same corpus (size, seed, splits) made by other versions
    of the generator: the names that differ from `folder`'s in the fingerprint only."""
    fingerprint = generator_fingerprint()
    head = f"{CORPUS_VERSION}-{fingerprint}"
    tail = folder.name[len(head) :]
    for other in folder.parent.glob(f"{CORPUS_VERSION}-{'?' * len(fingerprint)}{tail}"):
        if other != folder and (other / "corpus.json").is_file():
            shutil.rmtree(other, ignore_errors=True)
