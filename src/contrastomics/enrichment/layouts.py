"""The per-tool layout table: how each tool's result columns map onto the standard columns.

Every tool-specific rule is data here (columns, markers, families, row drops, condition and library
columns, id + name term cells, log10 values, Up/Down columns); the readers only follow it, so a new
tool is one more :class:`Layout` entry. :func:`detect_layout` picks the layout of a header.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

from ..errors import InputError

#: other spellings of ``format=`` (a tool's own name needs no entry)
FORMAT_ALIASES = {
    "gsea_desktop": "gsea-desktop", "gseadesktop": "gsea-desktop", "gsea": "gsea-desktop", "broad": "gsea-desktop",
    "fora": "fgsea", "clusterprofile": "clusterprofiler", "cp": "clusterprofiler",
    "g:profiler": "gprofiler", "gprofiler2": "gprofiler", "gost": "gprofiler", "webgestaltr": "webgestalt",
    "table": "generic", "other": "generic", "auto": None,
}

#: id + name written in one term cell, per tool (tried in order; the first that matches wins)
ID_NAME = re.compile(r"^([^\s~]+)~(.+)$")  # DAVID: GO:0006955~immune response
ID_COLON_NAME = re.compile(r"^([A-Za-z]+[A-Za-z0-9_.\-]*\d):(\S.*)$")  # DAVID KEGG: hsa04110:Cell cycle
# ShinyGO: Path:hsa03050 Proteasome / GO:0006259 Dna metabolic proc. (a first token that starts with a
# letter and holds three digits in a row; "E2F targets" and "22q11.2 copy number ..." stay whole)
LEADING_ID = re.compile(r"^(?:Path:)?([A-Za-z][\w.:\-]*?\d{3,}[\w.\-]*)\s+(\S.*?)$")


@dataclass(frozen=True)
class Layout:
    """How one tool's table maps onto the standard columns."""

    format: str
    kind: str                     # "gsea" or "ora"
    required: tuple[str, ...]     # columns that identify the layout
    term: str
    fdr: "str | tuple[str, ...]"  # a tuple: the first of these columns the table has (the reader says which)
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
    fdr_percent: bool = False  # an FDR column with values above 1 is in percent (DAVID 6.7/6.8)
    direction: str | None = None  # Up/Down column of tools without a NES (limma camera/roast)
    term_forms: "tuple[re.Pattern, ...]" = ()  # term cells holding an id and a name (tried in order)
    drop_rows: tuple[tuple[str, str], ...] = ()  # (column, suffix): rows whose cell ends so are dropped
    library: str | None = None  # column naming the library of each row, when it holds several
    split_by: tuple[str, ...] = ()  # columns naming the condition of each row, when they hold several
    run_folder: bool = False  # genes come from the run folder beside the report (GSEA desktop)
    guessed: bool = False  # columns chosen by common names (the reader says which)
    # no NES, ES or Up/Down column among columns named or guessed: direction 0 (unknown), not "up"
    direction_unknown: bool = False
    notes: tuple[str, ...] = ()  # what the reader chose and says (set by :func:`detect_layout`)


# gseapy: a Gene_set column when several libraries were run, a Name column when several rankings were
_GSEAPY = dict(library="Gene_set", split_by=("Name",))

