"""Real-data benchmark of GSEA post-processing: every `contrastomics cluster --method` on real GSEA
results of public cohorts, at matched cluster counts and at each method's default.

One command, from a clean checkout (GSEA results are computed first when not cached)::

    nice -n 10 python benchmarks/gsea_cohorts.py            # -> benchmarks/results/gsea_cohorts.{json,md}
    python benchmarks/gsea_cohorts.py --results-dir DIR [--gmt LIB.gmt] [--out PREFIX]

Data (see benchmarks/make_gsea_results.py, which this script calls for missing results)
---------------------------------------------------------------------------------------
Three public cohorts from /work/shared/data/gsea (GSEApy's example data): leukemia (Golub 1999,
24 ALL vs 24 AML), p53 (NCI-60, 33 TP53-mutant vs 17 wild-type lines) and mds (a 21,020-gene MDS
ranking). Main protocol: gseapy ``prerank`` (gene-set permutations; leukemia and p53 ranked by
signal-to-noise) against GO BP (Enrichr 2021), MSigDB Hallmark, Reactome (MSigDB 2023.1), KEGG
(MSigDB 7.5.1) and MSigDB C2 canonical pathways (all ``C2:CP*`` with membership in the shared files).
Secondary protocol (reported apart, not in the means): leukemia two-class GSEA with phenotype
permutations (every significant set is up in ALL, so NES coherence is undefined there).

Protocol
--------
- Pathways with FDR < ``--fdr`` (default 0.25, GSEA's recommended cut) and finite NES; a result is
  clustered only if at least ``--min-pathways`` (40, so k >= 3) pass.
- Methods: joint, genes, text, overlap (EnrichmentMap + MCL), overlap-knn (leading-edge Jaccard kNN
  + Leiden: the strongest overlap baseline), kappa (DAVID), semantic (GO results only).
- ``matched_k``: every method is tuned to the same number of clusters, ``k = round(n / 15)``
  (``--k-divisor``): the Leiden methods through ``run_clustering(n_clusters=k)`` (resolution
  bisection), ``overlap`` by bisecting MCL's inflation on the same EnrichmentMap graph (its own
  clusters are kept as MCL gives them). ``default``: each method as a user runs it.
- Direction splitting OFF (so NES sign coherence measures something); ``min_cluster_size`` 3;
  Leiden seeds ``--seeds`` (matched_k; default 0 1 2) and seed 0 (default setting); the chance level
  of NES coherence is the mean over ``--n-random`` (200) random clusterings with the same sizes.
- Metrics: ``contrastomics.evaluate.cluster_metrics`` (definitions in docs/clustering.md).
- Summary: per result, per cohort (mean over its libraries) and the mean over all main-protocol
  results; the ratio ``joint / best overlap-based method`` (best of overlap, overlap-knn, kappa
  on that metric, on the same results) per metric, and the difference for silhouettes (a ratio of
  numbers near or below zero means nothing).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from contrastomics.data.io import atomic_write  # noqa: E402

NAME = "gsea_cohorts"
SHARED = Path("/work/shared/data")
CACHE = ROOT / "benchmarks" / "cache" / "gsea"
METHODS = ("joint", "genes", "text", "overlap", "overlap-knn", "kappa", "semantic")
OVERLAP_METHODS = ("overlap", "overlap-knn", "kappa")
MAIN_DATASETS = ("leukemia_prerank", "p53_prerank", "mds")
SECONDARY_DATASETS = ("leukemia",)
LIBRARIES = ("gobp", "hallmark", "reactome", "kegg", "c2cp")
#: cohorts whose results were used to choose `joint`'s weights (benchmarks/results/cluster_tune.md tunes
#: on the p53 study only); the headline mean leaves them out so no number is measured on tuning data
TUNING_COHORTS = ("p53",)
COHORT = {"leukemia_prerank": "leukemia", "p53_prerank": "p53", "mds": "mds", "leukemia": "leukemia"}
#: metrics reported, (key in cluster_metrics, short label, higher is better)
METRICS = [
    ("nes_coherence_adjusted", "adj. NES coherence", True),
    ("nes_coherence", "raw NES coherence", True),
    ("jaccard_ratio", "Jaccard within/between", True),
    ("le_jaccard_ratio", "LE-Jaccard within/between", True),
    ("silhouette_gene_jaccard", "silhouette gene-Jaccard", True),
    ("silhouette_go_semantic", "silhouette GO-semantic", True),
    ("coverage", "coverage", True),
    ("n_clusters", "n clusters", None),
    # derived here: silhouette averaged over ALL pathways with singletons scoring 0 (= silhouette of the
    # clustered pathways x coverage), so a method cannot look tight by leaving hard pathways out
    ("silhouette_gene_jaccard_x_coverage", "silh. gene-Jaccard x coverage", True),
    ("silhouette_go_semantic_x_coverage", "silh. GO-semantic x coverage", True),
]
RATIO_METRICS = ("nes_coherence_adjusted", "jaccard_ratio", "le_jaccard_ratio", "silhouette_gene_jaccard",
                 "silhouette_go_semantic", "coverage", "silhouette_gene_jaccard_x_coverage",
                 "silhouette_go_semantic_x_coverage")


# ---------------------------------------------------------------------- inputs
def ensure_gsea(datasets, libraries, log) -> None:
    """Compute missing GSEA results with make_gsea_results.py (same seeds and permutations)."""
    manifest = CACHE / "manifest.json"
    runs = json.loads(manifest.read_text())["runs"] if manifest.exists() else {}
    missing = [(d, lib) for d in datasets for lib in libraries
               if f"{d}__{lib}" not in runs or not (CACHE / f"{d}__{lib}.tsv").exists()]
    if not missing:
        return
    log(f"computing {len(missing)} missing GSEA result(s) with make_gsea_results.py (cached under {CACHE})")
    ds = sorted({d for d, _ in missing})
    libs = sorted({lib for _, lib in missing})
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_gsea_results.py"), "--datasets", *ds,
                    "--libraries", *libs], check=True)


def library_for(library: str | None, data: Path):
    """The gene-set library that gives full sets and descriptions for results of ``library``."""
    if library is None:
        return None
    if library == "gobp":
        from contrastomics.data.builtin import load_library
        return load_library("GO_BP", min_size=1, max_size=None)  # matched by GO id
    from contrastomics.data.msigdb import read_msigdb
    coll = {"hallmark": "H", "reactome": "C2:CP:REACTOME", "kegg": "C2:CP:KEGG", "c2cp": "C2:CP"}[library]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sets without membership in the shared GMT: not tested anyway
        return read_msigdb(data / "genesets" / "msigdb_hs_sets.tsv", data / "genesets" / "msigdb_hs.gmt",
                           collections=coll, name=f"MSigDB {coll}")


def builtin_jobs(args) -> list[dict]:
    manifest = json.loads((CACHE / "manifest.json").read_text())["runs"]
    jobs = []
    for group, datasets in (("main", MAIN_DATASETS), ("secondary", SECONDARY_DATASETS)):
        for d in datasets:
            for lib in args.libraries:
                key = f"{d}__{lib}"
                if key not in manifest:
                    continue
                m = manifest[key]
                jobs.append({"dataset": f"{COHORT[d]}/{lib}" + ("" if group == "main" else " (phenotype perm.)"),
                             "cohort": COHORT[d], "library": lib, "group": group, "path": CACHE / m["file"],
                             "gsea": f"{m['method']}, {m['permutations']} permutations, seed {m['seed']}",
                             "n_tested": m["n_tested"]})
    return jobs


def folder_jobs(folder: Path) -> list[dict]:
    """Every result file of ``folder`` the readers understand (manifest.json of make_gsea_results
    names the library of each file)."""
    from contrastomics.enrichment import read_gsea_result
    from contrastomics.errors import InputError
    manifest = folder / "manifest.json"
    runs = {r["file"]: r for r in json.loads(manifest.read_text())["runs"].values()} if manifest.exists() else {}
    jobs = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or p.suffix.lower() in (".json", ".gmt", ".md", ".png", ".html"):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                df = read_gsea_result(p)
        except InputError as e:
            print(f"skip {p.name}: {e}", flush=True)
            continue
        r = runs.get(p.name, {})
        jobs.append({"dataset": p.stem if p.is_file() else p.name, "cohort": r.get("dataset", p.stem),
                     "library": r.get("library"), "group": "main", "path": p,
                     "gsea": r.get("method", df.attrs.get("format", "?")), "n_tested": len(df)})
    return jobs


# ---------------------------------------------------------------------- clustering
def run_method(df, method, setting, k_target, *, model, gene_sets, seed, n_random, fdr):
    """One clustering + its metrics; ``overlap`` at matched k bisects MCL's inflation."""
    from contrastomics.cluster import run_clustering
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "overlap" and setting == "matched_k":
            metrics, extra = overlap_matched(df, k_target, gene_sets=gene_sets, seed=seed, n_random=n_random,
                                             fdr=fdr)
        else:
            res = run_clustering(df, method=method, fdr_cutoff=fdr, model=model, gene_sets=gene_sets, seed=seed,
                                 n_random=n_random, n_clusters=k_target if setting == "matched_k" else None)
            metrics = res.summary["metrics"]
            extra = {"resolution": res.summary.get("resolution")}
    return metrics, {**extra, "seconds": round(time.perf_counter() - t0, 3)}


