"""The action library: every action id, how its parameters (side, speed, repetitions,
angle, variant...) and duration are drawn, which builder animates it, and the posture it
starts and ends in. `ACTIONS` is the vocabulary the demo's label filter and the
evaluation use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.data.corpus import fullbody, gaits, gestures, skills
from engine.data.corpus.config import CorpusConfig
from engine.data.corpus.fullbody import G
from engine.data.corpus.style import Style
from engine.data.corpus.tracks import BuildContext, Track

Params = dict[str, Any]


@dataclass(frozen=True)
class Segment:
    """One action instance: what, which side, its drawn details, how long (s)."""

    action: str
    side: str | None
    params: Params = field(default_factory=dict)
    duration: float = 0.0


@dataclass(frozen=True)
class ActionSpec:
    id: str
    kind: str  # "locomotion" (can carry an upper-body layer), "gesture" (can be layered), "body"
    build: Callable[[BuildContext], Track]
    sample: Callable[[np.random.Generator, Style, CorpusConfig], tuple[str | None, Params, float]]
    postures: Callable[[Params], tuple[str, str]] = lambda params: ("stand", "stand")


def _pick(rng: np.random.Generator, options: dict):
    keys = list(options)
    weights = np.array([options[k] for k in keys], float)
    return keys[int(rng.choice(len(keys), p=weights / weights.sum()))]


def _hand(rng: np.random.Generator, style: Style, both: float = 0.0) -> str:
    """A side for a one-handed action: mostly the performer's dominant hand."""
    if rng.random() < both:
        return "both"
    dominant = ("left", "right")[style.handedness]
    other = ("right", "left")[style.handedness]
    return dominant if rng.random() < 0.8 else other


def _either(rng: np.random.Generator) -> str:
    return ("left", "right")[int(rng.integers(2))]


def _u(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(*bounds))


# ---------------------------------------------------------------- locomotion


def _walk(rng, style, cfg):
    speed = _u(rng, cfg.walk_speed)
    curve = float(rng.uniform(-0.08, 0.08)) if rng.random() < 0.3 else 0.0
    params = {"speed": speed, "curve": curve, "cadence": float(rng.uniform(0.95, 1.05))}
    return None, params, float(rng.uniform(2.2, 6.0))


def _walk_backward(rng, style, cfg):
    return None, {"speed": _u(rng, cfg.backward_speed)}, float(rng.uniform(2.2, 5.0))


def _walk_sideways(rng, style, cfg):
    return _either(rng), {"speed": _u(rng, cfg.sideways_speed)}, float(rng.uniform(2.2, 5.0))


def _walk_in_circle(rng, style, cfg):
    speed = float(rng.uniform(0.7, 1.3))
    duration = float(rng.uniform(3.5, 8.0))
    laps = float(rng.uniform(0.75, 1.1))
    # the walk ramps up and down, so the distance is ~0.8 of speed x duration
    radius = float(np.clip(0.8 * speed * duration * laps / (2 * np.pi), *cfg.circle_radius))
    return _either(rng), {"speed": speed, "radius": radius}, duration


def _run(rng, style, cfg):
    if rng.random() < 0.15:
        return (
            None,
            {"speed": 0.0, "cadence": float(rng.uniform(2.4, 2.8))},
            float(rng.uniform(2.0, 4.5)),
        )
    speed = _u(rng, cfg.run_speed)
    return (
        None,
        {"speed": speed, "cadence": float(rng.uniform(2.6, 3.0))},
        float(rng.uniform(2.2, 5.0)),
    )


def _turn(direction: str):
    def sample(rng, style, cfg):
        nominal = int(_pick(rng, dict(zip(cfg.turn_angles, (0.15, 0.5, 0.1, 0.25), strict=False))))
        angle = nominal + float(rng.uniform(-8, 8))
        turn_s = (0.7 + 0.5 * angle / 90.0) / style.tempo
        params = {"angle": angle, "nominal": nominal, "direction": direction, "turn_s": turn_s}
        return direction, params, turn_s + 0.15 + float(rng.uniform(0.6, 0.9))

    return sample


