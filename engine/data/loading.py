"""Open a data set by path, whatever its format, and combine several for training."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from engine.data.dataset import MotionTextDataset, merge_datasets
from engine.data.humanml3d import is_humanml3d_folder, load_humanml3d
from engine.data.tmr import is_tmr_folder, load_tmr
from engine.errors import DatasetError
from engine.motion.normalization import Normalizer


def open_dataset(
    path: str | Path, splits: Iterable[str] = ("train", "val", "test"), to_humanml3d: bool = False
) -> MotionTextDataset:
    """A HumanML3D/KIT-ML folder or a TMR annotations folder."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder")
    if is_humanml3d_folder(path):
        return load_humanml3d(path, splits, to_humanml3d=to_humanml3d)
    if is_tmr_folder(path):
        return load_tmr(path, splits)
    raise DatasetError(
        f"{path}: not a data set folder (expected new_joint_vecs/ + texts/ as in HumanML3D "
        "and KIT-ML, or annotations.json as in TMR)"
    )


def open_training_data(
    paths: list[str], splits: Iterable[str]
) -> tuple[MotionTextDataset, Normalizer]:
    """One data set (or several merged, KIT-ML converted to 22 joints) and the statistics
    to train with: the data set's own Mean/Std for a single data set that has them,
    otherwise statistics fitted on the (merged) train split."""
    splits = tuple(splits)
    joint = len(paths) > 1
    datasets = [open_dataset(p, splits, to_humanml3d=joint) for p in paths]
    dataset = merge_datasets(datasets)
    if not joint and dataset.normalizer is not None:
        return dataset, dataset.normalizer
    train = dataset.split(splits[0])
    if not train:
        raise DatasetError(f"{dataset.name}: the {splits[0]} split is empty")
    return dataset, Normalizer.fit([item.features for item in train])