def overlap_matched(df, k_target, *, gene_sets, seed, n_random, fdr):
    """EnrichmentMap graph (combined coefficient >= 0.375), MCL inflation bisected so that the number
    of clusters with >= 2 members is closest to ``k_target`` (inflation in [1.1, 8])."""
    from contrastomics.cluster import baselines as bl
    from contrastomics.cluster.api import evaluate, prepare
    from contrastomics.cluster.communities import mcl
    pw = prepare(df, fdr_cutoff=fdr, gene_sets=gene_sets)
    adj = bl.threshold_graph(bl.combined_coefficient(pw.full_matrix), bl.EM_COMBINED_CUTOFF)

    def labels_at(infl):
        raw = mcl(adj, inflation=infl)
        sizes = np.bincount(raw)
        return raw, int((sizes >= 2).sum())

    lo, hi = np.log(1.1), np.log(8.0)
    best = None
    for _ in range(10):
        mid = (lo + hi) / 2
        raw, k = labels_at(float(np.exp(mid)))
        score = (abs(k - k_target), mid)
        if best is None or score < best[0]:
            best = (score, raw, float(np.exp(mid)), k)
        if k == k_target:
            break
        if k < k_target:
            lo = mid
        else:
            hi = mid
    raw = best[1]
    # as in run_clustering(method="overlap"): MCL clusters kept as they are, size-1 = singleton
    sizes = np.bincount(raw)
    lab = np.where(sizes[raw] >= 2, raw, -1)
    from contrastomics.cluster.communities import order_labels
    labels = order_labels(lab, pw.table["fdr"].to_numpy(float))
    m = evaluate(labels, pw, pw.table["nes"].to_numpy(float), n_random=n_random, seed=seed)
    return m, {"inflation": round(best[2], 3)}


