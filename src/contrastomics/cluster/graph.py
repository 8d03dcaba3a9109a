"""Sparse k-nearest-neighbour graphs over pathway embeddings or similarity matrices.

All-pairs similarity is never materialised for embeddings: the cosine kNN search runs in row blocks
(``block`` rows at a time, ``O(n * block)`` memory) and keeps the top ``k`` per row, so the graph
costs ``O(n^2 d)`` flops but ``O(n k)`` memory; at ``n = 10,000`` it is one BLAS pass.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def default_k(n: int) -> int:
    """Neighbours per pathway: 10 for small maps, growing slowly (``~log2 n``) to 15."""
    return int(max(2, min(n - 1, 15, 4 + round(np.log2(max(n, 2))))))


def knn_from_embedding(x, k: int, *, block: int = 2048,
                       forbid: np.ndarray | None = None) -> sp.csr_matrix:
    """Cosine kNN graph of the rows of ``x`` ``(n, d)`` (L2-normalised), or of a
    :class:`~contrastomics.cluster.embed.JointSpace` (joint cosine, leading-edge gate applied).

    Returns a symmetric ``(n, n)`` CSR whose entry ``(i, j)`` is ``max(cos(i, j), 0)`` when ``j``
    is among the ``k`` nearest neighbours of ``i`` or ``i`` among ``j``'s (union), zero diagonal.
    ``forbid``: optional labels (e.g. NES sign); pairs with different labels are never neighbours.
    """
    n = x.shape[0]
    k = int(min(k, n - 1))
    if n < 2 or k < 1:
        return sp.csr_matrix((n, n), dtype=np.float32)
    space = x if hasattr(x, "similarity") else None
    if space is None:
        x = np.ascontiguousarray(x, dtype=np.float32)
    rows, cols, vals = [], [], []
    for start in range(0, n, block):
        stop = min(n, start + block)
        if space is None:
            s = x[start:stop] @ x.T
        else:
            s = space.neighbour_similarity(slice(start, stop))
        s[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        if forbid is not None:
            s[forbid[start:stop, None] != forbid[None, :]] = -np.inf
        idx = np.argpartition(-s, k - 1, axis=1)[:, :k]
        v = np.take_along_axis(s, idx, axis=1)
        rows.append(np.repeat(np.arange(start, stop), k))
        cols.append(idx.ravel())
        vals.append(v.ravel())
    return _symmetrize(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), n)


def knn_from_similarity(s: "np.ndarray | sp.spmatrix", k: int, *, forbid: np.ndarray | None = None,
                        min_similarity: float = 0.0) -> sp.csr_matrix:
    """kNN graph from a precomputed ``(n, n)`` similarity (dense or sparse; baselines use it).

    Neighbours with similarity ``<= min_similarity`` are dropped, so a pathway sharing no gene with
    any other stays isolated (as it does in every overlap method).
    """
    n = s.shape[0]
    k = int(min(k, n - 1))
    if n < 2 or k < 1:
        return sp.csr_matrix((n, n), dtype=np.float32)
    if sp.issparse(s):
        s = s.tocsr().astype(np.float32)
        rows, cols, vals = [], [], []
        for i in range(n):
            lo, hi = s.indptr[i], s.indptr[i + 1]
            j, v = s.indices[lo:hi], s.data[lo:hi]
            ok = (j != i) & (v > min_similarity)
            if forbid is not None:
                ok &= forbid[j] == forbid[i]
            j, v = j[ok], v[ok]
            if len(j) > k:
                top = np.argpartition(-v, k - 1)[:k]
                j, v = j[top], v[top]
            rows.append(np.full(len(j), i))
            cols.append(j)
            vals.append(v)
        r, c, v = (np.concatenate(a) if a else np.zeros(0) for a in (rows, cols, vals))
        return _symmetrize(r.astype(np.int64), c.astype(np.int64), v, n)
    s = np.array(s, dtype=np.float32, copy=True)
    np.fill_diagonal(s, -np.inf)
    if forbid is not None:
        s[forbid[:, None] != forbid[None, :]] = -np.inf
    idx = np.argpartition(-s, k - 1, axis=1)[:, :k]
    v = np.take_along_axis(s, idx, axis=1).ravel()
    r = np.repeat(np.arange(n), k)
    keep = v > min_similarity
    return _symmetrize(r[keep], idx.ravel()[keep], v[keep], n)


def _symmetrize(rows, cols, vals, n) -> sp.csr_matrix:
    vals = np.where(np.isfinite(vals), np.maximum(vals, 0.0), 0.0).astype(np.float32)
    keep = vals > 0
    g = sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n, n))
    g = g.maximum(g.T).tocsr()
    g.setdiag(0)
    g.eliminate_zeros()
    return g


def to_igraph(adj: sp.csr_matrix):
    """Undirected weighted igraph ``Graph`` from a symmetric CSR adjacency."""
    import igraph as ig
    upper = sp.triu(adj, k=1).tocoo()
    g = ig.Graph(n=adj.shape[0], edges=np.column_stack([upper.row, upper.col]).tolist(), directed=False)
    g.es["weight"] = upper.data.astype(float).tolist()
    return g
