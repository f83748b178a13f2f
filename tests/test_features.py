"""The HumanML3D representation: exactness against the real clip 012314 and its Mean/Std
(skipped without ../shared), everything else on a generated clip."""

from __future__ import annotations

import numpy as np
import pytest

from engine.motion.features import (
    FeatureLayout,
    canonicalize,
    features_to_joints,
    joints_to_features,
)
from engine.motion.mirror import mirror_features, mirror_joints
from engine.motion.normalization import Normalizer
from engine.motion.skeleton import HUMANML3D, KIT


def test_features_to_joints_reproduces_real_new_joints(real_features, real_joints):
    joints = features_to_joints(real_features)
    assert joints.shape == real_joints.shape == (170, 22, 3)
    assert np.abs(joints - real_joints).max() < 1e-4


def test_joints_to_features_reproduces_real_features(real_features, real_joints):
    # new_joints lacks the clip's last pose, which HumanML3D's forward-direction smoothing
    # (a Gaussian of sigma 20 frames) saw; away from the end the features must match.
    features = joints_to_features(real_joints)
    layout = FeatureLayout(22)
    head = slice(0, 100)
    for part in ("root", "ric", "rot", "vel", "contacts"):
        s = getattr(layout, part)
        assert np.abs(features[head, s] - real_features[head, s]).max() < 1e-4, part


def test_round_trip_on_a_clip(motion_joints):
    features = joints_to_features(motion_joints)
    assert features.shape == (len(motion_joints) - 1, 263)
    assert np.abs(features_to_joints(features) - motion_joints[:-1]).max() < 1e-3


def test_round_trip_on_mirrored_clip(motion_joints):
    mirrored = mirror_joints(motion_joints)
    canonical = canonicalize(mirrored)
    # retargeting re-imposes the reference skeleton's own left/right asymmetry (mm)
    # and rescales the root path by the leg-length ratio, nothing more
    assert np.abs(canonical - mirrored).max() < 0.05
    recovered = features_to_joints(joints_to_features(mirrored))
    assert np.abs(recovered - canonical[:-1]).max() < 1e-3
    # bone lengths are the reference ones after the round trip
    for parent, child in HUMANML3D.bones:
        lengths = np.linalg.norm(recovered[:, child] - recovered[:, parent], axis=-1)
        assert np.allclose(lengths, HUMANML3D.bone_lengths[child], atol=1e-4)


def test_feature_mirroring_commutes_with_recovery(motion_features):
    direct = features_to_joints(mirror_features(motion_features))
    assert np.abs(direct - mirror_joints(features_to_joints(motion_features))).max() < 1e-5
    assert np.array_equal(mirror_features(mirror_features(motion_features)), motion_features)


def test_feature_mirroring_matches_reprocessed_mirror(motion_joints):
    features = joints_to_features(motion_joints)
    reprocessed = features_to_joints(joints_to_features(mirror_joints(motion_joints)))
    direct = features_to_joints(mirror_features(features))
    # the only difference is the reference skeleton's asymmetry re-imposed by retargeting
    assert np.abs(reprocessed - direct).max() < 0.05


def test_canonical_form(motion_joints):
    moved = motion_joints @ np.array([[0.0, 0, -1], [0, 1, 0], [1, 0, 0]]) + [3.0, 0.5, -2.0]
    canonical = canonicalize(moved)
    assert abs(canonical[..., 1].min()) < 1e-9
    assert np.allclose(canonical[0, 0, [0, 2]], 0.0)
    assert np.abs(canonical - canonicalize(motion_joints)).max() < 1e-4


def test_real_statistics_normalise(humanml3d_sample_dir, real_features):
    normalizer = Normalizer.load(humanml3d_sample_dir)
    assert normalizer.dim == 263
    normalized = normalizer.normalize(real_features)
    assert np.abs(normalizer.denormalize(normalized) - real_features).max() < 1e-4
    # a real clip sits within a few standard deviations of the data set's statistics
    assert np.abs(normalized[:, :193]).mean() < 2.0


def test_normalizer_fit_and_validation():
    rng = np.random.default_rng(0)
    seqs = [rng.normal(3.0, 2.0, size=(50, 8)) for _ in range(4)]
    normalizer = Normalizer.fit(seqs)
    assert np.allclose(normalizer.mean, 3.0, atol=0.3)
    with pytest.raises(ValueError, match="values per frame"):
        normalizer.normalize(np.zeros((3, 9)))
    with pytest.raises(ValueError, match="NaN"):
        Normalizer(np.full(3, np.nan), np.ones(3))


def test_kit_representation_round_trip(motion_joints):
    # a KIT-shaped body built from the clip (millimetres, KIT's joint order)
    kit_from_smpl = [0, 3, 9, 12, 15, 17, 19, 21, 16, 18, 20, 2, 5, 8, 11, 11, 1, 4, 7, 10, 10]
    joints = motion_joints[:, kit_from_smpl] * 1000.0
    joints[:, [15, 20], 2] += 60.0  # toes ahead of the metatarsals
    features = joints_to_features(joints, KIT)
    frames = len(motion_joints) - 1
    assert features.shape == (frames, 251) == (frames, KIT.feature_dim)
    recovered = features_to_joints(features)
    assert recovered.shape == (frames, 21, 3)
    assert np.abs(recovered - canonicalize(joints, KIT)[:-1]).max() < 1.0  # mm
    mirrored = features_to_joints(mirror_features(features))
    assert np.abs(mirrored - mirror_joints(recovered)).max() < 1e-2


@pytest.mark.parametrize(
    ("shape", "message"),
    [((10, 21, 3), r"\(frames, 22, 3\)"), ((1, 22, 3), "at least 2 frames")],
)
def test_bad_joint_arrays_are_rejected(shape, message):
    with pytest.raises(ValueError, match=message):
        joints_to_features(np.zeros(shape))


def test_nan_joints_are_rejected(motion_joints):
    joints = motion_joints.copy()
    joints[3, 4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        joints_to_features(joints)


def test_unknown_feature_size_is_rejected():
    with pytest.raises(ValueError, match="no skeleton has 100-d features"):
        features_to_joints(np.zeros((5, 100)))


def test_qbetween_handles_opposite_directions():
    from engine.motion.rotations import qbetween, qrot

    up = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    q = qbetween(up, -up)
    assert np.isfinite(q).all()
    assert np.allclose(qrot(q, up), -up, atol=1e-9)
    q = qbetween(up, up[[1, 2, 0]])
    assert np.allclose(
        qrot(q, up / np.linalg.norm(up, axis=1, keepdims=True)),
        up[[1, 2, 0]] / np.linalg.norm(up[[1, 2, 0]], axis=1, keepdims=True),
    )
