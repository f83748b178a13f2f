"""Rendering speed: per frame, one clip to MP4, a top-8 result grid cold and cached, GLB.

    python -m benchmarks.render_bench [--repeats 3] [--json]

Draws the real HumanML3D clip 012314 (a tennis serve, 170 frames at 20 fps) read from
../shared/data (set MOTION_SHARED_DIR to elsewhere); nothing is copied into the repo.
- per frame: `render_frames` of the whole clip at 256x256 and 480x480 in this process,
  context already made (best and median of --repeats runs);
- 10-s clip: 200 frames to a browser-playable MP4 with `render_video`;
- CPU per frame: building meshes, pyrender's per-frame work, rasterising, encoding;
- top 8: eight clips of 5 to 10 s (1,200 frames: the real clip played back and forth)
  through `RenderCache.render_many` with 2 worker processes, cold (empty cache; workers
  started beforehand, as the app does at start-up, and separately including their
  start) and warm (everything cached), with full and preview (frame_step=2) settings;
  and the CPU time of the same work in one process, which other load on the machine
  does not inflate as it does wall time;
- GLB: `export_glb` of the clip, time and size;
- baseline: the top 8 (full and preview) drawn by the renderer of another commit
  (`--baseline`, default the last stick-figure renderer drawn through pyrender), in a
  subprocess with that commit's engine and its own 2 warm workers, right before the same
  measurement of this tree's renderer, so the two share the machine's state.
Prints a markdown table (and JSON with --json); docs/rendering.md holds the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.render import (
    RenderCache,
    RenderSettings,
    export_glb,
    render_frames,
    render_video,
    shutdown_workers,
    unavailable_reason,
    warm_up,
)
from engine.render.frames import plan
from engine.render.video import write_mp4

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MOTION_SHARED_DIR", REPO.parent / "shared"))
CLIP = SHARED / "data" / "humanml3d_sample" / "new_joints" / "012314.npy"
TOP8_FRAMES = (100, 114, 129, 143, 157, 171, 186, 200)  # 5 to 10 s at 20 fps
# the stick figure drawn through pyrender with 4x MSAA, before engine/render/gl.py
BASELINE_COMMIT = "9313e9c"
_BASELINE_TOP8 = """
import json, numpy as np
from benchmarks.render_bench import CLIP, top8
from engine.render import RenderSettings, shutdown_workers
print(json.dumps(top8(np.load(CLIP), RenderSettings(frame_step={step}), fresh_workers=False)))
shutdown_workers()
"""


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def back_and_forth(joints: np.ndarray, frames: int) -> np.ndarray:
    """`frames` frames of the clip played forward, then backward, and so on."""
    cycle = np.r_[np.arange(len(joints)), np.arange(len(joints) - 2, 0, -1)]
    return joints[np.resize(cycle, frames)]


def top8(joints: np.ndarray, settings: RenderSettings, fresh_workers: bool) -> dict:
    """Seconds to the first and the last of 8 results into an empty cache, then cached."""
    clips = [back_and_forth(joints, n) for n in TOP8_FRAMES]
    with tempfile.TemporaryDirectory() as root:
        cache = RenderCache(root)
        if fresh_workers:
            shutdown_workers()
        else:  # started, and each has made its OpenGL context
            warm_up(2)
            list(cache.render_many([joints[:3], joints[3:6]], "video", settings, workers=2))
        start = time.perf_counter()
        arrivals = [
            time.perf_counter() - start
            for _ in cache.render_many(clips, "video", settings, workers=2)
        ]
        warm = timed(lambda: list(cache.render_many(clips, "video", settings)), 3)
    return {"first_s": arrivals[0], "cold_s": arrivals[-1], "warm_s": min(warm)}


def baseline_top8(commit: str, frame_step: int) -> dict:
    """`top8` (warm workers) measured by `commit`'s engine, checked out into a temporary
    folder and run in a subprocess (its render workers are its own)."""
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", commit, "engine", "benchmarks"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        env = {**os.environ, "MOTION_SHARED_DIR": str(SHARED), "PYTHONPATH": folder}
        done = subprocess.run(
            [sys.executable, "-c", _BASELINE_TOP8.format(step=frame_step)],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the ffmpeg encoders)."""
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def top8_cpu(joints: np.ndarray, settings: RenderSettings) -> float:
    """CPU seconds to render the 8 clips one after the other in this process: the work
    itself, whatever else runs on the machine (two cores at best halve the wall time)."""
    clips = [back_and_forth(joints, n) for n in TOP8_FRAMES]
    with tempfile.TemporaryDirectory() as root:
        start = cpu_seconds()
        list(RenderCache(root, workers=0).render_many(clips, "video", settings))
        return cpu_seconds() - start


