"""Visitors don't step on each other: a visitor's activated model is that visitor's
(unless the operator allows sharing it), training runs queue one at a time with their
position shown, old runs are cleaned up under a disk budget, and two searches right
after a model change build the gallery once."""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from demo.config import DemoConfig
from tests.test_app import CHROMIUM, free_port, launch_chromium


def _services(tiny_dataset: Path, **options):
    from demo.services import DemoServices

    services = DemoServices(DemoConfig(**options))
    source = services.add_source(str(tiny_dataset))
    return services, source


def test_activation_applies_to_the_visitors_session_only(tiny_dataset, tiny_checkpoint):
    from demo.services import SHIPPED

    services, source = _services(tiny_dataset)
    services.register_model("Trained tiny", tiny_checkpoint)
    assert services.activate_model("Trained tiny") == "Trained tiny"
    assert services.model_name(None) == SHIPPED  # everyone else: the shipped model
    mine, theirs = services.engine(source, model="Trained tiny"), services.engine(source)
    assert mine.encoder.fingerprint != theirs.encoder.fingerprint
    assert mine.gallery.embeddings.shape[1] == 32 != theirs.gallery.embeddings.shape[1]
    # a model name the server does not know (e.g. a cleaned-up run's) means the default
    assert services.model_name("Trained gone") == SHIPPED


def test_shared_activation_changes_the_default(tiny_dataset, tiny_checkpoint):
    services, source = _services(tiny_dataset, shared_activation=True)
    services.register_model("Trained tiny", tiny_checkpoint)
    services.activate_model("Trained tiny")
    assert services.model_name(None) == "Trained tiny"
    assert services.engine(source).gallery.embeddings.shape[1] == 32


def test_two_searches_after_a_model_change_build_the_gallery_once(
    tiny_dataset, tiny_checkpoint, monkeypatch
):
    """Both threads ask for the gallery under a model nobody has encoded it with yet:
    one build (slowed down to widen the window), the same engine for both, no error."""
    import demo.services

    services, source = _services(tiny_dataset)
    services.register_model("Trained tiny", tiny_checkpoint)
    builds = []
    real = demo.services.open_gallery

    def slow_open_gallery(*args, **kwargs):
        builds.append(threading.current_thread().name)
        time.sleep(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(demo.services, "open_gallery", slow_open_gallery)
    engines, errors = [], []

    def search() -> None:
        try:
            engine = services.engine(source, model="Trained tiny")
            engine.search_text("a person serves a tennis ball", 3)
            engines.append(engine)
        except Exception as error:  # collected: a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=search, name=f"search-{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert len(builds) == 1, builds
    assert len(engines) == 2 and engines[0] is engines[1]


def _folder(path: Path, megabytes: float, age_s: float) -> Path:
    path.mkdir(parents=True)
    (path / "data.bin").write_bytes(b"\0" * int(megabytes * 2**20))
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def test_prune_deletes_the_oldest_beyond_the_budget_never_the_kept(tmp_path):
    from engine.training.cleanup import folder_size, prune_to_budget

    oldest = _folder(tmp_path / "oldest", 1, 400)
    kept = _folder(tmp_path / "kept", 1, 300)
    old = _folder(tmp_path / "old", 1, 200)
    new = _folder(tmp_path / "new", 1, 100)
    deleted = prune_to_budget(
        [oldest, kept, old, new],
        3 * 2**20,
        keep=[kept / "best"],  # a model inside it
    )
    assert deleted == [oldest.resolve()]
    assert not oldest.exists() and kept.exists() and old.exists() and new.exists()
    deleted = prune_to_budget([kept, old, new], 1.5 * 2**20, keep=[kept])
    assert deleted == [old.resolve(), new.resolve()] and folder_size(kept) == 2**20
    assert prune_to_budget([kept], 0, keep=[kept]) == []  # over budget, but in use


def test_services_prune_runs_and_corpora_but_not_in_use(tiny_dataset, tmp_path, monkeypatch):
    """Runs and their corpora over the budget go oldest first; a running run, its
    corpus and a model a visitor searches with stay; a deleted run's model is forgotten."""
    import demo.services
    from demo.services import SHIPPED
    from engine.config import ExperimentConfig, apply_overrides

    runs = tmp_path / "runs"
    monkeypatch.setattr(demo.services, "RUNS", runs)
    services, _ = _services(tiny_dataset, runs_budget_mb=2.5)
    old_run = _folder(runs / "old-run", 1, 500)
    used_run = _folder(runs / "used-run", 1, 400)
    _folder(used_run / "best", 0, 400)
    gone_run = _folder(runs / "gone-run", 1, 300)
    _folder(gone_run / "best", 0, 300)
    running = _folder(runs / "running", 1, 200)
    corpus = _folder(tmp_path / "corpus-of-running", 1, 600)
    old_corpus = _folder(tmp_path / "old-corpus", 1, 700)
    services._corpora |= {corpus, old_corpus}
    services.register_model("Trained used", used_run / "best")
    services.register_model("Trained gone", gone_run / "best")
    services._last_used["Trained used"] = time.time()  # someone searched with it just now
    config = apply_overrides(ExperimentConfig(), [f"train.out_dir={running}"])
    monkeypatch.setattr(services.training, "active_configs", lambda: [config])
    monkeypatch.setattr(demo.services, "corpus_folder", lambda size, seed: corpus)
    deleted = services.prune_runs()
    assert set(deleted) == {old_corpus.resolve(), old_run.resolve(), gone_run.resolve()}
    assert used_run.exists() and running.exists() and corpus.exists()
    assert "Trained gone" not in services.models and "Trained used" in services.models
    assert services.model_name("Trained gone") == SHIPPED


def test_runs_budget_is_an_option():
    from demo.config import parse_args

    config = parse_args(["--runs-budget-mb", "100", "--shared-activation"])
    assert config.runs_budget_mb == 100 and config.shared_activation
    defaults = parse_args([])
    assert not defaults.shared_activation and defaults.runs_budget_mb > 0
    with pytest.raises(SystemExit):
        parse_args(["--runs-budget-mb", "0"])


# ---------------------------------------------------------------------- in the browser
@pytest.fixture(scope="module")
def tiny_app(tiny_config_overrides, tmp_path_factory):
    """The app in this process (so the training tab's preset can be the tiny data set:
    runs take seconds), videos off to spare the CPU; yields its URL."""
    import dataclasses

    import demo.training_tab
    from demo.app import CSS, build_demo
    from demo.services import DemoServices
    from engine.config import ExperimentConfig, apply_overrides

    def tiny_run(data, encoder, loss, epochs, batch, lr, seed):
        out = tmp_path_factory.mktemp("run")
        config = apply_overrides(
            ExperimentConfig(), [*tiny_config_overrides, f"train.out_dir={out}"]
        )
        return dataclasses.replace(
            config, train=dataclasses.replace(config.train, epochs=int(epochs))
        )

    patch = pytest.MonkeyPatch()
    patch.setattr(demo.training_tab, "run_config", tiny_run)
    services = DemoServices(DemoConfig())
    services.can_render, services.render_problem = False, "switched off in this test"
    services.start_in_background()
    app = build_demo(services)
    port = free_port()
    app.queue(default_concurrency_limit=4).launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, css=CSS
    )
    yield f"http://127.0.0.1:{port}/"
    app.close()
    patch.undo()


