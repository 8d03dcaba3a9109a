"""Development round 12 (benchmarks/decisions/cluster.md): which member labels a cluster (R0 the
medoid, R1 the member most others sit near, R1h the same among the more central half), on the
development results only; the partition is the default's and the same for every candidate.

    nice -n 10 python benchmarks/dev/cluster_labels/dev_round12.py               # -> dev_round12.{json,md} beside it
    nice -n 10 python benchmarks/dev/cluster_labels/dev_round12.py --part test   # -> test_round12.{json,md}

The test part (scored once, after the choice was written) reports the same three measures for R0
and the adopted R1h on the test results of ``cluster_defaults``. The committed dev_round12 and
test_round12 files were made with the code of commits 8802f59 / 8a93236, before the Reactome former
names (which move a few Reactome clusters: R0 83 instead of 84 clusters below 1/3 on development).
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

import cluster_defaults as cd  # noqa: E402

from contrastomics.cluster import labels as lab_mod  # noqa: E402
from contrastomics.cluster.metrics import go_pairs  # noqa: E402
from contrastomics.data.reactome import load_hierarchy, result_rows  # noqa: E402
from contrastomics.evaluate.stats import paired_bootstrap  # noqa: E402

CANDIDATES = {"R0": ("medoid", 0.0), "R1": ("central", 0.0), "R1h": ("central", 0.5)}
LOW = 1 / 3


def reps_in_input_order(res) -> dict[int, int]:
    """Cluster id -> input-order index of its label (representative) pathway."""
    t = res.table
    rows = np.flatnonzero(t["representative"].to_numpy(bool))
    return {int(t["cluster"].iat[r]): int(res.order[r]) for r in rows}


def labelled_runs(part: str, how: str, pool: float, libs=None):
    """The default clustering of every ``part`` input (:func:`cluster_defaults.inputs`, ``libs``
    only when given) labelled by ``--representative how`` with ``CENTRAL_POOL = pool``:
    ``(dataset, library, input kind, pathways, result, labels, reps)`` in input order, ``reps`` of
    the non-singleton clusters. The shipped pool is restored afterwards."""
    shipped = lab_mod.CENTRAL_POOL
    lab_mod.CENTRAL_POOL = pool
    try:
        for ds, lib, kind, df, gs in cd.inputs(part, libs=libs):
            pw, res, labels = cd.cluster_input(df, gs, n_random=0, layout=False, representative=how)
            reps = {c: r for c, r in reps_in_input_order(res).items() if (labels == c).sum() >= 2}
            yield ds, lib, kind, pw, res, labels, reps
    finally:
        lab_mod.CENTRAL_POOL = shipped


def ontology_shares(labels, reps, related) -> list[float]:
    """Per non-singleton cluster: share of the other members in the label's ontology neighbourhood
    (``related(a, b)``: bool per pair, False where a pathway is not in the ontology)."""
    out = []
    for c, r in sorted(reps.items()):
        oth = np.flatnonzero((labels == c) & (np.arange(len(labels)) != r))
        if len(oth):
            out.append(float(related(np.full(len(oth), r), oth).mean()))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=("dev", "test"), default="dev")
    part = ap.parse_args().part
    cands = CANDIDATES if part == "dev" else {k: CANDIDATES[k] for k in ("R0", "R1h")}
    recs, per = [], {k: {"low": [], "onto": [], "wang": {}} for k in cands}
    for name, (how, pool) in cands.items():
        for ds, lib, kind, pw, res, labels, reps in labelled_runs(part, how, pool):
            sup = res.clusters.loc[~res.clusters["singleton"], "label_support"].dropna().to_numpy(float)
            m = res.summary["metrics"]  # the counts of the run itself (exact shares)
            per[name]["low"].append((m["labels_low_support"], m["labels_scored"]))
            rec = {"candidate": name, "dataset": f"{ds}/{lib}", "input": kind, "n": len(labels),
                   "clusters": int(m["labels_scored"]), "below_third": int(m["labels_low_support"]),
                   "label_support_mean": float(sup.mean())}
            related = None
            if lib == "gobp":
                gop = go_pairs(pw.table["term"].tolist())

                def related(a, b, gop=gop):
                    ok = gop.known[a] & gop.known[b]
                    out = np.zeros(len(a), bool)
                    out[ok] = gop.related(a[ok], b[ok])
                    return out
                for c, r in sorted(reps.items()):
                    oth = np.flatnonzero((labels == c) & (np.arange(len(labels)) != r))
                    oth = oth[gop.known[oth]]
                    if gop.known[r] and len(oth):
                        per[name]["wang"][(ds, kind, c)] = float(gop.wang_pairs(np.full(len(oth), r), oth).mean())
            elif lib == "reactome":
                rows, h = result_rows(pw.table["term"].tolist(), pw.table["name"].tolist()), load_hierarchy()

                def related(a, b, rows=rows, h=h):
                    ok = (rows[a] >= 0) & (rows[b] >= 0)
                    out = np.zeros(len(a), bool)
                    out[ok] = h.related(rows[a[ok]], rows[b[ok]])
                    return out
            if related is not None:
                onto = ontology_shares(labels, reps, related)
                per[name]["onto"].extend(onto)
                rec["below_third_ontology_only"] = int((np.asarray(onto) < LOW).sum())
            recs.append(rec)
            print(json.dumps(rec), flush=True)
    summary = {}
    keys = sorted(per["R0"]["wang"])
    for name in cands:
        w = per[name]["wang"]
        ci = paired_bootstrap(np.array([w[k] for k in keys]), np.array([per["R0"]["wang"][k] for k in keys]))
        low = np.array(per[name]["low"])
        summary[name] = {"clusters": int(low[:, 1].sum()), "below_third": int(low[:, 0].sum()),
                         "go_reactome_clusters": len(per[name]["onto"]),
                         "below_third_ontology_only": int((np.asarray(per[name]["onto"]) < LOW).sum()),
                         "wang_label_to_members": float(np.mean([w[k] for k in keys])),
                         "wang_vs_R0": [ci["diff"], ci["low"], ci["high"]], "go_clusters": len(keys)}
    out = HERE / f"{part}_round12"
    out.with_suffix(".json").write_text(json.dumps({"part": part, "records": recs, "summary": summary}, indent=1))
    lines = ["| candidate | clusters below 1/3 (shipped measure) | below 1/3, ontology neighbourhood only "
             "(GO + Reactome clusters) | mean Wang label-to-members (GO clusters) | vs R0 |", "|---|---|---|---|---|"]
    for name, s in summary.items():
        d = s["wang_vs_R0"]
        lines.append(f"| {name} | {s['below_third']} of {s['clusters']} | {s['below_third_ontology_only']} of "
                     f"{s['go_reactome_clusters']} | {s['wang_label_to_members']:.3f} | "
                     f"{d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}] |")
    out.with_suffix(".md").write_text(f"Part: {part}\n\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
