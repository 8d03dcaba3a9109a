"""The image branch of CoMTIP: a small Vision Transformer, its transformer block, the Masked
Feature Modeling decoder, and reading pretrained ViT weights (this package's keys or timm's)."""
from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn as nn

from ..errors import InputError


class Block(nn.Module):
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
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_ratio, dropout) for _ in range(depth)])
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
        self.cross = Block(dim, heads, mlp_ratio, 0.0)
        self.out = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, out_dim))

    def forward(self, visible: torch.Tensor, masked_idx: torch.Tensor) -> torch.Tensor:
        pos = self.pos.expand(visible.shape[0], -1, -1)
        q = self.query + torch.gather(pos, 1, masked_idx[..., None].expand(-1, -1, pos.shape[-1]))
        return self.out(self.cross(q, context=visible))


def load_vit_weights(vit: ViT, path: str | os.PathLike) -> None:
    """Load pretrained weights into ``vit``.

    ``path`` is a ``safetensors`` or ``torch.save`` state dict, or a Hugging Face hub id
    (``owner/name``, its ``model.safetensors`` fetched with ``huggingface_hub``). Keys may be
    :class:`ViT` names (optionally prefixed ``image_encoder.``) or timm ``VisionTransformer`` names
    (``patch_embed.proj``, ``cls_token``, ``blocks.N.attn.qkv``...), renamed by
    :func:`timm_vit_to_comtip`.
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
    own = vit.state_dict()
    bad = [k for k in own if k not in state or state[k].shape != own[k].shape]
    if bad:
        raise InputError(f"weights do not fit this ViT config (first mismatch: {bad[0]})", p)
    vit.load_state_dict({k: state[k] for k in own})
