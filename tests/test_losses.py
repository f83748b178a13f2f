"""Each loss on small hand-made embeddings whose value can be worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from engine.config import LossConfig
from engine.losses import (
    RetrievalLoss,
    cccl_ramp,
    drop_weights,
    gaussian_kl,
    info_nce,
    intra_modal_weights,
    mild_weights,
    near_duplicate_pairs,
    reconstruction_loss,
    triplet_loss,
)


def unit(*rows):
    return F.normalize(torch.tensor(rows, dtype=torch.float32), dim=-1)


def test_info_nce_perfect_and_uniform():
    eye = torch.eye(4)
    assert info_nce(eye, eye, 0.01).item() < 1e-6
    same = unit(*[[1.0, 0.0]] * 4)
    assert info_nce(same, same, 0.1).item() == pytest.approx(math.log(4), rel=1e-5)


def test_info_nce_by_hand():
    text = unit([1, 0], [0, 1])
    motion = unit([1, 0], [1, 1])
    s = 1 / math.sqrt(2)
    # rows of text @ motion.T: [1, s], [0, s]; temperature 1
    row0 = -math.log(math.exp(1) / (math.exp(1) + math.exp(s)))
    row1 = -math.log(math.exp(s) / (math.exp(0) + math.exp(s)))
    col0 = -math.log(math.exp(1) / (math.exp(1) + math.exp(0)))
    col1 = -math.log(math.exp(s) / (math.exp(s) + math.exp(s)))
    expected = ((row0 + row1) / 2 + (col0 + col1) / 2) / 2
    assert info_nce(text, motion, 1.0).item() == pytest.approx(expected, rel=1e-5)


def test_negative_filtering_removes_false_negatives():
    # captions 0 and 1 say the same thing; motions 0 and 1 are alike
    text = unit([1, 0, 0], [1, 0.05, 0], [0, 0, 1])
    motion = unit([1, 0, 0.1], [1, 0.1, 0], [0, 0.1, 1])
    sentence = unit([1, 0], [1, 0.01], [0, 1])
    ignore = near_duplicate_pairs(sentence, 0.9)
    assert ignore.tolist() == [[True, True, False], [True, True, False], [False, False, True]]
    plain = info_nce(text, motion, 0.1)
    filtered = info_nce(text, motion, 0.1, ignore)
    assert filtered < plain
    # with 0 and 1 no longer negatives of each other, each pair only competes with item 2
    expected = info_nce(text[[0, 2]], motion[[0, 2]], 0.1)
    assert filtered.item() < expected.item() * 2


def test_triplet_sum_and_max_by_hand():
    text = unit([1, 0], [0, 1], [1, 1])
    motion = unit([1, 0], [0, 1], [1, 1])
    s = 1 / math.sqrt(2)
    margin = 0.2
    # scores: diag 1; off-diagonal [[-, 0, s], [0, -, s], [s, s, -]]
    hinge = max(0.0, margin + s - 1)  # s = 0.707 → 0 hinge, margin too small
    assert triplet_loss(text, motion, margin, hardest=False).item() == pytest.approx(6 * hinge / 3)
    margin = 0.5
    hinge = margin + s - 1  # 0.207 for the s negatives, 0 for the orthogonal ones
    sh = triplet_loss(text, motion, margin, hardest=False).item()
    mh = triplet_loss(text, motion, margin, hardest=True).item()
    assert sh == pytest.approx(2 * (hinge + hinge + 2 * hinge) / 3, rel=1e-5)
    assert mh == pytest.approx(2 * (hinge + hinge + hinge) / 3, rel=1e-5)


def test_droptriple_drops_the_false_negative_then_mines_the_next():
    # anchor 0's hardest negative is item 1, whose caption and motion both resemble item 0's
    text = unit([1, 0, 0], [0.95, 0.3, 0], [0.6, 0, 0.8])
    motion = unit([1, 0, 0], [0.9, 0.4, 0], [0.7, 0, 0.7])
    weights = intra_modal_weights(text, motion, drop_weights(0.75))[0]
    assert weights[0, 1] == 0 and weights[0, 2] == 1 and weights[1, 0] == 0
    plain = triplet_loss(text, motion, 0.2, hardest=True)
    dropped = triplet_loss(text, motion, 0.2, hardest=True, weights=(weights, weights))
    scores = text @ motion.t()
    # text anchor 0 now mines motion 2; motion anchor 0 mines text 2
    t0 = max(0.0, 0.2 + scores[0, 2].item() - scores[0, 0].item())
    m0 = max(0.0, 0.2 + scores[2, 0].item() - scores[0, 0].item())
    per_anchor = triplet_loss(text, motion, 0.2, hardest=True, weights=(weights, weights))
    assert dropped < plain
    assert per_anchor.item() >= (t0 + m0) / 3 - 1e-6


def test_mildtriple_weights_are_soft():
    weight = mild_weights(0.6, 0.8)
    values = weight(torch.tensor([0.5, 0.6, 0.7, 0.8, 0.9]))
    assert values.tolist() == pytest.approx([1.0, 1.0, 0.5, 0.0, 0.0])
    text = unit([1, 0, 0], [0.95, 0.3, 0], [0.6, 0, 0.8])
    motion = unit([1, 0, 0], [0.9, 0.4, 0], [0.7, 0, 0.7])
    margin = 0.3
    scores = (text @ motion.t()).tolist()
    tt, mm = (text @ text.t()).tolist(), (motion @ motion.t()).tolist()

    def w(i, j):
        return min(
            max(0.0, min(1.0, (0.8 - tt[i][j]) / 0.2)), max(0.0, min(1.0, (0.8 - mm[i][j]) / 0.2))
        )

    def hardest(anchor_scores, i):
        return max(
            w(i, j) * max(0.0, margin + anchor_scores[j] - scores[i][i]) for j in range(3) if j != i
        )

    t2m = [hardest(scores[i], i) for i in range(3)]
    m2t = [hardest([scores[j][i] for j in range(3)], i) for i in range(3)]
    expected = sum(t2m) / 3 + sum(m2t) / 3
    mild = triplet_loss(text, motion, margin, True, intra_modal_weights(text, motion, weight))
    assert mild.item() == pytest.approx(expected, rel=1e-5)
    assert 0 < mild.item() < triplet_loss(text, motion, margin, True).item()


def test_cccl_ramp():
    assert [cccl_ramp(p, 0.4, 1.0) for p in (0.0, 0.4, 0.7, 1.0)] == pytest.approx([0, 0, 0.5, 1])


def test_cccl_terms_vanish_when_spaces_agree():
    torch.manual_seed(0)
    x = F.normalize(torch.randn(6, 8), dim=-1)
    loss = RetrievalLoss(LossConfig(kind="cccl"))
    out_early = loss(x, x, x, progress=0.0, epoch=0)
    assert out_early.parts["teacher"] == pytest.approx(0.0, abs=1e-6)
    out_late = loss(x, x, x, progress=1.0, epoch=99)
    assert out_late.parts["cross_consistency"] == pytest.approx(0.0, abs=1e-6)
    assert out_late.parts["lambda"] == 1.0
    other = F.normalize(torch.randn(6, 8), dim=-1)
    assert loss(x, x, other, progress=0.0, epoch=0).parts["teacher"] > 0.01
    # CCCL's cross-modal temperature is learnable, starting at the configured 0.1; the
    # uni-modal and teacher ones are the KL targets' and stay fixed
    assert [name for name, p in loss.named_parameters() if p.requires_grad] == ["log_scales.cross"]
    assert loss.temperatures() == pytest.approx(
        {"cross": 0.1, "text": 0.1, "motion": 0.1, "teacher": 0.1}
    )


@pytest.mark.parametrize(
    "kind", ["infonce", "infonce_filtered", "sh", "mh", "droptriple", "mildtriple", "cccl"]
)
def test_every_configured_loss_backpropagates(kind):
    torch.manual_seed(1)
    text = torch.randn(8, 16, requires_grad=True)
    motion = torch.randn(8, 16, requires_grad=True)
    sentence = F.normalize(torch.randn(8, 4), dim=-1)
    loss = RetrievalLoss(LossConfig(kind=kind, hard_negative_after_epochs=1))
    out = loss(F.normalize(text, dim=-1), F.normalize(motion, dim=-1), sentence, 0.5, epoch=3)
    out.total.backward()
    assert torch.isfinite(out.total) and text.grad.abs().sum() > 0 and motion.grad.abs().sum() > 0


def test_sh_before_warmup_mh_after():
    loss = RetrievalLoss(LossConfig(kind="mh", hard_negative_after_epochs=2))
    x = F.normalize(torch.randn(5, 4), dim=-1)
    assert loss(x, x, x, 0.0, epoch=1).parts["hardest"] == 0.0
    assert loss(x, x, x, 0.5, epoch=2).parts["hardest"] == 1.0


def test_gaussian_kl_and_reconstruction():
    mu, logvar = torch.randn(3, 4), torch.randn(3, 4)
    assert gaussian_kl(mu, logvar, mu, logvar).item() == pytest.approx(0.0, abs=1e-6)
    assert gaussian_kl(mu, logvar, torch.zeros(3, 4), torch.zeros(3, 4)).item() > 0
    target = torch.zeros(2, 5, 3)
    predicted = target.clone()
    predicted[:, 3:] = 10.0  # wrong only on padded frames
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 0, 0]], dtype=torch.bool)
    assert reconstruction_loss(predicted, target, mask).item() == 0.0


def test_drop_and_mild_triple_warm_up_without_dropping():
    # at initialisation every embedding looks alike: were negatives dropped during the
    # warm-up, the loss would be zero and nothing would be learned
    x = F.normalize(torch.ones(6, 4) + 0.01 * torch.randn(6, 4), dim=-1)
    y = F.normalize(torch.ones(6, 4) + 0.01 * torch.randn(6, 4), dim=-1)
    for kind in ("droptriple", "mildtriple"):
        loss = RetrievalLoss(LossConfig(kind=kind, hard_negative_after_epochs=2))
        warm = loss(x, y, x, 0.0, epoch=0)
        assert warm.total.item() == pytest.approx(triplet_loss(x, y, 0.2, hardest=False).item())
        assert warm.total.item() > 0
        later = loss(x, y, x, 0.5, epoch=2)
        assert later.total.item() < warm.total.item()


def _temperature_only_optimisation(
    loss: RetrievalLoss, *embeddings, steps: int = 400, lr: float = 0.05
) -> None:
    optimizer = torch.optim.Adam(loss.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        loss(*embeddings, progress=1.0, epoch=99).total.backward()
        optimizer.step()
        loss.bound_temperatures()


def test_temperatures_alone_cannot_lower_the_loss_below_what_the_embeddings_allow():
    """Embeddings of a model that has learnt nothing (random, fixed): optimising only
    the temperatures must leave CCCL's consistency terms as they are and cannot take the
    InfoNCE part below its value at the bounded temperature that suits it best."""
    from engine.losses import TEMPERATURE_MAX, TEMPERATURE_MIN

    torch.manual_seed(0)
    text, motion, sentence = (F.normalize(torch.randn(64, 32), dim=-1) for _ in range(3))
    loss = RetrievalLoss(LossConfig(kind="cccl"))
    before = loss(text, motion, sentence, progress=1.0, epoch=99)
    _temperature_only_optimisation(loss, text, motion, sentence)
    after = loss(text, motion, sentence, progress=1.0, epoch=99)
    # the targets' temperatures cannot move, so neither can what the KL terms measure by
    # flattening both sides; the cross-modal one can only calibrate against them
    assert after.parts["cross_consistency"] >= 0.5 * before.parts["cross_consistency"]
    assert TEMPERATURE_MIN <= loss.temperatures()["cross"] <= TEMPERATURE_MAX
    best_nce = min(
        info_nce(text, motion, t).item()
        for t in np.geomspace(TEMPERATURE_MIN, TEMPERATURE_MAX, 200)
    )
    assert after.parts["infonce"] >= best_nce - 1e-3
    # with random embeddings no temperature beats chance: log(batch) within a few percent
    assert after.parts["infonce"] >= 0.95 * math.log(64)


def test_temperature_bounds_hold_under_optimisation():
    """Perfectly aligned embeddings reward an ever lower temperature: it stops at 0.01."""
    from engine.losses import TEMPERATURE_MIN

    x = F.normalize(torch.randn(16, 32), dim=-1)
    loss = RetrievalLoss(LossConfig(kind="infonce", learnable_temperature=True))
    _temperature_only_optimisation(loss, x, x, x, steps=300, lr=0.5)
    assert loss.temperatures()["cross"] == pytest.approx(TEMPERATURE_MIN, rel=1e-4)
