"""A GPU out of memory gives a degraded but working app with a notice: the encoder moves
to the CPU and the request is answered (engine/encoder.py). There is no GPU here, so the
'GPU' is faked: the encoder says its device is cuda while its tensors stay on the CPU,
and its model raises CUDA's out-of-memory error once."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import torch

from engine.data.corpus import generate_action
from engine.defaults import resolve_checkpoint
from engine.encoder import GPU_FALLBACK_NOTICE, MotionTextEncoder
from engine.motion.features import joints_to_features
from tests.conftest import REPO
from tests.test_app import CHROMIUM, app_cache, launch_chromium, running_app  # noqa: F401

QUERY = "a person jumps up and down in place"


@pytest.fixture(scope="module")
def reference():
    """Embeddings from a plain CPU encoder: what the fallback must still give."""
    encoder = MotionTextEncoder.load(resolve_checkpoint(None), "cpu")
    motions = [joints_to_features(generate_action("jump_in_place", seed=s).joints) for s in (1, 2)]
    return motions, encoder.encode_queries([QUERY]), encoder.encode_motions(motions)


def fake_gpu(monkeypatch) -> MotionTextEncoder:
    encoder = MotionTextEncoder.load(resolve_checkpoint(None), "cpu")
    monkeypatch.setattr(encoder, "device", torch.device("cuda"))
    monkeypatch.setattr(encoder, "_place", lambda value: value)  # tensors stay on the CPU
    return encoder


def raising_once(function, error: Exception, before=lambda: None):
    calls = []

    def run(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            before()
            raise error
        return function(*args, **kwargs)

    return run, calls


def test_motion_encoding_out_of_gpu_memory_runs_on_the_cpu(monkeypatch, reference):
    motions, _, expected = reference
    encoder = fake_gpu(monkeypatch)
    encode, calls = raising_once(
        encoder.model.encode_motion, torch.cuda.OutOfMemoryError("CUDA out of memory.")
    )
    monkeypatch.setattr(encoder.model, "encode_motion", encode)
    assert encoder.fallback_notice == ""
    np.testing.assert_allclose(encoder.encode_motions(motions), expected, atol=1e-5)
    assert len(calls) == 2  # the failed batch, then the batch again on the CPU
    assert encoder.device.type == "cpu" and encoder.fallback_notice == GPU_FALLBACK_NOTICE
    np.testing.assert_allclose(encoder.encode_motions(motions), expected, atol=1e-5)


def test_text_query_out_of_gpu_memory_rebuilds_the_query_path_on_the_cpu(monkeypatch, reference):
    _, expected, _ = reference
    encoder = fake_gpu(monkeypatch)
    # TorchScript's interpreter wraps the error in a RuntimeError naming it
    error = RuntimeError(
        "The following operation failed in the TorchScript interpreter.\n"
        "RuntimeError: CUDA out of memory. Tried to allocate 20.00 MiB"
    )
    gpu_graph, _ = raising_once(lambda *inputs: None, error)
    encoder._query_module = gpu_graph  # the graph traced for the GPU
    got = encoder.encode_queries([QUERY])
    assert encoder._query_module is not gpu_graph  # rebuilt for the CPU
    assert encoder.fallback_notice == GPU_FALLBACK_NOTICE
    cosine = float((got @ expected.T).item())
    assert cosine > 0.999, cosine  # the CPU's query path (bfloat16 where native)


def test_a_call_interrupted_by_another_threads_move_runs_again(monkeypatch, reference):
    motions, _, expected = reference
    encoder = fake_gpu(monkeypatch)
    moved = RuntimeError("Expected all tensors to be on the same device")
    encode, calls = raising_once(encoder.model.encode_motion, moved, encoder.fall_back_to_cpu)
    monkeypatch.setattr(encoder.model, "encode_motion", encode)
    np.testing.assert_allclose(encoder.encode_motions(motions), expected, atol=1e-5)
    assert len(calls) == 2 and encoder.device.type == "cpu"


def test_the_cpu_path_is_unchanged(monkeypatch, reference):
    """On the CPU nothing is caught: a CPU out of memory or any other error is raised."""
    motions, _, _ = reference
    encoder = MotionTextEncoder.load(resolve_checkpoint(None), "cpu")
    for error in (torch.OutOfMemoryError("out of memory"), RuntimeError("shape mismatch")):
        encode, calls = raising_once(encoder.model.encode_motion, error)
        monkeypatch.setattr(encoder.model, "encode_motion", encode)
        with pytest.raises(type(error)):
            encoder.encode_motions(motions)
        assert len(calls) == 1 and encoder.fallback_notice == ""
    gpu = fake_gpu(monkeypatch)  # on the GPU, an error that is not memory is raised too
    encode, calls = raising_once(gpu.model.encode_motion, RuntimeError("shape mismatch"))
    monkeypatch.setattr(gpu.model, "encode_motion", encode)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        gpu.encode_motions(motions)
    assert gpu.device.type == "cuda" and gpu.fallback_notice == ""


# The app: `python app.py` with its encoder on a fake GPU whose first text query runs out of
# memory (a sitecustomize module, imported by Python before app.py runs).
SITECUSTOMIZE = textwrap.dedent(
    """
    import sys

    if sys.argv and sys.argv[0].endswith("app.py"):
        import torch

        from engine.encoder import MotionTextEncoder

        load, build = MotionTextEncoder.__init__, MotionTextEncoder._build_query_module
        failed = []

        def on_fake_gpu(self, *args, **kwargs):
            load(self, *args, **kwargs)
            self.device = torch.device("cuda")
            self._place = lambda value: value

        def first_graph_runs_out(self):
            graph = build(self)
            if failed:
                return graph

            def run(*inputs):
                failed.append(1)
                raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")

            return run

        MotionTextEncoder.__init__ = on_fake_gpu
        MotionTextEncoder._build_query_module = first_graph_runs_out
    """
)


@pytest.fixture(scope="module")
def gpu_app(app_cache, tmp_path_factory):  # noqa: F811
    folder = tmp_path_factory.mktemp("fake-gpu")
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = folder / "app.log"
    env = {"PYTHONPATH": f"{folder}:{REPO}", "HF_HUB_OFFLINE": "1"}
    with running_app(app_cache, log, **env) as (url, _):
        yield url, log


def test_app_answers_after_the_gpu_ran_out_of_memory_and_says_so(gpu_app, tmp_path):
    from gradio_client import Client, handle_file

    url, log = gpu_app
    client = Client(url, verbose=False, download_files=False)
    records, videos = client.predict(QUERY, k=4, api_name="/search_text")
    assert len(records) == 4 and len(videos) == 4
    assert all(r["compute_notice"] == GPU_FALLBACK_NOTICE for r in records), records
    assert "jump" in " ".join(" ".join(r["actions"]) for r in records)
    assert "the encoder moves to the CPU" in log.read_text()
    motion = tmp_path / "jump.npy"
    np.save(motion, generate_action("jump_in_place", seed=3).joints)
    records, _, _ = client.predict(handle_file(str(motion)), k=3, api_name="/search_motion")
    assert len(records) == 3 and records[0]["compute_notice"] == GPU_FALLBACK_NOTICE


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_page_says_the_model_left_the_gpu(gpu_app):
    from playwright.sync_api import sync_playwright

    url, _ = gpu_app
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.wait_for_selector("#query textarea", timeout=60_000)
        page.fill("#query textarea", QUERY)
        page.get_by_role("button", name="Search", exact=True).click()
        page.wait_for_function(
            "document.querySelector('#status').innerText.includes('s to render')",
            timeout=300_000,
        )
        status = page.inner_text("#status")
        browser.close()
    assert "GPU ran out of memory" in status and "results for" in status, status
