"""Development round 9 (benchmarks/decisions/cluster.md): the partition step of `joint`, Leiden on
the kNN graph vs a Ward / average-linkage cut of the joint space, on the development results only.

    nice -n 10 python benchmarks/dev/partition/dev_round.py   # -> dev_round.{json,md} beside it

The committed dev_round.{json,md} were made with the code of commit f1575cd, when the default count
was n/20 (n/17 since round 11) and Reactome label support used the similarity threshold alone (the
hierarchy neighbourhood counts since a later session-8 entry): run it at that commit to reproduce them.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import cluster_defaults as cd  # noqa: E402

from contrastomics.cluster.metrics import go_pairs  # noqa: E402
from contrastomics.data.genesets import GeneSetLibrary  # noqa: E402
from contrastomics.enrichment import read_gsea_result  # noqa: E402
from contrastomics.evaluate.stats import paired_bootstrap  # noqa: E402

CANDIDATES = ("leiden", "ward", "average")


def ci_text(v) -> str:
    """``[diff, low, high]`` as the rounds' tables write it (``-`` for none)."""
    return f"{v[0]:+.3f} [{v[1]:+.3f}, {v[2]:+.3f}]" if v else "-"


def unpaired_ci(a, b, n_boot: int = 2000, seed: int = 0):
    """Mean(a) - mean(b) with a 95% percentile CI, a and b resampled independently."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    rng = np.random.default_rng(seed)
    d = np.array([rng.choice(a, len(a)).mean() - rng.choice(b, len(b)).mean() for _ in range(n_boot)])
    return [float(a.mean() - b.mean()), float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975))]


def purity_into(rec: dict, lab, pw, tops) -> list[float]:
    """Reactome top-level purity of one clustering's non-singleton clusters
    (``cluster_defaults.purity_per_cluster``); their mean is set as ``rec["purity"]``."""
    pur = cd.purity_per_cluster(lab, pw.full_sets, tops)
    rec["purity"] = float(pur.mean())
    return pur.tolist()


def round_main(name: str, run, markdown, description: str, shown: int = 0) -> None:
    """The command line of a development round: ``--part dev`` (default) or ``test``; ``run(part)``
    gives ``(records, summary)``, written with ``markdown(records, summary)`` beside this file as
    ``<name>.{json,md}`` (``<name>_test`` for the test part); the ``shown``-th table is printed."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--part", choices=("dev", "test"), default="dev")
    args = ap.parse_args()
    recs, summary = run(args.part)
    out = name if args.part == "dev" else f"{name}_test"
    (HERE / f"{out}.json").write_text(json.dumps({"part": args.part, "records": recs, "summary": summary}, indent=1))
    (HERE / f"{out}.md").write_text(markdown(recs, summary))
    print(markdown(recs, summary).split("\n\n")[shown])


def merged_library(a, b) -> GeneSetLibrary:
    """The sets of two libraries in one (``a``'s first)."""
    sets, names, desc = {}, {}, {}
    for lib in (a, b):
        for t, nm, d, g in zip(lib.terms, lib.names, lib.descriptions, lib.gene_sets):
            if t not in sets:
                sets[t], names[t], desc[t] = g, nm, d
    return GeneSetLibrary.from_gene_sets(sets, names=names, descriptions=desc, name=f"{a.name} + {b.name}")


def mixed_inputs(part: str, log=print):
    """``(dataset, "mixed", kind, table, gene sets)``: a dataset's GO BP and Reactome results in one table."""
    libs = None
    for ds in dict.fromkeys(d for d, _ in cd.PARTS[part]):
        paths = [cd.CACHE / f"{ds}__{lib}.tsv" for lib in ("gobp", "reactome")]
        if not all(p.exists() for p in paths):
            log(f"skip mixed {ds}: no GO BP and Reactome results")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = pd.concat([read_gsea_result(p) for p in paths], ignore_index=True)
        df = df.sort_values("fdr", kind="stable").reset_index(drop=True)
        if (df["fdr"] < 0.25).sum() < 20:
            continue
        libs = libs or merged_library(cd.library_for("gobp"), cd.library_for("reactome"))
        for kind in cd.KINDS:
            yield ds, "mixed", kind, df.copy() if kind == cd.KINDS[0] else df.assign(genes=[[] for _ in range(len(df))]), libs


