"""Everything the demo's handlers share: models, galleries, search engines, the render
cache and the training manager. Thread-safe; holds no Gradio objects.

Models are per visitor: a handler passes the model name its session activated (None: the
deployment's default, the shipped model unless the operator allowed visitors to change
it with --shared-activation). Training outputs stay under a disk budget.

Every picture and video is drawn by the render cache's worker processes (at least one),
never in a request thread: an OpenGL context belongs to the thread that made it."""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from demo.config import DemoConfig
from demo.shared_renders import SharedRenders
from engine.catalog import open_gallery
from engine.config import ExperimentConfig
from engine.data.dataset import MotionItem
from engine.data.embedded import corpus_folder
from engine.defaults import resolve_checkpoint
from engine.encoder import MotionTextEncoder
from engine.errors import EngineError
from engine.gallery import Gallery, build_gallery
from engine.motion.features import features_to_joints
from engine.paths import REPO_ROOT, cache_dir
from engine.render import (
    RenderCache,
    RenderSettings,
    rendering_available,
    unavailable_reason,
    warm_up,
)
from engine.search import SearchEngine
from engine.training.cleanup import prune_to_budget
from engine.training.manager import TrainingManager

EMBEDDED = "Embedded corpus (unseen test motions)"
UPLOADS = "My uploads"
SHIPPED = "Shipped model"
GRID = RenderSettings()  # 256x256 at the full 20 fps: 8 results in ~3.4 s (docs/rendering.md)
EXPORTS = cache_dir() / "exports"
RUNS = cache_dir() / "runs"  # the training tab's runs
# A visitor's model counts as in use (its run is never cleaned up) this long after its
# last search; the deployment's default model always does.
MODEL_IDLE_S = 3600.0
VIDEO_EXAMPLES = cache_dir() / "video_examples"  # made from real footage on this machine
# A download folder lives this long: long enough to click the links of a Details panel,
# short enough that exports never pile up on a long-running Space.
EXPORT_MAX_AGE_S = 3600.0
DETAIL = RenderSettings(width=480, height=480)

Progress = Callable[[str, int, int], None]


@dataclass
class Source:
    """A gallery the user can pick: a data folder (None = the embedded one)."""

    name: str
    folder: str | None = None


