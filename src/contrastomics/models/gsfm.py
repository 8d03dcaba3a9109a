"""GSFM, the gene set foundation model (MaayanLab/gsfm): config, architecture and inference.

An MLP autoencoder over gene sets: the encoder maps a set (multi-hot over the gene vocabulary) to a
``d_model`` embedding, the decoder gives one logit per vocabulary gene (gene-set completion,
gene-function prediction). The first layer reads a set sparsely (``F.embedding_bag`` over its
genes' weight rows). Checkpoints use the official ``maayanlab/gsfm*`` layout, both ways; the
architecture table is in ``docs/gsfm.md``, training in :mod:`contrastomics.training.gsfm`.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Iterable, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import InputError
from .base import ModelConfig, Pretrained, read_vocab, register_model
from .numpy_tower import SPECIAL_TOKENS, gene_index_of, token_codes



@dataclass
class GSFMConfig(ModelConfig):
    """GSFM hyper-parameters.

    ``hidden_dims``: encoder widths between the vocabulary and ``d_model`` (published ``(512,)``);
    ``decoder_hidden_dims``: decoder widths between ``d_model`` and the vocabulary (``(256,)``).
    ``partition``: fraction of each set's genes fed as input during training (the rest is the
    denoising target; 1.0 = plain autoencoder). ``weighted_loss``: ``none`` (BCE over every gene
    against the whole set), ``unseen`` (BCE only over genes not in the input part) or ``balance``
    (positives up-weighted by ``n_negative / n_positive`` per set).
    ``loss``: ``bce`` (published: independent sigmoid per gene) or ``softmax`` (multinomial
    log-likelihood of the target genes over the vocabulary, as in Mult-DAE collaborative filtering;
    not in the official code, so official tools cannot train it, but the checkpoint layout is the
    same). With ``softmax`` the ``weighted_loss`` values ``unseen`` (input genes are masked out of
    the softmax and the target) and ``none`` apply; ``balance`` is meaningless and rejected.
    """

    vocab_size: int
    d_model: int = 256
    hidden_dims: tuple[int, ...] = (512,)
    decoder_hidden_dims: tuple[int, ...] = (256,)
    dropout: float = 0.2
    partition: float = 0.8
    weighted_loss: str = "none"
    sparse_input: bool = True
    loss: str = "bce"
    model_type: str = "gsfm"

    display_name: ClassVar[str] = "GSFM"
    #: ``depth`` is derived; ``name``/``file``/``timestamp`` are metadata of official checkpoints.
    silent_keys: ClassVar[frozenset] = frozenset({"depth", "name", "file", "timestamp"})

    def __post_init__(self):
        self.hidden_dims = tuple(int(h) for h in self.hidden_dims)
        self.decoder_hidden_dims = tuple(int(h) for h in self.decoder_hidden_dims)
        if self.weighted_loss not in {"none", "unseen", "balance"}:
            raise InputError(f"weighted_loss must be none, unseen or balance, not {self.weighted_loss!r}")
        if self.loss not in {"bce", "softmax"}:
            raise InputError(f"loss must be bce or softmax, not {self.loss!r}")
        if self.loss == "softmax" and self.weighted_loss == "balance":
            raise InputError("weighted_loss='balance' only applies to loss='bce'")
        if not 0 < self.partition <= 1:
            raise InputError(f"partition must be in (0, 1], not {self.partition}")

    @classmethod
    def translate_keys(cls, d: dict) -> dict:
        """The official config gives ``depth`` layers each side instead of the widths."""
        if "hidden_dims" not in d and "depth" in d:
            d_model, depth = int(d.get("d_model", 256)), int(d["depth"])
            d = {**d, "hidden_dims": (2 * d_model,) * (depth - 1), "decoder_hidden_dims": (d_model,) * (depth - 1)}
        return d

    def to_dict(self) -> dict:
        d = super().to_dict()
        if len(set(map(len, (self.hidden_dims, self.decoder_hidden_dims)))) == 1:
            d["depth"] = len(self.hidden_dims) + 1  # official key, for maayanlab/gsfm code
        return d


class GeneInput(nn.Module):
    """First encoder layer ``Linear(vocab, width)`` stored gene-major.

    The weight lives as ``weight_t`` ``(vocab, width)`` so that a gene set's hidden vector is a sum
    of contiguous rows (``F.embedding_bag``, about 4x faster forward+backward on CPU than reading
    the transposed ``nn.Linear`` weight). The state dict still holds ``weight`` ``(width, vocab)``
    exactly like ``nn.Linear``, so checkpoints keep the official layout both ways.
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features)  # nn.Linear's default init
        self.weight_t = nn.Parameter(torch.empty(in_features, out_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))

    @property
    def weight(self) -> torch.Tensor:
        """``(out, in)`` view, as ``nn.Linear.weight``."""
        return self.weight_t.T

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Dense multi-hot ``(n, vocab)`` -> ``(n, out)``."""
        return F.linear(x, self.weight_t.T, self.bias)

    def bag(self, indices: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """Flat gene indices + set offsets -> ``(n_sets, out)`` without a dense input."""
        return F.embedding_bag(indices, self.weight_t, offsets, mode="sum") + self.bias

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        w = self.weight_t if keep_vars else self.weight_t.detach()
        destination[prefix + "weight"] = w.T
        destination[prefix + "bias"] = self.bias if keep_vars else self.bias.detach()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        key = prefix + "weight"
        if key in state_dict:
            w = state_dict[key]
            if tuple(w.shape) != (self.out_features, self.in_features):
                error_msgs.append(f"size mismatch for {key}: copying a param with shape {tuple(w.shape)}, "
                                  f"the model has {(self.out_features, self.in_features)}")
            else:
                with torch.no_grad():
                    self.weight_t.copy_(w.T)
        elif strict:
            missing_keys.append(key)
        b = prefix + "bias"
        if b in state_dict:
            with torch.no_grad():
                self.bias.copy_(state_dict[b])
        elif strict:
            missing_keys.append(b)
        for k in state_dict:
            if k.startswith(prefix) and k not in (key, b) and "." not in k[len(prefix):] and strict:
                unexpected_keys.append(k)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


def _mlp(dims: Sequence[int], dropout: float, gene_input: bool = False) -> nn.Sequential:
    """Linear, ReLU, Dropout between consecutive dims, no activation after the last Linear:
    module indices 0, 3, 6... are the Linear layers, as in the official checkpoints."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(GeneInput(a, b) if gene_input and i == 0 else nn.Linear(a, b))
        if i < len(dims) - 2:
            layers += [nn.ReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)


