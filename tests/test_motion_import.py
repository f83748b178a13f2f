"""Import of users' motion files (HumanML3D / KIT-ML arrays, BVH) and export of motions."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from engine.data.bvh import Bvh, BvhJoint, bvh_from_joints, format_bvh, read_bvh
from engine.data.kit import kit_to_humanml3d_joints, points_along, resample_positions
from engine.data.motion_export import export_bvh, export_npy, safe_file_stem
from engine.data.motion_import import (
    MIN_FRAMES,
    bvh_to_joints,
    load_motion_file,
    match_joint_names,
)
from engine.errors import MotionFileError
from engine.motion.features import joints_to_features
from engine.motion.kinematics import body_forward
from engine.motion.motion import Motion
from engine.motion.skeleton import HUMANML3D, KIT

H = HUMANML3D.index
FEET = [H(n) for n in ("left_ankle", "right_ankle", "left_foot", "right_foot")]


# --- building variants of the real capture ----------------------------------------------


def transformed(bvh: Bvh, axes: np.ndarray, scale: float = 1.0) -> Bvh:
    """The same capture in other coordinates: `axes` is a signed permutation matrix (a
    rotation, or a reflection for a left-handed file) and `scale` converts metres.

    Conjugating a rotation about axis a by the matrix gives a rotation about its image, by
    the same angle times the image's sign and the matrix's determinant, so each channel
    keeps its place in the file and only its name and sign change.
    """
    det = np.linalg.det(axes)
    joints, columns, column = [], [], 0
    for joint in bvh.joints:
        channels = []
        for k, channel in enumerate(joint.channels):
            image = axes[:, "XYZ".index(channel[0])]
            axis = int(np.argmax(np.abs(image)))
            factor = image[axis] * (scale if channel.endswith("position") else det)
            channels.append("XYZ"[axis] + channel[1:])
            columns.append(bvh.values[:, column + k] * factor)
        column += len(joint.channels)
        end_site = None if joint.end_site is None else scale * axes @ joint.end_site
        joints.append(
            dataclasses.replace(
                joint,
                offset=scale * axes @ joint.offset,
                channels=tuple(channels),
                end_site=end_site,
            )
        )
    return Bvh(tuple(joints), bvh.frame_time, np.stack(columns, axis=1))


def renamed(bvh: Bvh, names: dict[str, str]) -> Bvh:
    joints = tuple(dataclasses.replace(j, name=names.get(j.name, j.name)) for j in bvh.joints)
    return dataclasses.replace(bvh, joints=joints)


def with_joint_above(bvh: Bvh, name: str, child: str, fraction: float) -> Bvh:
    """Insert a joint that never turns between `child` and its parent, `fraction` of the way
    along the bone: every position stays where it was."""
    c = bvh.names.index(child)
    old_to_new = [j + (j >= c) for j in range(len(bvh.joints))]
    joints, columns, column = [], [], 0
    for j, joint in enumerate(bvh.joints):
        parent = old_to_new[joint.parent] if joint.parent >= 0 else -1
        if j == c:
            rotations = ("Zrotation", "Yrotation", "Xrotation")
            joints.append(BvhJoint(name, parent, joint.offset * fraction, rotations))
            columns.append(np.zeros((bvh.num_frames, 3)))
            joint = dataclasses.replace(joint, offset=joint.offset * (1 - fraction))
            parent = len(joints) - 1
        joints.append(dataclasses.replace(joint, parent=parent))
        columns.append(bvh.values[:, column : column + len(joint.channels)])
        column += len(joint.channels)
    return Bvh(tuple(joints), bvh.frame_time, np.concatenate(columns, axis=1))


def with_toe_as_end_site(bvh: Bvh, toe: str) -> Bvh:
    """Drop a toe joint (whose own End Site has zero offset), making it its ankle's End Site."""
    t = bvh.names.index(toe)
    toe_joint = bvh.joints[t]
    assert not np.any(toe_joint.end_site)
    start = sum(len(j.channels) for j in bvh.joints[:t])
    keep = np.r_[0:start, start + len(toe_joint.channels) : bvh.values.shape[1]]
    joints = []
    for j, joint in enumerate(bvh.joints):
        if j == t:
            continue
        parent = joint.parent - (joint.parent > t)
        end_site = toe_joint.offset if j == toe_joint.parent else joint.end_site
        joints.append(dataclasses.replace(joint, parent=parent, end_site=end_site))
    return Bvh(tuple(joints), bvh.frame_time, bvh.values[:, keep])


