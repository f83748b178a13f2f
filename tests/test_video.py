"""Video queries in the engine: lifting geometry on synthetic landmarks (no pose model), bad
inputs, and real footage (OpenCV's pedestrian clip) end to end through search and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from engine.errors import VideoFileError
from engine.motion.features import features_to_joints
from engine.motion.motion import Motion
from engine.motion.skeleton import HUMANML3D
from engine.video import BLAZEPOSE, VideoConfig, video_to_motion
from engine.video.decode import probe
from engine.video.lift import lift
from engine.video.samples import clip, find_vtest
from engine.video.track import PoseTrack
from tests.conftest import REPO

J = HUMANML3D.index


def walking_joints(seconds: float = 4.0, fps: float = 20.0) -> np.ndarray:
    """A 22-joint figure (Y up, metres) walking along +X at 1 m/s with swinging legs and
    arms: a known motion whose landmarks the tests draw."""
    rest = np.zeros((HUMANML3D.num_joints, 3))
    for child, parent in enumerate(HUMANML3D.parents):
        if parent >= 0:
            rest[child] = rest[parent] + HUMANML3D.offsets[child]
    rest[:, 1] -= rest[:, 1].min()
    times = np.arange(round(seconds * fps)) / fps
    joints = np.repeat(rest[None], len(times), axis=0)
    phase = 2 * np.pi * 1.8 * times
    for side, sign in (("left", 1.0), ("right", -1.0)):
        swing = 0.25 * sign * np.sin(phase)
        for name, reach in (("knee", 0.5), ("ankle", 1.0), ("foot", 1.1)):
            joints[:, J(f"{side}_{name}"), 0] += reach * swing
        for name, reach in (("elbow", 0.4), ("wrist", 0.8)):
            joints[:, J(f"{side}_{name}"), 0] -= reach * swing
    # the body faces +X (its left at -Z) and walks there
    turned = joints.copy()
    turned[..., 0], turned[..., 2] = joints[..., 2], -joints[..., 0]
    turned[..., 0] += times[:, None]
    return turned


def blazepose_landmarks(joints: np.ndarray) -> np.ndarray:
    """The 33 BlazePose landmarks (T, 33, 3) a perfect estimator would report for joints."""
    out = np.zeros((len(joints), len(BLAZEPOSE), 3))
    head = joints[:, J("head")]
    across = joints[:, J("left_shoulder")] - joints[:, J("right_shoulder")]
    across /= np.linalg.norm(across, axis=-1, keepdims=True)
    for i, name in enumerate(BLAZEPOSE):
        side = "left" if name.startswith("left") else "right"
        part = name.split("_", 1)[-1]
        if part in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist"):
            out[:, i] = joints[:, J(name)]
        elif part in ("pinky", "index", "thumb"):
            out[:, i] = joints[:, J(f"{side}_wrist")]
        elif part == "heel":
            out[:, i] = joints[:, J(f"{side}_ankle")]
        elif part == "foot_index":
            out[:, i] = joints[:, J(f"{side}_foot")]
        elif part == "ear":
            out[:, i] = head + (0.08 if side == "left" else -0.08) * across
        else:  # face points: at the head
            out[:, i] = head
    return out


def observe(points: np.ndarray, size=(640, 480), distance=6.0, height=2.5, fov=60.0):
    """A camera `distance` m away along -Z looking at the origin from `height` m up:
    pixels (T, N, 2) and hip-centred camera-axes world landmarks (T, N, 3) as MediaPipe
    reports them (x right, y down, z away)."""
    eye = np.array([1.5, height, -distance])
    forward = np.array([1.5, 1.0, 0.0]) - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(np.array([0.0, 1.0, 0.0]), forward)
    right /= np.linalg.norm(right)
    down = np.cross(right, forward)
    # camera axes: x right, y down, z forward
    rotation = np.stack([-right, down, forward])  # image x grows to the viewer's right
    camera = (points - eye) @ rotation.T
    focal = size[0] / 2 / np.tan(np.radians(fov) / 2)
    pixels = focal * camera[..., :2] / camera[..., 2:] + np.array(size) / 2
    hips = (camera[:, BLAZEPOSE.index("left_hip")] + camera[:, BLAZEPOSE.index("right_hip")]) / 2
    return pixels, camera - hips[:, None]


def test_lifting_recovers_a_known_motion_and_its_path():
    truth = walking_joints()
    pixels, world = observe(blazepose_landmarks(truth))
    n = len(truth)
    track = PoseTrack(
        BLAZEPOSE,
        20.0,
        (640, 480),
        pixels,
        world,
        np.ones((n, len(BLAZEPOSE))),
        np.ones(n, bool),
        np.full((n, 4), np.nan),
    )
    lifted = Motion.from_joints("lifted", lift(track))
    expected = Motion.from_joints("truth", truth)
    got, want = features_to_joints(lifted.features), features_to_joints(expected.features)
    # the root path: 1 m/s along the facing direction, recovered from the 2-D hip track
    travelled = np.linalg.norm(got[-1, 0, [0, 2]] - got[0, 0, [0, 2]])
    assert travelled == pytest.approx(
        np.linalg.norm(want[-1, 0, [0, 2]] - want[0, 0, [0, 2]]), rel=0.1
    )
    assert np.abs(got[:, 0] - want[:, 0]).max() < 0.15
    # the pose relative to the root, after canonicalisation: legs, spine and head within a
    # few centimetres; the arms hang from collars the lifting places by convention (between
    # spine3, neck and shoulder), which this figure's rest pose does not follow
    error = np.linalg.norm((got - got[:, :1]) - (want - want[:, :1]), axis=-1).mean(0)
    arms = [J(f"{s}_{p}") for s in ("left", "right") for p in ("shoulder", "elbow", "wrist")]
    body = [j for j in range(HUMANML3D.num_joints) if j not in arms]
    assert error[body].mean() < 0.05, error
    assert error[arms].mean() < 0.25, error
    # feet on the floor, head up
    assert got[..., 1].min() == pytest.approx(0.0, abs=1e-6)
    assert got[:, J("head"), 1].mean() > 1.4


def test_lifting_a_mirror_image_is_not_the_same_motion():
    """A control: the comparison above can fail — a figure walking the other way is far."""
    truth = walking_joints()
    pixels, world = observe(blazepose_landmarks(truth))
    n = len(truth)
    flipped = PoseTrack(
        BLAZEPOSE,
        20.0,
        (640, 480),
        np.stack([640 - pixels[..., 0], pixels[..., 1]], -1)[:, ::-1].copy(),
        world[::-1].copy(),
        np.ones((n, len(BLAZEPOSE))),
        np.ones(n, bool),
        np.full((n, 4), np.nan),
    )
    got = features_to_joints(Motion.from_joints("x", lift(flipped)).features)
    want = features_to_joints(Motion.from_joints("y", truth).features)
    assert np.abs(got[:, 0] - want[:, 0]).max() > 0.3


def test_gaps_are_interpolated_and_ends_trimmed():
    n = 10
    image = np.arange(n, dtype=float)[:, None, None] * np.ones((n, 33, 2))
    found = np.ones(n, bool)
    found[[0, 4, 5, 9]] = False
    image[~found] = np.nan
    track = PoseTrack(
        BLAZEPOSE,
        10.0,
        (64, 64),
        image,
        image[..., :1].repeat(3, -1),
        np.ones((n, 33)),
        found,
        np.zeros((n, 4)),
    ).filled()
    assert len(track) == 8 and track.first_frame == 1
    assert np.allclose(track.image[:, 0, 0], np.arange(1, 9))
    assert list(track.found) == [True, True, True, False, False, True, True, True]


# ------------------------------------------------------------------------ bad input


def write_video(path, frames: int, size=(160, 120), fps=20.0, fourcc="mp4v", colour=200):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    for i in range(frames):
        frame = np.full((size[1], size[0], 3), colour, np.uint8)
        cv2.putText(frame, str(i), (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1, (90, 90, 90), 2)
        writer.write(frame)
    writer.release()
    return path


def test_not_a_video(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("a person walks forward")
    with pytest.raises(VideoFileError, match="is not a video"):
        probe(text)
    picture = tmp_path / "still.png"
    cv2.imwrite(str(picture), np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(VideoFileError, match="is not a video"):
        probe(picture)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoFileError, match="empty"):
        probe(empty)


def test_truncated_video(tmp_path):
    whole = write_video(tmp_path / "whole.mp4", 40)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(VideoFileError, match="corrupt or truncated"):
        video_to_motion(cut)


def test_unsupported_codec(tmp_path):
    """An AVI whose stream says it is coded with a codec nobody knows."""
    avi = write_video(tmp_path / "clip.avi", 20, fourcc="MJPG")
    data = avi.read_bytes().replace(b"MJPG", b"QQQQ")
    avi.write_bytes(data)
    with pytest.raises(VideoFileError, match=r"codec \(QQQQ\) cannot be decoded"):
        probe(avi)


def test_too_long(tmp_path):
    long = write_video(tmp_path / "long.mp4", 8 * 20, size=(64, 48))
    with pytest.raises(VideoFileError, match=r"too long: 8.0 s, at most 5 s"):
        video_to_motion(long, VideoConfig(max_seconds=5))


def test_no_person_in_a_video_of_a_wall(tmp_path):
    pytest.importorskip("mediapipe")
    wall = write_video(tmp_path / "wall.mp4", 30, size=(320, 240))
    with pytest.raises(VideoFileError, match="no person in view"):
        video_to_motion(wall)


# ------------------------------------------------------------------------ real footage

LOCOMOTION = {"walk_forward", "walk_backward", "walk_sideways", "walk_in_circle", "run"}


@pytest.fixture(scope="module")
def pedestrians(tmp_path_factory):
    """Ten seconds of OpenCV's pedestrian clip (several people walking, filmed from above)."""
    source = find_vtest()
    if source is None:
        pytest.skip(
            "vtest.avi not found: install Debian's opencv-doc (or apt-get download opencv-doc, "
            "dpkg -x it and set OPENCV_VTEST to examples/data/vtest.avi)"
        )
    return clip(source, tmp_path_factory.mktemp("video") / "pedestrians.mp4", 5.0, 10.0)


