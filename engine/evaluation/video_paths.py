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
from engine.models.language import TextFeatureStore, shared_caption_store
from engine.models.video_encoder import VideoEncoderFile, combined
from engine.motion.motion import Motion
from engine.video.lift import lift
from engine.video.simulate import DEFAULT_SIMULATION, SimulationConfig, simulate
from engine.video.track import PoseTrack

KS = (1, 5, 10)
HELD_OUT_ITEMS = 500  # a bounded run: simulating and lifting every test motion takes long


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


def held_out_sample(items: Sequence[MotionItem], count: int = HELD_OUT_ITEMS) -> list[MotionItem]:
    """`count` of a split's items (all when `count` is 0 or more than there are), the same
    ones whichever order the split comes in: chosen by a fixed seed among the items
    sorted by id."""
    ordered = sorted(items, key=lambda item: item.id)
    if not count or count >= len(ordered):
        return ordered
    rows = np.random.default_rng(0).choice(len(ordered), count, replace=False)
    return [ordered[i] for i in sorted(rows)]


def evaluate_held_out(
    encoder: MotionTextEncoder,
    video_encoder: VideoEncoderFile | None,
    test_items: Sequence[MotionItem],
    count: int = HELD_OUT_ITEMS,
) -> VideoPathResults:
    """The ways in measured on `count` of the test split's motions (never trained on by
    either model), with the captions' shared text-feature cache."""
    store = shared_caption_store(encoder.checkpoint.config.model.max_tokens)
    return evaluate_video_paths(encoder, video_encoder, held_out_sample(test_items, count), store)


WAY_IN = {
    "lifting": "lifting",
    "video encoder": "video encoder",
    "both": "both (mean of the two unit embeddings)",
}


def video_paths_table(results: VideoPathResults) -> str:
    """The measurements as a Markdown table: a row per way in and protocol, and the
    text→motion reference on the same items."""

    def cells(metrics: dict[str, float]) -> str:
        return " / ".join(f"{metrics[f'R@{k}']:.1f}" for k in KS)

    rows = [
        f"| {WAY_IN[name]} | {protocol} | {cells(by_protocol[protocol]['video→motion'])} | "
        f"{cells(by_protocol[protocol]['video→text'])} |"
        for protocol in results.text_to_motion
        for name, by_protocol in results.paths.items()
    ]
    rows += [
        f"| *text→motion, same items* | {protocol} | {cells(metrics)} | |"
        for protocol, metrics in results.text_to_motion.items()
    ]
    return "\n".join(
        [
            "| way in | protocol | video→motion R@1 / 5 / 10 | video→text R@1 / 5 / 10 |",
            "|---|---|---|---|",
            *rows,
        ]
    )
