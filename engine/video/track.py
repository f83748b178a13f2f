"""Finding the main person of a video and following them: a crop around them for the pose
estimator (people in real footage are often small), moved with them from frame to frame.

The person is found with OpenCV's HOG people detector (the largest, i.e. nearest, person
is followed; when there are several a note says which), or, where HOG finds nobody (a
close-up, a person sitting), by the pose estimator on the whole frame. The crop is the
previous frame's landmarks' box with a margin; after a few frames without a pose the
person is searched for again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np

from engine.video.config import DEFAULT, VideoConfig
from engine.video.pose import PoseEstimator, PoseFrame

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


@dataclass
class PoseTrack:
    """The followed person's pose in each sampled frame.

    `image` (T, N, 2) pixels of the (scaled) frame, `world` (T, N, 3) metres (camera axes,
    origin between the hips), `confidence` (T, N); frames where no pose was found
    (`found` False) hold NaN until `filled` interpolates them.
    """

    landmark_names: tuple[str, ...]
    fps: float
    frame_size: tuple[int, int]  # width, height
    image: np.ndarray
    world: np.ndarray
    confidence: np.ndarray
    found: np.ndarray
    boxes: np.ndarray  # (T, 4) the crop used in each frame (NaN: the whole frame)
    notes: list[str] = field(default_factory=list)
    first_frame: int = 0  # the sampled frame this track starts at (`filled` trims)

    def __len__(self) -> int:
        return len(self.found)

    def index(self, name: str) -> int:
        return self.landmark_names.index(name)

    def filled(self) -> PoseTrack:
        """Gaps interpolated linearly in time, frames before the first and after the last
        found pose cut off; `found` still says which frames were estimated."""
        hits = np.flatnonzero(self.found)
        if len(hits) == 0:
            return self
        keep = slice(hits[0], hits[-1] + 1)
        found = self.found[keep]
        times, known = np.arange(len(found)), np.flatnonzero(found)

        def fill(values: np.ndarray) -> np.ndarray:
            flat = values[keep].reshape(len(found), -1).copy()
            for column in range(flat.shape[1]):
                flat[:, column] = np.interp(times, known, flat[known, column])
            return flat.reshape(values[keep].shape)

        return PoseTrack(
            self.landmark_names,
            self.fps,
            self.frame_size,
            fill(self.image),
            fill(self.world),
            np.where(found[:, None], self.confidence[keep], 0.0),
            found,
            self.boxes[keep],
            list(self.notes),
            self.first_frame + int(hits[0]),
        )


class PeopleDetector:
    """OpenCV's HOG + linear SVM pedestrian detector (ships with OpenCV, no download)."""

    def __init__(self, min_score: float = 0.5) -> None:
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self._min_score = min_score

    def detect(self, bgr: np.ndarray) -> list[tuple[Box, float]]:
        """People boxes with their scores, largest first."""
        rects, scores = self._hog.detectMultiScale(
            bgr, winStride=(8, 8), padding=(8, 8), scale=1.05
        )
        found = [
            ((float(x), float(y), float(x + w), float(y + h)), float(s))
            for (x, y, w, h), s in zip(rects, np.ravel(scores), strict=True)
            if s >= self._min_score
        ]
        return sorted(found, key=lambda item: -_area(item[0]))


