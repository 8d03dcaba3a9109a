"""Torch-free inference of a gtCLIP gene tower with mean pooling (the shipped model's), so that a
first ``cluster`` run embeds its gene sets without importing torch (1.5-2 s of a 10 s budget).

The forward pass is :meth:`~contrastomics.models.gtclip.GtClip.encode_gene_sets` for
``pooling="mean"``: mean of the first layer's gene columns plus its bias, ReLU between the encoder's
Linear layers, the gene projection, L2 normalisation. Tokenisation (:func:`token_codes`) is the
one :meth:`~contrastomics.models.gsfm.GSFM.tokenize` uses. Equality with the torch model is pinned
by the test suite.
"""
from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from ..data.gene_tables import other_symbols
from ..errors import InputError

SPECIAL_TOKENS = ("<unk>", "<pad>")


def gene_index_of(vocab: Sequence[str]) -> dict[str, int]:
    """Symbol (as written and upper-cased) -> vocabulary row; rows 0-1 are the special tokens."""
    index: dict[str, int] = {}
    for i, g in enumerate(vocab[2:], start=2):
        index.setdefault(g, i)
        index.setdefault(g.upper(), i)
    return index


def token_codes(gene_sets: Iterable[Iterable[str]], gene_index: Mapping[str, int], lookup=None):
    """Gene symbols -> ``(indices, offsets, report, lookup)`` as int64 arrays: one hash lookup of
    every symbol, a second one of the upper-cased misses, then other years' names of a symbol; a
    symbol repeated within a set counts once. ``lookup`` (returned) caches the index for reuse."""
    import pandas as pd
    sets = [s if isinstance(s, (list, tuple)) else list(s) for s in gene_sets]
    lens = np.fromiter((len(s) for s in sets), np.int64, len(sets))
    flat = [g for s in sets for g in s]
    if lookup is None or lookup[2] is not gene_index or len(lookup[0]) != len(gene_index):
        keys = pd.Index(list(gene_index))
        lookup = (keys, np.fromiter(gene_index.values(), np.int64, len(keys)), gene_index)
    keys, values = lookup[0], lookup[1]
    pos = keys.get_indexer(flat) if flat else np.zeros(0, np.int64)
    miss = np.flatnonzero(pos < 0)
    if len(miss):
        pos[miss] = keys.get_indexer([str(flat[i]).strip().upper() for i in miss])
    for i in np.flatnonzero(pos < 0):  # the gene under its name of another year (AARS1 / AARS)
        hit = keys.get_indexer(list(other_symbols(str(flat[i])))) if str(flat[i]).strip() else []
        pos[i] = next((int(h) for h in hit if h >= 0), -1)
    codes = np.where(pos >= 0, values[np.maximum(pos, 0)], -1)
    rows = np.repeat(np.arange(len(sets)), lens)
    unknown: dict[str, int] = {}
    for i in np.flatnonzero(codes < 0):
        unknown[flat[i]] = unknown.get(flat[i], 0) + 1
    ok = np.flatnonzero(codes >= 0)
    _, first = np.unique(rows[ok] * (int(values.max(initial=0)) + 1) + codes[ok], return_index=True)
    keep = ok[np.sort(first)]  # first occurrence of each gene in each set, in input order
    idx, r = codes[keep], rows[keep]
    offsets = np.searchsorted(r, np.arange(len(sets)))
    empty = np.flatnonzero(np.bincount(r, minlength=len(sets)) == 0).tolist()
    report = {"n_unknown": sum(unknown.values()), "unknown": unknown, "empty_sets": empty}
    return idx.astype(np.int64), offsets.astype(np.int64), report, lookup


def vocabulary_message(unknown: Mapping[str, int], n_genes: int) -> str:
    """What a gene-set embedding says of the symbols (``{symbol: occurrences}``) outside its vocabulary."""
    return (f"{sum(unknown.values())} gene occurrence(s) ({len(unknown)} distinct symbols, e.g. "
            f"{', '.join(list(unknown)[:5])}) are not in the gtCLIP vocabulary ({n_genes} genes) and were ignored")