class DemoServices:
    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        self.render = RenderCache(
            max_mb=config.render_cache_mb, workers=max(1, config.render_workers)
        )
        self._videos = SharedRenders(  # a video several searches want is drawn once
            lambda features, settings: self.render.render_many(
                [features_to_joints(f) for f in features], "video", settings
            )
        )
        self.training = TrainingManager(on_finished=self.prune_runs)
        self.can_render = rendering_available()
        self.render_problem = None if self.can_render else unavailable_reason()
        self._lock = threading.RLock()
        self.models: dict[str, Path] = {SHIPPED: resolve_checkpoint(config.checkpoint)}
        self.default_model = SHIPPED
        self._last_used: dict[str, float] = {}
        self._encoders: dict[Path, MotionTextEncoder] = {}
        self._corpora: set[Path] = set(_corpora_of_runs(RUNS))
        self.sources: dict[str, Source] = {EMBEDDED: Source(EMBEDDED)}
        if config.gallery:
            self.add_source(config.gallery)
        self._engines: dict[tuple[str, str], SearchEngine] = {}
        self._building: dict[tuple[str, str], threading.Lock] = {}
        self.ready = threading.Event()
        self.status = "starting"
        self.startup_error: str | None = None

    # ------------------------------------------------------------------ start-up
    def prepare(self) -> None:
        """Load the model and build the default gallery (first start: generate it)."""

        def report(stage: str, done: int, total: int) -> None:
            self.status = f"{stage}: {done}/{total}"

        try:
            encoder = self.encoder()
            threading.Thread(target=encoder.load_language_model, daemon=True).start()
            engine = self.engine(EMBEDDED, report)
            self.status = "ready"
        except Exception as error:  # shown in the UI instead of killing the server
            self.startup_error = f"the gallery could not be prepared: {error}"
            self.status = self.startup_error
            return
        finally:
            self.ready.set()
        engine.prepare_captions()  # text search is answering already

    def start_in_background(self) -> threading.Thread:
        if self.can_render:
            warm_up(self.render.workers)  # the first search need not start them
        thread = threading.Thread(target=self.prepare, name="prepare-gallery", daemon=True)
        thread.start()
        return thread

    # ------------------------------------------------------------------ models
    def model_name(self, model: str | None = None) -> str:
        """The model a session searches with: the one it activated while that still
        exists (a cleaned-up run's is gone), else the deployment's default."""
        with self._lock:
            return model if model in self.models else self.default_model

    def encoder(self, model: str | None = None) -> MotionTextEncoder:
        with self._lock:
            name = self.model_name(model)
            self._last_used[name] = time.time()
            path = self.models[name]
            if path not in self._encoders:
                self._encoders[path] = MotionTextEncoder.load(path, self.config.device)
            return self._encoders[path]

    def register_model(self, name: str, path: Path) -> None:
        with self._lock:
            self.models[name] = Path(path)

    def activate_model(self, name: str, progress: Progress | None = None) -> str:
        """Prepare a model for a session, encoding the galleries in use with it; with
        --shared-activation it also becomes every visitor's default. Returns the name
        for the session to keep."""
        if name not in self.models:
            raise EngineError(f"unknown model {name!r}")
        with self._lock:
            if self.config.shared_activation:
                self.default_model = name
            sources = {source for source, _ in self._engines}
        for source in sources:
            self.engine(source, progress, name)
        return name

    # ------------------------------------------------------------------ training
    def submit_training(self, config: ExperimentConfig) -> str:
        """Queue a training run (a ticket for its owner) after cleaning up old ones."""
        if not config.data.paths:
            with self._lock:
                self._corpora.add(corpus_folder(config.data.corpus_size, config.data.corpus_seed))
        self.prune_runs()
        return self.training.submit(config)

    def prune_runs(self) -> list[Path]:
        """Delete the oldest runs and training corpora beyond --runs-budget-mb; never a
        running or waiting run's folder or corpus, nor a model in use. Models whose run
        went are forgotten (a session that used one falls back to the default)."""
        active = self.training.active_configs()
        now = time.time()
        with self._lock:
            in_use = [
                path
                for name, path in self.models.items()
                if name == self.default_model or now - self._last_used.get(name, 0) < MODEL_IDLE_S
            ]
            corpora = set(self._corpora)
        keep = [*in_use, *(Path(c.train.out_dir) for c in active)]
        keep += [corpus_folder(c.data.corpus_size, c.data.corpus_seed) for c in active]
        runs = [p for p in RUNS.iterdir() if p.is_dir()] if RUNS.is_dir() else []
        try:
            deleted = prune_to_budget([*runs, *corpora], self.config.runs_budget_mb * 2**20, keep)
        except OSError as error:  # a full or read-only disk must not stop the worker
            logging.getLogger(__name__).warning("cleaning up runs failed: %s", error)
            return []
        with self._lock:
            for name, path in list(self.models.items()):
                if any(d == path.resolve() or d in path.resolve().parents for d in deleted):
                    del self.models[name]
                    self._encoders.pop(path, None)
        return deleted

    # ------------------------------------------------------------------ galleries
    def add_source(self, folder: str) -> str:
        path = Path(folder).expanduser()
        if not path.is_dir():
            raise EngineError(f"{folder}: no such folder")
        name = f"Library: {path.name}"
        with self._lock:
            self.sources[name] = Source(name, str(path))
        return name

    def engine(
        self, source: str, progress: Progress | None = None, model: str | None = None
    ) -> SearchEngine:
        """The search engine of a gallery under a session's model (None: the default),
        built once: the check and the build are under the gallery's own lock, so two
        searches right after a model change wait for one build instead of both writing
        the same cache folder."""
        if source not in self.sources:
            raise EngineError(f"unknown gallery {source!r}")
        encoder = self.encoder(model)
        key = (source, encoder.fingerprint)
        with self._lock:
            if key in self._engines:
                return self._engines[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._engines:  # built while this thread waited
                    return self._engines[key]
            gallery = open_gallery(encoder, self.sources[source].folder, None, progress)
            engine = SearchEngine(encoder, gallery)
            with self._lock:
                self._engines[key] = engine
                self._building.pop(key, None)
            return engine

    def uploads_engine(self, items: list[MotionItem], model: str | None = None) -> SearchEngine:
        """A gallery of the motions a visitor uploaded in this session."""
        if not items:
            raise EngineError("no uploaded motions yet: add some in the Gallery tab")
        encoder = self.encoder(model)
        gallery: Gallery = build_gallery(UPLOADS, UPLOADS, items, encoder, persist=False)
        return SearchEngine(encoder, gallery)

    # ------------------------------------------------------------------ rendering
    @property
    def served_folders(self) -> list[Path]:
        """Where the app writes the files it sends to browsers (renders and exports)."""
        return [self.render.root, EXPORTS, VIDEO_EXAMPLES]

    @property
    def private_folders(self) -> list[Path]:
        """Folders never to serve (Gradio's blocked_paths): the code and shipped assets,
        the model checkpoints and the operator's gallery folder; except any that holds a
        served folder (a cache set inside the repository)."""
        folders = [
            REPO_ROOT,
            *self.models.values(),
            *(Path(s.folder) for s in self.sources.values() if s.folder),
        ]
        served = [p.resolve() for p in self.served_folders]
        return [
            f.resolve()
            for f in folders
            if not any(s == f.resolve() or f.resolve() in s.parents for s in served)
        ]

    def video(self, features: np.ndarray, settings: RenderSettings = GRID) -> Path:
        return self.render.get(features_to_joints(features), "video", settings)

    def new_export_folder(self, max_age_s: float = EXPORT_MAX_AGE_S) -> Path:
        """A fresh folder with an unguessable name for one request's downloads, so that
        no visitor can overwrite, list or guess another's files; folders older than
        `max_age_s` are deleted first."""
        EXPORTS.mkdir(parents=True, exist_ok=True)
        cutoff = time.time() - max_age_s
        for old in EXPORTS.iterdir():
            try:
                if old.is_dir() and old.stat().st_mtime < cutoff:
                    shutil.rmtree(old, ignore_errors=True)
            except FileNotFoundError:  # another request pruned it first
                continue
        folder = EXPORTS / secrets.token_urlsafe(12)
        folder.mkdir()
        return folder

    def export_video(self, features: np.ndarray, target: Path) -> Path:
        """The motion's detail video copied (atomically) to `target`, a download's name."""
        return self.render.export(features_to_joints(features), target, "video", DETAIL)

    def videos(self, feature_list: list[np.ndarray], settings: RenderSettings = GRID):
        """(index, path) for each motion as soon as its video is ready."""
        return self._videos(feature_list, settings)

    def thumbnails(self, feature_list: list[np.ndarray]):
        joints = [features_to_joints(f) for f in feature_list]
        return self.render.render_many(joints, "thumbnail", GRID)

    def glb(self, features: np.ndarray) -> Path:
        return self.render.get(features_to_joints(features), "glb", DETAIL)


def _corpora_of_runs(runs: Path) -> list[Path]:
    """The generated corpora that earlier runs under `runs` trained on (from each run's
    checkpoint configuration), so that a restarted app still cleans them up."""
    found = []
    for config in runs.glob("*/*/config.json") if runs.is_dir() else []:
        try:
            data = json.loads(config.read_text())["experiment"]["data"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not data.get("paths"):
            found.append(corpus_folder(data["corpus_size"], data["corpus_seed"]))
    return found
