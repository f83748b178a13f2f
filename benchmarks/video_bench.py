"""Seconds of processing per second of video (decode, pose, lift + motion encoding) on
OpenCV's pedestrian clip (when Debian's opencv-doc is installed) and a rendered walking
figure (20 fps: pose runs on every frame the default sampling keeps).

    python benchmarks/video_bench.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from engine.catalog import open_search_engine
from engine.motion.motion import Motion
from engine.render import RenderError
from engine.render.frames import iter_frames
from engine.render.settings import RenderSettings
from engine.render.video import write_mp4
from engine.video import video_to_motion
from engine.video.samples import clip, find_vtest


def rendered_walker(path: Path, engine, seconds: float) -> Path | None:
    """A 640x480, 20 fps clip of a person: the gallery's longest walking motion (at most
    `seconds`) rendered by the project's renderer; the pose model finds the drawn figure,
    so decoding and pose are measured at the default sampling rate's full 20 fps. None
    where nothing can be rendered here."""
    walks = [item for item in engine.gallery.items if "walk_forward" in item.actions]
    item = max(walks, key=lambda item: len(item.features))
    motion = Motion.from_features(item.id, item.features[: round(seconds * 20)])
    settings = RenderSettings(width=640, height=480, show_trajectory=False)
    try:
        return write_mp4(iter_frames(motion.joints, settings), path, settings.fps, settings)
    except RenderError as error:
        print(f"rendered walker: nothing can be rendered here ({error}): skipped")
        return None


def measure(name: str, path: Path, engine) -> None:
    started = time.perf_counter()
    result = video_to_motion(path)
    encode_started = time.perf_counter()
    hits = engine.search_motion(result.motion.features, k=3)
    encode = time.perf_counter() - encode_started
    total = time.perf_counter() - started
    seconds = result.info.frame_count / result.info.fps
    s = result.seconds
    print(
        f"{name}: {seconds:.1f} s of video at {result.info.fps:g} fps, pose at "
        f"{result.info.sample_fps:g} fps -> per second of video: decode "
        f"{s['decode'] / seconds:.3f} s, pose {s['pose'] / seconds:.3f} s, lift "
        f"{s['lift'] / seconds:.3f} s, encode+search {encode / seconds:.3f} s, total "
        f"{total / seconds:.3f} s (pose found in {result.found_fraction:.0%} of frames; top "
        f"3: {', '.join('/'.join(h.actions) for h in hits)})"
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
    walker = rendered_walker(folder / "walker.mp4", engine, args.seconds)
    if walker is not None:
        measure("rendered walker 20 fps", walker, engine)


if __name__ == "__main__":
    main()
