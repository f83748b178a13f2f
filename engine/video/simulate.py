"""What the pose estimator would report for a motion filmed by a random camera: the video
encoder's training pairs, made from motions alone (no real video needed), and held-out
observations to measure the video paths on.

`simulate(joints, rng)` films a 22-joint motion (Y up, metres) with a static camera at a
random distance, height, azimuth and field of view, and reports BlazePose's 33 landmarks
(`BLAZEPOSE`, in its order) as `MediaPipePose` does: image landmarks in pixels (perspective
projection), world landmarks in metres (camera axes, origin between the hips), a
visibility per landmark, and frames without a pose. What goes wrong in real footage is
drawn too: landmark noise (a slow drift and per-frame jitter, more along the depth axis of
the world landmarks), dropped frames (single and in bursts), occluded joints (low
visibility and a larger error for a while), and a person partly out of frame (a camera
aimed off-centre; landmarks outside the picture get a low visibility).

The face, hand and heel landmarks the 22-joint body lacks are placed from the head,
forearm and foot with the body's facing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from engine.motion.skeleton import HUMANML3D
from engine.video.pose import BLAZEPOSE
from engine.video.track import PoseTrack


@dataclass(frozen=True)
class SimulationConfig:
    frame_size: tuple[int, int] = (640, 480)  # width, height
    distance: tuple[float, float] = (3.0, 10.0)  # metres, camera to the path's centre
    height: tuple[float, float] = (0.4, 4.0)  # camera height, metres
    field_of_view: tuple[float, float] = (40.0, 80.0)  # horizontal, degrees
    image_noise: float = 0.012  # per-frame jitter, fraction of the body's height in pixels
    image_drift: float = 0.02  # slowly varying error, same unit
    world_noise: float = 0.02  # metres (x, y); z (depth) gets three times as much
    dropped_frames: float = 0.04  # chance a frame has no pose
    drop_burst: float = 0.3  # chance of one burst of 3-10 lost frames per clip
    occluded: float = 0.15  # chance per landmark of one occluded stretch per clip
    off_centre: float = 0.3  # chance the camera is aimed off the person (part out of frame)


DEFAULT_SIMULATION = SimulationConfig()

_J = HUMANML3D.index


def blazepose_landmarks(joints: np.ndarray) -> np.ndarray:
    """The 33 BlazePose landmarks (T, 33, 3) of a 22-joint motion (T, 22, 3), Y up."""
    t = len(joints)
    out = np.zeros((t, len(BLAZEPOSE), 3))
    index = {name: i for i, name in enumerate(BLAZEPOSE)}
    across = joints[:, _J("left_hip")] - joints[:, _J("right_hip")]
    across += joints[:, _J("left_shoulder")] - joints[:, _J("right_shoulder")]
    up = np.array([0.0, 1.0, 0.0])
    forward = np.cross(across, up)
    forward /= np.maximum(np.linalg.norm(forward, axis=1, keepdims=True), 1e-6)
    left = np.cross(up, forward)
    head = joints[:, _J("head")]
    for side, sign in (("left", 1.0), ("right", -1.0)):
        for name in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
            out[:, index[f"{side}_{name}"]] = joints[:, _J(f"{side}_{name}")]
        wrist, elbow = joints[:, _J(f"{side}_wrist")], joints[:, _J(f"{side}_elbow")]
        hand = wrist - elbow
        hand /= np.maximum(np.linalg.norm(hand, axis=1, keepdims=True), 1e-6)
        out[:, index[f"{side}_index"]] = wrist + 0.09 * hand
        out[:, index[f"{side}_pinky"]] = wrist + 0.08 * hand - sign * 0.02 * left
        out[:, index[f"{side}_thumb"]] = wrist + 0.05 * hand + sign * 0.03 * left
        ankle, toe = joints[:, _J(f"{side}_ankle")], joints[:, _J(f"{side}_foot")]
        out[:, index[f"{side}_foot_index"]] = toe
        out[:, index[f"{side}_heel"]] = ankle - 0.35 * (toe - ankle) - 0.04 * up
        out[:, index[f"{side}_ear"]] = head + sign * 0.075 * left
        out[:, index[f"{side}_eye"]] = head + 0.08 * forward + 0.03 * up + sign * 0.032 * left
        out[:, index[f"{side}_eye_inner"]] = out[:, index[f"{side}_eye"]] - sign * 0.012 * left
        out[:, index[f"{side}_eye_outer"]] = out[:, index[f"{side}_eye"]] + sign * 0.012 * left
        out[:, index[f"mouth_{side}"]] = head + 0.085 * forward - 0.045 * up + sign * 0.025 * left
    out[:, index["nose"]] = head + 0.1 * forward
    return out


def _camera(joints: np.ndarray, rng: np.random.Generator, config: SimulationConfig):
    """A static camera: rotation (3, 3) world -> camera axes (x right, y down, z away),
    its position (3,) and focal length in pixels."""
    centre = joints[:, 0].mean(0)
    azimuth = rng.uniform(0, 2 * math.pi)
    distance = rng.uniform(*config.distance)
    position = centre + distance * np.array([math.sin(azimuth), 0.0, math.cos(azimuth)])
    position[1] = rng.uniform(*config.height)
    target = centre.copy()
    target[1] = 0.9
    half_view = math.radians(rng.uniform(*config.field_of_view)) / 2
    focal = config.frame_size[0] / 2 / math.tan(half_view)
    if rng.random() < config.off_centre:  # aim beside or above the person
        reach = 0.5 * config.frame_size[1] / focal * distance
        target += rng.uniform(-reach, reach, 3) * np.array([1.0, 0.6, 1.0])
    away = target - position
    away /= np.linalg.norm(away)
    right = np.cross(away, np.array([0.0, 1.0, 0.0]))
    right /= np.linalg.norm(right)
    down = np.cross(away, right)
    return np.stack([right, down, away]), position, focal


def _noise(rng: np.random.Generator, shape: tuple[int, ...], jitter: float, drift: float):
    slow = gaussian_filter1d(rng.normal(0, 1, shape), 6.0, axis=0, mode="nearest")
    slow *= drift / max(float(slow.std()), 1e-6)
    return slow + rng.normal(0, jitter, shape)


def simulate(
    joints: np.ndarray,
    rng: np.random.Generator,
    config: SimulationConfig = DEFAULT_SIMULATION,
    fps: float = HUMANML3D.fps,
) -> PoseTrack:
    """What `MediaPipePose` would report, frame by frame, for `joints` (T, 22, 3) filmed by
    a random static camera (a `PoseTrack` before gap filling: lost frames are NaN)."""
    landmarks = blazepose_landmarks(joints)
    rotation, position, focal = _camera(joints, rng, config)
    camera = (landmarks - position) @ rotation.T  # (T, 33, 3) x right, y down, z away
    camera[..., 2] = np.maximum(camera[..., 2], 0.3)
    width, height = config.frame_size
    image = focal * camera[..., :2] / camera[..., 2:] + np.array([width, height]) / 2.0
    t, n = landmarks.shape[:2]
    body_px = float(np.median(np.ptp(image[..., 1], axis=1))) or 1.0
    image += body_px * _noise(rng, (t, n, 2), config.image_noise, config.image_drift)
    hips = (camera[:, BLAZEPOSE.index("left_hip")] + camera[:, BLAZEPOSE.index("right_hip")]) / 2
    world = camera - hips[:, None]
    scale = np.array([1.0, 1.0, 3.0]) * config.world_noise
    world += _noise(rng, (t, n, 3), 0.5, 1.0) * scale
    confidence = rng.uniform(0.8, 1.0, (t, n))
    for landmark in np.flatnonzero(rng.random(n) < config.occluded):
        start = rng.integers(0, t)
        stop = min(t, start + rng.integers(5, 40))
        confidence[start:stop, landmark] = rng.uniform(0.05, 0.5, stop - start)
        image[start:stop, landmark] += rng.normal(0, 0.08 * body_px, 2)
        world[start:stop, landmark] += rng.normal(0, 0.1, 3)
    outside = (image < 0).any(-1) | (image > np.array([width, height])).any(-1)
    confidence[outside] = rng.uniform(0.0, 0.2, int(outside.sum()))
    found = rng.random(t) >= config.dropped_frames
    if t > 12 and rng.random() < config.drop_burst:
        start = rng.integers(1, t - 11)
        found[start : start + rng.integers(3, 11)] = False
    found[[0, -1]] = True  # the clip is cut to the first and last pose anyway
    image[~found], world[~found], confidence[~found] = np.nan, np.nan, 0.0
    return PoseTrack(
        landmark_names=BLAZEPOSE,
        fps=fps,
        frame_size=config.frame_size,
        image=image.astype(np.float32),
        world=world.astype(np.float32),
        confidence=confidence.astype(np.float32),
        found=found,
        boxes=np.full((t, 4), np.nan, dtype=np.float32),
    )
