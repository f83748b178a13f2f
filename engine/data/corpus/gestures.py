"""Upper-body actions: arm gestures authored as keyed bone directions in the chest frame
(+X the person's left, +Y up, +Z forward) or as hand targets for IK, with the trunk and
head joining in. Each stands alone (feet planted) or is laid over locomotion."""

from __future__ import annotations

import numpy as np

from engine.data.corpus import body
from engine.data.corpus.curves import slerp_vectors
from engine.data.corpus.style import DEG, neutral_track, rest_arms
from engine.data.corpus.tracks import BuildContext, Track, add_rotation
from engine.motion.rotations import qrot

ELBOW_EASE = 6 * DEG  # a "straight" arm keeps this much elbow flexion


def start(ctx: BuildContext) -> Track:
    """The performer standing relaxed for the whole segment: what builders start from."""
    return neutral_track(ctx.frames, ctx.style)


def set_arm(track: Track, side: int, upper: np.ndarray, fore: np.ndarray) -> None:
    track.arms[:, side, 0] = upper
    track.arms[:, side, 1] = fore
    track.arm_use[:, side] = 1.0


def reach_arm(ctx: BuildContext, track: Track, side: int, upper, fore, weight) -> None:
    """Arm directions going from rest towards a pose (upper, fore: (3,) or (n, 3)) by
    `weight` (n,): the pose an IK target blends from, so a target fading in or out never
    starts from somewhere else than where the arm is."""
    rest = rest_arms(ctx.style)
    n = len(weight)
    upper = np.broadcast_to(upper, (n, 3))
    fore = np.broadcast_to(fore, (n, 3))
    set_arm(
        track,
        side,
        slerp_vectors(np.broadcast_to(rest[side, 0], (n, 3)), upper, weight),
        slerp_vectors(np.broadcast_to(rest[side, 1], (n, 3)), fore, weight),
    )


def eased(side: int, direction: np.ndarray) -> np.ndarray:
    """The forearm direction of a nearly straight arm pointing along `direction`."""
    return qrot(body.qx(-ELBOW_EASE), np.asarray(direction, float))


def lift_collar(track: Track, side: int, angle: np.ndarray) -> None:
    """Raise (positive) the shoulder girdle of one side, as arms going overhead do."""
    add_rotation(track, body.COLLAR[side], body.qz(body.SIDE_SIGN[side] * angle))


def span(ctx: BuildContext, raise_s: float, lower_s: float) -> tuple[float, float, float]:
    """(end of raising, start of lowering, end), seconds, for a gesture filling the segment."""
    end = ctx.frames / ctx.fps
    return raise_s / ctx.style.tempo, end - lower_s / ctx.style.tempo, end


def key_arm(ctx: BuildContext, track: Track, side: int, times, poses, used: bool = True) -> None:
    """Key one arm through `poses` at `times` (s). A pose is an upper-arm direction (the
    forearm then nearly in line with it), an (upper arm, forearm) pair, or None for the
    performer's resting arm. `used` marks the arm as the action's own (see layering)."""
    rest = rest_arms(ctx.style)[side]
    uppers, fores = [], []
    for pose in poses:
        if pose is None:
            upper, fore = rest
        elif isinstance(pose, tuple):
            upper, fore = pose
        else:
            upper, fore = pose, eased(side, pose)
        uppers.append(upper)
        fores.append(fore)
    set_arm(track, side, ctx.dirs(times, uppers), ctx.dirs(times, fores))
    track.arm_use[:, side] = float(used)


def hold_arm(ctx, track, side, up_s: float, down_s: float, pose, used: bool = True) -> None:
    """One arm raised to `pose` by `up_s`, held, and back to rest from `down_s` to the end."""
    end = ctx.frames / ctx.fps
    key_arm(ctx, track, side, [0, up_s, down_s, end], [None, pose, pose, None], used)


def _gesture_pose(ctx, track, side, pose, raise_s: float, lower_s: float):
    """`hold_arm` over the whole segment at the performer's tempo; returns `span`."""
    up, down, end = span(ctx, raise_s, lower_s)
    hold_arm(ctx, track, side, up, down, pose)
    return up, down, end


