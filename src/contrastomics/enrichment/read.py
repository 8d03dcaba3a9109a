"""Read GSEA / enrichment results into standard frames: the one reader and the one validator.

:func:`read_gsea_result` reads any supported tool's table, folder or reports (docs/enrichment.md
lists the tools and the policies); :func:`as_standard` converts an in-memory tool table. Their
frames are standard: nothing downstream re-checks them. :func:`read_conditions` is the one door
for one or several results, and :func:`standard_table` checks, once, an in-memory frame that
brings the standard columns itself.
"""
from __future__ import annotations

import os
import warnings
from importlib import resources
from itertools import chain
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..data.genesets import gc_paused
from ..errors import InputError
from .convert import read_table, standardise
from .gene_lists import split_genes
from .gsea_desktop import is_report, one_run, read_gsea_desktop, reports_in
from .layouts import FOLDER_FILES, FORMATS, detect_layout, normalise_format, reads_run_folder

#: columns of every standard frame, in this order (optional extras: ``library``, ``condition``)
STANDARD_COLUMNS = ["term", "name", "nes", "es", "pvalue", "fdr", "size", "genes", "direction"]
#: the columns a clustering needs; an in-memory frame with these is taken as standard (:func:`standard_table`)
REQUIRED_COLUMNS = ("term", "name", "nes", "fdr", "genes")


def detect_format(columns: Iterable[str], path: str | os.PathLike | None = None) -> str:
    """Name the tool that wrote a table from its column names.

    Parameters
    ----------
    columns
        Header of the table.
    path
        Only used to name the file in errors.

    Returns
    -------
    One of :data:`FORMATS`.

    Raises
    ------
    InputError
        When no tool's columns are all there (the message lists the formats tried and the columns
        found) or when the columns of two tools are mixed.
    """
    return detect_layout([str(c) for c in columns], path).format


