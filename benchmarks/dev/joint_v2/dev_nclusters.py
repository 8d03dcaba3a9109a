"""--n-clusters K accuracy of the joint v2 pipeline on the development results (issue 15 item 4)."""
import sys, warnings
from pathlib import Path
ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
from cluster_defaults import PARTS, CACHE, library_for  # noqa: E402
from contrastomics.enrichment import read_gsea_result  # noqa: E402
from contrastomics.cluster import run_clustering  # noqa: E402
ok = total = 0
for ds, lib in PARTS["dev"]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_gsea_result(CACHE / f"{ds}__{lib}.tsv")
        n = int((df.fdr < 0.25).sum())
        if n < 40:
            continue
        gs = library_for(lib)
        for div in (25, 15, 10, 6.5):
            k = max(2, round(n / div))
            s = run_clustering(df, fdr_cutoff=0.25, gene_sets=gs, n_clusters=k, metrics=False).summary
            good = abs(s["n_clusters"] - k) <= 0.1 * k and s["n_singletons"] == 0
            ok += good; total += 1
            print(ds, lib, n, k, s["n_clusters"], s["n_singletons"], "ok" if good else "MISS", flush=True)
print(f"{ok} of {total} runs within K +- 10% with no singleton")
