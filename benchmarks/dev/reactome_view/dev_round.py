"""Development round 7 (benchmarks/decisions/cluster.md): the Reactome hierarchy view's weight and IC.

    nice -n 10 python benchmarks/dev/reactome_view/dev_round.py          # -> dev_round.{json,md} beside this file
    nice -n 10 python benchmarks/dev/reactome_view/dev_round.py --c2cp   # -> c2cp_guards.json (informative)

Development Reactome results only (p53, leukemia; with and without leading edges). Grid: share W of
the joint cosine in {0, 0.26, 0.52, 0.7} x IC in {size, below}; the other views keep the frozen
round-4 ratios (weight key ``reactome`` = sum(others) * W / (1 - W)). Rule (declared before the
run): qualify if adjusted NES coherence >= 0.95, coverage >= 0.95 and clusters <= n/15 on every
clustering; highest mean top-level purity; within 0.01 of the best -> the smallest W (then `size`).
Also recorded (informative): which other development results (GO BP, Hallmark, KEGG, C2:CP) the
view fires on, and the share of their pathways it matches.
"""
from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402

import contrastomics.data.reactome as reactome  # noqa: E402
from cluster_defaults import PARTS, input_order_labels, inputs, purity_per_cluster, top_level_sets  # noqa: E402
from contrastomics._io import atomic_write  # noqa: E402
from contrastomics.cluster import prepare, run_clustering  # noqa: E402
from contrastomics.cluster.embed import DEFAULT_WEIGHTS  # noqa: E402

OUT = Path(__file__).resolve().parent
SHARES = (0.0, 0.26, 0.52, 0.7)
ICS = ("size", "below")
TIE = 0.01


def weights_for(share: float) -> dict:
    """The frozen weights with the Reactome view at ``share`` of the joint cosine on Reactome results."""
    w = {k: v for k, v in DEFAULT_WEIGHTS.items() if k not in ("ontology", "reactome")}
    others = sum(w.values())
    return {**w, "ontology": DEFAULT_WEIGHTS["ontology"], "reactome": others * share / (1.0 - share)}


def candidates():
    yield "W=0 (no view)", 0.0, None
    for share in SHARES[1:]:
        for ic in ICS:
            yield f"W={share} IC={ic}", share, ic


def run(log=print):
    tops = top_level_sets()
    data = list(inputs("dev", libs=["reactome"], log=log))
    recs, units = [], {}
    for cand, share, ic in candidates():
        reactome.DEFAULT_IC = ic or "size"  # read at call time by reactome_ancestor_vectors
        for ds, lib, kind, d, gs in data:
            t0 = time.time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = run_clustering(d, fdr_cutoff=0.25, gene_sets=gs, n_random=50, method="joint",
                                     weights=weights_for(share))
                pw = prepare(d, fdr_cutoff=0.25, gene_sets=gs)
            lab = input_order_labels(res)
            m = res.summary["metrics"]
            pur = purity_per_cluster(lab, pw.full_sets, tops)
            units[(cand, ds, kind)] = pur
            vals = {"n_pathways": m["n_pathways"], "n_clusters": m["n_clusters"], "coverage": m["coverage"],
                    "nes_coherence_adjusted": m["nes_coherence_adjusted"],
                    "reactome_top_level_purity": float(pur.mean()) if len(pur) else float("nan")}
            for metric, v in vals.items():
                recs.append({"dataset": f"{ds}/{lib}", "split": "dev", "input": kind, "method": cand, "share": share,
                             "ic": ic, "metric": metric, "value": round(float(v), 4), "seed": 0})
            log(f"{cand} {ds} [{kind}]: k={m['n_clusters']} n={m['n_pathways']} cov={m['coverage']:.3f} "
                f"coh={m['nes_coherence_adjusted']:.3f} purity={vals['reactome_top_level_purity']:.3f} "
                f"({time.time() - t0:.1f} s)")
    reactome.DEFAULT_IC = "size"
    return recs, units