def wave(ctx: BuildContext) -> Track:
    """Upper arm out and up, elbow bent, forearm swinging side to side at 1.5–3 Hz."""
    track = start(ctx)
    rate, high = ctx.params["rate"], ctx.params["high"]
    amp = ctx.params["amplitude"] * ctx.style.amplitude
    for side in ctx.sides:
        upper_up = body.limb(side, 25 * DEG, (150 if high else 95) * DEG)
        fore_up = body.limb(side, 12 * DEG, 172 * DEG)
        up, down, end = _gesture_pose(ctx, track, side, (upper_up, fore_up), 0.55, 0.5)
        phase = 2 * np.pi * rate * (ctx.t - up * 0.7) + np.pi * side
        swing = amp * np.sin(phase) * ctx.window(up * 0.6, down + 0.1, 0.25)
        track.arms[:, side, 1] = qrot(body.qz(swing), track.arms[:, side, 1])
        lift_collar(track, side, 10 * DEG * ctx.window(0, end, up))
    if len(ctx.sides) == 1:
        tilt = body.SIDE_SIGN[ctx.s] * 5 * DEG * ctx.window(0, end, up)
        add_rotation(track, body.NECK, body.body_rotation(bend=tilt))
    return track


RAISED = {  # (flex, abduction) of the raised upper arm, and a via-point for the way up
    "up": ((172, 8), (88, 10)),
    "up_side": ((10, 168), (0, 88)),
    "front": ((88, 8), (45, 8)),
    "side": ((5, 88), (3, 45)),
}


def raise_arms(ctx: BuildContext) -> Track:
    """Arms up overhead (through the front or the sides), or to shoulder height, held and
    lowered, one to three times."""
    track = start(ctx)
    (top_flex, top_abd), (mid_flex, mid_abd) = RAISED[ctx.params["variant"]]
    reps = ctx.params["reps"]
    period = ctx.frames / ctx.fps / reps
    times, keys = [0.0], [None]
    for k in range(reps):
        t0 = k * period
        times += [t0 + 0.18 * period, t0 + 0.35 * period, t0 + 0.65 * period]
        times += [t0 + 0.8 * period, t0 + 0.98 * period]
        keys += ["mid", "top", "top", "mid", None]
    for side in ctx.sides:
        poses = {
            None: None,
            "top": body.limb(side, top_flex * DEG, top_abd * DEG),
            "mid": body.limb(side, mid_flex * DEG, mid_abd * DEG),
        }
        key_arm(ctx, track, side, times, [poses[k] for k in keys])
        lift_collar(track, side, 14 * DEG * np.clip(track.arms[:, side, 0, 1], 0.0, 1.0))
    return track


def clap(ctx: BuildContext) -> Track:
    """Hands meet in front of the chest (or overhead) 2–4 times a second."""
    track = start(ctx)
    rate, reps = ctx.params["rate"], ctx.params["reps"]
    overhead = ctx.params["overhead"]
    up, _, end = span(ctx, 0.45, 0.45)
    tau = np.clip(ctx.t - up, 0.0, reps / rate)
    gap = 0.025 + 0.09 * 0.5 * (1 + np.cos(2 * np.pi * rate * tau))
    height, reach = (0.5, 0.18) if overhead else (0.02, 0.32)
    weight = ctx.window(0, end, up)
    for side in (0, 1):
        sign = body.SIDE_SIGN[side]
        track.chest[:, side] = np.stack(
            [sign * gap, np.full_like(gap, height), np.full_like(gap, reach)], -1
        )
        track.chest_w[:, side] = weight
        flex = 150 * DEG if overhead else 40 * DEG
        pose = body.limb(side, flex, 15 * DEG), body.limb(side, flex + 40 * DEG, -20 * DEG)
        reach_arm(ctx, track, side, *pose, weight)
    return track


def punch(ctx: BuildContext) -> Track:
    """Guard up, hands by the chin; jabs extend in ~0.2 s with the trunk turning into them."""
    track = start(ctx)
    reps, interval = ctx.params["reps"], ctx.params["interval"]
    up, _, end = span(ctx, 0.4, 0.4)
    guard = np.array([[0.12, 0.2, 0.22], [-0.12, 0.2, 0.22]])
    extend = np.zeros((ctx.frames, 2))
    twist = np.zeros(ctx.frames)
    for k in range(reps):
        side = ctx.sides[k % len(ctx.sides)]
        t0 = up + 0.1 + k * interval
        pulse = ctx.keys([t0, t0 + 0.2, t0 + 0.28, t0 + 0.5], [0, 1, 1, 0])
        extend[:, side] = np.maximum(extend[:, side], pulse)
        twist += -body.SIDE_SIGN[side] * 24 * DEG * pulse * ctx.style.amplitude
    weight = ctx.window(0, end, up)
    for side in (0, 1):
        sign = body.SIDE_SIGN[side]
        jab = np.array([sign * 0.08, 0.16, 0.56])
        track.chest[:, side] = guard[side] + (jab - guard[side]) * extend[:, side, None]
        track.chest_w[:, side] = weight
        pose = body.limb(side, 35 * DEG, 20 * DEG), body.limb(side, 150 * DEG, -10 * DEG)
        reach_arm(ctx, track, side, *pose, weight)
    add_rotation(track, body.SPINE2, body.body_rotation(twist=twist * 0.5))
    add_rotation(track, body.SPINE3, body.body_rotation(twist=twist * 0.5, flex=4 * DEG * weight))
    track.pelvis = body.body_rotation(twist=twist * 0.25)
    return track


