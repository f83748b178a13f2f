"""Inspecting what the model does, in the running demo (issue 13): results made of
distinct motions (a motion and its mirror twin share a slot), the uploaded query motion
shown with what the importer decided, searches shared by link, and the comparison view.
Through gradio_client and headless Chromium; videos are decoded."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from engine.twins import mirror_name
from tests.test_app import (  # noqa: F401  (fixtures)
    CHROMIUM,
    DETAILS_SETTLED,
    OUTPUT,
    PLOT_DRAWN,
    app,
    app_cache,
    app_page,
    client,
    launch_chromium,
    search_with_motion_file,
    viewer_draws,
)

EVERYDAY = [
    "a person walks forward",
    "someone jumps up and down in place",
    "a person waves with the right hand",
    "the man jogs in a circle",
    "a person sits down on a chair and stands back up",
    "someone throws a ball with the right arm",
]
CARD_ID = re.compile(r"#(\d+) · (\S+) · score")
GRID_DONE = "document.querySelector('#status')?.innerText.includes('to render)')"


def assert_distinct(ids: list[str]) -> None:
    assert len(ids) == len(set(ids)), ids
    both = {mirror_name(i) for i in ids} & set(ids)
    assert not both, f"a motion and its mirror in one answer: {sorted(both)}"


def test_api_results_are_distinct_motions(client):  # noqa: F811
    paired = 0
    for query in EVERYDAY:
        records, videos = client.predict(query, k=8, api_name="/search_text")
        assert len(records) == len(videos) == 8, query
        assert_distinct([r["id"] for r in records])
        scores = [r["score"] for r in records]
        assert scores == sorted(scores, reverse=True)
        for record in records:
            twin = record["mirror_twin"]
            if twin is not None:
                paired += 1
                assert twin["id"] == mirror_name(record["id"])
                assert twin["score"] <= record["score"] + 1e-4
    # the embedded gallery holds both of most pairs: most slots name their twin
    assert paired >= 40, paired


def test_api_motion_query_results_are_distinct(client, tmp_path):  # noqa: F811
    from gradio_client import handle_file

    from engine.data.corpus import generate_action

    motion = tmp_path / "jumping.npy"
    np.save(motion, generate_action("jump_in_place", seed=5).joints)
    records, videos, _ = client.predict(handle_file(str(motion)), k=8, api_name="/search_motion")
    assert len(records) == len(videos) == 8
    assert_distinct([r["id"] for r in records])


def viewer_noise(error: str) -> bool:
    """gr.Model3D's Babylon viewer reading its scene after Gradio has swapped the model out
    (switching to a mirror twin while the first model still loads): Gradio's, not ours."""
    return "reading 'postProcessManager'" in error


def region(page, first: str, last: str) -> dict:
    """The page's rectangle from element `first`'s top left to `last`'s bottom right."""
    top = page.locator(first).first.bounding_box()
    bottom = page.locator(last).first.bounding_box()
    return {
        "x": top["x"] - 8,
        "y": top["y"] - 8,
        "width": bottom["x"] + bottom["width"] - top["x"] + 16,
        "height": bottom["y"] + bottom["height"] - top["y"] + 16,
    }


