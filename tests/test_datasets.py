"""Data set readers (HumanML3D / KIT-ML folders, TMR annotations) on folders built from
a generated clip, with the failure cases a real download has."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.data.dataset import merge_datasets
from engine.data.humanml3d import load_humanml3d, parse_caption_line
from engine.data.tmr import load_tmr
from engine.errors import DatasetError
from engine.motion.normalization import Normalizer

CAPTIONS = (
    "a person swings a tennis racket overhead#a/DET person/NOUN swing/VERB#0.0#0.0\n"
    "someone serves a ball#someone/PRON serve/VERB a/DET ball/NOUN#0.0#0.0\n"
    "the person raises the right arm#the/DET person/NOUN raise/VERB#1.0#4.0\n"
)


def _write_folder(root: Path, features: np.ndarray, stats_dir: Path) -> Path:
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    for motion_id in ("000001", "000002", "M000001"):
        np.save(root / "new_joint_vecs" / f"{motion_id}.npy", features)
        (root / "texts" / f"{motion_id}.txt").write_text(CAPTIONS)
    for name in ("Mean.npy", "Std.npy"):
        (root / name).write_bytes((stats_dir / name).read_bytes())
    (root / "train.txt").write_text("000001\nM000001\n")
    (root / "val.txt").write_text("000002\n")
    (root / "test.txt").write_text("000002\n")
    return root


@pytest.fixture
def folder(tmp_path, motion_features) -> Path:
    stats = Normalizer.fit([motion_features])
    (tmp_path / "stats").mkdir()
    np.save(tmp_path / "stats" / "Mean.npy", stats.mean)
    np.save(tmp_path / "stats" / "Std.npy", stats.std)
    return _write_folder(tmp_path / "HumanML3D", motion_features, tmp_path / "stats")


def test_reads_a_humanml3d_folder_with_crops(folder, motion_features):
    dataset = load_humanml3d(folder)
    assert dataset.skeleton.feature_dim == 263
    assert dataset.normalizer is not None and dataset.normalizer.dim == 263
    assert not dataset.problems
    whole = dataset.items["000001"]
    assert whole.captions == ["a person swings a tennis racket overhead", "someone serves a ball"]
    assert np.array_equal(whole.features, motion_features)
    crop = dataset.items["000001#1-4"]
    assert crop.captions == ["the person raises the right arm"]
    assert np.array_equal(crop.features, motion_features[20:80])
    assert dataset.splits["train"] == ["000001", "000001#1-4", "M000001", "M000001#1-4"]
    assert [i.id for i in dataset.split("val")] == ["000002", "000002#1-4"]


def test_bad_files_are_reported_and_the_good_ones_load(folder, motion_features):
    bad = motion_features.copy()
    bad[5, 7] = np.nan
    np.save(folder / "new_joint_vecs" / "000002.npy", bad)
    np.save(folder / "new_joint_vecs" / "M000001.npy", motion_features[:, :200])
    (folder / "texts" / "000001.txt").write_text("\n\n")
    np.save(folder / "new_joint_vecs" / "000004.npy", motion_features)
    (folder / "texts" / "000004.txt").write_text(CAPTIONS)
    (folder / "train.txt").write_text("000001\nM000001\n000003\n000004\n")
    dataset = load_humanml3d(folder, splits=("train", "val"))
    problems = "\n".join(dataset.problems)
    assert "000002: new_joint_vecs/000002.npy: contains NaN" in problems
    assert f"M000001.npy: shape ({len(motion_features)}, 200), expected (frames, 263)" in problems
    assert "000001: texts/000001.txt: empty caption file" in problems
    assert "000003: new_joint_vecs/000003.npy: missing features file" in problems
    assert sorted(dataset.items) == ["000004", "000004#1-4"]
    assert dataset.splits == {"train": ["000004", "000004#1-4"], "val": []}


def test_nothing_readable_is_an_error(folder, motion_features):
    for motion_id in ("000001", "000002", "M000001"):
        np.save(folder / "new_joint_vecs" / f"{motion_id}.npy", motion_features[:10])
    with pytest.raises(DatasetError, match="no motion could be read"):
        load_humanml3d(folder)


def test_missing_split_file_names_it(folder):
    (folder / "test.txt").unlink()
    with pytest.raises(DatasetError, match=r"missing split file test.txt \(split files here: "):
        load_humanml3d(folder)


def test_not_a_dataset_folder(tmp_path):
    with pytest.raises(DatasetError, match="no new_joint_vecs/ folder"):
        load_humanml3d(tmp_path)


def test_caption_line_parsing():
    caption = parse_caption_line("a man walks#a/DET man/NOUN walk/VERB#nan#nan")
    assert caption.text == "a man walks" and caption.whole_clip
    assert caption.tokens == ("a/DET", "man/NOUN", "walk/VERB")
    assert parse_caption_line("someone jumps").whole_clip
    with pytest.raises(ValueError, match="bad time"):
        parse_caption_line("x#y#abc#1.0")


def test_reads_tmr_annotations(tmp_path, motion_features):
    root = tmp_path / "annotations" / "humanml3d"
    (root / "splits").mkdir(parents=True)
    motions = tmp_path / "motions" / "guoh3dfeats" / "KIT" / "3"
    motions.mkdir(parents=True)
    np.save(motions / "serve_poses.npy", motion_features)
    annotations = {
        "000010": {
            "path": "KIT/3/serve_poses",
            "duration": 8.5,
            "annotations": [
                {"seg_id": "000010_0", "text": "a person serves", "start": 0.0, "end": 8.5},
                {"seg_id": "000010_1", "text": "raises an arm", "start": 1.0, "end": 4.0},
            ],
        },
        "000011": {"path": "KIT/3/missing", "duration": 3.0, "annotations": []},
    }
    (root / "annotations.json").write_text(json.dumps(annotations))
    for split in ("train", "val", "test"):
        (root / "splits" / f"{split}.txt").write_text("000010\n000011\n")
    dataset = load_tmr(root)
    assert sorted(dataset.items) == ["000010", "000010#1-4"]
    assert dataset.items["000010#1-4"].features.shape == (60, 263)
    assert any("000011" in p for p in dataset.problems)


def test_merging_prefixes_ids(folder):
    a = load_humanml3d(folder, name="a")
    b = load_humanml3d(folder, name="b")
    merged = merge_datasets([a, b])
    assert len(merged.items) == len(a.items) * 2
    assert merged.splits["train"][0] == "a/000001" and "b/000001" in merged.splits["train"]


def _kit_folder(root: Path, motion_joints: np.ndarray) -> Path:
    from engine.motion.features import joints_to_features
    from engine.motion.skeleton import KIT

    kit_from_smpl = [0, 3, 9, 12, 15, 17, 19, 21, 16, 18, 20, 2, 5, 8, 11, 11, 1, 4, 7, 10, 10]
    joints = motion_joints[:, kit_from_smpl] * 1000.0
    joints[:, [15, 20], 2] += 60.0
    features = joints_to_features(joints, KIT)
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    for motion_id in ("00001", "00002"):
        np.save(root / "new_joint_vecs" / f"{motion_id}.npy", features)
        (root / "texts" / f"{motion_id}.txt").write_text("a person serves#x#0.0#0.0\n")
    for split in ("train", "val", "test"):
        (root / f"{split}.txt").write_text("00001\n00002\n")
    return root


def test_kit_folder_native_and_converted(tmp_path, motion_joints):
    kit = _kit_folder(tmp_path / "KIT-ML", motion_joints)
    native = load_humanml3d(kit)
    assert native.skeleton.name == "kit" and native.items["00001"].features.shape[1] == 251
    converted = load_humanml3d(kit, to_humanml3d=True)
    features = converted.items["00001"].features
    assert converted.skeleton.name == "humanml3d" and features.shape[1] == 263
    # n KIT feature frames = n poses spanning (n - 1) / 12.5 s; at 20 fps that is
    # floor((n - 1) / 12.5 * 20) + 1 poses, one feature frame fewer (169 -> 268)
    poses = len(native.items["00001"].features)
    assert len(features) == int((poses - 1) / 12.5 * 20)


def test_joint_dataset_training_data(tmp_path, folder, motion_joints):
    from engine.data.loading import open_training_data

    kit = _kit_folder(tmp_path / "KIT-ML", motion_joints)
    dataset, normalizer = open_training_data([str(folder), str(kit)], ("train", "val"))
    assert dataset.feature_dim == 263 and normalizer.dim == 263
    assert "KIT-ML/00001" in dataset.items and "HumanML3D/000001" in dataset.items
    train_ids = dataset.splits["train"]
    assert any(i.startswith("KIT-ML/") for i in train_ids)
    assert any(i.startswith("HumanML3D/") for i in train_ids)