def cluster_result(job, args, model, libs, log, emit) -> dict | None:
    from contrastomics.enrichment import read_gsea_result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_gsea_result(job["path"])
    ok = df["nes"].notna() & (df["fdr"] < args.fdr)
    n = int(ok.sum())
    n_up = int((ok & (df["nes"] > 0)).sum())
    info = {**{k: v for k, v in job.items() if k != "path"}, "file": str(job["path"].name), "n_significant": n,
            "n_up": n_up, "n_down": n - n_up}
    if n < args.min_pathways:
        info["skipped"] = f"{n} pathways with FDR < {args.fdr:g} (< {args.min_pathways})"
        log(f"  {job['dataset']}: skipped ({info['skipped']})")
        return info
    gene_sets = libs.get(job["library"]) if job["library"] else args.gmt
    from contrastomics.data.ontology import extract_go_id
    is_go = sum(extract_go_id(t) is not None for t in df.loc[ok, "term"]) >= n / 2
    k_target = max(2, round(n / args.k_divisor))
    info.update(k_target=k_target, go=bool(is_go))
    methods = [m for m in args.methods if m != "semantic" or is_go]
    for setting, seeds in (("matched_k", args.seeds), ("default", args.seeds[:1])):
        for method in methods:
            for seed in seeds:
                try:
                    m, extra = run_method(df, method, setting, k_target if setting == "matched_k" else None,
                                          model=model, gene_sets=gene_sets, seed=seed, n_random=args.n_random,
                                          fdr=args.fdr)
                except Exception as e:  # noqa: BLE001 - one failing method must not lose the others
                    log(f"  {job['dataset']} {setting} {method} seed {seed}: FAILED {type(e).__name__}: {e}")
                    emit({"dataset": job["dataset"], "split": setting, "method": method, "metric": "error",
                          "value": None, "error": f"{type(e).__name__}: {e}", "seed": seed})
                    continue
                m = dict(m)
                for sil in ("silhouette_gene_jaccard", "silhouette_go_semantic"):
                    if _num(m.get(sil)) is not None and _num(m.get("coverage")) is not None:
                        m[f"{sil}_x_coverage"] = float(m[sil]) * float(m["coverage"])
                for key, _, _ in METRICS:
                    v = m.get(key)
                    if v is None:
                        continue
                    emit({"dataset": job["dataset"], "split": setting, "method": method, "metric": key,
                          "value": _num(v), "seed": seed, "n": n, "k_target": k_target, "cohort": job["cohort"],
                          "library": job["library"], "group": job["group"], "chance": _num(m.get("nes_coherence_chance"))
                          if key.startswith("nes_coherence") else None, **extra})
                log(f"  {job['dataset']:<34} {setting:<9} {method:<11} seed {seed}: k {m['n_clusters']:>3} "
                    f"adjNES {_f(m.get('nes_coherence_adjusted'))} J {_f(m.get('jaccard_ratio'), 1)} "
                    f"silJ {_f(m.get('silhouette_gene_jaccard'))} silGO {_f(m.get('silhouette_go_semantic'))} "
                    f"cov {_f(m.get('coverage'), 2)} ({extra['seconds']:.1f} s)")
    return info