def read_gsea_result(path: str | os.PathLike | Sequence[str | os.PathLike], format: str | None = None, *,
                     gmt: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read one GSEA or ORA result into the standard frame.

    Parameters
    ----------
    path
        A result table (TSV/CSV, optionally gzip), a gseapy output folder, a GSEA desktop run
        folder, or a list of GSEA desktop report files (both phenotypes of one run).
    format
        Force a tool (one of :data:`FORMATS`) instead of detecting it from the columns, or name the
        columns of any other table: ``{"term": ..., "fdr": ..., "nes": ..., "genes": ...}`` (roles
        ``term`` and ``fdr`` required; also ``name``, ``es``, ``pvalue``, ``size`` and ``condition``,
        a column naming the contrast of each row of a stacked table; roles not named are found
        as the automatic detection finds them, with a warning). A table no
        tool's layout matches is read by common column names (``format="generic"``), with a
        warning naming the columns chosen.
    gmt
        GSEA desktop only: gene sets to take genes from when the run folder has neither per-set
        detail files nor an ``edb/`` folder (whole members, not the leading edge).

    Returns
    -------
    DataFrame with one row per pathway and the columns :data:`STANDARD_COLUMNS` (see
    docs/enrichment.md), in the order of the file, with ``attrs`` ``format``, ``kind``, ``source``,
    ``n_rows``, ``warnings``, ``non_symbol_genes``, ``ids_mapped_to_symbols``.

    Raises
    ------
    InputError
        Missing or empty file, Excel workbook, unknown or mixed columns, a ``format=`` the columns
        do not match, a non-number in a numeric column (file, line and column named), no rows left.
    """
    with gc_paused():  # ~10^5 gene lists are built; none holds a cycle
        return _read_gsea_result(path, format, gmt)


def _read_gsea_result(path, format: str | None, gmt) -> pd.DataFrame:
    fmt = normalise_format(format)
    paths = _expand(path)
    first = paths[0]
    if Path(first).is_dir():
        raise InputError("folder holds no result table this reader knows (gseapy.*.report.csv, "
                         "gsea_report_for_*.tsv/.xls)", first)
    if len(paths) > 1 or (is_report(first) and (fmt is None or reads_run_folder(fmt))):
        return read_gsea_desktop(paths, fmt, gmt, source=path)
    table, header_line = read_table(first)
    layout = detect_layout(list(table.columns), first, fmt)
    if layout.run_folder:
        return read_gsea_desktop(paths, fmt, gmt, source=path)
    return standardise(table, layout, first, header_line, source=path)


def read_gsea_results(paths: Sequence[str | os.PathLike] | Mapping[str, str | os.PathLike],
                      names: Sequence[str] | None = None, *, format: str | None = None
                      ) -> dict[str, pd.DataFrame]:
    """Read several results (one per condition) for a multi-condition map.

    Parameters
    ----------
    paths
        Result paths, or a mapping ``{condition name: path}``.
    names
        Condition names, one per path; default the file name without suffixes (the folder name for
        a run folder).
    format
        Force one tool for all files.

    Returns
    -------
    ``{condition name: standard DataFrame}`` in input order. A gseapy table holding several
    prerank columns (several values in ``Name``) gives one entry per value (``name:value`` when
    more than one path is read).
    """
    if isinstance(paths, Mapping):
        if names is not None:
            raise InputError("give condition names either as mapping keys or as names=, not both")
        names, paths = list(paths.keys()), list(paths.values())
    paths = list(paths)
    if not paths:
        raise InputError("no GSEA result given")
    if names is None:
        names = [_default_name(p) for p in paths]
    names = [str(n) for n in names]
    if len(names) != len(paths):
        raise InputError(f"{len(names)} names for {len(paths)} result files")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"two results would share the condition name(s) {', '.join(dup)}; pass names=")
    return split_conditions({name: read_gsea_result(p, format=format) for name, p in zip(names, paths)})


def split_conditions(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Tables holding several conditions (gseapy ``Name``, clusterProfiler ``compareCluster``
    ``Cluster``: the readers' ``condition`` column) become one table per condition, named by the
    condition (``name:condition`` when there are several tables); other tables pass unchanged."""
    out: dict[str, pd.DataFrame] = {}
    for name, df in tables.items():
        if "condition" not in df.columns:
            out[name] = df
            continue
        for cond, sub in df.groupby("condition", sort=False, dropna=False):
            cond = "NA" if pd.isna(cond) or str(cond).strip() == "" else cond  # rows without a condition
            key = str(cond) if len(tables) == 1 else f"{name}:{cond}"
            sub = sub.drop(columns="condition").reset_index(drop=True)
            sub.attrs = dict(df.attrs)
            out[key] = sub
    return out


def as_standard(table: pd.DataFrame, format: str | None = None, *, source: str = "<DataFrame>") -> pd.DataFrame:
    """Convert an in-memory tool table (e.g. gseapy's ``res2d``) to the standard frame.

    A frame that already has the standard columns is returned unchanged (``attrs`` completed),
    so functions can take "a path or a DataFrame" and call this on the frame.

    Parameters
    ----------
    table
        A table with one tool's column names (docs/enrichment.md), or a standard frame.
    format
        Force a tool instead of detecting it.
    source
        Text put in ``attrs['source']`` and in error messages.
    """
    if set(STANDARD_COLUMNS) <= set(table.columns):
        out = table
        out.attrs = {"format": "standard", "kind": "ora" if out["nes"].isna().all() else "gsea",
                     "source": source, "n_rows": len(out), "warnings": [], "non_symbol_genes": 0,
                     **table.attrs}
        return out
    fmt = normalise_format(format)
    text = table.reset_index(drop=not _index_is_column(table))
    # list cells (fgsea's leadingEdge through rpy2, a python list of genes) -> "A;B"
    text = text.apply(lambda col: col.map(lambda v: ";".join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray))
                                          else v) if col.dtype == object else col)
    text = text.astype(object).where(text.notna(), "").astype(str)
    text.columns = [str(c).strip() for c in text.columns]
    lay = detect_layout(list(text.columns), source, fmt)
    return standardise(text, lay, source, 1, source=source)


