"""Cluster labels: a representative pathway, c-TF-IDF keywords and (GO results) a GO slim theme.

:func:`representatives` (medoid or lowest FDR), :func:`ctfidf_keywords` (BERTopic's class-based
TF-IDF over member titles and descriptions) and :func:`go_slim_themes`. The rules, and the
text-tower theme that was measured and rejected: docs/clustering.md ("Inside the code").
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from ..data.builtin import load_ontology
from ..data.ontology import extract_go_id

#: Words that occur in most pathway titles and say nothing about a cluster.
DOMAIN_STOP_WORDS = frozenset("""
process processes regulation regulated regulating positive negative cellular cell cells involved
pathway pathways activity response via mediated signaling signalling establishment maintenance
biological organism multicellular metabolic catabolic biosynthetic compound compounds part
protein proteins gene genes expression go reactome kegg hallmark wp biocarta pid term genes set
containing complex dependent assembly organization level levels system including
any result results resulting chemical reactions reaction stops prevents reduces increases
activates frequency rate extent occurs occur consequence change state activity stimulus
directly modulates modulating involving type types specific form formation""".split())
_UNUSED = frozenset("""
""".split())


def _groups(labels: np.ndarray):
    """``(ids, members)``: each distinct label and the indices carrying it (one sort, not one scan
    of ``labels`` per cluster)."""
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")
    ids, starts = np.unique(labels[order], return_index=True)
    return ids, np.split(order, starts[1:])


def _mean_similarity_to_own_cluster(labels: np.ndarray, x) -> np.ndarray:
    """For every pathway, its mean joint cosine (or dot product of rows of ``x``) to the other
    members of its cluster, in ``O(nnz)``: the similarity is bilinear, so it is the dot product with
    the cluster's sum minus the self term."""
    ids, inv = np.unique(labels, return_inverse=True)
    n = len(labels)
    onehot = sp.csr_matrix((np.ones(n), (np.arange(n), inv)), shape=(n, len(ids)))
    sizes = np.bincount(inv)
    blocks = [np.asarray(getattr(x, "dense", x), dtype=np.float64)]
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


def representatives(labels: np.ndarray, x: np.ndarray | None, fdr: np.ndarray, nes: np.ndarray,
                    how: str = "central", similarity: np.ndarray | None = None) -> dict[int, int]:
    """Index of the representative pathway of every cluster id in ``labels``.

    ``central``: the member with the highest mean similarity to the other members (ties: lowest
    FDR); ``significant``: the lowest FDR (ties: largest ``|NES|``)."""
    labels = np.asarray(labels)
    ids, members = _groups(labels)
    central = None
    if how == "central" and similarity is None and x is not None:
        central = np.round(_mean_similarity_to_own_cluster(labels, x), 6)
    out = {}
    for c, idx in zip(ids, members):
        if len(idx) == 1:
            out[int(c)] = int(idx[0])
            continue
        if how == "significant":
            order = np.lexsort((-np.abs(np.nan_to_num(nes[idx])), fdr[idx]))
            out[int(c)] = int(idx[order[0]])
            continue
        if central is not None:
            cent = central[idx]
        else:
            if sp.issparse(similarity):  # baselines' sparse graphs: never densified whole
                s = similarity[idx][:, idx].toarray().astype(np.float64)
            else:
                s = np.asarray(similarity[np.ix_(idx, idx)], dtype=np.float64)
            cent = np.round((s.sum(1) - np.diag(s)) / (len(idx) - 1), 6)
        order = np.lexsort((fdr[idx], -cent))
        out[int(c)] = int(idx[order[0]])
    return out


def _tokenizer_stop_words():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
    return sorted(ENGLISH_STOP_WORDS | DOMAIN_STOP_WORDS)


