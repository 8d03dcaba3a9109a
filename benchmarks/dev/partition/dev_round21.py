"""Development round 21 (benchmarks/decisions/cluster.md): O0, every pathway clustered (today),
against O1 / O2, the pathways with a negative silhouette in the joint space's Euclidean distances
left unclustered (at most 5% / 2.5% of the pathways), at the default count, judged as rounds 14 and
16 (Wang, Lin, Rel per pathway with singletons scoring 0). Not adopted: the rule lives here, patched
in after the package's ``attach_small`` (the step it followed when the round ran).

    nice -n 10 python benchmarks/dev/partition/dev_round21.py   # -> dev_round21.{json,md} beside it

The clustering and the summary are round 13's (``dev_round13.run_round``).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dev_round13 import run_round, write_round  # noqa: E402

from contrastomics.cluster import api  # noqa: E402
from contrastomics.cluster.communities import attach_small, euclidean_in_place  # noqa: E402
from contrastomics.evaluate.cluster_metrics import silhouette_values  # noqa: E402

CANDIDATES = {"O0": 0.0, "O1": 0.05, "O2": 0.025}


def detach_outliers(x, labels: np.ndarray, share: float, *, min_size: int = 3) -> np.ndarray:
    """``labels`` with the pathways that fit no cluster set to ``-1``: a negative silhouette in the
    Euclidean distances of the joint space ``x`` over the clusters of >= 2 members, most negative
    first, at most ``floor(share * n)``, never leaving a cluster with fewer than ``min_size`` members."""
    lab = np.asarray(labels, np.int64).copy()
    budget = int(np.floor(share * len(lab)))
    inside = np.flatnonzero(lab >= 0)
    if budget < 1 or len(np.unique(lab[inside])) < 2:
        return lab
    d = euclidean_in_place(np.asarray(x.similarity(inside, inside), np.float64))
    np.fill_diagonal(d, 0.0)
    sil = silhouette_values(d, lab[inside])
    sizes = np.bincount(lab[inside])
    for k in np.argsort(sil, kind="stable"):
        if sil[k] >= 0 or budget == 0:
            break
        c = lab[inside[k]]
        if sizes[c] > min_size:
            sizes[c] -= 1
            lab[inside[k]] = -1
            budget -= 1
    return lab


def configure(cand: str) -> dict:
    share = CANDIDATES[cand]

    def attach_then_detach(raw, x, *, min_size=3, **kw):  # every run here: `joint`, Ward, default count
        lab, info = attach_small(raw, x, min_size=min_size, **kw)
        if x is not None and hasattr(x, "similarity"):
            kept = lab >= 0
            lab = detach_outliers(x, lab, share, min_size=min_size)
            info["singletons"] += int((kept & (lab < 0)).sum())
        return lab, info

    api.attach_small = attach_then_detach  # the name `_partition_part` looks up
    return {}


def main() -> None:
    recs, summary, lines = run_round(tuple(CANDIDATES), configure, baseline="O0", vs="O0", flag="qualifies")
    write_round("dev_round21", recs, summary, lines)


if __name__ == "__main__":
    main()
