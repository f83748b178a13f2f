"""Composing motions: a plan is a sequence of 1–4 actions (postures chaining: a clip that
sits down stands up next or ends seated), optionally with an upper-body action laid over a
locomotion segment, idle standing before and after, and cross-fades at the junctions.
Rendering a plan builds each segment's track, joins and layers them, adds life, and
solves for joint positions."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.data.corpus import actions
from engine.data.corpus.actions import ACTIONS, LAYERABLE, LOCOMOTION, SPECS, Segment
from engine.data.corpus.config import CorpusConfig
from engine.data.corpus.solve import solve
from engine.data.corpus.style import Style, add_life, neutral_track
from engine.data.corpus.tracks import concatenate, layer_upper, smooth_root

MAX_ATTEMPTS = 8
MIN_IDLE_S = 0.25
ROUNDING_MARGIN_S = 0.15


@dataclass(frozen=True)
class MotionPlan:
    segments: tuple[Segment, ...]
    lead: float  # idle standing before the first action, s
    tail: float  # ... and after the last
    blends: tuple[float, ...]  # cross-fade at each junction (lead, actions, tail), s
    layer: Segment | None = None  # an upper-body action over one locomotion segment
    layer_base: int = -1  # index of that segment
    layer_offset: float = 0.0  # s after the base segment starts

    def frames(self, fps: float) -> list[int]:
        """Frames of lead, each segment and tail."""
        return (
            [round(self.lead * fps)]
            + [round(s.duration * fps) for s in self.segments]
            + [round(self.tail * fps)]
        )

    def times(self, fps: float) -> list[tuple[Segment, float, float]]:
        """(segment, start, end) in seconds from the clip start, layer last."""
        counts = self.frames(fps)
        out, frame = [], counts[0]
        for segment, count in zip(self.segments, counts[1:-1], strict=True):
            out.append((segment, frame / fps, (frame + count) / fps))
            frame += count
        if self.layer is not None:
            base_start = out[self.layer_base][1]
            start = base_start + round(self.layer_offset * fps) / fps
            out.append((self.layer, start, start + round(self.layer.duration * fps) / fps))
        return out

    def sequence_pairs(self) -> list[tuple[str, str]]:
        return [
            (a.action, b.action) for a, b in zip(self.segments, self.segments[1:], strict=False)
        ]

    def layering(self) -> tuple[str, str] | None:
        if self.layer is None:
            return None
        return self.segments[self.layer_base].action, self.layer.action


def _allowed_next(previous: Segment | None, banned: set[tuple[str, str]]) -> list[str]:
    """Actions that may follow `previous` (posture chaining, held-out pairs removed)."""
    if previous is None:
        return list(ACTIONS)
    end = actions.postures(previous)[1]
    if end in ("kneel", "floor"):
        return []
    options = ["stand_up"] if end == "sit" else [a for a in ACTIONS if a != "stand_up"]
    return [a for a in options if (previous.action, a) not in banned]


def _budget(config: CorpusConfig, lead: float, tail: float) -> float:
    """Seconds left for the actions; each part's frame count is rounded, hence the margin."""
    return config.max_seconds - lead - tail - ROUNDING_MARGIN_S


def _sample_sequence(
    rng: np.random.Generator,
    style: Style,
    config: CorpusConfig,
    count: int,
    budget: float,
    banned: set[tuple[str, str]],
    forced: tuple[int, tuple[str, ...]] | None,
) -> list[Segment]:
    """Up to `count` segments within `budget` seconds; `forced` = (position, action ids)
    pins actions at a position."""
    pinned = {}
    if forced is not None:
        position, ids = forced
        pinned = {position + k: a for k, a in enumerate(ids)}
    segments: list[Segment] = []
    used = 0.0
    for i in range(count):
        options = _allowed_next(segments[-1] if segments else None, banned)
        if i in pinned:
            options = [pinned[i]] if pinned[i] in options or i == 0 else []
        if not options:
            break
        for _ in range(MAX_ATTEMPTS):
            action = options[int(rng.integers(len(options)))]
            segment = actions.sample_segment(rng, action, style, config)
            segment = actions.place(segment, i == 0, i == count - 1, rng)
            if used + segment.duration <= budget:
                break
        else:
            break
        segments.append(segment)
        used += segment.duration
    return segments


def _choose_layer(rng, style, config, segments, banned_layers, forced_layer):
    """(layer segment, base index, offset) or None."""
    bases = [i for i, s in enumerate(segments) if s.action in LOCOMOTION]
    if forced_layer is not None:
        bases = [i for i in bases if segments[i].action == forced_layer[0]]
    elif rng.random() >= config.layer_probability:
        return None
    for _ in range(MAX_ATTEMPTS):
        if not bases:
            return None
        base = bases[int(rng.integers(len(bases)))]
        options = [g for g in LAYERABLE if (segments[base].action, g) not in banned_layers]
        if forced_layer is not None:
            options = [forced_layer[1]]
        gesture = actions.sample_segment(
            rng, options[int(rng.integers(len(options)))], style, config
        )
        room = segments[base].duration - gesture.duration - 0.6
        if room >= 0:
            if segments[base].action == "run":  # hands busy: no sprinting
                params = dict(segments[base].params, speed=min(segments[base].params["speed"], 3.0))
                segments[base] = Segment("run", None, params, segments[base].duration)
            return gesture, base, 0.3 + float(rng.uniform(0, room))
    return None


