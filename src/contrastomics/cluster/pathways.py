"""Standard result tables -> :class:`Pathways`: the significant pathways and their three views.

The reader (:func:`contrastomics.enrichment.read_conditions`) has already standardised and checked
the tables; here they are filtered by FDR, merged over conditions, matched to a gene-set library
(full sets and texts) and turned into gene-membership matrices.
"""
from __future__ import annotations

import functools
import json
import logging
import re
import warnings
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..data.builtin import go_library_for
from ..data.gene_tables import human_symbols_upper, is_human_symbol, other_symbols
from ..data.genesets import GeneSetLibrary, gc_paused, humanize_term, unique_key_index
from ..data.library import is_builtin_name, read_library
from ..data.ontology import MSIGDB_GO, extract_go_id, is_go_result, is_go_term
from ..data.reactome import load_hierarchy, name_key as reactome_name_key, other_library, reactome_rows
from ..enrichment.convert import sign_ties
from ..enrichment.gene_lists import date_hint, first_per_row, lists_from_codes
from ..enrichment.read import read_conditions
from ..errors import InputError

log = logging.getLogger(__name__)


@dataclass
class Pathways:
    """Significant pathways of one (or several merged) results with their three views."""

    table: pd.DataFrame
    leading_edge: list[list[str]]
    full_sets: list[list[str]]
    texts: list[str]
    has_full_sets: np.ndarray
    genes: list[str]
    le_matrix: sp.csr_matrix
    full_matrix: sp.csr_matrix
    conditions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    n_input: int = 0
    #: readable titles (:func:`pathway_title`): what labels and keywords are made of
    titles: list[str] = field(default_factory=list)
    #: the GO id of each pathway where one is known (in its term or name, its built-in GO row, or
    #: its MSigDB name matched to the built-in GO), else its term: what GO measures are given
    go_terms: list[str] = field(default_factory=list)
    #: the file(s) the results were read from (error messages); empty for data frames
    source: str | None = None


def _significant(df: pd.DataFrame, fdr_cutoff: float, where: str) -> pd.DataFrame:
    nes = pd.to_numeric(df["nes"], errors="coerce").to_numpy(float)
    n_nan, n_inf = int(np.isnan(nes).sum()), int(np.isinf(nes).sum())
    if df.attrs.get("kind") == "ora":
        # over-representation (Enrichr, enrichGO, fora): no NES, every pathway is "up"
        pass
    elif n_nan + n_inf == len(df):
        raise InputError(f"{where}: every NES is missing (NaN) or infinite; for an over-representation table "
                         "(no NES) read it with contrastomics.read_gsea_result or pass the file itself")
    elif n_nan + n_inf:  # an infinite NES is no direction or rank either: never counted as up or down
        what = " or ".join(t for t, n in (("a missing (NaN)", n_nan), ("an infinite (inf, -inf)", n_inf)) if n)
        warnings.warn(f"{where}: {n_nan + n_inf} pathway(s) with {what} NES were left out", stacklevel=4)
        df = df[np.isfinite(nes)]
    if df["fdr"].isna().all():
        raise InputError(f"{where}: no FDR / adjusted p-value column has values")
    sig = df[(df["fdr"] < fdr_cutoff) if fdr_cutoff < 1 else df["fdr"].notna()]  # 1 keeps every pathway
    if len(sig) == 0:
        best = float(df["fdr"].min())
        n25 = int((df["fdr"] < 0.25).sum())
        hint = f"; {n25} pathway(s) have FDR < 0.25 (try --fdr 0.25)" if n25 else (
            "; none is significant even at FDR < 0.25 (--fdr 1 would cluster every pathway, signal or not)")
        raise InputError(f"{where}: no pathway passes FDR < {fdr_cutoff:g} (lowest FDR is {best:.3g}){hint}")
    dup = sig["term"].duplicated(keep=False)
    if dup.any():
        n_dup = int(sig["term"].duplicated().sum())
        kept = sig.sort_values("fdr", kind="stable").drop_duplicates("term", keep="first")
        warnings.warn(f"{where}: {n_dup} duplicate pathway name(s) (e.g. {sig.loc[dup, 'term'].iloc[0]!r}); "
                      "kept the row with the lowest FDR for each" + sign_ties(sig, kept.index, ["term"]),
                      stacklevel=4)
        sig = kept
    return sig


