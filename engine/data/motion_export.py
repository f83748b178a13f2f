"""Export of a `Motion` as HumanML3D-style arrays or as a BVH file, written atomically.

`export_npy(motion, folder)` writes two plain float32 arrays (no pickle), in the layout of
the HumanML3D release so that its tools and `load_motion_file` read them back:
- `<id>_features.npy`: (T, 263), like `new_joint_vecs/<id>.npy`;
- `<id>_joints.npy`: (T, 22, 3) metres, Y up, 20 fps, like `new_joints/<id>.npy`.

`export_bvh(motion, path)` writes the 22-joint body as BVH at 20 fps (see
`engine.data.bvh.bvh_from_joints`), which Blender, bvhacker and other viewers open.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from engine.data.bvh import bvh_from_joints, write_bvh
from engine.motion.motion import Motion
from engine.storage import atomic_write_bytes


def export_npy(motion: Motion, folder: str | Path) -> tuple[Path, Path]:
    """Write `<id>_features.npy` and `<id>_joints.npy` into `folder`; return both paths."""
    folder = Path(folder)
    stem = safe_file_stem(motion.id)
    features = _write_array(folder / f"{stem}_features.npy", motion.features)
    joints = _write_array(folder / f"{stem}_joints.npy", motion.joints)
    return features, joints


def export_joints(motion: Motion, path: str | Path) -> Path:
    """Write the joints (T, 22, 3) alone as a .npy file at `path`."""
    return _write_array(Path(path), motion.joints)


def export_bvh(motion: Motion, path: str | Path, order: str = "ZYX") -> Path:
    """Write the motion as a BVH file with rotation channels in `order` (ZYX, ZXY or XYZ)."""
    return write_bvh(path, bvh_from_joints(motion.joints, fps=motion.fps, order=order))


def safe_file_stem(motion_id: str) -> str:
    """A motion id made safe as a file name: anything but letters, digits, '.', '-' and '_'
    becomes '_' (ids come from user file names and must not reach outside the folder)."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", motion_id).lstrip(".")
    return stem or "motion"


def _write_array(path: Path, array: np.ndarray) -> Path:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, dtype=np.float32), allow_pickle=False)
    return atomic_write_bytes(path, buffer.getvalue())
