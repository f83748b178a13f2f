from __future__ import annotations

import argparse
from pathlib import Path

from engine.commands import add_data_argument, add_model_arguments

HELP = "search a gallery by text, by motion file or by video"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    query = parser.add_mutually_exclusive_group(required=True)
    query.add_argument("--text", help="a description, e.g. 'a person kicks with the left leg'")
    query.add_argument("--motion", help="a motion file (.npy features/joints or .bvh)")
    query.add_argument("--queries", help="a text file with one text query per line")
    query.add_argument(
        "--video", help="a video of a person moving (its motion is recovered: docs/video.md)"
    )
    add_data_argument(parser)
    add_model_arguments(parser)
    parser.add_argument("--k", type=int, default=5, help="how many results (default 5)")
    parser.add_argument(
        "--to",
        choices=("motion", "text"),
        default="motion",
        help="return gallery motions (default) or the nearest gallery captions",
    )
    parser.add_argument(
        "--captions",
        help="with --to text: rank the lines of this file instead of the gallery's captions",
    )
    parser.add_argument(
        "--action", action="append", default=[], help="only motions with this label"
    )
    parser.add_argument(
        "--dataset", action="append", default=[], help="only motions of this data set"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--motion-out",
        help="with --video: write the recovered motion here (.npy joints (T, 22, 3) or .bvh)",
    )


def run(args: argparse.Namespace) -> int:
    import json

    from engine.catalog import open_search_engine
    from engine.commands import stderr_progress
    from engine.data.motion_import import load_motion_file
    from engine.errors import EngineError

    if args.k < 1:
        raise EngineError(f"--k must be at least 1, got {args.k}")
    engine = open_search_engine(
        args.checkpoint, args.data, args.split, args.device, progress=stderr_progress
    )
    candidates = _read_lines(Path(args.captions)) if args.captions else None
    if candidates is not None and args.to != "text":
        raise EngineError("--captions ranks captions: use it with --to text")

    def answer(vector) -> list[dict]:
        if args.to == "text":
            return [h.to_json() for h in engine.nearest_captions(vector, args.k, candidates)]
        hits = engine.search_vector(vector, args.k, args.action, args.dataset)
        return [h.to_json() for h in hits]

    if args.queries:
        queries = _read_lines(Path(args.queries))
        vectors = engine.encoder.encode_texts(queries)
        results = [answer(v) for v in vectors]
        print(json.dumps(results, indent=None if args.json else 2))
        return 0
    if args.motion_out and not args.video:
        raise EngineError("--motion-out writes the motion recovered from --video")
    if args.video:
        result = answer(_video_vector(engine, args))
    elif args.motion:
        result = answer(engine.embed_motion(load_motion_file(args.motion).features))
    else:
        result = answer(engine.embed_text(args.text))
    if args.json:
        print(json.dumps(result))
    else:
        _print_table(result)
    return 0


def _video_vector(engine, args: argparse.Namespace):
    """The query vector of --video (notes on stderr); the recovered motion is written to
    --motion-out."""
    import sys

    from engine.data.motion_export import export_bvh, export_joints
    from engine.errors import EngineError
    from engine.video import video_to_motion
    from engine.video.embedding import video_query_vector

    def progress(stage: str, done: int, total: int) -> None:
        if stage != "pose" or done == total or done % 50 == 0:
            print(f"{stage}: {done}/{total or '?'}", file=sys.stderr)

    result = video_to_motion(args.video, progress=progress)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.motion_out:
        out = Path(args.motion_out)
        if out.suffix.lower() == ".bvh":
            export_bvh(result.motion, out)
        elif out.suffix.lower() == ".npy":
            export_joints(result.motion, out)
        else:
            raise EngineError(f"--motion-out must end in .npy or .bvh, got {out.name!r}")
    vector, way_in = video_query_vector(engine, result)
    print(f"searched by {way_in}", file=sys.stderr)
    return vector


def _read_lines(path: Path) -> list[str]:
    from engine.errors import EngineError

    if not path.is_file():
        raise EngineError(f"{path}: no such file")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise EngineError(f"{path}: the file has no lines (one entry per line)")
    return lines


def _print_table(rows: list[dict]) -> None:
    for rank, row in enumerate(rows, 1):
        if "id" in row and "actions" in row:
            labels = ", ".join(row["actions"]) or "-"
            print(f"{rank:>3}  {row['score']:.3f}  {row['id']:<24} [{labels}]  {row['caption']}")
        else:
            print(f"{rank:>3}  {row['score']:.3f}  {row['caption']}  ({row['id']})")
