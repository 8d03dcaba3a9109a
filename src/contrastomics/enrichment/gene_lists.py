"""Gene-list cells of result tables -> lists of genes (in bulk, on integer codes), and which genes
do not look like human symbols."""
from __future__ import annotations

import re
from itertools import chain
from typing import Iterable, Sequence

import numpy as np

from ..data.gene_tables import is_human_symbol
from ..data.genes import ENSEMBL_ID, ENTREZ_ID, HUMAN_ORF, UNIPROT_ACCESSION, species_of_id

_R_LIST = re.compile(r"^\s*(?:c|list)\((.*)\)\s*$", re.S)
_GENE_SEP = re.compile(r"[;,|/\s]+")


def split_genes(s) -> list[str]:
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


def split_gene_column(values: Iterable) -> list[list[str]]:
    """:func:`split_genes` of every cell of a column, the same lists in bulk.

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


def distinct_genes(gene_lists: Iterable[list[str]]) -> list[str]:
    """Distinct genes of all lists in first-seen order."""
    return list(dict.fromkeys(chain.from_iterable(gene_lists)))


def foreign_rows(gene_lists: Sequence[Sequence[str]], min_genes: int = 3, share: float = 0.9) -> list[int]:
    """Rows of a human result whose genes look like mouse/rat symbols (``Usp18``, ``Mx1``): at least
    ``min_genes`` of them and ``share`` of the genes with a species hint. A pooled count misses a few
    such rows among thousands of human genes; a mouse result's ``H2-K1`` rows look human, so only
    this direction is checked."""
    kinds = {g: species_of_id(g) for g in distinct_genes(gene_lists)}
    out = []
    for i, genes in enumerate(gene_lists):
        ks = [kinds[g] for g in genes]
        mouse, human = ks.count("mouse"), ks.count("human")
        if mouse >= min_genes and mouse >= share * (mouse + human):
            out.append(i)
    return out


#: a gene symbol that a spreadsheet turned into a date (MARCH1 -> "1-Mar", SEPT9 -> "9-Sep")
EXCEL_DATE = re.compile(r"\d{1,2}-(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*|"
                        r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*-\d{1,2}", re.I)


def date_hint(genes: Sequence[str]) -> str:
    """A note's ending for ``genes`` that look like spreadsheet dates ("2-Mar"), else ``""``."""
    dates = [g for g in genes if EXCEL_DATE.fullmatch(str(g))]
    return (f" ({len(dates)} look like dates a spreadsheet made of symbols, e.g. {dates[0]} for MARCH2 / "
            "MARCHF2: read the file as text or fix them before GSEA)") if dates else ""


def gene_forms(genes: Sequence[str]) -> tuple[list[str], list[str]]:
    """Distinct ``genes`` (first-seen order) not written as human symbols: ``(Ensembl / Entrez /
    UniProt ids, mouse/rat-like symbols such as Trp53)``; a human symbol of UniProt form, current or
    previous (``H2AFY2``, now MACROH2A2), is a symbol."""
    ids = [g for g in genes if ENSEMBL_ID.match(g) or ENTREZ_ID.match(g)
           or (UNIPROT_ACCESSION.match(g) and not is_human_symbol(g))]
    id_set = set(ids)
    mouse = [g for g in genes if g not in id_set and any(c.islower() for c in g) and not HUMAN_ORF.match(g)]
    return ids, mouse


def non_symbol_examples(genes: Sequence[str]) -> tuple[int, list[str]]:
    """:func:`gene_forms` together, in first-seen order: their count and 5 examples."""
    ids, mouse = gene_forms(genes)
    either = set(ids) | set(mouse)
    bad = [g for g in genes if g in either]
    return len(bad), bad[:5]


def gene_form_notes(genes: Sequence[str], mouse_share: float = 0.5, forms=None) -> list[str]:
    """Warnings on distinct ``genes`` not written as human symbols: gene ids (overlaps with human
    gene sets miss them), and mouse/rat-like symbols when at least ``mouse_share`` of the genes look
    so (matched by upper-casing downstream; a few mixed-case symbols in a human result say nothing).
    ``forms``: :func:`gene_forms` of ``genes`` when already made."""
    n_all = len(genes)
    ids, mouse = gene_forms(genes) if forms is None else forms
    notes = []
    if mouse and len(mouse) >= mouse_share * n_all:
        notes.append(f"{len(mouse)} of {n_all} distinct genes look like mouse/rat symbols (e.g. "
                     f"{', '.join(mouse[:5])}): they are matched to human symbols by upper-casing (right for most "
                     "genes, wrong for some, e.g. Trp53 vs TP53); map them through orthologs for exact results")
    if ids:
        notes.append(f"{len(ids)} of {n_all} distinct genes do not look like human gene symbols (e.g. "
                     f"{', '.join(ids[:5])}): Ensembl/Entrez/UniProt ids? Gene overlaps with human gene sets "
                     "will miss them; map them to human symbols first")
    return notes
