"""Spatial transcriptomics input: HER2ST sections and Visium-style folders as AnnData.

Readers return the scanpy/squidpy layout: ``X`` raw counts (spots x genes, sparse ``float32``),
``obsm['spatial']`` spot centres ``(x, y)`` in full-resolution pixels, ``uns['spatial'][library_id]``
with ``images['hires']`` (a downscaled ``uint8`` copy), ``scalefactors`` and ``metadata``. Also
:func:`log_normalize`, :func:`select_genes`, :func:`expression_matrix`; patch extraction and
augmentation live in :mod:`contrastomics.data.patches` (re-exported here). A bad section never
stops a multi-section read (warned, skipped); single-section readers raise
:class:`~contrastomics.errors.InputError`. Details: ``docs/comtip.md``.
"""
from __future__ import annotations

import gzip
import json
import os
import warnings
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._io import open_text
from ..errors import InputError
from .patches import augment_patches, extract_patches, spatial_library  # noqa: F401  (re-exported)

# HER2ST: spot pitch ~290 full-res px per 200 um, ST spots are 100 um across.
HER2ST_SPOT_DIAMETER_PX = 145.0
DEFAULT_IMAGE_SCALE = 0.25


# ---------------------------------------------------------------------- images
def load_image(path: str | os.PathLike, scale: float = DEFAULT_IMAGE_SCALE) -> tuple[np.ndarray, float]:
    """Read an H&E image as ``uint8`` RGB ``(H, W, 3)``, downscaled by ``scale``.

    JPEGs are decoded directly at 1/2, 1/4 or 1/8 size (DCT scaling), which is 10-20x faster than
    decoding the full 10k x 10k image and resizing. Returns the image and the exact scale factor
    achieved (hires px per full-res px, averaged over both axes).

    Images in other colour modes (RGBA, grey, CMYK, 16-bit) are converted to RGB with a warning;
    an unreadable file raises :class:`InputError`.
    """
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = None  # H&E slides are legitimately huge
    p = Path(path)
    if not p.exists():
        raise InputError("image file not found", p)
    if not 0 < scale <= 1:
        raise InputError(f"image scale must be in (0, 1], got {scale}")
    try:
        img = Image.open(p)
        full_w, full_h = img.size
        target = (max(1, round(full_w * scale)), max(1, round(full_h * scale)))
        if img.format == "JPEG" and scale < 1:
            img.draft("RGB", target)
        img.load()
    except (UnidentifiedImageError, OSError) as e:
        raise InputError(f"cannot read image ({e})", p) from None
    if img.mode != "RGB":
        mode = img.mode
        if mode in ("I;16", "I;16B", "I;16L", "I"):
            arr = np.asarray(img, dtype=np.float64)
            arr = (255 * (arr - arr.min()) / max(1.0, arr.max() - arr.min())).astype(np.uint8)
            img = Image.fromarray(arr).convert("RGB")
        elif mode == "RGBA" or mode == "LA" or (mode == "P" and "transparency" in img.info):
            # transparent background of a slide scan is white glass, not black
            rgba = img.convert("RGBA")
            bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img = Image.alpha_composite(bg, rgba).convert("RGB")
        else:
            img = img.convert("RGB")
        warnings.warn(f"{p.name}: image colour mode {mode!r} converted to RGB", stacklevel=2)
    if img.size != target:
        img = img.resize(target, Image.BILINEAR)
    sx, sy = img.size[0] / full_w, img.size[1] / full_h
    return np.asarray(img, dtype=np.uint8), float((sx + sy) / 2)


def _attach_image(adata, library_id: str, image: np.ndarray | None, scale: float, spot_diameter: float,
                  image_path: str | None) -> None:
    entry = {"images": {}, "scalefactors": {"tissue_hires_scalef": scale,
                                            "spot_diameter_fullres": spot_diameter},
             "metadata": {"image_path": image_path}}
    if image is not None:
        entry["images"]["hires"] = image
    adata.uns.setdefault("spatial", {})[library_id] = entry


def has_image(adata, library_id: str | None = None) -> bool:
    """True when ``adata`` carries an H&E image for ``library_id`` (or its only library)."""
    lib = spatial_library(adata, library_id, required=False)
    return lib is not None and "hires" in adata.uns["spatial"][lib].get("images", {})