def _library(gene_sets, terms: Sequence[str], tables: Mapping[str, pd.DataFrame] | None = None
             ) -> GeneSetLibrary | None:
    """The gene-set library for full sets and texts: given, read by
    :func:`~contrastomics.data.library.read_library`, else the gene sets the results name
    (``attrs["gene_sets"]``: a GSEA desktop run's ``edb/gene_sets.gmt``), else built-in GO when at
    least two terms are GO terms (their rows; a result mixing libraries keeps its other rows'
    leading edges), ``None`` otherwise."""
    if gene_sets is None or (isinstance(gene_sets, str) and gene_sets == "auto"):
        own = list(dict.fromkeys(t.attrs["gene_sets"] for t in (tables or {}).values() if t.attrs.get("gene_sets")))
        if len(own) == 1:
            log.info("full gene sets from %s (the run folder's own gene sets)", own[0])
            return read_library(own[0])
        go = [t for t in terms if is_go_term(t)]
        if len(go) < 2:
            return None
        gene_sets = go_library_for(go)
    if is_builtin_name(gene_sets):
        return _builtin_library(gene_sets.upper().replace("-", "_"))
    return read_library(gene_sets)


@functools.lru_cache(maxsize=2)
def _builtin_library(name: str) -> GeneSetLibrary:
    # built-in libraries are immutable: keep the propagated copy for warm calls (~1 s to rebuild)
    return read_library(name, min_size=1, max_size=None)


#: MSigDB prefixes of libraries other than GO: such a set never takes a built-in GO set by its name
#: ("REACTOME_CELL_CYCLE" is not GO's "cell cycle")
NOT_GO_PREFIX = re.compile(r"^(REACTOME|KEGG|KEGG_MEDICUS|BIOCARTA|PID|WP|WIKIPATHWAYS|HALLMARK|HP)_", re.IGNORECASE)


def _other_library(term: str, library) -> bool:
    """``term`` belongs to a library other than GO: its MSigDB prefix, or the result's ``library``
    column (gseapy's ``Gene_set`` / ``<library>__`` prefix) names no GO library; GO ids, MSigDB GO names
    and libraries named by a number (gseapy's index for a dict) never count."""
    if is_go_term(term):
        return False
    if NOT_GO_PREFIX.match(term):
        return True
    lib = str(library) if isinstance(library, str) and library.strip() else ""
    return bool(lib) and not lib.strip().isdigit() and "go" not in _norm(lib) and "ontology" not in lib.lower()


def _match_library(lib, terms: Sequence[str], names: Sequence[str], libraries: Sequence | None = None) -> np.ndarray:
    """Row of ``lib`` for each pathway (-1 when absent): by term id, GO id, then name (for the
    built-in GO, not the names of other libraries' sets: :func:`_other_library`)."""
    if lib is None:
        return np.full(len(terms), -1)
    builtin_go = str(getattr(lib, "meta", {}).get("builtin", "")).startswith("GO")
    libraries = [None] * len(terms) if libraries is None else list(libraries)
    by_term = {t: i for i, t in enumerate(lib.terms)}
    by_upper: dict | None = None
    by_name: dict | None = None
    by_key: dict | None = None
    out = np.full(len(terms), -1)
    for k, (t, nm) in enumerate(zip(terms, names)):
        i = by_term.get(t)
        if i is not None:
            out[k] = i
            continue
        if builtin_go and _other_library(t, libraries[k]):
            continue
        # the fallbacks build their look-ups only when a term id misses
        if by_upper is None:
            by_upper = {t2.upper(): j for j, t2 in enumerate(lib.terms)}
        i = by_upper.get(t.upper())
        if i is None:
            go = extract_go_id(t) or extract_go_id(nm)
            i = by_term.get(go) if go else None
        if i is None:
            if by_name is None:
                by_name = {}
                for j, nm2 in enumerate(lib.names):
                    by_name.setdefault(nm2.lower(), j)
            ht = humanize_term(t.upper() if MSIGDB_GO.match(t) else t)  # "gobp_dna_repair" too
            i = by_name.get(nm.lower(), by_name.get(ht.lower()))
        if i is None:  # MSigDB spelling: "GOBP_2FE_2S_CLUSTER_ASSEMBLY", "GOMF_NADPLUS_..."; Enrichr's
            if by_key is None:  # "E2F Targets" against MSigDB's HALLMARK_E2F_TARGETS (its humanised term)
                by_key = {**_name_keys([humanize_term(x) for x in lib.terms]), **_name_keys(lib.names)}
            keys = (_name_key(nm), _name_key(ht))
            i = by_key.get(keys[0], by_key.get(keys[1]))
            if i is None:  # a newer GO name of a built-in term (GO_ALIASES)
                aliases = go_name_aliases()
                i = by_term.get(aliases.get(keys[0], aliases.get(keys[1], "")))
        out[k] = -1 if i is None else i
    return out


