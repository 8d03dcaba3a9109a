"""CoMTIP: contrastive masked text-image pretraining for spatial transcriptomics (Qian et al. 2025).

An image tower (a small ViT over the H&E patch of a spot, with Masked Feature Modeling) and a
gene-text tower (a set encoder over the spot's genes: name embedding + value embedding, with
Pair-aware Adversarial Training) aligned by InfoNCE. Config, architecture and inference
(BLEEP-style zero-shot retrieval: :func:`predict_expression`) live here; the loss is
:func:`~contrastomics.losses.comtip_loss`, training :mod:`contrastomics.training.comtip`, and
the design notes ``docs/comtip.md``.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .._io import atomic_path
from ..errors import InputError
from .base import ModelConfig, Pretrained, register_model
from .vit import Block, MFMDecoder, ViT, load_vit_weights

_PIXEL_MEAN = (0.70, 0.55, 0.72)
_PIXEL_STD = (0.16, 0.18, 0.13)


@dataclass
class CoMTIPConfig(ModelConfig):
    """Architecture and loss switches. Defaults train one HER2ST fold on one CPU core in minutes.

    Image branch: ``image_size`` px patches cut into ``patch_size`` px tokens; ViT of ``vit_depth``
    layers, width ``vit_dim``. ``mfm`` turns Masked Feature Modeling on (``mask_ratio`` of tokens
    hidden; ``mfm_target`` ``"pixel"`` = per-token normalised pixels, MAE-style, or ``"feature"``
    = the unmasked encoder's own token features, stop-gradient, layer-normalised).

    Gene branch: each gene token (name + value) goes through a gene-wise MLP, then
    ``gene_depth`` self-attention layers across genes (0 by default: attention over 250 genes
    costs ~8x the rest of a CPU training step) and multi-head attention pooling. ``gene_encoder`` ``"set"`` (CoMTIP) or ``"mlp"`` (BLEEP-style MLP on the value
    vector); ``use_gene_names`` uses the text-tower name embeddings, otherwise a learned per-gene
    index embedding (values-only ablation). ``paat`` adds Pair-aware Adversarial Training with
    ``paat_swap_fraction`` of genes swapped per negative.
    """

    genes: tuple = ()
    image_size: int = 48
    patch_size: int = 8
    vit_dim: int = 96
    vit_depth: int = 3
    vit_heads: int = 4
    mlp_ratio: float = 2.0
    dropout: float = 0.1
    image_weights: str | None = None
    mfm: bool = True
    mask_ratio: float = 0.5
    mfm_target: str = "pixel"
    mfm_weight: float = 1.0
    contrastive: bool = True
    gene_encoder: str = "set"
    use_gene_names: bool = True
    text_dim: int = 384
    gene_dim: int = 64
    gene_depth: int = 0
    gene_heads: int = 4
    paat: bool = True
    paat_swap_fraction: float = 0.3
    paat_weight: float = 0.5
    paat_margin: float = 0.2
    embed_dim: int = 64
    init_temperature: float = 0.07
    regression_head: bool = False
    regression_weight: float = 1.0
    model_type: str = "comtip"

    display_name: ClassVar[str] = "CoMTIP"

    def __post_init__(self):
        self.genes = tuple(self.genes)
        if self.image_size % self.patch_size:
            raise InputError(f"image_size {self.image_size} must be a multiple of patch_size {self.patch_size}")
        if self.gene_encoder not in {"set", "mlp"}:
            raise InputError(f"gene_encoder must be 'set' or 'mlp', got {self.gene_encoder!r}")
        if self.mfm_target not in {"pixel", "feature"}:
            raise InputError(f"mfm_target must be 'pixel' or 'feature', got {self.mfm_target!r}")
        if not 0 < self.mask_ratio < 1:
            raise InputError(f"mask_ratio must be in (0, 1), got {self.mask_ratio}")
        if not (self.contrastive or self.regression_head):
            raise InputError("a model needs contrastive=True or regression_head=True")
        if self.paat and (not self.contrastive or self.gene_encoder != "set"):
            self.paat = False  # PAAT is defined on the gene-text set encoder only

    @property
    def n_genes(self) -> int:
        return len(self.genes)



# ---------------------------------------------------------------------- gene-text branch
class GeneTextEncoder(nn.Module):
    """Set encoder over a spot's genes: token = name embedding + value embedding; no positions."""

    def __init__(self, cfg: CoMTIPConfig, name_table: torch.Tensor | None):
        super().__init__()
        d = cfg.gene_dim
        self.use_names = cfg.use_gene_names
        if self.use_names:
            if name_table is None:
                name_table = torch.zeros(cfg.n_genes, cfg.text_dim)
            # frozen text-tower output; only the projection trains
            self.register_buffer("name_table", name_table.float().clone(), persistent=True)
            self.name_proj = nn.Sequential(nn.Linear(cfg.text_dim, d), nn.GELU(), nn.Linear(d, d))
        else:
            self.gene_id = nn.Embedding(cfg.n_genes, d)
        self.value = nn.Sequential(nn.Linear(1, d), nn.GELU(), nn.Linear(d, d))
        # The "gene sentence" is an MLP over [name ; value]: a sum name + value would make the
        # pooled spot vector (to first order) a bag of values blind to which gene holds which
        # value, and PAAT would have nothing to learn from. Both halves are layer-normalised
        # so unit-norm text vectors are not drowned by the value embedding.
        self.name_norm = nn.LayerNorm(d)
        self.value_norm = nn.LayerNorm(d)
        self.token_mlp = nn.Sequential(nn.Linear(2 * d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.blocks = nn.ModuleList([Block(d, cfg.gene_heads, 2.0, cfg.dropout) for _ in range(cfg.gene_depth)])
        self.pool_query = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.pool = nn.MultiheadAttention(d, cfg.gene_heads, batch_first=True)
        self.norm = nn.LayerNorm(d)

    def gene_tokens(self) -> torch.Tensor:
        return self.name_norm(self.name_proj(self.name_table) if self.use_names else self.gene_id.weight)

    def forward(self, values: torch.Tensor, return_tokens: bool = False):
        """``values`` ``(B, G)`` log expression -> pooled ``(B, gene_dim)`` (and the gene tokens
        ``(B, G, gene_dim)`` with ``return_tokens``)."""
        v = self.value_norm(self.value(values[..., None]))                 # (B, G, d)
        n = self.gene_tokens()[None].expand_as(v)
        t = self.token_mlp(torch.cat([n, v], dim=-1))
        for blk in self.blocks:
            t = blk(t)
        t = self.norm(t)
        pooled = self.pool(self.pool_query.expand(t.shape[0], -1, -1), t, t, need_weights=False)[0][:, 0]
        return (pooled, t) if return_tokens else pooled


class ValueMLPEncoder(nn.Module):
    """BLEEP-style expression encoder: an MLP on the ordered value vector (no gene semantics)."""

    def __init__(self, cfg: CoMTIPConfig):
        super().__init__()
        d = cfg.gene_dim
        self.net = nn.Sequential(nn.Linear(cfg.n_genes, 4 * d), nn.GELU(), nn.Dropout(cfg.dropout),
                                 nn.Linear(4 * d, d), nn.LayerNorm(d))

    def forward(self, values):
        return self.net(values)


def swap_values(values: torch.Tensor, fraction: float, generator: torch.Generator | None = None,
                return_mask: bool = False):
    """PAAT negatives: in each spot, permute the values of a random ``fraction`` of its genes
    among themselves (a derangement by cyclic shift, so every chosen gene gets another's value).
    Gene identities and the spot's value distribution are unchanged; only the pairing breaks.
    With ``return_mask`` also returns a bool ``(B, G)`` of the genes whose value changed."""
    b, g = values.shape
    k = max(2, int(round(fraction * g)))
    scores = torch.rand(b, g, generator=generator).to(values.device)
    idx = scores.argsort(dim=1)[:, :k]                    # genes to swap, random order
    shifted = idx.roll(1, dims=1)                          # each takes the next one's value
    out = values.clone()
    out.scatter_(1, idx, torch.gather(values, 1, shifted))
    return (out, out != values) if return_mask else out


# ---------------------------------------------------------------------- the model
def _projection(i: int, o: int) -> nn.Module:
    return nn.Sequential(nn.Linear(i, i), nn.GELU(), nn.Linear(i, o))


@register_model
class CoMTIP(Pretrained, nn.Module):
    """Image / gene-text contrastive model. ``forward(images, values)`` returns a dict of
    normalised features, the logit scale and what the auxiliary losses need; the losses live in
    :func:`~contrastomics.losses.comtip_loss`.

    ``images`` are ``uint8`` or float in [0, 1], ``(B, 3, H, W)`` or ``(B, H, W, 3)``;
    ``values`` ``(B, n_genes)`` log-normalised expression in ``config.genes`` order.
    """

    config_class = CoMTIPConfig

    def __init__(self, config: CoMTIPConfig, name_table: torch.Tensor | np.ndarray | None = None):
        super().__init__()
        self.config = cfg = config
        if cfg.n_genes == 0:
            raise InputError("CoMTIPConfig.genes is empty")
        if name_table is not None:
            name_table = torch.as_tensor(np.asarray(name_table), dtype=torch.float32)
            if name_table.shape != (cfg.n_genes, cfg.text_dim):
                raise InputError(f"name embeddings are {tuple(name_table.shape)}, expected "
                                 f"({cfg.n_genes}, {cfg.text_dim})")
        self.register_buffer("pixel_mean", torch.tensor(_PIXEL_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(_PIXEL_STD).view(1, 3, 1, 1), persistent=False)
        self.image_encoder = ViT(cfg.image_size, cfg.patch_size, cfg.vit_dim, cfg.vit_depth, cfg.vit_heads,
                                 cfg.mlp_ratio, cfg.dropout)
        if cfg.mfm:
            out = 3 * cfg.patch_size ** 2 if cfg.mfm_target == "pixel" else cfg.vit_dim
            self.mfm_decoder = MFMDecoder(cfg.vit_dim, cfg.vit_heads, out, self.image_encoder.n_patches,
                                          cfg.mlp_ratio)
        if cfg.contrastive:
            self.gene_encoder = (GeneTextEncoder(cfg, name_table) if cfg.gene_encoder == "set"
                                 else ValueMLPEncoder(cfg))
            self.image_proj = _projection(cfg.vit_dim, cfg.embed_dim)
            self.gene_proj = _projection(cfg.gene_dim, cfg.embed_dim)
            self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / cfg.init_temperature)))
        if cfg.paat:
            self.discriminator = nn.Sequential(nn.Linear(cfg.gene_dim, cfg.gene_dim), nn.GELU(),
                                               nn.Linear(cfg.gene_dim, 1))
        if cfg.regression_head:
            self.regressor = nn.Linear(cfg.vit_dim, cfg.n_genes)
        if cfg.image_weights:
            self.load_image_weights(cfg.image_weights)

    # -------------------------------------------------------------- helpers
    @property
    def genes(self) -> list[str]:
        return list(self.config.genes)

    @property
    def device(self) -> torch.device:
        return self.pixel_mean.device

    def load_image_weights(self, path: str | os.PathLike) -> None:
        """Load a pretrained ViT into the image branch (:func:`~contrastomics.models.vit.load_vit_weights`:
        a file or a hub id, this package's or timm ``VisionTransformer`` keys), so e.g. timm
        ``vit_small_patch16_224`` weights load into a config with ``image_size=224, patch_size=16,
        vit_dim=384, vit_depth=12, vit_heads=6, mlp_ratio=4``."""
        load_vit_weights(self.image_encoder, path)

    def _pixels(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4:
            raise InputError(f"images must be 4-D (B, 3, H, W) or (B, H, W, 3), got shape {tuple(images.shape)}")
        if images.shape[1] != 3 and images.shape[-1] == 3:
            images = images.permute(0, 3, 1, 2)
        if images.dtype == torch.uint8:
            images = images.float() / 255.0
        s = self.config.image_size
        if images.shape[-1] != s or images.shape[-2] != s:
            images = F.interpolate(images, size=(s, s), mode="bilinear", align_corners=False, antialias=True)
        return images.to(self.pixel_mean.dtype)

    def _normalise(self, pixels):
        return (pixels - self.pixel_mean) / self.pixel_std

    def _patchify(self, pixels: torch.Tensor) -> torch.Tensor:
        p = self.config.patch_size
        b, c, h, w = pixels.shape
        x = pixels.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5).reshape(b, -1, c * p * p)
        mu, sd = x.mean(-1, keepdim=True), x.std(-1, keepdim=True)
        return (x - mu) / (sd + 1e-3)

    # -------------------------------------------------------------- encoders
    def image_features(self, images: torch.Tensor) -> torch.Tensor:
        """CLS features ``(B, vit_dim)`` of the full (unmasked) patches."""
        return self.image_encoder(self._normalise(self._pixels(images)))[:, 0]

    def encode_image(self, images: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        z = self.image_proj(self.image_features(images))
        return F.normalize(z, dim=-1) if normalize else z

    def encode_genes(self, values: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        z = self.gene_proj(self.gene_encoder(values.float()))
        return F.normalize(z, dim=-1) if normalize else z

    def forward(self, images: torch.Tensor | None, values: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> dict:
        """``images=None`` runs the gene-text branch alone (expression-only pretraining)."""
        cfg = self.config
        out: dict = {}
        if images is not None:
            pixels = self._pixels(images)
            x = self._normalise(pixels)
            tokens = self.image_encoder(x)
            h_img = tokens[:, 0]
            if cfg.contrastive:
                out["image"] = F.normalize(self.image_proj(h_img), dim=-1)
                out["logit_scale"] = self.logit_scale.clamp(max=math.log(100)).exp()
            if cfg.regression_head:
                out["regression"] = self.regressor(h_img)
        if cfg.contrastive and values is not None:
            h_gene = self.gene_encoder(values.float())
            out["gene"] = F.normalize(self.gene_proj(h_gene), dim=-1)
            if cfg.paat and self.training:
                swapped, changed = swap_values(values.float(), cfg.paat_swap_fraction, generator, return_mask=True)
                h_neg, tok_neg = self.gene_encoder(swapped, return_tokens=True)
                out["gene_swapped"] = F.normalize(self.gene_proj(h_neg), dim=-1)
                # per-gene discriminator (replaced-value detection): is this value this gene's own?
                out["disc_logits"] = self.discriminator(tok_neg).squeeze(-1)
                out["disc_labels"] = changed.float()
        if cfg.mfm and self.training and images is not None:
            n = self.image_encoder.n_patches
            n_keep = max(1, int(round(n * (1 - cfg.mask_ratio))))
            order = torch.rand(x.shape[0], n, generator=generator).to(x.device).argsort(dim=1)
            keep, hidden = order[:, :n_keep], order[:, n_keep:]
            visible = self.image_encoder(x, keep)
            out["mfm_pred"] = self.mfm_decoder(visible, hidden)
            if cfg.mfm_target == "pixel":
                target = self._patchify(pixels)
            else:
                target = F.layer_norm(tokens[:, 1:].detach(), (tokens.shape[-1],))
            out["mfm_target"] = torch.gather(target, 1, hidden[..., None].expand(-1, -1, target.shape[-1]))
        return out

    # -------------------------------------------------------------- persistence
    @classmethod
    def build_from_folder(cls, config: CoMTIPConfig, folder: Path, state: dict) -> "CoMTIP":
        """(:meth:`Pretrained.from_pretrained` hook) The saved weights replace ``image_weights``."""
        config.image_weights = None
        return cls(config)


# ---------------------------------------------------------------------- inference
@torch.no_grad()
def _batched(fn, x: np.ndarray | torch.Tensor, batch_size: int, device) -> torch.Tensor:
    outs = []
    for i in range(0, len(x), batch_size):
        xb = torch.as_tensor(np.asarray(x[i:i + batch_size])).to(device)
        outs.append(fn(xb).float().cpu())
    return torch.cat(outs) if outs else torch.zeros(0)


def embed_images(model: CoMTIP, patches: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Normalised image embeddings ``(N, embed_dim)`` of ``uint8`` patches."""
    model.eval()
    return _batched(model.encode_image, patches, batch_size, model.device).numpy()


def embed_expression(model: CoMTIP, values: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Normalised gene-text embeddings ``(N, embed_dim)`` of expression rows."""
    model.eval()
    return _batched(model.encode_genes, np.asarray(values, dtype=np.float32), batch_size, model.device).numpy()


def retrieve_expression(query: np.ndarray, keys: np.ndarray, reference: np.ndarray, k: int = 50,
                        weighting: str = "similarity") -> np.ndarray:
    """Similarity-weighted mean of the ``k`` reference rows whose ``keys`` are nearest to each
    ``query`` (all embeddings normalised; cosine similarity).

    ``weighting``: ``"mean"`` (plain average of the top ``k``), ``"similarity"`` (weights = cosine
    similarity shifted to be positive) or ``"softmax"`` (softmax over the top-``k`` similarities
    at temperature 0.05)."""
    if weighting not in {"mean", "similarity", "softmax"}:
        raise InputError(f"weighting must be mean, similarity or softmax, got {weighting!r}")
    k = max(1, min(k, len(keys)))
    sims = torch.as_tensor(query) @ torch.as_tensor(keys).T
    top, idx = sims.topk(k, dim=1)
    if weighting == "mean":
        w = torch.ones_like(top)
    elif weighting == "similarity":
        w = (top - top[:, -1:]).clamp_min(0) + 1e-3
    else:
        w = torch.softmax(top / 0.05, dim=1)
    w = w / w.sum(1, keepdim=True)
    ref = torch.as_tensor(np.asarray(reference, dtype=np.float32))
    return torch.einsum("qk,qkg->qg", w, ref[idx]).numpy()


def predict_expression(model: CoMTIP, patches: np.ndarray, reference_values: np.ndarray | None = None,
                       k: int = 50, weighting: str = "similarity", method: str = "retrieval",
                       reference_patches: np.ndarray | None = None) -> np.ndarray:
    """Predict expression ``(N, n_genes)`` for ``uint8`` patches.

    ``method="retrieval"`` (zero-shot, needs ``reference_values`` of training spots): image query
    against the reference spots' gene-text embeddings. ``method="image_retrieval"``: against the
    reference spots' image embeddings (needs ``reference_patches``). ``method="regression"``: the
    regression head (``config.regression_head``).
    """
    if method == "regression":
        if not model.config.regression_head:
            raise InputError("this model has no regression head; use method='retrieval'")
        model.eval()
        return _batched(lambda x: model.regressor(model.image_features(x)), patches, 256, model.device).numpy()
    if reference_values is None:
        raise InputError("retrieval needs reference_values (expression of the training spots)")
    q = embed_images(model, patches)
    if method == "retrieval":
        keys = embed_expression(model, reference_values)
    elif method == "image_retrieval":
        if reference_patches is None:
            raise InputError("image_retrieval needs reference_patches")
        keys = embed_images(model, reference_patches)
    else:
        raise InputError(f"unknown method {method!r} (retrieval, image_retrieval, regression)")
    return retrieve_expression(q, keys, reference_values, k=k, weighting=weighting)


# ---------------------------------------------------------------------- model folder extras
def save_reference(model: CoMTIP, path: str | os.PathLike, values: np.ndarray, sections, meta: dict) -> None:
    """Save ``model`` to the folder ``path`` with what retrieval needs beside it: ``reference.npz``
    (the training spots' expression ``(N, n_genes)`` and section labels) and ``train_meta.json``
    (``meta``: crop size ``size_px``, seconds, spots, device)."""
    model.config.image_weights = None
    model.save_pretrained(path)
    out = Path(path)
    with atomic_path(out / "reference.npz") as tmp:
        np.savez_compressed(tmp, values=np.asarray(values).astype(np.float32), sections=np.array(sections))
    (out / "train_meta.json").write_text(json.dumps(meta, indent=1))


def read_reference(folder: str | os.PathLike) -> np.ndarray:
    """The training spots' expression ``(N, n_genes)`` saved by :func:`save_reference`."""
    rf = Path(folder) / "reference.npz"
    if not rf.exists():
        raise InputError("model folder has no reference.npz (needed for retrieval)", Path(folder))
    return np.load(rf)["values"]


def crop_size_px(folder: str | os.PathLike, default: float = 224.0) -> float:
    """Patch side in full-resolution pixels the model was trained on (``train_meta.json``)."""
    meta_f = Path(folder) / "train_meta.json"
    return json.loads(meta_f.read_text()).get("size_px", default) if meta_f.exists() else default


# ---------------------------------------------------------------------- deprecated aliases
_MOVED = {"comtip_loss": "contrastomics.losses", "pearson_per_gene": "contrastomics.evaluate.expression",
          **dict.fromkeys(("SpotDataset", "augment_collate", "comtip_step", "pretrain_gene_branch", "train_comtip",
                           "gene_texts", "gene_name_embeddings"), "contrastomics.training.comtip"),
          **dict.fromkeys(("timm_vit_to_comtip",), "contrastomics.models.vit")}


def __getattr__(name):
    """Deprecated aliases of names that moved out of this module (training, loss, metric)."""
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
