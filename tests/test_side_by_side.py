"""Rendered motions side by side in one video: one clock, the shorter one holding its last
pose, the similarity curve with its cursor moving as the video plays."""

from __future__ import annotations

import imageio.v2 as imageio
import numpy as np
import pytest

from engine.data.corpus import generate_action
from engine.render import RenderCache, RenderSettings, rendering_available, unavailable_reason
from engine.render.side_by_side import CURSOR, LABEL_H, TITLE_H, Curve, Panel, compose

# inputs at 10 fps: side_by_side must play them in step with a 20-fps comparison anyway
HALF_RATE = RenderSettings(frame_step=2)
pytestmark = pytest.mark.skipif(
    not rendering_available(), reason=f"no offscreen OpenGL: {unavailable_reason()}"
)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    cache = RenderCache(tmp_path_factory.mktemp("renders"), workers=0)
    long = generate_action("wave", seed=1).joints[:80]  # 4 s
    short = generate_action("jump_in_place", seed=2).joints[:40]  # 2 s
    return [cache.get(long, "video", HALF_RATE), cache.get(short, "video", HALF_RATE)]


def read(path):
    reader = imageio.get_reader(str(path), format="FFMPEG")
    meta = reader.get_meta_data()
    frames = np.stack(list(reader.iter_data()))
    reader.close()
    return meta, frames


def cursor_column(frame: np.ndarray, top: int) -> int:
    row = frame[top + 20].astype(int)
    red = np.abs(row - np.array(CURSOR)).sum(-1) < 60
    return int(np.flatnonzero(red).mean())


def test_side_by_side_plays_in_step_with_a_moving_cursor(videos, tmp_path):
    source_meta, source = read(videos[0])
    _, short = read(videos[1])
    curve = Curve(
        np.array([1.0, 1.5, 2.0, 2.5, 3.0]), np.array([0.2, 0.5, 0.9, 0.6, 0.3]), (1.0, 3.0)
    )
    out = compose(
        [Panel(videos[0], "#1 000123 · 0.71"), Panel(videos[1], "query")],
        tmp_path / "compare.mp4",
        "a person waves",
        curve,
    )
    meta, frames = read(out)
    assert meta["codec"] == "h264" and meta["fps"] == source_meta["fps"]
    assert len(frames) == len(source)  # the longer motion's length: one clock
    height, width = frames.shape[1:3]
    assert width >= 2 * 256 and height > TITLE_H + LABEL_H + 256
    y = TITLE_H + LABEL_H
    # each panel is its video at the same time; the shorter one holds its last frame
    for index in (0, len(frames) // 2, len(frames) - 1):
        left = frames[index, y : y + 256, 8 : 8 + 256].astype(int)
        assert np.abs(left - source[index].astype(int)).mean() < 6
    held = frames[-1, y : y + 256, 8 + 264 : 8 + 264 + 256].astype(int)
    assert np.abs(held - short[-1].astype(int)).mean() < 6
    # the cursor moves left to right along the curve
    top = y + 256 + 14
    columns = [cursor_column(frames[i], top) for i in (0, len(frames) // 2, len(frames) - 1)]
    assert columns[0] < columns[1] < columns[2], columns


def test_nothing_to_compose(tmp_path):
    from engine.render import RenderError

    with pytest.raises(RenderError, match="nothing"):
        compose([], tmp_path / "x.mp4", "t")
