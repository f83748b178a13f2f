"""App start on a loaded machine: a page that takes longer than Gradio's 3-s check to
answer must not stop the app from starting (demo/startup.py)."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import gradio as gr
import pytest
from gradio import networking, route_utils

from demo.startup import page_answers, serve

SLOW_S = 4.0  # longer than the 3-s timeout of Gradio's check


class SlowPage(BaseHTTPRequestHandler):
    """Answers HEAD after SLOW_S, as a busy server builds its page."""

    def do_HEAD(self):
        time.sleep(SLOW_S)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_slow_page_answers_where_gradios_check_gives_up(slow_server):
    assert not networking.url_ok(slow_server)  # the check that failed `python app.py`
    started = time.monotonic()
    assert page_answers(slow_server, timeout_s=30)
    assert SLOW_S <= time.monotonic() - started < 15


def test_a_server_that_never_answers_is_reported_in_bounded_time():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    started = time.monotonic()
    assert not page_answers(f"http://127.0.0.1:{port}/", timeout_s=1.5)
    assert time.monotonic() - started < 3


def test_an_app_whose_page_is_slow_still_starts(monkeypatch):
    """A real Gradio app whose page takes 4 s (as under load): plain `launch()` raises,
    `serve` starts it and its page answers."""
    build = route_utils.update_root_in_config

    def slow_build(config, root):
        time.sleep(SLOW_S)
        return build(config, root)

    monkeypatch.setattr(route_utils, "update_root_in_config", slow_build)
    with gr.Blocks() as demo:
        gr.Markdown("hello")
    with pytest.raises(ValueError, match="localhost is not accessible"):
        demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    demo.close()
    with gr.Blocks() as demo:
        gr.Markdown("hello")
    try:
        url = serve(demo, block=False, page_timeout_s=60, server_name="127.0.0.1", quiet=True)
        assert page_answers(url, timeout_s=30)
    finally:
        demo.close()
