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
import time
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .._io import atomic_write, check_output, open_text
from ..data.genesets import GeneSetLibrary
from ..data.library import read_library
from ..errors import InputError
from .read import as_standard, to_gseapy_table

log = logging.getLogger(__name__)

RANK_METHODS = ("signal_to_noise", "t_test")
#: gseapy's two-class ranking metrics (``--metric``)
GSEAPY_METRICS = ("signal_to_noise", "s2n", "abs_signal_to_noise", "abs_s2n", "t_test", "ratio_of_classes",
                  "diff_of_classes", "log2_ratio_of_classes")


# ------------------------------------------------------------------------------------------ inputs
def load_gene_sets(library) -> GeneSetLibrary:
    """The library to test: :func:`~contrastomics.data.library.read_library` of a GeneSetLibrary,
    a GMT path, ``{term: genes}`` or a built-in name (duplicate set names as everywhere: see
    :func:`~contrastomics.data.genesets.read_gmt`), with every built-in set (no size filter:
    gseapy filters by ``min_size``/``max_size``)."""
    return read_library(library, min_size=1, max_size=None)


def read_rnk(path: str | os.PathLike) -> pd.Series:
    """Read a ranked list (``gene<TAB>score``, or ``gene,score``; ``#`` lines skipped).

    The first line is a header when its score is not a number (and not a missing value); any later
    non-numeric score is an :class:`InputError` naming its line, and so is a file shaped like an
    expression table (a ``.gct``, or several numeric columns). Missing (``NA``, ``nan``) and
    infinite scores are counted in a warning and left out; duplicate genes keep their first row.

    Returns
    -------
    Series of scores indexed by gene, sorted from highest to lowest.
    """
    genes, scores, lines = [], [], []
    with open_text(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.rstrip("\r\n")
            if lineno == 1 and line.startswith("#1."):
                raise InputError(_EXPRESSION_NOT_RNK.format(what="a .gct expression table"), path, 1)
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t") if "\t" in line else line.split(",")
            if len(fields) < 2:
                raise InputError("expected 'gene<TAB>score'", path, lineno)
            n_numbers = sum(_is_number(f) for f in fields[1:])
            if n_numbers >= 2:
                raise InputError(_EXPRESSION_NOT_RNK.format(what=f"a table with {n_numbers} numeric columns"),
                                 path, lineno)
            text = fields[1].strip()
            if _is_number(text):
                score = float(text)
            elif text.lower() in _MISSING:
                score = float("nan")
            elif re.fullmatch(r"[-+]?\d*,\d+", text):
                raise InputError(f"score {text!r} has a decimal comma; write it with a point", path, lineno)
            elif not genes and not lines:  # a header line
                lines.append(lineno)
                continue
            else:
                raise InputError(f"score {text!r} is not a number", path, lineno)
            if not fields[0].strip():
                raise InputError("empty gene name", path, lineno)
            genes.append(fields[0].strip())
            scores.append(score)
            lines.append(lineno)
    if not genes:
        raise InputError("no ranked genes: expected lines 'gene<TAB>score'", path)
    rnk = _clean_ranking(pd.Series(scores, index=genes, dtype=float), str(path), lines=lines[-len(genes):])
    rnk.attrs.update(source=str(path), header_line=lines[0] if len(lines) > len(genes) else None)
    return rnk


#: score cells read as a missing value, not as a header
_MISSING = frozenset({"", "na", "nan", "n/a", "#n/a", "null", "none", "-", "."})
_EXPRESSION_NOT_RNK = ("this is {what}, not a ranked list 'gene<TAB>score'; for two-class GSEA on an "
                       "expression table give its classes too: contrastomics gsea EXPR CLASSES.cls")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _clean_ranking(rnk: pd.Series, source: str, lines: Sequence[int] | None = None) -> pd.Series:
    """Drop missing and infinite scores (counted in a warning) and repeated genes (first kept)."""
    values = rnk.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        kinds = {"missing (NaN)": int(np.isnan(values).sum()), "+inf": int((values == np.inf).sum()),
                 "-inf": int((values == -np.inf).sum())}
        where = f" (first on line {lines[int(np.flatnonzero(bad)[0])]})" if lines is not None else ""
        warnings.warn(f"{source}: {int(bad.sum())} of {len(rnk)} genes have no usable score "
                      f"({', '.join(f'{n} {k}' for k, n in kinds.items() if n)}) and were left out of the "
                      f"ranking{where}, e.g. {', '.join(map(str, rnk.index[bad][:3]))}", stacklevel=3)
        rnk = rnk[~bad]
    dup = rnk.index.duplicated()
    if dup.any():
        warnings.warn(f"{source}: {int(dup.sum())} duplicate gene(s) in the ranking, first kept "
                      f"(e.g. {', '.join(map(str, rnk.index[dup][:3]))})", stacklevel=3)
        rnk = rnk[~dup]
    if len(rnk) == 0:
        raise InputError("no gene has a usable score", source if lines is not None else None)
    return rnk.sort_values(ascending=False, kind="mergesort")


def read_cls(path: str | os.PathLike) -> list[str]:
    """Read a categorical ``.cls`` file: ``n k 1`` / ``# A B`` / one label per sample.

    Labels are mapped to the class names of the ``#`` line as GSEA does (the first label used is
    the first name, and so on), so numeric labels such as ``0 0 1 1`` come back as names. Two-class
    GSEA needs exactly two classes: one class, or more than two, is an :class:`InputError`.
    """
    return _read_cls(path)[0]


def _read_cls(path) -> tuple[list[str], str]:
    """``(labels, positive class)``: the positive class is the first class the ``#`` line names."""
    with open_text(path) as fh:
        lines = [(i, ln.strip()) for i, ln in enumerate(fh, 1) if ln.strip()]
    if len(lines) < 3:
        raise InputError("a .cls file has 3 lines: 'n_samples n_classes 1', '# names', labels", path)
    try:
        n = int(lines[0][1].split()[0])
    except (ValueError, IndexError):
        raise InputError(f"first line {lines[0][1]!r} should start with the number of samples", path, 1) from None
    names = lines[1][1].lstrip("#").split() if lines[1][1].startswith("#") else []
    lineno, text = lines[2] if names else lines[1]
    labels = text.split()
    if len(labels) != n:
        raise InputError(f"{len(labels)} labels for {n} samples", path, lineno)
    used = list(dict.fromkeys(labels))
    if len(used) != 2:
        raise InputError(f"two-class GSEA needs exactly 2 classes; the labels name {len(used)} "
                         f"({', '.join(used[:5])}{'...' if len(used) > 5 else ''})", path, lineno)
    if names and not set(used) <= set(names):
        if len(names) < 2:
            raise InputError(f"the '#' line names {len(names)} class(es) ({' '.join(names)}); it needs two",
                             path, lines[1][0])
        to_name = dict(zip(used, names))
        labels = [to_name[x] for x in labels]
    return labels, next((x for x in names if x in set(labels)), labels[0])


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
    else:
        _refuse_probe_ids(values.index, source)
    n_dup = int(values.index.duplicated().sum())
    if n_dup:
        log.info("%s: %d rows share a gene with another row; collapsed to the per-sample maximum", source, n_dup)
        values = values.groupby(level=0, sort=False).max()
    return values


#: microarray probe ids: Affymetrix (1007_s_at, AFFX-..., TC01000001.hg.1), Illumina, Agilent
PROBE_ID = re.compile(r"(_at|_st)$|^AFFX[-_]|^ILMN_\d+$|^A_\d+_P\d+$|^TC\d+\.hg\.\d+$|^PH_hs_\d+$|^CUST_\d+",
                      re.IGNORECASE)


def _refuse_probe_ids(ids: pd.Index, source: str) -> None:
    """Most row ids are probe ids (no ``--chip`` given): one error that says to pass the .chip file."""
    probes = [str(x) for x in ids if PROBE_ID.search(str(x))]
    if len(probes) > 0.5 * len(ids):
        raise InputError(f"{len(probes)} of {len(ids)} row ids look like microarray probe ids (e.g. "
                         f"{', '.join(probes[:3])}), not gene symbols: pass the platform's .chip file with "
                         "--chip to map them to symbols (the Broad's MSigDB download page has them)", source)


def _map_probes(values: pd.DataFrame, chip) -> pd.DataFrame:
    with open_text(chip) as fh:  # missing/empty/gzip/UTF-16 handled like every other input
        table = pd.read_csv(fh, sep="\t", dtype=str, keep_default_na=False)
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
    if len(series) < max(2, min_size):
        header = series.attrs.get("header_line")
        raise InputError(f"only {len(series)} ranked gene(s){f' (line {header} was read as a header)' if header else ''}"
                         f"; GSEA needs at least --min-size ({min_size}) of them", series.attrs.get("source"))
    lib = load_gene_sets(library)
    sets = _sets_for(lib, series.index, min_size, max_size)
    frame = series.rename_axis("gene").reset_index()
    log.info("gseapy prerank: %d genes, %d gene sets, %d permutations...", len(series), len(sets), permutations)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        res = gseapy.prerank(rnk=frame, gene_sets=sets, permutation_num=permutations, seed=seed, threads=threads,
                             min_size=min_size, max_size=max_size, weight=weight, outdir=None, verbose=False)
    log.info("gseapy prerank: %d permutations done in %.0f s", permutations, time.perf_counter() - t0)
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

    if method.lower() not in GSEAPY_METRICS:
        raise InputError(f"unknown ranking metric {method!r} (--metric); choose one of {', '.join(GSEAPY_METRICS)}")
    cls_path = cls if isinstance(cls, (str, os.PathLike)) else None
    labels, positive = _read_cls(cls) if cls_path is not None else (list(cls), None)
    values = read_expression(expr, chip=chip)
    if len(labels) != values.shape[1]:
        raise InputError(f"{len(labels)} class labels for {values.shape[1]} samples", cls_path)
    permutation_type = _check_classes(labels, permutation_type, cls_path)
    if labels[0] != positive and cls_path is not None:  # gseapy's positive class is the first label seen
        order = np.argsort([x != positive for x in labels], kind="stable")
        values, labels = values.iloc[:, order], [labels[i] for i in order]
    lib = load_gene_sets(library)
    sets = _sets_for(lib, values.index, min_size, max_size)
    data = values.rename_axis("gene").reset_index()
    log.info("gseapy gsea: %d genes x %d samples, %d gene sets, %d %s permutations...", *values.shape, len(sets),
             permutations, permutation_type)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        # labels mapped to the .cls names, positive class first (as the file's '#' line says)
        res = gseapy.gsea(data=data, gene_sets=sets, cls=labels,
                          permutation_num=permutations,
                          permutation_type=permutation_type, method=method, seed=seed, threads=threads,
                          min_size=min_size, max_size=max_size, outdir=None, verbose=False)
    log.info("gseapy gsea: %d permutations done in %.0f s", permutations, time.perf_counter() - t0)
    return _finish(res.res2d, lib, values.index, {"method": f"gsea ({permutation_type} permutations, {method})",
                                                  "permutations": permutations, "seed": seed,
                                                  "min_size": min_size, "max_size": max_size})


def _check_classes(labels: Sequence[str], permutation_type: str, source) -> str:
    """Two classes, or an :class:`InputError`; the permutation type to use (``gene_set`` when a class
    has fewer than 3 samples, which phenotype permutations need, with a warning)."""
    if permutation_type not in ("phenotype", "gene_set"):
        raise InputError(f"--permutation-type must be phenotype or gene_set, not {permutation_type!r}")
    counts = pd.Series(list(labels)).value_counts(sort=False)
    if len(counts) != 2:
        raise InputError(f"two-class GSEA needs exactly 2 classes; the labels name {len(counts)} "
                         f"({', '.join(map(str, counts.index[:5]))})", source)
    small = [f"{k} ({n})" for k, n in counts.items() if n < 3]
    if small and permutation_type == "phenotype":
        warnings.warn(f"phenotype permutations need >= 3 samples per class; {', '.join(small)} has fewer: "
                      "using --permutation-type gene_set", stacklevel=3)
        return "gene_set"
    return permutation_type


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
    out = check_output(out, folder=True, option="--out")
    if permutations < 1:
        raise InputError(f"--permutations must be >= 1, not {permutations}")
    if min_size < 1 or max_size < min_size:
        raise InputError(f"--min-size ({min_size}) must be >= 1 and at most --max-size ({max_size})")
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
