"""Looked at on development only (benchmarks/decisions/cluster.md, session 16), not a round: the
default partition polished by mean simGIC within direction (each GO pathway to the same-sign cluster it
is most similar to on average, clusters kept at >= 3 members, up to 20 sweeps), judged by the Wang, Lin
and Rel silhouettes on the 4 development GO BP clusterings.

    nice -n 10 python benchmarks/dev/partition/look_go_polish.py     # prints; writes nothing
"""
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / 'src'))
sys.path.insert(0, str(ROOT / 'benchmarks'))
import cluster_defaults as cd  # noqa: E402
from contrastomics.cluster.metrics import go_pairs  # noqa: E402
from contrastomics.evaluate.semantic import lin_rel_for, go_similarity_for  # noqa: E402
from contrastomics.evaluate.stats import paired_bootstrap  # noqa: E402


def polish(lab, S, known, sign, min_size=3, sweeps=20):
    lab = lab.copy()
    for _ in range(sweeps):
        k = lab.max() + 1
        M = np.zeros((len(lab), k)); M[np.arange(len(lab)), lab] = 1
        Mk = M * known[:, None]
        sums = S @ Mk
        cnt = Mk.sum(0)[None, :] - (known[:, None] * M)
        own = sums - np.where(M > 0, np.diag(S)[:, None], 0)
        mean = np.divide(own, cnt, out=np.full(own.shape, -np.inf), where=cnt > 0)
        csign = np.array([np.sign(np.sum(sign[lab == c])) for c in range(k)])
        mean[:, :] = np.where(csign[None, :] == sign[:, None], mean, -np.inf)
        best = mean.argmax(1)
        cur = mean[np.arange(len(lab)), lab]
        size = np.bincount(lab, minlength=k)
        moved = 0
        for i in np.argsort(-(mean[np.arange(len(lab)), best] - cur)):
            if not known[i] or best[i] == lab[i] or mean[i, best[i]] <= cur[i] + 1e-9: continue
            if size[lab[i]] <= min_size: continue
            size[lab[i]] -= 1; size[best[i]] += 1; lab[i] = best[i]; moved += 1
        if not moved: break
    return lab


rows = []
for ds, lib, kind, df, gs in cd.inputs('dev', libs=['gobp']):
    pw, res, lab = cd.cluster_input(df, gs)
    terms = pw.table['term'].tolist()
    sign = np.sign(pw.table['nes'].to_numpy())
    S, known = go_similarity_for(terms)
    S = np.asarray(S, float); known = np.asarray(known, bool)
    lab2 = polish(lab, S, known, sign)
    gop = go_pairs(terms); lr = lin_rel_for(terms)
    out = {}
    for name, l in (('base', lab), ('pol', lab2)):
        out[name] = {'wang': cd.wang_samples(l, gop), 'lin': cd.similarity_samples(l, lr[0], lr[2]), 'rel': cd.similarity_samples(l, lr[1], lr[2])}
    print(ds, kind, 'moved', int((lab != lab2).sum()), 'of', len(lab), {j: (round(out['base'][j].mean(), 4), round(out['pol'][j].mean(), 4)) for j in ('wang', 'lin', 'rel')}, flush=True)
    rows.append(out)
for j in ('wang', 'lin', 'rel'):
    a = np.concatenate([r['pol'][j] for r in rows]); b = np.concatenate([r['base'][j] for r in rows])
    print(j, paired_bootstrap(a, b))
