"""Add the training motions' per-feature statistics to a checkpoint trained with one std
per feature block (`data.block_std`) before the trainer saved them: the familiarity check
judges a query's features in these units (engine/models/checkpoint.py). Recomputed from
the checkpoint's own configuration (its corpus, its variants, its seed) and checked:
block-averaged, they must give the checkpoint's normaliser.

    python -m scripts.feature_statistics assets/model
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from engine.data.loading import open_training_data
from engine.models.checkpoint import FEATURE_STATISTICS_FILE, load_checkpoint, save_statistics
from engine.motion.features import FeatureLayout
from engine.training.augment import make_variants, statistics_with_variants
from engine.training.run import resolve_data_paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint")
    args = parser.parse_args()
    checkpoint = load_checkpoint(args.checkpoint)
    config = checkpoint.config
    if not config.data.block_std or config.data.statistics:
        raise SystemExit(f"{args.checkpoint}: its normaliser is per feature already")
    dataset, _ = open_training_data(
        resolve_data_paths(config), (config.data.train_split, config.data.val_split)
    )
    items = [i for i in dataset.split(config.data.train_split) if i.num_frames >= 2]
    variants = make_variants(items, config.augment, config.train.seed, os.cpu_count() or 1)
    statistics = statistics_with_variants(items, variants)
    averaged = statistics.block_averaged(FeatureLayout(dataset.skeleton.num_joints).std_blocks())
    for name in ("mean", "std"):
        shipped = getattr(checkpoint.normalizer, name)
        if not np.allclose(getattr(averaged, name), shipped, rtol=1e-3, atol=1e-5):
            raise SystemExit(f"{args.checkpoint}: the recomputed {name} does not match its own")
    save_statistics(statistics, Path(args.checkpoint) / FEATURE_STATISTICS_FILE)
    print(f"{args.checkpoint}/{FEATURE_STATISTICS_FILE}: {len(items)} motions and variants")


if __name__ == "__main__":
    main()
