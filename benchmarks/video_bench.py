"""Seconds of processing per second of video (decode, pose, lift + motion encoding) on
OpenCV's pedestrian clip (when Debian's opencv-doc is installed) and a synthetic clip.

    python benchmarks/video_bench.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from engine.catalog import open_search_engine
from engine.video import video_to_motion
from engine.video.samples import clip, find_vtest


def synthetic_clip(path: Path, seconds: float, fps: float = 30.0) -> Path:
    """A 640x480 clip of moving shapes (no person: pose runs on the whole frame each frame,
    the slowest case)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (640, 480))
    for i in range(round(seconds * fps)):
        frame = np.full((480, 640, 3), 180, np.uint8)
        cv2.circle(frame, (50 + 5 * i % 540, 240), 40, (40, 90, 160), -1)
        writer.write(frame)
    writer.release()
    return path


def measure(name: str, path: Path, engine) -> None:
    started = time.perf_counter()
    try:
        result = video_to_motion(path)
    except Exception as error:  # the synthetic clip has no person: decode + pose still timed
        print(f"{name}: {error}")
        return
    encode_started = time.perf_counter()
    engine.search_motion(result.motion.features, k=5)
    encode = time.perf_counter() - encode_started
    total = time.perf_counter() - started
    seconds = result.info.frame_count / result.info.fps
    s = result.seconds
    print(
        f"{name}: {seconds:.1f} s of video at {result.info.fps:g} fps, pose at "
        f"{result.info.sample_fps:g} fps -> per second of video: decode "
        f"{s['decode'] / seconds:.3f} s, pose {s['pose'] / seconds:.3f} s, lift "
        f"{s['lift'] / seconds:.3f} s, encode+search {encode / seconds:.3f} s, total "
        f"{total / seconds:.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    engine = open_search_engine(None, None, None, "cpu")
    folder = Path(tempfile.mkdtemp())
    source = find_vtest()
    if source is not None:
        measure("vtest.avi", clip(source, folder / "vtest.mp4", 5.0, args.seconds), engine)
    else:
        print("vtest.avi not found (install opencv-doc): skipped")
    measure("synthetic 30 fps", synthetic_clip(folder / "synthetic.mp4", args.seconds), engine)


if __name__ == "__main__":
    main()
