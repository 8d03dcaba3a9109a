"""Cluster labels: a representative pathway, title-phrase keywords, a theme and the label's support.

:func:`representatives` (among the more central half of the non-generic members, the one most
others sit near in meaning; or the medoid, or the lowest FDR), :func:`generic_terms` (near-root /
very large terms never label a cluster), :func:`cluster_themes` (GO slim term, Reactome top level
or Hallmark category of most members; a shared title phrase otherwise), :func:`label_support`
(share of members near the label), :func:`sub_themes` (what a mixed cluster holds besides its label).
Keywords: :mod:`.keywords`. The rules and the development numbers behind them: docs/clustering.md
("Labels").
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from ..data.builtin import load_ontology
from ..data.hallmark import hallmark_themes
from ..data.ontology import MAP2SLIM_RELATIONS, extract_go_id
from ..data.reactome import ReactomeHierarchy, top_level_themes
from ..evaluate.cluster_metrics import GoPairs, label_support_shares
from .keywords import DOMAIN_STOP_WORDS, phrase_sets, shared_phrase, title_keywords  # noqa: F401  (DOMAIN_STOP_WORDS moved)

#: A GO term with more descendants (is_a/part_of) than this is generic, and so is any set larger than
#: :data:`GENERIC_MAX_SET_SIZE` genes: the 95th percentiles over the development GO results' terms
#: (273 and 754, rounded; benchmarks/decisions/cluster.md)
GENERIC_MAX_DESCENDANTS = 270
#: Reactome pathways with more sub-pathways are too generic to label a cluster (the 95th percentile
#: of the development Reactome result pathways, 39.6, rounded: the GO rule's procedure)
GENERIC_MAX_REACTOME_DESCENDANTS = 40
GENERIC_MAX_SET_SIZE = 750
#: a member supports a non-GO label when its similarity to it reaches this quantile of the
#: similarity of random pairs of the result (the best agreement with the GO call on development)
SUPPORT_QUANTILE = 0.99
#: the similarity threshold is estimated only on at least this many pathways (190 distinct pairs;
#: the smallest result `cluster_defaults` scores): on fewer its 0.99 quantile is one of a few pairs
MIN_SUPPORT_PATHWAYS = 20
#: GO: Wang similarity to the label at which a member counts as near it besides the ontology
#: neighbourhood (the median of sibling pairs in the development GO results, 0.629)
SUPPORT_WANG = 0.63
#: labels with less support than this are called misleading (issue 15's target)
LOW_SUPPORT = 1 / 3

def _groups(labels: np.ndarray):
    """``(ids, members)``: each distinct label and the indices carrying it (one sort, not one scan
    of ``labels`` per cluster)."""
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")
    ids, starts = np.unique(labels[order], return_index=True)
    return ids, np.split(order, starts[1:])


#: the label centrality reads every block of the joint space, the ontology view included (development
#: round 20, benchmarks/decisions/cluster.md); ``False``: without the ontology block, as before
CENTRALITY_EVERY_BLOCK = True


def _mean_similarity_to_own_cluster(labels: np.ndarray, x) -> np.ndarray:
    """For every pathway, its mean joint cosine (or dot product of rows of ``x``) to the other
    members of its cluster, in ``O(nnz)``: the similarity is bilinear, so it is the dot product with
    the cluster's sum minus the self term."""
    ids, inv = np.unique(labels, return_inverse=True)
    n = len(labels)
    onehot = sp.csr_matrix((np.ones(n), (np.arange(n), inv)), shape=(n, len(ids)))
    sizes = np.bincount(inv)
    blocks = [np.asarray(getattr(x, "dense", x), dtype=np.float64)]
    if CENTRALITY_EVERY_BLOCK and hasattr(x, "sparse_blocks"):
        blocks += x.sparse_blocks()
    else:  # the ontology block left out (the rule before development round 20)
        blocks += [b for b in (getattr(x, "overlap", None), getattr(x, "full_overlap", None)) if b is not None]
    total = np.zeros(n)
    for b in blocks:
        if sp.issparse(b):
            sums = sp.csr_matrix(onehot.T @ b)
            total += np.asarray(b.multiply(sums[inv]).sum(1)).ravel() - np.asarray(b.multiply(b).sum(1)).ravel()
        else:
            sums = onehot.T @ b
            total += np.einsum("ij,ij->i", b, sums[inv]) - np.einsum("ij,ij->i", b, b)
    return total / np.maximum(sizes[inv] - 1, 1)


