"""The Training tab: configure a run, wait for it in the queue (one run trains at a
time), watch it live, stop it, make its model the one this visitor's searches use.

Per visitor: the run's ticket, the models this visitor trained and the activated model
live in the session's state; other visitors keep theirs (the shipped model) unless the
app runs with --shared-activation."""

from __future__ import annotations

import dataclasses
import secrets
import time

import gradio as gr
import pandas as pd

from demo.errors import user_error
from demo.search_tab import SearchTab
from demo.services import RUNS, SHIPPED, DemoServices
from engine.config import LOSS_KINDS, MOTION_ENCODERS, ExperimentConfig, load_config
from engine.errors import EngineError
from engine.paths import REPO_ROOT

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
    # the time for people, a random tail so that two visitors' runs never share a folder
    out_dir = RUNS / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
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


def activation_message(services: DemoServices, name: str) -> str:
    if services.config.shared_activation:
        return f"Search now uses **{name}** for every visitor (galleries re-encoded)."
    return (
        f"Search now uses **{name}** in this session (galleries re-encoded); other "
        "visitors keep their own model."
    )


def build_training_tab(services: DemoServices, search: SearchTab, model: gr.State) -> None:
    """`model`: the session's activated model (None: the deployment's default)."""
    base = load_config(QUICK_CONFIG)
    ticket = gr.State(None)  # this visitor's current or last run
    owned = gr.State([])  # names of the models this visitor trained
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
        *choices, mine = values
        if services.training.snapshot(mine).active:
            raise gr.Error("your run is still in progress or waiting: stop it first")
        try:
            mine = services.submit_training(run_config(*choices))
        except EngineError as error:
            raise user_error(error) from None
        return services.training.snapshot(mine).message or "Starting…", mine

    def stop_run(mine):
        if not services.training.stop(mine):
            return "No run of yours is active."
        if services.training.snapshot(mine).state == "cancelled":
            return "Your run was taken out of the queue."
        return "Stopping after the current step…"

    def poll(mine):
        s = services.training.snapshot(mine)
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

    def use_run(mine, mine_models, progress=gr.Progress()):
        s = services.training.snapshot(mine)
        if s.best_path is None:
            raise gr.Error("this run saved no checkpoint yet")
        name = f"Trained {s.best_path.parent.name}"
        services.register_model(name, s.best_path)
        return activate_model(name, [*mine_models, name], progress)

    def activate_model(name: str, mine_models, progress=gr.Progress()):
        if name != SHIPPED and name not in mine_models:  # only this visitor's own models
            raise gr.Error("choose one of your models")
        try:
            services.activate_model(name, lambda stage, d, t: progress((d, t), desc=stage))
        except EngineError as error:
            raise user_error(error) from None
        choices = list(dict.fromkeys([SHIPPED, *mine_models]))
        return (
            activation_message(services, name),
            gr.update(choices=choices, value=name),
            name,
            choices[1:],
        )

    inputs = [data, encoder, loss, epochs, batch, lr, seed, ticket]
    start.click(start_run, inputs, [status, ticket], api_visibility="private")
    stop.click(stop_run, [ticket], status, api_visibility="private")
    timer = gr.Timer(1.0)
    timer.tick(
        poll,
        [ticket],
        [status, progress, loss_plot, recall_plot, use],
        api_visibility="private",
        show_progress="hidden",
    )
    activated = [activation, models, model, owned]
    use.click(use_run, [ticket, owned], activated, api_visibility="private")
    activate.click(activate_model, [models, owned], activated, api_visibility="private")
