"""``cluster_gsea``: a GSEA / enrichment result in, labelled pathway communities out.

Pipeline (``method="joint"``, the default)
------------------------------------------
1. Keep pathways with ``fdr < fdr_cutoff`` (default 0.05) and a finite NES.
2. Gather each pathway's three views: leading-edge genes (from the result), full gene set (from
   ``gene_sets``: a GMT, a :class:`GeneSetLibrary`, or the built-in GO library for GO results) and
   text (name + description from the library, else the humanised term).
3. Place them in the joint space (:func:`contrastomics.cluster.embed.joint_space`): joint cosine =
   0.5 x leading-edge Ochiai overlap + 0.1 x gtCLIP gene-tower cosine of the leading edges + 0.1 x
   gene-tower cosine of the full sets + 0.3 x gtCLIP text-tower cosine.
4. kNN graph on the joint cosine (``k`` = :func:`~contrastomics.cluster.graph.default_k`); only
   pathways whose leading edges share a gene can be neighbours (the leading edge carries the
   direction of the change, so clusters stay sign-coherent without reading the NES); with
   ``split_direction`` edges between up- and down-regulated pathways are removed as well.
5. Leiden; resolution ``"auto"`` is tuned to ``n_clusters`` (default
   :func:`~contrastomics.cluster.communities.target_clusters`, ``n / 20``).
6. Clusters below ``min_cluster_size`` are dissolved, their members attached to the nearest
   cluster when close enough, else kept as singletons.
7. Labels: representative pathway + c-TF-IDF keywords; metrics
   (:mod:`contrastomics.evaluate.cluster_metrics`).

Every random step is seeded by ``seed``: the same input gives the same clusters.
"""
from __future__ import annotations

import functools
import logging
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import InputError
from . import baselines as bl
from .communities import attach_small, leiden, leiden_auto, mcl, order_labels, target_clusters
from .embed import METHOD_WEIGHTS, joint_space, load_model
from .graph import default_k, knn_from_embedding, knn_from_similarity
from .labels import ctfidf_keywords, go_slim_themes, representatives
from .layout import cluster_layout, features_from_graph

log = logging.getLogger(__name__)

METHODS = ("joint", "text", "genes", "overlap", "overlap-knn", "kappa", "semantic")
STANDARD_COLUMNS = ("term", "name", "nes", "fdr", "genes")


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


@dataclass
class ClusterResult:
    """Everything a run produced; :attr:`table` is the tidy per-pathway output, sorted by cluster
    then FDR. :attr:`embedding`, :attr:`graph`, :attr:`coords` and :attr:`space` keep the pathways
    in input order: row ``order[r]`` of them is row ``r`` of :attr:`table`."""

    table: pd.DataFrame
    clusters: pd.DataFrame
    summary: dict
    embedding: np.ndarray | None
    graph: sp.csr_matrix
    coords: np.ndarray | None = None
    space: object | None = None  #: the :class:`~contrastomics.cluster.embed.JointSpace` (embedding methods)
    order: np.ndarray | None = None  #: input-order row of each :attr:`table` row


# ---------------------------------------------------------------------- input
def _read(result, format) -> pd.DataFrame:
    if isinstance(result, pd.DataFrame):
        if {"term", "name", "nes", "fdr", "genes"} <= set(result.columns) or len(result) == 0:
            return result
        from ..data.gsea import as_standard  # a tool's own table in memory (gseapy's res2d, ...)
        return as_standard(result, format)
    try:
        from ..data.gsea import read_gsea_result
    except ImportError:
        raise InputError("reading result files needs contrastomics.data.gsea, which is not installed; "
                         "pass a DataFrame with columns term, name, nes, fdr, genes") from None
    return read_gsea_result(result, format=format)


def _as_condition_tables(result, names, format) -> dict[str, pd.DataFrame]:
    from ..data.gsea import split_conditions
    return split_conditions(_read_conditions(result, names, format))


def _read_conditions(result, names, format) -> dict[str, pd.DataFrame]:
    if isinstance(result, Mapping):
        return {str(k): _read(v, format) for k, v in result.items()}
    if isinstance(result, (list, tuple)):
        if names is not None and len(names) != len(result):
            raise InputError(f"{len(names)} name(s) for {len(result)} result(s); give one --names per file")
        keys = list(names) if names is not None else [
            Path(r).stem if not isinstance(r, pd.DataFrame) else f"result{i + 1}" for i, r in enumerate(result)]
        if len(set(keys)) != len(keys):
            keys = [f"{k}_{i + 1}" for i, k in enumerate(keys)]
        tables = {k: _read(r, format) for k, r in zip(keys, result)}
        fmts = {t.attrs.get("format") for t in tables.values()} - {None}
        if len(fmts) > 1:
            warnings.warn(f"the results come from different tools ({', '.join(sorted(fmts))}); their NES and "
                          "FDR scales differ, compare clusters, not values", stacklevel=3)
        return tables
    df = _read(result, format)
    return {str(names[0]) if names else "result": df}


