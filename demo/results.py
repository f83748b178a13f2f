"""How search results are shown and returned: cards, API records, caption tables."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np

from engine.motion.motion import Motion
from engine.search import CaptionHit, Hit


@dataclass
class SearchResults:
    """What one search produced, kept per browser session for the details view."""

    query: str  # the text, or the uploaded file's name
    kind: str  # "text" | "motion"
    vector: np.ndarray
    gallery: str
    hits: list[Hit]
    features: list[np.ndarray]
    captions: list[CaptionHit] = field(default_factory=list)
    # the features of each hit's mirror twin (None: it has none), for the details panel
    twin_features: list[np.ndarray | None] = field(default_factory=list)
    query_motion: Motion | None = None  # an uploaded query, as the importer read it
    notice: str = ""  # said above the results: the query motion is unlike the training's

    def shown(self, slot: int, twin: bool = False) -> tuple[Hit, np.ndarray]:
        """The hit of a slot (or its mirror twin) and its features."""
        hit = self.hits[slot]
        if twin and hit.twin is not None and slot < len(self.twin_features):
            return hit.twin, self.twin_features[slot]
        return hit, self.features[slot]


def card_markdown(rank: int, hit: Hit) -> str:
    """The text under a result video."""
    labels = " ".join(f"`{a.replace('_', ' ')}`" for a in hit.actions) or "*no labels*"
    caption = html.escape(hit.captions[0]) if hit.captions else "*no caption*"
    more = f" *(+{len(hit.captions) - 1} more)*" if len(hit.captions) > 1 else ""
    card = (
        f"**#{rank}** · `{hit.id.replace('`', '')}` · score **{hit.score:.3f}** · "
        f"{hit.duration:.1f} s\n\n"
        f"{caption}{more}\n\n{labels}"
    )
    if hit.twin is not None:
        card += f"\n\n*+ mirror twin {html.escape(hit.twin.id)} ({hit.twin.score:.3f})*"
    return card


def api_record(rank: int, hit: Hit, compute_notice: str = "") -> dict:
    """A result as the API returns it; `mirror_twin` ({id, score} or None) names the
    motion's mirror, which shares its slot instead of taking one of its own;
    `compute_notice` says why the model left the GPU ('' when it did not)."""
    return {"rank": rank, "mirror_twin": None, **hit.to_json(), "compute_notice": compute_notice}


def captions_table(captions: list[CaptionHit]) -> list[list]:
    return [[i + 1, round(c.score, 3), c.caption, c.id or ""] for i, c in enumerate(captions)]


def details_markdown(hit: Hit) -> str:
    header = [
        f"### {html.escape(hit.id)}",
        f"score {hit.score:.3f} · {hit.duration:.1f} s · {hit.dataset}",
    ]
    if hit.twin is not None:
        header.append(f"mirror twin {html.escape(hit.twin.id)} · score {hit.twin.score:.3f}")
    if hit.actions:
        header.append("labels: " + ", ".join(a.replace("_", " ") for a in hit.actions))
    segments = hit.meta.get("segments") or []
    if segments:
        header.append("segments: " + "; ".join(_segment_text(s) for s in segments))
    captions = "\n".join(f"- {html.escape(c)}" for c in hit.captions) or "*no captions*"
    return "\n\n".join(header) + "\n\n**captions**\n\n" + captions


def _segment_text(segment: dict) -> str:
    side = f" ({segment['side']})" if segment.get("side") else ""
    return (
        f"{segment['action'].replace('_', ' ')}{side} {segment['start']:.1f}–{segment['end']:.1f} s"
    )
