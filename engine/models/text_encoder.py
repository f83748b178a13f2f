"""The trainable text side: a head over frozen (or fine-tuned) MiniLM features."""

from __future__ import annotations

import torch
from torch import nn

from engine.config import ModelConfig
from engine.models.language import TEXT_DIM, TokenFeatures
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
