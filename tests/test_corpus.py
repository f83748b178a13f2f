"""The procedural motion–language corpus: physical plausibility (against the real clip
012314 with the same measures), captions, determinism, held-out sets and the written
HumanML3D folder."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pytest

from engine.cli import main as cli_main
from engine.data.corpus import (
    ACTIONS,
    CORPUS_VERSION,
    HELDOUT_COMBO_SPLIT,
    HELDOUT_PHRASING_SPLIT,
    CorpusConfig,
    generate_action,
    generate_motion,
    quality_report,
    split_of,
    uses_heldout,
    write_corpus,
)
from engine.data.corpus import generate as generate_module
from engine.data.corpus.captions import caption_plan
from engine.data.corpus.compose import sample_plan
from engine.data.corpus.grammar import LEXICON
from engine.data.corpus.quality import (
    foot_skating,
    heading_change,
    mean_jerk,
    root_displacement,
)
from engine.data.corpus.style import sample_style
from engine.data.humanml3d import load_humanml3d
from engine.errors import EngineError
from engine.motion.features import features_to_joints, joints_to_features
from engine.motion.mirror import mirror_joints

CONFIG = CorpusConfig()
FPS = CONFIG.fps
MARKERS = CONFIG.heldout_phrasings


def processed(joints: np.ndarray) -> np.ndarray:
    """What the corpus stores as new_joints: HumanML3D's processing and recovery."""
    return features_to_joints(joints_to_features(joints))


@pytest.fixture(scope="session")
def action_clips():
    """One clip of every action (two of the turns, whose angles vary)."""
    clips = {a: [generate_action(a, seed=1)] for a in ACTIONS}
    for action in ("turn_left", "turn_right", "walk_in_circle", "spin"):
        clips[action] += [generate_action(action, seed=s) for s in range(2, 6)]
    return clips


@pytest.fixture(scope="session")
def sample():
    return [generate_motion(7, i) for i in range(40)]


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus") / "c"
    write_corpus(out, size=24, seed=5, workers=2, progress=False)
    return out


def _all_clips(action_clips, sample):
    return [m for clips in action_clips.values() for m in clips] + list(sample)


# ------------------------------------------------------------------ physical plausibility


def test_every_action_is_generated_and_labelled(action_clips, sample):
    assert len(ACTIONS) == len(set(ACTIONS)) >= 37
    for action, clips in action_clips.items():
        assert [s["action"] for s in clips[0].segments] == [action]
    # corpus motions only ever use known actions, with sides the format allows
    for motion in sample:
        for segment in motion.segments:
            assert segment["action"] in ACTIONS
            assert segment["side"] in ("left", "right", "both", None)
            assert 0 <= segment["start"] < segment["end"] <= len(motion.joints) / FPS + 1e-6


def test_bodies_are_rigid_above_the_floor_and_within_human_speeds(action_clips, sample):
    for motion in _all_clips(action_clips, sample):
        raw = motion.joints
        report = quality_report(raw)
        name = f"{motion.id} {[s['action'] for s in motion.segments]}"
        assert report["finite"] == 1.0, name
        assert report["bone_drift_m"] < 1e-3, name
        assert report["floor_penetration_m"] < 0.02, name
        assert report["max_wrist_speed_m_s"] < 10.0, name
        assert report["max_root_speed_m_s"] < 5.0, name
        stored = quality_report(processed(raw))
        assert stored["bone_drift_m"] < 1e-3, name
        assert stored["ground_clearance_m"] < 0.03, name  # feet stay on the floor
        assert 2.0 <= len(raw) / FPS <= 9.9, name


def test_feet_skate_no_more_than_real_motion_capture(real_joints, action_clips, sample):
    real = foot_skating(real_joints.astype(np.float64), FPS)
    assert 0.05 < real < 0.15  # the measure itself sees the real clip's footwork
    skating = [foot_skating(processed(m.joints), FPS) for m in _all_clips(action_clips, sample)]
    assert np.mean(skating) <= real
    assert max(skating) <= 1.5 * real


