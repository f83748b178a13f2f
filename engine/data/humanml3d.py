"""Reader for the HumanML3D and KIT-ML folder format (also what the corpus generator writes).

<root>/new_joint_vecs/<id>.npy   (T, 263) or, for KIT-ML, (T, 251) float32 features
<root>/texts/<id>.txt            `caption#word/POS ...#start#end` per line
<root>/{train,val,test,all}.txt  ids, one per line
<root>/Mean.npy, <root>/Std.npy  statistics
<root>/meta/<id>.json            optional (the procedural corpus): action segments
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from engine.data.dataset import Caption, MotionItem, MotionTextDataset, expand_splits
from engine.errors import DatasetError
from engine.motion.features import features_to_joints, joints_to_features
from engine.motion.normalization import Normalizer
from engine.motion.skeleton import HUMANML3D, KIT, Skeleton, skeleton_for_feature_dim

FEATURES_DIR = "new_joint_vecs"
TEXTS_DIR = "texts"
META_DIR = "meta"
# HumanML3D's own loaders drop clips shorter than 40 frames (2 s at 20 fps); KIT-ML's, 24.
DEFAULT_MIN_SECONDS = 2.0


def is_humanml3d_folder(path: Path) -> bool:
    return (path / FEATURES_DIR).is_dir()


def parse_caption_line(line: str) -> Caption:
    """Parse `caption#tokens#start#end`; a bare caption (no '#') covers the whole clip."""
    parts = line.rstrip("\n").split("#")
    text = parts[0].strip()
    if not text:
        raise ValueError("empty caption")
    tokens = tuple(parts[1].split()) if len(parts) > 1 else ()
    start = end = 0.0
    if len(parts) >= 4:
        start = _seconds(parts[2])
        end = _seconds(parts[3])
    return Caption(text, tokens, start, end)


def read_captions(path: Path) -> list[Caption]:
    if not path.is_file():
        raise ValueError("missing caption file")
    captions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            captions.append(parse_caption_line(line))
        except ValueError as error:
            raise ValueError(f"line {number}: {error}") from None
    if not captions:
        raise ValueError("empty caption file")
    return captions


def read_split(root: Path, name: str) -> list[str]:
    path = root / f"{name}.txt"
    if not path.is_file():
        available = sorted(p.stem for p in root.glob("*.txt"))
        raise DatasetError(
            f"{root}: missing split file {path.name} (split files here: "
            f"{', '.join(available) or 'none'})"
        )
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def load_humanml3d(
    root: str | Path,
    splits: Iterable[str] = ("train", "val", "test"),
    name: str | None = None,
    to_humanml3d: bool = False,
    min_seconds: float = DEFAULT_MIN_SECONDS,
) -> MotionTextDataset:
    """Load a HumanML3D- or KIT-ML-format folder.

    Files that cannot be used are skipped and reported in `problems` (file and reason);
    the load fails only when no item at all can be read. With `to_humanml3d`, KIT-ML
    motions are converted to the 22-joint 263-d representation (joint-dataset training).
    Captions with start/end times become separate items cropped to those seconds.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder")
    if not is_humanml3d_folder(root):
        raise DatasetError(f"{root}: no {FEATURES_DIR}/ folder, so not a HumanML3D/KIT-ML folder")
    split_ids = {split: read_split(root, split) for split in splits}
    ids = list(dict.fromkeys(i for members in split_ids.values() for i in members))
    source = _detect_skeleton(root, ids)
    target = HUMANML3D if (to_humanml3d and source is KIT) else source
    min_frames = round(min_seconds * source.fps)

    items: dict[str, MotionItem] = {}
    members: dict[str, list[str]] = {}
    problems: list[str] = []
    dataset_name = name or root.name
    for motion_id in ids:
        try:
            loaded = _load_motion(root, motion_id, source, target, dataset_name, min_frames)
        except ValueError as error:
            problems.append(f"{motion_id}: {error}")
            continue
        for item in loaded:
            items[item.id] = item
        members[motion_id] = [item.id for item in loaded]
    if not items:
        detail = "; ".join(problems[:5])
        raise DatasetError(f"{root}: no motion could be read ({detail})")
    return MotionTextDataset(
        name=dataset_name,
        root=root,
        skeleton=target,
        items=items,
        splits=expand_splits(split_ids, members),
        normalizer=_load_statistics(root, target, source),
        problems=problems,
    )