def drop_spots_outside_image(adata, margin: float = 0.0, library_id: str | None = None, name: str = ""):
    """Remove spots whose centre lies outside the image (by ``margin`` full-res px); warns with the count."""
    lib = spatial_library(adata, library_id)
    sf = adata.uns["spatial"][lib]["scalefactors"]["tissue_hires_scalef"]
    h, w = adata.uns["spatial"][lib]["images"]["hires"].shape[:2]
    xy = np.asarray(adata.obsm["spatial"], dtype=np.float64) * sf
    m = margin * sf
    inside = (xy[:, 0] >= -m) & (xy[:, 1] >= -m) & (xy[:, 0] < w + m) & (xy[:, 1] < h + m)
    n_out = int((~inside).sum())
    if n_out:
        warnings.warn(f"{name or lib}: {n_out} of {len(inside)} spots lie outside the image and were dropped",
                      stacklevel=2)
        adata = adata[inside].copy()
    return adata


# ---------------------------------------------------------------------- counts
def _dedupe_genes(df: pd.DataFrame, path) -> pd.DataFrame:
    """Sum columns that share a gene symbol (the same gene counted under two ids)."""
    dup = df.columns.duplicated(keep=False)
    if dup.any():
        names = sorted(set(df.columns[dup]))
        warnings.warn(f"{Path(path).name}: {len(names)} duplicated gene names were summed "
                      f"({', '.join(names[:5])}{'...' if len(names) > 5 else ''})", stacklevel=3)
        df = df.T.groupby(level=0, sort=False).sum().T
    return df


def read_count_table(path: str | os.PathLike, spots_as_rows: bool = True) -> pd.DataFrame:
    """Read a dense count table (TSV/CSV, optionally gzip) to a spots x genes ``DataFrame``.

    Non-numeric cells raise :class:`InputError` naming the line; duplicated gene columns are summed
    with a warning.
    """
    p = Path(path)
    with open_text(p) as fh:
        head = fh.readline()
    sep = "\t" if head.count("\t") >= head.count(",") else ","
    try:
        df = pd.read_csv(p, sep=sep, index_col=0, compression="infer")
    except Exception as e:  # pandas parser errors carry line numbers in the message
        raise InputError(f"cannot parse count table ({e})", p) from None
    # pandas renames repeated headers to "GENE.1"; take the names from the header line itself
    names = [c.strip().strip('"') for c in head.rstrip("\r\n").split(sep)]
    if len(names) == df.shape[1] + 1:
        df.columns = names[1:]
    if not spots_as_rows:
        df = df.T
    df.columns = df.columns.astype(str)
    df.index = df.index.astype(str)
    bad = df.dtypes.map(lambda t: not np.issubdtype(t, np.number))
    if bad.any():
        col = df.columns[np.flatnonzero(bad.values)[0]]
        vals = pd.to_numeric(df[col], errors="coerce")
        row = int(np.flatnonzero(vals.isna().values & df[col].notna().values)[0]) if vals.isna().any() else 0
        raise InputError(f"non-numeric count in column {col!r}", p, line=row + 2)
    if df.isna().any().any():
        row = int(np.flatnonzero(df.isna().any(axis=1).values)[0])
        raise InputError("missing count value", p, line=row + 2)
    return _dedupe_genes(df, p)


def _to_anndata(counts: pd.DataFrame, obs: pd.DataFrame, xy: np.ndarray):
    import anndata as ad

    X = sp.csr_matrix(counts.to_numpy(dtype=np.float32))
    a = ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=pd.Index(counts.columns, name="gene")))
    a.obsm["spatial"] = np.asarray(xy, dtype=np.float64)
    return a


# ---------------------------------------------------------------------- HER2ST
def her2st_sections(root: str | os.PathLike) -> pd.DataFrame:
    """The ``section_index.csv`` of a HER2ST folder (one row per section), with existence checks."""
    root = Path(root)
    idx = root / "section_index.csv"
    if idx.exists():
        df = pd.read_csv(idx)
    else:  # plain almaan/her2st checkout: derive the index from the file names
        cnts = sorted((root / "data" / "ST-cnts").glob("*.tsv.gz"))
        if not cnts:
            raise InputError("not a HER2ST folder: no section_index.csv and no data/ST-cnts/*.tsv.gz", root)
        rows = []
        for c in cnts:
            s = c.name.split(".")[0]
            imgs = sorted((root / "data" / "ST-imgs" / s[0] / s).glob("*.jpg"))
            rows.append({"section": s, "patient": s[0], "counts_file": str(c.relative_to(root)),
                         "spot_file": f"data/ST-spotfiles/{s}_selection.tsv",
                         "image_file": str(imgs[0].relative_to(root)) if imgs else ""})
        df = pd.DataFrame(rows)
    df["image_present"] = [bool(f) and isinstance(f, str) and (root / f).exists() for f in df["image_file"]]
    return df.set_index("section", drop=False)


