"""Is a query motion like anything the model was trained on? Said honestly with the results.

A model scores every gallery motion for any input, so a motion it cannot read (a kind of
motion, a skeleton or a capture it never saw) still gets a confident-looking top 5. Two
signs give it away, both measured against the gallery's own motions:
- its features: for some feature group (a joint's rotation, the root's velocity, ...)
  the query's mean |z| under the training motions' per-feature statistics
  (`Checkpoint.training_statistics`, whatever normaliser the model reads with) is beyond
  what the gallery's motions ever show (their 99th percentile, with a margin);
- its best match: its highest cosine is below what nearly every gallery motion finds
  as its nearest other motion, its own mirror twin left out (their 2nd percentile).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.evaluation.realism import FeatureGroup, feature_groups
from engine.motion.normalization import Normalizer
from engine.twins import mirror_name

PERCENTILE = 99.0
MARGIN = 1.5  # a group must exceed the gallery's 99th percentile by this factor
# and be at least this far out in absolute terms: the statistics are those
# of the training motions (with their variants), whose mean |z| per group is about 0.8
MIN_Z = 4.0
COSINE_PERCENTILE = 2.0
SHOWN_GROUPS = 3


@dataclass(frozen=True)
class Familiarity:
    """What the check found for one query motion."""

    unusual_groups: tuple[tuple[str, float], ...]  # (group, query mean |z|), worst first
    best_cosine: float
    cosine_floor: float

    @property
    def familiar(self) -> bool:
        return not self.unusual_groups and self.best_cosine >= self.cosine_floor

    def notice(self) -> str:
        """A sentence for the results ('' when the motion looks familiar)."""
        if self.familiar:
            return ""
        reasons = []
        if self.unusual_groups:
            shown = [name for name, _ in self.unusual_groups[:SHOWN_GROUPS]]
            verb = "are" if len(shown) > 1 else "is"
            reasons.append(f"its {', '.join(shown)} {verb} far outside what training motions show")
        if self.best_cosine < self.cosine_floor:
            reasons.append(
                f"its best match scores {self.best_cosine:.2f}, where gallery motions find "
                f"neighbours above {self.cosine_floor:.2f}"
            )
        return (
            "This motion is unlike the motions the model was trained on ("
            + "; ".join(reasons)
            + "): treat these results with caution."
        )

    def to_json(self) -> dict:
        return {
            "familiar": self.familiar,
            "notice": self.notice(),
            "best_cosine": self.best_cosine,
            "cosine_floor": self.cosine_floor,
            "unusual": [{"group": g, "mean_abs_z": z} for g, z in self.unusual_groups],
        }


class FamiliarityCheck:
    """Limits measured once on a gallery, applied to each query."""

    def __init__(
        self,
        normalizer: Normalizer,
        limits: np.ndarray,
        cosine_floor: float,
        groups: Sequence[FeatureGroup],
    ):
        self.normalizer = normalizer
        self.groups = groups  # those the model reads (a group it ignores cannot mislead it)
        self.limits = limits  # (groups,) mean |z| beyond which a group is unusual
        self.cosine_floor = cosine_floor

    @classmethod
    def from_gallery(
        cls,
        normalizer: Normalizer,
        features: Sequence[np.ndarray],
        embeddings: np.ndarray,
        ids: Sequence[str],
        groups: Sequence[FeatureGroup] | None = None,
    ) -> FamiliarityCheck:
        groups = feature_groups() if groups is None else groups
        profiles = np.array([_group_z(f, normalizer, groups) for f in features])
        limits = np.maximum(MARGIN * np.percentile(profiles, PERCENTILE, axis=0), MIN_Z)
        return cls(normalizer, limits, _nearest_neighbour_floor(embeddings, ids), groups)

    def check(self, features: np.ndarray, best_cosine: float) -> Familiarity:
        z = _group_z(features, self.normalizer, self.groups)
        out = np.flatnonzero(z > self.limits)
        worst = out[np.argsort(-(z[out] / self.limits[out]))]
        unusual = tuple((self.groups[i].name, float(z[i])) for i in worst)
        return Familiarity(unusual, float(best_cosine), self.cosine_floor)


def _group_z(features: np.ndarray, normalizer: Normalizer, groups) -> np.ndarray:
    z = np.abs(normalizer.normalize(np.asarray(features, dtype=np.float32)))
    return np.array([z[:, group.columns].mean() for group in groups])


def _nearest_neighbour_floor(
    embeddings: np.ndarray, ids: Sequence[str], sample: int = 2000
) -> float:
    """The COSINE_PERCENTILE-th percentile of gallery motions' best cosine to another
    motion, itself and its mirror twin left out (a query from outside the gallery has no
    twin in it)."""
    rows = np.arange(min(sample, len(embeddings)))
    scores = embeddings[rows] @ embeddings.T
    scores[rows, rows] = -np.inf
    position = {item: row for row, item in enumerate(ids)}
    for row in rows:
        twin = position.get(mirror_name(ids[row]))
        if twin is not None:
            scores[row, twin] = -np.inf
    return float(np.percentile(scores.max(axis=1), COSINE_PERCENTILE))
