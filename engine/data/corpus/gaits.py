"""Cyclic locomotion: walking (forward, backward, sideways, in a circle), running and
hopping share one gait model driven by a stride phase; the footfall planner places the
feet, the solver lets the pelvis ride on the legs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.corpus import body
from engine.data.corpus.curves import ramp
from engine.data.corpus.gestures import hold_arm, set_arm, start
from engine.data.corpus.style import DEG, Style, neutral_track
from engine.data.corpus.tracks import FEET, BuildContext, Track, add_rotation


@dataclass(frozen=True)
class Gait:
    """One gait's parameters. Speeds in m/s (left, forward), rates in Hz."""

    forward: float = 0.0
    lateral: float = 0.0
    yaw_rate: float = 0.0
    step_rate: float = 1.9  # steps per second (two per stride)
    duty: float = 0.6  # fraction of a stride each foot is planted
    bob: float = 0.015  # pelvis rise and fall, m (peaks at mid-stance when walking)
    flight: bool = False  # running: the pelvis peaks in the flight phase instead
    lean: float = 3 * DEG
    arm_swing: float = 18 * DEG
    elbow: float = 20 * DEG
    swing_height: float = 0.07
    kick: float = 0.0
    pelvis_yaw: float = 4 * DEG
    pelvis_roll: float = 3 * DEG
    sway: float = 0.018
    push: float = 0.35  # heel raise at the end of stance, rad
    crouch: float = 0.0  # pelvis lowered by, m
    lead: int = 0  # which foot lifts first
    start_from_rest: bool = True  # accelerate over the first stride
    stop_at_end: bool = True  # decelerate over the last stride


def phases(frames: int, fps: float, gait: Gait) -> np.ndarray:
    """Stride phase of each foot (frames, 2) in [0, 1): planted while below `duty`."""
    # start in double support with the leading foot about to lift (late stance if running)
    start = 0.5 + (gait.duty - 0.5) * 0.6 if gait.duty >= 0.5 else gait.duty * 0.8
    t = np.arange(frames) / fps
    left = start + 0.5 * gait.lead + gait.step_rate / 2.0 * t
    return np.stack([left, left + 0.5], axis=1) % 1.0


def gait_track(frames: int, fps: float, style: Style, gait: Gait) -> Track:
    n = frames
    track = neutral_track(n, style)
    phase = phases(n, fps, gait)
    mid = gait.duty / 2.0
    stance_phase = 2 * np.pi * (phase[:, 0] - mid)
    track.vel[:] = [gait.lateral, gait.forward]
    stride = fps * 2.0 / gait.step_rate
    if gait.start_from_rest:
        track.vel *= ramp(n, 0, stride)[:, None]
    if gait.stop_at_end:
        track.vel *= 1.0 - ramp(n, n - 0.8 * stride, 0.8 * stride)[:, None]
    track.yaw_rate[:] = gait.yaw_rate
    track.contact[:, list(FEET)] = phase < gait.duty
    # keep the feet from crossing when stepping sideways
    step_time = 1.0 / gait.step_rate
    width = style.stance + 0.6 * abs(gait.lateral) * step_time
    for side, effector in enumerate(FEET):
        track.home[:, effector, 0] = body.SIDE_SIGN[side] * width
        track.swing[:, effector] = gait.swing_height
        track.kick[:, effector] = gait.kick
        late = np.clip((phase[:, side] - (gait.duty - 0.2)) / 0.2, 0.0, 1.0)
        track.push[:, side] = gait.push * late * (phase[:, side] < gait.duty)
        track.raise_max[:, side] = 55 * DEG
    bob = np.cos(2 * stance_phase)
    track.height += -gait.crouch + (-gait.bob if gait.flight else gait.bob) * bob - gait.bob * 0.5
    track.pelvis = body.body_rotation(
        flex=gait.lean * 0.4,
        bend=-gait.pelvis_roll * np.cos(stance_phase) * style.amplitude,
        twist=-gait.pelvis_yaw * np.cos(2 * np.pi * phase[:, 0]) * style.amplitude,
    )
    track.shift[:, 0] = gait.sway * np.cos(stance_phase)
    counter = gait.pelvis_yaw * 1.6 * np.cos(2 * np.pi * phase[:, 0]) * style.amplitude
    add_rotation(track, body.SPINE2, body.body_rotation(flex=gait.lean * 0.3, twist=counter * 0.5))
    add_rotation(track, body.SPINE3, body.body_rotation(flex=gait.lean * 0.3, twist=counter * 0.5))
    add_rotation(track, body.NECK, body.body_rotation(flex=-gait.lean * 0.6, twist=-counter * 0.7))
    for side in (0, 1):
        swing = -gait.arm_swing * style.amp(side) * np.cos(2 * np.pi * phase[:, side])
        elbow = gait.elbow + style.elbow * 0.5 + 0.4 * np.maximum(swing, 0)
        track.arms[:, side, 0] = body.limb(side, swing, style.arm_abduction)
        track.arms[:, side, 1] = body.limb(side, swing + elbow, style.arm_abduction * 0.6)
    return track