def _area(box: Box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def grow_box(box: Box, margin: float, size: tuple[int, int]) -> Box:
    """A square box around `box`, its longer side grown by `margin` on each side, moved
    inside the frame where it can be."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * (1.0 + 2.0 * margin)
    side = min(side, max(size))
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    left = min(max(cx - side / 2.0, 0.0), max(size[0] - side, 0.0))
    top = min(max(cy - side / 2.0, 0.0), max(size[1] - side, 0.0))
    return left, top, left + side, top + side


def _near(people: list[tuple[Box, float]], last: Box) -> list[tuple[Box, float]]:
    """The detections whose centre lies within the last box's size of its centre,
    nearest first: a person lost behind others is picked up again, not someone else."""
    centre = np.array([(last[0] + last[2]) / 2.0, (last[1] + last[3]) / 2.0])
    reach = max(last[2] - last[0], last[3] - last[1])

    def distance(box: Box) -> float:
        return float(
            np.hypot((box[0] + box[2]) / 2.0 - centre[0], (box[1] + box[3]) / 2.0 - centre[1])
        )

    close = [(box, score) for box, score in people if distance(box) <= reach]
    return sorted(close, key=lambda item: distance(item[0]))


def _where(box: Box, width: int) -> str:
    centre = (box[0] + box[2]) / 2.0 / width
    return "left" if centre < 1 / 3 else "right" if centre > 2 / 3 else "centre"


class PersonTracker:
    """Follows the main person through a video's frames with a `PoseEstimator`."""

    def __init__(
        self,
        estimator: PoseEstimator,
        config: VideoConfig = DEFAULT,
        detector: PeopleDetector | None = None,
    ) -> None:
        self.estimator = estimator
        self.config = config
        self.detector = detector or PeopleDetector(config.min_detection_score)

    def track(
        self,
        frames: Iterable[np.ndarray],
        fps: float,
        progress: Callable[[int], None] | None = None,
    ) -> PoseTrack:
        """The pose in each BGR frame; `progress(frames_done)` after each."""
        self.estimator.reset()
        names = self.estimator.landmark_names
        poses: list[PoseFrame | None] = []
        boxes: list[Box | None] = []
        notes: list[str] = []
        box: Box | None = None
        last: Box | None = None  # where the person was last seen
        misses, size = 0, (0, 0)
        redetect_after = max(1, round(self.config.redetect_seconds * fps))  # frames
        for number, frame in enumerate(frames):
            size = (frame.shape[1], frame.shape[0])
            if box is None and misses % redetect_after == 0:
                box = self._find_person(frame, notes, last)
            pose = self._estimate(frame, box)
            if pose is not None and not self._plausible(pose, box):
                pose = None
            if pose is None:
                misses += 1
                if misses >= redetect_after and box is not None:
                    box, misses = None, 0
                    self.estimator.reset()
            else:
                misses = 0
                box = last = self._box_around(pose, size)
            poses.append(pose)
            boxes.append(box)
            if progress:
                progress(number + 1)
        return _stack(names, fps, size, poses, boxes, notes)

    def _find_person(self, frame: np.ndarray, notes: list[str], last: Box | None) -> Box | None:
        """The crop of the largest person in view, or, once someone has been followed,
        of the person nearest to where they were last seen (None: nobody there)."""
        people = self.detector.detect(frame)
        if last is not None:
            people = _near(people, last)
        if not people:
            return None  # the estimator then looks at the whole frame
        main = people[0][0]
        if len(people) > 1 and not notes:
            notes.append(
                f"{len(people)} people are in view; the largest (nearest), at the "
                f"{_where(main, frame.shape[1])} of the picture, was followed"
            )
        return grow_box(main, self.config.crop_margin, (frame.shape[1], frame.shape[0]))

    def _estimate(self, frame: np.ndarray, box: Box | None) -> PoseFrame | None:
        x0, y0 = (0, 0) if box is None else (int(box[0]), int(box[1]))
        x1, y1 = (frame.shape[1], frame.shape[0]) if box is None else (int(box[2]), int(box[3]))
        crop = frame[y0:y1, x0:x1]
        if crop.size == 0:
            return None
        pose = self.estimator.estimate(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
        if pose is not None:
            pose.image = pose.image + np.array([x0, y0], dtype=float)
        return pose

    def _plausible(self, pose: PoseFrame, box: Box | None) -> bool:
        """A pose that counts: its torso (shoulders and hips) seen with confidence, and
        inside the crop it was searched in (the estimator's own tracking can drift onto
        a pole or a sign when the person is lost)."""
        names = self.estimator.landmark_names
        torso = [names.index(f"{s}_{p}") for s in ("left", "right") for p in ("shoulder", "hip")]
        if pose.confidence[torso].mean() < self.config.min_confidence:
            return False
        if box is None:
            return True
        centre = pose.image[torso].mean(0)
        return bool(box[0] <= centre[0] <= box[2] and box[1] <= centre[1] <= box[3])

    def _box_around(self, pose: PoseFrame, size: tuple[int, int]) -> Box:
        seen = pose.confidence >= self.config.min_confidence
        points = pose.image[seen] if seen.sum() >= 4 else pose.image
        (x0, y0), (x1, y1) = points.min(0), points.max(0)
        return grow_box((x0, y0, x1, y1), self.config.crop_margin, size)


def _stack(
    names: tuple[str, ...],
    fps: float,
    size: tuple[int, int],
    poses: list[PoseFrame | None],
    boxes: list[Box | None],
    notes: list[str],
) -> PoseTrack:
    count, n = len(poses), len(names)
    image = np.full((count, n, 2), np.nan)
    world = np.full((count, n, 3), np.nan)
    confidence = np.zeros((count, n))
    for t, pose in enumerate(poses):
        if pose is not None:
            image[t], world[t], confidence[t] = pose.image, pose.world, pose.confidence
    found = np.array([p is not None for p in poses], dtype=bool)
    box_array = np.array([b if b is not None else (np.nan,) * 4 for b in boxes]).reshape(-1, 4)
    return PoseTrack(names, fps, size, image, world, confidence, found, box_array, notes)
