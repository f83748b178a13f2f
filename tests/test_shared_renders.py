"""A video that several requests want at the same time is drawn once (demo/shared_renders.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from demo.shared_renders import SharedRenders
from engine.render import RenderError, RenderSettings

SETTINGS = RenderSettings()


class SlowRenderer:
    """Stands in for the render cache: each video takes `seconds`, and is counted."""

    def __init__(self, seconds: float = 0.3, fail: bool = False) -> None:
        self.seconds, self.fail = seconds, fail
        self.drawn: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, features: list[np.ndarray], settings: RenderSettings):
        for index, motion in enumerate(features):
            time.sleep(self.seconds)
            if self.fail:
                raise RenderError("no OpenGL")
            with self.lock:
                self.drawn.append(id(motion))
            yield index, Path(f"/renders/{int(motion[0, 0])}.mp4")


def motions(n: int) -> list[np.ndarray]:
    return [np.full((10, 263), i, dtype=np.float32) for i in range(n)]


def in_threads(*jobs):
    results, errors = [None] * len(jobs), []

    def run(slot, job):
        try:
            results[slot] = job()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)  # the first request starts drawing before the second asks
    for thread in threads:
        thread.join(30)
    return results, errors


def test_two_requests_for_the_same_videos_draw_each_once():
    gallery = motions(4)
    renderer = SlowRenderer()
    shared = SharedRenders(renderer)
    started = time.monotonic()
    (first, second), errors = in_threads(
        lambda: dict(shared(gallery, SETTINGS)), lambda: dict(shared(gallery[1:], SETTINGS))
    )
    assert not errors
    assert first == {i: Path(f"/renders/{i}.mp4") for i in range(4)}
    assert second == {i: Path(f"/renders/{i + 1}.mp4") for i in range(3)}
    assert sorted(renderer.drawn) == sorted(id(m) for m in gallery)  # each once
    assert time.monotonic() - started < 4 * 0.3 + 0.5  # the second waited, did not redraw
    assert not shared._drawing  # nothing left behind
    assert dict(shared(gallery[:1], SETTINGS)) == {0: Path("/renders/0.mp4")}  # asked again
    assert len(renderer.drawn) == 5  # (the render cache answers that one from disk)


def test_a_failed_render_fails_for_everyone_who_wanted_it():
    gallery = motions(2)
    failing = SharedRenders(SlowRenderer(fail=True))
    _, errors = in_threads(
        lambda: list(failing(gallery, SETTINGS)), lambda: list(failing(gallery, SETTINGS))
    )
    assert len(errors) == 2 and all(isinstance(e, RenderError) for e in errors)
    assert not failing._drawing


def test_a_request_that_stops_leaves_its_videos_to_whoever_waits():
    gallery = motions(2)
    renderer = SlowRenderer(seconds=0.2)
    shared = SharedRenders(renderer)
    abandoned = shared(gallery, SETTINGS)
    assert next(abandoned) == (0, Path("/renders/0.mp4"))  # then its caller goes away
    got = {}
    waiter = threading.Thread(target=lambda: got.update(shared(gallery[1:], SETTINGS)))
    waiter.start()
    time.sleep(0.1)  # waiting for the abandoned request's second video
    abandoned.close()
    waiter.join(10)
    assert got == {0: Path("/renders/1.mp4")} and not shared._drawing


def test_a_waiter_draws_it_itself_when_the_owner_never_finishes():
    gallery = motions(2)
    shared = SharedRenders(SlowRenderer(seconds=0.05), wait_s=0.5)
    stuck = shared(gallery, SETTINGS)
    next(stuck)  # the second video is registered, and its caller neither goes on nor stops
    started = time.monotonic()
    assert dict(shared(gallery[1:], SETTINGS)) == {0: Path("/renders/1.mp4")}
    assert 0.5 <= time.monotonic() - started < 5
    stuck.close()


@pytest.mark.parametrize("n", [0, 1])
def test_nothing_or_one(n):
    renderer = SlowRenderer(seconds=0.0)
    assert len(dict(SharedRenders(renderer)(motions(n), SETTINGS))) == n