def walk_rate(speed: float) -> float:
    """Steps per second at a walking speed (m/s): ~1.65 slow, ~1.9 comfortable, ~2.05 brisk."""
    return 1.45 + 0.33 * abs(speed)


def _gait_for(ctx: BuildContext, **values) -> Gait:
    """A gait that starts from rest / stops at the end unless the neighbouring action is
    locomotion too (then the cross-fade carries the speed over)."""
    return Gait(
        lead=int(ctx.rng.integers(2)),
        start_from_rest=ctx.before != "locomotion",
        stop_at_end=ctx.after != "locomotion",
        **values,
    )


def walk(ctx: BuildContext) -> Track:
    speed = ctx.params["speed"]
    amp = ctx.style.amplitude
    gait = _gait_for(
        ctx,
        forward=speed,
        yaw_rate=ctx.params.get("curve", 0.0),
        step_rate=walk_rate(speed) * ctx.params.get("cadence", 1.0),
        arm_swing=(8 + 12 * speed) * DEG * amp,
        elbow=(12 + 8 * speed) * DEG,
        bob=0.008 + 0.01 * speed,
        swing_height=0.065 + 0.02 * speed,
        crouch=0.015 + 0.01 * speed,
        lean=(1 + 2 * speed) * DEG,
    )
    return gait_track(ctx.frames, ctx.fps, ctx.style, gait)


def walk_backward(ctx: BuildContext) -> Track:
    speed = ctx.params["speed"]
    gait = _gait_for(
        ctx,
        forward=-speed,
        step_rate=1.5 + 0.4 * speed,
        arm_swing=8 * DEG,
        elbow=15 * DEG,
        bob=0.008,
        swing_height=0.075,
        crouch=0.02,
        lean=-2 * DEG,
        push=0.1,
        pelvis_yaw=2 * DEG,
    )
    track = gait_track(ctx.frames, ctx.fps, ctx.style, gait)
    look = -4 * DEG * np.ones(ctx.frames)  # people glance down/back a little
    add_rotation(track, body.NECK, body.body_rotation(flex=-look))
    return track


def walk_sideways(ctx: BuildContext) -> Track:
    speed = ctx.params["speed"]
    direction = body.SIDE_SIGN[ctx.s]
    gait = _gait_for(
        ctx,
        lateral=direction * speed,
        step_rate=1.4 + 0.6 * speed,
        duty=0.62,
        arm_swing=4 * DEG,
        bob=0.01,
        swing_height=0.07,
        crouch=0.03,
        lean=1 * DEG,
        push=0.05,
        pelvis_yaw=1 * DEG,
        pelvis_roll=4 * DEG,
        sway=0.0,
    )
    track = gait_track(ctx.frames, ctx.fps, ctx.style, gait)
    for side in (0, 1):  # arms a little away from the body
        track.arms[:, side, 0] = body.limb(side, 5 * DEG, ctx.style.arm_abduction + 8 * DEG)
    add_rotation(
        track, body.NECK, body.body_rotation(twist=direction * 12 * DEG * np.ones(ctx.frames))
    )
    return track


def walk_in_circle(ctx: BuildContext) -> Track:
    """Walking forward while turning steadily (counterclockwise = to the left)."""
    speed, radius = ctx.params["speed"], ctx.params["radius"]
    direction = body.SIDE_SIGN[ctx.s]
    gait = _gait_for(
        ctx,
        forward=speed,
        yaw_rate=direction * speed / radius,
        step_rate=walk_rate(speed),
        arm_swing=(8 + 12 * speed) * DEG,
        elbow=(12 + 8 * speed) * DEG,
        bob=0.008 + 0.01 * speed,
        swing_height=0.06,
        crouch=0.02,
        lean=2 * DEG,
    )
    track = gait_track(ctx.frames, ctx.fps, ctx.style, gait)
    # the stride ramps scale the turning with the speed: a circle, not a spin on the spot
    track.yaw_rate = direction * np.abs(track.vel[:, 1]) / radius
    add_rotation(
        track, body.NECK, body.body_rotation(twist=direction * 8 * DEG * np.ones(ctx.frames))
    )
    return track