def _num(v):
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _f(v, nd=3):
    return "  n/a" if v is None or not math.isfinite(float(v)) else f"{float(v):.{nd}f}"


def derive_coverage_silhouettes(records: list[dict]) -> list[dict]:
    """Add ``silhouette_*_x_coverage`` records where a run has the silhouette and coverage but not them
    (results written before the derived metric existed)."""
    by = defaultdict(dict)
    for r in records:
        by[(r["dataset"], r["split"], r["method"], r.get("seed"))][r["metric"]] = r
    out = list(records)
    for key, ms in by.items():
        for sil in ("silhouette_gene_jaccard", "silhouette_go_semantic"):
            new = f"{sil}_x_coverage"
            if new not in ms and sil in ms and "coverage" in ms and ms[sil]["value"] is not None \
                    and ms["coverage"]["value"] is not None:
                out.append({**ms[sil], "metric": new, "value": ms[sil]["value"] * ms["coverage"]["value"]})
    return out


# ---------------------------------------------------------------------- summary
def summarise(records: list[dict], datasets: list[dict]) -> list[dict]:
    """Seed means per result, per-cohort and overall means, and joint / best-overlap ratios."""
    per = defaultdict(list)
    for r in records:
        if r["metric"] != "error" and r.get("value") is not None and "summary" not in r:
            per[(r["dataset"], r["split"], r["method"], r["metric"])].append(r["value"])
    mean_of = {k: float(np.mean(v)) for k, v in per.items()}
    main = [d for d in datasets if d.get("group") == "main" and "skipped" not in d]
    out = []
    settings = sorted({k[1] for k in mean_of})
    methods = sorted({k[2] for k in mean_of})
    for setting in settings:
        groups = {"mean (held-out cohorts)": [d["dataset"] for d in main if d["cohort"] not in TUNING_COHORTS],
                  "mean (all main results)": [d["dataset"] for d in main]}
        for c in sorted({d["cohort"] for d in main}):
            groups[f"mean ({c})"] = [d["dataset"] for d in main if d["cohort"] == c]
        for gname, dsets in groups.items():
            for key, _, _ in METRICS:
                for method in methods:
                    vals = [mean_of[(d, setting, method, key)] for d in dsets if (d, setting, method, key) in mean_of]
                    if vals:
                        out.append({"dataset": gname, "split": setting, "method": method, "metric": key,
                                    "value": float(np.mean(vals)), "n_results": len(vals), "summary": "mean"})
        # joint vs best overlap-based, on results where all of them have the metric
        for gname, dsets in list(groups.items()) + [(d["dataset"], [d["dataset"]]) for d in main]:
            for key in RATIO_METRICS:
                rows = [d for d in dsets if all((d, setting, m, key) in mean_of for m in ("joint",) + OVERLAP_METHODS)]
                if not rows:
                    continue
                j = float(np.mean([mean_of[(d, setting, "joint", key)] for d in rows]))
                best_m, best = max(((m, float(np.mean([mean_of[(d, setting, m, key)] for d in rows])))
                                    for m in OVERLAP_METHODS), key=lambda t: t[1])
                ratio = j / best if best > 0 else None
                out.append({"dataset": gname, "split": setting, "method": "joint / best overlap-based",
                            "metric": key, "value": ratio, "difference": j - best, "joint": j, "best_overlap": best,
                            "best_overlap_method": best_m, "n_results": len(rows), "summary": "ratio"})
                knn = float(np.mean([mean_of[(d, setting, "overlap-knn", key)] for d in rows]))
                out.append({"dataset": gname, "split": setting, "method": "joint / overlap-knn",
                            "metric": key, "value": j / knn if knn > 0 else None, "difference": j - knn, "joint": j,
                            "best_overlap": knn, "best_overlap_method": "overlap-knn", "n_results": len(rows),
                            "summary": "ratio_knn"})
    return out


