"""Train the video encoder (engine/models/video_encoder.py) into a frozen text–motion
model's space, from motions alone: each epoch films every training motion anew with a
random simulated camera and estimator (engine/video/simulate.py), and the encoder learns
to put the observation where the motion encoder puts the motion and the text encoder its
captions (InfoNCE over video–motion and video–text pairs; the text and motion encoders
stay frozen, so their embeddings are computed once and every training motion is a
negative for every other).

    python -m engine.training.video_encoder --out runs/video_encoder.safetensors [--epochs 6]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.data.dataset import MotionItem
from engine.data.embedded import embedded_corpus
from engine.data.loading import open_gallery_dataset
from engine.defaults import resolve_checkpoint
from engine.encoder import MotionTextEncoder
from engine.models.language import shared_caption_store
from engine.models.video_encoder import (
    DEFAULT_VIDEO_ENCODER,
    VideoEncoder,
    VideoEncoderConfig,
    VideoEncoderFile,
    batch,
    observation_features,
)
from engine.motion.motion import Motion
from engine.video.simulate import DEFAULT_SIMULATION, SimulationConfig, simulate

Log = Callable[[str], None]


@dataclass(frozen=True)
class VideoTrainingConfig:
    epochs: int = 6
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    temperature: float = 0.05
    text_weight: float = 0.5  # video–text loss relative to video–motion
    max_items: int | None = None  # a subset of the training split (None: all)
    seed: int = 0
    threads: int = 1


DEFAULT_TRAINING = VideoTrainingConfig()


def corpus_items(encoder: MotionTextEncoder, split: str) -> list[MotionItem]:
    """The items of a split of the corpus the model was trained on."""
    corpus = encoder.checkpoint.config.data
    folder = embedded_corpus(corpus.corpus_size, corpus.corpus_seed)
    dataset, ids = open_gallery_dataset(folder, encoder.normalizer.dim, split)
    return [dataset.items[i] for i in ids]


def observe(
    joints: Sequence[np.ndarray], rng: np.random.Generator, config: SimulationConfig
) -> list[np.ndarray]:
    """One simulated observation of each motion, as the video encoder's input."""
    return [observation_features(simulate(j, rng, config).filled()) for j in joints]


def input_statistics(features: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    frames = np.concatenate(features)
    return frames.mean(0), np.maximum(frames.std(0), 1e-3)


def train_video_encoder(
    encoder: MotionTextEncoder,
    items: Sequence[MotionItem],
    config: VideoTrainingConfig = DEFAULT_TRAINING,
    model_config: VideoEncoderConfig = DEFAULT_VIDEO_ENCODER,
    simulation: SimulationConfig = DEFAULT_SIMULATION,
    log: Log = print,
) -> VideoEncoderFile:
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = np.random.default_rng(config.seed)
    log(f"embedding {len(items)} motions and their captions with the frozen encoders")
    motion_targets = torch.from_numpy(encoder.encode_motions([i.features for i in items]))
    captions = [c for item in items for c in item.captions]
    owner = np.repeat(np.arange(len(items)), [len(item.captions) for item in items])
    text_targets = torch.from_numpy(
        encoder.encode_texts(
            captions, shared_caption_store(encoder.checkpoint.config.model.max_tokens)
        )
    )
    joints = [Motion.from_features(i.id, i.features).joints for i in items]
    features = observe(joints, rng, simulation)
    mean, std = input_statistics(features)
    model = VideoEncoder(features[0].shape[1], model_config)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    steps = config.epochs * -(-len(items) // config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, config.learning_rate, total_steps=steps, pct_start=0.1
    )
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(config.epochs):
        started, total = time.perf_counter(), 0.0
        if epoch:
            features = observe(joints, rng, simulation)  # every epoch a new camera and noise
        # each motion's caption this epoch: one of its own, drawn at random
        chosen = np.array(
            [rng.choice(np.flatnonzero(owner == i)) for i in range(len(items))], dtype=int
        )
        texts = text_targets[chosen]
        model.train()
        for rows in np.array_split(rng.permutation(len(items)), steps // config.epochs):
            frames, padding = batch([features[r] for r in rows], mean, std)
            video = model(frames, padding)
            target = torch.from_numpy(rows)
            loss = loss_fn(video @ motion_targets.T / config.temperature, target)
            loss = loss + config.text_weight * loss_fn(video @ texts.T / config.temperature, target)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(rows)
        log(
            f"epoch {epoch + 1}/{config.epochs}: loss {total / len(items):.3f} "
            f"({time.perf_counter() - started:.0f} s)"
        )
    model.eval()
    return VideoEncoderFile(model, model_config, mean, std, encoder.fingerprint)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--checkpoint", default=None, help="text–motion model")
    parser.add_argument("--epochs", type=int, default=VideoTrainingConfig.epochs)
    parser.add_argument("--items", type=int, default=None, help="use this many training motions")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    encoder = MotionTextEncoder.load(resolve_checkpoint(args.checkpoint), "cpu")
    items = corpus_items(encoder, "train")[: args.items]
    config = VideoTrainingConfig(epochs=args.epochs, max_items=args.items, threads=args.threads)
    trained = train_video_encoder(encoder, items, config)
    print(f"saved {trained.save(args.out)}")


if __name__ == "__main__":
    main()
