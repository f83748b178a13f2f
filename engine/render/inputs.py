"""Checking the joints handed to rendering, once, with messages that say what is wrong."""

from __future__ import annotations

import numpy as np

from engine.motion.skeleton import SKELETONS, Skeleton, skeleton_for_joint_count
from engine.render.errors import RenderError


def prepare_joints(
    joints: np.ndarray, skeleton: Skeleton | None = None
) -> tuple[np.ndarray, Skeleton]:
    """Validate positions (T, J, 3) in metres; return them as float32 and their skeleton.

    The skeleton is the one given, or the known one with J joints (22: HumanML3D, 21: KIT).
    """
    try:
        array = np.asarray(joints, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise RenderError(f"joints must be a numeric array (T, J, 3): {error}") from None
    if array.ndim != 3 or array.shape[2] != 3:
        raise RenderError(f"joints must have shape (T, J, 3), got {array.shape}")
    if array.shape[0] == 0:
        raise RenderError("joints hold zero frames: there is no motion to render")
    skeleton = skeleton or _skeleton_for(array.shape[1])
    if array.shape[1] != skeleton.num_joints:
        raise RenderError(
            f"joints have {array.shape[1]} joints but skeleton {skeleton.name!r} "
            f"has {skeleton.num_joints}"
        )
    bad = ~np.isfinite(array)
    if bad.any():
        frames = np.unique(np.nonzero(bad)[0])
        shown = ", ".join(str(f) for f in frames[:5]) + (", ..." if len(frames) > 5 else "")
        raise RenderError(f"joints contain NaN or infinite values in frames {shown}")
    return np.ascontiguousarray(array), skeleton


def _skeleton_for(count: int) -> Skeleton:
    try:
        return skeleton_for_joint_count(count)
    except ValueError:
        known = ", ".join(f"{s.num_joints} ({s.name})" for s in SKELETONS.values())
        raise RenderError(
            f"joints have {count} joints per frame; renderable skeletons have {known}"
        ) from None
