"""Metrics and protocols on hand-made similarity matrices, and the evaluate command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from engine.evaluation.metrics import headline, ranks, retrieval_metrics, summarize
from engine.evaluation.protocols import evaluate_protocol, select_dissimilar
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
    assert list(ranks(scores, np.eye(4, dtype=bool))) == [1, 3, 1, 4]
    metrics = summarize(np.array([1, 3, 1, 4]))
    assert metrics["R@1"] == 50.0 and metrics["R@2"] == 50.0 and metrics["R@3"] == 75.0
    assert metrics["R@5"] == 100.0 and metrics["MedR"] == 2.0
    both = retrieval_metrics(scores, np.eye(4, dtype=bool))
    # motion→text reads the columns: item 0's column [0.9, 0.8, 0.1, 0.5] ranks text 0 first
    assert both["m2t"]["R@1"] == pytest.approx(100 * 2 / 4)
    assert headline(both) == pytest.approx(np.mean([50, 100, 100, 50, 100, 100]))


def test_ties_favour_the_query_and_missing_positives_fail():
    assert list(ranks(np.array([[0.5, 0.5, 0.5]]), np.array([[False, True, False]]))) == [1]
    with pytest.raises(ValueError, match="at least one correct"):
        ranks(np.zeros((1, 2)), np.zeros((1, 2), dtype=bool))


def test_threshold_protocol_counts_near_identical_captions():
    # texts 0 and 1 are the same sentence; text 0 retrieves motion 1 first
    text = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    motion = np.array([[0.8, 0.6], [1.0, 0.0], [0.0, 1.0]])
    sentence = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    strict = evaluate_protocol("all", text, motion, sentence)
    lenient = evaluate_protocol("threshold", text, motion, sentence)
    assert strict["t2m"]["R@1"] == pytest.approx(200 / 3)
    assert lenient["t2m"]["R@1"] == 100.0


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


def test_evaluate_command_json_and_labelled_queries(tiny_dataset, tiny_checkpoint, tmp_path):
    queries = tmp_path / "queries.tsv"
    queries.write_text(
        "# labels<TAB>text\n"
        "serve_left\tsomeone left-handed does a tennis serve\n"
        "serve_backwards\ta tennis serve shown backwards in time\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "MOTION_RETRIEVAL_CACHE": str(tmp_path)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "evaluate",
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
            "--json",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    for direction in ("t2m", "m2t"):
        assert set(result[direction]) == {"R@1", "R@2", "R@3", "R@5", "R@10", "MedR"}
    assert result["t2m"] == result["protocols"]["all"]["t2m"]
    assert result["protocols"]["threshold"]["t2m"]["R@1"] >= result["t2m"]["R@1"]
    labelled = result["label_queries"]
    assert labelled["all"]["queries"] == 2 and 0 <= labelled["all"]["hit@10"] <= 100
