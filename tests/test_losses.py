"""Hand-computed values for the losses (contrastomics.losses)."""
import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from contrastomics.losses import (ClipLoss, GtClipLoss, info_nce, jaccard_matrix, overlap_coefficient_matrix,
                                  proximity_block, reconstruction_loss, soft_targets)

E = math.e
P_DIAG = E / (E + 1)  # softmax of logits [1, 0]


def test_info_nce_hard_two_pairs():
    a = torch.eye(2)
    # logits = I: each row's CE = -log(e / (e + 1)) = log(1 + 1/e) = 0.313262
    assert info_nce(a, a, 1.0).item() == pytest.approx(math.log(1 + 1 / E), abs=1e-6)
    assert info_nce(a, a, 1.0).item() == pytest.approx(0.313262, abs=1e-6)


def test_info_nce_is_asymmetric_only_through_logits():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    b = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    # logits (scale 2) = [[2, 2], [0, 0]]: a->b rows: -log(1/2), -log(1/2); b->a (transpose
    # [[2, 0], [2, 0]]): row0 -log(e^2/(e^2+1)), row1 -log(1/(e^2+1))
    ab = math.log(2)
    ba = 0.5 * (math.log(1 + math.exp(-2)) + math.log(math.exp(2) + 1))
    assert info_nce(a, b, 2.0).item() == pytest.approx(0.5 * (ab + ba), abs=1e-6)


def test_jaccard_and_overlap_matrices():
    m = torch.tensor([[1.0, 1, 0], [0, 1, 1], [1, 1, 1]])
    j = jaccard_matrix(m)
    assert j[0, 1].item() == pytest.approx(1 / 3)
    assert j[0, 2].item() == pytest.approx(2 / 3)
    assert j[1, 2].item() == pytest.approx(2 / 3)
    assert torch.allclose(torch.diagonal(j), torch.ones(3))
    o = overlap_coefficient_matrix(m)
    assert o[0, 1].item() == pytest.approx(0.5)
    assert o[0, 2].item() == pytest.approx(1.0)
    # sparse input gives the same numbers
    assert torch.allclose(jaccard_matrix(m.to_sparse()), j)


def test_soft_targets_rows():
    sim = torch.tensor([[1.0, 0.5, 0.0], [0.5, 1.0, 0.25], [0.0, 0.0, 1.0]])
    t = soft_targets(sim, 0.2)
    # row 0: only j=1 overlaps -> [0.8, 0.2, 0]; row 1: 0.5 and 0.25 -> 0.2 * [2/3, 1/3]
    assert torch.allclose(t[0], torch.tensor([0.8, 0.2, 0.0]))
    assert torch.allclose(t[1], torch.tensor([0.2 * 2 / 3, 0.8, 0.2 / 3]))
    # row 2 overlaps nothing: all mass stays on the identity
    assert torch.allclose(t[2], torch.tensor([0.0, 0.0, 1.0]))
    assert torch.allclose(t.sum(1), torch.ones(3))


def test_soft_info_nce_value():
    a = torch.eye(2)
    targets = torch.tensor([[0.8, 0.2], [0.2, 0.8]])
    expected = -(0.8 * math.log(P_DIAG) + 0.2 * math.log(1 - P_DIAG))
    assert info_nce(a, a, 1.0, targets).item() == pytest.approx(expected, abs=1e-6)
    assert expected == pytest.approx(0.513262, abs=1e-6)


def test_clip_loss_soft_vs_hard():
    a = torch.eye(2)
    membership = torch.tensor([[1.0, 1, 0, 0], [0, 1, 1, 0]])  # Jaccard 1/3 -> rownorm 1
    hard = ClipLoss(0.0)(a, a, torch.tensor(1.0), membership)
    soft = ClipLoss(0.2)(a, a, torch.tensor(1.0), membership)
    assert hard.item() == pytest.approx(0.313262, abs=1e-6)
    assert soft.item() == pytest.approx(0.513262, abs=1e-6)
    # disjoint sets: soft targets fall back to the identity
    disjoint = torch.tensor([[1.0, 0, 0, 0], [0, 0, 1, 0]])
    assert ClipLoss(0.2)(a, a, torch.tensor(1.0), disjoint).item() == pytest.approx(0.313262, abs=1e-6)


