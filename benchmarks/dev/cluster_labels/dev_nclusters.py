import pickle, sys, warnings, numpy as np
from pathlib import Path
ROOT = Path("/work/main"); sys.path.insert(0, str(ROOT / "benchmarks"))
from gsea_cohorts import library_for
from contrastomics.enrichment import read_gsea_result
from contrastomics.cluster import run_clustering
DATA = Path("/work/shared/data")
rows = []
for ds in ("p53_prerank", "leukemia_prerank"):
    for lib in ("gobp", "reactome", "c2cp", "kegg", "hallmark"):
        df = read_gsea_result(ROOT / "benchmarks/cache/gsea" / f"{ds}__{lib}.tsv")
        n = int((df.fdr < 0.25).sum())
        if n < 40: continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore"); gs = library_for(lib, DATA)
            for div in (25, 15, 10, 6.5):
                K = max(2, round(n / div))
                for method in ("joint", "overlap-knn"):
                    s = run_clustering(df, fdr_cutoff=0.25, gene_sets=gs, n_clusters=K, method=method, metrics=False).summary
                    ok = abs(s["n_clusters"] - K) <= 0.1 * K
                    rows.append((ds, lib, n, method, K, s["n_clusters"], s["n_singletons"], ok))
                    print(rows[-1], flush=True)
print("within 10%:", sum(r[-1] for r in rows), "of", len(rows))
