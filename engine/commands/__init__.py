"""Sub-commands of `python -m engine` (see engine/cli.py)."""

from __future__ import annotations

import argparse
import sys


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint", help="checkpoint folder (default: the shipped model in assets/model)"
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")


def add_data_argument(parser: argparse.ArgumentParser, required: bool = False) -> None:
    parser.add_argument(
        "--data",
        required=required,
        help="HumanML3D/KIT-ML folder, TMR annotations folder, or a folder of .npy/.bvh "
        "motion files; 'embedded' (the default) is the built-in gallery",
    )
    parser.add_argument("--split", help="which split of a data set folder to use")


def stderr_progress(stage: str, done: int, total: int) -> None:
    """A one-line progress report on stderr, rewritten in place."""
    end = "\n" if done >= total else ""
    print(f"\r{stage}: {done}/{total}", end=end, file=sys.stderr, flush=True)
