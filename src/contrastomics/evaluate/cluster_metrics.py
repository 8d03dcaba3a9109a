"""Quality metrics of a pathway clustering (``contrastomics cluster-metrics``).

Definitions (also in ``docs/clustering.md``)
--------------------------------------------
- **coverage**: fraction of pathways in non-singleton clusters (size >= 2).
- **n_clusters**: clusters with >= 2 members; **n_singletons** beside it.
- **NES sign coherence**: over pathways in non-singleton clusters, the fraction whose NES sign
  equals their cluster's majority sign (``sum_c max(n_up_c, n_down_c) / sum_c n_c``).
  **chance**: its mean over ``n_random`` (default 200) random clusterings with the same cluster
  sizes (a random permutation of the pathways over the same size profile).
  **adjusted** = ``(observed - chance) / (1 - chance)``: 0 at chance, 1 when every cluster is
  sign-pure. Only meaningful when the clustering did not split by direction (``--split-direction``
  makes it 1 by construction).
- **Jaccard within / between**: mean gene-set Jaccard over pairs of pathways in the same
  non-singleton cluster vs pairs in different clusters, and their ratio (full sets and leading edges
  separately). Above 3,000 pathways both means are estimated on a seeded sample of 3,000.
- **silhouette** (sklearn, precomputed distances, over pathways in non-singleton clusters) in spaces
  independent of the clustering: ``1 - gene-set Jaccard`` (full sets) and, for GO results,
  ``1 - simGIC`` GO semantic similarity (:mod:`contrastomics.evaluate.semantic`).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


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


def nes_coherence(labels: np.ndarray, nes: np.ndarray, *, n_random: int = 200, seed: int = 0) -> dict:
    """NES sign coherence, its chance level and the chance-adjusted value (see module docstring).

    Pathways with NES 0 or NaN are left out. Returns ``{"observed", "chance", "chance_sd",
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
    # permuting signs over fixed clusters == permuting pathways over the same size profile
    perm = rng.permuted(np.tile(pos, (n_random, 1)), axis=1)
    chance_all = _sign_coherence_batch(codes, n_codes, perm)
    chance = float(chance_all.mean())
    adjusted = (observed - chance) / (1 - chance) if chance < 1 else float("nan")
    return {"observed": observed, "chance": chance, "chance_sd": float(chance_all.std()),
            "adjusted": float(adjusted), "n_random": n_random}


def jaccard_matrix(membership: sp.csr_matrix) -> np.ndarray:
    """Dense Jaccard of 0/1 rows, ``(n, n)`` float32."""
    m = sp.csr_matrix(membership, dtype=np.float32)
    inter = np.asarray((m @ m.T).todense(), dtype=np.float32)
    s = np.asarray(m.sum(1), dtype=np.float32).ravel()
    union = s[:, None] + s[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


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
    from sklearn.metrics import silhouette_score
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
    return float(silhouette_score(d, lab, metric="precomputed"))


def cluster_metrics(
    labels: np.ndarray,
    nes: np.ndarray,
    *,
    full_sets: sp.csr_matrix | None = None,
    leading_edge: sp.csr_matrix | None = None,
    go_similarity: np.ndarray | None = None,
    go_mask: np.ndarray | None = None,
    n_random: int = 200,
    seed: int = 0,
    max_pairs_n: int = 3000,
) -> dict:
    """All clustering metrics as one flat dict (keys documented in the module docstring).

    Parameters
    ----------
    labels
        Cluster id per pathway ``(n,)``; singletons are clusters of size 1.
    nes
        Normalised enrichment score per pathway ``(n,)``.
    full_sets, leading_edge
        ``(n, n_genes)`` 0/1 CSR memberships (either may be ``None``).
    go_similarity
        ``(n, n)`` GO semantic similarity in ``[0, 1]`` (``None`` for non-GO results); ``go_mask``
        marks the pathways that are GO terms known to the ontology.
    """
    labels = np.asarray(labels)
    n = len(labels)
    sizes = cluster_sizes(labels)
    out = {"n_pathways": int(n), "n_clusters": int(len(np.unique(labels[sizes >= 2]))),
           "n_singletons": int((sizes == 1).sum()), "coverage": coverage(labels),
           "largest_cluster": int(sizes.max()) if n else 0}
    coh = nes_coherence(labels, nes, n_random=n_random, seed=seed)
    out.update({f"nes_coherence{'' if k == 'observed' else '_' + k}": v for k, v in coh.items()})
    sub = np.arange(n)
    if n > max_pairs_n:
        sub = np.sort(np.random.default_rng(seed).choice(n, max_pairs_n, replace=False))
        out["pairs_sampled_n"] = int(max_pairs_n)
    lab = labels[sub]
    for key, m in (("jaccard", full_sets), ("le_jaccard", leading_edge)):
        if m is None:
            continue
        jac = jaccard_matrix(m[sub])
        wb = within_between(lab, jac)
        out.update({f"{key}_within": wb["within"], f"{key}_between": wb["between"], f"{key}_ratio": wb["ratio"]})
        if key == "jaccard":
            out["silhouette_gene_jaccard"] = silhouette(lab, 1.0 - jac)
        else:
            out["silhouette_le_jaccard"] = silhouette(lab, 1.0 - jac)
    if go_similarity is not None:
        gs = np.asarray(go_similarity)[np.ix_(sub, sub)]
        mask = None if go_mask is None else np.asarray(go_mask)[sub]
        out["silhouette_go_semantic"] = silhouette(lab, 1.0 - gs, mask)
        wb = within_between(lab if mask is None else lab[mask],
                            gs if mask is None else gs[np.ix_(mask, mask)])
        out.update({"go_semantic_within": wb["within"], "go_semantic_between": wb["between"]})
        out["n_go_terms"] = int(n if go_mask is None else np.asarray(go_mask).sum())
    return out
