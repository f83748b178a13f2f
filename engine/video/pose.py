"""Per-frame 2-D and 3-D pose behind a small interface (`PoseEstimator`), and its
implementation with MediaPipe's legacy BlazePose (`MediaPipePose`; mediapipe 0.10.14 ships
the model inside its package and runs offline).

Landmarks follow BlazePose's 33-point layout (`BLAZEPOSE`); another estimator either
reports that layout or supplies its own names, and the lifting maps by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

BLAZEPOSE = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)

# Bones drawn over the video (pairs of BlazePose names)
BLAZEPOSE_BONES = (
    ("left_shoulder", "right_shoulder"),
    ("left_hip", "right_hip"),
    *(
        (f"{side}_{a}", f"{side}_{b}")
        for side in ("left", "right")
        for a, b in (
            ("shoulder", "elbow"),
            ("elbow", "wrist"),
            ("shoulder", "hip"),
            ("hip", "knee"),
            ("knee", "ankle"),
            ("ankle", "heel"),
            ("heel", "foot_index"),
            ("ankle", "foot_index"),
            ("ear", "eye"),
        )
    ),
    ("left_eye", "nose"),
    ("right_eye", "nose"),
)


@dataclass
class PoseFrame:
    """One person's pose in one image.

    `image` (N, 2): x, y in pixels of the image given; `world` (N, 3): metres, origin
    between the hips, axes as the camera's (x right, y down, z away from the camera);
    `confidence` (N,): 0..1, how likely each landmark is visible.
    """

    image: np.ndarray
    world: np.ndarray
    confidence: np.ndarray


class PoseEstimator(Protocol):
    """Finds one person's pose in RGB images of one video, in order."""

    landmark_names: tuple[str, ...]

    def estimate(self, rgb: np.ndarray) -> PoseFrame | None:
        """The pose in an RGB image (H, W, 3) uint8, or None when no person is found."""

    def reset(self) -> None:
        """Forget the previous frames (a new video or a new crop)."""

    def close(self) -> None: ...


class MediaPipePose:
    """MediaPipe's legacy BlazePose (full model, `model_complexity=1`: the only one that
    ships inside mediapipe 0.10.14; 0 and 2 would download theirs)."""

    landmark_names = BLAZEPOSE

    def __init__(self, min_detection_confidence: float = 0.5, static: bool = False) -> None:
        self._static = static
        self._confidence = min_detection_confidence
        self._pose = None

    def _make(self):
        import mediapipe as mp  # heavy (pulls jax); imported only when a video is read

        return mp.solutions.pose.Pose(
            static_image_mode=self._static,
            model_complexity=1,
            smooth_landmarks=True,
            min_detection_confidence=self._confidence,
            min_tracking_confidence=0.5,
        )

    def estimate(self, rgb: np.ndarray) -> PoseFrame | None:
        if self._pose is None:
            self._pose = self._make()
        result = self._pose.process(np.ascontiguousarray(rgb))
        if result.pose_landmarks is None or result.pose_world_landmarks is None:
            return None
        height, width = rgb.shape[:2]
        image = np.array([(p.x * width, p.y * height) for p in result.pose_landmarks.landmark])
        world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark])
        confidence = np.array([p.visibility for p in result.pose_landmarks.landmark])
        return PoseFrame(image, world, np.clip(confidence, 0.0, 1.0))

    def reset(self) -> None:
        self.close()

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None
