"""contrastomics: contrastive learning on biological knowledge.

Gene sets (GSFM), gene sets + pathway text (gtCLIP) and GSEA post-processing (``cluster``), gene
association learning on interaction networks (CAL) and image / gene-text pretraining for spatial
transcriptomics (CoMTIP).
"""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import InputError

__all__ = ["InputError", "__version__"]


def __getattr__(name):  # lazy: importing the package must not load torch
    if name == "cluster_gsea":
        from .cluster import cluster_gsea
        return cluster_gsea
    raise AttributeError(name)