def main() -> None:
    tops = cd.top_level_sets()
    recs, wang_units, purity, support = [], {}, {}, {}
    for part in CANDIDATES:
        for ds, lib, kind, df, gs in cd.inputs("dev"):
            pw, res, lab = cd.cluster_input(df, gs, partition=part)
            fields, sup = cd.run_record(res, lab)
            support.setdefault(part, []).extend(sup.tolist())
            rec = {"partition": part, "dataset": f"{ds}/{lib}", "input": kind, **fields,
                   "labels_low_share": float((sup < 1 / 3).mean()) if len(sup) else None}
            if lib == "gobp":
                u = cd.wang_samples(lab, go_pairs(pw.table["term"].tolist()))
                wang_units[(part, ds, kind)] = u
                rec["wang"] = float(u.mean())
            if lib == "reactome":
                purity.setdefault(part, []).extend(purity_into(rec, lab, pw, tops))
            recs.append(rec)
            print(json.dumps(rec), flush=True)
    summary = {}
    for part in CANDIDATES:
        rows = [r for r in recs if r["partition"] == part]
        big = [r for r in rows if r["n"] >= 100]
        ok = all(r["n_clusters"] <= r["n"] / 15 and r["nes_coherence_adjusted"] >= 0.95 and r["coverage"] >= 0.95
                 for r in big)
        keys = sorted(k for k in wang_units if k[0] == part)
        a = np.concatenate([wang_units[k] for k in keys])
        b = np.concatenate([wang_units[("leiden",) + k[1:]] for k in keys])
        ci = paired_bootstrap(a, b)
        summary[part] = {"qualifies": ok, "mean_wang_gobp": float(np.mean([r["wang"] for r in rows if "wang" in r])),
                         "wang_vs_leiden": [ci["diff"], ci["low"], ci["high"]],
                         "purity": float(np.mean(purity[part])),
                         "purity_vs_leiden": unpaired_ci(purity[part], purity["leiden"]),
                         "label_support": float(np.mean(support[part])),
                         "support_vs_leiden": unpaired_ci(support[part], support["leiden"]),
                         "low_support_share": float(np.mean(np.asarray(support[part]) < 1 / 3)),
                         "max_clusters_over_n15": max(r["n_clusters"] / (r["n"] / 15) for r in big),
                         "min_coherence_big": min(r["nes_coherence_adjusted"] for r in big),
                         "min_coverage_big": min(r["coverage"] for r in big)}
    (HERE / "dev_round.json").write_text(json.dumps({"records": recs, "summary": summary}, indent=1))

    def c(v):
        return f"{v[0]:+.3f} [{v[1]:+.3f}, {v[2]:+.3f}]"
    lines = ["| partition | qualifies | min coherence / coverage (n >= 100) | max clusters / (n/15) | mean Wang (4 GO BP) "
             "| vs leiden | Reactome purity | vs leiden | label support | vs leiden | share < 1/3 |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for p, s in summary.items():
        lines.append(f"| {p} | {s['qualifies']} | {s['min_coherence_big']:.3f} / {s['min_coverage_big']:.3f} | "
                     f"{s['max_clusters_over_n15']:.2f} | {s['mean_wang_gobp']:.3f} | {c(s['wang_vs_leiden'])} | "
                     f"{s['purity']:.3f} | {c(s['purity_vs_leiden'])} | {s['label_support']:.3f} | "
                     f"{c(s['support_vs_leiden'])} | {s['low_support_share']:.2f} |")
    (HERE / "dev_round.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
