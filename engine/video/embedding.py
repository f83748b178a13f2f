"""Where a video query lands in the shared space: the lifted motion through the motion
encoder, combined with the video encoder's embedding of the landmark track when a video
encoder trained into this model's space ships (engine/models/video_encoder.py; measured
in docs/video.md)."""

from __future__ import annotations

import numpy as np

from engine.models.video_encoder import combined, shipped_video_encoder
from engine.search import SearchEngine
from engine.video.pipeline import VideoMotion

LIFTING = "lifting"
BOTH = "lifting + video encoder"


def video_query_vector(engine: SearchEngine, result: VideoMotion) -> tuple[np.ndarray, str]:
    """The query vector of a video and which way in made it (LIFTING or BOTH)."""
    lifted = engine.embed_motion(result.motion.features)
    video_encoder = shipped_video_encoder(engine.encoder.fingerprint)
    if video_encoder is None:
        return lifted, LIFTING
    return combined(lifted, video_encoder.embed([result.track])[0]), BOTH
