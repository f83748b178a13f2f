"""Rendering: videos, stills, GLB export, the render cache, and bad input.

Tests that draw need an offscreen OpenGL backend (EGL or OSMesa); where none works they
are skipped with the reason. Clips and pictures are kept small so the file runs fast.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pygltflib
import pytest
import trimesh
from PIL import Image

from engine.errors import EngineError
from engine.motion.kinematics import UP, forward_kinematics
from engine.motion.rotations import IDENTITY, qrot
from engine.motion.skeleton import HUMANML3D, KIT
from engine.render import (
    RenderCache,
    RenderError,
    RenderSettings,
    RenderUnavailable,
    export_glb,
    iter_frames,
    read_glb_animation,
    render_frames,
    render_thumbnail,
    render_video,
    representative_frame,
    unavailable_reason,
)
from engine.render import cache as cache_module
from engine.render.body import body_shape
from engine.render.camera import follow_camera
from engine.render.mesh import SkeletonMesh, trajectory, unit_capsule
from engine.render.video import write_mp4

REPO = Path(__file__).resolve().parents[1]
SMALL = RenderSettings(width=96, height=96)
ORANGE_LEFT, BLUE_RIGHT = SMALL.left_colour, SMALL.right_colour


@pytest.fixture(scope="module")
def gl() -> None:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"no offscreen OpenGL here, nothing can be drawn: {reason}")


@pytest.fixture(scope="module")
def clip(swing_joints: np.ndarray) -> np.ndarray:
    """24 frames of the generated tennis swing (every 4th frame: plenty of movement)."""
    return swing_joints[::4][:24]


def walking(swing_joints: np.ndarray, metres: float = 6.0) -> np.ndarray:
    """The generated clip carried `metres` along +Z over its length: a motion that travels."""
    forward = np.linspace(0.0, metres, len(swing_joints))
    return swing_joints + forward[:, None, None] * np.array([0.0, 0.0, 1.0])


def kit_rest_pose(frames: int = 6) -> np.ndarray:
    """KIT's 21-joint body standing on the floor, drifting sideways a little."""
    rotations = np.tile(IDENTITY, (frames, KIT.num_joints, 1))
    roots = np.zeros((frames, 3))
    roots[:, 0] = np.linspace(0.0, 0.3, frames)
    joints = forward_kinematics(rotations, roots, KIT.offsets, KIT)
    return joints - [0.0, joints[..., 1].min(), 0.0]


def hue_pixels(picture: np.ndarray, colour: str) -> int:
    """Pixels whose hue is that of `colour` (shading changes brightness, not hue)."""
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    rgb = picture.astype(float)
    saturated = rgb.max(-1) - rgb.min(-1) > 60
    direction = (rgb - rgb.mean(-1, keepdims=True)) / (np.ptp(rgb, axis=-1, keepdims=True) + 1e-9)
    wanted = (target - target.mean()) / np.ptp(target)
    return int((saturated & (np.abs(direction - wanted).max(-1) < 0.25)).sum())


def body_mask(picture: np.ndarray) -> np.ndarray:
    """Pixels of the figure: coloured limbs or the dark mid-line (floor, background and
    shadow are light greys when the trajectory is not drawn)."""
    rgb = picture.astype(int)
    return (rgb.max(-1) - rgb.min(-1) > 60) | (rgb.max(-1) < 120)


# --- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("joints", "message"),
    [
        (np.zeros((0, 22, 3)), "zero frames"),
        (np.zeros((5, 22, 2)), "shape"),
        (np.zeros((5, 66)), "shape"),
        (np.zeros((5, 17, 3)), "17 joints"),
        (np.full((5, 22, 3), np.nan), "NaN"),
        (np.where(np.arange(5)[:, None, None] == 3, np.inf, np.zeros((5, 22, 3))), "frames 3"),
        ([["not", "numbers"]], "numeric"),
    ],
)
def test_bad_joints_are_refused_with_a_clear_error(joints, message, tmp_path):
    for call in (
        lambda: render_frames(joints, SMALL),
        lambda: render_video(joints, tmp_path / "x.mp4", SMALL),
        lambda: export_glb(joints, tmp_path / "x.glb"),
        lambda: RenderCache(tmp_path).path(joints),
    ):
        with pytest.raises(RenderError, match=message) as error:
            call()
        assert isinstance(error.value, EngineError)
    assert not list(tmp_path.iterdir())


