"""Read the result tables of every common GSEA / over-representation tool into one standard frame.

Supported tools, recognised by their own column names (never ask users to reformat):

=================  ===========================================================================
``format``         what is read
=================  ===========================================================================
``gseapy``         ``prerank``/``gsea`` tables (``Name``, ``Term``, ``ES``, ``NES``, ``NOM p-val``,
                   ``FDR q-val``, ``Tag %``, ``Lead_genes`` ``;``-separated), gseapy < 1.0 tables
                   (``Term``, ``es``, ``nes``, ``pval``, ``fdr``, ``ledge_genes``; also blitzGSEA's
                   ``geneset_size``/``leading_edge``), ``enrichr``/
                   ``enrich`` ORA tables (``Gene_set``, ``Term``, ``Overlap``, ``Adjusted P-value``,
                   ``Genes``) and a gseapy output folder (``gseapy.*.report.csv``).
``gsea-desktop``   Broad GSEA ``gsea_report_for_*.tsv`` / ``.xls`` (text despite the suffix):
                   ``NAME``, ``SIZE``, ``ES``, ``NES``, ``NOM p-val``, ``FDR q-val``, ``RANK AT MAX``,
                   ``LEADING EDGE`` (statistics, not genes). Pass one report, both reports or the
                   run folder. Genes come from, in order: the per-set detail files of the run
                   folder (``<SET>.tsv``/``.xls``, rows with ``CORE ENRICHMENT = Yes``); the run's
                   ``edb/`` ranked list and ``edb/gene_sets.gmt`` cut at ``RANK AT MAX`` (the
                   leading edge by GSEA's definition); a ``gmt=`` file (whole set members, with a
                   warning); else empty lists with a warning.
``fgsea``          ``fgsea`` (``pathway``, ``pval``, ``padj``, ``ES``, ``NES``, ``size``,
                   ``leadingEdge`` as an R list ``c("A", "B")`` or ``|``/``;``/``,``/space
                   separated) and ``fora`` (``overlap``, ``overlapGenes``).
``clusterprofiler`` ``GSEA``/``gseGO``/``gseKEGG`` (``ID``, ``Description``, ``setSize``,
                   ``enrichmentScore``, ``NES``, ``pvalue``, ``p.adjust``, ``qvalue(s)``,
                   ``core_enrichment`` ``/``-separated) and ``enrichGO``/``enricher`` ORA
                   (``GeneRatio``, ``BgRatio``, ``geneID``, ``Count``); a ``compareCluster`` table
                   (``Cluster`` column) gives one condition per cluster.
``enrichr``        Enrichr web tables (``Term``, ``Overlap``, ``P-value``, ``Adjusted P-value``,
                   ``Genes`` ``;``-separated).
``gprofiler``      g:Profiler web CSV (``term_id``, ``term_name``, ``adjusted_p_value``,
                   ``intersections``) and ``gprofiler2::gost`` tables (``p_value``, already
                   corrected by g:Profiler, ``intersection`` with ``evcodes = TRUE``).
``webgestalt``     WebGestalt GSEA (``geneSet``, ``description``, ``normalizedEnrichmentScore``,
                   ``FDR``, ``userId``/``leadingEdgeId``) and ORA (``enrichmentRatio``, ``overlapId``).
``david``          DAVID functional annotation chart (``Category``, ``Term`` as ``GO:...~name``,
                   ``PValue``, ``Benjamini``, ``Genes``, ``Pop Hits``).
``metascape``      Metascape ``_FINAL_GO.csv`` (``GroupID``: ``_Summary`` rows dropped, members kept;
                   ``Term``, ``Description``, ``LogP``, ``Log(q-value)`` as log10 values,
                   ``InTerm_InList``, ``Symbols``) and ``GO_AllLists.csv`` (``GeneList`` per input list
                   as conditions, ``#GeneInGO``, ``Hits`` ``|``-separated).
``shinygo``        ShinyGO ``enrichment.csv`` (``Enrichment FDR``, ``Pathway`` as ``Path:hsa03050 Name`` or
                   ``GO:0006259 Name``, split into id and name, ``Pathway Genes``, ``Genes``).
``generic``        Any other table, by common column names (pathway id: ``term``/``pathway``/``ID``/
                   ``gene set``..., FDR: ``FDR``/``padj``/``q-value``/``adjusted p-value``..., optional
                   ``NES``, ``p-value``, ``size``, genes: ``leading edge``/``core_enrichment``/
                   ``genes``/``intersections``...; a NES column makes it a GSEA result): the fallback
                   when no layout above matches, with a warning naming the columns chosen. Or name
                   them: ``format={"term": ..., "fdr": ..., "nes": ..., "genes": ...}`` (CLI
                   ``--column term=NAME``).
=================  ===========================================================================

Tables may be tab-, comma- or semicolon-separated (sniffed from the header) and gzip-compressed
(detected from the bytes). Excel workbooks are refused with a hint to save them as TSV/CSV.

Output columns (:data:`STANDARD_COLUMNS`):

``term`` (id as written in the file), ``name`` (readable: clusterProfiler ``Description``, else the
term humanised), ``nes`` (float, NaN for ORA), ``es`` (float or NaN), ``pvalue``, ``fdr``
(FDR q-value / adjusted p-value as the tool reports it), ``size`` (gene-set size after the tool's
filtering, nullable int), ``genes`` (list of str: the leading edge for GSEA, the overlap genes for
ORA), ``direction`` (+1 / -1 from the NES sign; always +1 for ORA). Optional extra columns:
``library`` (gseapy ``Gene_set`` when the file holds several libraries) and ``condition`` (gseapy
``Name`` when it holds several prerank columns).

``df.attrs`` holds ``format``, ``kind`` (``"gsea"`` or ``"ora"``), ``source`` (path), ``n_rows``
(result rows in the file, before any row is dropped), ``warnings`` (list of str, each also sent
through :func:`warnings.warn`) and ``non_symbol_genes`` (count of distinct genes that do not look
like human symbols).

Tables written by R with row names (``write.table``: a header one field short; ``write.csv``: an
empty first header cell) keep names as a ``row.names`` column (plain row numbers are dropped), so
limma ``camera``/``roast`` tables, whose set names are only row names, are read; a ``Direction``
(Up/Down) column without a NES gives a stand-in NES of +/- -log10(p) with a warning. Bounds such as
topGO's ``< 1e-30`` are read as the bound.

Results of several contrasts stacked in one table (a ``contrast``/``comparison``/``condition``/
``cluster``/``group`` column under which each pathway appears once) give one condition per value.
Bader-lab set names (``NAME%SOURCE%ID``) are named from their first field.

Human Entrez and Ensembl gene ids in the gene lists (clusterProfiler without ``setReadable``, fgsea
with ``reactomePathways``) are read as gene symbols through the shipped msigdbr 2023.1 id table,
with a warning giving the count (``attrs['ids_mapped_to_symbols']``); unknown ids stay as written.

Gene columns mixing human-like and mouse-like symbols (each kind at least two genes and more than 5%
of the genes with a hint; :func:`contrastomics.data.genes.guess_species`) are an error: map the
genes to one species first.

Policies: rows whose NES is missing are dropped (a pathway without a NES has no direction and its
p-values are undefined) and counted in a warning; duplicate term names keep the row with the best
(lowest) FDR, then p-value, with a warning; genes that look like mouse symbols (``Trp53``), Ensembl
or Entrez ids are kept as written and counted in a warning with examples.
"""
from __future__ import annotations

