"""Video queries in the running demo: the `search_video` API through gradio_client and an
upload in headless Chromium (what the system saw, results, downloads)."""

from __future__ import annotations

import pytest

from engine.video.samples import clip, find_vtest
from tests.test_app import CHROMIUM, OUTPUT, app, app_cache, client, launch_chromium  # noqa: F401

LOCOMOTION = {"walk_forward", "walk_backward", "walk_sideways", "walk_in_circle", "run"}


@pytest.fixture(scope="module")
def pedestrians(tmp_path_factory):
    source = find_vtest()
    if source is None:
        pytest.skip("vtest.avi not found: install Debian's opencv-doc or set OPENCV_VTEST")
    pytest.importorskip("mediapipe")
    return clip(source, tmp_path_factory.mktemp("video") / "pedestrians.mp4", 5.0, 10.0)


def test_search_video_api(client, pedestrians, tmp_path):  # noqa: F811
    from gradio_client import handle_file

    records, videos, captions = client.predict(
        handle_file(str(pedestrians)), k=5, api_name="/search_video"
    )
    assert [r["rank"] for r in records] == [1, 2, 3, 4, 5]
    assert set(records[0]) >= {"id", "score", "caption", "captions", "actions", "duration"}
    assert all(set(r["actions"]) & LOCOMOTION for r in records[:3]), records
    assert len(videos) == 5 and len(captions) == 5
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(Exception, match="is not a video"):
        client.predict(handle_file(str(text)), api_name="/search_video")


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_browser_video_upload_shows_what_was_seen(app, pedestrians):  # noqa: F811
    from playwright.sync_api import sync_playwright

    url, _ = app
    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        page.wait_for_selector("#query textarea", timeout=60_000)
        page.get_by_text("…or search by video").click()
        page.locator("#video-query input[type=file]").set_input_files(str(pedestrians))
        page.wait_for_selector("#video-query video", timeout=60_000)
        page.wait_for_timeout(1000)
        page.click("#search-video-button")
        try:
            page.wait_for_selector("#video-overlay video", timeout=240_000)
        finally:
            page.screenshot(path=str(OUTPUT / "video-query-seen.png"), full_page=True)
        page.wait_for_selector("#video-motion video", timeout=180_000)
        page.wait_for_function(
            "document.querySelector('#status').innerText.includes('to render')",
            timeout=180_000,
        )
        page.screenshot(path=str(OUTPUT / "video-query.png"), full_page=True)
        status = page.inner_text("#status")
        captions = page.inner_text("#video-captions")
        downloads = page.inner_text("#video-downloads")
        notes = page.inner_text("#video-notes")
        browser.close()
    assert not errors, errors
    assert "results for" in status and "video pedestrians.mp4" in status, status
    assert "walk" in captions or "run" in captions, captions
    assert "recovered_joints" in downloads and ".npy" in downloads and ".bvh" in downloads, (
        downloads
    )
    assert "people are in view" in notes, notes