def _validate(df: pd.DataFrame, where: str) -> pd.DataFrame:
    if df is None or len(df) == 0:
        raise InputError(f"{where}: the result has no pathways (empty table)")
    missing = [c for c in STANDARD_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{where}: missing column(s) {', '.join(missing)}; read result files with "
                         "contrastomics.data.gsea.read_gsea_result (gseapy, GSEA desktop, fgsea, "
                         "clusterProfiler, Enrichr)")
    df = df.copy()
    df["term"] = df["term"].astype(str)
    df["name"] = df["name"].fillna(df["term"]).astype(str)
    df["nes"] = pd.to_numeric(df["nes"], errors="coerce")
    df["fdr"] = pd.to_numeric(df["fdr"], errors="coerce")
    genes = df["genes"].tolist()
    if all(type(g) is list for g in genes):
        # the readers' lists: when every distinct gene is already a clean str, _gene_list would
        # return a copy of each list; check the ~20k distinct genes instead of ~2M mentions
        from itertools import chain
        try:
            distinct = set(chain.from_iterable(genes))
        except TypeError:  # an unhashable item: leave it to _gene_list
            distinct = [None]
        if all(type(x) is str and x and x.strip() == x for x in distinct):
            df["genes"] = [g.copy() for g in genes]
            return df
    df["genes"] = [_gene_list(g) for g in genes]
    return df


def _gene_list(g) -> list[str]:
    if isinstance(g, (list, tuple, np.ndarray)):
        return [str(x).strip() for x in g if str(x).strip()]
    if g is None or (isinstance(g, float) and np.isnan(g)):
        return []
    s = str(g)
    for sep in (";", "/", ",", " "):
        if sep in s:
            return [x.strip() for x in s.split(sep) if x.strip()]
    return [s.strip()] if s.strip() else []


def _significant(df: pd.DataFrame, fdr_cutoff: float, where: str) -> pd.DataFrame:
    n_nan = int(df["nes"].isna().sum())
    if df.attrs.get("kind") == "ora":
        # over-representation (Enrichr, enrichGO, fora): no NES, every pathway is "up"
        pass
    elif n_nan == len(df):
        raise InputError(f"{where}: every NES is missing (NaN); for an over-representation table (no NES) "
                         "read it with contrastomics.data.gsea.read_gsea_result or pass the file itself")
    elif n_nan:
        warnings.warn(f"{where}: {n_nan} pathway(s) with a missing (NaN) NES were left out", stacklevel=4)
        df = df[df["nes"].notna()]
    if df["fdr"].isna().all():
        raise InputError(f"{where}: no FDR / adjusted p-value column has values")
    sig = df[df["fdr"] < fdr_cutoff]
    if len(sig) == 0:
        best = float(df["fdr"].min())
        n25 = int((df["fdr"] < 0.25).sum())
        hint = f"; {n25} pathway(s) have FDR < 0.25 (try --fdr 0.25)" if n25 else f"; try --fdr {min(1.0, best * 2):.2g}"
        raise InputError(f"{where}: no pathway passes FDR < {fdr_cutoff:g} (lowest FDR is {best:.3g}){hint}")
    dup = sig["term"].duplicated(keep=False)
    if dup.any():
        n_dup = int(sig["term"].duplicated().sum())
        warnings.warn(f"{where}: {n_dup} duplicate pathway name(s) (e.g. {sig.loc[dup, 'term'].iloc[0]!r}); "
                      "kept the row with the lowest FDR for each", stacklevel=4)
        sig = sig.sort_values("fdr", kind="stable").drop_duplicates("term", keep="first")
    return sig


def _library(gene_sets, terms: Sequence[str]):
    """The gene-set library for full sets and texts: given, read from a GMT, or built-in GO."""
    from ..data.genesets import GeneSetLibrary, read_gmt
    if isinstance(gene_sets, GeneSetLibrary):
        return gene_sets
    if gene_sets is None or gene_sets == "auto":
        from ..evaluate.semantic import extract_go_id
        n_go = sum(extract_go_id(t) is not None for t in terms)
        if n_go < len(terms) / 2:
            return None
        gene_sets = "GO"
    if isinstance(gene_sets, str) and not Path(gene_sets).exists() and gene_sets.upper().replace("-", "_") in (
            "GO", "GO_BP", "GO_MF", "GO_CC", "DO"):
        try:
            return _builtin_library(gene_sets.upper().replace("-", "_"))
        except ImportError:
            return None
    return read_gmt(gene_sets, on_duplicate="first")