def save(bvh: Bvh, path: Path) -> Path:
    path.write_text(format_bvh(bvh))
    return path


@pytest.fixture(scope="module")
def aist(bvh_sample) -> Bvh:
    return read_bvh(bvh_sample)


@pytest.fixture(scope="module")
def aist_motion(bvh_sample) -> Motion:
    return load_motion_file(bvh_sample)


@pytest.fixture(scope="module")
def capture(motion_joints) -> Bvh:
    """The generated clip as a Mixamo-named BVH capture (20 fps, metres, Y up): what the
    tests of conventions, variants and export start from, so that they run without
    ../shared; the real capture's own checks are the three `test_real_bvh_*`."""
    mixamo = {smpl: name for name, smpl in MIXAMO_TO_SMPL.items()}
    bvh = renamed(bvh_from_joints(motion_joints), mixamo)
    toes = ("LeftToe", "RightToe")  # no End Site past the toes, as in Mixamo's files
    joints = tuple(
        dataclasses.replace(j, end_site=None) if j.name in toes else j for j in bvh.joints
    )
    return dataclasses.replace(bvh, joints=joints)


@pytest.fixture(scope="module")
def capture_file(capture, tmp_path_factory) -> Path:
    return save(capture, tmp_path_factory.mktemp("capture") / "swing_mixamo_names.bvh")


@pytest.fixture(scope="module")
def capture_motion(capture_file) -> Motion:
    return load_motion_file(capture_file)


def chirality(joints: np.ndarray, pelvis: int, left: int, right: int, head: int) -> np.ndarray:
    """Per-frame signed volume spanned by the two hands and the head around the pelvis:
    unchanged by rotation and translation, negated by mirroring."""
    vectors = joints[:, [left, right, head]] - joints[:, [pelvis]]
    volume = np.linalg.det(vectors)
    return volume / np.abs(volume).mean()


# --- the real AIST++ capture -----------------------------------------------------------


def test_real_bvh_imports_as_a_standing_body_at_20_fps(bvh_sample, aist_motion):
    motion = aist_motion
    assert motion.id == "aist_dance_mixamo_names" and motion.source == bvh_sample.name
    # 720 frames at 60 fps are 12 s: 240 poses at 20 fps, one fewer feature frame
    assert motion.num_frames == 239 and motion.features.shape == (239, 263)
    assert motion.meta["source_fps"] == pytest.approx(60.0, abs=0.01)
    assert (motion.meta["unit"], motion.meta["up_axis"], motion.meta["mirrored"]) == (
        "m",
        "+y",
        False,
    )
    joints = motion.joints
    head, pelvis = joints[:, H("head"), 1], joints[:, H("pelvis"), 1]
    feet = joints[:, FEET, 1]
    assert (head > pelvis).all() and (pelvis > feet.max(1)).mean() > 0.95  # Y up
    assert 1.3 < np.median(head) < 1.8  # a standing adult's head joint, in metres
    assert abs(feet.min()) < 1e-6 and np.median(feet.min(1)) < 0.05  # feet on the floor


def test_real_bvh_keeps_left_and_right(aist, aist_motion):
    joints = aist_motion.joints
    # canonical form: the first pose faces +Z, so the person's left is at +X
    assert joints[0, H("left_hip"), 0] > 0 > joints[0, H("right_hip"), 0]
    assert joints[0, H("left_shoulder"), 0] > 0 > joints[0, H("right_shoulder"), 0]
    # and the toes point where that facing says (they point backwards in a mirrored body)
    toes = joints[:, H("left_foot")] - joints[:, H("left_ankle")]
    assert ((body_forward(joints, HUMANML3D) * toes).sum(-1) > 0).mean() > 0.9
    # the capture itself is not mirrored: the signed volume hands-head keeps its sign
    raw = aist.joint_positions()[::3][: len(joints)]
    names = ("Hips", "LeftHand", "RightHand", "Head")
    expected = chirality(raw, *(aist.names.index(n) for n in names))
    imported = chirality(joints, *(H(n) for n in ("pelvis", "left_wrist", "right_wrist", "head")))
    assert np.corrcoef(expected, imported)[0, 1] > 0.95


