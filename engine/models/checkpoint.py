"""Checkpoints: a folder of safetensors + JSON, written atomically, never pickled.

<dir>/model.safetensors        weights (float32, or float16 for shipping)
<dir>/normalizer.safetensors   the feature statistics the model was trained with
<dir>/feature_statistics.safetensors  per-feature statistics of the training motions,
                               when the normaliser is not (one std per feature block);
                               optional: what the familiarity check measures against
<dir>/config.json              the full ExperimentConfig + what the weights are for
<dir>/metrics.json             validation (and, for shipped models, test) metrics
<dir>/training_state.*         optimiser/scheduler state to resume (optional)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from engine.config import ExperimentConfig
from engine.errors import EngineError
from engine.models.retrieval import RetrievalModel
from engine.motion.normalization import Normalizer
from engine.motion.skeleton import SKELETONS
from engine.storage import atomic_directory, atomic_write_json

FORMAT = "motion-retrieval-checkpoint/1"
MODEL_FILE = "model.safetensors"
NORMALIZER_FILE = "normalizer.safetensors"
FEATURE_STATISTICS_FILE = "feature_statistics.safetensors"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
STATE_TENSORS = "training_state.safetensors"
STATE_JSON = "training_state.json"


@dataclass
class Checkpoint:
    model: RetrievalModel
    config: ExperimentConfig
    normalizer: Normalizer
    path: Path | None = None  # None for a model still in training
    metrics: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    feature_statistics: Normalizer | None = None  # per feature, when `normalizer` is not
    _fingerprint: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def fingerprint(self) -> str:
        """The content hash of the files this checkpoint was loaded from, computed once:
        hashing them takes ~10 ms and a search asks for it on every request."""
        if self.path is None:
            raise ValueError("an unsaved model has no fingerprint")
        if self._fingerprint is None:
            self._fingerprint = checkpoint_fingerprint(self.path)
        return self._fingerprint

    @property
    def training_statistics(self) -> Normalizer:
        """Per-feature statistics of the motions the model was trained on: how far out a
        query's features are is judged in these units, whatever normaliser the model
        chose (one std per feature block hides a stiff joint inside a lively block)."""
        return self.normalizer if self.feature_statistics is None else self.feature_statistics


def save_checkpoint(
    path: str | Path,
    model: RetrievalModel,
    config: ExperimentConfig,
    normalizer: Normalizer,
    skeleton_name: str,
    metrics: dict[str, Any] | None = None,
    info: dict[str, Any] | None = None,
    training_state: dict[str, Any] | None = None,
    half: bool = False,
    feature_statistics: Normalizer | None = None,
) -> Path:
    """Write a checkpoint folder atomically (a killed process leaves the old one intact)."""
    path = Path(path)
    weights = {
        name: (t.detach().half() if half and t.is_floating_point() else t.detach())
        .cpu()
        .contiguous()
        for name, t in model.state_dict().items()
    }
    with atomic_directory(path) as tmp:
        save_file(weights, str(tmp / MODEL_FILE), metadata={"format": FORMAT})
        save_statistics(normalizer, tmp / NORMALIZER_FILE)
        if feature_statistics is not None:
            save_statistics(feature_statistics, tmp / FEATURE_STATISTICS_FILE)
        atomic_write_json(
            tmp / CONFIG_FILE,
            {
                "format": FORMAT,
                "skeleton": skeleton_name,
                "experiment": config.to_dict(),
                "info": info or {},
            },
        )
        atomic_write_json(tmp / METRICS_FILE, metrics or {})
        if training_state is not None:
            _save_training_state(tmp, training_state)
    return path


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Read a checkpoint folder; the model comes back in eval mode, in float32."""
    path = Path(path)
    for name in (MODEL_FILE, NORMALIZER_FILE, CONFIG_FILE):
        if not (path / name).is_file():
            raise EngineError(f"{path}: not a checkpoint (missing {name})")
    header = _read_header(path)
    config = ExperimentConfig.from_dict(header["experiment"])
    skeleton = SKELETONS.get(header.get("skeleton", ""))
    if skeleton is None:
        raise EngineError(f"{path}: unknown skeleton {header.get('skeleton')!r}")
    model = RetrievalModel(config.model, skeleton)
    state = {
        k: v.float() if v.is_floating_point() else v
        for k, v in load_file(path / MODEL_FILE).items()
    }
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise EngineError(
            f"{path}: weights do not match the configuration (missing {missing[:3]}, "
            f"unexpected {unexpected[:3]})"
        )
    normalizer = _load_statistics(path / NORMALIZER_FILE)
    extra = path / FEATURE_STATISTICS_FILE
    feature_statistics = _load_statistics(extra) if extra.is_file() else None
    metrics = (
        json.loads((path / METRICS_FILE).read_text()) if (path / METRICS_FILE).is_file() else {}
    )
    return Checkpoint(
        model.to(device).eval(),
        config,
        normalizer,
        path,
        metrics,
        header.get("info", {}),
        feature_statistics,
    )


