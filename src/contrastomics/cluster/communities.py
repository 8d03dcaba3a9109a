"""Communities on pathway graphs: Leiden with an automatic resolution, MCL, small-cluster handling.

:func:`leiden_auto` tunes the resolution to :func:`target_clusters`; :func:`linkage_partition` cuts a
Ward / average-linkage tree of the joint space at that count instead; :func:`attach_small` dissolves
clusters below ``min_cluster_size`` and attaches their members to the nearest cluster when close
enough; :func:`join_identical` puts pathways with identical gene sets in one cluster;
:func:`split_to` / :func:`merge_to` reach an exact cluster count (``--n-clusters K``);
:func:`order_labels` numbers clusters by decreasing size. The rules and thresholds: docs/clustering.md.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .graph import to_igraph


#: below 100 pathways a result without GO terms takes round(sqrt(n/2)) clusters, not bounded by n/15
#: (issue 15 bounds GO results; development round 22, benchmarks/decisions/cluster.md)
UNBOUNDED_NON_GO = False


def target_clusters(n: int, per: int | None = None, *, go: bool = True) -> int:
    """Default number of clusters for ``n`` pathways: ``floor(n / 15)`` for ``n >= 100`` (the most
    issue 15's readable bound ``n / 15`` allows; development round 13), ``min(round(sqrt(n / 2)),
    floor(n / 15))`` below, at least 2 (1 when ``n < 4``); below 100 and ``go`` false (no GO result)
    with :data:`UNBOUNDED_NON_GO`, ``round(sqrt(n / 2))``. ``per``: ``round(n / per)`` at
    ``n >= 100`` instead (the rule of earlier rounds, kept for their scripts)."""
    if n < 4:
        return 1
    if n >= 100:
        return max(2, n // 15 if per is None else round(n / per))
    if not go and UNBOUNDED_NON_GO:
        return max(2, round(np.sqrt(n / 2)))
    return max(2, min(round(np.sqrt(n / 2)), n // 15))


def leiden(adj: "sp.csr_matrix | object", resolution: float = 1.0, seed: int = 0, n_iterations: int = 2) -> np.ndarray:
    """Leiden partition of a weighted undirected graph (CSR adjacency or igraph ``Graph``),
    labels ``(n,)`` int.

    igraph's own Leiden (``Graph.community_leiden``, objective ``"modularity"`` with a resolution:
    the same quality function as leidenalg's ``RBConfigurationVertexPartition``) runs ~15x faster
    than leidenalg here at equal or higher modularity. Seeded through a private
    ``random.Random(seed)`` that is swapped in for the call only. ``n_iterations=2`` as leidenalg.
    """
    import random

    import igraph as ig
    if sp.issparse(adj):
        n = adj.shape[0]
        if n == 0:
            return np.zeros(0, np.int64)
        if adj.nnz == 0:
            return np.arange(n)
        g = to_igraph(adj)
    else:
        g = adj
        if g.ecount() == 0:
            return np.arange(g.vcount())
    ig.set_random_number_generator(random.Random(int(seed)))
    try:
        part = g.community_leiden(objective_function="modularity", weights="weight",
                                  resolution=float(resolution), n_iterations=int(n_iterations))
    finally:
        ig.set_random_number_generator(random)
    return np.asarray(part.membership, np.int64)


def n_real_clusters(labels: np.ndarray, min_size: int) -> int:
    """Clusters with at least ``min_size`` members."""
    if len(labels) == 0:
        return 0
    return int((np.bincount(labels) >= min_size).sum())


def leiden_auto(adj: sp.csr_matrix, target: int, *, min_size: int = 3, seed: int = 0,
                lo: float = 1e-3, hi: float = 1e4, max_iter: int = 14,
                tolerance: float = 0.05, refine_max_n: int = 20_000) -> tuple[np.ndarray, float]:
    """Leiden with the resolution chosen so that the number of clusters of ``>= min_size``
    members is as close as possible to ``target``.

    On kNN graphs that count grows as a power of the resolution (exponent ~0.5-1), so the search
    starts at 1 and takes secant steps in log-log (exponent 1 for the first two steps, then estimated
    from the last two tries: large maps need resolutions in the hundreds), falling back to bisection of ``log10(resolution)`` inside the bracket
    ``[lo, hi]`` when a step would leave it; it stops once the count is within
    ``tolerance * target`` (at least 1) of the target, usually after 2-4 one-pass Leiden runs. The
    best resolution (ties: the smaller, fewer fragments) is then run with two passes (above
    ``refine_max_n`` nodes the best one-pass partition is kept). Returns ``(labels, resolution)``.
    """
    if adj.shape[0] == 0:
        return np.zeros(0, np.int64), 1.0
    g = to_igraph(adj) if adj.nnz else adj
    if adj.nnz == 0 or adj.shape[0] < 2 * min_size:
        return leiden(g, 1.0, seed=seed), 1.0  # nothing to tune on a tiny or edgeless graph
    tol = max(1, int(round(tolerance * target)))
    best = None
    a, b = np.log10(lo), np.log10(hi)
    mid = 0.0
    prev = None
    for it in range(max_iter):
        lab = leiden(g, 10 ** mid, seed=seed, n_iterations=1)
        k = n_real_clusters(lab, min_size)
        score = (abs(k - target), mid)
        if best is None or score < best[0]:
            best = (score, 10 ** mid, lab)
        if abs(k - target) <= tol:
            break
        if k < target:
            a = mid
        else:
            b = mid
        # large kNN graphs: the count grows ~ resolution^0.6 (measured at 10^4-10^5 pathways)
        slope = 1.0 if adj.shape[0] <= refine_max_n else 0.6
        if it >= 2 and prev[1] > 0 and k > 0 and abs(mid - prev[0]) > 1e-9:
            slope = float(np.clip((np.log10(k) - np.log10(prev[1])) / (mid - prev[0]), 0.2, 2.0))
        prev = (mid, k)
        step = mid + (np.log10(target / k) / slope if k > 0 else 1.0)
        mid = step if a < step < b else (a + b) / 2
        if b - a < 1e-3:
            break
    res = float(best[1])
    if adj.shape[0] > refine_max_n:  # large maps: a second pass costs seconds and changes little
        return best[2], res
    # the search used one refinement pass per try; the result gets leidenalg's default two
    return leiden(g, res, seed=seed), res


#: Above this many pathways a hierarchical partition would need the ``n x n`` distances: Leiden instead.
LINKAGE_MAX_N = 5_000


def linkage_partition(x, target: int, *, method: str = "ward", min_size: int = 3, similarity=None,
                      groups: np.ndarray | None = None) -> np.ndarray:
    """Agglomerative partition cut where it first gives ``target`` clusters of ``>= min_size`` members.

    The space is a :class:`~contrastomics.cluster.embed.JointSpace` ``x`` (or an ``(n, d)`` array), or a
    precomputed ``similarity`` ``(n, n)``. ``ward``: Ward linkage on the Euclidean distances
    ``sqrt(s_ii + s_jj - 2 s_ij)`` (exact for ``x``: every block of the joint cosine; a precomputed
    similarity's diagonal is taken as ``max(1, max s)``); ``average``:
    UPGMA on ``1 - s_ij``. ``groups`` (NES sign under ``--split-direction``): pathways of different
    groups merge only above every within-group merge. Needs the ``n x n`` similarities
    (:data:`LINKAGE_MAX_N`). A Ward cut of ``x`` is then polished by :func:`kmeans_polish`
    (:data:`POLISH`) unless that changes its count of real clusters. Returns raw labels ``(n,)``;
    small clusters are left to :func:`attach_small`."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    if similarity is not None:
        s = similarity.toarray() if sp.issparse(similarity) else np.array(similarity, np.float64)
        np.fill_diagonal(s, max(1.0, float(np.max(s, initial=0.0))))  # a pathway is most similar to itself
    else:
        s = x.similarity(slice(None)) if hasattr(x, "similarity") else np.asarray(x) @ np.asarray(x).T
    s = np.asarray(s, np.float64)
    n = s.shape[0]
    if groups is not None:  # one cluster per group at least: a cut never joins two groups
        target = max(target, len(np.unique(groups)))
    if n < 2 or target <= 1:
        return np.zeros(n, np.int64)
    if method not in ("ward", "average"):
        raise ValueError(f"unknown linkage {method!r}; choose ward or average")
    # distances in place of the similarities (one n x n matrix, plus the condensed copy)
    if method == "ward":
        d = euclidean_in_place(s)
    else:
        d = s
        d += d.T.copy()
        d /= 2
        np.subtract(1.0, d, out=d)
        np.maximum(d, 0.0, out=d)
    if groups is not None:
        g = np.asarray(groups)
        d += (g[:, None] != g[None, :]) * (10.0 * n * (d.max() + 1.0))
    np.fill_diagonal(d, 0.0)
    tree = linkage(squareform(d, checks=False), method=method)
    best = None
    for t in range(min(target, n), n + 1):
        lab = fcluster(tree, t, criterion="maxclust") - 1
        got = n_real_clusters(lab, min_size)
        if best is None or abs(got - target) < abs(best[0] - target):
            best = (got, lab)
        if got >= target:
            break
    lab = np.asarray(best[1], np.int64)
    if POLISH and method == "ward" and similarity is None and hasattr(x, "centroid_parts"):
        polished = kmeans_polish(x, lab, groups=groups)
        # the cut's count of real clusters is the target: a polish that changes it is not taken
        if n_real_clusters(polished, min_size) == n_real_clusters(lab, min_size):
            lab = polished
    return lab


def euclidean_in_place(s: np.ndarray) -> np.ndarray:
    """Euclidean distances ``sqrt(s_ii + s_jj - 2 s_ij)`` of vectors whose inner products are ``s``
    ``(n, n)`` float64 (symmetrised first), written over ``s`` row by row (no second n x n matrix)."""
    s += s.T.copy()
    s /= 2
    sq = np.diag(s).copy()
    s *= -2
    for i in range(len(s)):
        s[i] += sq[i] + sq
    np.maximum(s, 0.0, out=s)
    np.sqrt(s, out=s)
    return s


#: Lloyd's k-means after the Ward cut of an embedding method (development round 16, adopted;
#: benchmarks/decisions/cluster.md)
POLISH = True
#: the polish sends a pathway to the nearest centroid (``"distance"``) or to the centroid of highest
#: cosine (``"cosine"``, spherical k-means; development round 24)
POLISH_ASSIGN = "distance"


def kmeans_polish(x, labels: np.ndarray, *, groups: np.ndarray | None = None, max_iter: int = 100) -> np.ndarray:
    """Lloyd's k-means in the space of ``x`` (a :class:`~contrastomics.cluster.embed.JointSpace`: its
    centroids and inner products), started from the clusters ``labels``: each pathway to the nearest
    centroid, centroids recomputed, until no pathway moves or ``max_iter`` rounds. ``groups``: a
    pathway only joins a cluster whose members (at the start) share its group. Empty clusters stay empty."""
    lab = np.asarray(labels, np.int64).copy()
    n, k = len(lab), int(lab.max()) + 1 if len(lab) else 0
    if k < 2:
        return lab
    allowed = None
    if groups is not None:
        g = np.asarray(groups)
        allowed = g[:, None] == np.array([g[lab == c][0] if (lab == c).any() else g[0] for c in range(k)])[None, :]
    for _ in range(max_iter):
        onehot = sp.csr_matrix((np.ones(n), (np.arange(n), lab)), shape=(n, k))
        parts = x.centroid_parts(onehot)
        if POLISH_ASSIGN == "cosine":  # a short (diffuse) centroid is no cheaper to join
            cost = -x.centroid_dots(parts) / parts[2].astype(np.float64)[None, :]
        else:
            cost = parts[2].astype(np.float64) ** 2 - 2 * x.centroid_dots(parts)  # |x - c|^2 - |x|^2
        empty = np.bincount(lab, minlength=k) == 0
        cost[:, empty] = np.inf
        if allowed is not None:
            cost[~allowed] = np.inf
        new = np.argmin(cost, 1)
        if np.array_equal(new, lab):
            break
        lab = new
    return lab


def attach_small(labels: np.ndarray, x: np.ndarray | None, *, min_size: int = 3,
                 threshold: "float | str" = "auto", groups: np.ndarray | None = None,
                 similarity: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Dissolve clusters smaller than ``min_size`` and attach their members to the most similar
    retained cluster when the similarity reaches ``threshold``.

    Similarity to a cluster is the cosine to its centroid in ``x`` ``(n, d)`` (normalised rows), or,
    with a precomputed ``similarity`` ``(n, n)`` (baselines), the mean similarity to its members.
    ``groups`` (e.g. NES sign under ``--split-direction``) restricts attachment to clusters of the
    same group. Returns new labels (``-1`` = singleton) and counts ``{"attached", "singletons"}``.
    """
    labels = np.asarray(labels).copy()
    n = len(labels)
    if n == 0:
        return labels, {"attached": 0, "singletons": 0, "attach_threshold": None}
    sizes = np.bincount(labels)
    big = np.flatnonzero(sizes >= min_size)
    small_members = np.flatnonzero(sizes[labels] < min_size)
    out = np.full(n, -1, np.int64)
    remap = np.full(len(sizes), -1, np.int64)
    remap[big] = np.arange(len(big))
    in_big = sizes[labels] >= min_size
    out[in_big] = remap[labels[in_big]]
    if len(big) == 0 or len(small_members) == 0:
        return out, {"attached": 0, "singletons": int(len(small_members)), "attach_threshold": None}
    onehot = sp.csr_matrix((np.ones(in_big.sum()), (np.flatnonzero(in_big), out[in_big])), shape=(n, len(big)))
    members = np.flatnonzero(in_big)
    counts = np.asarray(onehot.sum(0)).ravel()
    dense_sim = parts = None
    if similarity is not None:
        dense_sim = np.asarray(similarity @ onehot) if not sp.issparse(similarity) else np.asarray((similarity @ onehot).todense())
        dense_sim = dense_sim / counts[None, :]
    elif hasattr(x, "centroid_parts"):
        parts = x.centroid_parts(onehot)  # once, for every chunk below and the threshold
    else:
        cent = np.asarray(onehot.T @ x) / counts[:, None]
        cent /= np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-12)

    def to_clusters(rows):  # similarity of pathways ``rows`` to every retained cluster
        if dense_sim is not None:
            return dense_sim[rows]
        if parts is not None:
            return x.cluster_similarity(onehot, rows=rows, parts=parts)
        return x[rows] @ cent.T

    if threshold == "auto":
        # each retained member against its own centroid only: never the n x K matrix
        if dense_sim is not None:
            own = dense_sim[members, out[members]]
        elif parts is not None:
            own = x.own_cluster_similarity(onehot, members, out[members], parts=parts)
        else:
            own = np.einsum("ij,ij->i", x[members], cent[out[members]])
        threshold = float(np.quantile(own, 0.05))
    cgroup = None
    if groups is not None:
        pos = np.bincount(out[members], weights=(groups[members] > 0).astype(float), minlength=len(big))
        cgroup = pos > counts - pos  # majority sign of each retained cluster (ties: down)
    best = np.empty(len(small_members), np.int64)
    best_val = np.empty(len(small_members))
    for a in range(0, len(small_members), 2048):  # (chunk x K) at a time
        rows = small_members[a:a + 2048]
        cand = np.array(to_clusters(rows), dtype=np.float64, copy=True)
        if cgroup is not None:
            cand[(groups[rows, None] > 0) != cgroup[None, :]] = -np.inf
        best[a:a + len(rows)] = cand.argmax(1)
        best_val[a:a + len(rows)] = cand[np.arange(len(rows)), best[a:a + len(rows)]]
    ok = best_val >= threshold
    out[small_members[ok]] = best[ok]
    return out, {"attached": int(ok.sum()), "singletons": int((~ok).sum()), "attach_threshold": float(threshold)}


def identical_groups(*matrices: sp.csr_matrix, min_genes: int = 2) -> np.ndarray:
    """Group id ``(n,)`` of each row: rows that are identical, with at least ``min_genes`` genes, in
    any of the 0/1 ``matrices`` (leading edges, full sets) share one (transitively); others get
    their own."""
    n = matrices[0].shape[0]
    parent = np.arange(n)

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for m in matrices:
        m = sp.csr_matrix(m)
        m.sort_indices()
        seen: dict[bytes, int] = {}
        ind, ptr = m.indices, m.indptr
        for i in np.flatnonzero(np.diff(ptr) >= min_genes):
            j = seen.setdefault(ind[ptr[i]:ptr[i + 1]].tobytes(), i)
            if j != i:
                parent[root(i)] = root(j)
    return np.fromiter((root(i) for i in range(n)), np.int64, n)


def join_identical(labels: np.ndarray, groups: np.ndarray, fdr: np.ndarray,
                   sides: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Put pathways with identical gene sets (same ``groups`` id, and same ``sides`` value when
    given: ``--split-direction``) into one cluster, below ``min_cluster_size`` too: the cluster
    of their most significant member that has one, else (all ``-1``) a new one. Returns the new
    labels and how many pathways moved."""
    labels = np.asarray(labels).copy()
    key = groups if sides is None else groups * 2 + (np.asarray(sides) > 0)
    order = np.lexsort((np.asarray(fdr, float), key))  # by group, then FDR
    k = key[order]
    bounds = np.flatnonzero(np.r_[True, k[1:] != k[:-1], True])
    moved = 0
    nxt = int(labels.max()) + 1 if len(labels) else 0
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b - a < 2:
            continue
        rows = order[a:b]
        placed = rows[labels[rows] >= 0]
        target = labels[placed[0]] if len(placed) else nxt
        nxt += int(not len(placed))
        moved += int((labels[rows] != target).sum())
        labels[rows] = target
    return labels, moved


def order_labels(labels: np.ndarray, fdr: np.ndarray) -> np.ndarray:
    """Renumber clusters 0..K-1 by decreasing size (ties: lowest best FDR); ``-1`` singletons get
    ids K, K+1, ... in order of FDR. Every pathway ends with a non-negative id."""
    labels = np.asarray(labels)
    out = np.empty(len(labels), np.int64)
    real_mask = labels >= 0
    ids, inv = np.unique(labels[real_mask], return_inverse=True)
    sizes = np.bincount(inv, minlength=len(ids))
    best = np.full(len(ids), np.inf)
    f = np.asarray(fdr, float)[real_mask]
    np.fmin.at(best, inv, np.where(np.isnan(f), np.inf, f))
    key = np.lexsort((ids, best, -sizes))  # size desc, then lowest FDR, then id
    rank = np.empty(len(ids), np.int64)
    rank[key] = np.arange(len(ids))
    out[real_mask] = rank[inv]
    singles = np.flatnonzero(~real_mask)
    singles = singles[np.argsort(fdr[singles], kind="stable")]
    out[singles] = len(ids) + np.arange(len(singles))
    return out


def mcl(adj: sp.csr_matrix, inflation: float = 2.0, *, expansion: int = 2, max_iter: int = 100,
        prune: float = 1e-4, tol: float = 1e-6) -> np.ndarray:
    """Markov clustering (van Dongen 2000) of a weighted graph, labels ``(n,)``.

    Self-loops are added (weight = the node's largest edge weight, as in MCL's defaults), columns are
    normalised, then expansion (matrix power) and inflation (entrywise power + renormalisation)
    alternate with pruning of entries below ``prune`` until the matrix stops changing. Each node
    joins the attractor holding most of its column's mass.
    """
    n = adj.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    a = sp.csr_matrix(adj, dtype=np.float64)
    loops = np.asarray(a.max(axis=1).todense()).ravel()
    loops[loops == 0] = 1.0
    m = (a + sp.diags(loops)).tocsc()
    m = _colnorm(m)
    for _ in range(max_iter):
        prev = m
        m = m
        for _ in range(expansion - 1):
            m = m @ prev
        m = m.power(inflation)
        m.data[m.data < prune] = 0
        m.eliminate_zeros()
        m = _colnorm(m)
        if abs(m - prev).max() < tol:
            break
    m = m.tocsc()
    # column j's attractor: the row with the largest mass in column j
    att = np.asarray(m.argmax(axis=0)).ravel()
    _, labels = np.unique(att, return_inverse=True)
    return labels.astype(np.int64)


def _colnorm(m: sp.spmatrix) -> sp.csc_matrix:
    m = sp.csc_matrix(m)
    s = np.asarray(m.sum(axis=0)).ravel()
    s[s == 0] = 1.0
    return (m @ sp.diags(1.0 / s)).tocsc()


def n_clusters_of(labels: np.ndarray) -> int:
    """Clusters with at least two members (``-1`` = singleton)."""
    lab = np.asarray(labels)
    lab = lab[lab >= 0]
    return int((np.bincount(lab) >= 2).sum()) if len(lab) else 0


def _cluster_similarity(labels: np.ndarray, x, similarity) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, S)``: the clusters of ``>= 2`` members and their pairwise similarity: centroid cosine
    in ``x`` (a :class:`~contrastomics.cluster.embed.JointSpace`) or the mean pairwise
    ``similarity`` ``(n, n)`` between members."""
    lab = np.asarray(labels)
    ids = np.flatnonzero(np.bincount(lab[lab >= 0], minlength=1) >= 2) if (lab >= 0).any() else np.zeros(0, int)
    col = np.full(int(lab.max()) + 1 if len(lab) else 0, -1)
    col[ids] = np.arange(len(ids))
    rows = np.flatnonzero((lab >= 0) & (col[np.maximum(lab, 0)] >= 0))
    onehot = sp.csr_matrix((np.ones(len(rows)), (rows, col[lab[rows]])), shape=(len(lab), len(ids)))
    counts = np.maximum(np.asarray(onehot.sum(0)).ravel(), 1)
    if similarity is not None:
        s = similarity @ onehot
        s = np.asarray(s.todense() if sp.issparse(s) else s, np.float64)
        return ids, np.asarray(onehot.T @ s) / np.outer(counts, counts)
    cent, sparse, norm = x.centroid_parts(onehot)
    s = cent.astype(np.float64) @ cent.T.astype(np.float64)
    for c in sparse:
        s = s + (c @ c.T).toarray()
    return ids, s / np.outer(norm, norm)


def merge_to(labels: np.ndarray, k: int, *, x=None, similarity=None, groups: np.ndarray | None = None
             ) -> np.ndarray:
    """Merge clusters until ``k`` of ``>= 2`` members remain: the smallest (ties: the highest id)
    joins the cluster most similar to it (:func:`_cluster_similarity`; with ``groups``, one of the
    same majority group). Similarities are recomputed after each round in which every cluster
    merges at most once. Stops early when no cluster has a partner."""
    lab = np.asarray(labels).copy()
    while n_clusters_of(lab) > k:
        excess = n_clusters_of(lab) - k
        ids, s = _cluster_similarity(lab, x, similarity)
        sizes = np.bincount(lab[lab >= 0])[ids]
        if groups is not None:
            g = np.array([np.mean(groups[lab == c] > 0) > 0.5 for c in ids])
            s = np.where(g[:, None] == g[None, :], s, -np.inf)
        np.fill_diagonal(s, -np.inf)
        touched = np.zeros(len(ids), bool)
        merged = 0
        for i in np.lexsort((-ids, sizes)):
            if merged >= excess:
                break
            if touched[i]:
                continue
            cand = np.where(touched, -np.inf, s[i])
            j = int(np.argmax(cand))
            if not np.isfinite(cand[j]):
                continue
            lab[lab == ids[i]] = ids[j]
            touched[[i, j]] = True
            merged += 1
        if not merged:
            break
    return lab


def _spectral_halves(sub: sp.csr_matrix) -> np.ndarray:
    """0/1 halves of a graph at the median of the Fiedler vector of its normalised Laplacian."""
    from scipy.sparse.csgraph import laplacian
    a = sp.csr_matrix(sub, dtype=np.float64)
    a = a.maximum(a.T)
    lap = laplacian(a, normed=True).toarray()
    _, vecs = np.linalg.eigh(lap)
    f = vecs[:, 1] if lap.shape[0] > 1 else np.zeros(lap.shape[0])
    order = np.argsort(f, kind="stable")
    out = np.zeros(len(f), np.int64)
    out[order[len(f) // 2:]] = 1
    return out


def split_to(labels: np.ndarray, k: int, adj: sp.csr_matrix, *, min_size: int = 3, seed: int = 0) -> np.ndarray:
    """Split clusters until ``k`` of ``>= 2`` members exist: the largest cluster that Leiden on its own
    subgraph (:func:`leiden_auto`, two parts wanted) cuts into parts of ``>= min_size`` members is
    replaced by them (members of smaller parts join the largest part); a cluster Leiden leaves whole
    (a near-clique) is cut in two at the median of its subgraph's Fiedler vector. Stops when no
    cluster has ``2 * min_size`` members."""
    lab = np.asarray(labels).copy()
    adj = sp.csr_matrix(adj)
    tried: set[tuple] = set()
    while n_clusters_of(lab) < k:
        real = lab[lab >= 0]
        ids = np.flatnonzero(np.bincount(real) >= 2 * min_size) if len(real) else np.zeros(0, int)
        ids = [c for c in ids[np.argsort(-np.bincount(real)[ids], kind="stable")]
               if tuple(np.flatnonzero(lab == c)) not in tried]
        done = False
        for c in ids:
            idx = np.flatnonzero(lab == c)
            tried.add(tuple(idx))
            sub, _ = leiden_auto(adj[idx][:, idx].tocsr(), 2, min_size=min_size, seed=seed)
            part_sizes = np.bincount(sub)
            big = np.flatnonzero(part_sizes >= min_size)
            if len(big) < 2:
                sub = _spectral_halves(adj[idx][:, idx])
                part_sizes = np.bincount(sub)
                big = np.flatnonzero(part_sizes >= min_size)
            if len(big) < 2:
                continue
            main = big[np.argmax(part_sizes[big])]
            sub = np.where(part_sizes[sub] >= min_size, sub, main)
            nxt = int(lab.max()) + 1
            for p in big:
                if p != main:
                    lab[idx[sub == p]] = nxt
                    nxt += 1
            done = True
            break
        if not done:
            break
    return lab