import io
import os
import re
import warnings
from dataclasses import dataclass
from itertools import chain
from importlib import resources
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from .genesets import _gc_paused, humanize_term
from .io import open_text

FORMATS = ("gseapy", "gsea-desktop", "fgsea", "clusterprofiler", "enrichr", "gprofiler", "webgestalt", "david",
           "shinygo", "metascape", "generic")
STANDARD_COLUMNS = ["term", "name", "nes", "es", "pvalue", "fdr", "size", "genes", "direction"]

_FORMAT_ALIASES = {
    "gseapy": "gseapy", "gsea-desktop": "gsea-desktop", "gsea_desktop": "gsea-desktop",
    "gseadesktop": "gsea-desktop", "gsea": "gsea-desktop", "broad": "gsea-desktop",
    "fgsea": "fgsea", "fora": "fgsea", "clusterprofiler": "clusterprofiler",
    "clusterprofile": "clusterprofiler", "cp": "clusterprofiler", "enrichr": "enrichr",
    "gprofiler": "gprofiler", "g:profiler": "gprofiler", "gprofiler2": "gprofiler", "gost": "gprofiler",
    "webgestalt": "webgestalt", "webgestaltr": "webgestalt", "david": "david", "shinygo": "shinygo",
    "metascape": "metascape",
    "generic": "generic", "table": "generic", "other": "generic", "auto": None,
}

_NA_STRINGS = {"", "na", "nan", "n/a", "none", "null", "---", "-", "inf?"}


@dataclass(frozen=True)
class _Layout:
    """How one tool's table maps onto the standard columns."""

    format: str
    kind: str                     # "gsea" or "ora"
    required: tuple[str, ...]     # columns that identify the layout
    term: str
    fdr: str
    nes: str | None = None
    es: str | None = None
    pvalue: str | None = None
    name: str | None = None
    size: "str | tuple[str, ...] | None" = None  # a tuple: the first of these columns the table has
    size_ratio: str | None = None  # "k/n" column giving the size: "den" or "num" part, see size_part
    size_part: str = "den"
    genes: "str | tuple[str, ...] | None" = None
    label: str = ""
    condition: str | None = None  # a column naming the result (contrast) of each row (column mappings)
    log10: bool = False  # p-value and FDR columns hold log10 values (Metascape's LogP, Log(q-value))
    direction: str | None = None  # Up/Down column of tools without a NES (limma camera/roast)


_LAYOUTS: tuple[_Layout, ...] = (
    _Layout("gseapy", "gsea", ("Term", "NES", "NOM p-val", "FDR q-val"), term="Term", fdr="FDR q-val",
            nes="NES", es="ES", pvalue="NOM p-val", size_ratio="Tag %", genes="Lead_genes",
            label="gseapy prerank/gsea"),
    _Layout("gseapy", "gsea", ("Term", "nes", "pval", "fdr"), term="Term", fdr="fdr", nes="nes", es="es",
            pvalue="pval", size=("matched_size", "geneset_size"), genes=("ledge_genes", "leading_edge"),
            label="gseapy < 1.0 prerank/gsea or blitzGSEA"),
    _Layout("gseapy", "ora", ("Gene_set", "Term", "Overlap", "Adjusted P-value"), term="Term",
            fdr="Adjusted P-value", pvalue="P-value", size_ratio="Overlap", genes="Genes",
            label="gseapy enrichr/enrich"),
    _Layout("gsea-desktop", "gsea", ("NAME", "SIZE", "NES", "NOM p-val", "FDR q-val"), term="NAME",
            fdr="FDR q-val", nes="NES", es="ES", pvalue="NOM p-val", size="SIZE", label="GSEA desktop report"),
    _Layout("fgsea", "gsea", ("pathway", "pval", "padj", "NES"), term="pathway", fdr="padj", nes="NES",
            es="ES", pvalue="pval", size="size", genes="leadingEdge", label="fgsea"),
    _Layout("fgsea", "ora", ("pathway", "pval", "padj", "overlap"), term="pathway", fdr="padj",
            pvalue="pval", size="size", genes="overlapGenes", label="fgsea fora"),
    _Layout("clusterprofiler", "gsea", ("ID", "Description", "setSize", "NES", "p.adjust"), term="ID",
            name="Description", fdr="p.adjust", nes="NES", es="enrichmentScore", pvalue="pvalue",
            size="setSize", genes="core_enrichment", label="clusterProfiler GSEA"),
    _Layout("clusterprofiler", "ora", ("ID", "Description", "GeneRatio", "p.adjust"), term="ID",
            name="Description", fdr="p.adjust", pvalue="pvalue", size_ratio="BgRatio", size_part="num",
            genes="geneID", label="clusterProfiler enrichGO/enricher"),
    _Layout("enrichr", "ora", ("Term", "Overlap", "P-value", "Adjusted P-value"), term="Term",
            fdr="Adjusted P-value", pvalue="P-value", size_ratio="Overlap", genes="Genes",
            label="Enrichr"),
    # g:Profiler web CSV (adjusted_p_value) and gprofiler2::gost() tables, whose p_value is already
    # multiple-testing corrected (g:SCS by default)
    _Layout("gprofiler", "ora", ("term_id", "term_name", "adjusted_p_value"), term="term_id", name="term_name",
            fdr="adjusted_p_value", size="term_size", genes=("intersections", "intersection"),
            label="g:Profiler (web)"),
    _Layout("gprofiler", "ora", ("term_id", "term_name", "p_value", "intersection_size"), term="term_id",
            name="term_name", fdr="p_value", size="term_size", genes=("intersection", "intersections"),
            label="g:Profiler (gprofiler2 gost)"),
    _Layout("webgestalt", "gsea", ("geneSet", "normalizedEnrichmentScore", "FDR"), term="geneSet",
            name="description", fdr="FDR", nes="normalizedEnrichmentScore", es="enrichmentScore",
            pvalue="pValue", size="size", genes=("userId", "leadingEdgeId"), label="WebGestalt GSEA"),
    _Layout("webgestalt", "ora", ("geneSet", "enrichmentRatio", "FDR"), term="geneSet", name="description",
            fdr="FDR", pvalue="pValue", size="size", genes=("userId", "overlapId"), label="WebGestalt ORA"),
    # ShinyGO enrichment.csv: Pathway is "Path:hsa03050 Proteasome" / "GO:0006259 Dna metabolic proc."
    _Layout("shinygo", "ora", ("Enrichment FDR", "Pathway"), term="Pathway", fdr="Enrichment FDR",
            size="Pathway Genes", genes="Genes", label="ShinyGO"),
    # Metascape: _FINAL_GO.csv (GroupID n_Summary / n_Member rows, Symbols) and Enrichment_GO
    # GO_AllLists.csv (GeneList per input list, Hits "|"-separated); p and q as log10 values
    _Layout("metascape", "ora", ("Term", "Description", "LogP", "Log(q-value)"), term="Term", name="Description",
            fdr="Log(q-value)", pvalue="LogP", size="#GeneInGO", size_ratio="InTerm_InList",
            genes=("Symbols", "Hits", "Genes", "GeneID"), log10=True, label="Metascape"),
    # DAVID functional annotation chart: Term is "GO:0006955~immune response" (split into id and name)
    _Layout("david", "ora", ("Category", "Term", "PValue", "Benjamini"), term="Term", fdr="Benjamini",
            pvalue="PValue", size="Pop Hits", genes="Genes", label="DAVID functional annotation chart"),
)

