"""Render worker processes: each a long-lived `python -m engine.render.worker_process` with its
own OpenGL context, fed pickled jobs through a pipe.

Not `multiprocessing`: its spawn start re-imports the caller's main script in every worker
(a Gradio app.py would build its whole UI and load its models again) and a fork does not
carry an OpenGL context, or torch's thread pools, safely. These workers import only the
renderer, start once, stay warm between requests, and a dead one is replaced.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from engine.render.backend import choose_platform
from engine.render.errors import RenderUnavailable

_SOURCE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding `engine`
DEFAULT_WORKERS = 2


class _Worker:
    """One worker process and its pipes; `call` runs a job and waits for its answer."""

    def __init__(self) -> None:
        env = {
            **os.environ,
            "PYOPENGL_PLATFORM": choose_platform(),
            "PYTHONPATH": os.pathsep.join(
                p for p in (_SOURCE_ROOT, os.environ.get("PYTHONPATH")) if p
            ),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine.render.worker_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def call(self, function: Callable, args: tuple) -> Any:
        try:
            pickle.dump((function, args), self.process.stdin)
            self.process.stdin.flush()
            ok, value = pickle.load(self.process.stdout)
        except (EOFError, BrokenPipeError, pickle.UnpicklingError) as error:
            self.stop()
            raise RenderUnavailable(
                f"a render worker process died (exit status {self.process.returncode}); "
                "its error output is above"
            ) from error
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class WorkerPool:
    """Up to `size` worker processes, started on first use and reused afterwards."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(size):
            self._idle.put(None)  # a slot whose process starts when first needed
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start every worker now (each makes its OpenGL context while the caller goes on)."""
        slots = [self._idle.get() for _ in range(self.size)]
        for slot in slots:
            self._idle.put(self._ready(slot))

    def run(self, function: Callable, *args: Any) -> Any:
        """`function(*args)` computed in a worker; its exception is raised here."""
        return next(self.imap_unordered(function, [args]))

    def imap_unordered(self, function: Callable, jobs: Sequence[tuple]) -> Iterator[Any]:
        """Yield `function(*job)` for each job, computed in the workers, as each is done.

        A job's exception is raised here; jobs not yet started when the caller stops
        iterating are dropped.
        """
        results: queue.Queue[tuple[bool, Any]] = queue.Queue()
        cancelled = threading.Event()

        def run(job: tuple) -> None:
            worker = self._idle.get()
            try:
                if cancelled.is_set():
                    return
                worker = self._ready(worker)
                results.put((True, worker.call(function, job)))
            except BaseException as error:
                results.put((False, error))
            finally:
                self._idle.put(worker)

        for job in jobs:
            threading.Thread(target=run, args=(job,), daemon=True).start()
        try:
            for _ in jobs:
                ok, value = results.get()
                if not ok:
                    raise value
                yield value
        finally:
            cancelled.set()

    def shutdown(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop()

    def _ready(self, worker: _Worker | None) -> _Worker:
        if worker is not None and worker.alive:
            return worker
        fresh = _Worker()
        with self._lock:
            self._workers = [w for w in self._workers if w is not worker] + [fresh]
        return fresh


_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def worker_pool(size: int | None = None) -> WorkerPool:
    """The process's shared pool (resized when a different size is asked for; without a
    size, the pool as it is, or one of `DEFAULT_WORKERS`)."""
    global _pool
    with _pool_lock:
        if size is None:
            size = _pool.size if _pool is not None else DEFAULT_WORKERS
        if _pool is None or _pool.size != size:
            if _pool is not None:
                _pool.shutdown()
            _pool = WorkerPool(size)
        return _pool


def shutdown_workers() -> None:
    """Stop the shared pool's processes (a later render starts new ones)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown()
            _pool = None


atexit.register(shutdown_workers)
