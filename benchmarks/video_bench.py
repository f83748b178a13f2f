"""Seconds of processing per second of video (decode, pose, lift, motion encoding; wall
and CPU) and what the pose recovers, for the former tracking setting and the current one
side by side in one run, interleaved so that the shared machine's load falls on both.

Clips: OpenCV's pedestrians (vtest.avi, 10 fps, when Debian's opencv-doc is installed),
a rendered walking figure at 20 fps (the default sampling rate: pose on every frame),
and the same figure with the camera covered for 3 s (the person lost: the tracker's
re-detection path), at 640x480 and scaled up to 1280x960. Quality: for the rendered
figure the true joints are known, so the recovered motion's per-joint error after
per-frame Procrustes alignment (PA-MPJPE, mm); for vtest how many of the top 5 results
are locomotion.

    python -m benchmarks.video_bench [--seconds 10] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engine.catalog import open_search_engine
from engine.evaluation.pose_error import pa_mpjpe
from engine.motion.motion import Motion
from engine.render import RenderError
from engine.render.frames import iter_frames
from engine.render.settings import RenderSettings
from engine.render.video import write_mp4
from engine.video import VideoConfig, video_to_motion
from engine.video.config import DEFAULT
from engine.video.samples import clip, find_vtest

LOCOMOTION = {"walk_forward", "walk_backward", "walk_sideways", "walk_in_circle", "run"}
# The former setting re-detected after 5 sampled frames (0.25 s at 20 fps, 0.5 s at
# 10 fps); it equals the current one on a 10 fps source, so vtest is measured once.
SETTINGS = {"before: re-detect after 5 frames": VideoConfig(redetect_seconds=5 / 20)}
SETTINGS["now: re-detect after 0.5 s"] = DEFAULT


@dataclass
class Clip:
    name: str
    path: Path
    truth: np.ndarray | None = None  # true joints (T, 22, 3) at 20 fps, when known


def rendered_walker(path: Path, engine, seconds: float) -> Clip | None:
    """A 640x480, 20 fps clip of a person: the gallery's longest walking motion (at most
    `seconds`) rendered by the project's renderer, with its true joints. None where
    nothing can be rendered here."""
    walks = [item for item in engine.gallery.items if "walk_forward" in item.actions]
    item = max(walks, key=lambda item: len(item.features))
    motion = Motion.from_features(item.id, item.features[: round(seconds * 20)])
    settings = RenderSettings(width=640, height=480, show_trajectory=False)
    try:
        write_mp4(iter_frames(motion.joints, settings), path, settings.fps, settings)
    except RenderError as error:
        print(f"rendered walker: nothing can be rendered here ({error}): skipped")
        return None
    return Clip("rendered walker, 20 fps", path, motion.joints)


def covered(
    walker: Clip, path: Path, scale: int = 1, start: float = 3.0, seconds: float = 3.0
) -> Clip:
    """The walker clip with `seconds` of flat grey frames from `start` (camera covered),
    its frames scaled up `scale` times (the detector's cost grows with the picture)."""
    capture = cv2.VideoCapture(str(walker.path))
    fps = capture.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if start <= len(frames) / fps < start + seconds:
            frame = np.full_like(frame, 128)
        frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    height, width = frames[0].shape[:2]
    write_mp4(iter(frames), path, fps, RenderSettings(width=width, height=height))
    name = f"walker {width}x{height}, camera covered {seconds:g} s"
    return Clip(name, path, walker.truth)


def measure(item: Clip, config: VideoConfig, engine) -> dict[str, float]:
    """Per second of video: stage seconds (wall), total wall and CPU; and quality."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = video_to_motion(item.path, config)
    encode_started = time.perf_counter()
    hits = engine.search_distinct(engine.embed_motion(result.motion.features), 5)
    encode = time.perf_counter() - encode_started
    seconds = result.info.frame_count / result.info.fps
    row = {stage: value / seconds for stage, value in result.seconds.items()}
    row["encode+search"] = encode / seconds
    row["total"] = (time.perf_counter() - wall) / seconds
    row["cpu"] = (time.process_time() - cpu) / seconds
    row["found"] = float(result.track.found.mean())
    row["top-5 locomotion"] = sum(bool(LOCOMOTION & set(hit.actions)) for hit in hits)
    if item.truth is not None:
        first = round(result.track.first_frame * 20 / result.info.sample_fps)
        recovered = result.motion.joints
        truth = item.truth[first : first + len(recovered)]
        row["PA-MPJPE mm"] = 1000 * pa_mpjpe(truth, recovered[: len(truth)])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=2, help="runs per clip and setting")
    args = parser.parse_args()
    print(f"load average (1, 5, 15 min) at the start: {os.getloadavg()}")
    engine = open_search_engine(None, None, None, "cpu")
    folder = Path(tempfile.mkdtemp())
    runs: list[tuple[Clip, str]] = []
    source = find_vtest()
    if source is not None:
        vtest = Clip("vtest.avi, 10 fps", clip(source, folder / "vtest.mp4", 5.0, args.seconds))
        runs.append((vtest, list(SETTINGS)[-1]))
    else:
        print("vtest.avi not found (install opencv-doc): skipped")
    walker = rendered_walker(folder / "walker.mp4", engine, args.seconds)
    if walker is not None:
        lost = [covered(walker, folder / f"covered{k}.mp4", k) for k in (1, 2)]
        for item in (walker, *lost):
            runs += [(item, name) for name in SETTINGS]
    if not runs:
        return
    video_to_motion(runs[0][0].path)  # imports MediaPipe and loads its model once
    rows: dict[tuple[str, str], list[dict[str, float]]] = {}
    for _ in range(args.repeats):
        for item, name in runs:
            rows.setdefault((item.name, name), []).append(measure(item, SETTINGS[name], engine))
    print(f"load average at the end: {os.getloadavg()}")
    print("per second of video, median of", args.repeats, "runs:")
    for (clip_name, name), measured in rows.items():
        cells = ", ".join(
            f"{key} {statistics.median(row[key] for row in measured):.3f}" for key in measured[0]
        )
        print(f"{clip_name} | {name} | {cells}")


if __name__ == "__main__":
    main()
