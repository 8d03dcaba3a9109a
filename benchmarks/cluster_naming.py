"""GO BP results named the MSigDB way (`GOBP_APOPTOTIC_PROCESS`, no GO id): `contrastomics cluster`
before and after the built-in GO learned those names (issue 15, "build for the general case").

    nice -n 10 python benchmarks/cluster_naming.py     # -> benchmarks/results/cluster_naming.{json,md}

Inputs: every GO BP result of cluster_defaults' dev and test parts (`cluster_defaults.inputs(part,
libs=["gobp"])`), as read (leading edges) and with the leading edges removed (full sets only). Each is
also given as an MSigDB-named copy (`msigdb_name`): term = name = "GOBP_" + the GO name, which
mimics MSigDB's convention for GO set names (fgsea with msigdbr, GSEA desktop): "+" spelled "PLUS",
every run of other non-alphanumerics "_", upper case, no GO id.

Methods (`run_clustering(d, fdr_cutoff=0.25, n_random=50, method="joint")`, seed 0):
`joint (GO ids)`: the original naming with the gene sets cluster_defaults passes;
`joint (MSigDB names)`: the renamed copy, this tree, no gene sets (as a fgsea user runs it);
`joint (MSigDB names), before`: the renamed copy run by commit f37425a (a git worktree at BEFORE_TREE,
made with `git worktree add /tmp/ct_before f37425a`) in a subprocess with PYTHONPATH=<worktree>/src
(this script with --runner). A run that raises is a record with metric "error" and the message.

Judges (this tree's code for every labelling, the labels mapped back to the original pathways by name):
Wang silhouette per pathway over the ORIGINAL GO ids (`cluster_defaults.wang_samples`, singletons 0;
`silhouette_go_wang` as `cluster_metrics` gives it), chance-adjusted NES coherence (50 draws, seed 0),
coverage, cluster count. Post-hoc diagnostic (decisions addendum): `joint (GO ids), unmatched renamed`,
the original table with only the pathways this tree cannot match renamed. Reported, not judges: share of pathways with a full gene set, share whose GO
id the run found and share found right (this tree: `Pathways.go_terms`), whether the package's own
summary has GO metrics, adjusted Rand index against `joint (GO ids)`. CIs: paired bootstrap (2,000
resamples, seed 0) over pathways of the per-pathway Wang silhouette, pooled per part and input kind:
"MSigDB names - GO ids" and "MSigDB names - before" (results where "before" ran).
Decisions: benchmarks/decisions/cluster_naming.md (a bug fix measured, no choice made).
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
NAME = "cluster_naming"
OUT = ROOT / "benchmarks" / "results"
BEFORE_COMMIT = "f37425a"
BEFORE_TREE = Path(os.environ.get("CT_BEFORE_TREE", "/tmp/ct_before"))
RUN_KW = dict(fdr_cutoff=0.25, n_random=50, method="joint")
GO_IDS, MSIGDB, BEFORE = "joint (GO ids)", "joint (MSigDB names)", "joint (MSigDB names), before"
DIAG = "joint (GO ids), unmatched renamed"  # post-hoc diagnostic (decisions file, addendum)
METHODS = (GO_IDS, MSIGDB, BEFORE, DIAG)
CONTRASTS = ((MSIGDB, GO_IDS), (MSIGDB, BEFORE))
_GO_SUFFIX = re.compile(r"\s*\(GO:\d{7}\)\s*$")
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def msigdb_name(name: str, prefix: str = "GOBP_") -> str:
    """MSigDB's spelling of a GO set name: ``"NAD+ ADP-ribosyltransferase activity (GO:0003950)"``
    -> ``"GOBP_NADPLUS_ADP_RIBOSYLTRANSFERASE_ACTIVITY"`` (GO-id suffix dropped, "+" as "PLUS",
    each run of other non-alphanumerics as "_", upper case)."""
    core = _GO_SUFFIX.sub("", str(name)).replace("+", "PLUS")
    return prefix + _NON_ALNUM.sub("_", core).strip("_").upper()


def renamed(df):
    """The result with term = name = its MSigDB name (every other column unchanged)."""
    names = [msigdb_name(n if isinstance(n, str) and n else t) for t, n in zip(df["term"], df["name"])]
    return df.assign(term=names, name=names)


# --------------------------------------------------------------------------------------------------
# runner: executed in a subprocess by whichever contrastomics PYTHONPATH gives (the "before" tree)

def run_one(d, gene_sets=None) -> dict:
    """Cluster ``d`` with the importable contrastomics; ``{"labels": {term: cluster}, ...}`` or
    ``{"error": message}``."""
    from contrastomics.cluster import prepare, run_clustering
    out = {}
    t0 = time.time()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pw = prepare(d, fdr_cutoff=RUN_KW["fdr_cutoff"], gene_sets=gene_sets)
            out["full_set_share"] = float(pw.has_full_sets.mean())
            res = run_clustering(d, gene_sets=gene_sets, **RUN_KW)
    except Exception as e:  # noqa: BLE001 - a failing run is a result here
        return {**out, "error": f"{type(e).__name__}: {e}", "seconds": time.time() - t0}
    out["labels"] = dict(zip(res.table["term"].astype(str), res.table["cluster"].astype(int)))
    out["package_go_metrics"] = float(res.summary["metrics"].get("silhouette_go_wang") is not None)
    out["seconds"] = time.time() - t0
    return out


def runner(inp: str, outp: str) -> None:
    import contrastomics
    with open(inp, "rb") as fh:
        tables = pickle.load(fh)
    res = {"contrastomics": contrastomics.__file__}
    for key, d in tables.items():
        res[key] = run_one(d)
        print(f"[before] {key}: {res[key].get('error', 'ok')} ({res[key]['seconds']:.1f} s)", flush=True)
    with open(outp, "wb") as fh:
        pickle.dump(res, fh)


def run_before(tables: dict) -> dict:
    """``run_one`` of every table by the f37425a tree, in one subprocess."""
    src = BEFORE_TREE / "src"
    if not (src / "contrastomics").is_dir():
        raise SystemExit(f"{src} missing: git worktree add {BEFORE_TREE} {BEFORE_COMMIT}")
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = Path(tmp) / "in.pkl", Path(tmp) / "out.pkl"
        with open(inp, "wb") as fh:
            pickle.dump(tables, fh)
        env = {**os.environ, "PYTHONPATH": str(src)}
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--runner", str(inp), str(outp)],
                       env=env, check=True, cwd=tmp)
        with open(outp, "rb") as fh:
            res = pickle.load(fh)
    assert Path(res.pop("contrastomics")).resolve().is_relative_to(src.resolve()), "before run imported the wrong tree"
    return res


# --------------------------------------------------------------------------------------------------
# benchmark (this tree)

def aligned(labels: dict, keys: list[str]):
    """Cluster of each original pathway (``keys``: its MSigDB name) from a ``{term: cluster}`` run."""
    import numpy as np
    missing = [k for k in keys if k not in labels]
    if missing:
        raise ValueError(f"{len(missing)} pathways missing from the run (e.g. {missing[:3]})")
    return np.array([labels[k] for k in keys], np.int64)


def judge(lab, nes, gop) -> tuple[dict, "np.ndarray"]:
    """This tree's judges of one labelling: (values, per-pathway Wang silhouette)."""
    from contrastomics.evaluate.cluster_metrics import cluster_metrics
    from cluster_defaults import wang_samples
    m = cluster_metrics(lab, nes, n_random=RUN_KW["n_random"], seed=0, go_wang=gop)
    values = {"n_clusters": m["n_clusters"], "coverage": m["coverage"],
              "nes_coherence_adjusted": m["nes_coherence_adjusted"], "silhouette_go_wang": m.get("silhouette_go_wang")}
    return values, wang_samples(lab, gop)


