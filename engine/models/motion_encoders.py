"""Motion encoders: normalised features (B, T, D) with a frame mask → summary tokens.

- `TemporalMotionEncoder` (TMR / Rehamot family): one token per (group of) frames,
  learned summary tokens, a Transformer over time.
- `BodyPartMotionEncoder` (MoT++ family): one token per body part and time step,
  factorised attention alternating across body parts (space) and across time.

Both return (B, n_summary, width) summary outputs; `GaussianHead` turns them into
embeddings.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.config import ModelConfig
from engine.models.layers import (
    patch_frames,
    sinusoidal_encoding,
    transformer_layer,
    transformer_stack,
)
from engine.motion.features import FeatureLayout
from engine.motion.skeleton import Skeleton


class TemporalMotionEncoder(nn.Module):
    def __init__(self, config: ModelConfig, feature_dim: int, num_summary: int) -> None:
        super().__init__()
        self.stride = config.frame_stride
        self.embed = nn.Linear(feature_dim * self.stride, config.latent_dim)
        self.summary = nn.Parameter(torch.randn(num_summary, config.latent_dim) * 0.02)
        self.encoder = transformer_stack(
            config.latent_dim, config.num_heads, config.ff_dim, config.dropout, config.num_layers
        )

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        tokens, valid = patch_frames(features, mask, self.stride)
        x = self.embed(tokens)
        batch, _, width = x.shape
        summary = self.summary.unsqueeze(0).expand(batch, -1, -1)
        x = torch.cat([summary, x], dim=1)
        x = x + sinusoidal_encoding(x.shape[1], width, x.device)
        keep = torch.cat([valid.new_ones(batch, summary.shape[1]), valid], dim=1)
        x = self.encoder(x, src_key_padding_mask=~keep)
        return x[:, : summary.shape[1]]


def body_part_feature_indices(skeleton: Skeleton) -> list[list[int]]:
    """For each body part, the feature-vector entries that describe its joints: the
    joints' root-relative positions, rotations and velocities, the root's own channels
    for the torso, and the foot contacts for each leg."""
    layout = FeatureLayout(skeleton.num_joints)
    contact_of = {
        skeleton.left_foot[0]: (0, 1),
        skeleton.right_foot[0]: (2, 3),
    }
    parts = []
    for joints in skeleton.body_parts:
        indices: list[int] = []
        for joint in joints:
            if joint == 0:
                indices += list(range(layout.root.start, layout.root.stop))
            else:
                indices += list(
                    range(layout.ric.start + 3 * (joint - 1), layout.ric.start + 3 * joint)
                )
                indices += list(
                    range(layout.rot.start + 6 * (joint - 1), layout.rot.start + 6 * joint)
                )
            indices += list(range(layout.vel.start + 3 * joint, layout.vel.start + 3 * joint + 3))
            for k in contact_of.get(joint, ()):
                indices.append(layout.contacts.start + k)
        parts.append(indices)
    return parts


def _entries(start: int, size: int, slot: int) -> list[int]:
    return list(range(start + size * slot, start + size * (slot + 1)))


class BodyPartMotionEncoder(nn.Module):
    def __init__(self, config: ModelConfig, skeleton: Skeleton, num_summary: int) -> None:
        super().__init__()
        self.stride = config.frame_stride
        width = config.latent_dim
        self.parts = body_part_feature_indices(skeleton)
        for k, indices in enumerate(self.parts):
            self.register_buffer(f"part_index_{k}", torch.tensor(indices), persistent=False)
        self.embed = nn.ModuleList(nn.Linear(len(p) * self.stride, width) for p in self.parts)
        self.part_embedding = nn.Parameter(torch.randn(len(self.parts), width) * 0.02)
        self.summary = nn.Parameter(torch.randn(num_summary, len(self.parts), width) * 0.02)
        args = (width, config.num_heads, config.ff_dim, config.dropout)
        self.spatial = nn.ModuleList(transformer_layer(*args) for _ in range(config.num_layers))
        self.temporal = nn.ModuleList(transformer_layer(*args) for _ in range(config.num_layers))
        self.norm = nn.LayerNorm(width)
        self.merge = nn.Linear(len(self.parts) * width, width)

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch = features.shape[0]
        part_tokens = []
        valid = mask
        for k, embed in enumerate(self.embed):
            part, valid = patch_frames(
                features.index_select(-1, getattr(self, f"part_index_{k}")), mask, self.stride
            )
            part_tokens.append(embed(part))
        x = torch.stack(part_tokens, dim=2) + self.part_embedding  # (B, T', P, W)
        num_summary = self.summary.shape[0]
        summary = self.summary.unsqueeze(0).expand(batch, -1, -1, -1)
        x = torch.cat([summary, x], dim=1)  # (B, S + T', P, W)
        steps, parts, width = x.shape[1:]
        x = x + sinusoidal_encoding(steps, width, x.device)[None, :, None, :]
        keep = torch.cat([valid.new_ones(batch, num_summary), valid], dim=1)  # (B, S + T')
        time_padding = (~keep).repeat_interleave(parts, dim=0)
        for spatial, temporal in zip(self.spatial, self.temporal, strict=True):
            x = spatial(x.reshape(batch * steps, parts, width)).reshape(batch, steps, parts, width)
            x = x.permute(0, 2, 1, 3).reshape(batch * parts, steps, width)
            x = temporal(x, src_key_padding_mask=time_padding)
            x = x.reshape(batch, parts, steps, width).permute(0, 2, 1, 3)
        out = self.norm(x[:, :num_summary])  # (B, S, P, W)
        return self.merge(out.reshape(batch, num_summary, parts * width))