def write_outputs(prefix: Path, records, summary, datasets, args, started, finished: bool,
                  finished_utc: str | None = None) -> None:
    payload = {"benchmark": NAME, "records": records + summary,
               "datasets": [{k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()} for d in datasets],
               "protocol": {"fdr": args.fdr, "min_pathways": args.min_pathways, "k_divisor": args.k_divisor,
                            "seeds_matched_k": args.seeds, "seed_default": args.seeds[0], "n_random": args.n_random,
                            "methods": list(args.methods), "split_direction": False, "min_cluster_size": 3,
                            "joint_weights": getattr(args, "joint_weights", None)},
               "started_utc": started, "finished": finished,
               "finished_utc": (finished_utc or time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())) if finished else None}
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(prefix.with_suffix(".json")) as fh:
        json.dump(payload, fh, indent=1)
    with atomic_write(prefix.with_suffix(".md")) as fh:
        fh.write(markdown(payload, args))


def _cell(v, key):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    if key == "n_clusters":
        return f"{v:.1f}" if abs(v - round(v)) > 1e-9 else f"{int(round(v))}"
    if key.endswith("ratio"):
        return f"{v:.2f}"
    return f"{v:.3f}"


def markdown(payload, args) -> str:
    recs = payload["records"]
    datasets = payload["datasets"]
    summ = [r for r in recs if r.get("summary")]
    raw = [r for r in recs if not r.get("summary") and r["metric"] != "error"]
    errors = [r for r in recs if r["metric"] == "error"]
    methods = [m for m in METHODS if any(r["method"] == m for r in raw)]
    L = [f"# {NAME}: clustering real GSEA results, every method, matched cluster counts", ""]
    if not payload["finished"]:
        L += ["**PARTIAL RUN** (the script was still running or was stopped): tables cover the results "
              "finished so far.", ""]
    L += [f"Produced by `python benchmarks/gsea_cohorts.py` ({'finished ' + payload['finished_utc'] + ' UTC' if payload['finished'] else 'partial'}; "
          "2 shared CPU cores, one thread). Definitions of every metric: docs/clustering.md.", ""]
    p = payload["protocol"]
    L += ["## Protocol", "",
          f"- Pathways with FDR < {p['fdr']} and finite NES; results with fewer than {p['min_pathways']} such pathways are "
          "listed but not clustered.",
          f"- **matched_k**: every method tuned to k = round(n / {p['k_divisor']:g}) clusters (Leiden methods: resolution "
          "bisection inside `run_clustering(n_clusters=k)`; `overlap`: MCL inflation bisected on the EnrichmentMap "
          f"graph). Seeds {p['seeds_matched_k']} (mean reported). **default**: each method's own defaults, seed "
          f"{p['seed_default']}.",
          "- Direction splitting off, min cluster size 3, chance level of NES coherence from "
          f"{p['n_random']} random clusterings with the same cluster sizes.",
          "- `joint` and `genes`/`text` use the shipped gtCLIP model (`contrastomics.cluster.embed.load_model()`); "
          + (f"`joint`'s weights in this run (`DEFAULT_WEIGHTS`): `{p['joint_weights']}`"
             + (" (tower weights 0: `joint` used no gtCLIP output here, only leading-edge and full-set overlap "
                "plus the leading-edge gate); " if p["joint_weights"] and not any(
                    p["joint_weights"].get(k, 0) for k in ("leading_edge", "full_set", "text")) else "; ")
             if p.get("joint_weights") else "") +
          "overlap-based baselines: `overlap` (EnrichmentMap combined coefficient >= 0.375 + MCL), `overlap-knn` "
          "(leading-edge Jaccard kNN + Leiden, the strongest overlap baseline), `kappa` (DAVID kappa >= 0.35 + Leiden); "
          "`semantic` (GO simGIC kNN + Leiden) on GO results only.",
          "- GSEA: gseapy, run by `benchmarks/make_gsea_results.py` (seed 20240601; gene-set permutations: 500 for GO BP, "
          "Reactome and C2 CP, 1000 for Hallmark and KEGG; sets of 15-500 genes; permutation counts per result in the "
          "table below), cached under `benchmarks/cache/gsea` (not committed; recomputed by this script when missing, "
          "~20 CPU min).",
          "- No tuning leak in the headline: `joint`'s weights were chosen on the p53 results "
          "(`benchmarks/results/cluster_tune.md`), so the headline means are over the other cohorts (leukemia, mds); "
          "means including p53 are shown apart. Within a cohort the `reactome` and `c2cp` results are not independent "
          "(C2 CP contains the Reactome sets), so per-cohort means weight Reactome pathways twice.",
          "- `silh. ... x coverage`: silhouette averaged over all pathways with singletons scored 0 (= the silhouette "
          "of the clustered pathways x coverage), so leaving hard pathways unclustered does not raise it.",
          "- Independent spaces: silhouette in `1 - gene-set Jaccard` (full library sets; note that `overlap` and "
          "`kappa` cluster on full-set overlap, so this space favours them"
          + (", and `joint` now does too (`full_set_overlap` weight > 0), so this space is **not independent of "
             "`joint`** either" if (p.get("joint_weights") or {}).get("full_set_overlap", 0) > 0 else "")
          + ") and in `1 - simGIC` GO-semantic distance "
          "(GO results; independent of every method except `semantic`).", ""]
    L += ["## Data (GSEA results)", "",
          "| result | protocol | GSEA | tested | FDR<0.25 (up/down) | k matched | clustered |", "|---|---|---|---|---|---|---|"]
    for d in datasets:
        L.append(f"| {d['dataset']} | {d.get('group')} | {d.get('gsea')} | {d.get('n_tested')} | {d.get('n_significant')} "
                 f"({d.get('n_up')}/{d.get('n_down')}) | {d.get('k_target', '-')} | {d.get('skipped') or 'yes'} |")
    L.append("")
    heads = [("matched_k", "mean (held-out cohorts)"), ("matched_k", "mean (all main results)"),
             ("default", "mean (held-out cohorts)"), ("default", "mean (all main results)")]
    for setting, group in heads:
        rows = [r for r in summ if r["split"] == setting and r["summary"] == "mean" and r["dataset"] == group]
        if not rows:
            continue
        what = ("held-out results (every cohort except p53, the study `joint`'s weights were tuned on)"
                if "held-out" in group
                else "all main-protocol results (p53 included: `joint`'s weights were tuned on p53)")
        L += [f"## {setting}: mean over {what}", ""]
        keys = [k for k, _, _ in METRICS if any(r["metric"] == k for r in rows)]
        L.append("| method | " + " | ".join(lbl for k, lbl, _ in METRICS if k in keys) + " |")
        L.append("|---|" + "---|" * len(keys))
        for m in methods:
            vals = {r["metric"]: r for r in rows if r["method"] == m}
            if not vals:
                continue
            L.append(f"| {m} | " + " | ".join(_cell(vals[k]["value"], k) + (f" ({vals[k]['n_results']})"
                                                                               if k == "silhouette_go_semantic" else "")
                                              if k in vals else "n/a" for k in keys) + " |")
        rat = {r["metric"]: r for r in summ if r["split"] == setting and r["summary"] == "ratio"
               and r["dataset"] == group}
        L.append("| **joint / best overlap-based** | " + " | ".join(
            (("n/a" if rat[k]["value"] is None else f"{rat[k]['value']:.2f}x") + f" ({rat[k]['best_overlap_method']}; "
             f"diff {rat[k]['difference']:+.3f})") if k in rat else "" for k in keys) + " |")
        rat = {r["metric"]: r for r in summ if r["split"] == setting and r["summary"] == "ratio_knn"
               and r["dataset"] == group}
        L.append("| **joint / overlap-knn** | " + " | ".join(
            (("n/a" if rat[k]["value"] is None else f"{rat[k]['value']:.2f}x") + f" (diff {rat[k]['difference']:+.3f})")
            if k in rat else "" for k in keys) + " |")
        members = [d["dataset"] for d in datasets if d.get("group") == "main" and "skipped" not in d
                   and (group != "mean (held-out cohorts)" or d.get("cohort") not in TUNING_COHORTS)]
        for kind, label in (("ratio", "best overlap-based"), ("ratio_knn", "overlap-knn")):
            per_res = {(r["dataset"], r["metric"]): r for r in summ if r["split"] == setting and r["summary"] == kind
                       and r["dataset"] in members}
            cells = []
            for k in keys:
                diffs = [per_res[(d, k)]["difference"] for d in members if (d, k) in per_res]
                cells.append(f"{sum(x >= -1e-9 for x in diffs)}/{len(diffs)}" if diffs and k in RATIO_METRICS else "")
            L.append(f"| results where joint >= {label} | " + " | ".join(cells) + " |")
        if setting == "matched_k":
            dev = defaultdict(list)
            for r in raw:
                if r["split"] == "matched_k" and r["metric"] == "n_clusters" and r["dataset"] in members \
                        and r.get("k_target") and r.get("value") is not None:
                    dev[r["method"]].append(abs(r["value"] - r["k_target"]))
            L += ["", "Achieved vs target k (mean |k - target| over results and seeds): " + ", ".join(
                f"{m} {np.mean(dev[m]):.1f}" for m in methods if dev.get(m)) + "."]
        L += ["", "Silhouette GO-semantic is over GO results only (count in brackets). A ratio is n/a when the "
              "overlap value is <= 0; the difference joint - baseline is given beside it. Caution: `overlap` and "
              "`kappa` leave many pathways as singletons (see coverage); their within-cluster metrics are computed "
              "over the clustered pathways only, which flatters them; `overlap-knn` covers nearly every pathway, as "
              "`joint` does, and is the like-for-like baseline.", ""]
        if group != "mean (held-out cohorts)":
            continue
        # per cohort means
        L += [f"### Per cohort (mean over its libraries), {setting}", "",
              "| cohort | method | adj. NES coh. | Jaccard w/b | silhouette gene-Jaccard | silhouette GO-sem. | coverage | n clusters |",
              "|---|---|---|---|---|---|---|---|"]
        cohorts = sorted({r["dataset"] for r in summ if r["summary"] == "mean" and r["dataset"].startswith("mean (")
                          and r["dataset"] not in ("mean (all main results)", "mean (held-out cohorts)")})
        for c in cohorts:
            for m in methods:
                v = {r["metric"]: r["value"] for r in summ if r["split"] == setting and r["summary"] == "mean"
                     and r["dataset"] == c and r["method"] == m}
                if v:
                    L.append(f"| {c[6:-1]} | {m} | " + " | ".join(_cell(v.get(k), k) for k in (
                        "nes_coherence_adjusted", "jaccard_ratio", "silhouette_gene_jaccard", "silhouette_go_semantic",
                        "coverage", "n_clusters")) + " |")
        L.append("")
    # per result detail at matched k
    per = defaultdict(list)
    for r in raw:
        if r.get("value") is not None:
            per[(r["dataset"], r["split"], r["method"], r["metric"])].append(r["value"])
    for key, lbl, _ in METRICS[:1] + METRICS[2:3] + METRICS[4:6] + METRICS[8:10]:
        L += [f"## Per result, matched_k: {lbl}", "", "| result | n | " + " | ".join(methods) + " | joint / best overlap |",
              "|---|---|" + "---|" * (len(methods) + 1)]
        for d in datasets:
            if "skipped" in d or not any((d["dataset"], "matched_k", m, key) in per for m in methods):
                continue
            cells = []
            for m in methods:
                v = per.get((d["dataset"], "matched_k", m, key))
                cells.append(_cell(float(np.mean(v)), key) + (f" ±{np.std(v):.3f}" if v and len(v) > 1 and np.std(v) > 0.0005 else "")
                             if v else "-")
            rr = [r for r in summ if r["summary"] == "ratio" and r["dataset"] == d["dataset"] and r["split"] == "matched_k"
                  and r["metric"] == key]
            rc = "-" if not rr else ((f"{rr[0]['value']:.2f}x" if rr[0]["value"] is not None else "n/a")
                                     + f" (vs {rr[0]['best_overlap_method']})")
            L.append(f"| {d['dataset']} | {d.get('n_significant')} | " + " | ".join(cells) + f" | {rc} |")
        L.append("")
    # targets
    rat = {r["metric"]: r for r in summ if r["split"] == "matched_k" and r["summary"] == "ratio"
           and r["dataset"] == "mean (held-out cohorts)"}
    mean_adj = [r for r in summ if r["split"] == "matched_k" and r["summary"] == "mean"
                and r["dataset"] == "mean (held-out cohorts)" and r["method"] == "joint" and r["metric"] == "nes_coherence_adjusted"]
    rat_knn = {r["metric"]: r for r in summ if r["split"] == "matched_k" and r["summary"] == "ratio_knn"
               and r["dataset"] == "mean (held-out cohorts)"}
    L += ["## Issue-6 targets (matched_k, mean over the held-out cohorts' results)", ""]
    if mean_adj:
        v = mean_adj[0]["value"]
        L.append(f"- joint chance-adjusted NES coherence >= 0.9: **{v:.3f} -> {'met' if v >= 0.9 else 'NOT met'}**")
    for key, what in (("silhouette_go_semantic_x_coverage", "silhouette GO-semantic x coverage (GO results)"),
                      ("silhouette_gene_jaccard_x_coverage", "silhouette gene-Jaccard x coverage"),
                      ("silhouette_go_semantic", "silhouette GO-semantic (GO results)"),
                      ("silhouette_gene_jaccard", "silhouette gene-Jaccard"),
                      ("jaccard_ratio", "within/between gene-Jaccard ratio")):
        if key in rat:
            r = rat[key]
            knn = rat_knn.get(key)
            L.append(f"- {what}: joint {r['joint']:.3f} vs best overlap-based ({r['best_overlap_method']}) "
                     f"{r['best_overlap']:.3f} -> **{'joint better' if r['difference'] > 0 else 'joint NOT better'}**"
                     + (f"; vs overlap-knn {knn['best_overlap']:.3f} -> **{'joint better' if knn['difference'] > 0 else 'joint NOT better'}**"
                        if knn else ""))
    L.append("")
    if errors:
        L += ["## Failed runs", ""] + [f"- {r['dataset']} {r['split']} {r['method']} seed {r['seed']}: {r['error']}"
                                       for r in errors] + [""]
    L += ["## Reproduce", "", "```", "nice -n 10 python benchmarks/gsea_cohorts.py        # GSEA results are cached "
          "under benchmarks/cache/gsea", "python benchmarks/gsea_cohorts.py --results-dir DIR --out PREFIX   # any folder of "
          "GSEA result files", "```", ""]
    return "\n".join(L)


