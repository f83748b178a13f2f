"""A small offscreen rasteriser on PyOpenGL: pre-lit triangles in, RGB pictures out.

Every surface the renderer draws is already lit (per-vertex colours, see `shading`), so a
frame needs only one vertex-colour shader, a depth test and a multisampled framebuffer.
Drawing it here rather than through a scene-graph renderer saves two costs that bound a
CPU-only grid (docs/rendering.md, "What bounds it"): the body's vertex buffer is
allocated once per clip and its vertices replaced in place each frame (no new mesh, no
buffer creation per frame), and the multisample count is a setting (2x costs the
rasteriser far less than 4x, and edges stay smooth).

The OpenGL context comes from pyrender's platform classes (EGL, else OSMesa; chosen in
`backend`), which make a headless context on either; nothing else of pyrender is used.
"""

from __future__ import annotations

import ctypes
import os

import numpy as np

from engine.render.errors import RenderUnavailable

_VERTEX_SHADER = """
#version 330 core
layout(location = 0) in vec3 position;
layout(location = 1) in vec4 colour;
uniform mat4 view_projection;
out vec4 shade;
void main() {
    gl_Position = view_projection * vec4(position, 1.0);
    shade = colour;
}
"""
_FRAGMENT_SHADER = """
#version 330 core
in vec4 shade;
out vec4 picture;
void main() { picture = shade; }
"""
_FLOAT = 4  # bytes
_STRIDE = 7 * _FLOAT  # x y z r g b a, interleaved


def projection(yfov: float, aspect: float, znear: float, zfar: float) -> np.ndarray:
    """The OpenGL perspective matrix (4, 4) of a camera looking down -Z."""
    f = 1.0 / np.tan(yfov / 2.0)
    return np.array(
        [
            [f / aspect, 0.0, 0.0, 0.0],
            [0.0, f, 0.0, 0.0],
            [0.0, 0.0, (zfar + znear) / (znear - zfar), 2 * zfar * znear / (znear - zfar)],
            [0.0, 0.0, -1.0, 0.0],
        ]
    )


class Batch:
    """Triangles with a fixed topology in GPU buffers; their vertices can be replaced."""

    def __init__(self, positions: np.ndarray, colours: np.ndarray, faces: np.ndarray) -> None:
        from OpenGL import GL

        self.count = int(faces.size)
        self._vertices = len(positions)
        self.vao = GL.glGenVertexArrays(1)
        self.vbo, self.ebo = GL.glGenBuffers(2)
        GL.glBindVertexArray(self.vao)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
        GL.glBufferData(GL.GL_ARRAY_BUFFER, _interleave(positions, colours), GL.GL_DYNAMIC_DRAW)
        GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, self.ebo)
        indices = np.ascontiguousarray(faces, dtype=np.uint32)
        GL.glBufferData(GL.GL_ELEMENT_ARRAY_BUFFER, indices, GL.GL_STATIC_DRAW)
        GL.glEnableVertexAttribArray(0)
        GL.glVertexAttribPointer(0, 3, GL.GL_FLOAT, False, _STRIDE, ctypes.c_void_p(0))
        GL.glEnableVertexAttribArray(1)
        GL.glVertexAttribPointer(1, 4, GL.GL_FLOAT, False, _STRIDE, ctypes.c_void_p(3 * _FLOAT))
        GL.glBindVertexArray(0)

    def update(self, positions: np.ndarray, colours: np.ndarray) -> None:
        """Replace every vertex (same count as at creation), in place."""
        from OpenGL import GL

        if len(positions) != self._vertices:
            raise ValueError(f"{len(positions)} vertices for a batch of {self._vertices}")
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
        GL.glBufferSubData(GL.GL_ARRAY_BUFFER, 0, None, _interleave(positions, colours))

    def draw(self) -> None:
        from OpenGL import GL

        GL.glBindVertexArray(self.vao)
        GL.glDrawElements(GL.GL_TRIANGLES, self.count, GL.GL_UNSIGNED_INT, None)

    def delete(self) -> None:
        from OpenGL import GL

        GL.glDeleteBuffers(2, [self.vbo, self.ebo])
        GL.glDeleteVertexArrays(1, [self.vao])


