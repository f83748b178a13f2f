"""What the importer decided about a user's motion file, in words a person can check
(frames, duration, unit, up axis, handedness, which joints were mapped): read from the
`meta` that `load_motion_file` leaves on the `Motion`."""

from __future__ import annotations

from dataclasses import dataclass

from engine.motion.motion import Motion
from engine.motion.skeleton import HUMANML3D

# what each .npy format is defined to hold (nothing about it is detected)
_NPY_FORMATS = {
    "humanml3d_features": ("HumanML3D features (frames, 263)", "m", "+y"),
    "humanml3d_joints": ("HumanML3D joints (frames, 22, 3)", "m", "+y"),
    "kit_features": ("KIT-ML features (frames, 251), converted to the 22-joint body", "mm", "+y"),
    "kit_joints": ("KIT-ML joints (frames, 21, 3), converted to the 22-joint body", "mm", "+y"),
}


@dataclass
class ImportSummary:
    """`facts`: (what, decision) pairs; `joint_map`: body joint -> where it came from in the
    file (a joint's name, 'End Site of X' or 'placed'); empty for .npy formats."""

    facts: list[tuple[str, str]]
    joint_map: dict[str, str]


def import_summary(motion: Motion) -> ImportSummary:
    meta = motion.meta
    fps = meta.get("source_fps", motion.fps)
    timing = f"{motion.num_frames} frames at {motion.fps:g} fps = {motion.duration:.2f} s"
    if meta.get("format") == "bvh":
        facts = [
            ("format", "BVH"),
            ("frames", f"{meta.get('source_frames', '?')} at {fps:g} fps in the file → {timing}"),
            ("unit", f"{meta['unit']} (detected from the body's size)"),
            ("up axis", f"{meta['up_axis']} (detected: the head above the feet), turned to +y"),
            (
                "handedness",
                "a mirror image (left-handed axes), mirrored back"
                if meta.get("mirrored")
                else "right-handed, kept",
            ),
        ]
    else:
        name, unit, up = _NPY_FORMATS.get(meta.get("format"), ("motion", "m", "+y"))
        facts = [
            ("format", name),
            ("frames", f"{timing} (the file at {fps:g} fps)"),
            ("unit", f"{unit} (as the format defines)"),
            ("up axis", f"{up} (as the format defines)"),
        ]
    if "cropped_from_seconds" in meta:
        facts.append(
            (
                "cropped",
                f"the file is {meta['cropped_from_seconds']:.1f} s long; its first "
                f"{meta['cropped_to_seconds']:g} s were used",
            )
        )
    joint_map = dict(meta.get("joint_map") or {})
    if joint_map:
        placed = [name for name, source in joint_map.items() if source == "placed"]
        found = len(joint_map) - len(placed)
        text = f"{found} of {HUMANML3D.num_joints} from the file's joints"
        if placed:
            text += f"; placed between others: {', '.join(placed)}"
        facts.append(("joints", text))
    return ImportSummary(facts, joint_map)
