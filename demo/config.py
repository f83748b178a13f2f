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
    max_results: int = 16
    default_results: int = 8
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
    args = parser.parse_args(argv)
    if args.render_cache_mb <= 0:
        parser.error("--render-cache-mb must be positive")
    return DemoConfig(
        host=args.host,
        port=args.port,
        share=args.share,
        gallery=args.gallery,
        checkpoint=args.checkpoint,
        device=args.device,
        allow_data_folders=args.allow_data_folders,
        render_cache_mb=args.render_cache_mb,
    )
