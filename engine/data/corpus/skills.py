"""Rhythmic and sports movements: dancing (several styles on a beat), golf swings and
tennis strokes. Sides are the performer's handedness, so mirrored copies become
left-handed players."""

from __future__ import annotations

import numpy as np

from engine.data.corpus import body
from engine.data.corpus.curves import slerp_vectors
from engine.data.corpus.fullbody import bend_trunk
from engine.data.corpus.gaits import Gait, gait_track
from engine.data.corpus.gestures import key_arm, reach_arm, set_arm, start
from engine.data.corpus.style import DEG
from engine.data.corpus.tracks import FEET, BuildContext, Track, add_rotation


def _unit(v) -> np.ndarray:
    return body.normalize(np.asarray(v, float))


def dance(ctx: BuildContext) -> Track:
    """Dancing on a beat of 100–130 bpm: stepping side to side, twisting, bouncing with the
    arms up, or swaying the hips; knees bounce on every beat."""
    beat = ctx.params["bpm"] / 60.0
    variant = ctx.params["variant"]
    end = ctx.frames / ctx.fps
    energy = ctx.params["energy"] * ctx.style.amplitude
    t = ctx.t
    on = ctx.window(0.0, end, 0.5)
    if variant == "step_touch":
        gait = Gait(step_rate=beat, duty=0.62, bob=0.0, arm_swing=0.0, swing_height=0.06, push=0.2)
        track = gait_track(ctx.frames, ctx.fps, ctx.style, gait)
        track.vel[:, 0] = 0.35 * energy * np.sin(np.pi * beat * t) * on
    else:
        track = start(ctx)
        track.restep[:] = False
        for side, effector in enumerate(FEET):
            track.home[:, effector, 0] = body.SIDE_SIGN[side] * (ctx.style.stance + 0.06)
    bounce = 0.5 - 0.5 * np.cos(2 * np.pi * beat * t)
    track.height -= (0.03 + 0.03 * energy) * bounce * on
    sway = np.sin(np.pi * beat * t)  # one side per beat
    if variant == "twist":
        twist = 25 * DEG * energy * sway * on
        track.pelvis = body.body_rotation(twist=twist)
        add_rotation(track, body.SPINE2, body.body_rotation(twist=-twist * 0.6))
        add_rotation(track, body.SPINE3, body.body_rotation(twist=-twist * 0.6))
        for side in (0, 1):
            track.pivot[:, side] = 0.0
            flex = 50 * DEG + 25 * DEG * sway * body.SIDE_SIGN[side]
            track.arms[:, side, 0] = body.limb(side, flex, 30 * DEG)
            track.arms[:, side, 1] = body.limb(side, flex + 80 * DEG, -10 * DEG)
    elif variant == "arms_up":  # arms overhead, forearms swaying with the beat
        raised = ctx.window(0.0, end, 0.6)
        for side in (0, 1):
            rest_upper, rest_fore = track.arms[0, side]
            up = body.limb(side, 10 * DEG, 150 * DEG)
            swing = body.SIDE_SIGN[side] * 20 * DEG * energy * sway
            fore = body.limb(side, 10 * DEG, 160 * DEG + swing)
            set_arm(
                track,
                side,
                slerp_vectors(
                    np.broadcast_to(rest_upper, (ctx.frames, 3)),
                    np.broadcast_to(up, (ctx.frames, 3)),
                    raised,
                ),
                slerp_vectors(np.broadcast_to(rest_fore, (ctx.frames, 3)), fore, raised),
            )
            track.arm_use[:, side] = 0.0
    else:  # "sway" and "step_touch": hips and arms follow the beat
        track.shift[:, 0] += 0.05 * energy * sway * on
        track.pelvis = body.body_rotation(bend=-6 * DEG * energy * sway * on)
        for side in (0, 1):
            pump = 0.5 - 0.5 * np.cos(2 * np.pi * beat * t + np.pi * side)
            flex = (30 + 45 * pump * energy) * DEG * on
            track.arms[:, side, 0] = body.limb(side, flex, 25 * DEG)
            track.arms[:, side, 1] = body.limb(side, flex + 70 * DEG * on + ctx.style.elbow, 0.0)
    nod = 6 * DEG * bounce * on
    add_rotation(track, body.NECK, body.body_rotation(flex=nod, bend=5 * DEG * sway * on))
    if ctx.params["turn"]:  # a full turn somewhere in the middle
        t0 = ctx.rng.uniform(0.3, 0.5) * end
        heading = 2 * np.pi * body.SIDE_SIGN[ctx.s] * ctx.keys([t0, t0 + 1.4], [0.0, 1.0])
        track.yaw_rate = np.append(np.diff(heading), 0.0) * ctx.fps
        track.restep[:] = True
    return track