#: the R1 label rule looks at no more than this many candidates per cluster (its most central ones):
#: near pairs grow as candidates x members
MAX_LABEL_CANDIDATES = 100
#: ``central`` looks among the members whose centrality reaches this quantile of their cluster's
#: (0.5: the more central half; development round 12, benchmarks/decisions/cluster.md)
CENTRAL_POOL = 0.5


def representatives(labels: np.ndarray, x: np.ndarray | None, fdr: np.ndarray, nes: np.ndarray,
                    how: str = "central", similarity: np.ndarray | None = None,
                    eligible: np.ndarray | None = None, near=None,
                    central_pool: float | None = None) -> dict[int, int]:
    """Index of the representative pathway of every cluster id in ``labels``.

    ``medoid``: the member with the highest mean similarity to the other members (``similarity``
    ``(n, n)`` when given: dense, sparse or lazy; else the space ``x``), ties to the lowest FDR;
    ``central`` with ``near`` (:func:`support_near`): the member with the most other members near
    it (the label-support relation), ties in ``medoid`` order, among the
    :data:`MAX_LABEL_CANDIDATES` most central members whose centrality reaches the ``central_pool``
    quantile (default :data:`CENTRAL_POOL`) of the cluster's; ``central`` without ``near`` is
    ``medoid``; ``significant``: the lowest FDR (ties: largest ``|NES|``). ``eligible`` ``(n,)``
    bool: only these may represent a cluster that has one (:func:`generic_terms` left out)."""
    labels = np.asarray(labels)
    ids, members = _groups(labels)
    central = None
    if how != "significant" and similarity is None and x is not None:
        central = np.round(_mean_similarity_to_own_cluster(labels, x), 6)
    out, pending = {}, []
    for c, idx in zip(ids, members):
        if len(idx) == 1:
            out[int(c)] = int(idx[0])
            continue
        cand = np.ones(len(idx), bool) if eligible is None else np.asarray(eligible)[idx]
        if not cand.any():
            cand[:] = True
        if how == "significant":
            order = np.lexsort((-np.abs(np.nan_to_num(nes[idx])), fdr[idx], ~cand))
            out[int(c)] = int(idx[order[0]])
            continue
        cent = central[idx] if central is not None else _centrality(similarity, idx)
        order = np.lexsort((fdr[idx], -cent, ~cand))
        if how == "central" and near is not None and len(idx) > 2:
            q = CENTRAL_POOL if central_pool is None else central_pool
            pool = cand & (cent >= np.quantile(cent[cand], q)) if q > 0 else cand
            top = [i for i in order if pool[i]][:MAX_LABEL_CANDIDATES]
            pending.append((int(c), idx, np.asarray(top, np.int64)))
        out[int(c)] = int(idx[order[0]])
    for c, idx, top in pending:  # cluster by cluster: memory bounded by candidates x members
        ok = near_block(near, idx[top], idx)
        ok[np.arange(len(top)), top] = False  # a member does not count itself
        out[c] = int(idx[top[int(np.argmax(ok.sum(1)))]])  # first maximum: ``top`` is in medoid order
    return out