def test_gtclip_loss_adds_weighted_reconstruction():
    a = torch.eye(2)
    logits = torch.zeros(2, 4)  # sigmoid 0.5 everywhere -> BCE = log 2
    target = torch.tensor([[1.0, 0, 0, 1], [0, 1, 0, 0]])
    loss, logs = GtClipLoss(0.0, recon_weight=0.5)(a, a, torch.tensor(1.0), target, logits, target)
    assert logs["recon"] == pytest.approx(math.log(2), abs=1e-6)
    assert loss.item() == pytest.approx(0.313262 + 0.5 * math.log(2), abs=1e-6)
    loss0, logs0 = GtClipLoss(0.0, recon_weight=0.0)(a, a, torch.tensor(1.0), target, logits, target)
    assert "recon" not in logs0 and loss0.item() == pytest.approx(0.313262, abs=1e-6)


def test_gradient_flows_to_both_towers():
    a = torch.nn.functional.normalize(torch.randn(4, 3), dim=1).requires_grad_()
    b = torch.nn.functional.normalize(torch.randn(4, 3), dim=1).requires_grad_()
    scale = torch.tensor(10.0, requires_grad=True)
    ClipLoss(0.3)(a, b, scale, torch.eye(4)).backward()
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0 and scale.grad is not None


def test_reconstruction_losses_match_manual_formulas():
    torch.manual_seed(0)
    logits = torch.randn(2, 7)
    target = torch.tensor([[0, 0, 1, 1, 0, 1, 0], [0, 0, 0, 1, 1, 0, 0]], dtype=torch.float)
    mask = torch.tensor([[0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0]], dtype=torch.float)
    lg, t, mk = logits[:, 2:], target[:, 2:], mask[:, 2:]
    bce = torch.nn.functional.binary_cross_entropy_with_logits(lg, t, reduction="none")
    assert torch.isclose(reconstruction_loss(logits, target, mask, "none"), bce.mean())
    assert torch.isclose(reconstruction_loss(logits, target, mask, "unseen"), bce[mk == 0].mean())
    # softmax unseen: input genes leave the softmax and the target
    manual = []
    for r in range(2):
        keep = mk[r] == 0
        logp = torch.log_softmax(lg[r][keep], 0)
        manual.append(-(logp * t[r][keep]).sum() / t[r][keep].sum())
    assert torch.isclose(reconstruction_loss(logits, target, mask, "unseen", "softmax"), torch.stack(manual).mean())


