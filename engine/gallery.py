"""A motion gallery: motions + their embeddings under one checkpoint, cached on disk.

The cache lives in `<cache>/galleries/<source key>/<checkpoint fingerprint>/` and holds
the motion and caption embeddings (safetensors) and, per item, a content hash of its
features and captions (JSON). Refreshing re-encodes only items that are new or whose
content changed and drops the ones that are gone, so a changed model (another folder)
or a changed data set (other hashes) never serves stale embeddings. Writes are atomic.

A `seed` is a read-only folder in the same format (the embeddings of the embedded
gallery under the shipped model, in `assets/gallery/`): items and captions found there
are not encoded again, so a fresh machine answers its first query sooner.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from engine.data.dataset import MotionItem
from engine.encoder import MotionTextEncoder
from engine.paths import cache_dir
from engine.storage import atomic_directory, atomic_write_json

Progress = Callable[[int, int], None]
CACHE_FORMAT = "motion-gallery/1"


@dataclass
class Gallery:
    """Items (motions with captions and labels), row-aligned with `embeddings` (N, E).

    `caption_embeddings` (M, E) with `caption_owner` (M,) (row of the item each caption
    belongs to) serve motion→text search. They are computed (and cached) on first use
    (a gallery's captions outnumber its motions several times, and text search does not
    need them, so a fresh gallery answers text queries sooner).
    """

    name: str
    items: list[MotionItem]
    embeddings: np.ndarray
    caption_texts: list[str]
    caption_owner: np.ndarray
    _embed_captions: Callable[[], np.ndarray] = field(repr=False)
    fingerprint: str = ""
    _rows: dict[str, int] = field(default_factory=dict, repr=False)
    _caption_embeddings: np.ndarray | None = field(default=None, repr=False)
    _caption_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._rows = {item.id: row for row, item in enumerate(self.items)}

    @property
    def caption_embeddings(self) -> np.ndarray:
        with self._caption_lock:
            if self._caption_embeddings is None:
                self._caption_embeddings = self._embed_captions()
            return self._caption_embeddings

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._rows

    def row(self, item_id: str) -> int:
        if item_id not in self._rows:
            raise KeyError(f"no motion {item_id!r} in gallery {self.name}")
        return self._rows[item_id]

    def item(self, item_id: str) -> MotionItem:
        return self.items[self.row(item_id)]

    @property
    def actions(self) -> list[str]:
        return sorted({a for item in self.items for a in item.actions})

    @property
    def datasets(self) -> list[str]:
        return sorted({item.dataset for item in self.items})


def item_hash(item: MotionItem) -> str:
    """Content hash of an item. Features are rounded to 1e-4 first, so that the last-bit
    differences of floating-point maths between machines (BLAS kernels, SIMD paths) do not
    make a regenerated motion look new."""
    rounded = np.round(np.asarray(item.features, dtype=np.float32), 4) + np.float32(0.0)
    digest = hashlib.sha1(np.ascontiguousarray(rounded).tobytes())
    digest.update("\n".join(item.captions).encode())
    return digest.hexdigest()[:20]


def source_key(name: str, location: str) -> str:
    """Cache folder name for a data source (its name and resolved location)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40]
    return f"{safe}-{hashlib.sha1(location.encode()).hexdigest()[:10]}"


