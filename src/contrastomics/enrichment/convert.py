"""A tool's result table as text -> the standard frame, following its :class:`~.layouts.Layout`.

:func:`read_table` reads a delimited file as strings (line numbers kept for errors);
:func:`convert` maps the layout's columns onto the standard ones; :func:`finish` applies the
policies (duplicate pathways, gene ids to symbols, species checks) and sets ``attrs``.
"""
from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..data.gene_tables import human_id_symbols
from ..data.genes import guess_species, is_gene_id, species_of_id
from ..data.genesets import humanize_term
from .._io import open_text
from ..errors import InputError
from .gene_lists import distinct_genes, foreign_rows, gene_form_notes, gene_forms, split_gene_column
from .layouts import CONDITION_COLUMNS, HEADERLESS, UNSUPPORTED, Layout, squash

#: the advice of both species-mix errors
ONE_SPECIES = "give a result of one species (map mouse genes to human orthologs first)"
NA_STRINGS = {"", "na", "nan", "n/a", "none", "null", "---", "-", "inf?"}


def read_table(path: Path) -> tuple[pd.DataFrame, int]:
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
    _refuse_unsupported(text, path)
    sep = _sniff(header, path, header_idx + 1)
    names = _headerless(header, sep, path, header_idx + 1)
    if names is not None:  # the first line is data: the tool's header stands in for it
        body = sep.join(names) + "\n" + body
        header_idx -= 1
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
    if names is not None:
        table.attrs["notes"] = [f"no header line (line {header_idx + 2} is data): read with the header "
                                f"{', '.join(names)}"]
    return table, header_idx + 1


# str.splitlines() also breaks lines at these (text mode has already made \r\n and \r into \n)
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _only_newline_breaks(text: str) -> bool:
    if text.isascii():
        return not any(c in text for c in "\r\x0b\x0c\x1c\x1d\x1e")
    return _OTHER_BREAKS.search(text) is None


def _refuse_unsupported(text: str, path: Path) -> None:
    """One line for a known file that is not a result table this reader takes."""
    head = text[:20000]
    for what, markers in UNSUPPORTED:
        if any(m in head for m in markers):
            raise InputError(f"looks like {what}: this format is not supported; give the result table of "
                             "an enrichment tool (docs/enrichment.md lists them)", path)


def _headerless(header: str, sep: str, path: Path, line: int) -> "list[str] | None":
    """The header of a known tool table whose header line is missing (the first line is data), or
    ``None`` when the first line is a header; an unknown data line is refused."""
    fields = [f.strip().strip('"') for f in (header.split() if sep == r"\s+" else header.split(sep))]
    numbers = sum(bool(_NUMBER.fullmatch(f)) for f in fields)
    if numbers < 2:
        return None
    for _tool, shapes in HEADERLESS:
        for names, pattern in shapes:
            if len(names) == len(fields) and all(re.fullmatch(p, f) for p, f in zip(pattern, fields)):
                return list(names)
    raise InputError(f"line {line} looks like data, not a header ({numbers} of {len(fields)} fields are numbers: "
                     f"{header[:60]!r}): the table has no header line; add the header line of the tool that "
                     "wrote it", path, line)


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _sniff(header: str, path: Path, line: int) -> str:
    if "\t" in header:  # cells of a tab-separated table may hold ";" or "," (gene lists)
        return "\t"
    counts = {"\t": header.count("\t"), ",": header.count(","), ";": header.count(";")}
    sep = max(counts, key=counts.get)
    if counts[sep] == 0:
        if len(header.split()) > 1:
            return r"\s+"
        raise InputError("cannot tell the column separator: the header has no tab, comma or semicolon "
                         f"(header: {header[:80]!r})", path, line)
    return sep


def standardise(table: pd.DataFrame, lay: Layout, path: Path, header_line: int, *, source) -> pd.DataFrame:
    """:func:`convert` then :func:`finish`: the standard frame of one tool table."""
    out, notes, n_rows = convert(table, lay, path, header_line)
    return finish(out, lay, source, n_rows, notes)


