"""The render cache: each picture, video or GLB is made once and then served from disk.

A file's name is a hash of the joints' bytes, the skeleton, the render settings and the
kind of output, so a change to any of them gives a new file and an unchanged request
finds the old one. Files appear atomically: a reader never sees a half-written one.

Pictures and videos are drawn in the render worker processes (`workers`), each with its
own OpenGL context, never in the caller's threads: a context belongs to the thread that
made it, and a server calls from many. `render_many` renders several motions at once
and hands back each path as soon as it is ready; `export` copies a rendered file to a
name of the caller's choosing, atomically too. `workers=0` draws in the calling process
instead (a single-threaded script, a test).

With `max_mb` the cache is bounded: after new files are written, the least recently used
ones (a hit refreshes a file's time) are deleted until it holds at most 80% of the bound
(never the files of the request at hand), so a long-running server does not fill its
disk with videos.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path

import numpy as np

from engine.motion.skeleton import Skeleton
from engine.paths import cache_dir
from engine.render.errors import RenderError
from engine.render.gltf import export_glb
from engine.render.inputs import prepare_joints
from engine.render.settings import RenderSettings
from engine.render.thumbnail import render_thumbnail
from engine.render.video import render_video
from engine.render.workers import DEFAULT_WORKERS, worker_pool
from engine.storage import atomic_file

# Bump when a change to the drawing code changes what a file looks like.
RENDER_VERSION = 1
PRUNED_SHARE = 0.8  # a full cache is pruned down to this share of its bound

Writer = Callable[[np.ndarray, Path, RenderSettings, Skeleton], Path]
KINDS: dict[str, tuple[str, Writer]] = {
    "video": ("mp4", render_video),
    "thumbnail": ("png", render_thumbnail),
    "glb": ("glb", export_glb),
}


class RenderCache:
    """Rendered files under `root` (default: `cache_dir()/renders`), one per request, at
    most `max_mb` megabytes of them when given, drawn by `workers` render worker processes
    (0: in the calling process)."""

    def __init__(
        self,
        root: str | Path | None = None,
        max_mb: float | None = None,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self.root = Path(root) if root is not None else cache_dir() / "renders"
        self.max_bytes = None if max_mb is None else int(max_mb * 2**20)
        self.workers = workers

    def path(
        self,
        joints: np.ndarray,
        kind: str = "video",
        settings: RenderSettings | None = None,
        skeleton: Skeleton | None = None,
    ) -> Path:
        """Where the `kind` ('video', 'thumbnail' or 'glb') of these joints is kept."""
        joints, skeleton = prepare_joints(joints, skeleton)
        return self._path(kind, joints, settings or RenderSettings(), skeleton)

    def get(
        self,
        joints: np.ndarray,
        kind: str = "video",
        settings: RenderSettings | None = None,
        skeleton: Skeleton | None = None,
    ) -> Path:
        """The cached file, rendered first (in a worker) if it is not there yet."""
        settings = settings or RenderSettings()
        joints, skeleton = prepare_joints(joints, skeleton)
        path = self._path(kind, joints, settings, skeleton)
        if _touch(path):
            return path
        for _ in _render_all(kind, {path: (joints, skeleton)}, settings, self.workers):
            pass
        self.prune(keep={path})
        return path

    def export(
        self,
        joints: np.ndarray,
        target: str | Path,
        kind: str = "video",
        settings: RenderSettings | None = None,
        skeleton: Skeleton | None = None,
    ) -> Path:
        """Copy the cached file (rendered first if need be) to `target`, atomically: the
        copy is written next to `target` and renamed, so a reader of `target` (a
        download) never sees part of it. Returns `target`."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            return _copy(self.get(joints, kind, settings, skeleton), target)
        except FileNotFoundError:  # pruned by another request in between: render it again
            return _copy(self.get(joints, kind, settings, skeleton), target)

    def video(self, joints: np.ndarray, settings: RenderSettings | None = None) -> Path:
        return self.get(joints, "video", settings)

    def thumbnail(self, joints: np.ndarray, settings: RenderSettings | None = None) -> Path:
        return self.get(joints, "thumbnail", settings)

    def glb(self, joints: np.ndarray, settings: RenderSettings | None = None) -> Path:
        return self.get(joints, "glb", settings)

    def render_many(
        self,
        motions: Sequence[object],
        kind: str = "video",
        settings: RenderSettings | None = None,
        workers: int | None = None,
    ) -> Iterator[tuple[int, Path]]:
        """Yield (index in `motions`, path) for each motion, cached ones first, the others
        as each finishes, rendered by `workers` processes (default: the cache's; in this
        one if 0).

        A motion is a joints array (T, J, 3) or anything with a `.joints` one (a Motion).
        Every motion is checked before anything is rendered, so bad input fails at once.
        """
        settings = settings or RenderSettings()
        workers = self.workers if workers is None else workers
        pending: dict[Path, list[int]] = {}
        inputs: dict[Path, tuple[np.ndarray, Skeleton]] = {}
        ready = []
        for index, motion in enumerate(motions):
            joints, skeleton = prepare_joints(getattr(motion, "joints", motion))
            path = self._path(kind, joints, settings, skeleton)
            if _touch(path):
                ready.append((index, path))
            else:
                pending.setdefault(path, []).append(index)
                inputs[path] = (joints, skeleton)
        yield from ready
        for path in _render_all(kind, inputs, settings, workers):
            for index in pending[path]:
                yield index, path
        if inputs:
            self.prune(keep={path for _, path in ready} | set(inputs))

    def prune(self, keep: Collection[Path] = ()) -> int:
        """Delete least recently used files beyond the bound (none of `keep`); returns how
        many were deleted."""
        if self.max_bytes is None or not self.root.is_dir():
            return 0
        files = []
        for entry in os.scandir(self.root):
            if entry.is_file() and not entry.name.startswith("."):  # "." : being written
                stat = entry.stat()
                files.append((stat.st_mtime, stat.st_size, Path(entry.path)))
        total = sum(size for _, size, _ in files)
        if total <= self.max_bytes:
            return 0
        removed = 0
        for _, size, path in sorted(files):
            if total <= self.max_bytes * PRUNED_SHARE:
                break
            if path in keep:
                continue
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        return removed

    def _path(
        self, kind: str, joints: np.ndarray, settings: RenderSettings, skeleton: Skeleton
    ) -> Path:
        if kind not in KINDS:
            raise RenderError(f"unknown render kind {kind!r}; known: {', '.join(KINDS)}")
        digest = hashlib.sha256()
        for part in (f"v{RENDER_VERSION}", kind, skeleton.name, str(joints.shape)):
            digest.update(part.encode() + b"\0")
        digest.update(joints.tobytes())
        digest.update(settings.key().encode())
        return self.root / f"{digest.hexdigest()[:32]}.{KINDS[kind][0]}"


