"""Development round 13 (benchmarks/decisions/cluster.md): the default cluster count within n/15 for
every result size. Part A (both candidates): below 100 pathways min(round(sqrt(n/2)), floor(n/15)),
at least 2. Part B, at >= 100 pathways: C0 round(n/17) (the round-11 default) vs C1 floor(n/15).

    nice -n 10 python benchmarks/dev/partition/dev_round13.py   # -> dev_round13.{json,md} beside it

Made with the code of the commit that declared the round (the package's target still round(n/17)
and round(sqrt(n/2)) below 100); the candidates are patched into ``cluster.api.target_clusters``.
"""
from __future__ import annotations

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
from dev_round import ci_text as c, purity_into, unpaired_ci  # noqa: E402

from contrastomics.cluster import api  # noqa: E402
from contrastomics.cluster.metrics import go_pairs  # noqa: E402
from contrastomics.evaluate.semantic import lin_rel_for  # noqa: E402
from contrastomics.evaluate.stats import paired_bootstrap  # noqa: E402

CANDIDATES = ("C0", "C1")
JUDGES = ("wang", "lin", "rel")


def target(cand: str):
    def t(n: int) -> int:
        if n < 4:
            return 1
        if n >= 100:
            return max(2, round(n / 17)) if cand == "C0" else max(2, n // 15)
        return max(2, min(round(np.sqrt(n / 2)), n // 15))  # part A
    return t


def run_round(candidates, configure, *, baseline, vs: str, flag: str, first: str = "candidate"):
    """Cluster the development inputs once per candidate (``configure(cand)``: patches the package
    if it must and returns ``run_clustering``'s extra arguments) and summarise each against
    ``baseline`` (keys ``<measure>_vs_<vs>``; ``flag``: whether the round's rule holds). The rule
    (rounds 13 and 14): constraints met, Wang CI above 0, Lin / Rel / label support / purity not
    lower. Returns ``(records, summary, markdown lines)``."""
    tops = cd.top_level_sets()
    recs, units, purity, support = [], {}, {}, {}
    for cand in candidates:
        kwargs = configure(cand)
        for ds, lib, kind, df, gs in cd.inputs("dev"):
            pw, res, lab = cd.cluster_input(df, gs, **kwargs)
            fields, sup = cd.run_record(res, lab)
            m = res.summary["metrics"]
            support.setdefault(cand, []).extend(sup.tolist())
            rec = {"candidate": cand, "dataset": f"{ds}/{lib}", "input": kind, **fields,
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
                purity.setdefault(cand, []).extend(purity_into(rec, lab, pw, tops))
            recs.append(rec)
            print(json.dumps(rec), flush=True)
    summary = {}
    for cand in candidates:
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
            if cand != baseline:
                ci = paired_bootstrap(a, np.concatenate([units[(baseline, j) + k] for k in keys]))
                s[f"{j}_vs_{vs}"] = [ci["diff"], ci["low"], ci["high"]]
        if cand != baseline:
            s[f"support_vs_{vs}"] = unpaired_ci(support[cand], support[baseline])
            s[f"purity_vs_{vs}"] = unpaired_ci(purity[cand], purity[baseline])
            s[flag] = bool(s["constraints_met"] and s[f"wang_vs_{vs}"][1] > 0 and s[f"lin_vs_{vs}"][2] >= 0
                           and s[f"rel_vs_{vs}"][2] >= 0 and s[f"support_vs_{vs}"][2] >= 0
                           and s[f"purity_vs_{vs}"][2] >= 0)
        summary[cand] = s

    lines = [f"| {first} | constraints met | clusters (18 inputs) | Wang | vs {vs} | Lin | vs {vs} | Rel | vs {vs} | "
             f"label support | vs {vs} | Reactome purity | vs {vs} | below 1/3 | described | {flag} |", "|" + "---|" * 16]
    for cand in candidates:
        s = summary[cand]
        lines.append(f"| {cand} | {s['constraints_met']} | {s['n_clusters']} | {s['wang']:.3f} | {c(s.get(f'wang_vs_{vs}'))} | "
                     f"{s['lin']:.3f} | {c(s.get(f'lin_vs_{vs}'))} | {s['rel']:.3f} | {c(s.get(f'rel_vs_{vs}'))} | "
                     f"{s['label_support']:.3f} | {c(s.get(f'support_vs_{vs}'))} | {s['purity']:.3f} | "
                     f"{c(s.get(f'purity_vs_{vs}'))} | {s['low_support']} | {s['mixed_described']} | {s.get(flag, '-')} |")
    lines += ["", "| candidate | result | input | n | clusters | coherence | coverage |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['candidate']} | {r['dataset']} | {r['input']} | {r['n']} | {r['n_clusters']} | "
              f"{r['nes_coherence_adjusted']:.3f} | {r['coverage']:.3f} |" for r in recs]
    return recs, summary, lines


def write_round(name: str, recs: list, summary: dict, lines: list[str]) -> None:
    """``<name>.{json,md}`` beside this script."""
    (HERE / f"{name}.json").write_text(json.dumps({"records": recs, "summary": summary}, indent=1))
    (HERE / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:2 + len(summary)]))


def configure(cand: str) -> dict:
    api.target_clusters = target(cand)  # the name `_run` looks up
    return {}


def main() -> None:
    write_round("dev_round13", *run_round(CANDIDATES, configure, baseline="C0", vs="C0", flag="adopt"))


if __name__ == "__main__":
    main()
