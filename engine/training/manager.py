"""One training run at a time in a background thread, observable and stoppable.

The demo's training tab (and any other long-lived process) starts runs here, polls
`snapshot()` for the live loss and validation curves, and asks it to stop.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from engine.config import ExperimentConfig
from engine.errors import EngineError
from engine.training.trainer import TrainEvent, TrainResult


@dataclass
class RunSnapshot:
    """What a UI shows about the current (or last) run."""

    state: str  # idle | running | stopping | done | stopped | failed
    message: str = ""
    step: int = 0
    total_steps: int = 0
    losses: list[tuple[int, float]] = field(default_factory=list)
    validation: list[tuple[int, dict]] = field(default_factory=list)  # (epoch, metrics)
    best_path: Path | None = None
    out_dir: Path | None = None
    started: float = 0.0
    log: list[str] = field(default_factory=list)

    @property
    def progress(self) -> float:
        return self.step / self.total_steps if self.total_steps else 0.0

    @property
    def active(self) -> bool:
        return self.state in ("running", "stopping")


class TrainingManager:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._snapshot = RunSnapshot("idle", "no training run yet")
        self.result: TrainResult | None = None

    def start(self, config: ExperimentConfig) -> None:
        """Start a run; raises EngineError (saying why) while another one is active."""
        with self._lock:
            if self._snapshot.active:
                elapsed = time.time() - self._snapshot.started
                raise EngineError(
                    f"a training run is already in progress ({self._snapshot.progress:.0%} done, "
                    f"started {elapsed:.0f} s ago); wait for it to finish or stop it first"
                )
            self._stop.clear()
            self.result = None
            self._snapshot = RunSnapshot(
                "running", "starting", out_dir=Path(config.train.out_dir), started=time.time()
            )
            self._thread = threading.Thread(
                target=self._run, args=(config,), name="training", daemon=True
            )
            self._thread.start()

    def stop(self) -> bool:
        """Ask the active run to stop after its current step; False if none is running."""
        with self._lock:
            if self._snapshot.state != "running":
                return False
            self._snapshot.state = "stopping"
            self._snapshot.message = "stopping after the current step"
        self._stop.set()
        return True

    def snapshot(self) -> RunSnapshot:
        with self._lock:
            s = self._snapshot
            return RunSnapshot(
                s.state,
                s.message,
                s.step,
                s.total_steps,
                list(s.losses),
                list(s.validation),
                s.best_path,
                s.out_dir,
                s.started,
                list(s.log[-50:]),
            )

    def wait(self, timeout: float | None = None) -> RunSnapshot:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.snapshot()

    def _record(self, event: TrainEvent) -> None:
        with self._lock:
            s = self._snapshot
            if event.kind == "progress":
                s.message = f"{event.message}: {event.step}/{event.total_steps}"
                return
            s.total_steps = event.total_steps or s.total_steps
            if event.kind == "step" and event.loss is not None:
                s.step = event.step
                s.losses.append((event.step, event.loss))
                s.message = f"epoch {event.epoch + 1}, step {event.step}/{s.total_steps}"
            elif event.kind == "validation" and event.metrics:
                s.validation.append((event.epoch, event.metrics))
            elif event.kind == "checkpoint" and event.message == "new best on validation":
                s.best_path = Path(event.path) if event.path else s.best_path
            if event.message and event.kind != "step":
                s.log.append(event.message)
                if s.state == "running":
                    s.message = event.message

    def _run(self, config: ExperimentConfig) -> None:
        from engine.training.run import train

        try:
            result = train(config, callback=self._record, stop=self._stop, show_progress=False)
        except Exception as error:  # reported to the UI, not raised in a thread
            with self._lock:
                self._snapshot.state = "failed"
                self._snapshot.message = f"training failed: {error}"
                self._snapshot.log.append(traceback.format_exc(limit=3))
            return
        with self._lock:
            self.result = result
            s = self._snapshot
            s.state = "stopped" if result.stopped else "done"
            s.best_path = result.best_path
            s.message = (
                f"{'stopped' if result.stopped else 'finished'} after {result.steps} steps "
                f"({result.seconds:.0f} s, {result.samples_per_second:.0f} samples/s)"
            )