@functools.lru_cache(maxsize=2)
def _builtin_library(name: str):
    # built-in libraries are immutable: keep the propagated copy for warm calls (~1 s to rebuild)
    from ..data.builtin import load_library
    return load_library(name, min_size=1, max_size=None)


def _match_library(lib, terms: Sequence[str], names: Sequence[str]) -> np.ndarray:
    """Row of ``lib`` for each pathway (-1 when absent): by term id, GO id, then name."""
    from ..data.genesets import humanize_term
    from ..evaluate.semantic import extract_go_id
    if lib is None:
        return np.full(len(terms), -1)
    by_term = {t: i for i, t in enumerate(lib.terms)}
    by_upper: dict | None = None
    by_name: dict | None = None
    out = np.full(len(terms), -1)
    for k, (t, nm) in enumerate(zip(terms, names)):
        i = by_term.get(t)
        if i is not None:
            out[k] = i
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
            i = by_name.get(nm.lower(), by_name.get(humanize_term(t).lower()))
        out[k] = -1 if i is None else i
    return out


def _norm(s: str, _drop=bytes(c for c in range(128) if not (48 <= c <= 57 or 97 <= c <= 122))) -> str:
    # = re.sub(r"[^0-9a-z]+", "", s.lower()): non-ASCII dropped by the encoding, the rest by translate
    return s.lower().encode("ascii", "ignore").translate(None, _drop).decode("ascii")


def _text_of(term: str, name: str, lib, row: int) -> str:
    if row >= 0 and lib is not None:
        desc = (lib.descriptions[row] or "").strip()
        useful = bool(desc) and not desc.startswith("http") and desc.lower() not in ("na", "none", "")
        if lib.names[row] and lib.names[row] != lib.terms[row]:
            title = lib.names[row]
        elif useful and len(desc) <= 200:
            # a GMT without names (MSigDB, Enrichr): column 2 is the readable title ("Cell Cycle")
            return desc
        else:
            from ..data.genesets import humanize_term
            title = humanize_term(term)
        if useful and _norm(desc) != _norm(title):
            return f"{title}. {desc}"
        return title
    if name and name != term:
        title = name
    else:
        from ..data.genesets import humanize_term
        title = humanize_term(term)
    if "(" not in title:  # the id suffix below needs one
        return title
    import re
    return re.sub(r"\s*\((GO|R-HSA|WP|HP)[:\-_][^)]*\)\s*$", "", title)


def prepare(result, *, fdr_cutoff: float = 0.05, gene_sets=None, names=None, format=None,
            human_genes: Sequence[str] | None = None) -> Pathways:
    """Read, check and filter a result (or several) and gather every pathway's three views."""
    from ..data.genesets import _gc_paused
    with _gc_paused():  # ~10^5 gene lists are built below; none holds a cycle
        tables = _as_condition_tables(result, names, format)
        sig, valid = {}, {}
        n_input = sum(len(t) for t in tables.values())
        for cond, df in tables.items():
            where = df.attrs.get("source", cond)
            valid[cond] = _validate(df, where)
            sig[cond] = _significant(valid[cond], fdr_cutoff, where)
        conds = list(sig)
        if len(conds) == 1:
            table = sig[conds[0]].reset_index(drop=True)
        else:
            table = _merge_conditions(sig, valid)
        table = table.reset_index(drop=True)
        lib = _library(gene_sets, table["term"].tolist())
        rows = _match_library(lib, table["term"].tolist(), table["name"].tolist())
        le, le_codes, le_genes = _distinct_in_order(table["genes"].tolist())
        full, full_rows = _library_sets(lib, rows)
        notes = []
        if lib is not None and (rows < 0).any():
            notes.append(f"{int((rows < 0).sum())} of {len(rows)} pathways not found in the gene-set library "
                         f"{lib.name!r}: their leading edge stands in for the full set")
        if lib is None:
            notes.append("no gene-set library for this result (pass --gmt): full sets = leading edges")
        if not any(le) and not any(full):
            raise InputError("no pathway has leading-edge genes and none is in a gene-set library; pass the "
                             "GMT used for the analysis with --gmt")
        _check_genes(le, human_genes, le_genes)
        texts = [_text_of(t, n, lib, r) for t, n, r in zip(table["term"].tolist(), table["name"].tolist(),
                                                           rows.tolist())]
        le_m, full_m, vocab = _view_memberships(le, le_codes, le_genes, full_rows,
                                                lib.genes if lib is not None else [])
    for n in notes:
        log.info(n)
    return Pathways(table, le, full, texts, rows >= 0, vocab, le_m, full_m, conds if len(conds) > 1 else [], notes,
                    n_input)