def _touch(path: Path) -> bool:
    """Whether the file exists; if so its time is refreshed (it was just used)."""
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    except OSError:  # a read-only cache is still a cache
        return path.exists()
    return True


def _copy(source: Path, target: Path) -> Path:
    with atomic_file(target) as tmp:
        shutil.copyfile(source, tmp)
    return target


def write(
    kind: str, joints: np.ndarray, path: Path, settings: RenderSettings, skeleton: Skeleton
) -> Path:
    """Render `kind` of the joints to `path` (atomically) in this process."""
    return KINDS[kind][1](joints, path, settings, skeleton)


def _render_all(
    kind: str,
    inputs: dict[Path, tuple[np.ndarray, Skeleton]],
    settings: RenderSettings,
    workers: int,
) -> Iterator[Path]:
    """Render every (path: joints) job; yield each path when its file is complete.

    GLB export needs no OpenGL and takes milliseconds: it always runs here. With
    `workers` >= 1 even a single video goes to the workers: an OpenGL context is bound to
    one thread, and a server renders from many.
    """
    jobs = [(kind, joints, path, settings, skeleton) for path, (joints, skeleton) in inputs.items()]
    if workers <= 0 or not jobs or kind == "glb":
        for job in jobs:
            yield write(*job)
    else:
        yield from worker_pool(workers).imap_unordered(write, jobs)


def warm_up(workers: int = DEFAULT_WORKERS) -> None:
    """Start the render worker processes now, so the first request does not wait for them."""
    worker_pool(workers).start()
