"""Video queries in the running demo: the `search_video` API through gradio_client, and in
headless Chromium an upload (what the system saw, results, time to first results), the
example video with every control of the panel (downloads parsed, "Use as motion query"),
and a webcam recording from Chromium's fake camera."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import imageio
import numpy as np
import pytest

from engine.data.bvh import read_bvh
from engine.video.samples import clip, find_vtest
from tests.test_app import CHROMIUM, OUTPUT, app, app_cache, app_page, client  # noqa: F401

LOCOMOTION = {"walk_forward", "walk_backward", "walk_sideways", "walk_in_circle", "run"}
FIRST_RESULTS_SECONDS = 15.0  # the target for a 10-second upload on this CPU
FAKE_CAMERA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture(scope="module")
def pedestrians(tmp_path_factory):
    source = find_vtest()
    if source is None:
        pytest.skip("vtest.avi not found: install Debian's opencv-doc or set OPENCV_VTEST")
    pytest.importorskip("mediapipe")
    return clip(source, tmp_path_factory.mktemp("video") / "pedestrians.mp4", 5.0, 10.0)


def write_y4m(frames: list[np.ndarray], path: Path, fps: int) -> Path:
    """BGR frames as an uncompressed YUV4MPEG2 (4:2:0) file, what Chromium's fake camera
    plays (in a loop)."""
    height, width = frames[0].shape[:2]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            out.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


@pytest.fixture(scope="module")
def camera_feed(tmp_path_factory) -> Path:
    """3.6 s of vtest.avi seen by a camera that pans with one pedestrian: from 5 s on, the
    man walking up the road from the right (his path read off the footage: hips at
    (692, 300) px going to (585, 225) px over 36 frames), a 140x240 px window around him
    scaled up 2.5x, as a phone held towards a passer-by would film him."""
    source = find_vtest()
    if source is None:
        pytest.skip("vtest.avi not found: install Debian's opencv-doc or set OPENCV_VTEST")
    pytest.importorskip("mediapipe")
    capture = cv2.VideoCapture(str(source))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 50)
    start, end, count = np.array([692.0, 300.0]), np.array([585.0, 225.0]), 36
    frames = []
    for i in range(count):
        ok, frame = capture.read()
        assert ok, "vtest.avi ended early"
        x, y = (start + (end - start) * i / (count - 1)).astype(int)
        window = frame[y - 120 : y + 120, x - 70 : x + 70]
        frames.append(cv2.resize(window, (350, 600), interpolation=cv2.INTER_CUBIC))
    capture.release()
    return write_y4m(frames, tmp_path_factory.mktemp("camera") / "pedestrian.y4m", 10)


def test_search_video_api(client, pedestrians, tmp_path):  # noqa: F811
    from gradio_client import handle_file

    records, videos, captions, notes = client.predict(
        handle_file(str(pedestrians)), k=5, api_name="/search_video"
    )
    assert [r["rank"] for r in records] == [1, 2, 3, 4, 5]
    assert set(records[0]) >= {"id", "score", "caption", "captions", "actions", "duration"}
    assert "mirror_twin" in records[0]
    # one slot per mirror-twin pair, as for text and motion queries
    ids = {r["id"] for r in records}
    assert not any(r["mirror_twin"] and r["mirror_twin"]["id"] in ids for r in records), records
    assert all(set(r["actions"]) & LOCOMOTION for r in records[:3]), records
    assert len(videos) == 5 and len(captions) == 5
    assert any("people are in view" in note for note in notes["notes"]), notes
    assert 8.0 < notes["recovered_seconds"] <= 10.0, notes
    assert notes["way_in"] in ("lifting", "lifting + video encoder"), notes
    familiarity = notes["familiarity"]
    assert isinstance(familiarity["familiar"], bool)
    # the check reads the recovered motion: its best match is the results' first when the
    # query is the lifted motion alone
    if notes["way_in"] == "lifting":
        assert familiarity["best_cosine"] == pytest.approx(records[0]["score"], abs=1e-4)
    assert 0.0 < familiarity["best_cosine"] <= 1.0, familiarity
    assert (familiarity["notice"] == "") == familiarity["familiar"], familiarity
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(Exception, match="is not a video"):
        client.predict(handle_file(str(text)), api_name="/search_video")


def benign(error: str) -> bool:
    """Chromium's AbortError when a playing video's source is replaced (the overlay and the
    result videos are swapped in as they render): the browser's, not the app's."""
    return "The play() request was interrupted by a call to pause()" in error


@contextlib.contextmanager
def video_query_page(url: str, *chromium_args: str) -> Iterator[tuple[Any, list[str]]]:
    """A page on the app with the video input open, and the page's errors as they come."""
    tall = {"width": 1400, "height": 1200}
    with app_page(url, viewport=tall, ignore=benign, chromium_args=chromium_args) as opened:
        opened[0].get_by_text("…or search by video").click()
        yield opened