def _memberships(*lists: Sequence[Sequence[str]]) -> tuple:
    """0/1 CSR ``(n_sets, n_genes)`` per list of gene sets over one shared upper-case vocabulary;
    returns ``(*matrices, vocabulary)``."""
    from itertools import chain
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
    from operator import itemgetter
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
    from itertools import chain
    lens = np.fromiter(map(len, gene_lists), np.int64, len(gene_lists))
    flat = list(chain.from_iterable(gene_lists))
    index = dict.fromkeys(flat)
    for k, g in enumerate(index):
        index[g] = k
    codes = _codes_of(flat, index)
    rows = np.repeat(np.arange(len(gene_lists), dtype=np.int64), lens)
    from ..data.gsea import first_per_row, lists_from_codes
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


def _membership(sets: Sequence[Sequence[str]], idx: Mapping[str, int]) -> sp.csr_matrix:
    rows = [i for i, gl in enumerate(sets) for _ in gl]
    cols = [idx[g.upper()] for gl in sets for g in gl]
    m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(sets), len(idx)))
    m.sum_duplicates()
    m.data[:] = 1
    return m


@functools.lru_cache(maxsize=1)
def _human_reference() -> frozenset:
    """Upper-case human symbols annotated in the built-in GO (19.7k); empty if unavailable."""
    try:
        from ..data.builtin import load_library
        return frozenset(g.upper() for g in load_library("GO_BP").genes)
    except Exception:  # noqa: BLE001 - the check is advisory
        return frozenset()


def _check_genes(le: Sequence[Sequence[str]], human_genes: Sequence[str] | None,
                 distinct: Sequence[str] | None = None) -> None:
    """Warn when most leading-edge genes are not human symbols; ``distinct``: the distinct genes of
    ``le`` when the caller has them."""
    from itertools import chain
    ref = _human_reference() if human_genes is None else {g.upper() for g in human_genes}
    if not ref:
        return
    allg = set(chain.from_iterable(le)) if distinct is None else set(distinct)
    if not allg:
        return
    unknown = sorted(g for g in allg if g.upper() not in ref)
    frac = len(unknown) / len(allg)
    if frac > 0.5:
        mouse_like = sum(g[:1].isupper() and g[1:].islower() for g in unknown)
        hint = " They look like mouse symbols: map them to human orthologs first." if mouse_like > len(unknown) / 2 else ""
        warnings.warn(f"{len(unknown)} of {len(allg)} leading-edge genes ({frac:.0%}) are not human gene "
                      f"symbols (e.g. {', '.join(unknown[:3])}).{hint} The gene towers ignore them.", stacklevel=4)
    elif unknown:
        log.info("%d of %d leading-edge genes are not in the human annotation (e.g. %s)",
                 len(unknown), len(allg), ", ".join(unknown[:3]))


def _merge_conditions(sig: Mapping[str, pd.DataFrame], full: Mapping[str, pd.DataFrame] | None = None
                      ) -> pd.DataFrame:
    """Union of significant pathways over conditions; the primary row of a pathway is its most
    significant one; ``nes_<cond>``/``fdr_<cond>`` columns keep every condition's values, taken from
    ``full`` (every tested pathway of each condition) when given, so a pathway significant in one
    condition shows its NES in the others too (NaN only where a condition did not test it)."""
    parts = []
    for cond, df in sig.items():
        d = df.copy()
        d["condition"] = cond
        parts.append(d)
    allrows = pd.concat(parts, ignore_index=True)
    primary = allrows.sort_values("fdr", kind="stable").drop_duplicates("term", keep="first").copy()
    le_union = allrows.groupby("term")["genes"].agg(lambda s: list(dict.fromkeys(g for gl in s for g in gl)))
    primary["genes"] = primary["term"].map(le_union)
    for cond, df in sig.items():
        if full is not None and cond in full:
            df = full[cond][full[cond]["nes"].notna()].sort_values("fdr", kind="stable").drop_duplicates("term")
        m = df.set_index("term")
        primary[f"nes_{cond}"] = primary["term"].map(m["nes"])
        primary[f"fdr_{cond}"] = primary["term"].map(m["fdr"])
    return primary.sort_values("fdr", kind="stable")


