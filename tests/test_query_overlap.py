"""Evaluation text the shipped model never trained on: the overlap guard, the corpus's
captions computed without its motions, and the label-query file checked against the
shipped model's training captions and gallery."""

from __future__ import annotations

import json
import os
import re

import pytest

from engine.data.corpus import (
    ACTIONS,
    HELDOUT_COMBO_SPLIT,
    HELDOUT_PHRASING_SPLIT,
    write_corpus,
)
from engine.data.corpus_captions import captions_by_split, corpus_captions, split_captions
from engine.data.humanml3d import read_captions
from engine.defaults import GALLERY_SPLIT
from engine.errors import EngineError
from engine.evaluation.label_queries import load_label_queries
from engine.evaluation.overlap import (
    check_no_overlap,
    check_queries_unseen,
    find_overlaps,
    normalize_caption,
)
from engine.paths import ASSETS_DIR

QUERY_FILE = ASSETS_DIR / "eval" / "human_queries.tsv"
SHIPPED = json.loads((ASSETS_DIR / "model" / "config.json").read_text())["experiment"]["data"]
SIZE, SEED, TRAIN = SHIPPED["corpus_size"], SHIPPED["corpus_seed"], SHIPPED["train_split"]


# ----------------------------------------------------------------- the guard


def test_normalize_caption_ignores_case_punctuation_and_spacing():
    assert normalize_caption("A person runs forward.") == "a person runs forward"
    assert normalize_caption("a person  runs forward") == "a person runs forward"
    assert normalize_caption("  The MAN waves;\tthen\nbows!  ") == "the man waves then bows"
    assert normalize_caption("a person's side-step, “quickly”") == "a persons side step quickly"
    assert normalize_caption("someone waves") != normalize_caption("someone waved")


def test_the_guard_finds_a_planted_overlap_and_names_it():
    training = ["a person runs forward", "someone waves with the left hand"]
    queries = ["A person runs forward.", "a person runs quickly", "a person runs forward"]
    assert find_overlaps(queries, training) == ["A person runs forward.", "a person runs forward"]
    with pytest.raises(EngineError, match=r"2 evaluation queries .*\n  A person runs forward\."):
        check_no_overlap(queries, training)
    check_no_overlap(["a person runs quickly"], training)  # nothing to report


def test_check_queries_unseen_reads_a_query_file(tmp_path, monkeypatch):
    import engine.data.corpus_captions as module

    monkeypatch.setattr(
        module, "split_captions", lambda size, seed, workers=1: {"train": ["Someone claps."]}
    )
    good, bad = tmp_path / "good.tsv", tmp_path / "bad.tsv"
    good.write_text("# header\nclap\tsomeone applauds loudly\n", encoding="utf-8")
    bad.write_text("clap\tsomeone applauds loudly\nclap\tsomeone claps\n", encoding="utf-8")
    check_queries_unseen(good, corpus_size=10, corpus_seed=0)
    with pytest.raises(EngineError, match="someone claps"):
        check_queries_unseen(bad, corpus_size=10, corpus_seed=0)


# ----------------------------------------------------- captions without the motions


def test_captions_without_motions_are_the_generators(tmp_path):
    out = tmp_path / "corpus"
    write_corpus(out, size=60, seed=3, workers=1, progress=False)
    clips = corpus_captions(60, 3)
    assert [c.id for c in clips] == (out / "all.txt").read_text().split()
    for clip in clips:
        meta = json.loads((out / "meta" / f"{clip.id}.json").read_text())
        written = [c.text for c in read_captions(out / "texts" / f"{clip.id}.txt")]
        assert clip.captions == tuple(written) == tuple(meta["captions"]), clip.id
        assert clip.actions == tuple(s["action"] for s in meta["segments"]), clip.id
    by_split = captions_by_split(clips)
    for name, captions in by_split.items():
        ids = (out / f"{name}.txt").read_text().split()
        assert captions == [c.text for i in ids for c in read_captions(out / "texts" / f"{i}.txt")]
    assert by_split[HELDOUT_PHRASING_SPLIT] and by_split[HELDOUT_COMBO_SPLIT]
    labels_only = corpus_captions(60, 3, splits=["test"], with_captions=False)
    assert [(c.id, c.actions) for c in labels_only] == [
        (c.id, c.actions) for c in clips if c.split == "test"
    ]