@functools.lru_cache(maxsize=1)
def go_name_aliases() -> dict[str, str]:
    """:func:`_name_key` of a GO name of a newer release -> its GO id, for names the built-in GO
    (2019) spells otherwise ("mitotic spindle checkpoint signaling": GO:0071174); shipped in
    ``assets/go/name_aliases.json`` (made by ``scripts/make_go_aliases.py``)."""
    path = Path(__file__).resolve().parents[1] / "assets" / "go" / "name_aliases.json"
    try:
        return json.loads(path.read_text())["aliases"]
    except (OSError, ValueError, KeyError):
        return {}


def _name_key(name: str) -> str:
    """A name without case, punctuation or spaces, ``+`` read as ``plus`` (MSigDB's way of writing
    GO names in set names)."""
    return _norm(name.replace("+", "plus"))


def _name_keys(names: Sequence[str]) -> dict[str, int]:
    """:func:`_name_key` -> row, for keys that name one row only (an ambiguous key matches nothing)."""
    return unique_key_index(names, _name_key)


def _norm(s: str, _drop=bytes(c for c in range(128) if not (48 <= c <= 57 or 97 <= c <= 122))) -> str:
    # = re.sub(r"[^0-9a-z]+", "", s.lower()): non-ASCII dropped by the encoding, the rest by translate
    return s.lower().encode("ascii", "ignore").translate(None, _drop).decode("ascii")


#: a GMT's second column that is only an identifier (Reactome's "R-HSA-164843", "GO:0006915",
#: "WP554", "hsa04110", "M5890"): not a text to embed
_BARE_ID = re.compile(r"^[A-Za-z]{0,8}[-_:]?[A-Za-z]{0,4}[-_:]?\d+([._-]\d+)*$")


def _useful_description(lib, row: int) -> str:
    desc = (lib.descriptions[row] or "").strip()
    if not desc or desc.startswith("http") or desc.lower() in ("na", "none") or _BARE_ID.match(desc):
        return ""
    return desc


def _strip_id_suffix(title: str) -> str:
    """Without a trailing id ("(GO:0006915)", Enrichr's "R-HSA-69620", "WP554") and reactome.db's
    "Homo sapiens: " prefix."""
    if title[:1] in "Hh" and _SPECIES_PREFIX.match(title):
        title = _SPECIES_PREFIX.sub("", title)
    if "(" in title:
        title = re.sub(r"\s*\((GO|R-HSA|WP|HP)[:\-_][^)]*\)\s*$", "", title)
    if "R-HSA" in title or "WP" in title:
        title = _BARE_SUFFIX.sub("", title) or title
    return title


_SPECIES_PREFIX = re.compile(r"^homo sapiens:\s*", re.IGNORECASE)
_BARE_SUFFIX = re.compile(r"\s+(R-HSA-\d+(\.\d+)?|WP\d+)$")


def pathway_text(term: str, name: str, lib, row: int) -> str:
    """The text a pathway is embedded by: library title (+ description) for a library row
    (``row >= 0``), else the result's name or the humanised term, without a trailing id."""
    if row >= 0 and lib is not None:
        desc = _useful_description(lib, row)
        if lib.names[row] and lib.names[row] != lib.terms[row]:
            title = lib.names[row]
        elif desc and len(desc) <= 200:
            # a GMT without names (MSigDB, Enrichr): column 2 is the readable title ("Cell Cycle")
            return desc
        else:
            title = humanize_term(term)
        if desc and _norm(desc) != _norm(title):
            return f"{title}. {desc}"
        return title
    return _strip_id_suffix(name if name and name != term else humanize_term(term))