class _Stack(nn.Module):
    """Holds ``layers`` so parameter names read ``encoder.layers.0.weight`` like the official code."""

    def __init__(self, layers: nn.Sequential):
        super().__init__()
        self.layers = layers


@register_model
class GSFM(Pretrained, nn.Module):
    """Gene set autoencoder.

    Parameters
    ----------
    config
        :class:`GSFMConfig`; ``config.vocab_size == len(vocab)``.
    vocab
        Token list: ``<unk>``, ``<pad>``, then gene symbols (column order of the decoder).
    """

    config_class = GSFMConfig

    def __init__(self, config: GSFMConfig, vocab: Sequence[str]):
        super().__init__()
        vocab = list(vocab)
        if list(vocab[:2]) != list(SPECIAL_TOKENS):
            vocab = list(SPECIAL_TOKENS) + [g for g in vocab if g not in SPECIAL_TOKENS]
        if config.vocab_size != len(vocab):
            config.vocab_size = len(vocab)
        self.config = config
        self.vocab = vocab
        self.gene_index = gene_index_of(vocab)
        dims = [config.vocab_size, *config.hidden_dims, config.d_model]
        self.encoder = _Stack(_mlp(dims, config.dropout, gene_input=True))
        self.decoder = _Stack(_mlp([config.d_model, *config.decoder_hidden_dims, config.vocab_size], config.dropout))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_genes(cls, genes: Sequence[str], **config) -> "GSFM":
        """A fresh model over the vocabulary ``genes`` (specials are prepended)."""
        vocab = list(SPECIAL_TOKENS) + list(dict.fromkeys(genes))
        return cls(GSFMConfig(vocab_size=len(vocab), **config), vocab)

    @property
    def genes(self) -> list[str]:
        """Gene symbols of the vocabulary (without special tokens)."""
        return self.vocab[2:]

    # ------------------------------------------------------------------ tokenisation
    def tokenize(self, gene_sets: Iterable[Iterable[str]]) -> tuple[torch.Tensor, torch.Tensor, dict]:
        """Gene symbols -> ``(indices, offsets)`` for :meth:`encode`, plus a report
        ``{"n_unknown": int, "unknown": {symbol: count}, "empty_sets": [row, ...]}``.

        Vectorised: one hash lookup of every symbol (pandas ``Index.get_indexer``), a second one of
        the upper-cased misses; a symbol repeated within a set counts once (first occurrence kept)."""
        idx, offsets, report, self._lookup = token_codes(gene_sets, self.gene_index, getattr(self, "_lookup", None))
        return torch.from_numpy(idx), torch.from_numpy(offsets), report

    # ------------------------------------------------------------------ forward
    def encode(self, indices: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """Gene sets as flat gene indices + set offsets -> embeddings ``(n_sets, d_model)``."""
        layers = self.encoder.layers
        first: GeneInput = layers[0]
        if self.config.sparse_input:
            h = first.bag(indices, offsets)
        else:
            h = first(self.multi_hot(indices, offsets))
        return layers[1:](h)

    def multi_hot(self, indices: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """Dense ``(n_sets, vocab)`` 0/1 matrix of the sets (used for targets and the dense path)."""
        n = offsets.numel()
        rows = torch.repeat_interleave(torch.arange(n, device=indices.device),
                                       torch.diff(offsets, append=offsets.new_tensor([indices.numel()])))
        out = torch.zeros(n, self.config.vocab_size, device=indices.device)
        out[rows, indices] = 1.0
        out[:, :2] = 0.0
        return out

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Embeddings ``(n, d_model)`` -> gene logits ``(n, vocab)``."""
        return self.decoder.layers(z)

    def forward(self, indices: torch.Tensor, offsets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encode(indices, offsets)
        return z, self.decode(z)

    # ------------------------------------------------------------------ inference
    def _batches(self, gene_sets, batch_size: int):
        """Switch to eval mode and yield ``(indices, offsets)`` of consecutive batches on the model's device."""
        gene_sets = list(gene_sets)
        self.eval()
        dev = next(self.parameters()).device
        for s in range(0, len(gene_sets), batch_size):
            idx, off, _ = self.tokenize(gene_sets[s:s + batch_size])
            yield idx.to(dev), off.to(dev)

    @torch.no_grad()
    def embed(self, gene_sets, batch_size: int = 1024, normalize: bool = False) -> np.ndarray:
        """Embeddings of gene sets (lists of symbols or a ``GeneSetLibrary``): ``(n, d_model)``."""
        if hasattr(gene_sets, "gene_sets"):
            gene_sets = gene_sets.gene_sets
        out = []
        for idx, off in self._batches(gene_sets, batch_size):
            z = self.encode(idx, off)
            out.append(F.normalize(z, dim=1) if normalize else z)
        if not out:
            return np.zeros((0, self.config.d_model), np.float32)
        return torch.cat(out).cpu().numpy()

    @torch.no_grad()
    def score_genes(self, gene_sets, batch_size: int = 256) -> np.ndarray:
        """Membership probabilities of every vocabulary gene for each set: ``(n, n_genes)``
        (columns follow :attr:`genes`)."""
        out = []
        for idx, off in self._batches(gene_sets, batch_size):
            _, logits = self(idx, off)
            out.append(self.probabilities(logits).cpu())
        return torch.cat(out).numpy() if out else np.zeros((0, len(self.genes)), np.float32)

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Gene logits ``(n, vocab)`` -> membership scores ``(n, n_genes)`` without the special
        tokens: sigmoid for ``loss='bce'``, softmax over genes for ``loss='softmax'``."""
        logits = logits[:, 2:]
        return torch.softmax(logits, dim=1) if self.config.loss == "softmax" else torch.sigmoid(logits)

    def predict(self, genes: Sequence[str], k: int = 50, include_input: bool = False):
        """Rank genes that complete the set ``genes``: DataFrame ``gene, score, rank``."""
        import pandas as pd

        _, _, report = self.tokenize([genes])
        if report["empty_sets"]:
            raise InputError(f"none of the {len(list(genes))} input genes is in the model vocabulary "
                             f"({len(self.genes)} genes); examples: {list(genes)[:5]}")
        scores = self.score_genes([genes])[0]
        order = np.argsort(-scores)
        given = {g.upper() for g in genes}
        rows = [(self.genes[j], float(scores[j])) for j in order
                if include_input or self.genes[j].upper() not in given][:k]
        df = pd.DataFrame(rows, columns=["gene", "score"])
        df["rank"] = np.arange(1, len(df) + 1)
        df.attrs["n_unknown"] = report["n_unknown"]
        df.attrs["unknown"] = report["unknown"]
        return df

    def gene_function(self, gene: str, library, k: int | None = 50, include_known: bool = True):
        """Rank the terms of ``library`` for ``gene``; see :func:`predict_gene_function`."""
        return predict_gene_function(self, gene, library, k=k, include_known=include_known)

    # ------------------------------------------------------------------ save / load
    @classmethod
    def build_from_folder(cls, config: GSFMConfig, folder: Path, state: dict) -> "GSFM":
        """(:meth:`Pretrained.from_pretrained` hook) Reads ``vocab.txt`` (official GSFM layout,
        e.g. hub id ``maayanlab/gsfm-rummagene``)."""
        return cls(config, read_vocab(folder, "GSFM"))


# ---------------------------------------------------------------------- gene function
@torch.no_grad()
def predict_gene_function(model: GSFM, gene: str, library, k: int | None = 50, include_known: bool = True,
                          batch_size: int = 256):
    """Rank the terms of ``library`` for one gene, as the GSFM paper's gene pages do.

    Each term's gene set (without ``gene`` itself, so a known annotation must be *predicted* from
    the term's other genes) is fed to the model and the gene's logit is read off. Logits of one
    term are on their own scale (a large term raises every gene), so terms are ranked by the gene's
    z-score against every other non-input gene of the same term's prediction.

    Parameters
    ----------
    model
        A trained :class:`GSFM`.
    gene
        Gene symbol (case-insensitive).
    library
        ``GeneSetLibrary`` whose terms are scored.
    k
        Keep the ``k`` best terms (``None``: all).
    include_known
        Keep terms already annotated with ``gene`` (flagged in column ``known``).

    Returns
    -------
    pandas.DataFrame
        ``rank, term, name, zscore, logit, percentile, known, n_genes`` sorted by ``zscore``
        (``percentile``: share of the term's candidate genes scored below ``gene``, 0-100).
        ``attrs`` holds ``n_terms_scored`` and ``n_terms_skipped`` (no gene in the vocabulary).
    """
    import pandas as pd

    j = model.gene_index.get(gene, model.gene_index.get(str(gene).strip().upper()))
    if j is None:
        raise InputError(f"gene {gene!r} is not in the model vocabulary ({len(model.genes)} genes)")
    col = j - 2
    sets = library.gene_sets
    known = np.array([any(str(g).strip().upper() == model.vocab[j].upper() for g in s) for s in sets])
    inputs = [[g for g in s if str(g).strip().upper() != model.vocab[j].upper()] for s in sets]
    model.eval()
    dev = next(model.parameters()).device
    logit, z, pct, n_in = [], [], [], []
    for s in range(0, len(inputs), batch_size):
        idx, off, _ = model.tokenize(inputs[s:s + batch_size])
        n_in.append(np.diff(np.append(off.numpy(), idx.numel())))
        _, lg = model(idx.to(dev), off.to(dev))
        lg = lg[:, 2:].float()
        cand = torch.ones_like(lg, dtype=torch.bool)
        rows = torch.repeat_interleave(torch.arange(lg.shape[0]), torch.diff(off, append=off.new_tensor([idx.numel()])))
        cand[rows, idx - 2] = False  # input genes are not candidates
        cand[:, col] = True
        x = lg.masked_fill(~cand, float("nan"))
        mu = torch.nanmean(x, dim=1)
        sd = torch.sqrt(torch.nanmean((x - mu[:, None]) ** 2, dim=1)).clamp_min(1e-12)
        g = lg[:, col]
        logit.append(g.cpu().numpy())
        z.append(((g - mu) / sd).cpu().numpy())
        below = ((x < g[:, None]) & cand).sum(1).float() / (cand.sum(1) - 1).clamp_min(1)
        pct.append((100 * below).cpu().numpy())
    n_in = np.concatenate(n_in) if n_in else np.zeros(0, int)
    ok = n_in > 0
    df = pd.DataFrame({"term": library.terms, "name": library.names or library.terms,
                       "zscore": np.concatenate(z) if z else [], "logit": np.concatenate(logit) if logit else [],
                       "percentile": np.concatenate(pct) if pct else [], "known": known,
                       "n_genes": np.asarray(library.sizes)})
    df = df[ok]
    if not include_known:
        df = df[~df["known"]]
    df = df.sort_values("zscore", ascending=False, kind="stable")
    if k is not None:
        df = df.head(k)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    df = df.reset_index(drop=True)
    df.attrs.update(gene=model.vocab[j], n_terms_scored=int(ok.sum()), n_terms_skipped=int((~ok).sum()))
    return df


def embedding_table(model: GSFM, library, normalize: bool = False, source=None):
    """One row per set of ``library`` with a known gene: ``gene_set, n_genes, n_unknown, e0, e1...``.

    Unknown symbols and skipped sets (no known gene) are counted in warnings naming ``source``; no
    known gene at all is an :class:`InputError`.
    """
    import pandas as pd

    sets = library.gene_sets
    idx, offsets, report = model.tokenize(sets)
    # known genes per set as tokenize counts them (case, other-year symbols, duplicates once)
    n_known = np.diff(np.append(offsets.numpy(), len(idx)))
    empty = set(report["empty_sets"])
    if len(empty) == len(sets):
        raise InputError(f"no gene set has a gene of the model vocabulary ({len(model.genes)} genes); "
                         f"examples of unknown genes: {list(report['unknown'])[:5]}", source)
    if report["n_unknown"]:
        warnings.warn(f"{source}: {len(report['unknown'])} distinct gene symbols ({report['n_unknown']} "
                      f"memberships) are not in the model vocabulary and were ignored")
    if empty:
        warnings.warn(f"{source}: skipped {len(empty)} gene set(s) with no gene in the model vocabulary "
                      f"(e.g. {library.terms[min(empty)]!r})")
    keep = [i for i in range(len(sets)) if i not in empty]
    z = model.embed([sets[i] for i in keep], normalize=normalize)
    known = [int(n_known[i]) for i in keep]
    df = pd.DataFrame(z.astype(np.float32), columns=[f"e{j}" for j in range(z.shape[1])])
    df.insert(0, "n_unknown", [max(len(set(sets[i])) - k, 0) for i, k in zip(keep, known)])
    df.insert(0, "n_genes", known)
    df.insert(0, "gene_set", [library.terms[i] for i in keep])
    return df


# ---------------------------------------------------------------------- deprecated aliases
_MOVED = {"reconstruction_loss": "contrastomics.losses",
          **dict.fromkeys(("GeneSetDataset", "partition_collate", "gsfm_step", "init_output_bias", "train_gsfm"),
                          "contrastomics.training.gsfm"),
          **dict.fromkeys(("resolve_model_folder", "read_config", "load_weights", "save_model_folder"),
                          "contrastomics.models.base")}


def __getattr__(name):
    """Deprecated aliases of names that moved out of this module (training, loss, model I/O)."""
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
