import pickle, sys, numpy as np
sys.argv += []
exec(open("/tmp/cluster_dev/dev_rules.py").read().split("rows = []")[0])
from contrastomics.cluster.labels import _ontology_counts
nd, na = _ontology_counts(onto)
allD, allS = [], []
for k in go_keys:
    rows_ = GoPairs.rows_of(R[k]["ids"], onto)
    allD.append(nd[rows_[rows_ >= 0]]); allS.append(dev[k]["sizes"])
allD, allS = np.concatenate(allD), np.concatenate(allS)
print("pooled 95th pct descendants", np.percentile(allD, 95), "sizes", np.percentile(allS, 95), "n terms", len(allD))
for D, S in ((270, 750),):
    a, b = [], []
    for k in go_keys:
        rj, nj = reps_for(k, "joint", D, 0, S); rs, ns = reps_for(k, "simgic", D, 0, S)
        a.append(per_cluster_wang(k, rj)); b.append(per_cluster_wang(k, rs))
    a, b = np.concatenate(a), np.concatenate(b)
    bs = paired_bootstrap(b, a) if True else None
    print(D, S, "joint", a.mean().round(4), "simgic", b.mean().round(4), "diff CI", bs)
