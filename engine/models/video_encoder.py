"""The video encoder: a followed person's landmark sequence (`PoseTrack`, what the pose
estimator reported) straight into the shared text–motion space, without lifting.

Input per frame (`observation_features`): the 33 image landmarks relative to the hip
centre in units of the clip's median torso length (so neither the picture's size nor the
person's distance matters), the world landmarks (metres, camera axes, hip-centred), the
visibilities, and the hip centre's image path and apparent size change (where the person
goes). Frames are taken at 10 fps. A small Transformer over time, mean-pooled, projected
to the shared space and L2-normalised.

A `VideoEncoderFile` is tied to the text and motion encoders it was trained against (their
checkpoint fingerprint): against any other model its embeddings mean nothing, and
`load_video_encoder` refuses it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from engine.defaults import ASSETS_DIR
from engine.errors import EngineError
from engine.video.track import PoseTrack

SHIPPED_VIDEO_ENCODER = ASSETS_DIR / "video_encoder.safetensors"
FORMAT = "video-encoder/2"
INPUT_FPS = 10.0
MAX_FRAMES = 100  # 10 s at INPUT_FPS; longer clips are cut to their middle


@dataclass(frozen=True)
class VideoEncoderConfig:
    embed_dim: int = 256
    width: int = 128
    layers: int = 2
    heads: int = 4
    dropout: float = 0.1


DEFAULT_VIDEO_ENCODER = VideoEncoderConfig()


def _mid(points: np.ndarray, track: PoseTrack, name: str) -> np.ndarray:
    return (points[:, track.index(f"left_{name}")] + points[:, track.index(f"right_{name}")]) / 2


def observation_features(track: PoseTrack) -> np.ndarray:
    """(T', D) float32 model input of a gap-filled track, at INPUT_FPS."""
    step = max(1, round(track.fps / INPUT_FPS))
    image, world = track.image[::step].astype(np.float64), track.world[::step]
    confidence = track.confidence[::step]
    hips = _mid(image, track, "hip")
    torso = np.linalg.norm(_mid(image, track, "shoulder") - hips, axis=1)
    unit = max(float(np.median(torso)), 1e-3)
    relative = (image - hips[:, None]) / unit
    path = (hips - hips[0]) / unit
    size = np.log(np.maximum(torso, 1e-3) / unit)[:, None]
    frames = np.concatenate(
        [
            relative.reshape(len(image), -1),
            world.reshape(len(image), -1),
            confidence,
            path,
            size,
        ],
        axis=1,
    )
    if len(frames) > MAX_FRAMES:
        start = (len(frames) - MAX_FRAMES) // 2
        frames = frames[start : start + MAX_FRAMES]
    return np.nan_to_num(frames.astype(np.float32))


class VideoEncoder(nn.Module):
    def __init__(self, input_dim: int, config: VideoEncoderConfig) -> None:
        super().__init__()
        self.input = nn.Sequential(
            nn.Linear(input_dim, config.width), nn.GELU(), nn.Linear(config.width, config.width)
        )
        self.position = nn.Parameter(torch.zeros(MAX_FRAMES, config.width))
        layer = nn.TransformerEncoderLayer(
            config.width,
            config.heads,
            2 * config.width,
            config.dropout,
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.output = nn.Linear(config.width, config.embed_dim)

    def forward(self, frames: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        """frames (B, T, D) normalised, padding (B, T) True where there is no frame."""
        hidden = self.input(frames) + self.position[: frames.shape[1]]
        hidden = self.encoder(hidden, src_key_padding_mask=padding)
        keep = (~padding).unsqueeze(-1).float()
        pooled = (hidden * keep).sum(1) / keep.sum(1).clamp(min=1.0)
        return nn.functional.normalize(self.output(pooled), dim=-1)


def batch(features: list[np.ndarray], mean: np.ndarray, std: np.ndarray):
    """Padded, normalised (B, T, D) frames and their padding mask (B, T)."""
    length = max(len(f) for f in features)
    frames = np.zeros((len(features), length, features[0].shape[1]), np.float32)
    padding = np.ones((len(features), length), bool)
    for row, f in enumerate(features):
        frames[row, : len(f)] = (f - mean) / std
        padding[row, : len(f)] = False
    return torch.from_numpy(frames), torch.from_numpy(padding)


@dataclass
class VideoEncoderFile:
    """A trained video encoder with what it needs at inference."""

    model: VideoEncoder
    config: VideoEncoderConfig
    mean: np.ndarray  # input normalisation (D,)
    std: np.ndarray
    space_fingerprint: str  # the text/motion checkpoint it was trained into

    def save(self, path: str | Path) -> Path:
        """Weights and input statistics as safetensors, what they mean in its metadata:
        nothing in the file is unpickled when it is read back."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {f"model.{k}": v.contiguous() for k, v in self.model.state_dict().items()}
        tensors["input.mean"] = torch.as_tensor(self.mean, dtype=torch.float32)
        tensors["input.std"] = torch.as_tensor(self.std, dtype=torch.float32)
        metadata = {
            "format": FORMAT,
            "config": json.dumps(asdict(self.config)),
            "space_fingerprint": self.space_fingerprint,
        }
        save_file(tensors, str(path), metadata=metadata)
        return path

    @torch.inference_mode()
    def embed(self, tracks: list[PoseTrack]) -> np.ndarray:
        """Embeddings (N, E) of gap-filled tracks."""
        self.model.eval()
        frames, padding = batch([observation_features(t) for t in tracks], self.mean, self.std)
        return self.model(frames, padding).numpy()


def load_video_encoder(path: str | Path, space_fingerprint: str) -> VideoEncoderFile:
    """The video encoder at `path`, refused unless trained into `space_fingerprint`'s space."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except Exception:
        raise EngineError(f"{path.name} is not a video encoder") from None
    if metadata.get("format") != FORMAT:
        raise EngineError(f"{path.name} is not a video encoder")
    if metadata["space_fingerprint"] != space_fingerprint:
        raise EngineError(
            f"{path.name} was trained against another text/motion model "
            f"({metadata['space_fingerprint']}, this one is {space_fingerprint}): retrain it"
        )
    config = VideoEncoderConfig(**json.loads(metadata["config"]))
    mean, std = tensors.pop("input.mean").numpy(), tensors.pop("input.std").numpy()
    model = VideoEncoder(len(mean), config)
    model.load_state_dict({k.removeprefix("model."): v for k, v in tensors.items()})
    return VideoEncoderFile(model, config, mean, std, space_fingerprint)


_loaded: dict[str, VideoEncoderFile | None] = {}
_loading = threading.Lock()


def shipped_video_encoder(space_fingerprint: str) -> VideoEncoderFile | None:
    """The shipped video encoder when it was trained into this text–motion model's space
    (loaded once); None when it is missing or belongs to another model (a retrained or a
    visitor's model): the video is then searched by lifting alone."""
    with _loading:
        if space_fingerprint not in _loaded:
            try:
                _loaded[space_fingerprint] = (
                    load_video_encoder(SHIPPED_VIDEO_ENCODER, space_fingerprint)
                    if SHIPPED_VIDEO_ENCODER.is_file()
                    else None
                )
            except EngineError:
                _loaded[space_fingerprint] = None
        return _loaded[space_fingerprint]


def normalised(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-9)


def combined(lifted: np.ndarray, encoded: np.ndarray) -> np.ndarray:
    """Both ways in: the mean of the lifted motion's and the video encoder's unit
    embeddings, back on the unit sphere."""
    return normalised(normalised(lifted) + normalised(encoded))
