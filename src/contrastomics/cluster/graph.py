"""Sparse k-nearest-neighbour graphs over pathway embeddings or similarity matrices.

All-pairs similarity is never materialised for embeddings: the gated joint space scores only the
pairs sharing a leading-edge gene (:func:`gated_knn`), other spaces are searched exhaustively in
row blocks up to :data:`EXACT_MAX` pathways and with an inverted-file index (k-means cells) above.
The three searches, their cost and measured recall: docs/clustering.md ("Inside the code").
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .embed import JointSpace

#: Largest number of pathways searched exhaustively (ungated spaces) and searched in one process
#: (gated spaces); see the module docstring.
EXACT_MAX = 20_000


def default_k(n: int) -> int:
    """Neighbours per pathway: 10 for small maps, growing slowly (``~log2 n``) to 15."""
    return int(max(2, min(n - 1, 15, 4 + round(np.log2(max(n, 2))))))


def knn_from_embedding(x, k: int, *, block: int = 2048, forbid: np.ndarray | None = None,
                       exact_max: int = EXACT_MAX, n_probe: int | None = None, seed: int = 0) -> sp.csr_matrix:
    """Cosine kNN graph of the rows of ``x`` ``(n, d)`` (L2-normalised), or of a
    :class:`~contrastomics.cluster.embed.JointSpace` (joint cosine, leading-edge gate applied).

    Returns a symmetric ``(n, n)`` CSR whose entry ``(i, j)`` is ``max(cos(i, j), 0)`` when ``j``
    is among the ``k`` nearest neighbours of ``i`` or ``i`` among ``j``'s (union), zero diagonal.
    ``forbid``: optional labels (e.g. NES sign); pairs with different labels are never neighbours.
    ``exact_max``: above this ``n`` the search is approximate (inverted file, ``n_probe`` cells per
    cell, default :func:`default_probe`); ``seed`` fixes its k-means.
    """
    space = x if hasattr(x, "pair_similarity") else JointSpace(np.ascontiguousarray(x, dtype=np.float32))
    n = len(space)
    k = int(min(k, n - 1))
    if n < 2 or k < 1:
        return sp.csr_matrix((n, n), dtype=np.float32)
    rows, cols, vals = [], [], []
    if getattr(space, "gate", False) and getattr(space, "overlap", None) is not None:
        r, c, v = gated_knn(space, k, forbid=forbid)
        return _symmetrize(r, c, v, n)
    if n <= exact_max:
        for start in range(0, n, block):
            q = np.arange(start, min(n, start + block))
            i, j, v = _top_k(space, q, None, k, forbid)
            rows.append(i), cols.append(j), vals.append(v)
    else:
        step = max(1, block // 16)  # 128 queries x ~n/8 candidates per task: bounded memory per worker
        tasks = [(q[a:a + step], cand) for q, cand in ivf_candidates(space, n_probe=n_probe, seed=seed)
                 for a in range(0, len(q), step)]
        state = (space, k, forbid)
        jobs = _n_jobs(n)
        parts = _map_forked(_ivf_block, tasks, state, jobs) if jobs > 1 else [_ivf_block(state, t) for t in tasks]
        for i, j, v in parts:
            rows.append(i), cols.append(j), vals.append(v)
    return _symmetrize(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), n)


#: Above this many pathways the gated kNN search runs in forked worker processes (at 10,000 the
#: graph stage gets faster but the copy-on-write page faults after the fork eat the gain).
PARALLEL_MIN = 20_000

#: Candidates per pathway in the gated search (:func:`gated_knn`): the pathways with the largest
#: leading-edge overlap; every candidate is scored with the joint cosine.
MAX_CANDIDATES = 128
#: Above :data:`EXACT_MAX` pathways only this many candidates per pathway (the best by leading-edge
#: overlap + tower cosines) also get the full-set overlap term, the costly part of the score.
FULL_SCORED_LARGE = 48


def gated_knn(space, k: int, *, forbid: np.ndarray | None = None, max_candidates: int = MAX_CANDIDATES,
              full_scored: int | None = None, budget: int = 8_000_000, n_jobs: int | None = None):
    """kNN of a :class:`~contrastomics.cluster.embed.JointSpace` whose leading-edge gate is on.

    A pathway's only admissible neighbours share a leading-edge gene with it, so the candidates are
    the nonzeros of one sparse product ``overlap @ overlap.T`` (row block by row block; their values
    are the exact weighted Ochiai coefficients): ~200-400 candidates per pathway at ``n = 10,000``
    instead of ``n``. When a pathway has more than ``max_candidates`` of them (hub genes at large
    ``n``), the ``max_candidates`` (default 128) with the largest leading-edge overlap are kept.
    Above :data:`EXACT_MAX` pathways (``full_scored`` default :data:`FULL_SCORED_LARGE`), only the
    candidates with the best leading-edge + tower score also get the full-set overlap term (recall
    of the exact top-k is reported by ``benchmarks/cluster_scaling.py``). Pathways
    without a leading edge are exempt from the gate: they are candidates of every pathway and are
    searched exhaustively. Every candidate gets the exact joint cosine (tower dot products +
    overlaps) and the top ``k`` are kept; exact (identical to the exhaustive search) whenever no
    pathway exceeds ``max_candidates``. Row blocks hold ~``budget`` co-occurring pairs each and run
    in ``n_jobs`` forked worker processes (default: the CPUs available, at most 4, when ``n`` >
    :data:`PARALLEL_MIN`; ``CONTRASTOMICS_JOBS`` overrides). Returns flat ``(rows, cols, values)``.
    """
    n = len(space)
    if full_scored is None and n > EXACT_MAX:
        full_scored = FULL_SCORED_LARGE
    has = space.has_leading_edge
    free = np.flatnonzero(~has)
    with_le = np.flatnonzero(has)
    # upper bound of each row's co-occurring pairs (sum of its genes' frequencies): block sizes
    o = space.overlap
    freq = np.bincount(o.indices, minlength=o.shape[1]).astype(np.int64)
    bound = np.asarray(sp.csr_matrix((freq[o.indices], o.indices, o.indptr), shape=o.shape).sum(1)).ravel()
    jobs = _n_jobs(n) if n_jobs is None else int(n_jobs)
    cum = np.cumsum(bound[with_le])
    if jobs > 1 and len(cum):  # at least ~4 blocks per worker, so that the workers share the load
        budget = int(max(1, min(budget, cum[-1] // (4 * jobs))))
    cuts = np.searchsorted(cum, np.arange(budget, cum[-1] + budget, budget)) if len(cum) else []
    blocks = [b for b in np.split(with_le, np.unique(np.minimum(cuts, len(with_le)))[:-1] + 1) if len(b)]
    blocks += [free[a:a + 1024] for a in range(0, len(free), 1024)]
    ot = o.T.tocsr()  # transposed once, before the workers fork
    if forbid is not None:  # one column block per label group (split direction), also made once
        ot = {g: (np.flatnonzero(forbid == g), ot[:, np.flatnonzero(forbid == g)].tocsr()) for g in np.unique(forbid)}
    state = (space, ot, k, forbid, max_candidates, full_scored, free)
    if jobs > 1 and len(blocks) > 1:
        parts = _map_forked(_gated_block, blocks, state, jobs)
    else:
        parts = [_gated_block(state, b) for b in blocks]
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    return tuple(np.concatenate([p_[i] for p_ in parts]) for i in range(3))


def _ivf_block(state, task):
    space, k, forbid = state
    q, cand = task
    return _top_k(space, q, cand, k, forbid)


def _gated_block(state, q: np.ndarray):
    space, ot, k, forbid, max_candidates, full_scored, free = state
    if not space.has_leading_edge[q[0]]:  # a block of pathways without a leading edge
        return _top_k(space, q, None, k, forbid)
    cand, ochiai = _candidates(space.overlap, ot, q, max_candidates, forbid)
    score = _rescore(space.dense, q, cand, ochiai)  # leading-edge overlap + towers
    if space.full_overlap is not None:
        if full_scored is not None and cand.shape[1] > full_scored:
            keep = np.argpartition(-score, full_scored - 1, axis=1)[:, :full_scored]
            cand, score = np.take_along_axis(cand, keep, 1), np.take_along_axis(score, keep, 1)
        score += _pair_overlaps(space.full_overlap, q, np.where(np.isfinite(score), cand, 0))
    if len(free):
        # pathways without a leading edge are exempt from the gate: scored against every query
        # with one dense product and competing with the gated candidates
        s_free = space.pair_similarity(q, free, gated=False)
        if forbid is not None:
            s_free[forbid[q][:, None] != forbid[free][None, :]] = -np.inf
        cand = np.hstack([cand, np.broadcast_to(free, (len(q), len(free)))])
        score = np.hstack([score, s_free])
    return _select(q, cand, score, k)


def _n_jobs(n: int) -> int:
    import os
    env = os.environ.get("CONTRASTOMICS_JOBS")
    if env:
        return max(1, int(env))
    if n <= PARALLEL_MIN:
        return 1
    import sys
    if sys.platform == "darwin":  # forking after macOS's Accelerate/ObjC runtime is loaded is unsafe
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


_FORK_STATE = None


def _forked_call(args):
    fn, block = args
    return fn(_FORK_STATE, block)


def _map_forked(fn, blocks, state, jobs: int):
    """``[fn(state, b) for b in blocks]`` in ``jobs`` forked processes that inherit ``state`` (no
    pickling of the large arrays); falls back to one process where fork is unavailable."""
    import multiprocessing as mp
    global _FORK_STATE
    try:
        ctx = mp.get_context("fork")
    except ValueError:
        return [fn(state, b) for b in blocks]
    _FORK_STATE = state
    try:
        with ctx.Pool(jobs) as pool:
            return pool.map(_forked_call, [(fn, b) for b in blocks], chunksize=1)
    finally:
        _FORK_STATE = None


def _candidates(o: sp.csr_matrix, ot: sp.csr_matrix, q: np.ndarray, m: int, forbid):
    """The ``m`` pathways with the largest leading-edge overlap with each pathway ``q[i]`` (self and
    forbidden pairs excluded) as padded ``(cand, value)`` arrays ``(len(q), m')``.

    With ``sparse_dot_topn`` (ING, Apache-2.0) the product and the per-row top-m are one fused C++
    pass that never stores the full product (~3x faster than scipy's product + :func:`_row_top`);
    without it, scipy's product and :func:`_row_top`. ``forbid``: each label group is searched
    against its own columns, so forbidden pairs never take a slot."""
    if isinstance(ot, dict):  # per-group column blocks (see gated_knn): (positions in q, columns, block)
        groups = [(np.flatnonzero(forbid[q] == g), ot[g][0], ot[g][1]) for g in np.unique(forbid[q])]
    else:
        groups = [(np.arange(len(q)), None, ot)]
    try:
        from sparse_dot_topn import sp_matmul_topn
    except ImportError:
        sp_matmul_topn = None
    width = int(max(1, min(m + 1, o.shape[0])))
    cand = np.full((len(q), width), -1, np.int64)
    val = np.full((len(q), width), -np.inf, np.float32)
    for at, cols, b in groups:
        top = min(width, b.shape[1])
        if sp_matmul_topn is None:  # scipy product + numpy top-k (self dropped below, not here)
            gc, gv = _row_top((o[q[at]] @ b).tocsr(), top)
        else:
            gc, gv = _padded(sp_matmul_topn(o[q[at]], b, top_n=top, threshold=0.0), top)
        if cols is not None:
            gc = np.where(gc >= 0, cols[np.maximum(gc, 0)], -1)
        cand[at, :gc.shape[1]] = gc
        val[at, :gv.shape[1]] = gv
    val[cand == q[:, None]] = -np.inf  # the pathway itself (always its own largest overlap)
    cand[~np.isfinite(val)] = -1
    return cand, val


def _padded(c: sp.csr_matrix, width: int):
    """CSR rows (at most ``width`` entries each) as padded ``(cand, value)`` arrays (``-1``/``-inf``)."""
    counts = np.diff(c.indptr)
    rr = np.repeat(np.arange(c.shape[0]), counts)
    pos = np.arange(c.nnz) - np.repeat(c.indptr[:-1], counts)
    cand = np.full((c.shape[0], width), -1, np.int64)
    val = np.full((c.shape[0], width), -np.inf, np.float32)
    cand[rr, pos] = c.indices
    val[rr, pos] = c.data
    return cand, val


def _row_top(inter: sp.csr_matrix, width: int):
    """The ``width`` largest entries of each row of ``inter`` as padded ``(cand, value)`` arrays
    ``(R, <= width)`` (``-1`` / ``-inf`` padding).

    Rows are bucketed by their number of entries so that each bucket is a dense (rows x longest row)
    block with little padding, cut to the top ``width`` by ``argpartition``."""
    counts = np.diff(inter.indptr)
    vals, cols = inter.data, inter.indices
    width = int(max(1, min(width, counts.max() if len(counts) else 1)))
    cand = np.full((len(counts), width), -1, np.int64)
    val = np.full((len(counts), width), -np.inf, np.float32)
    order = np.argsort(counts, kind="stable")
    lo = 0
    while lo < len(order):
        c0 = counts[order[lo]]
        hi = lo + 1
        cap = max(1, 4_000_000 // max(int(c0), 1))
        while hi < len(order) and hi - lo < cap and counts[order[hi]] <= max(2 * c0, width):
            hi += 1
        br = order[lo:hi]
        lo = hi
        cb = counts[br]
        wmax = int(cb.max())
        if wmax == 0:
            continue
        rr = np.repeat(np.arange(len(br), dtype=np.int32), cb)
        pos = np.arange(len(rr), dtype=np.int64) - np.repeat(np.cumsum(cb) - cb, cb)
        src = np.repeat(inter.indptr[br].astype(np.int64), cb) + pos
        pv = np.full((len(br), wmax), -np.inf, np.float32)
        pc = np.full((len(br), wmax), -1, np.int64)
        pv[rr, pos] = vals[src]
        pc[rr, pos] = cols[src]
        if wmax > width:
            top = np.argpartition(-pv, width - 1, axis=1)[:, :width]
            pv = np.take_along_axis(pv, top, 1)
            pc = np.take_along_axis(pc, top, 1)
        cand[br, :pv.shape[1]] = pc
        val[br, :pv.shape[1]] = pv
    return cand, val


def _rescore(dense: np.ndarray, q: np.ndarray, cand: np.ndarray, ochiai: np.ndarray) -> np.ndarray:
    """Leading-edge term ``ochiai`` plus the tower dot products of ``q[i]`` with each ``cand[i, j]``;
    ``-inf`` where ``cand`` is padding or the pair is not admissible."""
    score = ochiai.copy()
    ok = (cand >= 0) & np.isfinite(ochiai)
    safe = np.where(ok, cand, 0)
    for a in range(0, len(q), 256):
        sl = slice(a, a + 256)
        score[sl] += np.einsum("id,ijd->ij", dense[q[sl]], dense[safe[sl]])
    score[~ok] = -np.inf
    return score


def _pair_overlaps(block: sp.csr_matrix, q: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """``block[q[i]] . block[cand[i, j]]`` ``(len(q), m)``: per 256 queries one sparse product against
    their distinct candidates, then a lookup (never the queries x n product)."""
    out = np.empty(cand.shape, np.float32)
    for a in range(0, len(q), 256):
        sl = slice(a, a + 256)
        u, inv = np.unique(cand[sl], return_inverse=True)
        # (candidates x genes) @ (genes x queries): only the small query block is transposed
        prod = (block[u] @ block[q[sl]].T.tocsr()).toarray().T
        out[sl] = np.take_along_axis(prod, inv.reshape(cand[sl].shape), 1)
    return out


def _select(q: np.ndarray, cand: np.ndarray, score: np.ndarray, k: int):
    kk = min(k, cand.shape[1])
    idx = np.argpartition(-score, kk - 1, axis=1)[:, :kk] if kk < cand.shape[1] else np.tile(np.arange(kk), (len(q), 1))
    c = np.take_along_axis(cand, idx, 1).ravel()
    v = np.take_along_axis(score, idx, 1).ravel()
    r = np.repeat(q, kk)
    keep = (c >= 0) & np.isfinite(v)
    return r[keep], c[keep], v[keep]


def _top_k(space, q: np.ndarray, cand: np.ndarray | None, k: int, forbid):
    """Top-``k`` of query rows ``q`` among ``cand`` (``None``: all), as flat (rows, cols, values)."""
    s = space.pair_similarity(q, cand)
    cols = np.arange(s.shape[1]) if cand is None else cand
    s[q[:, None] == cols[None, :]] = -np.inf
    if forbid is not None:
        s[forbid[q][:, None] != forbid[cols][None, :]] = -np.inf
    return _select(q, np.broadcast_to(cols, s.shape), s, k)


#: random-projection width of the sparse blocks in the inverted-file sketch: on 100,000 distinct
#: gene sets 64 gave kNN recall 0.50, 256 gave 0.78 for ~30% more search time (cluster_scaling)
SKETCH_DIM = 256


def default_probe(n_cells: int) -> int:
    """Cells searched per cell: ``~2 sqrt(n_cells)``, at least 8 (all cells when fewer)."""
    return int(min(n_cells, max(8, round(2 * np.sqrt(n_cells)))))


def ivf_candidates(space, *, n_cells: int | None = None, n_probe: int | None = None, seed: int = 0,
                   sample: int = 20_000):
    """Yield ``(queries, candidates)`` index arrays, one pair per k-means cell (see module docstring)."""
    from sklearn.cluster import KMeans
    n = len(space)
    n_cells = int(n_cells or max(1, round(np.sqrt(n))))
    n_probe = int(n_probe or default_probe(n_cells))
    z = space.sketch(dim=SKETCH_DIM, seed=seed)
    z /= np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    rng = np.random.default_rng(seed)
    fit = z[np.sort(rng.choice(n, min(n, max(sample, 20 * n_cells)), replace=False))]
    km = KMeans(n_clusters=n_cells, n_init=1, max_iter=20, random_state=seed).fit(fit)
    cent = km.cluster_centers_.astype(np.float32)
    cent /= np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-12)
    cell = np.empty(n, np.int64)
    for a in range(0, n, 8192):  # nearest centroid by cosine, in blocks
        cell[a:a + 8192] = np.argmax(z[a:a + 8192] @ cent.T, axis=1)
    order = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(n_cells + 1))
    members = [order[bounds[c]:bounds[c + 1]] for c in range(n_cells)]
    probe = np.argsort(-(cent @ cent.T), axis=1, kind="stable")[:, :n_probe]
    for c in range(n_cells):
        if len(members[c]):
            yield members[c], np.sort(np.concatenate([members[p] for p in probe[c]]))


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
    g = ig.Graph(n=adj.shape[0], directed=False)
    # an iterator of int pairs is ~6x faster for igraph than a nested list or an (m, 2) array
    g.add_edges(zip(upper.row.tolist(), upper.col.tolist()))
    g.es["weight"] = upper.data.astype(float).tolist()
    return g