def choose(recs):
    """Apply the declared rule; returns (per-candidate summary, chosen candidate name)."""
    summary = {}
    for r in recs:
        s = summary.setdefault(r["method"], {"share": r["share"], "ic": r["ic"], "ok": True, "purity": []})
        if r["metric"] == "reactome_top_level_purity":
            s["purity"].append(r["value"])
        elif r["metric"] == "nes_coherence_adjusted" and not r["value"] >= 0.95:
            s["ok"] = False
        elif r["metric"] == "coverage" and not r["value"] >= 0.95:
            s["ok"] = False
    for r in recs:
        if r["metric"] == "n_clusters":
            n = next(x["value"] for x in recs if x["method"] == r["method"] and x["dataset"] == r["dataset"]
                     and x["input"] == r["input"] and x["metric"] == "n_pathways")
            if r["value"] > n / 15:
                summary[r["method"]]["ok"] = False
    for s in summary.values():
        s["mean_purity"] = float(np.mean(s["purity"]))
    ok = {c: s for c, s in summary.items() if s["ok"]}
    if not ok:
        return summary, "W=0 (no view)"
    best = max(s["mean_purity"] for s in ok.values())
    ties = [c for c, s in ok.items() if s["mean_purity"] >= best - TIE]
    chosen = min(ties, key=lambda c: (summary[c]["share"], ICS.index(summary[c]["ic"]) if summary[c]["ic"] else -1))
    return summary, chosen


def versus(units, a: str, b: str, seed: int = 0) -> dict:
    """Mean purity of ``a`` minus ``b`` over pooled clusters, unpaired bootstrap 95% CI."""
    xa = np.concatenate([v for k, v in units.items() if k[0] == a])
    xb = np.concatenate([v for k, v in units.items() if k[0] == b])
    rng = np.random.default_rng(seed)
    boots = [rng.choice(xa, len(xa)).mean() - rng.choice(xb, len(xb)).mean() for _ in range(2000)]
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return {"method": f"{a} - {b}", "metric": "diff reactome_top_level_purity (pooled clusters)",
            "value": round(float(xa.mean() - xb.mean()), 4), "low": round(float(lo), 4), "high": round(float(hi), 4),
            "verdict": "better" if lo > 0 else "worse" if hi < 0 else "tie", "n": int(len(xa) + len(xb)), "split": "dev",
            "dataset": "dev Reactome (4 clusterings)"}


def fires_elsewhere(log=print) -> list[dict]:
    """Which non-Reactome development results the view fires on (informative, no clustering)."""
    out = []
    for ds, lib, kind, d, gs in inputs("dev", libs=[lib for _, lib in PARTS["dev"] if lib != "reactome"], log=log):
        if kind != "leading edges":
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pw = prepare(d, fdr_cutoff=0.25, gene_sets=gs)
        terms = pw.go_terms or pw.table["term"].tolist()
        rows = reactome.reactome_rows(terms, pw.table["name"].tolist())
        found = reactome.reactome_ancestor_vectors(terms, pw.table["name"].tolist())
        out.append({"dataset": f"{ds}/{lib}", "split": "dev", "method": "reactome view", "metric": "matched share",
                    "value": round(float((rows >= 0).mean()), 4), "fires": found is not None, "n": len(terms)})
        log(f"{ds}/{lib}: matched {(rows >= 0).sum()}/{len(terms)}, view fires: {found is not None}")
    return out


