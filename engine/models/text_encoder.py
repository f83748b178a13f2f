"""The trainable text side: a head over frozen (or fine-tuned) MiniLM features."""

from __future__ import annotations

import torch
from torch import nn

from engine.config import ModelConfig
from engine.models.language import TEXT_DIM, TokenFeatures, mean_pool
from engine.models.layers import sinusoidal_encoding, transformer_stack


class TokenTextHead(nn.Module):
    """A small Transformer over MiniLM token features with learned summary tokens (TMR)."""

    def __init__(self, config: ModelConfig, num_summary: int) -> None:
        super().__init__()
        self.embed = nn.Linear(TEXT_DIM, config.latent_dim)
        self.summary = nn.Parameter(torch.randn(num_summary, config.latent_dim) * 0.02)
        self.encoder = transformer_stack(
            config.latent_dim, config.num_heads, config.ff_dim, config.dropout, config.text_layers
        )

    def forward(self, text: TokenFeatures) -> torch.Tensor:
        x = self.embed(text.tokens)
        batch, _, width = x.shape
        summary = self.summary.unsqueeze(0).expand(batch, -1, -1)
        x = torch.cat([summary, x], dim=1)
        x = x + sinusoidal_encoding(x.shape[1], width, x.device)
        keep = torch.cat([text.mask.new_ones(batch, summary.shape[1]), text.mask], dim=1)
        return self.encoder(x, src_key_padding_mask=~keep)[:, : summary.shape[1]]


class PooledTextHead(nn.Module):
    """An MLP over the mean-pooled MiniLM sentence embedding."""

    def __init__(self, config: ModelConfig, num_summary: int) -> None:
        super().__init__()
        self.num_summary = num_summary
        self.mlp = nn.Sequential(
            nn.Linear(TEXT_DIM, config.ff_dim),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.ff_dim, config.latent_dim * num_summary),
        )

    def forward(self, text: TokenFeatures) -> torch.Tensor:
        return self.mlp(text.sentence).reshape(len(text.sentence), self.num_summary, -1)


class TextQueryModule(nn.Module):
    """The whole text side, token ids → joint embedding: MiniLM (`PlainMiniLM`), the text
    head, the projection to the joint space (the mean of a Gaussian head) and L2
    normalisation, as one module so that it traces into one graph (the query path,
    `engine.encoder.QueryPath`). Input: token ids (B, L) and mask (B, L; True = real)."""

    def __init__(self, language: nn.Module, head: nn.Module, projection: nn.Module) -> None:
        super().__init__()
        self.language = language
        self.head = head
        self.projection = projection
        self.pooled = isinstance(head, PooledTextHead)  # the token head ignores the pooling

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.language(ids, mask).float()  # MiniLM may run in bfloat16
        sentence = mean_pool(hidden, mask) if self.pooled else hidden[:, 0]
        summary = self.head(TokenFeatures(hidden, mask, sentence))
        return nn.functional.normalize(self.projection(summary[:, 0]), dim=-1)
