"""Per-gene feature matrices: read, clean, reduce.

A feature matrix is a :class:`pandas.DataFrame` with one row per gene (index = gene symbol or id)
and one column per feature (expression in a sample, a spot, an embedding dimension...). CAL and
its baselines read rows of it. Files may hold genes as rows (TSV/CSV/parquet) or as ``var`` of an
AnnData (``.h5ad``), in which case the matrix is transposed so that genes become rows.
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_path, atomic_write, open_text
from ..errors import InputError

FEATURE_SUFFIXES = (".tsv", ".tsv.gz", ".txt", ".txt.gz", ".csv", ".csv.gz", ".parquet", ".pq", ".h5ad")


def read_features(path: str | os.PathLike, genes_as: str = "auto", layer: str | None = None,
                  gene_column: str | None = None, clean: bool = True) -> pd.DataFrame:
    """Read a gene feature matrix.

    Parameters
    ----------
    path
        TSV / CSV (optionally gzipped) or parquet with a gene column (the first column, or
        ``gene_column``) and numeric feature columns; or an AnnData ``.h5ad``.
    genes_as
        ``"rows"``, ``"columns"`` (a samples x genes table, transposed on reading) or ``"auto"``:
        rows for tables, ``var`` for AnnData (``obs x var`` is transposed to ``var x obs``).
    layer
        AnnData layer to read instead of ``X``.
    clean
        Run :func:`clean_features` (drops NaN rows and zero-variance genes with a warning).

    Returns
    -------
    DataFrame ``(n_genes, n_features)`` of float32, index = gene names (str).
    """
    p = Path(path)
    if not p.exists():
        raise InputError("feature file not found", p)
    name = p.name.lower()
    if name.endswith(".h5ad"):
        df = _read_anndata(p, layer, genes_as)
    elif name.endswith((".parquet", ".pq")):
        try:
            df = pd.read_parquet(p)
        except Exception as e:
            raise InputError(f"cannot read parquet file ({e})", p) from None
        df = _index_genes(df, gene_column, p)
    else:
        with open_text(p) as fh:
            first = fh.readline()
        sep = "," if (name.endswith((".csv", ".csv.gz")) or first.count(",") > first.count("\t")) else "\t"
        try:
            df = pd.read_csv(p, sep=sep, comment=None, low_memory=False)
        except Exception as e:
            raise InputError(f"cannot parse as a table ({e})", p) from None
        df = _index_genes(df, gene_column, p)
    if genes_as == "columns":
        df = df.T
    elif genes_as not in {"rows", "auto"}:
        raise InputError(f"genes_as must be rows, columns or auto, not {genes_as!r}")
    df.index = df.index.astype(str).str.strip()
    df.columns = df.columns.astype(str)
    if df.shape[0] == 0 or df.shape[1] == 0:
        raise InputError(f"feature matrix is empty ({df.shape[0]} genes x {df.shape[1]} features)", p)
    return clean_features(df, source=p) if clean else df


def _read_anndata(p: Path, layer: str | None, genes_as: str) -> pd.DataFrame:
    import anndata
    import scipy.sparse as sp

    try:
        ad = anndata.read_h5ad(p)
    except Exception as e:
        raise InputError(f"cannot read AnnData file ({e})", p) from None
    if layer is not None and layer not in ad.layers:
        raise InputError(f"layer {layer!r} not found; layers: {sorted(ad.layers)}", p)
    x = ad.layers[layer] if layer else ad.X
    x = x.toarray() if sp.issparse(x) else np.asarray(x)
    df = pd.DataFrame(x, index=ad.obs_names, columns=ad.var_names)
    # AnnData is obs x var with genes as var: genes become rows unless told they are obs
    return df if genes_as == "rows" else df.T


def _index_genes(df: pd.DataFrame, gene_column: str | None, p: Path) -> pd.DataFrame:
    if gene_column is not None:
        if gene_column not in df.columns:
            raise InputError(f"gene column {gene_column!r} not found; columns: {list(df.columns)[:8]}", p)
        col = gene_column
    elif df.index.dtype == object and not isinstance(df.index, pd.RangeIndex):
        return _numeric(df, p)
    else:
        col = df.columns[0]
    df = df.set_index(col)
    return _numeric(df, p)


def _numeric(df: pd.DataFrame, p: Path) -> pd.DataFrame:
    num = df.apply(pd.to_numeric, errors="coerce")
    bad = [c for c in df.columns if num[c].isna().all() and not df[c].isna().all()]
    if bad:
        if len(bad) == df.shape[1]:
            raise InputError("no numeric feature columns found", p)
        warnings.warn(f"{p.name}: ignoring {len(bad)} non-numeric column(s): {bad[:5]}")
        num = num.drop(columns=bad)
    return num


def clean_features(df: pd.DataFrame, source: str | os.PathLike | None = None) -> pd.DataFrame:
    """Drop genes that cannot be used and say how many.

    Removes rows with any NaN/inf value, rows with zero variance across features (constant
    profiles have no direction, so their cosine is undefined) and duplicate gene names (first kept).
    Raises :class:`InputError` when nothing is left.
    """
    where = f"{Path(source).name}: " if source is not None else ""
    x = df.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(x).all(axis=1)
    n_nan = int((~finite).sum())
    if n_nan:
        warnings.warn(f"{where}dropped {n_nan} gene(s) with NaN/inf features (e.g. "
                      f"{', '.join(map(str, df.index[~finite][:3]))})")
    keep = finite.copy()
    with np.errstate(invalid="ignore"):
        sd = np.where(finite, np.nanstd(np.where(finite[:, None], x, 0.0), axis=1), 0.0)
    zero = finite & (sd <= 1e-12)
    if zero.any():
        warnings.warn(f"{where}dropped {int(zero.sum())} gene(s) with zero-variance features (e.g. "
                      f"{', '.join(map(str, df.index[zero][:3]))})")
        keep &= ~zero
    dup = df.index.duplicated(keep="first")
    if dup.any():
        warnings.warn(f"{where}dropped {int(dup.sum())} duplicate gene row(s) (first kept), e.g. "
                      f"{', '.join(map(str, df.index[dup][:3]))}")
        keep &= ~dup
    out = df.loc[keep].astype(np.float32)
    if out.shape[0] < 2:
        raise InputError(f"fewer than 2 usable genes after cleaning ({n_nan} NaN, {int(zero.sum())} "
                         "zero-variance)", source)
    return out


def pca(df: pd.DataFrame, k: int = 50, seed: int = 0, center: bool = True) -> pd.DataFrame:
    """Project genes onto the top ``k`` principal components of their feature profiles.

    ``k`` is capped at ``min(n_genes, n_features) - 1`` (with a warning). Uses randomized SVD
    (scikit-learn) so 10k x 10k matrices take seconds.

    Returns
    -------
    DataFrame ``(n_genes, k)`` float32, columns ``PC1..PCk``.
    """
    from sklearn.decomposition import PCA, TruncatedSVD

    x = df.to_numpy(dtype=np.float32)
    cap = min(x.shape) - 1
    if k > cap:
        warnings.warn(f"PCA: asked for {k} components but the matrix is {x.shape[0]} x {x.shape[1]}; using {cap}")
        k = cap
    if k < 1:
        raise InputError(f"cannot run PCA on a {x.shape[0]} x {x.shape[1]} matrix")
    est = (PCA(n_components=k, svd_solver="randomized", random_state=seed) if center
           else TruncatedSVD(n_components=k, random_state=seed))
    z = est.fit_transform(x).astype(np.float32)
    return pd.DataFrame(z, index=df.index, columns=[f"PC{i + 1}" for i in range(k)])


def standardize_profiles(df: pd.DataFrame) -> pd.DataFrame:
    """Z-score each gene's profile across features (so PCA of genes reflects co-variation, not
    abundance)."""
    x = df.to_numpy(dtype=np.float64)
    sd = x.std(axis=1, keepdims=True)
    z = (x - x.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1.0)
    return pd.DataFrame(z.astype(np.float32), index=df.index, columns=df.columns)


def cosine_of_pairs(x: np.ndarray, a: np.ndarray, b: np.ndarray, chunk: int = 100_000) -> np.ndarray:
    """Cosine similarity between rows ``x[a[i]]`` and ``x[b[i]]`` ``(n_pairs,)``."""
    n = np.linalg.norm(x, axis=1, keepdims=True)
    u = x / np.where(n > 0, n, 1.0)
    out = np.empty(len(a), dtype=np.float32)
    for s in range(0, len(a), chunk):
        out[s:s + chunk] = np.einsum("ij,ij->i", u[a[s:s + chunk]], u[b[s:s + chunk]])
    return out


def write_features(df: pd.DataFrame, path: str | os.PathLike, meta: dict | None = None) -> None:
    """Write a feature matrix as parquet (atomically); ``meta`` goes into a JSON sidecar
    ``<path>.json`` (provenance)."""
    with atomic_path(path) as tmp:
        df.reset_index(names="gene").to_parquet(tmp, index=False)
    if meta is not None:
        with atomic_write(str(path) + ".json") as fh:
            json.dump(meta, fh, indent=1, default=str)