def test_real_bvh_body_before_canonicalisation(aist):
    joints, meta = bvh_to_joints(aist)
    assert joints.shape == (240, 22, 3) and meta["joint_map"]["left_ankle"] == "LeftFoot"
    feet = joints[:, FEET, 1].min(1)
    standing = np.percentile(joints[:, H("head"), 1] - feet, 90)
    assert 1.3 < standing < 1.8  # metres from the lowest foot joint to the head joint


Z_UP = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])  # turns +Y onto +Z
X_UP = np.array([[0.0, 1, 0], [1, 0, 0], [0, 0, -1]])
Y_DOWN = np.diag([1.0, -1, -1])


@pytest.mark.parametrize(
    ("axes", "scale", "up_axis", "unit"),
    [
        (Z_UP, 100.0, "+z", "cm"),
        (np.eye(3), 1 / 0.0254, "+y", "in"),
        (X_UP, 1000.0, "+x", "mm"),
        (Y_DOWN, 1.0, "-y", "m"),
    ],
    ids=["z-up-cm", "y-up-inches", "x-up-mm", "upside-down-m"],
)
def test_any_up_axis_and_unit_import_to_the_same_motion(
    tmp_path, capture, capture_motion, axes, scale, up_axis, unit
):
    path = save(transformed(capture, axes, scale), tmp_path / "moved.bvh")
    motion = load_motion_file(path)
    assert (motion.meta["up_axis"], motion.meta["unit"]) == (up_axis, unit)
    assert motion.meta["mirrored"] is False
    assert np.abs(motion.joints - capture_motion.joints).max() < 0.01
    # before canonicalisation too: the same heights in metres, turned about Y at most
    expected, _ = bvh_to_joints(capture)
    joints, _ = bvh_to_joints(read_bvh(path))
    assert np.abs(joints[..., 1] - expected[..., 1]).max() < 1e-5
    spread = np.linalg.norm((joints - joints[:, :1])[..., [0, 2]], axis=-1)
    assert (
        np.abs(spread - np.linalg.norm((expected - expected[:, :1])[..., [0, 2]], axis=-1)).max()
        < 1e-5
    )


def test_left_handed_file_is_mirrored_back(tmp_path, capture, capture_motion):
    path = save(transformed(capture, np.diag([-1.0, 1, 1])), tmp_path / "left_handed.bvh")
    motion = load_motion_file(path)
    assert motion.meta["mirrored"] is True
    assert np.abs(motion.joints - capture_motion.joints).max() < 0.01


# --- joint naming conventions ----------------------------------------------------------

MIXAMO_TO_SMPL = {
    "Hips": "pelvis",
    "Spine": "spine1",
    "Spine1": "spine2",
    "Spine2": "spine3",
    "Neck": "neck",
    "Head": "head",
    **{
        f"{side.title()}{mixamo}": f"{side}_{smpl}"
        for side in ("left", "right")
        for mixamo, smpl in (
            ("UpLeg", "hip"),
            ("Leg", "knee"),
            ("Foot", "ankle"),
            ("Toe", "foot"),
            ("Shoulder", "collar"),
            ("Arm", "shoulder"),
            ("ForeArm", "elbow"),
            ("Hand", "wrist"),
        )
    },
}
SMPL_SHORT = {  # the SMPL body model's own joint names: L_Hip, R_Knee, Spine1, ...
    mixamo: "_".join(
        part.title() if k else part[0].upper() for k, part in enumerate(smpl.split("_"))
    )
    if "_" in smpl
    else smpl.title()
    for mixamo, smpl in MIXAMO_TO_SMPL.items()
}


