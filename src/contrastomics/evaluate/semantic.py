"""GO semantic similarity (simGIC) between terms, vectorised over the ontology's sparse ancestor closure.

simGIC (Pesquita et al. 2008) is the information-content-weighted Jaccard of two terms' ancestor
sets, in ``[0, 1]``; one sparse product gives every pair (:func:`simgic`), :class:`SimGIC` computes
row blocks on demand for large results, :func:`go_similarity_for` picks one for a result's terms.
Wang's graph similarity (:func:`wang_similarity`, no annotations: an independent judge of models
trained with gene overlap or IC) sits beside it. The GO-semantic silhouette measures in simGIC, and
``--method semantic``
(:func:`contrastomics.cluster.baselines.baseline_graph`) clusters in it. Formula: docs/clustering.md.
"""
from __future__ import annotations

import heapq
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from ..data.builtin import load_library, load_ontology
from ..data.ontology import GO_ID, extract_go_id, is_go_result  # noqa: F401  (moved to the data layer)


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


def ontology_rows(term_ids: Sequence[str | None], ontology) -> np.ndarray:
    """Row of each term in ``ontology`` (alternative ids resolved), ``-1`` when unknown."""
    rows = np.full(len(term_ids), -1, np.int64)
    for i, t in enumerate(term_ids):
        r = ontology.resolve(t) if t else None
        if r is not None:
            rows[i] = ontology._index[r]
    return rows


def _closure(term_ids: Sequence[str | None], ontology, ic: np.ndarray):
    """Known mask and, for the known terms, IC-weighted ancestor rows ``w``, ancestor rows ``anc``
    (self included) and each term's total ancestor IC."""
    rows = ontology_rows(term_ids, ontology)
    known = rows >= 0
    if not known.any():
        return known, None, None, None
    anc = ontology.ancestor_matrix()[rows[known]]  # (n_known, n_terms), self included
    w = anc @ sp.diags(ic)
    tot = np.asarray(w.sum(1)).ravel()
    return known, w, anc, tot


