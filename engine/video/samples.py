"""Real footage that may be on this machine: OpenCV's pedestrian clip `vtest.avi` (768x576,
10 fps, 80 s), shipped by Debian's `opencv-doc` package (`apt-get install opencv-doc`, or
`apt-get download opencv-doc && dpkg -x opencv-doc_*.deb DIR` and set OPENCV_VTEST)."""

from __future__ import annotations

import os
from pathlib import Path

DEBIAN_VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


def find_vtest() -> Path | None:
    """vtest.avi from $OPENCV_VTEST or Debian's opencv-doc, or None."""
    for candidate in (os.environ.get("OPENCV_VTEST"), DEBIAN_VTEST):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def clip(source: str | Path, target: str | Path, start: float, seconds: float) -> Path:
    """`seconds` of a video from `start` as a browser-playable H.264 MP4 at `target`."""
    import cv2

    from engine.render.settings import RenderSettings
    from engine.render.video import write_mp4

    capture = cv2.VideoCapture(str(source))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    capture.set(cv2.CAP_PROP_POS_FRAMES, round(start * fps))
    width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)) // 2 * 2
    height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) // 2 * 2

    def frames():
        for _ in range(round(seconds * fps)):
            ok, frame = capture.read()
            if not ok:
                return
            yield cv2.cvtColor(frame[:height, :width], cv2.COLOR_BGR2RGB)

    try:
        return write_mp4(frames(), target, fps, RenderSettings(width=width, height=height))
    finally:
        capture.release()
