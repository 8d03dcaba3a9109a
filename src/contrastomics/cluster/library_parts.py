"""Results mixing GO terms with other libraries' pathways (a gseapy run given GO BP and Reactome
together): each library part has its own ontology view and its own partition (development round 19,
benchmarks/decisions/cluster.md).

One view cannot hold both: GO's gives the other rows all-zero rows, and Ward then gathers them in a
few large clusters whatever they are about. Here the GO part takes the GO view and the rest the
Reactome view when it is a Reactome-like result (else none), each part is cut at the default count of
its own size, and no cluster spans two parts: each part is clustered as it would be alone. The
joint space, the network and the map still hold every pathway together.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from ..data.genesets import msigdb_style
from ..data.ontology import is_go_term
from ..data.reactome import other_library, reactome_ancestor_vectors, reactome_rows, result_rows
from ..evaluate.semantic import go_similarity_for, ic_ancestor_vectors
from . import labels
from .view_gaps import fill_unknown

#: parts are used (development round 19); ``False`` is the view before it
PARTS = True
#: each part needs at least this many pathways (one cluster's worth at the default n / 15)
MIN_PART = 15
PART_NAMES = ("GO", "other libraries")


def library_parts(terms: Sequence[str], names: Sequence[str] | None = None,
                  libraries: Sequence[str] | None = None) -> np.ndarray | None:
    """``(n,)`` part of each pathway, 0 for GO terms (a GO id or an MSigDB GO name), 1 for the rest;
    ``None`` (one part) unless both have at least :data:`MIN_PART` pathways and at least half of the
    rest are known to be of another library: their own ``libraries`` entry (a row's library column),
    or, without one, another library's mark, an MSigDB-style set name (``SMID_BREAST_CANCER_BASAL_UP``)
    or a Reactome pathway (``names``: the rows' names). So a GO result whose newer terms lost their
    ids stays whole."""
    if not PARTS:
        return None
    go = np.array([is_go_term(t) for t in terms], bool)
    rest = np.flatnonzero(~go)
    if go.sum() < MIN_PART or len(rest) < MIN_PART:
        return None
    if libraries is not None:
        go_libs = {libraries[i] for i in np.flatnonzero(go)}
        other = np.array([libraries[i] not in go_libs for i in rest], bool)
    else:
        rows = reactome_rows([terms[i] for i in rest], None if names is None else [names[i] for i in rest])
        other = (rows >= 0) | np.array([other_library(terms[i]) or msigdb_style(terms[i]) for i in rest], bool)
    return (~go).astype(np.int64) if other.mean() >= 0.5 else None


def part_targets(parts: np.ndarray, total: int | None, default) -> list[int]:
    """Cluster count of each part: ``default(n_part)``, or ``total`` shared in proportion to the
    parts' sizes (largest remainders; at least 1 each)."""
    sizes = np.bincount(parts)
    if not total:
        return [int(default(int(s))) for s in sizes]
    share = total * sizes / sizes.sum()
    out = np.maximum(np.floor(share).astype(int), 1)
    for i in np.argsort(-(share - np.floor(share)), kind="stable")[:max(0, total - int(out.sum()))]:
        out[i] += 1
    return out.tolist()


def space_rows(x, rows: np.ndarray):
    """The joint space ``x`` restricted to pathways ``rows`` (same blocks and weights)."""
    take = (lambda b: None if b is None else b[rows])
    return dataclasses.replace(x, dense=x.dense[rows], overlap=take(x.overlap), full_overlap=take(x.full_overlap),
                               ontology=take(x.ontology))


@dataclasses.dataclass
class OntologyView:
    """The ontology rows of a result: per part ``(rows of the result, view rows, known, is the GO
    view, terms)``; ``weight``: the view's share before the weights are normalised (with parts,
    both views take the ``ontology`` weight)."""

    parts: list
    weight: float

    def filled(self, n: int, dense: np.ndarray, blocks) -> sp.csr_matrix:
        """``(n, d)`` rows: each part's view with its gaps filled within the part
        (:func:`~contrastomics.cluster.view_gaps.fill_unknown`), the parts' columns side by side."""
        if len(self.parts) == 1 and len(self.parts[0][0]) == n:  # one view over the whole result
            _, view, known, go_view, terms = self.parts[0]
            return fill_unknown(view, known, dense, blocks, terms=terms, go_view=go_view)
        r, c, v, offset = [], [], [], 0
        for rows, view, known, go_view, terms in self.parts:
            sub = fill_unknown(view, known, dense[rows], [None if b is None else b[rows] for b in blocks],
                               terms=terms, go_view=go_view)
            sub = sp.coo_matrix(sub)
            r.append(rows[sub.row])
            c.append(sub.col + offset)
            v.append(sub.data)
            offset += sub.shape[1]
        return sp.csr_matrix((np.concatenate(v), (np.concatenate(r), np.concatenate(c))), shape=(n, offset))


#: the relations the GO view's ancestor rows follow (``None``: is_a / part_of; development round 23)
GO_VIEW_RELATIONS = None


def ontology_view(terms: Sequence[str] | None, names, weight: float, reactome_weight: float | None,
                  parts: np.ndarray | None) -> OntologyView | None:
    """The ontology view of a result (``None``: none): GO for a GO result, the Reactome hierarchy for
    a Reactome result (weight ``reactome_weight`` when given), and with ``parts`` each part's own."""
    if terms is None:
        return None
    terms = list(terms)
    groups = [np.arange(len(terms))] if parts is None else [np.flatnonzero(parts == p) for p in np.unique(parts)]
    found, w = [], None
    for rows in groups:
        sub = [terms[i] for i in rows]
        view = ic_ancestor_vectors(sub, relations=GO_VIEW_RELATIONS) if weight > 0 else None
        go_view, w_part = view is not None, weight
        if view is None:
            w_part = weight if reactome_weight is None else reactome_weight
            view = reactome_ancestor_vectors(sub, None if names is None else [names[i] for i in rows]) \
                if w_part > 0 else None
        if view is not None:
            found.append((rows, view[0], view[1], go_view, sub))
            w = w_part if parts is None else weight
    return OntologyView(found, w) if found else None


def part_reactome_rows(terms: Sequence[str], names: Sequence[str], parts: np.ndarray) -> np.ndarray | None:
    """Hierarchy rows ``(n,)`` (``-1``: none) of the pathways outside the GO part when they make a
    Reactome result; ``None`` otherwise."""
    rest = np.flatnonzero(parts != 0)
    rows = result_rows([terms[i] for i in rest], [names[i] for i in rest])
    if rows is None:
        return None
    out = np.full(len(terms), -1, np.int64)
    out[rest] = rows
    return out


class PartSimilarity:
    """Similarity for choosing labels in a result of parts, each part's as if alone, read a block at
    a time (``sim[np.ix_(rows, cols)]``, rows and columns of one part): simGIC within the GO part (as
    for a GO result), elsewhere the joint cosine (the blocks
    :func:`~contrastomics.cluster.labels.representatives` reads from a space). No ``n x n`` matrix.
    ``go_sim``: simGIC of all ``go_terms`` when already computed (a result whose majority is GO)."""

    def __init__(self, go_terms: Sequence[str], parts: np.ndarray, x, go_sim=None):
        n = len(parts)
        self.shape = (n, n)
        go = np.flatnonzero(parts == 0)
        self._pos = np.full(n, -1, np.int64)
        if go_sim is not None:  # simGIC of two GO terms does not depend on the other terms
            self._go, self._pos[go] = go_sim, go
        else:
            found = go_similarity_for([go_terms[i] for i in go])
            self._go = None if found is None else found[0]
            self._pos[go] = np.arange(len(go))
        self._x = x if labels.CENTRALITY_EVERY_BLOCK else dataclasses.replace(x, ontology=None)

    def __getitem__(self, key) -> np.ndarray:
        r, c = (np.asarray(k, np.int64).ravel() for k in key)
        if self._go is not None and (self._pos[r] >= 0).all() and (self._pos[c] >= 0).all():
            return np.asarray(self._go[np.ix_(self._pos[r], self._pos[c])], np.float64)
        return np.asarray(self._x.similarity(r, c), np.float64)
