"""Shared fixtures: the real data in ../shared (read there, never copied into the repo)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# the tests' caches (text features, galleries, renders, corpora) never touch the user's
os.environ.setdefault(
    "MOTION_RETRIEVAL_CACHE", tempfile.mkdtemp(prefix="motion-retrieval-test-cache-")
)

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


TINY_CLASSES = {
    "serve_right": ["a person serves a tennis ball with the right hand", "someone hits a serve"],
    "serve_left": ["a person serves a tennis ball with the left hand", "a lefty serves"],
    "serve_backwards": ["a person does a tennis serve in reverse", "the serve played backwards"],
    "left_backwards": ["a left-handed serve played in reverse", "someone unserves with the left"],
}


@pytest.fixture(scope="session")
def swing_joints() -> np.ndarray:
    """A generated clip (9.1 s, 20 fps, metres, y up): a right-handed throw, both arms
    raised, a right-handed tennis swing — one-sided and different played backwards, so
    its mirrored and time-reversed variants are four distinct motions. Generated, so the
    tests built on it run without ../shared."""
    from engine.data.corpus import generate_motion

    return generate_motion(0, 163).joints


@pytest.fixture(scope="session")
def motion_features(swing_joints) -> np.ndarray:
    """The generated clip as HumanML3D features (T-1, 263): for the tests that need a
    motion in that format but not the real sample's exact numbers."""
    from engine.motion.features import joints_to_features

    return joints_to_features(swing_joints)


@pytest.fixture(scope="session")
def motion_joints(motion_features) -> np.ndarray:
    """The generated clip's joints as HumanML3D's `new_joints` hold them: recovered from
    the features (canonical start: at the origin, facing +Z)."""
    from engine.motion.features import features_to_joints

    return features_to_joints(motion_features)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, swing_joints) -> Path:
    """A small HumanML3D-format folder built from one generated clip: four visibly
    different variants (mirrored, time-reversed) × random windows, with captions per
    variant (a tennis serve, the clip's last action, names the variants)."""
    from engine.motion.features import joints_to_features
    from engine.motion.mirror import mirror_joints
    from engine.motion.normalization import Normalizer

    root = tmp_path_factory.mktemp("tiny") / "TinyML3D"
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    (root / "meta").mkdir()
    rng = np.random.default_rng(0)
    variants = {
        "serve_right": swing_joints,
        "serve_left": mirror_joints(swing_joints),
        "serve_backwards": swing_joints[::-1],
        "left_backwards": mirror_joints(swing_joints)[::-1],
    }
    ids: list[str] = []
    features_by_id = {}
    for name, joints in variants.items():
        for k in range(16):
            length = int(rng.integers(60, 150))
            start = int(rng.integers(0, len(joints) - length))
            window = joints[start : start + length] + rng.normal(0, 0.005, (length, 22, 3))
            motion_id = f"{name}_{k:02d}"
            features = joints_to_features(window)
            np.save(root / "new_joint_vecs" / f"{motion_id}.npy", features)
            (root / "texts" / f"{motion_id}.txt").write_text(
                "".join(f"{c}#x/NOUN#0.0#0.0\n" for c in TINY_CLASSES[name])
            )
            meta = {
                "id": motion_id,
                "fps": 20,
                "captions": TINY_CLASSES[name],
                "segments": [{"action": name, "side": None, "start": 0.0, "end": length / 20}],
            }
            (root / "meta" / f"{motion_id}.json").write_text(json.dumps(meta))
            ids.append(motion_id)
            features_by_id[motion_id] = features
    order = rng.permutation(len(ids))
    splits = {"train": order[:40], "val": order[40:52], "test": order[52:]}
    for split, rows in splits.items():
        (root / f"{split}.txt").write_text("".join(f"{ids[i]}\n" for i in rows))
    train = [features_by_id[ids[i]] for i in splits["train"]]
    stats = Normalizer.fit(train)
    np.save(root / "Mean.npy", stats.mean)
    np.save(root / "Std.npy", stats.std)
    return root


@pytest.fixture(scope="session")
def tiny_config_overrides(tiny_dataset) -> list[str]:
    """A model small enough to train in seconds on the CPU."""
    return [
        f'data.paths=["{tiny_dataset}"]',
        "model.latent_dim=32",
        "model.embed_dim=32",
        "model.num_layers=1",
        "model.text_layers=1",
        "model.num_heads=2",
        "model.ff_dim=64",
        "train.batch_size=8",
        "train.epochs=3",
        "train.warmup_steps=2",
        "train.lr=0.001",
    ]


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tiny_config_overrides) -> Path:
    """A checkpoint trained for a few seconds on the tiny data set."""
    from engine.config import ExperimentConfig, apply_overrides
    from engine.training.run import train

    out = tmp_path_factory.mktemp("tiny-run")
    config = apply_overrides(
        ExperimentConfig(), [*tiny_config_overrides, "train.epochs=25", f"train.out_dir={out}"]
    )
    return train(config, show_progress=False).best_path
