"""The video encoder's training data and model: simulated estimator observations of a
motion (engine/video/simulate.py), the encoder's input, and its file."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.errors import EngineError
from engine.models.video_encoder import (
    VideoEncoder,
    VideoEncoderConfig,
    VideoEncoderFile,
    load_video_encoder,
    observation_features,
)
from engine.motion.skeleton import HUMANML3D
from engine.video.lift import lift
from engine.video.pose import BLAZEPOSE
from engine.video.simulate import SimulationConfig, blazepose_landmarks, simulate
from tests.test_video import walking_joints

CLEAN = SimulationConfig(
    image_noise=0.0,
    image_drift=0.0,
    world_noise=0.0,
    dropped_frames=0.0,
    drop_burst=0.0,
    occluded=0.0,
    off_centre=0.0,
    distance=(6.0, 6.0),
)


def _pelvis_distances(joints: np.ndarray) -> np.ndarray:
    """Every joint's distance to the pelvis per frame: the pose without its placement."""
    return np.linalg.norm(joints - joints[:, :1], axis=-1)


def test_landmarks_follow_the_body():
    joints = walking_joints()
    landmarks = blazepose_landmarks(joints)
    assert landmarks.shape == (len(joints), 33, 3)
    for name in ("left_knee", "right_wrist", "left_shoulder"):
        np.testing.assert_allclose(
            landmarks[:, BLAZEPOSE.index(name)], joints[:, HUMANML3D.index(name)]
        )
    ears = landmarks[:, [BLAZEPOSE.index("left_ear"), BLAZEPOSE.index("right_ear")]]
    np.testing.assert_allclose(ears.mean(1), joints[:, HUMANML3D.index("head")], atol=1e-6)
    # the nose is in front of the head, where the body faces
    hips = joints[:, HUMANML3D.index("left_hip")] - joints[:, HUMANML3D.index("right_hip")]
    facing = np.cross(hips, [0.0, 1.0, 0.0])
    nose = landmarks[:, BLAZEPOSE.index("nose")] - joints[:, HUMANML3D.index("head")]
    assert ((nose * facing).sum(-1) > 0).all()


def test_clean_observation_lifts_back_to_the_pose():
    joints = walking_joints()
    track = simulate(joints, np.random.default_rng(3), CLEAN).filled()
    assert track.landmark_names == BLAZEPOSE and track.found.all()
    width, height = CLEAN.frame_size
    inside = (track.image >= 0) & (track.image <= [width, height])
    assert inside.all(), "a centred camera 6 m away sees the whole walker"
    hips = (track.world[:, 23] + track.world[:, 24]) / 2
    np.testing.assert_allclose(hips, 0.0, atol=1e-5)  # world landmarks are hip-centred
    lifted = lift(track)
    n = min(len(lifted), len(joints))
    original, recovered = _pelvis_distances(joints[:n]), _pelvis_distances(lifted[:n])
    arms_legs = [HUMANML3D.index(f"{s}_{j}") for s in ("left", "right") for j in ("wrist", "ankle")]
    correlation = np.corrcoef(original[:, arms_legs].ravel(), recovered[:, arms_legs].ravel())
    assert correlation[0, 1] > 0.95, correlation


def test_noisy_observation_has_what_goes_wrong_in_real_footage():
    joints = np.concatenate([walking_joints()] * 3)  # long enough for a burst of lost frames
    config = SimulationConfig(dropped_frames=0.1, drop_burst=1.0, occluded=0.5)
    track = simulate(joints, np.random.default_rng(0), config)
    lost = ~track.found
    assert lost.sum() >= 3 and np.isnan(track.image[lost]).all()
    assert (track.confidence[track.found] < 0.5).any()  # occluded stretches
    clean = simulate(joints, np.random.default_rng(0), CLEAN)
    seen = track.found
    error = np.abs(track.image[seen] - clean.image[seen]).mean()
    assert error > 0.5  # pixels of noise


def test_encoder_input_ignores_picture_size_and_distance():
    joints = walking_joints()
    track = simulate(joints, np.random.default_rng(1), CLEAN).filled()
    bigger = dataclasses.replace(track, image=track.image * 2.0)
    a, b = observation_features(track), observation_features(bigger)
    assert a.shape == (len(range(0, len(track), 2)), 33 * 6 + 3)
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_video_encoder_file_refuses_another_space(tmp_path):
    config = VideoEncoderConfig(embed_dim=16, width=16, layers=1, heads=2)
    track = simulate(walking_joints(), np.random.default_rng(2), CLEAN).filled()
    features = observation_features(track)
    model = VideoEncoder(features.shape[1], config)
    trained = VideoEncoderFile(model, config, features.mean(0), features.std(0) + 1e-3, "space-a")
    path = trained.save(tmp_path / "video.safetensors")
    loaded = load_video_encoder(path, "space-a")
    embedding = loaded.embed([track])
    np.testing.assert_allclose(embedding, trained.embed([track]), atol=1e-6)
    assert embedding.shape == (1, 16)
    assert np.linalg.norm(embedding, axis=1) == pytest.approx(1.0)
    with pytest.raises(EngineError, match="another text/motion model"):
        load_video_encoder(path, "space-b")


class _Engine:
    """What video_query_vector reads of a SearchEngine."""

    def __init__(self, fingerprint: str) -> None:
        self.encoder = type("Encoder", (), {"fingerprint": fingerprint})()

    def embed_motion(self, features: np.ndarray) -> np.ndarray:
        vector = np.zeros(16, np.float32)
        vector[0] = 1.0
        return vector


def test_video_query_uses_the_video_encoder_of_its_model_only(tmp_path, monkeypatch):
    import engine.models.video_encoder as module
    from engine.video.embedding import BOTH, LIFTING, video_query_vector

    config = VideoEncoderConfig(embed_dim=16, width=16, layers=1, heads=2)
    track = simulate(walking_joints(), np.random.default_rng(4), CLEAN).filled()
    features = observation_features(track)
    trained = VideoEncoderFile(
        VideoEncoder(features.shape[1], config),
        config,
        features.mean(0),
        features.std(0) + 1e-3,
        "ours",
    )
    monkeypatch.setattr(
        module, "SHIPPED_VIDEO_ENCODER", trained.save(tmp_path / "video.safetensors")
    )
    monkeypatch.setattr(module, "_loaded", {})
    result = type("Result", (), {"motion": type("M", (), {"features": None})(), "track": track})()
    vector, way_in = video_query_vector(_Engine("ours"), result)
    encoded = trained.embed([track])[0]
    assert way_in == BOTH
    np.testing.assert_allclose(vector, module.combined(_Engine("ours").embed_motion(None), encoded))
    assert np.linalg.norm(vector) == pytest.approx(1.0)
    vector, way_in = video_query_vector(_Engine("a visitor's model"), result)
    assert way_in == LIFTING and vector[0] == 1.0
