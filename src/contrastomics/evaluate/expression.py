"""Metrics of predicted spot expression against measured expression (CoMTIP, BLEEP, ST-Net)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd


def pearson_per_gene(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Pearson r between prediction and truth for every gene (column), across spots.
    Genes constant in either are ``nan``."""
    p = pred - pred.mean(0)
    t = true - true.mean(0)
    den = np.sqrt((p ** 2).sum(0) * (t ** 2).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (p * t).sum(0) / den
    r[den < 1e-12] = np.nan
    return r


def pearson_by_section(pred: np.ndarray, true: np.ndarray, sections: Sequence[str],
                       genes: Sequence[str]) -> pd.DataFrame:
    """Pearson r per gene within each section: ``(n_genes, n_sections)``, sections in order of
    first appearance; ``pred`` and ``true`` are ``(n_spots, n_genes)``, ``sections`` one label per spot."""
    labels = np.asarray(sections)
    cols = {}
    for s in dict.fromkeys(labels):
        m = labels == s
        cols[s] = pearson_per_gene(pred[m], true[m])
    return pd.DataFrame(cols, index=list(genes))