def build_gallery(
    name: str,
    location: str,
    items: Sequence[MotionItem],
    encoder: MotionTextEncoder,
    progress: Progress | None = None,
    root: Path | None = None,
    persist: bool = True,
    seed: Path | None = None,
) -> Gallery:
    """Embeddings for `items`, reusing the cache (and `seed`, a read-only cache of the
    same model) for every item whose content is unchanged.

    `persist=False` keeps everything in memory (small, short-lived galleries).
    """
    folder = (root or cache_dir() / "galleries") / source_key(name, location) / encoder.fingerprint
    cached = _read_cache(folder) if persist else _Cache({}, {})
    if seed is not None:
        cached = _read_cache(seed).updated(cached)
    hashes = [item_hash(item) for item in items]
    motion = np.zeros((len(items), encoder.embed_dim), dtype=np.float32)
    todo = []
    for row, digest in enumerate(hashes):
        if digest in cached.motion:
            motion[row] = cached.motion[digest]
        else:
            todo.append(row)
    if todo:
        motion[todo] = encoder.encode_motions([items[r].features for r in todo], progress=progress)
    if persist and (todo or len(cached.motion) != len(set(hashes))):
        _write_cache(folder, hashes, motion, cached.captions)
    captions, owners = [], []
    for row, item in enumerate(items):
        for caption in item.captions:
            captions.append(caption)
            owners.append(row)

    def embed_captions() -> np.ndarray:
        unique = list(dict.fromkeys(captions))
        new_captions = [c for c in unique if c not in cached.captions]
        vectors = {c: cached.captions[c] for c in unique if c in cached.captions}
        if new_captions:
            encoded = encoder.encode_texts(new_captions)
            vectors.update(zip(new_captions, encoded, strict=True))
        if persist and (new_captions or len(vectors) != len(cached.captions)):
            _write_cache(folder, hashes, motion, vectors)
        return _stack([vectors[c] for c in captions], encoder.embed_dim)

    return Gallery(
        name,
        list(items),
        motion,
        captions,
        np.array(owners, dtype=np.int64),
        embed_captions,
        fingerprint=encoder.fingerprint,
    )


def save_embeddings(gallery: Gallery, folder: Path) -> None:
    """Write a gallery's motion and caption embeddings as a cache folder (e.g. a seed)."""
    vectors = dict(zip(gallery.caption_texts, gallery.caption_embeddings, strict=True))
    _write_cache(folder, [item_hash(i) for i in gallery.items], gallery.embeddings, vectors)


@dataclass
class _Cache:
    motion: dict[str, np.ndarray]
    captions: dict[str, np.ndarray]

    def updated(self, other: _Cache) -> _Cache:
        """This cache with `other`'s entries added (and winning)."""
        return _Cache({**self.motion, **other.motion}, {**self.captions, **other.captions})


def _read_cache(folder: Path) -> _Cache:
    try:
        meta = json.loads((folder / "gallery.json").read_text())
        if meta.get("format") != CACHE_FORMAT:
            return _Cache({}, {})
        arrays = load_file(str(folder / "embeddings.safetensors"))
    except Exception:
        return _Cache({}, {})
    if len(meta["item_hashes"]) != len(arrays["motion"]) or len(meta["captions"]) != len(
        arrays["captions"]
    ):
        return _Cache({}, {})
    motion = dict(zip(meta["item_hashes"], arrays["motion"], strict=True))
    captions = dict(zip(meta["captions"], arrays["captions"], strict=True))
    return _Cache(motion, captions)


def _write_cache(
    folder: Path,
    hashes: list[str],
    motion: np.ndarray,
    caption_vectors: dict[str, np.ndarray],
) -> None:
    unique_rows = list({h: r for r, h in enumerate(hashes)}.values())
    captions = list(caption_vectors)
    caption_matrix = _stack([caption_vectors[c] for c in captions], motion.shape[1])
    with atomic_directory(folder) as tmp:
        save_file(
            {"motion": motion[unique_rows], "captions": caption_matrix},
            str(tmp / "embeddings.safetensors"),
        )
        atomic_write_json(
            tmp / "gallery.json",
            {
                "format": CACHE_FORMAT,
                "item_hashes": [hashes[r] for r in unique_rows],
                "captions": captions,
            },
        )


def _stack(vectors: list[np.ndarray], dim: int) -> np.ndarray:
    if not vectors:
        return np.zeros((0, dim), np.float32)
    return np.stack(vectors).astype(np.float32, copy=False)