def ctfidf_keywords(labels: np.ndarray, texts: Sequence[str], n_keywords: int = 4,
                    min_cluster_size: int = 2) -> dict[int, list[str]]:
    """Top ``n_keywords`` c-TF-IDF terms of each cluster with ``>= min_cluster_size`` members."""
    from sklearn.feature_extraction.text import CountVectorizer
    ids, members = _groups(np.asarray(labels))
    keep = [(int(c), idx) for c, idx in zip(ids, members) if len(idx) >= min_cluster_size]
    if not keep:
        return {}
    clusters = [c for c, _ in keep]
    docs = [" ".join(_clean(texts[i]) for i in idx) for _, idx in keep]
    vec = CountVectorizer(ngram_range=(1, 2), stop_words=_tokenizer_stop_words(),
                          token_pattern=r"(?u)\b[A-Za-z][A-Za-z0-9\-]+\b", lowercase=True)
    try:
        counts = vec.fit_transform(docs).astype(np.float64)
    except ValueError:  # every word was a stop word
        return {c: [] for c in clusters}
    vocab = np.asarray(vec.get_feature_names_out())
    words_per_cluster = np.asarray(counts.sum(1)).ravel()
    tf = sp.diags(1.0 / np.maximum(words_per_cluster, 1)) @ counts
    f = np.asarray(counts.sum(0)).ravel()
    idf = np.log1p(words_per_cluster.mean() / np.maximum(f, 1))
    score = (tf @ sp.diags(idf)).tocsr()
    out = {}
    for r, c in enumerate(clusters):
        row = score.getrow(r)
        order = row.indices[np.argsort(-row.data, kind="stable")]
        chosen: list[str] = []
        for t in vocab[order]:
            if any(t in b.split() or b in t for b in chosen):
                continue
            words = t.split()
            if len(words) == 2 and words[0] == words[1]:
                continue
            chosen = [b for b in chosen if not (len(b.split()) == 1 and b in words)] + [t]
            if len(chosen) >= n_keywords:
                break
        out[c] = chosen
    return out


def _clean(text: str) -> str:
    # GO ids and URLs would otherwise become keywords
    text = re.sub(r"\((GO|R-HSA|WP|HP)[:\-][^)]*\)", " ", text)
    return re.sub(r"https?://\S+", " ", text)


def _slim_columns(ontology, subset: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the ``subset`` slim terms (aspect roots left out) and each one's number of
    descendants (itself included); computed once per ontology object."""
    key = ("slim_columns", subset)
    cache = ontology._cache
    if key not in cache:
        roots = {"GO:0008150", "GO:0003674", "GO:0005575"}
        idx = np.array([ontology.index(t) for t in ontology.subsets.get(subset, [])
                        if t in ontology and t not in roots], dtype=np.int64)
        n_desc = np.asarray(ontology.ancestor_matrix()[:, idx].sum(0)).ravel() if len(idx) else np.zeros(0)
        cache[key] = (idx, n_desc)
    return cache[key]


def go_slim_themes(terms: Sequence[str | None], labels: np.ndarray, *, ontology=None, subset: str = "goslim_generic",
                   min_go_fraction: float = 0.5) -> dict[int, dict]:
    """A GO slim theme per cluster of a GO result: the slim term under which most of its members sit.

    ``terms``: the pathways' terms, or their GO ids (``None`` where a pathway has none).

    For each cluster of at least two pathways of which at least ``min_go_fraction`` carry a GO id,
    the term of the GO slim ``subset`` (default the generic slim, ~150 terms; the three aspect roots
    excluded) that is an ancestor (``is_a``/``part_of``, or the term itself) of the most members;
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
    slim_idx, n_desc = _slim_columns(ontology, subset)
    if not len(slim_idx):
        return {}
    rows = np.full(len(ids), -1, dtype=np.int64)
    for k, t in enumerate(ids):
        if t is not None:
            r = ontology.resolve(t)
            rows[k] = ontology.index(r) if r is not None else -1
    known = rows >= 0
    anc = ontology.ancestor_matrix()  # (terms x terms): row = term, columns = its ancestors and itself
    under = anc[rows[known]][:, slim_idx].tocsr()  # members x slim terms, 1 = member sits under it
    n_clusters = int(labels.max()) + 1 if len(labels) else 0
    member_of = sp.csr_matrix((np.ones(int(known.sum())), (labels[known], np.arange(int(known.sum())))),
                              shape=(n_clusters, int(known.sum())))
    counts = np.asarray((member_of @ under).todense())
    sizes = np.bincount(labels, minlength=n_clusters)
    n_go = np.bincount(labels[known], minlength=n_clusters)
    out = {}
    for c in np.flatnonzero((sizes >= 2) & (n_go >= min_go_fraction * np.maximum(sizes, 1))):
        best = counts[c].max()
        if best <= 0:
            continue
        tied = np.flatnonzero(counts[c] == best)
        j = int(tied[np.argmin(n_desc[tied])])
        tid = ontology.ids[int(slim_idx[j])]
        out[int(c)] = {"theme": ontology.name_of(tid), "theme_id": tid, "theme_support": float(best / sizes[c])}
    return out
