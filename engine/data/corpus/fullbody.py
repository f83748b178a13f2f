"""Whole-body actions on the spot: jumps and hops (ballistic flight), kicks and stomps
(a free leg driven by joint angles), squats, lunges, sitting, kneeling, bowing, balancing,
stretching, picking things up and standing idle."""

from __future__ import annotations

import numpy as np

from engine.data.corpus import body
from engine.data.corpus.curves import hermite
from engine.data.corpus.gestures import eased, hold_arm, key_arm, reach_arm, set_arm, start
from engine.data.corpus.style import DEG
from engine.data.corpus.tracks import FEET, BuildContext, Track, add_rotation

G = 9.81
HIP_HAND = np.array([0.17, -0.33, 0.02])  # a hand on the hip, chest frame (left side)
HIP_ARM = tuple(  # arm directions (upper, fore) with the hand on the hip, per side
    (body.limb(side, -20 * DEG, 40 * DEG), body.limb(side, 60 * DEG, -40 * DEG)) for side in (0, 1)
)
BALANCE_LEGS = {  # hip flexion, knee flexion, abduction (degrees) of the lifted leg
    "knee": (80, 95, 0),
    "back": (-10, 90, 0),
    "side": (5, 5, 35),
    "front": (45, 5, 0),
}
PUSH_S = 0.22  # from the bottom of the countermovement to take-off
ABSORB_S = 0.25  # from touch-down to the bottom of the landing


def bend_trunk(track: Track, flex: np.ndarray, pelvis_share: float = 0.3, twist=0.0, bend=0.0):
    """Flex the trunk forward by `flex` (n,): `pelvis_share` of it at the hips (pelvis
    tilt), the rest spread over the spine, the head kept looking ahead; `twist` and `bend`
    turn and lean it the same way."""
    track.pelvis = body.body_rotation(
        flex=flex * pelvis_share, twist=np.asarray(twist) * 0.3, bend=bend
    )
    rest = flex * (1 - pelvis_share)
    for joint, share in ((body.SPINE1, 0.4), (body.SPINE2, 0.35), (body.SPINE3, 0.25)):
        add_rotation(
            track,
            joint,
            body.body_rotation(
                flex=rest * share, twist=np.asarray(twist) * 0.23, bend=np.asarray(bend) * share
            ),
        )
    add_rotation(track, body.NECK, body.body_rotation(flex=-flex * 0.35))


def hang_arms(track: Track, flex: np.ndarray, sides=(0, 1), forward: float = 0.0) -> None:
    """Arms hanging plumb (and `forward` rad ahead of it) while the trunk is flexed by `flex`."""
    for side in sides:
        upper = body.limb(side, flex * 0.9 + forward, 8 * DEG)
        set_arm(
            track,
            side,
            upper,
            eased(side, body.limb(side, flex * 0.9 + forward + 12 * DEG, 5 * DEG)),
        )
        track.arm_use[:, side] = 0.0


def drive_leg(ctx, track, side, lift_s, down_s, hip_flex, knee_flex, pitch=None, abduct=0.0):
    """Take one foot off the floor from `lift_s` to `down_s` (seconds) and move it by the
    hip and knee angle curves (n,) under the track's requested pelvis height."""
    pitch = np.full(ctx.frames, body.FOOT_PITCH) if pitch is None else pitch
    toe = body.toe_point(
        side,
        track.height,
        hip_flex,
        knee_flex,
        abduct,
        pitch,
        (track.shift[:, 0], track.shift[:, 1]),
    )
    off = (ctx.t >= lift_s) & (ctx.t < down_s)
    track.contact[off, side] = False
    track.free[:, side] = toe
    track.free_w[:, side] = ctx.window(lift_s, down_s, 0.12)
    track.pitch[off, side] = pitch[off]


