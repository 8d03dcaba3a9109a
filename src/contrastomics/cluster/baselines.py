"""The baseline methods of ``contrastomics cluster --method``: ``overlap`` (EnrichmentMap + MCL),
``overlap-knn`` (leading-edge Jaccard kNN), ``kappa`` (DAVID) and ``semantic`` (GO simGIC kNN).

:func:`baseline_graph` builds each one's graph; what each reproduces and its cut-offs:
docs/clustering.md ("The methods"). ``text`` and ``genes`` are embedding methods
(:mod:`contrastomics.cluster.embed`).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import InputError
from ..evaluate.semantic import go_similarity_for
from .graph import knn_from_similarity

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


def semantic_similarity(terms, source: str | None = None) -> tuple:
    """simGIC between the GO terms of a result, ``(sim, known)``
    (:func:`~contrastomics.evaluate.semantic.go_similarity_for`); an error for a non-GO result."""
    go = go_similarity_for(list(terms))
    if go is None:
        raise InputError("--method semantic needs a GO result (GO ids, or MSigDB GO names such as "
                         "GOBP_APOPTOTIC_PROCESS); fewer than half of these pathways are GO terms: use another method",
                         source)
    return go


def baseline_graph(method: str, pathways, k: int, forbid: np.ndarray | None = None):
    """Graph of a baseline ``method`` over :class:`~contrastomics.cluster.pathways.Pathways`:
    ``(adj, similarity, go)``. ``adj`` symmetric ``(n, n)`` CSR; ``similarity`` the pairwise
    similarity small clusters are attached by (``None`` for ``overlap``, whose MCL clusters stay as
    they are); ``go`` the ``(sim, known)`` simGIC pair of ``semantic`` (reused by the metrics)."""
    if method == "overlap":
        s = combined_coefficient(pathways.full_matrix)
        return threshold_graph(s, EM_COMBINED_CUTOFF, forbid), None, None
    if method == "overlap-knn":
        s = jaccard_sparse(pathways.le_matrix)
        return knn_from_similarity(s, k, forbid=forbid), s, None
    if method == "kappa":
        s = kappa_matrix(pathways.full_matrix)
        return threshold_graph(s, DAVID_KAPPA_CUTOFF, forbid), s, None
    if method == "semantic":
        go = semantic_similarity(pathways.go_terms or pathways.table["term"].tolist(), pathways.source)
        return knn_from_similarity(go[0], k, forbid=forbid), go[0], go
    raise InputError(f"unknown baseline method {method!r}; choose overlap, overlap-knn, kappa or semantic")
