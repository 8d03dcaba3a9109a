"""Round 19 counted by pathways (benchmarks/decisions/cluster.md; informative, no choice): the share of
pathways whose cluster's label support is below 1/3, U0 vs P, on the mixed inputs of both parts.

    nice -n 10 python benchmarks/dev/partition/round19_by_pathways.py   # -> round19_by_pathways.{json,md}

Same inputs, relation and labels as ``dev_round19.py``; clusters of >= 2 members.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "benchmarks"))
sys.path.insert(0, str(HERE))

import cluster_defaults as cd  # noqa: E402
from dev_round import mixed_inputs  # noqa: E402
from dev_round19 import CANDIDATES, mixed_support  # noqa: E402

from contrastomics.cluster import library_parts  # noqa: E402


def main() -> None:
    recs = []
    for part in ("dev", "test"):
        for cand, on in CANDIDATES.items():
            library_parts.PARTS = on
            low = total = 0
            for _, _, _, df, gs in mixed_inputs(part):
                pw, res, lab = cd.cluster_input(df, gs)
                sup = mixed_support(pw, res, lab)
                sizes = np.array([(lab == c).sum() for c in np.unique(lab) if (lab == c).sum() >= 2])
                low, total = low + int(sizes[sup < 1 / 3].sum()), total + len(lab)
            recs.append({"dataset": "GO BP + Reactome concatenated", "split": part, "method": cand,
                         "metric": "share of pathways under a label with support < 1/3", "value": low / total,
                         "pathways_low": low, "pathways": total})
            print(json.dumps(recs[-1]), flush=True)
    library_parts.PARTS = True
    (HERE / "round19_by_pathways.json").write_text(json.dumps({"benchmark": "round19_by_pathways", "records": recs},
                                                              indent=1))
    lines = ["| part | candidate | pathways under a label with support < 1/3 | share |", "|---|---|---|---|"]
    lines += [f"| {r['split']} | {r['method']} | {r['pathways_low']} of {r['pathways']} | {r['value']:.3f} |" for r in recs]
    (HERE / "round19_by_pathways.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