def _spin(rng, style, cfg):
    turns = 1 if rng.random() < 0.85 else 2
    turn_s = float(rng.uniform(0.9, 1.3)) / style.tempo
    params = {"turns": turns, "turn_s": turn_s}
    return _either(rng), params, 0.45 + turns * turn_s + float(rng.uniform(0.7, 1.0))


def _crawl(rng, style, cfg):
    crawling = float(rng.uniform(2.0, 4.5))
    params = {
        "speed": _u(rng, cfg.crawl_speed),
        "crawl_s": crawling,
        "start_down": False,
        "end_down": False,
    }
    return None, params, crawling + 3.6


def _crawl_postures(params: Params) -> tuple[str, str]:
    return (
        "floor" if params["start_down"] else "stand",
        "floor" if params["end_down"] else "stand",
    )


# ---------------------------------------------------------------- jumps


def _jump(forward: bool):
    def sample(rng, style, cfg):
        reps = int(_pick(rng, {1: 0.45, 2: 0.35, 3: 0.2}))
        height = _u(rng, cfg.jump_height)
        air = 2 * np.sqrt(2 * height / G)
        period = max(float(rng.uniform(0.95, 1.25)) / style.tempo, air + 0.6)
        params = {"reps": reps, "height": height}
        if forward:
            params["distance"] = float(rng.uniform(0.4, 1.0))
        return None, params, 0.7 + reps * period

    return sample


def _hop(rng, style, cfg):
    reps = int(rng.integers(2, 7))
    period = float(rng.uniform(0.5, 0.65)) / style.tempo
    params = {"reps": reps, "air": float(rng.uniform(0.22, 0.28))}
    params["forward"] = float(rng.uniform(0.2, 0.4)) if rng.random() < 0.4 else 0.0
    return _either(rng), params, 1.1 + reps * max(period, params["air"] + 0.25)


def _jacks(rng, style, cfg):
    reps = int(rng.integers(2, 7))
    rate = float(rng.uniform(0.8, 1.1)) * style.tempo
    return None, {"reps": reps, "rate": rate}, 0.5 + reps / rate + 0.8


# ---------------------------------------------------------------- gestures


def _wave(rng, style, cfg):
    side = _hand(rng, style, both=0.2)
    rate = float(rng.uniform(1.5, 3.0))
    cycles = int(rng.integers(2, 6))
    high = bool(rng.random() < (0.5 if side == "both" else 0.2))
    params = {
        "rate": rate,
        "reps": cycles,
        "high": high,
        "amplitude": float(rng.uniform(0.35, 0.5)),
    }
    return side, params, (0.55 + 0.5) / style.tempo + cycles / rate


def _raise_arms(rng, style, cfg):
    side = "both" if rng.random() < 0.7 else _either(rng)
    variant = _pick(rng, {"up": 0.45, "up_side": 0.2, "front": 0.15, "side": 0.2})
    reps = int(_pick(rng, {1: 0.6, 2: 0.3, 3: 0.1}))
    return (
        side,
        {"variant": variant, "reps": reps},
        reps * float(rng.uniform(1.6, 2.4)) / style.tempo,
    )


def _clap(rng, style, cfg):
    reps = int(rng.integers(3, 9))
    rate = float(rng.uniform(2.0, 3.5))
    params = {"reps": reps, "rate": rate, "overhead": bool(rng.random() < 0.15)}
    return None, params, 0.9 / style.tempo + reps / rate + 0.2


def _punch(rng, style, cfg):
    side = "both" if rng.random() < 0.4 else _hand(rng, style)
    reps = int(rng.integers(2 if side == "both" else 1, 6))
    interval = float(rng.uniform(0.45, 0.7)) / style.tempo
    return side, {"reps": reps, "interval": interval}, 1.0 / style.tempo + reps * interval + 0.2