def cmu_style(bvh: Bvh) -> Bvh:
    """CMU's names (LowerBack, Spine, Spine1 for the three spine joints; LeftToeBase) and its
    extra joints: LHipJoint / RHipJoint on the hips, Neck1 between neck and head."""
    bvh = renamed(
        bvh,
        {"Spine": "LowerBack", "Spine1": "Spine", "Spine2": "Spine1"}
        | {f"{s}Toe": f"{s}ToeBase" for s in ("Left", "Right")},
    )
    bvh = with_joint_above(bvh, "LHipJoint", "LeftUpLeg", 0.0)
    bvh = with_joint_above(bvh, "RHipJoint", "RightUpLeg", 0.0)
    return with_joint_above(bvh, "Neck1", "Head", 0.5)


NAMINGS = {
    "smpl": lambda bvh: renamed(bvh, MIXAMO_TO_SMPL),
    "smpl-model": lambda bvh: renamed(bvh, SMPL_SHORT),
    "mixamorig": lambda bvh: renamed(bvh, {n: f"mixamorig:{n}" for n in bvh.names}),
    "cmu": cmu_style,
    "lower-case-separators": lambda bvh: renamed(bvh, {"LeftUpLeg": "left-up_leg", "Hips": "HIPS"}),
}


@pytest.mark.parametrize("naming", NAMINGS)
def test_naming_conventions_map_onto_the_same_joints(tmp_path, capture, capture_motion, naming):
    path = save(NAMINGS[naming](capture), tmp_path / f"{naming}.bvh")
    motion = load_motion_file(path)
    assert "placed" not in motion.meta["joint_map"].values()
    assert np.abs(motion.joints - capture_motion.joints).max() < 1e-4


def test_smpl_short_names_are_the_body_models():
    assert SMPL_SHORT["LeftUpLeg"] == "L_Hip" and SMPL_SHORT["RightToe"] == "R_Foot"


def test_joints_without_a_source_are_placed(tmp_path, capture, capture_motion):
    variant = renamed(
        capture, {"LeftShoulder": "LeftShoulderTwist", "RightShoulder": "RShoulderRoll"}
    )
    variant = with_joint_above(variant, "Chest", "Neck", 0.5)  # four spine joints
    variant = with_toe_as_end_site(with_toe_as_end_site(variant, "LeftToe"), "RightToe")
    motion = load_motion_file(save(variant, tmp_path / "sparse.bvh"))
    joint_map = motion.meta["joint_map"]
    placed = {name for name, source in joint_map.items() if source == "placed"}
    assert placed == {"spine1", "spine2", "spine3", "left_collar", "right_collar"}
    assert joint_map["left_foot"] == "End Site of LeftFoot"
    difference = np.linalg.norm(motion.joints - capture_motion.joints, axis=-1)
    limbs = [H(n) for n in ("left_wrist", "right_wrist", "left_foot", "right_foot", "head")]
    assert difference[:, limbs].max() < 0.1 and np.median(difference) < 0.03


def test_match_joint_names_across_conventions():
    cmu = ["Hips", "LHipJoint", "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase", "LowerBack"]
    cmu += ["Spine", "Spine1", "Neck", "Neck1", "Head", "LeftShoulder", "LeftArm"]
    cmu += ["LeftForeArm", "LeftHand", "LeftFingerBase", "LThumb"]
    assert match_joint_names(cmu) == {
        "pelvis": "Hips",
        "neck": "Neck",
        "head": "Head",
        "left_hip": "LeftUpLeg",
        "left_knee": "LeftLeg",
        "left_ankle": "LeftFoot",
        "left_foot": "LeftToeBase",
        "left_shoulder": "LeftArm",
        "left_collar": "LeftShoulder",
        "left_elbow": "LeftForeArm",
        "left_wrist": "LeftHand",
    }
    smpl = ["pelvis", "left_hip", "left_knee", "left_ankle", "left_foot", "left_collar"]
    smpl += ["left_shoulder", "left_elbow", "left_wrist", "R_Hip", "R_Ankle", "R_Foot"]
    matched = match_joint_names(smpl)
    assert matched["left_ankle"] == "left_ankle" and matched["left_foot"] == "left_foot"
    assert matched["left_shoulder"] == "left_shoulder" and matched["left_collar"] == "left_collar"
    assert matched["right_ankle"] == "R_Ankle" and matched["right_foot"] == "R_Foot"
    biped = ["Bip01 Pelvis", "Bip01 L Thigh", "Bip01 L Calf", "Bip01 L Foot", "Bip01 L Toe0"]
    biped += ["Bip01 L Clavicle", "Bip01 L UpperArm", "Bip01 L Forearm", "Bip01 L Hand"]
    assert set(match_joint_names(biped).values()) == set(biped)
    unreal = ["pelvis", "thigh_r", "calf_r", "foot_r", "ball_r", "clavicle_r", "upperarm_r"]
    assert set(match_joint_names(unreal).values()) == set(unreal)