# ---------------------------------------------------------------------- ontology-aware soft targets
S4 = torch.tensor([[1.0, 0.5, 0.0, 0.0], [0.5, 1.0, 0.25, 0.0], [0.0, 0.25, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
P4 = torch.tensor([[1.0, 0.0, 0.6, 0.2], [0.0, 1.0, 0.0, 0.0], [0.6, 0.0, 1.0, 0.0], [0.2, 0.0, 0.0, 1.0]])


def _old_soft_targets(similarity, w):  # the overlap-only targets before the ontology part existed
    n = similarity.shape[0]
    eye = torch.eye(n, dtype=similarity.dtype)
    s = similarity * (1 - eye)
    rs = s.sum(dim=1, keepdim=True)
    has = rs > 0
    s = torch.where(has, s / rs.clamp_min(1e-12), torch.zeros_like(s))
    w = w * has.to(similarity.dtype)
    return (1 - w) * eye + w * s


def test_mixed_soft_targets_rows_by_hand():
    t = soft_targets(S4, 0.2, P4, 0.3)
    # row 0: overlap only with 1 -> 0.2; ontology 0.6 : 0.2 -> 0.3 * [0.75, 0.25]; identity 0.5
    assert torch.allclose(t[0], torch.tensor([0.5, 0.2, 0.225, 0.075]))
    # row 1: overlap 0.5 : 0.25 -> 0.2 * [2/3, 1/3]; no ontology relation: its 0.3 goes back to the identity
    assert torch.allclose(t[1], torch.tensor([0.2 * 2 / 3, 0.8, 0.2 / 3, 0.0]))
    # row 2: both parts
    assert torch.allclose(t[2], torch.tensor([0.3, 0.2, 0.5, 0.0]))
    # row 3: no overlap, ontology only
    assert torch.allclose(t[3], torch.tensor([0.3, 0.0, 0.0, 0.7]))
    assert torch.allclose(t.sum(1), torch.ones(4))
    # ontology only (no overlap part)
    t_k = soft_targets(None, 0.0, P4, 0.4)
    assert torch.allclose(t_k[0], torch.tensor([0.6, 0.0, 0.3, 0.1])) and torch.allclose(t_k[1], torch.eye(4)[1])


def test_zero_ontology_weight_is_todays_loss_exactly():
    torch.manual_seed(1)
    a = torch.nn.functional.normalize(torch.randn(6, 5), dim=1)
    b = torch.nn.functional.normalize(torch.randn(6, 5), dim=1)
    m = (torch.rand(6, 20) < 0.3).float()
    scale = torch.tensor(7.0)
    old = info_nce(a, b, scale, _old_soft_targets(jaccard_matrix(m), 0.3))
    assert torch.equal(soft_targets(jaccard_matrix(m), 0.3), _old_soft_targets(jaccard_matrix(m), 0.3))
    assert torch.equal(soft_targets(jaccard_matrix(m), 0.3, P4.repeat(2, 2)[:6, :6], 0.0),
                       _old_soft_targets(jaccard_matrix(m), 0.3))
    ids = torch.arange(6)
    assert torch.equal(ClipLoss(0.3)(a, b, scale, m), old)
    prox = sp.random(6, 6, density=0.5, random_state=0, format="csr")
    assert torch.equal(ClipLoss(0.3, ontology_weight=0.0, proximity=prox)(a, b, scale, m, ids), old)
    assert torch.equal(GtClipLoss(0.3)(a, b, scale, m)[0], old)


def test_ontology_targets_indexed_per_batch_and_gradients_flow():
    # proximity over 5 training sets; the batch holds sets 3, 0, 4 (in that order)
    full = np.zeros((5, 5), np.float32)
    full[0, 3] = full[3, 0] = 0.8
    full[0, 4] = full[4, 0] = 0.2
    prox = sp.csr_matrix(full)
    ids = torch.tensor([3, 0, 4])
    block = proximity_block(prox, ids)
    assert torch.equal(block, torch.tensor([[0.0, 0.8, 0.0], [0.8, 0.0, 0.2], [0.0, 0.2, 0.0]]))
    a = torch.nn.functional.normalize(torch.randn(3, 4), dim=1).requires_grad_()
    b = torch.nn.functional.normalize(torch.randn(3, 4), dim=1).requires_grad_()
    scale = torch.tensor(5.0, requires_grad=True)
    disjoint = torch.eye(3)  # no gene overlap: only the ontology part is soft
    loss = ClipLoss(0.2, ontology_weight=0.5, proximity=prox)(a, b, scale, disjoint, ids)
    expected = info_nce(a, b, scale, torch.tensor([[0.5, 0.5, 0.0], [0.4, 0.5, 0.1], [0.0, 0.5, 0.5]]))
    assert loss.item() == pytest.approx(expected.item(), abs=1e-6)
    assert loss.item() != pytest.approx(info_nce(a, b, scale).item(), abs=1e-4)
    loss.backward()
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0 and scale.grad is not None
    total, logs = GtClipLoss(0.0, ontology_weight=0.5, proximity=prox)(a, b, scale, None, set_ids=ids)
    assert logs["contrastive"] == pytest.approx(loss.item(), abs=1e-6)


def test_ontology_weight_checks():
    with pytest.raises(ValueError, match="proximity"):
        ClipLoss(0.1, ontology_weight=0.2)
    with pytest.raises(ValueError, match="sum <= 1"):
        ClipLoss(0.7, ontology_weight=0.5, proximity=sp.eye(2, format="csr"))
    with pytest.raises(ValueError, match="set_ids"):
        ClipLoss(0.0, ontology_weight=0.5, proximity=sp.eye(2, format="csr"))(torch.eye(2), torch.eye(2), 1.0)
