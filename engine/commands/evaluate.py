from __future__ import annotations

import argparse

from engine.commands import add_model_arguments

HELP = "evaluate a checkpoint on a data set split under TMR's protocols"
PROTOCOL_CHOICES = ("all", "threshold", "dissimilar", "batches32")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument(
        "--data",
        default="embedded",
        help="HumanML3D/KIT-ML or TMR folder; 'embedded' = the procedural corpus of the model",
    )
    parser.add_argument("--split", default="test", help="split to evaluate (default test)")
    parser.add_argument(
        "--protocol",
        action="append",
        choices=PROTOCOL_CHOICES,
        help="protocol (repeatable; default: all four). 'all' is TMR's whole-split protocol",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    import json

    from engine.commands import stderr_progress
    from engine.data.embedded import embedded_corpus
    from engine.data.humanml3d import read_split
    from engine.data.loading import open_dataset
    from engine.defaults import EMBEDDED, resolve_checkpoint
    from engine.encoder import MotionTextEncoder
    from engine.errors import DatasetError
    from engine.evaluation.runner import evaluate_items

    protocols = args.protocol or list(PROTOCOL_CHOICES)
    encoder = MotionTextEncoder.load(resolve_checkpoint(args.checkpoint), args.device)
    if args.data == EMBEDDED:
        corpus = encoder.checkpoint.config.data
        folder = embedded_corpus(
            corpus.corpus_size,
            corpus.corpus_seed,
            lambda d, t: stderr_progress("generating the corpus", d, t),
        )
    else:
        folder = args.data
    dataset = open_dataset(folder, [args.split], to_humanml3d=encoder.normalizer.dim == 263)
    items = dataset.split(args.split)
    try:
        dissimilar = read_split(dataset.root, "nsim_test")
    except DatasetError:
        dissimilar = None
    results = evaluate_items(encoder, items, protocols, dissimilar_ids=dissimilar)
    first = results[protocols[0]]
    if args.json:
        print(
            json.dumps(
                {
                    **first,
                    "protocol": protocols[0],
                    "protocols": results,
                    "split": args.split,
                    "items": len(items),
                    "checkpoint": str(encoder.checkpoint.path),
                }
            )
        )
        return 0
    print(f"{dataset.name} / {args.split}: {len(items)} motions, one caption each")
    for protocol, metrics in results.items():
        for direction in ("t2m", "m2t"):
            m = metrics[direction]
            recalls = "  ".join(f"{k} {m[k]:5.1f}" for k in ("R@1", "R@2", "R@3", "R@5", "R@10"))
            print(f"{protocol:<10} {direction}  {recalls}  MedR {m['MedR']:.1f}")
    return 0
