"""How the share of misleading labels (label support < 1/3) depends on what counts as "near" the
label: the GO neighbourhood alone, or with Wang similarity >= 0.4, 0.5 or 0.63 (the shipped 0.63).
Informative, no choice (benchmarks/decisions/cluster.md, session 10): issue 15's checker counts
members "within the label term's ontology neighbourhood ... or above a similarity threshold", a
threshold it does not state. GO BP results of ``cluster_defaults`` (dev and test, leading edges),
the shipped default (`joint`) beside the previous default's pipeline (`joint_v1`, labelled by the
medoid as it was then). Members without a known GO id are left out of a cluster's share.

    nice -n 10 python benchmarks/dev/cluster_labels/support_sensitivity.py   # -> support_sensitivity.{json,md}
"""
from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(HERE))

import cluster_defaults as cd  # noqa: E402
from dev_round12 import reps_in_input_order  # noqa: E402

from contrastomics.cluster import run_clustering  # noqa: E402
from contrastomics.cluster.metrics import go_pairs  # noqa: E402
from contrastomics.cluster.pathways import prepare  # noqa: E402

BASES = {"GO neighbourhood only": None, "+ Wang >= 0.4": 0.4, "+ Wang >= 0.5": 0.5, "+ Wang >= 0.63 (shipped)": 0.63}
RUNS = {"joint": dict(method="joint"), "joint_v1 (medoid)": dict(cd.METHODS["joint_v1"], representative="medoid")}


def shares(lab: np.ndarray, reps: dict[int, int], gp, wang: float | None) -> list[float]:
    out = []
    for c, r in reps.items():
        m = np.flatnonzero((lab == c) & gp.known)
        m = m[m != r]
        if not gp.known[r] or not len(m):
            continue
        a = np.full(len(m), r)
        ok = gp.related(a, m)
        if wang is not None:
            ok |= gp.wang_pairs(a, m) >= wang
        out.append(float(ok.mean()))
    return out


def main() -> None:
    recs = []
    for part in ("dev", "test"):
        for ds, lib, kind, df, gs in cd.inputs(part, libs=["gobp"]):
            if kind != cd.KINDS[0]:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pw = prepare(df, fdr_cutoff=0.25, gene_sets=gs)
            gp = go_pairs(pw.table["term"].tolist())
            for name, kw in RUNS.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = run_clustering(df, fdr_cutoff=0.25, gene_sets=gs, n_random=0, layout=False, **kw)
                lab, reps = cd.input_order_labels(res), reps_in_input_order(res)
                for basis, w in BASES.items():
                    s = shares(lab, reps, gp, w)
                    recs.append({"dataset": f"{ds}/{lib}", "split": part, "input": kind, "method": name, "basis": basis,
                                 "metric": "labels_below_one_third", "value": int(sum(x < 1 / 3 for x in s)),
                                 "n": len(s)})
                print(part, ds, name, [(r["basis"], r["value"], r["n"]) for r in recs[-len(BASES):]], flush=True)
    (HERE / "support_sensitivity.json").write_text(json.dumps({"benchmark": "support_sensitivity", "records": recs}, indent=1))
    lines = ["| part | method | " + " | ".join(BASES) + " |", "|---|---|" + "---|" * len(BASES)]
    for part in ("dev", "test"):
        for name in RUNS:
            cells = []
            for basis in BASES:
                rs = [r for r in recs if r["split"] == part and r["method"] == name and r["basis"] == basis]
                low, n = sum(r["value"] for r in rs), sum(r["n"] for r in rs)
                cells.append(f"{low} of {n} ({low / n:.0%})")
            lines.append(f"| {part} | {name} | " + " | ".join(cells) + " |")
    (HERE / "support_sensitivity.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
