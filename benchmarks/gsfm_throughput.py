"""GSFM throughput: sparse (EmbeddingBag) vs dense multi-hot first layer.

Gene sets are real: MSigDB sets with membership (``/work/shared/data/genesets/msigdb_hs.gmt``,
7,563 sets, ~26k symbols); the vocabulary is every symbol of the file. Batches of 256 sets are
drawn in file order (cycled). Three first-layer implementations with the published shape
(vocab -> 512 -> 256, decoder 256 -> 256 -> vocab):

- ``sparse``: :class:`contrastomics.models.gsfm.GSFM` default, ``F.embedding_bag`` over the gene
  indices of each set (no dense input);
- ``dense``: the same model with ``sparse_input=False`` (dense ``(256, vocab)`` multi-hot, then the
  same weights as a matmul);
- ``official``: a plain ``nn.Linear`` stack fed a dense multi-hot built from padded token ids, as
  the official maayanlab/gsfm code does.

Measured per implementation, each in its own process (so peak memory is its own): sets/s of the
encoder alone (``encode``, inference), the full model inference (encoder + decoder logits over the
vocabulary) and a training step (forward + BCE + backward, no optimizer), and the process peak RSS.
``torch.set_num_threads(2)``. Run::

    nice -n 10 python benchmarks/gsfm_throughput.py

Outputs ``benchmarks/results/gsfm_throughput.{json,md}``.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

GMT = Path("/work/shared/data/genesets/msigdb_hs.gmt")
RESULTS = Path(__file__).resolve().parent / "results"
NAME = "gsfm_throughput"
METHODS = ("sparse", "dense", "official")
MODES = ("encoder inference", "full inference", "forward+backward")


def load_sets(path: Path = GMT) -> tuple[list[list[str]], list[str]]:
    from contrastomics.data.genesets import read_gmt

    lib = read_gmt(path, on_duplicate="first")
    return lib.gene_sets, list(lib.genes)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def worker(method: str, batch: int, n_batches: int, warmup: int, threads: int, q) -> None:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    from contrastomics.models.gsfm import GSFM

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    sets, genes = load_sets()
    model = GSFM.from_genes(genes, sparse_input=(method == "sparse"))
    batches = []
    for b in range(n_batches + warmup):
        rows = [sets[(b * batch + i) % len(sets)] for i in range(batch)]
        batches.append(model.tokenize(rows)[:2])
    V = model.config.vocab_size
    if method == "official":
        enc = nn.Sequential(nn.Linear(V, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 256))
        dec = nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, V))
        pad = 1

        def encode(idx, off):
            # padded token ids -> one-hot sum, pad column zeroed (official preprocessing)
            lens = torch.diff(off, append=off.new_tensor([idx.numel()]))
            ids = torch.full((len(off), int(lens.max())), pad, dtype=torch.long)
            ids[torch.repeat_interleave(torch.arange(len(off)), lens),
                torch.arange(idx.numel()) - torch.repeat_interleave(off, lens)] = idx
            x = torch.zeros(len(off), V).scatter_(1, ids, 1.0)
            x[:, pad] = 0
            return enc(x)

        def full(idx, off):
            return dec(encode(idx, off))
        params = list(enc.parameters()) + list(dec.parameters())
    else:
        encode = model.encode

        def full(idx, off):
            return model(idx, off)[1]
        params = list(model.parameters())

    def target(idx, off):
        return model.multi_hot(idx, off)

    def run(mode):
        def one(idx, off):
            if mode == "encoder inference":
                with torch.no_grad():
                    encode(idx, off)
            elif mode == "full inference":
                with torch.no_grad():
                    full(idx, off)
            else:
                for p in params:
                    p.grad = None
                loss = F.binary_cross_entropy_with_logits(full(idx, off), target(idx, off))
                loss.backward()
        for idx, off in batches[:warmup]:
            one(idx, off)
        before = rss_mib()
        t0 = time.perf_counter()
        for idx, off in batches[warmup:]:
            one(idx, off)
        secs = time.perf_counter() - t0
        return {"sets_per_s": n_batches * batch / secs, "seconds": secs, "peak_rss_mib": rss_mib(),
                "rss_growth_mib": rss_mib() - before}

    base = rss_mib()
    out = {"method": method, "vocab": V, "n_params": sum(p.numel() for p in params), "rss_after_setup_mib": base}
    for mode in MODES:
        out[mode] = run(mode)
    q.put(out)


def write(records: list[dict], meta: dict) -> None:
    from contrastomics.data.io import atomic_write

    RESULTS.mkdir(parents=True, exist_ok=True)
    with atomic_write(RESULTS / f"{NAME}.json") as f:
        json.dump({"benchmark": NAME, "records": records, "meta": meta}, f, indent=1)
    thread_counts = list(dict.fromkeys(r["threads"] for r in records))
    lines = [
        "# GSFM throughput: sparse vs dense first layer", "",
        f"Data: {meta['n_sets']} real MSigDB gene sets with membership (`{GMT.name}`), vocabulary "
        f"{meta['vocab']:,} tokens (all symbols of the file + `<unk>`, `<pad>`), mean set size "
        f"{meta['mean_set_size']:.0f}. Published shape vocab -> 512 -> 256 -> 256 -> vocab. Batch "
        f"{meta['batch']} sets, {meta['n_batches']} timed batches after {meta['warmup']} warm-up batches, "
        f"`torch.set_num_threads(n)` for n in {meta['threads']}, torch {meta['torch']} CPU, each implementation "
        "in its own process.", "",
        "**Machine:** 2 CPU cores shared with other engineers' jobs; 1-minute load average "
        f"{meta['load_average'].split(',')[0]} at the start and {meta.get('load_average_end', '?').split(',')[0]} at the "
        "end of this run. Under heavy load (load >> 2) absolute sets/s drop several-fold and 2-thread runs of "
        "the short sparse kernels suffer most from thread contention, so re-run on an idle machine before "
        "comparing; implementations are measured one after another under the same conditions.", "",
        "Implementations: `sparse` = our default (`F.embedding_bag` over the set's gene indices, no dense "
        "input); `dense` = the same weights fed a dense `(batch, vocab)` multi-hot; `official` = plain "
        "`nn.Linear` stack fed a multi-hot built from padded token ids, as in the maayanlab/gsfm code.", "",
        "Modes: `encoder inference` = embedding only (`encode`, no grad); `full inference` = encoder + "
        "decoder logits over the whole vocabulary (no grad); `forward+backward` = full model, BCE against "
        "the multi-hot, backward (no optimizer step).", "",
    ]
    for th in thread_counts:
        val = {(r["method"], r["split"], r["metric"]): r["value"] for r in records if r["threads"] == th}
        lines += [f"## {th} thread{'s' if th > 1 else ''}", "",
                  "| mode | sparse sets/s | dense sets/s | official sets/s | sparse / dense | sparse / official |",
                  "|---|---|---|---|---|---|"]
        for mode in MODES:
            s, d, o = (val.get((m, mode, "sets/s")) for m in METHODS)
            lines.append(f"| {mode} | {s:,.0f} | {d:,.0f} | {o:,.0f} | {s / d:.1f}x | {s / o:.1f}x |")
        lines += ["", "Peak resident memory of the process after each mode (MiB; modes run in this order in one "
                  "process per implementation, whole process incl. Python, data and model) / growth during "
                  "that mode's timed loop:", "", "| mode | sparse | dense | official |", "|---|---|---|---|"]
        for mode in MODES:
            lines.append(f"| {mode} | " + " | ".join(
                f"{val.get((m, mode, 'peak RSS MiB')):,.0f} / +{val.get((m, mode, 'RSS growth MiB')):,.0f}"
                for m in METHODS) + " |")
        lines.append("")
    nnz = meta["mean_set_size"] * meta["batch"]
    lines += ["", f"Input tensors per batch of {meta['batch']}: sparse = {nnz * 8 / 2**10:,.0f} KiB of int64 gene "
              f"indices + offsets; dense = {meta['batch'] * meta['vocab'] * 4 / 2**20:,.1f} MiB float32 multi-hot "
              "(plus the same again for its gradient path in training).", "",
              f"Reading: the sparse first layer reads only the weight rows of a set's ~{meta['mean_set_size']:.0f} "
              "genes instead of multiplying a (batch, vocab) mostly-zero matrix. The full model is dominated by "
              "the decoder's vocabulary-wide output layer (256 -> vocab logits, their loss and gradient), identical "
              "in every implementation, so inference and training steps gain less than the encoder."]
    for th in thread_counts:
        ref = {(r["method"], r["split"]): r["value"] for r in records if r["threads"] == th and r["metric"] == "sets/s"}
        enc = ref[("sparse", "encoder inference")] / ref[("dense", "encoder inference")]
        step = ref[("sparse", "forward+backward")] / ref[("dense", "forward+backward")]
        lines.append(f"- {th} thread(s): encoder {enc:.1f}x the dense path (target >= 5x "
                     f"**{'met' if enc >= 5 else 'not met'}**), training step {step:.1f}x.")
    sp_enc = {r["threads"]: r["value"] for r in records if r["method"] == "sparse"
              and r["split"] == "encoder inference" and r["metric"] == "sets/s"}
    if 1 in sp_enc and 2 in sp_enc and sp_enc[2] < sp_enc[1]:
        lines.append("- With 2 threads on cores already oversubscribed by other jobs, the short sparse kernels lose "
                     "most of their speed to thread synchronisation (sparse encoder "
                     f"{sp_enc[2]:,.0f} sets/s with 2 threads vs {sp_enc[1]:,.0f} with 1), while the long dense matmul still gains from the second thread; the 2-thread ratio "
                     "should be re-measured on an idle machine.")
    lines += [
              "", f"Run: `nice -n 10 python benchmarks/gsfm_throughput.py` ({meta['seconds']:.0f} s wall)."]
    with atomic_write(RESULTS / f"{NAME}.md") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None) -> None:
    import os

    import torch

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--report", action="store_true", help="only rewrite the .md from the existing .json")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--n-batches", type=int, default=8)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, nargs="+", default=[2, 1],
                   help="torch thread counts to measure (2 = the target setting)")
    a = p.parse_args(argv)
    if a.report:
        d = json.loads((RESULTS / f"{NAME}.json").read_text())
        write(d["records"], d["meta"])
        return
    if not GMT.exists():
        sys.exit(f"{GMT} not found: this benchmark needs the shared gene-set data")
    t0 = time.perf_counter()
    sets, genes = load_sets()
    meta = {"n_sets": len(sets), "vocab": len(genes) + 2, "mean_set_size": float(np.mean([len(s) for s in sets])),
            "batch": a.batch, "n_batches": a.n_batches, "warmup": a.warmup, "threads": a.threads,
            "torch": torch.__version__, "python": platform.python_version(),
            "load_average": ", ".join(f"{x:.1f}" for x in os.getloadavg())}
    ctx = mp.get_context("spawn")
    records = []
    for threads in a.threads:
        for method in METHODS:
            q = ctx.Queue()
            proc = ctx.Process(target=worker, args=(method, a.batch, a.n_batches, a.warmup, threads, q))
            proc.start()
            r = q.get()
            proc.join()
            print(json.dumps(r), flush=True)
            for mode in MODES:
                m = r[mode]
                common = {"dataset": "msigdb_hs.gmt", "split": mode, "method": method, "n": a.n_batches * a.batch,
                          "batch": a.batch, "threads": threads, "device": "cpu", "vocab": r["vocab"],
                          "seconds": round(m["seconds"], 2)}
                records.append({**common, "metric": "sets/s", "value": round(m["sets_per_s"], 1)})
                records.append({**common, "metric": "peak RSS MiB", "value": round(m["peak_rss_mib"], 1)})
                records.append({**common, "metric": "RSS growth MiB", "value": round(m["rss_growth_mib"], 1)})
        meta["seconds"] = time.perf_counter() - t0
        meta["load_average_end"] = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        write(records, meta)  # after each thread count, so a partial run leaves its numbers
    print(f"wrote {RESULTS / NAME}.json/.md", flush=True)


if __name__ == "__main__":
    main()