def flights(ctx: BuildContext, base: float, takeoffs, air_s: float, dip: float, rise: float = 0.04):
    """Pelvis heights (n,) for jumps taking off at `takeoffs` (s) for `air_s` each: a
    countermovement of depth `dip`, a ballistic parabola (g = 9.81) from take-off height
    `base + rise` and back, an absorbing landing; plus the airborne mask (n,)."""
    t = ctx.t
    v0 = G * air_s / 2
    top = base + rise
    height = np.full(ctx.frames, base)
    airborne = np.zeros(ctx.frames, bool)
    prev = (0.0, base, 0.0)
    for k, t_off in enumerate(takeoffs):
        t_land = t_off + air_s
        t_dip = t_off - PUSH_S
        # down into the countermovement (from rest or from the previous landing)
        seg = (t >= prev[0]) & (t < t_dip)
        if k == 0:
            height[seg] = hermite(t[seg], max(0.0, t_dip - 0.35), t_dip, base, base - dip, 0, 0)
        else:
            height[seg] = hermite(t[seg], prev[0], t_dip, top, base - dip, prev[2], 0.0)
        seg = (t >= t_dip) & (t < t_off)
        height[seg] = hermite(t[seg], t_dip, t_off, base - dip, top, 0.0, v0)
        seg = (t >= t_off) & (t < t_land)
        dt = t[seg] - t_off
        height[seg] = top + v0 * dt - 0.5 * G * dt * dt
        airborne |= seg
        prev = (t_land, top, -v0)
    t_land = prev[0]
    seg = (t >= t_land) & (t < t_land + ABSORB_S)
    height[seg] = hermite(t[seg], t_land, t_land + ABSORB_S, top, base - dip * 0.8, -v0, 0.0)
    seg = t >= t_land + ABSORB_S
    height[seg] = hermite(
        t[seg], t_land + ABSORB_S, t_land + ABSORB_S + 0.45, base - dip * 0.8, base, 0, 0
    )
    return height, airborne


def _airborne_feet(ctx, track, feet, airborne, takeoffs, air_s, tuck=35 * DEG):
    """Feet leave the floor while airborne, heels rising into take-off and tucking a little
    in the air."""
    for side in feet:
        track.contact[airborne, side] = False
        wave = np.zeros(ctx.frames)
        push = np.zeros(ctx.frames)
        for t_off in takeoffs:
            wave = np.maximum(wave, ctx.window(t_off, t_off + air_s, air_s * 0.3))
            push = np.maximum(push, ctx.keys([t_off - 0.15, t_off, t_off + 0.02], [0, 1, 0]))
            push = np.maximum(
                push,
                ctx.keys([t_off + air_s - 0.02, t_off + air_s, t_off + air_s + 0.1], [0, 0.6, 0]),
            )
        toe = body.toe_point(
            side,
            track.height,
            12 * DEG + tuck * wave,
            20 * DEG + 1.6 * tuck * wave,
            0.0,
            body.FOOT_PITCH - 0.6 * wave,
            (track.home[:, side, 0] - body.REST[body.HIP[side], 0], track.shift[:, 1]),
        )
        track.free[:, side] = toe
        track.free_w[:, side] = wave
        track.push[:, side] = np.maximum(track.push[:, side], 0.75 * push)
        track.raise_max[:, side] = 70 * DEG


def _jump_arms(ctx, track, takeoffs, air_s):
    times, flex = [0.0], [0.0]
    for t_off in takeoffs:
        times += [t_off - PUSH_S - 0.05, t_off + 0.15, t_off + air_s + 0.05, t_off + air_s + 0.4]
        flex += [-35 * DEG, 100 * DEG, 35 * DEG, 0.0]
    swing = ctx.keys(times, flex) * ctx.style.amplitude
    for side in (0, 1):
        upper = body.limb(side, swing, ctx.style.arm_abduction)
        set_arm(track, side, upper, body.limb(side, swing + 20 * DEG, ctx.style.arm_abduction))
        track.arm_use[:, side] = 0.0
    lean = ctx.keys(times, [0.0] + [25 * DEG, -5 * DEG, 20 * DEG, 0.0] * len(takeoffs))
    bend_trunk(track, lean, 0.4)


