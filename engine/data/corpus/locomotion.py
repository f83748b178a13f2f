"""The root path and the footfall plan.

The stance centre's path is integrated from the track's velocities and yaw rate (so
cross-fades blend velocities, never positions). Footfalls are then planned on that known
path: each landing plants the effector where the track's `home` says it belongs at the
middle of the coming stance, planted effectors stay put (feet do not slide), swings
travel between plants on minimum-jerk arcs, and a standing foot that the body has drifted
away from steps back under it (which is also how turning on the spot takes its steps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.corpus import body
from engine.data.corpus.curves import minimum_jerk
from engine.data.corpus.tracks import FEET, Track

MIN_SWING_S = 0.22  # a swing once started lasts at least this long
# a landing plants where the body will be 40 % into the coming stance (at most 0.3 s on)
STANCE_REF_SHARE = 0.4
STANCE_REF_S = 0.3
RESTEP_S = 0.35  # duration of a corrective step
RESTEP_DISTANCE = 0.08  # m a standing foot may drift from its home before it steps
RESTEP_YAW = np.radians(16.0)
RESTEP_SETTLE_S = 0.15  # a foot stands at least this long before stepping again
OVERSTRETCH_M = 0.55  # a planted foot this far from the pelvis (horizontally) is lifted


@dataclass
class RootPath:
    centre: np.ndarray  # (n, 3) stance centre on the floor
    heading: np.ndarray  # (n,) rad, 0 = facing +Z, positive = turned left
    pelvis: np.ndarray  # (n, 3) pelvis position on the floor (y = 0)


def integrate_root(track: Track, fps: float) -> RootPath:
    """Integrate heading and centre from the track's yaw rate and velocities."""
    heading = np.concatenate([[0.0], np.cumsum(track.yaw_rate[:-1])]) / fps
    local = np.stack([track.vel[:, 0], np.zeros(track.frames), track.vel[:, 1]], axis=-1)
    world = body.to_world(heading, local)
    centre = np.concatenate([[np.zeros(3)], np.cumsum(world[:-1], axis=0)]) / fps
    shift = np.stack([track.shift[:, 0], np.zeros(track.frames), track.shift[:, 1]], axis=-1)
    return RootPath(centre, heading, centre + body.to_world(heading, shift))


@dataclass
class Swing:
    effector: int
    lift: int  # first frame off the ground
    land: int  # first frame back on it (== frames if it never lands)


@dataclass
class Footfalls:
    target: np.ndarray  # (n, 4, 3) world toe (feet) or wrist (hands) targets
    contact: np.ndarray  # (n, 4) planted
    yaw: np.ndarray  # (n, 2) world foot headings
    swings: list[Swing]
    free_w: np.ndarray  # (n, 4) weight of the action's own target in the final target
    # (n, 4) how much the target drives the limb: planted or stepping between plants, or
    # the action's own weight (hands otherwise follow their animated arms)
    weight: np.ndarray


def _home_world(track: Track, path: RootPath, frame: int, effector: int) -> np.ndarray:
    local = track.home[frame, effector]
    point = path.centre[frame] + body.to_world(path.heading[frame], local * [1.0, 0.0, 1.0])
    point[1] = local[1]
    return point


def _free_world(track: Track, path: RootPath) -> np.ndarray:
    """The actions' free targets in world coordinates (n, 4, 3)."""
    local = track.free * [1.0, 0.0, 1.0]
    world = path.centre[:, None] + body.to_world(path.heading[:, None], local)
    world[..., 1] = track.free[..., 1]
    return world


def _angle_diff(a: float, b: float) -> float:
    return float((a - b + np.pi) % (2 * np.pi) - np.pi)


