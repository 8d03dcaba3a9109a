"""Build the shipped Reactome hierarchy (``src/contrastomics/assets/reactome/hierarchy.json.gz``).

    python scripts/make_reactome_hierarchy.py      # ~5 s; same bytes on every run

Reads ReactomePathways_2024-09-18.gmt (Reactome, CC BY 4.0; ../shared/data/genesets/) and writes
each pathway's name, R-HSA stable id, set size and ancestors by exact gene-set containment
(``contrastomics.data.reactome.build_hierarchy``: B is an ancestor of A when genes(A) is a subset
of genes(B) and B is larger). No gene list is shipped. Plus the former names: MSigDB 2023.1's
REACTOME_ set names (``msigdb_hs_sets.tsv``, names and stable ids only) that name no 2024 pathway
but whose R-HSA id is one (renamed pathways), so results named the MSigDB way still match.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from contrastomics.data.genesets import read_gmt  # noqa: E402
from contrastomics.data.reactome import HIERARCHY_FILE, build_hierarchy, former_names, write_hierarchy  # noqa: E402

GMT = ROOT.parent / "shared" / "data" / "genesets" / "ReactomePathways_2024-09-18.gmt"
MSIGDB_SETS = ROOT.parent / "shared" / "data" / "genesets" / "msigdb_hs_sets.tsv"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gmt", type=Path, default=GMT)
    ap.add_argument("--out", type=Path, default=HIERARCHY_FILE)
    ap.add_argument("--msigdb-sets", type=Path, default=MSIGDB_SETS,
                    help="MSigDB set table (name, subcollection, exact_source) for the former names")
    args = ap.parse_args()
    lib = read_gmt(args.gmt, on_duplicate="error")
    meta = {"source": "Reactome, ReactomePathways_2024-09-18.gmt (https://reactome.org/download-data)",
            "licence": "CC BY 4.0", "gmt_sha1": hashlib.sha1(args.gmt.read_bytes()).hexdigest(),
            "rule": "B is an ancestor of A when genes(A) is a subset of genes(B) and B is larger",
            "command": "python scripts/make_reactome_hierarchy.py"}
    h = build_hierarchy(lib.terms, lib.descriptions, lib.gene_sets, meta)
    import pandas as pd
    sets = pd.read_csv(args.msigdb_sets, sep="\t", usecols=["name", "subcollection", "exact_source"])
    sets = sets[sets["subcollection"] == "CP:REACTOME"]
    old = former_names(h, sets["name"].tolist(), sets["exact_source"].fillna("").tolist())
    meta["former_names_source"] = (f"MSigDB 2023.1.Hs CP:REACTOME set names and exact_source ids (msigdbr; "
                                   f"{args.msigdb_sets.name} sha1 {hashlib.sha1(args.msigdb_sets.read_bytes()).hexdigest()})")
    h = dataclasses.replace(h, meta=meta, former_names=old)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_hierarchy(h, args.out)
    n_anc = sum(len(a) for a in h.ancestors)
    print(f"wrote {args.out}: {len(h)} pathways, {len(h.top_level())} without ancestor, {n_anc} ancestor links, "
          f"{len(h.former_names)} former names, "
          f"{args.out.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