def jump(ctx: BuildContext) -> Track:
    """Jumps in place or forward: arms swing back in the countermovement and up at
    take-off; flight follows a parabola; landings absorb with bent knees."""
    track = start(ctx)
    reps, rise = ctx.params["reps"], ctx.params["height"]
    air = 2 * np.sqrt(2 * rise / G)
    period = (ctx.frames / ctx.fps - 0.7) / reps
    takeoffs = [0.55 + k * period for k in range(reps)]
    base = track.height[0]
    track.height, airborne = flights(ctx, base, takeoffs, air, dip=0.16 + 0.2 * rise)
    distance = ctx.params.get("distance", 0.0)
    for t_off in takeoffs:
        shape = ctx.window(t_off - 0.08, t_off + air + 0.08, 0.12)
        track.vel[:, 1] += distance * shape / max(shape.sum() / ctx.fps, 1e-6)
    track.restep[:] = False
    _airborne_feet(ctx, track, FEET, airborne, takeoffs, air)
    _jump_arms(ctx, track, takeoffs, air)
    return track


def hop(ctx: BuildContext) -> Track:
    """Hops on one leg, the other held up behind with the knee bent, arms out for balance."""
    track = start(ctx)
    stance = ctx.s
    free = 1 - stance
    reps = ctx.params["reps"]
    air = ctx.params["air"]
    end = ctx.frames / ctx.fps
    period = (end - 1.1) / reps
    takeoffs = [0.75 + k * period for k in range(reps)]
    base = track.height[0] - 0.03
    track.height, airborne = flights(ctx, base, takeoffs, air, dip=0.08, rise=0.03)
    track.shift[:, 0] = body.SIDE_SIGN[stance] * 0.07 * ctx.window(0, end, 0.4)
    for t_off in takeoffs:
        shape = ctx.window(t_off - 0.05, t_off + air + 0.05, 0.1)
        track.vel[:, 1] += ctx.params["forward"] * shape / max(shape.sum() / ctx.fps, 1e-6)
    track.restep[:] = False
    _airborne_feet(ctx, track, (stance,), airborne, takeoffs, air, tuck=10 * DEG)
    lifted = ctx.window(0.3, end - 0.25, 0.25)
    drive_leg(ctx, track, free, 0.3, end - 0.25, 20 * DEG * lifted, 85 * DEG * lifted)
    for side in (0, 1):  # arms out for balance
        hold_arm(ctx, track, side, 0.4, end - 0.4, body.limb(side, 15 * DEG, 40 * DEG), used=False)
    return track


def jumping_jacks(ctx: BuildContext) -> Track:
    """About one a second: jump the feet apart with the arms overhead, then back together."""
    track = start(ctx)
    reps, rate = ctx.params["reps"], ctx.params["rate"]
    half = 0.5 / rate
    air = min(0.3, half * 0.55)
    takeoffs = [0.5 + k * half for k in range(2 * reps)]
    base = track.height[0]
    track.height, airborne = flights(ctx, base, takeoffs, air, dip=0.07, rise=0.02)
    track.restep[:] = False
    apart = np.zeros(ctx.frames)
    for k, t_off in enumerate(takeoffs):
        if k % 2 == 0:
            apart = np.maximum(
                apart, ctx.window(t_off + air * 0.5, takeoffs[k + 1] + air * 0.5, 0.01)
            )
    for side, effector in enumerate(FEET):
        track.home[:, effector, 0] = body.SIDE_SIGN[side] * (ctx.style.stance + 0.18 * apart)
    _airborne_feet(ctx, track, FEET, airborne, takeoffs, air, tuck=10 * DEG)
    phase = np.clip((ctx.t - takeoffs[0]) * rate, 0.0, reps)
    abduct = (0.5 - 0.5 * np.cos(2 * np.pi * phase)) * 160 * DEG + 10 * DEG
    for side in (0, 1):
        upper = body.limb(side, 8 * DEG, abduct)
        set_arm(track, side, upper, eased(side, upper))
        track.arm_use[:, side] = 0.0
    return track