def _load_motion(
    root: Path, motion_id: str, source: Skeleton, target: Skeleton, dataset: str, min_frames: int
) -> list[MotionItem]:
    features = _read_features(root / FEATURES_DIR / f"{motion_id}.npy", source)
    try:
        captions = read_captions(root / TEXTS_DIR / f"{motion_id}.txt")
    except ValueError as error:
        raise ValueError(f"{TEXTS_DIR}/{motion_id}.txt: {error}") from None
    meta = _read_meta(root / META_DIR / f"{motion_id}.json")
    actions = list(dict.fromkeys(s["action"] for s in meta.get("segments", []) if "action" in s))

    groups: dict[tuple[float, float], list[str]] = {}
    for caption in captions:
        groups.setdefault((caption.start, caption.end), []).append(caption.text)
    items = []
    for (start, end), texts in groups.items():
        if (start, end) == (0.0, 0.0):
            item_id, crop = motion_id, features
        else:
            item_id = f"{motion_id}#{start:g}-{end:g}"
            crop = features[int(start * source.fps) : int(end * source.fps)]
        if len(crop) < min_frames:
            continue
        if target is not source:
            crop = convert_kit_features(crop)
        items.append(
            MotionItem(
                item_id,
                crop,
                texts,
                motion_id,
                dataset,
                actions,
                {**meta, "start": start, "end": end},
            )
        )
    if not items:
        raise ValueError(f"shorter than {min_frames} frames (or every captioned crop is)")
    return items


def _read_features(path: Path, skeleton: Skeleton) -> np.ndarray:
    if not path.is_file():
        raise ValueError(f"{FEATURES_DIR}/{path.name}: missing features file")
    try:
        features = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise ValueError(f"{FEATURES_DIR}/{path.name}: unreadable .npy ({error})") from None
    if features.ndim != 2 or features.shape[1] != skeleton.feature_dim:
        raise ValueError(
            f"{FEATURES_DIR}/{path.name}: shape {features.shape}, expected "
            f"(frames, {skeleton.feature_dim})"
        )
    if not np.isfinite(features).all():
        raise ValueError(f"{FEATURES_DIR}/{path.name}: contains NaN or infinite values")
    return features.astype(np.float32, copy=False)


def _read_meta(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{META_DIR}/{path.name}: invalid JSON ({error})") from None
    return meta if isinstance(meta, dict) else {}


def _detect_skeleton(root: Path, ids: list[str]) -> Skeleton:
    for motion_id in ids[:50]:
        path = root / FEATURES_DIR / f"{motion_id}.npy"
        if path.is_file():
            try:
                shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
                return skeleton_for_feature_dim(shape[-1])
            except ValueError:
                continue
    raise DatasetError(f"{root}: none of the first feature files has 263 or 251 values per frame")


def _load_statistics(root: Path, target: Skeleton, source: Skeleton) -> Normalizer | None:
    if target is not source or not (root / "Mean.npy").is_file():
        return None  # converted data: statistics are refitted on the train split
    normalizer = Normalizer.load(root)
    if normalizer.dim != target.feature_dim:
        raise DatasetError(
            f"{root}: Mean.npy has {normalizer.dim} values, features {target.feature_dim}"
        )
    return normalizer


def convert_kit_features(features: np.ndarray) -> np.ndarray:
    """KIT-ML 251-d features → the 22-joint 263-d representation at 20 fps."""
    from engine.data.kit import kit_to_humanml3d_joints

    joints = kit_to_humanml3d_joints(features_to_joints(features, KIT))
    return joints_to_features(joints, HUMANML3D)


def _seconds(text: str) -> float:
    """A start/end time; HumanML3D writes `nan` for 'whole clip' in some files."""
    try:
        value = float(text) if text.strip() else 0.0
    except ValueError:
        raise ValueError(f"bad time {text!r}") from None
    if np.isnan(value):
        return 0.0
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"bad time {text!r}")
    return value
