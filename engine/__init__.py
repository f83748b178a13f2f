"""Cross-modal retrieval between text, video and 3D human motion: the engine.

A library with no UI import: motion representation and data formats (`engine.motion`,
`engine.data`), models, losses, training and evaluation, the gallery and search, and
rendering. The Gradio demo in `demo/` is a thin layer over it.
"""

__version__ = "0.1.0"
