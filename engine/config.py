"""Experiment configuration as plain data: the same objects drive the CLI, the demo's
training tab and the tests.

A configuration is an `ExperimentConfig` (data, model, loss, training). It reads from and
writes to JSON or YAML, and `apply_overrides(config, ["loss.kind=mh", ...])` changes
fields by dotted path with type checking.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from engine.errors import EngineError

MotionEncoderKind = Literal["temporal", "spatiotemporal"]
TextHeadKind = Literal["tokens", "pooled"]
LossKind = Literal["infonce", "infonce_filtered", "sh", "mh", "droptriple", "mildtriple", "cccl"]
LOSS_KINDS: tuple[str, ...] = typing.get_args(LossKind)
FeatureBlock = Literal["root", "positions", "rotations", "velocities", "contacts"]
MOTION_ENCODERS: tuple[str, ...] = typing.get_args(MotionEncoderKind)


@dataclass
class DataConfig:
    # HumanML3D/KIT-ML folders or TMR annotation folders; several = joint-dataset training.
    # The empty list means the embedded procedural corpus (generated on first use).
    paths: list[str] = field(default_factory=list)
    train_split: str = "train"
    val_split: str = "val"
    min_seconds: float = 2.0
    max_frames: int = 200  # training crops a random window of at most this many frames
    corpus_size: int = 6000  # size of the embedded corpus when `paths` is empty
    corpus_seed: int = 0
    # a folder with Mean.npy and Std.npy to normalise with instead of the training data's
    # statistics (e.g. HumanML3D's own); "" = the training data's
    statistics: str = ""
    # one standard deviation per feature block (the block's mean), as HumanML3D computes
    # its Std.npy, instead of one per feature
    block_std: bool = False


@dataclass
class ModelConfig:
    motion_encoder: MotionEncoderKind = "temporal"
    text_head: TextHeadKind = "tokens"
    embed_dim: int = 256  # the joint space
    latent_dim: int = 256  # transformer width
    num_layers: int = 4
    text_layers: int = 2
    num_heads: int = 4
    ff_dim: int = 1024
    dropout: float = 0.1
    frame_stride: int = 2  # motion frames merged per token (20 fps -> 10 tokens/s)
    max_tokens: int = 32  # caption tokens seen by the text head
    finetune_text: bool = False  # train MiniLM itself (slow on CPU); frozen + cached otherwise
    variational: bool = False  # TMR-style Gaussian latents (mu used at test time)
    decoder: bool = False  # motion reconstruction from the latents (TMR / LAVIMO)
    # feature blocks the motion encoder does not read (held at the training mean): real rigs
    # disagree with the corpus most in the joints' rotations (docs/real_transfer.md)
    ignored_features: list[FeatureBlock] = field(default_factory=list)


@dataclass
class LossConfig:
    kind: LossKind = "infonce_filtered"
    temperature: float = 0.1
    learnable_temperature: bool = False
    # caption-caption MiniLM cosine above which a pair is not used as a negative; 0.7 drops
    # ~half the same-action pairs and <1 % of different-action pairs on the corpus train split
    filter_threshold: float = 0.7
    margin: float = 0.2  # triplet losses
    hard_negative_after_epochs: int = 5  # SH for the first epochs, then MH (VSE++ / Rehamot)
    drop_threshold: float = 0.75  # DropTriple: intra-modal similarity above which a negative drops
    mild_low: float = 0.6  # MildTriple: negatives are weighted 1 below, 0 above mild_high
    mild_high: float = 0.85
    cccl_ramp_start: float = 0.4  # CCCL lambda ramps 0 -> 1 between these fractions of training
    cccl_ramp_end: float = 1.0
    recon_weight: float = 1.0  # with ModelConfig.decoder
    kl_weight: float = 1e-5  # with ModelConfig.variational
    latent_weight: float = 1e-5  # TMR's text/motion latent agreement term


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 64
    lr: float = 3e-4
    weight_decay: float = 0.01
    warmup_steps: int = 200
    grad_clip: float = 1.0
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    out_dir: str = "runs/default"
    validate_every: int = 1  # epochs
    threads: int = 0  # torch CPU threads; 0 = torch's default
    resume: bool = False


@dataclass
class AugmentConfig:
    """Domain randomisation of the training motions (engine/training/augment.py): each
    training motion gets `copies` variants, made once before training; 0 = off."""

    copies: int = 0
    speed_min: float = 0.8  # playback speed factor, drawn uniformly in [min, max]
    speed_max: float = 1.6
    spine_degrees: float = 20.0  # bend/twist range of each spine joint and the neck
    arm_degrees: float = 25.0  # posture range of each upper arm
    sway_metres: float = 0.06  # horizontal sway range of the whole body
    noise_metres: float = 0.004  # largest std of the per-joint capture noise
    time_warp: float = 0.0  # playback rate drifting within 1 ± this over a clip
    drop_frames: float = 0.0  # largest chance that a frame is lost (the previous one held)
    sparse_probability: float = 0.5  # spine, neck and collars as a sparse rig places them
    level_hips_probability: float = 0.5  # hips level with the pelvis, as such rigs have them
    refit_normalizer: bool = True  # statistics over the originals and their variants
    # chance that each feature group of a training clip (a joint's position, rotation or
    # velocity, a root channel, the contacts) is held at the mean for one step
    group_dropout: float = 0.0
    workers: int = 0  # processes making the variants; 0 = every CPU


@dataclass
class ExperimentConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExperimentConfig:
        return _build(cls, data, "")

    def save(self, path: str | Path) -> None:
        from engine.storage import atomic_write_json

        atomic_write_json(path, self.to_dict())


def load_config(path: str | Path) -> ExperimentConfig:
    """Read a JSON or YAML configuration file; missing fields keep their defaults."""
    path = Path(path)
    if not path.is_file():
        raise EngineError(f"{path}: configuration file not found")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = json.loads(text)
    except Exception as error:
        raise EngineError(f"{path}: cannot parse configuration ({error})") from None
    if not isinstance(data, dict):
        raise EngineError(f"{path}: a configuration must be a mapping of sections")
    try:
        return ExperimentConfig.from_dict(data)
    except EngineError as error:
        raise EngineError(f"{path}: {error}") from None


def apply_overrides(config: ExperimentConfig, overrides: list[str]) -> ExperimentConfig:
    """Return a copy with `section.field=value` assignments applied (values parsed as JSON
    where possible, so `train.epochs=3`, `data.paths=["a","b"]`, `loss.kind=mh` work)."""
    data = config.to_dict()
    for assignment in overrides:
        key, sep, raw = assignment.partition("=")
        if not sep:
            raise EngineError(f"override {assignment!r} is not of the form section.field=value")
        parts = key.strip().split(".")
        if len(parts) != 2 or parts[0] not in data or parts[1] not in data[parts[0]]:
            raise EngineError(f"unknown configuration field {key!r}; known: {_known_fields()}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        data[parts[0]][parts[1]] = value
    return ExperimentConfig.from_dict(data)


def _known_fields() -> str:
    sections = typing.get_type_hints(ExperimentConfig)
    return ", ".join(
        f"{name}.{f.name}" for name, kind in sections.items() for f in dataclasses.fields(kind)
    )


def _build(kind: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise EngineError(f"{where or 'configuration'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(kind)
    names = {f.name for f in dataclasses.fields(kind)}
    unknown = set(data) - names
    if unknown:
        raise EngineError(
            f"unknown field(s) {', '.join(sorted(unknown))} in {where or 'configuration'}; "
            f"known: {', '.join(sorted(names))}"
        )
    values = {}
    for name, value in data.items():
        path = f"{where}.{name}" if where else name
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            values[name] = _build(hint, value, path)
        else:
            values[name] = _coerce(hint, value, path)
    return kind(**values)


def _coerce(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise EngineError(
                f"{path} must be one of {', '.join(map(str, choices))}, not {value!r}"
            )
        return value
    if origin in (list, types.GenericAlias) or hint is list:
        if isinstance(value, str):
            value = [v for v in value.split(",") if v]
        if not isinstance(value, list):
            raise EngineError(f"{path} must be a list, not {value!r}")
        (item,) = typing.get_args(hint) or (str,)
        return [_coerce(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if hint is bool:
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise EngineError(f"{path} must be true or false, not {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise EngineError(f"{path} must be an integer, not {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise EngineError(f"{path} must be a number, not {value!r}")
        return float(value)
    if hint is str:
        return str(value)
    return value
