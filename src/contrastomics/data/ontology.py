"""Ontologies: the :class:`Ontology` term graph, its OBO reader and the GO-id helpers.

:func:`read_obo` parses an OBO 1.2/1.4 file (plain or gzip) into an :class:`Ontology` whose
parents, ancestors and descendants are sparse matrices over the terms (the ancestor closure is
computed once and cached). Decisions (relations followed, missing parents, cycles, obsolete terms):
``docs/data.md`` (Ontologies). Gene annotations and propagation: :mod:`.annotations`.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from .._io import open_text
from ..errors import InputError

DEFAULT_RELATIONS = ("is_a", "part_of")
#: the relations GO's slim mapping (OWLTools Map2Slim) walks: is_a, part_of and the regulates family
MAP2SLIM_RELATIONS = ("is_a", "part_of", "regulates", "positively_regulates", "negatively_regulates")

#: Short namespace aliases accepted wherever a namespace is asked for.
NAMESPACE_ALIASES = {
    "BP": "biological_process", "GO_BP": "biological_process", "P": "biological_process",
    "MF": "molecular_function", "GO_MF": "molecular_function", "F": "molecular_function",
    "CC": "cellular_component", "GO_CC": "cellular_component", "C": "cellular_component",
}
_DEF_RE = re.compile(r'^"((?:[^"\\]++|\\.)*+)"')  # possessive: no backtracking on long definitions


def _strip_value(value: str) -> str:
    """Drop an OBO trailing ``! comment`` and ``{qualifiers}`` from a tag value."""
    value = value.split(" !", 1)[0]
    if "{" in value:
        value = value.split("{", 1)[0]
    return value.strip()


def parse_definition(value: str) -> str:
    """``"text" [refs]`` -> ``text`` (quotes, escapes and cross-references removed)."""
    m = _DEF_RE.match(value.strip())
    text = m.group(1) if m else value.split(" [", 1)[0].strip().strip('"')
    return text.replace('\\"', '"').replace("\\n", " ").replace("\\\\", "\\").strip()


@dataclass
class Ontology:
    """A directed acyclic term graph read from OBO.

    Attributes
    ----------
    ids
        Term ids in file order (``GO:0006915``); row ``i`` of every matrix is ``ids[i]``.
    names, definitions, namespaces
        Per-term text; definitions without quotes and references ("" when absent).
    obsolete
        Boolean array, ``True`` for ``is_obsolete: true`` terms.
    edges
        ``{relation: (child_index, parent_index)}`` integer arrays, one pair per OBO edge.
    alt_ids
        ``{alternative id: primary id}``.
    subsets
        ``{subset: [term ids]}`` (e.g. ``goslim_generic``), from the terms' ``subset:`` lines.
    replaced_by
        ``{obsolete id: [replacement ids]}``.
    relations
        Relations that :meth:`parents`, :meth:`ancestors` and propagation follow by default.
    """

    ids: list[str]
    names: list[str]
    definitions: list[str]
    namespaces: list[str]
    obsolete: np.ndarray
    edges: dict[str, tuple[np.ndarray, np.ndarray]]
    alt_ids: dict[str, str] = field(default_factory=dict)
    replaced_by: dict[str, list[str]] = field(default_factory=dict)
    relations: tuple[str, ...] = DEFAULT_RELATIONS
    name: str = ""
    meta: dict = field(default_factory=dict)
    #: ``{subset name: [term ids]}`` from the ``subset:`` tags (GO slims: ``goslim_generic``...)
    subsets: dict = field(default_factory=dict)

    def __post_init__(self):
        self._index = {t: i for i, t in enumerate(self.ids)}
        self._cache: dict = {}

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, term: str) -> bool:
        return term in self._index or term in self.alt_ids

    def __repr__(self) -> str:
        ns = sorted(set(self.namespaces))
        return f"Ontology(name={self.name!r}, n_terms={len(self)}, namespaces={ns}, relations={self.relations})"

    # ------------------------------------------------------------------ lookup
    def resolve(self, term: str) -> str | None:
        """Primary id of ``term`` (follows ``alt_id``); ``None`` when unknown."""
        if term in self._index:
            return term
        return self.alt_ids.get(term)

    def index(self, term: str) -> int:
        """Row index of ``term`` (primary or alternative id)."""
        t = self.resolve(term)
        if t is None:
            raise KeyError(f"term {term!r} is not in ontology {self.name!r}")
        return self._index[t]

    def term(self, term: str) -> dict:
        """Everything known about one term as a dict."""
        i = self.index(term)
        return {"id": self.ids[i], "name": self.names[i], "definition": self.definitions[i],
                "namespace": self.namespaces[i], "obsolete": bool(self.obsolete[i]),
                "parents": self.parents(self.ids[i])}

    def name_of(self, term: str) -> str:
        return self.names[self.index(term)]

    def terms_in(self, namespace: str | None) -> np.ndarray:
        """Indices of non-obsolete terms of ``namespace`` (all namespaces for ``None``)."""
        keep = ~self.obsolete
        if namespace is not None:
            ns = NAMESPACE_ALIASES.get(namespace, namespace)
            keep &= np.asarray(self.namespaces, dtype=object) == ns
        return np.flatnonzero(keep)

    # ------------------------------------------------------------------ graph
    def followed_relations(self, relations: Sequence[str] | None = None) -> tuple[str, ...]:
        """``relations`` (default: :attr:`relations`) sorted: the key of the cached matrices."""
        return tuple(sorted(self.relations if relations is None else relations))

    def parent_matrix(self, relations: Sequence[str] | None = None) -> sp.csr_matrix:
        """``(n_terms, n_terms)`` CSR with ``[child, parent] = 1`` for the chosen relations."""
        rel = self.followed_relations(relations)
        key = ("parents", rel)
        if key not in self._cache:
            n = len(self)
            rows = [self.edges[r][0] for r in rel if r in self.edges]
            cols = [self.edges[r][1] for r in rel if r in self.edges]
            r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
            c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
            m = sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(n, n))
            m.sum_duplicates()
            m.data[:] = 1.0
            self._cache[key] = m
        return self._cache[key]

    def ancestor_matrix(self, relations: Sequence[str] | None = None, include_self: bool = True) -> sp.csr_matrix:
        """Transitive closure, ``(n_terms, n_terms)`` CSR, ``[i, j] = 1`` when ``j`` is an ancestor
        of ``i`` (or ``i`` itself with ``include_self``). Computed once per relation set by
        repeated sparse squaring (``log2(depth)`` products) and cached."""
        rel = self.followed_relations(relations)
        key = ("closure", rel)
        if key not in self._cache:
            n = len(self)
            reach = (sp.identity(n, dtype=np.float32, format="csr") + self.parent_matrix(rel)).tocsr()
            reach.data[:] = 1.0
            for _ in range(64):
                nxt = reach @ reach
                nxt.data[:] = 1.0
                if nxt.nnz == reach.nnz:
                    break
                reach = nxt
            reach.sort_indices()
            self._cache[key] = reach.tocsr()
        closure = self._cache[key]
        if include_self:
            return closure
        out = (closure - sp.identity(len(self), dtype=np.float32, format="csr")).tocsr()
        out.eliminate_zeros()
        return out

    def ancestor_sets(self, relations: Sequence[str] | None = None) -> list[frozenset[str]]:
        """Ancestor ids (self excluded) of every term, in ``ids`` order."""
        m = self.ancestor_matrix(relations)
        ids = np.asarray(self.ids, dtype=object)
        return [frozenset(ids[m.indices[m.indptr[i]:m.indptr[i + 1]]]) - {self.ids[i]} for i in range(len(self))]

    def parents(self, term: str, relations: Sequence[str] | None = None) -> list[str]:
        """Direct parents of ``term`` through ``relations`` (default: :attr:`relations`)."""
        m = self.parent_matrix(relations)
        i = self.index(term)
        return [self.ids[j] for j in m.indices[m.indptr[i]:m.indptr[i + 1]]]

    def children(self, term: str, relations: Sequence[str] | None = None) -> list[str]:
        """Direct children of ``term``."""
        m = self._csc(("parents_csc", self.followed_relations(relations)), lambda: self.parent_matrix(relations))
        j = self.index(term)
        return [self.ids[i] for i in m.indices[m.indptr[j]:m.indptr[j + 1]]]

    def ancestors(self, term: str, relations: Sequence[str] | None = None, include_self: bool = False) -> set[str]:
        """All ancestors of ``term`` (transitively) through ``relations``."""
        m = self.ancestor_matrix(relations)
        i = self.index(term)
        out = {self.ids[j] for j in m.indices[m.indptr[i]:m.indptr[i + 1]]}
        if not include_self:
            out.discard(self.ids[i])
        return out

    def descendants(self, term: str, relations: Sequence[str] | None = None, include_self: bool = False) -> set[str]:
        """All descendants of ``term`` (transitively) through ``relations``."""
        m = self._csc(("closure_csc", self.followed_relations(relations)), lambda: self.ancestor_matrix(relations))
        j = self.index(term)
        out = {self.ids[i] for i in m.indices[m.indptr[j]:m.indptr[j + 1]]}
        if not include_self:
            out.discard(self.ids[j])
        return out

    def _csc(self, key, make):
        if key not in self._cache:
            self._cache[key] = make().tocsc()
        return self._cache[key]

    def depth(self, relations: Sequence[str] | None = None) -> np.ndarray:
        """Number of ancestors of each term (a cheap specificity proxy), shape ``(n_terms,)``."""
        return np.diff(self.ancestor_matrix(relations, include_self=False).indptr)


# ---------------------------------------------------------------------- OBO
def read_obo(
    path: str | Path,
    *,
    relations: Sequence[str] = DEFAULT_RELATIONS,
    on_missing_parent: str = "warn",
    name: str | None = None,
) -> Ontology:
    """Read an OBO file (plain or gzip, detected from the bytes).

    Parameters
    ----------
    path
        OBO 1.2/1.4 file.
    relations
        Relations followed by :meth:`Ontology.parents` and propagation; ``is_a`` and any
        ``relationship:`` type (``part_of``, ``regulates``...). All edges are stored whatever
        this is; cycles are checked on these relations.
    on_missing_parent
        ``"warn"`` (drop the edge, one warning with the count) or ``"error"``.

    Raises
    ------
    InputError
        Empty file, not an OBO file (no ``[Term]`` stanza), a term without ``id``, a duplicate
        term id, a missing parent (``on_missing_parent="error"``) or a cycle, with file and line.
    """
    if on_missing_parent not in ("warn", "error"):
        raise InputError(f"on_missing_parent must be 'warn' or 'error', not {on_missing_parent!r}")
    path = Path(path)
    ids: list[str] = []
    names: list[str] = []
    defs: list[str] = []
    nss: list[str] = []
    obsolete: list[bool] = []
    term_line: list[int] = []
    alt_ids: dict[str, str] = {}
    replaced_by: dict[str, list[str]] = {}
    raw_edges: list[tuple[int, str, str, int]] = []  # (child index, parent id, relation, line)
    subsets: dict[str, list[str]] = {}
    default_ns = ""
    seen_ids: dict[str, int] = {}

    stanza = None  # None = header, "Term", or another stanza type (ignored)
    cur: dict | None = None
    n_stanzas = 0

    def flush():
        if cur is None:
            return
        if "id" not in cur:
            raise InputError("[Term] stanza without an 'id:' line", path, cur["line"])
        tid = cur["id"]
        if tid in seen_ids:
            raise InputError(f"duplicate term id {tid!r} (first defined on line {seen_ids[tid]})", path, cur["line"])
        seen_ids[tid] = cur["line"]
        i = len(ids)
        ids.append(tid)
        names.append(cur.get("name", ""))
        defs.append(cur.get("def", ""))
        nss.append(cur.get("namespace", default_ns))
        obsolete.append(cur.get("obsolete", False))
        term_line.append(cur["line"])
        for a in cur.get("alt", ()):
            alt_ids[a] = tid
        if cur.get("replaced_by"):
            replaced_by[tid] = cur["replaced_by"]
        for parent, rel, ln in cur.get("edges", ()):
            raw_edges.append((i, parent, rel, ln))
        for sub in cur.get("subsets", ()):
            subsets.setdefault(sub, []).append(tid)

    with open_text(path) as fh:
        first_content = None
        for lineno, raw in enumerate(fh, 1):
            line = raw.strip()
            if not line or line.startswith("!"):
                continue
            if first_content is None:
                first_content = lineno
                if "\x00" in line:
                    raise InputError("not an OBO file (binary content)", path, lineno)
            if line.startswith("["):
                if not line.endswith("]"):
                    raise InputError(f"malformed stanza header {line[:60]!r}", path, lineno)
                flush()
                stanza = line[1:-1].strip()
                n_stanzas += 1
                cur = {"line": lineno} if stanza == "Term" else None
                continue
            tag, sep, value = line.partition(":")
            if not sep:
                if stanza is None and lineno == first_content:
                    raise InputError("not an OBO file: expected 'tag: value' lines and [Term] stanzas, found "
                                     f"{line[:60]!r}", path, lineno)
                raise InputError(f"malformed OBO line (no 'tag:'): {line[:60]!r}", path, lineno)
            tag = tag.strip()
            value = value.strip()
            if stanza is None:
                if tag == "default-namespace":
                    default_ns = value
                continue
            if cur is None:
                continue
            if tag == "id":
                cur["id"] = _strip_value(value)
            elif tag == "name":
                cur["name"] = value
            elif tag == "namespace":
                cur["namespace"] = value
            elif tag == "def":
                cur["def"] = parse_definition(value)
            elif tag == "is_a":
                cur.setdefault("edges", []).append((_strip_value(value), "is_a", lineno))
            elif tag == "relationship":
                parts = _strip_value(value).split()
                if len(parts) < 2:
                    raise InputError(f"malformed relationship line {line[:60]!r}", path, lineno)
                cur.setdefault("edges", []).append((parts[1], parts[0], lineno))
            elif tag == "alt_id":
                cur.setdefault("alt", []).append(_strip_value(value))
            elif tag == "is_obsolete":
                cur["obsolete"] = value.lower().startswith("true")
            elif tag == "replaced_by":
                cur.setdefault("replaced_by", []).append(_strip_value(value))
            elif tag == "subset":
                cur.setdefault("subsets", []).append(_strip_value(value))
        flush()
    if not ids:
        what = "no [Term] stanza" if first_content is not None else "no content"
        raise InputError(f"not an OBO file: {what} found", path, first_content)

    index = {t: i for i, t in enumerate(ids)}
    by_rel: dict[str, tuple[list[int], list[int], list[int]]] = {}
    n_missing, first_missing = 0, None
    for child, parent, rel, ln in raw_edges:
        j = index.get(parent)
        if j is None:
            j = index.get(alt_ids.get(parent, ""))
        if j is None:
            n_missing += 1
            if first_missing is None:
                first_missing = (parent, rel, ln)
            continue
        r = by_rel.setdefault(rel, ([], [], []))
        r[0].append(child)
        r[1].append(j)
        r[2].append(ln)
    if n_missing:
        parent, rel, ln = first_missing
        if on_missing_parent == "error":
            raise InputError(f"{rel} parent {parent!r} is not a term of this file "
                             f"({n_missing} such edge(s) in all)", path, ln)
        warnings.warn(f"{path}: dropped {n_missing} edge(s) to parents that are not terms of the file "
                      f"(first: {rel} {parent!r} on line {ln})", stacklevel=2)
    edges = {rel: (np.asarray(c, np.int64), np.asarray(p, np.int64)) for rel, (c, p, _) in by_rel.items()}
    _check_acyclic(path, ids, by_rel, relations, len(ids))
    onto = Ontology(ids=ids, names=names, definitions=defs, namespaces=nss,
                    obsolete=np.asarray(obsolete, dtype=bool), edges=edges, alt_ids=alt_ids,
                    replaced_by=replaced_by, relations=tuple(relations), name=name or path.name,
                    subsets=subsets)
    onto.meta.update(source=str(path), n_missing_parents=n_missing, term_line=np.asarray(term_line, np.int64))
    return onto


def _check_acyclic(path, ids, by_rel, relations, n):
    from scipy.sparse import csgraph  # only needed here; keeps `import contrastomics` light

    rows, cols, lines = [], [], []
    for rel in relations:
        if rel in by_rel:
            rows += by_rel[rel][0]
            cols += by_rel[rel][1]
            lines += by_rel[rel][2]
    if not rows:
        return
    rows_a, cols_a = np.asarray(rows), np.asarray(cols)
    self_loop = np.flatnonzero(rows_a == cols_a)
    if len(self_loop):
        k = self_loop[0]
        raise InputError(f"cycle in the ontology: {ids[rows_a[k]]} is its own parent", path, lines[k])
    g = sp.csr_matrix((np.ones(len(rows_a)), (rows_a, cols_a)), shape=(n, n))
    n_comp, labels = csgraph.connected_components(g, directed=True, connection="strong")
    if n_comp == n:
        return
    sizes = np.bincount(labels)
    bad = np.flatnonzero(sizes > 1)[0]
    members = np.flatnonzero(labels == bad)
    inside = np.flatnonzero((labels[rows_a] == bad) & (labels[cols_a] == bad))
    shown = ", ".join(ids[i] for i in members[:6]) + (" ..." if len(members) > 6 else "")
    raise InputError(f"cycle in the ontology through {len(members)} terms ({shown}) via "
                     f"{'/'.join(relations)}; an ontology must be acyclic", path, lines[inside[0]])


# ---------------------------------------------------------------------- GO ids
GO_ID = re.compile(r"GO[:_](\d{7})")


def extract_go_id(term: str) -> str | None:
    """``"apoptotic process (GO:0006915)"`` / ``"GO:0006915"`` / ``GO_0006915`` -> ``"GO:0006915"``."""
    m = GO_ID.search(term or "")
    return f"GO:{m.group(1)}" if m else None


#: MSigDB's GO set names: GOBP_/GOCC_/GOMF_ (2022 on) and GO_ (v7); they carry no GO id
MSIGDB_GO = re.compile(r"^GO(BP|CC|MF)?_[A-Z0-9]", re.IGNORECASE)


def is_go_term(term: str) -> bool:
    """``term`` is a GO term: it carries a GO id or is an MSigDB GO set name."""
    return extract_go_id(str(term)) is not None or bool(MSIGDB_GO.match(str(term)))


def is_go_result(ids: Sequence[str | None]) -> bool:
    """A GO result: at least half of its terms (and at least two) carry a GO id
    (``ids`` from :func:`extract_go_id`, ``None`` where a term has none)."""
    return sum(i is not None for i in ids) >= max(2, len(ids) / 2)


#: names that moved to :mod:`.annotations` (old imports and pickled caches still find them here)
_MOVED_TO_ANNOTATIONS = ("Annotations", "read_gaf", "read_gene_term_table", "annotations_to_library")


def __getattr__(name):  # deprecated alias: annotations.py imports this module
    if name in _MOVED_TO_ANNOTATIONS:
        from . import annotations
        return getattr(annotations, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