def grid_cards(page, count: int) -> list[str]:
    return [page.inner_text(f"#result-card-{slot}") for slot in range(count)]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_browser_grid_shows_distinct_motions_and_the_twin_in_details(app, client):  # noqa: F811
    url, _ = app
    query = EVERYDAY[1]
    records, _ = client.predict(query, k=8, api_name="/search_text")
    OUTPUT.mkdir(exist_ok=True)
    with app_page(url, viewport={"width": 1400, "height": 1100}, ignore=viewer_noise) as (
        page,
        errors,
    ):
        page.fill("#query textarea", query)
        page.click("#search-button")
        page.wait_for_function(GRID_DONE, timeout=300_000)
        cards = grid_cards(page, len(records))
        ids = [CARD_ID.search(card).group(2) for card in cards]
        grid = region(page, "#result-video-0", "#details-button-7")
        page.screenshot(path=str(OUTPUT / "inspect_distinct.png"), full_page=True, clip=grid)
        page.get_by_role("button", name="Details", exact=True).first.click()
        page.wait_for_function(DETAILS_SETTLED, arg="", timeout=180_000)
        first = page.inner_text("#details-text h3").strip()
        twin_label = page.inner_text("#details-twin-button")
        page.click("#details-twin-button")
        page.wait_for_function(DETAILS_SETTLED, arg=first, timeout=180_000)
        twin = page.inner_text("#details-text h3").strip()
        back_label = page.inner_text("#details-twin-button")
        page.locator("#details").first.screenshot(path=str(OUTPUT / "twin-details.png"))
        page.click("#details-twin-button")
        page.wait_for_function(DETAILS_SETTLED, arg=twin, timeout=180_000)
        again = page.inner_text("#details-text h3").strip()
        toasts = page.locator(".toast-body.error, .toast-body.warning").all_inner_texts()
        page.get_by_role("tab", name="Gallery").click()
        page.wait_for_selector("text=/\\d+ motions · page 1 of/", timeout=120_000)
        summary = page.get_by_text(re.compile(r"\d+ motions · page 1 of")).inner_text()
        page.wait_for_selector("#gallery-thumbnails .caption-label", timeout=120_000)
        labels = page.locator("#gallery-thumbnails .caption-label").all_inner_texts()
    assert ids == [r["id"] for r in records], (ids, records)
    assert_distinct(ids)
    assert sum("mirror twin" in card for card in cards) >= 6, cards
    assert first == ids[0] and twin == mirror_name(first) and again == first
    assert twin_label == f"Show its mirror twin {twin}" and back_label == f"Back to {first}"
    assert "pairs of mirror twins share a tile" in summary, summary
    tiles = [label.split(" ", 1)[0] for label in labels]
    assert tiles, "no tile labels found"
    assert_distinct(tiles)
    assert not toasts, toasts
    assert not errors, errors


# --- shared searches ---------------------------------------------------------------------
def test_read_shared_search():
    from demo.services import EMBEDDED
    from demo.share import read_shared_search

    galleries = [EMBEDDED, "Library: mine"]
    assert read_shared_search({}, galleries, 16, 8) is None
    assert read_shared_search({"q": "  "}, galleries, 16, 8) is None
    plain = read_shared_search({"q": "a person jumps"}, galleries, 16, 8)
    assert (plain.query, plain.k, plain.gallery, plain.labels, plain.notes) == (
        "a person jumps",
        8,
        EMBEDDED,
        [],
        [],
    )
    full = read_shared_search(
        {"q": "x", "k": "3", "gallery": "Library: mine", "labels": "wave, jump_in_place"},
        galleries,
        16,
        8,
    )
    assert (full.k, full.gallery, full.labels) == (3, "Library: mine", ["wave", "jump_in_place"])
    odd = read_shared_search({"q": "x", "k": "99", "gallery": "/etc"}, galleries, 16, 8)
    assert (odd.k, odd.gallery) == (16, EMBEDDED) and len(odd.notes) == 2
    assert read_shared_search({"q": "x", "k": "many"}, galleries, 16, 8).k == 8


def video_frames(page, selector: str, folder, name: str):
    """The video a <video> element plays, fetched through the app's URL and decoded."""
    import imageio.v2 as imageio

    src = page.get_attribute(f"{selector} video", "src")
    answer = page.request.get(src)
    assert answer.ok, f"{selector}: HTTP {answer.status}"
    path = folder / name
    path.write_bytes(answer.body())
    reader = imageio.get_reader(str(path), format="FFMPEG")
    assert reader.get_meta_data()["codec"] == "h264"
    frames = np.stack(list(reader.iter_data()))
    reader.close()
    return frames


