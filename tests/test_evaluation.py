"""Metrics and protocols on hand-made similarity matrices, and the evaluate command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.evaluation.metrics import headline, ranks, retrieval_metrics, summarize
from engine.evaluation.protocols import (
    evaluate_protocol,
    evaluate_query_subset,
    select_dissimilar,
)
from tests.conftest import REPO


def test_ranks_and_recalls_by_hand():
    scores = np.array(
        [
            [0.9, 0.1, 0.2, 0.3],  # correct item 0 is first → rank 1
            [0.8, 0.5, 0.9, 0.1],  # correct item 1 is third → rank 3
            [0.1, 0.2, 0.3, 0.0],  # correct item 2 is first → rank 1
            [0.5, 0.6, 0.7, 0.4],  # correct item 3 is last → rank 4
        ]
    )
    by_hand = ranks(scores, np.eye(4, dtype=bool))
    assert list(by_hand.mean_rank()) == [1, 3, 1, 4]
    metrics = summarize(by_hand)
    assert metrics["R@1"] == 50.0 and metrics["R@2"] == 50.0 and metrics["R@3"] == 75.0
    assert metrics["R@5"] == 100.0 and metrics["MedR"] == 2.0
    both = retrieval_metrics(scores, np.eye(4, dtype=bool))
    # motion→text reads the columns: item 0's column [0.9, 0.8, 0.1, 0.5] ranks text 0 first
    assert both["m2t"]["R@1"] == pytest.approx(100 * 2 / 4)
    assert headline(both) == pytest.approx(np.mean([50, 100, 100, 50, 100, 100]))


def test_ties_are_broken_fairly_and_missing_positives_fail():
    # the correct item ties with two others: its position is 1, 2 or 3 with equal odds
    tied = ranks(np.array([[0.5, 0.5, 0.5]]), np.array([[False, True, False]]))
    assert tied.mean_rank() == pytest.approx([2.0])
    assert [tied.recall_at(k)[0] for k in (1, 2, 3)] == pytest.approx([1 / 3, 2 / 3, 1.0])
    # one item strictly above, then two correct among four tied: P(first correct <= k)
    scores = np.array([[0.9, 0.4, 0.4, 0.4, 0.4, 0.1]])
    correct = np.array([[False, True, False, True, False, False]])
    both = ranks(scores, correct)
    assert both.before[0] == 1 and both.tied[0] == 4 and both.tied_correct[0] == 2
    assert both.recall_at(1)[0] == 0.0
    assert both.recall_at(2)[0] == pytest.approx(1 / 2)  # the first tied one is correct
    assert both.recall_at(3)[0] == pytest.approx(1 - (2 / 4) * (1 / 3))
    assert both.recall_at(4)[0] == 1.0  # three draws among 2 wrong always hit a correct one
    assert both.mean_rank()[0] == pytest.approx(1 + 5 / 3)
    with pytest.raises(ValueError, match="at least one correct"):
        ranks(np.zeros((1, 2)), np.zeros((1, 2), dtype=bool))


@pytest.mark.parametrize("protocol", ["all", "threshold", "dissimilar", "batches32"])
def test_a_collapsed_model_scores_chance_in_every_protocol(protocol):
    """All embeddings equal: every item ties, so R@K is K / gallery size, both ways."""
    n = 320
    rng = np.random.default_rng(0)
    same = np.tile(rng.standard_normal(16), (n, 1))
    same /= np.linalg.norm(same, axis=1, keepdims=True)
    sentence = np.eye(n)  # mutually dissimilar captions: one correct item per query
    result = evaluate_protocol(protocol, same, same, sentence)
    gallery = {"all": n, "threshold": n, "dissimilar": 100, "batches32": 32}[protocol]
    for direction in ("t2m", "m2t"):
        for k in (1, 2, 3, 5, 10):
            assert result[direction][f"R@{k}"] == pytest.approx(100 * k / gallery, rel=1e-6)
        assert result[direction]["MedR"] == pytest.approx((gallery + 1) / 2)
    assert headline(result) < 100 * 10 / gallery + 1e-6


@pytest.mark.parametrize("protocol", ["all", "dissimilar", "batches32"])
def test_a_random_model_scores_chance_within_tolerance(protocol):
    n, dim = 640, 64
    rng = np.random.default_rng(1)
    text, motion, sentence = (rng.standard_normal((n, dim)) for _ in range(3))
    for matrix in (text, motion, sentence):
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    result = evaluate_protocol(protocol, text, motion, sentence)
    gallery = {"all": n, "dissimilar": 100, "batches32": 32}[protocol]
    for direction in ("t2m", "m2t"):
        chance = 100 * 10 / gallery
        # binomial spread of the R@10 estimate over the queries (batches32: 20 batches)
        queries = {"all": n, "dissimilar": 100, "batches32": 640}[protocol]
        spread = 100 * np.sqrt((chance / 100) * (1 - chance / 100) / queries)
        assert abs(result[direction]["R@10"] - chance) < 4 * spread + 0.5


def test_identical_caption_strings_do_not_count_in_either_direction():
    """Under `all`, a motion whose caption is the same string as the query's is not
    correct: texts 0 and 1 are the same sentence, so in motion→text their embeddings tie
    and a perfect model gets each right half of the time, and text→motion can put only
    one of the two motions first."""
    text = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    motion = np.array([[1.0, 0.0], [0.999, 0.0447], [0.0, 1.0]])
    result = evaluate_protocol("all", text, motion, text)
    assert result["t2m"]["R@1"] == pytest.approx(100 * 2 / 3)
    assert result["m2t"]["R@1"] == pytest.approx(100 * (0.5 + 0.5 + 1) / 3)
    assert result["m2t"]["R@2"] == pytest.approx(100.0)


def test_threshold_protocol_counts_near_identical_captions():
    # texts 0 and 1 are the same sentence; text 0 retrieves motion 1 first
    text = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    motion = np.array([[0.8, 0.6], [1.0, 0.0], [0.0, 1.0]])
    sentence = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    strict = evaluate_protocol("all", text, motion, sentence)
    lenient = evaluate_protocol("threshold", text, motion, sentence)
    assert strict["t2m"]["R@1"] == pytest.approx(200 / 3)
    assert lenient["t2m"]["R@1"] == 100.0


def test_a_query_subset_searches_the_whole_gallery():
    # items 1 and 3 are the queries; all four are candidates
    text = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [0.8, 0.6]])
    motion = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [0.8, 0.6]])
    result = evaluate_query_subset(text, motion, np.array([1, 3]))
    # caption 1 scores motions [0.6, 0.8, 0.96, 0.96]: its motion 1 is third;
    # caption 3 scores [0.8, 0.6, 0.96, 1.0]: its motion 3 is first
    assert result["t2m"]["R@1"] == 50.0 and result["t2m"]["MedR"] == 2.0
    # motion 1 scores captions [0, 0.8, 1, 0.6]: caption 1 is second; motion 3 finds 3 first
    assert result["m2t"]["R@1"] == 50.0 and result["m2t"]["R@2"] == 100.0
    with pytest.raises(ValueError, match="empty"):
        evaluate_query_subset(text, motion, np.array([], dtype=int))


def test_dissimilar_selection_spreads_out():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((10, 16))
    sentence = np.repeat(base, 30, axis=0) + 0.01 * rng.standard_normal((300, 16))
    sentence /= np.linalg.norm(sentence, axis=1, keepdims=True)
    chosen = select_dissimilar(sentence, size=10)
    assert len(set(chosen // 30)) == 10  # one from each group of near-duplicates
    assert np.array_equal(chosen, select_dissimilar(sentence, size=10))


def test_batches32_averages_over_shuffled_batches():
    n = 70  # two full batches; the remaining 6 are dropped
    text = np.eye(n)
    motion = np.eye(n)
    result = evaluate_protocol("batches32", text, motion, np.eye(n))
    assert result["t2m"]["R@1"] == 100.0
    with pytest.raises(ValueError, match="at least 32"):
        evaluate_protocol("batches32", np.eye(10), np.eye(10), np.eye(10))


def evaluate_json(cache: Path, *args: str) -> dict:
    """`python -m engine evaluate ... --json` in a fresh process, its report parsed."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "MOTION_RETRIEVAL_CACHE": str(cache)}
    done = subprocess.run(
        [sys.executable, "-m", "engine", "evaluate", *args, "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_evaluate_command_json_and_labelled_queries(tiny_dataset, tiny_checkpoint, tmp_path):
    queries = tmp_path / "queries.tsv"
    queries.write_text(
        "# labels<TAB>text\n"
        "serve_left\tsomeone left-handed does a tennis serve\n"
        "serve_backwards\ta tennis serve shown backwards in time\n"
    )
    result = evaluate_json(
        tmp_path,
        "--checkpoint",
        str(tiny_checkpoint),
        "--data",
        str(tiny_dataset),
        "--split",
        "test",
        "--protocol",
        "all",
        "--protocol",
        "threshold",
        "--queries",
        str(queries),
    )
    for direction in ("t2m", "m2t"):
        assert set(result[direction]) == {"R@1", "R@2", "R@3", "R@5", "R@10", "MedR"}
    assert result["t2m"] == result["protocols"]["all"]["t2m"]
    assert result["protocols"]["threshold"]["t2m"]["R@1"] >= result["t2m"]["R@1"]
    labelled = result["label_queries"]
    assert labelled["all"]["queries"] == 2 and 0 <= labelled["all"]["hit@10"] <= 100


def test_identical_motions_score_chance_through_the_evaluate_command(tmp_path):
    """32 byte-identical motions with 32 different captions: no model can tell them
    apart, so text→motion R@1 must be near chance (1/32), never the 100 that ties counted
    in the query's favour gave."""
    from engine.data.corpus import generate_action
    from engine.motion.features import joints_to_features

    root = tmp_path / "Identical"
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    features = joints_to_features(generate_action("wave", seed=0).joints)
    verbs = ["walks", "runs", "jumps", "waves", "kicks", "bows", "sits", "claps"]
    places = ["forward", "in a circle", "slowly", "twice"]
    ids = []
    for i, (verb, place) in enumerate((v, p) for v in verbs for p in places):
        motion_id = f"{i:06d}"
        np.save(root / "new_joint_vecs" / f"{motion_id}.npy", features)
        (root / "texts" / f"{motion_id}.txt").write_text(f"a person {verb} {place}#x#0.0#0.0\n")
        ids.append(motion_id)
    (root / "test.txt").write_text("\n".join(ids) + "\n")
    (root / "some.txt").write_text("\n".join(ids[:8]) + "\n")
    result = evaluate_json(
        tmp_path,
        *("--data", str(root), "--split", "test", "--protocol", "all"),
        *("--protocol", "dissimilar", "--protocol", "batches32", "--query-subset", "some"),
    )
    for protocol in ("all", "dissimilar", "batches32"):
        for direction in ("t2m", "m2t"):
            assert result["protocols"][protocol][direction]["R@1"] <= 15, (protocol, direction)
    assert result["t2m"]["R@1"] == pytest.approx(100 / 32, abs=0.5)
    # 8 of them as queries in the gallery of all 32: still chance for a 32-item gallery
    assert result["protocols"]["some"]["t2m"]["R@1"] == pytest.approx(100 / 32, abs=0.5)