# ---------------------------------------------------------------------- main
def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results-dir", type=Path, default=None,
                    help="cluster every GSEA result file in DIR (any supported format) instead of the cohorts")
    ap.add_argument("--gmt", default=None, help="with --results-dir: GMT / built-in library for full sets and text")
    ap.add_argument("--out", type=Path, default=None, help="output prefix (default benchmarks/results/gsea_cohorts, "
                    "or DIR/gsea_cohorts with --results-dir)")
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--libraries", nargs="*", default=list(LIBRARIES), choices=list(LIBRARIES))
    ap.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--fdr", type=float, default=0.25)
    ap.add_argument("--min-pathways", type=int, default=40)
    ap.add_argument("--k-divisor", type=float, default=15.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--n-random", type=int, default=200)
    ap.add_argument("--no-secondary", action="store_true", help="skip the phenotype-permutation results")
    ap.add_argument("--render", action="store_true", help="only re-write summaries and the .md from the .json")
    args = ap.parse_args(argv)
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    if args.render:
        prefix = args.out or (ROOT / "benchmarks" / "results" / NAME if args.results_dir is None
                              else args.results_dir / NAME)
        payload = json.loads(prefix.with_suffix(".json").read_text())
        records = derive_coverage_silhouettes([r for r in payload["records"] if not r.get("summary")])
        proto = payload["protocol"]
        args.fdr, args.min_pathways, args.k_divisor = proto["fdr"], proto["min_pathways"], proto["k_divisor"]
        args.seeds, args.n_random, args.methods = proto["seeds_matched_k"], proto["n_random"], proto["methods"]
        args.joint_weights = proto.get("joint_weights")
        write_outputs(prefix, records, summarise(records, payload["datasets"]), payload["datasets"], args,
                      payload["started_utc"], payload["finished"], payload.get("finished_utc"))
        return
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    t_all = time.time()

    def log(msg):
        print(f"[{time.time() - t_all:6.0f}s] {msg}", flush=True)

    if args.results_dir is None:
        ensure_gsea(MAIN_DATASETS + (() if args.no_secondary else SECONDARY_DATASETS), args.libraries, log)
        jobs = builtin_jobs(args)
        if args.no_secondary:
            jobs = [j for j in jobs if j["group"] == "main"]
        libs = {lib: library_for(lib, args.data) for lib in args.libraries}
        prefix = args.out or ROOT / "benchmarks" / "results" / NAME
    else:
        if not args.results_dir.is_dir():
            sys.exit(f"error: {args.results_dir} is not a folder")
        jobs = folder_jobs(args.results_dir)
        used = {j["library"] for j in jobs if j["library"] in LIBRARIES}
        libs = {lib: library_for(lib, args.data) for lib in used}
        prefix = args.out or args.results_dir / NAME
    if not jobs:
        sys.exit("error: no GSEA result to cluster")
    from contrastomics.cluster.embed import DEFAULT_WEIGHTS, load_model
    args.joint_weights = dict(DEFAULT_WEIGHTS)
    model = load_model(None)
    log(f"{len(jobs)} result(s); model {type(model).__name__}; methods {', '.join(args.methods)}")
    records: list[dict] = []
    datasets: list[dict] = []
    for i, job in enumerate(jobs, 1):
        log(f"[{i}/{len(jobs)}] {job['dataset']}")
        info = cluster_result(job, args, model, libs, log, records.append)
        datasets.append(info)
        write_outputs(prefix, records, summarise(records, datasets), datasets, args, started, finished=False)
    write_outputs(prefix, records, summarise(records, datasets), datasets, args, started, finished=True)
    log(f"done -> {prefix.with_suffix('.json')}, {prefix.with_suffix('.md')}")


if __name__ == "__main__":
    main()
