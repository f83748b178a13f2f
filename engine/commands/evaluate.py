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
    parser.add_argument(
        "--query-subset",
        action="append",
        default=[],
        metavar="SPLIT",
        help="also measure the items of this split (e.g. test_heldout_phrasing) as queries "
        "against the whole --split gallery, protocol 'all' (repeatable)",
    )
    parser.add_argument(
        "--queries",
        help="also search the split with labelled descriptions (labels<TAB>text per line, "
        "e.g. assets/eval/human_queries.tsv) and report hit@k by action label",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    import json

    from engine.data.humanml3d import read_split
    from engine.data.loading import open_dataset
    from engine.defaults import resolve_checkpoint
    from engine.encoder import MotionTextEncoder
    from engine.errors import DatasetError
    from engine.evaluation.runner import evaluate_items

    protocols = args.protocol or list(PROTOCOL_CHOICES)
    encoder = MotionTextEncoder.load(resolve_checkpoint(args.checkpoint), args.device)
    folder = _data_folder(args.data, encoder)
    dataset = open_dataset(
        folder, [args.split, *args.query_subset], to_humanml3d=encoder.normalizer.dim == 263
    )
    items = dataset.split(args.split)
    subsets = {name: [item.id for item in dataset.split(name)] for name in args.query_subset}
    try:
        dissimilar = read_split(dataset.root, "nsim_test")
    except DatasetError:
        dissimilar = None
    try:
        results = evaluate_items(
            encoder, items, protocols, dissimilar_ids=dissimilar, query_subsets=subsets
        )
    except ValueError as error:
        raise DatasetError(str(error)) from error
    labelled = _labelled_queries(args.queries, encoder, dataset.name, folder, args.split, items)
    if args.json:
        report = {
            **results[protocols[0]],
            "protocol": protocols[0],
            "protocols": results,
            "split": args.split,
            "items": len(items),
            "checkpoint": str(encoder.checkpoint.path),
            "label_queries": labelled,
        }
        print(json.dumps(report))
    else:
        print(f"{dataset.name} / {args.split}: {len(items)} motions, one caption each")
        _print_report(results, labelled)
    return 0


def _data_folder(data: str, encoder):
    """The folder to evaluate on; `embedded` is the corpus the checkpoint was trained on."""
    from engine.commands import stderr_progress
    from engine.defaults import is_embedded

    if not is_embedded(data):
        return data
    from engine.data.embedded import embedded_corpus

    corpus = encoder.checkpoint.config.data
    return embedded_corpus(
        corpus.corpus_size,
        corpus.corpus_seed,
        lambda done, total: stderr_progress("generating the corpus", done, total),
    )


def _labelled_queries(queries, encoder, name, folder, split, items) -> dict | None:
    if not queries:
        return None
    from pathlib import Path

    from engine.evaluation.label_queries import evaluate_label_queries, load_label_queries
    from engine.gallery import build_gallery
    from engine.search import SearchEngine

    gallery = build_gallery(name, f"{Path(folder).resolve()}#{split}", items, encoder)
    return evaluate_label_queries(SearchEngine(encoder, gallery), load_label_queries(queries))


def _print_report(results: dict, labelled: dict | None) -> None:
    for protocol, metrics in results.items():
        for direction in ("t2m", "m2t"):
            m = metrics[direction]
            recalls = "  ".join(f"{k} {m[k]:5.1f}" for k in ("R@1", "R@2", "R@3", "R@5", "R@10"))
            print(f"{protocol:<10} {direction}  {recalls}  MedR {m['MedR']:.1f}")
    for group, m in (labelled or {}).items():
        if m:
            scores = "  ".join(f"{k} {v:5.1f}" for k, v in m.items() if k != "queries")
            print(f"labelled queries, {group} ({m['queries']}): {scores}")