def warn_vocabulary(unknown: Mapping[str, int], empty: Sequence[int], n_genes: int, stacklevel: int = 3) -> None:
    """The warnings of a gene-set embedding: symbols outside the vocabulary, sets left empty."""
    if unknown:
        warnings.warn(vocabulary_message(unknown, n_genes), stacklevel=stacklevel)
    if empty:
        warnings.warn(f"{len(empty)} gene set(s) have no gene in the vocabulary; their embeddings carry no "
                      f"gene information (rows {list(empty)[:5]})", stacklevel=stacklevel)


@functools.lru_cache(maxsize=4)
def vocabulary_of(folder: Path) -> tuple[dict[str, int], int]:
    """``(gene index, vocabulary size)`` of a saved gtCLIP folder's ``vocab.txt`` (no weights read;
    read once per folder and process: do not change the returned index)."""
    vocab = (Path(folder) / "vocab.txt").read_text().splitlines()
    if list(vocab[:2]) != list(SPECIAL_TOKENS):
        vocab = list(SPECIAL_TOKENS) + [g for g in vocab if g not in SPECIAL_TOKENS]
    return gene_index_of(vocab), len(vocab) - 2


def vocabulary_note(model, gene_sets: Sequence[Sequence[str]]) -> str | None:
    """:func:`vocabulary_message` for the symbols of ``gene_sets`` outside ``model``'s gene vocabulary
    (its ``vocabulary()``: ``(gene index, number of genes)``), read without embedding, so that a run
    says it whether or not its embeddings were cached; ``None`` when every symbol is known or the
    model has no vocabulary (the stand-in hashes any symbol)."""
    vocabulary = getattr(model, "vocabulary", None)
    if vocabulary is None:
        return None
    index, n_genes = vocabulary()
    unknown = token_codes(gene_sets, index)[2]["unknown"]
    return vocabulary_message(unknown, n_genes) if unknown else None


class NumpyGeneTower:
    """The gene tower of a saved gtCLIP folder (``model.safetensors``, ``config.json``,
    ``vocab.txt``) in NumPy; :meth:`supports` says whether a folder's architecture is covered."""

    def __init__(self, folder: str | Path):
        from safetensors.numpy import load_file

        self.folder = Path(folder)
        self.config = json.loads((self.folder / "config.json").read_text())
        if not self.supports(self.config):
            raise InputError("this gtCLIP gene tower has no NumPy path (pooling must be 'mean')", self.folder)
        self.gene_index, self.n_genes = vocabulary_of(self.folder)
        w = {k: v.astype(np.float32) for k, v in load_file(str(self.folder / "model.safetensors")).items()
             if k.startswith(("gene_tower.encoder.", "gene_proj."))}
        n_linear = len(self.config["gene_tower"]["hidden_dims"]) + 1  # Linear, ReLU, Dropout, Linear...
        self.first = np.ascontiguousarray(w["gene_tower.encoder.layers.0.weight"].T)  # (vocab, width)
        self.first_bias = w["gene_tower.encoder.layers.0.bias"]
        self.layers = [(w[f"gene_tower.encoder.layers.{3 * i}.weight"], w[f"gene_tower.encoder.layers.{3 * i}.bias"])
                       for i in range(1, n_linear)]
        self.proj = (w["gene_proj.1.weight"], w["gene_proj.1.bias"])
        self.last_report: dict = {}
        self._lookup = None

    @staticmethod
    def supports(config: Mapping) -> bool:
        return config.get("pooling") == "mean" and "gene_tower" in config

    def embed_gene_sets(self, gene_sets: Sequence[Sequence[str]]) -> np.ndarray:
        """``(n_sets, embed_dim)`` float32, L2-normalised rows, like ``GtClip.embed_gene_sets``."""
        import scipy.sparse as sp

        gene_sets = [s if isinstance(s, (list, tuple)) else list(s) for s in gene_sets]
        idx, off, rep, self._lookup = token_codes(gene_sets, self.gene_index, self._lookup)
        n = len(gene_sets)
        indptr = np.append(off, len(idx))
        counts = np.diff(indptr)
        m = sp.csr_matrix((np.ones(len(idx), np.float32), idx, indptr), shape=(n, len(self.first)))
        h = np.asarray(m @ self.first) / np.maximum(counts, 1)[:, None] + self.first_bias
        for weight, bias in self.layers:
            h = np.maximum(h, 0) @ weight.T + bias
        z = h @ self.proj[0].T + self.proj[1]
        z /= np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
        self.last_report = {"n_sets": n, **rep}
        warn_vocabulary(rep["unknown"], rep["empty_sets"], self.n_genes)
        return z.astype(np.float32)


