"""Captions for a motion plan, written the way people describe motion: several per clip,
varying subject, tense, wording, detail (speed, side, counts, angles) and ordering words;
some vague or partial, some describing the body, a few with typos. Left/right always
match the motion. Wording containing a held-out marker (config.heldout_phrasings) is used
only when asked for, and then in every caption."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.corpus.actions import SPECS, Segment
from engine.data.corpus.compose import MotionPlan
from engine.data.corpus.grammar import (
    LEXICON,
    Token,
    mirror_tokens,
    render,
    text_of,
    typo,
    word_token,
    words,
)
from engine.data.corpus.phrases import EXERCISES, PHRASES, VAGUE, Phrase

# subject, possessives it takes, weight
SUBJECTS = (
    ("a person", ("their", "his"), 30),
    ("the person", ("their", "his"), 12),
    ("a man", ("his",), 12),
    ("someone", ("their", "his"), 10),
    ("the man", ("his",), 5),
    ("a figure", ("its", "their"), 5),
    ("human", ("their",), 3),
    ("person", ("their", "his"), 3),
    ("a woman", ("her",), 3),
    ("a human", ("their",), 2),
    ("the figure", ("its",), 2),
    ("this person", ("their",), 2),
    ("a guy", ("his",), 1),
    ("an individual", ("their",), 2),
)
# caption frames: {s} subject, {vp} the verb phrases in the frame's tense
FRAMES = (
    ("{s} {vp}", "present", 55),
    ("{s} {vp}", "progressive", 22),
    ("{s} {vp}", "past", 12),
    ("{vp}", "gerund", 6),
    ("{s} can be seen {vp}", "gerund", 3),
    ("{s} proceeds to {vp}", "base", 3),
)
# joining consecutive actions: text, tense of the next verb phrase ("same" or a tense)
JOINERS = (
    ("then", "same", 8),
    (", then", "same", 8),
    ("and then", "same", 10),
    (", and then", "same", 4),
    ("and", "same", 6),
    (", after that", "same", 2),
    ("before", "gerund", 3),
    (", followed by", "gerund", 2),
    ("and afterwards", "same", 1),
    (". then", "same", 2),
)
SPEED_WORDS = {
    "slow": ("slowly", "at a slow pace", "leisurely"),
    "fast": ("quickly", "briskly", "fast", "at a fast pace"),
}
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}
COUNT_WORDS = {2: ("twice", "two times"), 3: ("three times", "3 times"), 4: ("four times",)}


@dataclass(frozen=True)
class Caption:
    tokens: tuple[Token, ...]

    @property
    def text(self) -> str:
        return text_of(list(self.tokens))

    def mirrored(self) -> Caption:
        return Caption(tuple(mirror_tokens(list(self.tokens))))


def uses_heldout(tokens, markers: tuple[str, ...]) -> bool:
    """Whether tokens contain a held-out marker (as a word or a lemma)."""
    marks = set(markers)
    return any(t.word in marks or t.lemma in marks for t in tokens)


def _weighted(rng: np.random.Generator, items, weight_index: int = -1):
    weights = np.array([item[weight_index] for item in items], float)
    return items[int(rng.choice(len(items), p=weights / weights.sum()))]


def _template_markers(text: str, markers) -> bool:
    """Whether template text contains a marker, as a word or as a known word's lemma."""
    plain = text.replace("<", " ").replace(">", " ").split()
    found = set(plain) | {LEXICON[w][0] for w in plain if w in LEXICON}
    return bool(found & set(markers))


def _speed_class(segment: Segment) -> str | None:
    speed = segment.params.get("speed")
    action = segment.action
    if speed is None or speed == 0:
        return "fast" if action == "jumping_jacks" and segment.params.get("rate", 0) > 1.0 else None
    limits = {
        "walk_forward": (0.9, 1.45),
        "run": (2.8, 3.5),
        "walk_backward": (0.55, 9),
        "walk_sideways": (0.4, 9),
        "crawl": (0.38, 9),
    }
    slow, fast = limits.get(action, (0, 9))
    if speed < slow:
        return "slow"
    if speed > fast:
        return "fast"
    return None


def _count_phrase(rng: np.random.Generator, reps: int) -> str:
    if reps < 2:
        return ""
    if rng.random() < 0.25:  # approximate counts
        if reps <= 3:
            return "a couple of times" if reps == 2 or rng.random() < 0.5 else "a few times"
        return ("several times", "repeatedly", "a few times")[
            int(rng.integers(3 if reps <= 4 else 2))
        ]
    options = COUNT_WORDS.get(reps, (f"{NUMBER_WORDS.get(reps, reps)} times",))
    return options[int(rng.integers(len(options)))]


