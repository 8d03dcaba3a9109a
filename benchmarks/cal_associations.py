"""CAL association benchmark: paper setting vs held-out edges vs node-disjoint genes.

Data: STRING v12 human (``shared/data/ppi/string_v12_human.tsv.gz``, combined score recomputed
without text mining) pairs with combined score >= 900 among a common gene universe: genes that
have ALL feature sources (built by ``benchmarks/build_cal_features.py``, cached in
``benchmarks/cache/``), so every source is scored on identical pairs.

For each feature source x seed x split (``train_edges`` = the paper's setting, ``heldout_edges``,
``node_disjoint``) it trains CAL and a plain MLP with a BCE link head (skipped on ``train_edges``),
then scores the test positives against uniform and degree-matched negatives (1:1) together with
raw cosine, degree-product (training graph; full graph as a bias diagnostic) and, on edge splits,
common neighbours / Adamic-Adar from the training graph. See
``contrastomics.evaluate.associations`` for the exact protocol.

Run (each source can run in its own process; ``--report`` merges the partial results)::

    nice -n 10 python benchmarks/cal_associations.py --sources her2st,leukemia
    nice -n 10 python benchmarks/cal_associations.py --sources genesets,text,combined
    python benchmarks/cal_associations.py --report
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
import pandas as pd
import torch

from contrastomics.data.features import pca
from contrastomics.data.string import read_pairs
from contrastomics.evaluate.associations import SPLITS, evaluate_split, make_split, train_mlp_bce, _key
from contrastomics.models.cal import CALConfig, train_cal
from contrastomics.train import TrainConfig

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / "cache"
RESULTS = ROOT / "results"
STRING = Path("/work/shared/data/ppi/string_v12_human.tsv.gz")
SOURCES = ("her2st", "leukemia", "genesets", "text")
NAME = "cal_associations"


def load_sources(names=SOURCES) -> dict[str, pd.DataFrame]:
    out = {}
    for n in names:
        f = CACHE / f"features_{n}.parquet"
        if not f.exists():
            raise SystemExit(f"missing {f}: run benchmarks/build_cal_features.py first")
        out[n] = pd.read_parquet(f).set_index("gene")
    return out


INFO = Path("/work/shared/data/ppi/Hyperbolic/data/raw/string/9606.protein.info.v12.0.txt.gz")


def universe(min_score: int) -> list[str]:
    """STRING >= min_score genes that have her2st, leukemia and gene-set features and a STRING
    description (the text source covers exactly those), so every source is scored on one pair set."""
    e = pd.read_csv(STRING, sep="\t", usecols=["gene_a", "gene_b", "combined_score"])
    e = e[e.combined_score >= min_score]
    genes = set(e.gene_a) | set(e.gene_b)
    for n in ("her2st", "leukemia", "genesets"):
        genes &= set(pd.read_parquet(CACHE / f"features_{n}.parquet", columns=["gene"]).gene)
    info = pd.read_csv(INFO, sep="\t")
    ann = info.annotation.fillna("").str.strip()
    genes &= set(info.preferred_name[(ann != "") & (ann != "annotation not available")])
    return sorted(genes)


def combined(feats: dict[str, pd.DataFrame], genes: list[str], k: int = 50) -> pd.DataFrame:
    """Concatenate the L2-normalised sources (equal weight) and reduce to PCA-k."""
    blocks = []
    for df in feats.values():
        x = df.loc[genes].to_numpy(np.float32)
        blocks.append(x / np.linalg.norm(x, axis=1, keepdims=True) / np.sqrt(len(feats)))
    return pca(pd.DataFrame(np.hstack(blocks), index=genes), k)


def run(args) -> None:
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message=".*dropped.*")
    wanted = args.sources.split(",")
    genes = universe(args.min_score)
    feats = load_sources(SOURCES if "combined" in wanted else [w for w in wanted if w != "combined"])
    for n, df in feats.items():
        missing = set(genes) - set(df.index)
        if missing:
            raise SystemExit(f"{n} features lack {len(missing)} universe genes, e.g. {sorted(missing)[:5]}")
    if "combined" in wanted:
        feats["combined"] = combined(feats, genes)
    pairs = read_pairs(STRING, args.min_score, genes=genes)
    allp = read_pairs(STRING, None, genes=genes)  # every STRING edge (>= 400 in this file): never a negative
    exclude = np.unique(_key(allp.a, allp.b, len(genes)))
    degree = pairs.degree()
    hidden = tuple(int(h) for h in args.hidden.split(","))
    print(f"universe: {len(genes)} genes, {len(pairs)} pairs >= {args.min_score}; exclude {len(exclude)} STRING pairs",
          flush=True)
    for base in wanted:
        source = base + (f"@{args.tag}" if args.tag else "")
        x_df = feats[base].loc[genes]
        x = x_df.to_numpy(np.float32)
        records = []
        t_source = time.perf_counter()
        for seed in [int(s) for s in args.seeds.split(",")]:
            for split_name in args.splits.split(","):
                split = make_split(pairs, split_name, test_frac=0.2, seed=seed)
                tr = pairs.subset(np.isin(_key(pairs.a, pairs.b, len(genes)), _key(split.train_a, split.train_b, len(genes))))
                tc = TrainConfig(epochs=args.epochs, batch_size=args.batch, lr=args.lr, warmup_steps=20,
                                 seed=seed, progress=False, device="cpu")
                t = time.perf_counter()
                cal, res = train_cal(x_df, tr, CALConfig(in_dim=x.shape[1], hidden_dims=hidden, alpha=args.alpha,
                                                         temperature=0.05), tc)
                t_cal = time.perf_counter() - t
                scorers = {"CAL": cal.score_pairs}
                t_mlp = None
                if split_name != "train_edges" and not args.no_mlp:
                    t = time.perf_counter()
                    mlp = train_mlp_bce(x, split.train_a, split.train_b, hidden, TrainConfig(
                        epochs=args.epochs, batch_size=args.batch, lr=1e-3, warmup_steps=20, seed=seed,
                        progress=False, device="cpu"))
                    t_mlp = time.perf_counter() - t
                    scorers["MLP_BCE"] = mlp.score_pairs
                recs = evaluate_split(split, x, degree, exclude, scorers, seed=seed)
                for r in recs:
                    r.update(dataset=f"STRING>=900 x {source}", source=source, seed=seed,
                             pool=int(len(split.pool)), **{f"split_{k}": v for k, v in split.info.items()})
                records += recs
                xb = {(r["negatives"], r["method"]): r["value"] for r in recs if r["metric"] == "xb_auroc"}
                au = {(r["negatives"], r["method"]): r["value"] for r in recs if r["metric"] == "auroc"}
                records.append({"dataset": f"STRING>=900 x {source}", "source": source, "split": split_name,
                                "negatives": "-", "method": "CAL", "metric": "train_seconds", "value": t_cal,
                                "seed": seed, "epochs": args.epochs, "n_train": len(tr), "final_loss": res.history[-1]["loss"]})
                if t_mlp is not None:
                    records.append({"dataset": f"STRING>=900 x {source}", "source": source, "split": split_name,
                                    "negatives": "-", "method": "MLP_BCE", "metric": "train_seconds", "value": t_mlp,
                                    "seed": seed, "epochs": args.epochs, "n_train": len(tr)})
                print(f"[{source} seed {seed} {split_name}] CAL {t_cal:.0f}s loss {res.history[-1]['loss']:.3f} | "
                      f"AUROC uni CAL {au[('uniform', 'CAL')]:.3f} cos {au[('uniform', 'raw_cosine')]:.3f} | "
                      f"deg-matched CAL {au[('degree', 'CAL')]:.3f} xb {xb[('degree', 'CAL')]:.3f} "
                      f"cos xb {xb[('degree', 'raw_cosine')]:.3f}"
                      + (f" AA {au[('degree', 'adamic_adar')]:.3f}" if ("degree", "adamic_adar") in au else "")
                      + (f" MLP {au[('degree', 'MLP_BCE')]:.3f}" if ("degree", "MLP_BCE") in au else ""), flush=True)
        meta = {"source": source, "n_genes": len(genes), "n_pairs": len(pairs), "seconds": time.perf_counter() - t_source,
                "config": {"hidden": hidden, "epochs": args.epochs, "batch": args.batch, "lr": args.lr,
                           "alpha": args.alpha, "temperature": 0.05, "min_score": args.min_score},
                "provenance": json.loads((CACHE / f"features_{base}.parquet.json").read_text())
                if (CACHE / f"features_{base}.parquet.json").exists() else
                {"steps": "concatenation of the L2-normalised her2st, leukemia, genesets and text features "
                          "(equal weight), PCA-50"}}
        (CACHE / f"cal_partial_{source}.json").write_text(json.dumps({"meta": meta, "records": records}, default=float))
        print(f"{source}: done in {meta['seconds']:.0f}s", flush=True)


def profile(args) -> None:
    """Seconds per epoch for 25k pairs at the published width and at the benchmark width."""
    torch.set_num_threads(args.threads)
    feats = load_sources(["her2st"])
    x = feats["her2st"]
    pairs = read_pairs(STRING, args.min_score, genes=list(x.index))
    sub = pairs.subset(np.random.default_rng(0).permutation(len(pairs)) < 25000)
    out = []
    for label, hidden, batch, epochs in [("published 1024x3, batch 512", (1024,) * 3, 512, 2),
                                         (f"benchmark {args.hidden}, batch {args.batch}",
                                          tuple(int(h) for h in args.hidden.split(",")), args.batch, 5)]:
        t = time.perf_counter()
        train_cal(x, sub, CALConfig(in_dim=x.shape[1], hidden_dims=hidden),
                  TrainConfig(epochs=epochs, batch_size=batch, lr=3e-4, progress=False, device="cpu"))
        s = (time.perf_counter() - t) / epochs
        out.append({"dataset": "STRING>=900 x her2st, 25,000 pairs", "split": "-", "method": f"CAL {label}",
                    "metric": "seconds_per_100_epochs", "value": 100 * s, "threads": args.threads,
                    "epochs_timed": epochs})
        print(out[-1], flush=True)
    (CACHE / "cal_partial_profile.json").write_text(json.dumps({"meta": {}, "records": out}))


def _fmt(m, s):
    return "n/a" if not np.isfinite(m) else f"{m:.3f} ± {s:.3f}"


def report(args) -> None:
    parts = {p.stem.replace("cal_partial_", ""): json.loads(p.read_text()) for p in sorted(CACHE.glob("cal_partial_*.json"))}
    if not parts:
        raise SystemExit("no partial results in benchmarks/cache/")
    per_seed = [r for p in parts.values() for r in p["records"]]
    df = pd.DataFrame([r for r in per_seed if r.get("negatives", "-") != "-" and "seed" in r])
    agg = (df.groupby(["source", "split", "negatives", "method", "metric"])["value"]
           .agg(["mean", "std", "count"]).reset_index())
    records = []
    for r in per_seed:
        records.append({**r, "split": r["split"] + (f"/{r['negatives']}" if r.get("negatives", "-") != "-" else "")})
    for r in agg.itertuples():
        records.append({"dataset": f"STRING>=900 x {r.source}", "split": f"{r.split}/{r.negatives}", "method": r.method,
                        "metric": f"{r.metric}_mean", "value": float(r.mean), "std": float(r.std), "seeds": int(r.count),
                        "source": r.source})
    for r in records:  # strict JSON: undefined metrics (e.g. no pair in the cosine window) become null
        for k, v in list(r.items()):
            if isinstance(v, float) and not np.isfinite(v):
                r[k] = None
    device = f"CPU ({platform.processor() or platform.machine()}), 1 thread, shared 2-core machine"
    with open(RESULTS / f"{NAME}.json", "w") as fh:
        json.dump({"benchmark": NAME, "device": device, "meta": {k: v["meta"] for k, v in parts.items()},
                   "records": records}, fh, indent=1, default=float)
    write_md(agg, parts, df)


def write_md(agg: pd.DataFrame, parts: dict, df: pd.DataFrame) -> None:
    metas = {k: v["meta"] for k, v in parts.items() if k != "profile"}
    any_meta = next((m for k, m in metas.items() if "@" not in k), next(iter(metas.values())))
    cfg = any_meta["config"]
    L = [f"# {NAME}: CAL on STRING associations, three splits, two kinds of negatives\n",
         "Produced by `benchmarks/cal_associations.py` (features from `benchmarks/build_cal_features.py`). "
         "Every number is mean ± SD over seeds; each seed re-draws the split, the negatives and the weights.\n",
         "## Data\n",
         f"- Associations: STRING v12 human (`string_v12_human.tsv.gz`, combined score without text mining) "
         f">= {cfg['min_score']}, restricted to the **common gene universe** (genes with all four feature sources): "
         f"**{any_meta['n_genes']} genes, {any_meta['n_pairs']} pairs**. Every source is scored on identical pairs.",
         "- Negatives never include any STRING pair of the file (score >= 400), are distinct and 1 per positive "
         "(AUPRC baseline 0.5). `uniform`: random gene pairs from the split's pool. `degree`: each negative's ends "
         "have the same **full-graph** degree (>= 900 graph within the universe) as the positive's ends "
         "(exact degree, or the 10 nearest in degree rank when fewer genes share it).",
         "- Splits: `train_edges` = the paper's setting (train on all pairs, test on the same pairs; pool = all genes). "
         "`heldout_edges` = 20% of undirected pairs held out (a pair and its reverse are one row; pool = all genes). "
         "`node_disjoint` = 20% of genes held out; training uses only pairs among the other genes; test positives AND "
         "negatives have both ends in the held-out gene set; pairs crossing the boundary are used by neither side.",
         "- Feature sources (each reduced to <= 50 dims; provenance in the JSON `meta`):"]
    for k, m in metas.items():
        if "@" in k:
            c = m["config"]
            L.append(f"  - `{k}`: same features as `{k.split('@')[0]}`, CAL/MLP with hidden {list(c['hidden'])}, "
                     f"{c['epochs']} epochs, batch {c['batch']}, lr {c['lr']} (splits run: see tables)")
            continue
        L.append(f"  - `{k}`: {m['provenance'].get('steps', '')} (source: {m['provenance'].get('source', 'see steps')})")
    L += ["- Leakage: the gene-set source uses NON-curated libraries only (ChEA, TRANSFAC/JASPAR, CMAP up/down, "
          "MSigDB computational/oncogenic, C8 cell types); KEGG, Reactome, CORUM, WikiPathways, BioCarta, GO and "
          "Hallmark are excluded, so features do not share a source with STRING's curated-database channel. We "
          "evaluate on the combined score. Caveat: the text source embeds UniProt-derived descriptions, which can "
          "name complexes or partners from the literature.",
          "",
          "## Methods and metrics\n",
          f"- **CAL**: residual MLP f(x) = normalize(a x̂ + (1-a) MLP(x̂)), a = {cfg['alpha']}, symmetric InfoNCE, "
          f"temperature 0.05. **Scaled down** for a shared 2-core CPU: hidden {list(cfg['hidden'])} (published 1024 x 3), "
          f"{cfg['epochs']} epochs (published 100), batch {cfg['batch']} (published 512), AdamW lr {cfg['lr']} "
          "(published 3e-4), warmup 20 steps + cosine, 1 thread.",
          f"- **MLP_BCE**: plain MLP with the same widths, link head w·(g(u)⊙g(v))+c, BCE against random training-gene "
          f"pairs, same epochs, lr 1e-3. Not trained on `train_edges`.",
          "- **raw_cosine**: cosine of the input features. **degree_train**: deg(u)·deg(v) in the training graph. "
          "**degree_full_diagnostic**: the same on the full graph (uses test edges: not a fair predictor, it measures how "
          "much of a split a degree bias can solve). **common_neighbours / adamic_adar**: training graph (edge splits only; "
          "0 for every node-disjoint pair).",
          "- AUROC; AUPRC; **xb AUROC** = AUROC on pairs with raw feature cosine in [-0.2, 0.2] (positives and negatives "
          "both filtered; counts in the JSON); **Spearman(deg)** = Spearman of the method's score with the mean full-graph "
          "degree of the positive pairs' ends.",
          ""]
    seeds = int(agg["count"].max())
    L.append(f"Seeds: {seeds}. Columns: AUROC / xb AUROC / AUPRC / Spearman(deg).\n")
    order = ["CAL", "MLP_BCE", "raw_cosine", "adamic_adar", "common_neighbours", "degree_train", "degree_full_diagnostic"]
    for split in SPLITS:
        for neg in ("uniform", "degree"):
            sub = agg[(agg.split == split) & (agg.negatives == neg)]
            if sub.empty:
                continue
            n_pos = int(df[(df.split == split) & (df.negatives == neg)]["n_pos"].mean())
            L.append(f"### {split}, {neg} negatives (~{n_pos} positives + as many negatives per seed)\n")
            L.append("| source | method | AUROC | xb AUROC | AUPRC | Spearman(deg) |")
            L.append("|---|---|---|---|---|---|")
            for source in metas:
                for method in order:
                    s = sub[(sub.source == source) & (sub.method == method)].set_index("metric")
                    if s.empty:
                        continue
                    cell = [(_fmt(s.loc[m, "mean"], s.loc[m, "std"]) if m in s.index else "n/a")
                            for m in ("auroc", "xb_auroc", "auprc", "spearman_degree")]
                    L.append(f"| {source} | {method} | " + " | ".join(cell) + " |")
            L.append("")
    # which source carries signal beyond its own cosine
    L.append("## Which feature source carries association signal beyond its own cosine?\n")
    L.append("Node-disjoint, degree-matched negatives, xb AUROC (mean over seeds):\n")
    L.append("| source | CAL | raw cosine | CAL - cosine | MLP_BCE |")
    L.append("|---|---|---|---|---|")
    nd = agg[(agg.split == "node_disjoint") & (agg.negatives == "degree") & (agg.metric == "xb_auroc")]
    for source in metas:
        v = nd[nd.source == source].set_index("method")["mean"]
        if "CAL" in v:
            L.append(f"| {source} | {v['CAL']:.3f} | {v['raw_cosine']:.3f} | {v['CAL'] - v['raw_cosine']:+.3f} | "
                     f"{v.get('MLP_BCE', float('nan')):.3f} |")
    L.append("")
    if "profile" in parts:
        L.append("## Training speed (25,000 pairs, HER2ST features)\n")
        L.append("| configuration | seconds per 100 epochs | threads | epochs timed |")
        L.append("|---|---|---|---|")
        for r in parts["profile"]["records"]:
            L.append(f"| {r['method']} | {r['value']:.0f} | {r['threads']} | {r['epochs_timed']} |")
        L.append("")
    t = df.groupby("source").size()
    secs = {k: m["seconds"] for k, m in metas.items()}
    L.append("Wall time per source (s, all seeds and splits, shared CPU): " +
             ", ".join(f"{k} {v:.0f}" for k, v in secs.items()) + ".\n")
    (RESULTS / f"{NAME}.md").write_text("\n".join(L))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", default="her2st,leukemia,genesets,text,combined")
    ap.add_argument("--splits", default=",".join(SPLITS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--hidden", default="256")
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--alpha", type=float, default=0.5)
    ap.add_argument("--min-score", type=int, default=900)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-mlp", action="store_true", help="skip the MLP + BCE baseline")
    ap.add_argument("--tag", default="", help="suffix for the source label of this configuration (e.g. 256x2_40ep)")
    ap.add_argument("--report", action="store_true", help="merge partial results into benchmarks/results/")
    ap.add_argument("--profile", action="store_true", help="time training at published vs benchmark width")
    args = ap.parse_args()
    if args.report:
        report(args)
    elif args.profile:
        profile(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
