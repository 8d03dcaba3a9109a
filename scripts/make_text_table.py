#!/usr/bin/env python
"""Make ``text_table.safetensors`` beside a gtCLIP model: the joint-space text embeddings (fp16) of
every pathway text the package ships, so clustering a GO/DO result and ``gtclip describe`` never
encode them on first use.

Texts: each built-in library (`data.builtin.LIBRARIES`: GO_BP, GO_MF, GO_CC, DO; every set size) in the two forms the package
embeds: ``cluster``'s pathway text (:func:`contrastomics.cluster.pathways.pathway_text`) and
``GeneSetLibrary.texts(mode)`` with the model's text mode (``gtclip describe``). Plus ``cluster``'s
text of the GO and Hallmark set names of the libraries GSEA users run that the built-in GO (2019)
lacks or spells otherwise (``--names``: MSigDB 2023.1 C5 GO and H set names, Enrichr GO BP 2021
terms; from ``../shared/data``, names only): a first run on such a result then loads no text
encoder. Plus the Reactome pathway names as Reactome writes them (its 2024-09-18 GMT, ``--reactome``:
``cluster`` gives Reactome results their hierarchy spelling, MSigDB's ``REACTOME_...`` names
included). Plus, appended as a block of their own (``--pathway-names``, session 10), the names of
MSigDB's canonical KEGG and WikiPathways sets as ``cluster`` writes them with or without their GMT
("KEGG_CELL_CYCLE" -> "Cell cycle"; Enrichr's KEGG names are the same words): a first run on a KEGG
or WikiPathways result then loads no text encoder either. Deterministic for a given model (sorted
distinct texts; the appended block leaves the earlier rows' bytes as they were; the same file on every run).

Run: ``python scripts/make_text_table.py [--model FOLDER] [--names ...]`` (default: the shipped
model and the name lists below).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from contrastomics.cluster.pathways import _library, _match_library, pathway_text
from contrastomics.data.builtin import LIBRARIES, load_library
from contrastomics.models.gtclip import DEFAULT_MODEL_DIR, GtClip
from contrastomics.models.text_table import TABLE_FILE, write_text_table


def shipped_texts(text_mode: str) -> set[str]:
    texts: set[str] = set()
    for name in LIBRARIES:
        lib = load_library(name, min_size=1, max_size=None)
        texts.update(pathway_text(t, n, lib, r) for r, (t, n) in enumerate(zip(lib.terms, lib.names)))
        texts.update(lib.texts(text_mode))
    return texts


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
#: (file, how its names are read): MSigDB's set table (GO subcollections and Hallmark), a GMT's first column
NAME_LISTS = [SHARED / "genesets" / "msigdb_hs_sets.tsv", SHARED / "gsea" / "enrichr.GO_Biological_Process_2021.gmt"]
MSIGDB_KEEP = ("GO:BP", "GO:CC", "GO:MF")


def set_names(path: Path) -> list[str]:
    """Pathway names as a result would carry them: MSigDB GO and Hallmark set names from the set
    table (``name``, ``collection``, ``subcollection`` columns), or a GMT's first column."""
    import pandas as pd

    if path.suffix == ".tsv":
        t = pd.read_csv(path, sep="\t", usecols=["name", "collection", "subcollection"])
        return t.loc[t["subcollection"].isin(MSIGDB_KEEP) | (t["collection"] == "H"), "name"].tolist()
    with open(path) as fh:
        return [line.split("\t", 1)[0] for line in fh if line.strip()]


REACTOME_GMT = SHARED / "genesets" / "ReactomePathways_2024-09-18.gmt"
#: MSigDB canonical-pathway subcollections whose set names are appended (the 30 MB asset budget holds
#: these two: ~890 new texts, ~0.7 MB; BioCarta, PID and KEGG MEDICUS would not fit)
PATHWAY_SUBCOLLECTIONS = ("CP:KEGG", "CP:WIKIPATHWAYS")


def pathway_name_texts(path: Path, subcollections=PATHWAY_SUBCOLLECTIONS) -> set[str]:
    """``cluster``'s text of the MSigDB set names of ``subcollections`` (no library row: the
    humanised name, which is also what their GMT gives, its descriptions being URLs)."""
    import pandas as pd

    t = pd.read_csv(path, sep="\t", usecols=["name", "subcollection"])
    return {pathway_text(n, n, None, -1) for n in t.loc[t["subcollection"].isin(subcollections), "name"]}


def result_texts(names: list[str]) -> set[str]:
    """``cluster``'s text of each name, the built-in GO standing in as the library (as it does for a
    GO result) when most names are GO names, none otherwise."""
    lib = _library(None, names)
    rows = _match_library(lib, names, names) if lib is not None else [-1] * len(names)
    out = set()
    for t, r in zip(names, rows):
        if lib is None and t.startswith("HALLMARK_"):
            out.add(pathway_text(t, t, None, -1))
        elif lib is not None:
            out.add(pathway_text(t, t, lib, int(r)))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--names", type=Path, nargs="*", default=NAME_LISTS,
                    help="MSigDB set tables (.tsv) or GMT files whose set names are added (none: built-in texts only)")
    ap.add_argument("--reactome", type=Path, nargs="*", default=[REACTOME_GMT],
                    help="Reactome GMT(s) whose pathway names are added as they are written (none: skip)")
    ap.add_argument("--pathway-names", type=Path, nargs="*", default=[NAME_LISTS[0]],
                    help="MSigDB set tables whose KEGG and WikiPathways names are appended (none: skip)")
    args = ap.parse_args(argv)
    missing = [p for p in [*args.names, *args.reactome, *args.pathway_names] if not p.is_file()]
    if missing:
        raise SystemExit(f"name list not found: {missing[0]} (pass --names with other files, or none)")
    t0 = time.time()
    model = GtClip.from_pretrained(args.model)
    model.eval()
    texts = shipped_texts(model.config.text_mode)
    for path in args.names:
        names = set_names(path)
        go = [n for n in names if not n.startswith("HALLMARK_")]
        extra = result_texts(go) | result_texts([n for n in names if n.startswith("HALLMARK_")])
        print(f"{path.name}: {len(names)} names, {len(extra - texts)} new texts")
        texts |= extra
    reactome = {name for path in args.reactome for name in set_names(path)}
    print(f"Reactome names: {len(reactome - texts)} new texts")
    texts |= reactome
    extra = {x for path in args.pathway_names for x in pathway_name_texts(path)}
    extra = {x for x in extra if x not in texts and x.lower() not in texts}  # read under the lower case too
    print(f"KEGG / WikiPathways names: {len(extra)} new texts (appended)")
    n = write_text_table(model, texts, args.model / TABLE_FILE, extra=extra)
    size = (args.model / TABLE_FILE).stat().st_size
    print(f"{n} texts -> {args.model / TABLE_FILE} ({size / 1e6:.1f} MB) in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