def run_part(part: str, log=print) -> tuple[list[dict], dict]:
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from cluster_defaults import inputs, input_order_labels
    from contrastomics.cluster import prepare, run_clustering
    from contrastomics.cluster.metrics import go_pairs
    from contrastomics.cluster.pathways import _builtin_library
    from contrastomics.data.ontology import extract_go_id

    recs, units, todo, before_tables = [], {}, [], {}
    builtin_go = _builtin_library("GO")
    builtin_name = dict(zip(builtin_go.terms, builtin_go.names))

    def rec(ds, kind, method, metric, value, n, **extra):
        recs.append({"dataset": f"{ds}/gobp", "split": part, "part": part, "input": kind, "method": method,
                     "metric": metric, "value": None if value is None else round(float(value), 4), "seed": 0,
                     "n": int(n), **extra})

    for ds, lib, kind, d, gs in inputs(part, libs=["gobp"], log=log):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pw0 = prepare(d, fdr_cutoff=RUN_KW["fdr_cutoff"], gene_sets=gs)
        terms0 = pw0.table["term"].astype(str).tolist()
        keys = [msigdb_name(n if isinstance(n, str) and n else t) for t, n in zip(terms0, pw0.table["name"])]
        assert len(set(keys)) == len(keys), "two pathways share an MSigDB name"
        true_ids = [extract_go_id(t) for t in terms0]
        gop = go_pairs(terms0)
        nes = pw0.table["nes"].to_numpy(float)
        n = len(terms0)
        labs, info = {}, {m: {} for m in METHODS}
        t0 = time.time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res0 = run_clustering(d, gene_sets=gs, **RUN_KW)
        labs[GO_IDS] = input_order_labels(res0)
        info[GO_IDS] = {"full_set_share": pw0.has_full_sets.mean(), "go_id_found_share": np.mean([g is not None for g in true_ids]),
                        "go_id_correct_share": 1.0, "package_go_metrics": float(res0.summary["metrics"].get("silhouette_go_wang") is not None),
                        "seconds": time.time() - t0}
        dr = renamed(d)
        cur = run_one(dr)
        if "labels" in cur:
            labs[MSIGDB] = aligned(cur["labels"], keys)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pw1 = prepare(dr, fdr_cutoff=RUN_KW["fdr_cutoff"])
        found = dict(zip(pw1.table["term"].astype(str), (extract_go_id(g) for g in pw1.go_terms)))
        info[MSIGDB] = {k: cur[k] for k in ("full_set_share", "package_go_metrics", "seconds", "error") if k in cur}
        info[MSIGDB]["go_id_found_share"] = np.mean([found.get(k) is not None for k in keys])
        info[MSIGDB]["go_id_correct_share"] = np.mean([found.get(k) == g for k, g in zip(keys, true_ids)])
        wrong = [(k, found.get(k), g) for k, g in zip(keys, true_ids) if found.get(k) not in (None, g)]
        if wrong:
            log(f"  {len(wrong)} MSigDB names matched to another GO id, e.g. {wrong[:3]}")
        # post-hoc diagnostic: the original table with only the unmatched pathways renamed
        unmatched = {k for k in keys if found.get(k) is None}
        renamed_in = [f"{t} -> built-in: {builtin_name[g]!r}" for t, k, g in zip(terms0, keys, true_ids)
                      if k in unmatched and g in builtin_name]
        info[MSIGDB]["unmatched_renamed_in_builtin"] = len(renamed_in)
        info[MSIGDB]["unmatched_absent_from_builtin"] = len(unmatched) - len(renamed_in)
        info[MSIGDB]["examples"] = renamed_in[:4] + [t for t, k, g in zip(terms0, keys, true_ids)
                                                     if k in unmatched and g not in builtin_name][:2]
        all_keys = [msigdb_name(n if isinstance(n, str) and n else t) for t, n in zip(d["term"], d["name"])]
        hit = [k in unmatched for k in all_keys]
        hyb = d.assign(term=[k if h else t for t, k, h in zip(d["term"], all_keys, hit)],
                       name=[k if h else n for n, k, h in zip(d["name"], all_keys, hit)])
        cur_h = run_one(hyb, gene_sets=gs)
        info[DIAG] = {k: cur_h[k] for k in ("full_set_share", "package_go_metrics", "seconds", "error") if k in cur_h}
        if "labels" in cur_h:
            labs[DIAG] = aligned(cur_h["labels"], [k if k in unmatched else t for t, k in zip(terms0, keys)])
        before_tables[(ds, kind)] = dr
        todo.append((ds, kind, keys, nes, gop, n, labs, info))
        log(f"{part} {ds} [{kind}] n={n}: GO ids {info[GO_IDS]['seconds']:.1f} s, MSigDB names "
            f"{cur.get('error') or 'ok'} ({cur['seconds']:.1f} s), GO ids found {info[MSIGDB]['go_id_found_share']:.3f}")

    before = run_before({f"{ds}|{kind}": t for (ds, kind), t in before_tables.items()}) if before_tables else {}
    for ds, kind, keys, nes, gop, n, labs, info in todo:
        b = before[f"{ds}|{kind}"]
        info[BEFORE] = {k: b[k] for k in ("full_set_share", "package_go_metrics", "seconds", "error") if k in b}
        info[BEFORE]["go_id_found_share"] = 0.0  # f37425a reads GO ids from terms and names only
        info[BEFORE]["go_id_correct_share"] = 0.0
        if "labels" in b:
            labs[BEFORE] = aligned(b["labels"], keys)
        for method in METHODS:
            inf = info[method]
            if "error" in inf:
                rec(ds, kind, method, "error", None, n, error=inf["error"])
            if method in labs:
                values, wang = judge(labs[method], nes, gop)
                units[(part, ds, kind, method)] = wang
                if GO_IDS in labs:
                    values["ari_vs_go_ids"] = adjusted_rand_score(labs[GO_IDS], labs[method])
                if method == DIAG and MSIGDB in labs:
                    values["ari_vs_msigdb_names"] = adjusted_rand_score(labs[MSIGDB], labs[method])
                ph = {"post_hoc": "diagnostic added after dev and test were seen (decisions addendum)"} if method == DIAG else {}
                for metric, v in values.items():
                    rec(ds, kind, method, metric, v, n, **ph)
            for metric in ("full_set_share", "go_id_found_share", "go_id_correct_share", "package_go_metrics", "seconds",
                           "unmatched_renamed_in_builtin", "unmatched_absent_from_builtin"):
                if metric in inf:
                    extra = {"examples": inf["examples"]} if metric == "unmatched_renamed_in_builtin" else {}
                    if method == DIAG:
                        extra["post_hoc"] = "diagnostic added after dev and test were seen (decisions addendum)"
                    rec(ds, kind, method, metric, inf[metric], n, **extra)
            log(f"{part} {ds} [{kind}] {method}: " + ", ".join(
                f"{r['metric']}={r['value'] if r['metric'] != 'error' else r['error']}" for r in recs
                if r["dataset"] == f"{ds}/gobp" and r["input"] == kind and r["method"] == method))
    return recs, units