def golf_swing(ctx: BuildContext) -> Track:
    """Address (knees bent, trunk forward, hands together below the chest), backswing with
    a ~90° shoulder turn, a fast downswing (~0.3 s) and a high follow-through."""
    track = start(ctx)
    hand = body.SIDE_SIGN[ctx.s]  # right-handed players (hand = -1) turn right to swing back
    tempo = ctx.style.tempo
    end = ctx.frames / ctx.fps
    t_address, t_top = 0.6, 0.6 + 0.9 / tempo
    t_impact, t_finish = t_top + 0.32, t_top + 0.7
    times = [0.0, t_address, t_top, t_impact, t_finish, end - 0.6, end]
    twist = ctx.keys(times, [0, 0, hand * 85, 0, -hand * 80, -hand * 60, 0]) * DEG
    lean = ctx.keys(times, [0, 35, 30, 35, 10, 5, 0]) * DEG
    bend_trunk(track, lean, 0.45, twist=twist)
    add_rotation(
        track,
        body.NECK,
        body.body_rotation(
            flex=25 * DEG * ctx.window(0.3, t_impact + 0.1, 0.3), twist=-twist * 0.6
        ),
    )
    address = np.array([0.0, -0.45, 0.24])
    top = np.array([hand * 0.2, 0.15, 0.08])
    finish = np.array([-hand * 0.25, 0.1, 0.05])
    hands = ctx.keys(times, [address, address, top, address, finish, finish, address])
    weight = ctx.window(0.2, end - 0.2, 0.4)
    for side in (0, 1):
        track.chest[:, side] = hands + [0.0, 0.03 * (side == ctx.s), 0.0]
        track.chest_w[:, side] = weight
        pose = body.limb(side, 40 * DEG, -10 * DEG), body.limb(side, 45 * DEG, -25 * DEG)
        reach_arm(ctx, track, side, *pose, weight)
    base = track.height[0]
    track.height = base - 0.06 * ctx.window(0.1, end - 0.4, 0.4)
    track.shift[:, 0] = ctx.keys(times, [0, 0, hand * 0.03, 0, -hand * 0.05, -hand * 0.04, 0])
    for side, effector in enumerate(FEET):
        track.home[:, effector, 0] = body.SIDE_SIGN[side] * (ctx.style.stance + 0.07)
        track.raise_max[:, side] = 40 * DEG
    back_foot = 0 if hand > 0 else 1
    track.push[:, back_foot] = 0.5 * ctx.window(t_impact, end - 0.5, 0.2)
    track.pivot[:, back_foot] = 0.3
    track.restep[:] = False
    return track


def tennis_swing(ctx: BuildContext) -> Track:
    """A forehand or backhand (unit turn, ~0.3 s swing, follow-through over the other
    shoulder) or a serve (toss, racket cocked behind the head, swing up and over)."""
    track = start(ctx)
    side = ctx.s
    hand = body.SIDE_SIGN[side]
    other = 1 - side
    variant = ctx.params["variant"]
    end = ctx.frames / ctx.fps
    t_prep = 0.7 / ctx.style.tempo
    t_hit = t_prep + 0.42
    t_follow = t_hit + 0.35
    times = [0.0, t_prep, t_hit, t_follow, end - 0.5, end]
    if variant == "serve":  # racket arm cocked behind the head, up to the ball, down across
        cocked = _unit([hand * 0.8, 0.4, -0.3]), _unit([hand * 0.1, 0.7, -0.7])
        contact = body.limb(side, 165 * DEG, 10 * DEG), body.limb(side, 175 * DEG, 5 * DEG)
        across = _unit([-hand * 0.4, -0.5, 0.75]), _unit([-hand * 0.5, -0.6, 0.6])
        finish = _unit([-hand * 0.4, -0.6, 0.6]), _unit([-hand * 0.5, -0.7, 0.4])
        racket = [None, cocked, contact, across, finish, None]
        tossing = [None, body.limb(other, 165 * DEG, 15 * DEG), body.limb(other, 60 * DEG, 0)]
        key_arm(ctx, track, other, [0, t_prep, t_hit, t_follow, end], [*tossing, None, None])
        twist = ctx.keys(times, [0, hand * 40, -hand * 15, -hand * 30, 0, 0]) * DEG
        lean = ctx.keys(times, [0, -10, 10, 30, 5, 0]) * DEG
    else:
        fore_side = 1.0 if variant == "forehand" else -1.0  # which side of the body the ball is
        back = body.normalize(np.array([hand * fore_side * 0.8, -0.2, -0.35]))
        through = body.normalize(np.array([-hand * fore_side * 0.35, 0.45, 0.8]))
        over = body.normalize(np.array([-hand * fore_side * 0.7, 0.6, 0.1]))
        finish = over, _unit(over + [0, 0.4, -0.3])
        racket = [None, back, through, finish, finish, None]
        twist = (
            ctx.keys(
                times,
                [
                    0,
                    hand * fore_side * 45,
                    -hand * fore_side * 10,
                    -hand * fore_side * 35,
                    -hand * fore_side * 15,
                    0,
                ],
            )
            * DEG
        )
        lean = ctx.keys(times, [0, 10, 15, 10, 5, 0]) * DEG
        balance = body.limb(other, 60 * DEG, 20 * DEG)
        key_arm(ctx, track, other, [0, t_prep, t_follow, end], [None, balance, None, None])
    key_arm(ctx, track, side, times, racket)
    bend_trunk(track, lean, 0.4, twist=twist * ctx.style.amplitude)
    track.height -= 0.05 * ctx.window(0.1, end - 0.3, 0.4)
    if ctx.params["step"]:  # step in with the foot opposite the racket
        foot = FEET[other]
        stepped = ctx.window(t_prep * 0.5, end + 1.0, 0.01)
        track.home[:, foot, 2] += 0.3 * stepped
        swing = (ctx.t > t_prep * 0.5) & (ctx.t < t_prep * 0.5 + 0.35)
        track.contact[swing, foot] = False
        track.shift[:, 1] += 0.1 * ctx.window(t_prep, end + 1.0, 0.3)
    return track