def breakdown(joints: np.ndarray) -> dict:
    """CPU milliseconds per 256x256 frame spent building meshes, in OpenGL calls, in the
    rasteriser, and in the encoder."""
    settings = RenderSettings()
    scene_plan = plan(joints, settings)
    start = cpu_seconds()
    for t in range(len(joints)):
        scene_plan.frame_geometry(t)
    mesh = cpu_seconds() - start
    start = cpu_seconds()
    render_frames(joints, settings.replace(width=16, height=16))
    tiny = cpu_seconds() - start
    start = cpu_seconds()
    frames = render_frames(joints, settings)
    full = cpu_seconds() - start
    with tempfile.TemporaryDirectory() as folder:
        start = cpu_seconds()
        write_mp4(iter(frames), Path(folder) / "clip.mp4", settings.video_fps, settings)
        encode = cpu_seconds() - start
    parts = {
        "mesh build (numpy)": mesh,
        "GL per frame (vertex upload, draw call, resolve, read-back; 16x16)": tiny - mesh,
        f"rasterising 256x256 (llvmpipe, {settings.msaa_samples}x MSAA)": full - tiny,
        "x264 encoder (ffmpeg process)": encode,
    }
    return {name: 1000 * seconds / len(joints) for name, seconds in parts.items()}


def run(repeats: int, baseline: str | None) -> dict:
    joints = np.load(CLIP)
    results: dict = {"frames": len(joints), "cpus": os.cpu_count(), "load": os.getloadavg()[0]}
    render_frames(joints[:2])  # make the OpenGL context
    for size in (256, 480):
        settings = RenderSettings(width=size, height=size)
        times = timed(lambda s=settings: render_frames(joints, s), repeats)
        per_frame = [1000 * t / len(joints) for t in (min(times), statistics.median(times))]
        results[f"frame_ms_{size}"] = per_frame
    ten_seconds = back_and_forth(joints, 200)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        results["clip10_mp4_s"] = min(timed(lambda: render_video(ten_seconds, path), repeats))
        results["clip10_mp4_kb"] = path.stat().st_size / 1024
        glb = Path(folder) / "clip.glb"
        results["glb_ms"] = 1000 * min(timed(lambda: export_glb(joints, glb), repeats))
        results["glb_kb"] = glb.stat().st_size / 1024
    results["cpu_ms_per_frame"] = breakdown(joints)
    results["top8_cpu_s"] = top8_cpu(joints, RenderSettings())
    results["top8_preview_cpu_s"] = top8_cpu(joints, RenderSettings(frame_step=2))
    if baseline:
        results["baseline"] = baseline
        results["baseline_top8"] = baseline_top8(baseline, frame_step=1)
    results["top8"] = top8(joints, RenderSettings(), fresh_workers=False)
    if baseline:
        results["baseline_top8_preview"] = baseline_top8(baseline, frame_step=2)
    results["top8_preview"] = top8(joints, RenderSettings(frame_step=2), fresh_workers=False)
    results["top8_fresh_workers"] = top8(joints, RenderSettings(), fresh_workers=True)
    shutdown_workers()
    return results


def table(r: dict) -> str:
    rows = [
        ("per frame, 256x256 (best / median)", "{:.1f} / {:.1f} ms".format(*r["frame_ms_256"])),
        ("per frame, 480x480 (best / median)", "{:.1f} / {:.1f} ms".format(*r["frame_ms_480"])),
        (
            "10-s clip (200 frames) to MP4, 256x256",
            f"{r['clip10_mp4_s']:.2f} s ({r['clip10_mp4_kb']:.0f} KB)",
        ),
    ]
    for key, label in (
        ("baseline_top8", f"baseline {r.get('baseline')}: top 8 (1,200 frames), 2 warm workers"),
        ("top8", "top 8 (1,200 frames), 2 warm workers"),
        ("baseline_top8_preview", f"baseline {r.get('baseline')}: top 8, preview"),
        ("top8_preview", "top 8, preview (frame_step=2), 2 warm workers"),
        ("top8_fresh_workers", "top 8, workers started by the request"),
    ):
        if key not in r:
            continue
        t = r[key]
        rows.append((f"{label}: cold", f"{t['cold_s']:.2f} s (first result {t['first_s']:.2f} s)"))
        rows.append((f"{label}: warm (cached)", f"{1000 * t['warm_s']:.1f} ms"))
    for key, label in (("top8_cpu_s", "top 8"), ("top8_preview_cpu_s", "top 8, preview")):
        rows.append((f"{label}: CPU time of the work (one process)", f"{r[key]:.2f} s"))
    rows.append(("GLB export of the 170-frame clip", f"{r['glb_ms']:.0f} ms, {r['glb_kb']:.0f} KB"))
    lines = ["| measure | result |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    lines += ["", "| CPU per 256x256 frame | ms |", "|---|---|"]
    lines += [f"| {name} | {ms:.2f} |" for name, ms in r["cpu_ms_per_frame"].items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--baseline",
        default=BASELINE_COMMIT,
        help="commit whose renderer draws the top 8 beside this tree's ('' for none)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not CLIP.exists():
        sys.exit(f"skipped: the real clip is not at {CLIP} (set MOTION_SHARED_DIR)")
    reason = unavailable_reason()
    if reason is not None:
        sys.exit(f"skipped: nothing can be drawn here: {reason}")
    results = run(args.repeats, args.baseline)
    print(
        f"{results['cpus']} CPUs, load average {results['load']:.2f} at start, "
        f"PYOPENGL_PLATFORM={os.environ['PYOPENGL_PLATFORM']}"
    )
    print(table(results))
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
