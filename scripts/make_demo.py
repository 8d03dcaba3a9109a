"""Build the shipped demo GSEA result: gseapy prerank, leukemia ALL vs AML, GO Biological Process.

    nice -n 10 python scripts/make_demo.py            # ~5-15 min on one shared core

Data (GSEApy's test data, BSD-3, see /work/shared/data/gsea/README.md):
``Leukemia_hgu95av2.trim.txt`` (Golub et al. 1999; 11,548 rows keyed by gene symbol, probes
sharing a symbol collapsed to their per-sample maximum) and ``Leukemia.cls`` (24 ALL, 24 AML).
Genes are ranked by GSEA's signal-to-noise ratio, ALL (positive) vs AML, and tested with gseapy
prerank (gene-set permutations) against Enrichr's GO_Biological_Process_2021 library, sets of 15-500
ranked genes. Every pathway with FDR < 0.25 is written in gseapy's own table layout, so the file
is also an example of a real gseapy result for ``contrastomics cluster``.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from contrastomics._io import atomic_write  # noqa: E402
from contrastomics.enrichment import rank_genes, read_cls, read_expression, run_prerank, to_gseapy_table  # noqa: E402

DATA = Path("/work/shared/data/gsea")
OUT = ROOT / "src" / "contrastomics" / "assets" / "demo"
GSEAPY_COMMIT = "08cb2b689def365f7dee1f5da50c49d3a149cf5a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA, help="folder with the leukemia files and the GO BP gmt")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--permutations", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--fdr", type=float, default=0.25)
    args = ap.parse_args()

    t0 = time.time()
    expr = read_expression(args.data / "Leukemia_hgu95av2.trim.txt")
    classes = read_cls(args.data / "Leukemia.cls")
    rnk = rank_genes(expr, classes, method="signal_to_noise", pos="ALL", neg="AML")
    gmt = args.data / "enrichr.GO_Biological_Process_2021.gmt"
    res = run_prerank(rnk, gmt, permutations=args.permutations, seed=args.seed, min_size=15, max_size=500)
    seconds = time.time() - t0
    keep = res[res["fdr"] < args.fdr].reset_index(drop=True)
    table = to_gseapy_table(keep)
    table.insert(0, "Name", "prerank")
    path = args.out / "leukemia_all_vs_aml_gobp.tsv"
    with atomic_write(path) as fh:
        table.to_csv(fh, sep="\t", index=False, float_format="%.6g")

    counts = {
        "n_tested": int(len(res)), "n_written": int(len(keep)),
        "fdr_lt_005": int((res["fdr"] < 0.05).sum()), "fdr_lt_025": int((res["fdr"] < 0.25).sum()),
        "up_ALL_fdr_lt_025": int(((res["fdr"] < 0.25) & (res["direction"] > 0)).sum()),
        "up_AML_fdr_lt_025": int(((res["fdr"] < 0.25) & (res["direction"] < 0)).sum()),
    }
    meta = {"genes_ranked": int(len(rnk)), "genes_in_library": res.attrs["n_ranked_in_library"],
            "permutations": args.permutations, "seed": args.seed, "gseapy": res.attrs["gseapy_version"],
            "python": platform.python_version(), "pandas": pd.__version__, "seconds": round(seconds, 1),
            "bytes": path.stat().st_size, **counts}
    with atomic_write(args.out / "README.md") as fh:
        fh.write(README.format(**meta, commit=GSEAPY_COMMIT,
                               fdr=args.fdr, counts=json.dumps(counts, indent=2)))
    print(json.dumps(meta, indent=2))


README = """# Demo GSEA result: leukemia ALL vs AML, GO Biological Process (gseapy prerank)

`leukemia_all_vs_aml_gobp.tsv` is a real gseapy result table (gseapy's own columns: `Name`, `Term`,
`ES`, `NES`, `NOM p-val`, `FDR q-val`, `Tag %`, `Lead_genes`) holding every GO BP term with
FDR < {fdr}. It is the default input of `contrastomics cluster --demo` and
`contrastomics.enrichment.demo_result_path()`. Rebuild with `nice -n 10 python scripts/make_demo.py`.

## Provenance
- Expression: `Leukemia_hgu95av2.trim.txt` and classes `Leukemia.cls` from GSEApy
  (github.com/zqfang/GSEApy, `tests/extdata/`, commit `{commit}`, BSD-3-Clause,
  Copyright (c) 2016-2020 Zhuoqing Fang); the data are the Broad GSEA example of Golub et al. 1999
  (48 samples: 24 ALL, 24 AML; HG-U95Av2 probes keyed by gene symbol). Rows sharing a symbol are
  collapsed to their per-sample maximum (GSEA's Max_probe), giving {genes_ranked} ranked genes.
- Gene sets: Enrichr `GO_Biological_Process_2021` (same GSEApy commit,
  `tests/extdata/enrichr.GO_Biological_Process_2021.gmt`; GO content CC BY 4.0);
  {genes_in_library} of the ranked genes are in the library; sets with 15-500 ranked genes are tested.
- Ranking metric: signal-to-noise `(mu_ALL - mu_AML) / (sd_ALL + sd_AML)`, each sd floored at
  0.2 |mu| as in GSEA desktop; positive NES = higher in ALL, negative = higher in AML.
- GSEA: gseapy {gseapy} `prerank`, gene-set permutations, {permutations} permutations, seed {seed},
  weight 1, one thread (python {python}, pandas {pandas}); {seconds} s wall on a shared 2-core machine.

## Counts
{n_tested} GO BP terms tested; FDR < 0.05: {fdr_lt_005}; FDR < 0.25: {fdr_lt_025}
(up in ALL: {up_ALL_fdr_lt_025}, up in AML: {up_AML_fdr_lt_025}). File size {bytes} bytes.

```json
{counts}
```
"""

if __name__ == "__main__":
    main()
