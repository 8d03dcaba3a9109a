"""Looked at on development only (benchmarks/decisions/cluster.md, session 16), not a round: on the 4
development C2:CP clusterings, the shipped unknown-row rule (``impute-own``: KEGG / PID / BioCarta /
WikiPathways sets keep zero Reactome-view rows) against ``impute`` (every unknown row imputed from its 5
nearest known pathways), judged by Reactome top-level purity over all members (the shipped judge) and
over the members some top level contains (>= 95% of genes; the others cannot be judged).

    nice -n 10 python benchmarks/dev/partition/look_c2cp_impute.py   # prints; writes nothing
"""
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / 'src'))
sys.path.insert(0, str(ROOT / 'benchmarks'))
import cluster_defaults as cd  # noqa: E402
from contrastomics.cluster import view_gaps  # noqa: E402

tops = cd.top_level_sets()


def judge(lab, full_sets):
    inside = np.array([[bool(s) and len(set(s) & g) >= 0.95 * len(set(s)) for g in tops.values()] for s in full_sets])
    ok = inside.any(1)
    allp, fair, n_ok = [], [], []
    for c in np.unique(lab):
        m = lab == c
        if m.sum() < 2: continue
        allp.append(inside[m].sum(0).max() / m.sum())
        mm = m & ok
        if mm.sum() >= 2: fair.append(inside[mm].sum(0).max() / mm.sum())
    return np.array(allp), np.array(fair), ok


for how in ('impute-own', 'impute'):
    view_gaps.UNKNOWN_ROWS = how
    A, F, low, ncl = [], [], 0, 0
    for ds, lib, kind, df, gs in cd.inputs('dev', libs=['c2cp']):
        pw, res, lab = cd.cluster_input(df, gs)
        a, f, ok = judge(lab, pw.full_sets)
        A += a.tolist(); F += f.tolist()
        m = res.summary['metrics']; low += m.get('labels_low_support') or 0; ncl += res.summary['n_clusters']
        print(how, ds, kind, 'contained', int(ok.sum()), 'of', len(ok), 'purity all %.3f fair %.3f' % (a.mean(), f.mean()), 'low', m.get('labels_low_support'), 'of', res.summary['n_clusters'], 'support %.3f' % m.get('label_support_mean', float('nan')), flush=True)
    print(how, 'POOLED purity all %.3f fair %.3f low %d/%d' % (np.mean(A), np.mean(F), low, ncl))