def pathway_title(term: str, name: str, lib, row: int) -> str:
    """The title labels and keywords are made of: the name the result shows (the cluster label is
    one of them), else the library's name, else the humanised term; never a description. An
    MSigDB GO name ("GOBP_T_CELL_RECEPTOR_SIGNALING_PATHWAY") shows its library spelling ("T cell
    receptor signaling pathway", hyphens and case kept) when the two name the same words."""
    lib_name = lib.names[row] if row >= 0 and lib is not None and lib.names[row] != lib.terms[row] else ""
    if name and name != term:
        if lib_name and MSIGDB_GO.match(term) and _name_key(lib_name) == _name_key(name):
            return lib_name
        return _strip_id_suffix(name)
    if lib_name:
        return lib_name
    return _strip_id_suffix(humanize_term(term))


def prepare(result, *, fdr_cutoff: float = 0.05, gene_sets=None, names=None, format=None,
            human_genes: Sequence[str] | None = None) -> Pathways:
    """Read, check and filter a result (or several) and gather every pathway's three views."""
    with gc_paused():  # ~10^5 gene lists are built below; none holds a cycle
        tables = read_conditions(result, names, format)
        n_input = sum(len(t) for t in tables.values())
        sig = {}  # the tables are standard already: the reader (or standard_table) checked them
        for cond, df in tables.items():
            sig[cond] = _significant(df, fdr_cutoff, df.attrs.get("source", cond))
        conds = list(sig)
        if len(conds) == 1:
            table = sig[conds[0]].reset_index(drop=True)
        else:
            table = _merge_conditions(sig, tables)
        table = table.reset_index(drop=True)
        lib = _library(gene_sets, table["term"].tolist(), tables)
        rows = _match_library(lib, table["term"].tolist(), table["name"].tolist(),
                              table["library"].tolist() if "library" in table else None)
        le, le_codes, le_genes = _distinct_in_order(table["genes"].tolist())
        full, full_rows = _library_sets(lib, rows)
        notes = []
        if lib is not None:
            other = np.array([lib.name.upper().startswith("GO") and not is_go_term(t) for t in table["term"]], bool)
            notes += _stand_in_notes(lib.name, rows, np.array([len(g) == 0 for g in le], dtype=bool), other,
                                     table["term"].tolist())
        if lib is None:
            notes.append("no gene-set library for this result (pass --gmt): full sets = leading edges")
        if not any(le) and not any(full):
            where = (f"none of the {len(rows)} pathway names is in the gene-set library {lib.name!r} (e.g. "
                     f"{table['term'].iloc[0]!r}; the library has {lib.terms[0]!r}, ...)" if lib is not None and len(lib)
                     else "none is in a gene-set library")
            raise InputError(f"no pathway has leading-edge genes and {where}; pass the GMT used for the analysis "
                             "with --gmt", _sources(tables))
        notes += _check_genes(le, human_genes, le_genes)
        triples = list(zip(table["term"].tolist(), table["name"].tolist(), rows.tolist()))
        texts = [pathway_text(t, n, lib, r) for t, n, r in triples]
        titles = [pathway_title(t, n, lib, r) for t, n, r in triples]
        go_terms = go_terms_of(table["term"].tolist(), table["name"].tolist(), lib, rows)
        texts = _builtin_go_texts(texts, go_terms, triples, lib)
        titles, texts = _reactome_names(titles, texts, triples, lib)
        le_m, full_m, vocab = _view_memberships(le, le_codes, le_genes, full_rows,
                                                lib.genes if lib is not None else [])
    for n in notes:
        log.info(n)
    return Pathways(table, le, full, texts, rows >= 0, vocab, le_m, full_m, conds if len(conds) > 1 else [], notes,
                    n_input, titles, go_terms, _sources(tables))


def _builtin_go_texts(texts: list[str], go_terms: Sequence[str], triples, lib) -> list[str]:
    """A GO result whose library is not the built-in GO (a GSEA desktop folder's own GMT, ``--gmt``
    with MSigDB's C5 file: names and URLs only) is embedded by the built-in GO texts, name and
    definition, where a pathway's GO id is known; texts of the built-in library stay."""
    if lib is not None and lib.meta.get("builtin"):
        return texts
    ids = [g if extract_go_id(g) == g else None for g in go_terms]
    if not is_go_result(ids):
        return texts
    go = _builtin_library(go_library_for([g for g in ids if g]))
    row = {t: i for i, t in enumerate(go.terms)}
    return [pathway_text(t, n, go, row[g]) if g in row else x for x, g, (t, n, _) in zip(texts, ids, triples)]


