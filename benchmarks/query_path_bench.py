"""What each way of encoding a text query buys (time) and costs (retrieval quality).

    python -m benchmarks.query_path_bench [--threads 2] [--repeats 150]
        [--queries assets/eval/human_queries.tsv] [--json] [--out FILE]

The shipped model (assets/model) on its embedded test gallery (the corpus's test split,
motion embeddings from the shipped seed, i.e. float32). For each variant of the query
path (`engine.encoder.QueryPath`, plus a few that are measured here only):

- time: one query (batch 1), median ms over the labelled queries, all variants measured
  interleaved (A B C ..., then ... C B A) in one process with torch and BLAS pinned to
  `--threads`; also the median CPU time (process_time), which a busy machine disturbs
  less than the wall clock; ratios are paired (median of per-repetition ratios);
- quality against the float32 reference path (`encode_texts`): the cosine between the
  variant's and the reference's query embedding; the top-10 agreement (share of the
  reference's top-10 motions the variant also returns, the share of queries with the
  same top-10 set and with the same top-1) for the gallery's captions as queries and
  for the labelled human-written queries; t2m R@1 / R@10 under protocol "all"
  (`engine.evaluation.runner.evaluate_items`: each motion's first caption queries the
  whole gallery); hit@1 / hit@10 of the labelled queries
  (`engine.evaluation.label_queries`).

Variants: reference (transformers' MiniLM + head, eager); plain eager float32
(`QueryPath(traced=False, language="float32")`); traced float32; traced bfloat16 (what
`language="auto"` picks on a CPU with native bfloat16); traced int8 (per-channel, the
option); and, measured here only: int8 with per-tensor weights (quantize_dynamic's
default), int8 also in the text head (torch's fused Transformer layer off), a one-layer
text head (timing only: its quality would need a retrained head) and a torch.export
graph module instead of the TorchScript trace (timing only; float32, same maths).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.paths import REPO_ROOT

K = 10
HUMAN_QUERIES = REPO_ROOT / "assets" / "eval" / "human_queries.tsv"


class VariantEncoder:
    """The encoder with `encode_texts` (what the evaluation calls) replaced by a variant;
    motion and MiniLM sentence embeddings come from caches shared by all variants."""

    def __init__(self, encoder, encode: Callable[[Sequence[str]], np.ndarray], shared: dict):
        self._encoder = encoder
        self._encode = encode
        self._shared = shared

    def __getattr__(self, name):
        return getattr(self._encoder, name)

    def encode_texts(self, captions, store=None, batch_size: int = 256) -> np.ndarray:
        return self._encode(list(captions))

    def encode_motions(self, sequences, **kwargs) -> np.ndarray:
        gallery = self._shared["gallery"]
        if len(sequences) == len(gallery) and all(
            s is item.features for s, item in zip(sequences, gallery.items, strict=True)
        ):
            return gallery.embeddings  # the shipped seed's float32 motion embeddings
        return self._encoder.encode_motions(sequences, **kwargs)

    def sentence_embeddings(self, captions, batch_size: int = 256) -> np.ndarray:
        key = tuple(captions)
        if key not in self._shared["sentences"]:
            self._shared["sentences"][key] = self._encoder.sentence_embeddings(captions)
        return self._shared["sentences"][key]


def module_encoder(encoder, module: nn.Module, one_at_a_time: bool):
    """encode(texts) through a (token ids, mask) → embedding module."""

    @torch.inference_mode()
    def encode(texts: Sequence[str]) -> np.ndarray:
        size = 1 if one_at_a_time else 64
        out = [
            module(*encoder.tokenize(texts[s : s + size])).float().numpy()
            for s in range(0, len(texts), size)
        ]
        return np.concatenate(out)

    return encode


def extra_variants(encoder) -> dict[str, tuple[Callable, bool]]:
    """Variants measured here only: {name: (encode, measure quality)}."""
    from torch.ao.quantization import default_dynamic_qconfig, quantize_dynamic
    from torch.export import Dim, export

    from engine.encoder import quantize_int8, trace_query_module
    from engine.models.language import PlainMiniLM
    from engine.models.text_encoder import TextQueryModule

    def fresh() -> TextQueryModule:
        return TextQueryModule(
            PlainMiniLM(encoder.language_model.model),
            encoder.model.text_encoder,
            encoder.model.text_head.mu,
        ).eval()

    example = encoder.tokenize(["a person walks forward"])
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per_tensor = fresh()
        per_tensor.language = quantize_dynamic(
            copy.deepcopy(per_tensor.language), {nn.Linear: default_dynamic_qconfig}
        )
        out["traced int8, per-tensor weights"] = (trace_query_module(per_tensor, example), True, 1)

        int8_head = fresh()
        int8_head.language = quantize_int8(int8_head.language)
        int8_head.head = quantize_int8(int8_head.head)
        int8_head.projection = quantize_int8(int8_head.projection)
        torch.backends.mha.set_fastpath_enabled(False)  # the fused layer takes no int8
        try:
            out["traced int8, MiniLM + head"] = (trace_query_module(int8_head, example), True, 1)
        finally:
            torch.backends.mha.set_fastpath_enabled(True)

        one_layer = fresh()
        one_layer.head = copy.deepcopy(one_layer.head)
        one_layer.head.encoder.layers = one_layer.head.encoder.layers[:1]
        out["traced float32, 1-layer head (timing only)"] = (
            trace_query_module(one_layer, example),
            False,
            64,
        )

        length = Dim("length", min=2, max=encoder.checkpoint.config.model.max_tokens)
        with torch.no_grad():
            exported = export(
                fresh(), example, dynamic_shapes=({1: length}, {1: length}), strict=False
            ).module()
        out["torch.export graph module, float32 (timing only)"] = (exported, False, 64)
    return {
        name: (module_encoder(encoder, module, size == 1), quality)
        for name, (module, quality, size) in out.items()
    }


def top10_rows(queries: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    scores = queries @ gallery.T
    top = np.argpartition(-scores, K, axis=1)[:, :K]
    order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1)
    return np.take_along_axis(top, order, 1)


def agreement(found: np.ndarray, truth: np.ndarray) -> dict:
    overlap = [len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]
    return {
        "top10_overlap": float(np.mean(overlap)),
        "same_top10_set": float(np.mean([o == 1.0 for o in overlap])),
        "same_top1": float(np.mean(found[:, 0] == truth[:, 0])),
    }


def timing(fns: dict[str, Callable[[int], object]], repeats: int) -> dict:
    for fn in fns.values():
        for i in range(3):
            fn(i)
    names = list(fns)
    wall = {n: [] for n in names}
    cpu = {n: [] for n in names}
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            start, start_cpu = time.perf_counter(), time.process_time()
            fns[name](r)
            cpu[name].append(1000 * (time.process_time() - start_cpu))
            wall[name].append(1000 * (time.perf_counter() - start))
    reference = "reference: transformers MiniLM + head, eager"
    return {
        name: {
            "ms": float(np.median(wall[name])),
            "cpu_ms": float(np.median(cpu[name])),
            "ratio_to_reference": float(
                np.median(np.array(wall[name]) / np.array(wall[reference]))
            ),
        }
        for name in names
    }


def run(args) -> dict:
    from engine.catalog import open_gallery
    from engine.defaults import SHIPPED_MODEL_DIR
    from engine.encoder import MotionTextEncoder, QueryPath
    from engine.evaluation.label_queries import evaluate_label_queries, load_label_queries
    from engine.evaluation.runner import evaluate_items
    from engine.search import SearchEngine

    base = MotionTextEncoder.load(SHIPPED_MODEL_DIR, "cpu")
    gallery = open_gallery(base)
    labelled = load_label_queries(args.queries)
    label_texts = [q.text for q in labelled]
    captions = [item.captions[0] for item in gallery.items]

    def path_encoder(path: QueryPath) -> Callable[[Sequence[str]], np.ndarray]:
        encoder = MotionTextEncoder(base.checkpoint, "cpu", path)
        encoder.load_language_model()
        return encoder.encode_queries

    variants: dict[str, tuple[Callable, bool]] = {
        "reference: transformers MiniLM + head, eager": (base.encode_texts, True),
        "plain MiniLM, eager, float32": (
            path_encoder(QueryPath(traced=False, language="float32")),
            True,
        ),
        "traced, float32": (path_encoder(QueryPath(language="float32")), True),
        "traced, bfloat16 MiniLM": (path_encoder(QueryPath(language="bfloat16")), True),
        "traced, int8 MiniLM (per-channel)": (path_encoder(QueryPath(language="int8")), True),
        **extra_variants(base),
    }
    language = base.language_model

    @torch.inference_mode()
    def baseline(texts: Sequence[str]) -> np.ndarray:
        return language(list(texts)).sentence.numpy()

    limits = pin_threads(args.threads)
    fns = {
        name: (lambda i, encode=encode: encode([label_texts[i % len(label_texts)]]))
        for name, (encode, _) in variants.items()
    }
    fns["baseline: MiniLM sentence embedding (no head)"] = lambda i: baseline(
        [label_texts[i % len(label_texts)]]
    )
    times = timing(fns, args.repeats)
    del limits

    shared = {"gallery": gallery, "sentences": {}}
    reference = variants["reference: transformers MiniLM + head, eager"][0]
    truth_captions = top10_rows(reference(captions), gallery.embeddings)
    reference_labels = reference(label_texts)
    truth_labels = top10_rows(reference_labels, gallery.embeddings)
    results = {
        "threads": args.threads,
        "load_average": os.getloadavg()[0],
        "gallery_items": len(gallery),
        "label_queries": len(labelled),
        "queries_file": str(args.queries),
        "variants": {},
    }
    for name, (encode, quality) in variants.items():
        row = {"time": times[name]}
        if quality:
            encoder = VariantEncoder(base, encode, shared)
            metrics = evaluate_items(encoder, gallery.items, ("all",))["all"]["t2m"]
            engine = SearchEngine(encoder, gallery)
            labels = evaluate_label_queries(engine, labelled)["all"]
            vectors = encode(label_texts)
            cosine = np.sum(vectors * reference_labels, axis=1)
            row.update(
                {
                    "cosine_mean": float(cosine.mean()),
                    "cosine_min": float(cosine.min()),
                    "captions": agreement(
                        top10_rows(encode(captions), gallery.embeddings), truth_captions
                    ),
                    "labelled": agreement(top10_rows(vectors, gallery.embeddings), truth_labels),
                    "t2m_R@1": metrics["R@1"],
                    "t2m_R@10": metrics["R@10"],
                    "label_hit@1": labels["hit@1"],
                    "label_hit@10": labels["hit@10"],
                }
            )
        results["variants"][name] = row
    results["baseline_time"] = times["baseline: MiniLM sentence embedding (no head)"]
    return results


def pin_threads(threads: int):
    torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return None
    return threadpool_limits(limits=threads)


def markdown(results: dict) -> str:
    base = results["baseline_time"]
    lines = [
        f"{results['gallery_items']} test motions, {results['label_queries']} labelled "
        f"queries ({results['queries_file']}); {results['threads']} threads; load average "
        f"{results['load_average']:.1f}. Baseline (MiniLM sentence embedding alone): "
        f"{base['ms']:.2f} ms, CPU {base['cpu_ms']:.2f} ms, "
        f"{base['ratio_to_reference']:.2f}x the reference.",
        "",
        "| query path | ms (1 query) | CPU ms | ratio to reference | cosine to float32 "
        "mean / min | top-10 overlap (captions / labelled) | same top-10 set | same top-1 "
        "| t2m R@1 | t2m R@10 | label hit@1 | label hit@10 |",
        "|---|---:|---:|---:|---|---|---|---|---:|---:|---:|---:|",
    ]
    for name, row in results["variants"].items():
        t = row["time"]
        cells = [f"{t['ms']:.2f}", f"{t['cpu_ms']:.2f}", f"{t['ratio_to_reference']:.2f}"]
        if "cosine_mean" in row:
            c, lab = row["captions"], row["labelled"]
            cells += [
                f"{row['cosine_mean']:.5f} / {row['cosine_min']:.5f}",
                f"{c['top10_overlap']:.3f} / {lab['top10_overlap']:.3f}",
                f"{c['same_top10_set']:.3f} / {lab['same_top10_set']:.3f}",
                f"{c['same_top1']:.3f} / {lab['same_top1']:.3f}",
                f"{row['t2m_R@1']:.2f}",
                f"{row['t2m_R@10']:.2f}",
                f"{row['label_hit@1']:.1f}",
                f"{row['label_hit@10']:.1f}",
            ]
        else:
            cells += ["–"] * 8
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--repeats", type=int, default=150)
    parser.add_argument("--queries", type=Path, default=HUMAN_QUERIES)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", help="also write the JSON results to this file")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results = run(args)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2) if args.json else markdown(results))


if __name__ == "__main__":
    main()
