"""How general the cluster labels are under the medoid rule (R0) and `central` (R1h, round 12):
GO descendants (is_a/part_of) of the label term of every non-singleton GO cluster, default
partition, development and test GO BP results (informative; benchmarks/decisions/cluster.md).

    nice -n 10 python benchmarks/dev/cluster_labels/label_generality.py
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

import cluster_defaults as cd  # noqa: E402
from dev_round12 import reps_in_input_order  # noqa: E402

from contrastomics.cluster import labels as lab_mod, prepare, run_clustering  # noqa: E402
from contrastomics.data.ontology import extract_go_id  # noqa: E402
from contrastomics.evaluate.cluster_metrics import GoPairs  # noqa: E402


def main() -> None:
    onto = lab_mod._go_ontology()
    desc = lab_mod._ontology_counts(onto)[0]
    shipped = lab_mod.CENTRAL_POOL
    for part in ("dev", "test"):
        for how, pool in (("medoid", 0.0), ("central", 0.5)):
            lab_mod.CENTRAL_POOL = pool
            d_all = []
            for _, _, _, df, gs in cd.inputs(part, libs=("gobp",)):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pw = prepare(df, fdr_cutoff=0.25, gene_sets=gs)
                    res = run_clustering(df, fdr_cutoff=0.25, gene_sets=gs, n_random=0, layout=False,
                                         representative=how)
                labels = cd.input_order_labels(res)
                rows = GoPairs.rows_of([extract_go_id(str(t)) for t in pw.table["term"]], onto)
                d_all += [desc[rows[r]] for c, r in reps_in_input_order(res).items()
                          if (labels == c).sum() >= 2 and rows[r] >= 0]
            d = np.asarray(d_all)
            print(f"{part} {how}: {len(d)} clusters, descendants median {np.median(d):g} mean {d.mean():.1f}, "
                  f"share > 100 {(d > 100).mean():.3f}, leaves {(d == 0).mean():.3f}")
    lab_mod.CENTRAL_POOL = shipped


if __name__ == "__main__":
    main()
