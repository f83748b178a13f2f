"""Inference: a loaded checkpoint that turns captions and motions into embeddings.

This is what the evaluation, the gallery, the search command and the demo call; it
hides batching, normalisation, devices and the language model.

Two text paths: `encode_texts` is the float reference (transformers' MiniLM + the text
head, eager) for everything that is stored or measured — gallery captions, the shipped
gallery seed, evaluation, training. `encode_queries` is what a search query goes
through (`SearchEngine.embed_text`); how it runs is `QueryPath`, plain data on the
encoder. By default MiniLM and the head are traced into one TorchScript graph, MiniLM
in bfloat16 where the CPU multiplies it natively: about two thirds of the reference's
time for one query, with the same retrieval quality (docs/benchmarks.md).
"""

from __future__ import annotations

import copy
import functools
import logging
import threading
import typing
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

from engine.errors import EngineError
from engine.models.checkpoint import Checkpoint, load_checkpoint
from engine.models.inputs import motion_batch
from engine.models.language import LanguageModel, PlainMiniLM, TextFeatureStore
from engine.models.text_encoder import TextQueryModule
from engine.motion.skeleton import Skeleton, skeleton_for_feature_dim

Progress = Callable[[int, int], None]
LanguagePrecision = Literal["auto", "float32", "bfloat16", "int8"]
LANGUAGE_PRECISIONS: tuple[str, ...] = typing.get_args(LanguagePrecision)
log = logging.getLogger(__name__)
GPU_FALLBACK_NOTICE = "the GPU ran out of memory, so the model runs on the CPU (slower) from now on"


@dataclass(frozen=True)
class QueryPath:
    """How a text query is encoded (`MotionTextEncoder.encode_queries`). The numbers are
    in docs/benchmarks.md (`python -m benchmarks.query_path_bench`).

    traced: MiniLM re-expressed in plain torch ops (`PlainMiniLM`: the same weights and
        maths as transformers' BertModel, query/key/value fused) and the text head,
        traced with torch.jit into one frozen graph: no Python runs between the
        operations (~17 % less time). In float32 it gives the reference path's
        embeddings to ~3e-7. If tracing fails, or the traced graph disagrees with the
        eager module on a check batch, the eager module runs (same maths, slower).
    language: the precision of MiniLM's arithmetic (the text head stays float32):
        "float32" — exact;
        "bfloat16" — on CPUs that multiply bfloat16 natively (AVX512-BF16 / AMX) ~20 %
            less time per query than traced float32. Its cost is negligible, meaning:
            cosine to the float32 embedding ≥ 0.9999, ≥ 99 % of the float32 top-10 kept
            (mean over the test gallery's queries; what moves are near-ties at the last
            places), t2m R@1 / R@10 within 0.2 points and label-query hit@k within one
            query of float32 (measured: +0.05 / -0.05 points, hit@k equal). On other CPUs
            it is emulated and slow;
        "auto" (the default) — bfloat16 where the CPU has it natively, float32 elsewhere
            (and on GPUs, where this path has not been measured);
        "int8" — dynamic int8 quantisation of MiniLM's Linear layers (weights per
            output channel, activations per call; fbgemm, CPU only): about half the
            time of traced float32, but the embeddings move (cosine down to ~0.95), ~1 in
            8 top-10 places change and R@10 drops by ~1 point, so it is only an option.
            Activations are quantised over a whole call, so each query is then encoded
            alone: its embedding does not depend on the queries batched with it.
        The text head has no int8 option: it is ~15 % of the arithmetic, and quantising
        it loses torch's fused Transformer layer; it bought ~0.15 ms, within the noise.

    `QueryPath(traced=False, language="float32")` is the float reference path itself
    (`FLOAT_QUERY_PATH`: transformers' MiniLM + the head, eager). Gallery captions never go
    through the query path (they use `encode_texts`): stored embeddings, the shipped gallery
    seed among them, do not depend on it.
    """

    traced: bool = True
    language: LanguagePrecision = "auto"

    def __post_init__(self) -> None:
        if self.language not in LANGUAGE_PRECISIONS:
            raise EngineError(
                f"QueryPath.language must be one of {', '.join(LANGUAGE_PRECISIONS)}, "
                f"not {self.language!r}"
            )

    @property
    def is_reference(self) -> bool:
        return not self.traced and self.language == "float32"

    def precision_on(self, device: torch.device) -> str:
        """The precision MiniLM runs in on `device`: float32, bfloat16 or int8."""
        if self.language == "auto":
            return "bfloat16" if device.type == "cpu" and native_bfloat16() else "float32"
        if self.language == "int8" and device.type != "cpu":
            return "float32"
        return self.language


