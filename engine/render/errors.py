"""Errors raised by rendering: bad input, and no offscreen OpenGL on this machine."""

from __future__ import annotations

from engine.errors import EngineError


class RenderError(EngineError):
    """Joints or render settings that cannot be rendered; the message says what is wrong."""


class RenderUnavailable(RenderError):
    """No offscreen OpenGL backend works here, so nothing can be rendered.

    Search and everything else keep working: callers check `rendering_available()` (or
    catch this) and show results without pictures.
    """
