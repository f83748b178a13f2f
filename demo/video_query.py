"""Video as a query on the Search tab: upload or record a person moving; the page shows what
the system saw (the video with the detected 2-D skeleton, the recovered 3-D motion), the
nearest gallery captions ("What is this person doing?"), the recovered motion's downloads,
and the gallery motions found with it. Also the named API endpoint `search_video`.

The video is processed in a thread while the handler reports its progress; the recovered
motion is rendered by the render workers like any gallery motion (never GL here)."""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np

from demo.errors import user_error
from demo.limits import check_count
from demo.results import SearchResults, api_record, captions_table
from demo.reveal import reveal_on
from demo.services import EMBEDDED, VIDEO_EXAMPLES, DemoServices
from engine.data.motion_export import export_bvh, export_joints, safe_file_stem
from engine.errors import EngineError
from engine.familiarity import Familiarity
from engine.render import RenderError
from engine.search import CaptionHit, Hit, SearchEngine
from engine.video import VideoConfig, VideoMotion, video_to_motion
from engine.video.embedding import video_query_vector
from engine.video.overlay import write_overlay
from engine.video.samples import clip, find_vtest

_STAGES = {"decode": "reading the video", "pose": "finding the pose", "lift": "recovering 3-D"}


def example_videos() -> list[str]:
    """Example videos made on this machine from real footage found on it (OpenCV's
    pedestrian clip, when Debian's opencv-doc is installed); none otherwise."""
    source = find_vtest()
    if source is None:
        return []
    target = VIDEO_EXAMPLES / "pedestrians.mp4"
    if not target.is_file():
        clip(source, target, start=5.0, seconds=10.0)
    return [str(target)]


@dataclass
class VideoInput:
    video: gr.Video
    button: gr.Button


@dataclass
class VideoPanel:
    group: gr.Group
    overlay: gr.Video
    motion: gr.Video
    text: gr.Markdown
    captions: gr.Dataframe
    downloads: gr.File
    use_as_motion: gr.Button
    joints_path: gr.State

    @property
    def outputs(self) -> list:
        return [
            self.group,
            self.overlay,
            self.motion,
            self.text,
            self.captions,
            self.downloads,
            self.joints_path,
        ]


def build_video_input(services: DemoServices) -> VideoInput:
    """The video input (upload or webcam) with its caps and examples."""
    config = services.config
    with gr.Accordion("…or search by video (upload or record)", open=False):
        video = gr.Video(
            label=f"A person moving, whole body in view (up to {config.max_video_seconds:g} s "
            f"and {config.max_upload_mb:g} MB)",
            sources=["upload", "webcam"],
            format=None,
            elem_id="video-query",
        )
        button = gr.Button("Search with this video", elem_id="search-video-button")
        examples = example_videos()
        if examples:
            gr.Examples(
                examples,
                inputs=video,
                label="Example video (OpenCV's pedestrians)",
                elem_id="video-examples",
            )
    return VideoInput(video, button)


def build_video_panel() -> VideoPanel:
    """What the system saw, shown above the results of a video query."""
    with gr.Group(visible=False, elem_id="video-seen") as group:
        gr.Markdown("#### What the system saw")
        with gr.Row():
            overlay = gr.Video(
                label="Detected pose",
                autoplay=True,
                loop=True,
                interactive=False,
                height=260,
                elem_id="video-overlay",
            )
            motion = gr.Video(
                label="Recovered 3-D motion",
                autoplay=True,
                loop=True,
                interactive=False,
                height=260,
                elem_id="video-motion",
            )
        text = gr.Markdown(elem_id="video-notes")
        captions = gr.Dataframe(
            headers=["rank", "score", "nearest gallery caption", "of motion"],
            label="What is this person doing? (nearest gallery captions)",
            wrap=True,
            elem_id="video-captions",
        )
        with gr.Row():
            downloads = gr.File(
                label="Recovered motion",
                file_count="multiple",
                interactive=False,
                elem_id="video-downloads",
            )
            use_as_motion = gr.Button("Use as motion query", elem_id="video-use-as-motion")
    return VideoPanel(
        group, overlay, motion, text, captions, downloads, use_as_motion, gr.State(None)
    )


def recover(services: DemoServices, path: str, progress=None) -> VideoMotion:
    config = services.config
    video_config = VideoConfig(max_seconds=config.max_video_seconds)
    try:
        return video_to_motion(path, video_config, progress=progress)
    except EngineError as error:
        raise user_error(error) from None


