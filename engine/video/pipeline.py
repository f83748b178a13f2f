"""A video file -> the motion its main person performs (`video_to_motion`), step by step
with progress and timings: probe, decode + track + pose, lift, features."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from engine.data.motion_import import motion_from_joints
from engine.errors import VideoFileError
from engine.motion.motion import Motion
from engine.video.config import DEFAULT, VideoConfig
from engine.video.decode import VideoInfo, probe, sampled_frames
from engine.video.lift import lift
from engine.video.pose import MediaPipePose, PoseEstimator
from engine.video.track import PersonTracker, PoseTrack

# stage ("decode", "pose", "lift"), done, total (0 when unknown)
VideoProgress = Callable[[str, int, int], None]


@dataclass
class VideoMotion:
    """What a video gave: the motion, the pose track it came from and how long it took."""

    motion: Motion
    track: PoseTrack  # gap-filled, at the sampled rate
    info: VideoInfo
    notes: list[str] = field(default_factory=list)  # warnings for the user
    seconds: dict[str, float] = field(default_factory=dict)  # decode, pose, lift

    @property
    def found_fraction(self) -> float:
        return float(self.track.found.mean())


def video_to_motion(
    path: str | Path,
    config: VideoConfig = DEFAULT,
    estimator: PoseEstimator | None = None,
    progress: VideoProgress | None = None,
) -> VideoMotion:
    """The motion of the video's main person on the 22-joint body at 20 fps.

    Raises `VideoFileError` for a file that is not a usable video and for a video in
    which no person is found in enough frames.
    """
    path = Path(path)
    report = progress or (lambda stage, done, total: None)
    report("decode", 0, 0)
    info = probe(path, config)
    total = round(info.duration * info.sample_fps)
    estimator = estimator or MediaPipePose()
    timer = _StageTimer()
    frames = timer.wrap("decode", sampled_frames(path, info, config))
    tracker = PersonTracker(estimator, config)
    with timer.stage("pose"):
        raw = tracker.track(frames, info.sample_fps, lambda done: report("pose", done, total))
    seconds = timer.seconds
    seconds["pose"] -= seconds.get("decode", 0.0)  # decoding happened inside the pose loop
    track = _check_found(path, raw, config)
    report("lift", 0, 1)
    started = time.perf_counter()
    joints = lift(track, config)
    meta = {
        "format": "video",
        "source_fps": info.fps,
        "sample_fps": info.sample_fps,
        "codec": info.codec,
        "pose_found_fraction": round(float(raw.found.mean()), 3),
        "depth_scale": f"assumed {config.field_of_view_degrees:g}° field of view",
    }
    motion = motion_from_joints(path, joints, meta)
    seconds["lift"] = time.perf_counter() - started
    report("lift", 1, 1)
    return VideoMotion(motion, track, info, list(track.notes), seconds)


def _check_found(path: Path, raw: PoseTrack, config: VideoConfig) -> PoseTrack:
    if len(raw) == 0:
        raise VideoFileError(path, "the video has no frames")
    found = float(raw.found.mean())
    if found < config.min_found_fraction:
        raise VideoFileError(
            path,
            f"no person in view: a body pose was found in {found:.0%} of the frames "
            f"(at least {config.min_found_fraction:.0%} are needed); film one person, "
            "whole body in the picture",
        )
    track = raw.filled()
    gaps = int((~track.found).sum())
    if gaps:
        track.notes.append(
            f"the pose was lost in {gaps} of {len(track)} frames; those were interpolated"
        )
    return track


class _StageTimer:
    """Seconds spent per stage; `wrap` times the work of an iterator's `next`."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def _add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def wrap(self, name: str, iterator: Iterable) -> Iterator:
        iterator = iter(iterator)
        while True:
            started = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                self._add(name, time.perf_counter() - started)
                return
            self._add(name, time.perf_counter() - started)
            yield item

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self._add(name, time.perf_counter() - started)
