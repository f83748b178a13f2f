"""The honest notice through the running app: a motion query unlike the training motions
says so in its records (and above its results in the page); a familiar one does not."""

from __future__ import annotations

import numpy as np

from engine.data.corpus import generate_action
from engine.training.augment import SPINE3, rotate_subtree
from tests.test_app import app, app_cache, client  # noqa: F401  (fixtures)


def twisted(joints: np.ndarray) -> np.ndarray:
    """The upper body wrenched back and forth by up to 100° about the upper spine: a pose
    no training motion (nor its variants, ±20° per joint) comes near."""
    t = np.arange(len(joints)) / 20.0
    rotvec = np.zeros((len(joints), 3))
    rotvec[:, 0] = 1.75 * np.sin(2 * np.pi * 1.3 * t)
    rotvec[:, 2] = 1.2 * np.cos(2 * np.pi * 0.9 * t)
    return rotate_subtree(joints, SPINE3, rotvec)


def test_motion_query_records_say_whether_the_motion_is_familiar(client, tmp_path):  # noqa: F811
    from gradio_client import handle_file

    walking = generate_action("walk_forward", seed=2).joints
    plain, odd = tmp_path / "walk.npy", tmp_path / "twisted.npy"
    np.save(plain, walking)
    np.save(odd, twisted(walking))
    records, _, _ = client.predict(handle_file(str(plain)), k=3, api_name="/search_motion")
    assert all(r["familiar"] for r in records) and records[0]["familiarity_notice"] == ""
    records, _, _ = client.predict(handle_file(str(odd)), k=3, api_name="/search_motion")
    assert not records[0]["familiar"]
    notice = records[0]["familiarity_notice"]
    assert "unlike the motions the model was trained on" in notice
    assert "spine" in notice or "neck" in notice  # the wrenched joints, named