def throw(ctx: BuildContext) -> Track:
    """Wind-up with the arm back and the trunk turned away, a step with the opposite foot,
    a fast (~0.3 s) arm swing and a follow-through across the body."""
    track = start(ctx)
    side = ctx.s
    sign = body.SIDE_SIGN[side]
    other = 1 - side
    tempo = ctx.style.tempo
    t_wind, t_cock = 0.1, 0.7 / tempo
    t_rel = t_cock + 0.34
    t_follow = t_rel + 0.4
    end = ctx.frames / ctx.fps
    times = [0, t_wind, t_cock, t_rel, t_follow, end]
    if ctx.params["variant"] == "overhand":  # (upper arm, forearm): cocked, release, follow
        swing = [
            ([sign * 0.85, 0.3, -0.3], [sign * 0.15, 0.9, -0.4]),
            ([sign * 0.25, 0.45, 0.85], [0.0, 0.25, 1.0]),
            ([-sign * 0.35, -0.55, 0.75], [-sign * 0.45, -0.7, 0.5]),
        ]
        poses = [tuple(body.normalize(np.array(v)) for v in pair) for pair in swing]
    else:  # underhand: swing back low, then forward and up
        poses = [
            body.limb(side, flex * DEG, abd * DEG) for flex, abd in ((-50, 12), (70, 5), (115, 5))
        ]
    key_arm(ctx, track, side, times, [None, None, *poses, None])
    _gesture_pose(ctx, track, other, body.limb(other, 70 * DEG, 25 * DEG), 0.6, 0.6)
    twist = ctx.keys(times, [0, 0, sign * 30 * DEG, -sign * 20 * DEG, -sign * 35 * DEG, 0])
    flex = ctx.keys(times, [0, 0, -6 * DEG, 12 * DEG, 18 * DEG, 0])
    twist, flex = twist * ctx.style.amplitude, flex * ctx.style.amplitude
    for joint in (body.SPINE1, body.SPINE2, body.SPINE3):
        add_rotation(track, joint, body.body_rotation(flex=flex / 3, twist=twist / 3))
    track.pelvis = body.body_rotation(twist=twist * 0.4)
    if ctx.params["step"]:  # step forward with the opposite foot during the wind-up
        foot = other
        step = ctx.window(t_wind + 0.1, end, 0.05)
        track.home[:, foot, 2] += 0.32 * step
        track.shift[:, 1] += 0.12 * ctx.keys(times, [0, 0, 0, 1, 1, 0.7])
        swing = (ctx.t > t_wind + 0.1) & (ctx.t < t_wind + 0.45)
        track.contact[swing, foot] = False
    return track


def point(ctx: BuildContext) -> Track:
    """Arm extended towards something in front or to the side, the head turning with it."""
    track = start(ctx)
    side = ctx.s
    aside = ctx.params["direction"] != "forward"
    target = body.limb(side, 25 * DEG, 75 * DEG) if aside else body.limb(side, 88 * DEG, 12 * DEG)
    up, _, end = _gesture_pose(ctx, track, side, target, 0.5, 0.5)
    look = body.SIDE_SIGN[side] * (45 * DEG if aside else 8 * DEG) * ctx.window(0, end, up)
    add_rotation(
        track, body.NECK, body.body_rotation(twist=look, flex=-4 * DEG * ctx.window(0, end, up))
    )
    add_rotation(track, body.SPINE3, body.body_rotation(twist=look * 0.3))
    return track