def test_motion_is_as_smooth_as_real_motion_capture(real_joints, sample):
    real = mean_jerk(real_joints.astype(np.float64), FPS)
    jerks = [mean_jerk(processed(m.joints), FPS) for m in sample]
    assert np.median(jerks) <= real
    assert max(jerks) <= 4 * real


def _segment_frames(motion, segment, pad=4):
    return int(segment["start"] * FPS), min(int(segment["end"] * FPS) + pad, len(motion.joints) - 1)


def test_root_travels_the_way_the_action_says(action_clips):
    def travel(action):
        motion = action_clips[action][0]
        return root_displacement(processed(motion.joints)), motion.segments[0]["side"]

    (left, forward), _ = travel("walk_forward")
    assert forward > 1.0 and abs(left) < 0.3 * forward
    (left, forward), _ = travel("walk_backward")
    assert forward < -0.5 and abs(left) < 0.3 * abs(forward)
    (left, forward), side = travel("walk_sideways")
    assert abs(left) > 0.4 and np.sign(left) == (1 if side == "left" else -1)
    assert abs(forward) < 0.3 * abs(left)
    (_, forward), _ = travel("run")
    assert forward > 2.0 or "in place" in " ".join(action_clips["run"][0].captions)
    (_, forward), _ = travel("jump_forward")
    assert forward > 0.3
    for action in ("jump_in_place", "squat", "wave", "stand_still", "bow"):
        assert np.linalg.norm(travel(action)[0]) < 0.25, action


def test_turns_match_their_direction_and_stated_angle(action_clips):
    for action in ("turn_left", "turn_right", "spin", "walk_in_circle"):
        for motion in action_clips[action]:
            segment = motion.segments[0]
            joints = processed(motion.joints)
            turned = np.degrees(heading_change(joints, *_segment_frames(motion, segment)))
            left = segment["side"] == "left"
            assert (turned > 30) if left else (turned < -30), (action, turned)
            for text in motion.captions:
                for stated in re.findall(r"(\d+) degrees", text):
                    assert abs(abs(turned) - int(stated)) < 20, (text, turned)
            if action == "spin":
                assert 300 < abs(turned) < 780
            if action == "walk_in_circle":
                assert abs(turned) > 180


# ------------------------------------------------------------------ captions


def test_captions_are_plural_varied_and_never_the_label(sample):
    texts = [t for m in sample for t in m.captions]
    assert all(len(m.captions) >= 3 for m in sample)
    assert all(len(set(m.captions)) == len(m.captions) for m in sample)
    for motion in sample:
        for text in motion.captions:
            assert "_" not in text and text.strip().lower() not in ACTIONS
    lengths = [len(t.split()) for t in texts]
    assert 6 <= np.mean(lengths) <= 16
    starts = {" ".join(t.lower().split()[:2]) for t in texts}
    assert len(starts) >= 10  # many subjects and openings
    assert len(set(texts)) >= 0.9 * len(texts)  # a few short captions recur, as in HumanML3D


def test_caption_words_are_tagged_from_the_lexicon(sample):
    unknown = set()
    for motion in sample:
        for caption in motion.tagged_captions:
            for token in caption.tokens:
                if token.pos == "OTHER":
                    unknown.add(token.word)
    # only misspelt words fall outside the lexicon
    assert len(unknown) <= sum(len(m.captions) for m in sample) * 0.1
    assert all(w not in LEXICON for w in unknown)