# Columns only one tool writes; two of another tool's markers in a table mean it mixes tools.
_MARKERS = {
    "gseapy": {"Lead_genes", "Tag %", "Gene %", "ledge_genes", "Gene_set"},
    "gsea-desktop": {"NAME", "SIZE", "LEADING EDGE", "RANK AT MAX", "GS DETAILS"},
    "fgsea": {"pathway", "pval", "padj", "leadingEdge", "log2err", "nMoreExtreme", "overlapGenes"},
    "clusterprofiler": {"ID", "Description", "setSize", "enrichmentScore", "p.adjust", "core_enrichment",
                        "GeneRatio", "BgRatio", "geneID", "qvalue", "qvalues"},
    "enrichr": {"Old P-value", "Old Adjusted P-value"},
    "gprofiler": {"term_id", "term_name", "intersections", "intersection_size", "effective_domain_size"},
    "webgestalt": {"geneSet", "normalizedEnrichmentScore", "enrichmentRatio", "leadingEdgeId", "overlapId"},
    "david": {"Category", "Benjamini", "Pop Hits", "List Total", "Pop Total"},
    "shinygo": {"Enrichment FDR", "nGenes", "Pathway Genes"},
    "metascape": {"LogP", "Log(q-value)", "InTerm_InList", "GroupID", "#GeneInGO"},
}
# gseapy's enrichr tables are Enrichr tables plus a Gene_set column: one family.
_FAMILY = {"gseapy": "gseapy", "enrichr": "gseapy", "gsea-desktop": "gsea-desktop", "fgsea": "fgsea",
           "clusterprofiler": "clusterprofiler", "gprofiler": "gprofiler", "webgestalt": "webgestalt",
           "david": "david", "shinygo": "shinygo", "metascape": "metascape", "generic": "generic"}