def run(ctx: BuildContext) -> Track:
    """Running (flight phase, stance ~35–40 %, knees high in swing, elbows ~90°), or
    jogging in place at speed 0."""
    speed = ctx.params["speed"]
    in_place = speed == 0.0
    gait = _gait_for(
        ctx,
        forward=speed,
        step_rate=ctx.params["cadence"],
        duty=0.4 if in_place else 0.36,
        bob=0.025 if in_place else 0.03,
        flight=True,
        lean=(3 if in_place else 4 + 2 * speed) * DEG,
        arm_swing=(20 if in_place else 18 + 6 * speed) * DEG * ctx.style.amplitude,
        elbow=85 * DEG,
        swing_height=0.12 if in_place else 0.1 + 0.06 * speed,
        kick=0.05 if in_place else 0.04 * speed,
        crouch=0.05,
        push=0.45,
        pelvis_yaw=(3 if in_place else 5) * DEG,
    )
    return gait_track(ctx.frames, ctx.fps, ctx.style, gait)


def _yaw_profile(ctx: BuildContext, angle: float, start_s: float, duration_s: float) -> np.ndarray:
    """Yaw rates (n,) that turn by `angle` along a minimum-jerk profile."""
    heading = angle * ctx.keys([start_s, start_s + duration_s], [0.0, 1.0])
    return np.append(np.diff(heading), 0.0) * ctx.fps


def turn(ctx: BuildContext) -> Track:
    """Turning on the spot in small steps (the planner steps whenever a foot has been
    left twisted); head and trunk lead the pelvis a little."""
    track = neutral_track(ctx.frames, ctx.style)
    angle = np.radians(ctx.params["angle"]) * (1.0 if ctx.params["direction"] == "left" else -1.0)
    duration = ctx.params["turn_s"]
    track.yaw_rate = _yaw_profile(ctx, angle, 0.15, duration)
    track.pivot[:] = 0.35
    lead = np.clip(track.yaw_rate * 0.15, -25 * DEG, 25 * DEG)
    add_rotation(track, body.NECK, body.body_rotation(twist=lead))
    add_rotation(track, body.SPINE3, body.body_rotation(twist=lead * 0.4))
    return track


def spin(ctx: BuildContext) -> Track:
    """A fast full turn (or two) pivoting on the ball of one foot, the other foot off the
    floor beside it, arms tucked in."""
    track = start(ctx)
    side = ctx.s
    direction = body.SIDE_SIGN[side]
    turns, per_turn = ctx.params["turns"], ctx.params["turn_s"]
    t0, duration = 0.45, per_turn * turns
    track.yaw_rate = _yaw_profile(ctx, direction * 2 * np.pi * turns, t0, duration)
    pivot, free = FEET[side], FEET[1 - side]
    spinning = ctx.window(t0 - 0.3, t0 + duration + 0.1, 0.2)
    track.home[:, pivot, 0] = direction * ctx.style.stance * (1 - 0.7 * spinning)
    track.pivot[:, side] = ctx.window(t0 - 0.05, t0 + duration + 0.05, 0.05)
    track.shift[:, 0] = direction * ctx.style.stance * 0.8 * spinning
    off = (ctx.t > t0 - 0.1) & (ctx.t < t0 + duration + 0.05)
    track.contact[off, free] = False
    track.free[:, free] = [-direction * 0.1, 0.12, 0.12]
    track.free_w[:, free] = ctx.window(t0 - 0.1, t0 + duration + 0.05, 0.15)
    track.push[:, side] = 0.35 * spinning
    track.restep[:] = ctx.t > t0 + duration
    for arm in (0, 1):  # tucked in
        tucked = body.limb(arm, 45 * DEG, 25 * DEG), body.limb(arm, 100 * DEG, -40 * DEG)
        hold_arm(ctx, track, arm, t0 - 0.1, t0 + duration, tucked, used=False)
    return track


CRAWL_HEIGHT = 0.5  # pelvis height on hands and knees
CRAWL_FOOT = (0.11, 0.03, -0.62)  # toes well behind the knees (left, height, forward)
CRAWL_HAND = (0.17, 0.05, 0.45)  # wrists under the shoulders
CRAWL_TOE_PITCH = -160 * DEG  # toes pointing back: the shin and instep lie along the floor
CRAWL_TRUNK = 105 * DEG  # trunk flexion that brings the back level