def _in_thread(work: Callable[[Callable], VideoMotion]) -> Iterator[str | VideoMotion]:
    """Run `work(progress)` in a thread; yield progress messages, then its result."""
    state: dict = {"message": "reading the video…"}

    def progress(stage: str, done: int, total: int) -> None:
        counted = f" {done}/{total}" if total else ""
        state["message"] = f"{_STAGES.get(stage, stage)}{counted}…"

    def run() -> None:
        try:
            state["result"] = work(progress)
        except BaseException as error:  # re-raised in the handler's thread
            state["error"] = error

    thread = threading.Thread(target=run, name="video-query", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.5)
        yield state["message"]
    if "error" in state:
        raise state["error"]
    yield state["result"]


def _files(services: DemoServices, path: str, result: VideoMotion) -> tuple[Path, list[str]]:
    """The overlay video and the recovered motion's downloads (.npy joints, .bvh)."""
    folder = services.new_export_folder()
    stem = safe_file_stem(Path(path).stem) + "_recovered"
    overlay = write_overlay(
        path,
        result.info,
        result.track,
        folder / f"{stem}_pose.mp4",
        VideoConfig(max_seconds=services.config.max_video_seconds),
    )
    joints = export_joints(result.motion, folder / f"{stem}_joints.npy")
    bvh = export_bvh(result.motion, folder / f"{stem}.bvh")
    return overlay, [str(joints), str(bvh)]


@dataclass
class VideoSearch:
    """What a recovered motion found: the same search as a motion file's (one slot per
    mirror-twin pair), the nearest captions, and whether the model knows such motions."""

    vector: np.ndarray
    way_in: str  # lifting, or lifting + video encoder (engine/video/embedding.py)
    hits: list[Hit]
    captions: list[CaptionHit]
    familiarity: Familiarity


def search_recovered(
    engine: SearchEngine, result: VideoMotion, k: int, actions: list[str] | None
) -> VideoSearch:
    vector, way_in = video_query_vector(engine, result)
    hits = engine.search_distinct(vector, k, actions=actions or None)
    # the familiarity check reads the recovered motion alone (not the video encoder's vector)
    familiarity = engine.familiarity_of_query(result.motion.features)
    return VideoSearch(vector, way_in, hits, engine.nearest_captions(vector, 5), familiarity)


def api_notes(result: VideoMotion, found: VideoSearch) -> dict:
    """What the API says besides the results: the video's notes (who was followed, lost
    frames) and the familiarity check of the recovered motion."""
    return {
        "notes": list(result.notes),
        "recovered_seconds": round(result.motion.duration, 2),
        "way_in": found.way_in,
        "familiarity": found.familiarity.to_json(),
    }


def notes_markdown(result: VideoMotion, found: VideoSearch) -> str:
    info, seconds, familiarity = result.info, result.seconds, found.familiarity
    lines = [
        f"{result.motion.duration:.1f} s recovered from a {info.width}×{info.height} "
        f"{info.container} video at {info.fps:g} fps (pose estimated at {info.sample_fps:g} "
        f"fps in {seconds.get('pose', 0):.1f} s; reading {seconds.get('decode', 0):.1f} s). "
        "Motion towards or away from the camera is approximate (an assumed field of view). "
        f"Searched by {found.way_in}.",
        *(f"*{note}*" for note in result.notes),
    ]
    if not familiarity.familiar:
        lines.append(f"**{familiarity.notice()}**")
    return "\n\n".join(lines)


