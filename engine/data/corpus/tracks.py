"""`Track`: the per-frame controls of a motion (what each action produces), the operations
that compose tracks (sequencing with minimum-jerk cross-fades, upper-body layering,
smoothing the root), and `BuildContext`, what an action's builder is given.

Everything is expressed relative to the *stance centre* (the point the feet are planted
around, integrated from velocities) and its *heading*; the solver (`solve.py`) turns a
track into joint positions. Arms are authored as bone directions in the chest frame,
trunk and neck as local rotations; the legs are placed by IK on planned footfalls.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.ndimage import gaussian_filter1d

from engine.data.corpus import body
from engine.data.corpus.curves import (
    key_directions,
    keyframes,
    minimum_jerk,
    ramp,
    slerp_vectors,
    window,
)
from engine.motion.rotations import qmul, qnormalize, qslerp

if TYPE_CHECKING:
    from engine.data.corpus.style import Style

# effector order: feet, then hands
L_FOOT, R_FOOT, L_HAND, R_HAND = range(4)
FEET = (L_FOOT, R_FOOT)
HANDS = (L_HAND, R_HAND)

# joints whose local rotation a track sets (the legs and arms are solved from targets)
TRUNK_JOINTS = (body.SPINE1, body.SPINE2, body.SPINE3, body.NECK, body.L_COLLAR, body.R_COLLAR)


@dataclass
class Track:
    """Controls for `frames` frames. Shapes are given with n = frames.

    Root: `vel` (n, 2) stance-centre velocity (left, forward) in the heading frame, m/s;
    `yaw_rate` (n,) rad/s; `height` (n,) requested pelvis height (the solver lowers it
    where the planted legs cannot reach); `shift` (n, 2) pelvis offset from the centre
    (left, forward); `pelvis` (n, 4) pelvis rotation relative to the heading.
    Upper body: `rot` (n, 22, 4) local rotations of TRUNK_JOINTS; `arms` (n, 2, 2, 3)
    upper-arm and forearm directions (left, right) in the chest frame; `chest` (n, 2, 3)
    hand targets relative to the chest (spine3) in its frame, weighted by `chest_w` (n, 2);
    `arm_use` (n, 2) how much the action itself drives each arm (what a layered upper-body
    action replaces).
    Effectors (left foot, right foot, left hand, right hand): `contact` (n, 4) wanted
    ground contact; `home` (n, 4, 3) where a landing effector plants, relative to the
    centre in the heading frame (y = height of the planted point); `free` (n, 4, 3) a
    target in the same frame used with weight `free_w` (n, 4) when not in contact;
    `swing` (n, 4) swing apex height; `kick` (n, 4) how far a swing foot trails back;
    `restep` (n,) whether feet may step back under the body when they drift.
    Feet: `foot_yaw` (n, 2) relative to the heading; `pitch` (n, 2) planted foot pitch;
    `raise_max` (n, 2) heel raise allowed while planted; `push` (n, 2) heel raise wanted;
    `pivot` (n, 2) how much a planted foot turns with the heading.
    """

    vel: np.ndarray
    yaw_rate: np.ndarray
    height: np.ndarray
    shift: np.ndarray
    pelvis: np.ndarray
    rot: np.ndarray
    arms: np.ndarray
    chest: np.ndarray
    chest_w: np.ndarray
    arm_use: np.ndarray
    contact: np.ndarray
    home: np.ndarray
    free: np.ndarray
    free_w: np.ndarray
    swing: np.ndarray
    kick: np.ndarray
    restep: np.ndarray
    foot_yaw: np.ndarray
    pitch: np.ndarray
    raise_max: np.ndarray
    push: np.ndarray
    pivot: np.ndarray

    @property
    def frames(self) -> int:
        return len(self.height)

    def slice(self, start: int, stop: int) -> Track:
        return Track(**{f.name: getattr(self, f.name)[start:stop] for f in fields(self)})

    def copy(self) -> Track:
        return Track(**{f.name: getattr(self, f.name).copy() for f in fields(self)})


# channels blended as unit quaternions, as unit vectors, or not at all (discrete)
_QUATERNION_CHANNELS = ("pelvis", "rot")
_DIRECTION_CHANNELS = ("arms",)
_DISCRETE_CHANNELS = ("contact", "restep")


def blend_frames(a: Track, b: Track, w: np.ndarray) -> Track:
    """Per-frame blend of two equally long tracks, weight w (n,) on `b`. Discrete channels
    switch where w crosses 0.5."""
    out = {}
    for f in fields(Track):
        x, y = getattr(a, f.name), getattr(b, f.name)
        ww = w.reshape((-1,) + (1,) * (x.ndim - 1))
        if f.name in _QUATERNION_CHANNELS or f.name in _DIRECTION_CHANNELS:
            wv = np.broadcast_to(w.reshape((-1,) + (1,) * (x.ndim - 2)), x.shape[:-1])
            interpolate = qslerp if f.name in _QUATERNION_CHANNELS else slerp_vectors
            out[f.name] = interpolate(x, y, wv)
        elif f.name in _DISCRETE_CHANNELS:
            out[f.name] = np.where(ww >= 0.5, y, x)
        else:
            out[f.name] = x * (1.0 - ww) + y * ww
    return Track(**out)


def _hold(track: Track, start: int, stop: int) -> Track:
    """Frames start..stop of `track`, holding its first/last frame outside its range."""
    index = np.clip(np.arange(start, stop), 0, track.frames - 1)
    return Track(**{f.name: getattr(track, f.name)[index] for f in fields(track)})


def concatenate(tracks: list[Track], blend_frames_count: list[int]) -> Track:
    """Join tracks end to end; at each junction the last half-blend of the earlier track
    and the first half-blend of the later one are cross-faded with minimum-jerk weights
    (`blend_frames_count[k]` frames centred on junction k)."""
    result = tracks[0]
    for nxt, width in zip(tracks[1:], blend_frames_count, strict=True):
        n = result.frames
        half = min(width // 2, n // 2, nxt.frames // 2)
        if half == 0:
            result = _join(result, nxt)
            continue
        lo = n - half
        prev_part = _hold(result, lo, n + half)
        next_part = _hold(nxt, -half, half)
        w = minimum_jerk((np.arange(2 * half) + 0.5) / (2 * half))
        mixed = blend_frames(prev_part, next_part, w)
        result = _join(_join(result.slice(0, lo), mixed), nxt.slice(half, nxt.frames))
    return result


def _join(a: Track, b: Track) -> Track:
    return Track(
        **{f.name: np.concatenate([getattr(a, f.name), getattr(b, f.name)]) for f in fields(a)}
    )


def layer_upper(base: Track, upper: Track, start: int, ramp_frames: int) -> Track:
    """Lay an upper-body action over frames start.. of `base`: arms it uses, chest targets,
    collars and neck come from `upper`, the trunk half from each, the legs and root from
    `base`. Weights rise and fall with minimum-jerk ramps."""
    n = upper.frames
    seg = base.slice(start, start + n)
    w = ramp(n, 0, ramp_frames) * (1.0 - ramp(n, n - ramp_frames, ramp_frames))
    arm_w = w[:, None] * upper.arm_use
    out = seg.copy()
    out.arms = slerp_vectors(seg.arms, upper.arms, np.broadcast_to(arm_w[:, :, None], (n, 2, 2)))
    out.chest = np.where(upper.chest_w[..., None] > 0, upper.chest, seg.chest)
    out.chest_w = seg.chest_w * (1 - arm_w) + upper.chest_w * arm_w
    out.arm_use = np.maximum(seg.arm_use, arm_w)
    for joint, weight in (
        (body.L_COLLAR, arm_w[:, 0]),
        (body.R_COLLAR, arm_w[:, 1]),
        (body.NECK, w * 0.7),
        (body.SPINE1, w * 0.5),
        (body.SPINE2, w * 0.5),
        (body.SPINE3, w * 0.5),
    ):
        out.rot[:, joint] = qslerp(seg.rot[:, joint], upper.rot[:, joint], weight)
    result = base.copy()
    for f in fields(Track):
        getattr(result, f.name)[start : start + n] = getattr(out, f.name)
    return result


def add_rotation(track: Track, joint: int, rotation: np.ndarray) -> None:
    """Compose an extra local rotation (n, 4) onto a trunk joint, in place."""
    track.rot[:, joint] = qnormalize(qmul(track.rot[:, joint], rotation))


def smooth_root(track: Track, fps: float, velocity_s: float = 0.25, yaw_s: float = 0.12) -> None:
    """Low-pass the root velocity and yaw rate in place (Gaussian, sigma in seconds): speed
    changes at junctions take about a second, as a person needs a step or two to get
    going; the distance travelled and the angle turned are kept."""
    track.vel = gaussian_filter1d(track.vel, velocity_s * fps, axis=0, mode="nearest")
    track.yaw_rate = gaussian_filter1d(track.yaw_rate, yaw_s * fps, mode="nearest")


SIDE_INDICES = {"left": (0,), "right": (1,), "both": (0, 1), None: ()}


@dataclass
class BuildContext:
    """What an action builder gets: its length, the performer, its own parameters and
    side, and the kinds ("locomotion", "gesture", "body" or None) of the actions before
    and after it, for entries and exits."""

    frames: int
    fps: float
    style: Style
    rng: np.random.Generator
    params: dict[str, Any] = field(default_factory=dict)
    side: str | None = None
    before: str | None = None
    after: str | None = None

    @property
    def sides(self) -> tuple[int, ...]:
        """Indices (0 left, 1 right) of the limbs the action uses."""
        return SIDE_INDICES[self.side]

    @property
    def s(self) -> int:
        """The one side of a one-sided action (0 left, 1 right)."""
        return self.sides[0]

    def keys(self, times_s, values) -> np.ndarray:
        """Minimum-jerk keyframed values at times in seconds."""
        return keyframes(self.frames, np.asarray(times_s, float) * self.fps, values)

    def dirs(self, times_s, directions) -> np.ndarray:
        """Keyframed unit directions at times in seconds (interpolated on the sphere)."""
        return key_directions(self.frames, np.asarray(times_s, float) * self.fps, directions)

    def window(self, start_s: float, stop_s: float, edge_s: float) -> np.ndarray:
        return window(self.frames, start_s * self.fps, stop_s * self.fps, edge_s * self.fps)

    @property
    def t(self) -> np.ndarray:
        """Frame times in seconds."""
        return np.arange(self.frames) / self.fps