def kick(ctx: BuildContext) -> Track:
    """Front kicks: weight onto the other leg, knee up, snap to extension, retract, down."""
    track = start(ctx)
    side = ctx.s
    reps, reach = ctx.params["reps"], ctx.params["height"]
    end = ctx.frames / ctx.fps
    period = (end - 0.5) / reps
    hip = np.zeros(ctx.frames)
    knee = np.zeros(ctx.frames)
    pitch = np.full(ctx.frames, body.FOOT_PITCH)
    for k in range(reps):
        t0 = 0.35 + k * period
        times = [t0, t0 + 0.3, t0 + 0.48, t0 + 0.68, t0 + period - 0.1]
        if ctx.params["variant"] == "ball":  # swing from behind through the ball
            hip += ctx.keys(times, [0, -25 * DEG, reach * 0.8, 20 * DEG, 0])
            knee += ctx.keys(times, [0, 70 * DEG, 5 * DEG, 20 * DEG, 0])
        else:
            hip += ctx.keys(times, [0, reach * 0.85, reach, reach * 0.8, 0])
            knee += ctx.keys(times, [0, 100 * DEG, 8 * DEG, 95 * DEG, 0])
        pitch += ctx.keys(times, [0, -0.3, -0.6, -0.3, 0])
    track.shift[:, 0] = -body.SIDE_SIGN[side] * 0.06 * ctx.window(0.05, end - 0.1, 0.3)
    track.height -= 0.03 * ctx.window(0.05, end - 0.1, 0.3)
    track.restep[:] = False
    drive_leg(ctx, track, side, 0.35, end - 0.15, hip, knee, pitch)
    lean = -0.25 * hip
    add_rotation(track, body.SPINE2, body.body_rotation(flex=lean * 0.5))
    add_rotation(track, body.SPINE3, body.body_rotation(flex=lean * 0.5))
    for arm in (0, 1):  # fists up, counterbalancing
        guard = body.limb(arm, 40 * DEG, 35 * DEG), body.limb(arm, 120 * DEG, 0.0)
        hold_arm(ctx, track, arm, 0.35, end - 0.3, guard, used=False)
    return track


def stomp(ctx: BuildContext) -> Track:
    """Knee lifted, then the foot driven down hard (~0.15 s), one to four times."""
    track = start(ctx)
    side = ctx.s
    reps = ctx.params["reps"]
    end = ctx.frames / ctx.fps
    period = (end - 0.4) / reps
    hip = np.zeros(ctx.frames)
    for k in range(reps):
        t0 = 0.3 + k * period
        up = t0 + 0.45 * period
        hip += ctx.keys([t0, up, up + 0.1, up + 0.25], [0, 55 * DEG, 55 * DEG, 0])
        down = up + 0.25
        swing = (ctx.t >= t0) & (ctx.t < down)
        track.contact[swing, side] = False
    knee = hip * 1.4
    toe = body.toe_point(
        side, track.height, hip, knee, 0.0, body.FOOT_PITCH, (track.shift[:, 0], track.shift[:, 1])
    )
    track.free[:, side] = toe
    track.free_w[:, side] = np.clip(hip / (20 * DEG), 0, 1)
    track.shift[:, 0] = -body.SIDE_SIGN[side] * 0.05 * ctx.window(0.05, end - 0.05, 0.25)
    track.restep[:] = False
    fists = 30 * DEG * ctx.window(0.1, end - 0.1, 0.3)
    for arm in (0, 1):
        track.arms[:, arm, 1] = body.limb(arm, ctx.style.elbow + fists, 5 * DEG)
    return track


