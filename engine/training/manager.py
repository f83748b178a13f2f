"""Training runs in a background thread, one at a time, the others waiting in a bounded
queue; each observable and stoppable through the ticket `submit` returned.

The demo's training tab (and any other long-lived process) submits runs here, polls
`snapshot(ticket)` for the live loss and validation curves (or the queue position while
the run waits), and asks it to stop. A full queue refuses new runs with a message.
"""

from __future__ import annotations

import secrets
import threading
import time
import traceback
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from engine.config import ExperimentConfig
from engine.errors import EngineError
from engine.training.trainer import TrainEvent, TrainResult

FINISHED = ("done", "stopped", "failed", "cancelled")


@dataclass
class RunSnapshot:
    """What a UI shows about one run."""

    state: str  # idle | queued | running | stopping | done | stopped | failed | cancelled
    message: str = ""
    step: int = 0
    total_steps: int = 0
    losses: list[tuple[int, float]] = field(default_factory=list)
    validation: list[tuple[int, dict]] = field(default_factory=list)  # (epoch, metrics)
    best_path: Path | None = None
    out_dir: Path | None = None
    started: float = 0.0
    log: list[str] = field(default_factory=list)
    ahead: int = 0  # while queued: how many runs go first (the running one included)

    @property
    def progress(self) -> float:
        return self.step / self.total_steps if self.total_steps else 0.0

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running", "stopping")


@dataclass
class _Entry:
    config: ExperimentConfig
    snapshot: RunSnapshot
    stop: threading.Event = field(default_factory=threading.Event)
    result: TrainResult | None = None


class TrainingManager:
    """`max_waiting` runs may wait behind the running one; the records of the last
    `keep` finished runs are kept for their owners to read; `on_finished` is called in
    the worker after each run (e.g. to clean up)."""

    def __init__(
        self, max_waiting: int = 4, keep: int = 32, on_finished: Callable[[], None] | None = None
    ) -> None:
        self.max_waiting = max_waiting
        self.on_finished = on_finished  # called in the worker after each run
        self.keep = keep
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._waiting: deque[str] = deque()
        self._current: str | None = None
        self._worker: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()

    def submit(self, config: ExperimentConfig) -> str:
        """Queue a run; returns its ticket. Raises EngineError (saying why) when the
        queue is full."""
        with self._lock:
            # the head of the queue is the next run, not a waiting one, until the worker
            # has taken it (a run submitted just before may not have started yet)
            waiting = len(self._waiting) - (self._current is None and bool(self._waiting))
            if waiting >= self.max_waiting:
                raise EngineError(
                    f"the training queue is full ({waiting} runs waiting behind "
                    "the one in progress); try again when one has finished"
                )
            ticket = secrets.token_hex(8)
            out_dir = Path(config.train.out_dir)
            self._entries[ticket] = _Entry(config, RunSnapshot("queued", out_dir=out_dir))
            self._waiting.append(ticket)
            self._forget_old()
            if self._worker is None:
                self._idle.clear()
                self._worker = threading.Thread(target=self._work, name="training", daemon=True)
                self._worker.start()
        return ticket

    def stop(self, ticket: str) -> bool:
        """Stop a run after its current step, or take it out of the queue; False if it
        is neither running nor waiting."""
        with self._lock:
            entry = self._entries.get(ticket)
            if entry is None:
                return False
            if ticket in self._waiting:
                self._waiting.remove(ticket)
                entry.snapshot.state = "cancelled"
                entry.snapshot.message = "taken out of the queue before it started"
                return True
            if entry.snapshot.state != "running":
                return False
            entry.snapshot.state = "stopping"
            entry.snapshot.message = "stopping after the current step"
        entry.stop.set()
        return True

    def snapshot(self, ticket: str | None) -> RunSnapshot:
        """A copy of the run's record (state "idle" for a ticket never issued or
        long forgotten); a queued run's `ahead` and message say where it stands."""
        with self._lock:
            entry = self._entries.get(ticket) if ticket else None
            if entry is None:
                return RunSnapshot("idle", "no training run yet")
            s = entry.snapshot
            copy = replace(s, losses=list(s.losses), validation=list(s.validation))
            copy.log = list(s.log[-50:])
            if ticket in self._waiting:
                copy.ahead = self._waiting.index(ticket) + (self._current is not None)
                copy.message = (
                    f"waiting in the training queue: {copy.ahead} "
                    f"run{'s' if copy.ahead != 1 else ''} ahead of yours "
                    "(one run trains at a time)"
                )
            return copy

    def active_configs(self) -> list[ExperimentConfig]:
        """The configurations of the running and the waiting runs."""
        with self._lock:
            return [e.config for e in self._entries.values() if e.snapshot.active]

    def result(self, ticket: str) -> TrainResult | None:
        with self._lock:
            entry = self._entries.get(ticket)
            return entry.result if entry else None

    def wait(self, ticket: str, timeout: float | None = None) -> RunSnapshot:
        """Block until the run has finished (or `timeout` seconds passed)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.snapshot(ticket).active:
            if deadline is not None and time.monotonic() > deadline:
                break
            time.sleep(0.1)
        return self.snapshot(ticket)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no run is running or waiting."""
        return self._idle.wait(timeout)

    # ------------------------------------------------------------------ the worker
    def _forget_old(self) -> None:
        finished = [t for t, e in self._entries.items() if e.snapshot.state in FINISHED]
        for ticket in finished[: max(0, len(finished) - self.keep)]:
            del self._entries[ticket]

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._waiting:
                    self._current = self._worker = None
                    self._idle.set()
                    return
                ticket = self._current = self._waiting.popleft()
                entry = self._entries[ticket]
                entry.snapshot.state = "running"
                entry.snapshot.message = "starting"
                entry.snapshot.started = time.time()
            self._run(entry)
            with self._lock:
                self._current = None
            if self.on_finished is not None:
                self.on_finished()

    def _record(self, entry: _Entry, event: TrainEvent) -> None:
        with self._lock:
            s = entry.snapshot
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

    def _run(self, entry: _Entry) -> None:
        from engine.training.run import train

        try:
            result = train(
                entry.config,
                callback=lambda event: self._record(entry, event),
                stop=entry.stop,
                show_progress=False,
            )
        except Exception as error:  # reported to the UI, not raised in a thread
            with self._lock:
                entry.snapshot.state = "failed"
                entry.snapshot.message = f"training failed: {error}"
                entry.snapshot.log.append(traceback.format_exc(limit=3))
            return
        with self._lock:
            entry.result = result
            s = entry.snapshot
            s.state = "stopped" if result.stopped else "done"
            s.best_path = result.best_path
            s.message = (
                f"{'stopped' if result.stopped else 'finished'} after {result.steps} steps "
                f"({result.seconds:.0f} s, {result.samples_per_second:.0f} samples/s)"
            )