def test_split_captions_are_cached_under_the_generators_fingerprint(monkeypatch):
    import engine.data.corpus_captions as module

    first = split_captions(20, 7)
    assert first == captions_by_split(corpus_captions(20, 7))
    monkeypatch.setattr(module, "corpus_captions", lambda *a, **k: pytest.fail("not cached"))
    assert split_captions(20, 7) == first


# ------------------------------------------------- the shipped model's corpus and queries
# (marked slow: the corpus's captions take ~30 s of CPU to compute once per session)


@pytest.fixture(scope="module")
def shipped_clips():
    """Every clip of the shipped model's corpus, captions included (~30 s of CPU: the
    motions' tracks are built, their joints are not solved)."""
    workers = max(1, min(4, os.cpu_count() or 1))
    return corpus_captions(SIZE, SEED, workers=workers)


@pytest.fixture(scope="module")
def shipped_captions(shipped_clips):
    return captions_by_split(shipped_clips)


@pytest.fixture(scope="module")
def queries():
    return load_label_queries(QUERY_FILE)


@pytest.mark.slow
def test_no_query_occurs_among_the_shipped_models_training_captions(queries, shipped_captions):
    check_no_overlap([q.text for q in queries], shipped_captions[TRAIN], what="queries")


@pytest.mark.slow
def test_no_query_occurs_among_any_caption_of_the_corpus(queries, shipped_clips):
    # the file's header claims no overlap with any split, not only with train
    captions = [c for clip in shipped_clips for c in clip.captions]
    check_no_overlap([q.text for q in queries], captions, what="queries")


def test_every_query_is_answerable_in_the_gallery_with_known_actions(queries):
    assert not {label for q in queries for label in q.labels} - set(ACTIONS)
    clips = corpus_captions(SIZE, SEED, splits=(GALLERY_SPLIT,), with_captions=False)
    gallery = {frozenset(c.actions) for c in clips}
    unanswerable = [q.text for q in queries if not any(q.labels <= labels for labels in gallery)]
    assert not unanswerable


def test_the_query_file_keeps_its_size_and_its_multi_action_share(queries):
    multi = [q for q in queries if len(q.labels) > 1]
    assert len(queries) >= 200 and len(multi) >= 40
    assert len({normalize_caption(q.text) for q in queries}) == len(queries)
    assert sum(bool(re.search(r"\b(then|while|as)\b", q.text)) for q in multi) >= 40


@pytest.mark.slow
def test_heldout_phrasing_captions_never_occur_in_train(shipped_captions):
    phrasing = shipped_captions[HELDOUT_PHRASING_SPLIT]
    assert phrasing
    check_no_overlap(phrasing, shipped_captions[TRAIN], what="held-out phrasing captions")


@pytest.mark.slow
def test_the_caption_naming_a_heldout_combination_never_occurs_in_train(shipped_clips):
    """The first caption of a motion names every action of it, the held-out combination
    included; train motions never contain that combination."""
    train = [c for clip in shipped_clips if clip.split == TRAIN for c in clip.captions]
    first = [c.captions[0] for c in shipped_clips if HELDOUT_COMBO_SPLIT in c.subsets]
    assert first
    check_no_overlap(first, train, what="complete held-out combination captions")


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="the generator (frozen: it made the shipped model's data) also captions a "
    "held-out combination motion with partial or vague captions ('a person squats down', "
    "'someone moves around') that train captions use verbatim: 122 of 1516 for 6000/seed 0",
)
def test_no_heldout_combination_caption_occurs_in_train(shipped_captions):
    check_no_overlap(
        shipped_captions[HELDOUT_COMBO_SPLIT],
        shipped_captions[TRAIN],
        what="held-out combination captions",
    )
