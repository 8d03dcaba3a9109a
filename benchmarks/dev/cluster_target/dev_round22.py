"""Development round 22 (benchmarks/decisions/cluster.md): the cluster count of results of < 100
pathways without GO terms. S0: min(round(sqrt(n/2)), floor(n/15)) (round 13, today); S1:
round(sqrt(n/2)) (``cluster.communities.UNBOUNDED_NON_GO``). Judges: a functional-profile silhouette
(GO BP annotation profiles of the pathways' genes, which the clustering does not read) and, per
pathway, whether its cluster's label has support >= 1/3.

    nice -n 10 python benchmarks/dev/cluster_target/dev_round22.py [--part test]   # -> dev_round22[_test].{json,md}
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "benchmarks" / "dev" / "partition"))

import cluster_defaults as cd  # noqa: E402
from dev_round import ci_text  # noqa: E402

from contrastomics.cluster import communities  # noqa: E402
from contrastomics.data.builtin import load_library  # noqa: E402
from contrastomics.data.ontology import extract_go_id, is_go_result  # noqa: E402
from contrastomics.evaluate.stats import paired_bootstrap  # noqa: E402

CANDIDATES = ("S0", "S1")


def profiles(gene_lists, lib) -> np.ndarray:
    """Pathways x GO BP terms: IC-weighted share of each pathway's genes annotated to each term,
    rows L2-normalised (cosine = the profile similarity)."""
    terms = list(lib.terms)
    col = {}
    for j, t in enumerate(terms):
        for g in lib.genes_of(t):
            col.setdefault(g.upper(), []).append(j)
    n_ann = len(col)
    sizes = np.array([len(lib.genes_of(t)) for t in terms], float)
    ic = -np.log(np.maximum(sizes, 1) / n_ann)
    rows, cols, vals = [], [], []
    for i, genes in enumerate(gene_lists):
        gs = {g.upper() for g in genes}
        for g in gs:
            for j in col.get(g, ()):
                rows.append(i)
                cols.append(j)
                vals.append(1.0 / max(len(gs), 1))
    m = sp.csr_matrix((vals, (rows, cols)), shape=(len(gene_lists), len(terms)))
    m.sum_duplicates()
    m = m @ sp.diags(ic)
    p = np.asarray(m.todense())
    return p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)


def run(part: str):
    lib = load_library("GO_BP", min_size=1, max_size=None)
    recs, units = [], {}
    for cand in CANDIDATES:
        communities.UNBOUNDED_NON_GO = cand == "S1"
        for ds, name, kind, df, gs in cd.inputs(part):
            if name == "gobp":
                continue
            pw, res, lab = cd.cluster_input(df, gs, seed=0)
            n = len(lab)
            if n >= 100 or is_go_result([extract_go_id(str(t)) for t in (pw.go_terms or pw.table["term"].tolist())]):
                continue
            lists = [list(fs) if len(fs) else list(le) for le, fs in zip(pw.leading_edge, pw.full_sets)]
            prof = profiles(lists, lib)
            mask = np.linalg.norm(prof, axis=1) > 0
            sil = cd.similarity_samples(lab, prof @ prof.T, mask)
            support = res.table["cluster_label_support"].to_numpy(float)[np.argsort(res.order)]
            sizes = np.bincount(lab)[lab]
            ok = np.where(sizes < 2, 1.0, (np.nan_to_num(support, nan=0.0) >= 1 / 3).astype(float))
            units[(cand, ds, name, kind)] = (sil, ok)
            m = res.summary["metrics"]
            recs.append({"candidate": cand, "dataset": f"{ds}/{name}", "input": kind, "n": n,
                         "n_clusters": res.summary["n_clusters"], "coherence": m["nes_coherence_adjusted"],
                         "profile_silhouette": float(sil.mean()), "supported_share": float(ok.mean()),
                         "labels_low_support": m.get("labels_low_support")})
            print(recs[-1], flush=True)
    keys = sorted(k[1:] for k in units if k[0] == "S0")
    summary = {}
    for j, judge in enumerate(("profile_silhouette", "supported_share")):
        a = np.concatenate([units[("S1",) + k][j] for k in keys])
        b = np.concatenate([units[("S0",) + k][j] for k in keys])
        ci = paired_bootstrap(a, b)
        summary[judge] = {"S0": float(b.mean()), "S1": float(a.mean()), "diff": [ci["diff"], ci["low"], ci["high"]],
                          "n": int(ci["n"])}
    d1, d2 = summary["profile_silhouette"]["diff"], summary["supported_share"]["diff"]
    summary["adopt_S1"] = bool(d1[2] >= 0 and d2[1] > 0)
    return recs, summary


def markdown(recs, summary) -> str:
    lines = ["| judge | S0 | S1 | S1 - S0 [95% CI] | pathways |", "|---|---|---|---|---|"]
    for j in ("profile_silhouette", "supported_share"):
        s = summary[j]
        lines.append(f"| {j} | {s['S0']:.3f} | {s['S1']:.3f} | {ci_text(s['diff'])} | {s['n']} |")
    lines += ["", f"S1 adopted by the declared rule: {summary['adopt_S1']}", "",
              "| candidate | result | input | n | clusters | coherence | profile silhouette | supported share | labels < 1/3 |",
              "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['candidate']} | {r['dataset']} | {r['input']} | {r['n']} | {r['n_clusters']} | {r['coherence']:.3f} | "
              f"{r['profile_silhouette']:.3f} | {r['supported_share']:.3f} | {r['labels_low_support']} |" for r in recs]
    return "\n".join(lines) + "\n"


def main() -> None:
    import argparse
    import json
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=("dev", "test"), default="dev")
    args = ap.parse_args()
    recs, summary = run(args.part)
    out = "dev_round22" if args.part == "dev" else "dev_round22_test"
    (HERE / f"{out}.json").write_text(json.dumps({"part": args.part, "records": recs, "summary": summary}, indent=1))
    (HERE / f"{out}.md").write_text(markdown(recs, summary))
    print(markdown(recs, summary))


if __name__ == "__main__":
    main()