def _throw(rng, style, cfg):
    params = {
        "variant": "overhand" if rng.random() < 0.75 else "underhand",
        "step": bool(rng.random() < 0.7),
    }
    return _hand(rng, style), params, 0.7 / style.tempo + 0.74 + float(rng.uniform(0.8, 1.3))


def _point(rng, style, cfg):
    params = {"direction": "forward" if rng.random() < 0.6 else "side"}
    return _hand(rng, style), params, float(rng.uniform(1.8, 3.5))


def _drink(rng, style, cfg):
    reps = 1 if rng.random() < 0.7 else 2
    return _hand(rng, style), {"reps": reps}, reps * float(rng.uniform(2.0, 2.8))


def _arm_circles(rng, style, cfg):
    side = "both" if rng.random() < 0.75 else _either(rng)
    big = bool(rng.random() < 0.3)
    reps = int(rng.integers(2, 5) if big else rng.integers(3, 9))
    rate = float(rng.uniform(0.5, 0.8) if big else rng.uniform(0.8, 1.5))
    params = {
        "big": big,
        "reps": reps,
        "rate": rate,
        "direction": "forward" if rng.random() < 0.6 else "backward",
        "radius": float(rng.uniform(0.25, 0.4)),
    }
    return side, params, 1.0 / style.tempo + reps / rate + 0.3


def _wipe(rng, style, cfg):
    reps = int(rng.integers(3, 7))
    rate = float(rng.uniform(0.7, 1.3))
    params = {
        "variant": "table" if rng.random() < 0.6 else "window",
        "reps": reps,
        "rate": rate,
        "radius": float(rng.uniform(0.07, 0.14)),
        "clockwise": bool(rng.random() < 0.5),
    }
    return _hand(rng, style), params, 1.0 / style.tempo + reps / rate + 0.2


# ---------------------------------------------------------------- whole body on the spot


def _kick(rng, style, cfg):
    reps = int(_pick(rng, {1: 0.6, 2: 0.3, 3: 0.1}))
    params = {
        "reps": reps,
        "variant": "front" if rng.random() < 0.75 else "ball",
        "height": float(np.radians(rng.uniform(60, 95))),
    }
    return _hand(rng, style), params, 0.5 + reps * float(rng.uniform(1.0, 1.3)) / style.tempo


def _stomp(rng, style, cfg):
    reps = int(rng.integers(1, 5))
    return _hand(rng, style), {"reps": reps}, 0.4 + reps * float(rng.uniform(0.75, 1.0))


def _squat(rng, style, cfg):
    reps = int(_pick(rng, {1: 0.35, 2: 0.3, 3: 0.2, 4: 0.15}))
    params = {
        "reps": reps,
        "depth": float(rng.uniform(0.5, 0.66)),
        "arms": _pick(rng, {"forward": 0.4, "hips": 0.2, "down": 0.4}),
    }
    return None, params, 0.3 + reps * float(rng.uniform(1.6, 2.3)) / style.tempo


def _lunge(rng, style, cfg):
    side = "both" if rng.random() < 0.3 else _either(rng)
    reps = int(rng.integers(2, 5)) if side == "both" else int(_pick(rng, {1: 0.6, 2: 0.3, 3: 0.1}))
    params = {
        "reps": reps,
        "length": float(rng.uniform(0.55, 0.8)),
        "hands_on_hips": float(rng.random() < 0.5),
    }
    return side, params, 0.2 + reps * float(rng.uniform(2.2, 2.8)) / style.tempo


def _sit(rng, style, cfg):
    return None, {"seat": float(rng.uniform(0.44, 0.5))}, float(rng.uniform(2.2, 3.0))


def _stand_up(rng, style, cfg):
    return None, {"seat": float(rng.uniform(0.44, 0.5))}, float(rng.uniform(1.9, 2.6))


def _kneel(rng, style, cfg):
    side = "both" if rng.random() < 0.3 else _either(rng)
    stay = bool(rng.random() < 0.4)
    hold = float(rng.uniform(0.8, 2.2))
    return side, {"stay": stay}, (1.4 if stay else 2.6) + hold


