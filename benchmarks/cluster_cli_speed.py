"""Wall time of `contrastomics cluster` as a user feels it (issue 15 #5): cold and warm, joint vs overlap.

    nice -n 10 python benchmarks/cluster_cli_speed.py        # -> benchmarks/results/cluster_cli_speed.{json,md}
    python benchmarks/cluster_cli_speed.py --repeats 1        # a quick look

Input: a 542-pathway GO BP result like the largest one of issue 15, made from a development result
(``benchmarks/cache/gsea/leukemia_prerank__gobp.tsv``, gseapy prerank, built by
``benchmarks/make_gsea_results.py``): its 542 rows of lowest FDR, written in the same layout, read with
``--fdr 0.25`` (all 542 pass; checked from ``summary.json``). Two namings of the same rows: as gseapy
writes them (Enrichr GO names with their GO id) and the MSigDB way fgsea / GSEA desktop users have
(``GOBP_`` + the name upper-cased, every run of other characters one ``_``, ``+`` as ``PLUS``; no id).

Protocol: each run is a fresh subprocess of the installed ``contrastomics`` command (``cluster FILE
--fdr 0.25 --method M --out DIR``, report and every output file written), timed from start to exit.
*cold*: ``CONTRASTOMICS_CACHE`` set to a new empty folder for every run (the first run after
install: built-in library cache, text/gene-set embedding caches all empty; the shipped text table and
the model weights come with the package); *warm*: one untimed run fills a cache folder, then the timed
runs reuse it. ``--repeats`` (5) runs per (method, condition), the median reported, each run's wall
time, the load average (1 min) before it and the stage times of its ``summary.json`` kept. The
methods' runs alternate (joint, overlap, then overlap, joint, ...), and the paired differences of
each repeat are reported too. The machine is shared (2 cores): read the load averages beside the times.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

NAME = "cluster_cli_speed"
SOURCE = ROOT / "benchmarks" / "cache" / "gsea" / "leukemia_prerank__gobp.tsv"
WORK = ROOT / "benchmarks" / "cache" / "cli_speed"
N_PATHWAYS = 542
METHODS = ("joint", "overlap")


def make_input(n: int = N_PATHWAYS) -> Path:
    """The ``n`` lowest-FDR rows of the development GO result, in its own (gseapy) layout."""
    import pandas as pd

    from contrastomics._io import atomic_write
    from contrastomics.enrichment import read_gsea_result
    path = WORK / f"leukemia_gobp_{n}.tsv"
    if path.exists():
        return path
    if not SOURCE.exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_gsea_results.py"), "--datasets",
                        "leukemia_prerank", "--libraries", "gobp"], check=True)
    raw = pd.read_csv(SOURCE, sep="\t")
    std = read_gsea_result(SOURCE)
    if len(std) != len(raw):
        raise SystemExit("the reader dropped rows: cannot map them back to the file")
    keep = std["fdr"].to_numpy().argsort(kind="stable")[:n]
    if not (std["fdr"].to_numpy()[keep] < 0.25).all():
        raise SystemExit(f"fewer than {n} pathways with FDR < 0.25 in {SOURCE.name}")
    WORK.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as fh:
        raw.iloc[sorted(keep)].to_csv(fh, sep="\t", index=False)
    return path


def msigdb_name(term: str) -> str:
    """``"regulation of NAD+ binding (GO:0000001)"`` -> ``"GOBP_REGULATION_OF_NADPLUS_BINDING"``."""
    import re
    name = re.sub(r"\s*\(GO:\d+\)\s*$", "", term).replace("+", "PLUS")
    return "GOBP_" + re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper()


def msigdb_input(n: int = N_PATHWAYS) -> Path:
    """:func:`make_input`'s rows with MSigDB-style names (the gseapy ``Term`` column renamed)."""
    import pandas as pd

    from contrastomics._io import atomic_write
    path = WORK / f"leukemia_gobp_{n}_msigdb_names.tsv"
    if not path.exists():
        raw = pd.read_csv(make_input(n), sep="\t")
        raw["Term"] = [msigdb_name(t) for t in raw["Term"]]
        if raw["Term"].duplicated().any():
            raise SystemExit("two GO names give one MSigDB name")
        with atomic_write(path) as fh:
            raw.to_csv(fh, sep="\t", index=False)
    return path


INPUTS = {"GO ids": make_input, "MSigDB names": msigdb_input}


def command() -> list[str]:
    exe = shutil.which("contrastomics")
    return [exe] if exe else [sys.executable, "-c", "from contrastomics.cli import main; main()"]


def one_run(path: Path, method: str, cache: Path, out: Path) -> dict:
    env = {**os.environ, "CONTRASTOMICS_CACHE": str(cache)}
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    p = subprocess.run([*command(), "cluster", str(path), "--fdr", "0.25", "--method", method, "--out", str(out)],
                       env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"contrastomics cluster failed ({method}):\n{p.stderr[-2000:]}")
    summary = json.loads((out / "summary.json").read_text())
    if summary["n_significant"] != N_PATHWAYS:
        raise SystemExit(f"{summary['n_significant']} pathways clustered, expected {N_PATHWAYS}")
    return {"seconds": wall, "load_average_before": load, "load_average_after": os.getloadavg()[0],
            "stages": summary.get("seconds", {}), "n_clusters": summary.get("n_clusters")}


