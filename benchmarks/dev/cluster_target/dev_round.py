"""Development round 8 (benchmarks/decisions/cluster.md): the default number of clusters, n/D for
results of >= 100 pathways, D in {20, 17, 15}, on the development results only.

    nice -n 10 python benchmarks/dev/cluster_target/dev_round.py   # -> dev_round.{json,md} beside it
"""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import cluster_defaults as cd  # noqa: E402

from contrastomics.cluster import api  # noqa: E402
from contrastomics.cluster.communities import target_clusters  # noqa: E402
from contrastomics.cluster.metrics import go_pairs  # noqa: E402
from contrastomics.evaluate.stats import paired_bootstrap  # noqa: E402

CANDIDATES = (20, 17, 15)


def target(d: int):
    """The package's default count with ``n / d`` clusters for results of >= 100 pathways."""
    return functools.partial(target_clusters, per=d)


def main() -> None:
    tops = cd.top_level_sets()
    recs, wang_units = [], {}
    for d in CANDIDATES:
        api.target_clusters = target(d)  # the name `_run` looks up
        for ds, lib, kind, df, gs in cd.inputs("dev"):
            pw, res, lab = cd.cluster_input(df, gs)
            m, s = res.summary["metrics"], res.summary
            rec = {"D": d, "dataset": f"{ds}/{lib}", "input": kind, "n": len(lab), "n_clusters": s["n_clusters"],
                   "coverage": m.get("coverage"), "nes_coherence_adjusted": m.get("nes_coherence_adjusted"),
                   "label_support_mean": m.get("label_support_mean"),
                   "labels_low_share": (m.get("labels_low_support", 0) / m["labels_scored"]) if m.get("labels_scored") else None}
            if lib == "gobp":
                u = cd.wang_samples(lab, go_pairs(pw.table["term"].tolist()))
                wang_units[(d, ds, kind)] = u
                rec["wang"] = float(u.mean())
            if lib == "reactome":
                rec["purity"] = float(cd.purity_per_cluster(lab, pw.full_sets, tops).mean())
            recs.append(rec)
            print(json.dumps(rec), flush=True)
    summary = {}
    for d in CANDIDATES:
        big = [r for r in recs if r["D"] == d and r["n"] >= 100]
        ok = all(r["n_clusters"] <= r["n"] / 15 and r["nes_coherence_adjusted"] >= 0.95 and r["coverage"] >= 0.95
                 for r in big)
        a = np.concatenate([wang_units[k] for k in sorted(wang_units) if k[0] == d])
        b = np.concatenate([wang_units[(20,) + k[1:]] for k in sorted(wang_units) if k[0] == d])
        ci = paired_bootstrap(a, b)
        rows = [r for r in recs if r["D"] == d]
        summary[d] = {"qualifies": ok, "mean_wang_gobp": float(np.mean([r["wang"] for r in rows if "wang" in r])),
                      "vs_D20": [ci["diff"], ci["low"], ci["high"]],
                      "max_clusters_over_n15": max(r["n_clusters"] / (r["n"] / 15) for r in big),
                      "mean_label_support": float(np.mean([r["label_support_mean"] for r in rows if r["label_support_mean"] is not None])),
                      "mean_low_label_share": float(np.mean([r["labels_low_share"] for r in rows if r["labels_low_share"] is not None])),
                      "mean_purity_reactome": float(np.mean([r["purity"] for r in rows if "purity" in r]))}
    (HERE / "dev_round.json").write_text(json.dumps({"records": recs, "summary": summary}, indent=1))
    lines = ["| D | qualifies | mean Wang (4 GO BP) | vs D=20 [95% CI] | max clusters / (n/15) | label support | share < 1/3 | Reactome purity |",
             "|---|---|---|---|---|---|---|---|"]
    for d, s in summary.items():
        lines.append(f"| {d} | {s['qualifies']} | {s['mean_wang_gobp']:.3f} | {s['vs_D20'][0]:+.3f} [{s['vs_D20'][1]:+.3f}, "
                     f"{s['vs_D20'][2]:+.3f}] | {s['max_clusters_over_n15']:.2f} | {s['mean_label_support']:.3f} | "
                     f"{s['mean_low_label_share']:.2f} | {s['mean_purity_reactome']:.3f} |")
    (HERE / "dev_round.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