# --------------------------------------------------------------------------------------- public API
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
    return _detect_layout([str(c) for c in columns], path).format


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
        a column naming the contrast of each row of a stacked table). A table no
        tool's layout matches is read by common column names (``format="generic"``), with a
        warning naming the columns chosen.
    gmt
        GSEA desktop only: gene sets to take genes from when the run folder has neither per-set
        detail files nor an ``edb/`` folder (whole members, not the leading edge).

    Returns
    -------
    DataFrame with one row per pathway and the columns :data:`STANDARD_COLUMNS` (see the module
    docstring), in the order of the file, with ``attrs`` ``format``, ``kind``, ``source``,
    ``n_rows``, ``warnings``, ``non_symbol_genes``.

    Raises
    ------
    InputError
        Missing or empty file, Excel workbook, unknown or mixed columns, a ``format=`` the columns
        do not match, a non-number in a numeric column (file, line and column named), no rows left.
    """
    with _gc_paused():  # ~10^5 gene lists are built; none holds a cycle
        return _read_gsea_result(path, format, gmt)


def _read_gsea_result(path, format: str | None, gmt) -> pd.DataFrame:
    fmt = _normalise_format(format)
    paths = _expand(path)
    first = paths[0]
    if Path(first).is_dir():
        raise InputError("folder holds no result table this reader knows (gseapy.*.report.csv, "
                         "gsea_report_for_*.tsv/.xls)", first)
    if len(paths) > 1 or (_is_gsea_desktop_report(first) and fmt in (None, "gsea-desktop")):
        return _read_gsea_desktop(paths, fmt, gmt, source=path)
    table, header_line = _read_table(first)
    layout = _pick_layout(table, fmt, first)
    if layout.format == "gsea-desktop":
        return _read_gsea_desktop(paths, fmt, gmt, source=path)
    return _standardise(table, layout, first, header_line, source=path)


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
        A table with one tool's column names (see the module docstring), or a standard frame.
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
    fmt = _normalise_format(format)
    text = table.reset_index(drop=not _index_is_column(table))
    # list cells (fgsea's leadingEdge through rpy2, a python list of genes) -> "A;B"
    text = text.apply(lambda col: col.map(lambda v: ";".join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray))
                                          else v) if col.dtype == object else col)
    text = text.astype(object).where(text.notna(), "").astype(str)
    text.columns = [str(c).strip() for c in text.columns]
    lay = _detect_layout(list(text.columns), source, fmt)
    return _standardise(text, lay, source, 1, source=source)


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


# ------------------------------------------------------------------------------------ reading text
def _normalise_format(format) -> "str | dict[str, str] | None":
    if format is None:
        return None
    if isinstance(format, Mapping):
        return _column_mapping(format)
    key = str(format).strip().lower().replace(" ", "")
    if key not in _FORMAT_ALIASES:
        raise InputError(f"unknown format={format!r}; choose one of {', '.join(FORMATS)}, or give the "
                         "columns (format={'term': ..., 'fdr': ..., 'nes': ..., 'genes': ...}; "
                         "CLI: --column term=NAME ...)")
    return _FORMAT_ALIASES[key]


def _column_mapping(mapping: Mapping) -> dict[str, str]:
    bad = sorted(str(k) for k in mapping if k not in _ROLES)
    if bad:
        raise InputError(f"unknown column role(s) {', '.join(bad)}; use {', '.join(_ROLES)} "
                         "(e.g. term=Pathway fdr=padj nes=NES genes=leadingEdge)")
    out = {str(k): str(v).strip() for k, v in mapping.items() if v is not None and str(v).strip()}
    if "term" not in out or "fdr" not in out:
        raise InputError("a column mapping needs at least term= and fdr= (the pathway id and its "
                         f"adjusted p-value / FDR column); got {', '.join(f'{k}={v}' for k, v in out.items()) or 'none'}")
    return out


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
    reports = _gsea_desktop_reports(folder)
    if reports:
        return reports
    gseapy = (sorted(folder.glob("gseapy.*.report.csv")) or sorted(folder.glob("gseapy.*.report.txt"))
              or sorted(folder.glob("*.human.enrichr.reports.txt")))
    if len(gseapy) == 1:
        return gseapy
    if len(gseapy) > 1:
        raise InputError(f"folder holds {len(gseapy)} gseapy reports ({', '.join(p.name for p in gseapy)}); "
                         "pass one file", folder)
    return [folder]


def _gsea_desktop_reports(folder: Path) -> list[Path]:
    # GSEA 4 writes .tsv, GSEA 3 wrote the same text as .xls; take .tsv when a run has both
    found: dict[str, Path] = {}
    for suffix in (".xls", ".tsv"):
        for p in sorted(folder.glob(f"gsea_report_for_*{suffix}")):
            found[p.name[: -len(suffix)]] = p
    return [found[k] for k in sorted(found)]


def _is_gsea_desktop_report(p: Path) -> bool:
    return p.name.startswith("gsea_report_for_")


def _default_name(p) -> str:
    p = Path(p)
    if p.is_dir():
        return p.name
    name = p.name
    for suffix in (".gz", ".tsv", ".csv", ".txt", ".xls"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def _read_table(path: Path) -> tuple[pd.DataFrame, int]:
    """Read a delimited text table as strings. Returns the table and the 1-based header line.

    Blank rows are kept (as empty rows, dropped later) so that row ``i`` is line ``header + 1 + i``.
    """
    path = Path(path)
    if path.exists() and path.is_file():
        with open(path, "rb") as fh:
            magic = fh.read(8)
        if magic.startswith(b"PK\x03\x04") or magic.startswith(b"\xd0\xcf\x11\xe0"):
            raise InputError("is an Excel workbook; save the sheet as TSV or CSV (Excel files are not read)", path)
    with open_text(path) as fh:
        text = fh.read()
    text = text.lstrip("\ufeff")
    end = text.find("\n")
    first = text if end < 0 else text[:end]
    if first.strip() and not first.startswith("#") and _only_newline_breaks(text):
        # the usual file (header on line 1, "\n" the only line break): the body below is the text as
        # "\n".join(text.splitlines()) rebuilds it, without copying a 10^5-line file twice
        header_idx, header = 0, first
        body = text[:-1] if text.endswith("\n") else text
    else:
        lines = text.splitlines()
        header_idx = next((i for i, ln in enumerate(lines) if ln.strip() and not ln.startswith("#")), None)
        if header_idx is None:
            raise InputError("no header line (the file holds only blank or '#' lines)", path)
        header = lines[header_idx]
        body = "\n".join(lines[header_idx:])
    sep = _sniff(header, path, header_idx + 1)
    try:
        # keep_default_na=False already parses no cell as NA; na_filter=False skips looking (C engine)
        fast = {} if sep == r"\s+" else {"na_filter": False}
        table = pd.read_csv(io.StringIO(body), sep=sep, dtype=str, keep_default_na=False,
                            skip_blank_lines=False, quotechar='"', engine="python" if sep == r"\s+" else "c", **fast)
    except pd.errors.ParserError as e:
        m = re.search(r"line (\d+)", str(e))
        line = int(m.group(1)) + header_idx if m else None
        raise InputError(f"rows do not have the header's number of columns ({e})", path, line) from None
    except pd.errors.EmptyDataError:
        raise InputError("file is empty", path) from None
    table.columns = [str(c).strip().lstrip("\ufeff") for c in table.columns]
    # R's write.csv adds a row-name column with an empty header; GSEA desktop ends lines with a tab
    unnamed = [c for c in table.columns if c == "" or c.startswith("Unnamed:")]
    rownames = table[table.columns[0]] if len(table.columns) and table.columns[0] in unnamed else None
    table = table.drop(columns=unnamed)
    if not isinstance(table.index, pd.RangeIndex):  # R's write.table: the header is one field short
        rownames = pd.Series(table.index.astype(str))
        table = table.reset_index(drop=True)
    if rownames is not None and not rownames.str.strip().str.fullmatch(r"\d*").all():
        # row names that are names (limma camera/roast keep the gene-set names only there)
        table.insert(0, "row.names", rownames.to_numpy())
    return table, header_idx + 1


# str.splitlines() also breaks lines at these (text mode has already made \r\n and \r into \n)
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _only_newline_breaks(text: str) -> bool:
    if text.isascii():
        return not any(c in text for c in "\r\x0b\x0c\x1c\x1d\x1e")
    return _OTHER_BREAKS.search(text) is None


def _sniff(header: str, path: Path, line: int) -> str:
    counts = {"\t": header.count("\t"), ",": header.count(","), ";": header.count(";")}
    sep = max(counts, key=counts.get)
    if counts[sep] == 0:
        if len(header.split()) > 1:
            return r"\s+"
        raise InputError("cannot tell the column separator: the header has no tab, comma or semicolon "
                         f"(header: {header[:80]!r})", path, line)
    return sep


# ------------------------------------------------------------------------------- format detection
def _detect_layout(columns: list[str], path, fmt=None) -> _Layout:
    if isinstance(fmt, dict):
        return _mapped_layout(columns, fmt, path)
    if fmt == "generic":
        return _generic_layout(columns, path, required=True)
    return _resolve(_known_layout(columns, path, fmt), columns)


def _known_layout(columns: list[str], path, fmt: str | None) -> _Layout:
    cols = set(columns)
    matched = [lay for lay in _LAYOUTS if set(lay.required) <= cols]
    if fmt is not None:
        own = [lay for lay in matched if lay.format == fmt]
        if not own:
            needs = " or ".join(
                "(" + ", ".join(c for c in lay.required if c not in cols) + ")"
                for lay in _LAYOUTS if lay.format == fmt)
            hint = ""
            others = sorted({lay.format for lay in matched})
            if others:
                hint = f"; the columns look like {', '.join(others)}: drop format= or pass format={others[0]!r}"
            raise InputError(f"format={fmt!r} given but the table lacks the column(s) {needs} "
                             f"(columns found: {_list(columns)}){hint}", path)
        matched = own
    if not matched:
        squashed = {_squash(c) for c in columns}
        if squashed & {"logfc", "log2foldchange", "basemean", "logcpm", "avgexpr", "avglog2fc"}:
            raise InputError(f"looks like a gene-level differential expression table ({_list(columns, 6)}), "
                             "not a pathway result: rank the genes and run GSEA first (`contrastomics gsea "
                             "RANKED.rnk --library GO_BP`), or give the GSEA/enrichment result", path)
        generic = _generic_layout(columns, path, required=False)
        if generic is not None:
            return generic
        tried = "; ".join(f"{lay.label}: {', '.join(lay.required)}" for lay in _LAYOUTS)
        raise InputError(f"unknown result columns: found {_list(columns)}; formats tried ({tried}), and no "
                         "pathway-id + FDR column pair by common names; name the columns with "
                         "--column term=NAME --column fdr=NAME [--column nes=NAME --column genes=NAME] "
                         "(Python: format={'term': ..., 'fdr': ...})", path)
    families = {_FAMILY[lay.format] for lay in matched}
    if len(families) > 1:
        raise InputError("the table mixes columns of several tools ("
                         + ", ".join(sorted({lay.label for lay in matched}))
                         + f"); columns found: {_list(columns)}", path)
    chosen = matched[0]
    for other, markers in _MARKERS.items():
        if _FAMILY[other] == _FAMILY[chosen.format]:
            continue
        foreign = sorted(markers & cols)
        if len(foreign) >= 2:
            raise InputError(f"the table mixes {chosen.label} columns with {other} columns "
                             f"({', '.join(foreign)}); write one tool's result per file", path)
    return chosen


def _resolve(lay: _Layout, columns: Sequence[str]) -> _Layout:
    """A layout whose alternative columns (tuples) are narrowed to the first one the table has."""
    from dataclasses import replace
    cols = set(columns)
    fixed = {}
    for field in ("size", "genes"):
        spec = getattr(lay, field)
        if isinstance(spec, tuple):
            fixed[field] = next((c for c in spec if c in cols), spec[0])
    return replace(lay, **fixed) if fixed else lay


#: Standard roles a column can play, and the column names (lower-cased, punctuation removed) that
#: commonly mean them, in order of preference. Used for tables of tools without a layout above.
_ROLES = ("term", "name", "nes", "es", "pvalue", "fdr", "size", "genes", "condition", "direction")
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "term": ("term", "termid", "pathway", "pathwayid", "geneset", "genesetid", "genesetname", "gs",
             "goid", "goterm", "native", "setname", "pathwayname", "termname", "id", "name", "description",
             "rownames"),
    "name": ("description", "termname", "pathwayname", "name", "termdescription", "genesetname",
             "pathwaydescription", "goname"),
    "nes": ("nes", "normalizedenrichmentscore", "normalisedenrichmentscore", "normenrichmentscore", "normes"),
    "es": ("es", "enrichmentscore"),
    "direction": ("direction", "regulation", "updown"),
    "pvalue": ("pvalue", "pval", "nompval", "nominalpvalue", "nompvalue", "rawpvalue", "p"),
    "fdr": ("fdr", "fdrqval", "fdrqvalue", "padj", "padjust", "padjusted", "adjpval", "adjpvalue",
            "adjustedpvalue", "adjustedpval", "pvaladj", "pvalueadj", "pvaluefdr", "adjp", "qvalue", "qval",
            "qvalues", "q", "fdrbh", "bh", "benjamini", "benjaminihochberg", "enrichmentfdr", "falsediscoveryrate"),
    "size": ("size", "setsize", "genesetsize", "termsize", "pathwaysize", "matchedsize", "nsize", "ngenes"),
    "genes": ("leadingedge", "leadingedgegenes", "leadgenes", "ledgegenes", "coreenrichment", "coregenes",
              "leadingedgeid", "leadingedgesymbols", "genes", "genesymbols", "symbols",
              "overlapgenes", "intersections", "intersection", "userid", "members", "genelist"),
}


def _squash(column: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(column).lower())


def _generic_layout(columns: list[str], path, *, required: bool) -> "_Layout | None":
    """A layout from common column names (see :data:`_SYNONYMS`), for tables of tools without their
    own layout: needs a pathway-id, an FDR / adjusted p-value and a NES or gene-list column; a NES
    column makes it a GSEA result, else an over-representation one. ``None`` (or an error when ``required``) when
    those are not found. The columns chosen are reported in a warning."""
    by_key: dict[str, str] = {}
    for c in columns:
        by_key.setdefault(_squash(c), c)
    found: dict[str, str] = {}
    for role in ("term", "fdr", "nes", "es", "pvalue", "size", "genes", "name", "direction"):
        taken = set(found.values())
        col = next((by_key[k] for k in _SYNONYMS[role] if k in by_key and by_key[k] not in taken), None)
        if col is not None:
            found[role] = col
    # a pathway table carries a NES or gene lists; a gene-level table (limma's ID + adj.P.Val) does not
    if "term" not in found or "fdr" not in found or not ({"nes", "genes", "direction"} & set(found)):
        if not required:
            return None
        missing = [r for r in ("term", "fdr") if r not in found] or ["genes"]
        raise InputError(f"format='generic': no {' or '.join(missing)} column among {_list(columns)}; name it "
                         f"with --column {missing[0]}=NAME (Python: format={{'{missing[0]}': NAME, ...}})", path)
    return _mapped_layout(columns, found, path, label="generic table (columns chosen by name: "
                          + ", ".join(f"{k}={v!r}" for k, v in found.items()) + ")")


def _mapped_layout(columns: list[str], mapping: dict[str, str], path, *, label: str | None = None) -> _Layout:
    """A layout from an explicit ``{role: column}`` mapping (``term`` and ``fdr`` required)."""
    missing = sorted({v for v in mapping.values() if v not in set(columns)})
    if missing:
        raise InputError(f"column(s) {', '.join(map(repr, missing))} not in the table (columns found: "
                         f"{_list(columns)})", path)
    return _Layout("generic", "gsea" if {"nes", "direction"} & set(mapping) else "ora", tuple(mapping.values()),
                   term=mapping["term"], fdr=mapping["fdr"], nes=mapping.get("nes"), es=mapping.get("es"),
                   pvalue=mapping.get("pvalue"), name=mapping.get("name"), size=mapping.get("size"),
                   genes=mapping.get("genes"), condition=mapping.get("condition"), direction=mapping.get("direction"),
                   label=label or "columns " + ", ".join(f"{k}={v!r}" for k, v in mapping.items()))


def _pick_layout(table: pd.DataFrame, fmt: str | None, path: Path) -> _Layout:
    return _detect_layout(list(table.columns), path, fmt)


def _list(columns: Sequence[str], n: int = 15) -> str:
    cols = [repr(c) for c in columns]
    return ", ".join(cols[:n]) + (f", ... ({len(cols)} in all)" if len(cols) > n else "")


# --------------------------------------------------------------------------------- standardising
def _standardise(table: pd.DataFrame, lay: _Layout, path: Path, header_line: int, *, source,
                 genes_override: list[list[str]] | None = None, extra_warnings: Sequence[str] = ()
                 ) -> pd.DataFrame:
    out, notes, n_rows = _convert(table, lay, path, header_line, genes_override)
    return _finish(out, lay, source, n_rows, list(extra_warnings) + notes)


def _convert(table: pd.DataFrame, lay: _Layout, path: Path, header_line: int,
             genes_override: list[list[str]] | None = None) -> tuple[pd.DataFrame, list[str], int]:
    """Tool columns -> standard columns (rows without NES dropped). Returns frame, notes, rows read."""
    lines = np.arange(len(table)) + header_line + 1
    keep = ~(table == "").all(axis=1).to_numpy()
    if lay.format == "metascape" and "GroupID" in table.columns:  # summary rows repeat a member term
        keep &= ~table["GroupID"].str.strip().str.endswith("_Summary").to_numpy()
    if genes_override is not None:
        genes_override = [g for g, k in zip(genes_override, keep) if k]
    table, lines = table.loc[keep].reset_index(drop=True), lines[keep]
    n_rows = len(table)
    if n_rows == 0:
        raise InputError("empty result: the table has a header but no rows", path)
    notes: list[str] = []

    terms = table[lay.term].str.strip()
    if (terms == "").any():
        i = int(np.flatnonzero((terms == "").to_numpy())[0])
        raise InputError(f"empty pathway name in column {lay.term!r}", path, int(lines[i]))
    given = None  # names written into the term cells
    if lay.format in _TERM_FORMS:
        terms, given = _split_id_name(terms, _TERM_FORMS[lay.format])
    out = pd.DataFrame({"term": terms})
    if lay.label.startswith("generic"):  # columns guessed by name (not named by the user): say which
        notes.append(f"read as a {lay.label}")
    if lay.name and lay.name in table.columns:
        names = table[lay.name].str.strip()
        # a set name written as the description (clusterProfiler GSEA() on MSigDB names:
        # MICROTUBULE_DEPOLYMERIZATION) is humanised like a term
        id_like = (names.str.contains("_", regex=False) & ~names.str.contains(" ", regex=False)
                   & (names == names.str.upper()))
        out["name"] = [humanize_term(t) if n == "" else humanize_term(n) if k else n
                       for t, n, k in zip(terms, names, id_like)]
    elif given is not None:
        out["name"] = np.where(given.isna(), [humanize_term(t) for t in terms], given)
    else:
        out["name"] = [humanize_term(t) for t in terms]
    nan = pd.Series(np.nan, index=table.index)
    out["nes"] = _floats(table, lay.nes, path, lines) if lay.nes else nan
    out["es"] = _floats(table, lay.es, path, lines) if lay.es and lay.es in table.columns else nan
    out["pvalue"] = _floats(table, lay.pvalue, path, lines) if lay.pvalue and lay.pvalue in table.columns else nan
    out["fdr"] = _floats(table, lay.fdr, path, lines)
    if lay.log10:
        out["pvalue"], out["fdr"] = 10.0 ** out["pvalue"], 10.0 ** out["fdr"]
    out["size"] = _sizes(table, lay, path, lines)
    if lay.direction and not lay.nes:
        out["nes"] = _signed_score(table[lay.direction], out, lay.direction, path, lines)
        notes.append(f"no NES column: NES set to +/- -log10(p-value) with the sign of {lay.direction!r} "
                     "(a stand-in for ranking and direction, not an enrichment score)")
    if genes_override is not None:
        out["genes"] = genes_override
    elif lay.genes and lay.genes in table.columns and lay.label.startswith("generic") and _counts_only(table[lay.genes]):
        out["genes"] = [[] for _ in range(n_rows)]
        notes.append(f"column {lay.genes!r} holds single numbers (counts?), not gene lists: gene lists are empty")
    elif lay.genes and lay.genes in table.columns:
        out["genes"] = _split_gene_column(table[lay.genes])
    else:
        out["genes"] = [[] for _ in range(n_rows)]
        if lay.genes:
            notes.append(f"no {lay.genes!r} column: gene lists are empty")
    if lay.kind == "ora":
        out["direction"] = 1
    else:
        bad = out["nes"].isna().to_numpy()
        if bad.all():
            raise InputError(f"no row has a number in column {lay.nes!r} (NES)", path)
        if bad.any():
            ex = ", ".join(out["term"][bad][:3])
            notes.append(f"{int(bad.sum())} of {n_rows} rows have no NES and were dropped (e.g. {ex})")
            out, table = out.loc[~bad], table.loc[~bad]
        out["direction"] = np.where(out["nes"] < 0, -1, 1)
    out["direction"] = out["direction"].astype(int)
    if lay.format == "gseapy" and "Gene_set" in table.columns and table["Gene_set"].nunique() > 1:
        out["library"] = table["Gene_set"].to_numpy()
    if lay.format == "gseapy" and "Name" in table.columns and table["Name"].nunique() > 1:
        out["condition"] = table["Name"].to_numpy()
    if lay.format == "metascape" and "GeneList" in table.columns and table["GeneList"].nunique() > 1:
        out["condition"] = table["GeneList"].to_numpy()  # Metascape multi-list analysis
    if lay.format == "clusterprofiler" and "Cluster" in table.columns and table["Cluster"].nunique() > 1:
        out["condition"] = table["Cluster"].to_numpy()  # compareCluster: one result per cluster of genes
    if lay.condition and "condition" not in out.columns:
        out["condition"] = table[lay.condition].str.strip().replace("", "NA").to_numpy()
    if "condition" not in out.columns:
        cond = _condition_column(table, out["term"])
        if cond is not None:
            out["condition"] = table[cond].to_numpy()
            notes.append(f"pathways repeat with different {cond!r} values: one condition per value "
                         f"({', '.join(list(map(str, pd.unique(table[cond])))[:5])})")
    return out, notes, n_rows


#: columns that, when pathways repeat, tell which result (contrast, cluster of genes...) a row is from
_CONDITION_COLUMNS = ("contrast", "comparison", "condition", "cluster", "group", "query", "dataset", "timepoint",
                      "sample")


_UP = {"up", "+", "1", "+1", "pos", "positive", "upregulated", "up-regulated", "increased"}
_DOWN = {"down", "-", "-1", "neg", "negative", "downregulated", "down-regulated", "decreased"}


def _signed_score(cells: pd.Series, out: pd.DataFrame, col: str, path: Path, lines: np.ndarray) -> pd.Series:
    """+/- -log10(p) (p-value, else FDR; floored at 1e-300) signed by an Up/Down column."""
    d = cells.astype(str).str.strip().str.lower()
    sign = np.where(d.isin(_UP), 1.0, np.where(d.isin(_DOWN), -1.0, np.nan))
    bad = np.isnan(sign) & (d != "").to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"column {col!r} holds {cells.iloc[i]!r}; expected Up or Down", path, int(lines[i]))
    p = out["pvalue"].where(out["pvalue"].notna(), out["fdr"]).to_numpy(float)
    return pd.Series(sign * -np.log10(np.clip(p, 1e-300, 1.0)), index=out.index)


def _counts_only(cells: pd.Series) -> bool:
    """Every non-empty cell is one integer (a count column guessed as genes, not Entrez lists)."""
    c = cells.astype(str).str.strip()
    c = c[c != ""]
    return bool(len(c)) and bool(c.str.fullmatch(r"\d+").all())


def _condition_column(table: pd.DataFrame, terms: pd.Series) -> str | None:
    """A column such as ``contrast`` that separates repeated pathways (rbind-ed results of several
    contrasts): the term repeats, but never within one of its values. ``None`` when terms are unique."""
    if not terms.duplicated().any():
        return None
    for c in table.columns:
        if _squash(c) in _CONDITION_COLUMNS and table[c].nunique() > 1:
            if not pd.DataFrame({"t": terms.to_numpy(), "c": table[c].to_numpy()}).duplicated().any():
                return c
    return None


def _finish(out: pd.DataFrame, lay: _Layout, source, n_rows: int, notes: list[str]) -> pd.DataFrame:
    """Drop duplicate pathways, count non-symbol genes, set attrs and send the warnings."""
    group = [c for c in ("library", "condition") if c in out.columns]
    out = _drop_duplicates(out, group, notes)
    distinct = _distinct_genes(out["genes"])
    n_ids = _ids_to_symbols(out, distinct, notes)
    if n_ids:
        distinct = _distinct_genes(out["genes"])
    from .genes import guess_species, species_of_id
    species, n_human, n_mouse, mouse_examples = guess_species(distinct)
    if species == "mixed":
        human_examples = [g for g in distinct if species_of_id(g) == "human"][:3]
        raise InputError(f"mixed species: {n_human} human-like gene symbols (e.g. {', '.join(human_examples)}) "
                         f"and {n_mouse} mouse-like ones (e.g. {', '.join(mouse_examples[:3])}) in the gene "
                         "columns; give a result of one species (map mouse genes to human orthologs first)",
                         _source_str(source))
    n_bad, examples = _non_symbol_examples(distinct)
    if n_bad:
        n_all = len(distinct)
        notes.append(f"{n_bad} of {n_all} distinct genes do not look like human gene symbols "
                     f"(e.g. {', '.join(examples)}): mouse symbols, or Ensembl/Entrez/UniProt ids? Gene overlaps "
                     "with human gene sets will miss them; map them to human symbols first")
    out = out.reset_index(drop=True)
    out.attrs = {"format": lay.format, "kind": lay.kind, "source": _source_str(source), "n_rows": n_rows,
                 "warnings": notes, "non_symbol_genes": n_bad, "ids_mapped_to_symbols": n_ids}
    for msg in notes:
        warnings.warn(f"{_source_str(source)}: {msg}", stacklevel=3)
    return out


def _ids_to_symbols(out: pd.DataFrame, distinct: Sequence[str], notes: list[str]) -> int:
    """Human Entrez / Ensembl gene ids in the gene lists -> symbols, in place (a list that maps two
    ids to one symbol keeps it once); ids the shipped table does not know stay as written. NCBI
    Entrez ids are unique across species, so a mouse id is never taken for a human one. Returns
    the number of distinct ids mapped."""
    from .genes import human_id_symbols, is_gene_id
    ids = [g for g in distinct if is_gene_id(g)]
    if not ids:
        return 0
    table = human_id_symbols()
    mapped = {}
    for g in ids:
        key = g.split(".")[0].upper() if g.upper().startswith("ENS") else g
        sym = table.get(key)
        if sym:
            mapped[g] = sym
    if mapped:
        out["genes"] = [list(dict.fromkeys(mapped.get(g, g) for g in lst)) if lst else lst for lst in out["genes"]]
        kinds = " and ".join(k for k, hit in (("Entrez", any(g[:1].isdigit() for g in mapped)),
                                              ("Ensembl", any(g[:1].isalpha() for g in mapped))) if hit)
        notes.append(f"{len(mapped):,} of {len(ids):,} {kinds} gene ids read as human gene symbols "
                     "(msigdbr 2023.1 gene table)" + (f"; {len(ids) - len(mapped):,} unknown ids kept as written"
                                                       if len(mapped) < len(ids) else ""))
    return len(mapped)


def _source_str(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return ";".join(str(s) for s in source)


#: id + name written in one term cell, per tool (tried in order; the first that matches wins)
_ID_NAME = re.compile(r"^([^\s~]+)~(.+)$")  # DAVID: GO:0006955~immune response
_ID_COLON_NAME = re.compile(r"^([A-Za-z]+[A-Za-z0-9_.\-]*\d):(\S.*)$")  # DAVID KEGG: hsa04110:Cell cycle
# ShinyGO: Path:hsa03050 Proteasome / GO:0006259 Dna metabolic proc. (a first token that starts with a
# letter and holds three digits in a row; "E2F targets" and "22q11.2 copy number ..." stay whole)
_LEADING_ID = re.compile(r"^(?:Path:)?([A-Za-z][\w.:\-]*?\d{3,}[\w.\-]*)\s+(\S.*?)$")
_TERM_FORMS = {"david": (_ID_NAME, _ID_COLON_NAME), "generic": (_ID_NAME,), "shinygo": (_LEADING_ID,)}


def _split_id_name(terms: pd.Series, patterns) -> tuple[pd.Series, "pd.Series | None"]:
    """Term cells holding an id and a name -> (ids, names); names are NaN for cells of no pattern
    (their term stays as written), ``None`` when no cell matches."""
    parts = terms.str.extract(patterns[0])
    for pat in patterns[1:]:
        rest = parts[0].isna()
        if rest.any():
            parts.loc[rest] = terms[rest].str.extract(pat).to_numpy()
    hit = parts[0].notna()
    if not hit.any():
        return terms, None
    return terms.where(~hit, parts[0].str.strip()), parts[1].str.strip().where(hit)


def _floats(table: pd.DataFrame, col: str, path: Path, lines: np.ndarray) -> pd.Series:
    raw = table[col].str.strip()
    vals = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = vals.isna().to_numpy()
    if bad.any():  # only cells that did not parse can hold a "%", a bound ("< 1e-30", topGO) or an NA spelling
        cleaned = raw[bad].str.replace("%", "", regex=False).str.replace(r"^[<≤]=?\s*", "", regex=True)
        vals[bad] = pd.to_numeric(cleaned, errors="coerce").to_numpy(float)
        bad = vals.isna().to_numpy()
        bad[bad] = ~raw[bad].str.lower().isin(_NA_STRINGS).to_numpy(dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"column {col!r} holds {raw.iloc[i]!r}, not a number", path, int(lines[i]))
    return vals.astype(float)


def _sizes(table: pd.DataFrame, lay: _Layout, path: Path, lines: np.ndarray) -> pd.Series:
    if lay.size and lay.size in table.columns:
        return _floats(table, lay.size, path, lines).round().astype("Int64")
    if lay.size_ratio and lay.size_ratio in table.columns:
        group = 2 if lay.size_part == "den" else 1
        match = _RATIO.match
        part = [m.group(group) if isinstance(v, str) and (m := match(v)) else np.nan for v in table[lay.size_ratio]]
        return pd.to_numeric(pd.Series(part, index=table.index, dtype=object), errors="coerce").astype("Int64")
    return pd.Series(pd.NA, index=table.index, dtype="Int64")


_RATIO = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_R_LIST = re.compile(r"^\s*(?:c|list)\((.*)\)\s*$", re.S)
_GENE_SEP = re.compile(r"[;,|/\s]+")


def _split_genes(s) -> list[str]:
    """``A;B``, ``A/B``, ``A|B``, ``A,B``, ``A B``, R ``c("A", "B")`` -> ``['A', 'B']``."""
    if not isinstance(s, str):
        return []
    s = s.strip()
    m = _R_LIST.match(s)
    if m:
        s = m.group(1)
    genes = (g.strip().strip("\"'[]") for g in _GENE_SEP.split(s))
    return list(dict.fromkeys(g for g in genes if g and g.lower() not in ("na", "nan")))


# ";,|/" and whitespace separate genes: mapping the four to a space lets str.split() (which splits on
# the same whitespace as the regex's \s) cut a cell at C speed
_SEP_TO_SPACE = str.maketrans({c: " " for c in ";,|/"})


def _split_gene_column(values: Iterable) -> list[list[str]]:
    """:func:`_split_genes` of every cell of a column, the same lists in bulk.

    A 100,000-pathway table holds ~2 million gene mentions but only ~20,000 distinct tokens: cells
    are cut by pyarrow (ASCII text) or ``str.split``, the quote stripping and NA test run once per
    distinct token and the de-duplication (first mention kept) runs on integer codes, so no Python
    runs per gene.
    """
    cells = []
    for s in values:
        if not isinstance(s, str):
            cells.append("")
            continue
        if "(" in s:
            m = _R_LIST.match(s.strip())
            if m:
                s = m.group(1)
        cells.append(s)
    if not cells:
        return []
    joined = "".join(cells)
    # arrow's ASCII whitespace lacks \x1c-\x1f, which Python's str.split (and the regex's \s) cut on
    if joined.isascii() and not any(c in joined for c in "\x1c\x1d\x1e\x1f"):
        codes, uniq, lens = _tokens_arrow(cells, joined)
    else:
        codes, uniq, lens = _tokens_python(cells)
    if len(codes) == 0:
        return [[] for _ in cells]
    # distinct cleaned genes: several raw tokens ('"A"', 'A') may clean to one gene
    gene_id: dict[str, int] = {}
    id_of = np.full(len(uniq), -1, dtype=np.int64)
    for k, tok in enumerate(uniq):
        g = tok.strip("\"'[]")
        if g and g.lower() not in ("na", "nan"):
            id_of[k] = gene_id.setdefault(g, len(gene_id))
    ids = id_of[codes]
    rows = np.repeat(np.arange(len(cells), dtype=np.int64), lens)
    keep = ids >= 0
    rows, ids = rows[keep], ids[keep]
    rows, ids = first_per_row(rows, ids, len(gene_id))
    return lists_from_codes(rows, ids, list(gene_id), len(cells))


def first_per_row(rows: np.ndarray, codes: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """Drop repeats of a code within a row (``rows`` non-decreasing), keeping first occurrences."""
    key = rows * max(n_codes, 1) + codes
    if len(key) > 1 and (np.diff(np.sort(key)) == 0).any():
        first = np.zeros(len(key), dtype=bool)
        first[np.unique(key, return_index=True)[1]] = True
        rows, codes = rows[first], codes[first]
    return rows, codes


def lists_from_codes(rows: np.ndarray, codes: np.ndarray, vocab: list, n_rows: int) -> list[list]:
    """One list of ``vocab[code]`` per row (``rows`` non-decreasing), empty rows included."""
    names = np.empty(len(vocab), dtype=object)
    names[:] = vocab
    flat = names[codes].tolist()
    ends = np.cumsum(np.bincount(rows, minlength=n_rows)).tolist()
    return list(map(flat.__getitem__, map(slice, [0] + ends[:-1], ends)))


def _tokens_arrow(cells: list[str], joined: str) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Tokens of ASCII cells (``joined``: their concatenation) split on ``;,|/`` and whitespace: codes,
    distinct tokens, tokens per cell (empty tokens included; they clean to nothing)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    arr = pa.array(cells, pa.large_string())
    seps = [c for c in ";,|/" if c in joined]
    if len(seps) <= 1 and not any(c in joined for c in " \t\n\r\x0b\x0c"):
        # one separator and no whitespace (gseapy's "A;B;C"): a plain split; with no separator at all,
        # split on an absent tab
        lists = pc.split_pattern(arr, seps[0] if seps else "\t")
    else:
        for c in seps:
            arr = pc.replace_substring(arr, c, " ")
        lists = pc.ascii_split_whitespace(arr)
    enc = pc.dictionary_encode(pc.list_flatten(lists))
    lens = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    return (enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary.to_pylist(), lens)


def _tokens_python(cells: list[str]) -> tuple[np.ndarray, list[str], np.ndarray]:
    parts = [c.translate(_SEP_TO_SPACE).split() for c in cells]
    lens = np.fromiter(map(len, parts), np.int64, len(parts))
    # a dict, not pd.factorize: pandas hashes all-string arrays as C strings, cut at a NUL
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(t, len(index)) for t in chain.from_iterable(parts)), np.int64,
                        int(lens.sum()))
    return codes, list(index), lens


def _distinct_genes(gene_lists: Iterable[list[str]]) -> list[str]:
    """Distinct genes of all lists in first-seen order."""
    return list(dict.fromkeys(chain.from_iterable(gene_lists)))


def _drop_duplicates(out: pd.DataFrame, group: list[str], notes: list[str]) -> pd.DataFrame:
    key = group + ["term"]
    dup = out.duplicated(key, keep=False)
    if not dup.any():
        return out
    order = out.assign(_i=np.arange(len(out))).sort_values(["fdr", "pvalue", "_i"], na_position="last")
    kept = order.drop_duplicates(key, keep="first").sort_values("_i").drop(columns="_i")
    names = out.loc[dup, "term"].unique()
    notes.append(f"{len(out) - len(kept)} duplicate row(s) of {len(names)} pathway name(s) dropped, keeping "
                 f"the best FDR (e.g. {', '.join(map(str, names[:3]))})")
    return kept


_ENSEMBL = re.compile(r"^ENS[A-Z]*[GTP]\d{6,}(\.\d+)?$")
_UNIPROT = re.compile(r"^([OPQ][0-9][A-Z0-9]{3}[0-9]|[A-NR-Z][0-9]([A-Z][A-Z0-9]{2}[0-9]){1,2})(-\d+)?$")
_ENTREZ = re.compile(r"^\d+$")
_HUMAN_ORF = re.compile(r"^C(\d+|X|Y)orf\d+")


def _symbols() -> frozenset:
    from .genes import human_symbols  # some symbols have the form of a UniProt accession
    return human_symbols()


def _non_symbols(gene_lists: Iterable[list[str]]) -> tuple[int, list[str]]:
    """Distinct genes that look like mouse/rat symbols (``Trp53``), Ensembl, Entrez or UniProt ids."""
    return _non_symbol_examples(_distinct_genes(gene_lists))


def _non_symbol_examples(genes: Sequence[str]) -> tuple[int, list[str]]:
    """:func:`_non_symbols` of distinct genes (first-seen order)."""
    bad = [g for g in genes
           if _ENSEMBL.match(g) or _ENTREZ.match(g) or (_UNIPROT.match(g) and g not in _symbols())
           or (any(c.islower() for c in g) and not _HUMAN_ORF.match(g))]
    return len(bad), bad[:5]


# ------------------------------------------------------------------------------------ GSEA desktop
def _read_gsea_desktop(paths: list[Path], fmt: str | None, gmt, *, source) -> pd.DataFrame:
    if fmt not in (None, "gsea-desktop"):
        raise InputError(f"format={fmt!r} given, but these are GSEA desktop reports", paths[0])
    parts, notes, n_rows, lay = [], [], 0, None
    for p in paths:
        if not _is_gsea_desktop_report(p) and len(paths) > 1:
            raise InputError("several files given, but only GSEA desktop's gsea_report_for_* files of one run "
                             "are read together; use read_gsea_results for one file per condition", p)
        table, header_line = _read_table(p)
        lay = _detect_layout(list(table.columns), p, "gsea-desktop")
        genes, how = _gsea_desktop_genes(table, p.parent, gmt)
        out, file_notes, n = _convert(table, lay, p, header_line, genes)
        parts.append(out)
        notes += ([f"{p.name}: {how}"] if how else []) + file_notes
        n_rows += n
    if len(paths) == 1:
        siblings = [q for q in _gsea_desktop_reports(paths[0].parent) if q.resolve() != paths[0].resolve()]
        if siblings:
            notes.append(f"only one phenotype's report was read; {siblings[0].name} is beside it: pass the "
                         "run folder to read both directions")
    return _finish(pd.concat(parts, ignore_index=True), lay, source, n_rows, notes)


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
        from .genesets import read_gmt
        lib = read_gmt(gmt, on_duplicate="first")
        members = dict(zip(lib.terms, lib.gene_sets))
        n_full = 0
        for i, g in enumerate(detail):
            if g is None and terms[i] in members:
                detail[i] = list(members[terms[i]])
                n_full += 1
        note = (f"{n_full} pathway(s) took whole gene-set members from {Path(gmt).name} (no detail file or "
                "edb/ folder beside the report): genes are set members, not the leading edge") if n_full else None
    else:
        note = None
    n_none = sum(g is None for g in detail)
    if n_none:
        note = ((note + "; ") if note else "") + (
            f"{n_none} pathway(s) have no gene list: the GSEA desktop report's LEADING EDGE column holds "
            "statistics, not genes; keep the per-set files or edb/ folder beside the report, or pass gmt=")
    return [g if g is not None else [] for g in detail], note


def _detail_file_genes(folder: Path, term: str) -> list[str] | None:
    for suffix in (".tsv", ".xls"):
        p = folder / f"{term}{suffix}"
        if p.is_file():
            break
    else:
        return None
    table, _ = _read_table(p)
    core = next((c for c in ("CORE ENRICHMENT", "CORE_ENRICHMENT") if c in table.columns), None)
    if core is None:
        raise InputError("GSEA desktop detail file without a CORE ENRICHMENT column", p)
    for col in ("SYMBOL", "GENE SYMBOL", "PROBE"):
        if col in table.columns:
            vals = table[col].str.strip()
            if (~vals.str.lower().isin(_NA_STRINGS)).any():
                break
    else:
        raise InputError("GSEA desktop detail file without a SYMBOL, GENE SYMBOL or PROBE column", p)
    yes = table[core].str.strip().str.lower() == "yes"
    return list(dict.fromkeys(g for g in vals[yes] if g.lower() not in _NA_STRINGS))


def _edb_leading_edges(folder: Path, table: pd.DataFrame) -> dict[str, list[str]] | None:
    """Leading edges from the run's ranked list and gene sets: hits up to (ES > 0) or from (ES < 0)
    ``RANK AT MAX``, GSEA's own definition."""
    edb = folder / "edb"
    gmt = edb / "gene_sets.gmt"
    rnks = sorted(edb.glob("*.rnk")) if edb.is_dir() else []
    if not gmt.is_file() or len(rnks) != 1 or "RANK AT MAX" not in table.columns:
        return None
    from .genesets import read_gmt
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