def _reactome_names(titles: list[str], texts: list[str], triples, lib) -> tuple[list[str], list[str]]:
    """Reactome's own spelling from the shipped hierarchy as the title of every pathway named by its
    id ("R-HSA-69620") or by the hierarchy's words in another spelling (MSigDB's "Class A 1 Rhodopsin
    like receptors", "FCERI mediated CA 2 mobilization" with its "+" dropped), and as its text too
    when the library does not hold it (or there is none); for a former name (MSigDB's "The citric
    acid TCA cycle and ..."), today's name as text only, when the text is the result's own."""
    bare = {i for i, t in enumerate(titles) if _RHSA_ONLY.match(t)}
    maybe = bare or sum(not other_library(t) for t, _, _ in triples) >= len(triples) / 2  # GO, KEGG...: no
    h = load_hierarchy() if maybe else None
    rows = reactome_rows([t for t, _, _ in triples], [n for _, n, _ in triples], h) if h is not None else None
    if rows is None or (not bare and (rows >= 0).sum() < len(rows) / 2):  # not a Reactome result
        return titles, texts
    titles, texts = list(titles), list(texts)
    for i in np.flatnonzero(rows >= 0):
        r, own, key = int(rows[i]), lib is None or triples[i][2] < 0, reactome_name_key(titles[i])
        if i in bare:
            titles[i] = h.names[r]
            texts[i] = h.names[r] if _RHSA_ONLY.match(texts[i]) else texts[i]
        elif key in (reactome_name_key(h.names[r]), reactome_name_key(h.names[r].replace("+", ""))):
            titles[i] = h.names[r]
            texts[i] = h.names[r] if own else texts[i]
        elif own and h.by_key.get(key) == r:
            texts[i] = h.names[r]  # a former name: the result's title stays, the text is today's name
    return titles, texts


_RHSA_ONLY = re.compile(r"^\s*R-HSA-\d+(\.\d+)?\s*$", re.IGNORECASE)


def go_terms_of(terms: Sequence[str], names: Sequence[str], lib=None, rows=None) -> list[str]:
    """The GO id of each pathway, else its term: from the term or name, else the library row's
    term when it is a GO id, else (MSigDB names such as ``GOBP_APOPTOTIC_PROCESS``, which carry
    none) the built-in GO term of that name (:func:`_match_library`)."""
    out = [extract_go_id(str(t)) or extract_go_id(str(n)) for t, n in zip(terms, names)]
    if lib is not None and rows is not None:
        out = [g or (lib.terms[r] if r >= 0 and extract_go_id(lib.terms[r]) == lib.terms[r] else None)
               for g, r in zip(out, rows)]
    todo = [i for i, g in enumerate(out) if g is None and MSIGDB_GO.match(str(terms[i]))]
    if todo:
        go = _builtin_library(go_library_for([terms[i] for i in todo]))
        found = _match_library(go, [terms[i] for i in todo], [names[i] for i in todo])
        for i, r in zip(todo, found):
            out[i] = go.terms[r] if r >= 0 else None
    return [g or str(t) for g, t in zip(out, terms)]


def _sources(tables: Mapping[str, pd.DataFrame]) -> str | None:
    """The file(s) the results were read from, for an error message (``None`` for data frames)."""
    src = [str(t.attrs["source"]) for t in tables.values() if t.attrs.get("source")]
    return ", ".join(dict.fromkeys(src)) or None


