"""Scaling of the cluster map of `contrastomics cluster`: the 2-D layout (cluster/layout.py) and the
report writing (report/clusters.py: TSV, JSON, report.html, clusters.png), up to 100,000 pathways.

    nice -n 10 python benchmarks/cluster_map_scaling.py                 # -> benchmarks/results/cluster_map_scaling.{json,md}
    python benchmarks/cluster_map_scaling.py --sizes 1000 10000 \\
        --baseline-layout OLD/layout.py --baseline-report OLD/clusters.py   # also time earlier versions of the two files

Data (synthetic, seed 0): ``n`` pathways with 256-d unit vectors; cluster sizes 1 + geometric (mean
~19, as Leiden gives at ~n/20 clusters), 5% singletons; cluster centroids lie near an 8-d subspace plus
noise and members scatter around their centroid, so the PCA the layout starts from has structure to
keep. Clusters are numbered by size and singletons come after, as ``order_labels`` does. The report
input is a ClusterResult built from these labels and the layout's coordinates, with synthetic names
(~40 characters), terms, NES (sign + with probability 0.6), FDR ~ U(1e-4, 0.05) and 5-40 leading-edge
genes per pathway.

Metrics. ``cpu_seconds``: CPU time of the process (one BLAS thread) for ``cluster_layout`` or for
``write_outputs`` (all files); the report's parts are timed separately too. ``min_gap_ratio``: the
smallest edge-to-edge distance between two discs divided by the requested gap (>= 1: no overlaps).
``members_inside``: 1 if every pathway lies inside its cluster's disc. ``knn_preservation@10``: for
each cluster with >= 2 members (up to 2,000, evenly spaced ids), the share of its 10 nearest discs on
the map that are among its 10 nearest cluster centroids by cosine in the 256-d space; the baseline
``random placement`` shuffles the disc centres. ``file_mb``: size of each output file.
"""
from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

NAME = "cluster_map_scaling"
OUT = ROOT / "benchmarks" / "results"


