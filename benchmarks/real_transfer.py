"""How well a model transfers to real motion capture: the real-transfer issue's figures.

    python -m benchmarks.real_transfer [--checkpoint assets/model] [--profile] [--json]

On the real development clips (../shared/data/real_dev; MOTION_SHARED_DIR elsewhere) and
the embedded gallery of the checkpoint's corpus (its test split), prints:
- real clips as motion queries: label hit@1 / hit@5 (targets ≥ 0.50 / ≥ 0.80), with the
  chance of each under a random ranking;
- text → real-clip gallery: each clip's description finds its clip first (target ≥ 0.70);
- mean pairwise cosine of the real clips (the labelled ones plus the HumanML3D and AIST++
  captures) next to the corpus's (target: within 0.1), and the median best gallery cosine
  of each;
- the corpus test split's batches-of-32 text→motion R@1 (the guard: at most 2 points lost);
- with --profile, the mean |z| of every feature group under the model's normaliser for the
  corpus (median over gallery clips) and for each real clip, plus joint speed and jerk.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from engine.catalog import open_search_engine
from engine.data.motion_import import load_motion_file
from engine.evaluation.real_transfer import (
    embedding_spread,
    familiarity_of,
    label_matched_spread,
    load_real_dev,
    motion_query_hits,
    text_to_real_hits,
)
from engine.evaluation.realism import dynamics, feature_profile
from engine.evaluation.runner import evaluate_items
from engine.motion.features import features_to_joints
from engine.search import SearchEngine

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MOTION_SHARED_DIR", REPO.parent / "shared")) / "data"
REAL_DEV = SHARED / "real_dev"
OTHER_REAL = {
    "hml3d_012314": SHARED / "humanml3d_sample" / "new_joint_vecs" / "012314.npy",
    "aist_dance": SHARED / "bvh" / "aist_dance_mixamo_names.bvh",
}
CORPUS_PROFILE_CLIPS = 300


def real_motions(clips) -> dict:
    """Every real clip's Motion by name: the labelled ones and the two other captures."""
    motions = {clip.name: clip.motion for clip in clips}
    for name, path in OTHER_REAL.items():
        if path.is_file():
            motions[name] = load_motion_file(path)
    return motions


def profiles(engine: SearchEngine, motions: dict) -> dict:
    """{column: {group: mean |z|}} for the corpus (median over clips) and each real clip."""
    normalizer = engine.encoder.normalizer
    rng = np.random.default_rng(0)
    items = engine.gallery.items
    chosen = rng.choice(len(items), min(CORPUS_PROFILE_CLIPS, len(items)), replace=False)
    corpus = [_clip_profile(items[i].features, normalizer) for i in chosen]
    table = {"corpus": {key: float(np.median([p[key] for p in corpus])) for key in corpus[0]}}
    for name, motion in motions.items():
        table[name] = _clip_profile(motion.features, normalizer)
    return table


def _clip_profile(features: np.ndarray, normalizer) -> dict:
    return {**feature_profile(features, normalizer), **dynamics(features_to_joints(features))}


def corpus_guard(engine: SearchEngine) -> float:
    """batches32 text→motion R@1 on the gallery's items (the corpus test split)."""
    measured = evaluate_items(engine.encoder, engine.gallery.items, ("batches32",))
    return measured["batches32"]["t2m"]["R@1"]


def transfer_figures(engine: SearchEngine, folder: Path = REAL_DEV, corpus: bool = True) -> dict:
    """Every figure of the real-transfer issue for an engine over the embedded gallery."""
    clips = load_real_dev(folder)
    motions = real_motions(clips)
    result = {
        "gallery_items": len(engine.gallery.items),
        "motion_queries": motion_query_hits(engine, clips),
        "text_to_real": text_to_real_hits(engine.encoder, clips),
        "spread": embedding_spread(engine, list(motions.values())),
        "same_labels_spread": label_matched_spread(engine, clips),
        "familiar": familiarity_of(engine, clips),
    }
    if corpus:
        result["corpus_batches32_t2m_R@1"] = corpus_guard(engine)
    return result


def measure(
    checkpoint: str | None, corpus: bool = True, profile: bool = False, device: str = "auto"
) -> dict:
    engine = open_search_engine(checkpoint, device=device)
    result = {
        "checkpoint": str(checkpoint or "assets/model"),
        **transfer_figures(engine, corpus=corpus),
    }
    if profile:
        result["profile"] = profiles(engine, real_motions(load_real_dev(REAL_DEV)))
    return result


