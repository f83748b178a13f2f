"""Training objectives for the joint text–motion space.

All functions take L2-normalised embeddings with matching rows (row i of the text batch
describes row i of the motion batch). Similarity matrices are text × motion unless
stated otherwise.

- InfoNCE (symmetric, temperature fixed or learnable), optionally with TMR's negative
  filtering: pairs whose captions are near-identical (sentence-model cosine above a
  threshold) are not used as negatives.
- Triplet losses (VSE++): sum of hinges (SH) and max of hinges / hardest negative (MH),
  with the warm-up switch from SH to MH.
- DropTriple and MildTriple (Rehamot): a negative whose intra-modal similarity to the
  positive (caption–caption or motion–motion, from the model's own embeddings) is high is
  probably a false negative; DropTriple removes it before hard-negative mining,
  MildTriple down-weights it smoothly.
- CCCL (MoT++): InfoNCE plus KL terms that make the cross-modal similarity distributions
  consistent with the uni-modal ones (ramped in with lambda), and, while lambda is small,
  KL terms towards a frozen sentence-model teacher.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from engine.config import LossConfig


def info_nce(
    text: torch.Tensor,
    motion: torch.Tensor,
    temperature: torch.Tensor | float,
    ignore: torch.Tensor | None = None,
) -> torch.Tensor:
    """Symmetric cross-entropy over text × motion similarities / temperature.

    `ignore` (B, B) marks off-diagonal pairs that must not act as negatives.
    """
    logits = text @ motion.t() / temperature
    if ignore is not None:
        ignore = ignore & ~torch.eye(len(logits), dtype=torch.bool, device=logits.device)
        logits = logits.masked_fill(ignore, float("-inf"))
    target = torch.arange(len(logits), device=logits.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2


def near_duplicate_pairs(sentence: torch.Tensor, threshold: float) -> torch.Tensor:
    """(B, B) pairs whose captions have a sentence-embedding cosine above the threshold."""
    return (sentence @ sentence.t()) > threshold


def triplet_loss(
    text: torch.Tensor,
    motion: torch.Tensor,
    margin: float,
    hardest: bool,
    weights: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """VSE++ hinge loss in both directions, averaged over anchors.

    weights: (for text anchors over motions, for motion anchors over texts), each (B, B)
    in [0, 1], multiplying each negative's hinge (0 drops it).
    """
    scores = text @ motion.t()  # row: text anchor, column: motion
    positive = scores.diag()
    eye = torch.eye(len(scores), dtype=torch.bool, device=scores.device)
    cost_t2m = (margin + scores - positive[:, None]).clamp(min=0).masked_fill(eye, 0)
    cost_m2t = (margin + scores.t() - positive[:, None]).clamp(min=0).masked_fill(eye, 0)
    if weights is not None:
        cost_t2m = cost_t2m * weights[0]
        cost_m2t = cost_m2t * weights[1]
    if hardest:
        return cost_t2m.max(1).values.mean() + cost_m2t.max(1).values.mean()
    return cost_t2m.sum(1).mean() + cost_m2t.sum(1).mean()


def intra_modal_weights(
    text: torch.Tensor, motion: torch.Tensor, soften
) -> tuple[torch.Tensor, torch.Tensor]:
    """Negative weights from the model's own intra-modal similarities.

    For a text anchor i and a candidate motion j, the evidence that j is a false
    negative is the similarity of caption j to caption i and of motion j to motion i
    (the positive's own modality). `soften` maps a similarity to a weight; the smaller
    of the two weights wins. The same matrix serves motion anchors (it is symmetric).
    """
    with torch.no_grad():
        weight = torch.minimum(soften(text @ text.t()), soften(motion @ motion.t()))
    return weight, weight


def drop_weights(threshold: float):
    """DropTriple: a negative with intra-modal similarity above the threshold is dropped."""
    return lambda similarity: (similarity <= threshold).to(similarity.dtype)


def mild_weights(low: float, high: float):
    """MildTriple: weight 1 below `low`, 0 above `high`, linear in between."""
    return lambda similarity: ((high - similarity) / (high - low)).clamp(0.0, 1.0)


def kl_between_rows(teacher_logits: torch.Tensor, student_logits: torch.Tensor) -> torch.Tensor:
    """KL(softmax(teacher) || softmax(student)), row-wise, averaged over rows."""
    return F.kl_div(
        F.log_softmax(student_logits, dim=1),
        F.log_softmax(teacher_logits, dim=1),
        log_target=True,
        reduction="batchmean",
    )


def cccl_ramp(progress: float, start: float, end: float) -> float:
    """CCCL's lambda: 0 before `start`, 1 after `end` (fractions of training), linear between."""
    if end <= start:
        return 1.0 if progress >= end else 0.0
    return min(1.0, max(0.0, (progress - start) / (end - start)))


@dataclass
class LossOutput:
    total: torch.Tensor
    parts: dict[str, float]


# Bounds of a learnable temperature. Below: CLIP caps its logit scale at 100, i.e. a
# temperature of 0.01, beyond which cosine logits overflow the softmax's useful range.
# Above: 1, where the logits are the cosines themselves; a larger temperature only
# flattens the softmax, which lowers no loss through learning and shrinks every
# distribution-matching term.
TEMPERATURE_MIN = 0.01
TEMPERATURE_MAX = 1.0


class RetrievalLoss(nn.Module):
    """The configured contrastive objective (with its learnable temperature, if any).

    Only the cross-modal temperature (text × motion) can be learnable: CCCL's uni-modal
    and teacher distributions are the *targets* of its KL terms, and a learnable target
    temperature lets training flatten both sides of each KL and shrink the consistency
    terms without changing a single embedding. They stay at the configured temperature.
    """

    def __init__(self, config: LossConfig) -> None:
        super().__init__()
        self.config = config
        self.log_scales = nn.ParameterDict(
            {
                "cross": nn.Parameter(
                    torch.tensor(math.log(1.0 / config.temperature)), requires_grad=self._learnable
                )
            }
        )

    @property
    def _learnable(self) -> bool:
        return self.config.learnable_temperature or self.config.kind == "cccl"

    def scale(self, name: str = "cross") -> torch.Tensor:
        """1 / temperature: the learned cross-modal one (bounded), or the configured one."""
        if name != "cross":
            return torch.tensor(1.0 / self.config.temperature)
        return (
            self.log_scales["cross"]
            .clamp(min=math.log(1.0 / TEMPERATURE_MAX), max=math.log(1.0 / TEMPERATURE_MIN))
            .exp()
        )

    def bound_temperatures(self) -> None:
        """Project the learnable temperature back into its bounds (after an optimiser
        step), so that it never sits beyond a bound where its gradient is zero."""
        with torch.no_grad():
            self.log_scales["cross"].clamp_(
                min=math.log(1.0 / TEMPERATURE_MAX), max=math.log(1.0 / TEMPERATURE_MIN)
            )

    def temperatures(self) -> dict[str, float]:
        """The temperatures in use, for checkpoints and model cards."""
        names = ("cross", "text", "motion", "teacher") if self.config.kind == "cccl" else ("cross",)
        return {name: float(1.0 / self.scale(name).item()) for name in names}

    def forward(
        self,
        text: torch.Tensor,
        motion: torch.Tensor,
        sentence: torch.Tensor,
        progress: float,
        epoch: int,
    ) -> LossOutput:
        """progress: fraction of training done (0..1); epoch: index of the current epoch."""
        c = self.config
        kind = c.kind
        if kind in ("infonce", "infonce_filtered"):
            ignore = (
                near_duplicate_pairs(sentence, c.filter_threshold)
                if kind.endswith("filtered")
                else None
            )
            loss = info_nce(text, motion, 1.0 / self.scale("cross"), ignore)
            return LossOutput(loss, {"infonce": loss.item()})
        if kind in ("sh", "mh", "droptriple", "mildtriple"):
            hardest = kind != "sh" and epoch >= c.hard_negative_after_epochs
            weights = None
            # Dropping / softening is part of hard-negative mining, as in Rehamot: during
            # the sum-of-hinges warm-up the model's own embeddings are still near-identical
            # (every pair would look like a false negative and nothing would be learned).
            if hardest and kind == "droptriple":
                weights = intra_modal_weights(text, motion, drop_weights(c.drop_threshold))
            elif hardest and kind == "mildtriple":
                weights = intra_modal_weights(text, motion, mild_weights(c.mild_low, c.mild_high))
            loss = triplet_loss(text, motion, c.margin, hardest, weights)
            return LossOutput(loss, {"triplet": loss.item(), "hardest": float(hardest)})
        return self._cccl(text, motion, sentence, progress)

    def _cccl(
        self, text: torch.Tensor, motion: torch.Tensor, sentence: torch.Tensor, progress: float
    ) -> LossOutput:
        c = self.config
        t2m = self.scale("cross") * text @ motion.t()
        m2t = t2m.t()
        t2t = self.scale("text") * text @ text.t()
        m2m = self.scale("motion") * motion @ motion.t()
        teacher = self.scale("teacher") * sentence @ sentence.t()
        target = torch.arange(len(t2m), device=t2m.device)
        nce = (F.cross_entropy(t2m, target) + F.cross_entropy(m2t, target)) / 2

        def consistent(unimodal: torch.Tensor) -> torch.Tensor:
            return (
                kl_between_rows(unimodal, t2m)
                + kl_between_rows(unimodal, m2t)
                + kl_between_rows(t2m, unimodal)
                + kl_between_rows(m2t, unimodal)
            ) / 4

        cross_consistency = consistent(t2t) + consistent(m2m)
        distillation = kl_between_rows(teacher, t2t) + kl_between_rows(teacher, m2m)
        lam = cccl_ramp(progress, c.cccl_ramp_start, c.cccl_ramp_end)
        loss = nce + lam * cross_consistency + (1 - lam) * distillation
        return LossOutput(
            loss,
            {
                "infonce": nce.item(),
                "cross_consistency": cross_consistency.item(),
                "teacher": distillation.item(),
                "lambda": lam,
            },
        )


def gaussian_kl(
    mu: torch.Tensor, logvar: torch.Tensor, ref_mu: torch.Tensor, ref_logvar: torch.Tensor
) -> torch.Tensor:
    """KL(N(mu, var) || N(ref_mu, ref_var)), summed over dimensions, averaged over the batch."""
    var, ref_var = logvar.exp(), ref_logvar.exp()
    kl = 0.5 * (ref_logvar - logvar + (var + (mu - ref_mu) ** 2) / ref_var - 1)
    return kl.sum(-1).mean()


def reconstruction_loss(
    predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Smooth L1 over real frames only."""
    per_frame = F.smooth_l1_loss(predicted, target, reduction="none").mean(-1)
    weights = mask.to(per_frame.dtype)
    return (per_frame * weights).sum() / weights.sum().clamp(min=1.0)
