"""The program each render worker runs (`python -m engine.render.worker_process`).

It reads pickled (function, args) jobs from stdin and writes pickled answers to the
original stdout; anything else printed goes to stderr. See `engine.render.workers`.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from typing import BinaryIO

from engine.render.backend import renderer
from engine.render.errors import RenderError


def _serve(jobs: BinaryIO, answers: BinaryIO) -> None:
    """The worker's loop: read (function, args), answer (True, value) or (False, error)."""
    with contextlib.suppress(RenderError), renderer(16, 16):
        pass  # make the OpenGL context before the first job (a failure shows in the job)
    while True:
        try:
            function, args = pickle.load(jobs)
        except EOFError:
            return
        try:
            answer = (True, function(*args))
        except Exception as error:
            answer = (False, error)
        try:
            payload = pickle.dumps(answer)
        except Exception:  # an exception that does not pickle: keep its message
            payload = pickle.dumps((False, RenderError(f"{type(answer[1]).__name__}: {answer[1]}")))
        answers.write(payload)
        answers.flush()


def _main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not corrupt answers
    _serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    _main()
