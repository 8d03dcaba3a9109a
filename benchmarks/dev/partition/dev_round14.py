"""Development round 14 (benchmarks/decisions/cluster.md): the ontology share O of the joint cosine
(0.52 today; 0.60, 0.68, 0.76) at round 13's default count, judged by Wang, Lin and Rel.

    nice -n 10 python benchmarks/dev/partition/dev_round14.py   # -> dev_round14.{json,md} beside it

Made with the code of the commit that declared the round (weights as in round 11: direction 0.2,
the other views keeping their ratios in the rest).
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
from dev_round import unpaired_ci  # noqa: E402

from contrastomics.cluster import run_clustering  # noqa: E402
from contrastomics.cluster.embed import DEFAULT_WEIGHTS  # noqa: E402
from contrastomics.cluster.metrics import go_pairs  # noqa: E402
from contrastomics.cluster.pathways import prepare  # noqa: E402
from contrastomics.evaluate.semantic import lin_rel_for  # noqa: E402
from contrastomics.evaluate.stats import paired_bootstrap  # noqa: E402

TODAY = 0.52
CANDIDATES = (TODAY, 0.60, 0.68, 0.76)
JUDGES = ("wang", "lin", "rel")


def weights(o: float) -> dict:
    """Round 11's weights: ontology share ``o``, direction as today, the rest in today's ratios."""
    rest = {k: v for k, v in DEFAULT_WEIGHTS.items() if k not in ("ontology", "direction")}
    scale = (1.0 - DEFAULT_WEIGHTS["direction"] - o) / sum(rest.values())
    return {**{k: v * scale for k, v in rest.items()}, "ontology": o, "direction": DEFAULT_WEIGHTS["direction"]}


def main() -> None:
    tops = cd.top_level_sets()
    recs, units, purity, support = [], {}, {}, {}
    for cand in CANDIDATES:
        for ds, lib, kind, df, gs in cd.inputs("dev"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pw = prepare(df, fdr_cutoff=0.25, gene_sets=gs)
                res = run_clustering(df, fdr_cutoff=0.25, gene_sets=gs, n_random=50, weights=weights(cand))
            lab = cd.input_order_labels(res)
            m, s = res.summary["metrics"], res.summary
            sup = res.clusters.loc[~res.clusters["singleton"], "label_support"].dropna().to_numpy(float)
            support.setdefault(cand, []).extend(sup.tolist())
            rec = {"candidate": cand, "dataset": f"{ds}/{lib}", "input": kind, "n": len(lab),
                   "n_clusters": s["n_clusters"], "coverage": m.get("coverage"),
                   "nes_coherence_adjusted": m.get("nes_coherence_adjusted"),
                   "label_support_mean": float(sup.mean()) if len(sup) else None,
                   "labels_low_support": m.get("labels_low_support"), "mixed_described": m.get("mixed_described")}
            if lib == "gobp":
                terms = pw.table["term"].tolist()
                lr = lin_rel_for(terms)
                u = {"wang": cd.wang_samples(lab, go_pairs(terms)),
                     "lin": cd.similarity_samples(lab, lr[0], lr[2]), "rel": cd.similarity_samples(lab, lr[1], lr[2])}
                for j in JUDGES:
                    units[(cand, j, ds, kind)] = u[j]
                    rec[j] = float(u[j].mean())
            if lib == "reactome":
                pur = cd.purity_per_cluster(lab, pw.full_sets, tops)
                purity.setdefault(cand, []).extend(pur.tolist())
                rec["purity"] = float(pur.mean())
            recs.append(rec)
            print(json.dumps(rec), flush=True)
    summary = {}
    for cand in CANDIDATES:
        rows = [r for r in recs if r["candidate"] == cand]
        s = {"constraints_met": all(r["nes_coherence_adjusted"] >= 0.95 and r["coverage"] >= 0.95
                                    for r in rows if r["n"] >= 100)
             and all(r["n_clusters"] <= r["n"] / 15 for r in rows if r["n"] >= 30),
             "n_clusters": sum(r["n_clusters"] for r in rows),
             "label_support": float(np.mean(support[cand])),
             "low_support": sum(r["labels_low_support"] or 0 for r in rows),
             "mixed_described": sum(r["mixed_described"] or 0 for r in rows),
             "purity": float(np.mean(purity[cand]))}
        for j in JUDGES:
            keys = sorted(k[2:] for k in units if k[0] == cand and k[1] == j)
            a = np.concatenate([units[(cand, j) + k] for k in keys])
            s[j] = float(a.mean())
            if cand != TODAY:
                ci = paired_bootstrap(a, np.concatenate([units[(TODAY, j) + k] for k in keys]))
                s[f"{j}_vs_today"] = [ci["diff"], ci["low"], ci["high"]]
        if cand != TODAY:
            s["support_vs_today"] = unpaired_ci(support[cand], support[TODAY])
            s["purity_vs_today"] = unpaired_ci(purity[cand], purity[TODAY])
            s["qualifies"] = bool(s["constraints_met"] and s["wang_vs_today"][1] > 0 and s["lin_vs_today"][2] >= 0
                              and s["rel_vs_today"][2] >= 0 and s["support_vs_today"][2] >= 0 and s["purity_vs_today"][2] >= 0)
        summary[cand] = s
    quals = [c for c in CANDIDATES if summary[c].get("qualifies")]
    summary["adopted"] = min(quals) if quals else TODAY
    (HERE / "dev_round14.json").write_text(json.dumps({"records": recs, "summary": summary}, indent=1))

    def c(v):
        return f"{v[0]:+.3f} [{v[1]:+.3f}, {v[2]:+.3f}]" if v else "-"
    lines = ["| O | constraints met | clusters (18 inputs) | Wang | vs today | Lin | vs today | Rel | vs today | label support "
             "| vs today | Reactome purity | vs today | below 1/3 | described | qualifies |", "|" + "---|" * 16]
    for cand, s in ((c, summary[c]) for c in CANDIDATES):
        lines.append(f"| {cand} | {s['constraints_met']} | {s['n_clusters']} | {s['wang']:.3f} | {c(s.get('wang_vs_today'))} | "
                     f"{s['lin']:.3f} | {c(s.get('lin_vs_today'))} | {s['rel']:.3f} | {c(s.get('rel_vs_today'))} | "
                     f"{s['label_support']:.3f} | {c(s.get('support_vs_today'))} | {s['purity']:.3f} | "
                     f"{c(s.get('purity_vs_today'))} | {s['low_support']} | {s['mixed_described']} | {s.get('qualifies', '-')} |")
    lines += ["", "| candidate | result | input | n | clusters | coherence | coverage |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['candidate']} | {r['dataset']} | {r['input']} | {r['n']} | {r['n_clusters']} | "
              f"{r['nes_coherence_adjusted']:.3f} | {r['coverage']:.3f} |" for r in recs]
    (HERE / "dev_round14.md").write_text("\n".join(lines) + "\n")
    lines.append(f"\nadopted: O = {summary['adopted']}")
    (HERE / "dev_round14.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:6]), "\nadopted:", summary["adopted"])


if __name__ == "__main__":
    main()
