"""Faults a public server meets: a training run killed mid-run, the app killed while it
indexes a gallery. (A missing OpenGL backend: tests/test_app.py
`test_search_works_without_opengl` and `test_browser_without_opengl_says_why_...`.)"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tests.conftest import REPO

ENV = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


def _train_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "engine", "train", "--quiet", *args]


def test_training_killed_mid_run_leaves_a_loadable_checkpoint_and_resumes(
    tiny_config_overrides, tmp_path
):
    """SIGKILL after a few epochs (no chance to clean up): `last` and `best` load, and
    `python -m engine train --resume RUN_DIR` continues from `last`'s step to the end."""
    from engine.models.checkpoint import load_checkpoint, load_training_state

    out = tmp_path / "run"
    sets = [a for o in tiny_config_overrides for a in ("--set", o)]
    command = _train_command(*sets, "--set", f"train.out_dir={out}", "--set", "train.epochs=400")
    process = subprocess.Popen(command, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not (out / "last").is_dir() or load_training_state(out / "last")["epoch"] < 3:
            assert process.poll() is None and time.monotonic() < deadline, "no checkpoint"
            time.sleep(0.05)
        time.sleep(0.3)  # somewhere inside a later epoch or its checkpoint write
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    state = load_training_state(out / "last")
    assert 3 <= state["epoch"] < 400
    for folder in ("last", "best"):
        checkpoint = load_checkpoint(out / folder)
        assert all(np.isfinite(p.detach().numpy()).all() for p in checkpoint.model.parameters())
    epochs = state["epoch"] + 2
    done = subprocess.run(
        _train_command("--resume", str(out), "--set", f"train.epochs={epochs}"),
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout[done.stdout.index("{") :])
    assert summary["steps"] == state["step"] + 2 * 5  # 40 items in batches of 8: 5 per epoch
    assert load_training_state(out / "last")["epoch"] == epochs
    refused = subprocess.run(
        _train_command("--resume", str(tmp_path / "nothing")),
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0 and "no checkpoint to resume from" in refused.stderr


# A child that builds a gallery cache and stops (for the kill) halfway through writing it:
# the embeddings are in the temporary folder, the item list and the rename are not yet.
INDEX_CHILD = """
import sys, time
import engine.gallery as gallery
from engine.catalog import open_gallery
from engine.encoder import MotionTextEncoder

real = gallery.save_file
def slow_save(*args, **kwargs):
    real(*args, **kwargs)
    print("WRITING", flush=True)
    time.sleep(60)
gallery.save_file = slow_save
open_gallery(MotionTextEncoder.load(sys.argv[1], "cpu"), sys.argv[2])
"""


def _index_killed_mid_write(checkpoint: Path, data: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", INDEX_CHILD, str(checkpoint), str(data)],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "WRITING"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)


def test_app_killed_mid_index_leaves_a_complete_cache_or_none(
    tiny_checkpoint, tiny_dataset, tmp_path
):
    """Killed while writing the gallery cache: the first time there is no cache (the next
    start builds it), after a data change the old complete one stays (the changed motion
    is re-encoded next time); never a partial one that would be read."""
    from engine.catalog import open_gallery
    from engine.encoder import MotionTextEncoder
    from engine.gallery import _read_cache

    data = tmp_path / "data"
    shutil.copytree(tiny_dataset, data)
    encoder = MotionTextEncoder.load(tiny_checkpoint, "cpu")
    galleries = Path(os.environ["MOTION_RETRIEVAL_CACHE"]) / "galleries"

    tail = hashlib.sha1(str(data.resolve()).encode()).hexdigest()[:10]  # see source_key

    def cache_folders() -> list[Path]:
        return list(galleries.glob(f"*-{tail}/{encoder.fingerprint}"))

    _index_killed_mid_write(tiny_checkpoint, data)
    assert not any(_read_cache(p).motion for p in cache_folders())  # nothing half-read
    first = open_gallery(encoder, data)  # rebuilt, complete
    assert len(_read_cache(cache_folders()[0]).motion) == len(first)
    changed = data / "new_joint_vecs" / f"{first.items[0].id}.npy"
    np.save(changed, np.load(changed) * 1.01)
    _index_killed_mid_write(tiny_checkpoint, data)
    kept = _read_cache(cache_folders()[0])
    assert len(kept.motion) == len(first)  # the old complete cache, not a partial new one
    again = open_gallery(encoder, data)
    row = again.row(first.items[0].id)
    direct = encoder.encode_motions([again.items[row].features])[0]
    assert np.allclose(again.embeddings[row], direct, atol=1e-5)
    assert not np.allclose(again.embeddings[row], first.embeddings[row], atol=1e-5)
