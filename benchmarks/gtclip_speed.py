"""gtCLIP speed targets of issue 4: loading the shipped model (< 3 s) and looking up 10,000
cached pathway texts (< 1 s).

Usage::

    nice -n 10 python benchmarks/gtclip_speed.py

Each timing is repeated (``--repeats``, default 5) in fresh interpreter state where it matters
(model loading runs in a subprocess, so import and file-system caches are those of a new Python
process, imports of torch/contrastomics included in ``load_with_imports``). Writes
``benchmarks/results/gtclip_speed.json`` + ``.md``.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
NAME = "gtclip_speed"

_LOAD = """
import time
t0 = time.perf_counter()
import torch
torch.set_num_threads(1)
from contrastomics.models.gtclip import GtClip
t1 = time.perf_counter()
c1 = time.process_time()
m = GtClip.load_default()
t2 = time.perf_counter()
c2 = time.process_time()
e = m.embed_gene_sets([["TP53", "MDM2", "CDKN1A", "BAX"]])
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, c2 - c1)
"""


def time_loading(repeats: int) -> dict:
    """Seconds to import + load the shipped model and to embed a first gene set (new process each)."""
    imports, loads, first, cpu = [], [], [], []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", _LOAD], capture_output=True, text=True, check=True)
        a, b, c, d = map(float, out.stdout.split())
        imports.append(a)
        loads.append(b)
        first.append(c)
        cpu.append(d)
    return {"imports": imports, "load_default": loads, "first_embedding": first, "load_default_cpu": cpu}


def time_cached_lookup(n: int, repeats: int) -> dict:
    """Seconds for :meth:`TextEncoder.encode`-style cache lookups of ``n`` texts already cached
    (key hashing + SQLite reads), in a fresh cache file of realistic pathway texts."""
    from contrastomics.data.builtin import load_library
    from contrastomics.models.text import EmbeddingCache, text_key

    lib = load_library("GO")
    texts = lib.texts("both")[:n]
    if len(texts) < n:  # pad with variants so exactly n distinct texts are looked up
        texts += [f"{t} (variant {i})" for i, t in enumerate(texts[: n - len(texts)])]
    vecs = np.random.default_rng(0).normal(size=(len(texts), 384)).astype(np.float32)
    times, cpu = [], []
    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache("speed-benchmark", Path(tmp) / "c.sqlite")
        cache.put({text_key(t): v for t, v in zip(texts, vecs)})
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            keys = [text_key(t) for t in texts]
            got = cache.get(keys)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            assert len(got) == len(set(keys))
    return {"lookup": times, "lookup_cpu": cpu, "n_texts": len(texts)}


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--n-texts", type=int, default=10_000)
    ap.add_argument("--out", default=str(RESULTS / f"{NAME}.json"))
    args = ap.parse_args(argv)
    from contrastomics.data.io import atomic_write
    from contrastomics.models.gtclip import DEFAULT_MODEL_DIR

    device = f"CPU ({platform.machine()}), 1 thread, shared 2-core machine under load"
    load = time_loading(args.repeats)
    look = time_cached_lookup(args.n_texts, args.repeats)
    size_mb = sum(p.stat().st_size for p in DEFAULT_MODEL_DIR.rglob("*") if p.is_file()) / 1e6
    assets = DEFAULT_MODEL_DIR.parents[1]  # the package's assets/ folder (every shipped file)
    assets_mb = sum(p.stat().st_size for p in assets.rglob("*") if p.is_file()) / 1e6
    records = []
    for metric, vals, target, n in (("seconds_load_default", load["load_default"], 3.0, 1),
                                    ("cpu_seconds_load_default", load["load_default_cpu"], None, 1),
                                    (f"cpu_seconds_lookup_{look['n_texts']}_cached_texts", look["lookup_cpu"], None,
                                     look["n_texts"]),
                                    ("seconds_import_torch_and_package", load["imports"], None, 1),
                                    ("seconds_first_gene_set_embedding", load["first_embedding"], None, 1),
                                    (f"seconds_lookup_{look['n_texts']}_cached_texts", look["lookup"], 1.0,
                                     look["n_texts"])):
        for stat, v in (("median", float(np.median(vals))), ("max", float(np.max(vals)))):
            records.append({"dataset": "gtclip-default" if "lookup" not in metric else "GO texts (both)",
                            "split": "none", "method": "gtclip", "metric": f"{metric}_{stat}", "value": v,
                            "n": n, "repeats": len(vals), "target": target, "device": device})
    records.append({"dataset": "gtclip-default", "split": "none", "method": "gtclip", "metric": "model_folder_MB",
                    "value": size_mb, "n": 1, "target": None, "device": device})
    records.append({"dataset": "package assets", "split": "none", "method": "gtclip", "metric": "package_assets_MB",
                    "value": assets_mb, "n": 1, "target": 30.0, "device": device})
    out = Path(args.out)
    with atomic_write(out) as fh:
        json.dump({"benchmark": NAME, "records": records}, fh, indent=1)
    lines = [f"# {NAME}: gtCLIP loading and cached-text lookup", "",
             "Generated by `benchmarks/gtclip_speed.py`. Device: " + device + ". "
             f"{args.repeats} repeats; model loading in a new Python process each time "
             "(`GtClip.load_default()` after `import torch` and the package); cache lookup = sha1 keys + "
             f"SQLite reads of {look['n_texts']:,} GO pathway texts (name + description) already in a fresh cache "
             "(the text encoder is not called). No baseline applies (these are latency targets of issue 4). "
             "`seconds_*` = wall clock; `cpu_seconds_*` = CPU time of the process (wall minus waiting for the "
             f"shared cores; the machine's 1-minute load average was {_load()} on 2 cores when this ran).", "",
             "| measurement | median | max | target |", "|---|---|---|---|"]
    for r in records:
        if r["metric"].endswith("_median"):
            mx = next(x for x in records if x["metric"] == r["metric"].replace("_median", "_max"))
            tgt = f"< {r['target']:g} s" if r["target"] else ""
            lines.append(f"| {r['metric'][:-7]} | {r['value']:.3f} s | {mx['value']:.3f} s | {tgt} |")
    lines.append(f"| shipped gtCLIP folder size (model + text table) | {size_mb:.1f} MB | | |")
    lines.append(f"| package assets in all (issue 14 budget) | {assets_mb:.1f} MB | | <= 30 MB |")
    with atomic_write(out.with_suffix(".md")) as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