def test_sides_in_captions_match_the_motion_and_flip_in_the_mirror(action_clips):
    checked = 0
    for action in ("wave", "kick", "hop_on_one_leg", "walk_sideways", "turn_left", "point"):
        motion = action_clips[action][0]
        side = motion.segments[0]["side"]
        other = {"left": "right", "right": "left"}[side]
        mirrored = motion.mirror()
        assert mirrored.id == "M" + motion.id
        assert mirrored.segments[0]["side"] == other
        assert np.allclose(mirrored.joints, mirror_joints(motion.joints))
        for text, flipped in zip(motion.captions, mirrored.captions, strict=True):
            words, mirrored_words = text.split(), flipped.split()
            if action == "hop_on_one_leg" or action == "balance_on_one_leg":
                continue  # the lifted leg may be named instead of the standing one
            assert other not in [w.strip(".,") for w in words], text
            if side in [w.strip(".,") for w in words]:
                assert other in [w.strip(".,") for w in mirrored_words], (text, flipped)
                checked += 1
    assert checked >= 3
    turn = action_clips["turn_left"][0].mirror()
    assert turn.segments[0]["action"] == "turn_right"
    assert np.degrees(heading_change(processed(turn.joints))) < -30


def test_heldout_phrasings_never_reach_train_or_val_captions():
    # caption-only: thousands of seen-mode captions, none with a held-out word
    rng = np.random.default_rng(0)
    for i in range(150):
        style = sample_style(rng)
        plan = sample_plan(rng, style, CONFIG)
        seen = caption_plan(plan, rng, 5, MARKERS, heldout=False, typo_rate=0.0)
        assert not any(uses_heldout(c.tokens, MARKERS) for c in seen), [c.text for c in seen]
        held = caption_plan(plan, rng, 3, MARKERS, heldout=True, typo_rate=0.0)
        assert held and all(uses_heldout(c.tokens, MARKERS) for c in held), i


def _pairs_and_layers(segments):
    """Sequence pairs and (base, layer) pairs from stored segments: a layer lies inside
    its base segment."""
    ordered = sorted(segments, key=lambda s: (s["start"], -s["end"]))
    layers = [
        (b["action"], s["action"])
        for s in segments
        for b in segments
        if b is not s and b["start"] < s["start"] and s["end"] <= b["end"]
    ]
    inner = {
        id(s)
        for s in segments
        for b in segments
        if b is not s and b["start"] < s["start"] and s["end"] <= b["end"]
    }
    sequence = [s for s in ordered if id(s) not in inner]
    pairs = [(a["action"], b["action"]) for a, b in itertools.pairwise(sequence)]
    return pairs, layers


def test_heldout_combinations_and_phrasings_stay_in_their_test_subsets():
    by_kind = {"train": [], "val": [], HELDOUT_COMBO_SPLIT: [], HELDOUT_PHRASING_SPLIT: []}
    for index in range(400):
        split, subsets = split_of(3, index, CONFIG)
        for kind in (split, *subsets):
            if kind in by_kind and len(by_kind[kind]) < (30 if kind in ("train", "val") else 12):
                by_kind[kind].append(index)
    for kind, indices in by_kind.items():
        assert indices, kind
        for index in indices:
            motion = generate_motion(3, index, CONFIG)
            for clip in (motion, motion.mirror()):
                pairs, layers = _pairs_and_layers(clip.segments)
                found = set(pairs) & set(CONFIG.heldout_sequences) | set(layers) & set(
                    CONFIG.heldout_layers
                )
                marked = [uses_heldout(c.tokens, MARKERS) for c in clip.tagged_captions]
                if kind in ("train", "val"):
                    assert not found and not any(marked), (
                        clip.id,
                        pairs,
                        layers,
                        clip.captions,
                    )
                elif kind == HELDOUT_COMBO_SPLIT:
                    assert found and not any(marked), (clip.id, pairs, layers)
                else:
                    assert not found and all(marked), clip.captions


# ------------------------------------------------------------------ determinism and splits


def test_same_seed_same_motion_different_seed_different_motion():
    a, b = generate_motion(11, 3), generate_motion(11, 3)
    assert np.array_equal(a.joints, b.joints)
    assert a.captions == b.captions and a.segments == b.segments
    c = generate_motion(12, 3)
    assert c.joints.shape != a.joints.shape or not np.allclose(c.joints, a.joints)
    assert c.captions != a.captions