def _kneel_postures(params: Params) -> tuple[str, str]:
    return "stand", "kneel" if params["stay"] else "stand"


def _bow(rng, style, cfg):
    reps = 1 if rng.random() < 0.8 else 2
    params = {
        "reps": reps,
        "depth": float(np.radians(rng.uniform(15, 60))),
        "hand_on_belly": bool(rng.random() < 0.3),
    }
    return None, params, 0.2 + reps * float(rng.uniform(1.8, 2.6)) / style.tempo


def _balance(rng, style, cfg):
    params = {
        "variant": _pick(rng, {"knee": 0.4, "back": 0.25, "side": 0.2, "front": 0.15}),
        "arms": float(rng.uniform(30, 85)),
    }
    return _either(rng), params, float(rng.uniform(2.6, 5.0))


def _stretch(rng, style, cfg):
    variant = _pick(
        rng, {"overhead": 0.25, "side_bend": 0.2, "toe_touch": 0.2, "arm_across": 0.2, "quad": 0.15}
    )
    side = _either(rng) if variant in ("side_bend", "arm_across", "quad") else None
    return side, {"variant": variant}, float(rng.uniform(3.0, 5.0))


def _pick_up(rng, style, cfg):
    side = "both" if rng.random() < 0.3 else _hand(rng, style)
    return (
        side,
        {"variant": "stoop" if rng.random() < 0.5 else "squat"},
        float(rng.uniform(2.8, 4.0)),
    )


def _dance(rng, style, cfg):
    params = {
        "variant": _pick(rng, {"step_touch": 0.35, "twist": 0.2, "arms_up": 0.2, "sway": 0.25}),
        "bpm": float(rng.uniform(100, 130)),
        "energy": float(rng.uniform(0.6, 1.2)),
        "turn": bool(rng.random() < 0.15),
    }
    return _either(rng), params, float(rng.uniform(3.0, 8.0))


def _golf(rng, style, cfg):
    side = ("left", "right")[style.handedness]
    return side, {}, 0.6 + 0.9 / style.tempo + 0.7 + float(rng.uniform(1.0, 1.6))


def _tennis(rng, style, cfg):
    side = ("left", "right")[style.handedness]
    params = {
        "variant": _pick(rng, {"forehand": 0.45, "backhand": 0.3, "serve": 0.25}),
        "step": bool(rng.random() < 0.5),
    }
    return side, params, 0.7 / style.tempo + 0.77 + float(rng.uniform(1.0, 1.5))


def _stand_still(rng, style, cfg):
    params = {
        "variant": _pick(
            rng, {"plain": 0.5, "arms_crossed": 0.15, "hands_on_hips": 0.15, "look_around": 0.2}
        )
    }
    return None, params, float(rng.uniform(1.5, 4.0))


