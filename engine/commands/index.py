from __future__ import annotations

import argparse

from engine.commands import add_data_argument, add_model_arguments

HELP = "build or refresh the cached gallery embeddings of a data folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_argument(parser)
    add_model_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON summary")


def run(args: argparse.Namespace) -> int:
    import json
    import time

    from engine.catalog import open_gallery
    from engine.commands import stderr_progress
    from engine.defaults import resolve_checkpoint
    from engine.encoder import MotionTextEncoder

    started = time.perf_counter()
    encoder = MotionTextEncoder.load(resolve_checkpoint(args.checkpoint), args.device)
    gallery = open_gallery(encoder, args.data, args.split, stderr_progress)
    summary = {
        "gallery": gallery.name,
        "motions": len(gallery),
        "captions": len(gallery.caption_texts),
        "actions": gallery.actions,
        "checkpoint": encoder.fingerprint,
        "seconds": round(time.perf_counter() - started, 2),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{summary['gallery']}: {summary['motions']} motions, {summary['captions']} captions "
            f"indexed under checkpoint {summary['checkpoint']} in {summary['seconds']} s"
        )
    return 0
