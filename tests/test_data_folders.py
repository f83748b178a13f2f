"""The gallery tab's "Index this folder", in an app started with --allow-data-folders
(a second app, in this process, videos off to spare the CPU): the folder is indexed,
offered in both gallery lists, and searched."""

from __future__ import annotations

import re

import pytest

from tests.test_app import CHROMIUM, app_page, free_port


@pytest.fixture(scope="module")
def folders_app():
    from demo.app import CSS, build_demo
    from demo.config import DemoConfig
    from demo.services import DemoServices

    services = DemoServices(DemoConfig(allow_data_folders=True))
    services.can_render, services.render_problem = False, "switched off in this test"
    services.start_in_background()
    app = build_demo(services)
    port = free_port()
    app.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, css=CSS)
    assert services.ready.wait(900), "the embedded gallery was not ready in 15 minutes"
    yield f"http://127.0.0.1:{port}/"
    app.close()


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_browser_index_this_folder_then_search_it(folders_app, tiny_dataset):
    with app_page(folders_app) as (page, errors):
        page.get_by_role("tab", name="Gallery").click()
        page.get_by_text("Use a local data set folder").click()
        # a folder that is not there: a clear message, no server detail
        page.get_by_label(re.compile("Folder on this machine")).fill("/no/such/folder")
        page.get_by_role("button", name="Index this folder").click()
        page.wait_for_selector(".toast-body", timeout=60_000)
        refused = page.locator(".toast-body").first.inner_text()
        for close in page.locator(".toast-close").all():
            close.click()
        page.wait_for_selector(".toast-body", state="detached", timeout=30_000)
        page.get_by_label(re.compile("Folder on this machine")).fill(str(tiny_dataset))
        page.get_by_role("button", name="Index this folder").click()
        page.wait_for_selector("text=/Indexed .*: \\d+ motions/", timeout=300_000)
        report = page.get_by_text(re.compile(r"Indexed .*: \d+ motions")).inner_text()
        page.get_by_role("tab", name="Search").click()
        page.get_by_label("Gallery", exact=True).first.click()
        page.get_by_role("option", name=re.compile("Library: TinyML3D")).click()
        page.fill("#query textarea", "a person serves a tennis ball with the left hand")
        page.click("#search-button")
        page.wait_for_function(
            "document.querySelector('#status').innerText.includes('results') || "
            "document.querySelector('.toast-body')",
            timeout=120_000,
        )
        toasts = page.locator(".toast-body").all_inner_texts()
        cards = page.locator(".card").all_inner_texts()
        page.screenshot(path=str(tiny_dataset.parent / "indexed.png"), full_page=True)
    assert "no such folder" in refused, refused
    assert not toasts, toasts
    assert "Library: TinyML3D" in report and re.search(r": (\d+) motions", report), report
    ids = {t.split("·")[1].strip() for t in cards if t.strip()}
    # every result comes from the indexed folder (its ids name the tiny data set's variants)
    assert ids and all(re.fullmatch(r"(serve|left)_\w+_\d\d", i) for i in ids), ids
    assert not errors, errors