def read_her2st_section(root: str | os.PathLike, section: str, image: bool = True,
                        image_scale: float = DEFAULT_IMAGE_SCALE):
    """Read one HER2ST section (counts, spot pixel coordinates, optionally the H&E image).

    Parameters
    ----------
    root
        The HER2ST folder (with ``section_index.csv`` and ``data/``).
    section
        Section id, e.g. ``"C2"``.
    image
        Load the H&E image into ``uns['spatial'][section]['images']['hires']``. A section whose
        image is missing is returned without one, with a warning (its expression stays usable).
    image_scale
        Downscaling of the stored image (hires px per full-res px).

    Returns
    -------
    AnnData ``(n_spots, n_genes)`` with raw counts, ``obs`` columns ``section``, ``patient``,
    ``array_x``, ``array_y`` and ``obsm['spatial']`` in full-resolution pixels.
    """
    root = Path(root)
    index = her2st_sections(root)
    if section not in index.index:
        raise InputError(f"unknown HER2ST section {section!r} (have {', '.join(index.index)})", root)
    row = index.loc[section]
    cpath = root / row["counts_file"]
    counts = read_count_table(cpath)
    spath = root / row["spot_file"]
    with open_text(spath):  # a clear error when the spot file is missing or empty
        pass
    spots = pd.read_csv(spath, sep="\t")
    need = {"x", "y", "pixel_x", "pixel_y"}
    if not need <= set(spots.columns):
        raise InputError(f"spot file lacks columns {sorted(need - set(spots.columns))}", spath, line=1)
    spots.index = spots["x"].astype(int).astype(str) + "x" + spots["y"].astype(int).astype(str)
    spots = spots[~spots.index.duplicated()]
    missing = counts.index.difference(spots.index)
    if len(missing):
        warnings.warn(f"{section}: {len(missing)} of {len(counts)} spots in the count matrix have no "
                      f"coordinates in {spath.name} and were dropped", stacklevel=2)
        counts = counts.loc[counts.index.intersection(spots.index, sort=False)]
    spots = spots.loc[counts.index]
    obs = pd.DataFrame({"section": section, "patient": str(row["patient"]),
                        "array_x": spots["x"].to_numpy(int), "array_y": spots["y"].to_numpy(int)},
                       index=[f"{section}_{s}" for s in counts.index])
    adata = _to_anndata(counts, obs, spots[["pixel_x", "pixel_y"]].to_numpy(float))
    img, scale, ipath = None, image_scale, None
    if image:
        if not row["image_present"]:
            warnings.warn(f"{section}: no H&E image in this folder (expected {row['image_file']}); "
                          "the section is loaded without image (expression-only)", stacklevel=2)
        else:
            ipath = root / row["image_file"]
            img, scale = load_image(ipath, image_scale)
    _attach_image(adata, section, img, scale, HER2ST_SPOT_DIAMETER_PX, None if ipath is None else str(ipath))
    if img is not None:
        adata = drop_spots_outside_image(adata, name=section)
    return adata


def read_her2st(root: str | os.PathLike, sections: Iterable[str] | None = None, image: bool = True,
                image_scale: float = DEFAULT_IMAGE_SCALE, require_image: bool = False,
                progress: bool = True) -> dict:
    """Read several HER2ST sections; a bad section is reported and skipped, the others go on.

    Returns ``{section: AnnData}`` in the order asked. With ``require_image`` sections without an
    H&E image are skipped (with one warning listing them).
    """
    index = her2st_sections(root)
    sections = list(index.index if sections is None else sections)
    out, failed, no_image = {}, [], []
    it = sections
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(sections, desc="reading HER2ST", unit="section", leave=False)
    for s in it:
        if require_image and s in index.index and not index.loc[s, "image_present"]:
            no_image.append(s)
            continue
        try:
            out[s] = read_her2st_section(root, s, image=image, image_scale=image_scale)
        except InputError as e:
            failed.append(s)
            warnings.warn(f"section {s} skipped: {e}", stacklevel=2)
    if no_image:
        warnings.warn(f"{len(no_image)} sections skipped for lack of an H&E image: {', '.join(no_image)}",
                      stacklevel=2)
    if failed:
        warnings.warn(f"{len(failed)} of {len(sections)} sections could not be read: {', '.join(failed)}",
                      stacklevel=2)
    return out


