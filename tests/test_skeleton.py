from __future__ import annotations

import numpy as np

from engine.motion.skeleton import HUMANML3D, KIT, skeleton_for_feature_dim


def test_reference_bone_lengths_match_the_real_clip(real_joints):
    for parent, child in HUMANML3D.bones:
        measured = np.linalg.norm(real_joints[:, child] - real_joints[:, parent], axis=-1)
        assert abs(measured.mean() - HUMANML3D.bone_lengths[child]) < 1e-5


def test_tree_structure():
    assert HUMANML3D.num_joints == 22 and KIT.num_joints == 21
    assert HUMANML3D.feature_dim == 263 and KIT.feature_dim == 251
    assert HUMANML3D.parents[0] == -1 and HUMANML3D.parents[15] == 12
    assert KIT.parents[5] == 3 and KIT.parents[20] == 19
    assert skeleton_for_feature_dim(251) is KIT
    for skeleton in (HUMANML3D, KIT):
        perm = skeleton.mirror_permutation()
        assert sorted(perm) == list(range(skeleton.num_joints))
        assert np.array_equal(perm[perm], np.arange(skeleton.num_joints))
        assert np.allclose(np.linalg.norm(skeleton.raw_offsets[1:], axis=1), 1.0)
    assert HUMANML3D.side_of(HUMANML3D.index("left_wrist")) == "left"
    assert HUMANML3D.side_of(HUMANML3D.index("right_knee")) == "right"
    assert HUMANML3D.side_of(HUMANML3D.index("head")) is None
