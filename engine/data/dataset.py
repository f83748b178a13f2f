"""The in-memory form of a motion–language data set, whatever folder format it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import DatasetError
from engine.motion.normalization import Normalizer
from engine.motion.skeleton import Skeleton


@dataclass(frozen=True)
class Caption:
    """One line of a HumanML3D text file: `caption#word/POS ...#start#end`.

    `start` and `end` are seconds; both 0 means the whole clip.
    """

    text: str
    tokens: tuple[str, ...] = ()
    start: float = 0.0
    end: float = 0.0

    @property
    def whole_clip(self) -> bool:
        return self.start == 0.0 and self.end == 0.0


@dataclass
class MotionItem:
    """A motion (or a sub-segment crop of one) with its captions.

    `features` are raw (not normalised) features in the data set's representation.
    """

    id: str
    features: np.ndarray
    captions: list[str]
    source_id: str
    dataset: str
    actions: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return len(self.features)


@dataclass
class MotionTextDataset:
    """Items by id, the ids of each split, the statistics, and what could not be read."""

    name: str
    root: Path
    skeleton: Skeleton
    items: dict[str, MotionItem]
    splits: dict[str, list[str]]
    normalizer: Normalizer | None = None
    problems: list[str] = field(default_factory=list)

    def split(self, name: str) -> list[MotionItem]:
        if name not in self.splits:
            known = ", ".join(sorted(self.splits)) or "none"
            raise DatasetError(f"{self.root}: no split named {name!r} (splits: {known})")
        return [self.items[i] for i in self.splits[name]]

    @property
    def feature_dim(self) -> int:
        return self.skeleton.feature_dim

    def summary(self) -> str:
        sizes = ", ".join(f"{name} {len(ids)}" for name, ids in self.splits.items())
        text = f"{self.name} ({self.root}): {len(self.items)} items; splits: {sizes}"
        if self.problems:
            text += f"; {len(self.problems)} files skipped"
        return text


def expand_splits(
    split_ids: dict[str, list[str]], members: dict[str, list[str]]
) -> dict[str, list[str]]:
    """Split files list motion ids; a motion may have become several items (crops)."""
    return {
        split: [item for motion in ids if motion in members for item in members[motion]]
        for split, ids in split_ids.items()
    }


def merge_datasets(datasets: list[MotionTextDataset], name: str | None = None) -> MotionTextDataset:
    """One data set from several with the same representation (joint-dataset training).

    Item ids are prefixed with their data set's name so that they stay unique; splits
    are concatenated. The statistics are those of the first data set; training code
    recomputes them on the merged train split.
    """
    if not datasets:
        raise DatasetError("no data set to merge")
    skeleton = datasets[0].skeleton
    for other in datasets[1:]:
        if other.skeleton.feature_dim != skeleton.feature_dim:
            raise DatasetError(
                f"cannot train on {datasets[0].name} ({skeleton.feature_dim}-d features) and "
                f"{other.name} ({other.skeleton.feature_dim}-d) together: convert KIT-ML to the "
                "22-joint representation first (load it with to_humanml3d=True)"
            )
    if len(datasets) == 1:
        return datasets[0]
    items: dict[str, MotionItem] = {}
    splits: dict[str, list[str]] = {}
    problems: list[str] = []
    for dataset in datasets:
        for item_id, item in dataset.items.items():
            key = f"{dataset.name}/{item_id}"
            items[key] = MotionItem(
                key,
                item.features,
                item.captions,
                item.source_id,
                dataset.name,
                item.actions,
                item.meta,
            )
        for split, ids in dataset.splits.items():
            splits.setdefault(split, []).extend(f"{dataset.name}/{i}" for i in ids)
        problems.extend(dataset.problems)
    return MotionTextDataset(
        name or "+".join(d.name for d in datasets),
        datasets[0].root,
        skeleton,
        items,
        splits,
        datasets[0].normalizer,
        problems,
    )