def measure(path: Path, methods, cold: bool, repeats: int, tmp: Path) -> dict[str, list[dict]]:
    """``repeats`` timed runs of every method, interleaved (repeat r runs the methods in turn, the
    order reversed every other repeat) so that a drift in the shared machine's speed hits them alike."""
    runs = {m: [] for m in methods}
    tmp.mkdir(parents=True, exist_ok=True)
    if not cold:
        for method in methods:
            one_run(path, method, tmp / f"cache_warm_{method}", tmp / "out")  # fills the cache: not timed
    for r in range(repeats):
        for method in (methods if r % 2 == 0 else methods[::-1]):
            cache = tmp / f"cache_cold_{method}_{r}" if cold else tmp / f"cache_warm_{method}"
            runs[method].append(one_run(path, method, cache, tmp / "out"))
            print(json.dumps({"method": method, "cold": cold,
                              **{k: v for k, v in runs[method][-1].items() if k != "stages"}}), flush=True)
    return runs


def write(out_dir: Path, results: list[dict], meta: dict) -> None:
    from contrastomics._io import atomic_write
    recs = []
    for r in results:
        secs = [x["seconds"] for x in r["runs"]]
        recs.append({"dataset": f"leukemia_prerank GO BP, {N_PATHWAYS} lowest-FDR pathways", "split": "development",
                     "input": r["input"],
                     "method": r["method"], "metric": f"cli_seconds_{'cold' if r['cold'] else 'warm'}",
                     "value": statistics.median(secs), "n": N_PATHWAYS, "repeats": len(secs), "all_seconds": secs,
                     "load_average_before": [x["load_average_before"] for x in r["runs"]],
                     "load_average_after": [x["load_average_after"] for x in r["runs"]],
                     "stages_median_run": r["runs"][sorted(range(len(secs)), key=secs.__getitem__)[len(secs) // 2]]["stages"],
                     "n_clusters": r["runs"][0]["n_clusters"], "device": meta["device"]})
    by = {(r["input"], r["cold"], r["method"]): [x["seconds"] for x in r["runs"]] for r in results}
    for (inp, cold, m), secs in by.items():  # the same repeat of joint and overlap ran back to back
        if m != "joint" or (inp, cold, "overlap") not in by:
            continue
        diff = [a - b for a, b in zip(secs, by[(inp, cold, "overlap")])]
        recs.append({"dataset": f"leukemia_prerank GO BP, {N_PATHWAYS} lowest-FDR pathways", "split": "development",
                     "input": inp, "method": "joint - overlap",
                     "metric": f"cli_seconds_{'cold' if cold else 'warm'}_paired_difference",
                     "value": statistics.median(diff), "n": N_PATHWAYS, "repeats": len(diff), "all_seconds": diff,
                     "joint_slower_in": sum(x > 0 for x in diff), "device": meta["device"]})
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(out_dir / f"{NAME}.json") as fh:
        json.dump({"benchmark": NAME, **meta, "records": recs}, fh, indent=1)
    lines = [f"# `contrastomics cluster` wall time ({N_PATHWAYS} GO BP pathways)", "",
             f"Made by `python benchmarks/{NAME}.py` (protocol in its docstring) on {meta['finished_utc']} UTC, "
             f"{meta['device']}, commit {meta['commit']}. Median of {recs[0]['repeats'] if recs else 0} "
             "subprocess runs; load average (1 min) before each run beside it.", "",
             "| input naming | method | condition | median s | runs (s) | load average before | clusters |",
             "|---|---|---|---|---|---|---|"]
    for r in recs:
        if "joint_slower_in" in r:
            continue
        lines.append(f"| {r['input']} | `{r['method']}` | {r['metric'].rsplit('_', 1)[1]} | {r['value']:.2f} | "
                     f"{', '.join(f'{s:.1f}' for s in r['all_seconds'])} | "
                     f"{', '.join(f'{x:.1f}' for x in r['load_average_before'])} | {r['n_clusters']} |")
    lines += ["", "`joint` minus `overlap`, run by run (each repeat runs the two back to back, in alternating order):", "",
              "| input naming | condition | median difference (s) | differences (s) | `joint` slower in |", "|---|---|---|---|---|"]
    lines += [f"| {r['input']} | {r['metric'].split('_')[2]} | {r['value']:+.2f} | "
              f"{', '.join(f'{s:+.2f}' for s in r['all_seconds'])} | {r['joint_slower_in']} of {r['repeats']} |"
              for r in recs if "joint_slower_in" in r]
    lines += ["", "Cold: an empty `CONTRASTOMICS_CACHE` per run (the first run after install); warm: the cache "
              "of an untimed run reused. Every output file (report.html, clusters.png, network.graphml, tables) "
              "is written in both."]
    with atomic_write(out_dir / f"{NAME}.md") as fh:
        fh.write("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--methods", nargs="*", default=list(METHODS))
    ap.add_argument("--inputs", nargs="*", default=list(INPUTS), help=f"input namings: {list(INPUTS)}")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    paths = {name: make for name, make in INPUTS.items() if name in args.inputs}
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True).stdout.strip())
    meta = {"device": f"cpu ({os.cpu_count()} cores, shared machine)", "commit": commit + ("+dirty" if dirty else ""),
            "started_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}
    results = []
    with tempfile.TemporaryDirectory(prefix="cli_speed.") as d:
        for name, make in paths.items():
            path = make()
            for cold in (True, False):
                runs = measure(path, list(args.methods), cold, args.repeats, Path(d) / name.replace(" ", "_"))
                results += [{"input": name, "method": m, "cold": cold, "runs": runs[m]} for m in args.methods]
    meta["finished_utc"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    write(args.out, results, meta)


if __name__ == "__main__":
    main()