def guards_elsewhere(log=print) -> list[dict]:
    """``--c2cp``: the chosen view (default weights) against no view on the development C2:CP results,
    where it fires on the Reactome members; guards only (added after the round, informative)."""
    out = []
    for ds, lib, kind, d, gs in inputs("dev", libs=["c2cp"], log=log):
        for cand, w in (("W=0 (no view)", weights_for(0.0)), ("default (view)", None)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = run_clustering(d, fdr_cutoff=0.25, gene_sets=gs, n_random=50, method="joint", weights=w,
                                   ).summary["metrics"]
            for metric in ("n_pathways", "n_clusters", "coverage", "nes_coherence_adjusted"):
                out.append({"dataset": f"{ds}/{lib}", "split": "dev", "input": kind, "method": cand,
                            "metric": metric, "value": round(float(m[metric]), 4), "seed": 0})
            log(f"{cand} {ds}/{lib} [{kind}]: k={m['n_clusters']} n={m['n_pathways']} cov={m['coverage']:.3f} "
                f"coh={m['nes_coherence_adjusted']:.3f}")
    return out


def markdown(summary, chosen, recs, diffs, elsewhere) -> str:
    lines = ["# Development round 7: the Reactome hierarchy view (benchmarks/decisions/cluster.md)", "",
             "Produced by `benchmarks/dev/reactome_view/dev_round.py`. Development Reactome results only; "
             "seed 0, FDR < 0.25.", "",
             "| candidate | qualifies | mean purity | p53 LE | p53 full | leukemia LE | leukemia full |",
             "|---|---|---|---|---|---|---|"]
    for c, s in summary.items():
        p = [f"{v:.3f}" for v in s["purity"]]
        lines.append(f"| {c}{' **(chosen)**' if c == chosen else ''} | {s['ok']} | {s['mean_purity']:.3f} | "
                     + " | ".join(p) + " |")
    lines += ["", "Guards per clustering (k / n, coverage, adjusted NES coherence):", "",
              "| candidate | result | input | k | n | coverage | coherence |", "|---|---|---|---|---|---|---|"]
    table = {}
    for r in recs:
        table.setdefault((r["method"], r["dataset"], r["input"]), {})[r["metric"]] = r["value"]
    for (c, ds, kind), v in table.items():
        lines.append(f"| {c} | {ds} | {kind} | {v['n_clusters']:.0f} | {v['n_pathways']:.0f} | {v['coverage']:.3f} | "
                     f"{v['nes_coherence_adjusted']:.3f} |")
    lines += ["", "| difference | value [95% CI] | verdict | clusters |", "|---|---|---|---|"]
    for d in diffs:
        lines.append(f"| {d['method']} | {d['value']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}] | {d['verdict']} | {d['n']} |")
    lines += ["", "Other development results (view fires when >= half of the pathways match):", "",
              "| result | pathways | matched share | view fires |", "|---|---|---|---|"]
    for e in elsewhere:
        lines.append(f"| {e['dataset']} | {e['n']} | {e['value']:.3f} | {e['fires']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    if "--c2cp" in sys.argv:
        recs = guards_elsewhere()
        with atomic_write(OUT / "c2cp_guards.json") as fh:
            json.dump({"benchmark": "reactome_view_c2cp_guards", "records": recs}, fh, indent=1)
        return
    recs, units = run()
    summary, chosen = choose(recs)
    diffs = [versus(units, c, "W=0 (no view)") for c in summary if c != "W=0 (no view)"]
    elsewhere = fires_elsewhere()
    print(f"chosen: {chosen}")
    for c, s in summary.items():
        print(f"  {c}: qualifies={s['ok']} mean purity={s['mean_purity']:.3f} {s['purity']}")
    for d in diffs:
        print(f"  {d['method']}: {d['value']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}] {d['verdict']}")
    out = {"benchmark": "reactome_view_dev_round", "chosen": chosen, "records": recs + diffs + elsewhere}
    with atomic_write(OUT / "dev_round.json") as fh:
        json.dump(out, fh, indent=1)
    with atomic_write(OUT / "dev_round.md") as fh:
        fh.write(markdown(summary, chosen, recs, diffs, elsewhere))
    print(f"wrote {OUT / 'dev_round.json'}")


if __name__ == "__main__":
    main()
