"""The demo's settings: one dataclass, filled from the command line and the environment."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class DemoConfig:
    host: str | None = None  # None: Gradio's default (honours GRADIO_SERVER_NAME)
    port: int | None = None  # None: Gradio's default (honours GRADIO_SERVER_PORT)
    share: bool = False
    gallery: str | None = None  # a HumanML3D/KIT-ML folder or a folder of motion files
    checkpoint: str | None = None  # default: the shipped model
    device: str = "auto"
    # Let visitors type server folders to index. Off by default: on a public server a
    # path box would let anyone probe the file system. The operator names folders with
    # --gallery or MOTION_GALLERY instead.
    allow_data_folders: bool = False
    # The training tab (a visitor trains and activates models). Off with --no-training
    # for a read-only deployment: no tab, no training endpoint, no training CPU or disk.
    training: bool = True
    # A visitor's Activate applies to that visitor's session only; with
    # --shared-activation it changes the model of every visitor (a single-user or
    # trusted deployment).
    shared_activation: bool = False
    runs_budget_mb: float = 8192  # training runs and their generated corpora, oldest go first
    # Caps for a public server, stated on the page next to each input (docs/safety.md).
    max_results: int = 16  # results per query: 1..max_results, also in the API
    default_results: int = 8
    max_upload_mb: float = 20  # larger uploads are refused by Gradio (HTTP 413)
    max_motion_seconds: float = 60  # longer motion uploads are cropped, and the page says so
    max_query_chars: int = 500  # longer text queries are refused with a message
    max_video_seconds: float = 30  # longer video queries are refused with a message
    render_workers: int = 2
    render_cache_mb: float = 2048  # rendered videos, thumbnails and GLBs kept on disk


def parse_args(argv: Sequence[str] | None = None) -> DemoConfig:
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="Text / motion retrieval demo: search a motion gallery by description or "
        "by example and watch the results as animated 3D skeletons.",
    )
    parser.add_argument(
        "--host", help="address to listen on (default: GRADIO_SERVER_NAME or 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, help="port (default: GRADIO_SERVER_PORT or 7860)")
    parser.add_argument(
        "--share", action="store_true", help="create a public gradio.live link (off by default)"
    )
    parser.add_argument(
        "--gallery",
        default=os.environ.get("MOTION_GALLERY"),
        help="a HumanML3D/KIT-ML folder or a folder of .npy/.bvh files to offer next to the "
        "embedded gallery (or set MOTION_GALLERY)",
    )
    parser.add_argument("--checkpoint", help="model checkpoint folder (default: the shipped model)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument(
        "--allow-data-folders",
        action="store_true",
        help="let users of the page index folders on this machine by path (local use only)",
    )
    parser.add_argument(
        "--render-cache-mb",
        type=float,
        default=DemoConfig.render_cache_mb,
        help="disk space for rendered videos and thumbnails; the least recently used are "
        "deleted beyond it (default: %(default)s)",
    )
    parser.add_argument(
        "--max-results",
        type=int,
        default=DemoConfig.max_results,
        help="most results per query, on the page and in the API (default: %(default)s)",
    )
    parser.add_argument(
        "--max-upload-mb",
        type=float,
        default=DemoConfig.max_upload_mb,
        help="largest file a visitor may upload, in MB (default: %(default)s)",
    )
    parser.add_argument(
        "--max-motion-seconds",
        type=float,
        default=DemoConfig.max_motion_seconds,
        help="uploaded motions longer than this are cropped to it (default: %(default)s)",
    )
    parser.add_argument(
        "--max-video-seconds",
        type=float,
        default=DemoConfig.max_video_seconds,
        help="longest video query accepted, in seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--max-query-chars",
        type=int,
        default=DemoConfig.max_query_chars,
        help="longest text query accepted, in characters (default: %(default)s)",
    )
    parser.add_argument(
        "--no-training",
        action="store_true",
        help="read-only deployment: no training tab and no training endpoints",
    )
    parser.add_argument(
        "--shared-activation",
        action="store_true",
        help="Activate in the training tab changes the model for every visitor (default: "
        "only for the visitor who pressed it)",
    )
    parser.add_argument(
        "--runs-budget-mb",
        type=float,
        default=DemoConfig.runs_budget_mb,
        help="disk space for training runs and their generated corpora; the oldest are "
        "deleted beyond it, never a running or waiting one (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.render_cache_mb <= 0:
        parser.error("--render-cache-mb must be positive")
    for option in (
        "runs_budget_mb",
        "max_upload_mb",
        "max_motion_seconds",
        "max_video_seconds",
        "max_query_chars",
    ):
        if getattr(args, option) <= 0:
            parser.error(f"--{option.replace('_', '-')} must be positive")
    if not 2 <= args.max_results <= 64:  # a slider needs two values
        parser.error("--max-results must be between 2 and 64")
    return DemoConfig(
        host=args.host,
        port=args.port,
        share=args.share,
        gallery=args.gallery,
        checkpoint=args.checkpoint,
        device=args.device,
        allow_data_folders=args.allow_data_folders,
        training=not args.no_training,
        shared_activation=args.shared_activation,
        runs_budget_mb=args.runs_budget_mb,
        render_cache_mb=args.render_cache_mb,
        max_results=args.max_results,
        default_results=min(DemoConfig.default_results, args.max_results),
        max_upload_mb=args.max_upload_mb,
        max_motion_seconds=args.max_motion_seconds,
        max_video_seconds=args.max_video_seconds,
        max_query_chars=args.max_query_chars,
    )
