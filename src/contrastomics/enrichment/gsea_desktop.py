"""GSEA desktop (Broad) results: ``gsea_report_for_*`` tables and the genes of their run folder.

A report's ``LEADING EDGE`` column holds statistics, not genes; genes come from, in order, the
per-set detail files beside it, the run's ``edb/`` ranked list and gene sets cut at ``RANK AT
MAX``, a ``gmt=`` file (whole set members, with a warning), else empty lists with a warning.
The run's ``edb/gene_sets.gmt`` is named in ``attrs["gene_sets"]`` (full sets for clustering).
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..data.genesets import read_gmt
from ..errors import InputError
from .convert import NA_STRINGS, convert, finish, read_table
from .layouts import detect_layout

FORMAT = "gsea-desktop"  #: the layouts of these reports (:data:`.layouts.LAYOUTS`)


def read_gsea_desktop(paths: list[Path], fmt: str | None, gmt, *, source) -> pd.DataFrame:
    """The standard frame of one run's reports (one or both phenotypes); ``fmt`` is the normalised
    ``format=``, ``gmt`` the gene sets to fall back on, ``source`` the path(s) as given."""
    if fmt not in (None, FORMAT):
        raise InputError(f"format={fmt!r} given, but these are GSEA desktop reports", paths[0])
    parts, notes, n_rows, lay = [], [], 0, None
    for p in paths:
        if not is_report(p) and len(paths) > 1:
            raise InputError("several files given, but only GSEA desktop's gsea_report_for_* files of one run "
                             "are read together; use read_gsea_results for one file per condition", p)
        table, header_line = read_table(p)
        lay = detect_layout(list(table.columns), p, FORMAT)
        genes, how = _gsea_desktop_genes(table, p.parent, gmt)
        out, file_notes, n = convert(table, lay, p, header_line, genes)
        parts.append(out)
        notes += ([f"{p.name}: {how}"] if how else []) + file_notes
        n_rows += n
    if len(paths) == 1:
        siblings = [q for q in reports_in(paths[0].parent) if q.resolve() != paths[0].resolve()]
        if siblings:
            notes.append(f"only one phenotype's report was read; {siblings[0].name} is beside it: pass the "
                         "run folder to read both directions")
    out = finish(pd.concat(parts, ignore_index=True), lay, source, n_rows, notes)
    run_gmt = paths[0].parent / "edb" / "gene_sets.gmt"
    if run_gmt.is_file():  # the run's own gene sets: the full sets when no library is given
        out.attrs["gene_sets"] = str(run_gmt)
    return out


def _gsea_desktop_genes(table: pd.DataFrame, folder: Path, gmt) -> tuple[list[list[str]], str | None]:
    """Leading-edge genes per report row, and a note when they are not exact."""
    terms = table["NAME"].str.strip().tolist()
    detail = [_detail_file_genes(folder, t) for t in terms]
    missing = [i for i, g in enumerate(detail) if g is None]
    if not missing:
        return detail, None
    edb = _edb_leading_edges(folder, table)
    if edb is not None:
        for i in missing:
            detail[i] = edb.get(terms[i])
        n_left = sum(g is None for g in detail)
        if n_left == 0:
            return detail, None
    if gmt is not None:
        lib = read_gmt(gmt, on_duplicate="first")
        members = dict(zip(lib.terms, lib.gene_sets))
        n_full = 0
        for i, g in enumerate(detail):
            if g is None and terms[i] in members:
                detail[i] = list(members[terms[i]])
                n_full += 1
        note = (f"{n_full} of all {len(terms)} pathways of the report (significant or not) took whole gene-set "
                f"members from {Path(gmt).name} (no detail file or edb/ folder beside the report): genes are set "
                "members, not the leading edge") if n_full else None
    else:
        note = None
    n_none = sum(g is None for g in detail)
    if n_none:
        note = ((note + "; ") if note else "") + (
            f"{n_none} of all {len(terms)} pathways of the report (significant or not) have no gene list: the "
            "GSEA desktop report's LEADING EDGE column holds "
            "statistics, not genes; keep the per-set files or edb/ folder beside the report, or give the "
            "gene sets (--gmt FILE; gmt= in Python)")
    return [g if g is not None else [] for g in detail], note


def _detail_file_genes(folder: Path, term: str) -> list[str] | None:
    for suffix in (".tsv", ".xls"):
        p = folder / f"{term}{suffix}"
        if p.is_file():
            break
    else:
        return None
    table, _ = read_table(p)
    core = next((c for c in ("CORE ENRICHMENT", "CORE_ENRICHMENT") if c in table.columns), None)
    if core is None:
        raise InputError("GSEA desktop detail file without a CORE ENRICHMENT column", p)
    for col in ("SYMBOL", "GENE SYMBOL", "PROBE"):
        if col in table.columns:
            vals = table[col].str.strip()
            if (~vals.str.lower().isin(NA_STRINGS)).any():
                break
    else:
        raise InputError("GSEA desktop detail file without a SYMBOL, GENE SYMBOL or PROBE column", p)
    yes = table[core].str.strip().str.lower() == "yes"
    return list(dict.fromkeys(g for g in vals[yes] if g.lower() not in NA_STRINGS))


def _edb_leading_edges(folder: Path, table: pd.DataFrame) -> dict[str, list[str]] | None:
    """Leading edges from the run's ranked list and gene sets: hits up to (ES > 0) or from (ES < 0)
    ``RANK AT MAX``, GSEA's own definition."""
    edb = folder / "edb"
    gmt = edb / "gene_sets.gmt"
    rnks = sorted(edb.glob("*.rnk")) if edb.is_dir() else []
    if not gmt.is_file() or len(rnks) != 1 or "RANK AT MAX" not in table.columns:
        return None
    ranked = pd.read_csv(rnks[0], sep="\t", header=None, comment="#", dtype=str, usecols=[0])[0].str.strip()
    rank = {g: i for i, g in enumerate(ranked)}
    lib = read_gmt(gmt, on_duplicate="first")
    members = dict(zip(lib.terms, lib.gene_sets))
    out = {}
    for name, es, at in zip(table["NAME"].str.strip(), table["ES"], table["RANK AT MAX"]):
        try:
            es, at = float(es), int(float(at))
        except ValueError:
            continue
        if name not in members:
            continue
        hits = sorted((rank[g], g) for g in members[name] if g in rank)
        out[name] = [g for r, g in hits if (r <= at if es >= 0 else r >= at)]
        if es < 0:
            out[name] = out[name][::-1]  # strongest (bottom of the list) first, as GSEA shows it
    return out


def reports_in(folder: Path) -> list[Path]:
    """The ``gsea_report_for_*`` tables of a run folder (both phenotypes), sorted."""
    # GSEA 4 writes .tsv, GSEA 3 wrote the same text as .xls; take .tsv when a run has both
    found: dict[str, Path] = {}
    for suffix in (".xls", ".tsv"):
        for p in sorted(folder.glob(f"gsea_report_for_*{suffix}")):
            found[p.name[: -len(suffix)]] = p
    return [found[k] for k in sorted(found)]


def is_report(p: Path) -> bool:
    return p.name.startswith("gsea_report_for_")


_STAMP = re.compile(r"_(\d+)\.[^.]+$")  # gsea_report_for_na_pos_1700000000000.tsv


def one_run(paths: list[Path]) -> bool:
    """Two or more ``gsea_report_for_*`` files of one run: the same folder and, when every name ends
    in GSEA's ``_<timestamp>.<ext>``, the same timestamp."""
    if len(paths) < 2 or not all(is_report(p) and p.is_file() for p in paths):
        return False
    if len({p.resolve().parent for p in paths}) != 1:
        return False
    stamps = [_STAMP.search(p.name) for p in paths]
    return not all(stamps) or len({m.group(1) for m in stamps}) == 1

