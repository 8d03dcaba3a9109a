"""Real GSEA results for the cohort benchmark of `contrastomics cluster`.

    nice -n 10 python benchmarks/make_gsea_results.py [--results-dir benchmarks/cache/gsea] [--force]

Three public studies x four gene-set libraries, run with gseapy on one thread, fixed seeds:

===========  ===============================================  =========================================
dataset      input (/work/shared/data/gsea, GSEApy test data)  GSEA run
===========  ===============================================  =========================================
leukemia     Leukemia_hgu95av2.trim.txt + Leukemia.cls         gseapy ``gsea``, phenotype permutations,
             (Golub 1999; 24 ALL vs 24 AML; symbols, probes    signal-to-noise, ALL = positive NES
             of one symbol collapsed to their per-sample max)
p53          P53.txt + P53.cls (NCI-60; 33 MUT vs 17 WT)        same, MUT = positive NES
mds          mds.2k.rnk (21,020 ranked genes)                  gseapy ``prerank``, gene-set permutations
leukemia_    as leukemia                                       signal-to-noise ranking, then gseapy
prerank                                                        ``prerank`` (the shipped demo's protocol)
p53_prerank  as p53                                            same
===========  ===============================================  =========================================

Phenotype permutations (the classic GSEA test for >= 7 samples per class) are conservative: on
these data few sets pass FDR < 0.25 (p53: almost none, though HALLMARK_P53_PATHWAY has the most
negative NES with CDKN1A, BAX, MDM2 leading). The ``*_prerank`` runs give the larger, gene-set-
permutation result sets that users of gseapy ``prerank`` usually cluster.

Libraries: ``gobp`` = Enrichr GO_Biological_Process_2021 (gsea/), ``hallmark`` = MSigDB h.all v7.0
(gsea/), ``reactome`` = MSigDB c2.cp.reactome v2023.1 (genesets/), ``kegg`` = MSigDB c2.cp.kegg
v7.5.1 (gsea/), ``c2cp`` = MSigDB C2 canonical pathways, every ``C2:CP*`` subcollection of
genesets/msigdb_hs_sets.tsv with membership from genesets/msigdb_hs.gmt (Reactome 2023.1, KEGG
7.5.1, BioCarta/PID/other CP v7.1; 2,354 sets). Sets of 15-500 genes present in the data are tested.

Permutations are sized so the twenty runs take < 20 min of CPU on one core (measured: see
``manifest.json`` ``seconds``, wall time on a loaded machine): 1000 (GSEA's default) for the small
libraries (hallmark, kegg) and 500 for the large ones (gobp, reactome, c2cp). With 500 permutations a
nominal p-value cannot go below 0.002; FDR q-values come from the pooled null NES of all sets x
permutations (> 500,000 values for those libraries), so FDR < 0.25 calls are stable. This is a
documented scale-down from GSEA's default 1000 for the two large libraries.

Each run writes ``<dataset>__<library>.tsv`` (gseapy's table layout, every tested set; read it with
``contrastomics.enrichment.read_gsea_result``) and all runs are summarised in ``manifest.json``
(parameters, gseapy version, seconds, counts). Existing outputs are kept unless ``--force``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import pandas as pd  # noqa: E402

from contrastomics._io import atomic_write  # noqa: E402
from contrastomics.enrichment import (rank_genes, read_cls, read_expression, read_gsea_result, read_rnk,  # noqa: E402
                                      run_gsea, run_prerank, to_gseapy_table)

SHARED = Path("/work/shared/data")
LIBRARIES = {
    "gobp": ("gsea/enrichr.GO_Biological_Process_2021.gmt", 500),
    "hallmark": ("gsea/h.all.v7.0.symbols.gmt", 1000),
    "reactome": ("genesets/c2.cp.reactome.v2023.1.Hs.symbols.gmt", 500),
    "kegg": ("gsea/c2.cp.kegg.v7.5.1.symbols.gmt", 1000),
    # MSigDB C2 canonical pathways (every C2:CP subcollection: Reactome 2023.1, KEGG 7.5.1, BioCarta,
    # PID, other CP 7.1), built from genesets/msigdb_hs_sets.tsv + msigdb_hs.gmt by c2cp_library()
    "c2cp": ("genesets/msigdb_hs_sets.tsv#C2:CP", 500),
}
DATASETS = {
    "leukemia": {"expr": "gsea/Leukemia_hgu95av2.trim.txt", "cls": "gsea/Leukemia.cls", "positive": "ALL"},
    "p53": {"expr": "gsea/P53.txt", "cls": "gsea/P53.cls", "positive": "MUT"},
    "mds": {"rnk": "gsea/mds.2k.rnk"},
    # the same two studies ranked by signal-to-noise and run preranked (gene-set permutations), the
    # protocol of the shipped demo: more pathways pass FDR < 0.25 than under phenotype permutations
    "leukemia_prerank": {"expr": "gsea/Leukemia_hgu95av2.trim.txt", "cls": "gsea/Leukemia.cls", "positive": "ALL",
                         "prerank": True},
    "p53_prerank": {"expr": "gsea/P53.txt", "cls": "gsea/P53.cls", "positive": "MUT", "prerank": True},
}
#: NCI-60 tissue of origin of the P53.txt cell lines (NCI DTP panel); ``nci60_<tissue>`` contrasts one
#: tissue against the other 49-46 lines: new contrasts of the p53 expression data (issue 16), test
#: results for the clustering benchmarks (p53 MUT vs WT stays development)
NCI60 = {
    "leukemia": ["CCRF-CEM", "K-562", "MOLT-4", "SR"],
    "colon": ["COLO 205", "HCC-2998", "HCT-15", "HT29", "KM12", "SW-620", "HCT-116"],
    "melanoma": ["M14", "SK-MEL-2", "LOX IMVI", "MALME-3M", "SK-MEL-5", "UACC-257", "UACC-62"],
    "renal": ["786-0", "RXF-393", "SN12C", "A498", "ACHN", "CAKI-1", "UO-31"],
    "cns": ["SF-268", "SF-295", "SNB-19", "SNB-75", "U251", "SF-539"],
    "lung": ["EKVX", "HOP-62", "HOP-92", "NCI-H23", "NCI-H322M", "NCI-H522", "A549/ATCC", "NCI-H460"],
}
DATASETS.update({f"nci60_{t}": {"expr": "gsea/P53.txt", "tissue": t, "prerank": True} for t in NCI60})
SEED = 20240601


def c2cp_library(data: Path):
    """MSigDB C2 canonical pathways (all ``C2:CP*`` subcollections) with 2023.1 descriptions."""
    from contrastomics.data.msigdb import read_msigdb
    return read_msigdb(data / "genesets" / "msigdb_hs_sets.tsv", data / "genesets" / "msigdb_hs.gmt",
                       collections="C2:CP", name="MSigDB C2:CP")


def library_source(library: str, data: Path):
    """GMT path, or a GeneSetLibrary for libraries derived from the MSigDB table."""
    if library == "c2cp":
        return c2cp_library(data)
    return data / LIBRARIES[library][0]


def run_one(dataset: str, library: str, data: Path, permutations: int, seed: int) -> pd.DataFrame:
    spec = DATASETS[dataset]
    gmt = library_source(library, data)
    if "rnk" in spec:
        return run_prerank(read_rnk(data / spec["rnk"]), gmt, permutations=permutations, seed=seed)
    if spec.get("prerank"):
        expr = read_expression(data / spec["expr"])
        if "tissue" in spec:
            labels = [spec["tissue"] if c in NCI60[spec["tissue"]] else "rest" for c in expr.columns]
            assert labels.count(spec["tissue"]) == len(NCI60[spec["tissue"]]), spec
            pos, neg = spec["tissue"], "rest"
        else:
            labels = read_cls(data / spec["cls"])
            pos = spec["positive"]
            neg = next(c for c in dict.fromkeys(labels) if c != pos)
        rnk = rank_genes(expr, labels, method="signal_to_noise", pos=pos, neg=neg)
        df = run_prerank(rnk, gmt, permutations=permutations, seed=seed)
        df.attrs["method"] = "prerank (gene-set permutations) on signal-to-noise"
        return df
    return run_gsea(data / spec["expr"], data / spec["cls"], gmt, permutations=permutations, seed=seed,
                    permutation_type="phenotype", method="signal_to_noise")


def counts(df: pd.DataFrame) -> dict:
    sig = df["fdr"] < 0.25
    return {"n_tested": int(len(df)), "fdr_lt_005": int((df["fdr"] < 0.05).sum()), "fdr_lt_025": int(sig.sum()),
            "up_fdr_lt_025": int((sig & (df["direction"] > 0)).sum()),
            "down_fdr_lt_025": int((sig & (df["direction"] < 0)).sum())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results-dir", type=Path, default=ROOT / "benchmarks" / "cache" / "gsea")
    ap.add_argument("--data", type=Path, default=SHARED, help="the shared data folder (gsea/, genesets/)")
    ap.add_argument("--datasets", nargs="*", default=list(DATASETS), choices=list(DATASETS))
    ap.add_argument("--libraries", nargs="*", default=list(LIBRARIES), choices=list(LIBRARIES))
    ap.add_argument("--permutation-scale", type=float, default=1.0,
                    help="multiply every library's permutation count (e.g. 0.1 for a smoke run)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--force", action="store_true", help="recompute results that already exist")
    args = ap.parse_args()
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass

    out = args.results_dir
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"runs": {}}
    jobs = [(d, lib) for d in args.datasets for lib in args.libraries]
    t_all = time.time()
    for k, (dataset, library) in enumerate(jobs, 1):
        key = f"{dataset}__{library}"
        path = out / f"{key}.tsv"
        perms = max(10, int(round(LIBRARIES[library][1] * args.permutation_scale)))
        if path.exists() and not args.force and key in manifest["runs"]:
            print(f"[{k}/{len(jobs)}] {key}: exists, kept", flush=True)
            continue
        t0 = time.time()
        print(f"[{k}/{len(jobs)}] {key}: {perms} permutations ...", flush=True)
        df = run_one(dataset, library, args.data, perms, args.seed)
        seconds = time.time() - t0
        table = to_gseapy_table(df)
        with atomic_write(path) as fh:
            table.to_csv(fh, sep="\t", index=False, float_format="%.6g")
        back = read_gsea_result(path)  # the file must read back through the public reader
        assert len(back) == len(df), (len(back), len(df))
        spec = DATASETS[dataset]
        manifest["runs"][key] = {
            "dataset": dataset, "library": library, "file": path.name,
            "input": {k2: v for k2, v in spec.items()}, "gmt": LIBRARIES[library][0],
            "method": df.attrs["method"], "permutations": perms, "seed": args.seed,
            "min_size": 15, "max_size": 500, "gseapy": df.attrs["gseapy_version"],
            "n_genes": df.attrs["n_ranked"], "n_genes_in_library": df.attrs["n_ranked_in_library"],
            "seconds": round(seconds, 1), **counts(df)}
        with atomic_write(manifest_path) as fh:
            json.dump(manifest, fh, indent=2)
        c = manifest["runs"][key]
        print(f"    {c['n_tested']} sets, FDR<0.05 {c['fdr_lt_005']}, FDR<0.25 {c['fdr_lt_025']} "
              f"(up {c['up_fdr_lt_025']}, down {c['down_fdr_lt_025']}), {seconds:.0f} s", flush=True)
    print(f"done in {time.time() - t_all:.0f} s -> {out}", flush=True)


if __name__ == "__main__":
    main()
