"""Development round 17 (benchmarks/decisions/cluster.md): what the ontology view holds for a pathway
it does not know. Z: an all-zero row (today); S: a column of its own; I: the weighted mean of its
5 nearest known pathways' rows (``cluster.view_gaps.UNKNOWN_ROWS``).

    nice -n 10 python benchmarks/dev/partition/dev_round17.py               # -> dev_round17.{json,md}
    nice -n 10 python benchmarks/dev/partition/dev_round17.py --part test   # the simulation on test, once
    nice -n 10 python benchmarks/dev/partition/dev_round17.py --candidates Z "I'" --name dev_round18   # round 18

(a) the part's clusterings (``cluster_defaults.inputs``); (b) simulated newer GO terms: each GO BP
result as read, 10% of its significant terms (seeds 0, 1, 2) given an id the ontology lacks and a
name the library cannot match, judged by the Wang silhouette with the true ids.
"""
from __future__ import annotations

import argparse
import json
import re
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

from contrastomics.cluster import view_gaps  # noqa: E402
from contrastomics.cluster.metrics import go_pairs  # noqa: E402
from contrastomics.evaluate.semantic import lin_rel_for  # noqa: E402
from contrastomics.evaluate.stats import paired_bootstrap  # noqa: E402

CANDIDATES = {"Z": "zero", "S": "self", "I": "impute", "I'": "impute-own"}  # I': round 18
SEEDS = (0, 1, 2)
SHARE = 0.10
_GO_ID = re.compile(r"\(?GO:\d{7}\)?")


def masked(df, seed: int):
    """``(table, true term of every row)``: 10% of the significant rows renamed as terms the built-in GO lacks."""
    df = df.copy()
    sig = np.flatnonzero(df["fdr"].to_numpy() < 0.25)
    rng = np.random.default_rng(seed)
    pick = rng.choice(sig, max(1, round(SHARE * len(sig))), replace=False)
    truth = dict(zip(range(len(df)), df["term"]))
    for i in pick:
        name = f"{_GO_ID.sub('', str(df.at[i, 'name'])).strip()} {i}"
        df.at[i, "term"], df.at[i, "name"] = f"{name} (GO:99{i:05d})", name
    return df, {df.at[i, "term"]: truth[i] for i in range(len(df))}


def run(part: str, candidates=tuple(CANDIDATES)):
    tops = cd.top_level_sets()
    recs, units, purity, support = [], {}, {}, {}
    for cand in candidates:
        how = CANDIDATES[cand]
        view_gaps.UNKNOWN_ROWS = how
        for ds, lib, kind, df, gs in cd.inputs(part):
            pw, res, lab = cd.cluster_input(df, gs)
            fields, sup = cd.run_record(res, lab)
            m = res.summary["metrics"]
            key = ("a", ds, lib, kind)
            support.setdefault(cand, {})[key] = sup.tolist()
            rec = {"candidate": cand, "input": "/".join(key[1:]), **fields,
                   "labels_low_support": m.get("labels_low_support")}
            if lib == "gobp":
                terms = pw.table["term"].tolist()
                lr = lin_rel_for(terms)
                u = {"wang": cd.wang_samples(lab, go_pairs(terms)), "lin": cd.similarity_samples(lab, lr[0], lr[2]),
                     "rel": cd.similarity_samples(lab, lr[1], lr[2])}
                for j, v in u.items():
                    units[(cand, j) + key] = v
                    rec[j] = float(v.mean())
            if lib in ("reactome", "c2cp"):
                purity.setdefault(cand, {})[key] = purity_into(rec, lab, pw, tops)
            recs.append(rec)
            print(json.dumps(rec), flush=True)
        for ds, lib, kind, df, gs in cd.inputs(part, libs=("gobp",)):
            if kind != cd.KINDS[0]:
                continue
            for seed in SEEDS:
                mdf, truth = masked(df, seed)
                pw, res, lab = cd.cluster_input(mdf, gs)
                true_terms = [truth[t] for t in pw.table["term"]]
                key = ("b", ds, lib, f"seed {seed}")
                v = cd.wang_samples(lab, go_pairs(true_terms))
                units[(cand, "wang_sim") + key] = v
                n_masked = sum(t != truth[t] for t in pw.table["term"])
                rec = {"candidate": cand, "input": "/".join(key[1:]), "n": len(lab), "n_masked": n_masked,
                       "n_clusters": res.summary["n_clusters"], "wang_true_ids": float(v.mean())}
                recs.append(rec)
                print(json.dumps(rec), flush=True)
    return recs, summarise(recs, units, purity, support, candidates)