def near_block(near, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``(len(rows), len(cols))`` bool: ``near`` for every pair, through its one-block form
    (``near.block``, :func:`support_near`) when it has one, else pair by pair."""
    block = getattr(near, "block", None)
    if block is not None:
        return block(rows, cols)
    return near(np.repeat(rows, len(cols)), np.tile(cols, len(rows))).reshape(len(rows), len(cols))


def _centrality(similarity, idx: np.ndarray) -> np.ndarray:
    """Mean similarity of each of ``idx`` to the others under ``similarity`` (rounded to 1e-6)."""
    if sp.issparse(similarity):  # baselines' sparse graphs: never densified whole
        s = similarity[idx][:, idx].toarray().astype(np.float64)
    else:
        s = np.asarray(similarity[np.ix_(idx, idx)], dtype=np.float64)
    return np.round((s.sum(1) - np.diag(s)) / (len(idx) - 1), 6)


def generic_terms(terms: Sequence[str | None], set_sizes: np.ndarray | None = None, *, ontology=None,
                  max_descendants: int = GENERIC_MAX_DESCENDANTS, max_set_size: int = GENERIC_MAX_SET_SIZE,
                  reactome: "tuple[np.ndarray, ReactomeHierarchy] | None" = None) -> np.ndarray:
    """``(n,)`` bool: pathways too generic to label a cluster (near the root or very large): a GO
    term (id in ``terms``, resolved in ``ontology``, default the built-in GO) with more than
    ``max_descendants`` descendants (``is_a``/``part_of``); a Reactome pathway (``reactome``: rows
    in the hierarchy, ``-1`` for none, and the hierarchy) with more than
    :data:`GENERIC_MAX_REACTOME_DESCENDANTS` sub-pathways or at the top level with any; any pathway
    whose gene set (``set_sizes``) has more than ``max_set_size`` genes."""
    out = np.zeros(len(terms), bool)
    if set_sizes is not None:
        out |= np.asarray(set_sizes) > max_set_size
    if reactome is not None:
        rows, h = reactome
        known = rows >= 0
        below = h.n_below[rows[known]] - 1
        top = np.array([not h.ancestors[r] for r in rows[known]], bool)
        out[known] |= (below > GENERIC_MAX_REACTOME_DESCENDANTS) | (top & (below > 0))
    ids = [None if t is None else extract_go_id(str(t)) for t in terms]
    if all(i is None for i in ids):
        return out
    if ontology is None:
        ontology = _go_ontology()
        if ontology is None:
            return out
    rows = GoPairs.rows_of(ids, ontology)
    known = rows >= 0
    out[known] |= _ontology_counts(ontology)[0][rows[known]] > max_descendants
    return out


def _ontology_counts(ontology) -> tuple[np.ndarray, np.ndarray]:
    """Descendants and ancestors (self excluded) of every term; computed once per ontology object."""
    key = ("descendant_ancestor_counts",)
    if key not in ontology._cache:
        anc = ontology.ancestor_matrix()  # self included: one less of each
        ontology._cache[key] = (np.bincount(anc.indices, minlength=len(ontology)) - 1, np.diff(anc.indptr) - 1)
    return ontology._cache[key]


def _go_ontology():
    try:
        return load_ontology("GO")
    except Exception:  # noqa: BLE001 - a missing data carrier only removes the optional GO rules
        return None


def pair_values(space, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Similarity of pairs ``(a[i], b[i])`` ``(len(a),)`` in a clustering's space: a
    :class:`~contrastomics.cluster.embed.JointSpace` (joint cosine) or an ``(n, n)`` similarity
    (dense, sparse or lazy with ``rows``)."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    if hasattr(space, "pair_values"):
        return space.pair_values(a, b)
    if sp.issparse(space):
        return np.asarray(sp.csr_matrix(space)[a, b], np.float64).ravel()
    if hasattr(space, "rows"):  # lazy similarity: one row block over the distinct first indices
        ua, inv = np.unique(a, return_inverse=True)
        return np.asarray(space.rows(ua), np.float64)[inv, b]
    return np.asarray(np.asarray(space)[a, b], np.float64)


def block_values(space, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """:func:`pair_values` of every pair of ``rows x cols``, ``(len(rows), len(cols))`` float64."""
    rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
    if hasattr(space, "pair_values"):  # a JointSpace: one GEMM and one sparse product per block
        return space.pair_similarity(rows, cols, gated=False, dtype=np.float64)
    if sp.issparse(space):
        return np.asarray(sp.csr_matrix(space)[rows][:, cols].toarray(), np.float64)
    if hasattr(space, "rows"):
        return np.asarray(space.rows(rows), np.float64)[:, cols]
    return np.asarray(np.asarray(space)[np.ix_(rows, cols)], np.float64)


#: the former name (c-TF-IDF, now over whole title phrases)
ctfidf_keywords = title_keywords


#: relations a member's GO slim theme is found through: as GO's Map2Slim, also ``regulates``, so
#: "regulation of autophagy" sits under "autophagy" (theme round T2, adopted;
#: benchmarks/decisions/cluster_themes.md)
THEME_RELATIONS = MAP2SLIM_RELATIONS
#: a GO slim theme is a term of the aspect most of the cluster's GO members are in (round T2)
THEME_SAME_ASPECT = True


def _slim_columns(ontology, subset: str, relations=THEME_RELATIONS) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the ``subset`` slim terms (aspect roots left out) and each one's number of
    descendants through ``relations`` (itself included); computed once per ontology object."""
    key = ("slim_columns", subset, tuple(sorted(relations)))
    cache = ontology._cache
    if key not in cache:
        roots = {"GO:0008150", "GO:0003674", "GO:0005575"}
        idx = np.array([ontology.index(t) for t in ontology.subsets.get(subset, [])
                        if t in ontology and t not in roots], dtype=np.int64)
        n_desc = np.asarray(ontology.ancestor_matrix(relations)[:, idx].sum(0)).ravel() if len(idx) else np.zeros(0)
        cache[key] = (idx, n_desc)
    return cache[key]


def go_slim_themes(terms: Sequence[str | None], labels: np.ndarray, *, ontology=None, subset: str = "goslim_generic",
                   min_go_fraction: float = 0.5, min_size: int = 2, relations=None,
                   same_aspect: bool | None = None) -> dict[int, dict]:
    """A GO slim theme per cluster of a GO result: the slim term under which most of its members sit.

    ``terms``: the pathways' terms, or their GO ids (``None`` where a pathway has none).

    For each cluster of at least ``min_size`` pathways of which at least ``min_go_fraction`` carry a GO id,
    the term of the GO slim ``subset`` (default the generic slim, ~150 terms; the three aspect roots
    excluded) that is an ancestor (through ``relations``, default :data:`THEME_RELATIONS`, or the
    term itself) of the most members (with ``same_aspect``, default :data:`THEME_SAME_ASPECT`, only
    slim terms of the aspect most of the cluster's GO members are in);
    ties go to the most specific (fewest descendants). Returns ``{cluster: {"theme", "theme_id",
    "theme_support"}}`` where ``theme_support`` is the fraction of all the cluster's members under
    the theme, so a theme is never claimed for more members than it covers. Clusters without a
    theme (non-GO members, or no slim term above any member) are left out.
    """
    labels = np.asarray(labels)
    ids = [None if t is None else extract_go_id(str(t)) for t in terms]
    if all(i is None for i in ids):
        return {}
    if ontology is None:
        try:
            ontology = load_ontology("GO")
        except Exception:  # noqa: BLE001 - a missing data carrier only removes the optional themes
            return {}
    relations = THEME_RELATIONS if relations is None else tuple(relations)
    slim_idx, n_desc = _slim_columns(ontology, subset, relations)
    if not len(slim_idx):
        return {}
    rows = np.full(len(ids), -1, dtype=np.int64)
    for k, t in enumerate(ids):
        if t is not None:
            r = ontology.resolve(t)
            rows[k] = ontology.index(r) if r is not None else -1
    known = rows >= 0
    anc = ontology.ancestor_matrix(relations)  # (terms x terms): row = term, columns = its ancestors and itself
    under = anc[rows[known]][:, slim_idx].tocsr()  # members x slim terms, 1 = member sits under it
    n_clusters = int(labels.max()) + 1 if len(labels) else 0
    member_of = sp.csr_matrix((np.ones(int(known.sum())), (labels[known], np.arange(int(known.sum())))),
                              shape=(n_clusters, int(known.sum())))
    counts = np.asarray((member_of @ under).todense())
    if THEME_SAME_ASPECT if same_aspect is None else same_aspect:  # slim terms of another aspect count 0
        ns = np.asarray(ontology.namespaces, dtype=object)
        aspects, code = np.unique(ns[rows[known]].astype(str), return_inverse=True)
        major = np.asarray((member_of @ sp.csr_matrix((np.ones(len(code)), (np.arange(len(code)), code)),
                                                      shape=(len(code), len(aspects)))).todense()).argmax(1)
        counts = counts * (ns[slim_idx][None, :] == aspects[major][:, None]) if len(aspects) else counts
    sizes = np.bincount(labels, minlength=n_clusters)
    n_go = np.bincount(labels[known], minlength=n_clusters)
    out = {}
    for c in np.flatnonzero((sizes >= min_size) & (n_go >= min_go_fraction * np.maximum(sizes, 1))):
        best = counts[c].max()
        if best <= 0:
            continue
        tied = np.flatnonzero(counts[c] == best)
        j = int(tied[np.argmin(n_desc[tied])])
        tid = ontology.ids[int(slim_idx[j])]
        out[int(c)] = {"theme": ontology.name_of(tid), "theme_id": tid, "theme_support": float(best / sizes[c])}
    return out


def cluster_themes(labels: np.ndarray, titles: Sequence[str], reps: dict[int, int],
                   terms: Sequence[str | None] | None = None, *, ontology=None,
                   phrases: Sequence[dict[str, str]] | None = None,
                   pathways: tuple[Sequence[str], Sequence[str]] | None = None) -> dict[int, dict]:
    """A theme for every cluster: ``{cluster: {"theme", "theme_id", "theme_support", "theme_source"}}``.

    Clusters at least half of GO terms: the GO slim term above most members
    (:func:`go_slim_themes`, singletons included), source ``"GO slim"``. Every other cluster: when the
    pathways without a GO id (``pathways``: the result's terms and names) are a Reactome result, the
    top-level pathway above most members, source ``"Reactome top level"``; when they are MSigDB
    hallmark sets, the process category of most members, source ``"Hallmark category"``
    (:mod:`~contrastomics.data.hallmark`); otherwise the phrase shared by the most member titles
    (:func:`~contrastomics.cluster.keywords.shared_phrase`; ties: a phrase of the
    representative's title), source ``"title phrase"``. ``theme_support``: share of members under
    the theme (slim term, top level, category) / holding the phrase. ``phrases``: :func:`~contrastomics.cluster.keywords.phrase_sets`
    of ``titles`` when already made."""
    labels = np.asarray(labels)
    phrases = phrase_sets(titles) if phrases is None else phrases
    out: dict[int, dict] = {}
    ids = [None if t is None else extract_go_id(str(t)) for t in (terms or [])]
    if sum(i is not None for i in ids) >= 2:  # clusters mostly of GO terms (a result of parts: its GO part)
        out.update({c: {**rec, "theme_source": "GO slim"}
                    for c, rec in go_slim_themes(ids, labels, ontology=ontology, min_size=1).items()})
    rest = [k for k in range(len(labels)) if not ids or ids[k] is None]
    if pathways is not None and len(rest) >= 2:  # the pathways without a GO id: Reactome's, or hallmarks
        terms_, names_ = [pathways[0][k] for k in rest], [pathways[1][k] for k in rest]
        at = {k: i for i, k in enumerate(rest)}
        label_at = {c: at[r] for c, r in reps.items() if r in at}  # ties go to the label's category
        for source, found in (("Reactome top level", top_level_themes(terms_, names_, labels[rest])),
                              ("Hallmark category", hallmark_themes(terms_, names_, labels[rest], label_at))):
            out.update({c: {**rec, "theme_source": source} for c, rec in found.items() if c not in out})
    g, members = _groups(labels)
    for c, idx in zip(g.tolist(), members):
        if c in out:
            continue
        phrase, share = shared_phrase([phrases[i] for i in idx], prefer=phrases[reps[c]] if c in reps else None)
        out[c] = {"theme": phrase, "theme_id": "", "theme_support": share, "theme_source": "title phrase"}
    return out


def support_threshold(space, n: int, *, quantile: float = SUPPORT_QUANTILE, n_pairs: int = 5000,
                      seed: int = 0, rows: np.ndarray | None = None) -> float:
    """The ``quantile`` of the similarity of random distinct pairs of the ``n`` pathways in
    ``space`` (fixed seed): a member this close to the label is closer than most pathway pairs.
    ``rows``: pairs of these pathways only (a result's part, as if alone). ``nan`` (no threshold)
    on fewer than :data:`MIN_SUPPORT_PATHWAYS` pathways."""
    rows = np.arange(n) if rows is None else np.asarray(rows)
    if len(rows) < max(2, MIN_SUPPORT_PATHWAYS):
        return float("nan")
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(rows), n_pairs)
    b = (a + rng.integers(1, len(rows), n_pairs)) % len(rows)
    v = pair_values(space, rows[a], rows[b])
    return float(np.quantile(v[np.isfinite(v)], quantile)) if np.isfinite(v).any() else float("nan")


