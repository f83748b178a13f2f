"""Mirror twins: a motion and its left-right mirror, as HumanML3D, KIT-ML and the procedural
corpus name them (`000123` and `M000123`; also `HumanML3D/M000123`, `M000123#1.5-4`).

For a person looking at results a twin is the same motion again, so the demo shows one slot
per pair (`distinct`); the command line and the evaluation keep every item, as the
retrieval protocols count them."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from typing import TypeVar

MIRROR_PREFIX = "M"

T = TypeVar("T")


def mirror_name(item_id: str) -> str:
    """The id a mirror twin of `item_id` would have: `M` added to or taken from the last
    path component (`HumanML3D/000123` <-> `HumanML3D/M000123`)."""
    folder, slash, name = item_id.rpartition("/")
    if name.startswith(MIRROR_PREFIX) and len(name) > len(MIRROR_PREFIX):
        return folder + slash + name[len(MIRROR_PREFIX) :]
    return folder + slash + MIRROR_PREFIX + name


def twin_of(item_id: str, known: Container[str]) -> str | None:
    """The id of `item_id`'s mirror twin when `known` holds it, else None."""
    twin = mirror_name(item_id)
    return twin if twin in known and twin != item_id else None


def pair_key(item_id: str, known: Container[str]) -> str:
    """The same key for a motion and its twin (the id without the mirror prefix)."""
    twin = twin_of(item_id, known)
    if twin is None:
        return item_id
    return twin if item_id.rpartition("/")[2].startswith(MIRROR_PREFIX) else item_id


def distinct(
    ranked: Iterable[T], key: Callable[[T], str], known: Container[str], k: int | None = None
) -> list[tuple[T, T | None]]:
    """One entry per pair of twins, in the order of `ranked` (best first): (the first of
    the pair met, the other one when it is in `ranked` too, else None); at most `k`."""
    slots: dict[str, list] = {}
    for entry in ranked:
        group = pair_key(key(entry), known)
        if group in slots:
            if slots[group][1] is None:
                slots[group][1] = entry
        elif k is None or len(slots) < k:
            slots[group] = [entry, None]
    return [(first, second) for first, second in slots.values()]