def test_joints_must_match_the_skeleton_given():
    with pytest.raises(RenderError, match="21 joints but skeleton 'humanml3d' has 22"):
        render_frames(np.zeros((3, 21, 3)), SMALL, skeleton=HUMANML3D)


def test_bad_settings_are_refused_with_every_problem_named():
    with pytest.raises(RenderError, match=r"width=255.*even") as error:
        RenderSettings(width=255, left_colour="orange", x264_preset="warp")
    assert "left_colour='orange'" in str(error.value)
    assert "x264_preset='warp'" in str(error.value)
    assert RenderSettings().key() != RenderSettings(width=128).key()
    assert RenderSettings().replace(frame_step=2).video_fps == 10.0


# --- no OpenGL -------------------------------------------------------------------------


def _python(code: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "PYOPENGL_PLATFORM"}
    environment.update(env, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_without_any_opengl_rendering_is_reported_unavailable_and_search_goes_on():
    out = _python(
        "import numpy as np\n"
        "from engine.render import backend, render_frames, rendering_available, RenderUnavailable\n"
        "backend.PLATFORMS = ('no-such-platform',)\n"
        "print(rendering_available())\n"
        "print(backend.unavailable_reason())\n"
        "try:\n"
        "    render_frames(np.zeros((2, 22, 3)))\n"
        "except RenderUnavailable as error:\n"
        "    print('raised', type(error).__mro__[2].__name__)\n"
    )
    available, reason, raised = out.strip().splitlines()
    assert available == "False"
    assert "no offscreen OpenGL works here" in reason and "no-such-platform" in reason
    assert "libosmesa6" in reason  # says what to install
    assert raised == "raised EngineError"


def test_opengl_imported_before_the_platform_is_chosen_is_explained():
    out = _python(
        "import OpenGL.GL\n"
        "from engine.render import unavailable_reason\n"
        "print(unavailable_reason())\n"
    )
    assert "set PYOPENGL_PLATFORM=egl" in out


# --- frames, colours and framing -------------------------------------------------------


def test_frames_are_drawn_and_follow_the_motion(gl, clip):
    frames = render_frames(clip, SMALL)
    assert frames.shape == (len(clip), 96, 96, 3) and frames.dtype == np.uint8
    for frame in frames:
        assert frame.std() > 10, "a frame is blank"
        assert body_mask(frame).sum() > 50, "no figure in a frame"
    changes = [np.abs(a.astype(int) - b).mean() for a, b in itertools.pairwise(frames)]
    assert min(changes) > 0.1 and max(changes) > 1.0


def test_left_and_right_sides_show_in_their_own_colours(gl, clip):
    settings = SMALL.replace(width=160, height=160, show_trajectory=False)
    frame = render_frames(clip[:1], settings)[0]
    assert hue_pixels(frame, ORANGE_LEFT) > 40
    assert hue_pixels(frame, BLUE_RIGHT) > 40
    # swapping the colours swaps what is seen: each colour is tied to its side
    swapped = settings.replace(left_colour=BLUE_RIGHT, right_colour=ORANGE_LEFT)
    mirrored = render_frames(clip[:1], swapped)[0]
    assert hue_pixels(mirrored, ORANGE_LEFT) == pytest.approx(hue_pixels(frame, BLUE_RIGHT), 0.1)


def test_the_camera_keeps_a_travelling_body_in_every_frame(swing_joints):
    joints = walking(swing_joints, metres=6.0)
    settings = RenderSettings()
    camera = follow_camera(joints, HUMANML3D, settings)
    # project every joint with each frame's camera: all must land inside the picture
    world_to_camera = np.linalg.inv(camera.poses)
    points = np.einsum("tij,tkj->tki", world_to_camera[:, :3, :3], joints)
    points += world_to_camera[:, None, :3, 3]
    depth = -points[..., 2]
    assert (depth > camera.znear).all()
    tan = np.tan(camera.yfov / 2)
    assert (np.abs(points[..., 0] / depth) < tan * camera.aspect).all()
    assert (np.abs(points[..., 1] / depth) < tan).all()
    # and the camera moved along with the body, smoothly
    assert camera.targets[-1, 2] - camera.targets[0, 2] > 5.0
    steps = np.linalg.norm(np.diff(camera.targets, axis=0), axis=1)
    assert steps.max() < 0.2


def test_a_travelling_body_is_drawn_whole_in_first_middle_and_last_frame(gl, swing_joints):
    joints = walking(swing_joints, metres=6.0)
    settings = SMALL.replace(show_trajectory=False)
    last = len(joints) - 1
    for frame in iter_frames(joints, settings, frames=[0, last // 2, last]):
        mask = body_mask(frame)
        assert mask.sum() > 50
        rows, columns = np.nonzero(mask)
        assert rows.min() > 0 and columns.min() > 0
        assert rows.max() < frame.shape[0] - 1 and columns.max() < frame.shape[1] - 1


def test_degenerate_motions_still_render(gl, swing_joints, tmp_path):
    with np.errstate(all="raise"):
        assert render_frames(swing_joints[:1], SMALL).shape == (1, 96, 96, 3)
        collapsed = np.zeros((3, 22, 3))  # every joint at one point: no width, no facing
        assert render_frames(collapsed, SMALL).std() > 5
        export_glb(collapsed, tmp_path / "point.glb")


def test_kit_bodies_render_too(gl):
    frames = render_frames(kit_rest_pose(), SMALL)
    assert frames.shape == (6, 96, 96, 3)
    assert body_mask(frames[0]).sum() > 30


def test_body_geometry_is_closed_and_faces_outwards(swing_joints):
    capsule_end, capsule_offset, capsule_faces = unit_capsule(8)
    tips = capsule_offset + capsule_end[:, None] * [0.0, 0.0, 2.0]
    capsule = trimesh.Trimesh(tips, capsule_faces, validate=True)  # drops the degenerate poles
    assert capsule.is_watertight and capsule.volume > 0.8 * np.pi * (4 / 3 + 2)
    mesh = SkeletonMesh(HUMANML3D, SMALL)
    body = mesh.body(mesh.points(swing_joints[0]))
    assert body.to_trimesh().is_winding_consistent
    assert np.isfinite(body.positions).all() and np.allclose(
        np.linalg.norm(body.normals, axis=1), 1
    )


@pytest.mark.parametrize("skeleton", [HUMANML3D, KIT], ids=["humanml3d", "kit"])
def test_the_body_has_a_person_s_proportions(skeleton):
    shape = body_shape(skeleton)
    names = [skeleton.joint_names[e] if e < skeleton.num_joints else None for e in shape.ends]
    radius = {
        n: (a + b) / 2 for n, a, b in zip(names, shape.start_radii, shape.end_radii, strict=True)
    }
    # every bone of a known skeleton has its own thickness, none the plain fallback
    assert len(set(zip(shape.start_radii, shape.end_radii, strict=True))) > 8
    thigh, shin = radius["left_knee"], radius["left_ankle"]
    upper_arm, forearm = radius["left_elbow"], radius["left_wrist"]
    assert thigh > shin > forearm and upper_arm > forearm and thigh > upper_arm
    assert shape.largest_radius >= 0.1  # the torso
    # the head and both hands are pieces no joint marks: three extensions
    assert len(shape.extension_joints) == 3
    tips = shape.points(np.random.default_rng(0).normal(size=(skeleton.num_joints, 3)))
    assert tips.shape == (skeleton.num_joints + 3, 3) and np.isfinite(tips).all()
    assert body_shape(skeleton, thickness=2.0).largest_radius == 2 * shape.largest_radius


def test_arms_and_legs_show_their_side_and_the_trunk_is_one_colour():
    shape = body_shape(HUMANML3D)
    side = dict(
        zip([HUMANML3D.joint_names[e] for e in shape.ends[:21]], shape.sides[:21], strict=True)
    )
    assert side["left_knee"] == "left" and side["right_elbow"] == "right"
    assert side["left_hip"] is side["right_collar"] is side["spine3"] is None


def test_a_path_that_turns_straight_back_gives_a_clean_trajectory():
    there_and_back = np.r_[np.linspace(0, 2, 30), np.linspace(2, 0, 30)[1:]]
    path = np.column_stack([there_and_back, np.zeros_like(there_and_back)])
    with np.errstate(all="raise"):
        ribbon = trajectory(path, SMALL)
    assert len(ribbon.faces) > 50 and np.isfinite(ribbon.positions).all()
    assert (ribbon.to_trimesh().face_normals[:, 1] > 0.99).all()  # all face up
    assert len(trajectory(np.zeros((10, 2)), SMALL).faces) == 0  # standing still: no line


# --- video and still -----------------------------------------------------------------


def test_the_mp4_is_h264_yuv420p_and_holds_every_frame(gl, clip, tmp_path):
    settings = SMALL.replace(width=128, height=96)
    path = render_video(clip, tmp_path / "clip.mp4", settings)
    reader = imageio.get_reader(path, format="FFMPEG")
    meta = reader.get_meta_data()
    assert meta["codec"] == "h264"
    assert meta["pix_fmt"].startswith("yuv420p")
    assert meta["size"] == (128, 96)
    assert meta["fps"] == 20.0
    assert reader.count_frames() == len(clip)
    assert reader.get_data(0).std() > 10
    assert path.read_bytes().find(b"moov") < path.read_bytes().find(b"mdat")  # +faststart


def test_frame_step_keeps_real_time_with_fewer_frames(gl, clip, tmp_path):
    path = render_video(clip, tmp_path / "half.mp4", SMALL.replace(frame_step=2))
    reader = imageio.get_reader(path, format="FFMPEG")
    assert reader.count_frames() == len(clip) // 2
    assert reader.get_meta_data()["fps"] == 10.0


def test_the_thumbnail_is_a_png_of_the_most_telling_pose(gl, clip, tmp_path):
    path = render_thumbnail(clip, tmp_path / "still.png", SMALL)
    picture = np.asarray(Image.open(path))
    assert picture.shape == (96, 96, 3)
    assert body_mask(picture).sum() > 50
    with pytest.raises(RenderError, match="frame 99 is outside"):
        render_thumbnail(clip, tmp_path / "x.png", SMALL, frame=99)


def test_the_representative_frame_is_the_widest_pose(swing_joints):
    joints = swing_joints[:10].copy()
    spread = joints[6].mean(axis=0) + 1.5 * (joints[6] - joints[6].mean(axis=0))
    joints[6] = spread
    assert representative_frame(joints) == 6


def test_a_failed_encode_leaves_no_file_behind(tmp_path):
    def frames_then_failure():
        yield np.zeros((96, 96, 3), np.uint8)
        raise RuntimeError("the renderer fell over")

    target = tmp_path / "clip.mp4"
    with pytest.raises(RuntimeError, match="fell over"):
        write_mp4(frames_then_failure(), target, 20.0, SMALL)
    assert not list(tmp_path.iterdir())


# --- GLB ----------------------------------------------------------------------------


def test_the_glb_reads_back_and_its_keyframes_reproduce_the_joints(swing_joints, tmp_path):
    joints = swing_joints[:40]
    path = export_glb(joints, tmp_path / "motion.glb")
    assert path.read_bytes()[:4] == b"glTF"
    gltf = pygltflib.GLTF2().load(str(path))
    bones = len(HUMANML3D.bones)
    extensions = 3  # the head and the two hands
    (animation,) = gltf.animations
    channels = HUMANML3D.num_joints + 2 * bones + extensions
    assert len(animation.channels) == len(animation.samplers) == channels
    assert {c.target.path for c in animation.channels} == {"translation", "rotation", "scale"}
    for sampler in animation.samplers:
        assert gltf.accessors[sampler.input].count == 40
        assert gltf.accessors[sampler.output].count == 40
    # root, joints, bones, head and hands, floor
    assert len(gltf.nodes) == 1 + HUMANML3D.num_joints + bones + extensions + 1

    animation = read_glb_animation(path)
    assert np.allclose(animation.times, np.arange(40) / 20.0)
    assert np.abs(animation.joint_positions(HUMANML3D) - joints).max() < 1e-6
    children = [child for _, child in HUMANML3D.bones]
    assert np.abs(animation.bone_ends(HUMANML3D) - joints[:, children]).max() < 1e-5
    # a hand continues its forearm: its capsule's +Y turns onto elbow -> wrist
    wrist, elbow = (HUMANML3D.joint_names.index(n) for n in ("left_wrist", "left_elbow"))
    forearm = joints[:, wrist] - joints[:, elbow]
    forearm /= np.linalg.norm(forearm, axis=-1, keepdims=True)
    hand = np.roll(animation.channels[("extension:left_wrist", "rotation")], 1, axis=-1)
    assert np.abs(qrot(hand, np.broadcast_to(UP, forearm.shape)) - forearm).max() < 1e-5


def test_glb_of_a_kit_body_without_floor(tmp_path):
    joints = kit_rest_pose()
    settings = RenderSettings(show_floor=False, show_trajectory=False)
    path = export_glb(joints, tmp_path / "kit.glb", settings)
    gltf = pygltflib.GLTF2().load(str(path))
    assert len(gltf.nodes) == 1 + KIT.num_joints + len(KIT.bones) + 3  # + head and hands
    assert np.abs(read_glb_animation(path).joint_positions(KIT) - joints).max() < 1e-6


# --- cache ---------------------------------------------------------------------------


@pytest.fixture()
def counted(monkeypatch):
    """Count the renders the cache really does (in this process)."""
    calls = []
    for kind, (extension, writer) in list(cache_module.KINDS.items()):

        def counting(*args, _writer=writer, _kind=kind):
            calls.append(_kind)
            return _writer(*args)

        monkeypatch.setitem(cache_module.KINDS, kind, (extension, counting))
    return calls


def test_the_cache_renders_once_and_keys_on_joints_and_settings(gl, clip, tmp_path, counted):
    cache = RenderCache(tmp_path, workers=0)  # counted: the writers of this process
    first = cache.video(clip, SMALL)
    again = cache.video(clip.astype(np.float64), SMALL)
    assert first == again and first.exists() and counted == ["video"]
    assert first.parent == tmp_path and first.suffix == ".mp4"
    assert cache.video(clip, SMALL.replace(fps=25.0)) != first
    assert cache.video(clip + 0.001, SMALL) != first
    assert cache.thumbnail(clip, SMALL).suffix == ".png"
    assert cache.glb(clip, SMALL).suffix == ".glb"
    assert counted == ["video", "video", "video", "thumbnail", "glb"]
    with pytest.raises(RenderError, match="unknown render kind 'gif'"):
        cache.path(clip, "gif")


def test_a_bounded_cache_deletes_the_least_recently_used_files(clip, tmp_path):
    motions = [clip + [0.1 * i, 0.0, 0.0] for i in range(4)]  # GLBs: no OpenGL needed
    probe = RenderCache(tmp_path / "probe")
    sizes = [probe.glb(m).stat().st_size for m in motions]  # about equal
    cache = RenderCache(tmp_path / "cache", max_mb=sum(sizes[:3]) / 2**20)
    a, b, c = (cache.glb(m) for m in motions[:3])  # at the bound: nothing deleted
    for age, path in zip((300, 200, 100), (a, b, c), strict=True):
        os.utime(path, (time.time() - age, time.time() - age))
    assert cache.glb(motions[0]) == a  # a hit: a is now the most recently used
    d = cache.glb(motions[3])  # over the bound: down to 80% of it, oldest first
    assert a.exists() and d.exists() and not b.exists() and not c.exists()
    assert cache.glb(motions[1]) == b and b.exists()  # rendered again on demand


def test_a_bound_never_deletes_what_was_just_rendered(clip, tmp_path):
    cache = RenderCache(tmp_path, max_mb=1e-6)
    paths = [cache.glb(clip), cache.glb(clip + 0.5)]
    assert paths[1].exists() and not paths[0].exists()
    results = dict(cache.render_many([clip, clip + 0.5], "glb"))
    assert all(path.exists() for path in results.values())
    assert cache.prune() == 2 and not list(tmp_path.iterdir())


def test_the_default_cache_lives_under_the_engine_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTION_RETRIEVAL_CACHE", str(tmp_path))
    assert RenderCache().root == tmp_path / "renders"


def test_a_failing_render_leaves_nothing_at_the_cache_path(gl, clip, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        yield np.zeros((SMALL.height, SMALL.width, 3), np.uint8)
        raise RenderUnavailable("the context was lost")

    monkeypatch.setattr("engine.render.video.iter_frames", broken)
    cache = RenderCache(tmp_path, workers=0)  # the broken renderer is this process's
    with pytest.raises(RenderUnavailable):
        cache.video(clip, SMALL)
    assert not cache.path(clip, "video", SMALL).exists()
    assert not list(tmp_path.iterdir())


def test_render_many_yields_each_result_as_it_is_ready(gl, clip, tmp_path):
    motions = [clip[:8], clip[8:16], clip[:8] + [0.5, 0.0, 0.0], clip[8:16]]
    cache = RenderCache(tmp_path)
    results = list(cache.render_many(motions, settings=SMALL, workers=2))
    assert sorted(i for i, _ in results) == [0, 1, 2, 3]
    paths = dict(results)
    assert paths[1] == paths[3] and len(set(paths.values())) == 3
    assert all(p.exists() for p in paths.values())
    inodes = {p: p.stat().st_ino for p in paths.values()}  # a new render is a new file

    again = dict(cache.render_many(motions, settings=SMALL, workers=2))
    assert again == paths
    assert {p: p.stat().st_ino for p in again.values()} == inodes


def test_a_server_renders_from_its_request_threads_after_checking_for_opengl(gl, clip, tmp_path):
    """The demo checks `rendering_available()` at start-up, then renders from Gradio's
    request threads. The check made the process's OpenGL context, current on the main
    thread, and every request thread then failed: EGLError EGL_BAD_ACCESS in eglMakeCurrent.
    Now the cache draws in the worker processes and the server makes no context itself."""
    np.save(tmp_path / "clip.npy", clip[:8])
    out = _python(
        "import threading, numpy as np\n"
        "from pathlib import Path\n"
        "from engine.render import RenderCache, RenderSettings, backend, rendering_available\n"
        f"root = Path({str(tmp_path)!r})\n"
        "joints = np.load(root / 'clip.npy')\n"
        "settings = RenderSettings(width=96, height=96)\n"
        "assert rendering_available()\n"
        "cache = RenderCache(root / 'cache')\n"
        "answers = []\n"
        "def request(n):\n"
        "    try:\n"
        "        answers.append(cache.video(joints + [0.1 * n, 0, 0], settings).name)\n"
        "        answers.append(cache.thumbnail(joints, settings).name)\n"
        "        copy = cache.export(joints, root / f'out{n}.mp4', 'video', settings)\n"
        "        answers.append(copy.name)\n"
        "    except Exception as error:\n"
        "        answers.append(f'{type(error).__name__}: {error}'.splitlines()[0])\n"
        "threads = [threading.Thread(target=request, args=(n,)) for n in range(2)]\n"
        "for thread in threads: thread.start()\n"
        "for thread in threads: thread.join()\n"
        "print(sorted(answers))\n"
        "print('context here:', backend._renderer is not None)\n",
        PYOPENGL_PLATFORM=os.environ.get("PYOPENGL_PLATFORM", ""),
    )
    answers, context = out.strip().splitlines()[-2:]
    assert "Error" not in answers, answers
    assert answers.count(".mp4") == 4 and answers.count(".png") == 2, answers
    assert context == "context here: False"
    for n in range(2):
        reader = imageio.get_reader(tmp_path / f"out{n}.mp4", format="FFMPEG")
        assert reader.count_frames() == 8 and reader.get_meta_data()["size"] == (96, 96)


def test_rendering_in_this_process_works_from_any_thread(gl, clip):
    """A script may draw in its own process: the context is released after each use, so
    another thread can draw next."""
    from concurrent.futures import ThreadPoolExecutor

    here = render_frames(clip[:3], SMALL)
    for _ in range(2):
        with ThreadPoolExecutor(1) as thread:
            there = thread.submit(render_frames, clip[:3], SMALL).result()
        assert np.array_equal(here, there)


def test_export_copies_a_rendered_file_atomically(clip, tmp_path, monkeypatch):
    cache = RenderCache(tmp_path / "cache")
    target = tmp_path / "downloads" / "motion.glb"  # GLB: no OpenGL needed
    assert cache.export(clip, target, "glb") == target
    assert target.read_bytes() == cache.path(clip, "glb").read_bytes()
    before = target.read_bytes()

    def half_a_copy(source, destination):
        Path(destination).write_bytes(Path(source).read_bytes()[:100])
        raise OSError("disk full")

    monkeypatch.setattr("engine.render.cache.shutil.copyfile", half_a_copy)
    with pytest.raises(OSError, match="disk full"):
        cache.export(clip + 0.5, target, "glb")
    assert target.read_bytes() == before  # the old file stays whole, no part of the new one
    assert [p.name for p in target.parent.iterdir()] == ["motion.glb"]  # no temporary left
    monkeypatch.undo()
    cache.path(clip, "glb").unlink()  # pruned since: rendered again
    assert cache.export(clip, target, "glb").read_bytes() == before


def test_render_many_checks_every_motion_before_rendering(tmp_path):
    cache = RenderCache(tmp_path)
    with pytest.raises(RenderError, match="NaN"):
        list(cache.render_many([np.zeros((4, 22, 3)), np.full((4, 22, 3), np.nan)]))
    assert not list(tmp_path.iterdir())
