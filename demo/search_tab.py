"""The Search tab: query by text or by motion file, results as a grid of looping videos
that appear as they render, details with a 3D viewer, the similarity-over-time plot and
downloads. Also the named API endpoints `search_text` and `search_motion`; video queries
and `search_video` are in demo/video_query.py.

Every video is rendered by the render cache's worker processes (`DemoServices`), never
in the request's thread; where nothing can be rendered the page says why and shows the
rest (results, 3D view, plot, .npy and .bvh downloads)."""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd

from demo.compare import build_comparison_view, cleared, comparison_updates
from demo.errors import user_error
from demo.limits import check_count, check_query, crop_note
from demo.query_panel import build_query_panel, panel_updates
from demo.results import (
    SearchResults,
    api_record,
    captions_table,
    card_markdown,
    details_markdown,
)
from demo.reveal import reveal_on
from demo.services import EMBEDDED, UPLOADS, DemoServices
from demo.share import ShareControls, build_share_controls
from demo.video_query import build_video_input, build_video_panel, wire_video_query
from engine.data.corpus import ACTIONS
from engine.data.motion_export import export_bvh, export_npy, safe_file_stem
from engine.data.motion_import import load_motion_file
from engine.errors import EngineError
from engine.motion.motion import Motion
from engine.render import RenderError
from engine.search import SearchEngine, window_timeline

COLUMNS = 4
EXAMPLES = [
    "a person walks forward, then turns left and waves with the right hand",
    "someone jumps up and down in place",
    "a person kicks with the left leg, then bows",
    "the man jogs in a circle",
    "a person sits down on a chair and stands back up",
    "someone throws a ball with the right arm",
    "a figure crawls forward on hands and knees",
    "a person does jumping jacks",
    "a person swings a golf club",
    "someone is dancing",
    "a person drinks from a cup with the left hand",
    "a person balances on one leg",
]


def label_choices(labels) -> list[tuple[str, str]]:
    return [(label.replace("_", " "), label) for label in labels]


@dataclass
class Details:
    """What the details panel of one result shows."""

    glb: str | None  # the animated GLB for the 3D viewer
    plot: pd.DataFrame  # similarity to the query over time: seconds, similarity
    text: str  # markdown, with any notice (what could not be made, and why)
    files: list[str]  # downloads: features and joints .npy, .bvh, and .mp4 when rendered
    notices: list[str]  # what is missing and why, also shown as warnings


def motion_details(
    services: DemoServices,
    results: SearchResults,
    slot: int,
    twin: bool = False,
    model: str | None = None,
) -> Details:
    """The details of result `slot` (0-based), or of its mirror twin: 3D view, timeline,
    text and downloads."""
    hit, features = results.shown(slot, twin)
    timeline = window_timeline(services.encoder(model), results.vector, features)
    plot = pd.DataFrame({"seconds": timeline.times, "similarity": timeline.scores})
    files, notices = export_files(services, hit.id, features)
    glb = None
    try:
        glb = str(services.glb(features))
    except RenderError as error:
        notices.append(f"3D view unavailable: {error}")
    text = details_markdown(hit)
    if notices:
        text += "\n\n" + "\n\n".join(f"*{html.escape(n)}*" for n in notices)
    return Details(glb, plot, text, files, notices)


def export_files(
    services: DemoServices, motion_id: str, features: np.ndarray
) -> tuple[list[str], list[str]]:
    """The motion's downloads (each written atomically) and notices about missing ones."""
    motion = Motion.from_features(motion_id, features)
    stem = safe_file_stem(motion_id)
    folder = services.new_export_folder()
    paths = [*export_npy(motion, folder), export_bvh(motion, folder / f"{stem}.bvh")]
    notices = []
    if not services.can_render:
        notices.append(f"video download unavailable: {services.render_problem}")
    else:
        try:
            paths.append(services.export_video(features, folder / f"{stem}.mp4"))
        except RenderError as error:
            notices.append(f"video download unavailable: {error}")
    return [str(p) for p in paths], notices