def support_near(space, n: int, go: "GoPairs | None" = None, *, quantile: float = SUPPORT_QUANTILE, wang: float = SUPPORT_WANG, seed: int = 0,
                 reactome: "tuple[np.ndarray, ReactomeHierarchy] | None" = None, rows: np.ndarray | None = None,
                 categories: np.ndarray | None = None):
    """``(near, threshold)``: ``near(a, b)`` -> ``(len(a),)`` bool, pathway ``b[i]`` sits near ``a[i]``:
    for two GO terms (``go``) ancestor, descendant or sibling, or Wang similarity >= ``wang``; for
    other pathways similarity in ``space`` at least the ``quantile`` of random pairs, or, for two
    pathways of the shipped Reactome hierarchy (``reactome``: their rows, ``-1`` for none, and the
    hierarchy), ancestor, descendant or sibling there, or two hallmark sets of one process category
    (``categories``: :func:`~contrastomics.data.hallmark.hallmark_codes`; ``rows``: the threshold's pathways)."""
    # a GO result whose terms are all known never asks the space: no threshold to estimate
    needed = space is not None and (go is None or not bool(np.all(go.known)))
    thr = support_threshold(space, n, quantile=quantile, seed=seed, rows=rows) if needed else float("nan")

    def near(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ok = np.zeros(len(a), bool)
        both = np.zeros(len(a), bool) if go is None else go.known[a] & go.known[b]
        if both.any():
            ok[both] = go.related(a[both], b[both]) | (go.wang_pairs(a[both], b[both]) >= wang)
        rest = ~both
        if rest.any() and np.isfinite(thr):
            # a threshold of 0 (sparse similarities) must not count pairs sharing nothing
            v = pair_values(space, a[rest], b[rest])
            ok[rest] = (v >= thr) & (v > 0)
        if reactome is not None:
            _or_related(ok, reactome[0][a], reactome[0][b], reactome[1])
        if categories is not None:
            ok |= (categories[a] >= 0) & (categories[a] == categories[b])
        return ok

    def block(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        """``near`` for every pair of ``r x c``, ``(len(r), len(c))`` bool: one similarity block
        instead of ``len(r) * len(c)`` gathered pairs (the same values)."""
        r, c = np.asarray(r, np.int64), np.asarray(c, np.int64)
        both = np.zeros((len(r), len(c)), bool) if go is None else go.known[r][:, None] & go.known[c][None, :]
        ok = np.zeros(both.shape, bool)
        if both.any():
            i, j = np.nonzero(both)
            ok[i, j] = near(r[i], c[j])
        if (~both).any() and np.isfinite(thr):
            v = block_values(space, r, c)
            ok |= ~both & (v >= thr) & (v > 0)
        if reactome is not None:
            rows = reactome[0]
            _or_related(ok, *np.broadcast_arrays(rows[r][:, None], rows[c][None, :]), reactome[1])
        if categories is not None:
            ok |= (categories[r][:, None] >= 0) & (categories[r][:, None] == categories[c][None, :])
        return ok
    near.block = block
    return near, thr


def _or_related(ok: np.ndarray, rows_a: np.ndarray, rows_b: np.ndarray, h: "ReactomeHierarchy") -> None:
    """Set, in place, the pairs of ``ok`` not yet near whose pathways ``rows_a`` / ``rows_b`` (same
    shape as ``ok``; ``-1``: not in the hierarchy) are ancestor, descendant or sibling in ``h``."""
    pending = ~ok & (rows_a >= 0) & (rows_b >= 0)
    if pending.any():
        ok[pending] = h.related(rows_a[pending], rows_b[pending])


def label_support(labels: np.ndarray, reps: dict[int, int], *, space=None, go: "GoPairs | None" = None,
                  quantile: float = SUPPORT_QUANTILE, wang: float = SUPPORT_WANG, seed: int = 0,
                  reactome: "tuple[np.ndarray, ReactomeHierarchy] | None" = None,
                  relation=None, categories: np.ndarray | None = None) -> tuple[dict[int, float], dict]:
    """Share of each cluster's other members that sit near its label (representative); ``nan`` for
    singletons. Returns ``(shares, info)``.

    Near (:func:`support_near`): for two GO terms (``go``: :class:`~contrastomics.evaluate.cluster_metrics.GoPairs`)
    ancestor, descendant or sibling (a shared direct ``is_a``/``part_of`` parent) of the label, or
    Wang similarity >= ``wang``; for other pathways similarity in the clustering's ``space``
    (:func:`pair_values`) at least the ``quantile`` of random pairs (:func:`support_threshold`), or,
    for two pathways of the Reactome hierarchy (``reactome``), ancestor, descendant or sibling there,
    or two hallmark sets of one process category (``categories``).
    ``info``: the basis and the thresholds used. ``relation``: :func:`support_near`'s result for
    these arguments when already computed."""
    labels = np.asarray(labels)
    near, thr = relation if relation is not None else support_near(space, len(labels), go, quantile=quantile,
                                                                    wang=wang, seed=seed, reactome=reactome,
                                                                    categories=categories)
    shares = label_support_shares(labels, reps, near)
    ontology = (go is not None and go.known.any()) or reactome is not None or categories is not None
    scored = ontology or np.isfinite(thr)
    if not scored:  # nothing to call a member near by
        shares = {c: float("nan") for c in shares}
    parts = []
    if go is not None and go.known.any():
        parts.append(f"GO: ancestor, descendant or sibling of the label, or Wang similarity >= {wang:g}")
    if reactome is not None:
        parts.append("Reactome: ancestor, descendant or sibling of the label in the shipped hierarchy")
    if categories is not None:
        parts.append("MSigDB Hallmark: the label's process category (Liberzon et al. 2015)")
    if np.isfinite(thr) and (go is None or not go.known.all()):
        parts.append(f"similarity in the clustering space >= {thr:.3g} (the {quantile:g} quantile of random pairs)")
    if not scored:
        parts.append(f"not scored: fewer than {MIN_SUPPORT_PATHWAYS} pathways for a similarity threshold and no "
                     "ontology neighbourhood")
    info = {"label_support_basis": "; ".join(parts) or "n/a",
            "label_support_threshold": thr if np.isfinite(thr) else None,
            "label_support_wang": wang if go is not None else None}
    return shares, info


#: a mixed cluster's sub-themes: at most this many, each naming at least this share of the cluster
#: (and 2 members) not named before; candidates: the lowest-FDR non-generic members, at most this many
MAX_SUB_THEMES = 3
SUB_THEME_MIN_SHARE = 0.1
MAX_SUB_THEME_CANDIDATES = 300
#: what the outputs say of a mixed cluster without a sub-theme
NO_SUB_THEME = f"no other member names {SUB_THEME_MIN_SHARE:.0%} of the cluster"


def mixed_note(support: float | None, themes: str | None, fit=str) -> str | None:
    """What the report and the console say under a mixed cluster's label (``support`` below
    :data:`LOW_SUPPORT`): ``"also: <sub-themes>"`` (``themes`` passed through ``fit``: shortened,
    escaped) or :data:`NO_SUB_THEME`; ``None`` for a cluster that is not mixed (or has no support)."""
    if support is None or not support < LOW_SUPPORT:  # NaN: not scored
        return None
    return f"also: {fit(themes)}" if themes else NO_SUB_THEME


def sub_themes(labels: np.ndarray, reps: dict[int, int], support: dict[int, float], near, fdr: np.ndarray,
               eligible: np.ndarray | None = None, low: float = LOW_SUPPORT) -> dict[int, dict]:
    """What a mixed cluster (label support below ``low``) holds besides its label: a greedy cover
    under the label-support relation ``near`` (:func:`support_near`). The label names itself and the
    members near it; then the member naming the most members not yet named (itself included) is
    added while it names at least :data:`SUB_THEME_MIN_SHARE` of the cluster and 2 members, up to
    :data:`MAX_SUB_THEMES`. ``{cluster: {"rows": [member row, ...], "counts": [newly named, ...],
    "support": share of the other members named by the label or a sub-theme}}``."""
    ids, members = _groups(np.asarray(labels))
    out: dict[int, dict] = {}
    for c, idx in zip(ids.tolist(), members):
        if len(idx) < 3 or not support.get(c, np.nan) < low:
            continue
        rep = reps[c]
        cand = idx[idx != rep] if eligible is None else idx[(idx != rep) & np.asarray(eligible)[idx]]
        cand = cand[np.argsort(fdr[cand], kind="stable")][:MAX_SUB_THEME_CANDIDATES]
        rows = np.concatenate([[rep], cand]).astype(np.int64)
        ok = near_block(near, rows, idx) | (rows[:, None] == idx[None, :])  # a member names itself
        named, picked, counts = ok[0].copy(), [], []
        need = max(2, int(np.ceil(SUB_THEME_MIN_SHARE * len(idx))))
        for _ in range(MAX_SUB_THEMES):
            gain = (ok[1:] & ~named).sum(1)
            if not len(gain) or gain.max() < need:
                break
            b = int(np.argmax(gain))  # first maximum: the lower FDR
            picked.append(int(rows[1 + b]))
            counts.append(int(gain[b]))
            named |= ok[1 + b]
        if picked:
            out[c] = {"rows": picked, "counts": counts, "support": float((named.sum() - 1) / (len(idx) - 1))}
    return out


def support_summary(shares: dict[int, float], low: float = LOW_SUPPORT, sub: dict[int, dict] | None = None,
                    sizes: np.ndarray | None = None) -> dict:
    """Summary metrics of per-cluster label support (non-singleton clusters); with ``sub``
    (:func:`sub_themes`), ``mixed_described``: the mixed clusters whose label and sub-themes together
    name at least ``low`` of the other members; with ``sizes`` (members per cluster id),
    ``pathways_low_support_share``: the share of all pathways whose cluster's label is below ``low``."""
    v = np.array([x for x in shares.values() if np.isfinite(x)], float)
    out = {"label_support_mean": float(v.mean()) if len(v) else float("nan"),
           "label_support_median": float(np.median(v)) if len(v) else float("nan"),
           "labels_low_support": int((v < low).sum()), "labels_scored": int(len(v)),
           "label_support_low_cutoff": float(low)}
    if sizes is not None and np.sum(sizes) > 0:
        under = sum(int(sizes[c]) for c, x in shares.items() if np.isfinite(x) and x < low)
        out["pathways_low_support_share"] = under / float(np.sum(sizes))
    if sub is not None:
        out["mixed_described"] = int(sum(r["support"] >= low for r in sub.values()))
    return out