def squat(ctx: BuildContext) -> Track:
    """Hips back and down with the trunk leaning forward, knees over the toes, and up."""
    track = start(ctx)
    reps, depth = ctx.params["reps"], ctx.params["depth"]
    end = ctx.frames / ctx.fps
    period = (end - 0.3) / reps
    times, down = [0.0], [0.0]
    for k in range(reps):
        t0 = 0.15 + k * period
        times += [t0, t0 + 0.45 * period, t0 + 0.6 * period, t0 + period]
        down += [0.0, 1.0, 1.0, 0.0]
    d = ctx.keys(times, down)
    base = track.height[0]
    track.height = base - (base - depth) * d
    track.shift[:, 1] = -0.16 * d
    wide = ctx.window(0.0, end, 0.2)
    for side, effector in enumerate(FEET):
        track.home[:, effector, 0] = body.SIDE_SIGN[side] * (ctx.style.stance + 0.05 * wide)
        track.foot_yaw[:, side] += body.SIDE_SIGN[side] * 10 * DEG * wide
        track.raise_max[:, side] = 0.0
    bend_trunk(track, 38 * DEG * d, 0.45)
    arms = ctx.params["arms"]
    for side in (0, 1):
        if arms == "forward":
            flex = 85 * DEG * d + 8 * DEG
            upper = body.limb(side, flex, 8 * DEG)
            set_arm(track, side, upper, eased(side, upper))
        elif arms == "hips":
            track.chest[:, side] = HIP_HAND * [body.SIDE_SIGN[side], 1.0, 1.0]
            track.chest_w[:, side] = ctx.window(0, end, 0.3)
            reach_arm(ctx, track, side, *HIP_ARM[side], track.chest_w[:, side])
        else:
            hang_arms(track, 38 * DEG * d, (side,), forward=20 * DEG * d)
        track.arm_use[:, side] = 0.0
    return track


def lunge(ctx: BuildContext) -> Track:
    """Step forward, drop the back knee towards the floor, push back up and step back."""
    track = start(ctx)
    reps, length = ctx.params["reps"], ctx.params["length"]
    end = ctx.frames / ctx.fps
    period = (end - 0.2) / reps
    base = track.height[0]
    down = np.zeros(ctx.frames)
    track.restep[:] = False
    for k in range(reps):
        side = ctx.sides[k % len(ctx.sides)]
        t0 = 0.1 + k * period
        t_out, t_back = t0 + 0.12 * period, t0 + 0.72 * period
        out = ctx.window(t_out + 0.2 * period / 2, t_back + 0.1, 0.02)
        track.home[:, FEET[side], 2] += length * out
        step_out = (ctx.t >= t_out) & (ctx.t < t_out + 0.22 * period)
        step_back = (ctx.t >= t_back) & (ctx.t < t_back + 0.22 * period)
        track.contact[step_out | step_back, side] = False
        track.swing[:, side] = 0.08
        back = 1 - side
        track.raise_max[:, back] = np.maximum(track.raise_max[:, back], 75 * DEG * out)
        dip = ctx.keys(
            [t0 + 0.32 * period, t0 + 0.45 * period, t0 + 0.55 * period, t0 + 0.68 * period],
            [0, 1, 1, 0],
        )
        down = np.maximum(down, dip)
        track.shift[:, 1] += (
            length
            * 0.45
            * ctx.keys(
                [
                    t_out + 0.1 * period,
                    t0 + 0.34 * period,
                    t0 + 0.66 * period,
                    t_back + 0.1 * period,
                ],
                [0, 1, 1, 0],
            )
        )
    track.height = base - (base - 0.6) * down
    bend_trunk(track, 6 * DEG * down, 0.5)
    for side in (0, 1):
        track.chest[:, side] = HIP_HAND * [body.SIDE_SIGN[side], 1.0, 1.0]
        track.chest_w[:, side] = ctx.window(0, end, 0.3) * ctx.params["hands_on_hips"]
        reach_arm(ctx, track, side, *HIP_ARM[side], track.chest_w[:, side])
        track.arm_use[:, side] = 0.0
    return track


SEAT_BACK = 0.3  # how far the pelvis travels back to sit, m


def _seated(ctx: BuildContext, track: Track, seat: np.ndarray, lean: np.ndarray) -> None:
    """Pelvis lowered by `seat` (0 standing .. 1 seated) with the trunk leaning `lean`."""
    base = track.height[0]
    track.height = base - (base - ctx.params["seat"]) * seat
    track.shift[:, 1] = -SEAT_BACK * seat
    for side, effector in enumerate(FEET):
        track.home[:, effector, 2] += 0.05
        track.raise_max[:, side] = 0.0
    track.restep[:] = False
    bend_trunk(track, lean, 0.5)
    for side in (0, 1):  # hands come to rest on the thighs
        upper = body.limb(side, 20 * DEG * seat, 10 * DEG)
        fore = body.limb(side, 80 * DEG * seat + ctx.style.elbow * (1 - seat), 5 * DEG)
        set_arm(track, side, upper, fore)
        track.arm_use[:, side] = 0.0


