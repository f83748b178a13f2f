"""Import of a user's own motion file into a `Motion`: HumanML3D / KIT-ML arrays and BVH.

`load_motion_file(path)` accepts
- `.npy` arrays (never unpickled): (T, 263) HumanML3D features, (T, 22, 3) HumanML3D joints
  (`new_joints`: Y up, metres, 20 fps), (T, 251) KIT-ML features and (T, 21, 3) KIT-ML joints
  (Y up, millimetres, 12.5 fps);
- `.bvh` files of any skeleton whose joints follow a common naming convention (SMPL,
  Mixamo, CMU, 3ds Max Biped, DAZ, Unity/Unreal-like), in any unit and with any up axis.

Every problem is a `MotionFileError` naming the file and saying what is wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from engine.data.bvh import Bvh, read_bvh
from engine.data.kit import (
    collar_between,
    kit_to_humanml3d_joints,
    resample_positions,
    spine_between,
)
from engine.errors import MotionFileError
from engine.motion.features import features_to_joints
from engine.motion.kinematics import UP, body_forward
from engine.motion.motion import Motion
from engine.motion.skeleton import HUMANML3D, KIT

MIN_FRAMES = 10  # feature frames at 20 fps: half a second

_ACCEPTED_SHAPES = (
    f"(frames, {HUMANML3D.feature_dim}) HumanML3D features, "
    f"(frames, {HUMANML3D.num_joints}, 3) HumanML3D joints, "
    f"(frames, {KIT.feature_dim}) KIT-ML features, (frames, {KIT.num_joints}, 3) KIT-ML joints"
)


def load_motion_file(
    path: str | Path, *, min_frames: int = MIN_FRAMES, max_seconds: float | None = None
) -> Motion:
    """Read a motion file into a `Motion` on the 22-joint body at 20 fps.

    The motion's id is the file name without its extension, its `source` the file name and
    its `meta` says how the file was read (format, frame rate, and for BVH the unit, up
    axis, handedness fix and which source joint became which of the 22). A motion longer
    than `max_seconds` is cropped to its first `max_seconds`; then `meta` holds
    `cropped_from_seconds` (the file's length) and `cropped_to_seconds`.
    """
    path = Path(path)
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        accepted = ", ".join(_LOADERS)
        raise MotionFileError(
            path, f"unsupported file type {path.suffix or '(none)'!r}: accepted are {accepted}"
        )
    if not path.is_file():
        raise MotionFileError(path, "no such file")
    if path.stat().st_size == 0:
        raise MotionFileError(path, "the file is empty")
    array, meta = loader(path)
    if max_seconds is not None:
        array, meta = _crop(array, meta, max_seconds)
    return _to_motion(path, array, meta, min_frames)


def _crop(array: np.ndarray, meta: dict, max_seconds: float) -> tuple[np.ndarray, dict]:
    """Features (T, 263) or joints (T, 22, 3) at 20 fps cut to their first `max_seconds`."""
    joints = array.ndim == 3  # T joint frames make T - 1 feature frames
    frames = len(array) - joints
    cap = max(1, int(max_seconds * HUMANML3D.fps))
    if frames <= cap:
        return array, meta
    meta = {
        **meta,
        "cropped_from_seconds": frames / HUMANML3D.fps,
        "cropped_to_seconds": cap / HUMANML3D.fps,
    }
    return array[: cap + joints], meta


def motion_from_joints(
    path: str | Path, joints: np.ndarray, meta: dict, min_frames: int = MIN_FRAMES
) -> Motion:
    """Joints (T, 22, 3) in metres, Y up, at 20 fps recovered from `path` (e.g. a video) ->
    a `Motion`, with the same checks as a joints file (length, bone lengths, NaN)."""
    return _to_motion(Path(path), np.asarray(joints, dtype=np.float64), meta, min_frames)


def _to_motion(path: Path, array: np.ndarray, meta: dict, min_frames: int) -> Motion:
    """Features (T, 263) or joints (T, 22, 3) in metres at 20 fps -> a `Motion`."""
    is_features = array.ndim == 2
    frames = len(array) if is_features else len(array) - 1
    if frames < min_frames:
        raise MotionFileError(
            path,
            f"too short: {max(frames, 0)} frames at {HUMANML3D.fps:g} fps "
            f"({max(frames, 0) / HUMANML3D.fps:.2f} s), at least {min_frames} are needed",
        )
    if not is_features:
        _check_bone_lengths(path, array)
    build = Motion.from_features if is_features else Motion.from_joints
    try:
        motion = build(path.stem, array, source=path.name, meta=meta)
    except ValueError as error:
        raise MotionFileError(path, str(error)) from None
    if not (np.isfinite(motion.features).all() and np.isfinite(motion.joints).all()):
        raise MotionFileError(path, "the motion could not be processed: it gave NaN values")
    return motion


# ---------------------------------------------------------------------------------------
# .npy


def _load_npy(path: Path) -> tuple[np.ndarray, dict]:
    array = _read_plain_array(path)
    if len(array) == 0:
        raise MotionFileError(path, f"the array has no frames (shape {array.shape})")
    if not np.isfinite(array).all():
        first = np.flatnonzero(~np.isfinite(array.reshape(len(array), -1)).all(1))[0]
        raise MotionFileError(path, f"holds NaN or infinite values (first in frame {first})")
    shape = array.shape[1:]
    if shape == (HUMANML3D.feature_dim,):
        return array, {"format": "humanml3d_features", "source_fps": HUMANML3D.fps}
    if shape == (HUMANML3D.num_joints, 3):
        return array, {"format": "humanml3d_joints", "source_fps": HUMANML3D.fps}
    if shape == (KIT.feature_dim,):
        joints_mm = features_to_joints(array, KIT)
        return kit_to_humanml3d_joints(joints_mm), {"format": "kit_features", "source_fps": KIT.fps}
    if shape == (KIT.num_joints, 3):
        return kit_to_humanml3d_joints(array), {"format": "kit_joints", "source_fps": KIT.fps}
    raise MotionFileError(
        path, f"an array of shape {array.shape} is not a motion; accepted: {_ACCEPTED_SHAPES}"
    )


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTOCOL = b"\x80"


def _read_plain_array(path: Path) -> np.ndarray:
    """The array of a .npy file, which is never unpickled: other contents give a plain
    message (np.load would take any file that is not .npy or .npz for a pickle)."""
    with path.open("rb") as handle:
        head = handle.read(len(_NPY_MAGIC))
        if head.startswith(_ZIP_MAGIC):
            raise MotionFileError(path, "is a .npz archive, not a single .npy array")
        if head.startswith(_PICKLE_PROTOCOL):
            raise MotionFileError(path, _PICKLED)
        if head != _NPY_MAGIC:
            raise MotionFileError(path, "is not a .npy file (it lacks NumPy's header)")
        handle.seek(0)
        _check_npy_header(path, handle)
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as error:
        if "pickle" in str(error).lower():  # an array of Python objects
            raise MotionFileError(path, _PICKLED) from None
        raise MotionFileError(path, f"is not a readable .npy array ({error})") from None
    except (OSError, EOFError) as error:
        raise MotionFileError(path, f"is not a readable .npy array ({error})") from None
    if array.dtype.kind not in "fiu":
        raise MotionFileError(path, f"holds {array.dtype} values, not numbers")
    return array.astype(np.float64)


_PICKLED = (
    "holds pickled Python objects, which are never loaded (they can run code); "
    "save a plain numeric array instead"
)


def _check_npy_header(path: Path, handle) -> None:
    """Refuse, from the header alone, what is not a motion or claims more data than the
    file holds: np.load would allocate the claimed size first (terabytes for a forged
    shape) and only then find the data missing."""
    try:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise MotionFileError(path, f"is a .npy file of an unsupported version {version}")
    except MotionFileError:
        raise
    except EOFError:
        raise MotionFileError(path, "is not a readable .npy array: it ends in its header") from None
    except Exception:  # NumPy's header parser: ValueError, SyntaxError, TokenError...
        raise MotionFileError(path, "is not a readable .npy array: its header is corrupt") from None
    if dtype.hasobject:
        raise MotionFileError(path, _PICKLED)
    if dtype.kind not in "fiu":
        raise MotionFileError(path, f"holds {dtype} values, not numbers")
    if len(shape) not in (2, 3):
        raise MotionFileError(
            path, f"an array of shape {shape} is not a motion; accepted: {_ACCEPTED_SHAPES}"
        )
    claimed = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    held = path.stat().st_size - handle.tell()
    if claimed > held:
        raise MotionFileError(
            path,
            f"the file is truncated or its header is forged: it declares an array of shape "
            f"{shape} ({claimed:,} bytes) but holds {held:,} bytes of data",
        )


# ---------------------------------------------------------------------------------------
# .bvh


def _load_bvh(path: Path) -> tuple[np.ndarray, dict]:
    return bvh_to_joints(read_bvh(path), path)


def bvh_to_joints(bvh: Bvh, path: str | Path = "<bvh>") -> tuple[np.ndarray, dict]:
    """The 22 HumanML3D joints (T, 22, 3) of a BVH motion, Y up, in metres, at 20 fps and
    right-handed, before canonicalisation; and what was found out on the way (`meta`)."""
    joints, joint_map = map_bvh_joints(bvh, path)
    up_axis, joints = to_y_up(joints)
    unit, scale = detect_unit(joints)
    joints = joints * scale
    mirrored = is_mirrored(joints)
    if mirrored:
        joints = joints * np.array([-1.0, 1.0, 1.0])
    meta = {
        "format": "bvh",
        "source_fps": bvh.fps,
        "source_frames": bvh.num_frames,
        "unit": unit,
        "up_axis": up_axis,
        "mirrored": mirrored,
        "joint_map": joint_map,
    }
    return resample_positions(joints, bvh.fps, HUMANML3D.fps), meta


# Limb joints: the words that name them, most specific first. Conventions disagree on some
# words ("foot" is the ankle for Mixamo, CMU and Biped but the toe for SMPL; "shoulder" is
# the collar for Mixamo and CMU but the upper arm for SMPL), so parts are matched in this
# order and a source joint is used once: a file with SMPL's "ankle" leaves "foot" to the toe,
# a file with Mixamo's "arm" leaves "shoulder" to the collar.
_LIMB_WORDS = (
    ("hip", ("hip", "upleg", "upperleg", "thigh")),
    ("knee", ("knee", "leg", "lowerleg", "calf", "shin")),
    ("ankle", ("ankle", "foot")),
    ("foot", ("toebase", "toe", "toes", "toe0", "ball", "foot")),
    ("shoulder", ("arm", "upperarm", "shldr", "shoulder")),
    ("collar", ("collar", "clavicle", "shoulder")),
    ("elbow", ("elbow", "forearm", "lowerarm")),
    ("wrist", ("wrist", "hand")),
)
_SIDE_WORDS = {"left": ("left", "l"), "right": ("right", "r")}
_CENTRE_WORDS = {"pelvis": ("pelvis", "hips", "hip"), "neck": ("neck", "neck01"), "head": ("head",)}
# Filled in when the file has no such joint: spine1-3 along the pelvis-neck chain, collars
# between spine3, neck and shoulder, a toe at the ankle's End Site.
_SPINE = ("spine1", "spine2", "spine3")
_PLACED = (*_SPINE, "left_collar", "right_collar")


def normalise_joint_name(name: str) -> str:
    """'mixamorig:LeftUpLeg' -> 'leftupleg', 'L_Hip' -> 'lhip', 'Bip01 L Thigh' -> 'lthigh'."""
    name = re.sub(r"[^a-z0-9]", "", name.rsplit(":", 1)[-1].lower())
    return re.sub(r"^(mixamorig\d*|bip\d+)", "", name)


def match_joint_names(names: Sequence[str]) -> dict[str, str]:
    """HumanML3D joint name -> source joint name, for the joints found by name (spine1-3
    are placed from the hierarchy instead, see `map_bvh_joints`)."""
    by_key: dict[str, str] = {}
    for name in names:
        by_key.setdefault(normalise_joint_name(name), name)
    used: set[str] = set()

    def take(target: str, keys: Sequence[str]) -> dict[str, str]:
        for key in keys:
            if key in by_key and by_key[key] not in used:
                used.add(by_key[key])
                return {target: by_key[key]}
        return {}

    matched: dict[str, str] = {}
    for target, words in _CENTRE_WORDS.items():
        matched |= take(target, words)
    for side, prefixes in _SIDE_WORDS.items():
        for part, words in _LIMB_WORDS:
            keys = [
                k for w in words for k in (*(p + w for p in prefixes), *(w + p for p in prefixes))
            ]
            matched |= take(f"{side}_{part}", keys)
    return matched


def map_bvh_joints(bvh: Bvh, path: str | Path = "<bvh>") -> tuple[np.ndarray, dict[str, str]]:
    """Positions (F, 22, 3) of the HumanML3D joints in the file's unit and axes, and for each
    joint where it came from (a source joint's name, 'End Site of X' or 'placed')."""
    matched = match_joint_names(bvh.names)
    positions = bvh.joint_positions()
    end_sites = bvh.end_site_positions()
    for side in ("left", "right"):
        ankle = matched.get(f"{side}_ankle")
        has_toe_tip = ankle in end_sites and np.any(bvh.joints[bvh.names.index(ankle)].end_site)
        if f"{side}_foot" not in matched and has_toe_tip:
            matched[f"{side}_foot"] = f"End Site of {ankle}"
    missing = [n for n in HUMANML3D.joint_names if n not in matched and n not in _PLACED]
    if missing:
        shown = ", ".join(bvh.names[:60]) + (", ..." if len(bvh.names) > 60 else "")
        raise MotionFileError(
            path,
            f"unknown skeleton: no joint of the file matches {', '.join(missing)} "
            f"(of the 22 HumanML3D joints); the file's joints are: {shown}",
        )

    def source_positions(source: str) -> np.ndarray:
        if source.startswith("End Site of "):
            return end_sites[source.removeprefix("End Site of ")]
        return positions[:, bvh.names.index(source)]

    joints = np.zeros((bvh.num_frames, HUMANML3D.num_joints, 3))
    for target, source in matched.items():
        joints[:, HUMANML3D.index(target)] = source_positions(source)
    spine, spine_sources = _spine(bvh, matched["pelvis"], matched["neck"], path)
    joints[:, [HUMANML3D.index(n) for n in _SPINE]] = spine
    joint_map = matched | dict(zip(_SPINE, spine_sources, strict=True))
    for side in ("left", "right"):
        collar = f"{side}_collar"
        if collar not in matched:
            joints[:, HUMANML3D.index(collar)] = collar_between(
                *(joints[:, HUMANML3D.index(n)] for n in ("spine3", "neck", f"{side}_shoulder"))
            )
            joint_map[collar] = "placed"
    return joints, joint_map


def _spine(bvh: Bvh, pelvis: str, neck: str, path: str | Path) -> tuple[np.ndarray, list[str]]:
    """spine1-3 (F, 3, 3) from the source joints between the pelvis and the neck, and their
    sources: the joints themselves when there are exactly three distinct ones, else points
    placed along the chain where the reference skeleton has them."""
    chain = [bvh.names.index(neck)]
    while chain[-1] != bvh.names.index(pelvis):
        parent = bvh.joints[chain[-1]].parent
        if parent < 0:
            raise MotionFileError(
                path, f"unknown skeleton: the neck {neck!r} is not below the pelvis {pelvis!r}"
            )
        chain.append(parent)
    chain.reverse()
    positions = bvh.joint_positions()[:, chain]
    distinct = _distinct_points(positions[0])
    if len(distinct) == len(_SPINE) + 2:
        middle = distinct[1:-1]
        return positions[:, middle], [bvh.names[chain[k]] for k in middle]
    return spine_between(positions[:, distinct]), ["placed"] * len(_SPINE)


def _distinct_points(points: np.ndarray) -> list[int]:
    """Indices of a chain's points (K, 3) without those sitting on the previous kept one
    (CMU's LowerBack sits on its Hips): closer than 1 % of the chain's end-to-end distance."""
    tolerance = 0.01 * np.linalg.norm(points[-1] - points[0])
    kept = [0]
    for k in range(1, len(points) - 1):
        if np.linalg.norm(points[k] - points[kept[-1]]) > tolerance:
            kept.append(k)
    return [*kept, len(points) - 1]


def to_y_up(joints: np.ndarray) -> tuple[str, np.ndarray]:
    """Turn joints (F, 22, 3) so that the head is above the feet along +Y.

    The up axis is the coordinate axis along which the head is, on average over the clip,
    furthest above the ankles; a proper rotation (no mirroring) takes it onto +Y.
    """
    ankles = joints[:, [HUMANML3D.index("left_ankle"), HUMANML3D.index("right_ankle")]]
    rise = (joints[:, HUMANML3D.index("head")] - ankles.mean(1)).mean(0)
    axis = int(np.argmax(np.abs(rise)))
    sign = 1.0 if rise[axis] >= 0 else -1.0
    basis = np.eye(3)
    new_y = sign * basis[axis]
    new_z = basis[(axis + 1) % 3]
    rotation = np.stack([np.cross(new_y, new_z), new_y, new_z])  # rows: the new x, y, z
    return f"{'+' if sign > 0 else '-'}{'xyz'[axis]}", joints @ rotation.T


# name, metres per unit; the unit chosen is the one that gives the body its usual size
UNITS = (("m", 1.0), ("cm", 0.01), ("mm", 0.001), ("in", 0.0254))
_BODY_CHAIN = ("ankle", "knee", "hip", "pelvis", "spine1", "spine2", "spine3", "neck", "head")


def body_size(joints: np.ndarray) -> float:
    """Mean length of the ankle-knee-hip-pelvis-spine-neck-head chain (about the height of
    the head joint above the ankles when standing): pose-independent, unlike the height."""
    sizes = []
    for side in ("left", "right"):
        names = [f"{side}_{n}" if n in ("ankle", "knee", "hip") else n for n in _BODY_CHAIN]
        chain = joints[:, [HUMANML3D.index(n) for n in names]]
        sizes.append(np.linalg.norm(np.diff(chain, axis=1), axis=-1).sum(1).mean())
    return float(np.mean(sizes))


def _reference_body_size() -> float:
    bones = [f"left_{n}" for n in ("ankle", "knee", "hip")] + list(_BODY_CHAIN[4:])
    return float(sum(HUMANML3D.bone_lengths[HUMANML3D.index(n)] for n in bones))


def detect_unit(joints: np.ndarray) -> tuple[str, float]:
    """The unit of joints (F, 22, 3) and its size in metres: the one that makes the body
    closest (in ratio) to the reference skeleton's size (1.58 m from ankles to head)."""
    size = body_size(joints)
    if not size > 0:
        return UNITS[0]
    reference = _reference_body_size()
    return min(UNITS, key=lambda unit: abs(np.log(size * unit[1] / reference)))


def is_mirrored(joints: np.ndarray) -> bool:
    """Whether Y-up joints (F, 22, 3) are a mirror image (a left-handed coordinate system).

    The facing direction that the hips and shoulders give a right-handed body (its left at
    +X when facing +Z) is compared with where the feet point (ankle to toe): in a mirrored
    file the toes point backwards from it.
    """
    forward = body_forward(joints, HUMANML3D)
    toes = sum(
        joints[:, HUMANML3D.index(f"{side}_foot")] - joints[:, HUMANML3D.index(f"{side}_ankle")]
        for side in ("left", "right")
    )
    toes = toes - (toes @ UP)[:, None] * UP
    return float((forward * toes).sum(-1).mean()) < 0.0


def _check_bone_lengths(path: Path, joints: np.ndarray) -> None:
    """Refuse joints (T, 22, 3) that sit on their parent: the bone has no direction, and
    HumanML3D's processing would turn it into NaN."""
    tolerance = 1e-4 * body_size(joints)
    for parent, child in HUMANML3D.bones:
        length = np.linalg.norm(joints[:, child] - joints[:, parent], axis=-1)
        if (length <= tolerance).any():
            frame = int(np.argmax(length <= tolerance))
            raise MotionFileError(
                path,
                f"joints {HUMANML3D.joint_names[parent]} and {HUMANML3D.joint_names[child]} "
                f"coincide in frame {frame} (a bone of length 0)",
            )


_LOADERS: dict[str, Callable[[Path], tuple[np.ndarray, dict]]] = {
    ".npy": _load_npy,
    ".bvh": _load_bvh,
}
