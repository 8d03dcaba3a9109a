"""CAL training speed on 25,000 pairs (issue 7 target: 100 epochs < 5 min on 2 cores), with the
accuracy each configuration reaches beside its time.

Data: the common gene universe of ``benchmarks/cal_associations.py`` (4,305 genes with every
feature source), ``combined`` features (PCA-50; the source with the most signal, so accuracy
differences between configurations are visible; it includes the text source, whose leakage is
discussed in cal_associations.md: here it only serves to compare configurations). Node-disjoint split: 18% of the genes are held
out; the training set is **exactly 25,000 pairs** drawn (seeded) from the STRING pairs (file
threshold 400) among the other genes; test positives are the STRING >= 900 pairs among the
held-out genes, one degree-matched negative each (degree on the >= 900 graph), never a STRING pair.

For each configuration we train ``epochs_run`` epochs with 1 thread and record wall and CPU
(process) seconds per epoch, extrapolated to 100 epochs when fewer were run (flagged in the
records), and node-disjoint AUROC / cross-boundary AUROC after the epochs actually run.
The machine is 2 CPU cores shared by ~6 sessions, so wall time is inflated by contention: the
1-minute load average before and after each run is recorded; CPU seconds of a 1-thread process
are the better estimate of what a dedicated core needs. A 1-thread time under 5 min is a
conservative bound for "< 5 min on 2 cores".

Usage::

    nice -n 10 python benchmarks/cal_speed.py            # all configurations
    nice -n 10 python benchmarks/cal_speed.py --only small_512x1_b1024
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
import torch

import cal_associations as ca
from contrastomics.data.string import read_pairs
from contrastomics.evaluate.associations import PairSplit as Split, evaluate_split, pair_key as _key
from contrastomics.models.cal import CALConfig
from contrastomics.training.cal import train_cal
from contrastomics.train import TrainConfig

NAME = "cal_speed"
N_TRAIN = 25_000
# label: (hidden, batch, lr, epochs actually run). The published configuration cannot run 100
# epochs on this shared machine inside the session, so it is timed over a few epochs.
CONFIGS = {
    "w512x1_b1024": ((512,), 1024, 2e-3, 100),
    "default_256x1_b512_100ep": ((256,), 512, 2e-3, 100),
    "published_1024x3_b512": ((1024, 1024, 1024), 512, 3e-4, 3),
    "wide_1024x3_b2048": ((1024, 1024, 1024), 2048, 1e-3, 3),
    "default_256x1_b512_10ep": ((256,), 512, 2e-3, 10),
    "w512x1_b1024_3ep": ((512,), 1024, 2e-3, 3),  # same epochs as the timed published runs
    "w512x1_b1024_10ep": ((512,), 1024, 2e-3, 10),
    "published_1024x3_b512_10ep": ((1024, 1024, 1024), 512, 3e-4, 10),
}


def data(seed: int = 0, test_frac: float = 0.18):
    warnings.filterwarnings("ignore", message=".*dropped.*")
    genes = ca.universe(900)
    feats = ca.load_sources(ca.SOURCES)
    x_df = ca.combined(feats, genes)
    n = len(genes)
    allp = read_pairs(ca.STRING, None, genes=genes)
    hi = read_pairs(ca.STRING, 900, genes=genes)
    rng = np.random.default_rng(seed)
    held = np.zeros(n, dtype=bool)
    held[rng.choice(n, int(round(test_frac * n)), replace=False)] = True
    tr = np.flatnonzero(~held[allp.a] & ~held[allp.b])
    if len(tr) < N_TRAIN:
        raise SystemExit(f"only {len(tr)} training pairs; lower test_frac")
    tr = np.sort(rng.choice(tr, N_TRAIN, replace=False))
    train = allp.subset(np.isin(np.arange(len(allp)), tr))
    te = held[hi.a] & held[hi.b]
    split = Split("node_disjoint", train.a, train.b, hi.a[te], hi.b[te], np.flatnonzero(held),
                  {"n_train": int(len(train)), "n_test": int(te.sum()), "n_heldout_genes": int(held.sum())})
    exclude = np.unique(_key(allp.a, allp.b, n))
    return x_df, train, split, hi.degree(), exclude


def run_one(label, x_df, train, split, degree, exclude) -> list[dict]:
    hidden, batch, lr, epochs = CONFIGS[label]
    load0 = os.getloadavg()[0]
    tc = TrainConfig(epochs=epochs, batch_size=batch, lr=lr, warmup_steps=20, seed=0, progress=False, device="cpu")
    w0, c0 = time.perf_counter(), time.process_time()
    model, res = train_cal(x_df, train, CALConfig(in_dim=x_df.shape[1], hidden_dims=hidden), tc)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    load1 = os.getloadavg()[0]
    recs = evaluate_split(split, x_df.to_numpy(np.float32), degree, exclude, {"CAL": model.score_pairs},
                          seed=0, kinds=("degree",))
    base = {"dataset": "STRING (file, >=400) 25,000 training pairs x combined", "split": "node_disjoint/degree",
            "config": label, "hidden": list(hidden), "batch": batch, "lr": lr, "epochs_run": epochs,
            "threads": torch.get_num_threads(), "load_before": round(load0, 2), "load_after": round(load1, 2),
            "n_params": sum(p.numel() for p in model.net.parameters()), "n_train": len(train)}
    out = [{**base, "method": f"CAL {label}", "metric": "wall_seconds_per_100_epochs", "value": wall / epochs * 100,
            "extrapolated": epochs < 100, "seconds": wall},
           {**base, "method": f"CAL {label}", "metric": "cpu_seconds_per_100_epochs", "value": cpu / epochs * 100,
            "extrapolated": epochs < 100, "seconds": cpu},
           {**base, "method": f"CAL {label}", "metric": "final_train_loss", "value": res.history[-1]["loss"]}]
    for r in recs:
        if r["method"] in ("CAL", "raw_cosine") and r["metric"] in ("auroc", "xb_auroc"):
            out.append({**base, "method": f"CAL {label}" if r["method"] == "CAL" else "raw_cosine",
                        "metric": f"{r['metric']}_after_{epochs}ep" if r["method"] == "CAL" else r["metric"],
                        "value": r["value"], "n_pos": r["n_pos"], "n_xb_pos": r["n_xb_pos"], "n_xb_neg": r["n_xb_neg"]})
    return out


def write(records: list[dict], info: dict) -> None:
    res = ca.RESULTS
    device = f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores shared by ~6 sessions)"
    from contrastomics.data.io import atomic_write

    with atomic_write(res / f"{NAME}.json") as fh:
        json.dump({"benchmark": NAME, "device": device, "meta": info, "records": records}, fh, indent=1, default=float)
    by = {}
    for r in records:
        by.setdefault(r["config"], {})[r["metric"]] = r
    L = [f"# {NAME}: CAL training time on 25,000 pairs, with accuracy beside it\n",
         "Produced by `benchmarks/cal_speed.py`. " + __doc__.split("\n\n")[1].replace("\n", " ").replace("``", "`") + "\n",
         f"Split: {info['n_heldout_genes']} held-out genes, {info['n_test']} test positives (STRING >= 900 among "
         "held-out genes) + as many degree-matched negatives; one seed (0); 1 torch thread; device: " + device + ".\n",
         "**Scaled to the machine**: the machine has 2 cores shared by ~6 sessions (load averages in the table). "
         "Configurations with `epochs run` < 100 were timed over those epochs and their per-100-epoch times are "
         "**extrapolated** (marked *); their AUROCs are after those few epochs only, not after 100.\n",
         "| configuration | hidden | batch | lr | params | epochs run | wall s / 100 ep | CPU s / 100 ep | load before/after "
         "| AUROC | xb AUROC | raw cosine AUROC / xb |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, m in by.items():
        w = m["wall_seconds_per_100_epochs"]
        c = m["cpu_seconds_per_100_epochs"]
        star = "*" if w["extrapolated"] else ""
        e = w["epochs_run"]
        au = m.get(f"auroc_after_{e}ep", {}).get("value", float("nan"))
        xb = m.get(f"xb_auroc_after_{e}ep", {}).get("value", float("nan"))
        cos = f"{m['auroc']['value']:.3f} / {m['xb_auroc']['value']:.3f}" if "auroc" in m else "n/a"
        L.append(f"| {label} | {'x'.join(map(str, w['hidden']))} | {w['batch']} | {w['lr']:g} | {w['n_params']:,} | {e} "
                 f"| {w['value']:.0f}{star} | {c['value']:.0f}{star} | {w['load_before']} / {w['load_after']} "
                 f"| {au:.3f} | {xb:.3f} | {cos} |")
    L += ["", "**Our default** (`contrastomics cal train` without options, and the configuration of "
          "`benchmarks/cal_associations.py`): hidden 256, batch 512, AdamW lr 2e-3, 10 epochs = row "
          "`default_256x1_b512_10ep`; `default_256x1_b512_100ep` is the same model trained for 100 epochs. "
          "**Published**: 1024 x 3, batch 512, lr 3e-4 (`--published`).",
          "", "### Target: 100 epochs on 25,000 pairs in < 5 min on 2 cores\n",
          "CPU seconds of the 1-thread process are what one dedicated core needs (contention on this machine inflates "
          "wall time by the load factor, not CPU time). A configuration that needs < 300 CPU s on one thread meets the "
          "target on 2 cores with room to spare; one that needs more could at best halve it with 2 threads. Times "
          "extrapolated from a few epochs include fixed per-run costs (model set-up, first-epoch warm-up) spread over "
          "few epochs, so they over-estimate (compare the 512-wide model timed over 3, 10 and 100 epochs).\n",
          "| configuration | CPU s for 100 epochs (1 thread) | < 300 s on 1 core | wall s on this shared machine |",
          "|---|---|---|---|"]
    for label, m in by.items():
        c, w = m["cpu_seconds_per_100_epochs"], m["wall_seconds_per_100_epochs"]
        star = " (extrapolated)" if c["extrapolated"] else ""
        L.append(f"| {label} | {c['value']:.0f}{star} | {'yes' if c['value'] < 300 else 'no'} | {w['value']:.0f}{star} |")
    L += ["", "Metrics: AUROC of CAL's association-space cosine for test positives vs degree-matched negatives on the "
          "node-disjoint split; xb AUROC = the same restricted to pairs whose raw feature cosine lies in [-0.2, 0.2]. "
          "Raw cosine is the baseline on the same pairs (identical for every configuration).", ""]
    with atomic_write(res / f"{NAME}.md") as fh:
        fh.write("\n".join(L) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(CONFIGS))
    ap.add_argument("--report", action="store_true", help="only re-write the results from what was measured so far")
    args = ap.parse_args()
    if args.report:
        write(merged(), json.loads((ca.RESULTS / f"{NAME}.json").read_text())["meta"])
        return
    torch.set_num_threads(1)
    x_df, train, split, degree, exclude = data()
    info = {**split.info, "features": "combined (her2st + leukemia + genesets + text, PCA-50)",
            "train_pairs": "random 25,000 of the STRING file's pairs (>= 400) among non-held-out genes"}
    print(info, flush=True)
    for label in args.only.split(","):
        mine = run_one(label, x_df, train, split, degree, exclude)
        # one cache file per configuration: several processes may run configurations side by side
        (ca.CACHE / f"cal_speed_partial_{label}.json").write_text(json.dumps(mine, default=float))
        write(merged(), info)
        print(label, [(r["metric"], round(r["value"], 3)) for r in mine], flush=True)


# labels used by earlier runs of this script -> current labels (same configurations)
RENAMED = {'default_512x1_b1024_3ep': 'w512x1_b1024_3ep', 'default_512x1_b1024_10ep': 'w512x1_b1024_10ep', 'default_512x1_b1024': 'w512x1_b1024', 'small_256x1_b512': 'default_256x1_b512_100ep', 'benchmark_256x1_b512_10ep': 'default_256x1_b512_10ep'}


def merged() -> list[dict]:
    """Records of every configuration measured so far (cache partials; earlier results file as fallback)."""
    parts = {p.stem.replace("cal_speed_partial_", ""): json.loads(p.read_text())
             for p in sorted(ca.CACHE.glob("cal_speed_partial_*.json"))}
    out = ca.RESULTS / f"{NAME}.json"
    old = json.loads(out.read_text())["records"] if out.exists() else []
    measured = set(parts)
    for r in old:
        if r["config"] not in measured:
            parts.setdefault(r["config"], []).append(r)
    renamed = {}
    for c, recs in parts.items():
        new = RENAMED.get(c, c)
        renamed[new] = [{**r, "config": new, "method": r["method"].replace(c, new)} for r in recs]
    order = [c for c in CONFIGS if c in renamed] + [c for c in renamed if c not in CONFIGS]
    return [r for c in order for r in renamed[c]]


if __name__ == "__main__":
    main()
