"""The joint text–motion embedding model: two encoders meeting in one normalised space."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from engine.config import ModelConfig
from engine.models.decoder import MotionDecoder
from engine.models.language import LanguageModel, TokenFeatures
from engine.models.layers import GaussianHead
from engine.models.motion_encoders import BodyPartMotionEncoder, TemporalMotionEncoder
from engine.models.text_encoder import PooledTextHead, TokenTextHead
from engine.motion.features import FeatureLayout
from engine.motion.skeleton import Skeleton


@dataclass
class Encoded:
    """mu (B, E) and logvar (B, E) or None; `embedding` is mu, L2-normalised."""

    mu: torch.Tensor
    logvar: torch.Tensor | None

    @property
    def embedding(self) -> torch.Tensor:
        return nn.functional.normalize(self.mu, dim=-1)

    def sample(self) -> torch.Tensor:
        if self.logvar is None:
            return self.mu
        return self.mu + torch.randn_like(self.mu) * torch.exp(0.5 * self.logvar)


def read_mask(config: ModelConfig, skeleton: Skeleton) -> torch.Tensor:
    """(D,) 1 for the feature entries the motion encoder reads, 0 for the ignored blocks: a
    normalised entry held at 0 is the training mean, so the encoder learns nothing from it."""
    ignored = FeatureLayout(skeleton.num_joints).in_blocks(config.ignored_features)
    return torch.from_numpy(~ignored).float()


class RetrievalModel(nn.Module):
    def __init__(self, config: ModelConfig, skeleton: Skeleton) -> None:
        super().__init__()
        self.config = config
        feature_dim = skeleton.feature_dim
        self.motion_head = GaussianHead(config.latent_dim, config.embed_dim, config.variational)
        self.text_head = GaussianHead(config.latent_dim, config.embed_dim, config.variational)
        tokens = self.motion_head.num_tokens
        if config.motion_encoder == "temporal":
            self.motion_encoder = TemporalMotionEncoder(config, feature_dim, tokens)
        else:
            self.motion_encoder = BodyPartMotionEncoder(config, skeleton, tokens)
        if config.text_head == "tokens":
            self.text_encoder = TokenTextHead(config, tokens)
        else:
            self.text_encoder = PooledTextHead(config, tokens)
        self.decoder = MotionDecoder(config, feature_dim) if config.decoder else None
        self.language_model = LanguageModel(config.max_tokens) if config.finetune_text else None
        self.register_buffer("read_features", read_mask(config, skeleton), persistent=False)

    def encode_motion(self, features: torch.Tensor, mask: torch.Tensor) -> Encoded:
        """Normalised features (B, T, D) and a frame mask (B, T; True = real frame)."""
        if self.config.ignored_features:
            features = features * self.read_features
        return Encoded(*self.motion_head(self.motion_encoder(features, mask)))

    def encode_text(self, text: TokenFeatures | list[str]) -> Encoded:
        """Frozen MiniLM features, or raw captions when MiniLM is fine-tuned."""
        if isinstance(text, list):
            if self.language_model is None:
                raise ValueError("raw captions need finetune_text; pass TokenFeatures instead")
            text = self.language_model(text)
        return Encoded(*self.text_head(self.text_encoder(text)))

    def decode(self, latent: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.decoder is None:
            raise ValueError("this model has no motion decoder (ModelConfig.decoder)")
        return self.decoder(latent, mask)

    def trainable_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
