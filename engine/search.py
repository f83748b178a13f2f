"""Search a gallery: text → motions, motion → motions, any query → captions, and where
inside a long motion the query matches best."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from engine.encoder import MotionTextEncoder
from engine.errors import EngineError
from engine.evaluation.realism import feature_groups
from engine.familiarity import Familiarity, FamiliarityCheck
from engine.gallery import Gallery
from engine.index import ExactIndex, make_index
from engine.twins import distinct, twin_of

WINDOW_SECONDS = 2.0
WINDOW_STRIDE_SECONDS = 0.5
QUERY_CACHE_SIZE = 1024  # text query embeddings kept (256 floats each: ~1 MB)


@dataclass
class Hit:
    id: str
    score: float
    captions: list[str]
    actions: list[str]
    dataset: str
    duration: float
    meta: dict = field(default_factory=dict)
    twin: Hit | None = None  # its mirror twin, when results show one slot per pair

    def to_json(self) -> dict:
        record = {
            "id": self.id,
            "score": round(self.score, 6),
            "caption": self.captions[0] if self.captions else "",
            "captions": self.captions,
            "actions": self.actions,
            "dataset": self.dataset,
            "duration": round(self.duration, 3),
        }
        if self.twin is not None:
            record["mirror_twin"] = {"id": self.twin.id, "score": round(self.twin.score, 6)}
        return record


@dataclass
class CaptionHit:
    caption: str
    score: float
    id: str | None  # the gallery motion the caption belongs to (None for a given list)

    def to_json(self) -> dict:
        return {"caption": self.caption, "score": round(self.score, 6), "id": self.id}


@dataclass
class Timeline:
    """Similarity of a query to windows of a motion: centre times (s) and scores."""

    times: np.ndarray
    scores: np.ndarray

    @property
    def best_window(self) -> tuple[float, float]:
        centre = float(self.times[int(np.argmax(self.scores))])
        half = WINDOW_SECONDS / 2
        return max(0.0, centre - half), centre + half


class SearchEngine:
    def __init__(self, encoder: MotionTextEncoder, gallery: Gallery, index_kind: str = "exact"):
        if gallery.fingerprint and gallery.fingerprint != encoder.fingerprint:
            raise EngineError("the gallery was embedded with another checkpoint; rebuild it")
        self.encoder = encoder
        self.gallery = gallery
        self.index = make_index(gallery.embeddings, index_kind)
        self._caption_index: ExactIndex | None = None  # built by prepare_captions
        self._familiarity: FamiliarityCheck | None = None  # built on the first motion query
        self._familiarity_lock = threading.Lock()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()  # text -> embedding, LRU
        self._queries_lock = threading.Lock()
        self.fps = encoder.skeleton.fps

    # ------------------------------------------------------------------ queries
    def embed_text(self, text: str) -> np.ndarray:
        """The query's embedding. The last QUERY_CACHE_SIZE queries' are kept: the page's
        examples and shared links repeat queries, and encoding one is most of a search's
        time when its videos are rendered already (callers get a copy to keep)."""
        text = (text or "").strip()
        if not text:
            raise EngineError("the text query is empty: describe a motion, e.g. 'a person jumps'")
        with self._queries_lock:
            if text in self._queries:
                self._queries.move_to_end(text)
                return self._queries[text].copy()
        vector = self.encoder.encode_queries([text])[0]  # the encoder's QueryPath
        with self._queries_lock:
            self._queries[text] = vector
            while len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return vector.copy()

    def embed_motion(self, features: np.ndarray) -> np.ndarray:
        return self.encoder.encode_motions([features])[0]

    def search_text(self, text: str, k: int = 10, **filters) -> list[Hit]:
        return self.search_vector(self.embed_text(text), k, **filters)

    def search_motion(self, features: np.ndarray, k: int = 10, **filters) -> list[Hit]:
        return self.search_vector(self.embed_motion(features), k, **filters)

    def search_vector(
        self,
        vector: np.ndarray,
        k: int = 10,
        actions: Iterable[str] | None = None,
        datasets: Iterable[str] | None = None,
        exclude: Iterable[str] = (),
    ) -> list[Hit]:
        """Top-k gallery motions for an embedding, optionally only those with one of the
        given action labels / from the given data sets, never the excluded ids."""
        if k < 1:
            raise EngineError(f"k must be at least 1, got {k}")
        candidates = self._candidates(actions, datasets, exclude)
        scores, rows = self.index.search(vector[None], k, candidates)
        return [
            self._hit(int(r), float(s))
            for s, r in zip(scores[0], rows[0], strict=True)
            if r >= 0  # a place an approximate index did not fill
        ]

    def search_distinct(self, vector: np.ndarray, k: int = 10, **filters) -> list[Hit]:
        """Top-k distinct motions, for people: a motion and its mirror twin share one hit,
        the better-scoring one, with the other in its `twin` (scored even when the
        filters leave it out). The top 2k hold at least k pairs, so k slots fill whenever
        the gallery has k distinct motions."""
        ranked = self.search_vector(vector, 2 * k, **filters)
        slots = distinct(ranked, lambda hit: hit.id, self.gallery, k)
        for first, second in slots:
            first.twin = second or self._twin_hit(first.id, vector)
        return [first for first, _ in slots]

    def familiarity_of_query(
        self, features: np.ndarray, vector: np.ndarray | None = None
    ) -> Familiarity:
        """Whether a query motion (raw features) looks like the motions the model knows
        (engine/familiarity.py), judged with its best match in the whole gallery: filters
        narrow the results, not what the model knows. `vector`: the motion's embedding when
        the caller has it (else it is encoded here)."""
        if vector is None:
            vector = self.embed_motion(features)
        best = self.search_vector(vector, 1)
        with self._familiarity_lock:
            if self._familiarity is None:
                self._familiarity = FamiliarityCheck.from_gallery(
                    self.encoder.checkpoint.training_statistics,
                    [item.features for item in self.gallery.items],
                    self.gallery.embeddings,
                    [item.id for item in self.gallery.items],
                    feature_groups(
                        self.encoder.skeleton,
                        self.encoder.checkpoint.config.model.ignored_features,
                    ),
                )
        return self._familiarity.check(features, best[0].score if best else -1.0)

    def prepare_captions(self) -> None:
        """Embed and index the gallery's captions now (motion→text needs them, text search
        does not; otherwise the first motion→text query pays for it)."""
        if self._caption_index is None:
            self._caption_index = ExactIndex(self.gallery.caption_embeddings)

    def nearest_captions(
        self, vector: np.ndarray, k: int = 10, captions: list[str] | None = None
    ) -> list[CaptionHit]:
        """The gallery's captions closest to an embedding (or the closest of `captions`).

        Each distinct caption string appears once, with the id of its best-matching motion.
        """
        if captions is not None:
            captions = [c.strip() for c in captions if c.strip()]
            if not captions:
                raise EngineError("the caption list is empty")
            scores = self.encoder.encode_texts(captions) @ vector
            order = np.argsort(-scores)[:k]
            return [CaptionHit(captions[i], float(scores[i]), None) for i in order]
        self.prepare_captions()
        scores, rows = self._caption_index.search(vector[None], len(self._caption_index))
        hits, seen = [], set()
        for score, row in zip(scores[0], rows[0], strict=True):
            text = self.gallery.caption_texts[row]
            if text in seen:
                continue
            seen.add(text)
            owner = self.gallery.items[self.gallery.caption_owner[row]].id
            hits.append(CaptionHit(text, float(score), owner))
            if len(hits) == k:
                break
        return hits

    def timeline(self, vector: np.ndarray, features: np.ndarray) -> Timeline:
        return window_timeline(self.encoder, vector, features)

    # ------------------------------------------------------------------ helpers
    def _candidates(self, actions, datasets, exclude) -> np.ndarray | None:
        actions = set(actions or ())
        datasets = set(datasets or ())
        exclude = set(exclude)
        if not (actions or datasets or exclude):
            return None
        unknown = actions - set(self.gallery.actions)
        if unknown:
            raise EngineError(
                f"unknown action label(s) {', '.join(sorted(unknown))}; the gallery has "
                f"{', '.join(self.gallery.actions) or 'no labels'}"
            )
        rows = [
            row
            for row, item in enumerate(self.gallery.items)
            if (not actions or actions & set(item.actions))
            and (not datasets or item.dataset in datasets)
            and item.id not in exclude
        ]
        return np.array(rows, dtype=np.int64)

    def _twin_hit(self, item_id: str, vector: np.ndarray) -> Hit | None:
        twin = twin_of(item_id, self.gallery)
        if twin is None:
            return None
        row = self.gallery.row(twin)
        return self._hit(row, float(self.gallery.embeddings[row] @ vector))

    def _hit(self, row: int, score: float) -> Hit:
        item = self.gallery.items[row]
        return Hit(
            item.id,
            score,
            list(item.captions),
            list(item.actions),
            item.dataset,
            item.num_frames / self.fps,
            item.meta,
        )


def window_timeline(
    encoder: MotionTextEncoder, vector: np.ndarray, features: np.ndarray
) -> Timeline:
    """Scores of sliding windows (2 s, every 0.5 s) of a motion against a query embedding:
    which seconds of a long motion match the query best."""
    fps = encoder.skeleton.fps
    window = int(WINDOW_SECONDS * fps)
    stride = int(WINDOW_STRIDE_SECONDS * fps)
    if len(features) <= window:
        starts = [0]
    else:
        starts = list(range(0, len(features) - window + 1, stride))
        if starts[-1] != len(features) - window:
            starts.append(len(features) - window)
    windows = [features[s : s + window] for s in starts]
    scores = encoder.encode_motions(windows) @ vector
    centres = np.array([(s + min(window, len(features)) / 2) / fps for s in starts])
    return Timeline(centres, scores.astype(np.float32))
