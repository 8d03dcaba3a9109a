"""Theme round T2 (benchmarks/decisions/cluster_themes.md, 18:31 UTC): GO slim themes through
``regulates``. Candidates A0 (is_a, part_of; shipped before), A1 (+ regulates, positively_ and
negatively_regulates), A2 (A1, slim terms of the cluster's aspect only). Scores per cluster of >= 2
pathways exactly as ``benchmarks/cluster_themes.py`` (core genes, precision, lift, held-out).

    python benchmarks/dev/cluster_themes/dev_round_t2.py [--part dev]   # -> dev_round_t2.{json,md} here
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

from cluster_defaults import cluster_input, inputs  # noqa: E402
from cluster_themes import N_RANDOM, GoGenes, core_genes, rule_scores, slim_bp, slim_terms  # noqa: E402

from contrastomics._io import atomic_write  # noqa: E402
from contrastomics.cluster.labels import go_slim_themes  # noqa: E402
from contrastomics.data.builtin import load_ontology  # noqa: E402
from contrastomics.data.ontology import extract_go_id  # noqa: E402
from contrastomics.evaluate.stats import paired_bootstrap  # noqa: E402

REG = ("is_a", "part_of", "regulates", "positively_regulates", "negatively_regulates")
CANDIDATES = {"A0": (("is_a", "part_of"), False), "A1": (REG, False), "A2": (REG, True)}
METRICS = ("precision_held_out", "lift_held_out", "precision", "lift")


def run(part: str) -> dict:
    onto = load_ontology("GO")
    gog = GoGenes(onto, slim_terms(onto))
    slim = slim_bp(onto)
    per = []  # one row per cluster: {result, size, themes, scores per candidate, random}
    for ds, lib, kind, df, gs in inputs(part, libs=("gobp",)):
        if kind != "leading edges":
            continue
        pw, res, lab = cluster_input(df, gs, metrics=False, seed=0)
        lists = [list(le) if len(le) else list(fs) for le, fs in zip(pw.leading_edge, pw.full_sets)]
        universe = sorted(set().union(*map(set, lists)))
        uset, uarr = set(universe), np.asarray(universe, dtype=object)
        raw = gog.raw_matrix(universe)
        full_member = gog.slim_membership(raw)
        go_ids = [extract_go_id(str(t)) for t in pw.table["term"]]
        rows = np.array([onto.index(onto.resolve(i)) if i and onto.resolve(i) else -1 for i in go_ids])
        themes = {c: go_slim_themes(go_ids, lab, ontology=onto, min_size=2, relations=rel, same_aspect=asp)
                  for c, (rel, asp) in CANDIDATES.items()}
        rng = np.random.default_rng(0)
        clusters = [c for c in np.unique(lab) if (lab == c).sum() >= 2]
        draws = rng.integers(0, len(slim), size=(len(clusters), N_RANDOM))
        for k, c in enumerate(clusters):
            idx = np.flatnonzero(lab == c)
            core, _ = core_genes([lists[i] for i in idx])
            mrows = rows[idx][rows[idx] >= 0]
            held = gog.slim_membership(raw, mrows)

            def genes_of(t):
                return set(uarr[full_member[:, gog.col[t]]])

            def genes_held_out_of(t):
                return set(uarr[held[:, gog.col[t]]])

            row = {"result": ds, "cluster": int(c), "size": int(len(idx)), "themes": {}, "scores": {}, "support": {}}
            for cand, th in themes.items():
                t = th.get(int(c), {}).get("theme_id")
                row["themes"][cand] = None if t is None else f"{t} {onto.name_of(t)}"
                row["support"][cand] = th.get(int(c), {}).get("theme_support")
                row["scores"][cand] = rule_scores(core, uset, t, genes_of, genes_held_out_of, lambda _t: 0.0)
            rand = [rule_scores(core, uset, slim[j], genes_of, genes_held_out_of, lambda _t: 0.0) for j in draws[k]]
            row["scores"]["random"] = {m: float(np.mean([x[m] for x in rand])) for m in METRICS}
            per.append(row)
        print(f"{part} {ds}: {len(clusters)} clusters; themed " +
              ", ".join(f"{c} {sum(1 for r in per if r['result'] == ds and r['themes'][c])}" for c in CANDIDATES))
    return {"part": part, "clusters": per}


def summarise(out: dict) -> list[dict]:
    per = out["clusters"]
    recs = []
    base = {"dataset": f"{out['part']} GO BP results", "split": out["part"], "input": "leading edges", "seeds": [0]}
    a0 = np.array([r["themes"]["A0"] is not None for r in per])
    for cand in CANDIDATES:
        has = np.array([r["themes"][cand] is not None for r in per])
        recs.append({**base, "method": cand, "metric": "clusters_with_slim_theme", "value": int(has.sum()), "n": len(per)})
        sup = [r["support"][cand] for r in per if r["support"][cand] is not None]
        recs.append({**base, "method": cand, "metric": "theme_support_mean", "value": float(np.mean(sup)), "n": len(sup)})
        for m in METRICS:
            v = np.array([r["scores"][cand][m] for r in per], float)
            recs.append({**base, "method": cand, "metric": f"mean {m} (themed clusters)", "value": float(np.nanmean(v)),
                         "n": int(np.isfinite(v).sum())})
        if cand == "A0":
            continue
        for m in ("precision_held_out", "lift_held_out"):
            a = np.array([r["scores"][cand][m] for r in per], float)[a0]
            b = np.array([r["scores"]["A0"][m] for r in per], float)[a0]
            ci = paired_bootstrap(a, b)
            recs.append({**base, "method": f"{cand} - A0", "metric": f"diff {m} (clusters A0 themes)",
                         "value": ci["diff"], "low": ci["low"], "high": ci["high"], "verdict": ci["verdict"], "n": int(ci["n"])})
            new = ~a0 & has
            a = np.array([r["scores"][cand][m] for r in per], float)[new]
            b = np.array([r["scores"]["random"][m] for r in per], float)[new]
            ci = paired_bootstrap(a, b) if new.sum() >= 2 else {"diff": float("nan"), "low": float("nan"),
                                                               "high": float("nan"), "verdict": "n/a", "n": int(new.sum())}
            recs.append({**base, "method": f"{cand} - random slim", "metric": f"diff {m} (clusters A0 leaves to a phrase)",
                         "value": ci["diff"], "low": ci["low"], "high": ci["high"], "verdict": ci["verdict"], "n": int(ci["n"])})
        recs.append({**base, "method": cand, "metric": "themes changed vs A0 (clusters A0 themes)",
                     "value": int(sum(1 for r in per if r["themes"]["A0"] and r["themes"][cand] != r["themes"]["A0"])),
                     "n": int(a0.sum())})
    return recs


def markdown(recs: list[dict], out: dict) -> str:
    lines = ["# Theme round T2: GO slim themes through `regulates`", "",
             "Made by `python benchmarks/dev/cluster_themes/dev_round_t2.py` (declaration: "
             "benchmarks/decisions/cluster_themes.md, 18:31 UTC).", "",
             "| candidate / comparison | metric | value | 95% CI | verdict | n |", "|---|---|---|---|---|---|"]
    for r in recs:
        ci = f"[{r['low']:+.3f}, {r['high']:+.3f}]" if "low" in r else ""
        v = r["value"]
        lines.append(f"| {r['method']} | {r['metric']} | {v:.3f} | {ci} | {r.get('verdict', '')} | {r['n']} |"
                     if isinstance(v, float) else f"| {r['method']} | {r['metric']} | {v} | {ci} | | {r['n']} |")
    lines += ["", "## Themes per cluster", "", "| result | size | " + " | ".join(CANDIDATES) + " |",
              "|---|---|" + "---|" * len(CANDIDATES)]
    for r in out["clusters"]:
        lines.append(f"| {r['result']} | {r['size']} | " + " | ".join(str(r["themes"][c] or "-") for c in CANDIDATES) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", default="dev", choices=("dev", "test"))
    args = ap.parse_args()
    out = run(args.part)
    recs = summarise(out)
    stem = HERE / ("dev_round_t2" if args.part == "dev" else f"dev_round_t2_{args.part}")
    with atomic_write(stem.with_suffix(".json")) as fh:
        json.dump({"benchmark": "dev_round_t2", "records": recs, "clusters": out["clusters"]}, fh, indent=1)
    with atomic_write(stem.with_suffix(".md")) as fh:
        fh.write(markdown(recs, out))
    print(markdown(recs, out).split("## Themes")[0])


if __name__ == "__main__":
    main()