def convert(table: pd.DataFrame, lay: Layout, path: Path, header_line: int,
            genes_override: list[list[str]] | None = None) -> tuple[pd.DataFrame, list[str], int]:
    """Tool columns -> standard columns (rows without NES dropped). Returns frame, notes, rows read.

    ``header_line`` (1-based) numbers the rows in errors; ``genes_override`` gives each row's genes
    when the table has none (GSEA desktop)."""
    lines = np.arange(len(table)) + header_line + 1
    notes: list[str] = list(table.attrs.get("notes", []))  # read_table's (a missing header line)
    keep = ~(table == "").all(axis=1).to_numpy()
    for col, suffix in lay.drop_rows:  # e.g. Metascape's summary rows, which repeat a member term
        if col in table.columns:
            keep &= ~table[col].str.strip().str.endswith(suffix).to_numpy()
    if genes_override is not None:
        genes_override = [g for g, k in zip(genes_override, keep) if k]
    table, lines = table.loc[keep].reset_index(drop=True), lines[keep]
    n_rows = len(table)
    if n_rows == 0:
        raise InputError("empty result: the table has a header but no rows", path)

    terms = table[lay.term].str.strip()
    if (terms == "").any():
        i = int(np.flatnonzero((terms == "").to_numpy())[0])
        raise InputError(f"empty pathway name in column {lay.term!r}", path, int(lines[i]))
    library = None
    if not (lay.library and lay.library in table.columns):
        terms, library, note = split_library_prefix(terms)
        notes += [note] if note else []
    given = None  # names written into the term cells
    if lay.term_forms:
        terms, given = _split_id_name(terms, lay.term_forms)
    out = pd.DataFrame({"term": terms})
    if lay.guessed:  # columns guessed by name (not named by the user): say which
        notes.append(f"read as a {lay.label}")
    notes += lay.notes
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
    out["pvalue"] = (_probabilities(table, lay.pvalue, "p-value", lay, path, lines, notes)
                     if lay.pvalue and lay.pvalue in table.columns else nan)
    out["fdr"] = _probabilities(table, lay.fdr, "FDR", lay, path, lines, notes)
    out["size"] = _sizes(table, lay, path, lines)
    if lay.direction and not lay.nes:
        out["nes"] = _signed_score(table[lay.direction], out, lay.direction, path, lines)
        notes.append(f"no NES column: NES set to +/- -log10(p-value) with the sign of {lay.direction!r} "
                     "(a stand-in for ranking and direction, not an enrichment score)")
    if genes_override is not None:
        out["genes"] = genes_override
    elif lay.genes and lay.genes in table.columns and lay.guessed and _counts_only(table[lay.genes]):
        out["genes"] = [[] for _ in range(n_rows)]
        notes.append(f"column {lay.genes!r} holds single numbers (counts?), not gene lists: gene lists are empty")
    elif lay.genes and lay.genes in table.columns:
        out["genes"] = split_gene_column(table[lay.genes])
    else:
        out["genes"] = [[] for _ in range(n_rows)]
        if lay.genes:
            notes.append(f"no {lay.genes!r} column: gene lists are empty")
    if lay.es and not lay.nes and not lay.direction:  # fgsea without NES, a table with only ES
        out["nes"] = out["es"]
        notes.append(f"no NES column: direction taken from the sign of ES (column {lay.es!r}; NES set to ES, "
                     "which is not normalised for gene-set size)")
    if lay.kind == "ora":
        # a known tool's over-representation table: every pathway is over-represented ("up"); a table
        # whose columns were named or chosen by name may be a GSEA result whose NES was not recognised
        out["direction"] = 0 if lay.direction_unknown else 1
        if lay.direction_unknown:
            notes.append("no NES or ES column: the direction of each pathway is unknown (name it with "
                         "--column nes=COLUMN; read as an over-representation result)")
    else:
        out, table = _finite_nes(out, table, lay.nes or lay.es or lay.direction, path, n_rows, notes)
        out["direction"] = np.where(out["nes"] < 0, -1, 1)
    out["direction"] = out["direction"].astype(int)
    if lay.library and lay.library in table.columns and table[lay.library].nunique() > 1:
        out["library"] = table[lay.library].to_numpy()
    elif library is not None and library.nunique() > 1:
        out["library"] = library.loc[out.index].to_numpy()
    for col in lay.split_by:  # gseapy's Name, compareCluster's Cluster, Metascape's GeneList
        if col in table.columns and table[col].nunique() > 1:
            out["condition"] = table[col].to_numpy()
    if lay.condition and "condition" not in out.columns:
        out["condition"] = table[lay.condition].str.strip().replace("", "NA").to_numpy()
    if "condition" not in out.columns:
        cond = _condition_column(table, out["term"])
        if cond is not None:
            out["condition"] = table[cond].to_numpy()
            notes.append(f"pathways repeat with different {cond!r} values: one condition per value "
                         f"({', '.join(list(map(str, pd.unique(table[cond])))[:5])})")
    return out, notes, n_rows