def test_splits_are_a_function_of_seed_and_index_in_the_configured_proportions():
    splits = [split_of(0, i, CONFIG)[0] for i in range(3000)]
    assert splits == [split_of(0, i, CONFIG)[0] for i in range(3000)]
    share = {s: splits.count(s) / len(splits) for s in ("train", "val", "test")}
    assert abs(share["train"] - 0.75) < 0.03
    assert abs(share["val"] - 0.10) < 0.02
    assert abs(share["test"] - 0.15) < 0.02
    assert splits != [split_of(1, i, CONFIG)[0] for i in range(3000)]


# ------------------------------------------------------------------ the written folder


def test_written_folder_has_the_humanml3d_layout(corpus_dir):
    info = json.loads((corpus_dir / "corpus.json").read_text())
    assert info["version"] == CORPUS_VERSION and info["seed"] == 5 and info["size"] == 24
    assert info["actions"] == list(ACTIONS)
    ids = (corpus_dir / "all.txt").read_text().split()
    assert len(ids) == 48 and sum(i.startswith("M") for i in ids) == 24
    split_ids = {s: (corpus_dir / f"{s}.txt").read_text().split() for s in ("train", "val", "test")}
    assert sorted(i for members in split_ids.values() for i in members) == sorted(ids)
    assert {s: len(v) for s, v in split_ids.items()} == {
        s: info["split_sizes"][s] for s in split_ids
    }
    for split, members in split_ids.items():  # a mirror stays with its original
        for motion_id in members:
            twin = motion_id[1:] if motion_id.startswith("M") else "M" + motion_id
            assert twin in members, (split, motion_id)
    for name in (HELDOUT_PHRASING_SPLIT, HELDOUT_COMBO_SPLIT):
        assert set((corpus_dir / f"{name}.txt").read_text().split()) <= set(split_ids["test"])
    for motion_id in ids:
        joints = np.load(corpus_dir / "new_joints" / f"{motion_id}.npy")
        features = np.load(corpus_dir / "new_joint_vecs" / f"{motion_id}.npy")
        assert joints.dtype == features.dtype == np.float32
        assert (
            joints.ndim == 3
            and joints.shape[1:] == (22, 3)
            and features.shape == (len(joints), 263)
        )
        assert len(joints) >= 40
        assert np.abs(features_to_joints(features) - joints).max() < 1e-4
        lines = (corpus_dir / "texts" / f"{motion_id}.txt").read_text().splitlines()
        assert len(lines) >= 3
        for line in lines:
            caption, tags, start, end = line.split("#")
            assert caption and start == end == "0.0"
            assert all(re.fullmatch(r"[^/\s]+/[A-Z]+", t) for t in tags.split())
        meta = json.loads((corpus_dir / "meta" / f"{motion_id}.json").read_text())
        assert set(meta) == {"id", "fps", "segments", "captions"} and meta["id"] == motion_id
        assert meta["captions"] == [line.split("#")[0] for line in lines]
        assert all(set(s) == {"action", "side", "start", "end"} for s in meta["segments"])
    mean, std = np.load(corpus_dir / "Mean.npy"), np.load(corpus_dir / "Std.npy")
    assert mean.shape == std.shape == (263,) and np.isfinite(mean).all() and (std > 0).all()
    train = np.concatenate(
        [np.load(corpus_dir / "new_joint_vecs" / f"{i}.npy") for i in split_ids["train"]]
    )
    assert np.allclose(mean, train.mean(0), atol=1e-4)
    assert np.allclose(std, np.maximum(train.std(0), 1e-3), atol=1e-4)


def test_written_folder_loads_as_humanml3d_data(corpus_dir):
    dataset = load_humanml3d(corpus_dir, splits=("train", "test"))
    assert not dataset.problems
    item = next(iter(dataset.items.values()))
    assert item.actions and item.actions[0] in ACTIONS


