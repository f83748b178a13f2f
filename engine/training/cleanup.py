"""Disk budget for training outputs: delete the oldest runs and corpora beyond it.

A public demo lets visitors train; every run writes checkpoints and the first run on a
corpus size generates that corpus (GBs for the full one). `prune_to_budget` keeps their
total under a budget, deleting the least recently modified first and never a folder the
caller says is in use (a running or waiting run, its corpus, a model someone searches
with).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path


def folder_size(path: Path) -> int:
    """Bytes of the files under `path` (0 if it is gone)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:  # deleted while we walked
                continue
    return total


def prune_to_budget(
    candidates: Iterable[Path], budget_bytes: float, keep: Iterable[Path] = ()
) -> list[Path]:
    """Delete folders among `candidates`, oldest first, until the candidates' total
    size is within `budget_bytes`; a candidate that is, holds or lies inside one of
    `keep` is never deleted (and still counts). Returns the deleted folders."""
    kept = [Path(p).resolve() for p in keep]
    folders = [p for p in {Path(c).resolve() for c in candidates} if p.is_dir()]
    sizes = {p: folder_size(p) for p in folders}
    total = sum(sizes.values())
    deleted = []
    for folder in sorted(folders, key=lambda p: p.stat().st_mtime):
        if total <= budget_bytes:
            break
        if any(k == folder or folder in k.parents or k in folder.parents for k in kept):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        total -= sizes[folder]
        deleted.append(folder)
    return deleted
