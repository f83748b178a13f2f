"""The two ways from a video into the shared space, measured on held-out simulated
observations (engine/video/simulate.py) of a split's motions: lifting (landmarks → the
22-joint body → the motion encoder), the video encoder, and both combined (the mean of
the two normalised embeddings, normalised). Video→motion and video→text retrieval under
the evaluation protocols (engine/evaluation/protocols.py), next to text→motion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.data.dataset import MotionItem
from engine.data.motion_import import motion_from_joints
from engine.encoder import MotionTextEncoder
from engine.evaluation.protocols import evaluate_protocol
from engine.models.language import TextFeatureStore
from engine.models.video_encoder import VideoEncoderFile, combined
from engine.motion.motion import Motion
from engine.video.lift import lift
from engine.video.simulate import DEFAULT_SIMULATION, SimulationConfig, simulate
from engine.video.track import PoseTrack

KS = (1, 5, 10)


def lifted_embeddings(encoder: MotionTextEncoder, tracks: Sequence[PoseTrack]) -> np.ndarray:
    features = [
        motion_from_joints(f"observation-{i}.npy", lift(track), {"format": "video"}).features
        for i, track in enumerate(tracks)
    ]
    return encoder.encode_motions(features)


@dataclass
class VideoPathResults:
    """{path: {protocol: {"video→motion": {R@1, ...}, "video→text": {...}}}} and the
    text→motion reference {protocol: {R@1, ...}} on the same items."""

    paths: dict[str, dict[str, dict[str, dict[str, float]]]]
    text_to_motion: dict[str, dict[str, float]]
    items: int


def evaluate_video_paths(
    encoder: MotionTextEncoder,
    video_encoder: VideoEncoderFile | None,
    items: Sequence[MotionItem],
    store: TextFeatureStore,
    protocols: Sequence[str] = ("all", "dissimilar"),
    seed: int = 1,
    simulation: SimulationConfig = DEFAULT_SIMULATION,
) -> VideoPathResults:
    """One simulated observation per item (seeded: the same for every path)."""
    rng = np.random.default_rng(seed)
    tracks = [
        simulate(Motion.from_features(item.id, item.features).joints, rng, simulation).filled()
        for item in items
    ]
    captions = [item.captions[0] for item in items]
    text = encoder.encode_texts(captions, store)
    motion = encoder.encode_motions([item.features for item in items])
    sentence = store.sentences(captions)
    embeddings = {"lifting": lifted_embeddings(encoder, tracks)}
    if video_encoder is not None:
        embeddings["video encoder"] = video_encoder.embed(tracks)
        embeddings["both"] = combined(embeddings["lifting"], embeddings["video encoder"])

    def recall(query: np.ndarray, gallery: np.ndarray, protocol: str) -> dict[str, float]:
        metrics = evaluate_protocol(protocol, query, gallery, sentence)["t2m"]
        return {f"R@{k}": metrics[f"R@{k}"] for k in KS}

    paths = {
        name: {
            protocol: {
                "video→motion": recall(video, motion, protocol),
                "video→text": recall(video, text, protocol),
            }
            for protocol in protocols
        }
        for name, video in embeddings.items()
    }
    reference = {protocol: recall(text, motion, protocol) for protocol in protocols}
    return VideoPathResults(paths, reference, len(items))
