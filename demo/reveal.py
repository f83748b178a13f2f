"""Bringing what a control opened into view.

On a phone the page is one column: the results sit below the query form, and the
details panel and the comparison video below all the results, so pressing *Search*,
*Details* or *Compare side by side* changed nothing the visitor could see. Each of those
controls also triggers `reveal(...)`, a browser-side listener that waits for the element
to be shown and scrolls it to the top of the screen when it is not on screen already
(on a wide screen it usually is, and nothing moves).
"""

from __future__ import annotations

import json

WAIT_MS = 4000  # how long to wait for the element to appear (Gradio shows it after a reply)


def reveal_js(selector: str) -> str:
    """JavaScript for an event's `js=`: scroll the first `selector` into view once it is
    shown, if it is not on screen."""
    return f"""() => {{
    const started = Date.now();
    const step = () => {{
        const element = document.querySelector({json.dumps(selector)});
        const box = element ? element.getBoundingClientRect() : null;
        if (!box || box.height === 0) {{
            if (Date.now() - started < {WAIT_MS}) setTimeout(step, 100);
            return;
        }}
        if (box.top > window.innerHeight * 0.7 || box.bottom < 0) {{
            element.scrollIntoView({{behavior: "smooth", block: "start"}});
        }}
    }};
    step();
}}"""


def reveal_on(triggers: list, selector: str) -> None:
    """Make each trigger (e.g. `button.click`) also bring `selector` into view. The
    listener runs only in the browser: no request, nothing in the API."""
    for trigger in triggers:
        trigger(None, None, None, js=reveal_js(selector), api_visibility="private", queue=False)
