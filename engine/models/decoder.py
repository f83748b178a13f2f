"""Motion reconstruction from a latent (TMR / LAVIMO): the optional decoder."""

from __future__ import annotations

import torch
from torch import nn

from engine.config import ModelConfig
from engine.models.layers import sinusoidal_encoding, transformer_stack


class MotionDecoder(nn.Module):
    """A latent (B, E) and a frame mask (B, T) → normalised features (B, T, D).

    Time queries (sinusoidal encodings) attend to the latent, placed as the first token.
    """

    def __init__(self, config: ModelConfig, feature_dim: int) -> None:
        super().__init__()
        self.stride = config.frame_stride
        self.feature_dim = feature_dim
        self.latent = nn.Linear(config.embed_dim, config.latent_dim)
        self.decoder = transformer_stack(
            config.latent_dim, config.num_heads, config.ff_dim, config.dropout, config.num_layers
        )
        self.output = nn.Linear(config.latent_dim, feature_dim * self.stride)

    def forward(self, latent: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, frames = mask.shape
        steps = -(-frames // self.stride)
        width = self.latent.out_features
        queries = sinusoidal_encoding(steps + 1, width, latent.device)[1:].expand(batch, -1, -1)
        x = torch.cat([self.latent(latent).unsqueeze(1), queries], dim=1)
        step_mask = nn.functional.pad(mask, (0, steps * self.stride - frames))
        step_valid = step_mask.reshape(batch, steps, self.stride).any(-1)
        keep = torch.cat([step_valid.new_ones(batch, 1), step_valid], dim=1)
        x = self.decoder(x, src_key_padding_mask=~keep)[:, 1:]
        out = self.output(x).reshape(batch, steps * self.stride, self.feature_dim)
        return out[:, :frames]
