"""Development round 15 (benchmarks/decisions/cluster.md): pathways no ontology knows, and results
mixing GO and Reactome. U0: the ontology view as before (zero rows for unknown pathways, one
ontology per result); U1: each pathway in the ontology that knows it, an unknown one its own only
ancestor (``cluster.ontology_view.UNKNOWN_ROWS``).

    git checkout daa6ce3 && nice -n 10 python benchmarks/dev/partition/dev_round15.py   # -> dev_round15.{json,md}

Needs the candidate code of commit daa6ce3 (``cluster/ontology_view.py``), removed after the round
kept U0 (``--part test`` was for an adoption and never ran).

Inputs: every result of the part (``cluster_defaults.inputs``) plus, per dataset with both, its GO BP
and Reactome gseapy results concatenated in FDR order (``dev_round.mixed_inputs``), as read and
without leading edges. Judges: Reactome top-level purity (gene containment, every member) on the
C2:CP, Reactome and mixed clusterings; Wang (and, reported, Lin and Rel) silhouettes of the GO pathways on
the GO BP and mixed clusterings; label support.
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
from dev_round import mixed_inputs, purity_into, round_main, unpaired_ci  # noqa: E402

from contrastomics.cluster import ontology_view  # noqa: E402
from contrastomics.cluster.metrics import go_pairs  # noqa: E402
from contrastomics.data.ontology import extract_go_id  # noqa: E402
from contrastomics.evaluate.semantic import lin_rel_for  # noqa: E402
from contrastomics.evaluate.stats import paired_bootstrap  # noqa: E402

CANDIDATES = {"U0": "zero", "U1": "self"}
PURITY_LIBS = ("c2cp", "reactome", "mixed")
GO_LIBS = ("gobp", "mixed")


def run(part: str):
    tops = cd.top_level_sets()
    recs, units, purity, support = [], {}, {}, {}
    for cand, unknown in CANDIDATES.items():
        ontology_view.UNKNOWN_ROWS = unknown
        for ds, lib, kind, df, gs in [*cd.inputs(part), *mixed_inputs(part)]:
            pw, res, lab = cd.cluster_input(df, gs)
            fields, sup = cd.run_record(res, lab)
            m = res.summary["metrics"]
            key = (ds, lib, kind)
            support.setdefault(cand, {})[key] = sup.tolist()
            terms = pw.go_terms or pw.table["term"].tolist()
            found = ontology_view.ontology_vectors(terms, pw.table["name"].tolist(), unknown="self")
            # a result without the view (Hallmark, KEGG) has no unknown rows to treat: unchanged
            unknown_rows = ~found[1] if found is not None else np.zeros(len(lab), bool)
            big = [c for c in np.unique(lab) if (lab == c).sum() >= 2]
            rec = {"candidate": cand, "dataset": ds, "library": lib, "input": kind, **fields,
                   "labels_low_support": m.get("labels_low_support"), "n_unknown_to_ontology": int(unknown_rows.sum()),
                   "clusters_mostly_unknown": int(sum(unknown_rows[lab == c].mean() >= 0.5 for c in big))}
            if lib in GO_LIBS:
                go = np.array([extract_go_id(str(t)) is not None for t in terms])
                sub = np.flatnonzero(go)
                gterms = [terms[i] for i in sub]
                lr = lin_rel_for(gterms)
                u = {"wang": cd.wang_samples(lab[sub], go_pairs(gterms)),
                     "lin": cd.similarity_samples(lab[sub], lr[0], lr[2]),
                     "rel": cd.similarity_samples(lab[sub], lr[1], lr[2])}
                for j, v in u.items():
                    units[(cand, j) + key] = v
                    rec[j] = float(v.mean())
            if lib in PURITY_LIBS:
                purity.setdefault(cand, {})[key] = purity_into(rec, lab, pw, tops)
            recs.append(rec)
            print(json.dumps(rec), flush=True)
    return recs, summarise(recs, units, purity, support)


def summarise(recs, units, purity, support) -> dict:
    """Per candidate: constraints, judges over the clusterings U1 changes, and U1 - U0 CIs."""
    u0 = {(r["dataset"], r["library"], r["input"]): r for r in recs if r["candidate"] == "U0"}
    u1 = {(r["dataset"], r["library"], r["input"]): r for r in recs if r["candidate"] == "U1"}
    changed = [k for k in u0 if k in u1 and u0[k]["n_unknown_to_ontology"] > 0]
    out = {"changed_inputs": [list(k) for k in changed]}
    for cand in CANDIDATES:
        rows = [r for r in recs if r["candidate"] == cand]
        s = {"constraints_met": all(r["nes_coherence_adjusted"] >= 0.95 and r["coverage"] >= 0.95
                                    for r in rows if r["n"] >= 100)
             and all(r["n_clusters"] <= r["n"] / 15 for r in rows if r["n"] >= 30),
             "low_support_changed": sum((r["labels_low_support"] or 0) for r in rows
                                        if (r["dataset"], r["library"], r["input"]) in changed),
             "clusters_mostly_unknown_changed": sum(r["clusters_mostly_unknown"] for r in rows
                                                    if (r["dataset"], r["library"], r["input"]) in changed)}
        pur = [v for k in changed if k in purity[cand] for v in purity[cand][k]]
        sup = [v for k in changed for v in support[cand][k]]
        s["purity"], s["label_support"] = float(np.mean(pur)), float(np.mean(sup))
        if cand == "U1":
            s["purity_vs_U0"] = unpaired_ci(pur, [v for k in changed if k in purity["U0"] for v in purity["U0"][k]])
            s["support_vs_U0"] = unpaired_ci(sup, [v for k in changed for v in support["U0"][k]])
        for j in ("wang", "lin", "rel"):
            keys = [k for k in changed if (cand, j) + k in units]
            a = np.concatenate([units[(cand, j) + k] for k in keys])
            s[j] = float(a.mean())
            if cand == "U1":
                ci = paired_bootstrap(a, np.concatenate([units[("U0", j) + k] for k in keys]))
                s[f"{j}_vs_U0"] = [ci["diff"], ci["low"], ci["high"]]
        out[cand] = s
    s = out["U1"]
    lower = any(s[f"{m}_vs_U0"][2] < 0 for m in ("purity", "wang", "support"))
    better = s["purity_vs_U0"][1] > 0 or s["wang_vs_U0"][1] > 0
    s["adopt"] = bool(s["constraints_met"] and not lower and better)
    return out


def markdown(recs, summary) -> str:
    def c(v):
        return f"{v[0]:+.3f} [{v[1]:+.3f}, {v[2]:+.3f}]"
    s0, s1 = summary["U0"], summary["U1"]
    lines = ["Over the clusterings U1 changes (" + ", ".join("/".join(k) for k in summary["changed_inputs"]) + ").", "",
             "| candidate | constraints met | Reactome purity | vs U0 | Wang (GO members) | vs U0 | Lin | vs U0 | Rel | vs U0 | "
             "label support | vs U0 | labels below 1/3 | clusters mostly unknown | adopt |", "|" + "---|" * 15]
    for cand, s in (("U0", s0), ("U1", s1)):
        v = (lambda m: c(s[f"{m}_vs_U0"]) if cand == "U1" else "-")
        lines.append(f"| {cand} | {s['constraints_met']} | {s['purity']:.3f} | {v('purity')} | {s['wang']:.3f} | {v('wang')} | "
                     f"{s['lin']:.3f} | {v('lin')} | {s['rel']:.3f} | {v('rel')} | {s['label_support']:.3f} | {v('support')} | "
                     f"{s['low_support_changed']} | {s['clusters_mostly_unknown_changed']} | {s.get('adopt', '-')} |")
    lines += ["", "| candidate | result | input | n | unknown to the ontology | clusters | mostly unknown | coherence | coverage | "
              "purity | Wang | label support |", "|" + "---|" * 12]
    f = (lambda x: "-" if x is None else f"{x:.3f}")
    lines += [f"| {r['candidate']} | {r['dataset']}/{r['library']} | {r['input']} | {r['n']} | {r['n_unknown_to_ontology']} | "
              f"{r['n_clusters']} | {r['clusters_mostly_unknown']} | {r['nes_coherence_adjusted']:.3f} | {r['coverage']:.3f} | "
              f"{f(r.get('purity'))} | {f(r.get('wang'))} | {f(r['label_support_mean'])} |" for r in recs]
    return "\n".join(lines) + "\n"


def main() -> None:
    round_main("dev_round15", run, markdown, __doc__.splitlines()[0], shown=1)


if __name__ == "__main__":
    main()
