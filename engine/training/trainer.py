"""The training loop, shared by `python -m engine train`, `torchrun` and the demo.

It reports what happens as `TrainEvent`s to a callback (the terminal progress bar and the
demo's live plots both listen), stops cleanly when a stop flag is set, keeps the best
checkpoint by validation metrics (never test), and resumes from the last one.
Under `torchrun` it trains with DistributedDataParallel (NCCL on GPUs, gloo on CPUs).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from engine.config import ExperimentConfig
from engine.data.dataset import MotionItem, MotionTextDataset
from engine.encoder import MotionTextEncoder, pick_device
from engine.evaluation.metrics import headline
from engine.evaluation.runner import evaluate_items
from engine.losses import LossOutput, RetrievalLoss, gaussian_kl, reconstruction_loss
from engine.models.checkpoint import (
    Checkpoint,
    load_checkpoint,
    load_training_state,
    save_checkpoint,
)
from engine.models.language import TextFeatureStore, caption_store_path
from engine.models.retrieval import RetrievalModel
from engine.motion.features import FeatureLayout
from engine.motion.normalization import Normalizer
from engine.motion.skeleton import Skeleton
from engine.paths import cache_dir
from engine.training.augment import (
    drop_feature_groups,
    group_of_columns,
    make_variants,
    statistics_with_variants,
)
from engine.training.batches import Batch, steps_per_epoch, training_batches

VALIDATION_PROTOCOLS = ("all", "batches32")


@dataclass
class TrainEvent:
    """kind: status | progress (`message`: a stage, `step` of `total_steps`) | step |
    validation | checkpoint | done | stopped."""

    kind: str
    epoch: int = 0
    step: int = 0
    total_steps: int = 0
    loss: float | None = None
    parts: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, Any] | None = None
    message: str = ""
    path: str | None = None


@dataclass
class TrainResult:
    best_path: Path | None
    last_path: Path | None
    best_metrics: dict[str, Any] | None
    stopped: bool
    seconds: float
    steps: int
    samples_per_second: float


Callback = Callable[[TrainEvent], None]


class TrainingObjective(nn.Module):
    """Model + loss as one module, so DistributedDataParallel sees every parameter."""

    def __init__(
        self,
        model: RetrievalModel,
        loss: RetrievalLoss,
        skeleton: Skeleton,
        group_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.model = model
        self.loss = loss
        self.group_dropout = group_dropout
        self.register_buffer("group_owner", group_of_columns(skeleton), persistent=False)

    def forward(self, batch: Batch, progress: float, epoch: int) -> LossOutput:
        cfg = self.loss.config
        features = batch.motion.features
        if self.training and self.group_dropout > 0:
            features = drop_feature_groups(features, self.group_owner, self.group_dropout)
        motion = self.model.encode_motion(features, batch.motion.mask)
        text = self.model.encode_text(
            batch.captions if self.model.language_model is not None else batch.text
        )
        out = self.loss(text.embedding, motion.embedding, batch.text.sentence, progress, epoch)
        total, parts = out.total, dict(out.parts)
        if self.model.decoder is not None:
            target, mask = batch.motion.features, batch.motion.mask
            recon = reconstruction_loss(self.model.decode(motion.sample(), mask), target, mask)
            recon = recon + reconstruction_loss(
                self.model.decode(text.sample(), mask), target, mask
            )
            total = total + cfg.recon_weight * recon
            parts["reconstruction"] = recon.item()
        if motion.logvar is not None and text.logvar is not None:
            zeros = torch.zeros_like(motion.mu)
            kl = (
                gaussian_kl(text.mu, text.logvar, motion.mu, motion.logvar)
                + gaussian_kl(motion.mu, motion.logvar, text.mu, text.logvar)
                + gaussian_kl(motion.mu, motion.logvar, zeros, zeros)
                + gaussian_kl(text.mu, text.logvar, zeros, zeros)
            )
            latent = nn.functional.smooth_l1_loss(text.mu, motion.mu)
            total = total + cfg.kl_weight * kl + cfg.latent_weight * latent
            parts["kl"] = kl.item()
        return LossOutput(total, parts)


class Trainer:
    def __init__(
        self,
        config: ExperimentConfig,
        dataset: MotionTextDataset,
        normalizer: Normalizer,
        callback: Callback | None = None,
        stop: threading.Event | None = None,
        show_progress: bool = True,
    ) -> None:
        self.config = config
        self.dataset = dataset
        self.normalizer = normalizer
        self.feature_statistics: Normalizer | None = None  # set when block-averaged
        self.callbacks = [callback] if callback else []
        self.stop = stop or threading.Event()
        self.rank, self.world = _distributed_rank_and_world()
        self.show_progress = show_progress and self.rank == 0
        self.out_dir = Path(config.train.out_dir)

    # ------------------------------------------------------------------ events
    def emit(self, event: TrainEvent) -> None:
        if self.rank == 0:
            for callback in self.callbacks:
                callback(event)

    # ------------------------------------------------------------------ run
    def run(self) -> TrainResult:
        cfg = self.config
        _seed_everything(cfg.train.seed + self.rank)
        if cfg.train.threads > 0:
            torch.set_num_threads(cfg.train.threads)
        device = self._device()
        train_items = [i for i in self.dataset.split(cfg.data.train_split) if i.num_frames >= 2]
        val_items = self.dataset.split(cfg.data.val_split)
        if len(train_items) < cfg.train.batch_size:
            raise ValueError(
                f"the {cfg.data.train_split} split has {len(train_items)} items, fewer than one "
                f"batch of {cfg.train.batch_size}: lower train.batch_size"
            )
        variants = self._augment(train_items)
        if cfg.data.block_std and not cfg.data.statistics:
            layout = FeatureLayout(self.dataset.skeleton.num_joints)
            self.feature_statistics = self.normalizer
            self.normalizer = self.normalizer.block_averaged(layout.std_blocks())
        run = self._start_run(device, train_items, val_items)
        if cfg.train.resume:
            self._resume(run)
        wrapped = _wrap_distributed(run.objective, device) if self.world > 1 else run.objective
        self.emit(
            TrainEvent(
                "status",
                total_steps=run.total_steps,
                message=(
                    f"training {run.objective.model.trainable_parameters() / 1e6:.2f} M "
                    f"parameters on {len(train_items)} items ({cfg.loss.kind}, "
                    f"{cfg.model.motion_encoder}) on {device}"
                    + (f" x{self.world} processes" if self.world > 1 else "")
                ),
            )
        )
        bar = tqdm(
            total=run.total_steps, initial=run.step, disable=not self.show_progress, unit="step"
        )
        started, samples, stopped = time.perf_counter(), 0, False
        for epoch in range(run.epoch, cfg.train.epochs):
            run.epoch = epoch
            wrapped.train()
            for batch in training_batches(
                train_items,
                cfg.train.batch_size,
                run.rng,
                self.normalizer,
                run.store,
                cfg.data.max_frames,
                (self.rank, self.world),
                variants,
            ):
                if self._should_stop():
                    stopped = True
                    break
                out = self._step(run, wrapped, batch, device)
                samples += cfg.train.batch_size * self.world
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{out.total.item():.4f}")
                self.emit(
                    TrainEvent(
                        "step", epoch, run.step, run.total_steps, out.total.item(), out.parts
                    )
                )
            if stopped:
                break
            if (epoch + 1) % cfg.train.validate_every == 0 or epoch + 1 == cfg.train.epochs:
                self._validate_and_save(run, val_items)
        bar.close()
        seconds = time.perf_counter() - started
        _barrier(self.world)
        best, last = self.out_dir / "best", self.out_dir / "last"
        outcome = "stopped" if stopped else "finished"
        self.emit(
            TrainEvent(
                "stopped" if stopped else "done",
                run.epoch,
                run.step,
                run.total_steps,
                metrics=run.best_metrics,
                path=str(best) if best.is_dir() else None,
                message=f"{outcome}: {run.step} steps, {seconds:.0f} s",
            )
        )
        _finish_distributed(self.world)
        return TrainResult(
            best if best.is_dir() else None,
            last if last.is_dir() else None,
            run.best_metrics,
            stopped,
            seconds,
            run.step,
            samples / seconds if seconds > 0 else 0.0,
        )

    # ------------------------------------------------------------------ pieces
    def _augment(self, train_items: list[MotionItem]) -> dict[str, list[np.ndarray]]:
        """The training motions' variants (none without augmentation); with
        `refit_normalizer` (and no `data.statistics` given), the normaliser becomes the
        statistics of all of them."""
        augment = self.config.augment
        if augment.copies < 1:
            return {}
        self.emit(TrainEvent("status", message=f"making {augment.copies} variants per motion"))
        workers = augment.workers or os.cpu_count() or 1
        variants = make_variants(train_items, augment, self.config.train.seed, workers)
        if augment.refit_normalizer and not self.config.data.statistics:
            self.normalizer = statistics_with_variants(train_items, variants)
        return variants

    def _start_run(
        self, device: torch.device, train_items: list[MotionItem], val_items: list[MotionItem]
    ) -> _Run:
        cfg = self.config
        store = self._text_store(train_items + val_items)
        model = RetrievalModel(cfg.model, self.dataset.skeleton).to(device)
        objective = TrainingObjective(
            model, RetrievalLoss(cfg.loss), self.dataset.skeleton, cfg.augment.group_dropout
        ).to(device)
        params = [p for p in objective.parameters() if p.requires_grad]
        temperatures = [p for p in objective.loss.parameters() if p.requires_grad]
        weights = [p for p in params if all(p is not t for t in temperatures)]
        # weight decay would pull log(1 / temperature) towards 0, i.e. every temperature
        # towards 1, flattening the softmax for no reason the data gave
        optimizer = torch.optim.AdamW(
            [
                {"params": weights, "weight_decay": cfg.train.weight_decay},
                {"params": temperatures, "weight_decay": 0.0},
            ],
            lr=cfg.train.lr,
        )
        total_steps = steps_per_epoch(len(train_items), cfg.train.batch_size, self.world)
        total_steps *= cfg.train.epochs
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, _warmup_cosine(cfg.train.warmup_steps, total_steps)
        )
        rng = np.random.default_rng(cfg.train.seed)
        return _Run(objective, params, optimizer, scheduler, store, rng, total_steps)

    def _device(self) -> torch.device:
        if self.world > 1 and torch.cuda.is_available() and self.config.train.device != "cpu":
            local = int(os.environ.get("LOCAL_RANK", 0))
            torch.cuda.set_device(local)
            return torch.device("cuda", local)
        return pick_device(self.config.train.device)

    def _should_stop(self) -> bool:
        flag = torch.tensor(float(self.stop.is_set()))
        if self.world > 1:
            torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        return bool(flag.item())

    def _text_store(self, items: list[MotionItem]) -> TextFeatureStore:
        max_tokens = self.config.model.max_tokens
        store = TextFeatureStore(
            max_tokens=max_tokens, cache_file=caption_store_path(cache_dir(), max_tokens)
        )
        captions = list(dict.fromkeys(c for item in items for c in item.captions))
        missing = [c for c in captions if c not in store]
        if self.rank == 0 and missing:
            self.emit(TrainEvent("status", message=f"encoding {len(missing)} captions with MiniLM"))
            store.add(
                missing,
                progress=lambda done, total: self.emit(
                    TrainEvent("progress", step=done, total_steps=total, message="captions")
                ),
            )
            store.save()
        _barrier(self.world)
        if self.rank != 0 and missing:
            store = TextFeatureStore(max_tokens=max_tokens, cache_file=store.cache_file)
        return store

    def _step(
        self, run: _Run, wrapped: nn.Module, batch: Batch, device: torch.device
    ) -> LossOutput:
        batch = Batch(batch.motion.to(device), batch.text.to(device), batch.captions, batch.ids)
        out = wrapped(batch, run.step / max(run.total_steps, 1), run.epoch)
        run.optimizer.zero_grad(set_to_none=True)
        out.total.backward()
        if self.config.train.grad_clip > 0:
            nn.utils.clip_grad_norm_(run.params, self.config.train.grad_clip)
        run.optimizer.step()
        run.objective.loss.bound_temperatures()
        run.scheduler.step()
        run.step += 1
        return out

    def _validate_and_save(self, run: _Run, val_items: list[MotionItem]) -> None:
        """Validation metrics, the `last` checkpoint (resumable) and, if they improved on
        every earlier epoch's, the `best` one. Only the first process does it."""
        if self.rank == 0:
            done = run.epoch + 1
            run.objective.eval()
            metrics = self._validate(run, val_items) if val_items else None
            score = metrics["score"] if metrics else float(done)
            improved = score > run.best_score
            if improved:
                run.best_score, run.best_metrics = score, metrics
            train = self.dataset.split(self.config.data.train_split)
            info = {
                "dataset": self.dataset.name,
                "train_items": len(train),
                "temperatures": run.objective.loss.temperatures(),
            }
            last = self._save(run, self.out_dir / "last", metrics, info, run.training_state(done))
            self.emit(TrainEvent("checkpoint", done, run.step, run.total_steps, path=str(last)))
            if improved:
                best = self._save(run, self.out_dir / "best", metrics, info, None)
                self.emit(
                    TrainEvent(
                        "checkpoint",
                        done,
                        run.step,
                        run.total_steps,
                        metrics=metrics,
                        path=str(best),
                        message="new best on validation",
                    )
                )
            run.objective.train()
        _barrier(self.world)

    def _validate(self, run: _Run, val_items: list[MotionItem]) -> dict:
        model = run.objective.model
        encoder = MotionTextEncoder(
            Checkpoint(model, self.config, self.normalizer), next(model.parameters()).device
        )
        metrics = evaluate_items(encoder, val_items, VALIDATION_PROTOCOLS, run.store)
        metrics["score"] = headline(metrics["all"])
        metrics["epoch"] = run.epoch + 1
        self.emit(
            TrainEvent("validation", run.epoch + 1, run.step, run.total_steps, metrics=metrics)
        )
        return metrics

    def _save(
        self, run: _Run, path: Path, metrics: dict | None, info: dict, state: dict | None
    ) -> Path:
        return save_checkpoint(
            path,
            run.objective.model,
            self.config,
            self.normalizer,
            self.dataset.skeleton.name,
            {"validation": metrics},
            info,
            training_state=state,
            feature_statistics=self.feature_statistics,
        )

    def _resume(self, run: _Run) -> None:
        last = self.out_dir / "last"
        state = load_training_state(last) if last.is_dir() else None
        if state is None:
            return
        run.objective.model.load_state_dict(load_checkpoint(last).model.state_dict())
        for key, value in state["loss_state"].items():
            name = key.removeprefix("log_scales.")
            if name in run.objective.loss.log_scales:  # runs before 2026-12 had four
                run.objective.loss.log_scales[name].data.copy_(value)
        run.optimizer.load_state_dict(state["optimizer"])
        run.scheduler.load_state_dict(state["scheduler"])
        run.rng.bit_generator.state = state["numpy_rng"]
        run.epoch, run.step = state["epoch"], state["step"]
        run.best_score, run.best_metrics = state["best_score"], state["best_metrics"]
        self.emit(TrainEvent("status", run.epoch, run.step, message=f"resumed from {last}"))


@dataclass
class _Run:
    """What one training run carries from step to step."""

    objective: TrainingObjective
    params: list[nn.Parameter]
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    store: TextFeatureStore
    rng: np.random.Generator
    total_steps: int
    epoch: int = 0
    step: int = 0
    best_score: float = -math.inf
    best_metrics: dict | None = None

    def training_state(self, epochs_done: int) -> dict[str, Any]:
        return {
            "epoch": epochs_done,
            "step": self.step,
            "best_score": self.best_score,
            "best_metrics": self.best_metrics,
            "numpy_rng": self.rng.bit_generator.state,
            "scheduler": self.scheduler.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "loss_state": {f"log_scales.{k}": v for k, v in self.objective.loss.log_scales.items()},
        }


def _warmup_cosine(warmup: int, total: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def _seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)


def _distributed_rank_and_world() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    if not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    return torch.distributed.get_rank(), torch.distributed.get_world_size()


def _wrap_distributed(module: nn.Module, device: torch.device) -> nn.Module:
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids, find_unused_parameters=True)


def _barrier(world: int) -> None:
    if world > 1:
        torch.distributed.barrier()


def _finish_distributed(world: int) -> None:
    if world > 1 and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