def test_a_pedestrian_is_followed_and_found_walking(pedestrians):
    pytest.importorskip("mediapipe")
    from engine.catalog import open_search_engine

    result = video_to_motion(pedestrians)
    assert result.found_fraction > 0.9
    assert any("people are in view" in note and "followed" in note for note in result.notes)
    assert 9.0 < result.motion.duration <= 10.0
    # the followed person walks: the root travels metres, at a walking pace
    root = result.motion.joints[:, 0]
    speed = np.linalg.norm(root[-1, [0, 2]] - root[0, [0, 2]]) / result.motion.duration
    assert 0.3 < speed < 2.5, speed
    engine = open_search_engine(None, None, None, "cpu")
    hits = engine.search_motion(result.motion.features, k=5)
    top = [set(hit.actions) for hit in hits]
    assert all(labels & LOCOMOTION for labels in top[:3]), top
    assert sum(bool(labels & LOCOMOTION) for labels in top) >= 4, top


def test_cli_search_by_video_writes_the_recovered_motion(pedestrians, tmp_path):
    pytest.importorskip("mediapipe")
    out = tmp_path / "recovered.npy"
    run = subprocess.run(
        [sys.executable, "-m", "engine", "search", "--video", str(pedestrians), "--k", "3"]
        + ["--to", "text", "--json", "--motion-out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    captions = json.loads(run.stdout)
    assert len(captions) == 3 and all("caption" in c for c in captions)
    assert np.load(out).shape[1:] == (22, 3)
    assert "searched by lifting" in run.stderr  # + video encoder where one ships for the model
    bad = subprocess.run(
        [sys.executable, "-m", "engine", "search", "--video", str(REPO / "README.md")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode != 0 and "is not a video" in bad.stderr
