"""`contrastomics gsfm` sub-commands: train, embed, predict, gene-function.

Heavy imports (torch) happen inside the commands so ``contrastomics --help`` stays fast. Every
problem with the user's input is raised as :class:`~contrastomics.errors.InputError` (printed as one
line by :func:`contrastomics.cli.main`); outputs are written atomically.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import List, Optional

import typer

from .._io import atomic_path, check_output
from ..errors import InputError
from . import checks

app = typer.Typer(no_args_is_help=True)


def _read_library(spec: str, min_size: int, max_size: int):
    """A built-in name (GO_BP, GO_MF, GO_CC, GO, DO), a GMT / Enrichr / MSigDB file, or
    ``file.obo+file.gaf``; then the size filter."""
    from ..data.library import read_library

    lib = read_library(spec)
    n = len(lib)
    lib = lib.filter_size(min_size, max_size)
    if len(lib) == 0:
        raise InputError(f"no gene set of {spec} has between {min_size} and {max_size} genes ({n} sets read)")
    if len(lib) < n:
        warnings.warn(f"{spec}: kept {len(lib)} of {n} gene sets with {min_size}-{max_size} genes")
    return lib


def _threads(n: Optional[int]) -> None:
    import torch

    if n:
        torch.set_num_threads(n)


def _load_model(path: Path):
    from ..models.gsfm import GSFM

    return GSFM.from_pretrained(path)


def _check_table_out(out: Optional[Path]) -> None:
    """Before any work: ``--out`` ends in a table suffix and can be written."""
    if out is None:
        return
    if out.suffix.lower() not in {".parquet", ".csv", ".tsv", ".txt"}:
        raise InputError("--out must end in .parquet, .csv, .tsv or .txt (.txt is written tab-separated)", out)
    check_output(out, folder=False)


def _write_table(df, out: Path) -> None:
    """DataFrame -> ``.parquet`` / ``.csv`` / ``.tsv`` or ``.txt`` (tab-separated) by suffix, atomically."""
    suffix = out.suffix.lower()
    with atomic_path(out) as tmp:
        if suffix == ".parquet":
            df.to_parquet(tmp)
        else:
            df.to_csv(tmp, sep="," if suffix == ".csv" else "\t", index=False)


def _print_table(df, title: str, columns: List[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    for c in columns:
        t.add_column(c)
    for row in df[columns].itertuples(index=False):
        t.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row])
    Console().print(t)


@app.command()
def train(
    library: List[str] = typer.Option(..., "--library", "-l", help="Built-in name (GO_BP, GO, DO...), GMT / "
                                      "MSigDB table file, or obo+gaf; repeat to pool several libraries."),
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write (model.safetensors, config.json, vocab.txt)."),
    vocab: Optional[Path] = typer.Option(None, help="Gene vocabulary file (one symbol per line); default: "
                                         "every gene of the libraries. Genes outside it are counted and dropped."),
    min_size: int = typer.Option(5, help="Smallest gene set used for training."),
    max_size: int = typer.Option(1000, help="Largest gene set used for training."),
    d_model: int = typer.Option(256, help="Embedding (bottleneck) width."),
    hidden: int = typer.Option(512, help="Encoder hidden width (published 512)."),
    decoder_hidden: int = typer.Option(256, help="Decoder hidden width (published 256)."),
    dropout: float = typer.Option(0.2),
    partition: float = typer.Option(0.8, help="Share of each set's genes fed as input in training; the rest "
                                    "is the denoising target (1 = plain autoencoder)."),
    weighted_loss: str = typer.Option("none", help="none, unseen (score only genes outside the input) or "
                                      "balance (up-weight the set's genes)."),
    loss: str = typer.Option("bce", help="bce (published) or softmax (multinomial over genes)."),
    prior_bias: bool = typer.Option(False, "--prior-bias", help="Start the output bias at each gene's log "
                                    "frequency (faster start; not in the published recipe)."),
    epochs: int = typer.Option(50),
    batch_size: int = typer.Option(256),
    lr: float = typer.Option(1e-3),
    seed: int = typer.Option(0),
    threads: Optional[int] = typer.Option(None, help="torch CPU threads."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run from its checkpoint."),
    checkpoint_dir: Optional[Path] = typer.Option(None, help="Default: OUT.checkpoints beside OUT."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
):
    """Pretrain a GSFM gene-set autoencoder and save it as a model folder."""
    from ..data.genesets import GeneSetLibrary
    from ..models.gsfm import GSFMConfig
    from ..training.gsfm import pretrain_to_folder

    for value, option in ((d_model, "--d-model"), (hidden, "--hidden"), (decoder_hidden, "--decoder-hidden"),
                          (epochs, "--epochs"), (batch_size, "--batch-size"), (min_size, "--min-size")):
        checks.at_least(value, 1, option)
    checks.at_least(max_size, min_size, "--max-size")
    checks.at_least(seed, 0, "--seed")
    checks.fraction(dropout, "--dropout", closed=False)
    checks.positive(lr, "--lr")
    checks.threads(threads)
    cfg = dict(d_model=d_model, hidden_dims=(hidden,), decoder_hidden_dims=(decoder_hidden,), dropout=dropout,
               partition=partition, weighted_loss=weighted_loss, loss=loss)
    GSFMConfig(vocab_size=3, **cfg)  # validate the model options before reading data or training
    check_output(out, folder=True)
    if checkpoint_dir is not None:
        check_output(checkpoint_dir, folder=True, option="--checkpoint-dir")
    ckpt = (checkpoint_dir or out.with_name(out.name + ".checkpoints")) / "checkpoint.pt"
    if resume and not ckpt.exists():
        warnings.warn(f"--resume: no checkpoint at {ckpt}; training starts from scratch")
    _threads(threads)
    libs = [_read_library(s, min_size, max_size) for s in library]
    lib = libs[0] if len(libs) == 1 else GeneSetLibrary.concat(libs, name="+".join(library))
    _, result = pretrain_to_folder(lib, out, cfg, vocab=vocab, epochs=epochs, batch_size=batch_size, lr=lr,
                                   seed=seed, progress=progress, resume=resume, checkpoint_dir=checkpoint_dir,
                                   prior_bias=prior_bias, log=lambda m: typer.echo(m, err=True))
    last = result.history[-1]["loss"] if result.history else float("nan")
    typer.echo(f"saved {out} (final loss {last:.4f}, {result.seconds:.0f}s)", err=True)


@app.command()
def embed(
    model: Path = typer.Option(..., "--model", "-m", help="GSFM model folder (or hub id available offline)."),
    gmt: Path = typer.Option(..., "--gmt", help="Gene sets to embed (GMT, gzip allowed)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output table: .parquet, .csv, .tsv or .txt (tab-separated)."),
    normalize: bool = typer.Option(False, help="L2-normalise the embeddings."),
    threads: Optional[int] = typer.Option(None, help="torch CPU threads."),
):
    """Embed every gene set of a GMT file: one row per set (gene_set, n_genes, n_unknown, e0, e1...)."""
    from ..data.library import read_library
    from ..models.gsfm import embedding_table

    checks.threads(threads)
    _check_table_out(out)
    _threads(threads)
    lib = read_library(gmt, format="gmt")
    df = embedding_table(_load_model(model), lib, normalize=normalize, source=gmt)
    _write_table(df, out)
    typer.echo(f"wrote {len(df)} embeddings ({df.shape[1] - 3}-d) to {out}", err=True)


def _split_genes(genes: str) -> List[str]:
    out = [g.strip() for g in genes.replace(";", ",").replace(" ", ",").split(",") if g.strip()]
    if not out:
        raise InputError("--genes is empty: give symbols separated by commas, e.g. TP53,MDM2,CDKN1A")
    return out


@app.command()
def predict(
    model: Path = typer.Option(..., "--model", "-m", help="GSFM model folder."),
    genes: str = typer.Option(..., "--genes", "-g", help="Input gene set, comma-separated symbols."),
    k: int = typer.Option(50, "--top", "-k", help="How many genes to list."),
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="Also write the ranking (.tsv/.csv/.parquet; .txt as TSV)."),
):
    """Rank the genes that complete a gene set (input genes excluded)."""
    gene_list = _split_genes(genes)
    if k < 1:
        raise InputError("--top must be >= 1")
    _check_table_out(out)
    m = _load_model(model)
    df = m.predict(gene_list, k=k)
    unknown = set(df.attrs.get("unknown") or ())
    if unknown:
        shown = sorted(unknown)
        warnings.warn(f"{len(unknown)} of {len(gene_list)} input genes are not in the model vocabulary and were "
                      f"ignored: {', '.join(shown[:10])}{' ...' if len(shown) > 10 else ''}")
    if out is not None:
        _write_table(df, out)
    used = [g for g in gene_list if g not in unknown]
    _print_table(df, f"genes completing {{{', '.join(used[:6])}{'...' if len(used) > 6 else ''}}}",
                 ["rank", "gene", "score"])


@app.command("gene-function")
def gene_function(
    model: Path = typer.Option(..., "--model", "-m", help="GSFM model folder."),
    gene: str = typer.Option(..., "--gene", help="Gene symbol."),
    library: str = typer.Option("GO_BP", "--library", "-l", help="Built-in name (GO_BP, GO_MF, GO_CC, DO) or a "
                                "GMT / MSigDB table file."),
    k: int = typer.Option(20, "--top", "-k", help="How many terms to list."),
    novel_only: bool = typer.Option(False, "--novel-only", help="Hide terms already annotated with the gene."),
    min_size: int = typer.Option(5), max_size: int = typer.Option(500),
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="Also write the ranking (.tsv/.csv/.parquet; .txt as TSV)."),
):
    """Rank the terms of a library for one gene (the GSFM paper's gene pages).

    Each term's genes (without the gene itself) are fed to the model; terms are ranked by the
    z-score of the gene's logit against the term's other candidate genes.
    """
    from ..models.gsfm import predict_gene_function

    if k < 1:
        raise InputError("--top must be >= 1")
    _check_table_out(out)
    m = _load_model(model)
    lib = _read_library(library, min_size, max_size)
    df = predict_gene_function(m, gene, lib, k=k, include_known=not novel_only)
    if df.attrs.get("n_terms_skipped"):
        warnings.warn(f"{df.attrs['n_terms_skipped']} terms of {library} share no gene with the model vocabulary "
                      f"and were skipped")
    if out is not None:
        _write_table(df, out)
    _print_table(df, f"{df.attrs['gene']}: predicted {library} terms", ["rank", "term", "name", "zscore", "known"])
