import pickle, numpy as np
from contrastomics.data.builtin import load_ontology
from contrastomics.data.ontology import extract_go_id
from contrastomics.cluster.labels import _ontology_counts, representatives
from contrastomics.evaluate.semantic import go_similarity_for
dev = pickle.load(open("/tmp/cluster_dev/dev.pkl", "rb"))
onto = load_ontology("GO")
nd, na = _ontology_counts(onto)
for k in [k for k in dev if k.endswith("gobp")]:
    d = dev[k]
    ids = [extract_go_id(t) for t in d["terms"]]
    rows = np.array([onto.index(i) if i in onto else -1 for i in ids])
    D = np.where(rows >= 0, nd[rows], -1); A = np.where(rows >= 0, na[rows], -1)
    print(k, "n", len(ids), "desc pct 50/90/95/99:", np.percentile(D[D>=0], [50, 90, 95, 99]).round(), "anc pct 1/5/10/50:", np.percentile(A[A>=0], [1, 5, 10, 50]).round(), "size pct 50/95/99/max", np.percentile(d["sizes"], [50,95,99,100]))
    o = np.argsort(-D)[:12]
    for i in o: print("   D", D[i], "A", A[i], "size", d["sizes"][i], d["titles"][i])
    o = np.argsort(A)[:8]
    for i in o: print("   A", A[i], "D", D[i], d["titles"][i])
    for space in ("joint", "simgic"):
        sim = None if space == "joint" else go_similarity_for(d["terms"])[0]
        reps = representatives(d["labels"], d["space"], d["fdr"], d["nes"], similarity=sim)
        lab = [(c, d["titles"][r], D[r], A[r], d["sizes"][r], int((d["labels"] == c).sum())) for c, r in reps.items() if (d["labels"] == c).sum() > 1]
        print(" ", space, "labels with D>100 or A<5 or size>500:", [x for x in lab if x[2] > 100 or x[3] < 5 or x[4] > 500])
