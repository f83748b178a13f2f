"""Copy a trained checkpoint into assets/ as the shipped model: float16 weights, and the
corpus version and training record in its config.

    python -m scripts.ship_model runs/shipped/best assets/model \\
        [--train-log runs/shipped/train.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.data.corpus import CORPUS_VERSION
from engine.data.embedded import generator_fingerprint
from engine.models.checkpoint import load_checkpoint, save_checkpoint
from scripts import checked_size_mb

MAX_MB = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("--train-log", help="the JSON printed by `python -m engine train`")
    args = parser.parse_args()
    checkpoint = load_checkpoint(args.source)
    header = json.loads((Path(args.source) / "config.json").read_text())
    info = {
        **checkpoint.info,
        "corpus_version": CORPUS_VERSION,
        "generator_fingerprint": generator_fingerprint(),
        "source": str(args.source),
    }
    if args.train_log:
        log = json.loads(Path(args.train_log).read_text())
        info["training"] = {k: log[k] for k in ("seconds", "steps", "samples_per_second")}
    target = save_checkpoint(
        args.target,
        checkpoint.model,
        checkpoint.config,
        checkpoint.normalizer,
        header["skeleton"],
        checkpoint.metrics,
        info,
        half=True,
        feature_statistics=checkpoint.feature_statistics,
    )
    print(f"{target}: {checked_size_mb(target, MAX_MB):.1f} MB")


if __name__ == "__main__":
    main()