def search_results(
    engine: SearchEngine, query: str, kind: str, vector: np.ndarray, gallery: str, hits, **more
) -> SearchResults:
    """What a search shows: the hits with their features and their mirror twins', and
    any notice (the query's, and the model's when the GPU ran out of memory)."""
    features = [engine.gallery.item(h.id).features for h in hits]
    twins = [engine.gallery.item(h.twin.id).features if h.twin else None for h in hits]
    notices = [more.pop("notice", ""), engine.encoder.fallback_notice]
    notice = " · ".join(n for n in notices if n)
    return SearchResults(
        query, kind, vector, gallery, hits, features, twin_features=twins, notice=notice, **more
    )


def twin_button(hit, twin: bool):
    """The details panel's way to the mirror twin of the result shown, and back."""
    if hit.twin is None:
        return gr.update(visible=False)
    label = f"Back to {hit.id}" if twin else f"Show its mirror twin {hit.twin.id}"
    return gr.update(visible=True, value=label)


@dataclass
class SearchTab:
    query: gr.Textbox
    k: gr.Slider
    source: gr.Dropdown
    actions: gr.Dropdown
    status: gr.Markdown
    search: gr.Button
    share: ShareControls
    run_text: Callable  # the text search's handler (query, k, gallery, labels, *extra)
    extra_inputs: list  # its inputs after the form's four
    grid_outputs: list