# --- HumanML3D and KIT-ML arrays -------------------------------------------------------


def test_real_humanml3d_arrays_import_and_agree(humanml3d_sample_dir):
    features_file = humanml3d_sample_dir / "new_joint_vecs" / "012314.npy"
    from_features = load_motion_file(features_file)
    assert from_features.id == "012314" and from_features.meta["format"] == "humanml3d_features"
    assert np.array_equal(from_features.features, np.load(features_file))
    from_joints = load_motion_file(humanml3d_sample_dir / "new_joints" / "012314.npy")
    assert from_joints.num_frames == from_features.num_frames - 1
    common = slice(0, from_joints.num_frames)
    assert np.abs(from_joints.joints - from_features.joints[common]).max() < 1e-4
    # features agree away from the end, which HumanML3D's facing smoothing saw differently
    assert np.abs(from_joints.features[:100] - from_features.features[:100]).max() < 1e-4


def kit_like(joints_m: np.ndarray) -> np.ndarray:
    """A KIT-ML body (21 joints, mm, 12.5 fps) made from HumanML3D joints (m, 20 fps)."""
    source = {
        "root": "pelvis",
        "pelvis_top": "spine1",
        "thorax": "spine3",
        "lower_neck": "neck",
        "left_metatarsal": "left_foot",
        "right_metatarsal": "right_foot",
    }
    kit = np.zeros((len(joints_m), KIT.num_joints, 3))
    for k, name in enumerate(KIT.joint_names):
        if not name.endswith("_toe"):
            kit[:, k] = joints_m[:, H(source.get(name, name))]
    for side in ("left", "right"):
        ahead = kit[:, KIT.index(f"{side}_metatarsal")] - kit[:, KIT.index(f"{side}_ankle")]
        kit[:, KIT.index(f"{side}_toe")] = kit[:, KIT.index(f"{side}_metatarsal")] + 0.4 * ahead
    return resample_positions(kit / KIT.unit_scale, HUMANML3D.fps, KIT.fps)


def test_kit_arrays_import_onto_the_22_joints(tmp_path, motion_joints):
    reference = Motion.from_joints("ref", motion_joints)
    kit_mm = kit_like(motion_joints.astype(np.float64))
    # n poses at 20 fps span (n - 1) / 20 s: floor of that times 12.5, plus one, at 12.5 fps
    # (170 -> 106); and back, one frame fewer for the features' processing (106 -> 168)
    steps = (len(motion_joints) - 1) * 12.5 / 20
    assert len(kit_mm) == int(steps + 1e-9) + 1
    np.save(tmp_path / "kit_joints.npy", kit_mm.astype(np.float32))
    np.save(tmp_path / "kit_features.npy", joints_to_features(kit_mm, KIT))
    back = [int((len(kit_mm) - k) * 20 / 12.5 + 1e-9) for k in (1, 2)]
    for name, expected_frames in zip(("kit_joints", "kit_features"), back, strict=True):
        motion = load_motion_file(tmp_path / f"{name}.npy")
        assert motion.meta["format"] == name and motion.num_frames == expected_frames
        error = np.linalg.norm(motion.joints - reference.joints[: motion.num_frames], axis=-1)
        assert np.median(error) < 0.03 and error.max() < 0.15, name


def test_kit_mapping_units_rate_and_spine():
    still = np.tile(np.arange(21 * 3, dtype=np.float64).reshape(1, 21, 3), (26, 1, 1))
    still[:, :, 1] += 1000.0  # mm
    joints = kit_to_humanml3d_joints(still)
    assert joints.shape == (41, 22, 3)  # 2 s: 25 steps at 12.5 fps, 40 at 20 fps
    assert np.allclose(joints[:, H("pelvis")], still[0, KIT.index("root")] / 1000)
    assert np.allclose(joints[:, H("left_foot")], still[0, KIT.index("left_metatarsal")] / 1000)
    spine = joints[0, [H("pelvis"), H("spine1"), H("spine2"), H("spine3"), H("neck")]]
    steps = np.linalg.norm(np.diff(spine, axis=0), axis=-1)
    reference = HUMANML3D.bone_lengths[[H("spine1"), H("spine2"), H("spine3"), H("neck")]]
    assert np.allclose(steps / steps.sum(), reference / reference.sum())


