"""Shareable searches: the page's URL carries a text search (`?q=a+person+jumps&k=8`, and
`gallery=` and `labels=a,b` when they are not the defaults); opening such a link fills
the search form and runs the search. "Copy link" gives the link of the form as it is
(in a textbox, and on the clipboard where the browser allows) and puts it in the
address bar; so does every text search."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import gradio as gr

from demo.services import EMBEDDED, DemoServices

if TYPE_CHECKING:  # the search tab builds these controls, so it imports this module
    from demo.search_tab import SearchTab

# query parameters: the text, the number of results, the gallery, the label filter
QUERY, COUNT, GALLERY, LABELS = "q", "k", "gallery", "labels"


@dataclass
class ShareControls:
    link: gr.Textbox
    copy: gr.Button


@dataclass
class SharedSearch:
    """A search read from a link, checked against what this app offers."""

    query: str
    k: int
    gallery: str
    labels: list[str]
    notes: list[str]


def build_share_controls() -> ShareControls:
    with gr.Row(equal_height=True):
        link = gr.Textbox(
            label="Link to this search",
            interactive=False,
            scale=4,
            elem_id="share-link",
            buttons=["copy"],
        )
        copy = gr.Button("Copy link", scale=1, size="sm", elem_id="copy-link-button")
    return ShareControls(link, copy)


def read_shared_search(
    params: Mapping[str, str], galleries: list[str], max_results: int, default_k: int
) -> SharedSearch | None:
    """The search a link asks for, or None when it carries no query; values this app
    cannot honour (an unknown gallery, a count out of range) fall back to defaults, with a
    note saying so."""
    query = (params.get(QUERY) or "").strip()
    if not query:
        return None
    notes = []
    try:
        k = int(params.get(COUNT) or default_k)
    except ValueError:
        notes.append(f"the link's k={params.get(COUNT)!r} is not a number; using {default_k}")
        k = default_k
    if not 1 <= k <= max_results:
        clamped = min(max(k, 1), max_results)
        notes.append(f"the link asks for {k} results; showing {clamped} (1–{max_results})")
        k = clamped
    gallery = params.get(GALLERY) or EMBEDDED
    if gallery not in galleries:
        notes.append(f"this app has no gallery {gallery!r}; searching {EMBEDDED}")
        gallery = EMBEDDED
    labels = [label for label in (params.get(LABELS) or "").split(",") if label.strip()]
    return SharedSearch(query, k, gallery, [label.strip() for label in labels], notes)


# The link of the search form as it is (values in the order of the form's components).
_LINK_JS = """
(query, k, gallery, labels) => {
    const params = new URLSearchParams();
    params.set("q", (query || "").trim());
    params.set("k", String(k));
    if (gallery && gallery !== DEFAULT_GALLERY) params.set("gallery", gallery);
    if (labels && labels.length) params.set("labels", labels.join(","));
    const link = location.origin + location.pathname + "?" + params.toString();
    history.replaceState(null, "", link);
    COPY
    return link;
}
"""


def link_js(copy: bool) -> str:
    clipboard = "navigator.clipboard?.writeText(link).catch(() => {});" if copy else ""
    return _LINK_JS.replace("DEFAULT_GALLERY", json.dumps(EMBEDDED)).replace("COPY", clipboard)


def wire_share(demo: gr.Blocks, tab: SearchTab, services: DemoServices) -> None:
    """The search tab's links: "Copy link", the address bar after a search, and the search
    a link asks for when the page opens."""
    config = services.config
    controls = tab.share
    form = [tab.query, tab.k, tab.source, tab.actions]
    search_outputs = tab.grid_outputs
    controls.copy.click(None, form, [controls.link], js=link_js(copy=True))
    tab.search.click(None, form, [controls.link], js=link_js(copy=False))
    shared = gr.State(None)

    def from_link(request: gr.Request):
        search = read_shared_search(
            dict(request.query_params),
            list(services.sources),
            config.max_results,
            config.default_results,
        )
        if search is None:
            return [gr.skip()] * len(form) + [None]
        for note in search.notes:
            gr.Warning(note)
        return [search.query, search.k, search.gallery, search.labels, search]

    def run_if_shared(search: SharedSearch | None, *extra):
        """The link's own values, not the form's: changing the gallery resets the labels."""
        if search is None:
            yield [gr.skip()] * len(search_outputs)
            return
        yield from tab.run_text(search.query, search.k, search.gallery, search.labels, *extra)

    demo.load(None, None, [controls.link], js="() => location.search ? location.href : ''")
    demo.load(from_link, None, [*form, shared], api_visibility="private").then(
        run_if_shared,
        [shared, *tab.extra_inputs],
        search_outputs,
        api_visibility="private",
        show_progress="minimal",
    )
