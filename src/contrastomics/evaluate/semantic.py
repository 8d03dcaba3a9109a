"""GO semantic similarity between terms, vectorised over the ontology's sparse ancestor closure.

Measure: **simGIC** (Pesquita et al. 2008), the information-content-weighted Jaccard of the two
terms' ancestor sets (each term included in its own set, ``is_a`` + ``part_of``)::

    simGIC(a, b) = sum_{t in anc(a) & anc(b)} IC(t) / sum_{t in anc(a) | anc(b)} IC(t)
    IC(t) = -log(n_genes(t) / n_genes(root))

with ``n_genes(t)`` the number of human genes annotated to ``t`` or a descendant (the built-in
propagated GO annotation); a term without annotations gets the largest IC of its namespace. One
sparse product ``A diag(IC) A^T`` gives every pair at once, so 1,000 terms take milliseconds.
simGIC is in ``[0, 1]``, 1 for identical terms; it is the measure simplifyEnrichment-style GO
clustering and our GO-semantic silhouette use.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import scipy.sparse as sp

GO_ID = re.compile(r"GO[:_](\d{7})")


def extract_go_id(term: str) -> str | None:
    """``"apoptotic process (GO:0006915)"`` / ``"GO:0006915"`` / ``GO_0006915`` -> ``"GO:0006915"``."""
    m = GO_ID.search(term or "")
    return f"GO:{m.group(1)}" if m else None


def information_content(ontology, library) -> np.ndarray:
    """IC of every ontology term ``(n_terms,)`` from a propagated annotation library.

    ``library``: a :class:`~contrastomics.data.genesets.GeneSetLibrary` whose terms are ontology ids
    (e.g. ``load_library("GO_BP", min_size=1, max_size=None)``); terms absent from it get the
    maximal IC (as rare as a one-gene term).
    """
    n_genes_total = max(len(library.genes), 1)
    counts = np.ones(len(ontology), np.float64)
    for t, s in zip(library.terms, library.sizes):
        r = ontology.resolve(t)
        if r is not None:
            counts[ontology._index[r]] = max(float(s), 1.0)
    return -np.log(np.minimum(counts / n_genes_total, 1.0))


def simgic(term_ids: Sequence[str | None], ontology, ic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """simGIC between all pairs of ``term_ids``.

    Returns ``(sim, known)``: ``sim`` ``(n, n)`` float32 (0 for pairs with an unknown term, 1 on
    the diagonal of known terms) and ``known`` ``(n,)`` bool (term resolved in the ontology).
    """
    n = len(term_ids)
    rows = np.full(n, -1, np.int64)
    for i, t in enumerate(term_ids):
        r = ontology.resolve(t) if t else None
        if r is not None:
            rows[i] = ontology._index[r]
    known = rows >= 0
    sim = np.zeros((n, n), np.float32)
    if not known.any():
        return sim, known
    anc = ontology.ancestor_matrix()[rows[known]]  # (n_known, n_terms), self included
    w = anc @ sp.diags(ic)
    inter = np.asarray((w @ anc.T).todense(), np.float64)
    tot = np.asarray(w.sum(1)).ravel()
    union = tot[:, None] + tot[None, :] - inter
    s = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    idx = np.flatnonzero(known)
    sim[np.ix_(idx, idx)] = s
    return sim, known


def go_similarity_for(terms: Sequence[str], namespace: str = "GO_BP") -> tuple[np.ndarray, np.ndarray] | None:
    """simGIC for result terms that carry GO ids (built-in GO + human annotation for IC).

    Returns ``None`` when fewer than half of ``terms`` carry a GO id (not a GO result) or the
    built-in ontology is unavailable.
    """
    ids = [extract_go_id(t) for t in terms]
    if sum(i is not None for i in ids) < max(2, len(ids) / 2):
        return None
    try:
        from ..data.builtin import load_library, load_ontology
        onto = load_ontology("GO")
        lib = load_library(namespace, min_size=1, max_size=None)
    except Exception:  # noqa: BLE001 - a missing data carrier only removes this optional metric
        return None
    return simgic(ids, onto, _ic_cached(onto, lib, namespace))


_IC: dict = {}


def _ic_cached(onto, lib, namespace: str) -> np.ndarray:
    key = (id(onto), len(onto), namespace)
    if key not in _IC:
        _IC.clear()
        _IC[key] = information_content(onto, lib)
    return _IC[key]
