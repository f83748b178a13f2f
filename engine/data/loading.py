"""Open a data set by path, whatever its format, and combine several for training."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from engine.data.dataset import MotionTextDataset, merge_datasets
from engine.data.humanml3d import is_humanml3d_folder, load_humanml3d, read_split
from engine.data.motion_folder import is_motion_folder, load_motion_folder
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


def open_gallery_dataset(
    path: str | Path, feature_dim: int, split: str | None = None
) -> tuple[MotionTextDataset, list[str]]:
    """A data source for a gallery and the split to show: a HumanML3D/KIT-ML or TMR folder
    (its `all` split, or the union of train/val/test, unless `split` is given) or a folder
    of motion files. KIT-ML data is converted when the model reads 263-d features."""
    path = Path(path)
    if is_humanml3d_folder(path) or is_tmr_folder(path):
        splits = [split] if split else _available_splits(path)
        dataset = open_dataset(path, splits, to_humanml3d=feature_dim == 263)
        ids = list(dict.fromkeys(i for s in splits for i in dataset.splits[s]))
    elif is_motion_folder(path):
        dataset = load_motion_folder(path)
        ids = list(dataset.items)
    else:
        raise DatasetError(f"{path}: not a data set folder nor a folder of .npy/.bvh motion files")
    if dataset.feature_dim != feature_dim:
        raise DatasetError(
            f"{path}: {dataset.feature_dim}-d features, but the model reads {feature_dim}-d"
        )
    return dataset, ids


def _available_splits(path: Path) -> list[str]:
    root = path / "splits" if is_tmr_folder(path) else path
    if (root / "all.txt").is_file():
        return ["all"]
    found = [s for s in ("train", "val", "test") if (root / f"{s}.txt").is_file()]
    if not found:
        read_split(root, "all")  # raises the "missing split file" error
    return found