def sit_down(ctx: BuildContext) -> Track:
    """Trunk leans forward 30–40°, the hips go back and down to seat height, the trunk
    comes back up; ends seated."""
    track = start(ctx)
    end = ctx.frames / ctx.fps
    d = end * 0.75
    seat = ctx.keys([0.25 * d, d], [0.0, 1.0])
    lean = ctx.keys([0.0, 0.35 * d, 0.8 * d, end], [0.0, 35 * DEG, 25 * DEG, 10 * DEG])
    _seated(ctx, track, seat, lean)
    return track


def stand_up(ctx: BuildContext) -> Track:
    """From seated: lean forward, rise, straighten up."""
    track = start(ctx)
    end = ctx.frames / ctx.fps
    seat = ctx.keys([0.3 * end, 0.85 * end], [1.0, 0.0])
    lean = ctx.keys([0.0, 0.3 * end, 0.55 * end, end], [10 * DEG, 38 * DEG, 25 * DEG, 0.0])
    _seated(ctx, track, seat, lean)
    return track


def kneel(ctx: BuildContext) -> Track:
    """Down on one knee (the other foot stepping ahead, shin upright) or on both, held, and
    back up unless the clip ends kneeling."""
    track = start(ctx)
    end = ctx.frames / ctx.fps
    stay = ctx.params["stay"]
    t_down = 1.3
    t_up = end if stay else end - 1.3
    d = (
        ctx.keys([0.2, t_down], [0, 1])
        if stay
        else ctx.keys([0.2, t_down, t_up, end - 0.1], [0, 1, 1, 0])
    )
    base = track.height[0]
    track.height = base - (base - 0.52) * d
    track.restep[:] = False
    placed = ctx.window(0.35, t_up + 0.8, 0.01) if not stay else ctx.window(0.35, end + 1.0, 0.01)
    moving = (ctx.t > 0.15) & (ctx.t < 0.55)
    if not stay:
        moving |= (ctx.t > t_up + 0.6) & (ctx.t < t_up + 1.0)
    one_knee = len(ctx.sides) == 1
    for side, effector in enumerate(FEET):
        if side in ctx.sides:  # a kneeling leg: toes tucked under, well behind the hip
            track.home[:, effector, 2] -= 0.42 * placed
            track.pitch[:, side] = body.FOOT_PITCH - 55 * DEG * d
        elif one_knee:  # the front leg steps ahead
            track.home[:, effector, 2] += 0.32 * placed
        track.contact[moving, side] = False
        track.raise_max[:, side] = 0.0
    if one_knee:
        track.shift[:, 0] = body.SIDE_SIGN[ctx.s] * 0.03 * d
    if stay:
        lean = 15 * DEG * ctx.keys([0.0, 0.5, t_down], [0.0, 1.0, 0.2])
    else:
        lean = (
            15 * DEG * ctx.keys([0.0, 0.5, t_down, t_up, t_up + 0.5, end], [0, 1, 0.2, 0.2, 1, 0])
        )
    bend_trunk(track, lean, 0.4)
    return track


def bow(ctx: BuildContext) -> Track:
    """Trunk flexes 15–60° at the hips, holds, and comes back up; once or twice."""
    track = start(ctx)
    reps, depth = ctx.params["reps"], ctx.params["depth"]
    end = ctx.frames / ctx.fps
    period = (end - 0.2) / reps
    times, values = [0.0], [0.0]
    for k in range(reps):
        t0 = 0.1 + k * period
        times += [t0, t0 + 0.35 * period, t0 + 0.6 * period, t0 + period]
        values += [0.0, 1.0, 1.0, 0.0]
    flex = ctx.keys(times, values) * depth
    bend_trunk(track, flex, 0.45)
    track.shift[:, 1] = -0.08 * flex / (60 * DEG)
    hang_arms(track, flex, (0, 1), forward=5 * DEG)
    if ctx.params["hand_on_belly"]:
        side = ctx.style.handedness
        track.chest[:, side] = [-body.SIDE_SIGN[side] * 0.02, -0.22, 0.18]
        track.chest_w[:, side] = ctx.window(0.0, end, 0.35)
    return track