# ---------------------------------------------------------------------- clustering
_BLAS = None


def _blas_controller():
    """One ``threadpoolctl`` controller per process (finding the loaded BLAS libraries took ~25 ms
    per run)."""
    global _BLAS
    if _BLAS is None:
        import scipy.linalg  # noqa: F401 - load every BLAS a run uses (SciPy's own OpenBLAS, sklearn's)
        import sklearn.cluster  # noqa: F401
        from threadpoolctl import ThreadpoolController
        _BLAS = ThreadpoolController()
    return _BLAS


def run_clustering(
    result,
    *,
    method: str = "joint",
    fdr_cutoff: float = 0.05,
    resolution: "float | str" = "auto",
    n_clusters: int | None = None,
    split_direction: bool = False,
    min_cluster_size: int = 3,
    attach_threshold: "float | str" = "auto",
    k: int | None = None,
    model=None,
    gene_sets=None,
    weights: dict | None = None,
    gate_leading_edge: bool | None = None,
    representative: str = "central",
    n_keywords: int = 4,
    seed: int = 0,
    names: Sequence[str] | None = None,
    format: str | None = None,
    metrics: bool = True,
    layout: bool = False,
    n_random: int = 200,
) -> ClusterResult:
    """Full run, returning a :class:`ClusterResult` (see :func:`cluster_gsea` for parameters).

    BLAS runs on one thread: the matrices are small, and multi-threaded OpenBLAS on a busy
    two-core machine made small eigen-decompositions 20x slower."""
    with _blas_controller().limit(limits=1, user_api="blas"):
        return _run_clustering(result, method=method, fdr_cutoff=fdr_cutoff, resolution=resolution,
                               n_clusters=n_clusters, split_direction=split_direction,
                               min_cluster_size=min_cluster_size, attach_threshold=attach_threshold, k=k,
                               model=model, gene_sets=gene_sets, weights=weights,
                               gate_leading_edge=gate_leading_edge, representative=representative,
                               n_keywords=n_keywords, seed=seed, names=names, format=format, metrics=metrics,
                               layout=layout, n_random=n_random)


