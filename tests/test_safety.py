"""Safe on a public URL: the caps (upload size, motion length, query length, results per
query) and a bad-input matrix, each row through the launched app's API as a visitor would
send it (gradio_client), answered in bounded time by a clear message that names what was
wrong and never a server path or a stack trace; and the file route serves nothing but the
app's own outputs. docs/safety.md is the table of these rows."""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from demo.config import DemoConfig, parse_args
from demo.limits import check_count, check_query, crop_note
from engine.data.motion_export import export_bvh
from engine.data.motion_import import load_motion_file
from engine.errors import EngineError
from engine.motion.motion import Motion
from tests import test_app
from tests.conftest import REPO

LEAKS = ("/tmp", "/work", "/root", "/home", "Traceback", 'File "')
CAPS = DemoConfig()
# the app of tests/test_app.py, launched once for this module
app_cache, app, client = test_app.app_cache, test_app.app, test_app.client


def assert_clear(error: BaseException, *expected: str) -> str:
    message = str(error)
    for leak in LEAKS:
        assert leak not in message, f"{leak!r} in the message: {message}"
    for part in expected:
        assert part.lower() in message.lower(), f"{part!r} not in the message: {message}"
    return message


def refused(api, *args, expected: tuple[str, ...], api_name: str, **kwargs) -> str:
    started = time.monotonic()
    with pytest.raises(Exception) as raised:  # gradio_client's AppError
        api.predict(*args, api_name=api_name, **kwargs)
    assert time.monotonic() - started < 30, "the answer took longer than 30 s"
    return assert_clear(raised.value, *expected)


# --- text queries ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ("text query is empty",)),
        ("   \n\t  ", ("text query is empty",)),
        ("\x00\x07\x1b\x7f\x9b\u2028", ("text query is empty",)),  # control characters only
        ("a" * 100_000, ("too long", "100,000 characters", f"at most {CAPS.max_query_chars}")),
        ("a person jumps " * 40, ("too long", f"at most {CAPS.max_query_chars}")),
    ],
    ids=["empty", "whitespace", "control-only", "100KB", "just-over-cap"],
)
def test_bad_text_query_is_refused(client, query, expected):
    refused(client, query, expected=expected, api_name="/search_text")


@pytest.mark.parametrize(
    "query",
    [
        "a person\x00 jumps\x1b[31m up\r\nand down",  # control characters inside
        "a person jumps 🕺💃🤸 up and down",  # emoji
        "一个人原地跳跃",  # Chinese
        "человек прыгает на месте",  # Russian
        "شخص يقفز في مكانه",  # Arabic, right to left
        "x" * CAPS.max_query_chars,  # exactly at the cap
    ],
    ids=["control-inside", "emoji", "chinese", "russian", "arabic", "at-cap"],
)
def test_odd_but_valid_text_query_answers(client, query):
    records, _ = client.predict(query, k=2, api_name="/search_text")
    assert len(records) == 2 and records[0]["score"] >= records[1]["score"]


@pytest.mark.parametrize("k", [0, -3, CAPS.max_results + 1, 10**9], ids=str)
def test_results_per_query_capped_in_the_api(client, k):
    # Gradio checks the slider's range first ("Value 17 is greater than maximum value 16."),
    # the handler again (check_count) for any caller that gets past it
    expected = (str(k), str(CAPS.max_results if k > 0 else 1))
    refused(client, "someone waves", k=k, expected=expected, api_name="/search_text")


def test_results_per_query_capped_for_motion_search(client, tmp_path):
    from gradio_client import handle_file

    path = tmp_path / "fine.npy"
    np.save(path, long_motion(3.0))
    refused(
        client,
        handle_file(str(path)),
        k=CAPS.max_results + 1,
        expected=(str(CAPS.max_results + 1), str(CAPS.max_results)),
        api_name="/search_motion",
    )