def balance(ctx: BuildContext) -> Track:
    """Stand on one leg with the other lifted (knee up, foot behind, leg out to the side or
    in front), arms out, wobbling a little."""
    track = start(ctx)
    stance = ctx.s
    end = ctx.frames / ctx.fps
    lifted = ctx.window(0.45, end - 0.35, 0.35)
    hip, knee, abduct = BALANCE_LEGS[ctx.params["variant"]]
    track.shift[:, 0] = body.SIDE_SIGN[stance] * 0.08 * ctx.window(0.0, end, 0.4)
    track.restep[:] = False
    drive_leg(
        ctx,
        track,
        1 - stance,
        0.45,
        end - 0.35,
        hip * DEG * lifted,
        knee * DEG * lifted,
        None,
        abduct * DEG * lifted,
    )
    wobble = np.sin(2 * np.pi * 0.7 * ctx.t + ctx.rng.uniform(0, 2 * np.pi)) * 6 * DEG * lifted
    for side in (0, 1):
        out = body.limb(side, 10 * DEG, ctx.params["arms"] * DEG)
        hold_arm(ctx, track, side, 0.5, end - 0.4, out, used=False)
    add_rotation(track, body.SPINE2, body.body_rotation(bend=wobble))
    return track


def stretch(ctx: BuildContext) -> Track:
    """Stretches: arms overhead leaning to both sides, a side bend, touching the toes, an
    arm pulled across the chest, or a standing quadriceps stretch."""
    track = start(ctx)
    variant = ctx.params["variant"]
    end = ctx.frames / ctx.fps
    hold = ctx.window(0.0, end, 0.7)
    if variant == "overhead":
        lean = ctx.keys([0.9, 0.45 * end, 0.55 * end, end - 0.9], [0, 1, 1, -1]) * 18 * DEG * hold
        lean = lean * (1 - ctx.window(end - 0.9, end + 1, 0.6))
        bend_trunk(track, np.zeros(ctx.frames), 0.0, bend=lean)
        for side in (0, 1):  # up through the front, held overhead, down again
            front, top = body.limb(side, 90 * DEG, 5 * DEG), body.limb(side, 172 * DEG, 4 * DEG)
            times = [0, 0.5, 0.8, end - 0.8, end - 0.4, end]
            key_arm(ctx, track, side, times, [None, front, top, top, front, None])
    elif variant == "side_bend":
        side = ctx.s
        bend_trunk(track, np.zeros(ctx.frames), 0.0, bend=body.SIDE_SIGN[side] * 24 * DEG * hold)
        over = 1 - side
        hold_arm(ctx, track, over, 0.8, end - 0.8, body.limb(over, 160 * DEG, 20 * DEG))
    elif variant == "toe_touch":
        flex = 85 * DEG * hold
        bend_trunk(track, flex, 0.65)
        track.shift[:, 1] = -0.12 * hold
        hang_arms(track, flex, (0, 1), forward=10 * DEG * hold)
    elif variant == "arm_across":
        side = ctx.s
        sign = body.SIDE_SIGN[side]
        across = body.normalize(np.array([-sign * 0.75, 0.05, 0.65]))
        hold_arm(ctx, track, side, 0.7, end - 0.7, across)
        other = 1 - side
        track.chest[:, other] = [-sign * 0.1, 0.02, 0.3]
        track.chest_w[:, other] = ctx.window(0.3, end - 0.3, 0.5)
        track.arm_use[:, other] = 1.0
    else:  # "quad": stand on one leg, the other (the side stretched) heel pulled up behind
        bent = ctx.s
        stance = 1 - bent
        lifted = ctx.window(0.4, end - 0.3, 0.4)
        track.shift[:, 0] = body.SIDE_SIGN[stance] * 0.08 * ctx.window(0.0, end, 0.4)
        track.restep[:] = False
        drive_leg(ctx, track, bent, 0.4, end - 0.3, -5 * DEG * lifted, 135 * DEG * lifted)
        reach_back = body.limb(bent, -35 * DEG, 10 * DEG), body.limb(bent, -80 * DEG, 5 * DEG)
        hold_arm(ctx, track, bent, 0.6, end - 0.5, reach_back)
        hold_arm(ctx, track, stance, 0.6, end - 0.5, body.limb(stance, 15 * DEG, 45 * DEG))
    return track