def build_search_tab(services: DemoServices, uploads: gr.State, model: gr.State) -> SearchTab:
    """`model`: the session's activated model (None: the deployment's default)."""
    config = services.config
    results_state = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            query = gr.Textbox(
                label="Describe a motion",
                placeholder="a person kicks with the left leg, then bows",
                lines=2,
                max_lines=4,
                max_length=config.max_query_chars,
                info=f"up to {config.max_query_chars} characters",
                elem_id="query",
            )
            search = gr.Button("Search", variant="primary", elem_id="search-button")
            gr.Examples(EXAMPLES, inputs=query, label="Try", examples_per_page=12)
            with gr.Accordion("…or search by example motion", open=False):
                motion_file = gr.File(
                    label=f"Motion file (.npy features / joints, or .bvh; up to "
                    f"{config.max_upload_mb:g} MB; longer than {config.max_motion_seconds:g} s "
                    "is cropped)",
                    file_types=[".npy", ".bvh"],
                    type="filepath",
                )
                search_motion = gr.Button("Search with this motion")
            video_input = build_video_input(services)
            k = gr.Slider(
                1,
                config.max_results,
                value=config.default_results,
                step=1,
                label=f"Results (1–{config.max_results})",
            )
            source = gr.Dropdown(
                choices=[*services.sources, UPLOADS], value=EMBEDDED, label="Gallery"
            )
            actions = gr.Dropdown(
                choices=label_choices(ACTIONS),
                value=[],
                multiselect=True,
                allow_custom_value=True,  # other galleries have other labels; search checks
                label="Only motions labelled",
                info="action labels of the gallery (empty: all motions)",
            )
            status = gr.Markdown(elem_id="status")
            share = build_share_controls()
        with gr.Column(scale=3, elem_id="results-column"):
            video_panel = build_video_panel()
            query_panel = build_query_panel()
            columns, videos, cards, buttons = [], [], [], []
            for row in range(-(-config.max_results // COLUMNS)):
                with gr.Row():
                    for col in range(min(COLUMNS, config.max_results - row * COLUMNS)):
                        slot = row * COLUMNS + col
                        with gr.Column(
                            visible=False, min_width=160, elem_classes="result"
                        ) as column:
                            videos.append(
                                gr.Video(
                                    autoplay=True,
                                    loop=True,
                                    show_label=False,
                                    height=220,
                                    interactive=False,
                                    elem_id=f"result-video-{slot}",
                                )
                            )
                            cards.append(
                                gr.Markdown(elem_classes="card", elem_id=f"result-card-{slot}")
                            )
                            buttons.append(
                                gr.Button("Details", size="sm", elem_id=f"details-button-{slot}")
                            )
                        columns.append(column)
            caption_table = gr.Dataframe(
                headers=["rank", "score", "nearest gallery caption", "of motion"],
                label="Nearest captions (motion → text)",
                visible=False,
                wrap=True,
            )
            with gr.Group(visible=False, elem_id="details") as details:
                with gr.Row():
                    viewer = gr.Model3D(
                        label="3D view (drag to orbit)",
                        height=360,
                        clear_color=(0.96, 0.96, 0.97, 1.0),
                        elem_id="details-viewer",
                    )
                    with gr.Column():
                        timeline = gr.LinePlot(
                            x="seconds",
                            y="similarity",
                            title="Where the query matches",
                            height=220,
                            elem_id="details-timeline",
                        )
                        detail_text = gr.Markdown(elem_id="details-text")
                        twin = gr.Button(visible=False, size="sm", elem_id="details-twin-button")
                downloads = gr.File(
                    label="Downloads",
                    file_count="multiple",
                    interactive=False,
                    elem_id="details-downloads",
                )
                comparison = build_comparison_view()

    grid_outputs = [
        status,
        results_state,
        caption_table,
        *columns,
        *cards,
        *videos,
        *query_panel.outputs,
    ]
    query_video = grid_outputs.index(query_panel.video)

    def wait_until_ready() -> Iterator[str]:
        while not services.ready.wait(0.5):
            yield f"Preparing the gallery — {services.status}"
        if services.startup_error:
            raise gr.Error(services.startup_error)

    def engine_for(gallery: str, uploaded, model: str | None = None) -> SearchEngine:
        """The engine of a gallery under the session's model."""
        if gallery == UPLOADS:
            return services.uploads_engine(list(uploaded or []), model)
        return services.engine(gallery, model=model)

    def present(results: SearchResults) -> Iterator[list]:
        n = len(results.hits)
        head = f"**{results.notice}**\n\n" if results.notice else ""
        table = gr.update(value=captions_table(results.captions), visible=bool(results.captions))
        first = [
            head
            + (
                f"{n} result{'s' if n != 1 else ''} for *{results.query}* — rendering…"
                if n
                else "No motion matches these filters."
            ),
            results,
            table,
            *[gr.update(visible=i < n) for i in range(config.max_results)],
            *[card_markdown(i + 1, h) for i, h in enumerate(results.hits)],
            *[""] * (config.max_results - n),
            *[None] * config.max_results,
            *panel_updates(results.query, results.query_motion),
        ]
        yield first
        if not n:
            return
        if not services.can_render:
            yield [
                f"{head}{n} results (videos unavailable: {services.render_problem})",
                *[gr.skip()] * (len(grid_outputs) - 1),
            ]
            return
        started = time.perf_counter()
        query = [] if results.query_motion is None else [results.query_motion.features]
        done = 0
        try:
            for index, path in services.videos([*query, *results.features]):
                update = [gr.skip()] * len(grid_outputs)
                if index < len(query):  # the query motion, at the head of the results
                    update[query_video] = str(path)
                else:
                    done += 1
                    update[3 + 2 * config.max_results + index - len(query)] = str(path)
                update[0] = f"{head}{n} results for *{results.query}* — rendered {done}/{n}"
                yield update
        except RenderError as error:  # the results stay; the page says why videos are missing
            yield [
                f"{head}{n} results for *{results.query}* (videos unavailable: {error})",
                *[gr.skip()] * (len(grid_outputs) - 1),
            ]
            return
        yield [
            f"{head}{n} results for *{results.query}* "
            f"({time.perf_counter() - started:.1f} s to render)",
            *[gr.skip()] * (len(grid_outputs) - 1),
        ]

    def ui_search_text(text, count, gallery, labels, uploaded, model=None):
        for message in wait_until_ready():
            yield [message, *[gr.skip()] * (len(grid_outputs) - 1)]
        try:
            text = check_query(text, config.max_query_chars)
            count = check_count(count, config.max_results)
            engine = engine_for(gallery, uploaded, model)
            vector = engine.embed_text(text)
            hits = engine.search_distinct(vector, count, actions=labels or None)
        except EngineError as error:
            raise user_error(error) from None
        yield from present(search_results(engine, text, "text", vector, gallery, hits))

    def ui_search_motion(loaded, count, gallery, labels, uploaded, model=None):
        """The search with `loaded`, the (name, motion) that `open_query_panel` read."""
        for message in wait_until_ready():
            yield [message, *[gr.skip()] * (len(grid_outputs) - 1)]
        name, motion = loaded
        try:
            count = check_count(count, config.max_results)
            engine = engine_for(gallery, uploaded, model)
            vector = engine.embed_motion(motion.features)
            hits = engine.search_distinct(vector, count, actions=labels or None)
            captions = engine.nearest_captions(vector, 5)
            familiarity = engine.familiarity_of_query(motion.features, vector)
        except EngineError as error:
            raise user_error(error) from None
        results = search_results(
            engine,
            name,
            "motion",
            vector,
            gallery,
            hits,
            captions=captions,
            query_motion=motion,
            notice=familiarity.notice(),
        )
        yield from present(results)

    def show_details(slot: int, results: SearchResults | None, twin: bool = False, model=None):
        if results is None or slot >= len(results.hits):
            raise gr.Error("run a search first")
        try:
            shown = motion_details(services, results, slot, twin, model=model)
        except EngineError as error:
            raise user_error(error) from None
        for notice in shown.notices:
            gr.Warning(notice)
        button = twin_button(results.hits[slot], twin)
        return shown.glb, shown.plot, shown.text, shown.files, button, (slot, twin)

    def update_labels(gallery: str, uploaded):
        if gallery == UPLOADS:
            return gr.update(choices=[], value=[])
        if not services.ready.is_set():
            services.ready.wait()
        try:
            labels = services.engine(gallery).gallery.actions
        except EngineError as error:
            raise user_error(error) from None
        return gr.update(choices=label_choices(labels), value=[])

    inputs = [query, k, source, actions, uploads, model]
    for trigger in (search.click, query.submit):
        trigger(
            ui_search_text, inputs, grid_outputs, api_visibility="private", show_progress="minimal"
        )

    query_motion = gr.State(None)  # (name, motion): the file read once, for the search

    def open_query_panel(path):
        """Read the motion file and open the query panel, in a step of its own before the
        search: a video given to a panel that the same burst of updates makes visible
        never shows (Gradio 6.31; with the grid rendered fast the query's video arrived
        in that burst)."""
        if not path:
            raise gr.Error("choose a motion file first (.npy or .bvh)")
        try:
            motion = load_motion_file(path, max_seconds=config.max_motion_seconds)
        except EngineError as error:
            raise user_error(error) from None
        name = Path(path).name
        cropped = crop_note(motion)
        if cropped:
            gr.Warning(cropped)
            name += f" (cropped to its first {config.max_motion_seconds:g} s)"
        return *panel_updates(name, motion), (name, motion)

    def motion_search_on(trigger: Callable) -> None:
        """Run the motion search on `trigger` (an event listener such as a button's
        `click`, or an event's `then`): the query panel first, then the results."""
        trigger(
            open_query_panel,
            [motion_file],
            [*query_panel.outputs, query_motion],
            api_visibility="private",
            show_progress="hidden",
        ).success(
            ui_search_motion,
            [query_motion, k, source, actions, uploads, model],
            grid_outputs,
            api_visibility="private",
            show_progress="minimal",
        )

    motion_search_on(search_motion.click)

    def open_details(results: SearchResults | None):
        """Open the panel empty first: a Model3D made visible in the same update that
        gives it a model never loads it (Gradio 6.31), so the model comes in a second one."""
        return gr.update(visible=results is not None), None, None, "*loading…*", None, *cleared()

    shown_state = gr.State(None)  # (slot, whether its mirror twin is shown)
    detail_outputs = [viewer, timeline, detail_text, downloads, twin, shown_state]
    for slot, button in enumerate(buttons):
        button.click(
            open_details,
            [results_state],
            [details, *detail_outputs[:4], *comparison.outputs],
            api_visibility="private",
            show_progress="hidden",
        ).then(
            lambda results, model, slot=slot: show_details(slot, results, model=model),
            [results_state, model],
            detail_outputs,
            api_visibility="private",
        )
    twin.click(
        open_details,
        [results_state],
        [details, *detail_outputs[:4], *comparison.outputs],
        api_visibility="private",
    ).then(
        lambda results, shown, model: show_details(shown[0], results, not shown[1], model=model),
        [results_state, shown_state, model],
        detail_outputs,
        api_visibility="private",
    )

    def show_comparison(results: SearchResults | None, shown, uploaded, model):
        if results is None or shown is None:
            raise gr.Error("open the details of a result first")
        try:
            engine = engine_for(results.gallery, uploaded, model)
            return comparison_updates(services, engine, results, *shown)
        except EngineError as error:
            raise user_error(error) from None

    comparison.button.click(
        show_comparison,
        [results_state, shown_state, uploads, model],
        comparison.outputs,
        api_visibility="private",
    )
    reveal_on([search.click, query.submit, search_motion.click], "#results-column")
    reveal_on([b.click for b in [*buttons, twin]], "#details")
    reveal_on([comparison.button.click], "#compare-video")
    source.change(update_labels, [source, uploads], [actions], api_visibility="private")

    # ---------------------------------------------------------------- the named API
    api_results = gr.JSON(visible=False)
    api_videos = gr.Files(visible=False)
    api_captions = gr.JSON(visible=False)

    def rendered(engine: SearchEngine, hits) -> list[str]:
        if not services.can_render:
            return []
        features = [engine.gallery.item(h.id).features for h in hits]
        try:
            paths = dict(services.videos(features))
        except RenderError as error:  # the ranked records still answer
            gr.Warning(f"videos unavailable: {error}")
            return []
        return [str(paths[i]) for i in range(len(hits))]

    def search_text(
        query, k=config.default_results, gallery=EMBEDDED, actions=None, uploaded=None, model=None
    ):
        """Text → motions: k distinct ranked gallery motions (id, score, caption, captions,
        actions, dataset, duration, mirror_twin: the mirror twin sharing the slot, {id,
        score} or None) and their rendered videos in the same order."""
        services.ready.wait()
        try:
            query = check_query(query, config.max_query_chars)
            k = check_count(k, config.max_results)
            engine = engine_for(gallery, uploaded, model)
            hits = engine.search_distinct(engine.embed_text(query), k, actions=actions or None)
        except EngineError as error:
            raise user_error(error) from None
        notice = engine.encoder.fallback_notice
        return [api_record(i + 1, h, notice) for i, h in enumerate(hits)], rendered(engine, hits)

    def search_motion_api(
        motion, k=config.default_results, gallery=EMBEDDED, actions=None, uploaded=None, model=None
    ):
        """Motion file → motions, plus the gallery captions nearest to it (motion → text).
        A motion longer than the cap is cropped to it: a warning says so, and so does each
        record's `query_notice` ('' when the whole motion was used). `familiar` and
        `familiarity_notice` say whether the motion is like the training motions
        (engine/familiarity.py; the notice is '' when it is)."""
        services.ready.wait()
        if not motion:
            raise gr.Error("no motion file given (.npy or .bvh)")
        try:
            k = check_count(k, config.max_results)
            loaded = load_motion_file(motion, max_seconds=config.max_motion_seconds)
            if crop_note(loaded):
                gr.Warning(crop_note(loaded))
            engine = engine_for(gallery, uploaded, model)
            vector = engine.embed_motion(loaded.features)
            hits = engine.search_distinct(vector, k, actions=actions or None)
            captions = [c.to_json() for c in engine.nearest_captions(vector, 5)]
            familiarity = engine.familiarity_of_query(loaded.features, vector)
        except EngineError as error:
            raise user_error(error) from None
        said = {
            "query_notice": crop_note(loaded),
            "familiar": familiarity.familiar,
            "familiarity_notice": familiarity.notice(),
        }
        notice = engine.encoder.fallback_notice
        records = [{**api_record(i + 1, h, notice), **said} for i, h in enumerate(hits)]
        return records, rendered(engine, hits), captions

    hidden = gr.Button(visible=False)
    hidden.click(
        search_text,
        [query, k, source, actions, uploads, model],
        [api_results, api_videos],
        api_name="search_text",
    )
    hidden_motion = gr.Button(visible=False)
    hidden_motion.click(
        search_motion_api,
        [motion_file, k, source, actions, uploads, model],
        [api_results, api_videos, api_captions],
        api_name="search_motion",
    )
    wire_video_query(
        services,
        video_input,
        video_panel,
        present=present,
        wait_until_ready=wait_until_ready,
        engine_for=engine_for,
        grid_outputs=grid_outputs,
        filters=[k, source, actions, uploads, model],
        motion_file=motion_file,
        motion_search_on=motion_search_on,
        results_for=search_results,
        rendered=rendered,
    )
    return SearchTab(
        query, k, source, actions, status, search, share, ui_search_text, inputs[4:], grid_outputs
    )
