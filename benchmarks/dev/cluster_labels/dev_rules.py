"""Rules 1-4 of the 2026-12-07 issue-15 decisions entry, on the development GO results."""
import pickle, itertools, json
import numpy as np
from contrastomics.data.builtin import load_ontology
from contrastomics.data.ontology import extract_go_id
from contrastomics.evaluate.cluster_metrics import GoPairs
from contrastomics.evaluate.semantic import go_similarity_for
from contrastomics.evaluate.stats import paired_bootstrap
from contrastomics.cluster.labels import generic_terms, representatives, pair_values, support_threshold
dev = pickle.load(open("/tmp/cluster_dev/dev.pkl", "rb"))
onto = load_ontology("GO")
go_keys = [k for k in dev if k.endswith("__gobp")]
print("GO dev results:", go_keys)
R = {}
for k in go_keys:
    d = dev[k]
    ids = [extract_go_id(t) for t in d["terms"]]
    R[k] = dict(ids=ids, gp=GoPairs(ids, onto), simgic=go_similarity_for(d["terms"])[0])

def per_cluster_wang(k, reps):
    d, gp = dev[k], R[k]["gp"]
    out = []
    for c, r in sorted(reps.items()):
        mem = np.flatnonzero(d["labels"] == c)
        oth = mem[mem != r]
        if len(mem) < 2 or not gp.known[r]:
            continue
        oth = oth[gp.known[oth]]
        out.append(float(gp.wang_pairs(np.full(len(oth), r), oth).mean()) if len(oth) else np.nan)
    return np.array(out)

def reps_for(k, space, D, A, S):
    d = dev[k]
    gen = generic_terms(R[k]["ids"], d["sizes"], ontology=onto, max_descendants=D if D else 10**9,
                        max_set_size=S if S else 10**9)
    sim = None if space == "joint" else R[k]["simgic"]
    return representatives(d["labels"], d["space"], d["fdr"], d["nes"], "central", similarity=sim,
                           eligible=~gen), int(gen.sum())

rows = []
for space in ("joint", "simgic"):
    for D, A, S in itertools.product((50, 100, 200, 500, None), (0, 3, 4, 5, 6), (500, 1000, None)):
        vals, nexcl = [], 0
        for k in go_keys:
            reps, ne = reps_for(k, space, D, A, S)
            vals.append(per_cluster_wang(k, reps)); nexcl += ne
        v = np.concatenate(vals)
        rows.append(dict(space=space, D=D, A=A, S=S, wang=float(np.nanmean(v)), excluded=nexcl, n=len(v)))
for space in ("joint", "simgic"):
    rs = [r for r in rows if r["space"] == space]
    base = next(r for r in rs if r["D"] is None and r["A"] == 0 and r["S"] is None)
    best = max(rs, key=lambda r: r["wang"])
    print(space, "no rule:", round(base["wang"], 4), "best:", best)
    near = [r for r in rs if r["wang"] >= best["wang"] - 0.005]
    pick = min(near, key=lambda r: (r["excluded"], -r["wang"]))
    print(space, "picked (within 0.005, fewest excluded):", pick)
    top = sorted(rs, key=lambda r: -r["wang"])[:8]
    for r in top: print("   ", r)
json.dump(rows, open("/tmp/cluster_dev/rule1_grid.json", "w"), indent=1)