class _Planner:
    """Frame-by-frame plant/lift decisions for the effectors that ever touch the floor."""

    def __init__(self, track: Track, path: RootPath, fps: float) -> None:
        self.track, self.path, self.fps = track, path, fps
        self.n = track.frames
        self.wanted = track.contact.copy()
        self.contact = np.zeros_like(self.wanted)
        self.plant = np.zeros((self.n, 4, 3))
        self.yaw = np.zeros((self.n, 2))
        self.swings: list[Swing] = []
        self.min_swing = max(2, round(MIN_SWING_S * fps))
        self.restep_frames = round(RESTEP_S * fps)
        self.settle = round(RESTEP_SETTLE_S * fps)

    def run(self) -> None:
        effectors = [e for e in range(4) if self.wanted[:, e].any()]
        planted = {e: False for e in effectors}
        current = {e: np.zeros(3) for e in effectors}
        current_yaw = {e: 0.0 for e in effectors}
        since = dict.fromkeys(effectors, 0)  # frame of the last lift or landing
        forced_until = dict.fromkeys(effectors, -1)
        # the swing each effector is in; one in the air at the start began before frame 0
        airborne = {e: Swing(e, 0, self.n) for e in effectors if not self.wanted[0, e]}

        def lift(e: int, f: int) -> None:
            planted[e], since[e] = False, f
            airborne[e] = Swing(e, f, self.n)

        for f in range(self.n):
            for e in effectors:
                want = self.wanted[f, e] and f >= forced_until[e]
                if planted[e] and want and self._overstretched(f, e, current[e], planted):
                    forced_until[e] = f + self.min_swing
                    want = False
                if planted[e] and not want:
                    lift(e, f)
                elif not planted[e] and want and (f == 0 or f - since[e] >= self.min_swing):
                    planted[e], since[e] = True, f
                    current[e], current_yaw[e] = self._landing(f, e)
                    if e in airborne:
                        swing = airborne.pop(e)
                        swing.land = f
                        self.swings.append(swing)
            step = self._restep(f, planted, current, current_yaw, since, forced_until)
            if step is not None:
                forced_until[step] = f + self.restep_frames
                lift(step, f)
            for e in effectors:
                if planted[e]:
                    if e in FEET:
                        turn = self.path.heading[f] - self.path.heading[max(f - 1, 0)]
                        current_yaw[e] += self.track.pivot[f, e] * turn
                        self.yaw[f, e] = current_yaw[e]
                    self.contact[f, e] = True
                    self.plant[f, e] = current[e]
        self.swings.extend(airborne.values())  # still in the air when the clip ends
        self.swings.sort(key=lambda s: (s.effector, s.lift))

    def _overstretched(self, f: int, e: int, plant: np.ndarray, planted: dict) -> bool:
        """A planted foot the body has left behind (the other foot standing) must step."""
        if e not in FEET or not planted.get(FEET[1 - e], False):
            return False
        return bool(np.linalg.norm((plant - self.path.pelvis[f])[[0, 2]]) > OVERSTRETCH_M)

    def _landing(self, f: int, e: int) -> tuple[np.ndarray, float]:
        run = np.argmin(np.append(self.wanted[f:, e], False))
        ahead = min(round(run * STANCE_REF_SHARE), round(STANCE_REF_S * self.fps))
        ref = min(f + ahead, self.n - 1)
        if f == 0:
            ref = 0
        yaw = 0.0
        if e in FEET:
            yaw = self.path.heading[ref] + self.track.foot_yaw[ref, e]
        return _home_world(self.track, self.path, ref, e), yaw

    def _restep(self, f, planted, current, current_yaw, since, forced_until) -> int | None:
        """The foot (if any) that should step back under the body at frame f."""
        if not self.track.restep[f] or f + self.restep_frames >= self.n:
            return None
        best, best_score = None, 1.0
        for e in FEET:
            other = FEET[1 - e]
            if e not in planted or other not in planted:
                return None
            horizon = slice(f, f + self.restep_frames + 1)
            if (
                not (planted[e] and planted[other])
                or min(f - since[e], f - since[other]) < self.settle
            ):
                continue
            if not (self.wanted[horizon, e].all() and self.wanted[horizon, other].all()):
                continue
            if forced_until[other] > f:
                continue
            home = _home_world(self.track, self.path, f, e)
            dist = np.linalg.norm((current[e] - home)[[0, 2]])
            yaw = self.path.heading[f] + self.track.foot_yaw[f, e]
            score = max(dist / RESTEP_DISTANCE, abs(_angle_diff(current_yaw[e], yaw)) / RESTEP_YAW)
            if score > best_score:
                best, best_score = e, score
        return best


def plan_footfalls(track: Track, path: RootPath, fps: float) -> Footfalls:
    """Plants and swings of every effector; non-contact frames follow a swing arc between
    plants, blended towards the action's free target by its weight."""
    planner = _Planner(track, path, fps)
    planner.run()
    n = track.frames
    free_world = _free_world(track, path)
    target = free_world.copy()
    target[planner.contact] = planner.plant[planner.contact]
    yaw = planner.yaw.copy()
    free_w = np.where(planner.contact, 0.0, track.free_w)
    weight = np.where(planner.contact, 1.0, track.free_w)
    nominal = round(RESTEP_S * fps)
    for swing in planner.swings:
        e, a, b = swing.effector, swing.lift, swing.land
        if a > 0 and b < n:
            weight[a:b, e] = 1.0
        # a swing from before the clip starts comes from the action's target; one that
        # has not landed when the clip ends is heading for the home spot
        start = planner.plant[a - 1, e] if a > 0 else free_world[0, e]
        end = planner.plant[b, e] if b < n else _home_world(track, path, n - 1, e)
        b_full = b if b < n else max(n, a + nominal)
        frames = np.arange(a, b)
        s = (frames - (a - 1)) / (b_full - (a - 1))
        m = minimum_jerk(s)[:, None]
        arc = start * (1 - m) + end * m
        arc[:, 1] = start[1] * (1 - s) + end[1] * s
        mid = min((a + b_full) // 2, n - 1)
        arc[:, 1] += track.swing[mid, e] * np.sin(np.pi * s) ** 1.5
        _, forward = body.heading_vectors(path.heading[a:b])
        arc -= forward * (track.kick[mid, e] * np.sin(np.pi * s) ** 2)[:, None]
        target[a:b, e] = arc
        if e in FEET:  # headings are unwrapped, so a swing through a full turn turns fully
            yaw_start = planner.yaw[a - 1, e] if a > 0 else path.heading[0] + track.foot_yaw[0, e]
            yaw_end = planner.yaw[b, e] if b < n else path.heading[-1] + track.foot_yaw[-1, e]
            swing_yaw = yaw_start + (yaw_end - yaw_start) * m[:, 0]
            own = path.heading[a:b] + track.foot_yaw[a:b, e]
            yaw[a:b, e] = swing_yaw + (own - swing_yaw) * free_w[a:b, e]
    w = free_w[..., None]
    target = np.where(planner.contact[..., None], target, target * (1 - w) + free_world * w)
    return Footfalls(target, planner.contact, yaw, planner.swings, free_w, weight)