def pick_up(ctx: BuildContext) -> Track:
    """Bend (stooping or squatting) to reach the floor in front, grasp, stand back up
    holding the object at the waist."""
    track = start(ctx)
    end = ctx.frames / ctx.fps
    t_down, t_grasp = 0.25 * end, 0.45 * end
    t_up = 0.8 * end
    down = ctx.keys([0.05 * end, t_down, t_grasp, t_up], [0, 1, 1, 0])
    squat = ctx.params["variant"] == "squat"
    base = track.height[0]
    track.height = base - ((base - 0.45) if squat else 0.25) * down
    track.shift[:, 1] = -(0.16 if squat else 0.12) * down
    flex = (60 if squat else 100) * DEG * down
    bend_trunk(track, flex, 0.65)
    for side in (0, 1):
        track.raise_max[:, side] = 0.0
    reach = ctx.keys([0.05 * end, t_down, t_grasp, t_grasp + 0.15 * end], [0, 1, 1, 0])
    carry = ctx.keys([t_grasp, t_up, end - 0.3, end], [0, 1, 1, 0.6])
    for side in ctx.sides:
        sign = body.SIDE_SIGN[side]
        x = sign * (0.16 if len(ctx.sides) == 2 else 0.12)
        track.free[:, 2 + side] = [x, 0.15, 0.38]
        track.free_w[:, 2 + side] = reach
        track.chest[:, side] = [x, -0.3, 0.3]
        track.chest_w[:, side] = carry * (1 - reach)
        track.arm_use[:, side] = 1.0
    hang_arms(track, flex, tuple(s for s in (0, 1) if s not in ctx.sides))
    add_rotation(track, body.NECK, body.body_rotation(flex=30 * DEG * down))
    return track


def stand_still(ctx: BuildContext) -> Track:
    """Standing idle: plain, arms crossed, hands on the hips, or looking around."""
    track = start(ctx)
    variant = ctx.params["variant"]
    end = ctx.frames / ctx.fps
    hold = ctx.window(0.0, end, 0.6)
    if variant == "arms_crossed":
        for side in (0, 1):
            sign = body.SIDE_SIGN[side]
            track.chest[:, side] = [-sign * 0.13, -0.06 + 0.03 * side, 0.17]
            track.chest_w[:, side] = hold
            across = body.normalize(np.array([-sign * 0.9, 0.2, 0.4]))
            reach_arm(ctx, track, side, body.limb(side, 20 * DEG, 15 * DEG), across, hold)
    elif variant == "hands_on_hips":
        for side in (0, 1):
            track.chest[:, side] = HIP_HAND * [body.SIDE_SIGN[side], 1.0, 1.0]
            track.chest_w[:, side] = hold
            reach_arm(ctx, track, side, *HIP_ARM[side], hold)
    elif variant == "look_around":
        look = ctx.rng.choice([-1.0, 1.0])
        turn = (
            ctx.keys([0.3, 0.3 + end * 0.25, end * 0.5, end * 0.75, end - 0.2], [0, 1, 1, -1, 0])
            * look
            * 50
            * DEG
        )
        add_rotation(track, body.NECK, body.body_rotation(twist=turn))
        add_rotation(track, body.SPINE3, body.body_rotation(twist=turn * 0.25))
    return track