LAYOUTS: tuple[Layout, ...] = (
    Layout("gseapy", "gsea", ("Term", "NES", "NOM p-val", "FDR q-val"), term="Term", fdr="FDR q-val",
           nes="NES", es="ES", pvalue="NOM p-val", size_ratio="Tag %", genes="Lead_genes",
           label="gseapy prerank/gsea", **_GSEAPY),
    Layout("gseapy", "gsea", ("Term", "nes", "pval", "fdr"), term="Term", fdr="fdr", nes="nes", es="es",
           pvalue="pval", size=("matched_size", "geneset_size"), genes=("ledge_genes", "leading_edge"),
           label="gseapy < 1.0 prerank/gsea or blitzGSEA", **_GSEAPY),
    Layout("gseapy", "ora", ("Gene_set", "Term", "Overlap", "Adjusted P-value"), term="Term",
           fdr="Adjusted P-value", pvalue="P-value", size_ratio="Overlap", genes="Genes",
           label="gseapy enrichr/enrich", **_GSEAPY),
    Layout("gsea-desktop", "gsea", ("NAME", "SIZE", "NES", "NOM p-val", "FDR q-val"), term="NAME",
           fdr="FDR q-val", nes="NES", es="ES", pvalue="NOM p-val", size="SIZE", label="GSEA desktop report",
           run_folder=True),
    Layout("fgsea", "gsea", ("pathway", "pval", "padj", "NES"), term="pathway", fdr="padj", nes="NES",
           es="ES", pvalue="pval", size="size", genes="leadingEdge", label="fgsea"),
    Layout("fgsea", "ora", ("pathway", "pval", "padj", "overlap"), term="pathway", fdr="padj",
           pvalue="pval", size="size", genes="overlapGenes", label="fgsea fora"),
    Layout("clusterprofiler", "gsea", ("ID", "Description", "setSize", "NES", "p.adjust"), term="ID",
           name="Description", fdr="p.adjust", nes="NES", es="enrichmentScore", pvalue="pvalue",
           size="setSize", genes="core_enrichment", label="clusterProfiler GSEA", split_by=("Cluster",)),
    Layout("clusterprofiler", "ora", ("ID", "Description", "GeneRatio", "p.adjust"), term="ID",
           name="Description", fdr="p.adjust", pvalue="pvalue", size_ratio="BgRatio", size_part="num",
           genes="geneID", label="clusterProfiler enrichGO/enricher", split_by=("Cluster",)),
    Layout("enrichr", "ora", ("Term", "Overlap", "P-value", "Adjusted P-value"), term="Term",
           fdr="Adjusted P-value", pvalue="P-value", size_ratio="Overlap", genes="Genes",
           label="Enrichr"),
    # g:Profiler web CSV (adjusted_p_value) and gprofiler2::gost() tables, whose p_value is already
    # multiple-testing corrected (g:SCS by default)
    Layout("gprofiler", "ora", ("term_id", "term_name", "adjusted_p_value"), term="term_id", name="term_name",
           fdr="adjusted_p_value", size="term_size", genes=("intersections", "intersection"),
           label="g:Profiler (web)"),
    Layout("gprofiler", "ora", ("term_id", "term_name", "p_value", "intersection_size"), term="term_id",
           name="term_name", fdr="p_value", size="term_size", genes=("intersection", "intersections"),
           label="g:Profiler (gprofiler2 gost)"),
    Layout("webgestalt", "gsea", ("geneSet", "normalizedEnrichmentScore", "FDR"), term="geneSet",
           name="description", fdr="FDR", nes="normalizedEnrichmentScore", es="enrichmentScore",
           pvalue="pValue", size="size", genes=("userId", "leadingEdgeId"), label="WebGestalt GSEA"),
    Layout("webgestalt", "ora", ("geneSet", "enrichmentRatio", "FDR"), term="geneSet", name="description",
           fdr="FDR", pvalue="pValue", size="size", genes=("userId", "overlapId"), label="WebGestalt ORA"),
    # DAVID functional annotation chart: Term is "GO:0006955~immune response" (split into id and name)
    Layout("david", "ora", ("Category", "Term", "PValue", "Benjamini"), term="Term", fdr=("FDR", "Benjamini"),
           pvalue="PValue", size="Pop Hits", genes="Genes", label="DAVID functional annotation chart",
           term_forms=(ID_NAME, ID_COLON_NAME), fdr_percent=True),
    # ShinyGO enrichment.csv: Pathway is "Path:hsa03050 Proteasome" / "GO:0006259 Dna metabolic proc."
    Layout("shinygo", "ora", ("Enrichment FDR", "Pathway"), term="Pathway", fdr="Enrichment FDR",
           size="Pathway Genes", genes="Genes", label="ShinyGO", term_forms=(LEADING_ID,)),
    # Metascape: _FINAL_GO.csv (GroupID n_Summary / n_Member rows, Symbols) and Enrichment_GO
    # GO_AllLists.csv (GeneList per input list, Hits "|"-separated); p and q as log10 values
    Layout("metascape", "ora", ("Term", "Description", "LogP", "Log(q-value)"), term="Term", name="Description",
           fdr="Log(q-value)", pvalue="LogP", size="#GeneInGO", size_ratio="InTerm_InList",
           genes=("Symbols", "Hits", "Genes", "GeneID"), log10=True, label="Metascape",
           drop_rows=(("GroupID", "_Summary"),), split_by=("GeneList",)),
    Layout("metascape", "ora", ("GO", "Description", "LogP", "Log(q-value)"), term="GO", name="Description",
           fdr="Log(q-value)", pvalue="LogP", size="#GeneInGO", size_ratio="InTerm_InList",
           genes=("Symbols", "Hits", "Genes", "GeneID"), log10=True, label="Metascape (GO_AllLists)",
           split_by=("GeneList",)),
    # gProfileR (g:Profiler's first R client): dotted names; p.value is multiple-testing corrected
    Layout("gprofiler", "ora", ("term.id", "term.name", "p.value", "overlap.size"), term="term.id",
           name="term.name", fdr="p.value", size="term.size", genes="intersection", label="gProfileR (R)"),
)

