"""Gene-function prediction protocol (GSFM paper, 001): complete a gene set from half of it.

Each term's genes are split 50/50 per seed; a method scores every universe gene from the input
half; AUROC of the held-out half against every other non-input gene, median over terms. Vectorised
over terms (sparse ``(n_queries, n_genes)`` inputs, dense scores, rank-based AUROC). Baselines:
co-membership, gene frequency, random. Full definition: docs/gsfm.md, "Gene-function protocol".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

from ..errors import InputError


@dataclass
class Queries:
    """Split gene sets of one target library.

    Attributes
    ----------
    inputs, heldout
        ``(n_queries, n_genes)`` CSR 0/1 matrices over the universe: the genes shown to a method
        and the genes it must recover.
    term_index
        Row of the target library each query comes from, ``(n_queries,)``.
    seed
        Split seed of each query, ``(n_queries,)``.
    """

    inputs: sp.csr_matrix
    heldout: sp.csr_matrix
    term_index: np.ndarray
    seed: np.ndarray

    def __len__(self) -> int:
        return self.inputs.shape[0]

    def input_lists(self, genes) -> list[list[str]]:
        """Input genes of each query as symbol lists (for models that take symbols)."""
        g = np.asarray(genes, dtype=object)
        m = self.inputs
        return [list(g[m.indices[m.indptr[i]:m.indptr[i + 1]]]) for i in range(m.shape[0])]


def make_queries(membership: sp.csr_matrix, seeds=(0, 1), n_terms: int | None = None, min_genes: int = 10,
                 max_genes: int | None = 500, sample_seed: int = 0) -> tuple[Queries, np.ndarray]:
    """50/50 splits of the rows of ``membership`` ``(n_terms, n_genes)`` (already over the universe).

    Terms with ``min_genes <= size <= max_genes`` are eligible; ``n_terms`` of them are sampled
    without replacement (with ``sample_seed``) when there are more. Each seed splits each kept term:
    ``floor(size / 2)`` genes go to the input half. Returns ``(queries, kept_term_rows)``.
    """
    m = sp.csr_matrix(membership)
    sizes = np.diff(m.indptr)
    ok = (sizes >= min_genes) & ((sizes <= max_genes) if max_genes else True)
    terms = np.flatnonzero(ok)
    if len(terms) == 0:
        raise InputError(f"no term has between {min_genes} and {max_genes} genes in the universe")
    if n_terms is not None and len(terms) > n_terms:
        terms = np.sort(np.random.default_rng(sample_seed).choice(terms, n_terms, replace=False))
    in_r, in_c, out_r, out_c, tix, sds = [], [], [], [], [], []
    q = 0
    for s in seeds:
        rng = np.random.default_rng([int(s), 7919])
        for t in terms:
            genes = m.indices[m.indptr[t]:m.indptr[t + 1]]
            perm = rng.permutation(genes)
            k = len(perm) // 2
            in_c.append(perm[:k]); in_r.append(np.full(k, q))
            out_c.append(perm[k:]); out_r.append(np.full(len(perm) - k, q))
            tix.append(t); sds.append(s)
            q += 1
    shape = (q, m.shape[1])

    def build(r, c):
        r, c = np.concatenate(r), np.concatenate(c)
        return sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=shape)

    return Queries(build(in_r, in_c), build(out_r, out_c), np.asarray(tix), np.asarray(sds)), terms


def auroc_rows(scores: np.ndarray, positives: sp.csr_matrix, exclude: sp.csr_matrix | None = None,
               chunk: int = 256) -> np.ndarray:
    """AUROC of each row of ``scores`` ``(n, g)``: ``positives`` against all other columns,
    ignoring the ``exclude`` columns of that row. Ties count one half. Returns ``(n,)`` (NaN for
    rows without positives or negatives)."""
    n, g = scores.shape
    positives = sp.csr_matrix(positives)
    exclude = sp.csr_matrix((n, g), dtype=np.float32) if exclude is None else sp.csr_matrix(exclude)
    out = np.empty(n)
    for s in range(0, n, chunk):
        x = np.array(scores[s:s + chunk], dtype=np.float64, copy=True)
        pos = positives[s:s + chunk].toarray() > 0
        exc = exclude[s:s + chunk].toarray() > 0
        exc &= ~pos
        # excluded genes tie at -inf below every candidate, so a candidate's rank among candidates
        # is its rank among all columns minus the number of excluded genes of the row
        x[exc] = -np.inf
        ranks = rankdata(x, axis=1, method="average")
        n_exc = exc.sum(1)
        n_pos = pos.sum(1)
        n_neg = g - n_exc - n_pos
        r_pos = np.where(pos, ranks, 0).sum(1) - n_pos * n_exc
        with np.errstate(invalid="ignore", divide="ignore"):
            out[s:s + chunk] = (r_pos - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    out[(positives.getnnz(axis=1) == 0)] = np.nan
    return out


def comembership_scores(inputs: sp.csr_matrix, corpus: sp.csr_matrix) -> np.ndarray:
    """Summed co-occurrence of every gene with the input genes in ``corpus``.

    ``inputs`` ``(n, g)``, ``corpus`` ``(n_sets, g)`` 0/1 -> ``(n, g)``: entry ``(i, j)`` counts the
    (input gene, corpus set) pairs where the set holds both the input gene and gene ``j``.
    """
    corpus = sp.csr_matrix(corpus, dtype=np.float32)
    hits = sp.csr_matrix(inputs, dtype=np.float32) @ corpus.T  # (n, n_sets): input genes per set
    return np.asarray((hits @ corpus).todense(), dtype=np.float32)


def frequency_scores(inputs: sp.csr_matrix, corpus: sp.csr_matrix) -> np.ndarray:
    """Number of corpus sets holding each gene, the same for every query ``(n, g)``."""
    freq = np.asarray(sp.csr_matrix(corpus).sum(axis=0), dtype=np.float32).ravel()
    return np.broadcast_to(freq, (inputs.shape[0], len(freq))).copy()


def random_scores(inputs: sp.csr_matrix, seed: int = 0) -> np.ndarray:
    """Uniform random scores ``(n, g)``."""
    return np.random.default_rng(seed).random(inputs.shape, dtype=np.float32)


def rank_blend(a: np.ndarray, b: np.ndarray, weight: float = 0.5) -> np.ndarray:
    """Blend two score matrices by their within-row ranks scaled to [0, 1]:
    ``weight * rank(a) + (1 - weight) * rank(b)`` (scale-free, so BCE probabilities and counts mix)."""
    ra = rankdata(a, axis=1, method="average") / a.shape[1]
    rb = rankdata(b, axis=1, method="average") / b.shape[1]
    return (weight * ra + (1 - weight) * rb).astype(np.float32)


def summarize(auc: np.ndarray, term_index: np.ndarray) -> dict:
    """Per-term AUROC (mean over seeds) -> ``{"median", "mean", "n_terms"}``."""
    ok = ~np.isnan(auc)
    terms, inv = np.unique(term_index[ok], return_inverse=True)
    per_term = np.bincount(inv, weights=auc[ok]) / np.bincount(inv)
    return {"median": float(np.median(per_term)), "mean": float(np.mean(per_term)), "n_terms": int(len(terms)),
            "per_term": per_term}


def evaluate_scores(scores: np.ndarray, queries: Queries) -> dict:
    """AUROC of ``scores`` ``(n_queries, n_genes)`` on ``queries`` summarised per term."""
    if scores.shape != queries.inputs.shape:
        raise InputError(f"scores have shape {scores.shape}, expected {queries.inputs.shape}")
    auc = auroc_rows(scores, queries.heldout, queries.inputs)
    return summarize(auc, queries.term_index)
