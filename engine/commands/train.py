from __future__ import annotations

import argparse

HELP = "train a text-motion retrieval model (also under torchrun for several GPUs/processes)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", help="JSON or YAML experiment configuration (defaults: engine/config.py)"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="override a configuration field, e.g. --set loss.kind=droptriple (repeatable)",
    )
    parser.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue an interrupted run from RUN_DIR/last (its own configuration; --set "
        "may change e.g. train.epochs)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import json
    import os

    from engine.config import ExperimentConfig, apply_overrides, load_config
    from engine.training.run import train

    if args.resume:
        config = resumed_config(args.resume)
    else:
        config = load_config(args.config) if args.config else ExperimentConfig()
    config = apply_overrides(config, args.overrides)
    result = train(config, show_progress=not args.quiet, log=not args.quiet)
    summary = {
        "best": str(result.best_path) if result.best_path else None,
        "last": str(result.last_path) if result.last_path else None,
        "stopped": result.stopped,
        "seconds": round(result.seconds, 1),
        "steps": result.steps,
        "samples_per_second": round(result.samples_per_second, 1),
        "validation": result.best_metrics,
    }
    if int(os.environ.get("RANK", "0")) == 0:  # one summary under torchrun
        print(json.dumps(summary, indent=2))
    return 0


def resumed_config(run_dir: str):
    """The configuration a run was started with (from its last checkpoint), set to
    resume into the same folder."""
    import dataclasses
    from pathlib import Path

    from engine.errors import EngineError
    from engine.models.checkpoint import CONFIG_FILE, read_experiment

    last = Path(run_dir) / "last"
    if not (last / CONFIG_FILE).is_file():
        raise EngineError(f"{run_dir}: no checkpoint to resume from (no last/{CONFIG_FILE})")
    config = read_experiment(last)
    train = dataclasses.replace(config.train, resume=True, out_dir=str(Path(run_dir)))
    return dataclasses.replace(config, train=train)
