"""Building blocks shared by the encoders."""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoidal_encoding(length: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """(length, dim) fixed sinusoidal position encoding."""
    position = torch.arange(length, device=device, dtype=torch.float32).unsqueeze(1)
    rate = torch.exp(
        torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim)
    )
    encoding = torch.zeros(length, dim, device=device)
    encoding[:, 0::2] = torch.sin(position * rate)
    encoding[:, 1::2] = torch.cos(position * rate[: dim // 2])
    return encoding


def transformer_stack(
    width: int, heads: int, ff_dim: int, dropout: float, layers: int
) -> nn.Module:
    """Pre-norm Transformer encoder layers (batch first), with a final norm."""
    layer = nn.TransformerEncoderLayer(
        width, heads, ff_dim, dropout, activation="gelu", batch_first=True, norm_first=True
    )
    return nn.TransformerEncoder(
        layer, layers, norm=nn.LayerNorm(width), enable_nested_tensor=False
    )


def transformer_layer(width: int, heads: int, ff_dim: int, dropout: float) -> nn.Module:
    return nn.TransformerEncoderLayer(
        width, heads, ff_dim, dropout, activation="gelu", batch_first=True, norm_first=True
    )


class GaussianHead(nn.Module):
    """Summary-token outputs → an embedding, optionally as a Gaussian (mu, logvar).

    Deterministic: one summary token, `mu` is its projection. Variational (TMR): two
    tokens give mu and log-variance; training samples `z`, evaluation uses `mu`.
    """

    def __init__(self, width: int, embed_dim: int, variational: bool) -> None:
        super().__init__()
        self.variational = variational
        self.mu = nn.Linear(width, embed_dim)
        self.logvar = nn.Linear(width, embed_dim) if variational else None

    @property
    def num_tokens(self) -> int:
        return 2 if self.variational else 1

    def forward(self, summary: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """summary: (B, num_tokens, width) → mu (B, E), logvar (B, E) or None."""
        mu = self.mu(summary[:, 0])
        if self.logvar is None:
            return mu, None
        return mu, self.logvar(summary[:, 1]).clamp(-10.0, 10.0)


def patch_frames(
    features: torch.Tensor, mask: torch.Tensor, stride: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Merge `stride` consecutive frames into one token: (B, T, D) → (B, ceil(T/s), s·D).

    A token is valid when any of its frames is; padded frames are zero.
    """
    if stride == 1:
        return features, mask
    batch, frames, dim = features.shape
    pad = (-frames) % stride
    if pad:
        features = nn.functional.pad(features, (0, 0, 0, pad))
        mask = nn.functional.pad(mask, (0, pad), value=False)
    features = features * mask.unsqueeze(-1).to(features.dtype)
    tokens = features.reshape(batch, -1, stride * dim)
    return tokens, mask.reshape(batch, -1, stride).any(-1)
