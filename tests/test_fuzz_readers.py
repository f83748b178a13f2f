"""Fuzzing the motion file readers (hypothesis, a fixed and derandomized budget): arbitrary
bytes and mutated valid .bvh / .npy files either load to a valid motion or raise the
engine's own `EngineError` with a message that names no server folder — never another
exception, never a hang."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from engine.data.motion_export import export_bvh  # noqa: E402
from engine.data.motion_import import load_motion_file  # noqa: E402
from engine.errors import EngineError  # noqa: E402
from engine.motion.motion import Motion  # noqa: E402

FUZZ = settings(
    max_examples=200,
    deadline=2000,  # ms per example: a reader that hangs fails instead of stalling CI
    derandomize=True,  # the same examples on every run
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Seeds(dict):
    """Valid files by kind; a short repr, for hypothesis's failure reports."""

    def __repr__(self) -> str:
        return f"<valid {', '.join(self)} files>"


@pytest.fixture(scope="module")
def valid_files(swing_joints, tmp_path_factory) -> Seeds:
    """A short valid .bvh and .npy (joints and features) to mutate."""
    folder = tmp_path_factory.mktemp("fuzz-seeds")
    motion = Motion.from_joints("seed", swing_joints[:24])
    seeds = Seeds(bvh=export_bvh(motion, folder / "seed.bvh").read_bytes())
    for name, array in (("joints", motion.joints), ("features", motion.features)):
        buffer = io.BytesIO()
        np.save(buffer, array.astype(np.float32))
        seeds[name] = buffer.getvalue()
    return seeds


def check_loads_or_engine_error(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow in absurd values
            motion = load_motion_file(path)
    except EngineError as error:
        message = str(error).removeprefix(str(path))  # the engine names the file; the page
        assert "Traceback" not in message and "/tmp" not in message  # shows its name only
        return
    assert motion.features.ndim == 2 and motion.features.shape[1] == 263
    assert len(motion.features) >= 10
    assert np.isfinite(motion.features).all() and np.isfinite(motion.joints).all()


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    """The seed with a few bytes replaced, inserted, deleted, or cut short."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "token"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "replace" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del data[at:]
        else:  # a word that means something to the parsers
            word = draw(
                st.sampled_from(
                    [
                        b"nan",
                        b"inf",
                        b"-1e308",
                        b"1e999",
                        b"JOINT",
                        b"}",
                        b"{",
                        b"End Site",
                        b"CHANNELS 0",
                        b"CHANNELS 99",
                        b"Frames: 0",
                        b"Frames: 99999999",
                        b"Frame Time: 0",
                        b"MOTION",
                        b"ROOT",
                        b"'shape': (0,",
                        b"'<c16'",
                        b"'|O'",
                        b"True",
                        b"\x00",
                        b"\xff\xfe",
                    ]
                )
            )
            data[at:at] = word
    return bytes(data)


@FUZZ
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".bvh", ".npy"]))
def test_arbitrary_bytes(tmp_path, data, suffix):
    check_loads_or_engine_error(tmp_path / f"fuzz{suffix}", data)


@FUZZ
@given(data=st.data())
def test_mutated_bvh(tmp_path, valid_files, data):
    check_loads_or_engine_error(tmp_path / "fuzz.bvh", data.draw(mutated(valid_files["bvh"])))


@FUZZ
@given(data=st.data(), which=st.sampled_from(["joints", "features"]))
def test_mutated_npy(tmp_path, valid_files, data, which):
    check_loads_or_engine_error(tmp_path / "fuzz.npy", data.draw(mutated(valid_files[which])))


@FUZZ
@given(
    header=st.fixed_dictionaries(
        {
            "descr": st.sampled_from(["<f8", "<f4", ">f8", "<i4", "|u1", "<c16", "|b1", "<f2"]),
            "fortran_order": st.booleans(),
            "shape": st.lists(st.integers(0, 2**40), max_size=5).map(tuple),
        }
    ),
    payload=st.integers(0, 4096),
)
def test_forged_npy_headers(tmp_path, header, payload):
    """Any header (shapes up to 2**40 per axis) over a little data: refused from the
    header when it claims more than the file holds, never allocated."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    buffer.write(b"\x01" * payload)
    check_loads_or_engine_error(tmp_path / "forged.npy", buffer.getvalue())
