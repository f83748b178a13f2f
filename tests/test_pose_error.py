"""PA-MPJPE (engine/evaluation/pose_error.py): blind to a similarity transform of each
frame, not to a changed pose."""

import numpy as np
import pytest

from engine.evaluation.pose_error import pa_mpjpe
from engine.motion.rotations import qrot


def test_a_moved_rotated_scaled_copy_has_no_error_and_a_bent_pose_has():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(5, 22, 3))
    turn = np.array([np.cos(0.6), 0.3, np.sin(0.6), 0.2])
    turn = turn / np.linalg.norm(turn)
    moved = 1.7 * qrot(np.broadcast_to(turn, (5, 22, 4)), truth) + np.array([3.0, -1.0, 2.0])
    assert pa_mpjpe(truth, moved) == pytest.approx(0.0, abs=1e-9)
    bent = truth.copy()
    bent[:, 20] += np.array([0.5, 0.0, 0.0])  # one joint moved by 0.5 in every frame
    error = pa_mpjpe(truth, bent)
    # least squares spreads the one moved joint over all: about its share of the mean
    assert 0.5 / 22 * 0.5 < error < 0.5 / 22 * 3
    mirrored = truth * np.array([-1.0, 1.0, 1.0])  # a reflection is not a rotation
    assert pa_mpjpe(truth, mirrored) > 0.1
    with pytest.raises(ValueError):
        pa_mpjpe(truth, moved[:4])