def _index_is_column(table: pd.DataFrame) -> bool:
    # gseapy < 1.0 kept Term as the index; a RangeIndex carries nothing
    return not isinstance(table.index, pd.RangeIndex) and table.index.name is not None


def demo_result_path() -> Path:
    """Path of the shipped demo result: gseapy prerank, leukemia ALL vs AML, GO BP (gseapy format).

    See ``contrastomics/assets/demo/README.md`` for its provenance.
    """
    p = Path(str(resources.files("contrastomics") / "assets" / "demo" / "leukemia_all_vs_aml_gobp.tsv"))
    if not p.exists():
        raise FileNotFoundError(f"demo result missing from the installed package: {p}")
    return p


def to_gseapy_table(df: pd.DataFrame) -> pd.DataFrame:
    """Standard frame -> gseapy's result layout (``Term``, ``ES``, ``NES``, ``NOM p-val``,
    ``FDR q-val``, ``Tag %``, ``Lead_genes``), which :func:`read_gsea_result` reads back."""
    sizes = df["size"].astype("Int64")
    tag = [f"{len(g)}/{s}" if pd.notna(s) else "" for g, s in zip(df["genes"], sizes)]
    return pd.DataFrame({
        "Term": df["term"].to_numpy(), "ES": df["es"].to_numpy(), "NES": df["nes"].to_numpy(),
        "NOM p-val": df["pvalue"].to_numpy(), "FDR q-val": df["fdr"].to_numpy(), "Tag %": tag,
        "Lead_genes": [";".join(g) for g in df["genes"]],
    })


def _expand(path) -> list[Path]:
    """One path, a list of paths, or a folder -> the files to read."""
    if isinstance(path, (str, os.PathLike)):
        paths = [Path(path)]
    else:
        paths = [Path(p) for p in path]
        if not paths:
            raise InputError("no GSEA result file given")
    if len(paths) == 1 and paths[0].is_dir():
        return _files_in_folder(paths[0])
    return paths


def _files_in_folder(folder: Path) -> list[Path]:
    reports = reports_in(folder)
    if reports:
        return reports
    for pattern, tool in FOLDER_FILES:
        found = sorted(folder.glob(pattern))
        if len(found) == 1:
            return found
        if len(found) > 1:
            raise InputError(f"folder holds {len(found)} {tool} reports ({', '.join(p.name for p in found)}); "
                             "pass one file", folder)
    # GSEA desktop's output folder holds one run folder per analysis (``<label>.Gsea.<timestamp>``)
    runs = [d for d in sorted(folder.iterdir()) if d.is_dir() and reports_in(d)] if folder.is_dir() else []
    if len(runs) == 1:
        return reports_in(runs[0])
    if len(runs) > 1:
        raise InputError(f"folder holds {len(runs)} GSEA runs ({', '.join(d.name for d in runs[:5])}); pass one "
                         "run folder", folder)
    return [folder]


