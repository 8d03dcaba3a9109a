"""The ontology view of the joint space: each pathway's IC-weighted ancestors in the ontology that
knows it.

GO terms (a GO id in the term or name) take their GO ancestor rows
(:func:`~contrastomics.evaluate.semantic.ic_ancestor_vectors`), Reactome pathways their rows of the
shipped hierarchy (:func:`~contrastomics.data.reactome.reactome_ancestor_vectors`), whichever kind
the result mixes; a pathway neither knows (a KEGG or WikiPathways set, a GO term newer than the
shipped ontology) is its own only ancestor, one column per distinct term. Rows are compared by
cosine, so a GO term and a Reactome pathway share nothing here (the other views relate them), and a
pathway no ontology knows is equally far from every other, instead of close to every other such
pathway as an all-zero row would be.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from ..data.ontology import extract_go_id
from ..data.reactome import MIN_MATCHED, reactome_ancestor_vectors
from ..evaluate.semantic import ic_ancestor_vectors

#: how pathways no ontology knows enter the view: ``"self"`` (their own column) or ``"zero"``
#: (an all-zero row, the view before development round 15; benchmarks/decisions/cluster.md)
UNKNOWN_ROWS = "zero"


def ontology_vectors(terms: Sequence[str], names: Sequence[str] | None = None, *, unknown: str | None = None,
                     mixed: bool | None = None) -> "tuple[sp.csr_matrix, np.ndarray, str] | None":
    """``(rows, known, kind)`` of the ontology view (module docstring): sparse ``(n, d)`` rows,
    ``known`` ``(n,)`` (an ontology knows the pathway) and ``kind`` (``"GO"`` when GO knows at least
    as many of the pathways as Reactome, else ``"Reactome"``); ``None`` when fewer than half of the
    pathways are known (the result has no ontology view). ``mixed=False`` (the view before round
    15): GO rows for a GO result, else Reactome rows for a Reactome result, not both."""
    unknown = UNKNOWN_ROWS if unknown is None else unknown
    mixed = unknown == "self" if mixed is None else mixed
    terms = list(terms)
    n = len(terms)
    if not n:
        return None
    go = ic_ancestor_vectors(terms)
    if not mixed:
        if go is not None:
            return _with_unknown(go[0], go[1], terms, unknown) + ("GO",)
        re_ = reactome_ancestor_vectors(terms, names)
        return None if re_ is None else _with_unknown(re_[0], re_[1], terms, unknown) + ("Reactome",)
    go_rows = np.flatnonzero([extract_go_id(t) is not None for t in terms])
    blocks, known = [], np.zeros(n, bool)
    kinds = {"GO": 0, "Reactome": 0}
    if len(go_rows) >= 2:
        sub = ic_ancestor_vectors([terms[i] for i in go_rows])
        if sub is not None:
            blocks.append(_scatter(sub[0], go_rows, n))
            known[go_rows[sub[1]]] = True
            kinds["GO"] = int(sub[1].sum())
    rest = np.flatnonzero(~known)
    if len(rest):
        sub = reactome_ancestor_vectors([terms[i] for i in rest], None if names is None else [names[i] for i in rest],
                                        min_matched=0.0)
        if sub is not None:
            blocks.append(_scatter(sub[0], rest, n))
            known[rest[sub[1]]] = True
            kinds["Reactome"] = int(sub[1].sum())
    if known.sum() < MIN_MATCHED * n or not blocks:
        return None
    m = sp.hstack(blocks, format="csr", dtype=np.float32)
    return _with_unknown(m, known, terms, unknown) + ("GO" if kinds["GO"] >= kinds["Reactome"] else "Reactome",)


def _scatter(m: sp.csr_matrix, rows: np.ndarray, n: int) -> sp.csr_matrix:
    """``m``'s rows placed at ``rows`` of an ``(n, m.shape[1])`` matrix (zeros elsewhere)."""
    pick = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, np.arange(len(rows)))), shape=(n, len(rows)))
    return sp.csr_matrix(pick @ m, dtype=np.float32)


def _with_unknown(m: sp.csr_matrix, known: np.ndarray, terms: Sequence[str], unknown: str
                  ) -> tuple[sp.csr_matrix, np.ndarray]:
    """``(rows, known)``: unknown pathways as zero rows or with a column of their own (one per distinct term)."""
    if unknown == "zero" or known.all():
        return sp.csr_matrix(m, dtype=np.float32), known
    if unknown != "self":
        raise ValueError(f"unknown rows: 'self' or 'zero', not {unknown!r}")
    rows = np.flatnonzero(~known)
    _, col = np.unique([terms[i] for i in rows], return_inverse=True)
    own = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, col)), shape=(len(terms), int(col.max()) + 1))
    return sp.hstack([m, own], format="csr", dtype=np.float32), known