# --- motion uploads ----------------------------------------------------------------------
def long_motion(seconds: float) -> np.ndarray:
    """Valid HumanML3D joints (T, 22, 3) of the given length: a generated clip, looped."""
    from engine.data.corpus import generate_motion

    clip = generate_motion(0, 60).joints
    frames = int(seconds * 20) + 1
    loops = -(-frames // len(clip))
    offsets = np.arange(loops)[:, None, None, None] * (clip[-1, 0] - clip[0, 0]) * [1, 0, 1]
    return (clip[None] + offsets).reshape(-1, 22, 3)[:frames]


def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def forged_npy(shape: tuple[int, ...], payload: int = 800) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue() + b"\0" * payload


def zip_bomb() -> bytes:
    """A .npz-style archive of 256 MB of zeros, compressed to 250 KB."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("x.npy", "w", force_zip64=True) as member,
    ):
        for _ in range(256):
            member.write(b"\0" * 2**20)
    return buffer.getvalue()


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


class Evil:
    """Unpickling this would run code: it must never be unpickled."""

    def __reduce__(self):
        return (Path("/tmp/unpickled-by-the-app").touch, ())


def valid_bvh(tmp_path: Path) -> str:
    joints = long_motion(3.0)
    return export_bvh(Motion.from_joints("m", joints), tmp_path / "valid.bvh").read_text()


def bad_files(tmp_path: Path) -> dict[str, tuple[str, bytes, tuple[str, ...]]]:
    """Row name: (file name, contents, parts of the expected message)."""
    bvh = valid_bvh(tmp_path)
    header, motion = bvh.split("MOTION\n")
    rows = motion.splitlines()
    tokens = rows[10].split()
    nan_rows = [*rows[:10], " ".join([*tokens[:3], "nan", "inf", *tokens[5:]]), *rows[11:]]
    return {
        "wrong extension": ("motion.txt", b"hello", ("invalid file type", ".npy", ".bvh")),
        "png renamed .bvh": ("picture.bvh", PNG, ("not a BVH file",)),
        "png renamed .npy": ("picture.npy", PNG, ("not a .npy file",)),
        "empty file": ("empty.npy", b"", ("empty",)),
        "truncated bvh": ("cut.bvh", bvh[: len(bvh) * 2 // 3].encode(), ("truncated",)),
        "bvh without motion": ("nomotion.bvh", header.encode(), ("no MOTION section",)),
        "corrupt bvh": (
            "corrupt.bvh",
            bvh.replace("CHANNELS 3", "CHANNELS 3 Wrotation", 1).encode(),
            ("corrupt.bvh", "channel"),
        ),
        "bvh nan": (
            "nan.bvh",
            (header + "MOTION\n" + "\n".join(nan_rows)).encode(),
            ("NaN or infinite",),
        ),
        "bvh absurd frame count": (
            "frames.bvh",
            (header + "MOTION\n" + "\n".join(["Frames: 99999999999", *rows[1:]])).encode(),
            ("declares 99999999999 frames",),
        ),
        "truncated npy": (
            "cut.npy",
            npy_bytes(long_motion(3.0))[:5000],
            ("truncated", "(61, 22, 3)"),
        ),
        "corrupt npy header": (
            "header.npy",
            npy_bytes(np.zeros((30, 263)))[:10] + b"{garbage" + b"\0" * 200,
            ("not a readable .npy array: its header is corrupt",),
        ),
        "npy nan": ("nan.npy", npy_bytes(np.full((40, 263), np.nan)), ("NaN or infinite",)),
        "npy inf": (
            "inf.npy",
            npy_bytes(np.where(np.arange(40)[:, None, None] == 7, np.inf, long_motion(1.95))),
            ("NaN or infinite", "frame 7"),
        ),
        "npy shape (10, 7)": ("s107.npy", npy_bytes(np.zeros((10, 7))), ("shape (10, 7)",)),
        "npy shape (0, 263)": ("s0.npy", npy_bytes(np.zeros((0, 263))), ("no frames",)),
        "npy shape (5, 22, 3)": (
            "s5.npy",
            npy_bytes(long_motion(0.2)),
            ("too short", "at least 10"),
        ),
        "npy 4-D": ("s4d.npy", npy_bytes(np.zeros((4, 22, 3, 2))), ("shape (4, 22, 3, 2)",)),
        "npy scalar": ("scalar.npy", npy_bytes(np.float64(1)), ("shape ()",)),
        "npy strings": (
            "text.npy",
            npy_bytes(np.array([["a"] * 263] * 20)),
            ("values, not numbers",),
        ),
        "npy absurd frame count": (
            "forged.npy",
            forged_npy((10**9, 263)),
            ("declares an array of shape (1000000000, 263)",),
        ),
        "npy pickled objects": (
            "objects.npy",
            npy_bytes(np.array([Evil(), None], dtype=object), allow_pickle=True),
            ("pickled Python objects",),
        ),
        "raw pickle renamed .npy": ("raw.npy", pickle.dumps(Evil()), ("pickled Python objects",)),
        "zip bomb (.npz as .npy)": ("bomb.npy", zip_bomb(), (".npz archive",)),
        "gzip renamed .bvh": ("gz.bvh", b"\x1f\x8b\x08\x00" + b"\0" * 64, ("not a BVH file",)),
    }


ROWS = [
    "wrong extension",
    "png renamed .bvh",
    "png renamed .npy",
    "empty file",
    "truncated bvh",
    "bvh without motion",
    "corrupt bvh",
    "bvh nan",
    "bvh absurd frame count",
    "truncated npy",
    "corrupt npy header",
    "npy nan",
    "npy inf",
    "npy shape (10, 7)",
    "npy shape (0, 263)",
    "npy shape (5, 22, 3)",
    "npy 4-D",
    "npy scalar",
    "npy strings",
    "npy absurd frame count",
    "npy pickled objects",
    "raw pickle renamed .npy",
    "zip bomb (.npz as .npy)",
    "gzip renamed .bvh",
]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> dict[str, tuple[str, bytes, tuple[str, ...]]]:
    return bad_files(tmp_path_factory.mktemp("matrix"))


def test_the_matrix_rows_are_all_tested(matrix):
    assert set(ROWS) == set(matrix)


@pytest.mark.parametrize("row", ROWS)
def test_bad_motion_upload_is_refused(client, matrix, tmp_path, row):
    from gradio_client import handle_file

    name, data, expected = matrix[row]
    path = tmp_path / "upload" / name
    path.parent.mkdir()
    path.write_bytes(data)
    message = refused(client, handle_file(str(path)), expected=expected, api_name="/search_motion")
    if row != "wrong extension":  # the message names the file, by its name only
        assert name in message
    assert not Path("/tmp/unpickled-by-the-app").exists()


def test_upload_over_the_size_cap_is_refused(app, tmp_path):
    """Gradio refuses it (HTTP 413) before any handler runs; the page says the cap."""
    import httpx

    url, _ = app
    big = tmp_path / "big.npy"
    big.write_bytes(npy_bytes(np.zeros((int(CAPS.max_upload_mb * 2**20 / 263 / 8) + 100, 263))))
    started = time.monotonic()
    with big.open("rb") as handle:
        answer = httpx.post(
            f"{url}gradio_api/upload", files={"files": ("big.npy", handle)}, timeout=60
        )
    assert answer.status_code == 413, answer.text[:300]
    assert_clear(RuntimeError(answer.text), "maximum")
    assert time.monotonic() - started < 30


def test_motion_longer_than_the_cap_is_cropped(client, tmp_path):
    """A 3-minute upload answers (its first 60 s are searched), in bounded time."""
    from gradio_client import handle_file

    path = tmp_path / "long.npy"
    np.save(path, long_motion(3 * CAPS.max_motion_seconds))
    started = time.monotonic()
    records, _, captions = client.predict(handle_file(str(path)), k=2, api_name="/search_motion")
    assert len(records) == 2 and len(captions) == 5
    assert time.monotonic() - started < 60
    # the crop is a field of the records, not only a warning toast an API user never sees
    assert all(r["query_notice"] == records[0]["query_notice"] for r in records)
    assert re.search(
        r"long\.npy is 1[78]\d\.\d s long; only its first 60 s were used",
        records[0]["query_notice"],
    )
    short = tmp_path / "short.npy"
    np.save(short, long_motion(5))
    records, _, _ = client.predict(handle_file(str(short)), k=2, api_name="/search_motion")
    assert [r["query_notice"] for r in records] == ["", ""]


# --- the same caps, where the handlers check them (no app needed) --------------------------
def test_cropping_is_reported(tmp_path):
    path = tmp_path / "long.npy"
    np.save(path, long_motion(75))
    motion = load_motion_file(path, max_seconds=60)
    assert len(motion.features) == 60 * 20
    assert motion.meta["cropped_from_seconds"] == pytest.approx(75, abs=0.1)
    assert crop_note(motion) == (
        "long.npy is 75.0 s long; only its first 60 s were used (the cap for uploads)"
    )
    short = load_motion_file(path, max_seconds=100)
    assert len(short.features) == 75 * 20 and crop_note(short) == ""


def test_query_and_count_checks():
    assert check_query("  a\x00person\u2028jumps\n ", 500) == "a person jumps"
    assert check_query("x" * 500, 500) == "x" * 500
    with pytest.raises(EngineError, match="too long: 501 characters, at most 500"):
        check_query("x" * 501, 500)
    with pytest.raises(EngineError, match="empty"):
        check_query(None, 500)
    assert check_count(4.0, 16) == 4
    for bad in ("abc", 2.5, None, 17, 0):
        with pytest.raises(EngineError, match="from 1 to 16"):
            check_count(bad, 16)


def test_caps_are_options():
    config = parse_args(
        ["--max-upload-mb", "5", "--max-motion-seconds", "30", "--max-query-chars", "200"]
    )
    assert (config.max_upload_mb, config.max_motion_seconds, config.max_query_chars) == (5, 30, 200)
    assert parse_args(["--max-results", "4"]).default_results == 4
    defaults = parse_args([])
    assert defaults.share is False and defaults.allow_data_folders is False
    assert (defaults.max_upload_mb, defaults.max_motion_seconds) == (20, 60)
    assert (defaults.max_query_chars, defaults.max_results) == (500, 16)


def test_no_training_builds_a_read_only_app():
    """--no-training: no Training tab, and no event of the page reaches the training code
    (not even a private one a crafted request could call)."""
    import gradio as gr

    from demo.app import build_demo
    from demo.services import DemoServices

    def training_parts(config):
        demo = build_demo(DemoServices(config))
        tabs = [b.label for b in demo.blocks.values() if isinstance(b, gr.Tab)]
        handlers = [
            f.fn.__module__ for f in demo.fns.values() if getattr(f, "fn", None) is not None
        ]
        return "Training" in tabs, sum(m == "demo.training_tab" for m in handlers)

    assert parse_args(["--no-training"]).training is False and parse_args([]).training
    has_tab, handlers = training_parts(parse_args([]))
    assert has_tab and handlers >= 5  # the check below would notice the tab's events
    assert training_parts(parse_args(["--no-training"])) == (False, 0)


# --- the file route ----------------------------------------------------------------------
def test_file_route_serves_only_the_apps_outputs(app, client):
    import httpx

    url, _ = app
    forbidden = [
        "/etc/passwd",
        str(REPO / "assets" / "model" / "config.json"),
        str(REPO / "app.py"),
        str(REPO / "README.md"),
        "app.py",  # relative to the server's working directory
        "assets/model/config.json",
        f"{REPO}/demo/../assets/model/config.json",
        "../../../../../../etc/passwd",
        "/proc/self/environ",
    ]
    for path in forbidden:
        answer = httpx.get(f"{url}gradio_api/file={path}", timeout=30)
        assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text[:200])
    # and the route itself works: a rendered result video is served
    from gradio_client import Client

    raw = Client(url, verbose=False, download_files=False)
    _, videos = raw.predict("someone waves", k=1, api_name="/search_text")
    if videos:
        assert httpx.get(videos[0]["url"], timeout=30).status_code == 200


def test_share_links_are_off_by_default(app_cache, app):
    log = next(Path(app_cache).parent.glob("log*/app.log"), None)
    assert DemoConfig().share is False and parse_args([]).share is False
    if log is not None:
        text = log.read_text()
        assert "Running on local URL" in text and "public URL" not in text


def test_caps_are_stated_on_the_page_and_in_help(app):
    """Next to each input (the page's component config) and in `python app.py --help`."""
    import subprocess
    import sys

    import httpx

    url, _ = app
    config = httpx.get(f"{url}config", timeout=30).json()
    page = json.dumps(config, ensure_ascii=False)
    for statement in (
        f"up to {CAPS.max_query_chars} characters",
        f"up to {CAPS.max_upload_mb:g} MB",
        f"longer than {CAPS.max_motion_seconds:g} s is cropped",
        f"Results (1–{CAPS.max_results})",
    ):
        assert statement in page
    assert config["max_file_size"] == int(CAPS.max_upload_mb * 2**20)
    done = subprocess.run(
        [sys.executable, "app.py", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    for option in ("--max-upload-mb", "--max-motion-seconds", "--max-query-chars", "--max-results"):
        assert option in done.stdout


def test_every_export_gets_its_own_unguessable_folder_and_old_ones_go(tmp_path, monkeypatch):
    """Two visitors asking for the same motion's downloads never share (or overwrite)
    files; folders older than the age limit are deleted when a new one is made."""
    import demo.services as services_module
    from demo.search_tab import export_files
    from demo.services import DemoServices
    from engine.data.corpus import generate_action
    from engine.motion.features import joints_to_features

    monkeypatch.setattr(services_module, "EXPORTS", tmp_path / "exports")
    services = DemoServices(DemoConfig())
    monkeypatch.setattr(services, "can_render", False)  # the files, not the video, matter
    features = joints_to_features(generate_action("wave", seed=0).joints)
    first, _ = export_files(services, "000123", features)
    second, _ = export_files(services, "000123", features)
    first_folder, second_folder = Path(first[0]).parent, Path(second[0]).parent
    assert first_folder != second_folder and first_folder.parent == second_folder.parent
    assert len(first_folder.name) >= 16  # 12 random bytes, URL-safe
    assert [Path(p).name for p in first] == [Path(p).name for p in second]
    assert all(Path(p).is_file() for p in first + second)
    stale = time.time() - 2 * 3600
    os.utime(first_folder, (stale, stale))
    export_files(services, "000124", features)
    assert not first_folder.exists() and second_folder.exists()