def _stand_in_notes(lib_name: str, rows: np.ndarray, no_le: np.ndarray, other: np.ndarray, terms=()) -> list[str]:
    """What stands in for what: the leading edge for a set missing from the library, the library's
    full set for a missing leading edge (fgsea without leadingEdge), nothing for neither; pathways
    ``other`` (not GO terms, beside a GO library) are said apart: no GO library holds them."""
    out = []
    if other.any():
        bare = int((other & no_le).sum())
        out.append(f"{int(other.sum())} pathways are not GO terms: their leading edge stands in for the full set"
                   + (f" ({bare} have none: placed by their text)" if bare else ""))
    missing = (rows < 0) & ~other
    if missing.any():
        parts = [(f"the leading edge stands in for the full set of {n}", n) for n in [int((missing & ~no_le).sum())]]
        parts += [(f"{n} have no leading edge either (no genes: placed by their text)", n)
                  for n in [int((missing & no_le).sum())]]
        eg = f" (e.g. {', '.join(repr(terms[i]) for i in np.flatnonzero(missing)[:3])})" if len(terms) else ""
        out.append(f"{int(missing.sum())} of {len(rows)} pathways not found in the gene-set library {lib_name!r}{eg}: "
                   + "; ".join(t for t, n in parts if n))
    n_full = int((~missing & no_le).sum())
    if n_full:
        out.append(f"{n_full} of {len(rows)} pathways have no leading-edge genes in the result: their full set "
                   f"from {lib_name!r} stands in for the missing leading edge")
    return out


def _memberships(*lists: Sequence[Sequence[str]]) -> tuple:
    """0/1 CSR ``(n_sets, n_genes)`` per list of gene sets over one shared upper-case vocabulary;
    returns ``(*matrices, vocabulary)``."""
    flat = list(chain.from_iterable(chain.from_iterable(lists)))
    index = dict.fromkeys(flat)
    if not all(type(g) is str for g in index):  # 1 == 1.0 == True would share a key: the old way
        flat = np.asarray(flat, dtype=str).tolist()
        index = dict.fromkeys(flat)
    vocab, up_codes = _upper_vocabulary(list(index))
    for k, g in enumerate(index):
        index[g] = k
    codes = up_codes[_codes_of(flat, index)]
    out, pos = [], 0
    for sets in lists:
        lens = np.fromiter((len(gl) for gl in sets), np.int64, len(sets))
        rows = np.repeat(np.arange(len(sets)), lens)
        cols = codes[pos:pos + lens.sum()]
        pos += int(lens.sum())
        out.append(_binary_csr(rows, cols, (len(sets), len(vocab))))
    return (*out, vocab)


def _codes_of(items: list, index: dict) -> np.ndarray:
    """``[index[x] for x in items]`` as int64, the look-ups in one C loop (itemgetter)."""
    if len(items) < 2:
        return np.asarray([index[x] for x in items], dtype=np.int64)
    return np.asarray(itemgetter(*items)(index), dtype=np.int64)


