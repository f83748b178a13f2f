from __future__ import annotations

import argparse

HELP = "generate the procedural motion-language corpus in HumanML3D's folder format"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="folder to write (replaced if it is a corpus)")
    parser.add_argument(
        "--size", type=int, default=6000, help="original motions (each also mirrored)"
    )
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same corpus")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--splits",
        default=None,
        help="comma-separated subset of train,val,test to generate (default: all)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from engine.data.corpus import write_corpus

    splits = [s.strip() for s in args.splits.split(",") if s.strip()] if args.splits else None
    summary = write_corpus(
        args.out, args.size, args.seed, splits=splits, workers=args.workers, progress=not args.quiet
    )
    sizes = ", ".join(f"{name} {count}" for name, count in summary.split_sizes.items())
    print(f"wrote {summary.path} in {summary.seconds:.1f} s: {sizes}")
    return 0
