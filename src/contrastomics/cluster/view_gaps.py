"""Pathways the ontology view does not know (a KEGG set in a C2:CP result, a GO term newer than the
shipped ontology): what their row of that view holds.

As an all-zero row (``"zero"``) such a pathway is at distance 0 from every other unknown pathway in
the view and equally far from every known one, so the unknown pathways of a result attract each
other whatever they are about. ``"self"``: each is its own only ancestor (a column of its own),
equally far from every other pathway. ``"impute"``: the IC-weighted mean of the (normalised) rows of
its :data:`IMPUTE_NEIGHBOURS` nearest known pathways in the rest of the joint space (towers,
direction, gene overlaps), weighted by that similarity: it sits where its nearest known
neighbours sit. Development round 17 (benchmarks/decisions/cluster.md) compares them.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: the rule for unknown pathways (module docstring); ``"zero"``: the view as before round 17
UNKNOWN_ROWS = "zero"
#: known pathways whose rows an unknown one takes the weighted mean of (``"impute"``)
IMPUTE_NEIGHBOURS = 5


def fill_unknown(onto: "sp.csr_matrix | None", known: "np.ndarray | None", dense: np.ndarray, blocks,
                 how: str | None = None) -> "sp.csr_matrix | None":
    """The view's rows ``onto`` ``(n, d)`` with the rows of pathways not ``known`` filled by ``how``
    (:data:`UNKNOWN_ROWS` when ``None``; module docstring). ``dense`` ``(n, e)`` and ``blocks`` (sparse
    ``(n, *)`` or ``None``) are the rest of the joint space, whose inner products give the neighbours."""
    how = UNKNOWN_ROWS if how is None else how
    if how not in ("zero", "self", "impute"):
        raise ValueError(f"unknown rows: 'zero', 'self' or 'impute', not {how!r}")
    if onto is None or known is None or how == "zero" or known.all() or not known.any():
        return onto
    n = onto.shape[0]
    unk, kn = np.flatnonzero(~known), np.flatnonzero(known)
    onto = sp.csr_matrix(onto, dtype=np.float64)
    if how == "self":
        own = sp.csr_matrix((np.ones(len(unk)), (unk, np.arange(len(unk)))), shape=(n, len(unk)))
        return sp.hstack([onto, own], format="csr")
    sim = np.asarray(dense[unk], np.float64) @ np.asarray(dense[kn], np.float64).T
    for b in blocks:
        if b is not None:
            sim += (b[unk] @ b[kn].T).toarray()
    m = min(IMPUTE_NEIGHBOURS, len(kn))
    top = np.argsort(-sim, axis=1, kind="stable")[:, :m]  # ties: the earlier known pathway
    wts = np.maximum(np.take_along_axis(sim, top, 1), 0.0)
    wts[wts.sum(1) == 0] = 1.0  # no positive similarity: the plain mean of the nearest
    norms = np.sqrt(np.asarray(onto.multiply(onto).sum(1)).ravel())
    unit = sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)) @ onto
    mix = sp.csr_matrix((wts.ravel(), (np.repeat(np.arange(len(unk)), m), kn[top].ravel())), shape=(len(unk), n))
    place = sp.csr_matrix((np.ones(len(unk)), (unk, np.arange(len(unk)))), shape=(n, len(unk)))
    return sp.csr_matrix(onto + place @ (mix @ unit))