# The <video> under `selector` plays (or an error or warning toast came instead).
PLAYING = """selector => {
    if (document.querySelector('.toast-body.error, .toast-body.warning')) return true;
    const video = document.querySelector(selector + ' video');
    return video && video.readyState >= 2 && !video.paused && video.currentTime > 0.2;
}"""


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_browser_shared_link_runs_the_search_and_copy_link_gives_it(app, client):  # noqa: F811
    from urllib.parse import parse_qs, urlsplit

    from playwright.sync_api import sync_playwright

    url, _ = app
    records, _ = client.predict("someone waves", k=3, actions=["wave"], api_name="/search_text")
    jumps, _ = client.predict("a person jumps", k=5, api_name="/search_text")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(
            viewport={"width": 1400, "height": 1100},
            permissions=["clipboard-read", "clipboard-write"],
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: viewer_noise(str(error)) or errors.append(str(error)))
        page.goto(url + "?q=someone+waves&k=3&labels=wave")
        page.wait_for_function(GRID_DONE, timeout=300_000)
        waves = [CARD_ID.search(c).group(2) for c in grid_cards(page, 3)]
        hidden_fourth = page.locator("#result-card-3").is_visible()
        page.goto(url + "?q=a+person+jumps&k=5")
        page.wait_for_function(GRID_DONE, timeout=300_000)
        shown = [CARD_ID.search(c).group(2) for c in grid_cards(page, 5)]
        query = page.input_value("#query textarea")
        sixth = page.locator("#result-card-5").is_visible()
        # "Copy link" gives the link of the form: the one opened, then one changed by hand
        links = []
        for text in ("a person jumps", "someone does jumping jacks"):
            page.fill("#query textarea", text)
            page.click("#copy-link-button")
            page.wait_for_function(
                "text => document.querySelector('#share-link textarea, #share-link input').value"
                ".includes(encodeURIComponent(text.split(' ').pop()))",
                arg=text,
            )
            links.append(page.input_value("#share-link textarea, #share-link input"))
            if not text.startswith("someone"):
                page.screenshot(path=str(OUTPUT / "inspect_shared_link.png"), full_page=True)
        copied = page.evaluate("navigator.clipboard.readText()")
        address = page.url
        browser.close()
    assert waves == [r["id"] for r in records] and not hidden_fourth, waves
    assert shown == [r["id"] for r in jumps], (shown, jumps)
    assert query == "a person jumps" and not sixth
    parts = [urlsplit(link) for link in links]
    assert all(f"{part.scheme}://{part.netloc}/" == url for part in parts)
    assert parse_qs(parts[0].query) == {"q": ["a person jumps"], "k": ["5"]}
    assert parse_qs(parts[1].query) == {"q": ["someone does jumping jacks"], "k": ["5"]}
    assert copied == links[1] == address
    assert not errors, errors


# --- the query motion shown, and the comparison view ---------------------------------------
@pytest.fixture(scope="module")
def studio_bvh(tmp_path_factory):
    """A generated jump written as a BVH in centimetres with Z up, as some studios do."""
    from engine.data.bvh import read_bvh
    from engine.data.corpus import generate_action
    from engine.data.motion_export import export_bvh
    from engine.motion.motion import Motion
    from tests.test_motion_import import Z_UP, save, transformed

    folder = tmp_path_factory.mktemp("studio")
    motion = Motion.from_joints("jump", generate_action("jump_in_place", seed=4).joints)
    written = read_bvh(export_bvh(motion, folder / "jump.bvh"))
    return save(transformed(written, Z_UP, 100.0), folder / "studio_jump.bvh"), len(written.values)


