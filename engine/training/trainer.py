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
from engine.models.language import TextFeatureStore, caption_store_path
from engine.models.retrieval import RetrievalModel
from engine.motion.normalization import Normalizer
from engine.paths import cache_dir
from engine.training.batches import Batch, steps_per_epoch, training_batches
from engine.training.checkpoint import (
    Checkpoint,
    load_checkpoint,
    load_training_state,
    save_checkpoint,
)

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

    def __init__(self, model: RetrievalModel, loss: RetrievalLoss) -> None:
        super().__init__()
        self.model = model
        self.loss = loss

    def forward(self, batch: Batch, progress: float, epoch: int) -> LossOutput:
        cfg = self.loss.config
        motion = self.model.encode_motion(batch.motion.features, batch.motion.mask)
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
        train_items = self.dataset.split(cfg.data.train_split)
        val_items = self.dataset.split(cfg.data.val_split)
        if len(train_items) < cfg.train.batch_size:
            raise ValueError(
                f"the {cfg.data.train_split} split has {len(train_items)} items, fewer than one "
                f"batch of {cfg.train.batch_size}: lower train.batch_size"
            )
        train_items = [i for i in train_items if i.num_frames >= 2]
        store = self._text_store(train_items + val_items)

        model = RetrievalModel(cfg.model, self.dataset.skeleton).to(device)
        objective = TrainingObjective(model, RetrievalLoss(cfg.loss)).to(device)
        params = [p for p in objective.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=cfg.train.lr, weight_decay=cfg.train.weight_decay)
        per_epoch = steps_per_epoch(len(train_items), cfg.train.batch_size, self.world)
        total_steps = per_epoch * cfg.train.epochs
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, _warmup_cosine(cfg.train.warmup_steps, total_steps)
        )
        start_epoch, step, best_score, rng = 0, 0, -math.inf, np.random.default_rng(cfg.train.seed)
        best_metrics = None
        if cfg.train.resume:
            resumed = self._resume(objective, optimizer, scheduler)
            if resumed is not None:
                start_epoch, step, best_score, best_metrics, rng = resumed
        wrapped = _wrap_distributed(objective, device) if self.world > 1 else objective

        self.emit(
            TrainEvent(
                "status",
                total_steps=total_steps,
                message=(
                    f"training {model.trainable_parameters() / 1e6:.2f} M parameters on "
                    f"{len(train_items)} items ({cfg.loss.kind}, {cfg.model.motion_encoder}) "
                    f"on {device}" + (f" x{self.world} processes" if self.world > 1 else "")
                ),
            )
        )
        bar = tqdm(total=total_steps, initial=step, disable=not self.show_progress, unit="step")
        started, samples, stopped, epoch = time.perf_counter(), 0, False, start_epoch
        for epoch in range(start_epoch, cfg.train.epochs):
            wrapped.train()
            batches = training_batches(
                train_items,
                cfg.train.batch_size,
                rng,
                self.normalizer,
                store,
                cfg.data.max_frames,
                (self.rank, self.world),
            )
            for batch in batches:
                if self._should_stop():
                    stopped = True
                    break
                out = self._step(
                    wrapped, params, optimizer, scheduler, batch, device, step, total_steps, epoch
                )
                step += 1
                samples += cfg.train.batch_size * self.world
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{out.total.item():.4f}")
                self.emit(TrainEvent("step", epoch, step, total_steps, out.total.item(), out.parts))
            if stopped:
                break
            if (epoch + 1) % cfg.train.validate_every == 0 or epoch + 1 == cfg.train.epochs:
                best_score, best_metrics = self._validate_and_save(
                    objective,
                    optimizer,
                    scheduler,
                    val_items,
                    store,
                    epoch,
                    step,
                    total_steps,
                    best_score,
                    best_metrics,
                    rng,
                )
        bar.close()
        seconds = time.perf_counter() - started
        _barrier(self.world)
        best = self.out_dir / "best"
        last = self.out_dir / "last"
        self.emit(
            TrainEvent(
                "stopped" if stopped else "done",
                epoch,
                step,
                total_steps,
                metrics=best_metrics,
                path=str(best) if best.is_dir() else None,
                message=f"{'stopped' if stopped else 'finished'}: {step} steps, {seconds:.0f} s",
            )
        )
        _finish_distributed(self.world)
        return TrainResult(
            best if best.is_dir() else None,
            last if last.is_dir() else None,
            best_metrics,
            stopped,
            seconds,
            step,
            samples / seconds if seconds > 0 else 0.0,
        )

    # ------------------------------------------------------------------ pieces
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
        self,
        wrapped: nn.Module,
        params: list[nn.Parameter],
        optimizer,
        scheduler,
        batch: Batch,
        device: torch.device,
        step: int,
        total_steps: int,
        epoch: int,
    ) -> LossOutput:
        batch = Batch(batch.motion.to(device), batch.text.to(device), batch.captions, batch.ids)
        out = wrapped(batch, step / max(total_steps, 1), epoch)
        optimizer.zero_grad(set_to_none=True)
        out.total.backward()
        if self.config.train.grad_clip > 0:
            nn.utils.clip_grad_norm_(params, self.config.train.grad_clip)
        optimizer.step()
        scheduler.step()
        return out

    def _validate_and_save(
        self,
        objective: TrainingObjective,
        optimizer,
        scheduler,
        val_items,
        store,
        epoch,
        step,
        total_steps,
        best_score,
        best_metrics,
        rng,
    ):
        if self.rank == 0:
            objective.eval()
            metrics = None
            if val_items:
                encoder = MotionTextEncoder(
                    Checkpoint(objective.model, self.config, self.normalizer),
                    next(objective.parameters()).device,
                )
                metrics = evaluate_items(encoder, val_items, VALIDATION_PROTOCOLS, store)
                metrics["score"] = headline(metrics["all"])
                metrics["epoch"] = epoch + 1
                self.emit(TrainEvent("validation", epoch + 1, step, total_steps, metrics=metrics))
            score = metrics["score"] if metrics else float(epoch)
            state = {
                "epoch": epoch + 1,
                "step": step,
                "best_score": max(score, best_score),
                "best_metrics": metrics if score > best_score else best_metrics,
                "numpy_rng": rng.bit_generator.state,
                "scheduler": scheduler.state_dict(),
                "optimizer": optimizer.state_dict(),
                "loss_state": {f"log_scales.{k}": v for k, v in objective.loss.log_scales.items()},
            }
            info = {
                "dataset": self.dataset.name,
                "train_items": len(self.dataset.split(self.config.data.train_split)),
            }
            last = save_checkpoint(
                self.out_dir / "last",
                objective.model,
                self.config,
                self.normalizer,
                self.dataset.skeleton.name,
                {"validation": metrics},
                info,
                training_state=state,
            )
            self.emit(TrainEvent("checkpoint", epoch + 1, step, total_steps, path=str(last)))
            if score > best_score:
                best_score, best_metrics = score, metrics
                best = save_checkpoint(
                    self.out_dir / "best",
                    objective.model,
                    self.config,
                    self.normalizer,
                    self.dataset.skeleton.name,
                    {"validation": metrics},
                    info,
                )
                self.emit(
                    TrainEvent(
                        "checkpoint",
                        epoch + 1,
                        step,
                        total_steps,
                        metrics=metrics,
                        path=str(best),
                        message="new best on validation",
                    )
                )
            objective.train()
        _barrier(self.world)
        return best_score, best_metrics

    def _resume(self, objective: TrainingObjective, optimizer, scheduler):
        last = self.out_dir / "last"
        state = load_training_state(last) if last.is_dir() else None
        if state is None:
            return None
        checkpoint = load_checkpoint(last)
        objective.model.load_state_dict(checkpoint.model.state_dict())
        for key, value in state["loss_state"].items():
            objective.loss.log_scales[key.removeprefix("log_scales.")].data.copy_(value)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        rng = np.random.default_rng()
        rng.bit_generator.state = state["numpy_rng"]
        self.emit(
            TrainEvent("status", state["epoch"], state["step"], message=f"resumed from {last}")
        )
        return state["epoch"], state["step"], state["best_score"], state["best_metrics"], rng


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
