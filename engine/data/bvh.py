"""BVH (Biovision Hierarchy) motion files: a reader for any skeleton, a writer for ours.

Conventions, the ones Blender and bvhacker use:
- A joint's rotation channels compose in the order they are written: `Zrotation Xrotation
  Yrotation` with angles (z, x, y) in degrees is the matrix Rz(z) @ Rx(x) @ Ry(y) acting on
  column vectors (intrinsic rotations).
- A joint's rotation turns the offsets of its children (and of its End Site).
- Position channels, where a joint has them, give its translation from its parent in place
  of its OFFSET (for the usual root with a zero OFFSET the two readings agree).

`read_bvh` and `parse_bvh` raise `MotionFileError` naming the file and the problem for every
malformed file. `bvh_from_joints` turns positions of a `Skeleton` (the 22-joint HumanML3D
body by default) into a `Bvh` by inverse kinematics, and `write_bvh` writes any `Bvh`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NoReturn

import numpy as np

from engine.errors import MotionFileError
from engine.motion.rotations import euler_to_matrix, matrix_to_euler, qbetween, quat_to_matrix
from engine.motion.skeleton import HUMANML3D, Skeleton
from engine.storage import atomic_write_text

POSITION_CHANNELS = ("Xposition", "Yposition", "Zposition")
ROTATION_CHANNELS = ("Xrotation", "Yrotation", "Zrotation")
_CHANNEL_BY_LOWER = {name.lower(): name for name in POSITION_CHANNELS + ROTATION_CHANNELS}

# End Sites written for leaf joints continue the leaf's bone by this fraction of its length,
# so that viewers draw a visible head, hand and toe tip.
_END_SITE_FRACTION = 0.5
_DECIMALS = 6


@dataclass(frozen=True)
class BvhJoint:
    """One joint of the hierarchy. `parent` is an index into `Bvh.joints` (-1 for the root);
    `end_site` is the OFFSET of the joint's End Site, if it has one."""

    name: str
    parent: int
    offset: np.ndarray
    channels: tuple[str, ...]
    end_site: np.ndarray | None = None

    @property
    def rotation_order(self) -> str:
        """The axes of the rotation channels in the order written, e.g. 'ZXY'."""
        return "".join(c[0] for c in self.channels if c in ROTATION_CHANNELS)


@dataclass(frozen=True)
class Bvh:
    """A parsed BVH file: joints in file (depth-first) order and the raw channel values."""

    joints: tuple[BvhJoint, ...]
    frame_time: float
    values: np.ndarray  # (frames, channels), channels in the order of the joints

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(joint.name for joint in self.joints)

    @property
    def num_frames(self) -> int:
        return len(self.values)

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    def joint_positions(self) -> np.ndarray:
        """World positions (frames, joints, 3) of every joint, in the file's unit and axes."""
        return self._transforms[0]

    def end_site_positions(self) -> dict[str, np.ndarray]:
        """World positions (frames, 3) of each End Site, keyed by the name of its joint."""
        positions, rotations = self._transforms
        return {
            joint.name: positions[:, j] + rotations[:, j] @ joint.end_site
            for j, joint in enumerate(self.joints)
            if joint.end_site is not None
        }

    @cached_property
    def _transforms(self) -> tuple[np.ndarray, np.ndarray]:
        """Forward kinematics: world positions (F, J, 3) and rotations (F, J, 3, 3)."""
        frames, count = self.num_frames, len(self.joints)
        positions = np.zeros((frames, count, 3))
        rotations = np.zeros((frames, count, 3, 3))
        column = 0
        for j, joint in enumerate(self.joints):
            values = self.values[:, column : column + len(joint.channels)]
            column += len(joint.channels)
            translation, local = _local_transform(joint, values)
            if joint.parent < 0:
                positions[:, j], rotations[:, j] = translation, local
            else:
                parent_rotation = rotations[:, joint.parent]
                moved = np.einsum("fij,fj->fi", parent_rotation, translation)
                positions[:, j] = positions[:, joint.parent] + moved
                rotations[:, j] = parent_rotation @ local
        positions.flags.writeable = rotations.flags.writeable = False  # shared by every caller
        return positions, rotations