_SPECS = (
    ActionSpec("walk_forward", "locomotion", gaits.walk, _walk),
    ActionSpec("walk_backward", "locomotion", gaits.walk_backward, _walk_backward),
    ActionSpec("walk_sideways", "locomotion", gaits.walk_sideways, _walk_sideways),
    ActionSpec("walk_in_circle", "locomotion", gaits.walk_in_circle, _walk_in_circle),
    ActionSpec("run", "locomotion", gaits.run, _run),
    ActionSpec("jump_in_place", "body", fullbody.jump, _jump(False)),
    ActionSpec("jump_forward", "body", fullbody.jump, _jump(True)),
    ActionSpec("hop_on_one_leg", "body", fullbody.hop, _hop),
    ActionSpec("turn_left", "body", gaits.turn, _turn("left")),
    ActionSpec("turn_right", "body", gaits.turn, _turn("right")),
    ActionSpec("spin", "body", gaits.spin, _spin),
    ActionSpec("crawl", "body", gaits.crawl, _crawl, _crawl_postures),
    ActionSpec("wave", "gesture", gestures.wave, _wave),
    ActionSpec("raise_arms", "gesture", gestures.raise_arms, _raise_arms),
    ActionSpec("clap", "gesture", gestures.clap, _clap),
    ActionSpec("punch", "gesture", gestures.punch, _punch),
    ActionSpec("throw", "gesture", gestures.throw, _throw),
    ActionSpec("point", "gesture", gestures.point, _point),
    ActionSpec("drink", "gesture", gestures.drink, _drink),
    ActionSpec("arm_circles", "gesture", gestures.arm_circles, _arm_circles),
    ActionSpec("wipe", "gesture", gestures.wipe, _wipe),
    ActionSpec("kick", "body", fullbody.kick, _kick),
    ActionSpec("stomp", "body", fullbody.stomp, _stomp),
    ActionSpec("squat", "body", fullbody.squat, _squat),
    ActionSpec("lunge", "body", fullbody.lunge, _lunge),
    ActionSpec("sit_down", "body", fullbody.sit_down, _sit, lambda p: ("stand", "sit")),
    ActionSpec("stand_up", "body", fullbody.stand_up, _stand_up, lambda p: ("sit", "stand")),
    ActionSpec("kneel", "body", fullbody.kneel, _kneel, _kneel_postures),
    ActionSpec("bow", "body", fullbody.bow, _bow),
    ActionSpec("jumping_jacks", "body", fullbody.jumping_jacks, _jacks),
    ActionSpec("balance_on_one_leg", "body", fullbody.balance, _balance),
    ActionSpec("stretch", "body", fullbody.stretch, _stretch),
    ActionSpec("pick_up", "body", fullbody.pick_up, _pick_up),
    ActionSpec("dance", "body", skills.dance, _dance),
    ActionSpec("golf_swing", "body", skills.golf_swing, _golf),
    ActionSpec("tennis_swing", "body", skills.tennis_swing, _tennis),
    ActionSpec("stand_still", "body", fullbody.stand_still, _stand_still),
)

SPECS: dict[str, ActionSpec] = {spec.id: spec for spec in _SPECS}
ACTIONS: tuple[str, ...] = tuple(SPECS)
LOCOMOTION = tuple(a for a, s in SPECS.items() if s.kind == "locomotion")
# gestures that can be laid over locomotion (throwing steps, wiping needs a surface)
LAYERABLE = ("wave", "raise_arms", "clap", "punch", "point", "drink", "arm_circles")
# mirroring swaps these action ids (the other ids keep their meaning and swap sides)
MIRRORED_ACTION = {"turn_left": "turn_right", "turn_right": "turn_left"}


def place(segment: Segment, first: bool, last: bool, rng: np.random.Generator) -> Segment:
    """Adjust a segment to its position in a sequence: only a first crawl may start on the
    floor, only a last one end there, and only a last kneel stays down."""
    params = dict(segment.params)
    duration = segment.duration
    if segment.action == "crawl":
        params["start_down"] = bool(first and rng.random() < 0.5)
        params["end_down"] = bool(last and rng.random() < 0.5)
        duration = params["crawl_s"] + 1.8 * (2 - params["start_down"] - params["end_down"])
    elif segment.action == "kneel" and params["stay"] and not last:
        params["stay"] = False
        duration += 1.2
    return Segment(segment.action, segment.side, params, duration)


def sample_segment(
    rng: np.random.Generator, action: str, style: Style, config: CorpusConfig
) -> Segment:
    side, params, duration = SPECS[action].sample(rng, style, config)
    return Segment(action, side, params, float(duration))


def postures(segment: Segment) -> tuple[str, str]:
    """The posture ("stand", "sit", "kneel", "floor") a segment starts and ends in."""
    return SPECS[segment.action].postures(segment.params)


def build(
    segment: Segment, frames: int, fps: float, style: Style, rng, before=None, after=None
) -> Track:
    """The track of one segment, `frames` long."""
    ctx = BuildContext(frames, fps, style, rng, dict(segment.params), segment.side, before, after)
    return SPECS[segment.action].build(ctx)