FLOAT_QUERY_PATH = QueryPath(traced=False, language="float32")  # the reference path


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # pragma: no cover - private helpers of the pinned torch
        return False


def pick_device(preference: str = "auto") -> torch.device:
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if preference.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {preference!r} requested but CUDA is not available")
    return torch.device(preference)


def on_gpu_out_of_memory_use_cpu(method: Callable) -> Callable:
    """An encoding method that, when the GPU runs out of memory, moves the encoder to the
    CPU for good (`fall_back_to_cpu`) and runs again there. A call that another thread's
    move interrupted (its tensors left behind on the GPU) runs again as well."""

    @functools.wraps(method)
    def run(self: MotionTextEncoder, *args, **kwargs):
        device = self.device
        try:
            return method(self, *args, **kwargs)
        except RuntimeError as error:  # torch.OutOfMemoryError is one
            if device.type == "cuda" and out_of_memory(error):
                self.fall_back_to_cpu()
            elif self.device == device:  # not a move under its feet: a genuine error
                raise
        return method(self, *args, **kwargs)

    return run


def out_of_memory(error: BaseException) -> bool:
    """torch.OutOfMemoryError (= torch.cuda.OutOfMemoryError), or the RuntimeError that
    TorchScript's interpreter (the traced query path) wraps it in."""
    return isinstance(error, torch.OutOfMemoryError) or "out of memory" in str(error)


