"""Shared fixtures: the real data in ../shared (read there, never copied into the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MOTION_SHARED_DIR", REPO.parent / "shared"))
HUMANML3D_SAMPLE = SHARED / "data" / "humanml3d_sample"
SAMPLE_ID = "012314"
BVH_SAMPLE = SHARED / "data" / "bvh" / "aist_dance_mixamo_names.bvh"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(
            f"real sample data not found at {path}: these tests read ../shared/data "
            "(set MOTION_SHARED_DIR to where the shared folder is)"
        )
    return path


@pytest.fixture(scope="session")
def humanml3d_sample_dir() -> Path:
    return _require(HUMANML3D_SAMPLE)


@pytest.fixture(scope="session")
def real_features(humanml3d_sample_dir: Path) -> np.ndarray:
    return np.load(humanml3d_sample_dir / "new_joint_vecs" / f"{SAMPLE_ID}.npy")


@pytest.fixture(scope="session")
def real_joints(humanml3d_sample_dir: Path) -> np.ndarray:
    return np.load(humanml3d_sample_dir / "new_joints" / f"{SAMPLE_ID}.npy")


@pytest.fixture(scope="session")
def bvh_sample() -> Path:
    return _require(BVH_SAMPLE)