def test_resampling_and_placing_along_a_chain():
    ramp = np.arange(7, dtype=np.float64)[:, None] * [1.0, 2.0, 0.0]  # 6 steps at 60 fps
    assert np.allclose(resample_positions(ramp, 60, 20), ramp[::3])
    assert len(resample_positions(np.zeros((12, 3)), 12.5, 20)) == 18  # 0.88 s -> 17.6 steps
    chain = np.array([[[0.0, 0, 0], [0, 1, 0], [0, 1, 3]]])  # lengths 1 and 3
    points = points_along(chain, np.array([0.0, 0.25, 0.5, 1.0]))
    assert np.allclose(points[0], [[0, 0, 0], [0, 1, 0], [0, 1, 1], [0, 1, 3]])


# --- errors ----------------------------------------------------------------------------


def write_array(path: Path, array: np.ndarray) -> Path:
    np.save(path, array)
    return path


def aist_with_frames(bvh: Bvh, frames: int) -> Bvh:
    return dataclasses.replace(bvh, values=bvh.values[:frames])


def test_unknown_extension(tmp_path):
    path = tmp_path / "motion.fbx"
    path.write_bytes(b"Kaydara FBX Binary")
    with pytest.raises(MotionFileError, match=r"unsupported file type '\.fbx'.*\.npy, \.bvh"):
        load_motion_file(path)


@pytest.mark.parametrize("name", ["empty.npy", "empty.bvh"])
def test_empty_files(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(MotionFileError, match=f"{name}: the file is empty"):
        load_motion_file(tmp_path / name)


def test_missing_file(tmp_path):
    with pytest.raises(MotionFileError, match=r"gone\.npy: no such file"):
        load_motion_file(tmp_path / "gone.npy")


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((50, 10)), r"shape \(50, 10\) is not a motion; accepted: \(frames, 263\)"),
        (np.zeros((50, 22)), r"\(frames, 22, 3\) HumanML3D joints"),
        (np.zeros((0, 263)), "has no frames"),
        (np.full((40, 263), np.nan), "NaN or infinite values"),
        (np.concatenate([np.zeros((30, 22, 3)), np.full((1, 22, 3), np.inf)]), "frame 30"),
        (np.array(["walk"] * 20), "<U4 values, not numbers"),
        (np.zeros((5, 263)), "too short: 5 frames at 20 fps"),
        (np.zeros((MIN_FRAMES, 22, 3)), f"too short: {MIN_FRAMES - 1} frames.*at least 10"),
        (np.zeros((40, 22, 3)), "joints pelvis and left_hip coincide in frame 0"),
        (np.zeros((6, 21, 3)), "too short"),  # 0.4 s at 12.5 fps
    ],
    ids=[
        "2d",
        "22",
        "no-frames",
        "nan",
        "inf",
        "strings",
        "short",
        "short-joints",
        "zeros",
        "short-kit",
    ],
)
def test_bad_arrays_are_refused_with_the_reason(tmp_path, array, message):
    path = write_array(tmp_path / "upload.npy", array)
    with pytest.raises(MotionFileError, match=message) as caught:
        load_motion_file(path)
    assert str(caught.value).startswith(str(path))


def test_minimum_length_is_a_parameter(tmp_path, motion_features):
    path = write_array(tmp_path / "short.npy", motion_features[:5])
    assert load_motion_file(path, min_frames=5).num_frames == 5
    with pytest.raises(MotionFileError, match="at least 6"):
        load_motion_file(path, min_frames=6)


def test_pickles_are_never_loaded(tmp_path):
    path = tmp_path / "evil.npy"
    np.save(path, np.array([{"run": "code"}], dtype=object), allow_pickle=True)
    with pytest.raises(MotionFileError, match=r"evil\.npy: holds pickled Python objects"):
        load_motion_file(path)


