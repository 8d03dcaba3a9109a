"""Scaling curve of `contrastomics cluster`: wall time and peak memory per stage, joint vs overlap.

    nice -n 10 python benchmarks/cluster_scaling.py            # -> benchmarks/results/cluster_scaling.{json,md,png}
    python benchmarks/cluster_scaling.py --sizes 100 1000 --methods joint   # a quick look

Data: ``n`` = 100, 1,000, 10,000, 100,000 pathways sampled (seed 0) from a pool of 100,000 distinct
gene sets of 5-500 genes (:func:`build_pool`: the built-in GO BP/MF/CC, every shared library - MSigDB,
C2, Reactome, C8, Hallmark, Enrichr with CMAP - then unions of two random pooled sets; ~93,000
distinct texts). No set repeats. The texts of the pool are encoded once before the timed runs
(``text_cache_fill``, reported: the cost a first run on new texts pays, ~200 texts/s here).
Synthetic GSEA result per n (gseapy layout, read by the public reader): NES sign + with
probability 0.6, ``|NES|`` ~ U(1.4, 3.0), FDR ~ U(0, 0.05), leading edge = a random 20-60% of the
set; full sets and descriptions come from a GMT written beside it (``--gmt``), as a user would pass.

Each (method, n) runs in a fresh child process: ``run_clustering(path, gene_sets=gmt)`` exactly as
the CLI calls it (metrics on, layout on), then ``write_outputs`` (TSV, JSON, report.html, PNG).
Stage times come from the run's own ``summary["seconds"]`` (load = read + filter + gene/text views;
embed; graph = kNN or all-pairs overlap; community = Leiden/MCL + small clusters; labels; report =
layout + writing the files; metrics). The parent samples the child's resident memory (VmRSS from
/proc) every 10 ms; a stage's peak is the largest sample inside its time window, the overall peak
is the child's ``ru_maxrss``. "warm" as in issue 5: the gtCLIP model is loaded and the texts are in
the embedding cache before the timed run (the cache fill is timed separately and reported, with the
number of new texts: a cold first run pays it once).

Overlap (EnrichmentMap all-pairs combined coefficient + MCL) is skipped where its pairwise matrix
is predicted to exceed ``--overlap-budget-gb`` (4 GB): the number of pairs sharing a gene is
estimated on a 2,000-pathway sample, x 40 bytes per stored pair (CSR intersection counts, COO
copies, Jaccard/overlap temporaries). Threads: one per process (``OMP_NUM_THREADS=1``,
``torch.set_num_threads(1)``); above 20,000 pathways `joint`'s kNN search forks 2 worker processes
(the 2-core target), whose CPU time and memory are added to the run's (/proc of the process tree).
The recall of `joint`'s kNN graph against the exhaustive search is measured after the timed run on
400 random pathways (n >= 10,000).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402

NAME = "cluster_scaling"
from contrastomics.cluster.graph import PARALLEL_MIN  # noqa: E402  (the kNN search forks workers above it)
TICKS = os.sysconf("SC_CLK_TCK")
SHARED = Path("/work/shared/data")
WORK = ROOT / "benchmarks" / "cache" / "scaling"
STAGES = ("load", "embed", "graph", "community", "labels", "report", "metrics")
#: run_clustering's summary["seconds"] keys, in execution order, and the stage each belongs to
RUN_KEYS = (("prepare", "load"), ("embed", "embed"), ("graph", "graph"), ("partition", "community"),
            ("labels", "labels"), ("layout", "report"), ("metrics", "metrics"))
SHARED_GMTS = ("genesets/msigdb_hs.gmt", "genesets/ReactomePathways_2024-09-18.gmt",
               "genesets/enrichr/Up-regulated_CMAP.gmt", "genesets/enrichr/Down-regulated_CMAP.gmt",
               "genesets/enrichr/CORUM.gmt", "genesets/enrichr/KEGG.gmt", "genesets/enrichr/WikiPathways.gmt",
               "genesets/enrichr/BioCarta.gmt", "genesets/enrichr/OMIM_Disease.gmt",
               "genesets/enrichr/OMIM_Expanded.gmt")


# ---------------------------------------------------------------------- data
#: the shared libraries pooled beside the built-in GO (issue 16: distinct sets, not copies)
SHARED_GMTS = ("genesets/msigdb_hs.gmt", "genesets/c2.all.v7.1.symbols.gmt", "genesets/ReactomePathways_2024-09-18.gmt",
               "genesets/c8.all.v2023.2.Hs.symbols.gmt", "genesets/h.all.v7.1.symbols.gmt")
POOL_SIZE = 100_000


def build_pool(data: Path | None = None, size: int = POOL_SIZE, seed: int = 0) -> list[tuple[str, str, str, list[str]]]:
    """``size`` distinct gene sets (term, name, description, genes), 5-500 genes, no two with the same
    genes: the built-in GO BP/MF/CC, then every shared library (MSigDB, C2, Reactome, C8, Hallmark and
    the Enrichr libraries, CMAP included), then unions of two random pooled sets (a random 500 of
    them when larger; name "A + B") until ``size``. Term ids are ``P000001``... so a run treats the
    result as a generic library (GO ids would trigger the dense GO-semantic metric; see the .md)."""
    from contrastomics.data.builtin import load_library
    from contrastomics.data.genes import species_of_id
    from contrastomics.data.genesets import humanize_term, read_gmt
    data = Path(data or SHARED)
    pool, seen = [], set()

    def add(name, desc, genes):
        # human sets only: some shared libraries (Enrichr CMAP, C8) hold mouse symbols, and a result
        # mixing species is refused by the reader, as it should be
        genes = sorted({g for g in genes if species_of_id(g) != "mouse"})
        key = hash(tuple(genes))
        if not (5 <= len(genes) <= 500) or key in seen:
            return
        seen.add(key)
        pool.append((f"P{len(pool) + 1:06d}", name, desc, genes))

    for lib_name in ("GO_BP", "GO_MF", "GO_CC"):
        lib = load_library(lib_name)
        for i in range(len(lib.terms)):
            add(lib.names[i], " ".join(str(lib.descriptions[i]).split()), lib._genes_row(i))
    gmts = [data / g for g in SHARED_GMTS] + sorted((data / "genesets" / "enrichr").glob("*.gmt"))
    for g in gmts:
        if not g.exists():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib = read_gmt(g, on_duplicate="first")
        for t, genes in zip(lib.terms, lib.gene_sets):
            name = humanize_term(t)
            add(name, name, genes)  # no description in these GMTs: the text is the name
    n_library = len(pool)
    rng = np.random.default_rng(seed)
    while len(pool) < size:
        i, j = rng.integers(0, n_library, 2)
        genes = sorted(set(pool[i][3]) | set(pool[j][3]))
        if len(genes) > 500:
            genes = sorted(rng.choice(genes, 500, replace=False).tolist())
        name = f"{pool[i][1]} + {pool[j][1]}"
        add(name, name, genes)
    return pool[:size]


def write_inputs(pool, n: int, out: Path, seed: int = 0) -> tuple[Path, Path]:
    """Synthetic gseapy-layout result of ``n`` pathways, the GMT of their full sets (column 2 =
    description) and ``names_<n>.tsv`` (term -> display name)."""
    from contrastomics.data.io import atomic_write
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(len(pool)) for _ in range(int(np.ceil(n / len(pool))))])[:n]
    res, gmt, names = out / f"result_{n}.tsv", out / f"sets_{n}.gmt", out / f"names_{n}.tsv"
    rep = {}
    with atomic_write(res) as fr, atomic_write(gmt) as fg, atomic_write(names) as fn:
        fr.write("Term\tES\tNES\tNOM p-val\tFDR q-val\tFWER p-val\tTag %\tGene %\tLead_genes\n")
        for i in order:
            term, name, desc, genes = pool[i]
            rep[i] = rep.get(i, 0) + 1
            term = term if rep[i] == 1 else f"{term}__rep{rep[i]}"
            sign = 1 if rng.random() < 0.6 else -1
            nes = sign * rng.uniform(1.4, 3.0)
            fdr = rng.uniform(0, 0.05)
            k = max(1, int(round(len(genes) * rng.uniform(0.2, 0.6))))
            le = [genes[j] for j in rng.permutation(len(genes))[:k]]
            fr.write(f"{term}\t{nes / 4:.4f}\t{nes:.4f}\t{fdr / 5:.4g}\t{fdr:.4g}\t{fdr:.4g}\t{k}/{len(genes)}\t"
                     f"{k / 20000:.3%}\t{';'.join(le)}\n")
            fg.write(f"{term}\t{desc or 'na'}\t" + "\t".join(genes) + "\n")
            fn.write(f"{term}\t{name}\n")
    return res, gmt


def read_library(gmt: Path):
    """The GMT with display names (what a user passes as ``--gmt``; names make the texts)."""
    from contrastomics.data.genesets import read_gmt
    lib = read_gmt(gmt, on_duplicate="first")
    names = dict(line.rstrip("\n").split("\t", 1) for line in open(gmt.with_name(gmt.name.replace("sets_", "names_")
                                                                                   .replace(".gmt", ".tsv"))))
    lib.names = [names.get(t, t) for t in lib.terms]
    return lib


def overlap_bytes_estimate(gmt: Path, n: int, sample: int = 2000, seed: int = 0) -> float:
    """Predicted peak bytes of the all-pairs overlap matrices for ``n`` sets, from a sample."""
    from contrastomics.data.genesets import read_gmt
    lib = read_gmt(gmt, on_duplicate="first")
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(lib.terms), min(sample, len(lib.terms)), replace=False))
    m = lib.membership[idx].astype(np.float32)
    inter = (m @ m.T).tocsr()
    frac = (inter.nnz - len(idx)) / max(len(idx) * (len(idx) - 1), 1)
    return float(frac * n * n * 40)


# ---------------------------------------------------------------------- child: one timed run
def child(args) -> None:
    import warnings
    warnings.simplefilter("ignore")
    t_start = time.time()
    import torch
    torch.set_num_threads(1)
    from contrastomics.cluster import run_clustering
    from contrastomics.cluster.embed import load_model
    from contrastomics.report.clusters import write_outputs
    marks = {"import": [t_start, time.time()]}
    out: dict = {"method": args.method, "n": args.n}
    model = None
    if args.method in ("joint", "genes", "text"):
        t0 = time.time()
        model = load_model(None)
        marks["model_load"] = [t0, time.time()]
        # warm the text cache (issue 5's "warm" = model loaded, texts cached); timed on its own
        from contrastomics.cluster.api import prepare
        from contrastomics.cluster.embed import _text_cache
        pw = prepare(str(args.result), fdr_cutoff=0.05, gene_sets=read_library(args.gmt))
        cache = _text_cache(model)
        memo = cache._load()
        import hashlib
        new = len({hashlib.sha1(t.encode()).hexdigest() for t in pw.texts} - set(memo))
        t0 = time.time()
        cache.embed(pw.texts)
        marks["text_cache_fill"] = [t0, time.time()]
        from contrastomics.cluster.embed import _set_cache  # the gene tower's library sets, likewise
        t0 = time.time()
        _set_cache(model).embed([b if len(b) else a for a, b in zip(pw.leading_edge, pw.full_sets)])
        marks["geneset_cache_fill"] = [t0, time.time()]
        out["text_cache_new_texts"] = new
        out["distinct_texts"] = len(set(pw.texts))
        del pw
    # warm-up on the first 150 pathways (untimed): the libraries every stage imports (igraph,
    # leidenalg, sklearn, plotly, matplotlib) are loaded, as in any process that clusters twice
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        head = Path(tmp) / "warm.tsv"
        head.write_text("".join(open(args.result).readlines()[:151]))
        t0 = time.time()
        warm = run_clustering(str(head), method=args.method, fdr_cutoff=0.05, gene_sets=read_library(args.gmt),
                              model=model, layout=True, seed=0)
        write_outputs(warm, Path(tmp) / "out", report=True, title="warm-up")
        marks["warm_up"] = [t0, time.time()]
        del warm
    # the timed run starts with reading the user's GMT (part of "load")
    tl = time.time()
    lib = read_library(args.gmt)
    marks["load_library"] = [tl, time.time()]
    t0 = time.time()
    res = run_clustering(str(args.result), method=args.method, fdr_cutoff=0.05, gene_sets=lib, model=model,
                         layout=True, seed=0)
    t1 = time.time()
    cur = t0
    secs = res.summary["seconds"]
    for key, stage in RUN_KEYS:
        if key in secs:
            marks.setdefault(stage, [cur, cur])
            marks[stage] = [marks[stage][0], cur + secs[key]]
            cur += secs[key]
    t2 = time.time()
    write_outputs(res, args.out_dir, report=True, title=f"scaling n={args.n}")
    t3 = time.time()
    marks["report"] = [marks.get("report", [t2, t2])[0], marks.get("report", [t2, t2])[1] + (t3 - t2)]
    marks["write_outputs"] = [t2, t3]
    # reading the GMT is part of loading the user's input
    lo = marks["load_library"][1] - marks["load_library"][0]
    marks["load"] = [tl, marks["load"][1]]
    if args.method == "joint" and args.n >= 10000 and res.space is not None:
        out["knn_recall"] = knn_recall(res.space, res.graph, queries=400)
    out.update({"run_seconds": t1 - tl, "summary_seconds": secs, "marks": marks, "t_run": [tl, t3],
                "n_clusters": int(res.summary.get("metrics", {}).get("n_clusters", -1)),
                "coverage": res.summary.get("metrics", {}).get("coverage"),
                "report_html_bytes": (Path(args.out_dir) / "report.html").stat().st_size})
    Path(args.child_json).write_text(json.dumps(out))


def knn_recall(space, adj, queries: int = 400, seed: int = 0) -> dict:
    """Fraction of the exact ``k`` nearest admissible neighbours (exhaustive joint cosine, with the
    leading-edge gate when the space has one, ``k = default_k(n)``) of ``queries`` random pathways that are neighbours of
    them in the graph the run built (measured after the timed run, not part of it)."""
    from contrastomics.cluster.graph import default_k
    n = len(space)
    k = default_k(n)
    q = np.sort(np.random.default_rng(seed).choice(n, min(queries, n), replace=False))
    s = space.pair_similarity(q)
    s[np.arange(len(q)), q] = -np.inf
    adj = adj.tocsr()
    hits, total = 0, 0
    for i, qi in enumerate(q):
        kk = int(min(k, np.isfinite(s[i]).sum()))
        if kk == 0:
            continue
        top = np.argpartition(-s[i], kk - 1)[:kk]
        hits += int((np.asarray(adj[qi, top].todense()).ravel() > 0).sum())
        total += kk
    return {"recall": hits / max(total, 1), "queries": int(len(q)), "k": int(k), "edges_checked": int(total)}


def run_child(method: str, n: int, result: Path, gmt: Path, timeout: float, env: dict) -> dict:
    js = WORK / f"child_{method}_{n}.json"
    js.unlink(missing_ok=True)
    outdir = WORK / f"out_{method}_{n}"
    cmd = [sys.executable, __file__, "--child", "--method", method, "--n", str(n), "--result", str(result),
           "--gmt", str(gmt), "--out-dir", str(outdir), "--child-json", str(js)]
    logf = WORK / f"child_{method}_{n}.log"
    with open(logf, "w") as lf:
        proc = subprocess.Popen(cmd, env=env, stdout=lf, stderr=subprocess.STDOUT)
    samples = []
    t_begin = time.time()
    timed_out = False
    returncode, ru = None, None
    while True:
        try:
            rss, cpu = _tree_usage(proc.pid)
            samples.append((time.time(), rss, cpu))
        except (FileNotFoundError, ProcessLookupError, StopIteration, IndexError, ValueError):
            pass
        # wait4, not Popen.poll: it also returns the child's resource usage (ru_maxrss)
        pid, st, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            returncode, ru = os.waitstatus_to_exitcode(st), usage
            proc.returncode = returncode
            break
        # the limit is on the child's CPU time: on a loaded machine wall time says little
        cpu_now = samples[-1][2] if samples else 0.0
        if (cpu_now > timeout or time.time() - t_begin > 6 * timeout) and not timed_out:
            proc.kill()
            timed_out = True
        time.sleep(0.01)
    log = logf.read_text(errors="replace")
    rec = {"method": method, "n": n, "wall_s": time.time() - t_begin}
    if ru is not None:
        rec["ru_maxrss_bytes"] = ru.ru_maxrss * 1024
    if timed_out or returncode != 0 or not js.exists():
        rec["failed"] = (f"stopped after {samples[-1][2] if samples else 0:.0f} CPU s (limit {timeout:g} CPU s), "
                         f"{time.time() - t_begin:.0f} s wall; last stage log: {log[-300:]}") if timed_out else \
            f"exit {returncode}: {log[-600:]}"
        if samples:
            rec["peak_rss_bytes"] = max(s[1] for s in samples)
        return rec
    out = json.loads(js.read_text())
    rec.update({k: v for k, v in out.items() if k not in ("marks",)})
    t_arr = np.array([s[0] for s in samples])
    r_arr = np.array([s[1] for s in samples], dtype=float)
    rec["peak_rss_bytes"] = float(r_arr.max()) if len(r_arr) else None
    base_mask = t_arr <= out["t_run"][0]
    rec["baseline_rss_bytes"] = float(r_arr[base_mask][-1]) if base_mask.any() else None
    c_arr = np.array([s[2] for s in samples], dtype=float)
    stage_rec = {}
    for stage, (a, b) in out["marks"].items():
        inwin = (t_arr >= a) & (t_arr <= b + 0.01)
        peak = float(r_arr[inwin].max()) if inwin.any() else (
            float(r_arr[np.searchsorted(t_arr, b).clip(0, len(r_arr) - 1)]) if len(r_arr) else None)
        stage_rec[stage] = {"seconds": b - a, "peak_rss_bytes": peak, "cpu_seconds": _cpu_between(t_arr, c_arr, a, b)}
    rec["stages"] = stage_rec
    rec["end_to_end_s"] = out["t_run"][1] - out["t_run"][0]
    rec["end_to_end_cpu_s"] = _cpu_between(t_arr, c_arr, *out["t_run"])
    rec["loadavg_1min"] = os.getloadavg()[0]
    # peak over the timed run only (the overall ru_maxrss also covers the cache warm-up)
    inrun = (t_arr >= out["t_run"][0]) & (t_arr <= out["t_run"][1] + 0.01)
    rec["run_peak_rss_bytes"] = float(r_arr[inrun].max()) if inrun.any() else None
    return rec


def _proc_usage(pid: int) -> tuple[int, float, float]:
    """(VmRSS bytes, own utime + stime, reaped children's cutime + cstime) of one process, seconds."""
    with open(f"/proc/{pid}/status") as fh:
        rss = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:"))
    with open(f"/proc/{pid}/stat") as fh:
        f = fh.read().rsplit(")", 1)[1].split()
    # fields 14-17 of /proc/PID/stat: utime, stime, cutime, cstime (clock ticks)
    return rss, (int(f[11]) + int(f[12])) / TICKS, (int(f[13]) + int(f[14])) / TICKS


def _tree_usage(pid: int) -> tuple[int, float]:
    """Resident memory and CPU seconds of a process and its live child processes (the kNN search
    forks worker processes at large n): RSS summed over the tree (pages shared copy-on-write are
    counted once per process, so this over-states the memory in use), CPU = own + children reaped
    so far + live children."""
    rss, cpu, reaped = _proc_usage(pid)
    total_rss, total_cpu = rss, cpu + reaped
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            kids = [int(c) for c in fh.read().split()]
    except OSError:
        kids = []
    for c in kids:
        try:
            r, u, _ = _proc_usage(c)
        except (OSError, StopIteration, IndexError, ValueError):
            continue
        total_rss += r
        total_cpu += u
    return total_rss, total_cpu


def _cpu_between(t_arr, c_arr, a, b) -> float | None:
    """CPU seconds the child used between times ``a`` and ``b`` (interpolated /proc samples)."""
    if len(t_arr) < 2:
        return None
    return float(np.interp(b, t_arr, c_arr) - np.interp(a, t_arr, c_arr))


def records_of(runs: list[dict]) -> list[dict]:
    recs = []
    for r in runs:
        base = {"dataset": f"synthetic-{r['n']}", "split": "all", "method": r["method"], "n": r["n"], "seeds": [0],
                "threads": 1}
        if "failed" in r or "skipped" in r:
            recs.append({**base, "metric": "status", "value": None, "note": r.get("failed") or r.get("skipped"),
                         **({"predicted_bytes": r["predicted_bytes"]} if "predicted_bytes" in r else {})})
            continue
        recs.append({**base, "metric": "end_to_end_seconds", "value": r["end_to_end_s"],
                     "loadavg_1min": r.get("loadavg_1min")})
        recs.append({**base, "metric": "end_to_end_cpu_seconds", "value": r.get("end_to_end_cpu_s")})
        recs.append({**base, "metric": "run_peak_rss_gb", "value": (r.get("run_peak_rss_bytes") or 0) / 1e9})
        recs.append({**base, "metric": "process_max_rss_gb", "value": (r.get("ru_maxrss_bytes") or 0) / 1e9})
        recs.append({**base, "metric": "n_clusters", "value": r.get("n_clusters")})
        if r.get("knn_recall"):
            kr = r["knn_recall"]
            recs.append({**base, "metric": "knn_recall", "value": kr["recall"], "queries": kr["queries"],
                         "k": kr["k"], "edges_checked": kr["edges_checked"]})
        for st in STAGES + ("model_load", "text_cache_fill", "geneset_cache_fill"):
            s = r["stages"].get(st)
            if s:
                recs.append({**base, "metric": f"{st}_seconds", "value": s["seconds"]})
                recs.append({**base, "metric": f"{st}_cpu_seconds", "value": s.get("cpu_seconds")})
                if s["peak_rss_bytes"] is not None:
                    recs.append({**base, "metric": f"{st}_peak_rss_gb", "value": s["peak_rss_bytes"] / 1e9})
        if "text_cache_new_texts" in r:
            recs.append({**base, "metric": "text_cache_new_texts", "value": r["text_cache_new_texts"]})
    return recs


#: what makes a stage expensive (code paths: src/contrastomics/cluster/*, report/clusters.py)
WHY = {
    "report": "writing clusters.tsv / clusters.json / report.html (plotly.js inlined; one trace per cluster up to "
              "5,000 pathways, a few WebGL traces above) and clusters.png, plus the 2-D map "
              "(`cluster/layout.py`: discs pushed apart among near pairs only); at small n mostly the fixed cost of "
              "rendering the HTML/PNG",
    ("joint", "graph"): "`graph.knn_from_embedding` (no leading-edge gate since the v2 default): exhaustive joint "
                        "cosine in row blocks up to 20,000 pathways; above, an inverted file over k-means cells of a "
                        "sketch of the joint space, ~2 sqrt(cells) cells probed per cell, exact joint cosine of every "
                        "candidate, in forked workers; cost ~ n^1.5",
    ("overlap", "graph"): "the all-pairs combined coefficient of EnrichmentMap over every pair of full gene sets "
                          "that share a gene (sparse, but the pairs grow as n^2)",
    "community": "`communities.leiden_auto` searches the resolution (secant steps; 2-5 one-pass Leiden runs on "
                 "the kNN graph, ~n x 15 edges), then small clusters are attached",
    "graph": "the neighbour graph",
    "load": "reading the result and the GMT, filtering, and building gene lists and sparse memberships "
            "(`data/gsea.py`, `data/genesets.py`, `cluster/api.py::prepare`)",
}


def _stage_time(r: dict, stage: str, cpu: bool = True):
    st = r.get("stages", {}).get(stage)
    if not st:
        return None
    v = st.get("cpu_seconds") if cpu else st["seconds"]
    return st["seconds"] if v is None else v


def dominant(r: dict) -> str:
    st = {k: _stage_time(r, k) for k in STAGES if _stage_time(r, k) is not None}
    if not st:
        return "-"
    k = max(st, key=st.get)
    return f"{k} ({st[k] / max(sum(st.values()), 1e-9):.0%})"


def _g(v, nd=2):
    return "-" if v is None else f"{v:.{nd}f}"


def markdown(runs: list[dict], meta: dict) -> str:
    L = [f"# {NAME}: time and memory per stage, `joint` vs `overlap`", ""]
    if not meta.get("finished"):
        L += ["**PARTIAL RUN**: only the runs finished so far.", ""]
    L += [f"`python benchmarks/cluster_scaling.py` ({meta.get('finished_utc') or 'partial'} UTC). Pool: "
          f"{meta['pool_size']:,} distinct gene sets (5-500 genes; built-in GO, the shared MSigDB / C2 / Reactome / "
          "C8 / Hallmark / Enrichr libraries incl. CMAP, then unions of two random sets; see the script's "
          "docstring), sampled without replacement; synthetic NES/FDR/leading edges (seed 0); FDR < 0.05 keeps all; full sets and "
          "descriptions from a GMT passed as `gene_sets` (as `--gmt`). Each run is a fresh process calling "
          "`run_clustering` as the CLI does (metrics and layout on) and then `write_outputs` (TSV, JSON, "
          "report.html, PNG). Warm (issue 5's definition): the model is loaded, the texts are in the embedding "
          "cache, and one untimed warm-up run on the first 150 pathways has loaded the libraries each stage "
          "imports (igraph, leidenalg, scikit-learn, plotly, matplotlib); a cold first process pays ~5-10 CPU s of "
          "imports on top.", "",
          "**Times.** One BLAS/OMP/torch thread per process; the kNN search forks 2 worker processes at "
          "n > 20,000 (`graph.knn_from_embedding`), everything else runs in one process. The machine has 2 cores shared "
          "with other jobs (1-minute load average beside each run), so wall-clock times are inflated and noisy. "
          "**CPU seconds** (utime + stime of the process and its worker processes, from /proc, sampled every "
          "10 ms and integrated over each stage's window) are what dedicated cores need; `idle 2-core s` = CPU s "
          "minus half of the graph stage's CPU s (the only stage that uses both cores) is the wall time to "
          "expect on an idle 2-core machine (an estimate, not a measurement). Memory = resident set size of "
          "the process plus its live worker processes (Python, torch, the model and libraries included; pages "
          "the forked workers share with the parent are counted twice, so this over-states), largest 10-ms "
          "sample in the window.", "",
          "| n | method | end-to-end CPU s | idle 2-core s (est.) | wall s (load avg) | peak RSS GB | clusters | "
          "dominant stage (CPU) |",
          "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        if "failed" in r or "skipped" in r:
            L.append(f"| {r['n']:,} | {r['method']} | **{'not run' if 'skipped' in r else 'failed'}**: "
                     f"{(r.get('skipped') or r.get('failed'))[:200]} |  |  |  |  |")
            continue
        idle = None if r.get("end_to_end_cpu_s") is None else r["end_to_end_cpu_s"] - (
            (_stage_time(r, "graph") or 0.0) / 2 if r["n"] > PARALLEL_MIN else 0.0)
        L.append(f"| {r['n']:,} | {r['method']} | {_g(r.get('end_to_end_cpu_s'))} | {_g(idle, 1)} | {r['end_to_end_s']:.2f} "
                 f"({_g(r.get('loadavg_1min'), 1)}) | {(r.get('run_peak_rss_bytes') or 0) / 1e9:.2f} | "
                 f"{r.get('n_clusters')} | {dominant(r)} |")
    rec_rows = [r for r in runs if r.get("knn_recall")]
    if rec_rows:
        L += ["", "**kNN recall** (`joint`, no leading-edge gate since the v2 default): up to 20,000 pathways the "
              "search is exhaustive (row blocks); above, an inverted file over k-means cells of a sketch of the joint "
              "space (~2 sqrt(cells) cells probed per cell, forked workers; `graph.ivf_candidates`), every candidate "
              "scored with the exact joint cosine; recall = fraction of the exact k nearest neighbours (exhaustive "
              "joint cosine) of random query pathways that are neighbours in the graph: " + "; ".join(
                  f"n = {r['n']:,}: {r['knn_recall']['recall']:.3f} ({r['knn_recall']['queries']} queries, "
                  f"k = {r['knn_recall']['k']})" for r in rec_rows) + "."]
    big = [r for r in runs if r["n"] >= 100000 and r["method"] == "joint" and "stages" in r]
    for r in big:
        idle = r["end_to_end_cpu_s"] - (_stage_time(r, "graph") or 0.0) / 2
        gb = (r.get("run_peak_rss_bytes") or 0) / 1e9
        L += ["", f"**Target (issue 6): 100,000 pathways end-to-end in < 60 s and < 4 GB on 2 cores.** Measured: "
              f"{r['end_to_end_cpu_s']:.0f} CPU s, estimated {idle:.0f} s on an idle 2-core machine "
              f"({'met' if idle < 60 else 'NOT met'}), {r['end_to_end_s']:.0f} s wall on this shared machine "
              f"(load {r.get('loadavg_1min', 0):.1f}); peak memory {gb:.2f} GB ({'met' if gb < 4 else 'NOT met'})."]
    L += ["", "CPU seconds per stage (wall seconds in brackets). load = read result + GMT, filter, gene/text "
          "views; embed = gtCLIP towers (joint only); graph = kNN search (joint) or all-pairs combined "
          "coefficient (overlap); community = Leiden with automatic resolution + small clusters (joint) or MCL "
          "(overlap); labels = representatives + c-TF-IDF keywords; report = 2-D layout + writing TSV/JSON/"
          "HTML/PNG; metrics = cluster metrics in the summary.", "",
          "| n | method | " + " | ".join(STAGES) + " |", "|---|---|" + "---|" * len(STAGES)]
    for r in runs:
        if "stages" in r:
            L.append(f"| {r['n']:,} | {r['method']} | " + " | ".join(
                f"{_g(_stage_time(r, s))} ({_g(_stage_time(r, s, cpu=False), 1)})" if s in r["stages"] else "-"
                for s in STAGES) + " |")
    L += ["", "Peak resident memory per stage (GB):", "",
          "| n | method | " + " | ".join(STAGES) + " |", "|---|---|" + "---|" * len(STAGES)]
    for r in runs:
        if "stages" in r:
            L.append(f"| {r['n']:,} | {r['method']} | " + " | ".join(
                f"{r['stages'][s]['peak_rss_bytes'] / 1e9:.2f}" if s in r["stages"] and r["stages"][s]["peak_rss_bytes"]
                else "-" for s in STAGES) + " |")
    L += ["", "Side by side (same run of the script):", "",
          "| n | joint CPU s | overlap CPU s | overlap / joint | joint GB | overlap GB |", "|---|---|---|---|---|---|"]
    by = {(r["method"], r["n"]): r for r in runs}
    for n in sorted({r["n"] for r in runs}):
        j, o = by.get(("joint", n)), by.get(("overlap", n))
        tj = j.get("end_to_end_cpu_s") if j and "stages" in j else None
        to = o.get("end_to_end_cpu_s") if o and "stages" in o else None
        gj = (j.get("run_peak_rss_bytes") or 0) / 1e9 if j and "stages" in j else None
        go = (o.get("run_peak_rss_bytes") or 0) / 1e9 if o and "stages" in o else None
        ratio = f"{to / tj:.2f}x" if to and tj else ("not run (over the memory budget)" if o and "skipped" in o
                                                     else ("failed" if o and "failed" in o else "-"))
        L.append(f"| {n:,} | {_g(tj)} | {_g(to)} | {ratio} | {_g(gj)} | {_g(go)} |")
    L += ["", "**Dominant stage at each n** (largest CPU share; the reason is what that stage does at that size):", ""]
    for r in runs:
        if "stages" in r:
            st = dominant(r).split(" (")[0]
            L.append(f"- n = {r['n']:,}, {r['method']}: **{dominant(r)}**: {WHY.get((r['method'], st), WHY.get(st, ''))}")
        elif "skipped" in r:
            L.append(f"- n = {r['n']:,}, {r['method']}: not run ({r['skipped']}).")
    warm = [r for r in runs if r.get("method") == "joint" and "stages" in r and "text_cache_fill" in r["stages"]]
    if warm:
        L += ["", "Before each timed joint run (not part of end-to-end): model load and text-cache warm-up.", "",
              "| n | distinct texts | new texts embedded | warm-up CPU s | model load CPU s |", "|---|---|---|---|---|"]
        for r in warm:
            L.append(f"| {r['n']:,} | {r.get('distinct_texts')} | {r.get('text_cache_new_texts')} | "
                     f"{_g(_stage_time(r, 'text_cache_fill'), 1)} | {_g(_stage_time(r, 'model_load'), 1)} |")
    if meta.get("notes"):
        L += ["", meta["notes"]]
    L.append("")
    return "\n".join(L)


def plot(runs: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from contrastomics.data.io import atomic_path
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), dpi=110)
    colors = dict(zip(STAGES, plt.cm.tab10.colors))
    for method, ls in (("joint", "-"), ("overlap", "--")):
        rs = sorted([r for r in runs if r["method"] == method and "stages" in r], key=lambda r: r["n"])
        if not rs:
            continue
        ns = [r["n"] for r in rs]
        axes[0].plot(ns, [r.get("end_to_end_cpu_s") or np.nan for r in rs], ls, marker="o", color="k", lw=2,
                     label=f"{method} end-to-end CPU s")
        axes[0].plot(ns, [r.get("end_to_end_s") or np.nan for r in rs], ls, marker="s", color="0.5", lw=1.5,
                     label=f"{method} end-to-end wall s (2 cores)")
        for s in STAGES:
            ys = [_stage_time(r, s) if _stage_time(r, s) else np.nan for r in rs]
            if np.isfinite(ys).any():
                axes[0].plot(ns, ys, ls, marker=".", color=colors[s], alpha=0.85, label=f"{method} {s}")
        axes[1].plot(ns, [(r.get("run_peak_rss_bytes") or np.nan) / 1e9 for r in rs], ls, marker="o", label=method)
    axes[0].axhline(60, color="r", lw=0.8, ls=":")
    axes[0].set(xscale="log", yscale="log", xlabel="pathways", ylabel="seconds (stages: CPU s, process + workers)",
                title="time per stage (solid: joint, dashed: overlap); red: 60 s wall target")
    axes[0].legend(fontsize=6, ncol=2)
    axes[1].axhline(4, color="r", lw=0.8, ls=":")
    axes[1].set(xscale="log", xlabel="pathways", ylabel="GB", title="peak resident memory; red: 4 GB target")
    axes[1].legend(fontsize=8)
    js = [r for r in runs if r["method"] == "joint" and "stages" in r]
    if js:
        big = max(js, key=lambda r: r["n"])
        vals = [_stage_time(big, s) or 0 for s in STAGES]
        axes[2].barh(list(STAGES), vals, color=[colors[s] for s in STAGES])
        axes[2].invert_yaxis()
        axes[2].set(xlabel="CPU seconds", title=f"joint, n = {big['n']:,}: where the time goes")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000, 100000])
    ap.add_argument("--methods", nargs="+", default=["joint", "overlap"])
    ap.add_argument("--overlap-budget-gb", type=float, default=4.0)
    ap.add_argument("--timeout", type=float, default=300.0,
                    help="CPU seconds per child run (wall limit: 6x); 5x the 60 s target")
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / NAME)
    ap.add_argument("--render", action="store_true", help="only re-write the .md/.png from the .json")
    ap.add_argument("--fresh", action="store_true", help="re-run every (method, n), not only the missing ones")
    # child mode
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--method", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--gmt", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out-dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--child-json", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args)
        return
    from contrastomics.data.io import atomic_write
    if args.render:
        payload = json.loads(args.out.with_suffix(".json").read_text())
        with atomic_write(args.out.with_suffix(".md")) as fh:
            fh.write(markdown(payload["runs"], payload["meta"]))
        plot(payload["runs"], args.out.with_suffix(".png"))
        return
    t_all = time.time()
    WORK.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # a cache of its own, so the 100k texts do not bloat the user's text cache; the built-in
    # libraries (parsed GO etc.) are linked in from the default cache when present
    cache = WORK / "contrastomics_cache"
    cache.mkdir(parents=True, exist_ok=True)
    home_builtin = Path(os.environ.get("CONTRASTOMICS_CACHE") or Path.home() / ".cache" / "contrastomics") / "builtin"
    for sub in ("builtin", "text"):  # parsed libraries; base text-encoder vectors (SQLite, shared safely)
        src = home_builtin.parent / sub
        if src.is_dir() and not (cache / sub).exists():
            (cache / sub).symlink_to(src)
    env["CONTRASTOMICS_CACHE"] = str(cache)
    pool = build_pool(args.data)
    print(f"pool: {len(pool):,} distinct gene sets ({time.time() - t_all:.0f} s)", flush=True)
    runs: list[dict] = []
    meta = {"pool_size": len(pool), "finished": False, "threads": 1,
            "notes": ""}

    def save(final=False):
        meta["finished"] = final
        meta["finished_utc"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime()) if final else None
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(args.out.with_suffix(".json")) as fh:
            json.dump({"benchmark": NAME, "records": records_of(runs), "runs": runs, "meta": meta}, fh, indent=1)
        with atomic_write(args.out.with_suffix(".md")) as fh:
            fh.write(markdown(runs, meta))
        if any("stages" in r for r in runs):
            plot(runs, args.out.with_suffix(".png"))

    old = {}
    if not args.fresh and args.out.with_suffix(".json").exists():
        # keep finished runs of an earlier invocation (the machine is shared: runs are expensive)
        old = {(r["method"], r["n"]): r for r in json.loads(args.out.with_suffix(".json").read_text())["runs"]
               if "stages" in r}
    for n in args.sizes:
        result, gmt = WORK / f"result_{n}.tsv", WORK / f"sets_{n}.gmt"
        if args.fresh or not (result.exists() and gmt.exists()):  # --fresh: inputs from the current pool
            result, gmt = write_inputs(pool, n, WORK)
        for method in args.methods:
            if (method, n) in old:
                runs.append(old[(method, n)])
                print(f"n={n} {method}: kept from the previous run", flush=True)
                continue
            if method == "overlap":
                need = overlap_bytes_estimate(gmt, n)
                if need > args.overlap_budget_gb * 1e9:
                    runs.append({"method": method, "n": n, "predicted_bytes": need,
                                 "skipped": f"all-pairs overlap predicted {need / 1e9:.0f} GB > budget "
                                            f"{args.overlap_budget_gb:g} GB"})
                    print(f"n={n} {method}: skipped ({runs[-1]['skipped']})", flush=True)
                    save()
                    continue
            rec = run_child(method, n, result, gmt, args.timeout, env)
            runs.append(rec)
            if "failed" in rec:
                print(f"n={n} {method}: FAILED {rec['failed'][:300]}", flush=True)
            else:
                st = {k: round(v["seconds"], 2) for k, v in rec["stages"].items()}
                print(f"n={n} {method}: {rec['end_to_end_s']:.1f} s end-to-end, run peak "
                      f"{(rec.get('run_peak_rss_bytes') or 0) / 1e9:.2f} GB; {st}", flush=True)
            save()
    save(final=True)
    print(f"done in {time.time() - t_all:.0f} s -> {args.out.with_suffix('.md')}", flush=True)


if __name__ == "__main__":
    main()