def _upper_vocabulary(genes: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Sorted distinct upper-case symbols of distinct ``genes`` and each gene's column in it.

    Done on numpy strings as :func:`_memberships` always did (a trailing NUL is dropped), on the
    ~20k distinct genes only."""
    if not len(genes):
        return [], np.zeros(0, np.int64)
    vocab, codes = np.unique(np.char.upper(np.asarray(genes, dtype=str)), return_inverse=True)
    return vocab.tolist(), codes.astype(np.int64).ravel()


def _binary_csr(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=shape)
    m.sum_duplicates()
    m.data[:] = 1
    return m


def _distinct_in_order(gene_lists: list[list[str]]) -> tuple[list[list[str]], np.ndarray, list[str]]:
    """``[list(dict.fromkeys(g)) for g in gene_lists]`` in bulk, with the genes of the result as
    codes (flattened, row by row) into the distinct genes (first-seen order)."""
    lens = np.fromiter(map(len, gene_lists), np.int64, len(gene_lists))
    flat = list(chain.from_iterable(gene_lists))
    index = dict.fromkeys(flat)
    for k, g in enumerate(index):
        index[g] = k
    codes = _codes_of(flat, index)
    rows = np.repeat(np.arange(len(gene_lists), dtype=np.int64), lens)
    n_before = len(codes)
    rows, codes = first_per_row(rows, codes, len(index))
    if len(codes) < n_before:  # a gene repeated within a list
        out = lists_from_codes(rows, codes, list(index), len(gene_lists))
    else:
        out = [list(g) for g in gene_lists]
    return out, codes, list(index)


def _library_sets(lib, rows: np.ndarray) -> tuple[list[list[str]], sp.csr_matrix]:
    """Full gene set of each pathway (``[]`` when not in ``lib``) and the same as a CSR
    ``(n_pathways, n_library_genes)`` in the library's column order."""
    n = len(rows)
    if lib is None:
        return [[] for _ in range(n)], sp.csr_matrix((n, 0), dtype=np.float32)
    m = lib.membership
    hit = np.flatnonzero(rows >= 0)
    sub = m[rows[hit]] if len(hit) else sp.csr_matrix((0, m.shape[1]), dtype=m.dtype)
    lens = np.zeros(n, dtype=np.int64)
    lens[hit] = np.diff(sub.indptr)
    ends = np.cumsum(lens)
    full_rows = sp.csr_matrix((np.ones(len(sub.indices), np.float32), sub.indices.copy(),
                               np.concatenate([[0], ends])), shape=(n, m.shape[1]))
    if isinstance(lib.genes, list):
        genes = np.empty(len(lib.genes), dtype=object)
        genes[:] = lib.genes
        flat = genes[sub.indices].tolist()
        ends = ends.tolist()
        full = list(map(flat.__getitem__, map(slice, [0] + ends[:-1], ends)))
    else:
        full = [lib._genes_row(r) if r >= 0 else [] for r in rows]
    return full, full_rows


def _view_memberships(le: list[list[str]], le_codes: np.ndarray, le_genes: list[str], full_rows: sp.csr_matrix,
                      lib_genes: Sequence[str]) -> tuple[sp.csr_matrix, sp.csr_matrix, list[str]]:
    """``_memberships(le, [full or le])`` from codes: the full sets come as the library's CSR rows,
    so their ~5 million gene mentions are never hashed."""
    used = np.flatnonzero(np.bincount(full_rows.indices, minlength=len(lib_genes)))
    vocab, up = _upper_vocabulary(list(le_genes) + [lib_genes[j] for j in used])
    le_col = up[:len(le_genes)]
    lib_col = np.full(len(lib_genes), -1, dtype=np.int64)
    lib_col[used] = up[len(le_genes):]
    n = len(le)
    shape = (n, len(vocab))
    le_lens = np.fromiter(map(len, le), np.int64, n)
    le_rows = np.repeat(np.arange(n, dtype=np.int64), le_lens)
    le_cols = le_col[le_codes]
    le_m = _binary_csr(le_rows, le_cols, shape)
    full_lens = np.diff(full_rows.indptr)
    stand_in = full_lens == 0  # no full set: the leading edge stands in
    if full_rows.has_canonical_format and (np.diff(lib_col[used]) > 0).all():
        # upper-casing kept the library's column order: its rows stay sorted and duplicate-free,
        # so the full-set rows need no sort; they and the stand-in rows are disjoint
        lib_part = sp.csr_matrix((np.ones(len(full_rows.indices), np.float32), lib_col[full_rows.indices],
                                  full_rows.indptr), shape=shape)
        entry_row = np.repeat(np.arange(n), np.diff(le_m.indptr))
        take = stand_in[entry_row]
        le_part = sp.csr_matrix((np.ones(int(take.sum()), np.float32), le_m.indices[take],
                                 np.concatenate([[0], np.cumsum(np.where(stand_in, np.diff(le_m.indptr), 0))])),
                                shape=shape)
        full_m = lib_part + le_part
        full_m.sum_duplicates()
        full_m.data[:] = 1
        return le_m, full_m, vocab
    keep = stand_in[le_rows]
    rows = np.concatenate([np.repeat(np.arange(n, dtype=np.int64), full_lens), le_rows[keep]])
    cols = np.concatenate([lib_col[full_rows.indices], le_cols[keep]])
    return le_m, _binary_csr(rows, cols, shape), vocab


def _human_reference() -> frozenset:
    """Upper-case human symbols (the shipped msigdbr table, 63.6k; with their previous symbols
    through :func:`is_human_symbol`): never builds the built-in GO for a non-GO result."""
    try:
        return human_symbols_upper()
    except Exception:  # noqa: BLE001 - the check is advisory
        return frozenset()


def _check_genes(le: Sequence[Sequence[str]], human_genes: Sequence[str] | None,
                 distinct: Sequence[str] | None = None) -> list[str]:
    """The note on leading-edge genes that are not human symbols (a warning too when most are);
    ``distinct``: the distinct genes of ``le`` when the caller has them."""
    ref = _human_reference() if human_genes is None else {g.upper() for g in human_genes}
    allg = set(chain.from_iterable(le)) if distinct is None else set(distinct)
    if not ref or not allg:
        return []
    # symbols of other years count (AARS1 against GO 2019's AARS), and with the default reference
    # any human symbol does
    unknown = sorted(g for g in allg if g.upper() not in ref and not any(o in ref for o in other_symbols(g))
                     and not (human_genes is None and is_human_symbol(g)))
    frac = len(unknown) / len(allg)
    note = (f"{len(unknown)} of {len(allg)} leading-edge genes ({f'{frac:.0%}' if frac >= 0.005 else '<1%'}) are not "
            f"human gene symbols the package knows (e.g. {', '.join(unknown[:3])}): they count in leading-edge "
            f"overlaps only{date_hint(unknown)}") if unknown else None
    if frac > 0.5:
        warnings.warn(note, stacklevel=4)
    return [note] if note else []


def pathway_key(term: str, name: str = "") -> str:
    """The key conditions are merged on: the GO id in the term or name (``"INTERFERON-GAMMA-MEDIATED
    SIGNALING PATHWAY (GO:0060333)"``, ``"GO:0060333"`` and ``"GO_0060333"`` are one pathway), else
    the term without case, punctuation and whitespace (``+`` kept: CD4+ is not CD4)."""
    go = extract_go_id(str(term)) or extract_go_id(str(name))
    if go:
        return go
    key = _norm(str(term).replace("+", "plus"))
    return key or " ".join(str(term).lower().split())


def _keys(df: pd.DataFrame) -> pd.Series:
    """:func:`pathway_key` of each row; distinct terms of one table that share a name key keep apart."""
    terms, names = df["term"].astype(str).tolist(), df["name"].astype(str).tolist()
    keys = pd.Series([pathway_key(t, n) for t, n in zip(terms, names)], index=df.index, dtype=object)
    msig = [i for i, (k, t) in enumerate(zip(keys, terms)) if not k.startswith("GO:") and MSIGDB_GO.match(t)]
    if msig:  # MSigDB's GOBP_... names meet the same term under its GO id in another condition
        ids = go_terms_of([terms[i] for i in msig], [names[i] for i in msig])
        keys.iloc[msig] = [g if g.startswith("GO:") else k for g, k in zip(ids, keys.iloc[msig])]
    shared = df.groupby(keys.to_numpy())["term"].transform("nunique").to_numpy() > 1
    shared &= ~keys.str.startswith("GO:").to_numpy()
    if shared.any():
        keys[shared] = keys[shared] + "\x00" + df.loc[shared, "term"].astype(str)
    return keys


def _merge_conditions(sig: Mapping[str, pd.DataFrame], full: Mapping[str, pd.DataFrame] | None = None
                      ) -> pd.DataFrame:
    """Union of significant pathways over conditions, matched by :func:`pathway_key` (results of
    different tools name one GO term differently); the primary row of a pathway is its most
    significant one; ``nes_<cond>``/``fdr_<cond>`` columns keep every condition's values, taken from
    ``full`` (every tested pathway of each condition) when given, so a pathway significant in one
    condition shows its NES in the others too (NaN only where a condition did not test it)."""
    parts, tested = [], {}
    for cond, df in sig.items():
        every = full[cond] if full is not None and cond in full else df
        keys = _keys(every)
        d = df.copy()
        d["condition"] = cond
        same_rows = keys.index.is_unique and d.index.isin(keys.index).all()  # sig: rows of every
        d["_key"] = keys.reindex(d.index) if same_rows else _keys(d)
        parts.append(d)
        t = every[np.isfinite(every["nes"].to_numpy(float))].assign(_key=keys)  # NaN / inf NES: untested
        tested[cond] = t.sort_values("fdr", kind="stable").drop_duplicates("_key").set_index("_key")
    allrows = pd.concat(parts, ignore_index=True)
    primary = allrows.sort_values("fdr", kind="stable").drop_duplicates("_key", keep="first").copy()
    le_union = allrows.groupby("_key")["genes"].agg(lambda s: list(dict.fromkeys(g for gl in s for g in gl)))
    primary["genes"] = primary["_key"].map(le_union)
    for cond, m in tested.items():
        primary[f"nes_{cond}"] = primary["_key"].map(m["nes"])
        primary[f"fdr_{cond}"] = primary["_key"].map(m["fdr"])
    return primary.drop(columns="_key").sort_values("fdr", kind="stable")