#: ``format=`` names: the tools of :data:`LAYOUTS`, then ``generic`` (columns by common names)
FORMATS = (*dict.fromkeys(lay.format for lay in LAYOUTS), "generic")

# Columns only one tool writes; two of another tool's markers in a table mean it mixes tools.
MARKERS = {
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
#: tools whose tables may match each other's layouts (gseapy's enrichr tables are Enrichr tables plus
#: a Gene_set column); any other tool is its own family
FAMILY = {"enrichr": "gseapy"}

#: result files in a tool's output folder (glob, tool), tried in order; a folder holding several
#: files of one glob is refused (GSEA desktop run folders: see :mod:`.gsea_desktop`)
FOLDER_FILES = (("gseapy.*.report.csv", "gseapy"), ("gseapy.*.report.txt", "gseapy"),
                ("*.human.enrichr.reports.txt", "gseapy"))

_NUM = r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|NA|nan"
#: tables written without their header line, known by the form of their cells: (tool, ((header, cell
#: patterns), ...)); Enrichr's download as pasted from the web page lacks it
HEADERLESS = (
    ("enrichr", (
        (("Term", "Overlap", "P-value", "Adjusted P-value", "Old P-value", "Old Adjusted P-value", "Odds Ratio",
          "Combined Score", "Genes"), (r".*\D.*", r"\d+/\d+", *[_NUM] * 6, r".*")),
        (("Term", "Overlap", "P-value", "Adjusted P-value", "Z-score", "Combined Score", "Genes"),
         (r".*\D.*", r"\d+/\d+", *[_NUM] * 4, r".*")),
    )),
)
#: files that are not result tables, known by lines they hold: (what it looks like, markers)
UNSUPPORTED = (
    ("an MSigDB 'compute overlaps' export (a summary block, a 'Gene Set Name ... k/K ... FDR q-value' table "
     "and a gene/gene set overlap matrix)", ("Gene/Gene Set Overlap Matrix", "Gene Set Name\t# Genes in Gene Set (K)")),
)

#: columns that, when pathways repeat, tell which result (contrast, cluster of genes...) a row is from
CONDITION_COLUMNS = ("contrast", "comparison", "condition", "cluster", "group", "query", "dataset", "timepoint",
                     "sample")


def reads_run_folder(fmt) -> bool:
    """``fmt`` (a normalised ``format=``: a name, a column mapping or ``None``) is a tool whose genes
    are read from its run folder (:attr:`Layout.run_folder`)."""
    return isinstance(fmt, str) and any(lay.run_folder for lay in LAYOUTS if lay.format == fmt)


def normalise_format(format) -> "str | dict[str, str] | None":
    """``format=`` as given -> a :data:`FORMATS` name, a checked ``{role: column}`` mapping or ``None``."""
    if format is None:
        return None
    if isinstance(format, Mapping):
        return _column_mapping(format)
    key = str(format).strip().lower().replace(" ", "")
    if key in FORMATS:
        return key
    if key not in FORMAT_ALIASES:
        raise InputError(f"unknown format={format!r}; choose one of {', '.join(FORMATS)}, or give the "
                         "columns (format={'term': ..., 'fdr': ..., 'nes': ..., 'genes': ...}; "
                         "CLI: --column term=NAME ...)")
    return FORMAT_ALIASES[key]


def _column_mapping(mapping: Mapping) -> dict[str, str]:
    bad = sorted(str(k) for k in mapping if k not in ROLES)
    if bad:
        raise InputError(f"unknown column role(s) {', '.join(bad)}; use {', '.join(ROLES)} "
                         "(e.g. term=Pathway fdr=padj nes=NES genes=leadingEdge)")
    out = {str(k): str(v).strip() for k, v in mapping.items() if v is not None and str(v).strip()}
    if "term" not in out or "fdr" not in out:
        raise InputError("a column mapping needs at least term= and fdr= (the pathway id and its "
                         f"adjusted p-value / FDR column); got {', '.join(f'{k}={v}' for k, v in out.items()) or 'none'}")
    return out


def detect_layout(columns: list[str], path, fmt=None) -> Layout:
    """The layout of a header: forced by ``fmt`` (a name or a column mapping), else the one tool
    whose required columns are all there, else common column names; ``path`` names the file in errors."""
    if isinstance(fmt, dict):
        return _mapped_layout(columns, fmt, path)
    if fmt == "generic":
        return _generic_layout(columns, path, required=True)
    return _resolve(_known_layout(columns, path, fmt), columns)


def _matching(columns: list[str]) -> list[Layout]:
    """Layouts whose required columns are all in the header: exactly, else ignoring case and
    punctuation (R tables: ``id`` for ``ID``, ``p_adjust`` for ``p.adjust``, ``term.id``)."""
    cols = set(columns)
    exact = [lay for lay in LAYOUTS if set(lay.required) <= cols]
    if exact:
        return exact
    keys = {squash(c) for c in columns}
    return [lay for lay in LAYOUTS if {squash(c) for c in lay.required} <= keys]


def _known_layout(columns: list[str], path, fmt: str | None) -> Layout:
    cols = set(columns)
    matched = _matching(columns)
    if fmt is not None:
        own = [lay for lay in matched if lay.format == fmt]
        if not own:
            needs = " or ".join(
                "(" + ", ".join(c for c in lay.required if c not in cols) + ")"
                for lay in LAYOUTS if lay.format == fmt)
            hint = ""
            others = sorted({lay.format for lay in matched})
            if others:
                hint = f"; the columns look like {', '.join(others)}: drop format= or pass format={others[0]!r}"
            raise InputError(f"format={fmt!r} given but the table lacks the column(s) {needs} "
                             f"(columns found: {_list(columns)}){hint}", path)
        matched = own
    if not matched:
        squashed = {squash(c) for c in columns}
        if squashed & {"logfc", "log2foldchange", "basemean", "logcpm", "avgexpr", "avglog2fc"}:
            raise InputError(f"looks like a gene-level differential expression table ({_list(columns, 6)}), "
                             "not a pathway result: rank the genes and run GSEA first (`contrastomics gsea "
                             "RANKED.rnk --library GO_BP`), or give the GSEA/enrichment result", path)
        generic = _generic_layout(columns, path, required=False)
        if generic is not None:
            return generic
        tried = "; ".join(f"{lay.label}: {', '.join(lay.required)}" for lay in LAYOUTS)
        raise InputError(f"unknown result columns: found {_list(columns)}; formats tried ({tried}), and no "
                         "pathway-id + FDR column pair by common names; name the columns with "
                         "--column term=NAME --column fdr=NAME [--column nes=NAME --column genes=NAME] "
                         "(Python: format={'term': ..., 'fdr': ...})", path)
    families = {_family(lay.format) for lay in matched}
    if len(families) > 1:
        raise InputError("the table mixes columns of several tools ("
                         + ", ".join(sorted({lay.label for lay in matched}))
                         + f"); columns found: {_list(columns)}", path)
    chosen = matched[0]
    for other, markers in MARKERS.items():
        if _family(other) == _family(chosen.format):
            continue
        foreign = sorted(markers & cols)
        if len(foreign) >= 2:
            raise InputError(f"the table mixes {chosen.label} columns with {other} columns "
                             f"({', '.join(foreign)}); write one tool's result per file", path)
    return chosen


def _family(fmt: str) -> str:
    return FAMILY.get(fmt, fmt)


_COLUMN_FIELDS = ("term", "fdr", "nes", "es", "pvalue", "name", "size", "size_ratio", "genes", "direction",
                  "library")
#: optional columns looked up by their role (:data:`SYNONYMS`) when the layout's own name is absent
_BY_ROLE = ("genes", "pvalue", "es", "size", "name")


def _resolve(lay: Layout, columns: Sequence[str]) -> Layout:
    """A layout whose columns are the table's own: alternatives (tuples) narrowed to the first the
    table has, names matched ignoring case and punctuation, and an absent optional column (fgsea's
    ``leadingEdge`` written as ``genes``) found by its role; the choices the reader reports go
    into ``notes``."""
    exact = set(columns)
    by_key: dict[str, str] = {}
    for c in columns:
        by_key.setdefault(squash(c), c)

    def find(name: str) -> "str | None":
        return name if name in exact else by_key.get(squash(name))

    own = {find(c) for f in _COLUMN_FIELDS for c in _options(getattr(lay, f))} - {None}
    fixed: dict = {}
    notes = list(lay.notes)
    for field in _COLUMN_FIELDS:
        options = _options(getattr(lay, field))
        if not options:
            continue
        found = [c for c in map(find, options) if c is not None]
        col = found[0] if found else None
        if col is None and field in _BY_ROLE:
            col = next((by_key[k] for k in SYNONYMS[field] if k in by_key and by_key[k] not in own), None)
            if col is not None:
                own.add(col)
                notes.append(f"no {options[0]!r} column: {field} read from column {col!r}")
        if field == "fdr" and len(options) > 1 and col is not None:
            others = [c for c in found if c != col]
            notes.append(f"FDR read from column {col!r}" + (f" (not {', '.join(map(repr, others))})" if others
                                                             else f" (no {options[0]!r} column)"))
        fixed[field] = col if col is not None else options[0]
    fixed["split_by"] = tuple(find(c) or c for c in lay.split_by)
    fixed["drop_rows"] = tuple((find(c) or c, suffix) for c, suffix in lay.drop_rows)
    return replace(lay, **fixed, notes=tuple(notes))


def _options(spec) -> tuple[str, ...]:
    return () if spec is None else spec if isinstance(spec, tuple) else (spec,)


#: Standard roles a column can play, and the column names (lower-cased, punctuation removed) that
#: commonly mean them, in order of preference. Used for tables of tools without a layout above.
ROLES = ("term", "name", "nes", "es", "pvalue", "fdr", "size", "genes", "condition", "direction")
SYNONYMS: dict[str, tuple[str, ...]] = {
    "term": ("term", "termid", "pathway", "pathwayid", "geneset", "genesetid", "genesetname", "gs",
             "goid", "goterm", "native", "setname", "pathwayname", "termname", "id", "name", "description",
             "rownames"),
    "name": ("description", "termname", "pathwayname", "name", "termdescription", "genesetname",
             "pathwaydescription", "goname"),
    "nes": ("nes", "normalizedenrichmentscore", "normalisedenrichmentscore", "normenrichmentscore", "normes"),
    "es": ("es", "enrichmentscore"),
    "direction": ("direction", "regulation", "updown"),
    "pvalue": ("pvalue", "pval", "nompval", "nominalpvalue", "nompvalue", "rawpvalue", "p",
               "logp", "log10p", "logpvalue", "log10pvalue", "neglog10pvalue", "mlog10pvalue"),
    "fdr": ("fdr", "fdrqval", "fdrqvalue", "padj", "padjust", "padjusted", "adjpval", "adjpvalue",
            "adjustedpvalue", "adjustedpval", "pvaladj", "pvalueadj", "pvaluefdr", "adjp", "qvalue", "qval",
            "qvalues", "q", "fdrbh", "bh", "benjamini", "benjaminihochberg", "enrichmentfdr", "falsediscoveryrate",
            # log10 columns (converted by the reader): Metascape's Log(q-value), -log10(FDR)
            "logqvalue", "log10qvalue", "logfdr", "log10fdr", "log10padj", "log10adjpvalue", "log10q",
            "neglog10fdr", "mlog10fdr", "neglog10qvalue"),
    "size": ("size", "setsize", "genesetsize", "termsize", "pathwaysize", "matchedsize", "nsize", "ngenes"),
    "genes": ("leadingedge", "leadingedgegenes", "leadgenes", "ledgegenes", "coreenrichment", "coregenes",
              "leadingedgeid", "leadingedgesymbols", "genes", "genesymbols", "symbols",
              "overlapgenes", "intersections", "intersection", "userid", "members", "genelist"),
}


def squash(column: str) -> str:
    """A column name lower-cased with punctuation and spaces removed (``"FDR q-val"`` -> ``"fdrqval"``)."""
    return re.sub(r"[^0-9a-z]", "", str(column).lower())


def _generic_layout(columns: list[str], path, *, required: bool) -> "Layout | None":
    """A layout from common column names (see :data:`SYNONYMS`), for tables of tools without their
    own layout: needs a pathway-id, an FDR / adjusted p-value and a NES or gene-list column; a NES
    column makes it a GSEA result, else an over-representation one. ``None`` (or an error when ``required``) when
    those are not found. The columns chosen are reported in a warning."""
    by_key: dict[str, str] = {}
    for c in columns:
        by_key.setdefault(squash(c), c)
    found: dict[str, str] = {}
    for role in ("term", "fdr", "nes", "es", "pvalue", "size", "genes", "name", "direction"):
        taken = set(found.values())
        col = next((by_key[k] for k in SYNONYMS[role] if k in by_key and by_key[k] not in taken), None)
        if col is not None:
            found[role] = col
    # a pathway table carries a NES (or ES) or gene lists; a gene-level table (limma's ID + adj.P.Val) does not
    if "term" not in found or "fdr" not in found or not ({"nes", "es", "genes", "direction"} & set(found)):
        if not required:
            return None
        missing = [r for r in ("term", "fdr") if r not in found] or ["genes"]
        raise InputError(f"format='generic': no {' or '.join(missing)} column among {_list(columns)}; name it "
                         f"with --column {missing[0]}=NAME (Python: format={{'{missing[0]}': NAME, ...}})", path)
    return _mapped_layout(columns, found, path, label=f"generic table (columns chosen by name: {_pairs(found)})",
                          guessed=True)


def _mapped_layout(columns: list[str], mapping: dict[str, str], path, *, label: str | None = None,
                   guessed: bool = False) -> Layout:
    """A layout from a ``{role: column}`` mapping (``term`` and ``fdr`` required). A user's mapping
    (not ``guessed``) is completed by :func:`_unnamed_roles`; a NES, ES or Up/Down column makes it GSEA."""
    missing = sorted({v for v in mapping.values() if v not in set(columns)})
    if missing:
        raise InputError(f"column(s) {', '.join(map(repr, missing))} not in the table (columns found: "
                         f"{_list(columns)})", path)
    extra: dict = {}
    if not guessed:  # a user's mapping: the roles it leaves out are found as the detection finds them
        found, extra, how = _unnamed_roles(columns, mapping)
        if found:
            label = label or (f"table with the columns named ({_pairs(mapping)}) and the roles not named found "
                              f"{how} ({_pairs(found)})")
            guessed = True  # the reader says which columns it chose
        mapping = {**mapping, **found}
    signed = bool({"nes", "es", "direction"} & set(mapping))
    return Layout("generic", "gsea" if signed else "ora", tuple(mapping.values()), direction_unknown=not signed,
                  term=mapping["term"], fdr=mapping["fdr"], nes=mapping.get("nes"), es=mapping.get("es"),
                  pvalue=mapping.get("pvalue"), name=mapping.get("name"), size=mapping.get("size"),
                  genes=mapping.get("genes"), condition=mapping.get("condition"), direction=mapping.get("direction"),
                  label=label or f"columns {_pairs(mapping)}", term_forms=(ID_NAME,), guessed=guessed, **extra)


def _pairs(mapping: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in mapping.items())


#: roles a user's column mapping may leave out, found as the automatic detection finds them
_OPTIONAL_ROLES = ("nes", "es", "pvalue", "size", "genes", "name", "direction")


def _unnamed_roles(columns: list[str], mapping: dict[str, str]) -> tuple[dict[str, str], dict, str]:
    """The roles a user's mapping does not name, found by the automatic detection's rules on the
    other columns: the one tool whose layout the header matches, else common names (:data:`SYNONYMS`).
    Returns ``({role: column}, extra Layout fields, how they were found)``."""
    named = set(mapping.values())
    matched = _matching(columns)
    if matched and len({_family(lay.format) for lay in matched}) == 1:
        tool = _resolve(matched[0], columns)
        found = {r: getattr(tool, r) for r in _OPTIONAL_ROLES
                 if r not in mapping and getattr(tool, r) in columns and getattr(tool, r) not in named}
        extra = {f: getattr(tool, f) for f in ("size_ratio", "library") if getattr(tool, f) in columns
                 and getattr(tool, f) not in named and "size" not in mapping}
        if "condition" not in mapping:
            extra["split_by"] = tuple(c for c in tool.split_by if c in columns and c not in named)
        return found, extra, f"from the {tool.label} layout"
    by_key: dict[str, str] = {}
    for c in columns:
        by_key.setdefault(squash(c), c)
    found: dict[str, str] = {}
    for role in _OPTIONAL_ROLES:
        if role in mapping:
            continue
        taken = named | set(found.values())
        col = next((by_key[k] for k in SYNONYMS[role] if k in by_key and by_key[k] not in taken), None)
        if col is not None:
            found[role] = col
    return found, {}, "by common column names"


def _list(columns: Sequence[str], n: int = 15) -> str:
    cols = [repr(c) for c in columns]
    return ", ".join(cols[:n]) + (f", ... ({len(cols)} in all)" if len(cols) > n else "")


