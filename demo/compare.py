"""The comparison view of the details panel: one video in which the query motion and the
chosen result play side by side, in step, over the similarity-over-time curve with the
best-matching window shaded and a cursor that moves as it plays. A text query has no
motion to show, so the result plays beside its nearest gallery neighbours instead (what
else the model takes for the same motion), under the text's curve.

The motions are rendered by the render workers (`DemoServices.videos`); composing the
rendered videos draws no 3D and runs here."""

from __future__ import annotations

import html
from dataclasses import dataclass

import gradio as gr

from demo.results import SearchResults
from demo.services import DemoServices
from engine.render import RenderError
from engine.render.side_by_side import Curve, Panel, compose
from engine.search import Hit, SearchEngine, window_timeline
from engine.twins import mirror_name

NEIGHBOURS = 2


@dataclass
class ComparisonView:
    button: gr.Button
    video: gr.Video
    text: gr.Markdown

    @property
    def outputs(self) -> list:
        return [self.video, self.text]


def build_comparison_view() -> ComparisonView:
    button = gr.Button("Compare side by side", size="sm", elem_id="compare-button")
    video = gr.Video(
        visible=False,
        autoplay=True,
        loop=True,
        interactive=False,
        show_label=False,
        elem_id="compare-video",
    )
    text = gr.Markdown(elem_id="compare-text")
    return ComparisonView(button, video, text)


def cleared() -> list:
    """The comparison of a result no longer shown."""
    return [gr.update(value=None, visible=False), ""]


def compare(
    services: DemoServices, engine: SearchEngine, results: SearchResults, slot: int, twin: bool
) -> tuple[str, str]:
    """The comparison video of result `slot` (or its twin) and what it shows, in words."""
    hit, features = results.shown(slot, twin)
    timeline = window_timeline(engine.encoder, results.vector, features)
    result = f"{hit.id} · score {hit.score:.3f}"
    if results.query_motion is not None:
        motions = [results.query_motion.features, features]
        labels = [f"query · {results.query}", result]
        follows = 1
        text = (
            f"Your motion and **{html.escape(hit.id)}**, started together; the curve is "
            "the similarity of your motion to each 2-s window of the result."
        )
    else:
        neighbours = nearest_neighbours(engine, hit)
        motions = [features, *(engine.gallery.item(n.id).features for n in neighbours)]
        labels = [result, *(f"neighbour {n.id} · {n.score:.2f} alike" for n in neighbours)]
        follows = 0
        text = (
            f"**{html.escape(hit.id)}** beside its nearest gallery motions (how alike the "
            "model finds them); the curve is the query's similarity to each 2-s window of "
            f"{html.escape(hit.id)}."
        )
    paths = dict(services.videos(motions))
    panels = [Panel(paths[i], label) for i, label in enumerate(labels)]
    curve = Curve(timeline.times, timeline.scores, timeline.best_window, follows)
    start, end = timeline.best_window
    out = services.new_export_folder() / "comparison.mp4"
    compose(panels, out, _title(results), curve)
    return str(out), f"{text} Best match: {start:.1f}–{end:.1f} s."


def nearest_neighbours(engine: SearchEngine, hit: Hit) -> list[Hit]:
    """The gallery motions closest to `hit`'s, itself and its mirror twin left out."""
    vector = engine.gallery.embeddings[engine.gallery.row(hit.id)]
    return engine.search_distinct(vector, NEIGHBOURS, exclude=[hit.id, mirror_name(hit.id)])


def _title(results: SearchResults) -> str:
    if results.kind == "text":
        return f"“{results.query}”"
    return f"query: {results.query}"


def comparison_updates(services: DemoServices, engine, results, slot, twin) -> list:
    """The view's updates, or a warning and nothing shown when it cannot be made."""
    if not services.can_render:
        gr.Warning(f"no comparison: videos are unavailable ({services.render_problem})")
        return cleared()
    try:
        video, text = compare(services, engine, results, slot, twin)
    except RenderError as error:
        gr.Warning(f"no comparison: {error}")
        return cleared()
    return [gr.update(value=video, visible=True), text]
