"""The Reactome pathway hierarchy, recovered from gene-set containment, as a feature view.

Reactome's GMT gives each parent pathway the union of its sub-events' genes, so ``B`` is an
ancestor of ``A`` when ``genes(A)`` is a subset of ``genes(B)`` and ``B`` is larger
(:func:`build_hierarchy`; exact containment, so sets that contain another by chance count too).
The package ships that hierarchy for ReactomePathways_2024-09-18.gmt (names, R-HSA ids, set sizes
and ancestor rows, no gene lists; ``assets/reactome/hierarchy.json.gz``, made by
scripts/make_reactome_hierarchy.py). :func:`reactome_rows` matches result pathways to it (R-HSA
id, else a punctuation-free name key); :func:`reactome_ancestor_vectors` is the Reactome analogue
of :func:`contrastomics.evaluate.semantic.ic_ancestor_vectors` (IC-weighted ancestor rows).
"""
from __future__ import annotations

import functools
import gzip
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from .genesets import humanize_term, unique_key_index

#: the shipped hierarchy (see the module docstring)
HIERARCHY_FILE = Path(__file__).resolve().parents[1] / "assets" / "reactome" / "hierarchy.json.gz"
#: how the information content of a pathway is measured (:func:`information_content`)
IC_KINDS = ("size", "below")
#: the IC used by :func:`reactome_ancestor_vectors` unless told (chosen on development results,
#: benchmarks/decisions/cluster.md)
DEFAULT_IC = "below"
#: a result is a Reactome result when at least this share of its pathways match the hierarchy
MIN_MATCHED = 0.5

_RHSA = re.compile(r"R-HSA-(\d+)", re.IGNORECASE)
_TRAILING_ID = re.compile(r"[\s_:;,-]*\(?\s*R-HSA-\d+(\.\d+)?\s*\)?\s*$", re.IGNORECASE)
_SPECIES = re.compile(r"^\s*homo[ _]sapiens\s*:\s*", re.IGNORECASE)
_REACTOME = re.compile(r"^\s*reactome[_:\s]+", re.IGNORECASE)
#: set names of other libraries, which never name a Reactome pathway even when the words agree
_OTHER_LIBRARY = re.compile(r"^(HALLMARK|KEGG|BIOCARTA|PID|WP|GOBP|GOMF|GOCC|GO|HP|WIKIPATHWAYS|KEGG_MEDICUS)_"
                            r"|GO:\d{7}")
_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "κ": "kappa", "λ": "lambda",
          "μ": "mu", "ω": "omega", "ζ": "zeta", "θ": "theta", "σ": "sigma", "τ": "tau"}


