"""The small grammar behind the captions: verb conjugation, a lexicon with lemmas and
spaCy-style part-of-speech tags for every word the captions use, template rendering,
HumanML3D's `caption#word/POS ...#start#end` lines, typos and left/right mirroring.

Templates are plain text with two kinds of markup: `<verb>` is conjugated in the
caption's tense (the first verb of a progressive clause gets "is"), `{slot}` is replaced
by a detail phrase (possibly empty)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

_IRREGULAR_PAST = {
    "run": "ran",
    "swing": "swung",
    "throw": "threw",
    "sit": "sat",
    "stand": "stood",
    "kneel": "knelt",
    "spin": "spun",
    "get": "got",
    "take": "took",
    "bend": "bent",
    "drink": "drank",
    "do": "did",
    "go": "went",
    "put": "put",
    "hit": "hit",
    "make": "made",
    "bring": "brought",
    "hold": "held",
    "lean": "leaned",
    "leap": "leapt",
    "keep": "kept",
    "stick": "stuck",
    "shake": "shook",
    "fall": "fell",
    "lift": "lifted",
    "begin": "began",
    "creep": "crept",
    "see": "saw",
    "spring": "sprang",
    "sway": "swayed",
    "stay": "stayed",
    "play": "played",
}
_DOUBLED = {
    "run",
    "hop",
    "jog",
    "clap",
    "step",
    "squat",
    "spin",
    "sit",
    "hit",
    "get",
    "put",
    "stop",
    "skip",
    "jab",
    "sidestep",
    "begin",
    "swim",
    "tip",
    "pat",
    "drop",
    "flap",
    "grab",
}
_ES_ENDINGS = ("s", "sh", "ch", "x", "z", "o")


def conjugate(verb: str, tense: str) -> str:
    """A verb in 'present' (3rd person), 'past', 'gerund' or 'base' form."""
    if tense == "base":
        return verb
    if tense == "present":
        if verb == "do":
            return "does"
        if verb.endswith(_ES_ENDINGS):
            return verb + "es"
        if verb.endswith("y") and verb[-2] not in "aeiou":
            return verb[:-1] + "ies"
        return verb + "s"
    if tense == "past":
        if verb in _IRREGULAR_PAST:
            return _IRREGULAR_PAST[verb]
        if verb.endswith("e"):
            return verb + "d"
        if verb.endswith("y") and verb[-2] not in "aeiou":
            return verb[:-1] + "ied"
        return verb + (verb[-1] if verb in _DOUBLED else "") + "ed"
    if tense == "gerund":
        if verb in _DOUBLED:
            return verb + verb[-1] + "ing"
        if verb.endswith("ie"):
            return verb[:-2] + "ying"
        if verb.endswith("e") and not verb.endswith(("ee", "ye")) and verb != "be":
            return verb[:-1] + "ing"
        return verb + "ing"
    raise ValueError(f"unknown tense {tense!r}")


# every non-verb word the templates use, by tag (lemma = the word unless listed in _LEMMA)
_WORDS = {
    "DET": "a an the his her their its this each all both another any some every",
    "PRON": "someone something it they he she them himself herself themselves one nothing that",
    "NOUN": (
        "person man woman figure human individual guy body arm arms hand hands leg legs foot feet "
        "knee knees head chest hips hip waist shoulder shoulders side sides fist fists floor "
        "ground circle circles air step steps time times chair seat ball object box cup bottle "
        "drink "
        "glass racket club golf tennis table window surface mouth face toes toe stretch squat "
        "squats lunge lunges kick kicks punch punches jump jumps hop hops wave bow jack jacks "
        "music rhythm dance degrees turn motion motions place position front back heel heels "
        "weight balance direction exercise exercises forehand backhand serve swing all fours "
        "quarter half way elbow elbows opposite beat spot bit couple height line pace reverse room "
        "sip star stomach stretching"
    ),
    "ADJ": (
        "left right forward other slow quick fast deep slight full big small little few "
        "several high low straight wide upright seated kneeling open closed circular "
        "counterclockwise clockwise jumping energetic happy overhead same whole single normal "
        "brisk sideways alternating crossed long"
    ),
    "ADV": (
        "forward forwards backward backwards sideways slowly quickly briskly fast up down around "
        "back again then twice once repeatedly away together slightly deeply energetically "
        "happily over out still afterwards later first finally also just in place straight "
        "continuously gently hard high low lightly rapidly leisurely there ahead politely "
        "overhand underhand"
    ),
    "ADP": (
        "with to in on at of from into onto across over for by like above behind under as "
        "around about along before after while off"
    ),
    "CCONJ": "and or but",
    "SCONJ": "while before after as if until",
    "NUM": "two three four five six seven eight 2 3 4 5 6 7 8 45 90 135 180 360 720",
    "PART": "not",
    "INTJ": "hello goodbye",
    "PUNCT": ", .",
    "AUX": "is was can be",
    "VERB": "seen proceeds sitting spreading hitting throwing dancing followed stand touch",
}
# a word listed under several tags takes the first listed here
_TAG_ORDER = (
    "PUNCT",
    "INTJ",
    "DET",
    "PRON",
    "NUM",
    "AUX",
    "VERB",
    "PART",
    "CCONJ",
    "ADP",
    "SCONJ",
    "ADV",
    "ADJ",
    "NOUN",
)
_LEMMA = {
    "arms": "arm",
    "hands": "hand",
    "legs": "leg",
    "feet": "foot",
    "knees": "knee",
    "hips": "hip",
    "shoulders": "shoulder",
    "sides": "side",
    "fists": "fist",
    "circles": "circle",
    "steps": "step",
    "times": "time",
    "toes": "toe",
    "squats": "squat",
    "lunges": "lunge",
    "kicks": "kick",
    "punches": "punch",
    "jumps": "jump",
    "hops": "hop",
    "jacks": "jack",
    "degrees": "degree",
    "motions": "motion",
    "heels": "heel",
    "exercises": "exercise",
    "elbows": "elbow",
    "his": "his",
    "her": "her",
    "forwards": "forward",
    "backwards": "backward",
    "seen": "see",
    "proceeds": "proceed",
    "sitting": "sit",
    "spreading": "spread",
    "hitting": "hit",
    "throwing": "throw",
    "dancing": "dance",
    "followed": "follow",
    "is": "be",
    "was": "be",
    "them": "they",
    "himself": "himself",
}
LEXICON: dict[str, tuple[str, str]] = {}
for _tag in reversed(_TAG_ORDER):
    for _word in _WORDS[_tag].split():
        LEXICON[_word] = (_LEMMA.get(_word, _word), _tag)


@dataclass(frozen=True)
class Token:
    word: str
    lemma: str
    pos: str


def word_token(word: str) -> Token:
    lemma, pos = LEXICON.get(word, (word, "OTHER"))
    return Token(word, lemma, pos)


def verb_token(verb: str, tense: str) -> Token:
    return Token(conjugate(verb, tense), verb, "VERB")


_MARKUP = re.compile(r"<(\w+)>|\{(\w+)\}|([\w'-]+|[.,])")


def render(
    template: str, tense: str, slots: dict[str, list[Token]], first_verb_done: bool = False
) -> list[Token]:
    """Tokens of a template in a tense. In the progressive, the first verb takes "is" and
    later ones are gerunds."""
    tokens: list[Token] = []
    done = first_verb_done
    for verb, slot, word in _MARKUP.findall(template):
        if verb:
            if tense == "progressive":
                if not done:
                    tokens.append(Token("is", "be", "AUX"))
                tokens.append(verb_token(verb, "gerund"))
            else:
                tokens.append(verb_token(verb, tense))
            done = True
        elif slot:
            tokens.extend(slots.get(slot, []))
        else:
            tokens.append(word_token(word))
    return tokens


def words(text: str) -> list[Token]:
    """Tokens of plain text (no verbs to conjugate)."""
    return [word_token(w) for w in text.split()]


def text_of(tokens: list[Token]) -> str:
    out = ""
    for token in tokens:
        if token.word in ",." or not out:
            out += token.word
        else:
            out += " " + token.word
    return out


def humanml3d_line(tokens: list[Token]) -> str:
    """`caption#lemma/POS lemma/POS ...#0.0#0.0` (punctuation left out of the tags)."""
    tags = " ".join(f"{t.lemma}/{t.pos}" for t in tokens if t.word not in ",.")
    return f"{text_of(tokens)}#{tags}#0.0#0.0"


# words that mirroring swaps; side words are also never misspelled (the swap must find them)
MIRROR_WORDS = {
    "left": "right",
    "right": "left",
    "clockwise": "counterclockwise",
    "counterclockwise": "clockwise",
}


def mirror_tokens(tokens: list[Token]) -> list[Token]:
    out = []
    for t in tokens:
        if t.word in MIRROR_WORDS:
            swapped = MIRROR_WORDS[t.word]
            out.append(Token(swapped, MIRROR_WORDS.get(t.lemma, swapped), t.pos))
        else:
            out.append(t)
    return out


def typo(tokens: list[Token], rng: np.random.Generator, protected: set[str]) -> list[Token]:
    """One slip of the keyboard (swapped, dropped or doubled letter) in a content word."""
    candidates = [
        i
        for i, t in enumerate(tokens)
        if len(t.word) > 3
        and t.pos in ("NOUN", "VERB", "ADV", "ADJ")
        and t.word not in protected
        and t.lemma not in protected
    ]
    if not candidates:
        return tokens
    i = candidates[int(rng.integers(len(candidates)))]
    word = tokens[i].word
    k = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(3))
    if kind == 0:
        word = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    elif kind == 1:
        word = word[:k] + word[k + 1 :]
    else:
        word = word[:k] + word[k] + word[k:]
    out = list(tokens)
    out[i] = Token(word, word, tokens[i].pos)
    return out
