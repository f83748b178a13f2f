"""Which domain-randomisation levers move the real-transfer figures: one small training
run per lever set (configs/compare.yaml's budget, CCCL as shipped), each measured by
`benchmarks/real_transfer.py` on the same real clips and its corpus's test gallery.

    python -m benchmarks.augment_levers [--seeds 0 1] [--only base,all] [--json]

Prints a markdown table (docs/real_transfer.md holds the numbers); runs go to
runs/levers/<name>-s<seed>/.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchmarks.real_transfer import SHARED, measure
from engine.config import apply_overrides, load_config
from engine.training.run import train

BASE = ["loss.kind=cccl"]
HUMANML3D_STATISTICS = SHARED / "humanml3d_sample"
NO_REALISM = [
    "augment.spine_degrees=0",
    "augment.arm_degrees=0",
    "augment.sway_metres=0",
    "augment.noise_metres=0",
    "augment.speed_min=1",
    "augment.speed_max=1",
]
NO_RIG = ["augment.sparse_probability=0", "augment.level_hips_probability=0"]
LEVERS = {  # key: (what, overrides on top of BASE)
    "base": ("no augmentation", []),
    "all": ("every lever, 2 variants per motion", ["augment.copies=2"]),
    "realism": ("living spine, arms, sway, speed, noise", ["augment.copies=2", *NO_RIG]),
    "rig": ("sparse-rig spine and level hips only", ["augment.copies=2", *NO_REALISM]),
    "stats": (
        "every lever, corpus statistics",
        ["augment.copies=2", "augment.refit_normalizer=false"],
    ),
    "copies4": ("every lever, 4 variants per motion", ["augment.copies=4"]),
    "groupdrop": (
        "every lever, feature groups dropped (p 0.1)",
        ["augment.copies=2", "augment.group_dropout=0.1"],
    ),
    "hml3dstats": (
        "every lever, HumanML3D's own statistics (../shared; measured, never shipped)",
        [
            "augment.copies=2",
            "augment.refit_normalizer=false",
            f"data.statistics={HUMANML3D_STATISTICS}",
        ],
    ),
    "blockstd": (
        "every lever, one std per feature block (HumanML3D's recipe, on the corpus)",
        ["augment.copies=2", "data.block_std=true"],
    ),
    "timing": (
        "every lever, uneven timing (rate 1 ± 0.3) and lost frames (up to 5 %)",
        ["augment.copies=2", "augment.time_warp=0.3", "augment.drop_frames=0.05"],
    ),
    "timing+blockstd": (
        "every lever, uneven timing and lost frames, one std per feature block",
        [
            "augment.copies=2",
            "augment.time_warp=0.3",
            "augment.drop_frames=0.05",
            "data.block_std=true",
        ],
    ),
    "norot": (
        "every lever, joints' rotations not read",
        ["augment.copies=2", "model.ignored_features=rotations"],
    ),
}
COLUMNS = (
    ("hit@1", lambda r: r["motion_queries"]["hit@1"]),
    ("hit@5", lambda r: r["motion_queries"]["hit@5"]),
    ("text→real hit@1", lambda r: r["text_to_real"]["hit@1"]),
    ("real cos", lambda r: r["spread"]["real_mean_pairwise_cosine"]),
    ("corpus cos", lambda r: r["spread"]["corpus_mean_pairwise_cosine"]),
    ("corpus b32 t2m R@1", lambda r: r["corpus_batches32_t2m_R@1"]),
)


def run_lever(key: str, seed: int, reuse: bool = False) -> dict:
    """Train (or with `reuse`, take the finished run already in its folder) and measure."""
    out = Path("runs/levers") / f"{key}-s{seed}"
    best = out / "best"
    if not (reuse and (out / "last" / "model.safetensors").is_file()):
        config = apply_overrides(
            load_config("configs/compare.yaml"),
            [*BASE, *LEVERS[key][1], f"train.seed={seed}", f"train.out_dir={out}"],
        )
        best = train(config, show_progress=False).best_path
    return measure(str(best))


def table(results: dict[str, list[dict]]) -> str:
    lines = ["| levers | " + " | ".join(c for c, _ in COLUMNS) + " |"]
    lines.append("|---|" + "---|" * len(COLUMNS))
    for key, runs in results.items():
        cells = []
        for _, read in COLUMNS:
            values = [read(r) for r in runs]
            spread = f" ± {np.std(values):.2f}" if len(values) > 1 else ""
            cells.append(f"{np.mean(values):.2f}{spread}")
        lines.append(f"| {key}: {LEVERS[key][0]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--only", default="", help=f"comma-separated keys of {', '.join(LEVERS)}")
    parser.add_argument("--reuse", action="store_true", help="measure finished runs again")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    keys = [k.strip() for k in args.only.split(",") if k.strip()] or list(LEVERS)
    unknown = set(keys) - set(LEVERS)
    if unknown:
        parser.error(f"unknown lever(s) {', '.join(sorted(unknown))}; known: {', '.join(LEVERS)}")
    results = {key: [run_lever(key, s, args.reuse) for s in args.seeds] for key in keys}
    print(json.dumps(results, indent=1) if args.json else table(results))


if __name__ == "__main__":
    main()