@dataclass(frozen=True)
class ReactomeHierarchy:
    """Reactome pathways (rows) with their ancestors by gene-set containment.

    ``names``, ``ids`` (R-HSA stable ids, no version), ``sizes`` (genes per set) and ``ancestors``
    (row indices of each row's proper ancestors, sorted); ``meta`` records the source;
    ``former_names`` maps the :func:`name_key` of a name other releases use (MSigDB's) to the R-HSA
    id of the pathway it now names."""

    names: tuple
    ids: tuple
    sizes: np.ndarray
    ancestors: tuple
    meta: dict
    former_names: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    @functools.cached_property
    def ancestor_matrix(self) -> sp.csr_matrix:
        """``(n, n)`` 0/1 CSR: row ``i`` marks ``i`` and its ancestors."""
        n = len(self)
        rows = np.repeat(np.arange(n), [len(a) + 1 for a in self.ancestors])
        cols = np.concatenate([np.asarray([i, *a], np.int64) for i, a in enumerate(self.ancestors)]) if n else []
        return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, n))

    @functools.cached_property
    def parents(self) -> tuple:
        """Direct parents of each row: its ancestors that are no ancestor of another of its ancestors."""
        anc = [set(a) for a in self.ancestors]
        return tuple(tuple(sorted(set(a) - set().union(*(anc[b] for b in a)))) if a else () for a in self.ancestors)

    def related(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``(len(a),)`` bool: row ``b[i]`` is an ancestor, descendant or sibling (a shared direct
        parent) of row ``a[i]``, or the same row."""
        anc, par = self.ancestors, self.parents
        return np.array([x == y or y in anc[x] or x in anc[y] or bool(set(par[x]) & set(par[y]))
                         for x, y in zip(np.asarray(a).tolist(), np.asarray(b).tolist())], bool)

    @functools.cached_property
    def n_below(self) -> np.ndarray:
        """Pathways at or below each row (itself and every row it is an ancestor of)."""
        return np.asarray(self.ancestor_matrix.sum(0)).ravel().astype(np.int64)

    @functools.cached_property
    def by_id(self) -> dict[str, int]:
        return {i: r for r, i in enumerate(self.ids) if i}

    @functools.cached_property
    def by_key(self) -> dict[str, int]:
        """:func:`name_key` -> row, for keys that name one row only; then :attr:`former_names`
        whose key names no row."""
        out = unique_key_index(self.names, name_key)
        for key, rid in self.former_names.items():
            if key not in out and rid in self.by_id:
                out[key] = self.by_id[rid]
        return out

    def top_level(self) -> list[str]:
        """Names of the rows without an ancestor."""
        return [nm for nm, a in zip(self.names, self.ancestors) if not a]


def build_hierarchy(names: Sequence[str], ids: Sequence[str], gene_sets: Sequence[Sequence[str]],
                    meta: dict | None = None) -> ReactomeHierarchy:
    """The hierarchy of the sets by exact containment: ``B`` is an ancestor of ``A`` when every gene
    of ``A`` is in ``B`` and ``B`` has more genes (identical sets are not each other's ancestors)."""
    sets = [sorted({str(g).strip().upper() for g in s if str(g).strip()}) for s in gene_sets]
    vocab = {g: j for j, g in enumerate(sorted({g for s in sets for g in s}))}
    indptr = np.cumsum([0] + [len(s) for s in sets])
    cols = np.asarray([vocab[g] for s in sets for g in s], np.int64)
    m = sp.csr_matrix((np.ones(len(cols), np.int32), cols, indptr), shape=(len(sets), len(vocab)))
    sizes = np.diff(m.indptr).astype(np.int64)
    inter = (m @ m.T).tocoo()
    ok = (inter.data == sizes[inter.row]) & (sizes[inter.col] > sizes[inter.row]) & (sizes[inter.row] > 0)
    anc: list[list[int]] = [[] for _ in sets]
    for a, b in zip(inter.row[ok].tolist(), inter.col[ok].tolist()):
        anc[a].append(b)
    return ReactomeHierarchy(tuple(map(str, names)), tuple(_stable_id(str(i)) for i in ids), sizes,
                             tuple(tuple(sorted(a)) for a in anc), dict(meta or {}))


def former_names(h: ReactomeHierarchy, names: Sequence[str], ids: Sequence[str]) -> dict[str, str]:
    """``{name_key: R-HSA id}`` for the ``names`` (another release's, e.g. MSigDB's REACTOME_ sets)
    that match no pathway of ``h`` by :func:`name_key` while their stable id (``ids``) is in it:
    pathways Reactome renamed since ("The citric acid (TCA) cycle and respiratory electron
    transport" is "Aerobic respiration and respiratory electron transport" in 2024)."""
    taken = {name_key(n) for n in h.names}  # ambiguous keys included: an id must not settle them
    out = {}
    for nm, rid in zip(names, ids):
        key, rid = name_key(humanize_term(_REACTOME.sub("", str(nm)))), _stable_id(str(rid))
        if key and rid in h.by_id and key not in taken and name_key(nm) not in taken:
            out[key] = rid
    return out


def _stable_id(text: str) -> str:
    m = _RHSA.search(text or "")
    return f"R-HSA-{m.group(1)}" if m else ""


def hierarchy_to_json(h: ReactomeHierarchy) -> dict:
    """The JSON form of the shipped asset (no gene lists)."""
    return {"meta": h.meta, "names": list(h.names), "ids": list(h.ids), "sizes": [int(s) for s in h.sizes],
            "ancestors": [list(a) for a in h.ancestors], "former_names": dict(sorted(h.former_names.items()))}


def write_hierarchy(h: ReactomeHierarchy, path: str | Path) -> None:
    """Write ``h`` as gzipped JSON, byte-identical for the same hierarchy (no time stamp)."""
    raw = json.dumps(hierarchy_to_json(h), separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()
    with open(path, "wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz:
        gz.write(raw)


def read_hierarchy(path: str | Path) -> ReactomeHierarchy:
    """A hierarchy written by :func:`write_hierarchy`."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        d = json.load(fh)
    return ReactomeHierarchy(tuple(d["names"]), tuple(d["ids"]), np.asarray(d["sizes"], np.int64),
                             tuple(tuple(a) for a in d["ancestors"]), d.get("meta", {}), d.get("former_names", {}))


@functools.lru_cache(maxsize=1)
def load_hierarchy() -> ReactomeHierarchy | None:
    """The shipped hierarchy (cached); ``None`` when the asset is missing."""
    return read_hierarchy(HIERARCHY_FILE) if HIERARCHY_FILE.is_file() else None


# ---------------------------------------------------------------------- matching
def name_key(name: str) -> str:
    """A name without case, punctuation, spaces, a ``REACTOME_`` / ``Homo sapiens:`` prefix or a
    trailing R-HSA id; ``+`` read as ``plus`` and Greek letters spelled out (as MSigDB writes them)."""
    s = _TRAILING_ID.sub("", _SPECIES.sub("", _REACTOME.sub("", str(name or ""))))
    for ch, word in _GREEK.items():
        if ch in s:
            s = s.replace(ch, word)
    s = s.replace("+", "plus").lower().encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^0-9a-z]+", "", s)


def reactome_rows(terms: Sequence[str], names: Sequence[str] | None = None,
                  hierarchy: ReactomeHierarchy | None = None) -> np.ndarray:
    """Hierarchy row of each result pathway, ``-1`` when none: an R-HSA id in the term or name
    (Enrichr "Cell Cycle Checkpoints R-HSA-69620", GMT ids), else the :func:`name_key` of the term,
    the name, or their humanised forms (MSigDB ``REACTOME_...``, ``Homo sapiens: ...`` of
    reactome.db / fgsea). Set names of other libraries (``KEGG_...``, GO ids) match nothing."""
    h = load_hierarchy() if hierarchy is None else hierarchy
    if h is not None and h is load_hierarchy():
        # one run asks for the same result's rows several times (view, themes, labels): match once
        return _shipped_rows(tuple(terms), None if names is None else tuple(names)).copy()
    return _match_rows(terms, names, h)


@functools.lru_cache(maxsize=4)
def _shipped_rows(terms: tuple, names: tuple | None) -> np.ndarray:
    return _match_rows(terms, names, load_hierarchy())


def other_library(term: str) -> bool:
    """``term`` carries another library's mark (an MSigDB prefix such as ``KEGG_`` or ``GOBP_``, a GO
    id): it never names a Reactome pathway."""
    return bool(_OTHER_LIBRARY.search(str(term or "")))


def _match_rows(terms: Sequence[str], names: Sequence[str] | None, h: ReactomeHierarchy | None) -> np.ndarray:
    names = [""] * len(terms) if names is None else list(names)
    out = np.full(len(terms), -1, np.int64)
    if h is None:
        return out
    for k, (t, nm) in enumerate(zip(terms, names)):
        t, nm = str(t or ""), str(nm or "")
        if other_library(t):
            continue
        r = next((h.by_id.get(_stable_id(x)) for x in (t, nm) if _stable_id(x) in h.by_id), None)
        if r is None:
            for x in (t, nm):
                keys = (name_key(x), name_key(humanize_term(_REACTOME.sub("", x)))) if x else ()
                r = next((h.by_key[key] for key in keys if key in h.by_key), None)
                if r is not None:
                    break
        out[k] = -1 if r is None else r
    return out


# ---------------------------------------------------------------------- vectors
def information_content(h: ReactomeHierarchy, kind: str = DEFAULT_IC) -> np.ndarray:
    """IC of every row: ``"size"``: ``-log(size / size of the largest pathway)``; ``"below"``:
    ``-log(share of the pathways at or below it)``. Larger, more general pathways carry less."""
    if kind == "size":
        sizes = np.maximum(h.sizes.astype(np.float64), 1.0)
        return -np.log(sizes / sizes.max())
    if kind == "below":
        return -np.log(h.n_below.astype(np.float64) / max(len(h), 1))
    raise ValueError(f"unknown IC kind {kind!r}; use one of {IC_KINDS}")


def result_rows(terms: Sequence[str], names: Sequence[str] | None = None,
                hierarchy: ReactomeHierarchy | None = None) -> np.ndarray | None:
    """:func:`reactome_rows` of a result, or ``None`` when it is no Reactome result (fewer than
    :data:`MIN_MATCHED` of its pathways match) or the hierarchy is missing."""
    h = load_hierarchy() if hierarchy is None else hierarchy
    if h is None or not len(terms):
        return None
    rows = reactome_rows(terms, names, h)
    return rows if (rows >= 0).sum() >= MIN_MATCHED * len(terms) else None


def reactome_ancestor_vectors(terms: Sequence[str], names: Sequence[str] | None = None, *,
                              ic: str | None = None, hierarchy: ReactomeHierarchy | None = None
                              ) -> tuple[sp.csr_matrix, np.ndarray] | None:
    """Sparse ``(n, n_reactome)`` rows with ``sqrt(IC(t))`` for every ancestor ``t`` of each
    pathway (self included; zero rows for pathways not matched): the cosine of two rows is
    ``sum IC(common ancestors) / sqrt(sum IC(ancestors A) * sum IC(ancestors B))``, as
    ``ic_ancestor_vectors`` for GO. ``(rows, known)``; ``None`` when fewer than half of the
    pathways match (not a Reactome result) or without the hierarchy."""
    h = load_hierarchy() if hierarchy is None else hierarchy
    rows = result_rows(terms, names, h)
    if rows is None:
        return None
    known = rows >= 0
    weight = np.sqrt(np.maximum(information_content(h, ic or DEFAULT_IC), 0.0)).astype(np.float32)
    out = sp.diags(known.astype(np.float32)) @ h.ancestor_matrix[np.maximum(rows, 0)] @ sp.diags(weight)
    out = sp.csr_matrix(out, dtype=np.float32)
    out.eliminate_zeros()
    return out, known


def ic_weighted_ochiai(a: int, b: int, h: ReactomeHierarchy, kind: str = DEFAULT_IC) -> float:
    """The view's similarity of hierarchy rows ``a`` and ``b`` from the ancestor sets (reference)."""
    ic = information_content(h, kind)
    sa, sb = {a, *h.ancestors[a]}, {b, *h.ancestors[b]}
    den = math.sqrt(sum(ic[t] for t in sa) * sum(ic[t] for t in sb))
    return float(sum(ic[t] for t in sa & sb) / den) if den > 0 else 0.0


def top_level_themes(terms: Sequence[str], names: Sequence[str] | None, labels: np.ndarray) -> dict[int, dict]:
    """The Reactome top-level pathway above most members of each cluster of a Reactome result (the
    analogue of a GO slim theme; ties: the smaller top level): ``{cluster: {"theme", "theme_id",
    "theme_support"}}``, support = share of all the cluster's members under it. ``{}`` when fewer
    than half of the pathways match the hierarchy; clusters with no matched member are left out."""
    h = load_hierarchy()
    labels = np.asarray(labels)
    rows = reactome_rows(terms, names, h) if h is not None else np.full(len(labels), -1)
    if h is None or (rows >= 0).sum() < max(2, MIN_MATCHED * len(rows)):
        return {}
    tops = np.flatnonzero([not a for a in h.ancestors])
    under = np.zeros((len(rows), len(tops)), bool)  # member i lies under top level j
    known = rows >= 0
    under[known] = h.ancestor_matrix[rows[known]][:, tops].toarray() > 0
    out = {}
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        counts = under[idx].sum(0)
        if counts.max(initial=0) == 0:
            continue
        best = max(range(len(tops)), key=lambda j: (counts[j], -h.sizes[tops[j]]))
        out[int(c)] = {"theme": h.names[tops[best]], "theme_id": f"R-HSA-{h.ids[tops[best]]}" if h.ids[tops[best]] else "",
                       "theme_support": float(counts[best] / len(idx))}
    return out
