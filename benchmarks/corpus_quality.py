"""Quality of the procedural corpus, next to real motion capture with the same measures.

    python -m benchmarks.corpus_quality [--motions 300] [--seed 0] [--json]

Generates the first --motions motions of the corpus drawn with --seed (as `python -m
engine corpus` would, single process), passes each through HumanML3D's processing (what
new_joints/ stores), and reports every measure of `engine.data.corpus.quality` as mean /
median / 95th percentile / max, next to the real HumanML3D clip 012314 (a tennis serve)
read from ../shared/data (set MOTION_SHARED_DIR to elsewhere; the column is left out if
it is missing). Floor penetration is measured on the generator's raw output, where the
floor is y = 0 by construction (HumanML3D's processing puts the lowest joint of every
clip on the floor, so after it penetration reads 0 by definition; ground clearance shows
a clip that floats instead). Also caption statistics and the generation time per motion.
Prints a markdown table (and JSON with --json); docs/corpus.md holds the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from pathlib import Path

import numpy as np

from engine.data.corpus import ACTIONS, generate_motion, quality_report
from engine.motion.features import features_to_joints, joints_to_features

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MOTION_SHARED_DIR", REPO.parent / "shared"))
REAL_CLIP = SHARED / "data" / "humanml3d_sample" / "new_joints" / "012314.npy"

ROWS = (  # (report key, label, unit, limit the tests hold every clip to)
    ("bone_drift_m", "bone-length drift", "mm", "< 1"),
    ("floor_penetration_m", "floor penetration (raw output)", "mm", "< 20"),
    ("ground_clearance_m", "ground clearance (median lowest joint)", "mm", "< 30"),
    (
        "foot_skating_m_s",
        "foot skating (foot speed in contact)",
        "m/s",
        "mean ≤ real, each ≤ 1.5× real",
    ),
    ("contact_fraction", "foot-joint contact fraction", "", ""),
    ("max_wrist_speed_m_s", "peak wrist speed", "m/s", "< 10"),
    ("max_root_speed_m_s", "peak root speed", "m/s", "< 5"),
    ("mean_jerk_m_s3", "mean jerk", "m/s³", "median ≤ real, each ≤ 4× real"),
)
SCALE = {"mm": 1000.0}


def measure(motions: int, seed: int) -> dict:
    reports, seconds, durations, captions, actions = [], [], [], [], Counter()
    for index in range(motions):
        started = time.perf_counter()
        motion = generate_motion(seed, index)
        seconds.append(time.perf_counter() - started)
        stored = features_to_joints(joints_to_features(motion.joints))
        report = quality_report(stored)
        report["floor_penetration_m"] = quality_report(motion.joints)["floor_penetration_m"]
        reports.append(report)
        durations.append(len(stored) / motion.fps)
        captions += motion.captions
        actions.update(s["action"] for s in motion.segments)
    words = [c.lower().strip(".").split() for c in captions]
    result = {
        "motions": motions,
        "seed": seed,
        "seconds_per_motion": float(np.mean(seconds)),
        "seconds_mean": float(np.mean(durations)),
        "measures": {k: [r[k] for r in reports] for k in reports[0]},
        "captions": {
            "count": len(captions),
            "per_motion": len(captions) / motions,
            "words_mean": float(np.mean([len(w) for w in words])),
            "distinct_share": len(set(captions)) / len(captions),
            "vocabulary": len({w for ws in words for w in ws}),
            "naming_a_side": float(np.mean([("left" in w) or ("right" in w) for w in words])),
        },
        "actions_seen": len(actions),
        "actions_total": len(ACTIONS),
    }
    if REAL_CLIP.is_file():
        result["real"] = quality_report(np.load(REAL_CLIP).astype(np.float64))
    return result


def _number(value: float) -> str:
    return f"{value:.3g}" if abs(value) > 1e-6 else "0"


def markdown(result: dict) -> str:
    real = result.get("real")
    head = "| measure | unit | generated: mean | median | p95 | max |"
    head += " real 012314 |" if real else ""
    head += " test limit |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for key, label, unit, limit in ROWS:
        values = np.array(result["measures"][key]) * SCALE.get(unit, 1.0)
        cells = [values.mean(), np.median(values), np.percentile(values, 95), values.max()]
        row = f"| {label} | {unit} | " + " | ".join(_number(v) for v in cells) + " |"
        if real:
            row += f" {_number(real[key] * SCALE.get(unit, 1.0))} |"
        lines.append(row + f" {limit} |")
    c = result["captions"]
    lines += [
        "",
        f"{result['motions']} motions (seed {result['seed']}), "
        f"{result['actions_seen']}/{result['actions_total']} actions present, "
        f"{result['seconds_mean']:.1f} s long on average; "
        f"generation {1000 * result['seconds_per_motion']:.0f} ms per motion (one process, "
        "without the mirror and the feature processing).",
        f"Captions: {c['per_motion']:.2f} per motion, {c['words_mean']:.1f} words on average, "
        f"{100 * c['distinct_share']:.1f} % distinct, vocabulary {c['vocabulary']} words, "
        f"{100 * c['naming_a_side']:.0f} % name a side.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--motions", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON as well")
    args = parser.parse_args()
    result = measure(args.motions, args.seed)
    print(markdown(result))
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
