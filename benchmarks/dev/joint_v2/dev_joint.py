"""Development runs for issue 15 item 1 (benchmarks/decisions/cluster.md, session 6 entry).

p53_prerank and leukemia_prerank results only (benchmarks/cache/gsea), FDR < 0.25, each clustered
as read (leading edges) and with leading edges removed (full sets). Writes /tmp/joint_v2/<stage>.json.
Usage: python dev_joint.py --stage A|B|ref [--weights JSON]
"""
import argparse, json, sys, warnings, time
from pathlib import Path
ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
from cluster_defaults import input_order_labels, inputs, purity_per_cluster, top_level_sets, wang_samples  # noqa: E402
from contrastomics.cluster import run_clustering, prepare  # noqa: E402


def run(configs, libs, out_path):
    from contrastomics.cluster.metrics import go_pairs
    tops = top_level_sets() if "reactome" in libs else None
    recs = []
    for ds, lib, kind, d, gs in inputs("dev", libs=libs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pw = prepare(d, fdr_cutoff=0.25, gene_sets=gs)
        gop = go_pairs(pw.table["term"].tolist()) if lib == "gobp" else None
        for name, kw in configs.items():
            t = time.time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = run_clustering(d, fdr_cutoff=0.25, gene_sets=gs, n_random=50, **kw)
            n = len(pw.table)
            lab = input_order_labels(res)
            m = res.summary["metrics"]
            sup = res.clusters.loc[~res.clusters["singleton"], "label_support"].dropna().tolist() \
                if "label_support" in res.clusters else []
            rec = dict(result=f"{ds}__{lib}", input=kind, config=name, n=n, n_clusters=m["n_clusters"], support=sup,
                       coverage=m["coverage"], coh_adj=m["nes_coherence_adjusted"], sil_wang=m.get("silhouette_go_wang"),
                       sil_simgic=m.get("silhouette_go_semantic"), seconds=round(time.time() - t, 1))
            if tops is not None and lib == "reactome":
                pur = purity_per_cluster(lab, pw.full_sets, tops)
                rec["purity"] = float(pur.mean()); rec["purity_clusters"] = pur.tolist()
            if gop is not None:
                rec["sil_samples"] = wang_samples(lab, gop).tolist()
            recs.append(rec)
            print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in rec.items()
                   if k not in ("purity_clusters", "sil_samples")}, flush=True)
    Path(out_path).write_text(json.dumps(recs))


def weights(overlap, towers_gt, onto=0.0):
    """LE:FS = 2:5 inside the overlap share; towers G:T as given; O on top (fractions of the total)."""
    g, t = towers_gt
    tw = 1.0 - overlap
    base = {"leading_edge_overlap": overlap * 2 / 7, "full_set_overlap": overlap * 5 / 7,
            "full_set": tw * g / (g + t), "text": tw * t / (g + t)}
    base = {k: v * (1 - onto) for k, v in base.items()}
    if onto:
        base["ontology"] = onto
    return base


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--stage", required=True)
    ap.add_argument("--best", default=None, help="stage A choice as 'overlap,g,t'")
    ap.add_argument("--gate", default="auto", choices=("auto", "off"))
    ap.add_argument("--tag", default="")
    a = ap.parse_args()
    gate = {} if a.gate == "auto" else {"gate_leading_edge": False}
    if a.stage == "A":
        cfgs = {f"ov{o}_gt{g}:{t}": dict(method="joint", split_direction=True, weights=weights(o, (g, t)), **gate)
                for o in (0.4, 0.55, 0.7) for g, t in ((1, 1), (1, 3))}
        run(cfgs, ("reactome", "hallmark", "kegg", "c2cp"), f"/tmp/joint_v2/stageA{a.tag}.json")
    elif a.stage == "B":
        o, g, t = (float(x) for x in a.best.split(","))
        cfgs = {f"onto{w}": dict(method="joint", split_direction=True, weights=weights(o, (g, t), w), **gate)
                for w in (0.0, 0.2, 0.35, 0.5) + ((0.65,) if a.gate == "off" else ())}
        run(cfgs, ("gobp",), f"/tmp/joint_v2/stageB{a.tag}.json")
    elif a.stage == "C":  # round 3 (per-direction Leiden) was run on a since-removed flag of cluster/api.py
        raise SystemExit("round 3 code was removed after its decision (benchmarks/decisions/cluster.md)")
    elif a.stage == "D":
        from contrastomics.cluster.embed import DEFAULT_WEIGHTS
        cfgs = {"hard_split": dict(method="joint")}
        for dw in (0.1, 0.2, 0.35):
            w = {k: v * (1 - dw) for k, v in DEFAULT_WEIGHTS.items()}
            w["direction"] = dw
            cfgs[f"direction{dw}"] = dict(method="joint", weights=w, split_direction=False)
        run(cfgs, ("gobp", "reactome", "hallmark", "kegg", "c2cp"), "/tmp/joint_v2/stageD.json")
    elif a.stage == "E":  # round 5 (annotation view) ran on code removed after its decision
        raise SystemExit("round 5 code was removed after its decision (benchmarks/decisions/cluster.md)")
    elif a.stage == "ref":
        from contrastomics.cluster.embed import DEFAULT_WEIGHTS
        v1 = {"leading_edge_overlap": 0.2, "full_set_overlap": 0.5, "full_set": 0.15, "text": 0.15}
        notower = {k: v for k, v in DEFAULT_WEIGHTS.items() if k not in ("full_set", "text")}
        cfgs = {"v1": dict(method="joint", weights=v1, gate_leading_edge=True, split_direction=False),
                "v2": dict(method="joint"), "v2_nosplit": dict(method="joint", split_direction=False),
                "v2_no_tower": dict(method="joint", weights=notower),
                "overlap-knn": dict(method="overlap-knn"), "text": dict(method="text")}
        run(cfgs, ("gobp", "reactome", "hallmark", "kegg", "c2cp"), "/tmp/joint_v2/ref.json")
        cfgs = {"semantic": dict(method="semantic"), "semantic_split": dict(method="semantic", split_direction=True)}
        run(cfgs, ("gobp",), "/tmp/joint_v2/ref_semantic.json")
