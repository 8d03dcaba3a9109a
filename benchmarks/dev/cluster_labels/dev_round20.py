"""Development round 20 (benchmarks/decisions/cluster.md): the label centrality without (C0, the rule
before) or with (C1) the ontology block of the joint space; the partition is the same for both.

    nice -n 10 python benchmarks/dev/cluster_labels/dev_round20.py   # -> dev_round20.{json,md} beside it

Inputs: the default clustering of every development result (``cluster_defaults.inputs``, both input
kinds). Judge: label support of each non-singleton cluster (the package's relation), paired by
cluster over the clusterings whose labels can change (a space with an ontology block, labels read
from the space: Reactome and C2:CP); clusters below 1/3 reported.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "benchmarks" / "dev" / "partition"))

import cluster_defaults as cd  # noqa: E402
from dev_round import ci_text  # noqa: E402

from contrastomics.cluster import labels as lab_mod  # noqa: E402
from contrastomics.evaluate.stats import paired_bootstrap  # noqa: E402

CANDIDATES = {"C0": False, "C1": True}
CHANGEABLE = ("reactome", "c2cp")


def run(part: str):
    recs, support = [], {}
    for cand, every in CANDIDATES.items():
        lab_mod.CENTRALITY_EVERY_BLOCK = every
        for ds, lib, kind, df, gs in cd.inputs(part, libs=CHANGEABLE):
            pw, res, lab = cd.cluster_input(df, gs)
            fields, sup = cd.run_record(res, lab)
            c = res.clusters.loc[~res.clusters["singleton"]]
            support[(cand, ds, lib, kind)] = sup
            rec = {"candidate": cand, "dataset": f"{ds}/{lib}", "input": kind, **fields,
                   "labels_below_third": int((sup < 1 / 3).sum()), "labels": c["label"].tolist()}
            recs.append(rec)
            print(json.dumps({k: v for k, v in rec.items() if k != "labels"}), flush=True)
    lab_mod.CENTRALITY_EVERY_BLOCK = True
    keys = [k[1:] for k in support if k[0] == "C0"]
    a = np.concatenate([support[("C1",) + k] for k in keys])
    b = np.concatenate([support[("C0",) + k] for k in keys])
    ci = paired_bootstrap(a, b)
    changed = sum(x != y for r0, r1 in zip(recs[:len(keys)], recs[len(keys):]) for x, y in zip(r0["labels"], r1["labels"]))
    summary = {"clusters": int(len(a)), "labels_changed": int(changed),
               "support_C0": float(b.mean()), "support_C1": float(a.mean()),
               "support_C1_minus_C0": [ci["diff"], ci["low"], ci["high"]],
               "below_third_C0": int((b < 1 / 3).sum()), "below_third_C1": int((a < 1 / 3).sum())}
    summary["adopt_C1"] = bool(ci["high"] >= 0)
    return recs, summary


def markdown(recs, s) -> str:
    lines = [f"Over {s['clusters']} non-singleton clusters of the development Reactome and C2:CP clusterings "
             f"({s['labels_changed']} labels differ):", "",
             "| candidate | mean label support | C1 - C0 (paired by cluster) | clusters below 1/3 | adopt |",
             "|---|---|---|---|---|",
             f"| C0 (without the ontology block) | {s['support_C0']:.3f} | - | {s['below_third_C0']} | - |",
             f"| C1 (every block) | {s['support_C1']:.3f} | {ci_text(s['support_C1_minus_C0'])} | "
             f"{s['below_third_C1']} | {s['adopt_C1']} |", "",
             "| candidate | result | input | clusters | label support | below 1/3 |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['candidate']} | {r['dataset']} | {r['input']} | {r['n_clusters']} | {r['label_support_mean']:.3f} | "
              f"{r['labels_below_third']} |" for r in recs]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("dev",), default="dev")
    args = ap.parse_args()
    recs, summary = run(args.part)
    (HERE / "dev_round20.json").write_text(json.dumps({"part": args.part, "records": recs, "summary": summary}, indent=1))
    (HERE / "dev_round20.md").write_text(markdown(recs, summary))
    print(markdown(recs, summary).split("\n\n")[1])


if __name__ == "__main__":
    main()
