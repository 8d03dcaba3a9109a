"""Quality metrics of a pathway clustering (``contrastomics cluster-metrics``).

:func:`cluster_metrics`: coverage, cluster counts, NES sign coherence with its chance level, gene-set
Jaccard within / between clusters and silhouettes in independent spaces (gene-Jaccard, GO simGIC,
GO Wang); :class:`GoPairs` and :func:`label_support_shares` for the label support of cluster labels.
Exact up to :data:`EXACT_MAX_N` pathways; above, the pair metrics are estimated from a fixed-seed
stratified sample of anchor pathways (with standard errors; summary keys ``metrics_exact``,
``pairs_sampled_n``...). Definitions and the estimator: docs/clustering.md (the metrics section and
"Inside the code").
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from .semantic import wang_block, ontology_rows, wang_s_values

#: largest number of pathways for which every metric is exact (dense ``n x n``)
EXACT_MAX_N = 5000
#: anchor pathways (non-singleton clusters) of the estimated metrics above :data:`EXACT_MAX_N` ...
SAMPLE_SIZE = 5000
#: ... reduced above 40,000 pathways so that anchors x pathways stays <= this (2,000 at 100,000)
PAIR_BUDGET = 200_000_000
MIN_SAMPLE_SIZE = 1000
#: entries (rows x pathways) per chunk: bounds the memory of the chance and anchor computations
_CHUNK_ENTRIES = 4_000_000


def cluster_sizes(labels: np.ndarray) -> np.ndarray:
    _, inv, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return counts[inv]


def coverage(labels: np.ndarray) -> float:
    """Fraction of pathways in clusters of size >= 2."""
    return float((cluster_sizes(labels) >= 2).mean()) if len(labels) else 0.0


def _sign_coherence_batch(codes: np.ndarray, n_codes: int, pos: np.ndarray) -> np.ndarray:
    """Coherence for many sign vectors at once: ``pos`` ``(r, n)`` bool, ``codes`` ``(n,)`` cluster
    codes of non-singleton members (``-1`` elsewhere)."""
    r, n = pos.shape
    keep = codes >= 0
    if not keep.any():
        return np.full(r, np.nan)
    c = codes[keep]
    p = pos[:, keep].astype(np.int64)
    offs = (np.arange(r)[:, None] * n_codes * 2 + c[None, :] * 2 + p).ravel()
    counts = np.bincount(offs, minlength=r * n_codes * 2).reshape(r, n_codes, 2)
    return counts.max(2).sum(1) / keep.sum()


def nes_coherence(labels: np.ndarray, nes: np.ndarray, *, n_random: int = 200, seed: int = 0,
                  exact_max_n: int = EXACT_MAX_N) -> dict:
    """NES sign coherence, its chance level and the chance-adjusted value (see module docstring).

    Pathways with NES 0 or NaN are left out. The random clusterings are drawn as sign permutations
    up to ``exact_max_n`` pathways and, above, as the equivalent multivariate hypergeometric
    counts per cluster (same null distribution, cost independent of ``n``). Returns ``{"observed", "chance", "chance_sd",
    "adjusted", "n_random"}``.
    """
    labels = np.asarray(labels)
    nes = np.asarray(nes, dtype=np.float64)
    ok = np.isfinite(nes) & (nes != 0)
    labels, nes = labels[ok], nes[ok]
    sizes = cluster_sizes(labels) if len(labels) else np.zeros(0, int)
    _, codes = np.unique(labels, return_inverse=True)
    codes = np.where(sizes >= 2, codes, -1)
    n_codes = int(codes.max()) + 1 if len(codes) and codes.max() >= 0 else 0
    if n_codes == 0:
        return {"observed": float("nan"), "chance": float("nan"), "chance_sd": float("nan"),
                "adjusted": float("nan"), "n_random": n_random}
    pos = nes > 0
    observed = float(_sign_coherence_batch(codes, n_codes, pos[None, :])[0])
    rng = np.random.default_rng(seed)
    if len(labels) > exact_max_n and n_random > 0:
        # same null, O(n_random x clusters): the positives falling in each cluster of a random
        # placement are multivariate hypergeometric (the singletons form one more group)
        group = np.bincount(codes[codes >= 0], minlength=n_codes)
        colors = np.r_[group, (codes < 0).sum()]
        k = rng.multivariate_hypergeometric(colors, int(pos.sum()), size=n_random)[:, :n_codes]
        chance_all = np.maximum(k, group - k).sum(1) / group.sum()
    else:
        # permuting signs over fixed clusters == permuting pathways over the same size profile;
        # batches bound memory (rows x n int64 offsets) and draw the stream of one (n_random, n) call
        batch = max(1, _CHUNK_ENTRIES // max(len(pos), 1))
        chance_all = np.concatenate([
            _sign_coherence_batch(codes, n_codes,
                                  rng.permuted(np.tile(pos, (min(batch, n_random - b), 1)), axis=1))
            for b in range(0, n_random, batch)]) if n_random > 0 else np.full(0, np.nan)
    chance = float(chance_all.mean())
    adjusted = (observed - chance) / (1 - chance) if chance < 1 else float("nan")
    return {"observed": observed, "chance": chance, "chance_sd": float(chance_all.std()),
            "adjusted": float(adjusted), "n_random": n_random}


def jaccard_matrix(membership: sp.csr_matrix) -> np.ndarray:
    """Dense Jaccard of 0/1 rows, ``(n, n)`` float32 (exact path only: ``n <= EXACT_MAX_N``)."""
    m = sp.csr_matrix(membership, dtype=np.float32)
    inter = np.asarray((m @ m.T).todense(), dtype=np.float32)
    s = np.asarray(m.sum(1), dtype=np.float32).ravel()
    union = s[:, None] + s[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def jaccard_rows(membership: sp.csr_matrix) -> Callable[[np.ndarray], sp.csr_matrix]:
    """``rows(idx)`` -> sparse Jaccard of rows ``idx`` against all rows, ``(len(idx), n)`` CSR
    float32 (pairs sharing no gene are absent, i.e. 0); never builds ``n x n``."""
    m = sp.csr_matrix(membership, dtype=np.float32)
    mt = m.T.tocsr()  # (n_genes, n): CSR @ CSR avoids a conversion per chunk
    s = np.asarray(m.sum(1), dtype=np.float32).ravel()

    def rows(idx: np.ndarray) -> sp.csr_matrix:
        inter = (m[idx] @ mt).tocsr()
        # pairs sharing >= 1 gene: union >= 1, so the division is safe
        union = np.repeat(s[idx], np.diff(inter.indptr))
        union += s[inter.indices]
        union -= inter.data
        np.divide(inter.data, union, out=inter.data)
        return inter
    return rows


def within_between(labels: np.ndarray, sim: np.ndarray) -> dict:
    """Mean similarity of same-cluster pairs (non-singleton clusters) vs different-cluster pairs."""
    labels = np.asarray(labels)
    n = len(labels)
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(n, dtype=bool)
    within = same & off
    between = ~same
    w = float(sim[within].mean()) if within.any() else float("nan")
    b = float(sim[between].mean()) if between.any() else float("nan")
    ratio = w / b if b and np.isfinite(b) and b > 0 else float("nan")
    return {"within": w, "between": b, "ratio": ratio}


def silhouette(labels: np.ndarray, dist: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Silhouette with precomputed distances over pathways in non-singleton clusters (and ``mask``)."""
    labels = np.asarray(labels)
    keep = cluster_sizes(labels) >= 2
    if mask is not None:
        keep &= mask
    idx = np.flatnonzero(keep)
    lab = labels[idx]
    if len(np.unique(lab)) < 2 or len(idx) <= len(np.unique(lab)):
        return float("nan")
    d = np.asarray(dist[np.ix_(idx, idx)], dtype=np.float64)
    np.fill_diagonal(d, 0)
    return silhouette_precomputed(d, lab)