def _grid_ids(page) -> list[str]:
    """The motion ids on the result cards, in rank order."""
    texts = dict.fromkeys(t for t in page.locator(".card").all_inner_texts() if t.strip())
    return [t.split("·")[1].strip() for t in texts]  # (a card's class is on two elements)


def _search(page, query: str, k: int) -> list[str]:
    """Search for `query` with `k` results on the page's Search tab; the result ids
    (waiting for exactly k cards: a k unlike the last search's tells the new ones)."""
    page.get_by_role("tab", name="Search").click()
    count = page.get_by_role("spinbutton", name=re.compile("Results"))
    count.fill(str(k))
    count.press("Enter")
    page.fill("#query textarea", query)
    page.click("#search-button")
    page.wait_for_function(
        "new Set(Array.from(document.querySelectorAll('.card')).map(c => c.innerText.trim())"
        f".filter(t => t)).size == {k} && "
        "document.querySelector('#status').innerText.includes('results')",
        timeout=120_000,
    )
    return _grid_ids(page)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_browser_two_visitors_queue_and_activate(tiny_app):
    """Visitor A trains; visitor B's run waits behind it with its place in the queue
    shown and leaves the queue with Stop. A activates the run's model: A's searches
    change, B's (a gradio_client session and B's page) still get the shipped model's."""
    from gradio_client import Client
    from playwright.sync_api import sync_playwright

    query = "a person serves a tennis ball"
    shipped, _ = Client(tiny_app, verbose=False).predict(query, k=8, api_name="/search_text")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        a = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        b = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        before = {}
        for name, page in (("a", a), ("b", b)):
            page.goto(tiny_app)
            page.wait_for_selector("#query textarea", timeout=60_000)
            before[name] = _search(page, query, 8)
            page.get_by_role("tab", name="Training").click()
        epochs = a.get_by_label("Epochs")
        epochs.fill("40")
        epochs.press("Enter")
        a.get_by_role("button", name="Start training").click()
        a.wait_for_function("document.body.innerText.includes('running')", timeout=60_000)
        b.get_by_role("button", name="Start training").click()
        b.wait_for_selector("text=1 run ahead of yours", timeout=30_000)
        queued = b.inner_text("body")
        b.get_by_role("button", name="Stop", exact=True).click()
        b.wait_for_selector("text=taken out of the queue", timeout=30_000)
        a.wait_for_function("document.body.innerText.includes('finished after')", timeout=300_000)
        a.get_by_role("button", name="Use this run's best model for search").click()
        a.wait_for_selector("text=in this session", timeout=300_000)
        activated = a.inner_text("body")
        after_ids = {name: _search(page, query, 5) for name, page in (("a", a), ("b", b))}
        browser.close()
    after, _ = Client(tiny_app, verbose=False).predict(query, k=8, api_name="/search_text")
    assert "waiting in the training queue" in queued
    assert "other visitors keep their own model" in activated
    assert after == shipped  # another session: the shipped model, scores and all
    assert before["a"] == before["b"] and len(before["a"]) == 8, before
    assert after_ids["b"] == before["b"][:5], (after_ids, before)  # B: the shipped model
    assert after_ids["a"] != after_ids["b"], after_ids  # A: its own model
    assert np.isfinite([r["score"] for r in after]).all()