def _slots(
    segment: Segment, poss: str, rng: np.random.Generator, detailed: bool
) -> dict[str, list[Token]]:
    side = segment.side if segment.side in ("left", "right") else ""
    other = {"left": "right", "right": "left"}.get(side, "")
    reps = int(segment.params.get("reps", segment.params.get("turns", 1)))
    speed = _speed_class(segment)
    slots = {
        "poss": words(poss),
        "side": words(side),
        "other": words(other),
        "rot": words({"left": "counterclockwise", "right": "clockwise"}.get(side, "")),
        "dir2": words(
            segment.params.get("direction", "forward") if segment.action == "arm_circles" else ""
        ),
        "n": words(NUMBER_WORDS.get(reps, str(reps))),
        "count": words(_count_phrase(rng, reps)) if detailed else [],
        "speed": [],
        "angle": [],
    }
    if detailed and speed:
        options = SPEED_WORDS[speed]
        slots["speed"] = words(options[int(rng.integers(len(options)))])
    if "nominal" in segment.params:
        nominal = segment.params["nominal"]
        slots["angle"] = words(
            f"{nominal} degrees" if rng.random() < 0.7 else f"about {nominal} degrees"
        )
    return slots


def _usable(phrase: Phrase, segment: Segment, mode: str, markers) -> bool:
    """Whether a phrase fits the segment and the caption's held-out mode: 'seen' never
    uses held-out wording, 'any' may, 'heldout' must."""
    if not phrase.when(segment):
        return False
    if "{side}" in phrase.template and segment.side not in ("left", "right"):
        return False
    if "{other}" in phrase.template and segment.side not in ("left", "right"):
        return False
    marked = _template_markers(phrase.template, markers)
    return {"seen": not marked, "any": True, "heldout": marked}[mode]


def _verb_phrase(
    segment, tense, poss, rng, detailed, mode, markers, body_ok=True, first_verb_done=False
):
    options = [
        p
        for p in PHRASES[segment.action]
        if _usable(p, segment, mode, markers) and (body_ok or not p.body)
    ]
    if not options:
        return None
    # detailed captions prefer phrasings that name the side when there is one
    if detailed and segment.side in ("left", "right"):
        sided = [p for p in options if "{side}" in p.template or "{other}" in p.template]
        if sided and rng.random() < 0.7:
            options = sided
    phrase = options[int(rng.integers(len(options)))]
    slots = _slots(segment, poss, rng, detailed)
    return render(phrase.template, tense, slots, first_verb_done)


@dataclass(frozen=True)
class _Style:
    subject: str
    poss: str
    frame: str
    tense: str
    detailed: bool


def _caption_style(rng, mode_subject: str, mode_frame: str, markers) -> _Style:
    subjects = [s for s in SUBJECTS if _ok(s[0], mode_subject, markers)]
    frames = [f for f in FRAMES if _ok(f[0], mode_frame, markers)]
    subject, possessives, _ = _weighted(rng, subjects)
    frame, tense, _ = _weighted(rng, frames)
    return _Style(
        subject,
        possessives[int(rng.integers(len(possessives)))],
        frame,
        tense,
        bool(rng.random() < 0.55),
    )


def _ok(text: str, mode: str, markers) -> bool:
    marked = _template_markers(text, markers)
    return {"seen": not marked, "any": True, "heldout": marked}[mode]


