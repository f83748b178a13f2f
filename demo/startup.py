"""Starting the server on a loaded machine.

Gradio's `launch()` ends with a check that the local page answers (`networking.url_ok`:
a HEAD of "/" with a 3-s timeout, and one timeout means "not accessible"), and raises
"When localhost is not accessible, a shareable link must be created" otherwise. The page
is built from the app's whole config, so on a busy CPU (load ~15 on 2 cores, the model
loading in the background) it can take longer than 3 s and `python app.py` died at
start. Here that check is left out (`_frontend=False`: it guards nothing else in Gradio
6.31) and replaced by a patient one: the page must answer within minutes, not seconds.
"""

from __future__ import annotations

import time

import gradio as gr
import httpx

PAGE_TIMEOUT_S = 300.0  # how long a started server may take to serve its page
ANSWERED = {200, 301, 302, 303, 307, 308, 401}  # as Gradio's check (401: auth, 30x: redirect)


def page_answers(url: str, timeout_s: float = PAGE_TIMEOUT_S) -> bool:
    """Whether `url` answers a HEAD request within `timeout_s`, however slowly: each try
    may take the time that is left, and a refused or failed try is repeated."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            if httpx.head(url, timeout=max(left, 0.1)).status_code in ANSWERED:
                return True
        except httpx.HTTPError:
            pass  # not listening yet, or too slow this time: try again until the deadline
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))


def serve(
    demo: gr.Blocks, block: bool = True, page_timeout_s: float = PAGE_TIMEOUT_S, **launch_kwargs
) -> str:
    """`demo.launch(**launch_kwargs)` without Gradio's 3-s page check, then wait for the
    page patiently; `block`: serve until interrupted (as `launch()` does in a script).
    Returns the local URL."""
    demo.launch(prevent_thread_lock=True, _frontend=False, **launch_kwargs)
    if not page_answers(demo.local_url, page_timeout_s):
        demo.close()
        raise SystemExit(f"the app started but its page did not answer within {page_timeout_s:g} s")
    if block:
        demo.block_thread()
    return demo.local_url
