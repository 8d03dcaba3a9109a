"""Development numbers for the issue-15 decisions entry (p53_prerank, leukemia_prerank; FDR < 0.25)."""
import json, sys, warnings, numpy as np
from pathlib import Path
ROOT = Path("/work/main"); sys.path.insert(0, str(ROOT / "benchmarks"))
from gsea_cohorts import library_for
from contrastomics.enrichment import read_gsea_result
from contrastomics.cluster import run_clustering, prepare
from contrastomics.cluster.labels import representatives, label_support, support_summary
from contrastomics.cluster.keywords import phrase_sets
DATA = Path("/work/shared/data")
out = []
for ds in ("p53_prerank", "leukemia_prerank"):
    for lib in ("gobp", "reactome", "c2cp", "kegg", "hallmark"):
        df = read_gsea_result(ROOT / "benchmarks/cache/gsea" / f"{ds}__{lib}.tsv")
        if (df.fdr < 0.25).sum() < 20: continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore"); gs = library_for(lib, DATA)
            for inp in ("leading edges", "full sets"):
                d = df.copy()
                if inp == "full sets":
                    d["genes"] = [[] for _ in range(len(d))]
                res = run_clustering(d, fdr_cutoff=0.25, gene_sets=gs)
                m, s, cl = res.summary["metrics"], res.summary, res.clusters
                rec = dict(result=f"{ds}__{lib}", input=inp, n=s["n_significant"], n_clusters=s["n_clusters"],
                           coverage=m["coverage"], coh=m["nes_coherence"], coh_chance=m["nes_coherence_chance"],
                           coh_adj=m["nes_coherence_adjusted"], joinable=m["nes_opposite_pairs_joinable"],
                           can_fail=m["nes_coherence_can_fail"], sil_simgic=m.get("silhouette_go_semantic"),
                           sil_wang=m.get("silhouette_go_wang"), sil_jac=m.get("silhouette_gene_jaccard"),
                           support_mean=m["label_support_mean"], low=m["labels_low_support"], scored=m["labels_scored"],
                           theme_missing=int((cl["theme"] == "").sum()), theme_support_median=float(cl.loc[~cl.singleton, "theme_support"].median()),
                           no_keywords=int(((cl["keywords"] == "") & ~cl.singleton).sum()), basis=s["labels"]["label_support_basis"])
                if inp == "leading edges":
                    # keyword check: every keyword is a phrase of at least one member title
                    t = res.table
                    bad = []
                    for c, g in t.groupby("cluster"):
                        ph = set().union(*[set(p) for p in phrase_sets(g["name"].tolist())]) if len(g) else set()
                        titles = " | ".join(g["name"].str.lower())
                        for kw in [k for k in g["cluster_keywords"].iloc[0].split(", ") if k]:
                            if kw.lower() not in titles:
                                bad.append(kw)
                    rec["keywords_not_in_titles"] = bad
                out.append(rec)
                print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in rec.items() if k != "basis"}, flush=True)
json.dump(out, open("/tmp/cluster_dev/dev_summary.json", "w"), indent=1, default=float)