def summarise(recs, units, purity, support, candidates=tuple(CANDIDATES)) -> dict:
    out = {}
    for cand in candidates:
        rows = [r for r in recs if r["candidate"] == cand and "coverage" in r]
        s = {"constraints_met": all(r["nes_coherence_adjusted"] >= 0.95 and r["coverage"] >= 0.95
                                    for r in rows if r["n"] >= 100)
             and all(r["n_clusters"] <= r["n"] / 15 for r in rows if r["n"] >= 30),
             "low_support": sum(r["labels_low_support"] or 0 for r in rows),
             "purity": float(np.mean([v for k in purity[cand] for v in purity[cand][k]])),
             "label_support": float(np.mean([v for k in support[cand] for v in support[cand][k]]))}
        for j in ("wang", "lin", "rel", "wang_sim"):
            keys = sorted(k[2:] for k in units if k[:2] == (cand, j))
            a = np.concatenate([units[(cand, j) + k] for k in keys])
            s[j] = float(a.mean())
            if cand != "Z":
                ci = paired_bootstrap(a, np.concatenate([units[("Z", j) + k] for k in keys]))
                s[f"{j}_vs_Z"] = [ci["diff"], ci["low"], ci["high"]]
        if cand != "Z":
            s["purity_vs_Z"] = unpaired_ci([v for k in purity[cand] for v in purity[cand][k]],
                                           [v for k in purity["Z"] for v in purity["Z"][k]])
            s["support_vs_Z"] = unpaired_ci([v for k in support[cand] for v in support[cand][k]],
                                            [v for k in support["Z"] for v in support["Z"][k]])
            s["qualifies"] = bool(s["constraints_met"] and s["wang_sim_vs_Z"][1] > 0
                                  and all(s[f"{m}_vs_Z"][2] >= 0 for m in ("wang", "lin", "rel", "purity", "support")))
        out[cand] = s
    quals = [c for c in candidates if out[c].get("qualifies")]
    out["adopted"] = max(quals, key=lambda c: out[c]["wang_sim"]) if quals else "Z"
    return out


def markdown(recs, summary, candidates=tuple(CANDIDATES)) -> str:
    lines = ["| candidate | (b) Wang, true ids | vs Z | (a) Wang | vs Z | Lin | vs Z | Rel | vs Z | purity | vs Z | "
             "label support | vs Z | below 1/3 | constraints | qualifies |", "|" + "---|" * 16]
    for cand in candidates:
        s = summary[cand]
        lines.append(f"| {cand} | {s['wang_sim']:.3f} | {c(s.get('wang_sim_vs_Z'))} | {s['wang']:.3f} | {c(s.get('wang_vs_Z'))} | "
                     f"{s['lin']:.3f} | {c(s.get('lin_vs_Z'))} | {s['rel']:.3f} | {c(s.get('rel_vs_Z'))} | {s['purity']:.3f} | "
                     f"{c(s.get('purity_vs_Z'))} | {s['label_support']:.3f} | {c(s.get('support_vs_Z'))} | {s['low_support']} | "
                     f"{s['constraints_met']} | {s.get('qualifies', '-')} |")
    lines += ["", f"adopted: {summary['adopted']}", "", "| candidate | input | n | masked | clusters | Wang / Wang (true ids) | purity |",
              "|---|---|---|---|---|---|---|"]
    f = (lambda x: "-" if x is None else f"{x:.3f}")
    lines += [f"| {r['candidate']} | {r['input']} | {r['n']} | {r.get('n_masked', '-')} | {r['n_clusters']} | "
              f"{f(r.get('wang', r.get('wang_true_ids')))} | {f(r.get('purity'))} |" for r in recs]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("dev", "test"), default="dev")
    ap.add_argument("--candidates", nargs="+", default=["Z", "S", "I"], choices=list(CANDIDATES))
    ap.add_argument("--name", default="dev_round17")
    args = ap.parse_args()
    recs, summary = run(args.part, args.candidates)
    name = args.name if args.part == "dev" else f"{args.name}_test"
    text = markdown(recs, summary, args.candidates)
    (HERE / f"{name}.json").write_text(json.dumps({"part": args.part, "records": recs, "summary": summary}, indent=1))
    (HERE / f"{name}.md").write_text(text)
    print("\n".join(text.splitlines()[:6]))


if __name__ == "__main__":
    main()