def crawl(ctx: BuildContext) -> Track:
    """On hands and knees, opposite hand and knee moving together (a diagonal gait), after
    getting down from standing and before getting back up unless the clip starts or ends
    on the floor."""
    track = start(ctx)
    n, end = ctx.frames, ctx.frames / ctx.fps
    down_s = 0.0 if ctx.params["start_down"] else 1.8
    up_s = 0.0 if ctx.params["end_down"] else 1.8
    t_crawl, t_stop = down_s, end - up_s
    on_floor = ctx.window(down_s * 0.55, t_stop + up_s * 0.45, max(down_s, up_s, 0.6) * 0.4)
    if not ctx.params["start_down"] and ctx.params["end_down"]:
        on_floor = ctx.window(down_s * 0.55, end + 1.0, down_s * 0.4)
    elif ctx.params["start_down"]:
        on_floor = (
            1.0 - ctx.window(t_stop + up_s * 0.05, end + 1.0, up_s * 0.4) if up_s else np.ones(n)
        )
    squat = ctx.window(0.1, down_s * 0.75, down_s * 0.35) if down_s else np.zeros(n)
    if up_s:
        squat = np.maximum(squat, ctx.window(t_stop + up_s * 0.25, end - 0.05, up_s * 0.35))
    base = track.height[0]
    track.height = base + (0.62 - base) * squat
    track.height = track.height * (1 - on_floor) + CRAWL_HEIGHT * on_floor
    track.shift[:, 1] = -0.15 * squat * (1 - on_floor)
    flex = 50 * DEG * squat * (1 - on_floor) + CRAWL_TRUNK * on_floor
    bend_trunk_crawl = body.body_rotation(flex=flex * 0.55)
    track.pelvis = bend_trunk_crawl
    for joint in (body.SPINE1, body.SPINE2, body.SPINE3):
        add_rotation(track, joint, body.body_rotation(flex=flex * 0.15))
    add_rotation(track, body.NECK, body.body_rotation(flex=-flex * 0.55))
    # crawling gait: stride phase per effector, opposite hand and knee together
    speed = ctx.params["speed"]
    stride_rate = speed / 0.42
    crawling = (ctx.t >= t_crawl) & (ctx.t < t_stop)
    tau = np.clip(ctx.t - t_crawl, 0.0, None)
    phase = 0.7 + stride_rate * tau  # every limb planted when crawling starts
    offsets = {0: 0.0, 1: 0.5, 2: 0.5, 3: 0.0}  # left knee, right knee, left hand, right hand
    track.vel[:, 1] = speed * ctx.window(t_crawl, t_stop, 0.6)
    track.restep[:] = False
    hands_down = ctx.t >= down_s * 0.7 if down_s else np.ones(n, bool)
    hands_up = ctx.t >= t_stop + up_s * 0.45 if up_s else np.zeros(n, bool)
    reach = ctx.window(0.2, end + 1.0, down_s * 0.5) if down_s else np.ones(n)
    if up_s:
        reach = reach * (1.0 - ctx.window(t_stop + up_s * 0.45, end + 1.0, 0.4))
    for e in range(4):
        side = e % 2
        sign = body.SIDE_SIGN[side]
        stepping = crawling & ((phase + offsets[e]) % 1.0 >= 0.72)
        if e < 2:
            home = np.array([sign * CRAWL_FOOT[0], CRAWL_FOOT[1], CRAWL_FOOT[2]])
            track.home[:, e] = track.home[:, e] * (1 - on_floor[:, None]) + home * on_floor[:, None]
            track.pitch[:, side] = body.FOOT_PITCH + (CRAWL_TOE_PITCH - body.FOOT_PITCH) * on_floor
            track.contact[:, e] = ~stepping
            track.raise_max[:, side] = 0.0
            track.swing[:, e] = 0.08
            if down_s:  # the feet go back under the hips one after the other
                move = (ctx.t > down_s * (0.55 + 0.15 * side)) & (
                    ctx.t < down_s * (0.7 + 0.15 * side)
                )
                track.contact[move, e] = False
            if up_s:
                move = (ctx.t > t_stop + up_s * (0.05 + 0.15 * side)) & (
                    ctx.t < t_stop + up_s * (0.2 + 0.15 * side)
                )
                track.contact[move, e] = False
        else:
            track.home[:, e] = [sign * CRAWL_HAND[0], CRAWL_HAND[1], CRAWL_HAND[2]]
            track.free[:, e] = track.home[:, e]
            track.contact[:, e] = hands_down & ~hands_up & ~stepping
            # hands reach for the floor while getting down and let go getting up; while
            # crawling they swing between plants
            track.free_w[:, e] = reach * ~crawling
            track.swing[:, e] = 0.08
            track.arm_use[:, side] = 0.0
    for side in (0, 1):  # arms hang towards the floor until the hands take over
        upper = body.limb(side, flex * 0.9, 10 * DEG)
        set_arm(track, side, upper, body.limb(side, flex * 0.9 + 10 * DEG, 5 * DEG))
        track.arm_use[:, side] = 0.0
    return track