def _describe_sequence(plan, style, rng, mode_of, markers, complete) -> list[Token] | None:
    """The verb phrases of the plan's actions joined with ordering words, the layered
    action attached with 'while'. Unless `complete`, some captions leave actions out."""
    segments = list(plan.segments)
    keep = list(range(len(segments)))
    if not complete and len(keep) > 1 and rng.random() < 0.15:  # a partial description
        keep = sorted(
            rng.choice(keep, size=int(rng.integers(1, len(keep))), replace=False).tolist()
        )
    tokens: list[Token] = []
    tense = style.tense
    for n, i in enumerate(keep):
        segment = segments[i]
        this_tense = tense
        if n > 0:
            joiner = _weighted(rng, [j for j in JOINERS if _ok(j[0], mode_of("joiner"), markers)])
            text, next_tense, _ = joiner
            tokens.extend(words(text.replace(",", " ,").replace(".", " .")))
            this_tense = tense if next_tense == "same" else next_tense
            if (
                n == len(keep) - 1
                and len(keep) > 2
                and text in ("then", "and then")
                and rng.random() < 0.4
            ):
                tokens.append(word_token("finally"))
        progressive_after_first = tense == "progressive" and n > 0 and this_tense == "progressive"
        vp = _verb_phrase(
            segment,
            "gerund" if progressive_after_first else this_tense,
            style.poss,
            rng,
            style.detailed,
            mode_of(f"segment{i}"),
            markers,
            first_verb_done=progressive_after_first,
        )
        if vp is None:
            return None
        tokens.extend(vp)
        if plan.layer is not None and i == plan.layer_base and (complete or rng.random() < 0.85):
            while_vp = _verb_phrase(
                plan.layer, "gerund", style.poss, rng, style.detailed, mode_of("layer"), markers
            )
            if while_vp is None:
                return None
            tokens.extend([word_token("while"), *while_vp])
    return tokens


def _vague(plan, style, rng) -> list[Token]:
    longest = max(plan.segments, key=lambda s: s.duration)
    category = "exercise" if longest.action in EXERCISES else SPECS[longest.action].kind
    options = VAGUE[category]
    tense = "gerund" if style.tense == "gerund" else style.tense
    return render(options[int(rng.integers(len(options)))], tense, {"poss": words(style.poss)})


def _frame(style: _Style, vp: list[Token]) -> list[Token]:
    out: list[Token] = []
    for part in style.frame.split():
        if part == "{s}":
            out.extend(words(style.subject))
        elif part == "{vp}":
            out.extend(vp)
        else:
            out.append(word_token(part))
    return out


def _finish(
    tokens: list[Token], rng: np.random.Generator, typo_rate: float, protected: set[str]
) -> list[Token]:
    if rng.random() < typo_rate:
        tokens = typo(tokens, rng, protected)
    if rng.random() < 0.03 and len(tokens) > 4:  # a dropped article
        drop = [i for i, t in enumerate(tokens) if t.word in ("a", "the") and i > 0]
        if drop:
            tokens = tokens[: drop[0]] + tokens[drop[0] + 1 :]
    if rng.random() < 0.4:
        tokens = [*tokens, Token(".", ".", "PUNCT")]
    if rng.random() < 0.2:
        first = tokens[0]
        tokens = [Token(first.word.capitalize(), first.lemma, first.pos), *tokens[1:]]
    return tokens


def caption_plan(
    plan: MotionPlan,
    rng: np.random.Generator,
    count: int,
    markers: tuple[str, ...],
    heldout: bool,
    typo_rate: float,
) -> list[Caption]:
    """`count` distinct captions. Without `heldout`, none uses held-out wording; with it,
    every one does (a held-out subject, frame, joiner or verb phrase)."""
    protected = set(markers) | {"left", "right", "clockwise", "counterclockwise"}
    captions: list[Caption] = []
    seen_texts: set[str] = set()
    for _ in range(count * 20):
        if len(captions) == count:
            break
        if heldout:
            forced = _pick_heldout_element(plan, rng, markers)
            mode_of = lambda part, forced=forced: "heldout" if part == forced else "any"  # noqa: E731
        else:
            mode_of = lambda part: "seen"  # noqa: E731
        style = _caption_style(rng, mode_of("subject"), mode_of("frame"), markers)
        complete = not captions  # the first caption names every action
        if not heldout and not complete and rng.random() < 0.07:
            vp = _vague(plan, style, rng)
        else:
            vp = _describe_sequence(plan, style, rng, mode_of, markers, complete)
            if vp is None:
                continue
        tokens = _finish(_frame(style, vp), rng, typo_rate, protected)
        if heldout != uses_heldout(tokens, markers):
            continue
        caption = Caption(tuple(tokens))
        if caption.text.lower().rstrip(".") not in seen_texts:
            seen_texts.add(caption.text.lower().rstrip("."))
            captions.append(caption)
    return captions


def _pick_heldout_element(plan: MotionPlan, rng: np.random.Generator, markers) -> str:
    """Which part of a caption carries the held-out wording: a segment's phrase (if one
    exists for it), the subject, or the frame."""
    parts = ["subject", "frame"]
    for i, segment in enumerate(plan.segments):
        if any(_usable(p, segment, "heldout", markers) for p in PHRASES[segment.action]):
            parts += [f"segment{i}"] * 2
    return parts[int(rng.integers(len(parts)))]
