"""Every loss of the package: contrastive (gtCLIP, CAL, CoMTIP), text distillation, reconstruction, CoMTIP's total.

Contrastive losses take L2-normalised features ``(batch, dim)`` from two towers and a logit scale
(``1 / temperature``). Under DDP, :func:`gather_features` concatenates features from every rank
(keeping the gradient of the local shard) so that each rank sees the whole global batch of
negatives, as open_clip's ``ClipLoss`` does.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F


def gather_features(x: torch.Tensor) -> torch.Tensor:
    """All-gather ``x`` ``(b, d)`` across ranks -> ``(world * b, d)``; the local slice keeps its
    gradient. Identity when not distributed."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return x
    parts = [torch.zeros_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.detach().contiguous())
    parts[dist.get_rank()] = x
    return torch.cat(parts, dim=0)


def info_nce(a: torch.Tensor, b: torch.Tensor, logit_scale: torch.Tensor | float,
             targets: torch.Tensor | None = None) -> torch.Tensor:
    """Symmetric InfoNCE between paired rows of ``a`` and ``b`` (both ``(n, d)``, normalised).

    ``logits = logit_scale * a @ b.T``; the loss is the mean of the a->b and b->a cross-entropies.
    With ``targets`` ``(n, n)`` (rows summing to 1) it is the soft-target version; the b->a
    direction uses ``targets.T`` renormalised by row.
    """
    logits = logit_scale * a @ b.T
    if targets is None:
        labels = torch.arange(a.shape[0], device=a.device)
        return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))
    t_ab = targets / targets.sum(dim=1, keepdim=True).clamp_min(1e-12)
    t_ba = targets.T / targets.T.sum(dim=1, keepdim=True).clamp_min(1e-12)
    loss_ab = -(t_ab * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    loss_ba = -(t_ba * F.log_softmax(logits.T, dim=1)).sum(dim=1).mean()
    return 0.5 * (loss_ab + loss_ba)


def jaccard_matrix(m: torch.Tensor) -> torch.Tensor:
    """Jaccard similarity between the rows of a 0/1 matrix ``m`` ``(n, g)`` (dense or sparse)."""
    inter = (m @ m.T).to_dense() if m.is_sparse else m @ m.T
    size = torch.diagonal(inter)
    union = size[:, None] + size[None, :] - inter
    return torch.where(union > 0, inter / union.clamp_min(1e-12), torch.zeros_like(inter))


def overlap_coefficient_matrix(m: torch.Tensor) -> torch.Tensor:
    """Overlap coefficient |A & B| / min(|A|, |B|) between rows of a 0/1 matrix ``(n, g)``."""
    inter = (m @ m.T).to_dense() if m.is_sparse else m @ m.T
    size = torch.diagonal(inter)
    denom = torch.minimum(size[:, None], size[None, :])
    return torch.where(denom > 0, inter / denom.clamp_min(1e-12), torch.zeros_like(inter))


def _offdiag_rownorm(s: torch.Tensor, eye: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``s`` with its diagonal zeroed, rows normalised to sum 1; ``has`` ``(n, 1)``: the row had mass."""
    s = s * (1 - eye)
    rs = s.sum(dim=1, keepdim=True)
    has = rs > 0
    return torch.where(has, s / rs.clamp_min(1e-12), torch.zeros_like(s)), has


def soft_targets(similarity: torch.Tensor | None, overlap_weight: float,
                 proximity: torch.Tensor | None = None, ontology_weight: float = 0.0) -> torch.Tensor:
    """Targets ``(1 - w_o - w_k) I + w_o rownorm(S) + w_k rownorm(P)``, diagonals excluded.

    ``S`` ``(n, n)``: gene-set similarity (overlap), weight ``w_o = overlap_weight``; ``P`` ``(n, n)``:
    ontology proximity of the batch's terms, weight ``w_k = ontology_weight``. A row without any
    related set in the batch under ``S`` (resp. ``P``) gives that part's mass back to the identity,
    so every row sums to 1. With ``proximity=None`` or ``w_k = 0`` the result is exactly the
    overlap-only targets ``(1 - w_o) I + w_o rownorm(S)``.
    """
    ref = similarity if similarity is not None else proximity
    n = ref.shape[0]
    eye = torch.eye(n, device=ref.device, dtype=ref.dtype)
    if similarity is not None:
        s, has = _offdiag_rownorm(similarity, eye)
        w = overlap_weight * has.to(ref.dtype)
    else:
        s, w = torch.zeros_like(eye), torch.zeros((n, 1), device=ref.device, dtype=ref.dtype)
    if proximity is None or ontology_weight == 0:
        return (1 - w) * eye + w * s
    p, has_k = _offdiag_rownorm(proximity.to(ref.dtype), eye)
    wk = ontology_weight * has_k.to(ref.dtype)
    return (1 - w - wk) * eye + w * s + wk * p


def proximity_block(proximity, ids: torch.Tensor) -> torch.Tensor:
    """The ``(b, b)`` block ``proximity[ids][:, ids]`` of a precomputed ``(n_sets, n_sets)`` matrix
    (scipy sparse, NumPy or torch) as a dense float32 tensor on ``ids``' device."""
    idx = ids.detach().cpu().numpy()
    if torch.is_tensor(proximity):
        block = proximity.to_dense()[idx][:, idx] if proximity.is_sparse else proximity[idx][:, idx]
        return block.to(device=ids.device, dtype=torch.float32)
    block = proximity[idx][:, idx]
    block = block.toarray() if hasattr(block, "toarray") else np.asarray(block)
    return torch.as_tensor(np.asarray(block, np.float32), device=ids.device)


class ClipLoss(nn.Module):
    """Symmetric InfoNCE over the global batch, optionally with soft targets (gene overlap and
    ontology proximity, :func:`soft_targets`).

    Parameters
    ----------
    overlap_weight
        ``w_o`` in ``T = (1 - w_o - w_k) I + w_o rownorm(S) + w_k rownorm(P)``; 0 with ``w_k = 0``
        gives hard (identity) targets.
    similarity
        ``"jaccard"`` or ``"overlap"`` (overlap coefficient) between the batch's gene sets.
    ontology_weight
        ``w_k``: weight of the ontology proximity ``P`` (0: off, today's loss exactly).
    proximity
        Precomputed ``(n_sets, n_sets)`` proximity over the training sets (scipy sparse, e.g.
        top-k simGIC neighbours); the batch's block is taken with the ``set_ids`` given to
        :meth:`forward`. Needed when ``ontology_weight > 0``.
    """

    def __init__(self, overlap_weight: float = 0.0, similarity: str = "jaccard", ontology_weight: float = 0.0,
                 proximity=None):
        super().__init__()
        if similarity not in {"jaccard", "overlap"}:
            raise ValueError("similarity must be 'jaccard' or 'overlap'")
        if not (0 <= overlap_weight <= 1 and 0 <= ontology_weight <= 1 and overlap_weight + ontology_weight <= 1):
            raise ValueError(f"overlap_weight ({overlap_weight}) and ontology_weight ({ontology_weight}) must be "
                             "in [0, 1] with a sum <= 1")
        if ontology_weight > 0 and proximity is None:
            raise ValueError("ontology_weight > 0 needs a proximity matrix over the training sets")
        self.overlap_weight = overlap_weight
        self.similarity = similarity
        self.ontology_weight = ontology_weight
        self.proximity = proximity

    def forward(self, a: torch.Tensor, b: torch.Tensor, logit_scale: torch.Tensor,
                membership: torch.Tensor | None = None, set_ids: torch.Tensor | None = None) -> torch.Tensor:
        """``set_ids`` ``(b,)``: the batch's rows of ``proximity`` (gathered across ranks like the features)."""
        a, b = gather_features(a), gather_features(b)
        sim = prox = None
        if self.overlap_weight > 0 and membership is not None:
            m = gather_features(membership.to_dense() if membership.is_sparse else membership)
            sim = jaccard_matrix(m) if self.similarity == "jaccard" else overlap_coefficient_matrix(m)
        if self.ontology_weight > 0:
            if set_ids is None:
                raise ValueError("ontology_weight > 0 needs the batch's set_ids")
            prox = proximity_block(self.proximity, gather_features(set_ids)).to(a.dtype)
        targets = soft_targets(sim, self.overlap_weight, prox, self.ontology_weight) \
            if sim is not None or prox is not None else None
        return info_nce(a, b, logit_scale, targets)


def text_distillation_loss(text: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
    """MSE between the in-batch cosine matrices of the text tower's output ``text`` and of the frozen
    base-encoder vectors ``base`` (both ``(b, d)``, any scale; rows are normalised here), over the
    off-diagonal pairs: 0 when the tower keeps the base geometry. Local batch (not gathered)."""
    t = F.normalize(text, dim=-1)
    b = F.normalize(base.to(t.dtype), dim=-1)
    n = t.shape[0]
    if n < 2:
        return t.sum() * 0.0
    off = ~torch.eye(n, dtype=torch.bool, device=t.device)
    return F.mse_loss((t @ t.T)[off], (b @ b.T)[off])


class GtClipLoss(nn.Module):
    """gtCLIP objective: (soft-target) symmetric InfoNCE + ``recon_weight`` * reconstruction BCE.

    ``loss = ClipLoss(gene, text) + recon_weight * BCE(recon_logits, recon_target) + distill_weight *
    text_distillation_loss(text, base_text)``: the reconstruction term anchors the gene-set encoder
    to gene content, the distillation term the text tower to the base encoder's geometry.

    Parameters
    ----------
    overlap_weight
        ``w`` of the soft targets (0: hard InfoNCE).
    similarity
        ``"jaccard"`` or ``"overlap"`` between the batch's gene sets.
    recon_weight
        Weight of the reconstruction BCE (0: off).
    ontology_weight, proximity
        Ontology part of the soft targets (see :class:`ClipLoss`).
    distill_weight
        Weight of :func:`text_distillation_loss` (0: off).
    """

    def __init__(self, overlap_weight: float = 0.0, similarity: str = "jaccard", recon_weight: float = 0.0,
                 ontology_weight: float = 0.0, proximity=None, distill_weight: float = 0.0):
        super().__init__()
        if distill_weight < 0:
            raise ValueError(f"distill_weight must be >= 0, not {distill_weight}")
        self.clip = ClipLoss(overlap_weight, similarity, ontology_weight, proximity)
        self.recon_weight = recon_weight
        self.distill_weight = distill_weight

    def forward(self, gene: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor,
                membership: torch.Tensor | None = None, recon_logits: torch.Tensor | None = None,
                recon_target: torch.Tensor | None = None, set_ids: torch.Tensor | None = None,
                base_text: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
        """Returns ``(loss, {"contrastive", "recon", "distill": float})``; ``membership`` ``(b, g)``
        0/1 feeds the overlap targets, ``set_ids`` ``(b,)`` the ontology ones, ``recon_logits``/
        ``recon_target`` ``(b, g')`` the BCE, ``base_text`` ``(b, d_base)`` the distillation."""
        contrastive = self.clip(gene, text, logit_scale, membership, set_ids)
        logs = {"contrastive": float(contrastive.detach())}
        loss = contrastive
        if self.distill_weight > 0:
            if base_text is None:
                raise ValueError("distill_weight > 0 needs the batch's base text vectors")
            distill = text_distillation_loss(text, base_text)
            loss = loss + self.distill_weight * distill
            logs["distill"] = float(distill.detach())
        if self.recon_weight > 0 and recon_logits is not None:
            if recon_target is None:
                raise ValueError("recon_target is needed with recon_logits")
            recon = F.binary_cross_entropy_with_logits(recon_logits, recon_target)
            loss = loss + self.recon_weight * recon
            logs["recon"] = float(recon.detach())
        return loss, logs


def reconstruction_loss(logits: torch.Tensor, target: torch.Tensor, input_mask: torch.Tensor,
                        weighted_loss: str = "none", loss: str = "bce") -> torch.Tensor:
    """Reconstruction loss of gene logits ``(b, vocab)`` against the set's multi-hot ``target``.

    ``loss='bce'``: ``none`` averages BCE over every gene; ``unseen`` scores only genes outside
    the input part; ``balance`` weights positives by the per-set negative/positive ratio.
    ``loss='softmax'``: mean over sets of ``-sum_j target_j log softmax(logits)_j / |target|``;
    with ``unseen`` the input genes are removed from both the softmax and the target, so the model
    is trained on exactly the completion task. Special-token columns 0-1 are never scored.
    """
    logits, target, input_mask = logits[:, 2:], target[:, 2:], input_mask[:, 2:]
    if loss == "softmax":
        if weighted_loss == "unseen":
            seen = input_mask > 0
            logits = logits.masked_fill(seen, float("-inf"))
            target = target.masked_fill(seen, 0.0)
        logp = torch.log_softmax(logits, dim=1)
        n = target.sum(dim=1)
        ok = n > 0
        nll = -(torch.where(target > 0, logp, torch.zeros_like(logp))).sum(dim=1)
        return (nll[ok] / n[ok]).mean() if ok.any() else logits.sum() * 0.0
    if weighted_loss == "unseen":
        w = 1.0 - input_mask
        return (F.binary_cross_entropy_with_logits(logits, target, reduction="none") * w).sum() / w.sum().clamp_min(1)
    if weighted_loss == "balance":
        pos = target.sum(dim=1, keepdim=True).clamp_min(1)
        neg = target.shape[1] - pos
        pos_weight = (neg / pos)
        w = torch.where(target > 0, pos_weight, torch.ones_like(target))
        return (F.binary_cross_entropy_with_logits(logits, target, reduction="none") * w).sum() / w.sum()
    return F.binary_cross_entropy_with_logits(logits, target)


def comtip_loss(model: nn.Module, out: dict, values: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
    """CoMTIP's total loss and its parts: InfoNCE(image, gene) + MFM + PAAT (+ regression MSE).

    ``out`` is the dict of :meth:`CoMTIP.forward <contrastomics.models.comtip.CoMTIP.forward>`;
    the weights and the PAAT margin come from ``model.config``; ``values`` ``(B, n_genes)`` feed
    the regression head's MSE.
    """
    cfg = model.config
    logs, total = {}, 0.0
    if "gene" in out and "image" in out:
        l_clip = info_nce(out["image"], out["gene"], out["logit_scale"])
        total = total + l_clip
        logs["clip"] = float(l_clip.detach())
    if "mfm_pred" in out:
        l_mfm = F.mse_loss(out["mfm_pred"], out["mfm_target"])
        total = total + cfg.mfm_weight * l_mfm
        logs["mfm"] = float(l_mfm.detach())
    if "disc_logits" in out:
        l_disc = F.binary_cross_entropy_with_logits(out["disc_logits"], out["disc_labels"])
        total = total + cfg.paat_weight * l_disc
        logs["paat_disc"] = float(l_disc.detach())
        if "image" in out:
            s_pos = (out["image"] * out["gene"]).sum(-1)
            s_neg = (out["image"] * out["gene_swapped"]).sum(-1)
            l_margin = F.relu(cfg.paat_margin - (s_pos - s_neg)).mean()
            total = total + cfg.paat_weight * l_margin
            logs["paat_margin"] = float(l_margin.detach())
    if "regression" in out and values is not None:
        l_reg = F.mse_loss(out["regression"], values.float())
        total = total + cfg.regression_weight * l_reg
        logs["mse"] = float(l_reg.detach())
    return total, logs
