"""Pathways the ontology view does not know (a KEGG set in a C2:CP result, a GO term newer than the
shipped ontology): what their row of that view holds.

``"zero"``: an all-zero row, at distance 0 from every other unknown pathway, so the unknown ones
attract each other whatever they are about. ``"self"``: a column of its own, equally far from all.
``"impute"``: the similarity-weighted mean of the normalised rows of its :data:`IMPUTE_NEIGHBOURS`
nearest known pathways in the rest of the joint space (towers, direction, gene overlaps): it sits
where its neighbours sit. ``"impute-own"`` (default since development round 18,
benchmarks/decisions/cluster.md): the same for pathways of the view's own ontology only (GO ids and
MSigDB GO names; for the Reactome view no other library's mark), zero rows for the others (a KEGG
set has no place in Reactome's hierarchy).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from ..data.ontology import extract_go_id, is_go_result, is_go_term
from ..data.reactome import other_library

#: the rule for unknown pathways (module docstring): ``"impute-own"`` since development round 18;
#: ``"zero"`` is the view before it
UNKNOWN_ROWS = "impute-own"
#: known pathways whose rows an unknown one takes the weighted mean of (``"impute"``)
IMPUTE_NEIGHBOURS = 5
#: similarity entries per row block of the neighbour search (~200 MB of float64)
_CHUNK_ENTRIES = 25_000_000

RULES = ("zero", "self", "impute", "impute-own")


def own_ontology(terms: Sequence[str], go_view: bool | None = None) -> np.ndarray:
    """``(n,)`` bool: the pathway belongs to the ontology of the result's view (the GO view: a GO id
    or an MSigDB GO name; the Reactome view: no other library's mark). ``go_view``: which view the
    result has (``None``: a GO result, by :func:`~contrastomics.data.ontology.is_go_result`)."""
    if is_go_result([extract_go_id(str(t)) for t in terms]) if go_view is None else go_view:
        return np.array([is_go_term(t) for t in terms], bool)
    return np.array([not other_library(t) for t in terms], bool)


def fill_unknown(onto: "sp.csr_matrix | None", known: "np.ndarray | None", dense: np.ndarray, blocks,
                 how: str | None = None, terms: Sequence[str] | None = None,
                 go_view: bool | None = None) -> "sp.csr_matrix | None":
    """The view's rows ``onto`` ``(n, d)`` with the rows of pathways not ``known`` filled by ``how``
    (:data:`UNKNOWN_ROWS` when ``None``; module docstring). ``dense`` ``(n, e)`` and ``blocks`` (sparse
    ``(n, *)`` or ``None``) are the rest of the joint space, whose inner products give the neighbours;
    ``terms`` (``"impute-own"``) say which pathways belong to the view's ontology (without them: all;
    ``go_view``: :func:`own_ontology`'s)."""
    how = UNKNOWN_ROWS if how is None else how
    if how not in RULES:
        raise ValueError(f"unknown rows: one of {', '.join(RULES)}, not {how!r}")
    if onto is None or known is None or how == "zero" or known.all() or not known.any():
        return onto
    n = onto.shape[0]
    todo = ~known if how != "impute-own" or terms is None else ~known & own_ontology(terms, go_view)
    unk, kn = np.flatnonzero(todo), np.flatnonzero(known)
    if not len(unk):
        return onto
    onto = sp.csr_matrix(onto, dtype=np.float64)
    if how == "self":
        own = sp.csr_matrix((np.ones(len(unk)), (unk, np.arange(len(unk)))), shape=(n, len(unk)))
        return sp.hstack([onto, own], format="csr")
    m = min(IMPUTE_NEIGHBOURS, len(kn))
    top, wts = np.zeros((len(unk), m), np.int64), np.zeros((len(unk), m))
    known_dense = np.asarray(dense[kn], np.float64)
    known_blocks = [b[kn].T.tocsr() for b in blocks if b is not None]
    step = max(1, _CHUNK_ENTRIES // max(len(kn), 1))
    for lo in range(0, len(unk), step):  # row blocks: memory bounded by step x known
        rows = unk[lo:lo + step]
        sim = np.asarray(dense[rows], np.float64) @ known_dense.T
        for b, bt in zip((b for b in blocks if b is not None), known_blocks):
            sim += (b[rows] @ bt).toarray()
        t = np.argsort(-sim, axis=1, kind="stable")[:, :m]  # ties: the earlier known pathway
        top[lo:lo + step], wts[lo:lo + step] = t, np.maximum(np.take_along_axis(sim, t, 1), 0.0)
    wts[wts.sum(1) == 0] = 1.0  # no positive similarity: the plain mean of the nearest
    norms = np.sqrt(np.asarray(onto.multiply(onto).sum(1)).ravel())
    unit = sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)) @ onto
    mix = sp.csr_matrix((wts.ravel(), (np.repeat(np.arange(len(unk)), m), kn[top].ravel())), shape=(len(unk), n))
    place = sp.csr_matrix((np.ones(len(unk)), (unk, np.arange(len(unk)))), shape=(n, len(unk)))
    return sp.csr_matrix(onto + place @ (mix @ unit))