class NumpyTextHead:
    """The residual text head ``x + f(x)`` of a saved gtCLIP folder in NumPy (``f``: Linear, exact
    GELU, Linear), then L2 normalisation: base-encoder vectors -> the shared space."""

    def __init__(self, folder: str | Path):
        from safetensors.numpy import load_file

        w = {k: v.astype(np.float32) for k, v in load_file(str(Path(folder) / "model.safetensors")).items()
             if k.startswith("text_proj.f.")}
        self.w1, self.b1 = w["text_proj.f.0.weight"], w["text_proj.f.0.bias"]
        self.w2, self.b2 = w["text_proj.f.3.weight"], w["text_proj.f.3.bias"]

    @staticmethod
    def supports(config: Mapping) -> bool:
        """A residual head over a frozen, unmodified base encoder."""
        return (config.get("text_head") == "residual" and not config.get("trainable_text_layers")
                and not config.get("text_delta"))

    def __call__(self, features: np.ndarray) -> np.ndarray:
        from scipy.special import erf

        x = np.asarray(features, np.float32)
        a = x @ self.w1.T + self.b1
        z = x + (0.5 * a * (1.0 + erf(a / np.sqrt(2.0)))).astype(np.float32) @ self.w2.T + self.b2
        return (z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)).astype(np.float32)


class LightTextTower:
    """A saved gtCLIP's text tower without torch models: the frozen base encoder through
    transformers alone (:func:`~contrastomics.models.text.encode_frozen`), then
    :class:`NumpyTextHead`. With an uncased base, an ASCII text missing from the shipped table is
    read from it under its lower-cased form ("Cellular response to lectin" is "cellular response to
    lectin" to the tokenizer), so only texts new in every spelling are encoded."""

    def __init__(self, base: Path, head: NumpyTextHead, uncased: bool):
        self.base, self.head, self.uncased = base, head, uncased

    def embed(self, texts: Sequence[str], table: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        import hashlib

        from .text import encode_frozen
        out = np.zeros((len(texts), self.head.w2.shape[0]), np.float32)
        todo = []
        for i, t in enumerate(texts):
            folded = hashlib.sha1(t.lower().encode()).hexdigest() if self.uncased and t.isascii() else None
            if table and folded in table:
                out[i] = table[folded]
            else:
                todo.append(i)
        if todo:
            out[todo] = self.head(encode_frozen(self.base, [texts[i] for i in todo]))
        return out


def _uncased(base: Path) -> bool:
    """The base tokenizer lower-cases every text (BERT-style ``do_lower_case``)."""
    try:
        cfg = json.loads((base / "tokenizer_config.json").read_text())
        norm = json.loads((base / "tokenizer.json").read_text()).get("normalizer") or {}
    except (OSError, ValueError):
        return False
    return bool(cfg.get("do_lower_case")) and bool(norm.get("lowercase"))


def light_text_tower(folder: str | Path) -> LightTextTower | None:
    """The :class:`LightTextTower` of a saved gtCLIP whose text tower is a residual head over a
    frozen, mean-pooled base encoder (3 s less than loading sentence-transformers and the torch
    model); ``None`` otherwise."""
    folder = Path(folder)
    cfg = json.loads((folder / "config.json").read_text())
    if not NumpyTextHead.supports(cfg) or any(folder.glob("text_encoder_delta*")):
        return None
    from .text import mean_pooled_modules, resolve_text_model
    try:
        base = resolve_text_model(cfg.get("text_encoder"))[1]
    except Exception:  # noqa: BLE001 - the full model path raises the clear error
        return None
    return LightTextTower(base, NumpyTextHead(folder), _uncased(base)) if mean_pooled_modules(base) else None
