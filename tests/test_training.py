"""The training loop end to end on a tiny data set built from the real clip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from engine.config import ExperimentConfig, apply_overrides
from engine.encoder import MotionTextEncoder
from engine.errors import EngineError
from engine.models.checkpoint import FEATURE_STATISTICS_FILE, load_checkpoint
from engine.motion.features import FeatureLayout
from engine.motion.skeleton import HUMANML3D
from engine.training.run import train
from tests.conftest import REPO


def config_for(overrides: list[str], out_dir, *extra: str) -> ExperimentConfig:
    return apply_overrides(ExperimentConfig(), [*overrides, f"train.out_dir={out_dir}", *extra])


def test_training_learns_and_writes_checkpoints(tiny_config_overrides, tmp_path):
    events = []
    config = config_for(tiny_config_overrides, tmp_path / "run", "train.epochs=12")
    result = train(config, callback=events.append, show_progress=False)
    kinds = {e.kind for e in events}
    assert {"status", "step", "validation", "checkpoint", "done"} <= kinds
    losses = [e.loss for e in events if e.kind == "step"]
    assert len(losses) == 12 * 5  # 40 training items, batches of 8
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])
    assert result.best_path is not None and (result.best_path / "model.safetensors").is_file()
    validation = [e.metrics for e in events if e.kind == "validation"]
    assert len(validation) == 12
    best = json.loads((result.best_path / "metrics.json").read_text())["validation"]
    assert best["score"] == max(v["score"] for v in validation)
    # four kinds of motion, twelve validation items: chance R@5 for text→motion is ~5/12;
    # a model that learned the difference ranks the right kind first
    assert best["all"]["t2m"]["R@5"] > 60.0


def test_checkpoint_round_trip_gives_the_same_embeddings(tiny_config_overrides, tmp_path):
    config = config_for(tiny_config_overrides, tmp_path / "run", "train.epochs=1")
    result = train(config, show_progress=False)
    checkpoint = load_checkpoint(result.last_path)
    assert checkpoint.config == config
    encoder = MotionTextEncoder(checkpoint, "cpu")
    captions = ["a person serves a tennis ball with the left hand", "someone hits a serve"]
    first = encoder.encode_texts(captions)
    again = MotionTextEncoder.load(result.last_path, "cpu").encode_texts(captions)
    assert np.allclose(first, again, atol=1e-6)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)


def test_stop_flag_stops_cleanly(tiny_config_overrides, tmp_path):
    stop = threading.Event()

    def stop_after_three(event):
        if event.kind == "step" and event.step == 3:
            stop.set()

    config = config_for(tiny_config_overrides, tmp_path / "run")
    result = train(config, callback=stop_after_three, stop=stop, show_progress=False)
    assert result.stopped and result.steps == 3


def test_resume_continues_where_the_last_checkpoint_left(tiny_config_overrides, tmp_path):
    out = tmp_path / "run"
    train(config_for(tiny_config_overrides, out, "train.epochs=2"), show_progress=False)
    events = []
    result = train(
        config_for(tiny_config_overrides, out, "train.epochs=3", "train.resume=true"),
        callback=events.append,
        show_progress=False,
    )
    assert any("resumed" in e.message for e in events)
    assert result.steps == 15  # 10 steps from the first run, 5 more
    assert [e.epoch for e in events if e.kind == "validation"] == [3]


@pytest.mark.parametrize(
    "encoder,loss",
    [("spatiotemporal", "cccl"), ("temporal", "droptriple"), ("temporal", "mildtriple")],
)
def test_other_encoders_and_losses_train(tiny_config_overrides, tmp_path, encoder, loss):
    config = config_for(
        tiny_config_overrides,
        tmp_path / "run",
        "train.epochs=1",
        f"model.motion_encoder={encoder}",
        f"loss.kind={loss}",
    )
    assert train(config, show_progress=False).best_path is not None


def test_variational_model_with_decoder_trains(tiny_config_overrides, tmp_path):
    config = config_for(
        tiny_config_overrides,
        tmp_path / "run",
        "train.epochs=1",
        "model.variational=true",
        "model.decoder=true",
        "model.text_head=pooled",
    )
    result = train(config, show_progress=False)
    model = load_checkpoint(result.best_path).model
    assert model.decoder is not None and model.motion_head.logvar is not None


def test_cli_train_and_torchrun_with_two_processes(tiny_config_overrides, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    args = [a for o in tiny_config_overrides for a in ("--set", o)]
    out = tmp_path / "ddp"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_port=29533",
        "-m",
        "engine",
        "train",
        "--quiet",
        *args,
        "--set",
        f"train.out_dir={out}",
        "--set",
        "train.batch_size=4",
        "--set",
        "train.device=cpu",
    ]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout[done.stdout.index("{") :])
    # 40 items in batches of 4 = 10 batches per epoch, 5 per process
    assert summary["steps"] == 15
    assert (out / "best" / "model.safetensors").is_file()


def test_ignored_feature_blocks_do_not_reach_the_embedding(tiny_config_overrides, tmp_path):
    config = config_for(
        tiny_config_overrides,
        tmp_path / "run",
        "train.epochs=1",
        "model.ignored_features=rotations,contacts",
    )
    encoder = MotionTextEncoder.load(train(config, show_progress=False).last_path, "cpu")
    layout = FeatureLayout(HUMANML3D.num_joints)
    features = np.random.default_rng(0).normal(size=(40, layout.dim)).astype(np.float32)

    def embedding_with(block: slice, value: float) -> np.ndarray:
        changed = features.copy()
        changed[:, block] = value
        return encoder.encode_motions([changed])[0]

    base = encoder.encode_motions([features])[0]
    assert np.allclose(embedding_with(layout.rot, 5.0), base, atol=1e-5)
    assert np.allclose(embedding_with(layout.contacts, 1.0), base, atol=1e-5)
    assert not np.allclose(embedding_with(layout.ric, 5.0), base, atol=1e-3)
    with pytest.raises(EngineError, match=r"model.ignored_features\[0\] must be one of root"):
        apply_overrides(ExperimentConfig(), ["model.ignored_features=rotation"])


def test_training_normalises_with_given_statistics(tiny_config_overrides, tmp_path):
    folder = tmp_path / "stats"
    folder.mkdir()
    mean, std = np.linspace(-1, 1, 263), np.linspace(0.5, 2, 263)
    np.save(folder / "Mean.npy", mean)
    np.save(folder / "Std.npy", std)
    config = config_for(  # variants do not refit given statistics
        tiny_config_overrides,
        tmp_path / "run",
        "train.epochs=1",
        f"data.statistics={folder}",
        "augment.copies=1",
        "augment.workers=1",
    )
    normalizer = load_checkpoint(train(config, show_progress=False).last_path).normalizer
    assert np.allclose(normalizer.mean, mean) and np.allclose(normalizer.std, std)
    np.save(folder / "Mean.npy", mean[:251])  # KIT-ML's statistics
    np.save(folder / "Std.npy", std[:251])
    with pytest.raises(EngineError, match="statistics of 251 features, the training data has 263"):
        train(config, show_progress=False)
    missing = config_for(tiny_config_overrides, tmp_path / "run", f"data.statistics={tmp_path}")
    with pytest.raises(EngineError, match=r"data\.statistics: .*missing normalisation statistics"):
        train(missing, show_progress=False)


def test_block_std_gives_each_feature_block_one_standard_deviation(tiny_config_overrides, tmp_path):
    plain = config_for(tiny_config_overrides, tmp_path / "plain", "train.epochs=1")
    blocked = config_for(
        tiny_config_overrides, tmp_path / "blocked", "train.epochs=1", "data.block_std=true"
    )
    plain_checkpoint = load_checkpoint(train(plain, show_progress=False).last_path)
    blocked_path = train(blocked, show_progress=False).last_path
    before, blocked_checkpoint = plain_checkpoint.normalizer, load_checkpoint(blocked_path)
    after = blocked_checkpoint.normalizer
    assert np.allclose(after.mean, before.mean)
    for block in FeatureLayout(HUMANML3D.num_joints).std_blocks():
        assert np.allclose(after.std[block], before.std[block].mean(), rtol=1e-5)
    assert len(np.unique(before.std)) > 100 > len(np.unique(after.std))
    # the per-feature statistics are kept beside it (what the familiarity check reads),
    # survive shipping, and leave the fingerprint (the space's identity) alone
    assert plain_checkpoint.feature_statistics is None
    assert plain_checkpoint.training_statistics is plain_checkpoint.normalizer
    kept = blocked_checkpoint.training_statistics
    assert np.allclose(kept.std, before.std) and np.allclose(kept.mean, before.mean)
    shipped = tmp_path / "shipped"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run(
        [sys.executable, "-m", "scripts.ship_model", str(blocked_path), str(shipped)],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    shipped_checkpoint = load_checkpoint(shipped)
    assert np.allclose(shipped_checkpoint.training_statistics.std, before.std)
    (shipped / FEATURE_STATISTICS_FILE).unlink()
    assert load_checkpoint(shipped).fingerprint == shipped_checkpoint.fingerprint


def test_training_benchmark_times_steps_of_the_training_objective(tiny_config_overrides):
    from benchmarks.train_bench import measure

    config = apply_overrides(
        ExperimentConfig(), [*tiny_config_overrides, "augment.group_dropout=0.1"]
    )
    result = measure(config, steps=2, warmup=1)
    assert result["seconds_per_step"] > 0 and result["loss"] == "infonce_filtered"


def test_cli_rejects_bad_configuration(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "engine", "train", "--set", "loss.kind=bogus"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "loss.kind must be one of infonce, infonce_filtered" in done.stderr


def test_manager_runs_one_at_a_time_and_stops(tiny_config_overrides, tmp_path):
    """A second run waits behind the first (its position said), a full queue refuses
    with a message, a waiting run can be taken out, and the runs never overlap."""
    from engine.errors import EngineError
    from engine.training.manager import TrainingManager

    manager = TrainingManager(max_waiting=2)
    assert manager.snapshot(None).state == "idle"
    first = manager.submit(config_for(tiny_config_overrides, tmp_path / "a", "train.epochs=200"))
    second = manager.submit(config_for(tiny_config_overrides, tmp_path / "b", "train.epochs=1"))
    third = manager.submit(config_for(tiny_config_overrides, tmp_path / "c", "train.epochs=1"))
    with pytest.raises(EngineError, match="training queue is full"):
        manager.submit(config_for(tiny_config_overrides, tmp_path / "d"))
    deadline = time.monotonic() + 120
    while manager.snapshot(first).step < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    waiting = manager.snapshot(second), manager.snapshot(third)
    assert [w.state for w in waiting] == ["queued", "queued"]
    assert [w.ahead for w in waiting] == [1, 2]
    assert "2 runs ahead of yours" in waiting[1].message
    assert manager.stop(third) and manager.snapshot(third).state == "cancelled"
    assert manager.snapshot(second).state == "queued"  # still waiting for the first
    assert manager.stop(first)
    snapshot = manager.wait(first, 120)
    assert snapshot.state == "stopped" and 3 <= snapshot.step < 1000
    assert snapshot.losses and snapshot.losses[-1][0] == snapshot.step
    # the waiting run starts once the first has ended, and its validation is recorded
    done = manager.wait(second, 120)
    assert done.state == "done" and len(done.validation) == 1
    assert done.started >= snapshot.started + manager.result(first).seconds  # not overlapping
    assert done.best_path is not None
    assert manager.wait_idle(10) and manager.snapshot(third).step == 0
    assert not (tmp_path / "c").exists()


def test_text_encoder_fine_tuning_updates_minilm(tiny_config_overrides, tmp_path):
    from engine.models.language import LanguageModel

    config = config_for(
        tiny_config_overrides, tmp_path / "run", "train.epochs=1", "model.finetune_text=true"
    )
    result = train(config, show_progress=False)
    tuned = load_checkpoint(result.best_path).model.language_model
    assert tuned is not None
    frozen = LanguageModel()
    name, weight = next(
        (n, p)
        for n, p in tuned.model.named_parameters()
        if n.endswith("attention.self.query.weight")
    )
    assert not np.allclose(
        weight.detach().numpy(), dict(frozen.model.named_parameters())[name].detach().numpy()
    )
    encoder = MotionTextEncoder.load(result.best_path, "cpu")
    assert encoder.encode_texts(["a person serves"]).shape == (1, 32)
