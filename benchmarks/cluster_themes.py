"""How well do GO slim themes describe the clusters of GO results? (labels, issue 5 item 3)

    nice -n 10 python benchmarks/cluster_themes.py     # -> benchmarks/results/cluster_themes.{json,md}

Data: the shipped demo result (gseapy prerank, leukemia ALL vs AML, GO BP, FDR < 0.05) and the GO BP
prerank results of the three cohorts of ``benchmarks/gsea_cohorts.py`` (leukemia, p53, mds; made by
``benchmarks/make_gsea_results.py``, computed when missing; FDR < 0.25). Split: none (nothing is
learned here; the rules have no parameter fitted to these results). Clustering: ``contrastomics
cluster`` defaults (``joint``, seed 0).

Rules compared, each giving one generic GO slim term (2019 GO, ``goslim_generic``, the three aspect
roots excluded; biological-process terms for these GO BP results) per cluster of >= 2 pathways:

- ``ancestor count`` (shipped, :func:`contrastomics.cluster.labels.go_slim_themes`): the slim term
  that is an ``is_a``/``part_of`` ancestor (or the term itself) of the most members; ties: fewest
  descendants.
- ``text tower``: the slim term (name + definition) nearest to the mean of the members' text-tower
  embeddings (the rule the issue suggested).
- ``same for all`` (reference): the slim term above the most pathways of the whole result, given to
  every cluster: what a theme is worth when it says nothing cluster-specific.

Metric: ``support`` of a cluster's theme = fraction of its members that sit under it in the GO
graph; reported as the mean over clusters and the member-weighted mean, per result and over all.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402

NAME = "cluster_themes"
COHORT_RESULTS = ("leukemia_prerank", "p53_prerank", "mds")


def results() -> list[tuple[str, Path, float]]:
    from gsea_cohorts import CACHE, ensure_gsea

    from contrastomics.enrichment import demo_result_path
    ensure_gsea(COHORT_RESULTS, ["gobp"], print)
    manifest = json.loads((CACHE / "manifest.json").read_text())["runs"]
    out = [("demo: leukemia ALL vs AML / GO BP (FDR < 0.05)", demo_result_path(), 0.05)]
    for d in COHORT_RESULTS:
        m = manifest[f"{d}__gobp"]
        out.append((f"{d.replace('_prerank', '')} / GO BP (FDR < 0.25)", CACHE / m["file"], 0.25))
    return out


def slim_terms(onto, namespace: str = "biological_process") -> list[str]:
    roots = {"GO:0008150", "GO:0003674", "GO:0005575"}
    return [t for t in onto.subsets["goslim_generic"]
            if t in onto and t not in roots and onto.namespaces[onto.index(t)] == namespace]


def evaluate(name: str, path: Path, fdr: float, model, onto) -> list[dict]:
    from contrastomics.cluster import run_clustering
    from contrastomics.cluster.embed import _text_cache
    from contrastomics.cluster.labels import go_slim_themes
    from contrastomics.data.ontology import extract_go_id
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_clustering(str(path), model=model, fdr_cutoff=fdr, metrics=False)
    tab = res.table
    labels = tab["cluster"].to_numpy()
    ids = [extract_go_id(str(t)) for t in tab["term"]]
    anc = [onto.ancestors(onto.resolve(i), include_self=True) if i and onto.resolve(i) else set() for i in ids]
    slim = slim_terms(onto)
    # text tower: slim "name. definition" vs the mean of member texts
    cache = _text_cache(model)
    v = cache.embed([f"{onto.name_of(t)}. {onto.definitions[onto.index(t)]}" for t in slim])
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    e = cache.embed(tab["text"].tolist())
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    shipped = go_slim_themes(tab["term"].tolist(), labels, ontology=onto)
    overall = max(slim, key=lambda s: sum(s in a for a in anc))
    per_rule: dict[str, list[tuple[float, int]]] = {"ancestor count": [], "text tower": [], "same for all": []}
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        if len(rows) < 2:
            continue
        text_theme = slim[int((v @ e[rows].mean(0)).argmax())]
        picks = {"ancestor count": shipped.get(int(c), {}).get("theme_id"), "text tower": text_theme,
                 "same for all": overall}
        for rule, t in picks.items():
            support = float(np.mean([t in anc[r] for r in rows])) if t else 0.0
            per_rule[rule].append((support, len(rows)))
    out = []
    for rule, vals in per_rule.items():
        s = np.array([x for x, _ in vals])
        w = np.array([n for _, n in vals], float)
        base = {"dataset": name, "split": "none", "method": rule, "n_clusters": len(vals),
                "n_pathways": int(len(tab)), "seeds": [0]}
        out.append({**base, "metric": "theme_support_mean", "value": float(s.mean())})
        out.append({**base, "metric": "theme_support_weighted", "value": float((s * w).sum() / w.sum())})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    from contrastomics.cluster.embed import load_model
    from contrastomics.data.builtin import load_ontology
    from contrastomics.data.io import atomic_write
    model, onto = load_model(None), load_ontology("GO")
    recs = []
    for name, path, fdr in results():
        recs += evaluate(name, path, fdr, model, onto)
        print(name, "done", flush=True)
    for rule in ("ancestor count", "text tower", "same for all"):
        for metric in ("theme_support_mean", "theme_support_weighted"):
            vals = [r["value"] for r in recs if r["method"] == rule and r["metric"] == metric]
            recs.append({"dataset": f"mean over {len(vals)} results", "split": "none", "method": rule,
                         "metric": metric, "value": float(np.mean(vals))})
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out / f"{NAME}.json") as fh:
        json.dump({"benchmark": NAME, "records": recs}, fh, indent=1)
    lines = [f"# {NAME}: GO slim themes of `contrastomics cluster` clusters", "",
             "Made by `python benchmarks/cluster_themes.py` (protocol in its docstring). Support = fraction of a "
             "cluster's members under its theme in the GO graph (is_a/part_of); mean over clusters of >= 2 "
             "(member-weighted in brackets). `ancestor count` is what the package ships.", "",
             "| result | clusters | ancestor count (shipped) | text tower | same for all |", "|---|---|---|---|---|"]
    for ds in dict.fromkeys(r["dataset"] for r in recs):
        cell = {}
        for rule in ("ancestor count", "text tower", "same for all"):
            m = next(r["value"] for r in recs if r["dataset"] == ds and r["method"] == rule
                     and r["metric"] == "theme_support_mean")
            w = next(r["value"] for r in recs if r["dataset"] == ds and r["method"] == rule
                     and r["metric"] == "theme_support_weighted")
            cell[rule] = f"{m:.3f} ({w:.3f})"
        k = next((r.get("n_clusters") for r in recs if r["dataset"] == ds and "n_clusters" in r), "")
        lines.append(f"| {ds} | {k} | {cell['ancestor count']} | {cell['text tower']} | {cell['same for all']} |")
    with atomic_write(args.out / f"{NAME}.md") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