def differences(part: str, units: dict) -> list[dict]:
    """Per input kind, pooled over the part's results where both ran: paired bootstrap over pathways."""
    import numpy as np
    from cluster_defaults import KINDS
    from contrastomics.evaluate.stats import paired_bootstrap
    recs = []
    for kind in KINDS:
        for a_m, b_m in CONTRASTS:
            keys = sorted({k[1] for k in units if k[0] == part and k[2] == kind})
            both = [ds for ds in keys if (part, ds, kind, a_m) in units and (part, ds, kind, b_m) in units]
            base = {"split": part, "part": part, "input": kind, "method": f"{a_m} - {b_m}",
                    "metric": "diff silhouette_go_wang_per_pathway", "n_results": len(both), "n_results_part": len(keys)}
            if not both:
                recs.append({**base, "dataset": f"all {part} GO BP results (0 of {len(keys)} ran both)", "value": None,
                             "verdict": "not comparable", "n": 0})
                continue
            a = np.concatenate([units[(part, ds, kind, a_m)] for ds in both])
            b = np.concatenate([units[(part, ds, kind, b_m)] for ds in both])
            ci = paired_bootstrap(a, b)
            recs.append({**base, "dataset": f"all {part} GO BP results ({len(both)} of {len(keys)})",
                         "value": round(ci["diff"], 4), "low": round(ci["low"], 4), "high": round(ci["high"], 4),
                         "verdict": ci["verdict"], "n": int(ci["n"]), "mean_a": round(float(a.mean()), 4),
                         "mean_b": round(float(b.mean()), 4)})
    return recs


