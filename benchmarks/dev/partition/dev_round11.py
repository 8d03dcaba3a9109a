"""Development round 11 (benchmarks/decisions/cluster.md): cluster count n/D and ontology share O
under the Ward cut, on the development results only.

    nice -n 10 python benchmarks/dev/partition/dev_round11.py   # -> dev_round11.{json,md} beside it

The committed dev_round11.{json,md} were made with the code of commit d3bb850, when Reactome label
support used the similarity threshold alone (the hierarchy neighbourhood counts since a later
session-8 entry): run it at that commit to reproduce them.
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
sys.path.insert(0, str(HERE))

import cluster_defaults as cd  # noqa: E402
from dev_round import purity_into, unpaired_ci  # noqa: E402

from contrastomics.cluster import api  # noqa: E402
from contrastomics.cluster.communities import target_clusters  # noqa: E402
from contrastomics.cluster.embed import DEFAULT_WEIGHTS  # noqa: E402
from contrastomics.cluster.metrics import go_pairs  # noqa: E402
from contrastomics.evaluate.stats import paired_bootstrap  # noqa: E402

TODAY = (20, 0.52)
CANDIDATES = [(d, o) for d in (20, 17, 15) for o in (0.52, 0.60, 0.68)]


def target(d: int):
    """The package's default count with ``n / d`` clusters for results of >= 100 pathways."""
    return functools.partial(target_clusters, per=d)


def weights(o: float) -> dict:
    rest = {k: v for k, v in DEFAULT_WEIGHTS.items() if k not in ("ontology", "direction")}
    scale = (1.0 - DEFAULT_WEIGHTS["direction"] - o) / sum(rest.values())
    return {**{k: v * scale for k, v in rest.items()}, "ontology": o, "direction": DEFAULT_WEIGHTS["direction"]}


def main() -> None:
    tops = cd.top_level_sets()
    recs, wang_units, purity, support = [], {}, {}, {}
    for cand in CANDIDATES:
        d, o = cand
        api.target_clusters = target(d)  # the name `_run` looks up
        for ds, lib, kind, df, gs in cd.inputs("dev"):
            pw, res, lab = cd.cluster_input(df, gs, weights=weights(o))
            fields, sup = cd.run_record(res, lab)
            support.setdefault(cand, []).extend(sup.tolist())
            rec = {"D": d, "O": o, "dataset": f"{ds}/{lib}", "input": kind, **fields}
            if lib == "gobp":
                u = cd.wang_samples(lab, go_pairs(pw.table["term"].tolist()))
                wang_units[(cand, ds, kind)] = u
                rec["wang"] = float(u.mean())
            if lib == "reactome":
                purity.setdefault(cand, []).extend(purity_into(rec, lab, pw, tops))
            recs.append(rec)
            print(json.dumps(rec), flush=True)
    summary = {}
    for cand in CANDIDATES:
        rows = [r for r in recs if (r["D"], r["O"]) == cand]
        big = [r for r in rows if r["n"] >= 100]
        ok = all(r["n_clusters"] <= r["n"] / 15 and r["nes_coherence_adjusted"] >= 0.95 and r["coverage"] >= 0.95
                 for r in big)
        keys = sorted(k[1:] for k in wang_units if k[0] == cand)
        a = np.concatenate([wang_units[(cand,) + k] for k in keys])
        b = np.concatenate([wang_units[(TODAY,) + k] for k in keys])
        ci = paired_bootstrap(a, b)
        summary[f"{cand[0]}/{cand[1]}"] = {
            "D": cand[0], "O": cand[1], "qualifies": ok,
            "mean_wang_gobp": float(np.mean([r["wang"] for r in rows if "wang" in r])),
            "wang_vs_today": [ci["diff"], ci["low"], ci["high"]],
            "purity": float(np.mean(purity[cand])), "purity_vs_today": unpaired_ci(purity[cand], purity[TODAY]),
            "label_support": float(np.mean(support[cand])),
            "support_vs_today": unpaired_ci(support[cand], support[TODAY]),
            "low_support_share": float(np.mean(np.asarray(support[cand]) < 1 / 3)),
            "max_clusters_over_n15": max(r["n_clusters"] / (r["n"] / 15) for r in big),
            "min_coherence_big": min(r["nes_coherence_adjusted"] for r in big)}
    # the tie rule: every qualifier's paired CI against the best qualifier
    quals = [k for k, v in summary.items() if v["qualifies"]]
    best = max(quals, key=lambda k: summary[k]["mean_wang_gobp"])
    bc = (summary[best]["D"], summary[best]["O"])
    for k in quals:
        cand = (summary[k]["D"], summary[k]["O"])
        keys = sorted(kk[1:] for kk in wang_units if kk[0] == cand)
        ci = paired_bootstrap(np.concatenate([wang_units[(cand,) + kk] for kk in keys]),
                              np.concatenate([wang_units[(bc,) + kk] for kk in keys]))
        summary[k]["wang_vs_best"] = [ci["diff"], ci["low"], ci["high"]]
    (HERE / "dev_round11.json").write_text(json.dumps({"records": recs, "summary": summary}, indent=1))

    def c(v):
        return f"{v[0]:+.3f} [{v[1]:+.3f}, {v[2]:+.3f}]"
    lines = ["| D | O | qualifies | min coherence (n >= 100) | max clusters / (n/15) | mean Wang (4 GO BP) | vs today "
             "| Reactome purity | vs today | label support | vs today | share < 1/3 | Wang vs best qualifier |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in summary.values():
        lines.append(f"| {s['D']} | {s['O']} | {s['qualifies']} | {s['min_coherence_big']:.3f} | "
                     f"{s['max_clusters_over_n15']:.2f} | {s['mean_wang_gobp']:.3f} | {c(s['wang_vs_today'])} | "
                     f"{s['purity']:.3f} | {c(s['purity_vs_today'])} | {s['label_support']:.3f} | "
                     f"{c(s['support_vs_today'])} | {s['low_support_share']:.2f} | "
                     f"{c(s['wang_vs_best']) if 'wang_vs_best' in s else '-'} |")
    (HERE / "dev_round11.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