def _local_transform(joint: BvhJoint, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame translation (F, 3) and rotation (F, 3, 3) of a joint from its channels."""
    translation = np.repeat(joint.offset[None], len(values), axis=0)
    rotation_columns = []
    for k, channel in enumerate(joint.channels):
        if channel in POSITION_CHANNELS:
            translation[:, POSITION_CHANNELS.index(channel)] = values[:, k]
        else:
            rotation_columns.append(k)
    return translation, euler_to_matrix(values[:, rotation_columns], joint.rotation_order)


# ---------------------------------------------------------------------------------------
# Reading


def read_bvh(path: str | Path) -> Bvh:
    """Parse a BVH file; every problem is a `MotionFileError` naming the file."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as error:
        raise MotionFileError(path, f"cannot be read ({error.strerror or error})") from None
    return parse_bvh(text, path)


def parse_bvh(text: str, path: str | Path = "<bvh text>") -> Bvh:
    """Parse BVH text; `path` only names the source in error messages."""
    if not text.strip():
        raise MotionFileError(path, "the file is empty")
    lines = text.splitlines()
    if text.split(maxsplit=1)[0].upper() != "HIERARCHY":
        raise MotionFileError(path, "not a BVH file: it does not start with HIERARCHY")
    motion_line = _find_motion_line(lines, path)
    joints = _HierarchyParser(lines[:motion_line], path).parse()
    frame_count, frame_time, data_start = _read_motion_header(lines, motion_line + 1, path)
    channel_count = sum(len(joint.channels) for joint in joints)
    values = _read_frames(lines, data_start, frame_count, channel_count, path)
    return Bvh(tuple(joints), frame_time, values)


def _find_motion_line(lines: Sequence[str], path: str | Path) -> int:
    for number, line in enumerate(lines):
        if line.strip().upper() == "MOTION":
            return number
    raise MotionFileError(path, "no MOTION section: the file has a HIERARCHY but no motion data")


class _HierarchyParser:
    """Recursive descent over the HIERARCHY tokens, each kept with its line number."""

    def __init__(self, lines: Sequence[str], path: str | Path) -> None:
        self._tokens = [
            (token, number) for number, line in enumerate(lines, 1) for token in line.split()
        ]
        self._position = 0
        self._path = path
        self._joints: list[BvhJoint | None] = []
        self._names: set[str] = set()

    def parse(self) -> list[BvhJoint]:
        self._expect("HIERARCHY")
        self._expect("ROOT")
        self._joint(self._name(), parent=-1)
        if self._position < len(self._tokens):
            token, line = self._tokens[self._position]
            if token.upper() == "ROOT":
                self._fail(f"a second ROOT on line {line}: only one skeleton per file is supported")
            self._fail(f"unexpected {token!r} after the skeleton on line {line}")
        return [joint for joint in self._joints if joint is not None]

    def _joint(self, name: str, parent: int) -> None:
        index = len(self._joints)
        if name in self._names:
            self._fail(f"joint name {name!r} is used twice")
        self._names.add(name)
        self._joints.append(None)  # reserves the index: children are appended after it
        self._expect("{")
        offset, channels, end_site = None, None, None
        while True:
            token, line = self._next("'}'")
            keyword = token.upper()
            if keyword == "OFFSET":
                offset = self._vector(f"OFFSET of joint {name!r}")
            elif keyword == "CHANNELS":
                channels = self._channels(name)
            elif keyword == "JOINT":
                self._joint(self._name(), parent=index)
            elif keyword == "END":
                if end_site is not None:
                    self._fail(f"joint {name!r} has more than one End Site (line {line})")
                end_site = self._end_site(name)
            elif token == "}":
                break
            else:
                self._fail(f"unexpected {token!r} in joint {name!r} on line {line}")
        if offset is None:
            self._fail(f"joint {name!r} has no OFFSET")
        if channels is None:
            self._fail(f"joint {name!r} has no CHANNELS")
        self._joints[index] = BvhJoint(name, parent, offset, channels, end_site)

    def _end_site(self, owner: str) -> np.ndarray:
        self._expect("SITE")
        self._expect("{")
        self._expect("OFFSET")
        offset = self._vector(f"End Site OFFSET of joint {owner!r}")
        self._expect("}")
        return offset

    def _channels(self, joint: str) -> tuple[str, ...]:
        token, line = self._next("a channel count")
        if not token.isdigit() or not 0 <= int(token) <= 6:
            self._fail(f"joint {joint!r} has an invalid channel count {token!r} on line {line}")
        channels = []
        for _ in range(int(token)):
            name, line = self._next(f"the channel names of joint {joint!r}")
            channel = _CHANNEL_BY_LOWER.get(name.lower())
            if channel is None:
                known = ", ".join(POSITION_CHANNELS + ROTATION_CHANNELS)
                self._fail(
                    f"joint {joint!r} has an unknown channel {name!r} on line {line} "
                    f"(known channels: {known})"
                )
            if channel in channels:
                self._fail(f"joint {joint!r} lists channel {channel} twice on line {line}")
            channels.append(channel)
        return tuple(channels)

    def _vector(self, what: str) -> np.ndarray:
        values = []
        for _ in range(3):
            token, line = self._next(f"three numbers for the {what}")
            try:
                values.append(float(token))
            except ValueError:
                self._fail(f"the {what} has a non-numeric value {token!r} on line {line}")
        vector = np.array(values)
        if not np.isfinite(vector).all():
            self._fail(f"the {what} is not finite (NaN or infinity) on line {line}")
        return vector

    def _name(self) -> str:
        """A joint name: the rest of the keyword's line (names may contain spaces)."""
        token, line = self._next("a joint name")
        words = [token]
        while self._position < len(self._tokens):
            following, following_line = self._tokens[self._position]
            if following_line != line or following == "{":
                break
            words.append(following)
            self._position += 1
        return " ".join(words)

    def _expect(self, keyword: str) -> None:
        token, line = self._next(keyword)
        if token.upper() != keyword.upper():
            self._fail(f"expected {keyword} but found {token!r} on line {line}")

    def _next(self, expected: str) -> tuple[str, int]:
        if self._position >= len(self._tokens):
            self._fail(f"the HIERARCHY section ends early: expected {expected}")
        item = self._tokens[self._position]
        self._position += 1
        return item

    def _fail(self, problem: str) -> NoReturn:
        raise MotionFileError(self._path, problem)


_FRAMES = re.compile(r"^\s*Frames\s*:\s*(\S+)\s*$", re.IGNORECASE)
_FRAME_TIME = re.compile(r"^\s*Frame\s+Time\s*:\s*(\S+)\s*$", re.IGNORECASE)


def _read_motion_header(
    lines: Sequence[str], start: int, path: str | Path
) -> tuple[int, float, int]:
    """(declared frame count, frame time, index of the first data line)."""
    header = [(n, line) for n, line in enumerate(lines[start:], start) if line.strip()][:2]
    if len(header) < 2:
        raise MotionFileError(
            path, "the MOTION section lacks its 'Frames:' and 'Frame Time:' lines"
        )
    (frames_at, frames_line), (time_at, time_line) = header
    frames = _FRAMES.match(frames_line)
    if frames is None or not frames.group(1).isdigit():
        raise MotionFileError(
            path,
            f"expected 'Frames: <count>' on line {frames_at + 1}, found {frames_line.strip()!r}",
        )
    frame_count = int(frames.group(1))
    if frame_count == 0:
        raise MotionFileError(path, "the MOTION section declares 0 frames")
    frame_time = _FRAME_TIME.match(time_line)
    try:
        seconds = float(frame_time.group(1)) if frame_time else float("nan")
    except ValueError:
        seconds = float("nan")
    if not (np.isfinite(seconds) and seconds > 0):
        raise MotionFileError(
            path,
            f"expected 'Frame Time: <seconds>' (a positive number) on line {time_at + 1}, "
            f"found {time_line.strip()!r}",
        )
    return frame_count, seconds, time_at + 1


def _read_frames(
    lines: Sequence[str], start: int, frame_count: int, channel_count: int, path: str | Path
) -> np.ndarray:
    rows = [(n, line.split()) for n, line in enumerate(lines[start:], start + 1) if line.strip()]
    if len(rows) < frame_count:
        raise MotionFileError(
            path,
            f"the file is truncated: it declares {frame_count} frames but holds "
            f"{len(rows)} lines of motion data",
        )
    if len(rows) > frame_count:
        raise MotionFileError(
            path,
            f"it declares {frame_count} frames but holds {len(rows)} lines of motion data",
        )
    for frame, (line, tokens) in enumerate(rows, 1):
        if len(tokens) != channel_count:
            truncated = "the file is truncated: " if frame == frame_count else ""
            raise MotionFileError(
                path,
                f"{truncated}frame {frame} (line {line}) has {len(tokens)} values, but the "
                f"HIERARCHY declares {channel_count} channels",
            )
    try:
        values = np.array([token for _, tokens in rows for token in tokens], dtype=np.float64)
    except ValueError:
        frame, line, token = _first_non_numeric(rows)
        raise MotionFileError(
            path, f"frame {frame} (line {line}) has a non-numeric value {token!r}"
        ) from None
    values = values.reshape(frame_count, channel_count)
    bad_frames = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if len(bad_frames):
        raise MotionFileError(
            path,
            f"{len(bad_frames)} frame(s) hold NaN or infinite values, the first is frame "
            f"{bad_frames[0] + 1} (line {rows[bad_frames[0]][0]})",
        )
    return values


def _first_non_numeric(rows: Sequence[tuple[int, list[str]]]) -> tuple[int, int, str]:
    for frame, (line, tokens) in enumerate(rows, 1):
        for token in tokens:
            try:
                float(token)
            except ValueError:
                return frame, line, token
    raise AssertionError("no non-numeric value found")


# ---------------------------------------------------------------------------------------
# Writing


def bvh_from_joints(
    joints: np.ndarray,
    fps: float = HUMANML3D.fps,
    order: str = "ZYX",
    skeleton: Skeleton = HUMANML3D,
) -> Bvh:
    """A `Bvh` whose forward kinematics reproduces joint positions (T, J, 3) of `skeleton`.

    Rest offsets: each bone along the skeleton's rest direction (`raw_offsets`) with its
    length measured on the motion. The bones that leave a joint with several children (the
    hips and spine leaving the pelvis, the neck and collars leaving spine3) keep the angles
    they make in the first frame instead: one rotation per joint can only move them together,
    and in captured data they are rigid. Rotations: for a joint with one child, the shortest
    turn of its bone relative to the parent's frame; for several children, the rotation that
    best fits all their bones (Kabsch). The root carries the translation.
    """
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (skeleton.num_joints, 3) or len(joints) == 0:
        raise ValueError(
            f"joints must be (frames, {skeleton.num_joints}, 3) for {skeleton.name}, "
            f"got {joints.shape}"
        )
    if not np.isfinite(joints).all():
        raise ValueError("joint positions contain NaN or infinite values")
    children = _children(skeleton)
    rest = _rest_offsets(joints, skeleton, children)
    local = _local_rotations(joints, rest, skeleton, children)
    angles = matrix_to_euler(local, order)
    angles = np.rad2deg(np.unwrap(np.deg2rad(angles), axis=0))  # no 360-degree jumps
    rotation_channels = tuple(f"{axis}rotation" for axis in order.upper())
    order_of_file = list(_depth_first(children))
    bvh_joints, columns = [], []
    for j in order_of_file:
        parent = skeleton.parents[j]
        is_leaf = not children[j]
        bvh_joints.append(
            BvhJoint(
                name=skeleton.joint_names[j],
                parent=order_of_file.index(parent) if parent >= 0 else -1,
                offset=np.zeros(3) if parent < 0 else rest[j],
                channels=(POSITION_CHANNELS if parent < 0 else ()) + rotation_channels,
                end_site=rest[j] * _END_SITE_FRACTION if is_leaf else None,
            )
        )
        if parent < 0:
            columns.append(joints[:, j])
        columns.append(angles[:, j])
    return Bvh(tuple(bvh_joints), 1.0 / fps, np.concatenate(columns, axis=1))


def _children(skeleton: Skeleton) -> list[list[int]]:
    children: list[list[int]] = [[] for _ in range(skeleton.num_joints)]
    for child, parent in enumerate(skeleton.parents):
        if parent >= 0:
            children[parent].append(child)
    return children


def _depth_first(children: Sequence[Sequence[int]], joint: int = 0) -> Iterator[int]:
    yield joint
    for child in children[joint]:
        yield from _depth_first(children, child)


def _rest_offsets(
    joints: np.ndarray, skeleton: Skeleton, children: Sequence[Sequence[int]]
) -> np.ndarray:
    parents = np.array(skeleton.parents)
    lengths = np.zeros(skeleton.num_joints)
    lengths[1:] = np.linalg.norm(joints[:, 1:] - joints[:, parents[1:]], axis=-1).mean(0)
    if (lengths[1:] <= 0).any():
        raise ValueError("some joints coincide with their parent: a bone has zero length")
    rest = skeleton.raw_offsets * lengths[:, None]
    for joint, kids in enumerate(children):
        if len(kids) > 1:
            bones = joints[0, kids] - joints[0, joint]
            directions = bones / np.linalg.norm(bones, axis=-1, keepdims=True)
            upright = _best_rotation(rest[kids], directions[None])[0]
            # the first frame's bone directions, turned as close as they get to the rest ones
            rest[kids] = (directions @ upright) * lengths[kids, None]
    return rest


def _local_rotations(
    joints: np.ndarray, rest: np.ndarray, skeleton: Skeleton, children: Sequence[Sequence[int]]
) -> np.ndarray:
    """Per-joint rotations (T, J, 3, 3) relative to the parent joint's frame."""
    frames = len(joints)
    identity = np.broadcast_to(np.eye(3), (frames, 3, 3))
    world = np.empty((frames, skeleton.num_joints, 3, 3))
    local = np.empty_like(world)
    for j in _depth_first(children):
        parent = skeleton.parents[j]
        parent_world = world[:, parent] if parent >= 0 else identity
        kids = children[j]
        bones = joints[:, kids] - joints[:, j, None]
        if not kids:
            world[:, j] = parent_world
        elif len(kids) == 1:
            in_parent_frame = np.einsum("fji,fj->fi", parent_world, bones[:, 0])
            world[:, j] = parent_world @ _shortest_arc(rest[kids[0]], in_parent_frame)
        else:
            world[:, j] = _best_rotation(rest[kids], bones)
        local[:, j] = np.swapaxes(parent_world, -1, -2) @ world[:, j]
    return local


def _shortest_arc(rest: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rotation matrices (F, 3, 3) turning direction `rest` (3,) onto directions (F, 3),
    also when a target points exactly opposite the rest direction."""
    rest = np.broadcast_to(rest, target.shape)
    cosine = (rest * target).sum(-1) / (
        np.linalg.norm(rest, axis=-1) * np.linalg.norm(target, axis=-1)
    )
    opposite = cosine < -1.0 + 1e-12
    quats = qbetween(rest, np.where(opposite[:, None], rest, target))
    if opposite.any():
        helper = np.eye(3)[np.argmin(np.abs(rest[0]))]
        axis = np.cross(rest[0], helper)
        quats[opposite] = np.concatenate([[0.0], axis / np.linalg.norm(axis)])
    return quat_to_matrix(quats)


def _best_rotation(rest: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Rotations (F, 3, 3) taking rest vectors (K, 3) closest to targets (F, K, 3) (Kabsch)."""
    covariance = np.einsum("ki,fkj->fij", rest, targets)
    u, _, vt = np.linalg.svd(covariance)
    v = np.swapaxes(vt, -1, -2)
    sign = np.sign(np.linalg.det(v @ np.swapaxes(u, -1, -2)))
    correction = np.broadcast_to(np.eye(3), covariance.shape).copy()
    correction[:, 2, 2] = sign
    return v @ correction @ np.swapaxes(u, -1, -2)


def format_bvh(bvh: Bvh) -> str:
    """BVH text in the usual layout: tab indentation, one frame per line, six decimals."""
    children: list[list[int]] = [[] for _ in bvh.joints]
    for j, joint in enumerate(bvh.joints[1:], 1):
        children[joint.parent].append(j)
    lines = ["HIERARCHY"]
    _format_joint(bvh, 0, children, 0, lines)
    lines += ["MOTION", f"Frames: {bvh.num_frames}", f"Frame Time: {bvh.frame_time:.{_DECIMALS}f}"]
    frames = io.StringIO()
    np.savetxt(frames, _without_negative_zeros(bvh.values), fmt=f"%.{_DECIMALS}f", delimiter=" ")
    return "\n".join(lines) + "\n" + frames.getvalue()


def _format_joint(
    bvh: Bvh, j: int, children: Sequence[Sequence[int]], depth: int, lines: list[str]
) -> None:
    joint = bvh.joints[j]
    pad = "\t" * depth
    lines += [
        f"{pad}{'ROOT' if joint.parent < 0 else 'JOINT'} {joint.name}",
        f"{pad}{{",
        f"{pad}\tOFFSET {_numbers(joint.offset)}",
        f"{pad}\tCHANNELS {len(joint.channels)} {' '.join(joint.channels)}".rstrip(),
    ]
    for child in children[j]:
        _format_joint(bvh, child, children, depth + 1, lines)
    if joint.end_site is not None:
        lines += [
            f"{pad}\tEnd Site",
            f"{pad}\t{{",
            f"{pad}\t\tOFFSET {_numbers(joint.end_site)}",
            f"{pad}\t}}",
        ]
    lines.append(f"{pad}}}")


def _numbers(values: np.ndarray) -> str:
    return " ".join(f"{value:.{_DECIMALS}f}" for value in _without_negative_zeros(values))


def _without_negative_zeros(values: np.ndarray) -> np.ndarray:
    """Round to the written precision so that tiny negatives print as 0.000000, not -0.000000."""
    return np.round(values, _DECIMALS) + 0.0


def write_bvh(path: str | Path, bvh: Bvh) -> Path:
    """Write `bvh` to `path` atomically."""
    return atomic_write_text(path, format_bvh(bvh))
