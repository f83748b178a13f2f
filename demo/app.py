"""The Gradio application: three tabs over one `DemoServices`."""

from __future__ import annotations

import gradio as gr

from demo.config import DemoConfig
from demo.gallery_tab import build_gallery_tab
from demo.search_tab import build_search_tab
from demo.services import DemoServices
from demo.share import wire_share
from demo.startup import serve
from demo.training_tab import build_training_tab

TITLE = "Motion retrieval: text ⇄ 3D human motion"
INTRO = (
    "Describe a motion, or upload one, and watch the best-matching motions of the gallery "
    "as animated 3D bodies (left side orange, right side blue). Models: dual "
    "Transformer encoders with the DropTriple / MildTriple, InfoNCE and CCCL objectives; "
    "the gallery is a procedural motion–language corpus the shipped model never saw."
)
CSS = """
.result { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 6px; }
.card p { margin: 2px 0; font-size: 0.92em; }
.muted p { color: var(--body-text-color-subdued); font-size: 0.9em; }
.progress-track { height: 12px; border-radius: 6px; overflow: hidden;
                  background: var(--neutral-200); }
.progress-fill { height: 100%; background: var(--color-accent); transition: width 0.5s; }
.progress-label { font-size: 0.85em; color: var(--body-text-color-subdued); margin-top: 4px; }
#details-text { padding: 4px 12px; }
#details-downloads { border-style: none !important; }  /* in a Group it got a 3-px black frame */
"""


def build_demo(services: DemoServices) -> gr.Blocks:
    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        uploads = gr.State([])
        model = gr.State(None)  # the model this visitor activated (None: the default)
        with gr.Tab("Search"):
            search = build_search_tab(services, uploads, model)
        with gr.Tab("Gallery") as gallery_tab:
            build_gallery_tab(services, uploads, search, gallery_tab)
        if services.config.training:
            with gr.Tab("Training"):
                build_training_tab(services, search, model)
        wire_share(demo, search, services)
        demo.load(
            lambda: services.status if not services.ready.is_set() else "",
            None,
            search.status,
            api_visibility="private",
        )
    return demo


def launch(config: DemoConfig) -> None:
    services = DemoServices(config)
    services.start_in_background()
    demo = build_demo(services)
    serve(  # launch() without Gradio's 3-s page check, which a loaded CPU failed
        demo.queue(default_concurrency_limit=4),
        server_name=config.host,
        server_port=config.port,
        share=config.share,
        theme=gr.themes.Soft(),
        css=CSS,
        show_error=True,
        max_file_size=int(config.max_upload_mb * 2**20),  # larger uploads: HTTP 413
        # only the folders the app writes its own renders and exports to; never the model,
        # the code or the data folders (tests/test_safety.py tries them)
        allowed_paths=[str(p) for p in services.served_folders],
        blocked_paths=[str(p) for p in services.private_folders],
    )
