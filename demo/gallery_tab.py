"""The Gallery tab: browse a gallery, add your own motion files, index a data folder."""

from __future__ import annotations

import gradio as gr

from demo.errors import user_error
from demo.limits import crop_note
from demo.search_tab import SearchTab
from demo.services import EMBEDDED, UPLOADS, DemoServices
from engine.data.dataset import MotionItem
from engine.data.motion_import import load_motion_file
from engine.errors import EngineError
from engine.render import RenderError
from engine.twins import distinct, twin_of

PAGE = 24


def build_gallery_tab(
    services: DemoServices, uploads: gr.State, search: SearchTab, tab: gr.Tab
) -> None:
    with gr.Row():
        source = gr.Dropdown(
            choices=[*services.sources, UPLOADS], value=EMBEDDED, label="Gallery", scale=2
        )
        label = gr.Dropdown(choices=["(all)"], value="(all)", label="Label", scale=1)
        page = gr.Number(value=1, precision=0, minimum=1, label="Page", scale=1)
        show = gr.Button("Show", scale=1)
    summary = gr.Markdown()
    thumbnails = gr.Gallery(
        columns=6,
        height=520,
        allow_preview=False,
        label="Motions",
        object_fit="contain",
        elem_id="gallery-thumbnails",
    )
    with gr.Row():
        preview = gr.Video(
            autoplay=True, loop=True, label="Selected motion", height=300, interactive=False
        )
        with gr.Column():
            preview_text = gr.Markdown(elem_id="gallery-preview-text")
            twin_button = gr.Button(visible=False, size="sm", elem_id="gallery-twin-button")
    shown = gr.State([])  # the page's tiles: (motion, its mirror twin or None)
    previewed = gr.State(None)  # (tile, whether its twin is previewed)

    with gr.Accordion("Add your own motions", open=False):
        files = gr.File(
            label=f"Motion files (.npy features or joints, .bvh; up to "
            f"{services.config.max_upload_mb:g} MB each; longer than "
            f"{services.config.max_motion_seconds:g} s is cropped)",
            file_count="multiple",
            file_types=[".npy", ".bvh"],
            type="filepath",
        )
        captions = gr.Textbox(label="Captions for these files (optional, one per line)", lines=2)
        add = gr.Button("Add to my uploads")
        add_report = gr.Markdown()
    with gr.Accordion("Use a local data set folder", open=False):
        if services.config.allow_data_folders:
            folder = gr.Textbox(
                label="Folder on this machine (HumanML3D, KIT-ML, TMR or motion files)"
            )
            build = gr.Button("Index this folder")
            build_report = gr.Markdown()
        else:
            gr.Markdown(
                "To search your own HumanML3D / KIT-ML copy or a folder of `.npy` / `.bvh` "
                "files, start the app with `python app.py --gallery PATH` (or set "
                "`MOTION_GALLERY=PATH`). Typing server paths here is off unless the app is "
                "started with `--allow-data-folders`."
            )

    def items_of(gallery: str, uploaded) -> list[MotionItem]:
        if gallery == UPLOADS:
            return list(uploaded or [])
        services.ready.wait()
        return services.engine(gallery).gallery.items

    def browse(gallery: str, wanted: str, number, uploaded, progress=gr.Progress()):
        try:
            items = items_of(gallery, uploaded)
        except EngineError as error:
            raise user_error(error) from None
        labels = sorted({a for item in items for a in item.actions})
        every = {item.id: item for item in items}
        if wanted != "(all)":
            items = [item for item in items if wanted in item.actions]
        tiles = [
            (first, every.get(twin_of(first.id, every)))  # its twin outside the filter too
            for first, _ in distinct(items, lambda item: item.id, every)
        ]
        pages = max(1, -(-len(tiles) // PAGE))
        number = min(max(int(number or 1), 1), pages)
        page_tiles = tiles[(number - 1) * PAGE : number * PAGE]
        chosen = [first for first, _ in page_tiles]
        pictures = []
        problem = None if services.can_render else services.render_problem
        if chosen and services.can_render:
            paths = {}
            try:
                for index, path in progress.tqdm(
                    services.thumbnails([i.features for i in chosen]),
                    total=len(chosen),
                    desc="thumbnails",
                ):
                    paths[index] = path
                pictures = [(str(paths[i]), _label(*tile)) for i, tile in enumerate(page_tiles)]
            except RenderError as error:  # the list stays; the page says why
                problem = str(error)
        text = f"{len(items)} motions · page {number} of {pages}"
        paired = sum(twin is not None for _, twin in tiles)
        if paired:
            text += f" · {paired} pairs of mirror twins share a tile"
        if problem:
            text += f" · thumbnails unavailable ({problem})"
        return (
            gr.update(choices=["(all)", *labels], value=wanted if wanted in labels else "(all)"),
            number,
            text,
            pictures,
            page_tiles,
        )

    def preview_item(tiles: list, index: int, twin: bool):
        """The preview of tile `index` (or of its mirror twin) and the way to the other."""
        item, mirror = tiles[index]
        if twin and mirror is not None:
            item, mirror = mirror, item
        button = gr.update(visible=False)
        if mirror is not None:
            button = gr.update(
                visible=True,
                value=f"Back to {mirror.id}" if twin else f"Show its mirror twin {mirror.id}",
            )
        return (*previewed_item(item, mirror), button, (index, twin))

    def previewed_item(item: MotionItem, mirror: MotionItem | None):
        try:
            video = str(services.video(item.features))
        except RenderError as error:
            video = None
            gr.Warning(str(error))
        captions_md = "\n".join(f"- {c}" for c in item.captions) or "*no captions*"
        labels = ", ".join(a.replace("_", " ") for a in item.actions) or "no labels"
        twin_md = f"\n\nmirror twin: {mirror.id}" if mirror is not None else ""
        text = f"### {item.id}\n\n{item.num_frames / 20:.1f} s · {labels}{twin_md}\n\n{captions_md}"
        return video, text

    def add_files(paths, caption_text, uploaded):
        uploaded = list(uploaded or [])
        if not paths:
            raise gr.Error("choose one or more .npy or .bvh files first")
        texts = [line.strip() for line in (caption_text or "").splitlines() if line.strip()]
        added, problems, cropped = [], [], []
        known = {item.id for item in uploaded}
        for path in paths:
            try:
                motion = load_motion_file(path, max_seconds=services.config.max_motion_seconds)
            except EngineError as error:
                problems.append(
                    f"- {error.problem if hasattr(error, 'problem') else error} (`{_name(path)}`)"
                )
                continue
            motion_id = motion.id
            while motion_id in known:
                motion_id += "_"
            known.add(motion_id)
            uploaded.append(
                MotionItem(
                    motion_id, motion.features, texts, motion_id, UPLOADS, [], {"file": _name(path)}
                )
            )
            added.append(motion_id)
            if crop_note(motion):
                cropped.append(f"- {crop_note(motion)}")
        report = (
            f"Added {len(added)} motion(s): {', '.join(added) or '—'}; "
            f"{len(uploaded)} in *{UPLOADS}*."
        )
        if problems:
            report += "\n\nNot added:\n" + "\n".join(problems)
        if cropped:
            report += "\n\nCropped:\n" + "\n".join(cropped)
        return uploaded, report

    def index_folder(path: str, progress=gr.Progress()):
        if not path or not path.strip():
            raise gr.Error("type the folder's path")
        try:
            name = services.add_source(path.strip())
            engine = services.engine(name, lambda stage, d, t: progress((d, t), desc=stage))
        except EngineError as error:
            raise user_error(error) from None
        choices = [*services.sources, UPLOADS]
        text = f"Indexed **{name}**: {len(engine.gallery)} motions. It is now in the gallery lists."
        return text, gr.update(choices=choices), gr.update(choices=choices, value=name)

    browse_io = dict(
        fn=browse,
        inputs=[source, label, page, uploads],
        outputs=[label, page, summary, thumbnails, shown],
        api_visibility="private",
    )
    for trigger in (show.click, tab.select, label.input, page.submit):
        trigger(**browse_io)
    source.input(lambda: ("(all)", 1), None, [label, page], api_visibility="private").then(
        **browse_io
    )
    preview_outputs = [preview, preview_text, twin_button, previewed]

    def select(tiles: list, event: gr.SelectData):
        return preview_item(tiles, event.index, False)

    thumbnails.select(
        select,
        [shown],
        preview_outputs,
        api_visibility="private",
    )
    twin_button.click(
        lambda tiles, at: preview_item(tiles, at[0], not at[1]),
        [shown, previewed],
        preview_outputs,
        api_visibility="private",
    )
    add.click(
        add_files, [files, captions, uploads], [uploads, add_report], api_visibility="private"
    )
    if services.config.allow_data_folders:
        build.click(
            index_folder, [folder], [build_report, search.source, source], api_visibility="private"
        )


def _label(item: MotionItem, twin: MotionItem | None = None) -> str:
    caption = item.captions[0] if item.captions else "(no caption)"
    mirror = f" (+ mirror {twin.id})" if twin is not None else ""
    return f"{item.id}{mirror} — {caption}"


def _name(path: str) -> str:
    from pathlib import Path

    return Path(path).name