# ---------------------------------------------------------------------- Visium-style folders
def read_visium(folder: str | os.PathLike, library_id: str | None = None, image: bool = True,
                image_scale: float | None = None):
    """Read a Space Ranger / Visium-style folder so users can bring their own data.

    Expected layout (what Space Ranger writes; only the matrix and positions are required)::

        folder/
          filtered_feature_bc_matrix.h5        or  filtered_feature_bc_matrix/{matrix.mtx.gz,
                                                   features.tsv.gz, barcodes.tsv.gz}
                                               or  counts.tsv / counts.csv (spots x genes)
          spatial/tissue_positions.csv          (header: barcode,in_tissue,array_row,array_col,
                                                 pxl_row_in_fullres,pxl_col_in_fullres)
                  or tissue_positions_list.csv  (same columns, no header)
          spatial/scalefactors_json.json
          spatial/tissue_hires_image.png        (or tissue_lowres_image.png, or any image given
                                                 as a full-resolution file: image.{tif,jpg,png})

    Only ``in_tissue == 1`` spots are kept. Coordinates in ``obsm['spatial']`` are full-res pixels
    ``(x = pxl_col, y = pxl_row)``. When only a hires/lowres PNG is present its scale factor comes
    from ``scalefactors_json.json``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("Visium folder not found", folder)
    library_id = library_id or folder.name
    counts = _read_visium_matrix(folder)
    spatial = folder / "spatial"
    pos_file = next((spatial / n for n in ("tissue_positions.csv", "tissue_positions_list.csv",
                                            "tissue_positions.parquet") if (spatial / n).exists()), None)
    if pos_file is None:
        raise InputError("no spatial/tissue_positions.csv or tissue_positions_list.csv", folder)
    cols = ["barcode", "in_tissue", "array_row", "array_col", "pxl_row_in_fullres", "pxl_col_in_fullres"]
    if pos_file.suffix == ".parquet":
        pos = pd.read_parquet(pos_file)
    else:
        with open(pos_file) as fh:
            first = fh.readline()
        has_header = "barcode" in first or "in_tissue" in first
        pos = pd.read_csv(pos_file, header=0 if has_header else None)
        if not has_header:
            if pos.shape[1] != 6:
                raise InputError(f"expected 6 columns, found {pos.shape[1]}", pos_file, line=1)
            pos.columns = cols
    missing_cols = set(cols) - set(pos.columns)
    if missing_cols:
        raise InputError(f"positions file lacks columns {sorted(missing_cols)}", pos_file, line=1)
    pos = pos.set_index("barcode")
    pos = pos[pos["in_tissue"].astype(int) == 1]
    common = counts.index.intersection(pos.index, sort=False)
    n_nopos = len(counts) - len(common)
    if len(common) == 0:
        raise InputError("no barcode of the count matrix is an in-tissue spot of the positions file", pos_file)
    if n_nopos:
        warnings.warn(f"{library_id}: {n_nopos} of {len(counts)} barcodes are not in-tissue spots of "
                      f"{pos_file.name} and were dropped", stacklevel=2)
    counts, pos = counts.loc[common], pos.loc[common]
    obs = pd.DataFrame({"section": library_id, "patient": library_id,
                        "array_x": pos["array_col"].to_numpy(int), "array_y": pos["array_row"].to_numpy(int)},
                       index=counts.index)
    xy = pos[["pxl_col_in_fullres", "pxl_row_in_fullres"]].to_numpy(float)
    adata = _to_anndata(counts, obs, xy)
    sf_file = spatial / "scalefactors_json.json"
    sfs = {}
    if sf_file.exists():
        try:
            sfs = json.loads(sf_file.read_text())
        except json.JSONDecodeError as e:
            raise InputError(f"not valid JSON ({e.msg})", sf_file, e.lineno) from None
    diameter = float(sfs.get("spot_diameter_fullres", 0.0)) or float(np.median(_nn_dist(xy))) * 0.5
    img, scale, ipath = None, 1.0, None
    if image:
        full = next((p for n in ("image.tif", "image.tiff", "image.jpg", "image.png")
                     for p in [folder / n, spatial / n] if p.exists()), None)
        if full is not None:
            ipath = full
            img, scale = load_image(full, image_scale or DEFAULT_IMAGE_SCALE)
        else:
            for name, key in (("tissue_hires_image.png", "tissue_hires_scalef"),
                              ("tissue_lowres_image.png", "tissue_lowres_scalef")):
                if (spatial / name).exists():
                    if key not in sfs:
                        raise InputError(f"{name} needs {key} in scalefactors_json.json", sf_file)
                    ipath = spatial / name
                    img, _ = load_image(ipath, 1.0)
                    scale = float(sfs[key])
                    break
        if img is None:
            warnings.warn(f"{library_id}: no image found in {folder}; loaded without image", stacklevel=2)
    _attach_image(adata, library_id, img, scale, diameter, None if ipath is None else str(ipath))
    if img is not None:
        adata = drop_spots_outside_image(adata, name=library_id)
    return adata


def _nn_dist(xy: np.ndarray) -> np.ndarray:
    from scipy.spatial import cKDTree

    if len(xy) < 2:
        return np.array([100.0])
    d, _ = cKDTree(xy).query(xy, k=2)
    return d[:, 1]


def _read_visium_matrix(folder: Path) -> pd.DataFrame:
    h5 = folder / "filtered_feature_bc_matrix.h5"
    mtx_dir = folder / "filtered_feature_bc_matrix"
    if h5.exists():
        import h5py

        try:
            with h5py.File(h5, "r") as f:
                g = f["matrix"]
                m = sp.csc_matrix((g["data"][:], g["indices"][:], g["indptr"][:]), shape=tuple(g["shape"][:]))
                genes = [x.decode() for x in g["features"]["name"][:]]
                barcodes = [x.decode() for x in g["barcodes"][:]]
        except (OSError, KeyError) as e:
            raise InputError(f"not a 10x feature-barcode HDF5 file ({e})", h5) from None
        df = pd.DataFrame.sparse.from_spmatrix(m.T.tocsr(), index=barcodes, columns=genes).sparse.to_dense()
        return _dedupe_genes(df, h5)
    if mtx_dir.is_dir():
        import scipy.io

        def _find(stem):
            for n in (f"{stem}.gz", stem):
                if (mtx_dir / n).exists():
                    return mtx_dir / n
            raise InputError(f"missing {stem}(.gz)", mtx_dir)

        mpath = _find("matrix.mtx")
        with (gzip.open(mpath) if mpath.suffix == ".gz" else open(mpath, "rb")) as fh:
            try:
                m = scipy.io.mmread(fh).tocsr()
            except ValueError as e:
                raise InputError(f"not a Matrix Market file ({e})", mpath) from None
        fpath = _find("features.tsv") if any((mtx_dir / n).exists() for n in ("features.tsv.gz", "features.tsv")) \
            else _find("genes.tsv")
        feats = pd.read_csv(fpath, sep="\t", header=None)
        genes = feats[1 if feats.shape[1] > 1 else 0].astype(str).tolist()
        barcodes = pd.read_csv(_find("barcodes.tsv"), sep="\t", header=None)[0].astype(str).tolist()
        if m.shape != (len(genes), len(barcodes)):
            raise InputError(f"matrix is {m.shape[0]} x {m.shape[1]} but there are {len(genes)} features "
                             f"and {len(barcodes)} barcodes", mpath)
        df = pd.DataFrame(m.T.toarray(), index=barcodes, columns=genes)
        return _dedupe_genes(df, mpath)
    for n in ("counts.tsv", "counts.tsv.gz", "counts.csv", "counts.csv.gz"):
        if (folder / n).exists():
            return read_count_table(folder / n)
    raise InputError("no count matrix (filtered_feature_bc_matrix.h5, filtered_feature_bc_matrix/ or "
                     "counts.tsv)", folder)


# ---------------------------------------------------------------------- expression processing
def log_normalize(adata, target_sum: float = 1e4, layer_counts: str = "counts"):
    """Library-size normalise to ``target_sum`` per spot, then ``log1p`` (scanpy's
    ``normalize_total`` + ``log1p``). Raw counts are kept in ``layers[layer_counts]``. In place."""
    X = adata.X
    adata.layers[layer_counts] = X.copy()
    tot = np.asarray(X.sum(axis=1)).ravel()
    scale = np.where(tot > 0, target_sum / np.maximum(tot, 1e-12), 0.0).astype(np.float32)
    if sp.issparse(X):
        Y = sp.diags(scale) @ X
        Y = Y.tocsr()
        Y.data = np.log1p(Y.data)
    else:
        Y = np.log1p(X * scale[:, None])
    adata.X = Y.astype(np.float32)
    adata.uns["log1p"] = {"base": None, "target_sum": target_sum}
    return adata


def common_genes(adatas: Sequence) -> list[str]:
    """Genes present in every AnnData, in the order of the first."""
    if not adatas:
        return []
    keep = set(adatas[0].var_names)
    for a in adatas[1:]:
        keep &= set(a.var_names)
    return [g for g in adatas[0].var_names if g in keep]


def select_genes(adatas: Sequence, n_genes: int = 250, method: str = "variable",
                 min_spot_fraction: float = 0.1, exclude_prefixes: Sequence[str] = ("MT-", "RPL", "RPS")):
    """Choose the genes to model, the way the HER2ST peers do (250 genes).

    Only genes present in every AnnData and detected in at least ``min_spot_fraction`` of all spots
    are candidates; mitochondrial and ribosomal genes are left out (high counts, little tissue
    signal). ``method="variable"`` ranks by the variance of log-normalised expression pooled over
    all spots (scanpy ``highly_variable_genes``-like without binning); ``"expressed"`` ranks by mean.

    The AnnDatas must already be log-normalised (:func:`log_normalize`). Returns the genes and a
    ``DataFrame`` with ``mean``, ``variance``, ``spot_fraction`` for all of them.
    """
    if method not in {"variable", "expressed"}:
        raise InputError(f"gene selection method must be 'variable' or 'expressed', got {method!r}")
    genes = common_genes(adatas)
    genes = [g for g in genes if not g.upper().startswith(tuple(exclude_prefixes))]
    if not genes:
        raise InputError("the sections share no genes")
    mats = [a[:, genes].X for a in adatas]
    X = sp.vstack(mats).tocsr() if sp.issparse(mats[0]) else np.vstack(mats)
    n = X.shape[0]
    mean = np.asarray(X.mean(axis=0)).ravel()
    sq = X.multiply(X) if sp.issparse(X) else X ** 2
    var = np.asarray(sq.mean(axis=0)).ravel() - mean ** 2
    frac = np.asarray((X > 0).sum(axis=0)).ravel() / max(1, n)
    stats = pd.DataFrame({"mean": mean, "variance": var, "spot_fraction": frac}, index=genes)
    cand = stats[stats["spot_fraction"] >= min_spot_fraction]
    key = "variance" if method == "variable" else "mean"
    chosen = cand.sort_values(key, ascending=False).index[:n_genes].tolist()
    if len(chosen) < n_genes:
        warnings.warn(f"only {len(chosen)} genes pass the filters (asked for {n_genes})", stacklevel=2)
    return chosen, stats


def expression_matrix(adata, genes: Sequence[str]) -> np.ndarray:
    """Dense ``(n_spots, len(genes))`` ``float32`` of ``adata.X`` for ``genes``; genes absent from
    ``adata`` are zero, with a warning giving their count."""
    have = pd.Index(adata.var_names)
    pos = have.get_indexer(list(genes))
    out = np.zeros((adata.n_obs, len(genes)), dtype=np.float32)
    ok = pos >= 0
    if (~ok).any():
        warnings.warn(f"{int((~ok).sum())} of {len(genes)} genes are absent from the data and set to 0",
                      stacklevel=2)
    X = adata.X[:, pos[ok]]
    out[:, ok] = X.toarray() if sp.issparse(X) else np.asarray(X)
    return out


# ---------------------------------------------------------------------- gene descriptions
def read_string_descriptions(path: str | os.PathLike) -> dict[str, str]:
    """``{symbol: description}`` from a STRING ``protein.info`` file (``preferred_name``,
    ``annotation`` columns), e.g. ``9606.protein.info.v12.0.txt.gz``."""
    p = Path(path)
    with open_text(p) as fh:
        df = pd.read_csv(fh, sep="\t")
    df.columns = [c.lstrip("#") for c in df.columns]
    if not {"preferred_name", "annotation"} <= set(df.columns):
        raise InputError("not a STRING protein.info file (needs preferred_name and annotation columns)", p, 1)
    df = df.dropna(subset=["preferred_name"]).drop_duplicates("preferred_name")
    return dict(zip(df["preferred_name"].astype(str), df["annotation"].fillna("").astype(str)))
