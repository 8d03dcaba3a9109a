"""Run GSEA with gseapy and get the standard result frame (:mod:`contrastomics.enrichment.read`).

:func:`run_prerank` (a ranked list, gseapy ``prerank``) and :func:`run_gsea` (an expression matrix
and two classes, gseapy ``gsea``; probes collapsed to symbols by their maximum, GSEA desktop's
``Max_probe``); :func:`run_to_folder` writes a table ``contrastomics cluster`` reads. The library is
anything :func:`contrastomics.data.library.read_library` takes; gseapy runs on one thread by default.
"""
from __future__ import annotations

import json
import logging
import os
import re
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .._io import atomic_write, open_text
from ..data.genesets import GeneSetLibrary
from ..data.library import read_library
from ..errors import InputError
from .read import as_standard, to_gseapy_table

log = logging.getLogger(__name__)

RANK_METHODS = ("signal_to_noise", "t_test")


# ------------------------------------------------------------------------------------------ inputs
def load_gene_sets(library) -> GeneSetLibrary:
    """The library to test: :func:`~contrastomics.data.library.read_library` of a GeneSetLibrary,
    a GMT path, ``{term: genes}`` or a built-in name, with the first of duplicate set names kept
    and every built-in set (no size filter: gseapy filters by ``min_size``/``max_size``)."""
    return read_library(library, on_duplicate="first", min_size=1, max_size=None)


