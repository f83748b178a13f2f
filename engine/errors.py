"""Errors the engine raises for bad input: each message names the file and the problem."""

from __future__ import annotations

from pathlib import Path


class EngineError(ValueError):
    """Bad input or configuration, with a message meant for the user."""


class MotionFileError(EngineError):
    """A motion file that cannot be read: wrong shape, NaN, too short, unknown skeleton..."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class DatasetError(EngineError):
    """A data set folder that cannot be used: missing split, no readable motion, ..."""


class VideoFileError(MotionFileError):
    """A video given as a motion query that cannot be used: not a video, corrupt,
    an unsupported codec, too long, or no person in view."""