def summary_table(result: dict) -> str:
    queries, text, spread = result["motion_queries"], result["text_to_real"], result["spread"]
    rows = [
        ("real clip → gallery label hit@1", queries["hit@1"], queries["chance@1"], "≥ 0.50"),
        ("real clip → gallery label hit@5", queries["hit@5"], queries["chance@5"], "≥ 0.80"),
        ("text → real-clip gallery hit@1", text["hit@1"], text["chance@1"], "≥ 0.70"),
    ]
    lines = ["| measure | value | chance | target |", "|---|---|---|---|"]
    lines += [
        f"| {name} | {value:.2f} | {chance:.2f} | {target} |"
        for name, value, chance, target in rows
    ]
    gap = spread["real_mean_pairwise_cosine"] - spread["corpus_mean_pairwise_cosine"]
    lines.append(
        f"| mean pairwise cosine, real / corpus | {spread['real_mean_pairwise_cosine']:.2f} / "
        f"{spread['corpus_mean_pairwise_cosine']:.2f} (gap {gap:+.2f}) | | gap ≤ 0.10 |"
    )
    matched = result["same_labels_spread"]
    lines.append(
        f"| the same, labelled real clips / gallery clips of their labels | "
        f"{matched['real_labelled_mean_pairwise_cosine']:.2f} / "
        f"{matched['corpus_same_labels_mean_pairwise_cosine']:.2f} | | |"
    )
    lines.append(
        f"| median best gallery cosine, real / corpus | "
        f"{spread['real_nearest_gallery_cosine']:.2f} / "
        f"{spread['corpus_nearest_gallery_cosine']:.2f} | | |"
    )
    if "corpus_batches32_t2m_R@1" in result:
        lines.append(
            f"| corpus test, batches of 32, t2m R@1 | {result['corpus_batches32_t2m_R@1']:.1f} "
            "| 3.1 | ≤ 2 below the shipped model's |"
        )
    return "\n".join(lines)


def per_clip_table(result: dict) -> str:
    """Each labelled clip's top results, and whether the familiarity check accepted every
    clip (the two without a corpus action should be flagged)."""
    lines = ["| clip | labels | top-5 results' first labels | best cosine | familiar |"]
    lines.append("|---|---|---|---|---|")
    rows = result["motion_queries"]["clips"]
    for name, familiar in result["familiar"].items():
        row = rows.get(name)
        if row is None:
            lines.append(f"| {name} | (no corpus action) | | | {'yes' if familiar else 'no'} |")
            continue
        lines.append(
            f"| {name} | {', '.join(row['labels'])} | {', '.join(row['top'])} | "
            f"{row['best_score']:.2f} | {'yes' if familiar else 'no'} |"
        )
    return "\n".join(lines)


def profile_table(profile: dict, top: int = 14) -> str:
    """The feature groups where the real clips are furthest from the corpus, plus dynamics."""
    corpus = profile["corpus"]
    real = [name for name in profile if name != "corpus"]
    dynamic = ("mean_joint_speed_m_s", "median_jerk_m_s3")
    groups = [g for g in corpus if g not in dynamic]
    worst = sorted(groups, key=lambda g: -np.median([profile[n][g] for n in real]))[:top]
    header = "| group | corpus | " + " | ".join(real) + " |"
    lines = [header, "|" + "---|" * (len(real) + 2)]
    for group in [*worst, *dynamic]:
        cells = " | ".join(f"{profile[n][group]:.2f}" for n in real)
        lines.append(f"| {group} | {corpus[group]:.2f} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="checkpoint folder (default: shipped)")
    parser.add_argument("--no-corpus", action="store_true", help="skip the corpus test guard")
    parser.add_argument("--profile", action="store_true", help="feature-group z table")
    parser.add_argument("--device", default="auto", help="cpu, cuda, auto (default)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (REAL_DEV / "labels.json").is_file():
        raise SystemExit(f"the real development clips are missing: {REAL_DEV}")
    result = measure(args.checkpoint, not args.no_corpus, args.profile, args.device)
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(summary_table(result))
    print()
    print(per_clip_table(result))
    if args.profile:
        print()
        print(profile_table(result["profile"]))


if __name__ == "__main__":
    main()
