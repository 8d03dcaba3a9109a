"""`contrastomics cal` sub-commands: train, score, neighbours, evaluate."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .._io import check_output

app = typer.Typer(no_args_is_help=True)

MODEL_OPT = typer.Option(..., "--model", "-m", help="CAL model folder (from `contrastomics cal train`).")


def _hidden(text: str) -> tuple[int, ...]:
    from ..errors import InputError

    try:
        dims = tuple(int(h) for h in text.split(",") if h.strip())
    except ValueError:
        raise InputError(f"--hidden must be comma-separated integers, not {text!r}") from None
    if not dims or min(dims) < 1:
        raise InputError(f"--hidden must list positive widths, not {text!r}")
    return dims


FEATURES_ARG = typer.Argument(None, help="Gene feature matrix: TSV/CSV/parquet (genes as rows) or .h5ad (genes as var).",
                              show_default=False)
PAIRS_ARG = typer.Argument(None, help="STRING links file or a table of gene pairs with a score column.",
                           show_default=False)
FEATURES_OPT = typer.Option(None, "--features", "-f", help="Same as the FEATURES argument.")
PAIRS_OPT = typer.Option(None, "--pairs", "-p", help="Same as the PAIRS argument.")
#: `cal train`'s recipe, chosen on a validation gene split (benchmarks/decisions/cal.md); `cal evaluate`
#: scores the same one by default
DEFAULT_EPOCHS, DEFAULT_LR = 30, 4e-3


def _pick(arg: Optional[Path], opt: Optional[Path], what: str) -> Path:
    """Accept the input either as a positional argument or as --features / --pairs."""
    from ..errors import InputError

    if arg is not None and opt is not None and arg != opt:
        raise InputError(f"{what} given twice ({arg} and --{what} {opt}); give it once")
    if arg is None and opt is None:
        raise InputError(f"missing {what}: give it as an argument or with --{what} FILE")
    return arg if arg is not None else opt


def _check_training(epochs: Optional[int], batch_size: int, lr: float, threads: int, pca_dims: int,
                    info: Optional[Path]) -> None:
    """Options shared by ``train`` and ``evaluate``, checked before any file is read or written."""
    from ..errors import InputError
    from . import checks

    checks.at_least(epochs, 1, "--epochs")
    checks.contrastive_batch(batch_size, "pair")
    checks.positive(lr, "--lr")
    checks.at_least(threads, 0, "--threads")      # 0 = torch default
    checks.at_least(pca_dims, 0, "--pca")         # 0 = keep the features
    if info is not None and not Path(info).is_file():
        raise InputError("--info file not found", info)


def _load_inputs(features: Path, pairs: Path, min_score: float, score_column: Optional[str], info: Optional[Path],
                 pca_dims: int, genes_as: str):
    from ..data.features import pca, read_features
    from ..data.string import read_pairs

    feats = read_features(features, genes_as=genes_as)
    if pca_dims and pca_dims < feats.shape[1]:
        feats = pca(feats, pca_dims)
    p = read_pairs(pairs, min_score, score_column=score_column, info=info, genes=list(feats.index))
    return feats, p


@app.command()
def train(
    features: Optional[Path] = FEATURES_ARG,
    pairs: Optional[Path] = PAIRS_ARG,
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write."),
    features_opt: Optional[Path] = FEATURES_OPT,
    pairs_opt: Optional[Path] = PAIRS_OPT,
    min_score: float = typer.Option(900, help="Keep pairs with score >= this (STRING 0-1000 scale; 0.9 also accepted)."),
    score_column: Optional[str] = typer.Option(None, help="Score column (default combined_score/score; e.g. experiments)."),
    info: Optional[Path] = typer.Option(None, help="STRING protein.info file to map 9606.ENSP ids to symbols."),
    pca_dims: int = typer.Option(50, "--pca", help="Reduce features to this many principal components (0 = keep)."),
    genes_as: str = typer.Option("auto", help="rows | columns | auto (AnnData: var)."),
    hidden: str = typer.Option("256", help="MLP hidden widths. Default: chosen on a validation gene split "
                                             "(benchmarks/decisions/cal.md; published: 1024,1024,1024)."),
    alpha: float = typer.Option(0.5, help="Residual mixing a in normalize(a x + (1-a) MLP(x))."),
    temperature: float = typer.Option(0.05, help="InfoNCE temperature."),
    epochs: Optional[int] = typer.Option(None, show_default="30; 100 with --published", help="Training epochs "
                                         "(default chosen on a validation gene split, benchmarks/decisions/cal.md)."),
    batch_size: int = typer.Option(512, help="Pairs per batch (in-batch negatives)."),
    lr: float = typer.Option(DEFAULT_LR, help="AdamW learning rate (published 3e-4)."),
    published: bool = typer.Option(False, "--published", help="Use the paper's recipe: hidden 1024,1024,1024, "
                                   "batch 512, lr 3e-4, 100 epochs unless --epochs is given (overrides --hidden, "
                                   "--batch-size, --lr)."),
    seed: int = typer.Option(0, help="Random seed."),
    device: str = typer.Option("auto", help="auto | cpu | cuda."),
    threads: int = typer.Option(0, help="torch CPU threads (0 = torch default)."),
):
    """Train CAL on associated gene pairs over per-gene features."""
    import torch

    from ..models.cal import CALConfig
    from ..training.cal import PUBLISHED_RECIPE, cli_train_config, train_cal
    from . import checks

    features, pairs = _pick(features, features_opt, "features"), _pick(pairs, pairs_opt, "pairs")
    dims = PUBLISHED_RECIPE["hidden_dims"] if published else _hidden(hidden)
    if published:
        batch_size, lr = PUBLISHED_RECIPE["batch_size"], PUBLISHED_RECIPE["lr"]
    _check_training(epochs, batch_size, lr, threads, pca_dims, info)
    checks.fraction(alpha, "--alpha")
    checks.positive(temperature, "--temperature")
    checks.device(device)
    check_output(out, folder=True)
    if threads:
        torch.set_num_threads(threads)
    feats, p = _load_inputs(features, pairs, min_score, score_column, info, pca_dims, genes_as)
    typer.echo(f"{feats.shape[0]} genes x {feats.shape[1]} features; {len(p)} pairs "
               f"({p.meta.get('n_pairs_unknown_gene', 0)} dropped for genes without features)", err=True)
    epochs = epochs if epochs is not None else (PUBLISHED_RECIPE["epochs"] if published else DEFAULT_EPOCHS)
    cfg = CALConfig(in_dim=feats.shape[1], hidden_dims=dims, alpha=alpha, temperature=temperature)
    model, res = train_cal(feats, p, cfg, cli_train_config(len(p), epochs, batch_size, lr, seed, device))
    model.save_pretrained(out)
    typer.echo(f"saved {out} (final loss {res.history[-1]['loss']:.4f}, {res.seconds:.0f} s)", err=True)


@app.command()
def score(
    model: Path = MODEL_OPT,
    genes: List[str] = typer.Option(..., "--genes", "-g", help="A pair 'A,B' (repeat for more pairs)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write a TSV instead of printing."),
):
    """CAL association score (and raw feature cosine) of gene pairs."""
    import warnings

    from ..errors import InputError
    from ..models.cal import CAL

    if out is not None:
        check_output(out, folder=False)
    pairs, seen = [], set()
    for g in genes:
        parts = [x.strip() for x in g.split(",") if x.strip()]
        if len(parts) != 2:
            raise InputError(f"--genes expects two genes 'A,B', got {g!r}")
        if parts[0] == parts[1]:
            raise InputError(f"--genes {g!r} is a self-pair; give two different genes")
        key = frozenset(parts)
        if key in seen:  # A,B and B,A score the same: print each pair once
            warnings.warn(f"--genes {g!r} repeats an earlier pair (possibly reversed); scored once")
            continue
        seen.add(key)
        pairs.append(parts)
    m = CAL.from_pretrained(model)
    df = m.score([a for a, _ in pairs], [b for _, b in pairs])
    _emit(df, out)


@app.command()
def neighbours(
    gene: str = typer.Argument(..., help="Query gene."),
    model: Path = MODEL_OPT,
    k: int = typer.Option(20, "-k", help="Number of partners."),
    include_known: bool = typer.Option(False, help="Also list known (training) interactors."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write a TSV instead of printing."),
):
    """Top predicted partners of GENE that are not known interactors, with their raw feature cosine."""
    from ..errors import InputError
    from ..models.cal import CAL

    if k < 1:
        raise InputError(f"-k must be >= 1, not {k}")
    if out is not None:
        check_output(out, folder=False)
    m = CAL.from_pretrained(model)
    _emit(m.neighbours(gene, k=k, include_known=include_known), out)


def _emit(df, out: Optional[Path]) -> None:
    if out is not None:
        from .._io import atomic_write

        with atomic_write(out) as fh:
            df.to_csv(fh, sep="\t", index=False, float_format="%.4f")
        return
    from rich.console import Console
    from rich.table import Table

    t = Table()
    for c in df.columns:
        t.add_column(str(c))
    for row in df.itertuples(index=False):
        t.add_row(*[f"{v:.4f}" if isinstance(v, float) else str(v) for v in row])
    Console().print(t)


@app.command()
def evaluate(
    features: Optional[Path] = FEATURES_ARG,
    pairs: Optional[Path] = PAIRS_ARG,
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write all records as JSON."),
    features_opt: Optional[Path] = FEATURES_OPT,
    pairs_opt: Optional[Path] = PAIRS_OPT,
    splits: str = typer.Option("train_edges,heldout_edges,node_disjoint", help="Splits to run."),
    seeds: str = typer.Option("0,1,2", help="Comma-separated seeds (split, negatives and weights)."),
    test_frac: float = typer.Option(0.2, help="Fraction of pairs (edge split) or genes (node split) held out."),
    min_score: float = typer.Option(900, help="Positive pairs: score >= this."),
    score_column: Optional[str] = typer.Option(None, help="Score column (e.g. experiments for the experimental channel)."),
    info: Optional[Path] = typer.Option(None, help="STRING protein.info file for id mapping."),
    pca_dims: int = typer.Option(50, "--pca", help="PCA dims (0 = keep)."),
    genes_as: str = typer.Option("auto", help="rows | columns | auto."),
    hidden: str = typer.Option("256", help="Hidden widths for CAL and the MLP baseline."),
    epochs: int = typer.Option(DEFAULT_EPOCHS, help="Epochs for CAL and the MLP baseline (`cal train`'s default)."),
    batch_size: int = typer.Option(512, help="Pairs per batch."),
    lr: float = typer.Option(DEFAULT_LR, help="Learning rate (`cal train`'s default)."),
    mlp_baseline: bool = typer.Option(True, help="Also train the MLP + BCE link-prediction baseline."),
    threads: int = typer.Option(0, help="torch CPU threads (0 = default)."),
):
    """Honest evaluation: paper setting, held-out edges, node-disjoint genes; uniform and
    degree-matched negatives; CAL beside cosine, degree, neighbourhood and MLP baselines."""
    import json

    import torch

    from .._io import atomic_write
    from ..data.string import read_pairs
    from ..errors import InputError
    from ..evaluate.associations import SPLITS, summary_table
    from ..training.cal import benchmark_cal
    from . import checks

    features, pairs = _pick(features, features_opt, "features"), _pick(pairs, pairs_opt, "pairs")
    split_list = [s.strip() for s in splits.split(",") if s.strip()]
    unknown = [s for s in split_list if s not in SPLITS]
    if not split_list or unknown:
        raise InputError(f"--splits: unknown split(s) {', '.join(unknown) or repr(splits)}; use {', '.join(SPLITS)}")
    seed_list = checks.int_list(seeds, "--seeds")
    if not 0 < test_frac < 1:
        raise InputError(f"--test-frac must be in (0, 1), got {test_frac}")
    dims = _hidden(hidden)
    _check_training(epochs, batch_size, lr, threads, pca_dims, info)
    if out is not None:
        check_output(out, folder=False)
    if threads:
        torch.set_num_threads(threads)
    feats, p = _load_inputs(features, pairs, min_score, score_column, info, pca_dims, genes_as)
    genes = list(feats.index)
    p = p.reindex(genes)
    try:  # negatives avoid every listed pair, whatever its score
        known = read_pairs(pairs, None, score_column=score_column, info=info, genes=genes)
    except Exception:
        known = p
    records = benchmark_cal(feats, p, known, split_list, seed_list, test_frac, dims, epochs, batch_size, lr,
                            mlp_baseline, log=lambda msg: typer.echo(msg, err=True))
    _emit(summary_table(records), None)
    if out is not None:
        with atomic_write(out) as fh:
            json.dump({"benchmark": "cal_evaluate", "records": [{"dataset": str(pairs), **r} for r in records]},
                      fh, indent=1, default=float)
