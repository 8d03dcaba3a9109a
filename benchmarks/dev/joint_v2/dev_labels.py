"""(Ran on a flag of cluster/api.py removed after the decision; kept as the record.) Round 6 (benchmarks/decisions/cluster.md): representative = member covering most of its cluster vs the
current rule, same clusters; development results only."""
import sys, warnings, json
from pathlib import Path
import numpy as np
ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
from cluster_defaults import inputs  # noqa: E402
import contrastomics.cluster.api as capi  # noqa: E402
from contrastomics.cluster.metrics import go_pairs  # noqa: E402
from contrastomics.evaluate.stats import paired_bootstrap  # noqa: E402
sup = {False: [], True: []}
wang = {False: [], True: []}
for ds, lib, kind, d, gs in inputs("dev"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = {}
        for flag in (False, True):
            capi._COVERAGE_REPS = flag
            runs[flag] = capi.run_clustering(d, fdr_cutoff=0.25, gene_sets=gs, n_random=10)
        a, b = runs[False].clusters, runs[True].clusters
        assert (runs[False].table.sort_values("term")["cluster"].to_numpy() == runs[True].table.sort_values("term")["cluster"].to_numpy()).all()
        keep = ~a["singleton"].to_numpy()
        for flag, cl in ((False, a), (True, b)):
            sup[flag] += cl.loc[keep, "label_support"].tolist()
        if lib == "gobp":
            for flag in (False, True):
                t = runs[flag].table.reset_index(drop=True)
                gop = go_pairs(t["term"].tolist())
                vals = []
                for c, g in t.groupby("cluster"):
                    if len(g) < 2:
                        continue
                    lab = int(g.index[g["representative"].astype(bool).to_numpy()][0])
                    others = np.array([i for i in g.index if i != lab and gop.known[i]], np.int64)
                    if not gop.known[lab] or not len(others):
                        vals.append(np.nan)
                        continue
                    vals.append(float(np.mean(gop.wang_pairs(np.full(len(others), lab), others))))
                wang[flag] += vals
        print(ds, lib, kind, round(np.mean(a.loc[keep, "label_support"]), 3), round(np.mean(b.loc[keep, "label_support"]), 3), flush=True)
print("support", np.mean(sup[False]), np.mean(sup[True]), paired_bootstrap(np.array(sup[True]), np.array(sup[False])))
print("low share", np.mean(np.array(sup[False]) < 1/3), np.mean(np.array(sup[True]) < 1/3))
if wang[True]:
    print("wang", np.nanmean(wang[False]), np.nanmean(wang[True]), paired_bootstrap(np.array(wang[True]), np.array(wang[False])))