class Rasteriser:
    """One headless OpenGL context with a shader and a framebuffer of a given size.

    Use from one thread at a time, between `make_current()` and `release()` (the context
    is bound to the thread that makes it current; `backend.renderer` does both).
    """

    def __init__(self, width: int, height: int, samples: int) -> None:
        from OpenGL import GL

        self.width, self.height, self.samples = width, height, samples
        self._platform = _make_platform(width, height)
        self._program = _program()
        self._view_projection = GL.glGetUniformLocation(self._program, "view_projection")
        self._framebuffers: tuple[int, int, list[int]] | None = None
        self._resize(width, height, samples)

    def make_current(self) -> None:
        self._platform.make_current()

    def release(self) -> None:
        """Make the context current on no thread (pyrender's EGL `make_uncurrent` does
        nothing, so this unbinds it here; OSMesa does not tie a context to a thread)."""
        display = getattr(self._platform, "_egl_display", None)
        if display is not None:
            from OpenGL.EGL import EGL_NO_CONTEXT, EGL_NO_SURFACE, eglMakeCurrent

            eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT)

    def resize(self, width: int, height: int, samples: int) -> None:
        """Size the picture and its multisampling (framebuffers remade only on a change)."""
        if (width, height, samples) != (self.width, self.height, self.samples):
            self._resize(width, height, samples)

    def draw(
        self, batches: list[Batch], view_projection: np.ndarray, background: tuple
    ) -> np.ndarray:
        """The batches seen through `view_projection`, as an (H, W, 3) uint8 RGB picture."""
        from OpenGL import GL

        multisampled, resolved, _ = self._framebuffers
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, multisampled)
        GL.glViewport(0, 0, self.width, self.height)
        GL.glClearColor(*background, 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glEnable(GL.GL_CULL_FACE)
        GL.glUseProgram(self._program)
        matrix = np.ascontiguousarray(view_projection, dtype=np.float32)
        GL.glUniformMatrix4fv(self._view_projection, 1, GL.GL_TRUE, matrix)
        for batch in batches:
            batch.draw()
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, multisampled)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, resolved)
        size = (0, 0, self.width, self.height)
        GL.glBlitFramebuffer(*size, *size, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR)
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, resolved)
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        pixels = GL.glReadPixels(0, 0, self.width, self.height, GL.GL_RGB, GL.GL_UNSIGNED_BYTE)
        picture = np.frombuffer(pixels, dtype=np.uint8).reshape(self.height, self.width, 3)
        return picture[::-1].copy()  # OpenGL's rows run bottom-up

    def _resize(self, width: int, height: int, samples: int) -> None:
        from OpenGL import GL

        if self._framebuffers is not None:
            multisampled, resolved, renderbuffers = self._framebuffers
            GL.glDeleteFramebuffers(2, [multisampled, resolved])
            GL.glDeleteRenderbuffers(len(renderbuffers), renderbuffers)
        colour_ms, depth_ms, colour = (int(b) for b in GL.glGenRenderbuffers(3))
        for buffer, kind in ((colour_ms, GL.GL_RGBA8), (depth_ms, GL.GL_DEPTH_COMPONENT24)):
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, buffer)
            GL.glRenderbufferStorageMultisample(GL.GL_RENDERBUFFER, samples, kind, width, height)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, colour)
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_RGBA8, width, height)
        multisampled, resolved = (int(b) for b in GL.glGenFramebuffers(2))
        _attach(multisampled, colour_ms, depth_ms)
        _attach(resolved, colour, None)
        self._framebuffers = (multisampled, resolved, [colour_ms, depth_ms, colour])
        self.width, self.height, self.samples = width, height, samples


def _interleave(positions: np.ndarray, colours: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.hstack([positions, colours]), dtype=np.float32)


def _attach(framebuffer: int, colour: int, depth: int | None) -> None:
    from OpenGL import GL

    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, framebuffer)
    GL.glFramebufferRenderbuffer(
        GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_RENDERBUFFER, colour
    )
    if depth is not None:
        GL.glFramebufferRenderbuffer(
            GL.GL_FRAMEBUFFER, GL.GL_DEPTH_ATTACHMENT, GL.GL_RENDERBUFFER, depth
        )
    status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
    if status != GL.GL_FRAMEBUFFER_COMPLETE:
        raise RenderUnavailable(f"the offscreen framebuffer is incomplete (status {status:#x})")


def _make_platform(width: int, height: int) -> object:
    """A headless context of the platform chosen in `backend`, made current here."""
    platform_name = os.environ["PYOPENGL_PLATFORM"]
    if platform_name == "egl":
        from pyrender.platforms import egl

        device = egl.get_device_by_index(int(os.environ.get("EGL_DEVICE_ID", "0")))
        platform = egl.EGLPlatform(width, height, device=device)
    elif platform_name == "osmesa":
        from pyrender.platforms.osmesa import OSMesaPlatform

        platform = OSMesaPlatform(width, height)
    else:
        raise ValueError(f"unsupported PYOPENGL_PLATFORM={platform_name!r} (egl or osmesa)")
    platform.init_context()
    platform.make_current()
    return platform


def _program() -> int:
    from OpenGL.GL import GL_FRAGMENT_SHADER, GL_VERTEX_SHADER
    from OpenGL.GL.shaders import compileProgram, compileShader

    return compileProgram(
        compileShader(_VERTEX_SHADER, GL_VERTEX_SHADER),
        compileShader(_FRAGMENT_SHADER, GL_FRAGMENT_SHADER),
    )