def wait_for_status(page, text: str, timeout_s: float) -> str:
    """The status once it shows `text`; fails at once, with the message, when the app
    answers with an error toast instead (rather than waiting out the timeout)."""
    from playwright.sync_api import TimeoutError as PageTimeout

    with contextlib.suppress(PageTimeout):  # reported below with what the page shows
        page.wait_for_function(
            f"document.querySelector('#status').innerText.includes({json.dumps(text)})"
            " || document.querySelector('.toast-body.error') !== null",
            timeout=timeout_s * 1000,
        )
    status = page.inner_text("#status")
    toasts = page.locator(".toast-body").all_inner_texts()
    assert text in status, f"waited for {text!r}; status {status!r}, toasts {toasts}"
    return status


def fetch(page, url: str, target: Path) -> Path:
    """What the browser downloads from a link of the page."""
    response = page.request.get(url)
    assert response.ok, (url, response.status)
    target.write_bytes(response.body())
    return target


def load_per_core() -> float:
    return os.getloadavg()[0] / (os.cpu_count() or 1)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_browser_video_upload_shows_what_was_seen(app, pedestrians):  # noqa: F811
    url, _ = app
    OUTPUT.mkdir(exist_ok=True)
    with video_query_page(url) as (page, errors):
        load_before = load_per_core()
        started = time.monotonic()
        page.locator("#video-query input[type=file]").set_input_files(str(pedestrians))
        page.wait_for_selector("#video-query video", timeout=60_000)
        uploaded = time.monotonic() - started
        clicked = time.monotonic()
        page.get_by_role("button", name="Search with this video").click()
        try:
            wait_for_status(page, "results for", 600)
            searched = time.monotonic() - clicked
            page.wait_for_selector("#video-overlay video", timeout=300_000)
        finally:
            page.screenshot(path=str(OUTPUT / "video-query-seen.png"), full_page=True)
        first_cards = page.locator(".result:visible").count()
        page.wait_for_selector("#video-motion video", timeout=180_000)
        wait_for_status(page, "to render", 180)
        page.screenshot(path=str(OUTPUT / "video-query.png"), full_page=True)
        status = page.inner_text("#status")
        captions = page.inner_text("#video-captions")
        downloads = page.inner_text("#video-downloads")
        notes = page.inner_text("#video-notes")
    load = max(load_before, load_per_core())
    timing = {
        "video_seconds": 10.0,
        "upload_s": round(uploaded, 2),
        "search_to_first_results_s": round(searched, 2),
        "first_results_s": round(uploaded + searched, 2),
        "load_average_per_core": round(load, 2),
    }
    (OUTPUT / "video-first-results.json").write_text(json.dumps(timing, indent=1))
    print("time to first results:", timing)
    assert not errors, errors
    assert "results for" in status and "video pedestrians.mp4" in status, status
    assert first_cards >= 5, first_cards
    assert "walk" in captions or "run" in captions, captions
    assert "recovered_joints" in downloads and ".npy" in downloads and ".bvh" in downloads, (
        downloads
    )
    assert "people are in view" in notes, notes
    # the target holds on this 2-core CPU when it is not shared (at most 1.5 runnable
    # processes per core); with other jobs running the limit grows with the oversubscription
    limit = FIRST_RESULTS_SECONDS * max(1.0, load / 1.5)
    assert timing["first_results_s"] <= limit, timing


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_browser_video_example_downloads_and_use_as_motion_query(app, pedestrians, tmp_path):  # noqa: F811
    """The example video, the downloads of the recovered motion (parsed as a person would
    open them) and the pose overlay (decoded), then "Use as motion query", which runs the
    motion search with the recovered motion."""
    url, _ = app
    OUTPUT.mkdir(exist_ok=True)
    with video_query_page(url) as (page, errors):
        page.locator("#video-examples .gallery-item").first.click()
        page.wait_for_selector("#video-query video", timeout=60_000)
        page.get_by_role("button", name="Search with this video").click()
        wait_for_status(page, "results for video pedestrians.mp4", 600)
        page.wait_for_selector("#video-downloads a[href]", timeout=60_000)
        links = {
            Path(link.inner_text().strip()).name or href: href
            for link in page.locator("#video-downloads a[href]").all()
            if (href := link.get_attribute("href"))
        }
        hrefs = list(links.values())
        npy_url = next(h for h in hrefs if h.endswith("_recovered_joints.npy"))
        bvh_url = next(h for h in hrefs if h.endswith("_recovered.bvh"))
        joints = np.load(fetch(page, npy_url, tmp_path / "joints.npy"))
        bvh_path = fetch(page, bvh_url, tmp_path / "recovered.bvh")
        page.wait_for_selector("#video-overlay video", timeout=300_000)
        overlay_url = page.locator("#video-overlay video").get_attribute("src")
        overlay = fetch(page, overlay_url, tmp_path / "overlay.mp4")

        page.click("#video-use-as-motion")
        try:
            status = wait_for_status(page, "results for pedestrians_recovered_joints.npy", 300)
            page.wait_for_function(
                "document.querySelector('#query-motion-card').innerText.includes('recovered')",
                timeout=30_000,
            )
        finally:
            page.screenshot(path=str(OUTPUT / "video-use-as-motion.png"), full_page=True)
        query_card = page.inner_text("#query-motion-card")
        cards = page.locator(".result:visible").count()
    assert not errors, errors

    assert joints.ndim == 3 and joints.shape[1:] == (22, 3) and len(joints) >= 150, joints.shape
    assert np.isfinite(joints).all()
    parsed = read_bvh(bvh_path)
    assert len(parsed.joints) == 22 and parsed.num_frames == len(joints)
    assert parsed.fps == pytest.approx(20.0)
    import bvh as bvh_package  # an independent parser reads the same file

    other = bvh_package.Bvh(bvh_path.read_text())
    assert other.nframes == len(joints) and len(other.get_joints_names()) == 22

    reader = imageio.get_reader(str(overlay), format="FFMPEG")
    meta = reader.get_meta_data()
    assert meta["codec"] == "h264", meta
    assert meta["size"][0] / meta["size"][1] == pytest.approx(768 / 576), meta  # vtest's shape
    count = reader.count_frames()
    assert count >= 90, count  # 10 s sampled at the source's 10 fps
    frames = np.stack([reader.get_data(i) for i in (0, count // 2)])
    assert frames.std() > 20  # the street, not a blank picture
    reader.close()

    assert "results for" in status and cards >= 5, (status, cards)
    assert "pedestrians_recovered_joints.npy" in query_card, query_card


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_browser_webcam_recording_is_searched(app, camera_feed):  # noqa: F811
    """Record a few seconds with gr.Video's webcam source from Chromium's fake camera (a
    pedestrian filmed from vtest.avi), search with the recording, see results."""
    url, _ = app
    OUTPUT.mkdir(exist_ok=True)
    camera = (*FAKE_CAMERA_ARGS, f"--use-file-for-fake-video-capture={camera_feed}")
    with video_query_page(url, *camera) as (page, errors):
        page.click("#video-query button[aria-label='Capture from camera']")
        page.get_by_text("Click to Access Webcam").click()
        record = page.locator("#video-query .capture-button")
        record.wait_for(timeout=30_000)
        page.wait_for_function(
            "document.querySelector('#video-query video[data-testid=webcam-video]')"
            ".readyState >= 2",
            timeout=30_000,
        )
        record.click()  # start
        page.wait_for_timeout(3500)
        record.click()  # stop
        # the recording is the query once it is uploaded: its video then plays from the
        # server (a click before that finds no video)
        page.wait_for_selector("#video-query video[src$='.webm']", timeout=60_000)
        recording = page.locator("#video-query video[src]").get_attribute("src")
        page.get_by_role("button", name="Search with this video").click()
        try:
            status = wait_for_status(page, "results for", 300)
            page.wait_for_selector("#video-overlay video", timeout=300_000)
        finally:
            page.screenshot(path=str(OUTPUT / "video-webcam.png"), full_page=True)
        notes = page.inner_text("#video-notes")
        cards = page.locator(".result:visible").count()
    assert not errors, errors
    assert recording.endswith(".webm"), recording
    assert "video sample.webm" in status and cards >= 5, (status, cards)
    assert "recovered from a 350×600 WebM/Matroska video" in notes, notes
