"""Reader for TMR-style annotations: `annotations.json` + `splits/` + a features folder.

annotations.json: {"<keyid>": {"path": "KIT/3/kick_high_left02_poses", "duration": 5.82,
                    "annotations": [{"seg_id": "...", "text": "...", "start": 0.0,
                                     "end": 5.82}, ...]}, ...}
splits/<split>.txt: keyids
<motions>/<path>.npy: (T, 263) HumanML3D features at 20 fps (TMR's "guoh3dfeats")
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from engine.data.dataset import MotionItem, MotionTextDataset, expand_splits
from engine.data.humanml3d import DEFAULT_MIN_SECONDS, _read_features, read_split
from engine.errors import DatasetError
from engine.motion.skeleton import HUMANML3D

ANNOTATIONS_FILE = "annotations.json"


def is_tmr_folder(path: Path) -> bool:
    return (path / ANNOTATIONS_FILE).is_file()


def default_motions_dir(annotations_dir: Path) -> Path:
    """TMR's layout: datasets/annotations/<name>/ next to datasets/motions/guoh3dfeats/."""
    for candidate in (
        annotations_dir / "motions",
        annotations_dir.parent.parent / "motions" / "guoh3dfeats",
    ):
        if candidate.is_dir():
            return candidate
    raise DatasetError(
        f"{annotations_dir}: no features folder found (looked for motions/ beside "
        "annotations.json and ../../motions/guoh3dfeats); pass motions_dir"
    )


def load_tmr(
    annotations_dir: str | Path,
    splits: Iterable[str] = ("train", "val", "test"),
    motions_dir: str | Path | None = None,
    name: str | None = None,
    min_seconds: float = DEFAULT_MIN_SECONDS,
) -> MotionTextDataset:
    root = Path(annotations_dir)
    try:
        annotations = json.loads((root / ANNOTATIONS_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise DatasetError(f"{root / ANNOTATIONS_FILE}: unreadable ({error})") from None
    if not isinstance(annotations, dict):
        raise DatasetError(f"{root / ANNOTATIONS_FILE}: expected an object keyed by motion id")
    features_root = Path(motions_dir) if motions_dir else default_motions_dir(root)
    split_ids = {split: read_split(root / "splits", split) for split in splits}
    fps = HUMANML3D.fps
    dataset_name = name or root.name

    items: dict[str, MotionItem] = {}
    members: dict[str, list[str]] = {}
    problems: list[str] = []
    for keyid in dict.fromkeys(i for ids in split_ids.values() for i in ids):
        entry = annotations.get(keyid)
        if not isinstance(entry, dict) or not entry.get("annotations"):
            problems.append(f"{keyid}: no annotations in {ANNOTATIONS_FILE}")
            continue
        try:
            features = _read_features(features_root / f"{entry['path']}.npy", HUMANML3D)
        except (ValueError, KeyError) as error:
            problems.append(f"{keyid}: {error}")
            continue
        groups: dict[tuple[float, float], list[str]] = {}
        for annotation in entry["annotations"]:
            text = str(annotation.get("text", "")).strip()
            if text:
                span = (float(annotation.get("start", 0.0)), float(annotation.get("end", 0.0)))
                groups.setdefault(span, []).append(text)
        duration = float(entry.get("duration", len(features) / fps))
        created = []
        for (start, end), texts in groups.items():
            crop = features[int(start * fps) : int(end * fps)] if end > start else features
            if len(crop) < int(min_seconds * fps):
                continue
            whole = start == 0.0 and abs(end - duration) < 1.0 / fps
            item_id = keyid if whole else f"{keyid}#{start:g}-{end:g}"
            meta = {"path": entry["path"], "start": start, "end": end}
            items[item_id] = MotionItem(item_id, crop, texts, keyid, dataset_name, [], meta)
            created.append(item_id)
        if created:
            members[keyid] = created
        else:
            problems.append(f"{keyid}: every annotated segment is shorter than {min_seconds} s")
    if not items:
        raise DatasetError(f"{root}: no motion could be read ({'; '.join(problems[:5])})")
    return MotionTextDataset(
        name=dataset_name,
        root=root,
        skeleton=HUMANML3D,
        items=items,
        splits=expand_splits(split_ids, members),
        normalizer=None,
        problems=problems,
    )
