import pickle, numpy as np
from contrastomics.data.ontology import extract_go_id
from contrastomics.cluster.labels import representatives, label_support, generic_terms
from contrastomics.cluster.metrics import go_pairs
from contrastomics.evaluate.semantic import go_similarity_for
from contrastomics.evaluate.stats import paired_bootstrap
dev = pickle.load(open("/tmp/cluster_dev/dev.pkl", "rb"))
A, B = {"go": [], "other": []}, {"go": [], "other": []}
for k, d in dev.items():
    ids = [extract_go_id(t) for t in d["terms"]]
    isgo = k.endswith("gobp")
    gop = go_pairs(ids) if isgo else None
    old = representatives(d["labels"], d["space"], d["fdr"], d["nes"])
    gen = generic_terms(ids, d["sizes"])
    sim = go_similarity_for(d["terms"])[0] if isgo else None
    new = representatives(d["labels"], d["space"], d["fdr"], d["nes"], similarity=sim, eligible=~gen)
    so, _ = label_support(d["labels"], old, space=d["space"], go=gop)
    sn, _ = label_support(d["labels"], new, space=d["space"], go=gop)
    cs = [c for c in so if np.isfinite(so[c])]
    a = np.array([so[c] for c in cs]); b = np.array([sn[c] for c in cs])
    A["go" if isgo else "other"].append(a); B["go" if isgo else "other"].append(b)
    changed = sum(old[c] != new[c] for c in cs)
    gen_old = sum(bool(gen[old[c]]) for c in cs)
    print(k, "clusters", len(cs), "labels changed", changed, "old labels generic", gen_old, "support old", a.mean().round(3), "new", b.mean().round(3), "low old", int((a < 1/3).sum()), "low new", int((b < 1/3).sum()))
    if isgo:
        for c in cs:
            if old[c] != new[c]:
                print("    ", c, (d["labels"] == c).sum(), repr(d["titles"][old[c]]), round(so[c], 2), "->", repr(d["titles"][new[c]]), round(sn[c], 2))
for g in ("go", "other"):
    a, b = np.concatenate(A[g]), np.concatenate(B[g])
    print(g, "n", len(a), "old", a.mean().round(3), "new", b.mean().round(3), "low old", int((a < 1/3).sum()), "low new", int((b < 1/3).sum()), paired_bootstrap(b, a))
