"""One render for a video that several requests want at the same time.

Visitors often search the same thing at once (the page's examples, a shared link), and
each search asks for its results' videos. The render cache finds a finished video, but
not one still being drawn: two requests both drew it, and on two render workers a burst
of 16 searches did up to twice the work (measured: text-search p95 20 s at N = 16 with
nothing rendered yet, docs/benchmarks.md). Here a request that wants a video another
request is drawing waits for that one instead.

A video is known by its motion's features array (the gallery item's own array, shared by
every request for that motion) and the render settings; the array is held while it is
drawn, so its id() cannot be reused meanwhile. Uploaded motions are new arrays each time
and are drawn as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.render import RenderSettings

WAIT_S = 300.0  # at most this long for another request's render, then draw it here

RenderMany = Callable[[list[np.ndarray], RenderSettings], Iterable[tuple[int, Path]]]


@dataclass
class _Drawing:
    features: np.ndarray  # held: its id() is the key while it is being drawn
    done: threading.Event = field(default_factory=threading.Event)
    path: Path | None = None  # None once done: the owner failed or stopped


class SharedRenders:
    """`render_many(features_list, settings)` → (index, path) as each is ready, with a
    video that another request is drawing waited for rather than drawn again."""

    def __init__(self, render_many: RenderMany, wait_s: float = WAIT_S) -> None:
        self._render_many = render_many
        self._wait_s = wait_s
        self._drawing: dict[tuple[int, RenderSettings], _Drawing] = {}
        self._lock = threading.Lock()

    def __call__(
        self, feature_list: Sequence[np.ndarray], settings: RenderSettings
    ) -> Iterator[tuple[int, Path]]:
        mine: list[tuple[int, tuple, _Drawing]] = []
        theirs: list[tuple[int, _Drawing]] = []
        with self._lock:
            for index, features in enumerate(feature_list):
                key = (id(features), settings)
                drawing = self._drawing.get(key)
                if drawing is None:
                    drawing = self._drawing[key] = _Drawing(features)
                    mine.append((index, key, drawing))
                else:
                    theirs.append((index, drawing))
        try:
            found = self._render_many([feature_list[i] for i, _, _ in mine], settings)
            for n, path in found:
                index, key, drawing = mine[n]
                drawing.path = path
                self._finish(key, drawing)
                yield index, path
        finally:  # failed, or the caller stopped: whoever waits draws it itself
            for _, key, drawing in mine:
                self._finish(key, drawing)
        for index, drawing in theirs:
            if drawing.done.wait(self._wait_s) and drawing.path is not None:
                yield index, drawing.path
            else:
                for _, path in self._render_many([feature_list[index]], settings):
                    yield index, path

    def _finish(self, key: tuple, drawing: _Drawing) -> None:
        with self._lock:
            if self._drawing.get(key) is drawing:
                del self._drawing[key]
        drawing.done.set()
