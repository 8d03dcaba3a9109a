import pickle, numpy as np
exec(open("/tmp/cluster_dev/dev_rules.py").read().split("rows = []")[0])
D, S = 270, 750
# rule 3: W = median Wang similarity of sibling pairs (distinct terms sharing a direct parent) among dev GO terms
sib_w = []
for k in go_keys:
    gp = R[k]["gp"]
    idx = np.flatnonzero(gp.known)
    # distinct terms only
    _, first = np.unique(gp.term_index[idx], return_index=True)
    idx = idx[first]
    a, b = np.triu_indices(len(idx), 1)
    a, b = idx[a], idx[b]
    sib = (gp._par[gp.term_index[a]].multiply(gp._par[gp.term_index[b]]).sum(1).A.ravel() > 0)
    sib_w.append(gp.wang_pairs(a[sib], b[sib]))
    print(k, "sibling pairs", sib.sum(), "of", len(a))
sib_w = np.concatenate(sib_w)
W = float(np.median(sib_w))
print("W = median Wang of sibling pairs:", W, "quartiles", np.percentile(sib_w, [25, 75]))
# rule 4: q maximising F1 of (space sim >= q-quantile) vs GO call, over (label, member) pairs in the joint space
qs = [0.80, 0.85, 0.90, 0.95, 0.975, 0.99]
tp = {q: 0 for q in qs}; fp = {q: 0 for q in qs}; fn = {q: 0 for q in qs}
Wr = round(W, 2)
for k in go_keys:
    d, gp = dev[k], R[k]["gp"]
    reps, _ = reps_for(k, "simgic", D, 0, S)
    rep = np.array([reps[c] for c in d["labels"]]); oth = np.flatnonzero(rep != np.arange(len(rep)))
    a, b = rep[oth], oth
    ok = gp.known[a] & gp.known[b]; a, b = a[ok], b[ok]
    truth = gp.related(a, b) | (gp.wang_pairs(a, b) >= Wr)
    v = pair_values(d["space"], a, b)
    for q in qs:
        t = support_threshold(d["space"], len(rep), quantile=q)
        call = (v >= t) & (v > 0)
        tp[q] += int((call & truth).sum()); fp[q] += int((call & ~truth).sum()); fn[q] += int((~call & truth).sum())
    print(k, "pairs", len(a), "GO-near share", truth.mean().round(3))
for q in qs:
    p = tp[q] / max(tp[q] + fp[q], 1); r = tp[q] / max(tp[q] + fn[q], 1)
    print("q", q, "precision", round(p, 3), "recall", round(r, 3), "F1", round(2 * p * r / max(p + r, 1e-9), 4))
