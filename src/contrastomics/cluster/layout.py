"""A readable 2-D map of clustered pathways: clusters as discs, members inside them.

Force layouts of kNN graphs (Fruchterman-Reingold) smear clusters together and t-SNE is slow
(minutes at ``n = 10,000`` on one core), so the map is built from the clustering itself:

1. each cluster is a disc of radius ``sqrt(size)``; disc centres start at the first two principal
   components of the cluster centroids (similar clusters start close) and are pushed apart until
   no two discs overlap (a few hundred vectorised relaxation steps over ``K x K`` pairs);
2. members are placed inside their disc by the first two principal components of their own
   vectors (so within-cluster structure shows), scaled to the disc.

Deterministic: no random start. Cost ``O(n d + K^2)`` per step.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _pca2(x: np.ndarray) -> np.ndarray:
    if x.shape[0] < 2:
        return np.zeros((x.shape[0], 2))
    xc = np.asarray(x - x.mean(0), np.float64)
    # eigen-decomposition of the small Gram or covariance matrix: LAPACK's SVD of a tall-thin
    # block is needlessly slow when many BLAS threads compete for two cores
    if xc.shape[0] <= xc.shape[1]:
        w, u = np.linalg.eigh(xc @ xc.T)
        order = np.argsort(-w)[:2]
        out = u[:, order] * np.sqrt(np.maximum(w[order], 0))
        vt = (xc.T @ u[:, order]).T
    else:
        w, v = np.linalg.eigh(xc.T @ xc)
        order = np.argsort(-w)[:2]
        vt = v[:, order].T
        out = xc @ v[:, order]
    # fix the sign so that the map does not flip between runs on different BLAS builds
    sign = np.sign(vt[:2].sum(1))
    sign[sign == 0] = 1
    out = out * sign[: out.shape[1]]
    if out.shape[1] < 2:
        out = np.hstack([out, np.zeros((out.shape[0], 2 - out.shape[1]))])
    return out


def features_from_graph(adj: sp.csr_matrix, dim: int = 16) -> np.ndarray:
    """Vectors for methods without an embedding: truncated SVD of ``adj + I``, L2-normalised."""
    n = adj.shape[0]
    m = (adj + sp.identity(n, format="csr")).astype(np.float64)
    k = int(min(dim, n - 1))
    if k < 2:
        return np.ones((n, 2))
    from scipy.sparse.linalg import svds
    u, s, _ = svds(m, k=k, random_state=0)
    x = u * s
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def cluster_layout(labels: np.ndarray, x: np.ndarray, *, gap: float = 0.6, steps: int = 300) -> np.ndarray:
    """2-D coordinates ``(n, 2)`` in ``[-1, 1]`` for pathways with cluster ``labels`` and vectors ``x``."""
    labels = np.asarray(labels)
    n = len(labels)
    if n == 0:
        return np.zeros((0, 2))
    ids, inv, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    k = len(ids)
    onehot = sp.csr_matrix((np.ones(n), (np.arange(n), inv)), shape=(n, k))
    cent = np.asarray(onehot.T @ x) / sizes[:, None]
    radius = np.sqrt(sizes).astype(float)
    pos = _pca2(cent) if k > 2 else np.array([[0.0, 0.0], [1.0, 0.0]])[:k]
    spread = np.abs(pos).max() or 1.0
    pos = pos / spread * np.sqrt(radius.sum()) * 2.0
    for _ in range(steps):
        d = pos[:, None, :] - pos[None, :, :]
        dist = np.sqrt((d ** 2).sum(-1)) + np.eye(k)
        need = radius[:, None] + radius[None, :] + gap
        over = np.clip(need - dist, 0, None)
        np.fill_diagonal(over, 0)
        if over.max() < 1e-3:
            break
        push = (d / dist[..., None] * over[..., None] / 2).sum(1)
        pos += push + 1e-3 * -pos  # a weak pull to the centre keeps the map compact
    coords = np.zeros((n, 2))
    for c in range(k):
        idx = np.flatnonzero(inv == c)
        local = _pca2(x[idx])
        scale = np.abs(local).max()
        local = local / scale * radius[c] * 0.9 if scale > 0 else local
        coords[idx] = pos[c] + local
    coords -= coords.mean(0)
    return coords / (np.abs(coords).max() + 1e-12)
