"""The tracker's re-detection cadence (engine/video/track.py): the people detector costs
~0.1 s of CPU per 640x480 frame, so while the person is lost it runs every
`redetect_seconds` of video, whatever the sampling rate."""

from __future__ import annotations

import numpy as np
import pytest

from engine.video.config import VideoConfig
from engine.video.pose import BLAZEPOSE
from engine.video.track import PersonTracker


class _Nobody:
    landmark_names = BLAZEPOSE

    def estimate(self, rgb: np.ndarray) -> None:
        return None

    def reset(self) -> None: ...

    def close(self) -> None: ...


class _CountingDetector:
    def __init__(self) -> None:
        self.calls = 0

    def detect(self, bgr: np.ndarray) -> list:
        self.calls += 1
        return [((10.0, 10.0, 40.0, 100.0), 1.0)]  # someone who is never a pose


@pytest.mark.parametrize("fps", [10.0, 20.0, 30.0])
def test_a_lost_person_is_searched_for_every_half_second_of_video(fps):
    detector = _CountingDetector()
    tracker = PersonTracker(_Nobody(), VideoConfig(redetect_seconds=0.5), detector)
    seconds = 4.0
    frames = [np.zeros((120, 160, 3), np.uint8)] * round(seconds * fps)
    track = tracker.track(frames, fps)
    assert not track.found.any()
    assert detector.calls == pytest.approx(seconds / 0.5, abs=1)