def compare_and_check(page, folder, name: str, panels: int):
    page.get_by_role("button", name="Compare side by side").click()
    page.wait_for_function(PLAYING, arg="#compare-video", timeout=180_000)
    toasts = page.locator(".toast-body.error, .toast-body.warning").all_inner_texts()
    assert not toasts, toasts
    frames = video_frames(page, "#compare-video", folder, name)
    assert len(frames) >= 10 and frames.shape[2] >= panels * 256, frames.shape
    return frames


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_browser_query_motion_shown_and_compared(app, studio_bvh, tmp_path):  # noqa: F811
    url, _ = app
    path, file_frames = studio_bvh
    with app_page(url, viewport={"width": 1400, "height": 1300}, ignore=viewer_noise) as (
        page,
        errors,
    ):
        search_with_motion_file(page, path)
        page.wait_for_function(GRID_DONE, timeout=300_000)
        page.wait_for_function(PLAYING, arg="#query-motion-video", timeout=60_000)
        summary = page.inner_text("#query-import")
        card = page.inner_text("#query-motion-card")
        query_frames = video_frames(page, "#query-motion-video", tmp_path, "query.mp4")
        head = region(page, "#query-motion", "#details-button-3")
        page.screenshot(path=str(OUTPUT / "inspect_query_motion.png"), full_page=True, clip=head)
        # the comparison of the query with the first result
        page.get_by_role("button", name="Details", exact=True).first.click()
        page.wait_for_function(DETAILS_SETTLED, arg="", timeout=180_000)
        motion_pair = compare_and_check(page, tmp_path, "motion-compare.mp4", 2)
        compare_text = page.inner_text("#compare-text")
        page.locator("#compare-video").screenshot(path=str(OUTPUT / "inspect_compare_motion.png"))
        # a text query: the result beside its nearest neighbours
        page.fill("#query textarea", "a person waves with the right hand")
        page.click("#search-button")
        page.wait_for_function(
            "document.querySelector('#status').innerText.includes('waves with the right hand')"
            " && document.querySelector('#status').innerText.includes('to render)')",
            timeout=180_000,
        )
        query_hidden = not page.locator("#query-motion").first.is_visible()
        page.get_by_role("button", name="Details", exact=True).first.click()
        page.wait_for_function(DETAILS_SETTLED, arg="", timeout=180_000)
        text_triple = compare_and_check(page, tmp_path, "text-compare.mp4", 3)
        neighbours_text = page.inner_text("#compare-text")
        page.locator("#compare-video").screenshot(path=str(OUTPUT / "inspect_compare_text.png"))
    assert not errors, errors
    # what the importer decided, as the page shows it
    assert "BVH" in summary and "cm" in summary and "+z" in summary, summary
    assert f"{file_frames} at 20 fps in the file" in summary, summary
    assert "22 of 22" in summary and "studio_jump.bvh" in card, (summary, card)
    assert len(query_frames) >= 10 and query_frames.std() > 5
    assert "Best match" in compare_text and "Your motion" in compare_text, compare_text
    # both halves move: the query on the left, the result on the right
    for half in (slice(8, 264), slice(272, 528)):
        panel = motion_pair[:, 54:310, half].astype(float)
        assert np.abs(panel[0] - panel[len(panel) // 2]).mean() > 0.5
    assert query_hidden
    assert "nearest gallery motions" in neighbours_text, neighbours_text
    assert text_triple.shape[2] >= 3 * 256


# --- a phone-sized screen -------------------------------------------------------------------
PHONE = {"width": 390, "height": 844}  # CSS pixels of a common phone
IN_VIEW = """selector => {
    const box = document.querySelector(selector)?.getBoundingClientRect();
    return !!box && box.height > 0 && box.top >= -2 && box.top < window.innerHeight / 2;
}"""


def fits_across(box: dict, least: float = 0.75) -> bool:
    """The element spans most of the phone's width and none of it is off the screen."""
    return (
        box["x"] >= 0
        and box["x"] + box["width"] <= PHONE["width"] + 0.5
        and (box["width"] >= least * PHONE["width"])
    )


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_browser_on_a_phone_each_control_brings_what_it_opened_into_view_and_it_fits(app):  # noqa: F811
    """On a phone the page is one column: Search, Details and Compare must each bring what
    they opened into view, and the 3-D viewer, the similarity plot and the comparison
    video must fit the screen's width at a readable size."""
    url, _ = app
    phone = {"device_scale_factor": 2, "is_mobile": True, "has_touch": True}
    with app_page(url, viewport=PHONE, ignore=viewer_noise, **phone) as (page, errors):
        page.fill("#query textarea", "someone jumps up and down in place")
        page.get_by_role("button", name="Search", exact=True).click()
        page.wait_for_function(GRID_DONE, timeout=300_000)
        page.wait_for_function(IN_VIEW, arg="#results-column", timeout=10_000)
        assert fits_across(page.locator("#result-video-0").bounding_box(), least=0.7)
        page.get_by_role("button", name="Details", exact=True).first.click()
        page.wait_for_function(DETAILS_SETTLED, arg="", timeout=180_000)
        page.wait_for_function(PLOT_DRAWN, timeout=60_000)
        page.wait_for_function(IN_VIEW, arg="#details", timeout=10_000)
        viewer = page.locator("#details-viewer").first.bounding_box()
        plot = page.locator("#details-timeline").first.bounding_box()
        assert fits_across(viewer) and viewer["height"] >= 300, viewer
        assert fits_across(plot) and plot["height"] >= 180, plot
        # the plot's axis labels are drawn at a legible size, inside the plot
        sizes = page.eval_on_selector_all(
            "#details-timeline svg text",
            "texts => texts.map(t => parseFloat(getComputedStyle(t).fontSize))",
        )
        assert sizes and min(sizes) >= 10, sizes
        assert viewer_draws(page, time.monotonic() + 60), "the 3D viewer stays empty"
        page.locator("#details").first.screenshot(path=str(OUTPUT / "inspect_phone_details.png"))
        page.get_by_role("button", name="Compare side by side").click()
        page.wait_for_function(PLAYING, arg="#compare-video", timeout=180_000)
        compare = page.locator("#compare-video").bounding_box()
        assert fits_across(compare) and 0 <= compare["y"] < PHONE["height"] - 100, compare
        wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"the page scrolls sideways on a phone: {wide} px wide"
    assert not errors, errors
