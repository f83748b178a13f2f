"""Maintenance scripts: what produced the shipped assets and the generated docs."""

from __future__ import annotations

from pathlib import Path


def checked_size_mb(folder: Path, budget_mb: float) -> float:
    """The size of a folder bound for assets/ in MB; exits when it is over its budget."""
    size = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
    if size > budget_mb:
        raise SystemExit(f"{folder}: {size:.1f} MB, over its {budget_mb} MB budget in assets/")
    return size
