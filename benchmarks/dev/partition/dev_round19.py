"""Development round 19 (benchmarks/decisions/cluster.md): results mixing GO with other libraries.
U0: one ontology view and one partition (``cluster.library_parts.PARTS = False``, the view before);
P: each library part its own view and partition (``PARTS = True``).

    nice -n 10 python benchmarks/dev/partition/dev_round19.py               # -> dev_round19.{json,md}
    nice -n 10 python benchmarks/dev/partition/dev_round19.py --part test   # -> dev_round19_test.{json,md}

Inputs: per dataset of the part, its GO BP and Reactome gseapy results concatenated in FDR order,
full sets of both libraries (``dev_round.mixed_inputs``), as read and without leading edges; the
defaults, seed 0, FDR < 0.25. Judges: (1) the Reactome members' top-level purity (per non-singleton
cluster with >= 2 Reactome members, the share of them inside their most common top level, gene
containment as ``cluster_defaults``); (2) label support by the package's relation for such a result
(GO neighbourhood or Wang for GO terms, the Reactome hierarchy for Reactome pathways, the space
threshold drawn among the non-GO pathways), recomputed the same way for both candidates; reported:
the GO members' Wang silhouette (paired against U0) and the clusters holding both libraries.
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
from dev_round import ci_text, mixed_inputs, round_main, unpaired_ci  # noqa: E402

from contrastomics.cluster import library_parts  # noqa: E402
from contrastomics.cluster.labels import label_support, support_near  # noqa: E402
from contrastomics.cluster.metrics import go_pairs  # noqa: E402
from contrastomics.data.ontology import extract_go_id  # noqa: E402
from contrastomics.data.reactome import load_hierarchy  # noqa: E402
from contrastomics.evaluate.stats import paired_bootstrap  # noqa: E402

CANDIDATES = {"U0": False, "P": True}


def mixed_support(pw, res, lab) -> np.ndarray:
    """Label support of the non-singleton clusters under the relation for results of parts."""
    terms, names = pw.table["term"].tolist(), pw.table["name"].tolist()
    go_ids = [extract_go_id(str(t)) for t in (pw.go_terms or terms)]
    parts = np.array([i is None for i in go_ids], np.int64)
    rrows = library_parts.part_reactome_rows(terms, names, parts)
    relation = support_near(res.space, len(lab), go_pairs(go_ids), reactome=(rrows, load_hierarchy()),
                            rows=np.flatnonzero(parts != 0))
    rep_rows = res.order[res.table["representative"].to_numpy(bool)]
    reps = {int(c): int(np.flatnonzero(lab == c)[0]) for c in np.unique(lab)}  # singletons: themselves
    reps.update({int(lab[i]): int(i) for i in rep_rows})
    shares, _ = label_support(lab, reps, relation=relation)
    return np.array([v for c, v in shares.items() if (lab == c).sum() >= 2 and np.isfinite(v)], float)


def run(part: str):
    tops = cd.top_level_sets()
    recs, wang, purity, support = [], {}, {}, {}
    for cand, on in CANDIDATES.items():
        library_parts.PARTS = on
        for ds, _, kind, df, gs in mixed_inputs(part):
            pw, res, lab = cd.cluster_input(df, gs)
            fields, _ = cd.run_record(res, lab)
            terms = pw.go_terms or pw.table["term"].tolist()
            go = np.array([extract_go_id(str(t)) is not None for t in terms])
            g, r = np.flatnonzero(go), np.flatnonzero(~go)
            key = (ds, kind)
            wang[(cand,) + key] = cd.wang_samples(lab[g], go_pairs([terms[i] for i in g]))
            purity[(cand,) + key] = cd.purity_per_cluster(lab[r], [pw.full_sets[i] for i in r], tops)
            support[(cand,) + key] = mixed_support(pw, res, lab)
            big = [c for c in np.unique(lab) if (lab == c).sum() >= 2]
            rec = {"candidate": cand, "dataset": ds, "input": kind, **fields, "n_go": int(len(g)),
                   "n_other": int(len(r)), "wang_go_members": float(wang[(cand,) + key].mean()),
                   "purity_reactome_members": float(purity[(cand,) + key].mean()),
                   "label_support_parts_relation": float(support[(cand,) + key].mean()),
                   "labels_below_third": int((support[(cand,) + key] < 1 / 3).sum()),
                   "clusters_both_libraries": int(sum(0 < go[lab == c].mean() < 1 for c in big))}
            recs.append(rec)
            print(json.dumps(rec), flush=True)
    library_parts.PARTS = True
    return recs, summarise(recs, wang, purity, support)


def summarise(recs, wang, purity, support) -> dict:
    keys = [(r["dataset"], r["input"]) for r in recs if r["candidate"] == "U0"]
    out = {}
    for cand in CANDIDATES:
        rows = [r for r in recs if r["candidate"] == cand]
        pur = np.concatenate([purity[(cand,) + k] for k in keys])
        sup = np.concatenate([support[(cand,) + k] for k in keys])
        s = {"constraints_met": all(r["nes_coherence_adjusted"] >= 0.95 and r["coverage"] >= 0.95
                                    and r["n_clusters"] <= r["n"] / 15 for r in rows),
             "purity": float(pur.mean()), "label_support": float(sup.mean()),
             "labels_below_third": int((sup < 1 / 3).sum()), "clusters": int(len(sup)),
             "wang": float(np.concatenate([wang[(cand,) + k] for k in keys]).mean()),
             "clusters_both_libraries": sum(r["clusters_both_libraries"] for r in rows)}
        if cand != "U0":
            s["purity_vs_U0"] = unpaired_ci(pur, np.concatenate([purity[("U0",) + k] for k in keys]))
            s["support_vs_U0"] = unpaired_ci(sup, np.concatenate([support[("U0",) + k] for k in keys]))
            ci = paired_bootstrap(np.concatenate([wang[(cand,) + k] for k in keys]),
                                  np.concatenate([wang[("U0",) + k] for k in keys]))
            s["wang_vs_U0"] = [ci["diff"], ci["low"], ci["high"]]
            s["rule_met"] = bool(s["constraints_met"] and s["purity_vs_U0"][1] > 0 and s["support_vs_U0"][2] >= 0)
        out[cand] = s
    return out


def markdown(recs, summary) -> str:
    lines = ["| candidate | constraints met | Reactome purity (Reactome members) | vs U0 | label support | vs U0 | "
             "labels below 1/3 | Wang (GO members, reported) | vs U0 | clusters holding both libraries | declared rule met (the choice: development) |",
             "|" + "---|" * 11]
    for cand, s in summary.items():
        lines.append(f"| {cand} | {s['constraints_met']} | {s['purity']:.3f} | {ci_text(s.get('purity_vs_U0'))} | "
                     f"{s['label_support']:.3f} | {ci_text(s.get('support_vs_U0'))} | {s['labels_below_third']} of "
                     f"{s['clusters']} | {s['wang']:.3f} | {ci_text(s.get('wang_vs_U0'))} | "
                     f"{s['clusters_both_libraries']} | {s.get('rule_met', '-')} |")
    lines += ["", "| candidate | result | input | n (GO + other) | clusters | coherence | coverage | purity | "
              "label support | below 1/3 | Wang | both libraries |", "|" + "---|" * 12]
    lines += [f"| {r['candidate']} | {r['dataset']} | {r['input']} | {r['n']} ({r['n_go']} + {r['n_other']}) | "
              f"{r['n_clusters']} | {r['nes_coherence_adjusted']:.3f} | {r['coverage']:.3f} | "
              f"{r['purity_reactome_members']:.3f} | {r['label_support_parts_relation']:.3f} | "
              f"{r['labels_below_third']} | {r['wang_go_members']:.3f} | {r['clusters_both_libraries']} |" for r in recs]
    return "\n".join(lines) + "\n"


def main() -> None:
    round_main("dev_round19", run, markdown, __doc__.splitlines()[0], shown=0)


if __name__ == "__main__":
    main()