def _run_clustering(result, *, method, fdr_cutoff, resolution, n_clusters, split_direction, min_cluster_size,
                    attach_threshold, k, model, gene_sets, weights, gate_leading_edge, representative,
                    n_keywords, seed, names, format, metrics, layout, n_random) -> ClusterResult:
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if representative not in ("central", "significant"):
        raise InputError(f"unknown representative rule {representative!r}; choose central or significant")
    if not (0 < fdr_cutoff <= 1):
        raise InputError(f"FDR cut-off must be in (0, 1], got {fdr_cutoff}")
    t0 = time.perf_counter()
    times = {}
    pw = prepare(result, fdr_cutoff=fdr_cutoff, gene_sets=gene_sets, names=names, format=format)
    times["prepare"] = time.perf_counter() - t0
    tab = pw.table
    n = len(tab)
    nes = tab["nes"].to_numpy(float)
    fdr = tab["fdr"].to_numpy(float)
    sign = np.where(np.isnan(nes) | (nes >= 0), 1, -1)  # over-representation (no NES) counts as up
    forbid = sign if split_direction else None
    k = default_k(n) if k is None else int(k)
    target = int(n_clusters) if n_clusters else target_clusters(n)
    model_name = None

    t1 = time.perf_counter()
    x = None
    sim_for_attach = None
    go = None
    if method in METHOD_WEIGHTS:
        mdl = load_model(model)
        model_name = getattr(mdl, "cache_key", None) or getattr(mdl, "name_or_path", None) or type(mdl).__name__
        w = weights if (weights is not None and method == "joint") else METHOD_WEIGHTS[method]
        x = joint_space(mdl, pw.leading_edge, pw.full_sets, pw.texts, pw.le_matrix, w,
                        gate_leading_edge=gate_leading_edge, full_matrix=pw.full_matrix)
        times["embed"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        adj = knn_from_embedding(x, k, forbid=forbid, seed=seed)
    elif method == "overlap":
        s = bl.combined_coefficient(pw.full_matrix)
        adj = bl.threshold_graph(s, bl.EM_COMBINED_CUTOFF, forbid)
    elif method == "overlap-knn":
        s = bl.jaccard_sparse(pw.le_matrix)
        adj = knn_from_similarity(s, k, forbid=forbid)
        sim_for_attach = s
    elif method == "kappa":
        s = bl.kappa_matrix(pw.full_matrix)
        adj = bl.threshold_graph(s, bl.DAVID_KAPPA_CUTOFF, forbid)
        sim_for_attach = s
    else:  # semantic
        from ..evaluate.semantic import go_similarity_for
        go = go_similarity_for(tab["term"].tolist())
        if go is None:
            raise InputError("--method semantic needs a GO result (terms with GO ids); this result has "
                             "too few, use another method")
        s = go[0]
        adj = knn_from_similarity(s, k, forbid=forbid)
        sim_for_attach = s
    times["graph"] = time.perf_counter() - t1

    t1 = time.perf_counter()
    if method == "overlap":
        raw = mcl(adj)
        used_res = None
    elif resolution == "auto" or resolution is None:
        raw, used_res = leiden_auto(adj, target, min_size=min_cluster_size, seed=seed)
    else:
        used_res = float(resolution)
        raw = leiden(adj, used_res, seed=seed)
    if method == "overlap":
        # EnrichmentMap keeps MCL's clusters as they are: small ones are not re-attached
        lab = np.where(np.bincount(raw)[raw] >= 2, raw, -1)
        info = {"attached": 0, "singletons": int((lab < 0).sum()), "attach_threshold": None}
    else:
        lab, info = attach_small(raw, x, min_size=min_cluster_size, threshold=attach_threshold,
                                 groups=forbid, similarity=None if x is not None else sim_for_attach)
    labels = order_labels(lab, fdr)
    times["partition"] = time.perf_counter() - t1

    t1 = time.perf_counter()
    reps = representatives(labels, x, fdr, nes, representative,
                           similarity=None if x is not None else _similarity_matrix(sim_for_attach if sim_for_attach is not None else adj))
    keywords = ctfidf_keywords(labels, pw.texts, n_keywords=n_keywords)
    from ..evaluate.semantic import extract_go_id, is_go_result
    go_ids = [extract_go_id(str(t)) for t in tab["term"]]
    themes = go_slim_themes(go_ids, labels) if is_go_result(go_ids) else {}  # GO slim terms are GO ids
    times["labels"] = time.perf_counter() - t1

    coords = None
    if layout:
        t1 = time.perf_counter()
        informative = x is not None and x.dense.shape[1] >= 2 and bool(np.any(x.dense))
        # overlap-only weights leave no tower vectors: lay out from the graph instead
        coords = cluster_layout(labels, x.dense if informative else features_from_graph(adj))
        times["layout"] = time.perf_counter() - t1
    out_table, clusters, order = _tables(pw, labels, reps, keywords, sign, coords, themes)
    summary = {
        "method": method, "model": model_name, "n_input": pw.n_input,
        "n_significant": int(n), "fdr_cutoff": fdr_cutoff, "k": int(k), "target_clusters": int(target),
        "resolution": used_res, "split_direction": bool(split_direction),
        "min_cluster_size": int(min_cluster_size), "attached": info["attached"],
        "attach_threshold": info["attach_threshold"], "representative": representative, "seed": int(seed),
        "weights": (weights or METHOD_WEIGHTS.get(method)) if method in METHOD_WEIGHTS else None,
        "leading_edge_gate": bool(getattr(x, "gate", False)),
        "conditions": pw.conditions, "notes": pw.notes,
        "n_full_sets_from_library": int(pw.has_full_sets.sum()),
    }
    times["cluster_total"] = time.perf_counter() - t0 - times.get("layout", 0.0)
    if metrics:
        t1 = time.perf_counter()
        summary["metrics"] = evaluate(labels, pw, nes, go=go, n_random=n_random, seed=seed)
        if split_direction:
            summary["metrics"]["nes_coherence_note"] = ("clusters were split by NES sign, so sign coherence is 1 "
                                                        "by construction; run without --split-direction to measure it")
        times["metrics"] = time.perf_counter() - t1
    summary["seconds"] = {k2: round(v, 4) for k2, v in times.items()}
    return ClusterResult(out_table, clusters, summary, None if x is None else x.dense, adj, coords, x, order)


def _similarity_matrix(s):
    # sparse stays sparse (rows are sliced per cluster); lazy similarity objects become arrays
    return s.tocsr() if sp.issparse(s) else np.asarray(s)


def evaluate(labels: np.ndarray, pw: Pathways, nes: np.ndarray, *, go=None, n_random: int = 200,
             seed: int = 0) -> dict:
    """Metrics of a labelling of ``pw`` (see :mod:`contrastomics.evaluate.cluster_metrics`)."""
    from ..evaluate.cluster_metrics import cluster_metrics
    from ..evaluate.semantic import go_similarity_for
    if go is None:
        go = go_similarity_for(pw.table["term"].tolist())
    return cluster_metrics(labels, nes, full_sets=pw.full_matrix, leading_edge=pw.le_matrix,
                           go_similarity=None if go is None else go[0], go_mask=None if go is None else go[1],
                           n_random=n_random, seed=seed)


def _tables(pw: Pathways, labels: np.ndarray, reps: dict, keywords: dict, sign: np.ndarray,
            coords: np.ndarray | None = None, themes: dict | None = None):
    tab = pw.table
    sizes = np.bincount(labels)
    label_of = {c: tab["name"].iloc[i] for c, i in reps.items()}
    rep_rows = set(reps.values())
    out = pd.DataFrame({
        "cluster": labels,
        "cluster_size": sizes[labels],
        "cluster_label": [label_of[c] for c in labels],
        "cluster_keywords": [", ".join(keywords.get(int(c), [])) for c in labels],
        "representative": [i in rep_rows and sizes[labels[i]] > 1 for i in range(len(labels))],
        "term": tab["term"].to_numpy(),
        "name": tab["name"].to_numpy(),
        "nes": tab["nes"].to_numpy(float),
        "fdr": tab["fdr"].to_numpy(float),
    })
    if themes:  # GO results: the GO slim theme of the pathway's cluster
        out.insert(out.columns.get_loc("cluster_keywords") + 1, "cluster_theme",
                   [themes.get(int(c), {}).get("theme", "") for c in labels])
    for col in ("es", "pvalue", "size"):
        if col in tab.columns:
            out[col] = tab[col].to_numpy()
    out["direction"] = sign
    for cond in pw.conditions:
        out[f"nes_{cond}"] = tab[f"nes_{cond}"].to_numpy(float)
        out[f"fdr_{cond}"] = tab[f"fdr_{cond}"].to_numpy(float)
    out["n_leading_edge"] = [len(g) for g in pw.leading_edge]
    out["leading_edge_genes"] = [",".join(g) for g in pw.leading_edge]
    out["text"] = pw.texts
    if coords is not None:
        out["x"], out["y"] = np.round(coords[:, 0], 5), np.round(coords[:, 1], 5)
    out["_row"] = np.arange(len(out))
    out = out.sort_values(["cluster", "fdr"], kind="stable").reset_index(drop=True)
    order = out.pop("_row").to_numpy()
    # one record per cluster, aggregated column-wise (a Python loop over ~10^3-10^4 clusters of
    # pandas groups took seconds); only the shared-gene count runs per cluster, and only for >= 2
    g = out.assign(up=out["nes"] > 0, down=out["nes"] < 0).groupby("cluster", sort=True)
    agg = g.agg(size=("term", "size"), label=("cluster_label", "first"), keywords=("cluster_keywords", "first"),
                n_up=("up", "sum"), n_down=("down", "sum"), mean_nes=("nes", "mean"), min_fdr=("fdr", "min"))
    ids = agg.index.to_numpy()
    clusters = pd.DataFrame({"cluster": ids.astype(int), "size": agg["size"].to_numpy(int),
                             "label": agg["label"].to_numpy(),
                             "representative_term": tab["term"].to_numpy()[[reps[int(c)] for c in ids]],
                             "keywords": agg["keywords"].to_numpy()})
    if themes:
        recs = [_theme_record(themes.get(int(c))) for c in ids]
        for key in ("theme", "theme_id", "theme_support"):
            clusters[key] = [r[key] for r in recs]
    starts = np.searchsorted(out["cluster"].to_numpy(), ids)
    sizes_ = clusters["size"].to_numpy()
    le = out["leading_edge_genes"].to_numpy()
    clusters["top_genes"] = [", ".join(_top_genes(le[a:a + m])) if m > 1 else "" for a, m in zip(starts, sizes_)]
    clusters["n_up"] = agg["n_up"].to_numpy(int)
    clusters["n_down"] = agg["n_down"].to_numpy(int)
    clusters["mean_nes"] = agg["mean_nes"].to_numpy(float)
    clusters["min_fdr"] = agg["min_fdr"].to_numpy(float)
    clusters["singleton"] = sizes_ == 1
    for cond in pw.conditions:
        clusters[f"mean_nes_{cond}"] = g[f"nes_{cond}"].mean().to_numpy(float)
        clusters[f"n_significant_{cond}"] = g[f"nes_{cond}"].count().to_numpy(int)
    return out, clusters, order


def _theme_record(theme: dict | None) -> dict:
    if not theme:
        return {"theme": "", "theme_id": "", "theme_support": float("nan")}
    return {"theme": theme["theme"], "theme_id": theme["theme_id"], "theme_support": round(theme["theme_support"], 4)}


def _top_genes(le_strings, n: int = 6) -> list[str]:
    """The leading-edge genes shared by most members (at least two) of a cluster."""
    from collections import Counter
    counts = Counter(g for s in le_strings for g in dict.fromkeys(x for x in str(s).split(",") if x))
    return [g for g, c in counts.most_common(n) if c >= 2]


def cluster_gsea(
    result,
    *,
    method: str = "joint",
    fdr_cutoff: float = 0.05,
    resolution: "float | str" = "auto",
    n_clusters: int | None = None,
    split_direction: bool = False,
    min_cluster_size: int = 3,
    model=None,
    gene_sets=None,
    seed: int = 0,
    names: Sequence[str] | None = None,
    format: str | None = None,
    metrics: bool = True,
    **kwargs,
) -> pd.DataFrame:
    """Group the significant pathways of a GSEA / enrichment result into labelled communities.

    Parameters
    ----------
    result
        A result file path, a DataFrame in the standard columns of
        :func:`contrastomics.data.gsea.read_gsea_result` (``term, name, nes, fdr, genes`` at least;
        ``genes`` = leading-edge genes), a tool's own table in memory (gseapy's ``res2d``, an
        fgsea/clusterProfiler table read with pandas), or a list / dict of them (several conditions: the union of
        their significant pathways is clustered, ``nes_<name>`` columns keep each condition's NES).
    method
        ``joint`` (leading-edge overlap + gtCLIP full-set and text towers, default), ``text``, ``genes``,
        ``overlap`` (EnrichmentMap + MCL), ``overlap-knn``, ``kappa``, ``semantic`` (GO only).
    fdr_cutoff
        Keep pathways with FDR (or adjusted p-value) below this.
    resolution
        Leiden resolution, or ``"auto"`` to hit ``n_clusters`` clusters.
    n_clusters
        Target number of clusters of ``>= min_cluster_size`` members for ``resolution="auto"``
        (default ``n / 20``).
    split_direction
        Never put up- and down-regulated pathways in one cluster.
    min_cluster_size
        Smaller clusters are dissolved and their members attached to the nearest cluster when
        similar enough (else they stay singletons).
    model
        gtCLIP model folder / hub id / object (default: the shipped model).
    gene_sets
        Full gene sets and descriptions: GMT path, :class:`GeneSetLibrary`, built-in name
        (``"GO_BP"``) or ``None`` (built-in GO for GO results, else the leading edges).
    seed
        Seed for Leiden, layout and the metrics' random clusterings.
    format
        The tool that wrote ``result`` (default: detected from its columns), or ``{"term": ...,
        "fdr": ..., "nes": ..., "genes": ...}`` naming the columns of any other table (see
        :func:`contrastomics.data.gsea.read_gsea_result`).
    metrics
        Compute the metrics (``df.attrs["summary"]["metrics"]``).
    **kwargs
        Passed to :func:`run_clustering` (``k``, ``weights``, ``gate_leading_edge``, ``attach_threshold``,
        ``representative``, ``n_keywords``, ``layout``, ``n_random``).

    Returns
    -------
    pandas.DataFrame
        One row per significant pathway: ``cluster`` (0 = largest), ``cluster_size``,
        ``cluster_label`` (representative pathway), ``cluster_keywords``, ``representative``,
        ``term, name, nes, fdr, ...``, ``direction`` (+1/-1), ``leading_edge_genes``.
        ``df.attrs["summary"]`` holds parameters and metrics, ``df.attrs["clusters"]`` one record
        per cluster.

    Examples
    --------
    >>> from contrastomics import cluster_gsea            # doctest: +SKIP
    >>> df = cluster_gsea("gseapy.gene_set.prerank.report.csv", fdr_cutoff=0.25)  # doctest: +SKIP
    >>> df.groupby("cluster_label").size()                # doctest: +SKIP
    """
    res = run_clustering(result, method=method, fdr_cutoff=fdr_cutoff, resolution=resolution,
                         n_clusters=n_clusters, split_direction=split_direction,
                         min_cluster_size=min_cluster_size, model=model, gene_sets=gene_sets, seed=seed,
                         names=names, format=format, metrics=metrics, **kwargs)
    df = res.table
    df.attrs["summary"] = res.summary
    df.attrs["clusters"] = res.clusters.to_dict("records")
    return df