def _default_name(p) -> str:
    p = Path(p)
    if p.is_dir():
        return p.name
    name = p.name
    for suffix in (".gz", ".tsv", ".csv", ".txt", ".xls"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def read_conditions(result, names=None, format=None) -> dict[str, pd.DataFrame]:
    """One standard frame per condition of one or several results.

    Parameters
    ----------
    result
        A result path or DataFrame, a list of them (one per condition) or ``{name: path or frame}``.
        GSEA desktop ``gsea_report_for_*`` files of one run (same folder and timestamp) given
        without names or with one are one result, read as their run folder.
    names
        Condition names, one per result of a list, distinct (default: the file names; ``result<i>``
        for frames; repeated default names get ``_<i>``), or the one name of a single result (CLI
        ``--names``: checked here only).
    format
        Force a tool, or name the columns (see :func:`read_gsea_result`).

    Returns
    -------
    ``{condition: standard frame}`` in input order; a table holding several conditions (the
    reader's ``condition`` column) gives one entry per condition (:func:`split_conditions`).
    """
    return split_conditions(_read_tables(result, names, format))


def _read_tables(result, names, format) -> dict[str, pd.DataFrame]:
    if isinstance(result, Mapping):
        return {str(k): _read(v, format, str(k)) for k, v in result.items()}
    if isinstance(result, (list, tuple)) and _reports_of_one_run(result) and (names is None or len(names) == 1):
        result = list(dict.fromkeys(map(Path, result)))  # both phenotypes of one run: one result, as its folder
    elif isinstance(result, (list, tuple)):
        if names is not None and len(names) != len(result):
            raise InputError(f"{len(names)} name(s) for {len(result)} result(s); give one --names per file")
        if names is not None and len(set(map(str, names))) != len(names):
            twice = sorted({str(n) for n in names if list(map(str, names)).count(str(n)) > 1})
            raise InputError(f"--names must be distinct: {', '.join(map(repr, twice))} given more than once")
        keys = list(names) if names is not None else [
            Path(r).stem if not isinstance(r, pd.DataFrame) else f"result{i + 1}" for i, r in enumerate(result)]
        if len(set(keys)) != len(keys):
            keys = [f"{k}_{i + 1}" for i, k in enumerate(keys)]
        tables = {k: _read(r, format, k) for k, r in zip(keys, result)}
        fmts = {t.attrs.get("format") for t in tables.values()} - {None}
        if len(fmts) > 1:
            warnings.warn(f"the results come from different tools ({', '.join(sorted(fmts))}); their NES and "
                          "FDR scales differ, compare clusters, not values", stacklevel=3)
        return tables
    if names is not None and len(names) > 1:
        raise InputError(f"{len(names)} names for 1 result file")
    key = str(names[0]) if names else "result"
    return {key: _read(result, format, key)}


def _reports_of_one_run(result) -> bool:
    return all(isinstance(r, (str, os.PathLike)) for r in result) and one_run([Path(r) for r in result])


def _read(result, format, key: str) -> pd.DataFrame:
    if isinstance(result, pd.DataFrame):
        if set(REQUIRED_COLUMNS) <= set(result.columns) or len(result) == 0:
            return standard_table(result, result.attrs.get("source", key))
        return as_standard(result, format)  # a tool's own table in memory (gseapy's res2d, ...)
    return read_gsea_result(result, format=format)


def standard_table(df: pd.DataFrame, where: str) -> pd.DataFrame:
    """Check and coerce a frame that claims the standard columns (an in-memory table).

    Returns a copy with ``term``/``name`` as str (an empty name: the term), ``nes``/``fdr`` as
    float (non-numbers NaN) and ``genes`` as lists of clean str. Raises :class:`InputError`
    (prefixed by ``where``) when the table is empty or lacks one of :data:`REQUIRED_COLUMNS`.
    """
    if df is None or len(df) == 0:
        raise InputError(f"{where}: the result has no pathways (empty table)")
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{where}: missing column(s) {', '.join(missing)}; read result files with "
                         "contrastomics.enrichment.read_gsea_result (gseapy, GSEA desktop, fgsea, "
                         "clusterProfiler, Enrichr)")
    df = df.copy()
    df["term"] = df["term"].astype(str)
    df["name"] = df["name"].fillna(df["term"]).astype(str)
    df["nes"] = pd.to_numeric(df["nes"], errors="coerce")
    df["fdr"] = pd.to_numeric(df["fdr"], errors="coerce")
    bad = df["fdr"].notna() & ~df["fdr"].between(0, 1)
    if bad.any():  # inf or outside 0..1: missing, as the file reader does (infinite NES: cluster's filter)
        warnings.warn(f"{where}: {int(bad.sum())} pathway(s) have an FDR outside 0..1 or infinite (e.g. "
                      f"{df.loc[bad, 'term'].iloc[0]}: {df.loc[bad, 'fdr'].iloc[0]:g}): read as missing", stacklevel=4)
        df.loc[bad, "fdr"] = np.nan
    genes = df["genes"].tolist()
    if all(type(g) is list for g in genes):
        # lists whose distinct genes are all clean str need only a copy: check the ~20k distinct
        # genes instead of ~2M mentions
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
    return split_genes(str(g))  # the readers' rule: any of ; / | , space, R c(...), NA dropped
