"""`train(config)`: resolve the data, build the trainer, run it."""

from __future__ import annotations

import sys
import threading

from engine.config import ExperimentConfig
from engine.data.loading import open_training_data
from engine.errors import EngineError
from engine.motion.normalization import Normalizer
from engine.training.trainer import Callback, Trainer, TrainEvent, TrainResult


def resolve_data_paths(config: ExperimentConfig, progress: Callback | None = None) -> list[str]:
    """The configured data sets, or the embedded corpus (generated on first use)."""
    if config.data.paths:
        return list(config.data.paths)
    from engine.data.embedded import embedded_corpus

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress(
                TrainEvent(
                    "progress", step=done, total_steps=total, message="generating the corpus"
                )
            )

    return [str(embedded_corpus(config.data.corpus_size, config.data.corpus_seed, report))]


def train(
    config: ExperimentConfig,
    callback: Callback | None = None,
    stop: threading.Event | None = None,
    show_progress: bool = True,
    log: bool = False,
) -> TrainResult:
    listeners = [c for c in (callback, _print_event if log else None) if c is not None]

    def emit(event: TrainEvent) -> None:
        for listener in listeners:
            listener(event)

    paths = resolve_data_paths(config, emit)
    splits = (config.data.train_split, config.data.val_split)
    dataset, normalizer = open_training_data(paths, splits)
    if config.data.statistics:
        normalizer = given_statistics(config.data.statistics, normalizer.dim)
    if dataset.problems:
        emit(
            TrainEvent(
                "status", message=f"{len(dataset.problems)} files skipped: {dataset.problems[:3]}"
            )
        )
    trainer = Trainer(config, dataset, normalizer, emit, stop, show_progress)
    return trainer.run()


def given_statistics(folder: str, dim: int) -> Normalizer:
    """The normaliser of `data.statistics`, refused when unreadable or for other features."""
    try:
        normalizer = Normalizer.load(folder)
    except (OSError, ValueError) as error:
        raise EngineError(f"data.statistics: {error}") from None
    if normalizer.dim != dim:
        raise EngineError(
            f"data.statistics: {folder} holds statistics of {normalizer.dim} features, "
            f"the training data has {dim}"
        )
    return normalizer


def _print_event(event: TrainEvent) -> None:
    if event.kind == "status":
        print(event.message, file=sys.stderr)
    elif event.kind == "progress":
        end = "\n" if event.step >= event.total_steps else ""
        print(f"\r{event.message}: {event.step}/{event.total_steps}", end=end, file=sys.stderr)
    elif event.kind == "validation" and event.metrics:
        t2m, m2t = event.metrics["all"]["t2m"], event.metrics["all"]["m2t"]
        print(
            f"epoch {event.epoch}: val t2m R@1 {t2m['R@1']:.1f} R@10 {t2m['R@10']:.1f}"
            f" | m2t R@1 {m2t['R@1']:.1f} R@10 {m2t['R@10']:.1f}"
            f" | score {event.metrics['score']:.2f}",
            file=sys.stderr,
        )
    elif event.kind in ("done", "stopped"):
        print(event.message, file=sys.stderr)
