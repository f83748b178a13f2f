"""The Training tab: configure a run, watch it live, stop it, make its model active."""

from __future__ import annotations

import dataclasses
import time

import gradio as gr
import pandas as pd

from demo.errors import user_error
from demo.search_tab import SearchTab
from demo.services import SHIPPED, DemoServices
from engine.config import LOSS_KINDS, MOTION_ENCODERS, ExperimentConfig, load_config
from engine.errors import EngineError
from engine.paths import REPO_ROOT, cache_dir

QUICK_CONFIG = REPO_ROOT / "configs" / "quick.yaml"
CORPORA = {
    "Embedded corpus, quick (1,500 motions)": 1500,
    "Embedded corpus, full (6,000 motions, as the shipped model)": 6000,
}
LOSS_NAMES = {
    "InfoNCE": "infonce",
    "InfoNCE + negative filtering (TMR)": "infonce_filtered",
    "Triplet, sum of hinges (SH)": "sh",
    "Triplet, hardest negative (MH)": "mh",
    "DropTriple (Rehamot)": "droptriple",
    "MildTriple (Rehamot)": "mildtriple",
    "CCCL (MoT++)": "cccl",
}
ENCODER_NAMES = {
    "Temporal Transformer (TMR)": "temporal",
    "Body-part spatio-temporal (MoT++)": "spatiotemporal",
}
assert set(LOSS_NAMES.values()) == set(LOSS_KINDS) and set(ENCODER_NAMES.values()) == set(
    MOTION_ENCODERS
)


def run_config(
    data: str, encoder: str, loss: str, epochs: float, batch: float, lr: float, seed: float
) -> ExperimentConfig:
    """The quick preset with the tab's choices applied."""
    base = load_config(QUICK_CONFIG)
    out_dir = cache_dir() / "runs" / time.strftime("%Y%m%d-%H%M%S")
    return dataclasses.replace(
        base,
        data=dataclasses.replace(base.data, corpus_size=CORPORA[data]),
        model=dataclasses.replace(base.model, motion_encoder=ENCODER_NAMES[encoder]),
        loss=dataclasses.replace(base.loss, kind=LOSS_NAMES[loss]),
        train=dataclasses.replace(
            base.train,
            epochs=int(epochs),
            batch_size=int(batch),
            lr=float(lr),
            seed=int(seed),
            out_dir=str(out_dir),
        ),
    )


def progress_bar(fraction: float) -> str:
    percent = max(0.0, min(100.0, 100.0 * fraction))
    return (
        f'<div class="progress-track"><div class="progress-fill" style="width:{percent:.1f}%">'
        f"</div></div><div class='progress-label'>{percent:.0f}% of the training steps</div>"
    )


def build_training_tab(services: DemoServices, search: SearchTab) -> None:
    base = load_config(QUICK_CONFIG)
    gr.Markdown(
        "Train a retrieval model on the same engine as the shipped one. The defaults finish "
        "in a few minutes on a CPU; the first run also generates its corpus."
    )
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            data = gr.Dropdown(list(CORPORA), value=next(iter(CORPORA)), label="Data set")
            encoder = gr.Radio(
                list(ENCODER_NAMES), value="Temporal Transformer (TMR)", label="Motion encoder"
            )
            loss = gr.Dropdown(
                list(LOSS_NAMES), value="InfoNCE + negative filtering (TMR)", label="Loss"
            )
            with gr.Row():
                epochs = gr.Number(
                    base.train.epochs, precision=0, minimum=1, maximum=200, label="Epochs"
                )
                batch = gr.Number(
                    base.train.batch_size, precision=0, minimum=4, maximum=512, label="Batch size"
                )
            with gr.Row():
                lr = gr.Number(base.train.lr, minimum=1e-6, maximum=1e-2, label="Learning rate")
                seed = gr.Number(base.train.seed, precision=0, label="Seed")
            with gr.Row():
                start = gr.Button("Start training", variant="primary")
                stop = gr.Button("Stop", variant="stop")
            status = gr.Markdown("No training run yet.")
            progress = gr.HTML(progress_bar(0.0), elem_id="training-progress")
        with gr.Column(scale=2):
            loss_plot = gr.LinePlot(x="step", y="loss", title="Training loss", height=240)
            # points, not lines: after the first epoch a line would have nothing to join
            recall_plot = gr.ScatterPlot(
                x="epoch", y="recall", color="metric", title="Validation recall (%)", height=240
            )
            with gr.Row():
                use = gr.Button("Use this run's best model for search", interactive=False)
                models = gr.Dropdown([SHIPPED], value=SHIPPED, label="Active model")
                activate = gr.Button("Activate")
            activation = gr.Markdown()

    def start_run(*values):
        try:
            services.training.start(run_config(*values))
        except EngineError as error:
            raise user_error(error) from None
        return "Starting…"

    def stop_run():
        return (
            "Stopping after the current step…" if services.training.stop() else "No run is active."
        )

    def poll():
        s = services.training.snapshot()
        losses = pd.DataFrame(s.losses[-2000:], columns=["step", "loss"]).astype(
            {"step": "int64", "loss": "float64"}
        )
        recalls = pd.DataFrame(
            [
                (epoch, f"{direction} R@{k}", m["all"][direction][f"R@{k}"])
                for epoch, m in s.validation
                for direction in ("t2m", "m2t")
                for k in (1, 10)
            ],
            columns=["epoch", "metric", "recall"],
        ).astype({"epoch": "int64", "metric": "str", "recall": "float64"})
        can_use = s.state in ("done", "stopped") and s.best_path is not None
        return (
            f"**{s.state}** — {s.message}",
            progress_bar(s.progress),
            losses,
            # None, never an empty frame: a plot first given an empty frame with a colour
            # column draws no points once data comes (Gradio 6.31)
            recalls if len(recalls) else None,
            gr.update(interactive=can_use),
        )

    def use_run(progress=gr.Progress()):
        s = services.training.snapshot()
        if s.best_path is None:
            raise gr.Error("this run saved no checkpoint yet")
        name = f"Trained {s.best_path.parent.name}"
        services.register_model(name, s.best_path)
        return activate_model(name, progress)

    def activate_model(name: str, progress=gr.Progress()):
        try:
            services.activate_model(name, lambda stage, d, t: progress((d, t), desc=stage))
        except EngineError as error:
            raise user_error(error) from None
        return (
            f"Search now uses **{name}** (galleries re-encoded).",
            gr.update(choices=list(services.models), value=name),
        )

    inputs = [data, encoder, loss, epochs, batch, lr, seed]
    start.click(start_run, inputs, status, api_visibility="private")
    stop.click(stop_run, None, status, api_visibility="private")
    timer = gr.Timer(1.0)
    timer.tick(
        poll,
        None,
        [status, progress, loss_plot, recall_plot, use],
        api_visibility="private",
        show_progress="hidden",
    )
    use.click(use_run, None, [activation, models], api_visibility="private")
    activate.click(activate_model, [models], [activation, models], api_visibility="private")
