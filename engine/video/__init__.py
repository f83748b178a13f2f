"""Video as a motion query: decode, follow the main person, estimate their pose per frame
and lift it to the 22-joint body (docs/video.md). No UI import."""

from engine.video.config import VideoConfig
from engine.video.pipeline import VideoMotion, video_to_motion
from engine.video.pose import BLAZEPOSE, MediaPipePose, PoseEstimator, PoseFrame
from engine.video.track import PoseTrack

__all__ = [
    "BLAZEPOSE",
    "MediaPipePose",
    "PoseEstimator",
    "PoseFrame",
    "PoseTrack",
    "VideoConfig",
    "VideoMotion",
    "video_to_motion",
]