# ---------------------------------------------------------------------- data
def synthetic_labels(n: int, d: int = 256, frac_single: float = 0.05, mean_size: float = 19.0, seed: int = 0):
    """Labels (clusters by size, singletons after) and unit vectors ``(n, d)`` float32."""
    rng = np.random.default_rng(seed)
    n_single = int(n * frac_single)
    sizes, left = [], n - n_single
    while left > 0:
        s = min(int(rng.geometric(1 / (mean_size - 1))) + 1, left)
        if left - s == 1:
            s += 1
        sizes.append(s)
        left -= s
    sizes = np.sort(np.array(sizes))[::-1]
    k = len(sizes)
    labels = np.concatenate([np.repeat(np.arange(k), sizes), k + np.arange(n_single)])
    cent = rng.normal(size=(k + n_single, 8)) @ rng.normal(size=(8, d)) + 0.5 * rng.normal(size=(k + n_single, d))
    x = cent[labels] + 0.7 * rng.normal(size=(n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    perm = rng.permutation(n)
    return labels[perm], x[perm].astype(np.float32)


def synthetic_result(labels: np.ndarray, coords: np.ndarray, seed: int = 0):
    """A ClusterResult with the table/cluster columns the pipeline writes."""
    from contrastomics.cluster.api import ClusterResult
    rng = np.random.default_rng(seed)
    n = len(labels)
    words = np.array("signalling regulation transport metabolic process immune response cell cycle kinase "
                     "receptor membrane mitochondrial ribosome synthesis development apoptosis".split())
    names = [" ".join(rng.choice(words, 4)) + f" {i}" for i in range(n)]
    nes = np.where(rng.random(n) < 0.6, 1, -1) * rng.uniform(1.4, 3.0, n)
    fdr = rng.uniform(1e-4, 0.05, n)
    genes = [",".join(f"G{g}" for g in rng.integers(0, 20000, rng.integers(5, 41))) for _ in range(n)]
    t = pd.DataFrame({"cluster": labels, "term": [f"SYN{i:07d}" for i in range(n)], "name": names, "nes": nes,
                      "fdr": fdr, "es": nes / 4, "pvalue": fdr / 5, "size": rng.integers(10, 500, n),
                      "direction": np.sign(nes).astype(int), "leading_edge_genes": genes,
                      "x": np.round(coords[:, 0], 5), "y": np.round(coords[:, 1], 5)})
    t["n_leading_edge"] = t["leading_edge_genes"].str.count(",") + 1
    t = t.sort_values(["cluster", "fdr"], kind="stable").reset_index(drop=True)
    t["representative"] = ~t["cluster"].duplicated()
    sizes = np.bincount(t["cluster"])
    t["cluster_size"] = sizes[t["cluster"]]
    first = t[t["representative"]].set_index("cluster")
    t["cluster_label"] = t["cluster"].map(first["name"])
    t["cluster_keywords"] = "signalling, kinase, receptor"
    g = t.groupby("cluster")
    clusters = pd.DataFrame({
        "cluster": np.arange(len(sizes)), "size": sizes, "label": first["name"].to_numpy(),
        "representative_term": first["term"].to_numpy(), "keywords": "signalling, kinase, receptor",
        "top_genes": "G1, G2, G3", "n_up": g["nes"].agg(lambda v: int((v > 0).sum())).to_numpy(),
        "n_down": g["nes"].agg(lambda v: int((v < 0).sum())).to_numpy(), "mean_nes": g["nes"].mean().to_numpy(),
        "min_fdr": g["fdr"].min().to_numpy(), "singleton": sizes == 1})
    summary = {"method": "synthetic", "model": None, "n_significant": n, "fdr_cutoff": 0.05, "conditions": [],
               "notes": [], "metrics": {"n_clusters": int((sizes > 1).sum()), "n_singletons": int((sizes == 1).sum())}}
    return ClusterResult(t, clusters, summary, None, None)


# ---------------------------------------------------------------------- metrics
def knn_preservation(centres: np.ndarray, cent_vec: np.ndarray, real: np.ndarray, k: int = 10,
                     max_query: int = 2000) -> float:
    """Share of each queried disc's ``k`` nearest discs on the map that are among its ``k`` nearest
    centroids by cosine (all discs, singletons included, are candidates)."""
    from scipy.spatial import cKDTree
    q = real[np.linspace(0, len(real) - 1, min(max_query, len(real))).astype(int)]
    _, near_map = cKDTree(centres).query(centres[q], k + 1)
    u = cent_vec / np.maximum(np.linalg.norm(cent_vec, axis=1, keepdims=True), 1e-12)
    sim = u[q] @ u.T
    sim[np.arange(len(q)), q] = -np.inf
    near_vec = np.argpartition(-sim, k, axis=1)[:, :k]
    hits = [len(set(a[1:]) & set(b)) / k for a, b in zip(near_map, near_vec)]
    return float(np.mean(hits))


def layout_quality(labels, x, centres, radii, gap, coords) -> dict:
    import scipy.sparse as sp
    from contrastomics.cluster.layout import near_pairs
    _, inv, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    i, j = near_pairs(centres, radii, gap * 3)
    edge = np.hypot(*(centres[i] - centres[j]).T) - radii[i] - radii[j]
    inside = np.hypot(*(coords - centres[inv]).T) <= radii[inv] + 1e-9
    onehot = sp.csr_matrix((np.ones(len(labels)), (np.arange(len(labels)), inv)), shape=(len(labels), len(sizes)))
    cent = np.asarray(onehot.T @ np.asarray(x, np.float64)) / sizes[:, None]
    real = np.flatnonzero(sizes >= 2)
    rng = np.random.default_rng(0)
    return {"min_gap_ratio": float(edge.min() / gap) if len(edge) else float("inf"),
            "members_inside": float(inside.all()),
            "knn_preservation@10": knn_preservation(centres, cent, real),
            "knn_preservation@10 (random placement)": knn_preservation(centres[rng.permutation(len(centres))], cent, real)}


def load_module(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cpu_time(fn, *args, **kw):
    t, w = time.process_time(), time.time()
    out = fn(*args, **kw)
    return out, time.process_time() - t, time.time() - w


# ---------------------------------------------------------------------- runs
def run_size(n: int, args, records: list, notes: list) -> None:
    from threadpoolctl import threadpool_limits
    from contrastomics.cluster.layout import layout_discs
    import contrastomics.report.clusters as report
    labels, x = synthetic_labels(n)
    k = len(np.unique(labels))
    base = dict(dataset="synthetic", split="none", n=n, discs=k, seeds=1)
    with threadpool_limits(1, "blas"):
        (coords, centres, radii, gap), cpu, wall = cpu_time(layout_discs, labels, x)
        records.append(dict(base, method="layout (current)", metric="cpu_seconds", value=round(cpu, 3),
                            wall_seconds=round(wall, 3)))
        for m, v in layout_quality(labels, x, centres, radii, gap, coords).items():
            method = "random placement" if "random" in m else "layout (current)"
            records.append(dict(base, method=method, metric=m.replace(" (random placement)", ""), value=round(v, 4)))
        if args.baseline_layout and n <= args.baseline_max_n:
            old = load_module(args.baseline_layout, "contrastomics.cluster._baseline_layout")
            old_xy, cpu, wall = cpu_time(old.cluster_layout, labels, x)
            records.append(dict(base, method="layout (baseline file)", metric="cpu_seconds", value=round(cpu, 3),
                                wall_seconds=round(wall, 3)))
            # disc centres of the old map: each cluster's coordinate mean is its disc centre up to the
            # members' PCA offsets (centred per cluster), so the mean is the centre
            _, inv = np.unique(labels, return_inverse=True)
            cnt = np.bincount(inv)
            oc = np.column_stack([np.bincount(inv, old_xy[:, 0]), np.bincount(inv, old_xy[:, 1])]) / cnt[:, None]
            import scipy.sparse as sp
            onehot = sp.csr_matrix((np.ones(n), (np.arange(n), inv)), shape=(n, len(cnt)))
            cent = np.asarray(onehot.T @ np.asarray(x, np.float64)) / cnt[:, None]
            records.append(dict(base, method="layout (baseline file)", metric="knn_preservation@10",
                                value=round(knn_preservation(oc, cent, np.flatnonzero(cnt >= 2)), 4)))
        elif args.baseline_layout:
            notes.append(f"n = {n:,}: baseline layout not run (its all-pairs relaxation holds {k:,} x {k:,} "
                         f"arrays: ~{k * k * 8 * 6 / 1e9:.1f} GB and ~{(k / 957) ** 2 * 23:.0f} CPU s by the "
                         "n = 10,000 timing scaled by K^2)")
        if args.save:
            write_results(records, notes, args)
        res = synthetic_result(labels, coords)
        mods = [("current", report)]
        if args.baseline_report and n <= args.baseline_report_max_n:
            mods.append(("baseline file", load_module(args.baseline_report, "contrastomics.report._baseline_clusters")))
        elif args.baseline_report:
            notes.append(f"n = {n:,}: baseline report not run (above --baseline-report-max-n)")
        for tag, mod in mods:
            parts = {}
            for part, fn, a in (("tsv", mod.tsv_text, (res.table,)),
                                ("json", mod.json_text, (res.table, res.clusters, res.summary)),
                                ("html", mod.html_text, (res.table, res.clusters, res.summary)),
                                ("png", mod.png_bytes, (res.table, res.clusters))):
                _, parts[part], _ = cpu_time(fn, *a)
            out = Path(args.work) / f"{NAME}_{n}_{tag.replace(' ', '_')}"
            _, cpu, wall = cpu_time(mod.write_outputs, res, out)
            method = f"report ({tag})"
            records.append(dict(base, method=method, metric="cpu_seconds", value=round(cpu, 3), wall_seconds=round(wall, 3),
                                **{f"{p}_cpu_seconds": round(v, 3) for p, v in parts.items()}))
            for f in sorted(out.iterdir()):
                records.append(dict(base, method=method, metric="file_mb", file=f.name, value=round(f.stat().st_size / 1e6, 3)))
            if args.save:  # incremental: a partial run leaves usable output
                write_results(records, notes, args)
    print(f"n={n:,}: done", flush=True)


def write_results(records: list, notes: list, args) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{NAME}.json").write_text(json.dumps({"benchmark": NAME, "records": records}, indent=1))
    df = pd.DataFrame(records)
    lines = [f"# {NAME}: 2-D cluster map layout and report writing, 1,000 to 100,000 pathways", "",
             f"`python benchmarks/{NAME}.py {' '.join(sys.argv[1:])}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).",
             "", __doc__.split("\n\n", 2)[2].strip(), "",
             "One process, one BLAS thread, warm imports (plotly, matplotlib and scipy.spatial are imported "
             "by a first untimed n = 1,000 pass), on a 2-core machine shared with other jobs: CPU seconds are "
             "the numbers to compare, wall seconds beside them are inflated by the load. 'baseline file' rows "
             "time the previous versions of layout.py / clusters.py passed on the command line (the versions "
             "before this change: all-pairs disc relaxation; one plotly trace per cluster) on the same input.",
             ""]
    lay = df[df["method"].str.startswith("layout") | (df["method"] == "random placement")]
    lines += ["## Layout", "", "| n | discs | method | CPU s | wall s | min gap / gap | members inside | kNN preservation@10 |",
              "|---|---|---|---|---|---|---|---|"]
    for (n, method), g in lay.groupby(["n", "method"], sort=True):
        v = dict(zip(g["metric"], g["value"]))
        w = g.loc[g["metric"] == "cpu_seconds", "wall_seconds"]
        lines.append(f"| {n:,} | {int(g['discs'].iloc[0]):,} | {method} | {v.get('cpu_seconds', '-')} | "
                     f"{w.iloc[0] if len(w) else '-'} | {v.get('min_gap_ratio', '-')} | {v.get('members_inside', '-')} | "
                     f"{v.get('knn_preservation@10', '-')} |")
    rep = df[df["method"].str.startswith("report")]
    lines += ["", "## Report writing (`write_outputs`: clusters.tsv, clusters.json, summary, report.html, clusters.png)", "",
              "| n | method | CPU s | wall s | tsv / json / html / png CPU s | report.html MB | clusters.json MB | clusters.tsv MB | clusters.png MB |",
              "|---|---|---|---|---|---|---|---|---|"]
    for (n, method), g in rep.groupby(["n", "method"], sort=True):
        t = g[g["metric"] == "cpu_seconds"].iloc[0]
        mb = dict(zip(g.loc[g["metric"] == "file_mb", "file"], g.loc[g["metric"] == "file_mb", "value"]))
        lines.append(f"| {n:,} | {method} | {t['value']} | {t['wall_seconds']} | {t['tsv_cpu_seconds']} / "
                     f"{t['json_cpu_seconds']} / {t['html_cpu_seconds']} / {t['png_cpu_seconds']} | "
                     f"{mb.get('report.html', '-')} | {mb.get('clusters.json', '-')} | {mb.get('clusters.tsv', '-')} | "
                     f"{mb.get('clusters.png', '-')} |")
    if notes:
        lines += ["", "Not run:", ""] + [f"- {x}" for x in notes]
    (OUT / f"{NAME}.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--baseline-layout", help="an earlier cluster/layout.py to time beside the current one")
    ap.add_argument("--baseline-report", help="an earlier report/clusters.py to time beside the current one")
    ap.add_argument("--baseline-max-n", type=int, default=10000, help="largest n for the baseline layout")
    ap.add_argument("--baseline-report-max-n", type=int, default=100000)
    ap.add_argument("--work", default="/tmp", help="folder for the written reports")
    args = ap.parse_args()
    # untimed warm-up: imports of plotly, matplotlib, scipy.spatial
    warm = argparse.Namespace(**{**vars(args), "baseline_layout": None, "baseline_report": None, "save": False})
    with redirect_stdout(io.StringIO()):
        run_size(1000, warm, [], [])
    records, notes = [], []
    args.save = True
    for n in args.sizes:
        run_size(n, args, records, notes)
    write_results(records, notes, args)


if __name__ == "__main__":
    main()