def test_a_split_generated_alone_matches_the_full_corpus(corpus_dir, tmp_path):
    alone = tmp_path / "test_only"
    write_corpus(alone, size=24, seed=5, splits=["test"], workers=1, progress=False)
    ids = (alone / "test.txt").read_text().split()
    assert ids == (corpus_dir / "test.txt").read_text().split()
    assert not (alone / "train.txt").exists()
    for motion_id in ids:
        for folder in ("new_joint_vecs", "new_joints"):
            assert np.array_equal(
                np.load(alone / folder / f"{motion_id}.npy"),
                np.load(corpus_dir / folder / f"{motion_id}.npy"),
            )
        assert (alone / "texts" / f"{motion_id}.txt").read_text() == (
            corpus_dir / "texts" / f"{motion_id}.txt"
        ).read_text()
    assert json.loads((alone / "corpus.json").read_text())["statistics_from"] != "train"


def test_an_interrupted_generation_leaves_nothing_behind(tmp_path, monkeypatch):
    real = generate_module.generate_motion

    def failing(seed, index, config=None):
        if index == 3:
            raise KeyboardInterrupt
        return real(seed, index, config)

    monkeypatch.setattr(generate_module, "generate_motion", failing)
    out = tmp_path / "corpus"
    with pytest.raises(KeyboardInterrupt):
        write_corpus(out, size=6, seed=0, workers=1, progress=False)
    assert not out.exists() and list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ command line


def test_a_new_generator_version_replaces_the_cached_corpus_of_the_old_one(monkeypatch, tmp_path):
    from engine.data.embedded import corpus_folder, embedded_corpus

    monkeypatch.setenv("MOTION_RETRIEVAL_CACHE", str(tmp_path))
    current = corpus_folder(40, 3, ("test",))
    version, fingerprint = current.name[: -len("-n40-s3-test")].rsplit("-", 1)
    old = current.with_name(f"{version}-{'0' * len(fingerprint)}-n40-s3-test")
    kept = [  # another size, another split set, not a corpus, another corpus version
        current.with_name(f"{version}-{'0' * len(fingerprint)}-n41-s3-test"),
        current.with_name(f"{version}-{'0' * len(fingerprint)}-n40-s3"),
        current.with_name(f"{version}-{'1' * len(fingerprint)}-n40-s3-test"),
        current.with_name(f"other-1.0-{'0' * len(fingerprint)}-n40-s3-test"),
    ]
    for folder in [old, *kept]:
        folder.mkdir(parents=True)
        if folder != kept[2]:
            (folder / "corpus.json").write_text("{}")
    assert embedded_corpus(40, 3, splits=("test",)) == current
    assert (current / "corpus.json").is_file() and not old.exists()
    assert all(folder.exists() for folder in kept)


def test_cli_writes_a_corpus_and_rejects_bad_arguments(tmp_path, capsys):
    out = tmp_path / "c"
    assert (
        cli_main(
            ["corpus", "--out", str(out), "--size", "3", "--seed", "1", "--workers", "1", "--quiet"]
        )
        == 0
    )
    assert (out / "corpus.json").is_file()
    # an existing corpus is replaced
    assert cli_main(["corpus", "--out", str(out), "--size", "2", "--workers", "1", "--quiet"]) == 0
    assert json.loads((out / "corpus.json").read_text())["size"] == 2
    capsys.readouterr()

    assert cli_main(["corpus", "--out", str(tmp_path / "x"), "--size", "0"]) == 2
    assert "size must be at least 1" in capsys.readouterr().err
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    assert cli_main(["corpus", "--out", str(precious), "--size", "2"]) == 2
    assert "not a generated corpus" in capsys.readouterr().err
    assert (precious / "notes.txt").read_text() == "keep me"
    assert (
        cli_main(
            ["corpus", "--out", str(tmp_path / "y"), "--size", "2", "--splits", "test,holdout"]
        )
        == 2
    )
    assert "unknown split" in capsys.readouterr().err
    with pytest.raises(EngineError, match="workers"):
        write_corpus(tmp_path / "z", size=2, seed=0, workers=0)
