"""Reading a video with OpenCV: what it is (`probe`), and its frames sampled at a fixed
rate and scaled to a maximum size (`sampled_frames`), with a clear `VideoFileError` for a
file that is not a video, is corrupt, uses a codec this build cannot decode, or is too long.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engine.errors import VideoFileError
from engine.video.config import DEFAULT, VideoConfig

# The first bytes of the containers a video upload comes in (MP4/MOV, WebM/MKV, AVI, Ogg,
# FLV, MPEG-PS, ASF/WMV): a file that opens with none of them is not a video at all,
# one that does but cannot be read is corrupt or uses an unsupported codec.
_CONTAINERS = (
    (0, b"ftyp", "MP4/MOV"),
    (0, b"\x1a\x45\xdf\xa3", "WebM/Matroska"),
    (0, b"RIFF", "AVI"),
    (0, b"OggS", "Ogg"),
    (0, b"FLV", "FLV"),
    (0, b"\x00\x00\x01\xba", "MPEG"),
    (0, b"\x30\x26\xb2\x75", "ASF/WMV"),
)
_MOV_ATOMS = (b"moov", b"mdat", b"wide", b"free", b"skip")


def container_of(path: Path) -> str | None:
    """The container the file's first bytes announce, or None."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if head[4:8] == b"ftyp" or head[4:8] in _MOV_ATOMS:
        return "MP4/MOV"
    for offset, magic, name in _CONTAINERS:
        if head[offset : offset + len(magic)] == magic:
            return name
    return None


@dataclass(frozen=True)
class VideoInfo:
    """What the video says of itself, and how it is sampled."""

    container: str
    codec: str  # FourCC, e.g. 'avc1', 'XVID'
    fps: float  # the source frame rate
    frame_count: int  # 0 when the container does not say (e.g. browser WebM recordings)
    width: int
    height: int
    sample_fps: float  # the rate frames are taken at: min(source, config.fps)
    scale: float  # frames are resized by this (<= 1) to fit config.max_side

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps if self.frame_count else 0.0


def _fourcc(capture: cv2.VideoCapture) -> str:
    code = int(capture.get(cv2.CAP_PROP_FOURCC))
    text = "".join(chr((code >> 8 * i) & 0xFF) for i in range(4))
    return text if text.isprintable() and text.strip() else "unknown"


def _avi_codec(path: Path) -> str | None:
    """The video codec an AVI's stream header declares (after 'strh' 'vids')."""
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    at = head.find(b"vids")
    code = head[at + 4 : at + 8] if at >= 0 else b""
    return code.decode("latin-1") if len(code) == 4 and code.isascii() else None


def _unopened(path: Path, container: str) -> str:
    codec = _avi_codec(path) if container == "AVI" else None
    if codec:
        return (
            f"the video's codec ({codec}) cannot be decoded here, or the file is corrupt; "
            "MP4 (H.264) and WebM (VP8/VP9) are known to work"
        )
    return (
        f"the {container} file is corrupt or truncated, or uses a codec that cannot be "
        "decoded here: it cannot be opened"
    )


def probe(path: str | Path, config: VideoConfig = DEFAULT) -> VideoInfo:
    """Open the video and check it: a `VideoFileError` says what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise VideoFileError(path, "no such file")
    if path.stat().st_size == 0:
        raise VideoFileError(path, "the file is empty")
    container = container_of(path)
    if container is None:
        raise VideoFileError(
            path, "is not a video (accepted: MP4, MOV, WebM, MKV, AVI, Ogg, FLV, MPEG, WMV)"
        )
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            raise VideoFileError(path, _unopened(path, container))
        codec = _fourcc(capture)
        ok, frame = capture.read()
        if not ok or frame is None:
            raise VideoFileError(
                path,
                f"the video's codec ({codec}) cannot be decoded here, or the file is corrupt: "
                "no frame could be read; MP4 (H.264) and WebM (VP8/VP9) are known to work",
            )
        fps = capture.get(cv2.CAP_PROP_FPS)
        count = max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
    finally:
        capture.release()
    if not 0 < fps < 1000:
        fps = 30.0  # a browser recording may not say; its timestamps are used when read
    height, width = frame.shape[:2]
    info = VideoInfo(
        container=container,
        codec=codec,
        fps=float(fps),
        frame_count=count,
        width=width,
        height=height,
        sample_fps=min(float(fps), config.fps),
        scale=min(1.0, config.max_side / max(width, height)),
    )
    if info.duration > config.max_seconds:
        raise VideoFileError(path, _too_long(info.duration, config))
    return info


def _too_long(seconds: float, config: VideoConfig) -> str:
    return (
        f"the video is too long: {seconds:.1f} s, at most {config.max_seconds:g} s are "
        "accepted; trim it to the movement you want to search for"
    )


def sampled_frames(
    path: str | Path, info: VideoInfo, config: VideoConfig = DEFAULT
) -> Iterator[np.ndarray]:
    """BGR frames (H, W, 3) at `info.sample_fps`, scaled by `info.scale`.

    Frames between samples are grabbed but not converted. A file that ends well before
    the frame count it declares is corrupt (truncated) and raises; a video that turns
    out longer than the cap (its header did not say) raises when it passes the cap.
    """
    path = Path(path)
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    step = info.fps / info.sample_fps
    next_sample, index = 0.0, 0
    try:
        while True:
            if index / info.fps > config.max_seconds:
                raise VideoFileError(path, _too_long(index / info.fps, config))
            if index + 0.5 < next_sample:
                if not capture.grab():
                    break
                index += 1
                continue
            ok, frame = capture.read()
            if not ok or frame is None:
                break
            index += 1
            next_sample += step
            if info.scale < 1.0:
                frame = cv2.resize(
                    frame, None, fx=info.scale, fy=info.scale, interpolation=cv2.INTER_AREA
                )
            yield frame
    finally:
        capture.release()
    if info.frame_count and index < 0.9 * info.frame_count - 1:
        raise VideoFileError(
            path,
            f"the {info.container} file is corrupt or truncated: only {index} of its "
            f"{info.frame_count} frames could be decoded",
        )
