"""Summaries of /tmp/joint_v2/*.json by the rules of the session-6 entry in benchmarks/decisions/cluster.md."""
import json, sys
import numpy as np
from collections import defaultdict


def boot_unpaired(a, b, n=2000, seed=0):
    rng = np.random.default_rng(seed)
    a, b = np.asarray(a), np.asarray(b)
    d = [rng.choice(a, len(a)).mean() - rng.choice(b, len(b)).mean() for _ in range(n)]
    return a.mean() - b.mean(), np.percentile(d, 2.5), np.percentile(d, 97.5)


def constraints(recs):
    bad = defaultdict(list)
    for r in recs:
        if r["n"] >= 100 and (r["coverage"] < 0.95 or r["n_clusters"] > r["n"] / 15):
            bad[r["config"]].append((r["result"], r["input"], r["coverage"], r["n_clusters"]))
    return bad


def stage_a(path):
    recs = json.load(open(path))
    pur = defaultdict(list)
    for r in recs:
        if "purity_clusters" in r:
            pur[r["config"]] += r["purity_clusters"]
    bad = constraints(recs)
    means = {c: np.mean(v) for c, v in pur.items()}
    best = max((c for c in means if c not in bad), key=means.get)
    for c, v in pur.items():
        d, lo, hi = boot_unpaired(v, pur[best])
        print(f"{c:16s} purity {means[c]:.3f} (clusters {len(v)}) vs best {d:+.3f} [{lo:+.3f}, {hi:+.3f}]"
              f" constraint-fails {bad.get(c, [])}")
    print("best", best)


def stage_b(path, ref="onto0.0"):
    recs = json.load(open(path))
    s = defaultdict(list)
    sil = defaultdict(list)
    for r in recs:
        s[r["config"]] += r["sil_samples"]
        sil[r["config"]].append(r["sil_wang"])
    bad = constraints(recs)
    from contrastomics.evaluate.stats import paired_bootstrap
    for c in s:
        a, b = np.asarray(s[c]), np.asarray(s[ref])
        ci = paired_bootstrap(a, b)
        print(f"{c:10s} mean sil_wang (ours, per result) {np.mean(sil[c]):.4f} {np.round(sil[c], 3)} "
              f"per-pathway (singletons 0) {a.mean():.4f} vs {ref}: {ci} fails {bad.get(c, [])}")


if __name__ == "__main__":
    {"A": stage_a, "B": stage_b}[sys.argv[1]](sys.argv[2])
