"""CAL: contrastive association learning (EridosAI/GeneticCAL): gene features -> association space.

``f(x) = normalize(a * x_hat + (1 - a) * MLP(x_hat))`` with ``x_hat = x / ||x||``, trained with
symmetric InfoNCE on associated gene pairs (STRING) so that interacting genes end up close even
when their features are unrelated. The saved model carries its gene vocabulary, feature table and
training pairs, so ``score`` / ``neighbours`` work from the folder alone. Training:
:mod:`contrastomics.training.cal`; recipe and benchmark: ``docs/cal.md``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import InputError
from .base import ModelConfig, Pretrained, register_model


@dataclass
class CALConfig(ModelConfig):
    """CAL hyper-parameters.

    ``in_dim``: feature dimension (output has the same dimension: the residual needs it);
    ``hidden_dims``: MLP widths (published ``(1024, 1024, 1024)``); ``alpha``: residual mixing ``a``
    (1 = raw features only); ``temperature``: InfoNCE temperature (logit scale = 1 / temperature,
    fixed as published); ``learn_alpha``: make ``a`` a trained parameter (sigmoid-parametrised).
    """

    in_dim: int = 50
    hidden_dims: tuple[int, ...] = (1024, 1024, 1024)
    alpha: float = 0.5
    temperature: float = 0.05
    dropout: float = 0.0
    learn_alpha: bool = False
    model_type: str = "cal"

    display_name: ClassVar[str] = "CAL"

    def __post_init__(self):
        self.hidden_dims = tuple(int(h) for h in self.hidden_dims)
        if not 0.0 <= self.alpha <= 1.0:
            raise InputError(f"alpha must be in [0, 1], not {self.alpha}")
        if self.temperature <= 0:
            raise InputError(f"temperature must be > 0, not {self.temperature}")
        if self.in_dim < 1:
            raise InputError(f"in_dim must be >= 1, not {self.in_dim}")



def mlp(dims: Sequence[int], dropout: float = 0.0) -> nn.Sequential:
    """Linear layers with GELU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(d_in, d_out))
        if i < len(dims) - 2:
            layers.append(nn.GELU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


@register_model
class CAL(Pretrained, nn.Module):
    """Residual MLP encoder of gene features with the gene table it was trained on.

    Parameters
    ----------
    config
        :class:`CALConfig`.
    genes
        Gene vocabulary ``(n_genes,)``; row ``i`` of ``features`` belongs to ``genes[i]``.
    features
        ``(n_genes, in_dim)`` float features (stored as a buffer, saved with the model).
    known_pairs
        ``(n_pairs, 2)`` indices of training pairs (so predictions can exclude known partners).
    """

    config_class = CALConfig

    def __init__(self, config: CALConfig, genes: Sequence[str] | None = None,
                 features: np.ndarray | torch.Tensor | None = None,
                 known_pairs: np.ndarray | torch.Tensor | None = None):
        super().__init__()
        self.config = config
        self.net = mlp([config.in_dim, *config.hidden_dims, config.in_dim], config.dropout)
        a = min(max(config.alpha, 1e-4), 1 - 1e-4)
        self.alpha_logit = nn.Parameter(torch.tensor(float(np.log(a / (1 - a)))),
                                        requires_grad=config.learn_alpha)
        self.register_buffer("logit_scale", torch.tensor(1.0 / config.temperature))
        self.vocab = [str(g) for g in genes] if genes is not None else []
        feats = torch.zeros(len(self.vocab), config.in_dim) if features is None else torch.as_tensor(
            np.asarray(features, dtype=np.float32))
        if feats.shape != (len(self.vocab), config.in_dim):
            raise InputError(f"features have shape {tuple(feats.shape)}, expected ({len(self.vocab)}, {config.in_dim})")
        self.register_buffer("features", feats)
        kp = torch.zeros(0, 2, dtype=torch.long) if known_pairs is None else torch.as_tensor(
            np.asarray(known_pairs, dtype=np.int64)).reshape(-1, 2)
        self.register_buffer("known_pairs", kp)
        self.gene_index = {g: i for i, g in enumerate(self.vocab)}

    # ------------------------------------------------------------------ encoding
    @property
    def alpha(self) -> torch.Tensor:
        return torch.sigmoid(self.alpha_logit) if self.config.learn_alpha else torch.tensor(self.config.alpha)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Features ``(n, in_dim)`` -> normalised association embeddings ``(n, in_dim)``."""
        x = F.normalize(x, dim=-1)
        a = self.alpha.to(x.device, x.dtype)
        return F.normalize(a * x + (1 - a) * self.net(x), dim=-1)

    def forward(self, pairs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Gene index pairs ``(batch, 2)`` -> embeddings of both ends, each ``(batch, in_dim)``.

        Each distinct gene of the batch is encoded once (hub genes recur in many pairs).
        """
        uniq, inv = torch.unique(pairs, return_inverse=True)
        z = self.encode(self.features[uniq])
        return z[inv[:, 0]], z[inv[:, 1]]

    @torch.no_grad()
    def embed_genes(self, batch_size: int = 8192) -> torch.Tensor:
        """Association embeddings of every vocabulary gene ``(n_genes, in_dim)``."""
        was = self.training
        self.eval()
        out = torch.cat([self.encode(self.features[s:s + batch_size])
                         for s in range(0, len(self.vocab), batch_size)]) if self.vocab else torch.zeros(0)
        self.train(was)
        return out

    # ------------------------------------------------------------------ user API
    def indices(self, genes: Sequence[str], what: str = "gene") -> np.ndarray:
        """Vocabulary indices of ``genes``; unknown ones raise :class:`InputError` naming them."""
        idx = [self.gene_index.get(g, self.gene_index.get(str(g).upper(), -1)) for g in genes]
        missing = [g for g, i in zip(genes, idx) if i < 0]
        if missing:
            raise InputError(f"{len(missing)} {what}(s) not in the model's feature table: {', '.join(missing[:10])}")
        return np.asarray(idx, dtype=np.int64)

    @torch.no_grad()
    def score_pairs(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """CAL score (cosine in association space) of index pairs ``(n,)``."""
        z = self.embed_genes()
        a, b = torch.as_tensor(a), torch.as_tensor(b)
        return (z[a] * z[b]).sum(-1).cpu().numpy()

    def score(self, genes_a: Sequence[str], genes_b: Sequence[str]) -> pd.DataFrame:
        """Score gene pairs by name: columns ``gene_a, gene_b, score, raw_cosine, known``; unknown
        genes of both columns are named in one error."""
        self.indices(list(dict.fromkeys([*genes_a, *genes_b])))
        ia, ib = self.indices(genes_a), self.indices(genes_b)
        return pd.DataFrame({"gene_a": [self.vocab[i] for i in ia], "gene_b": [self.vocab[i] for i in ib],
                             "score": self.score_pairs(ia, ib), "raw_cosine": self.raw_cosine(ia, ib),
                             "known": self._is_known(ia, ib)})

    def raw_cosine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        x = F.normalize(self.features, dim=-1)
        a, b = torch.as_tensor(a), torch.as_tensor(b)
        return (x[a] * x[b]).sum(-1).cpu().numpy()

    def _known_sets(self) -> dict[int, set[int]]:
        kp = self.known_pairs.cpu().numpy()
        part: dict[int, set[int]] = {}
        for u, v in kp:
            part.setdefault(int(u), set()).add(int(v))
            part.setdefault(int(v), set()).add(int(u))
        return part

    def _is_known(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        part = self._known_sets()
        return np.array([int(v) in part.get(int(u), ()) for u, v in zip(a, b)], dtype=bool)

    @torch.no_grad()
    def neighbours(self, gene: str, k: int = 20, include_known: bool = False) -> pd.DataFrame:
        """Top ``k`` predicted partners of ``gene`` in association space.

        Known (training) interactors are left out unless ``include_known``. Columns ``partner,
        score, raw_cosine, rank_raw`` (rank of the partner by raw feature cosine, 1 = most similar),
        ``known``.
        """
        i = int(self.indices([gene])[0])
        z = self.embed_genes()
        s = (z @ z[i]).cpu().numpy()
        x = F.normalize(self.features, dim=-1)
        raw = (x @ x[i]).cpu().numpy()
        known = self._known_sets().get(i, set())
        mask = np.ones(len(s), dtype=bool)
        mask[i] = False
        if not include_known:
            mask[list(known)] = False
        cand = np.flatnonzero(mask)
        top = cand[np.argsort(-s[cand], kind="stable")[:k]]
        rank_raw = np.empty(len(raw), dtype=np.int64)
        order = np.argsort(-np.where(np.arange(len(raw)) == i, -np.inf, raw), kind="stable")
        rank_raw[order] = np.arange(1, len(raw) + 1)
        return pd.DataFrame({"gene": gene, "partner": [self.vocab[j] for j in top], "score": s[top],
                             "raw_cosine": raw[top], "rank_raw": rank_raw[top],
                             "known": [int(j) in known for j in top]})

    # ------------------------------------------------------------------ save / load
    @classmethod
    def build_from_folder(cls, config: CALConfig, folder: Path, state: dict) -> "CAL":
        """(:meth:`Pretrained.from_pretrained` hook) The vocabulary from ``vocab.txt``; the feature
        table and known pairs from the weights (``save_pretrained`` writes all three)."""
        vf = folder / "vocab.txt"
        if not vf.exists():
            raise InputError("not a CAL model folder (needs model.safetensors, config.json, vocab.txt)", folder)
        vocab = vf.read_text().splitlines()
        if "features" not in state or state["features"].shape[0] != len(vocab):
            raise InputError("model.safetensors has no feature table matching vocab.txt", folder / "model.safetensors")
        known = state.get("known_pairs")
        return cls(config, vocab, state["features"].float().cpu(), None if known is None else known.cpu())


# ---------------------------------------------------------------------- deprecated aliases
_MOVED = ("PairDataset", "cal_step", "train_cal")


def __getattr__(name):
    """Deprecated aliases of the training code, now in :mod:`contrastomics.training.cal`."""
    if name in _MOVED:
        from ..training import cal as training_cal

        return getattr(training_cal, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