def drink(ctx: BuildContext) -> Track:
    """Hand to the mouth, head tilting back while sipping, then down; once or twice."""
    track = start(ctx)
    side = ctx.s
    sign = body.SIDE_SIGN[side]
    sips = ctx.params["reps"]
    end = ctx.frames / ctx.fps
    period = end / sips
    keys_t, keys_w, keys_tilt = [0.0], [0.0], [0.0]
    for k in range(sips):
        t0 = k * period
        keys_t += [t0 + 0.3 * period, t0 + 0.45 * period, t0 + 0.6 * period, t0 + 0.95 * period]
        keys_w += [1.0, 1.0, 1.0, 0.0]
        keys_tilt += [0.0, 1.0, 0.0, 0.0]
    weight = ctx.keys(keys_t, keys_w)
    track.chest[:, side] = [sign * 0.05, 0.21, 0.2]
    track.chest_w[:, side] = weight
    cup = body.limb(side, 45 * DEG, 25 * DEG), body.normalize(np.array([-sign * 0.5, 0.75, 0.4]))
    reach_arm(ctx, track, side, *cup, weight)
    tilt = ctx.keys(keys_t, keys_tilt) * -22 * DEG
    add_rotation(track, body.NECK, body.body_rotation(flex=tilt))
    add_rotation(track, body.SPINE3, body.body_rotation(flex=tilt * 0.3))
    return track


def arm_circles(ctx: BuildContext) -> Track:
    """Arms out to the sides drawing small circles, or straight arms windmilling in big ones."""
    track = start(ctx)
    rate, big = ctx.params["rate"], ctx.params["big"]
    direction = 1.0 if ctx.params["direction"] == "forward" else -1.0
    up, down, end = span(ctx, 0.5, 0.5)
    if big:  # straight arms through a full circle: down, front, up, back, down
        turns = ctx.params["reps"]
        angle = direction * 2 * np.pi * turns * ctx.keys([0.15, end - 0.15], [0.0, 1.0])
        for side in ctx.sides:
            upper = body.normalize(
                np.stack(
                    [
                        np.full_like(angle, body.SIDE_SIGN[side] * 0.22),
                        -np.cos(angle),
                        np.sin(angle),
                    ],
                    -1,
                )
            )
            set_arm(track, side, upper, eased(side, upper))
            lift_collar(track, side, 10 * DEG * np.clip(upper[:, 1], 0, 1))
        return track
    radius = ctx.params["radius"] * ctx.style.amplitude
    tau = np.clip(ctx.t - up, 0.0, None)
    theta = direction * 2 * np.pi * rate * tau
    w = ctx.window(up * 0.8, down + 0.1, 0.3)
    for side in ctx.sides:
        sign = body.SIDE_SIGN[side]
        out = np.array([sign, 0.08, 0.0])
        circle = np.stack([np.zeros_like(theta), np.sin(theta), -np.cos(theta)], -1) * np.sin(
            radius
        )
        upper_hold = body.normalize(out * np.cos(radius) + circle * w[:, None])
        rest = rest_arms(ctx.style)[side, 0]
        upper = ctx.dirs([0, up, down, end], [rest, out, out, rest])
        blend = ctx.window(0, end, up)[:, None]
        upper = body.normalize(upper * (1 - blend) + upper_hold * blend)
        set_arm(track, side, upper, eased(side, upper))
    return track


def wipe(ctx: BuildContext) -> Track:
    """Circular wiping with one hand, on a table (leaning over it) or a window."""
    track = start(ctx)
    side = ctx.s
    sign = body.SIDE_SIGN[side]
    rate, radius = ctx.params["rate"], ctx.params["radius"]
    table = ctx.params["variant"] == "table"
    up, down, end = span(ctx, 0.5, 0.5)
    theta = (
        2 * np.pi * rate * np.clip(ctx.t - up, 0.0, None) * (1 if ctx.params["clockwise"] else -1)
    )
    w = ctx.window(up * 0.7, down + 0.1, 0.3)
    if table:
        centre = np.array([sign * 0.14, -0.32, 0.42])
        offset = np.stack([np.cos(theta), np.zeros_like(theta), np.sin(theta)], -1)
    else:
        centre = np.array([sign * 0.12, 0.08, 0.46])
        offset = np.stack([np.cos(theta), np.sin(theta), np.zeros_like(theta)], -1)
    track.chest[:, side] = centre + radius * offset * w[:, None]
    track.chest_w[:, side] = ctx.window(0, end, up)
    pose = body.limb(side, 60 * DEG, 10 * DEG), body.limb(side, 90 * DEG, 0.0)
    reach_arm(ctx, track, side, *pose, track.chest_w[:, side])
    if table:
        lean = 20 * DEG * ctx.window(0, end, up)
        add_rotation(track, body.SPINE1, body.body_rotation(flex=lean * 0.4))
        add_rotation(track, body.SPINE2, body.body_rotation(flex=lean * 0.6))
    return track
