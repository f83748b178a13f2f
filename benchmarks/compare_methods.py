"""The comparison table: every loss and both motion encoders, same data, same budget,
same seeds, measured in one run.

    python -m benchmarks.compare_methods [--out runs/compare] [--seeds 0,1,2] [--epochs N]
    python -m benchmarks.compare_methods --out runs/compare --remeasure

Each method trains from `configs/compare.yaml` with one change, once per seed; the
checkpoint kept is the best on the validation split. It is then measured on the test
split under TMR's four protocols, with the held-out-phrasing and held-out-combination
items as queries against the whole test gallery (protocol "all"), and with the
human-written labelled queries of assets/eval/human_queries.tsv over the same gallery.
Results go to <out>/results.json (runs already there are not repeated, so an
interrupted comparison resumes) and a markdown table to stdout (docs/comparison.md holds it).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from engine.config import apply_overrides, load_config
from engine.paths import REPO_ROOT

METHODS = {
    "InfoNCE": ["loss.kind=infonce"],
    "InfoNCE + filtering": ["loss.kind=infonce_filtered"],
    "SH": ["loss.kind=sh"],
    "MH": ["loss.kind=mh"],
    "DropTriple": ["loss.kind=droptriple"],
    "MildTriple": ["loss.kind=mildtriple"],
    "CCCL": ["loss.kind=cccl"],
    "pooled text head (InfoNCE + filtering)": [
        "loss.kind=infonce_filtered",
        "model.text_head=pooled",
    ],
    # The body-part spatio-temporal encoder is ~9x slower per sample on a 2-core CPU
    # (docs/benchmarks.md): it gets 3 of the 10 epochs, and its name says so; the
    # temporal encoder on the same 3 epochs is the equal-budget row next to it.
    "MoT++ encoder (InfoNCE + filtering, 3 epochs)": [
        "loss.kind=infonce_filtered",
        "model.motion_encoder=spatiotemporal",
        "train.epochs=3",
    ],
    "temporal encoder (InfoNCE + filtering, 3 epochs)": [
        "loss.kind=infonce_filtered",
        "train.epochs=3",
    ],
}
HUMAN_QUERIES = REPO_ROOT / "assets" / "eval" / "human_queries.tsv"
CONFIG = REPO_ROOT / "configs" / "compare.yaml"


def run_one(name: str, seed: int, out: Path, epochs: int | None) -> dict:
    from engine.training.run import train

    # --epochs first, so that a method's own setting (the 3-epoch rows) wins over it
    overrides = [f"train.epochs={epochs}"] if epochs else []
    overrides += [*METHODS[name], f"train.seed={seed}", f"train.out_dir={out}"]
    config = apply_overrides(load_config(CONFIG), overrides)
    result = train(config, show_progress=False)
    record = {
        "method": name,
        "seed": seed,
        "checkpoint": str(result.best_path),
        "train_seconds": result.seconds,
        "samples_per_second": result.samples_per_second,
        "validation_score": result.best_metrics["score"],
    }
    return {**record, **measure(result.best_path)}


def measure(checkpoint: Path) -> dict:
    """Test-split protocols, held-out subsets as queries in the test gallery, labelled
    human-written queries: everything on the same test gallery."""
    from engine.data.corpus import HELDOUT_COMBO_SPLIT, HELDOUT_PHRASING_SPLIT
    from engine.data.embedded import embedded_corpus
    from engine.data.humanml3d import load_humanml3d
    from engine.encoder import MotionTextEncoder
    from engine.evaluation.label_queries import evaluate_label_queries, load_label_queries
    from engine.evaluation.runner import evaluate_items
    from engine.gallery import build_gallery
    from engine.models.checkpoint import load_checkpoint
    from engine.search import SearchEngine

    encoder = MotionTextEncoder.load(checkpoint, "cpu")
    data = encoder.checkpoint.config.data
    folder = embedded_corpus(data.corpus_size, data.corpus_seed)
    splits = ("test", HELDOUT_PHRASING_SPLIT, HELDOUT_COMBO_SPLIT)
    dataset = load_humanml3d(folder, splits)
    test = dataset.split("test")
    subsets = {
        "heldout_phrasing": [item.id for item in dataset.split(HELDOUT_PHRASING_SPLIT)],
        "heldout_combo": [item.id for item in dataset.split(HELDOUT_COMBO_SPLIT)],
    }
    measured = evaluate_items(encoder, test, query_subsets=subsets)
    gallery = build_gallery("compare-test", f"{folder}#test", test, encoder, persist=False)
    return {
        "temperatures": load_checkpoint(checkpoint).info.get("temperatures"),
        "test_items": len(test),
        "test": {k: v for k, v in measured.items() if k not in subsets},
        **{name: measured[name] for name in subsets},
        "human_queries": evaluate_label_queries(
            SearchEngine(encoder, gallery), load_label_queries(HUMAN_QUERIES)
        ),
    }


def _lookup(record: dict, path: str):
    for key in path.split("/"):
        record = record[key]
    return record


def mean_std(values: list[float]) -> str:
    return (
        f"{np.mean(values):.1f} ± {np.std(values):.1f}" if len(values) > 1 else f"{values[0]:.1f}"
    )


def table(records: list[dict]) -> str:
    lines = [
        "| method | seeds | val score | all: t2m R@1 | R@5 | R@10 | m2t R@1 | R@10 "
        "| batches32 t2m R@1 | held-out phrasing t2m R@1 | R@10 | held-out combos t2m R@1 "
        "| R@10 | human queries hit@1 | hit@5 | multi-action hit@5 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in METHODS:
        rs = [r for r in records if r["method"] == name]
        if not rs:
            continue

        def col(path: str, rs: list[dict] = rs) -> str:
            return mean_std([_lookup(r, path) for r in rs])

        lines.append(
            f"| {name} | {len(rs)} | {col('validation_score')} | {col('test/all/t2m/R@1')} | "
            f"{col('test/all/t2m/R@5')} | {col('test/all/t2m/R@10')} | {col('test/all/m2t/R@1')} | "
            f"{col('test/all/m2t/R@10')} | {col('test/batches32/t2m/R@1')} | "
            f"{col('heldout_phrasing/t2m/R@1')} | {col('heldout_phrasing/t2m/R@10')} | "
            f"{col('heldout_combo/t2m/R@1')} | {col('heldout_combo/t2m/R@10')} | "
            f"{col('human_queries/all/hit@1')} | {col('human_queries/all/hit@5')} | "
            f"{col('human_queries/multi_action/hit@5')} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/compare")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument(
        "--epochs", type=int, help="override the configured epochs (not of the 3-epoch rows)"
    )
    parser.add_argument("--methods", help="';'-separated subset of the method names")
    parser.add_argument(
        "--remeasure",
        action="store_true",
        help="train nothing: measure the kept checkpoints of <out>/results.json again "
        "(after a change to the evaluation or the query files)",
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    records = json.loads(results_path.read_text()) if results_path.is_file() else []
    if args.remeasure:
        for record in records:
            record.update(measure(Path(record["checkpoint"])))
            print(f"{record['method']} seed {record['seed']}: measured again", flush=True)
        results_path.write_text(json.dumps(records, indent=1))
        print(table(records))
        return
    done = {(r["method"], r["seed"]) for r in records}
    methods = args.methods.split(";") if args.methods else list(METHODS)
    unknown = set(methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}; known: {'; '.join(METHODS)}")
    for seed in (int(s) for s in args.seeds.split(",")):
        for name in methods:
            if (name, seed) in done:
                continue
            started = time.perf_counter()
            slug = "".join(c if c.isalnum() else "-" for c in name.lower().replace("+", "plus"))
            record = run_one(name, seed, out / f"{slug}-s{seed}", args.epochs)
            record["wall_seconds"] = time.perf_counter() - started
            records.append(record)
            results_path.write_text(json.dumps(records, indent=1))
            print(f"{name} seed {seed}: {record['wall_seconds']:.0f} s", flush=True)
    print(table(records))


if __name__ == "__main__":
    main()