def test_other_files_named_npy(tmp_path, motion_features):
    archive = tmp_path / "archive.npy"
    with archive.open("wb") as handle:
        np.savez(handle, features=motion_features)
    with pytest.raises(MotionFileError, match=r"archive\.npy: is a \.npz archive"):
        load_motion_file(archive)
    text = tmp_path / "notes.npy"
    text.write_text("not an array")
    with pytest.raises(MotionFileError, match=r"notes\.npy: is not a \.npy file"):
        load_motion_file(text)


def test_unknown_skeleton_names_the_missing_joints(tmp_path, capture):
    path = save(renamed(capture, {"LeftHand": "Paw_L", "RightHand": "Paw_R"}), tmp_path / "cat.bvh")
    with pytest.raises(MotionFileError) as caught:
        load_motion_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: unknown skeleton: no joint of the file matches ")
    assert "left_wrist, right_wrist (of the 22 HumanML3D joints)" in message
    assert "Paw_L" in message  # the file's own names are listed to help
    robot = renamed(capture, {n: f"Bone{k}" for k, n in enumerate(capture.names)})
    with pytest.raises(MotionFileError, match="matches pelvis, left_hip, right_hip, left_knee"):
        load_motion_file(save(robot, tmp_path / "robot.bvh"))


def test_truncated_and_short_bvh(tmp_path, capture_file, capture):
    text = capture_file.read_text()
    cut = tmp_path / "cut.bvh"
    cut.write_text(text[: len(text) * 2 // 3])
    with pytest.raises(MotionFileError, match=r"cut\.bvh: the file is truncated"):
        load_motion_file(cut)
    short = save(aist_with_frames(capture, 9), tmp_path / "short.bvh")  # 0.4 s: 9 poses
    with pytest.raises(MotionFileError, match=r"short\.bvh: too short: 8 frames"):
        load_motion_file(short)


def test_coinciding_joints_are_refused(tmp_path, capture):
    toe = capture.names.index("LeftToe")
    joints = list(capture.joints)
    joints[toe] = dataclasses.replace(joints[toe], offset=np.zeros(3))
    path = save(dataclasses.replace(capture, joints=tuple(joints)), tmp_path / "flat.bvh")
    with pytest.raises(MotionFileError, match="left_ankle and left_foot coincide"):
        load_motion_file(path)


# --- export ----------------------------------------------------------------------------


def test_npy_export_round_trips_exactly(tmp_path, capture_motion):
    features_path, joints_path = export_npy(capture_motion, tmp_path / "out")
    assert features_path.name == "swing_mixamo_names_features.npy"
    assert joints_path.name == "swing_mixamo_names_joints.npy"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [features_path.name, joints_path.name]
    )
    joints = np.load(joints_path, allow_pickle=False)
    assert joints.dtype == np.float32 and joints.shape == capture_motion.joints.shape
    assert np.array_equal(joints, capture_motion.joints)
    again = load_motion_file(features_path)
    assert np.array_equal(again.features, capture_motion.features)
    assert np.array_equal(again.joints, capture_motion.joints)
    # the joints file re-enters HumanML3D's processing (one pose fewer), to the same poses
    from_joints = load_motion_file(joints_path)
    assert np.abs(from_joints.joints - capture_motion.joints[:-1]).max() < 1e-3


def test_bvh_export_round_trips(tmp_path, capture_motion):
    path = export_bvh(capture_motion, tmp_path / "dance.bvh")
    again = load_motion_file(path)
    assert again.meta["source_fps"] == pytest.approx(20.0)
    assert (again.meta["unit"], again.meta["up_axis"], again.meta["mirrored"]) == ("m", "+y", False)
    assert again.num_frames == capture_motion.num_frames - 1
    assert np.abs(again.joints - capture_motion.joints[:-1]).max() < 1e-3


def test_export_file_names_stay_in_their_folder(tmp_path, capture_motion):
    assert safe_file_stem("../../etc/passwd") == "_.._etc_passwd"
    motion = dataclasses.replace(capture_motion, id="../up and away")
    features_path, _ = export_npy(motion, tmp_path)
    assert features_path.parent == tmp_path and features_path.name == "_up_and_away_features.npy"