def save_statistics(statistics: Normalizer, path: Path) -> None:
    save_file(
        {"mean": torch.from_numpy(statistics.mean), "std": torch.from_numpy(statistics.std)},
        str(path),
    )


def _load_statistics(path: Path) -> Normalizer:
    stats = load_file(path)
    return Normalizer(stats["mean"].numpy(), stats["std"].numpy())


def read_experiment(path: str | Path) -> ExperimentConfig:
    """The experiment configuration a checkpoint folder was trained with."""
    return ExperimentConfig.from_dict(_read_header(Path(path))["experiment"])


def _read_header(path: Path) -> dict[str, Any]:
    try:
        header = json.loads((path / CONFIG_FILE).read_text())
    except json.JSONDecodeError as error:
        raise EngineError(f"{path / CONFIG_FILE}: invalid JSON ({error})") from None
    if header.get("format") != FORMAT:
        raise EngineError(f"{path}: unknown checkpoint format {header.get('format')!r}")
    return header


def checkpoint_fingerprint(path: str | Path) -> str:
    """A short content hash of the weights and statistics (keys caches of embeddings)."""
    digest = hashlib.sha256()
    for name in (MODEL_FILE, NORMALIZER_FILE):
        with open(Path(path) / name, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:16]


def load_training_state(path: str | Path) -> dict[str, Any] | None:
    path = Path(path)
    if not (path / STATE_JSON).is_file():
        return None
    meta = json.loads((path / STATE_JSON).read_text())
    tensors = load_file(path / STATE_TENSORS)
    optimizer = meta["optimizer"]
    for index, names in meta["optimizer_tensors"].items():
        optimizer["state"][index] = {
            **optimizer["state"].get(index, {}),
            **{name: tensors[f"optimizer.{index}.{name}"] for name in names},
        }
    optimizer["state"] = {int(k): v for k, v in optimizer["state"].items()}
    loss_state = {k.removeprefix("loss."): v for k, v in tensors.items() if k.startswith("loss.")}
    return {**meta, "optimizer": optimizer, "loss_state": loss_state}


def _save_training_state(folder: Path, state: dict[str, Any]) -> None:
    """Optimizer tensors go to safetensors, everything else to JSON (no pickle)."""
    optimizer = state["optimizer"]
    tensors: dict[str, torch.Tensor] = {}
    tensor_names: dict[str, list[str]] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in optimizer["state"].items():
        for name, value in values.items():
            if torch.is_tensor(value):
                tensors[f"optimizer.{index}.{name}"] = value.detach().cpu().contiguous()
                tensor_names.setdefault(str(index), []).append(name)
            else:
                scalars.setdefault(str(index), {})[name] = value
    for name, value in state.get("loss_state", {}).items():
        tensors[f"loss.{name}"] = value.detach().cpu().contiguous()
    save_file(tensors, str(folder / STATE_TENSORS))
    meta = {k: v for k, v in state.items() if k not in ("optimizer", "loss_state")}
    meta["optimizer"] = {"state": scalars, "param_groups": optimizer["param_groups"]}
    meta["optimizer_tensors"] = tensor_names
    atomic_write_json(folder / STATE_JSON, meta)
