"""The BVH reader and writer, against an independent parser: reading the real AIST++
capture (skipped without ../shared) and writing the generated clip."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.data.bvh import bvh_from_joints, format_bvh, parse_bvh, read_bvh, write_bvh
from engine.errors import MotionFileError
from engine.motion.skeleton import HUMANML3D

# Two joints and an End Site. The root turns Rz(90) @ Rx(90), which takes (0, 1, 0) to
# (0, 0, 1) (the other composition order would give (-1, 0, 0)); `tip` has position
# channels, which replace its OFFSET.
SMALL = """HIERARCHY
ROOT root
{
\tOFFSET 0 0 0
\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
\tJOINT arm
\t{
\t\tOFFSET 0 1 0
\t\tCHANNELS 3 Yrotation Zrotation Xrotation
\t\tJOINT tip
\t\t{
\t\t\tOFFSET 0 1 0
\t\t\tCHANNELS 6 Xposition Yposition Zposition Xrotation Yrotation Zrotation
\t\t\tEnd Site
\t\t\t{
\t\t\t\tOFFSET 0 2 0
\t\t\t}
\t\t}
\t}
}
MOTION
Frames: 2
Frame Time: 0.1
0 0 0 0 0 0 0 0 0 0 1 0 0 0 0
1 2 3 90 90 0 0 0 0 0 5 0 0 0 0
"""


def independent_positions(text: str) -> dict[str, np.ndarray]:
    """World positions of every joint by the `bvh` package's parser and scipy's rotations."""
    bvh_package = pytest.importorskip(
        "bvh",
        reason="the independent BVH parser `bvh` is missing: pip install -r requirements-dev.txt",
    )
    mocap = bvh_package.Bvh(text)
    frames = np.array(mocap.frames, dtype=np.float64)
    positions: dict[str, np.ndarray] = {}
    rotations: dict[str, Rotation] = {}
    column = 0
    for name in mocap.get_joints_names():
        channels = mocap.joint_channels(name)
        values = frames[:, column : column + len(channels)]
        column += len(channels)
        translation = np.tile(np.array(mocap.joint_offset(name)), (len(frames), 1))
        axes, angle_columns = "", []
        for k, channel in enumerate(channels):
            if channel.endswith("position"):
                translation[:, "XYZ".index(channel[0])] = values[:, k]
            else:
                axes += channel[0]
                angle_columns.append(k)
        local = Rotation.from_euler(axes, values[:, angle_columns], degrees=True)  # intrinsic
        parent = mocap.joint_parent(name)
        if parent is None:
            positions[name], rotations[name] = translation, local
        else:
            positions[name] = positions[parent.name] + rotations[parent.name].apply(translation)
            rotations[name] = rotations[parent.name] * local
    return positions


def by_name(positions: np.ndarray, names: tuple[str, ...], wanted) -> np.ndarray:
    return positions[:, [names.index(name) for name in wanted]]


# --- reading --------------------------------------------------------------------------


def test_small_file_follows_the_bvh_conventions():
    bvh = parse_bvh(SMALL)
    assert bvh.names == ("root", "arm", "tip")
    assert bvh.joints[0].rotation_order == "ZXY" and bvh.joints[1].rotation_order == "YZX"
    assert bvh.fps == pytest.approx(10.0)
    positions = bvh.joint_positions()
    assert np.allclose(positions[0], [[0, 0, 0], [0, 1, 0], [0, 2, 0]])
    # frame 2: root at (1, 2, 3) turned by Rz(90) @ Rx(90); tip 5 up the arm (its position
    # channels, not its OFFSET of 1), then the End Site 2 further
    assert np.allclose(positions[1], [[1, 2, 3], [1, 2, 4], [1, 2, 9]])
    assert np.allclose(bvh.end_site_positions()["tip"][1], [1, 2, 11])


def test_reads_the_real_aist_capture(bvh_sample):
    bvh = read_bvh(bvh_sample)
    assert bvh.num_frames == 720
    assert bvh.fps == pytest.approx(60.0, abs=0.01)
    assert len(bvh.joints) == 22 and bvh.names[0] == "Hips"
    assert bvh.joints[0].channels[:3] == ("Xposition", "Yposition", "Zposition")
    assert {joint.rotation_order for joint in bvh.joints} == {"ZYX"}
    assert set(bvh.end_site_positions()) == {"LeftToe", "RightToe", "Head", "LeftHand", "RightHand"}
    positions = bvh.joint_positions()
    assert positions.shape == (720, 22, 3)
    head, toe = by_name(positions, bvh.names, ["Head", "LeftToe"]).transpose(1, 0, 2)
    assert ((head - toe)[:, 1] > 1.0).mean() > 0.9  # Y up, metres


def test_real_capture_matches_an_independent_parser(bvh_sample):
    text = bvh_sample.read_text()
    expected = independent_positions(text)
    bvh = parse_bvh(text)
    positions = bvh.joint_positions()
    for j, name in enumerate(bvh.names):
        assert np.abs(positions[:, j] - expected[name]).max() < 1e-9, name


def small_with(old: str, new: str) -> str:
    assert old in SMALL
    return SMALL.replace(old, new)


BAD_FILES = {
    "empty": ("", "the file is empty"),
    "blank": ("  \n\n", "the file is empty"),
    "not bvh": ("hello world\n", "does not start with HIERARCHY"),
    "no motion": (SMALL.split("MOTION")[0], "no MOTION section"),
    "hierarchy cut": (small_with("\t\t}\n\t}\n}\nMOTION", "\t\t}\n\t}\nMOTION"), "ends early"),
    "unknown channel": (small_with("3 Yrotation", "3 Wrotation"), "unknown channel 'Wrotation'"),
    "channel count": (small_with("CHANNELS 3", "CHANNELS 9"), "invalid channel count '9'"),
    "repeated channel": (small_with("Yrotation Zrotation", "Yrotation Yrotation"), "twice"),
    "no offset": (small_with("\t\tOFFSET 0 1 0\n\t\tCHANNELS 3", "\t\tCHANNELS 3"), "no OFFSET"),
    "bad offset": (small_with("OFFSET 0 1 0", "OFFSET 0 x 0"), "non-numeric value 'x'"),
    "duplicate name": (small_with("JOINT tip", "JOINT arm"), "used twice"),
    "no frame time": (small_with("Frame Time: 0.1", "0.1"), "Frame Time"),
    "zero frame time": (small_with("Frame Time: 0.1", "Frame Time: 0"), "Frame Time"),
    "zero frames": (small_with("Frames: 2", "Frames: 0"), "declares 0 frames"),
    "bad frame count": (small_with("Frames: 2", "Frames: two"), "Frames: <count>"),
    "fewer frames": (small_with("Frames: 2", "Frames: 3"), "truncated: it declares 3 frames"),
    "more frames": (small_with("Frames: 2", "Frames: 1"), "declares 1 frames but holds 2"),
    "cut last frame": (SMALL[: SMALL.rindex(" 5 ")] + "\n", "truncated: frame 2 (line 25)"),
    "non-numeric": (small_with("1 2 3 90", "1 2 abc 90"), "frame 2 (line 25) has a non-numeric"),
    "nan": (small_with("1 2 3 90", "1 2 nan 90"), "NaN or infinite values, the first is frame 2"),
    "two roots": (small_with("MOTION", "ROOT b\n{\nOFFSET 0 0 0\nCHANNELS 0\n}\nMOTION"), "ROOT"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_malformed_files_give_a_clear_error(tmp_path, case):
    text, message = BAD_FILES[case]
    path = tmp_path / "user_upload.bvh"
    path.write_text(text)
    with pytest.raises(MotionFileError) as caught:
        read_bvh(path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path))


def test_missing_file_is_a_motion_file_error(tmp_path):
    with pytest.raises(MotionFileError, match="cannot be read"):
        read_bvh(tmp_path / "nowhere.bvh")


# --- writing --------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["ZYX", "ZXY", "XYZ"])
def test_written_file_reads_back_to_the_same_positions(tmp_path, motion_joints, order):
    path = write_bvh(tmp_path / "clip.bvh", bvh_from_joints(motion_joints, order=order))
    bvh = read_bvh(path)
    assert bvh.num_frames == len(motion_joints) and bvh.fps == pytest.approx(20.0)
    assert bvh.joints[1].rotation_order == order
    positions = by_name(bvh.joint_positions(), bvh.names, HUMANML3D.joint_names)
    assert np.abs(positions - motion_joints).max() < 1e-3


def test_written_file_passes_an_independent_parser(tmp_path, motion_joints):
    path = write_bvh(tmp_path / "clip.bvh", bvh_from_joints(motion_joints))
    expected = independent_positions(path.read_text())
    for j, name in enumerate(HUMANML3D.joint_names):
        assert np.abs(expected[name] - motion_joints[:, j]).max() < 1e-3, name


def test_written_file_layout(tmp_path, motion_joints):
    text = write_bvh(tmp_path / "clip.bvh", bvh_from_joints(motion_joints)).read_text()
    lines = text.splitlines()
    assert lines[:3] == ["HIERARCHY", "ROOT pelvis", "{"]
    assert lines[3:5] == [
        "\tOFFSET 0.000000 0.000000 0.000000",
        "\tCHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation",
    ]
    assert text.count("JOINT ") == 21 and text.count("End Site") == 5
    motion = lines.index("MOTION")
    assert lines[motion + 1 : motion + 3] == [
        f"Frames: {len(motion_joints)}",
        "Frame Time: 0.050000",
    ]
    frames = lines[motion + 3 :]
    assert len(frames) == len(motion_joints)
    assert {len(frame.split()) for frame in frames} == {6 + 21 * 3}
    assert text.count("{") == text.count("}") == 22 + 5
    assert "-0.000000" not in text
    assert not [p for p in tmp_path.iterdir() if p.name != "clip.bvh"]  # no temporary left


def test_rest_offsets_have_the_skeleton_bone_lengths(motion_joints):
    bvh = bvh_from_joints(motion_joints)
    lengths = {joint.name: np.linalg.norm(joint.offset) for joint in bvh.joints}
    for j, name in enumerate(HUMANML3D.joint_names):
        assert lengths[name] == pytest.approx(HUMANML3D.bone_lengths[j], abs=1e-5)
    # bones with a joint to themselves keep their rest direction: legs hang, feet point forward
    left_knee = bvh.joints[bvh.names.index("left_knee")].offset
    assert np.allclose(left_knee / np.linalg.norm(left_knee), [0, -1, 0])


def test_fully_folded_arm_is_written_without_nan(motion_joints):
    joints = motion_joints[:20].astype(np.float64).copy()
    shoulder, elbow, wrist = (
        HUMANML3D.index(n) for n in ("left_shoulder", "left_elbow", "left_wrist")
    )
    upper = joints[:, elbow] - joints[:, shoulder]
    forearm_length = np.linalg.norm(joints[:, wrist] - joints[:, elbow], axis=-1, keepdims=True)
    # the forearm points straight back along the upper arm: opposite its rest direction
    joints[:, wrist] = (
        joints[:, elbow] - upper / np.linalg.norm(upper, axis=-1, keepdims=True) * forearm_length
    )
    bvh = bvh_from_joints(joints)
    assert np.isfinite(bvh.values).all()
    positions = by_name(bvh.joint_positions(), bvh.names, HUMANML3D.joint_names)
    assert np.abs(positions - joints).max() < 1e-6


@pytest.mark.parametrize(
    "joints", [np.zeros((5, 21, 3)), np.full((5, 22, 3), np.nan), np.zeros((0, 22, 3))]
)
def test_writer_rejects_what_is_not_a_motion(joints):
    with pytest.raises(ValueError):
        bvh_from_joints(joints)


def test_format_is_stable_through_a_second_round(motion_joints):
    text = format_bvh(bvh_from_joints(motion_joints))
    assert format_bvh(parse_bvh(text)) == text