def silhouette_precomputed(d: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette of a square distance matrix (scikit-learn's ``silhouette_score(d, labels,
    metric="precomputed")``, equal to it in the tests): here because importing scikit-learn took
    0.5 s of a 3.5 s ``cluster`` run. Members of a cluster of one score 0."""
    return float(silhouette_values(d, labels).mean())


def silhouette_values(d: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-point silhouette of a square distance matrix (scikit-learn's ``silhouette_samples`` with
    ``metric="precomputed"``; members of a cluster of one score 0)."""
    _, codes, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    onehot = np.zeros((len(codes), len(sizes)))
    onehot[np.arange(len(codes)), codes] = 1.0
    mean_to = (d @ onehot) / sizes  # mean distance of each point to each cluster (self included)
    own = sizes[codes]
    a = mean_to[np.arange(len(codes)), codes] * own / np.maximum(own - 1, 1)
    mean_to[np.arange(len(codes)), codes] = np.inf
    b = mean_to.min(axis=1)
    s = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return np.nan_to_num(s)


# ---------------------------------------------------------------- estimated path (n > exact_max_n)
def default_sample_size(n: int) -> int:
    """Anchors for ``n`` pathways: :data:`SAMPLE_SIZE`, fewer when ``anchors x n`` would pass
    :data:`PAIR_BUDGET` (never below :data:`MIN_SAMPLE_SIZE`)."""
    return int(min(SAMPLE_SIZE, max(MIN_SAMPLE_SIZE, PAIR_BUDGET // max(n, 1))))


def anchor_sample(labels: np.ndarray, sample_size: int = SAMPLE_SIZE, seed: int = 0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Stratified systematic sample of anchor pathways (see module docstring).

    Returns ``(idx, weight)``: sorted anchor indices and each anchor's inverse sampling fraction
    (pathways of its group -- non-singleton or singleton -- per anchor drawn from it).
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    _, codes = np.unique(labels, return_inverse=True)
    ns = np.bincount(codes)[codes] >= 2
    rank = rng.permutation(int(codes.max()) + 1 if len(codes) else 0)
    n_ns = int(ns.sum())
    k_ns = min(int(sample_size), n_ns)
    idx, w = [], []
    n_1 = int((~ns).sum())
    # singletons only refine the "between" means: same fraction as the rest, at most a quarter
    k_1 = min(n_1, int(np.ceil(k_ns * n_1 / n_ns)), max(1, k_ns // 4)) if n_ns else min(n_1, int(sample_size))
    for members, k in ((np.flatnonzero(ns), k_ns), (np.flatnonzero(~ns), k_1)):
        if k <= 0 or not len(members):
            continue
        order = members[np.lexsort((rng.random(len(members)), rank[codes[members]]))]
        step = len(order) / k
        pick = np.floor(rng.uniform(0, step) + step * np.arange(k)).astype(np.int64)
        idx.append(order[np.minimum(pick, len(order) - 1)])
        w.append(np.full(k, len(order) / k))
    if not idx:
        return np.zeros(0, np.int64), np.zeros(0)
    idx, w = np.concatenate(idx), np.concatenate(w)
    o = np.argsort(idx)
    return idx[o], w[o]


def _anchor_stats(codes: np.ndarray, rows: Callable, anchors: np.ndarray, weights: np.ndarray,
                  population: np.ndarray, ns: np.ndarray, chunk: int | None = None) -> dict:
    """Silhouette, within and between similarity means from anchors compared with every pathway.

    ``codes`` ``(n,)`` cluster codes; ``rows(idx)`` similarity ``(len(idx), n)`` (dense or sparse),
    or ``(block, item)``: ``block`` ``(len(idx), m)`` against ``m`` distinct items and ``item``
    ``(n,)`` each pathway's item (``-1``: similarity 0 to everything);
    ``population`` ``(n,)`` bool pathways that count (GO: known terms); ``ns`` non-singleton.
    """
    n = len(codes)
    pop = np.asarray(population, bool)
    sil_pop = pop & ns
    n_q = np.bincount(codes[pop], minlength=codes.max() + 1)       # cluster sizes inside population
    n_p = np.bincount(codes[sil_pop], minlength=codes.max() + 1)   # ... inside the silhouette population
    p_codes = np.flatnonzero(n_p)                                 # clusters of the silhouette space
    col = np.full(codes.max() + 1, -1)
    col[p_codes] = np.arange(len(p_codes))
    onehot = sp.csr_matrix((np.ones(int(sil_pop.sum())), (np.flatnonzero(sil_pop), col[codes[sil_pop]])),
                           shape=(n, len(p_codes)))
    pop_f = pop.astype(np.float64)
    all_pop = bool(pop.all())
    n_cols = len(p_codes)
    pathway_col = np.where(sil_pop, col[codes], n_cols)
    a_in = anchors[pop[anchors]]
    w_in = weights[pop[anchors]]
    s_vals, within_num, within_den, between_num, between_den = [], 0.0, 0.0, 0.0, 0.0
    fold = None
    chunk = chunk if chunk else max(16, min(1024, _CHUNK_ENTRIES // max(n, 1)))
    for b in range(0, len(a_in), chunk):
        idx, w = a_in[b:b + chunk], w_in[b:b + chunk]
        r = rows(idx)
        local = np.arange(len(idx))
        if sp.issparse(r):
            # one bincount over the stored pairs; pathways outside the silhouette space go to an
            # extra last column, so the row total (Jaccard: every pathway counts) comes for free
            r = r.tocsr()
            rid = np.repeat(local, np.diff(r.indptr))
            rid *= n_cols + 1
            rid += pathway_col[r.indices]
            per_cluster = np.bincount(rid, weights=r.data, minlength=len(idx) * (n_cols + 1)
                                      ).reshape(len(idx), n_cols + 1)
            total = per_cluster.sum(1) if all_pop else r @ pop_f
            per_cluster = per_cluster[:, :n_cols]
            self_sim = np.asarray(r[local, idx], dtype=np.float64).ravel()
        elif isinstance(r, tuple):
            # (block against m distinct items, item of each pathway): fold pathways into items
            r, item = r
            if fold is None:
                ok = item >= 0
                fold = (sp.csr_matrix((np.ones(int((ok & sil_pop).sum())), (item[ok & sil_pop],
                                       col[codes[ok & sil_pop]])), shape=(r.shape[1], n_cols)),
                        np.bincount(item[ok & pop], minlength=r.shape[1]).astype(np.float64))
            per_cluster = np.asarray((fold[0].T @ r.T).T)
            total = r @ fold[1]
            it = item[idx]
            self_sim = np.where(it >= 0, r[local, np.maximum(it, 0)], 0.0)
        else:
            r = np.asarray(r)
            per_cluster = np.asarray((onehot.T @ r.T).T)
            total = r @ pop_f
            self_sim = r[local, idx].astype(np.float64)
        own = codes[idx]
        is_ns = ns[idx]
        own_col = col[own]
        own_sum = np.where(is_ns, per_cluster[local, np.maximum(own_col, 0)], self_sim)  # incl. self
        within_num += float((w * np.where(is_ns, own_sum - self_sim, 0.0)).sum())
        within_den += float((w * (n_q[own] - 1)).sum())
        between_num += float((w * (total - own_sum)).sum())
        between_den += float((w * (pop.sum() - n_q[own])).sum())
        # silhouette of the anchors in the silhouette population (exact per anchor, sklearn's rule)
        sel = is_ns
        if sel.any() and len(p_codes) >= 2:
            pc, oc, ss = per_cluster[sel], own_col[sel], self_sim[sel]
            n_own = n_p[own[sel]].astype(np.float64)
            li = np.arange(int(sel.sum()))
            a = ((n_own - 1) - (pc[li, oc] - ss)) / np.maximum(n_own - 1, 1)
            mean_other = 1.0 - pc / n_p[p_codes][None, :]
            mean_other[li, oc] = np.inf
            bb = mean_other.min(1)
            denom = np.maximum(a, bb)
            s = np.divide(bb - a, denom, out=np.zeros_like(a), where=denom > 0)
            s_vals.append(np.where(n_own > 1, s, 0.0))
    s_all = np.concatenate(s_vals) if s_vals else np.zeros(0)
    n_sil = int(sil_pop.sum())
    if len(p_codes) < 2 or n_sil <= len(p_codes) or not len(s_all):
        sil, se = float("nan"), float("nan")
    else:
        sil = float(s_all.mean())
        fpc = max(0.0, 1.0 - len(s_all) / n_sil)
        se = float(s_all.std(ddof=1) / np.sqrt(len(s_all)) * np.sqrt(fpc)) if len(s_all) > 1 else float("nan")
    wm = within_num / within_den if within_den > 0 else float("nan")
    bm = between_num / between_den if between_den > 0 else float("nan")
    ratio = wm / bm if bm and np.isfinite(bm) and bm > 0 else float("nan")
    return {"silhouette": sil, "silhouette_se": se, "silhouette_n": int(len(s_all)),
            "within": wm, "between": bm, "ratio": ratio}


def _go_rows(go_similarity, n: int) -> tuple[Callable, int]:
    """Row function and anchor chunk for a dense GO matrix or a lazy ``SimGIC``."""
    if hasattr(go_similarity, "unique_rows"):
        width = max(go_similarity.n_unique, go_similarity._anc.shape[1], 1)
        return ((lambda idx: (go_similarity.unique_rows(idx), go_similarity.term_index)),
                max(16, min(1024, _CHUNK_ENTRIES // width)))
    arr = go_similarity
    return (lambda idx: np.asarray(arr[idx], dtype=np.float32)), max(16, min(1024, _CHUNK_ENTRIES // max(n, 1)))


def cluster_metrics(
    labels: np.ndarray,
    nes: np.ndarray,
    *,
    full_sets: sp.csr_matrix | None = None,
    leading_edge: sp.csr_matrix | None = None,
    go_similarity=None,
    go_mask: np.ndarray | None = None,
    n_random: int = 200,
    seed: int = 0,
    exact_max_n: int = EXACT_MAX_N,
    sample_size: int | None = None,
    go_wang: "GoPairs | None" = None,
    gate: sp.csr_matrix | None = None,
) -> dict:
    """All clustering metrics as one flat dict (keys documented in the module docstring).

    Parameters
    ----------
    labels
        Cluster id per pathway ``(n,)``; singletons are clusters of size 1 (each its own id).
    nes
        Normalised enrichment score per pathway ``(n,)``.
    full_sets, leading_edge
        ``(n, n_genes)`` 0/1 CSR memberships (either may be ``None``).
    go_similarity
        GO semantic similarity in ``[0, 1]``: a dense ``(n, n)`` array or the lazy
        :class:`~contrastomics.evaluate.semantic.SimGIC` (``None`` for non-GO results); ``go_mask``
        marks the pathways that are GO terms known to the ontology.
    exact_max_n
        Up to this many pathways every metric is exact; above it the pair metrics are estimated
        from ``sample_size`` anchor pathways drawn with ``seed`` (module docstring). ``None``:
        :func:`default_sample_size` (5,000; fewer above 40,000 pathways).
    go_wang
        :class:`GoPairs` of the result's GO terms: the silhouette in Wang's graph similarity
        (``silhouette_go_wang``), independent of simGIC's annotation counts and of every clustering
        method.
    gate
        The ``(n, n_genes)`` memberships a leading-edge gate used (``None``: no gate): gives the
        share of up/down pairs the graph could join (``nes_opposite_pairs_joinable``; 0 means the
        NES coherence is 1 by construction, ``nes_coherence_can_fail`` False).
    """
    labels = np.asarray(labels)
    n = len(labels)
    sizes = cluster_sizes(labels)
    out = {"n_pathways": int(n), "n_clusters": int(len(np.unique(labels[sizes >= 2]))),
           "n_singletons": int((sizes == 1).sum()), "coverage": coverage(labels),
           "largest_cluster": int(sizes.max()) if n else 0}
    coh = nes_coherence(labels, nes, n_random=n_random, seed=seed, exact_max_n=exact_max_n)
    out.update({f"nes_coherence{'' if k == 'observed' else '_' + k}": v for k, v in coh.items()})
    joinable = opposite_pairs_joinable(nes, gate, exact_max_n=exact_max_n, seed=seed)
    out["nes_opposite_pairs_joinable"] = joinable
    out["nes_coherence_can_fail"] = bool(joinable > 0) if np.isfinite(joinable) else None
    if n > exact_max_n:
        _estimated_pairs(out, labels, sizes, full_sets, leading_edge, go_similarity, go_mask, seed,
                         exact_max_n, sample_size, go_wang)
        return out
    out["metrics_exact"] = True
    for key, m in (("jaccard", full_sets), ("le_jaccard", leading_edge)):
        if m is None:
            continue
        jac = jaccard_matrix(m)
        wb = within_between(labels, jac)
        out.update({f"{key}_within": wb["within"], f"{key}_between": wb["between"], f"{key}_ratio": wb["ratio"]})
        if key == "jaccard":
            out["silhouette_gene_jaccard"] = silhouette(labels, 1.0 - jac)
        else:
            out["silhouette_le_jaccard"] = silhouette(labels, 1.0 - jac)
    if go_similarity is not None:
        gs = np.asarray(go_similarity)
        mask = None if go_mask is None else np.asarray(go_mask)
        out["silhouette_go_semantic"] = silhouette(labels, 1.0 - gs, mask)
        wb = within_between(labels if mask is None else labels[mask],
                            gs if mask is None else gs[np.ix_(mask, mask)])
        out.update({"go_semantic_within": wb["within"], "go_semantic_between": wb["between"]})
        out["n_go_terms"] = int(n if go_mask is None else np.asarray(go_mask).sum())
    if go_wang is not None and go_wang.known.any():
        gw, mask = go_wang.dense(), go_wang.known
        out["silhouette_go_wang"] = silhouette(labels, 1.0 - gw, mask)
        wb = within_between(labels[mask], gw[np.ix_(mask, mask)])
        out.update({"go_wang_within": wb["within"], "go_wang_between": wb["between"]})
    return out


def opposite_pairs_joinable(nes: np.ndarray, gate: sp.csr_matrix | None, *, exact_max_n: int = EXACT_MAX_N,
                            n_sample: int = 200_000, seed: int = 0) -> float:
    """Share of pairs of an up- and a down-regulated pathway that a leading-edge gate lets the
    graph join: they share a gene of ``gate`` or one of them has none (exempt). 1 without a gate;
    ``nan`` without both directions. Exact up to ``exact_max_n`` pathways, else from ``n_sample``
    random up/down pairs (fixed ``seed``)."""
    nes = np.asarray(nes, np.float64)
    up, down = np.flatnonzero(nes > 0), np.flatnonzero(nes < 0)
    if not len(up) or not len(down):
        return float("nan")
    if gate is None:
        return 1.0
    g = sp.csr_matrix(gate, dtype=np.float32)
    has = np.diff(g.indptr) > 0
    if len(nes) <= exact_max_n:
        u, d = up[has[up]], down[has[down]]
        shared = (g[u] @ g[d].T).nnz if len(u) and len(d) else 0
        exempt = len(up) * len(down) - len(u) * len(d)
        return float((shared + exempt) / (len(up) * len(down)))
    rng = np.random.default_rng(seed)
    a, b = up[rng.integers(0, len(up), n_sample)], down[rng.integers(0, len(down), n_sample)]
    share = np.asarray(g[a].multiply(g[b]).sum(1)).ravel() > 0
    return float((share | ~has[a] | ~has[b]).mean())


def _estimated_pairs(out: dict, labels, sizes, full_sets, leading_edge, go_similarity, go_mask, seed,
                     exact_max_n, sample_size, go_wang=None) -> None:
    """Anchor estimates of the pair metrics (``n > exact_max_n``), written into ``out``."""
    n = len(labels)
    _, codes = np.unique(labels, return_inverse=True)
    ns = sizes >= 2
    anchors, weights = anchor_sample(labels, default_sample_size(n) if sample_size is None else sample_size, seed)
    out.update({"metrics_exact": False, "pairs_sampled_n": int(len(anchors)),
                "silhouette_sample": int(ns[anchors].sum()), "metrics_sample_seed": int(seed),
                "metrics_exact_max_n": int(exact_max_n)})
    everyone = np.ones(n, bool)
    for key, sil_key, m in (("jaccard", "silhouette_gene_jaccard", full_sets),
                            ("le_jaccard", "silhouette_le_jaccard", leading_edge)):
        if m is None:
            continue
        st = _anchor_stats(codes, jaccard_rows(m), anchors, weights, everyone, ns, chunk=256)
        out.update({f"{key}_within": st["within"], f"{key}_between": st["between"], f"{key}_ratio": st["ratio"],
                    sil_key: st["silhouette"], f"{sil_key}_se": st["silhouette_se"]})
    if go_similarity is not None:
        mask = everyone if go_mask is None else np.asarray(go_mask, bool)
        rows, chunk = _go_rows(go_similarity, n)
        st = _anchor_stats(codes, rows, anchors, weights, mask, ns, chunk=chunk)
        out.update({"silhouette_go_semantic": st["silhouette"], "silhouette_go_semantic_se": st["silhouette_se"],
                    "silhouette_go_semantic_sample": st["silhouette_n"],
                    "go_semantic_within": st["within"], "go_semantic_between": st["between"]})
        out["n_go_terms"] = int(mask.sum())
    if go_wang is not None and go_wang.known.any():
        st = _anchor_stats(codes, lambda idx: (go_wang.unique_rows(idx), go_wang.term_index), anchors, weights,
                           go_wang.known, ns, chunk=max(16, min(1024, _CHUNK_ENTRIES // max(go_wang.n_unique, 1))))
        out.update({"silhouette_go_wang": st["silhouette"], "silhouette_go_wang_se": st["silhouette_se"],
                    "go_wang_within": st["within"], "go_wang_between": st["between"]})


# ---------------------------------------------------------------- GO relations, Wang, label support
class GoPairs:
    """GO relations and Wang's graph similarity (:func:`~contrastomics.evaluate.semantic.wang_similarity`)
    between the terms of a result, for any pairs and as row blocks; repeated terms computed once.

    ``known`` ``(n,)``: the term resolves in ``ontology``; :meth:`related` (ancestor, descendant,
    sibling or the same term), :meth:`wang_pairs`, :meth:`unique_rows` (the ``(block, item)``
    form of the anchor metrics) and :meth:`dense` ``(n, n)``. Unknown terms: similarity 0."""

    def __init__(self, term_ids: Sequence[str | None], ontology):
        rows = self.rows_of(term_ids, ontology)
        self.known = rows >= 0
        uniq, inv = np.unique(rows[self.known], return_inverse=True)
        self.term_index = np.full(len(rows), -1, np.int64)
        self.term_index[self.known] = inv
        self.n_unique = len(uniq)
        s, _ = wang_s_values([ontology.ids[r] for r in uniq], ontology)
        self._s = s.tocsr()
        self._m = self._s.copy()
        self._m.data[:] = 1.0
        self._sv = np.asarray(self._s.sum(1)).ravel()
        self._anc = ontology.ancestor_matrix()[uniq].tocsr()
        self._par = ontology.parent_matrix()[uniq].tocsr()
        self._onto_row = uniq

    @staticmethod
    def rows_of(term_ids: Sequence[str | None], ontology) -> np.ndarray:
        """Ontology row of each term, ``-1`` when unknown."""
        return ontology_rows(term_ids, ontology)

    def _pairs(self, a, b):
        ua, ub = self.term_index[np.asarray(a, np.int64)], self.term_index[np.asarray(b, np.int64)]
        if (ua < 0).any() or (ub < 0).any():
            raise ValueError("GoPairs: pairs must be of known terms (see .known)")
        return ua, ub

    def related(self, a, b) -> np.ndarray:
        """``(len(a),)`` bool: ``b[i]`` is ``a[i]``, an ancestor, a descendant or a sibling of it."""
        ua, ub = self._pairs(a, b)
        up = np.asarray(self._anc[ua, self._onto_row[ub]]).ravel() > 0
        down = np.asarray(self._anc[ub, self._onto_row[ua]]).ravel() > 0
        sib = np.asarray(self._par[ua].multiply(self._par[ub]).sum(1)).ravel() > 0
        return up | down | sib | (ua == ub)

    def wang_pairs(self, a, b) -> np.ndarray:
        """Wang similarity of the pairs ``(a[i], b[i])`` ``(len(a),)``."""
        ua, ub = self._pairs(a, b)
        num = (np.asarray(self._s[ua].multiply(self._m[ub]).sum(1)).ravel()
               + np.asarray(self._s[ub].multiply(self._m[ua]).sum(1)).ravel())
        den = self._sv[ua] + self._sv[ub]
        return np.divide(num, den, out=np.zeros_like(num), where=den > 0)

    def unique_rows(self, idx) -> np.ndarray:
        """Wang similarity of pathways ``idx`` against the distinct known terms ``(len(idx), n_unique)``
        (zero rows for unknown terms)."""
        u = self.term_index[np.asarray(idx, np.int64).ravel()]
        has = u >= 0
        out = np.zeros((len(u), self.n_unique))
        if has.any():
            out[has] = wang_block(self._s[u[has]], self._s)
        return out

    def dense(self) -> np.ndarray:
        """Wang similarity of every pair of pathways ``(n, n)`` float32 (0 with an unknown term)."""
        n = len(self.known)
        out = np.zeros((n, n), np.float32)
        k = np.flatnonzero(self.known)
        if len(k):
            u = self.unique_rows(k)
            out[np.ix_(k, k)] = u[:, self.term_index[k]]
        return out


def label_support_shares(labels: np.ndarray, reps: dict, near: Callable[[np.ndarray, np.ndarray], np.ndarray]
                         ) -> dict[int, float]:
    """Per cluster, the share of its members other than the label ``reps[c]`` for which
    ``near(label rows, member rows)`` holds (``nan`` for singletons)."""
    labels = np.asarray(labels)
    rep = np.array([reps[int(c)] for c in labels], np.int64) if len(labels) else np.zeros(0, np.int64)
    others = np.flatnonzero(rep != np.arange(len(labels)))
    ok = near(rep[others], others) if len(others) else np.zeros(0, bool)
    ids, inv = np.unique(labels, return_inverse=True)
    n_other = np.bincount(inv[others], minlength=len(ids))
    n_ok = np.bincount(inv[others], weights=ok.astype(float), minlength=len(ids))
    return {int(c): (float(n_ok[i] / n_other[i]) if n_other[i] else float("nan")) for i, c in enumerate(ids)}