def _cell(v, metric):
    if v is None:
        return ""
    if metric.startswith(("n_", "unmatched")) or metric == "package_go_metrics":
        return f"{v:.0f}"
    return f"{v:.1f}" if metric == "seconds" else f"{v:.3f}"


def markdown(recs: list[dict]) -> str:
    lines = [f"# {NAME}: GO BP results named the MSigDB way", "",
             f"Produced by `benchmarks/{NAME}.py` (protocol in its docstring; declaration in "
             f"benchmarks/decisions/{NAME}.md: a bug fix measured, no choice made; dev and test side by side). "
             f"`before` = commit {BEFORE_COMMIT}; the others = the working tree. FDR < 0.25, seed 0, `joint` defaults.",
             "", "## Wang silhouette per pathway (original GO ids), paired bootstrap 95% CI pooled per part", "",
             "| part | input | contrast | results | mean A | mean B | A - B [95% CI] | verdict | pathways |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in recs:
        if not r["metric"].startswith("diff"):
            continue
        if r["value"] is None:
            lines.append(f"| {r['part']} | {r['input']} | {r['method']} | 0 of {r['n_results_part']} | | | "
                         f"B failed on every result | {r['verdict']} | 0 |")
            continue
        lines.append(f"| {r['part']} | {r['input']} | {r['method']} | {r['n_results']} of {r['n_results_part']} | "
                     f"{r['mean_a']:.3f} | {r['mean_b']:.3f} | {r['value']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}] | "
                     f"{r['verdict']} | {r['n']} |")
    lines += ["", "NES coherence (chance-adjusted) is 1.0 or nearly in every row: `joint` keeps up- and down-regulated "
              "pathways apart, so it does not separate the namings here. `post-hoc` rows (`" + DIAG + "`): diagnostic "
              "added after both parts were seen (decisions addendum): the original table with only the pathways whose "
              "MSigDB name this tree leaves unmatched renamed; `ari_vs_msigdb_names` 1 means those names are the whole gap."]
    metrics = ["n_clusters", "coverage", "nes_coherence_adjusted", "silhouette_go_wang", "ari_vs_go_ids", "ari_vs_msigdb_names",
               "full_set_share", "go_id_found_share", "go_id_correct_share", "unmatched_renamed_in_builtin",
               "unmatched_absent_from_builtin", "package_go_metrics", "seconds"]
    for part in ("dev", "test"):
        table, errors, examples = {}, [], []
        for r in recs:
            if r["part"] != part or r["metric"].startswith("diff"):
                continue
            key = (r["dataset"], r["input"], r["method"], r["n"])
            table.setdefault(key, {})[r["metric"]] = r["value"]
            if r.get("examples") and r["input"] == "leading edges":
                examples.append(f"- {r['dataset']}: " + "; ".join(r["examples"]))
            if r["metric"] == "error":
                errors.append(f"- {r['dataset']} [{r['input']}] {r['method']}: `{r['error']}`")
        if not table:
            continue
        lines += ["", f"## Per result ({'development' if part == 'dev' else 'test'} part)", "",
                  "| result | input | method | n | " + " | ".join(metrics) + " | error |", "|---|---|---|---|" + "---|" * (len(metrics) + 1)]
        for (ds, kind, meth, n), vals in table.items():
            meth = meth + (" (`post-hoc`)" if meth == DIAG else "")
            lines.append(f"| {ds} | {kind} | {meth} | {n} | " + " | ".join(_cell(vals.get(k), k) for k in metrics)
                         + f" | {'yes' if 'error' in vals else ''} |")
        if errors:
            lines += ["", "Errors:", ""] + sorted(set(errors))
        if examples:
            lines += ["", "MSigDB names this tree does not match to the built-in GO (examples; the built-in GO is older than "
                      "the results' GO, renamed terms, then terms it lacks):", ""] + examples
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("dev", "test", "both"), default="both")
    ap.add_argument("--runner", nargs=2, metavar=("IN", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.runner:
        runner(*args.runner)
        return
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from contrastomics._io import atomic_write
    parts = ("dev", "test") if args.part == "both" else (args.part,)
    path = OUT / f"{NAME}.json"
    old = json.loads(path.read_text())["records"] if path.exists() else []
    recs = [r for r in old if r.get("part") not in parts]
    for part in parts:
        r, units = run_part(part)
        recs += r + differences(part, units)
    recs.sort(key=lambda r: (r["part"] != "dev", r["metric"].startswith("diff")))
    with atomic_write(path) as fh:
        json.dump({"benchmark": NAME, "records": recs}, fh, indent=1)
    with atomic_write(OUT / f"{NAME}.md") as fh:
        fh.write(markdown(recs))
    print(f"wrote {path} ({len(recs)} records)")


if __name__ == "__main__":
    main()
