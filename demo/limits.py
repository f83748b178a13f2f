"""The caps of a public demo (`DemoConfig`), checked on the server for the page and the API
alike: what a visitor typed or uploaded is refused with a message that says which cap
(docs/safety.md lists them)."""

from __future__ import annotations

import re
import unicodedata

from engine.errors import EngineError
from engine.motion.motion import Motion

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def check_query(text: object, max_chars: int) -> str:
    """The query to embed: control characters (NUL, escape, line breaks...) become spaces;
    an empty one, or one longer than `max_chars` characters, is refused."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise EngineError("the text query must be a string")
    if len(text) > max_chars:
        raise EngineError(
            f"the text query is too long: {len(text):,} characters, at most {max_chars:,} "
            "are accepted; describe the motion in a sentence or two"
        )
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    text = " ".join(text.split())
    if not text:
        raise EngineError("the text query is empty: describe a motion, e.g. 'a person jumps'")
    return text


def check_count(k: object, max_results: int) -> int:
    """The number of results asked for, refused outside 1..max_results."""
    try:
        count = int(k)  # type: ignore[arg-type]
        if count != float(k):  # type: ignore[arg-type]
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise EngineError(
            f"the number of results must be a whole number from 1 to {max_results}, got {k!r}"
        ) from None
    if not 1 <= count <= max_results:
        raise EngineError(f"the number of results must be from 1 to {max_results}, got {count}")
    return count


def crop_note(motion: Motion) -> str:
    """'' or what cropping did to an uploaded motion, for the page."""
    meta = motion.meta or {}
    if "cropped_from_seconds" not in meta:
        return ""
    return (
        f"{motion.source or motion.id} is {meta['cropped_from_seconds']:.1f} s long; "
        f"only its first {meta['cropped_to_seconds']:g} s were used (the cap for uploads)"
    )
