"""Domain randomisation of training motions and the real-transfer measures."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.config import AugmentConfig, ExperimentConfig, apply_overrides
from engine.evaluation.real_transfer import (
    expected_hits,
    load_real_dev,
    mean_pairwise_cosine,
)
from engine.evaluation.realism import dynamics, feature_groups, feature_profile
from engine.models.checkpoint import load_checkpoint
from engine.motion.features import joints_to_features
from engine.motion.normalization import Normalizer
from engine.motion.skeleton import HUMANML3D, KIT
from engine.training.augment import (
    HEAD,
    LEFT_HIP,
    NECK,
    PELVIS,
    SPINE1,
    SPINE2,
    augment_joints,
    change_speed,
    descendants,
    drop_feature_groups,
    drop_frames,
    group_of_columns,
    interpolate_sparse_joints,
    level_hips,
    make_variants,
    rotate_subtree,
    warp_time,
)
from engine.training.run import train
from tests.conftest import SHARED


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    return np.stack(
        [np.linalg.norm(joints[:, c] - joints[:, p], axis=-1) for p, c in HUMANML3D.bones], -1
    )


def test_descendants_of_the_spine_are_the_upper_body():
    upper = set(descendants(SPINE1))
    assert {SPINE2, NECK, HEAD, 20, 21} <= upper  # head and both wrists
    assert not upper & {PELVIS, LEFT_HIP, 4, 7, 10}  # no leg joint


def test_rotating_a_subtree_keeps_every_bone_length(swing_joints):
    rotvec = np.tile([0.0, 0.0, 0.6], (len(swing_joints), 1))
    bent = rotate_subtree(swing_joints, SPINE1, rotvec)
    assert np.allclose(bone_lengths(bent), bone_lengths(swing_joints), atol=1e-9)
    assert np.allclose(bent[:, :SPINE1], swing_joints[:, :SPINE1])  # legs unmoved
    assert np.abs(bent[:, HEAD] - swing_joints[:, HEAD]).max() > 0.1  # the head moved


def test_change_speed_resamples_in_time(swing_joints):
    faster = change_speed(swing_joints, 2.0)
    assert len(faster) == (len(swing_joints) - 1) // 2 + 1
    assert np.allclose(faster[0], swing_joints[0]) and np.allclose(faster[-1], swing_joints[-1])
    assert len(change_speed(swing_joints, 0.5)) == 2 * (len(swing_joints) - 1) + 1


def test_uneven_timing_keeps_the_clip_and_its_order():
    ramp = np.broadcast_to(np.linspace(0, 1, 60)[:, None, None], (60, 22, 3)).copy()
    warped = warp_time(ramp, np.random.default_rng(0), 0.3)
    assert warped.shape == ramp.shape
    assert np.allclose(warped[[0, -1]], ramp[[0, -1]])  # starts and ends where it did
    steps = np.diff(warped[:, 0, 0])
    assert (steps > 0).all()  # never plays backwards
    rate = steps / np.diff(ramp[:, 0, 0])  # local playback rate
    assert 0.6 < rate.min() < 0.95 and 1.05 < rate.max() < 1.4


def test_lost_frames_hold_the_previous_pose():
    frames = np.arange(200, dtype=float)[:, None, None] * np.ones((1, 22, 3))
    assert np.array_equal(drop_frames(frames, np.random.default_rng(0), 0.0), frames)
    assert (drop_frames(frames, np.random.default_rng(0), 1.0) == 0).all()
    dropped = drop_frames(frames, np.random.default_rng(0), 0.2)[:, 0, 0]
    held = dropped != np.arange(200)
    assert 0.1 < held.mean() < 0.3
    assert (dropped[1:][held[1:]] == dropped[:-1][held[1:]]).all()


def test_sparse_rig_puts_the_spine_on_the_pelvis_neck_line(swing_joints):
    sparse = interpolate_sparse_joints(swing_joints, 1.0)
    neck = 0.5 * (swing_joints[:, 16] + swing_joints[:, 17])
    assert np.allclose(sparse[:, NECK], neck)
    assert np.allclose(sparse[:, SPINE2], 0.5 * (swing_joints[:, PELVIS] + neck))
    untouched = [j for j in range(22) if j not in (3, 6, 9, 12, 13, 14)]
    assert np.allclose(sparse[:, untouched], swing_joints[:, untouched])


def test_level_hips_removes_the_hips_drop_along_the_torso(swing_joints):
    level = level_hips(swing_joints, 1.0)
    up = swing_joints[:, SPINE1] - swing_joints[:, PELVIS]
    up /= np.linalg.norm(up, axis=-1, keepdims=True)
    drop = ((level[:, LEFT_HIP] - level[:, PELVIS]) * up).sum(-1)
    before = ((swing_joints[:, LEFT_HIP] - swing_joints[:, PELVIS]) * up).sum(-1)
    assert np.abs(drop).max() < 1e-9 < np.abs(before).min()


def test_variants_are_valid_rougher_motions_and_reproducible(swing_joints):
    config = AugmentConfig(copies=2)
    variant = augment_joints(swing_joints, np.random.default_rng(1), config)
    assert variant.shape[1:] == (22, 3) and np.isfinite(variant).all()
    assert np.isfinite(joints_to_features(variant)).all()
    timing = AugmentConfig(copies=1, time_warp=0.3, drop_frames=0.05)
    uneven = augment_joints(swing_joints, np.random.default_rng(1), timing)
    assert np.isfinite(joints_to_features(uneven)).all()
    assert not np.allclose(uneven, variant)
    # capture noise and faster playback: the jerk of real capture, not the generator's
    assert dynamics(variant)["median_jerk_m_s3"] > 3 * dynamics(swing_joints)["median_jerk_m_s3"]

    class Item:
        def __init__(self, name: str, features: np.ndarray) -> None:
            self.id, self.features = name, features

    items = [
        Item("a", joints_to_features(swing_joints[:80])),
        Item("b", joints_to_features(swing_joints[80:])),
    ]
    first = make_variants(items, config, seed=3)
    again = make_variants(items, config, seed=3)
    assert set(first) == {"a", "b"} and all(len(v) == 2 for v in first.values())
    assert all(np.array_equal(x, y) for k in first for x, y in zip(first[k], again[k], strict=True))
    assert first["a"][0].dtype == np.float16
    assert not np.array_equal(first["a"][0], first["a"][1])
    assert make_variants(items, AugmentConfig(copies=0), seed=3) == {}


def test_training_with_variants_refits_the_normaliser(
    tiny_config_overrides, tiny_dataset, tmp_path
):
    config = apply_overrides(
        ExperimentConfig(),
        [
            *tiny_config_overrides,
            "train.epochs=1",
            f"train.out_dir={tmp_path}",
            "augment.copies=1",
            "augment.workers=1",
            "augment.group_dropout=0.2",
        ],
    )
    result = train(config, show_progress=False)
    checkpoint = load_checkpoint(result.last_path)
    assert checkpoint.config.augment.copies == 1
    assert checkpoint.config.augment.group_dropout == 0.2
    # the statistics are those of the training motions and their variants together
    from engine.data.humanml3d import load_humanml3d

    items = load_humanml3d(tiny_dataset, ("train",)).split("train")
    variants = make_variants(items, config.augment, config.train.seed)
    sequences = [i.features for i in items] + [v for vs in variants.values() for v in vs]
    refit = Normalizer.fit([np.asarray(x, np.float32) for x in sequences])
    assert np.allclose(checkpoint.normalizer.mean, refit.mean, atol=1e-5)
    assert np.allclose(checkpoint.normalizer.std, refit.std, atol=1e-5)
    assert not np.allclose(checkpoint.normalizer.std, Normalizer.load(tiny_dataset).std)


@pytest.mark.parametrize("skeleton", [HUMANML3D, KIT], ids=["humanml3d", "kit"])
def test_group_dropout_holds_whole_groups_of_a_clip_at_the_mean(skeleton):
    owner = group_of_columns(skeleton)
    groups = feature_groups(skeleton)
    assert sorted(np.concatenate([g.columns for g in groups])) == list(range(len(owner)))
    torch.manual_seed(0)
    features = torch.randn(64, 30, skeleton.feature_dim) + 5.0  # no entry is 0 by chance
    assert torch.equal(drop_feature_groups(features, owner, 0.0), features)
    assert not drop_feature_groups(features, owner, 1.0).any()
    dropped = drop_feature_groups(features, owner, 0.3) == 0
    # each (clip, group) is held at the mean on every frame and column, or on none
    per_group = torch.stack([dropped[:, :, g.columns].float().mean((1, 2)) for g in groups], 1)
    assert set(per_group.unique().tolist()) == {0.0, 1.0}
    assert 0.25 < per_group.mean().item() < 0.35
    assert per_group.std(0).max() > 0  # clips of one batch drop different groups


def test_label_matched_spread_compares_real_clips_with_gallery_clips_of_their_labels():
    from types import SimpleNamespace

    from engine.evaluation.real_transfer import RealClip, label_matched_spread

    # gallery: every "walk" clip points one way, every "run" clip another, orthogonal
    walk, run = np.eye(4)[0], np.eye(4)[1]
    gallery = SimpleNamespace(
        items=[SimpleNamespace(actions=(a,)) for a in ["walk"] * 5 + ["run"] * 5],
        embeddings=np.array([walk] * 5 + [run] * 5),
    )
    clips = [
        RealClip(name, SimpleNamespace(features=vector), frozenset(labels), "")
        for name, vector, labels in [
            ("w", np.array([0.6, 0.8, 0, 0]), {"walk"}),
            ("r", np.array([0.8, 0.6, 0, 0]), {"run"}),
            ("x", np.array([0, 0, 1.0, 0]), set()),  # unlabelled: left out
        ]
    ]
    encoder = SimpleNamespace(encode_motions=lambda features: np.array(features))
    spread = label_matched_spread(SimpleNamespace(encoder=encoder, gallery=gallery), clips)
    assert spread["real_labelled_mean_pairwise_cosine"] == pytest.approx(0.96)
    assert spread["corpus_same_labels_mean_pairwise_cosine"] == pytest.approx(0.0)


def test_expected_hits_give_chance_to_a_model_that_scores_everything_alike():
    correct = np.zeros((4, 20), dtype=bool)
    correct[:, :5] = True  # a quarter of the gallery carries the query's label
    flat = np.zeros((4, 20))
    hit, chance = expected_hits(flat, correct, 1)
    assert hit == pytest.approx(0.25) and chance == pytest.approx(0.25)
    hit5, chance5 = expected_hits(flat, correct, 5)
    expected = 1 - np.prod([(15 - i) / (20 - i) for i in range(5)])  # 1 - C(15,5)/C(20,5)
    assert hit5 == pytest.approx(expected) and chance5 == pytest.approx(expected)
    perfect = np.where(correct, 1.0, 0.0)
    assert expected_hits(perfect, correct, 1)[0] == 1.0
    worst = np.where(correct, 0.0, 1.0)
    assert expected_hits(worst, correct, 5)[0] == 0.0


def test_mean_pairwise_cosine_of_identical_and_orthogonal_rows():
    assert mean_pairwise_cosine(np.tile([[1.0, 0.0]], (3, 1))) == pytest.approx(1.0)
    assert mean_pairwise_cosine(np.eye(4)) == pytest.approx(0.0)


def test_feature_profile_groups_cover_every_feature_once():
    columns = np.concatenate([g.columns for g in feature_groups()])
    assert sorted(columns) == list(range(263))
    features = np.zeros((10, 263), np.float32)
    stats = Normalizer(np.zeros(263), np.ones(263))
    features[:, feature_groups()[5].columns] = 3.0
    profile = feature_profile(features, stats)
    assert profile[feature_groups()[5].name] == pytest.approx(3.0)
    assert sum(profile.values()) == pytest.approx(3.0)


def test_real_development_clips_load_with_their_labels():
    folder = SHARED / "data" / "real_dev"
    if not (folder / "labels.json").is_file():
        pytest.skip(f"the real development clips are not at {folder} (../shared/data/real_dev)")
    clips = load_real_dev(folder)
    listed = json.loads((folder / "labels.json").read_text())["clips"]
    assert len(clips) == len(listed)
    walk = next(c for c in clips if c.name == "walk")
    assert walk.labels == {"walk_forward"} and walk.motion.features.shape[1] == 263
    assert all("(" not in clip.description for clip in clips)


def test_familiarity_flags_what_the_gallery_never_shows():
    from engine.familiarity import FamiliarityCheck

    rng = np.random.default_rng(0)
    stats = Normalizer(np.zeros(263), np.ones(263))
    gallery = [rng.normal(0, 1, (40, 263)).astype(np.float32) for _ in range(200)]
    embeddings = rng.normal(0, 1, (200, 16))
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    ids = [f"{i:06d}" for i in range(200)]
    check = FamiliarityCheck.from_gallery(stats, gallery, embeddings, ids)
    # a mirror twin does not count as the nearest other motion
    twinned = np.concatenate([embeddings[:100], embeddings[:100]])
    twin_ids = ids[:100] + [f"M{i}" for i in ids[:100]]
    assert FamiliarityCheck.from_gallery(stats, gallery, twinned, twin_ids).cosine_floor < 0.99
    best = float(np.sort(embeddings @ embeddings.T, axis=1)[:, -2].max())  # a typical match
    assert check.check(gallery[0], best).familiar
    assert check.check(gallery[0], best).notice() == ""
    odd = gallery[1].copy()
    spine3 = next(g for g in feature_groups() if g.name == "rotation: spine3")
    odd[:, spine3.columns] = 12.0
    found = check.check(odd, best)
    assert not found.familiar and found.unusual_groups[0][0] == "rotation: spine3"
    assert "rotation: spine3" in found.notice() and "caution" in found.notice()
    # a model that does not read rotations is not misled by them
    positions_only = feature_groups(HUMANML3D, ["rotations"])
    assert len(positions_only) == len(feature_groups()) - 21
    unread = FamiliarityCheck.from_gallery(stats, gallery, embeddings, ids, positions_only)
    assert unread.check(odd, best).familiar
    lonely = check.check(gallery[0], check.cosine_floor - 0.2)
    assert not lonely.familiar and "best match scores" in lonely.notice()
    assert lonely.to_json()["familiar"] is False


def test_streamed_statistics_equal_the_concatenated_ones():
    from engine.training.augment import fit_normalizer

    rng = np.random.default_rng(0)
    sequences = [rng.normal(3, 2, (int(n), 263)) for n in rng.integers(5, 50, 20)]
    streamed, whole = fit_normalizer(iter(sequences)), Normalizer.fit(sequences)
    assert np.allclose(streamed.mean, whole.mean) and np.allclose(streamed.std, whole.std)
    with pytest.raises(ValueError):
        fit_normalizer([])


def test_the_shipped_model_transfers_to_real_capture():
    """What the shipped model measures on the real development clips
    (docs/real_transfer.md): real clips as motion queries find their action (hit@5 one
    query short of the issue's 0.80), descriptions find the real clip they describe (the
    issue's target), real clips no longer in one corner (gap 0.12 of the target's 0.10;
    0.46 for the first shipped model)."""
    folder = SHARED / "data" / "real_dev"
    if not (folder / "labels.json").is_file():
        pytest.skip(f"the real development clips are not at {folder} (../shared/data/real_dev)")
    from benchmarks.real_transfer import transfer_figures
    from engine.catalog import open_search_engine

    figures = transfer_figures(open_search_engine(device="cpu"), folder, corpus=False)
    queries = figures["motion_queries"]
    assert queries["hit@1"] >= 0.5 and queries["hit@5"] >= 0.75, queries
    assert figures["text_to_real"]["hit@1"] >= 0.7, figures["text_to_real"]
    spread = figures["spread"]
    assert spread["real_mean_pairwise_cosine"] - spread["corpus_mean_pairwise_cosine"] < 0.15
    # the roll, an action the corpus lacks, is flagged as unfamiliar (the backflip is not:
    # its best match, 0.79, clears the gallery's floor; docs/real_transfer.md)
    assert not figures["familiar"]["roll"]


@pytest.mark.skipif(
    not (SHARED / "data" / "humanml3d_sample" / "Std.npy").is_file(),
    reason="HumanML3D's statistics (../shared/data/humanml3d_sample) are not here",
)
def test_block_std_is_humanml3d_s_own_recipe():
    from engine.motion.features import FeatureLayout

    real = Normalizer.load(SHARED / "data" / "humanml3d_sample")
    blocks = FeatureLayout(22).std_blocks()
    assert np.allclose(real.block_averaged(blocks).std, real.std, rtol=1e-5)
