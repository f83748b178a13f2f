"""A plain folder of motion files (`.npy`, `.bvh`) as a data set, e.g. a user's library.

Each file becomes one item whose id is the file name without its extension. Captions are
optional: a sidecar `<name>.txt` next to the file, one caption per line (HumanML3D's
`caption#tokens#start#end` lines work too). Unreadable files are reported, not fatal.
"""

from __future__ import annotations

from pathlib import Path

from engine.data.dataset import MotionItem, MotionTextDataset
from engine.data.humanml3d import read_captions
from engine.data.motion_import import load_motion_file
from engine.errors import DatasetError, MotionFileError
from engine.motion.skeleton import HUMANML3D

MOTION_SUFFIXES = (".npy", ".bvh")
SPLIT = "all"


def motion_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.suffix.lower() in MOTION_SUFFIXES and p.is_file()
    )


def is_motion_folder(path: Path) -> bool:
    return path.is_dir() and bool(motion_files(path))


def load_motion_folder(folder: str | Path, name: str | None = None) -> MotionTextDataset:
    folder = Path(folder)
    files = motion_files(folder) if folder.is_dir() else []
    if not files:
        raise DatasetError(f"{folder}: no .npy or .bvh motion files here")
    items: dict[str, MotionItem] = {}
    problems: list[str] = []
    dataset = name or folder.name
    for path in files:
        try:
            motion = load_motion_file(path)
        except MotionFileError as error:
            problems.append(str(error))
            continue
        if motion.id in items:
            problems.append(f"{path}: another file is also named {motion.id!r}; skipped")
            continue
        captions = []
        sidecar = path.with_suffix(".txt")
        if sidecar.is_file():
            try:
                captions = [c.text for c in read_captions(sidecar)]
            except ValueError as error:
                problems.append(f"{sidecar}: {error}")
        items[motion.id] = MotionItem(
            motion.id, motion.features, captions, motion.id, dataset, [], {"file": path.name}
        )
    if not items:
        raise DatasetError(f"{folder}: no motion file could be read ({'; '.join(problems[:5])})")
    return MotionTextDataset(
        dataset, folder, HUMANML3D, items, {SPLIT: list(items)}, None, problems
    )
