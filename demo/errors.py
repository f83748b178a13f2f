"""Engine errors as messages for the page: what was wrong, without server paths."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from engine.errors import EngineError, MotionFileError


def user_error(error: EngineError) -> gr.Error:
    """A gr.Error to raise; a bad uploaded file is named by its file name only (the
    full path is a temporary folder on the server)."""
    if isinstance(error, MotionFileError):
        return gr.Error(f"{Path(error.path).name}: {error.problem}")
    return gr.Error(str(error))
