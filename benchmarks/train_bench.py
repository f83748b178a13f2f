"""Training throughput (samples/s) and peak memory at a configuration.

    python -m benchmarks.train_bench [--config configs/shipped.yaml] [--steps 30]

Times optimiser steps of the real training objective on batches shaped like the corpus
(random lengths 41-196 frames, real MiniLM-sized token features), after a warm-up, on
the configured device. Peak memory: the process's maximum resident set size on the CPU,
`torch.cuda.max_memory_allocated` on a GPU.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
import torch

from engine.config import ExperimentConfig, load_config
from engine.encoder import pick_device
from engine.losses import RetrievalLoss
from engine.models.language import TEXT_DIM, TokenFeatures
from engine.models.retrieval import RetrievalModel
from engine.motion.skeleton import HUMANML3D
from engine.training.batches import Batch, MotionBatch
from engine.training.trainer import TrainingObjective


def synthetic_batch(batch_size: int, rng: np.random.Generator) -> Batch:
    lengths = rng.integers(41, 197, batch_size)
    frames = int(lengths.max())
    mask = torch.from_numpy(np.arange(frames)[None] < lengths[:, None])
    features = torch.randn(batch_size, frames, HUMANML3D.feature_dim) * mask[..., None]
    tokens = int(rng.integers(10, 20))
    sentence = torch.nn.functional.normalize(torch.randn(batch_size, TEXT_DIM), dim=-1)
    text = TokenFeatures(
        torch.randn(batch_size, tokens, TEXT_DIM),
        torch.ones(batch_size, tokens, dtype=torch.bool),
        sentence,
    )
    return Batch(MotionBatch(features, mask), text, ["caption"] * batch_size, ["id"] * batch_size)


def measure(config: ExperimentConfig, steps: int, warmup: int = 5) -> dict:
    device = pick_device(config.train.device)
    torch.manual_seed(0)
    model = RetrievalModel(config.model, HUMANML3D)
    objective = TrainingObjective(
        model, RetrievalLoss(config.loss), HUMANML3D, config.augment.group_dropout
    ).to(device)
    optimizer = torch.optim.AdamW(objective.parameters(), lr=config.train.lr)
    rng = np.random.default_rng(0)
    batches = [synthetic_batch(config.train.batch_size, rng) for _ in range(8)]
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def step(i: int) -> None:
        b = batches[i % len(batches)]
        batch = Batch(b.motion.to(device), b.text.to(device), b.captions, b.ids)
        loss = objective(batch, 0.5, 10).total
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for i in range(warmup):
        step(i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak = (
        torch.cuda.max_memory_allocated() / 2**20
        if device.type == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    return {
        "device": str(device),
        "threads": torch.get_num_threads(),
        "parameters_millions": model.trainable_parameters() / 1e6,
        "batch_size": config.train.batch_size,
        "samples_per_second": steps * config.train.batch_size / seconds,
        "seconds_per_step": seconds / steps,
        "peak_memory_mib": peak,
        "encoder": config.model.motion_encoder,
        "loss": config.loss.kind,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", help="experiment configuration (default: engine defaults)")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--device", help="override train.device")
    args = parser.parse_args()
    config = load_config(args.config) if args.config else ExperimentConfig()
    if args.device:
        config.train.device = args.device
    print(json.dumps(measure(config, args.steps), indent=2))


if __name__ == "__main__":
    main()
