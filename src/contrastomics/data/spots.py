"""Spatial sections as the arrays CoMTIP trains and predicts on: one patch and one log-expression
row per spot, from HER2ST sections and Visium-style folders (sections without an image are left out)."""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import InputError
from .patches import extract_patches
from .spatial import expression_matrix, has_image, log_normalize, read_her2st, read_visium, select_genes


@dataclass
class Spots:
    """Spots of several sections: ``patches`` ``uint8 (N, out_px, out_px, 3)``, ``values``
    ``float32 (N, len(genes))`` log-normalised expression, ``sections`` and ``obs_names`` one per spot."""

    patches: np.ndarray
    values: np.ndarray
    genes: list[str]
    sections: list[str]
    obs_names: list[str]


def section_list(sections: str | Sequence[str] | None) -> list[str] | None:
    """``"C2, C3"`` or a list -> a list; ``None`` or ``""`` -> ``None`` (all sections)."""
    if isinstance(sections, str):
        return [s.strip() for s in sections.split(",") if s.strip()] if sections else None
    return None if sections is None else list(sections)


def load_spots(her2st: str | os.PathLike | None = None, sections: str | Sequence[str] | None = None,
               visium: Sequence[str | os.PathLike] | None = None, size_px: float = 224.0, out_px: int = 48,
               genes: Sequence[str] | None = None, n_genes: int = 250, strict_visium: bool = False) -> Spots:
    """Read HER2ST ``sections`` (comma-separated or a list; default: all with an image) and/or
    Visium-style folders, log-normalise them, and cut a ``size_px`` (full-resolution pixels) patch
    resized to ``out_px`` around every spot. ``genes`` default to the ``n_genes`` most variable
    ones (:func:`~contrastomics.data.spatial.select_genes`). Unreadable Visium folders (an error
    with ``strict_visium``, read first) and sections without an image are left out with a warning."""
    adatas, vis = {}, {}
    for v in visium or []:
        try:
            a = read_visium(v)
            vis[a.obs["section"].iloc[0]] = a
        except InputError as e:
            if strict_visium:
                raise
            warnings.warn(f"Visium folder skipped: {e}")
    if her2st is not None:
        sel = section_list(sections)
        adatas.update(read_her2st(her2st, sel, image=True, require_image=sel is None))
    adatas.update(vis)
    if not adatas:
        raise InputError("no usable section: give --her2st (and --sections) or --visium")
    no_img = [k for k, a in adatas.items() if not has_image(a)]
    if no_img:
        warnings.warn(f"{len(no_img)} sections have no image and are left out: {', '.join(no_img)}")
        adatas = {k: a for k, a in adatas.items() if k not in no_img}
    if not adatas:
        raise InputError("none of the sections has an H&E image")
    for a in adatas.values():
        log_normalize(a)
    if genes is None:
        genes, _ = select_genes(list(adatas.values()), n_genes=n_genes)
    patches, values, labels = [], [], []
    for k, a in adatas.items():
        patches.append(extract_patches(a, size_px=size_px, out_px=out_px, progress=True))
        values.append(expression_matrix(a, genes))
        labels += [k] * a.n_obs
    obs_names = [n for a in adatas.values() for n in a.obs_names]
    return Spots(np.concatenate(patches), np.concatenate(values), list(genes), labels, obs_names)


def load_expression(her2st: str | os.PathLike | None, sections: str | Sequence[str],
                    genes: Sequence[str]) -> np.ndarray:
    """Log expression ``(N, len(genes))`` of HER2ST sections read without images (for
    expression-only pretraining of the gene branch)."""
    if her2st is None:
        raise InputError("--pretrain-sections needs --her2st")
    sel = section_list(sections) or []
    adatas = read_her2st(her2st, sel, image=False)
    if not adatas:
        raise InputError(f"none of the pretraining sections {sel} could be read", her2st)
    mats = []
    for a in adatas.values():
        log_normalize(a)
        mats.append(expression_matrix(a, genes))
    return np.concatenate(mats)