def _simgic_block(w_rows: sp.csr_matrix, tot_rows: np.ndarray, anc_t: sp.csr_matrix, tot: np.ndarray) -> np.ndarray:
    inter = np.asarray((w_rows @ anc_t).todense(), np.float64)
    union = tot_rows[:, None] + tot[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def simgic(term_ids: Sequence[str | None], ontology, ic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """simGIC between all pairs of ``term_ids``.

    Returns ``(sim, known)``: ``sim`` ``(n, n)`` float32 (0 for pairs with an unknown term, 1 on
    the diagonal of known terms) and ``known`` ``(n,)`` bool (term resolved in the ontology).
    """
    n = len(term_ids)
    known, w, anc, tot = _closure(term_ids, ontology, ic)
    sim = np.zeros((n, n), np.float32)
    if w is None:
        return sim, known
    s = _simgic_block(w, tot, anc.T.tocsr(), tot)
    idx = np.flatnonzero(known)
    sim[np.ix_(idx, idx)] = s
    return sim, known


class SimGIC:
    """simGIC between ``n`` terms, computed a block of rows at a time (the lazy form of
    :func:`simgic`'s matrix; same values).

    Repeated GO ids are computed once: ``unique_rows(idx)`` gives the ``(len(idx), m)`` block
    against the ``m`` distinct known terms, ``term_index`` ``(n,)`` maps each term to its column
    (``-1``: unknown). ``rows(idx)`` -> ``(len(idx), n)`` float32; ``sim @ x`` -> ``(n, k)`` in row
    blocks; ``np.asarray(sim)`` builds the dense ``(n, n)`` matrix (for callers that need it).
    Memory per block: ``block x`` (ancestor terms in use) float64.
    """

    def __init__(self, term_ids: Sequence[str | None], ontology, ic: np.ndarray, *, block: int = 256):
        n = len(term_ids)
        onto_row = ontology_rows(term_ids, ontology)
        self.known = onto_row >= 0
        self.shape = (n, n)
        self.dtype = np.dtype(np.float32)
        self.block = int(block)
        uniq, inv = np.unique(onto_row[self.known], return_inverse=True)
        self.term_index = np.full(n, -1, np.int64)
        self.term_index[self.known] = inv
        self.n_unique = len(uniq)
        anc = ontology.ancestor_matrix()[uniq].tocsr()          # (m, n_terms), self included
        used = np.unique(anc.indices)                            # ancestor terms in use
        self._anc = anc[:, used].tocsr()                         # (m, n_used)
        self._anc.sort_indices()
        self._w = (self._anc @ sp.diags(np.asarray(ic, np.float64)[used])).tocsr()
        self._tot = np.asarray(self._w.sum(1)).ravel()

    def __len__(self) -> int:
        return self.shape[0]

    def unique_rows(self, idx) -> np.ndarray:
        """simGIC of terms ``idx`` against the distinct known terms, ``(len(idx), n_unique)`` float64
        (zero rows for unknown terms)."""
        idx = np.asarray(idx, np.int64).ravel()
        out = np.zeros((len(idx), self.n_unique))
        u = self.term_index[idx]
        sel = np.flatnonzero(u >= 0)
        if len(sel) and self.n_unique:
            w = self._w[u[sel]].toarray()                                    # (k, n_used)
            inter = np.ascontiguousarray((self._anc @ w.T).T)                # (k, m): sparse x dense
            union = self._tot[u[sel]][:, None] + self._tot[None, :] - inter
            out[sel] = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        return out

    def rows(self, idx) -> np.ndarray:
        """simGIC of terms ``idx`` against all ``n`` terms, ``(len(idx), n)`` float32."""
        u = self.unique_rows(idx)
        out = np.zeros((u.shape[0], self.shape[1]), np.float32)
        out[:, self.known] = u[:, self.term_index[self.known]]
        return out

    def __getitem__(self, key):
        """``sim[rows, cols]`` as a rows x columns block (``np.ix_`` style), ``sim[rows]`` rows."""
        r, c = key if isinstance(key, tuple) and len(key) == 2 else (key, slice(None))
        r = np.arange(self.shape[0])[r] if isinstance(r, (slice, int, np.integer)) else np.asarray(r)
        block = self.rows(np.atleast_1d(r).ravel())
        return block[:, c if isinstance(c, slice) else np.asarray(c).ravel()]

    def _blocks(self):
        for b in range(0, self.shape[0], self.block):
            yield b, np.arange(b, min(b + self.block, self.shape[0]))

    def __matmul__(self, x):
        x = x.tocsr() if sp.issparse(x) else np.asarray(x)  # sparse x stays sparse (n x k one-hots)
        out = np.zeros((self.shape[0],) + x.shape[1:], np.result_type(np.float32, x.dtype))
        for b, idx in self._blocks():
            blk = self.rows(idx) @ x
            out[b:b + len(idx)] = blk.toarray() if sp.issparse(blk) else blk
        return out

    def __array__(self, dtype=None, copy=None):
        dense = np.zeros(self.shape, np.float32)
        for b, idx in self._blocks():
            dense[b:b + len(idx)] = self.rows(idx)
        return dense if dtype is None else dense.astype(dtype, copy=False)


def go_similarity_for(terms: Sequence[str], namespace: str = "auto", *, max_dense: int | None = 5000
                      ) -> tuple[np.ndarray | SimGIC, np.ndarray] | None:
    """simGIC for result terms that carry GO ids (built-in GO + human annotation for IC).

    Returns ``(sim, known)``: ``sim`` the dense ``(n, n)`` float32 matrix when ``n <= max_dense``
    (or ``max_dense`` is ``None``), else a lazy :class:`SimGIC` (never ``n x n`` in memory unless
    converted); ``None`` when fewer than half of ``terms`` carry a GO id (not a GO result) or the
    built-in ontology is unavailable. IC comes from the built-in ``namespace`` library; ``"auto"``:
    GO_BP for BP terms (whose ancestors are all BP), all three namespaces otherwise (MF and CC terms
    have ancestors in other namespaces; the three libraries share one gene vocabulary).
    """
    found = _go_ids_with_ic(terms, namespace)
    if found is None:
        return None
    ids, onto, ic = found
    if max_dense is not None and len(ids) > max_dense:
        sim = SimGIC(ids, onto, ic)
        return sim, sim.known.copy()
    return simgic(ids, onto, ic)


def ic_ancestor_vectors(terms: Sequence[str], namespace: str = "auto",
                        relations: Sequence[str] | None = None) -> tuple[sp.csr_matrix, np.ndarray] | None:
    """Sparse ``(n, n_terms)`` rows with ``sqrt(IC(t))`` for every ancestor ``t`` of each result
    term (self included, through ``relations``, default is_a / part_of; zero rows for terms without
    a known GO id): the cosine of two rows is ``sum IC(common ancestors) / sqrt(sum IC(ancestors A) *
    sum IC(ancestors B))``, the Ochiai form of simGIC, usable as a feature block. ``(rows, known)``;
    ``None`` as :func:`go_similarity_for`."""
    found = _go_ids_with_ic(terms, namespace)
    if found is None:
        return None
    ids, onto, ic = found
    rows = ontology_rows(ids, onto)
    known = rows >= 0
    # unknown terms take row 0 and are zeroed by the known mask
    anc = onto.ancestor_matrix(relations)
    out = sp.diags(known.astype(np.float32)) @ anc[np.maximum(rows, 0)] @ sp.diags(np.sqrt(ic))
    out = sp.csr_matrix(out, dtype=np.float32)
    out.eliminate_zeros()
    return out, known


def _go_ids_with_ic(terms: Sequence[str], namespace: str):
    """``(GO ids of terms, built-in GO, IC per GO term)``; ``None`` for a non-GO result or without
    the built-in ontology / annotation (the GO measures are optional)."""
    ids = [extract_go_id(t) for t in terms]
    if not is_go_result(ids):
        return None
    try:
        onto = load_ontology("GO")
        if namespace == "auto":  # MF terms have BP ancestors (part_of): they need every namespace's IC
            spaces = {onto.namespaces[r] for r in ontology_rows(ids, onto) if r >= 0}
            namespace = "GO_BP" if spaces <= {"biological_process"} else "GO"
        key = (id(onto), len(onto), namespace)
        if key in _IC:
            return ids, onto, _IC[key]
        lib = load_library(namespace, min_size=1, max_size=None)
    except Exception:  # noqa: BLE001 - a missing data carrier only removes these optional measures
        return None
    return ids, onto, _ic_cached(onto, lib, namespace)



_IC: dict = {}


def _ic_cached(onto, lib, namespace: str) -> np.ndarray:
    key = (id(onto), len(onto), namespace)
    if key not in _IC:
        _IC.clear()
        _IC[key] = information_content(onto, lib)
    return _IC[key]


#: Wang et al. (2007) semantic contribution factors per relation
WANG_WEIGHTS = {"is_a": 0.8, "part_of": 0.6}


def wang_s_values(term_ids: Sequence[str | None], ontology, weights: dict[str, float] | None = None
                  ) -> tuple[sp.csr_matrix, np.ndarray]:
    """Wang's S-values: row ``i`` holds ``S_A(t)`` for term ``A = term_ids[i]`` over every ontology
    term ``t`` (``S_A(A) = 1``; ``S_A(t) = max`` over children ``c`` of ``t`` in ``A``'s ancestor
    graph of ``w(t, c) * S_A(c)``). Returns ``(S (n, n_terms) float64 CSR, known (n,) bool)``."""
    weights = dict(WANG_WEIGHTS if weights is None else weights)
    parents = sp.csr_matrix((len(ontology), len(ontology)))  # [child, parent] = edge weight (best relation)
    for rel, w in weights.items():
        if rel in ontology.edges:
            parents = parents.maximum(ontology.parent_matrix([rel]) * float(w))
    parents = parents.tocsr()
    rows = ontology_rows(term_ids, ontology)
    memo: dict[int, dict[int, float]] = {}
    indptr, indices, data = [0], [], []
    for r in rows.tolist():
        if r < 0:
            indptr.append(len(indices))
            continue
        if r not in memo:
            memo[r] = _wang_contributions(r, parents)
        sv = memo[r]
        indices.extend(sv)
        data.extend(sv.values())
        indptr.append(len(indices))
    m = sp.csr_matrix((np.asarray(data, np.float64), np.asarray(indices, np.int64), np.asarray(indptr)),
                      shape=(len(rows), len(ontology)))
    m.sort_indices()
    return m, rows >= 0


def _wang_contributions(start: int, parents: sp.csr_matrix) -> dict[int, float]:
    # max-product path from the term up to each ancestor: with weights <= 1 the largest value
    # popped first is final (Dijkstra on -log w)
    best = {start: 1.0}
    heap = [(-1.0, start)]
    done: set[int] = set()
    while heap:
        neg, t = heapq.heappop(heap)
        if t in done:
            continue
        done.add(t)
        lo, hi = parents.indptr[t], parents.indptr[t + 1]
        for q, w in zip(parents.indices[lo:hi].tolist(), parents.data[lo:hi].tolist()):
            v = -neg * w
            if v > best.get(q, 0.0):
                best[q] = v
                heapq.heappush(heap, (-v, q))
    return best


def wang_similarity(term_ids: Sequence[str | None], ontology, weights: dict[str, float] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Wang's graph-based similarity between all pairs of ``term_ids``:
    ``sim(A, B) = sum over shared ancestors t of (S_A(t) + S_B(t)) / (SV(A) + SV(B))``.

    Returns ``(sim, known)`` like :func:`simgic`: ``sim`` ``(n, n)`` float32 in ``[0, 1]`` (0 for
    pairs with an unknown term, 1 on the diagonal of known terms), ``known`` ``(n,)`` bool.
    """
    s, known = wang_s_values(term_ids, ontology, weights)
    return wang_block(s, s).astype(np.float32), known


def wang_block(s_a: sp.csr_matrix, s_b: sp.csr_matrix) -> np.ndarray:
    """Wang's similarity between the terms of two S-value matrices (rows of
    :func:`wang_s_values`), ``(n_a, n_b)`` float64; 0 where a row is empty (unknown term)."""
    m_a, m_b = s_a.copy(), s_b.copy()
    m_a.data[:] = 1.0
    m_b.data[:] = 1.0
    # shared ancestors t of A and B: S_A(t) summed over B's ancestors, plus S_B(t) over A's
    num = (s_a @ m_b.T).toarray() + (m_a @ s_b.T).toarray()
    den = np.asarray(s_a.sum(1)).ravel()[:, None] + np.asarray(s_b.sum(1)).ravel()[None, :]
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def mica_ic(term_ids: Sequence[str | None], ontology, ic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """IC of the most informative common ancestor (MICA, self included) of every pair of
    ``term_ids``: ``(mica (n, n) float64, known (n,) bool)``; 0 for pairs with an unknown term.
    Ancestors are visited from the most informative down, each setting the pairs it covers first,
    so the cost is the sum over ancestors in use of (terms under it)^2."""
    n = len(term_ids)
    rows = ontology_rows(term_ids, ontology)
    known = rows >= 0
    out = np.zeros((n, n), np.float64)
    if not known.any():
        return out, known
    idx = np.flatnonzero(known)
    anc = ontology.ancestor_matrix()[rows[known]].tocsc()  # (n_known, n_terms)
    used = np.flatnonzero(np.diff(anc.indptr))
    unset = np.ones((len(idx), len(idx)), bool)
    block = np.zeros((len(idx), len(idx)), np.float64)
    for t in used[np.argsort(-ic[used], kind="stable")]:
        under = anc.indices[anc.indptr[t]:anc.indptr[t + 1]]
        sub = np.ix_(under, under)
        fresh = unset[sub]
        if fresh.any():
            block[sub] = np.where(fresh, ic[t], block[sub])
            unset[sub] = False
    out[np.ix_(idx, idx)] = block
    return out, known


def lin_rel_similarity(term_ids: Sequence[str | None], ontology, ic: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lin's (1998) and Schlicker's relevance (2006) similarity between all pairs of ``term_ids``:
    ``lin = 2 IC(MICA) / (IC(A) + IC(B))``, ``rel = lin * (1 - p(MICA))`` with ``p = exp(-IC)``
    (the MICA's annotation frequency). ``(lin, rel, known)``: ``(n, n)`` float64 in ``[0, 1]`` (0 for
    pairs with an unknown term or two root-level terms), ``known`` ``(n,)`` bool."""
    mica, known = mica_ic(term_ids, ontology, ic)
    own = np.zeros(len(term_ids), np.float64)
    rows = ontology_rows(term_ids, ontology)
    own[known] = ic[rows[known]]
    den = own[:, None] + own[None, :]
    lin = np.divide(2.0 * mica, den, out=np.zeros_like(mica), where=den > 0)
    lin[~known] = 0.0
    lin[:, ~known] = 0.0
    return lin, lin * (1.0 - np.exp(-mica)), known


def lin_rel_for(terms: Sequence[str], namespace: str = "auto") -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`lin_rel_similarity` for result terms that carry GO ids, with the built-in ontology and
    the IC of :func:`go_similarity_for`; ``None`` as there (not a GO result, no data carrier)."""
    found = _go_ids_with_ic(terms, namespace)
    return None if found is None else lin_rel_similarity(*found)
