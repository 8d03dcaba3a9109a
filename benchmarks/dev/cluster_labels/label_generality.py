"""How general the cluster labels are under the medoid rule (R0) and `central` (R1h, round 12):
GO descendants (is_a/part_of) of the label term of every non-singleton GO cluster, default
partition, development and test GO BP results (informative; benchmarks/decisions/cluster.md).

    nice -n 10 python benchmarks/dev/cluster_labels/label_generality.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from dev_round12 import labelled_runs  # noqa: E402

from contrastomics.cluster import labels as lab_mod  # noqa: E402
from contrastomics.data.ontology import extract_go_id  # noqa: E402
from contrastomics.evaluate.cluster_metrics import GoPairs  # noqa: E402


def main() -> None:
    onto = lab_mod._go_ontology()
    desc = lab_mod._ontology_counts(onto)[0]
    for part in ("dev", "test"):
        for how, pool in (("medoid", 0.0), ("central", 0.5)):
            d_all = []
            for _, _, _, pw, _, _, reps in labelled_runs(part, how, pool, libs=("gobp",)):
                rows = GoPairs.rows_of([extract_go_id(str(t)) for t in pw.table["term"]], onto)
                d_all += [desc[rows[r]] for r in reps.values() if rows[r] >= 0]
            d = np.asarray(d_all)
            print(f"{part} {how}: {len(d)} clusters, descendants median {np.median(d):g} mean {d.mean():.1f}, "
                  f"share > 100 {(d > 100).mean():.3f}, leaves {(d == 0).mean():.3f}")


if __name__ == "__main__":
    main()
