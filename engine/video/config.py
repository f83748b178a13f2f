"""`VideoConfig`: how a video becomes a motion query (sampling, caps, tracking, lifting)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.motion.skeleton import HUMANML3D


@dataclass(frozen=True)
class VideoConfig:
    # Frames are sampled at this rate (the motion frame rate); slower videos are read
    # whole and their poses interpolated up to it.
    fps: float = HUMANML3D.fps
    max_seconds: float = 30.0  # longer videos are refused (a message says so)
    max_side: int = 1280  # larger frames are scaled down before anything else
    # Tracking: the crop around the followed person is their box grown by this fraction
    # on each side. After this long without a pose the person is searched for again with
    # the people detector, and again every as long while they stay lost. In seconds, not
    # frames: the detector costs ~0.1 s of CPU per 640x480 frame, so at 20 fps a
    # frame count (5) ran it 4 times per second of lost video (benchmarks/video_bench.py).
    crop_margin: float = 0.35
    redetect_seconds: float = 0.5
    # A detection below this HOG score does not count as a person.
    min_detection_score: float = 0.5
    # A video in which the pose is found in fewer frames than this fraction has no
    # person in view (the gaps of the others are interpolated).
    min_found_fraction: float = 0.3
    min_confidence: float = 0.5  # a landmark below this visibility counts as unseen
    # Temporal smoothing of the recovered joints and root (Gaussian sigma, in frames at `fps`)
    smooth_joints: float = 1.0
    smooth_root: float = 2.0
    # The camera's horizontal field of view, assumed (videos do not say): it only sets
    # how far away the person is, i.e. the scale of motion towards or away from the camera.
    field_of_view_degrees: float = 60.0


DEFAULT = VideoConfig()