def wire_video_query(
    services: DemoServices,
    video_input: VideoInput,
    panel: VideoPanel,
    *,
    present: Callable[[SearchResults], Iterator[list]],
    wait_until_ready: Callable[[], Iterator[str]],
    engine_for: Callable,
    grid_outputs: list,
    filters: list,
    motion_file: gr.File,
    motion_search_on: Callable[[Callable], None],
    results_for: Callable[..., SearchResults],
    rendered: Callable,
) -> None:
    """The events of the video query: the page's search, 'use as motion query' (which puts
    the recovered motion into the motion-file input and runs the motion search with it,
    wired by `motion_search_on`) and
    the named API endpoint `search_video`. `results_for` is the search tab's
    `search_results` (the hits with their features and their mirror twins')."""
    config = services.config
    skip_panel = [gr.skip()] * len(panel.outputs)

    def row(grid: list | None = None, seen: list | None = None) -> list:
        """One update of the grid and the panel; None leaves that part as it is."""
        return [*(grid or [gr.skip()] * len(grid_outputs)), *(seen or skip_panel)]

    def status(message: str) -> list:
        return row([message, *[gr.skip()] * (len(grid_outputs) - 1)])

    def ui_search_video(path, count, gallery, labels, uploaded, model=None):
        for message in wait_until_ready():
            yield status(message)
        if not path:
            raise gr.Error("choose or record a video first")
        name = Path(path).name
        try:
            count = check_count(count, config.max_results)
        except EngineError as error:
            raise user_error(error) from None
        # the panel opens (emptied) before it is filled: a video or table made visible in
        # the same update that gives it a value may stay empty (Gradio 6.31)
        yield row(
            None, [gr.update(visible=True), None, None, "*processing the video…*", None, None, None]
        )
        result = None
        for step in _in_thread(lambda progress: recover(services, path, progress)):
            if isinstance(step, VideoMotion):
                result = step
            else:
                yield status(f"Video *{html.escape(name)}*: {step}")
        try:
            engine = engine_for(gallery, uploaded, model)
            found = search_recovered(engine, result, count, labels)
        except EngineError as error:
            raise user_error(error) from None
        for note in [*result.notes, found.familiarity.notice()]:
            if note:
                gr.Warning(note)
        overlay, downloads = _files(services, path, result)
        seen = [
            gr.skip(),
            str(overlay),
            None,
            notes_markdown(result, found),
            captions_table(found.captions),
            downloads,
            downloads[0],
        ]
        results = results_for(engine, f"video {name}", "motion", found.vector, gallery, found.hits)
        for i, update in enumerate(present(results)):
            yield row(update, seen if i == 0 else None)
        yield row(None, [*skip_panel[:2], _motion_video(services, result), *skip_panel[3:]])

    video_input.button.click(
        ui_search_video,
        [video_input.video, *filters],
        [*grid_outputs, *panel.outputs],
        api_visibility="private",
        show_progress="minimal",
    )
    reveal_on([video_input.button.click], "#results-column")
    filled = panel.use_as_motion.click(
        lambda joints: joints, [panel.joints_path], [motion_file], api_visibility="private"
    )
    motion_search_on(filled.then)

    api_results, api_videos, api_captions, api_notes_json = (
        gr.JSON(visible=False),
        gr.Files(visible=False),
        gr.JSON(visible=False),
        gr.JSON(visible=False),
    )

    def search_video(
        video, k=config.default_results, gallery=EMBEDDED, actions=None, uploaded=None, model=None
    ):
        """Video → motions: the motion of the video's main person is recovered (pose,
        lifting) and searched with; returns the ranked gallery motions (records as for
        search_text, one per mirror-twin pair), their rendered videos, the gallery
        captions nearest to it, and notes: {notes: what the video processing noticed (who
        was followed, frames without a pose), recovered_seconds, familiarity: {familiar,
        notice, ...} — whether the recovered motion is like those the model knows}."""
        services.ready.wait()
        if not video:
            raise gr.Error("no video given")
        try:
            k = check_count(k, config.max_results)
        except EngineError as error:
            raise user_error(error) from None
        result = recover(services, video)
        try:
            engine = engine_for(gallery, uploaded, model)
            found = search_recovered(engine, result, k, actions)
        except EngineError as error:
            raise user_error(error) from None
        notice = engine.encoder.fallback_notice
        records = [api_record(i + 1, h, notice) for i, h in enumerate(found.hits)]
        captions = [c.to_json() for c in found.captions]
        return records, rendered(engine, found.hits), captions, api_notes(result, found)

    hidden = gr.Button(visible=False)
    hidden.click(
        search_video,
        [video_input.video, *filters],
        [api_results, api_videos, api_captions, api_notes_json],
        api_name="search_video",
    )


def _motion_video(services: DemoServices, result: VideoMotion):
    """The recovered motion rendered like a gallery motion (by the render workers)."""
    if not services.can_render:
        return gr.skip()
    try:
        return str(services.video(result.motion.features))
    except RenderError as error:
        gr.Warning(f"the recovered motion could not be rendered: {error}")
        return gr.skip()