class MotionTextEncoder:
    """Embeddings (L2-normalised float32 numpy arrays) for captions and motions."""

    def __init__(
        self,
        checkpoint: Checkpoint,
        device: str | torch.device = "auto",
        query_path: QueryPath | None = None,
    ) -> None:
        self.device = pick_device(device) if isinstance(device, str) else device
        self.checkpoint = checkpoint
        self.model = checkpoint.model.to(self.device).eval()
        self.fallback_notice = ""  # why the encoder left its device (GPU_FALLBACK_NOTICE)
        self._device_lock = threading.Lock()
        self.normalizer = checkpoint.normalizer
        max_tokens = checkpoint.config.model.max_tokens
        self._language_model: LanguageModel | None = self.model.language_model
        self._language_model_lock = threading.Lock()  # one load, even from two threads
        self._max_tokens = max_tokens
        self.query_path = query_path or QueryPath()
        self._query_module: nn.Module | None = None  # built on first use (query_module)
        self._query_lock = threading.Lock()

    @classmethod
    def load(
        cls, path: str | Path, device: str = "auto", query_path: QueryPath | None = None
    ) -> MotionTextEncoder:
        return cls(load_checkpoint(path), device, query_path)

    @property
    def fingerprint(self) -> str:
        return self.checkpoint.fingerprint

    @property
    def skeleton(self) -> Skeleton:
        return skeleton_for_feature_dim(self.normalizer.dim)

    @property
    def embed_dim(self) -> int:
        return self.checkpoint.config.model.embed_dim

    @property
    def language_model(self) -> LanguageModel:
        with self._language_model_lock:
            if self._language_model is None:
                self._language_model = self._place(LanguageModel(self._max_tokens)).eval()
            return self._language_model

    def load_language_model(self) -> None:
        """Load MiniLM and build the query path now (the demo does it while the gallery is
        being prepared), so that the first text query does not wait for them."""
        _ = self.language_model  # the property loads it once (a model's own: already there)
        if not self.query_path.is_reference:
            _ = self.query_module

    @property
    def query_module(self) -> nn.Module:
        """The query path's module (token ids, mask → embeddings), built once."""
        with self._query_lock:
            if self._query_module is None:
                self._query_module = self._build_query_module()
            return self._query_module

    def _build_query_module(self) -> nn.Module:
        path = self.query_path
        language = self.model.language_model or self.language_model
        module = TextQueryModule(
            PlainMiniLM(language.model), self.model.text_encoder, self.model.text_head.mu
        ).eval()
        precision = path.precision_on(self.device)
        if precision == "int8":
            module.language = quantize_int8(module.language)
        elif precision == "bfloat16":
            module.language = copy.deepcopy(module.language).to(torch.bfloat16)
        if not path.traced:
            return module
        try:
            traced = trace_query_module(module, self.tokenize(["a person walks forward"]))
        except Exception as error:  # pragma: no cover - depends on the torch version
            log.warning("tracing the query path failed (%s); it runs eagerly", error)
            return module
        check = self.tokenize(["someone jumps", "a man kicks with his left leg, then bows"])
        with torch.inference_mode():
            agree = torch.allclose(traced(*check), module(*check), atol=1e-4)
        if not agree:  # pragma: no cover - a trace that specialised on its example
            log.warning("the traced query path disagrees with the eager one; it runs eagerly")
            return module
        return traced

    def tokenize(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids (B, L) and mask (B, L; True = real token): the query module's input."""
        language = self.model.language_model or self.language_model
        ids, mask = language.tokenize(texts, self._max_tokens)
        return self._place(ids), self._place(mask)

    def _place(self, value):
        """A tensor, batch or module on the encoder's device."""
        return value.to(self.device)

    def fall_back_to_cpu(self) -> None:
        """Move the model, MiniLM and the query path to the CPU for the rest of the run
        (after the GPU ran out of memory), and say so in `fallback_notice`."""
        with self._device_lock:
            if self.device.type == "cpu":
                return  # another thread moved it already
            log.warning("the GPU ran out of memory; the encoder moves to the CPU")
            cpu = torch.device("cpu")
            self.model.to(cpu)
            if self._language_model is not None:
                self._language_model.to(cpu)
            with self._query_lock:
                self._query_module = None  # a traced graph holds its device: rebuilt on CPU
            self.device = cpu
            self.fallback_notice = GPU_FALLBACK_NOTICE
            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    @on_gpu_out_of_memory_use_cpu
    @torch.inference_mode()
    def encode_queries(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embeddings (N, E) of search queries through `query_path` (by default the
        traced graph; `FLOAT_QUERY_PATH` makes this `encode_texts`)."""
        if self.query_path.is_reference:
            return self.encode_texts(texts, batch_size=batch_size)
        module = self.query_module
        if self.query_path.precision_on(self.device) == "int8":
            batch_size = 1  # activation ranges are per call: one query's own
        order = np.argsort([len(t) for t in texts], kind="stable")
        result = np.zeros((len(texts), self.embed_dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            embedding = module(*self.tokenize([texts[i] for i in rows]))
            result[rows] = embedding.float().cpu().numpy()
        return result

    @on_gpu_out_of_memory_use_cpu
    @torch.inference_mode()
    def encode_texts(
        self, captions: Sequence[str], store: TextFeatureStore | None = None, batch_size: int = 256
    ) -> np.ndarray:
        """Embeddings (N, E); `store` reuses cached frozen MiniLM features when given.

        Captions are batched by length so that little time goes into padding."""
        order = np.argsort([len(c) for c in captions], kind="stable")
        result = np.zeros((len(captions), self.embed_dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            chunk = [captions[i] for i in rows]
            if self.model.language_model is not None:
                encoded = self.model.encode_text(chunk)
            else:
                features = store.batch(chunk) if store is not None else self.language_model(chunk)
                encoded = self.model.encode_text(self._place(features))
            result[rows] = encoded.embedding.float().cpu().numpy()
        return result

    @on_gpu_out_of_memory_use_cpu
    @torch.inference_mode()
    def encode_motions(
        self,
        sequences: Sequence[np.ndarray],
        batch_size: int = 64,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """Embeddings (N, E) of raw (unnormalised) feature sequences (T_i, D).

        Sequences are batched by length so that little time goes into padding.
        """
        order = np.argsort([len(s) for s in sequences], kind="stable")
        result = np.zeros((len(sequences), self.embed_dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = self._place(motion_batch([sequences[i] for i in rows], self.normalizer))
            encoded = self.model.encode_motion(batch.features, batch.mask)
            result[rows] = encoded.embedding.float().cpu().numpy()
            if progress is not None:
                progress(min(start + batch_size, len(order)), len(order))
        return result

    @on_gpu_out_of_memory_use_cpu
    @torch.inference_mode()
    def sentence_embeddings(self, captions: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """MiniLM sentence embeddings (N, 384): caption-caption similarity."""
        out = [
            self.language_model(list(captions[s : s + batch_size])).sentence.float().cpu().numpy()
            for s in range(0, len(captions), batch_size)
        ]
        return np.concatenate(out) if out else np.zeros((0, 384), np.float32)


def quantize_int8(module: nn.Module) -> nn.Module:
    """A copy of `module` with its Linear layers dynamically quantised to int8 (weights
    per output channel; activations per batch, at run time)."""
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():  # torch.ao.quantization's deprecation notice
        warnings.simplefilter("ignore")
        return quantize_dynamic(
            copy.deepcopy(module), {nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8
        )


def trace_query_module(
    module: nn.Module, example: tuple[torch.Tensor, torch.Tensor]
) -> torch.jit.ScriptModule:
    """`module` traced on an example (ids, mask) and frozen into one graph. The sequence
    length stays dynamic (the graph reads it from the input's shape)."""
    with warnings.catch_warnings(), torch.inference_mode():
        # torch.jit says it is deprecated in favour of torch.compile/export; on this
        # torch (pinned) it is the one that needs no compiler and no warm-up, and
        # torch.export's graph module runs no faster than the eager one here
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, example, check_trace=False)
        return torch.jit.freeze(traced)
