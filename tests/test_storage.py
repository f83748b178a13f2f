"""Atomic writes: complete or absent, never half-written, with ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from engine.storage import atomic_directory, atomic_file, atomic_write_json, atomic_write_text


def test_files_replace_atomically_and_get_ordinary_permissions(tmp_path):
    target = tmp_path / "a" / "file.json"
    atomic_write_json(target, {"x": 1})
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in target.parent.iterdir()] == ["file.json"]


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


def test_directories_swap_whole(tmp_path):
    target = tmp_path / "checkpoint"
    with atomic_directory(target) as tmp:
        (tmp / "a").write_text("1")
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "a").write_text("2")
        raise RuntimeError("killed")
    assert (target / "a").read_text() == "1"
    with atomic_directory(target) as tmp:
        (tmp / "b").write_text("3")
        os.chmod(tmp / "b", 0o600)  # as safetensors writes its files
    assert sorted(p.name for p in target.iterdir()) == ["b"]
    assert stat.S_IMODE((target / "b").stat().st_mode) & 0o044 == 0o044
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]
    assert stat.S_IMODE(target.stat().st_mode) & 0o755 == 0o755
