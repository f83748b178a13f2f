"""The query motion at the head of a motion query's results: rendered like a result (by the
render workers, never here) with what the importer decided (frames, duration, unit, up
axis, handedness, which joints were mapped), so a visitor can judge whether their file
was read correctly before judging the results."""

from __future__ import annotations

import html
from dataclasses import dataclass

import gradio as gr

from engine.data.import_summary import import_summary
from engine.motion.motion import Motion


@dataclass
class QueryPanel:
    group: gr.Group
    video: gr.Video
    card: gr.Markdown
    summary: gr.Markdown

    @property
    def outputs(self) -> list:
        return [self.group, self.video, self.card, self.summary]


def build_query_panel() -> QueryPanel:
    with gr.Group(visible=False, elem_id="query-motion") as group, gr.Row(equal_height=False):
        with gr.Column(min_width=160, scale=1, elem_classes="result"):
            video = gr.Video(
                autoplay=True,
                loop=True,
                show_label=False,
                height=220,
                interactive=False,
                elem_id="query-motion-video",
            )
            card = gr.Markdown(elem_classes="card", elem_id="query-motion-card")
        summary = gr.Markdown(elem_id="query-import")
    return QueryPanel(group, video, card, summary)


def panel_updates(name: str, motion: Motion | None) -> list:
    """The panel shown for a motion query (its video still to come), hidden otherwise."""
    if motion is None:
        return [gr.update(visible=False), None, "", ""]
    card = f"**query** · {html.escape(name)} · {motion.duration:.1f} s"
    return [gr.update(visible=True), None, card, summary_markdown(motion)]


def summary_markdown(motion: Motion) -> str:
    summary = import_summary(motion)
    rows = "\n".join(f"- **{what}**: {html.escape(value)}" for what, value in summary.facts)
    text = f"#### How your file was read\n\n{rows}"
    if summary.joint_map:
        mapped = ", ".join(
            f"{target} ← {html.escape(source)}" for target, source in summary.joint_map.items()
        )
        text += f"\n\n<details><summary>joint mapping</summary>\n\n{mapped}\n\n</details>"
    return text