def sample_plan(
    rng: np.random.Generator, style: Style, config: CorpusConfig, heldout_combo: bool = False
) -> MotionPlan:
    """A random plan. Held-out combinations are never drawn, unless `heldout_combo`, when
    one of them is built in on purpose (the others may then also appear)."""
    banned_pairs = set() if heldout_combo else set(config.heldout_sequences)
    banned_layers = set() if heldout_combo else set(config.heldout_layers)
    combos = [("seq", c) for c in config.heldout_sequences] + [
        ("layer", c) for c in config.heldout_layers
    ]
    for _ in range(4 * MAX_ATTEMPTS):
        count = 1 + int(
            rng.choice(
                len(config.sequence_weights),
                p=np.array(config.sequence_weights) / sum(config.sequence_weights),
            )
        )
        lead, tail = (float(rng.uniform(*config.lead_seconds)) for _ in range(2))
        forced_seq, forced_layer = None, None
        if heldout_combo:
            kind, combo = combos[int(rng.integers(len(combos)))]
            if kind == "seq":
                count = max(count, 2)
                forced_seq = (int(rng.integers(count - 1)), combo)
            else:
                forced_seq, forced_layer = (int(rng.integers(count)), (combo[0],)), combo
        segments = _sample_sequence(
            rng, style, config, count, _budget(config, lead, tail), banned_pairs, forced_seq
        )
        if not segments:
            continue
        layer = _choose_layer(rng, style, config, segments, banned_layers, forced_layer)
        if forced_layer is not None and layer is None:
            continue
        plan = _finish_plan(rng, config, segments, lead, tail, layer)
        if not heldout_combo or contains_heldout_combo(plan, config):
            return plan
    raise RuntimeError("could not draw a motion plan within the time budget")


def action_plan(
    rng: np.random.Generator, style: Style, config: CorpusConfig, action: str
) -> MotionPlan:
    """A plan of one given action (random details) between short idle pauses."""
    segment = actions.place(actions.sample_segment(rng, action, style, config), True, True, rng)
    return _finish_plan(rng, config, [segment], 0.4, 0.4, None)


def _finish_plan(rng, config, segments, lead, tail, layer) -> MotionPlan:
    first_start = actions.postures(segments[0])[0]
    last_end = actions.postures(segments[-1])[1]
    # idle standing shorter than a cross-fade would only jerk: none, or a real pause
    lead = lead if first_start == "stand" and lead >= MIN_IDLE_S else 0.0
    tail = tail if last_end == "stand" and tail >= MIN_IDLE_S else 0.0
    total = lead + tail + sum(s.duration for s in segments)
    if total < config.min_seconds:  # every clip lasts at least 2 s: the last action lingers
        extra = config.min_seconds - total + 0.05
        segments = [*segments[:-1], replace(segments[-1], duration=segments[-1].duration + extra)]
    blends = tuple(float(rng.uniform(*config.blend_seconds)) for _ in range(len(segments) + 1))
    base, offset = -1, 0.0
    if layer is not None:
        layer, base, offset = layer
    return MotionPlan(tuple(segments), lead, tail, blends, layer, base, offset)


def contains_heldout_combo(plan: MotionPlan, config: CorpusConfig) -> bool:
    pairs = set(plan.sequence_pairs())
    return bool(pairs & set(config.heldout_sequences)) or plan.layering() in set(
        config.heldout_layers
    )


def _kind(segments: tuple[Segment, ...], index: int) -> str | None:
    if 0 <= index < len(segments):
        return SPECS[segments[index].action].kind
    return None


def render_plan(plan: MotionPlan, style: Style, rng: np.random.Generator, fps: float) -> np.ndarray:
    """Joint positions (T, 22, 3), metres, Y up, floor at 0, starting at the origin facing +Z."""
    return solve(compose_track(plan, style, rng, fps), fps)


def compose_track(plan: MotionPlan, style: Style, rng: np.random.Generator, fps: float):
    """The plan's body track before it is solved into joints: every random draw of
    rendering happens here (solving draws none), so the captions drawn next from `rng`
    can be had without the solve (engine/data/corpus_captions.py)."""
    counts = plan.frames(fps)
    tracks = [neutral_track(counts[0], style)] if counts[0] else []
    for i, (segment, frames) in enumerate(zip(plan.segments, counts[1:-1], strict=True)):
        before, after = _kind(plan.segments, i - 1), _kind(plan.segments, i + 1)
        tracks.append(actions.build(segment, frames, fps, style, rng, before, after))
    if counts[-1]:
        tracks.append(neutral_track(counts[-1], style))
    widths = [round(b * fps) for b in plan.blends[: len(tracks) - 1]]
    track = concatenate(tracks, widths)
    if plan.layer is not None:
        upper = actions.build(plan.layer, round(plan.layer.duration * fps), fps, style, rng)
        start = round(plan.times(fps)[-1][1] * fps)
        track = layer_upper(track, upper, start, round(float(rng.uniform(0.3, 0.5)) * fps))
    smooth_root(track, fps)
    add_life(track, style, rng, fps)
    return track
