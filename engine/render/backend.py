"""The offscreen OpenGL context: pick a platform, make one renderer per process.

PyOpenGL fixes its platform when it is first imported, from `PYOPENGL_PLATFORM`, and
cannot switch afterwards. So unless that variable is set already (by the user, or
inherited from a parent process that chose), each candidate (EGL first: hardware or
Mesa's llvmpipe, headless; then OSMesa: software) is tried in a short child process;
the first that renders is written to `PYOPENGL_PLATFORM` before this process imports
OpenGL, and worker processes inherit the choice.

An OpenGL context is current on one thread at a time: a new one is left current on the
thread that made it, and any other thread then fails in `eglMakeCurrent`
(EGL_BAD_ACCESS). So the renderer here is released after each use, and a program that
renders from many threads (a web server) draws in the render worker processes instead
(`engine.render.workers`, used by `RenderCache`); `unavailable_reason()` asks a worker
too, so checking never makes a context in the caller.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from engine.render.errors import RenderUnavailable

if TYPE_CHECKING:
    from engine.render.gl import Rasteriser

PLATFORMS = ("egl", "osmesa")
_HINT = (
    "install Mesa's EGL (Debian: libegl1 libegl-mesa0 libgl1-mesa-dri) or OSMesa "
    "(libosmesa6), "
    "or set PYOPENGL_PLATFORM to a platform that works here"
)
_PROBE = """
import numpy as np
from engine.render.gl import Rasteriser
Rasteriser(8, 8, 4).draw([], np.eye(4), (0.0, 0.0, 0.0))
"""
_PROBE_TIMEOUT_S = 120
_lock = threading.RLock()
_renderer: Rasteriser | None = None


def probe_platform(platform: str) -> str | None:
    """None if a child process can render with `platform`, else why it cannot."""
    package_root = str(Path(__file__).resolve().parents[2])  # the probe imports the engine
    python_path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYOPENGL_PLATFORM": platform, "PYTHONPATH": python_path}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE],
            env=env,
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return f"{platform}: no answer in {_PROBE_TIMEOUT_S} s"
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return f"{platform}: {lines[-1] if lines else f'exit status {done.returncode}'}"


def choose_platform() -> str:
    """The OpenGL platform this process renders with (probed once, then remembered)."""
    platform, reason = _platform_choice()
    if platform is None:
        raise RenderUnavailable(reason)
    return platform


@functools.cache
def _platform_choice() -> tuple[str | None, str]:
    chosen = os.environ.get("PYOPENGL_PLATFORM")
    if chosen:
        return chosen, ""
    if "OpenGL" in sys.modules:
        return None, (
            "PyOpenGL was imported before engine.render could pick an offscreen platform; "
            "set PYOPENGL_PLATFORM=egl (or osmesa) before anything imports OpenGL"
        )
    failures = []
    for platform in PLATFORMS:
        failure = probe_platform(platform)
        if failure is None:
            os.environ["PYOPENGL_PLATFORM"] = platform
            return platform, ""
        failures.append(failure)
    return None, f"no offscreen OpenGL works here ({'; '.join(failures)}); {_HINT}"


@contextlib.contextmanager
def renderer(width: int, height: int, samples: int = 4) -> Iterator[Rasteriser]:
    """This process's rasteriser (created once), sized and held for one render.

    The context is used by one thread at a time: other threads wait here, and it is not
    left current on the thread that used it (another one may use it next).
    """
    global _renderer
    with _lock:
        if _renderer is None:
            _renderer = _create_renderer(width, height, samples)
        _renderer.make_current()
        try:
            _renderer.resize(width, height, samples)
            yield _renderer
        finally:
            _renderer.release()


def _create_renderer(width: int, height: int, samples: int) -> Rasteriser:
    choose_platform()
    from engine.render.gl import Rasteriser

    try:
        gl = Rasteriser(width, height, samples)
    except RenderUnavailable:
        raise
    except Exception as error:  # any failure to make a context means: cannot render
        raise RenderUnavailable(
            "cannot create an offscreen OpenGL context with "
            f"PYOPENGL_PLATFORM={os.environ['PYOPENGL_PLATFORM']}: "
            f"{type(error).__name__}: {error}; {_HINT}"
        ) from error
    gl.release()  # a new context is left current on the thread that made it
    return gl


def check_context() -> None:
    """Make this process's renderer (raises RenderUnavailable when that fails)."""
    with renderer(16, 16):
        pass


@functools.cache
def unavailable_reason() -> str | None:
    """Why nothing can be rendered here, or None when rendering works (checked once).

    The check runs in a render worker process, where the pictures are drawn: it makes no
    OpenGL context in this one.
    """
    from engine.render.workers import worker_pool  # it imports this module

    try:
        choose_platform()
        worker_pool().run(check_context)
    except RenderUnavailable as error:
        return str(error)
    except Exception as error:  # whatever stops a worker from drawing: cannot render
        return f"{type(error).__name__}: {error}"
    return None


def rendering_available() -> bool:
    """Whether pictures can be rendered (the first call may take a second or two)."""
    return unavailable_reason() is None
