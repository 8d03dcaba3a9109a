"""Overlap-based and semantic baselines, run by the same tool (``--method``).

=============  ==============================================================================
method         what it reproduces
=============  ==============================================================================
``overlap``    EnrichmentMap + AutoAnnotate: edge weight = combined coefficient
               ``0.5 * Jaccard + 0.5 * overlap coefficient`` of the full gene sets, edges kept
               at ``>= 0.375`` (EnrichmentMap's default cutoff for the combined coefficient),
               MCL with inflation 2.0 (clusterMaker's default). All pairs, ``O(n^2)``.
``overlap-knn`` the strongest overlap baseline: leading-edge Jaccard kNN graph (``k`` as for
               ``joint``) + Leiden with the same automatic resolution as ``joint``.
``kappa``      DAVID functional annotation clustering's similarity: Cohen's kappa of gene
               membership over the union of the result's genes, edges at ``kappa >= 0.35``
               (DAVID's default); partition by Leiden (DAVID's greedy fuzzy seeding is not a
               partition) with the automatic resolution.
``semantic``   simplifyEnrichment-style GO semantic similarity (simGIC,
               :mod:`contrastomics.evaluate.semantic`), kNN graph + Leiden (instead of
               simplifyEnrichment's binary cut). GO results only.
=============  ==============================================================================

``text`` and ``genes`` are embedding methods (see :mod:`contrastomics.cluster.embed`).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: EnrichmentMap's default cutoff for the combined coefficient.
EM_COMBINED_CUTOFF = 0.375
#: DAVID's default kappa similarity threshold.
DAVID_KAPPA_CUTOFF = 0.35


def _inter_sizes(m: sp.csr_matrix):
    m = sp.csr_matrix(m, dtype=np.float32)
    inter = (m @ m.T).tocsr()
    s = np.asarray(m.sum(1), dtype=np.float32).ravel()
    return inter, s


def jaccard_sparse(m: sp.csr_matrix) -> sp.csr_matrix:
    """Jaccard of 0/1 rows as a sparse ``(n, n)`` matrix (only pairs sharing a gene are stored)."""
    inter, s = _inter_sizes(m)
    coo = inter.tocoo()
    v = coo.data / (s[coo.row] + s[coo.col] - coo.data)
    return sp.csr_matrix((v.astype(np.float32), (coo.row, coo.col)), shape=inter.shape)


def combined_coefficient(m: sp.csr_matrix, k: float = 0.5) -> sp.csr_matrix:
    """EnrichmentMap's combined coefficient ``k * Jaccard + (1 - k) * overlap``, sparse ``(n, n)``."""
    inter, s = _inter_sizes(m)
    coo = inter.tocoo()
    jac = coo.data / (s[coo.row] + s[coo.col] - coo.data)
    ov = coo.data / np.minimum(s[coo.row], s[coo.col])
    return sp.csr_matrix(((k * jac + (1 - k) * ov).astype(np.float32), (coo.row, coo.col)), shape=inter.shape)


def kappa_matrix(m: sp.csr_matrix) -> np.ndarray:
    """Cohen's kappa between 0/1 rows over the genes present in any row, dense ``(n, n)``."""
    m = sp.csr_matrix(m, dtype=np.float64)
    used = np.flatnonzero(np.asarray(m.sum(0)).ravel() > 0)
    m = m[:, used]
    big_n = float(max(m.shape[1], 1))
    inter = np.asarray((m @ m.T).todense())
    s = np.asarray(m.sum(1)).ravel()
    n00 = big_n - s[:, None] - s[None, :] + inter
    observed = (inter + n00) / big_n
    expected = (s[:, None] * s[None, :] + (big_n - s[:, None]) * (big_n - s[None, :])) / big_n ** 2
    denom = 1 - expected
    return np.divide(observed - expected, denom, out=np.zeros_like(observed), where=denom > 1e-12)


def threshold_graph(s: "np.ndarray | sp.spmatrix", cutoff: float, forbid: np.ndarray | None = None) -> sp.csr_matrix:
    """Symmetric graph keeping similarities ``>= cutoff`` (no self loops)."""
    g = sp.csr_matrix(s, dtype=np.float32) if sp.issparse(s) else sp.csr_matrix(np.where(s >= cutoff, s, 0).astype(np.float32))
    g = g.multiply(g >= cutoff).tocsr()
    if forbid is not None:
        coo = g.tocoo()
        ok = forbid[coo.row] == forbid[coo.col]
        g = sp.csr_matrix((coo.data[ok], (coo.row[ok], coo.col[ok])), shape=g.shape)
    g.setdiag(0)
    g.eliminate_zeros()
    return g.maximum(g.T).tocsr()