def _finite_nes(out: pd.DataFrame, table: pd.DataFrame, col: str, path: Path, n_rows: int,
                notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows without a NES dropped (counted); an infinite NES (fgsea writes them for the strongest
    pathways) kept with its sign and clipped to the largest finite |NES| of the table (noted)."""
    nes = out["nes"].to_numpy(float)
    finite, inf = np.isfinite(nes), np.isinf(nes)
    if not finite.any():
        raise InputError(f"no row has a number in column {col!r} (NES)"
                         + (" other than inf or -inf" if inf.any() else ""), path)
    if inf.any():
        cap = float(np.abs(nes[finite]).max())
        out = out.assign(nes=np.where(inf, np.sign(nes) * cap, nes))
        notes.append(f"{int(inf.sum())} of {n_rows} rows have an infinite NES (inf or -inf; e.g. "
                     f"{', '.join(out['term'][inf][:3])}): kept, their direction from the sign and their NES set "
                     f"to +/-{cap:.4g}, the largest finite |NES| in the table")
    nan = np.isnan(nes)
    if nan.any():
        notes.append(f"{int(nan.sum())} of {n_rows} rows have no NES and were dropped "
                     f"(e.g. {', '.join(out['term'][nan][:3])})")
        out, table = out.loc[~nan], table.loc[~nan]
    return out, table


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
        if squash(c) in CONDITION_COLUMNS and table[c].nunique() > 1:
            if not pd.DataFrame({"t": terms.to_numpy(), "c": table[c].to_numpy()}).duplicated().any():
                return c
    return None


def finish(out: pd.DataFrame, lay: Layout, source, n_rows: int, notes: list[str]) -> pd.DataFrame:
    """Drop duplicate pathways, count non-symbol genes, set attrs and send the warnings."""
    group = [c for c in ("library", "condition") if c in out.columns]
    out = _drop_duplicates(out, group, notes)
    distinct = distinct_genes(out["genes"])
    n_ids = _ids_to_symbols(out, distinct, notes)
    if n_ids:
        distinct = distinct_genes(out["genes"])
    species, n_human, n_mouse, mouse_examples = guess_species(distinct)
    if species == "mixed":
        human_examples = [g for g in distinct if species_of_id(g) == "human"][:3]
        raise InputError(f"mixed species: {n_human} human-like gene symbols (e.g. {', '.join(human_examples)}) "
                         f"and {n_mouse} mouse-like ones (e.g. {', '.join(mouse_examples[:3])}) in the gene "
                         f"columns; {ONE_SPECIES}", source_str(source))
    odd = foreign_rows(out["genes"].tolist()) if species == "human" else []
    if odd:
        rows = "; ".join(f"{out['term'].iat[i]}: {', '.join(out['genes'].iat[i][:3])}" for i in odd[:3])
        raise InputError(f"mixed species: {len(odd)} pathway(s) list mouse-like genes only ({rows}"
                         f"{' ...' if len(odd) > 3 else ''}) among human gene symbols; {ONE_SPECIES}",
                         source_str(source))
    forms = gene_forms(distinct)
    n_bad = len(forms[0]) + len(forms[1])
    notes += gene_form_notes(distinct, forms=forms)
    out = out.reset_index(drop=True)
    out.attrs = {"format": lay.format, "kind": lay.kind, "source": source_str(source), "n_rows": n_rows,
                 "warnings": notes, "non_symbol_genes": n_bad, "ids_mapped_to_symbols": n_ids}
    for msg in notes:
        warnings.warn(f"{source_str(source)}: {msg}", stacklevel=3)
    return out


_SIGNATURE_SIDE = re.compile(r"(.+)_(UP|DN|DOWN)", re.I)


def same_direction_pairs(terms: Sequence[str], sign: Sequence[float]) -> list[str]:
    """A note when a signature's ``X_UP`` and ``X_DN`` sets (MSigDB C2 CGP, C6, C7) are both
    enriched in the same direction: its genes moved together, whatever the signature's direction, and
    the two may share a cluster (also a warning)."""
    sides: dict[str, dict[bool, float]] = {}
    for t, s in zip(terms, sign):
        m = _SIGNATURE_SIDE.fullmatch(str(t or "").strip())
        if m and s:
            sides.setdefault(m.group(1), {})[m.group(2).upper() == "UP"] = float(np.sign(s))
    pairs = [(stem, v[True]) for stem, v in sides.items() if len(v) == 2 and v[True] == v[False]]
    if not pairs:
        return []
    stem, s = pairs[0]
    note = (f"{len(pairs)} signature(s) have their UP and DN sets enriched in the same direction (e.g. {stem}_UP "
            f"and _DN, both {'up' if s > 0 else 'down'}): their genes moved together, so read them as one "
            "change of the signature's genes, not as its direction")
    warnings.warn(note, stacklevel=3)
    return [note]


def _ids_to_symbols(out: pd.DataFrame, distinct: Sequence[str], notes: list[str]) -> int:
    """Human Entrez / Ensembl gene ids in the gene lists -> symbols, in place (a list that maps two
    ids to one symbol keeps it once); ids the shipped table does not know stay as written. NCBI
    Entrez ids are unique across species, so a mouse id is never taken for a human one. Returns
    the number of distinct ids mapped."""
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


def source_str(source) -> str:
    """A path, or several joined by ``;``, as text for ``attrs['source']`` and messages."""
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return ";".join(str(s) for s in source)


#: gseapy's prerank/gsea given several gene-set libraries (or a list of one) writes each term as
#: ``<library>__<term>`` (``GO_Biological_Process_2023__...``, ``h.all.v2023.1.Hs.symbols.gmt__...``)
LIBRARY_PREFIX = re.compile(r"^([^\s_][^\s]*?)__(?=\S)(.+)$")


def split_library_prefix(terms: pd.Series) -> "tuple[pd.Series, pd.Series | None, str | None]":
    """``(terms, library, note)``: when every term carries a ``<library>__`` prefix (gseapy with
    several gene sets) and the prefixes are few (at most 20, and some repeat unless there is one),
    the terms without it and the library of each row; else the terms as they are, ``None``, ``None``."""
    parts = terms.str.extract(LIBRARY_PREFIX)
    if len(terms) == 0 or parts[0].isna().any():
        return terms, None, None
    libs = parts[0]
    n_libs = libs.nunique()
    if n_libs > 20 or 1 < n_libs >= len(terms):  # a prefix per row names sets, not libraries
        return terms, None, None
    shown = ", ".join(map(str, pd.unique(libs)[:4])) + (", ..." if n_libs > 4 else "")
    note = (f"terms carry gseapy's gene-set prefix ('<library>__<term>'): read as {n_libs} "
            f"librar{'y' if n_libs == 1 else 'ies'} ({shown}) and the terms without the prefix")
    return parts[1].str.strip(), libs, note


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
        bad[bad] = ~raw[bad].str.lower().isin(NA_STRINGS).to_numpy(dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        hint = ""
        if pd.notna(pd.to_numeric(raw.iloc[i].replace(",", ".", 1), errors="coerce")):
            hint = "; decimal commas? save the file with '.' as the decimal mark"
        raise InputError(f"column {col!r} holds {raw.iloc[i]!r}, not a number{hint}", path, int(lines[i]))
    return vals.astype(float)


def _probabilities(table: pd.DataFrame, col: str, what: str, lay: Layout, path: Path, lines: np.ndarray,
                   notes: list[str]) -> pd.Series:
    """A p-value / FDR column as values in 0..1. A log10 column (the layout says so, or its name
    holds "log": values <= 0 are log10, values >= 0 -log10) is converted; DAVID's percent FDR is
    divided by 100. A few values outside 0..1 or infinite are read as missing (counted in a note);
    a column mostly outside 0..1 is refused (file, line, value)."""
    vals = _floats(table, col, path, lines)
    v = vals.to_numpy(float)
    fin = np.isfinite(v)
    if lay.log10 or "log" in col.lower():
        f = v[fin]
        if (f <= 0).all() or (f >= 0).all():
            minus = bool((f > 0).any())  # -log10(FDR): values >= 0
            vals = 10.0 ** (-vals if minus else vals)
            if not lay.log10:
                notes.append(f"column {col!r} holds {'-' if minus else ''}log10 values: read as "
                             f"{what} = 10^{'-x' if minus else 'x'}")
        else:
            i = int(np.flatnonzero(fin & (v > 0))[0])
            raise InputError(f"column {col!r} is named as {_a('log10 ' + what)} but holds negative and positive values "
                             f"({table[col].iloc[i].strip()}); give the {what} column itself", path, int(lines[i]))
    elif lay.fdr_percent and (v[fin] > 1).any() and (v[fin] <= 100).all():
        vals = vals / 100.0
        notes.append(f"column {col!r} holds percentages (DAVID before 2021): {what} = value / 100")
    v = vals.to_numpy(float)
    v = np.where((v > 1) & (v <= 1 + 1e-9), 1.0, v)  # rounding in the writer
    bad = ~np.isnan(v) & ~((v >= 0) & (v <= 1))
    if not bad.any():
        return pd.Series(v, index=vals.index)
    i = int(np.flatnonzero(bad)[0])
    cell, line = table[col].iloc[i].strip(), int(lines[i])
    outside = bad & np.isfinite(v)
    if outside.sum() > 0.5 * np.isfinite(v).sum():
        raise InputError(f"column {col!r} holds {cell}, not {_a(what)} between 0 and 1 ({int(outside.sum())} of "
                         f"{len(v)} values outside 0..1); a log10 column needs 'log' in its name (e.g. "
                         f"'log10({what})'), else give the {what} column", path, line)
    notes.append(f"{int(bad.sum())} row(s) have {_a(what)} outside 0..1 or infinite in column {col!r} (e.g. line "
                 f"{line}: {cell}): read as missing")
    return pd.Series(np.where(bad, np.nan, v), index=vals.index)


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "FaeiouAEIOU" else "a ") + noun


def _sizes(table: pd.DataFrame, lay: Layout, path: Path, lines: np.ndarray) -> pd.Series:
    if lay.size and lay.size in table.columns:
        return _floats(table, lay.size, path, lines).round().astype("Int64")
    if lay.size_ratio and lay.size_ratio in table.columns:
        group = 2 if lay.size_part == "den" else 1
        match = _RATIO.match
        part = [m.group(group) if isinstance(v, str) and (m := match(v)) else np.nan for v in table[lay.size_ratio]]
        return pd.to_numeric(pd.Series(part, index=table.index, dtype=object), errors="coerce").astype("Int64")
    return pd.Series(pd.NA, index=table.index, dtype="Int64")


_RATIO = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def _drop_duplicates(out: pd.DataFrame, group: list[str], notes: list[str]) -> pd.DataFrame:
    key = group + ["term"]
    dup = out.duplicated(key, keep=False)
    if not dup.any():
        return out
    order = out.assign(_i=np.arange(len(out))).sort_values(["fdr", "pvalue", "_i"], na_position="last")
    kept = order.drop_duplicates(key, keep="first").sort_values("_i").drop(columns="_i")
    names = out.loc[dup, "term"].unique()
    notes.append(f"{len(out) - len(kept)} duplicate row(s) of {len(names)} pathway name(s) dropped, keeping "
                 f"the best FDR (e.g. {', '.join(map(str, names[:3]))})" + sign_ties(out, kept.index, key))
    return kept


def sign_ties(rows: pd.DataFrame, kept, key: list[str]) -> str:
    """Text for a duplicate note: pathways whose kept row (``kept``: index labels) ties on FDR with a
    dropped row of the opposite NES sign, or ``""``."""
    if "nes" not in rows.columns or rows["nes"].isna().all():
        return ""
    dup = rows[rows.duplicated(key, keep=False)]
    ties = []
    for _, grp in dup.groupby(key, sort=False, dropna=False):
        won = grp.loc[grp.index.isin(kept)]
        if len(won) != 1:
            continue
        w = won.iloc[0]
        lost = grp.drop(index=won.index)
        if ((lost["fdr"] == w["fdr"]) & (np.sign(lost["nes"]) == -np.sign(w["nes"])) & (w["nes"] != 0)).any():
            ties.append((w["term"], w["nes"], lost["nes"].iloc[0]))
    if not ties:
        return ""
    t, kept_nes, other = ties[0]
    return (f"; {len(ties)} of them tie on FDR with rows of the opposite NES sign, so the direction kept is "
            f"the file's order, not the data's (e.g. {t}: NES {kept_nes:+.3g} kept, {other:+.3g} dropped)")