def read_rnk(path: str | os.PathLike) -> pd.Series:
    """Read a ranked list (``gene<TAB>score``, header optional, ``#`` lines skipped).

    Returns
    -------
    Series of scores indexed by gene, sorted from highest to lowest. Duplicate genes keep their
    first row (with a warning); a non-numeric score raises :class:`InputError` with its line.
    """
    genes, scores = [], []
    with open_text(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = re.split(r"\t|,", line)
            if len(fields) < 2:
                raise InputError("expected 'gene<TAB>score'", path, lineno)
            try:
                score = float(fields[1])
            except ValueError:
                if not genes:  # a header line
                    continue
                raise InputError(f"score {fields[1]!r} is not a number", path, lineno) from None
            genes.append(fields[0].strip())
            scores.append(score)
    if not genes:
        raise InputError("no ranked genes", path)
    rnk = pd.Series(scores, index=genes, dtype=float)
    return _clean_ranking(rnk, str(path))


def _clean_ranking(rnk: pd.Series, source: str) -> pd.Series:
    rnk = rnk[rnk.notna()]
    dup = rnk.index.duplicated()
    if dup.any():
        warnings.warn(f"{source}: {int(dup.sum())} duplicate gene(s) in the ranking, first kept "
                      f"(e.g. {', '.join(map(str, rnk.index[dup][:3]))})", stacklevel=3)
        rnk = rnk[~dup]
    return rnk.sort_values(ascending=False, kind="mergesort")


def read_cls(path: str | os.PathLike) -> list[str]:
    """Read a categorical ``.cls`` file: ``n k 1`` / ``# A B`` / one label per sample."""
    with open_text(path) as fh:
        lines = [ln.strip() for ln in fh if ln.strip()]
    if len(lines) < 3:
        raise InputError("a .cls file has 3 lines: 'n_samples n_classes 1', '# names', labels", path)
    try:
        n = int(lines[0].split()[0])
    except (ValueError, IndexError):
        raise InputError(f"first line {lines[0]!r} should start with the number of samples", path, 1) from None
    labels = lines[2].split()
    if len(labels) != n:
        raise InputError(f"{len(labels)} labels for {n} samples", path, 3)
    return labels


def read_expression(data, chip: str | os.PathLike | None = None) -> pd.DataFrame:
    """Expression matrix (genes x samples) from a ``.gct``, a gseapy-style text table or a frame.

    Leading non-numeric columns are identifiers: the first is the row id (symbol or probe), the
    others (``Description``, ``NAME``...) are dropped. With ``chip`` (a GSEA ``.chip`` file:
    ``Probe Set ID``, ``Gene Symbol``), probe ids are mapped to symbols; unmapped probes are counted
    in a warning and dropped. Rows sharing a symbol are collapsed to their per-sample maximum.

    Returns
    -------
    DataFrame ``(n_genes, n_samples)`` of floats indexed by gene.
    """
    source = "<DataFrame>"
    if not isinstance(data, pd.DataFrame):
        source = str(data)
        with open_text(data) as fh:
            first = fh.readline()
        skip = 2 if first.startswith("#1.") else 0
        data = pd.read_csv(data, sep="\t", skiprows=skip, dtype=str, keep_default_na=False)
    ids = []
    for col in data.columns:
        if pd.to_numeric(data[col], errors="coerce").notna().mean() > 0.9:
            break
        ids.append(col)
    if not ids:
        raise InputError("expression table has no identifier column before the sample columns", source)
    values = data.drop(columns=ids).apply(pd.to_numeric, errors="coerce")
    if values.shape[1] < 2:
        raise InputError("expression table needs at least two sample columns", source)
    values.index = data[ids[0]].astype(str).str.strip()
    if chip is not None:
        values = _map_probes(values, chip)
    n_dup = int(values.index.duplicated().sum())
    if n_dup:
        log.info("%s: %d rows share a gene with another row; collapsed to the per-sample maximum", source, n_dup)
        values = values.groupby(level=0, sort=False).max()
    return values


def _map_probes(values: pd.DataFrame, chip) -> pd.DataFrame:
    table = pd.read_csv(chip, sep="\t", dtype=str, keep_default_na=False)
    if not {"Probe Set ID", "Gene Symbol"} <= set(table.columns):
        raise InputError(f"a .chip file needs 'Probe Set ID' and 'Gene Symbol' columns; found {list(table.columns)[:6]}",
                         chip)
    table = table[table["Gene Symbol"].str.strip() != ""]
    to_symbol = dict(zip(table["Probe Set ID"].str.strip(), table["Gene Symbol"].str.strip()))
    symbols = values.index.map(to_symbol)
    unmapped = symbols.isna()
    if unmapped.all():
        raise InputError("no probe id of the expression table is in the .chip file", chip)
    if unmapped.any():
        warnings.warn(f"{chip}: {int(unmapped.sum())} of {len(values)} probes have no gene symbol and were "
                      f"dropped (e.g. {', '.join(values.index[unmapped][:3])})", stacklevel=3)
    values = values[~unmapped]
    values.index = symbols[~unmapped]
    return values


def rank_genes(expr: pd.DataFrame, classes: Sequence[str], method: str = "signal_to_noise",
               pos: str | None = None, neg: str | None = None) -> pd.Series:
    """Rank genes by a two-class statistic, positive = higher in ``pos``.

    Parameters
    ----------
    expr
        ``(n_genes, n_samples)`` expression.
    classes
        One label per sample (two distinct labels).
    method
        ``"signal_to_noise"``: ``(mu_pos - mu_neg) / (sd_pos + sd_neg)`` with each ``sd`` floored at
        ``0.2 * |mu|`` (0.2 when ``mu`` is 0), as GSEA desktop does; ``"t_test"``: Welch's t.
    pos, neg
        Class labels; default the first and second label in order of appearance (as in the .cls).

    Returns
    -------
    Series of scores indexed by gene, sorted descending.
    """
    labels = list(dict.fromkeys(classes))
    if len(labels) != 2:
        raise InputError(f"need exactly two classes, got {len(labels)}: {', '.join(map(str, labels[:5]))}")
    if len(classes) != expr.shape[1]:
        raise InputError(f"{len(classes)} class labels for {expr.shape[1]} samples")
    pos = labels[0] if pos is None else pos
    neg = labels[1] if neg is None else neg
    cls = np.asarray(classes)
    a, b = expr.loc[:, cls == pos].to_numpy(float), expr.loc[:, cls == neg].to_numpy(float)
    if a.shape[1] < 2 or b.shape[1] < 2:
        raise InputError("each class needs at least two samples")
    ma, mb = a.mean(1), b.mean(1)
    sa, sb = a.std(1, ddof=1), b.std(1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = _two_class_score(method, a, b, ma, mb, sa, sb)
    rnk = pd.Series(score, index=expr.index)
    bad = ~np.isfinite(score)
    if bad.any():
        warnings.warn(f"{int(bad.sum())} of {len(score)} genes have no {method} score (no variance or missing "
                      f"values) and are left out of the ranking (e.g. {', '.join(map(str, rnk.index[bad][:3]))})",
                      stacklevel=2)
    return _clean_ranking(rnk[~bad], "ranking")


def _two_class_score(method, a, b, ma, mb, sa, sb) -> np.ndarray:
    if method == "signal_to_noise":
        sa = np.maximum(sa, np.where(ma == 0, 0.2, 0.2 * np.abs(ma)))
        sb = np.maximum(sb, np.where(mb == 0, 0.2, 0.2 * np.abs(mb)))
        score = (ma - mb) / (sa + sb)
    elif method == "t_test":
        score = (ma - mb) / np.sqrt(sa ** 2 / a.shape[1] + sb ** 2 / b.shape[1])
    else:
        raise InputError(f"unknown ranking method {method!r}; choose one of {', '.join(RANK_METHODS)}")
    return score


# --------------------------------------------------------------------------------------------- run
def run_prerank(rnk, library, permutations: int = 1000, seed: int = 0, *, min_size: int = 15,
                max_size: int = 500, weight: float = 1.0, threads: int = 1) -> pd.DataFrame:
    """Preranked GSEA (gseapy ``prerank``, gene-set permutations).

    Parameters
    ----------
    rnk
        ``.rnk`` path or Series of scores indexed by gene (higher = up).
    library
        GeneSetLibrary, GMT path, ``{term: genes}`` or built-in name.
    permutations
        Gene-set permutations; nominal p-values cannot go below ``1 / permutations``.
    seed
        Random seed of the permutations.
    min_size, max_size
        Sets are tested when ``min_size <= |set ∩ ranked genes| <= max_size``.
    weight
        Enrichment-score weight ``p`` (1 = GSEA's classic weighted score).
    threads
        gseapy threads.

    Returns
    -------
    Standard frame (:data:`contrastomics.enrichment.STANDARD_COLUMNS`), rows sorted by FDR, with
    ``attrs`` ``method``, ``permutations``, ``seed``, ``gseapy_version``, ``n_ranked``,
    ``n_ranked_in_library``.
    """
    import gseapy

    series = read_rnk(rnk) if not isinstance(rnk, pd.Series) else _clean_ranking(rnk.astype(float), "ranking")
    lib = load_gene_sets(library)
    sets = _sets_for(lib, series.index, min_size, max_size)
    frame = series.rename_axis("gene").reset_index()
    log.info("gseapy prerank: %d genes, %d gene sets, %d permutations", len(series), len(sets), permutations)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        res = gseapy.prerank(rnk=frame, gene_sets=sets, permutation_num=permutations, seed=seed, threads=threads,
                             min_size=min_size, max_size=max_size, weight=weight, outdir=None, verbose=False)
    return _finish(res.res2d, lib, series.index, {"method": "prerank", "permutations": permutations, "seed": seed,
                                                  "min_size": min_size, "max_size": max_size, "weight": weight})


def run_gsea(expr, cls, library, permutations: int = 1000, seed: int = 0, *,
             permutation_type: str = "phenotype", method: str = "signal_to_noise", chip=None,
             min_size: int = 15, max_size: int = 500, threads: int = 1) -> pd.DataFrame:
    """Classic two-class GSEA (gseapy ``gsea``) on an expression matrix.

    Parameters
    ----------
    expr
        ``.gct`` / gseapy-style text path or ``(n_genes, n_samples)`` DataFrame (see
        :func:`read_expression`).
    cls
        ``.cls`` path (the first class of its ``#`` line is positive, as in GSEA) or one label per
        sample (the first label to appear is positive).
    library
        GeneSetLibrary, GMT path, ``{term: genes}`` or built-in name.
    permutations, seed
        Number of permutations and their seed.
    permutation_type
        ``"phenotype"`` (shuffle sample labels; GSEA's default, needs >= 7 samples per class to be
        meaningful) or ``"gene_set"``.
    method
        Ranking metric passed to gseapy (``signal_to_noise``, ``t_test``, ...).
    chip
        ``.chip`` file mapping probe ids to symbols (probe-level input).
    min_size, max_size, threads
        As in :func:`run_prerank`.

    Returns
    -------
    Standard frame, as :func:`run_prerank`.
    """
    import gseapy

    values = read_expression(expr, chip=chip)
    labels = read_cls(cls) if isinstance(cls, (str, os.PathLike)) else list(cls)
    if len(labels) != values.shape[1]:
        raise InputError(f"{len(labels)} class labels for {values.shape[1]} samples",
                         cls if isinstance(cls, (str, os.PathLike)) else None)
    lib = load_gene_sets(library)
    sets = _sets_for(lib, values.index, min_size, max_size)
    data = values.rename_axis("gene").reset_index()
    log.info("gseapy gsea: %d genes x %d samples, %d gene sets, %d %s permutations", *values.shape, len(sets),
             permutations, permutation_type)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        # a .cls path goes to gseapy as is: its header line, not label order, names the positive class
        res = gseapy.gsea(data=data, gene_sets=sets, cls=str(cls) if isinstance(cls, (str, os.PathLike)) else labels,
                          permutation_num=permutations,
                          permutation_type=permutation_type, method=method, seed=seed, threads=threads,
                          min_size=min_size, max_size=max_size, outdir=None, verbose=False)
    return _finish(res.res2d, lib, values.index, {"method": f"gsea ({permutation_type} permutations, {method})",
                                                  "permutations": permutations, "seed": seed,
                                                  "min_size": min_size, "max_size": max_size})


def _sets_for(lib: GeneSetLibrary, genes, min_size: int, max_size: int) -> dict[str, list[str]]:
    """gseapy's input: sets with their members, after warning when few ranked genes are known."""
    known = set(lib.genes)
    n_in = sum(g in known for g in genes)
    if n_in == 0:
        raise InputError("no ranked gene is in the gene-set library: are both human gene symbols?")
    # small libraries (Hallmark: 4,384 genes) cover few ranked genes by design: compare to the smaller side
    if n_in < 0.3 * min(len(genes), len(known)):
        warnings.warn(f"only {n_in} of {len(genes)} ranked genes are in the gene-set library "
                      f"({len(known)} genes); are both human gene symbols?", stacklevel=3)
    sets = dict(zip(lib.terms, lib.gene_sets))
    if not sets:
        raise InputError("the gene-set library is empty")
    return sets


def _finish(res2d: pd.DataFrame, lib: GeneSetLibrary, genes, meta: dict) -> pd.DataFrame:
    import gseapy

    if res2d is None or len(res2d) == 0:
        raise InputError(f"no gene set had between {meta['min_size']} and {meta['max_size']} ranked genes")
    df = as_standard(res2d, format="gseapy", source="gseapy")
    names = dict(zip(lib.terms, lib.names))
    # GMT libraries carry no names (name == term): keep the humanised term then
    df["name"] = [names[t] if names.get(t) and names[t] != t else n for t, n in zip(df["term"], df["name"])]
    df = df.sort_values(["fdr", "pvalue"], kind="mergesort").reset_index(drop=True)
    known = set(lib.genes)
    df.attrs.update(meta, gseapy_version=gseapy.__version__, n_ranked=len(genes),
                    n_ranked_in_library=int(sum(g in known for g in genes)))
    return df


def run_to_folder(data, library="GO_BP", out="gsea", *, cls=None, chip=None, permutations: int = 1000,
                  seed: int = 0, min_size: int = 15, max_size: int = 500,
                  permutation_type: str = "phenotype", method: str = "signal_to_noise", threads: int = 1) -> Path:
    """One-step GSEA for the ``contrastomics gsea`` command: run and write a table ``cluster`` reads.

    Parameters
    ----------
    data
        ``.rnk`` ranked list (preranked GSEA), or an expression table (``.gct``/text) with ``cls``
        (two-class GSEA).
    library
        GMT path or built-in name.
    out
        Output folder; it receives ``gseapy.gene_set.prerank.report.csv`` (or ``...gsea.report.csv``)
        in gseapy's own layout and ``params.json``. The folder itself can be passed to
        ``contrastomics cluster``.
    cls, chip, permutations, seed, min_size, max_size, permutation_type, method, threads
        As in :func:`run_prerank` / :func:`run_gsea`.

    Returns
    -------
    Path of the result table.
    """
    if cls is None:
        if chip is not None:
            raise InputError("--chip applies to an expression table with --cls, not to a ranked list")
        df = run_prerank(data, library, permutations=permutations, seed=seed, min_size=min_size,
                         max_size=max_size, threads=threads)
        kind = "prerank"
    else:
        df = run_gsea(data, cls, library, permutations=permutations, seed=seed, permutation_type=permutation_type,
                      method=method, chip=chip, min_size=min_size, max_size=max_size, threads=threads)
        kind = "gsea"
    out = Path(out)
    path = out / f"gseapy.gene_set.{kind}.report.csv"
    table = to_gseapy_table(df)
    table.insert(0, "Name", kind)
    with atomic_write(path) as fh:
        table.to_csv(fh, index=False, float_format="%.6g")
    params = {k: (str(v) if isinstance(v, Path) else v) for k, v in df.attrs.items() if k != "warnings"}
    params.update(input=str(data), cls=None if cls is None else str(cls), library=str(library))
    with atomic_write(out / "params.json") as fh:
        json.dump(params, fh, indent=2, default=str)
    return path
