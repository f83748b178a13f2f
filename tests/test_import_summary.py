"""What the importer decided, in words: generated motions written as BVH in other units, up
axes and handedness, and as .npy arrays, read back and summarised."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.bvh import read_bvh
from engine.data.corpus import generate_action
from engine.data.import_summary import import_summary
from engine.data.motion_export import export_bvh, export_joints
from engine.data.motion_import import load_motion_file
from engine.motion.motion import Motion
from tests.test_motion_import import Z_UP, save, transformed


@pytest.fixture(scope="module")
def wave() -> Motion:
    return Motion.from_joints("wave", generate_action("wave", seed=3).joints)


def test_bvh_in_centimetres_z_up_left_handed(tmp_path, wave):
    written = read_bvh(export_bvh(wave, tmp_path / "wave.bvh"))
    mirror_z_up = Z_UP @ np.diag([-1.0, 1, 1])
    path = save(transformed(written, mirror_z_up, 100.0), tmp_path / "studio.bvh")
    summary = import_summary(load_motion_file(path))
    facts = dict(summary.facts)
    assert facts["format"] == "BVH"
    frames = len(written.values)
    assert facts["frames"].startswith(f"{frames} at 20 fps in the file → {frames - 1} frames")
    assert facts["unit"].startswith("cm") and facts["up axis"].startswith("+z")
    assert facts["handedness"].startswith("a mirror image")
    assert facts["joints"].startswith("22 of 22 from the file's joints")
    assert summary.joint_map["left_wrist"] == "left_wrist"  # the names export_bvh writes


def test_npy_joints_and_a_crop(tmp_path, wave):
    path = export_joints(wave, tmp_path / "wave_joints.npy")
    motion = load_motion_file(path, max_seconds=1.0)
    summary = import_summary(motion)
    facts = dict(summary.facts)
    assert facts["format"] == "HumanML3D joints (frames, 22, 3)"
    assert facts["frames"] == "20 frames at 20 fps = 1.00 s (the file at 20 fps)"
    assert facts["unit"] == "m (as the format defines)"
    assert "its first 1 s were used" in facts["cropped"]
    assert summary.joint_map == {}
