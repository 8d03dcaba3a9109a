"""contrastomics: contrastive learning on biological knowledge.

Gene sets (GSFM), gene sets + pathway text (gtCLIP) and GSEA post-processing (``cluster_gsea``),
gene association learning on interaction networks (CAL) and image / gene-text pretraining for
spatial transcriptomics (CoMTIP). The public API below is imported lazily: ``import contrastomics``
loads neither torch nor pandas. The package layout is described in docs/architecture.md.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

from .errors import InputError

#: public name -> module that defines it (loaded on first use)
_LAZY = {
    "cluster_gsea": "cluster", "run_clustering": "cluster", "ClusterResult": "cluster", "ClusterOptions": "cluster",
    "read_gsea_result": "enrichment", "read_gsea_results": "enrichment", "as_standard": "enrichment",
    "read_library": "data.library", "read_gmt": "data.genesets", "GeneSetLibrary": "data.genesets",
    "load_library": "data.builtin", "load_ontology": "data.builtin",
    "load_model": "models.base",
    "GSFM": "models.gsfm", "GtClip": "models.gtclip", "CAL": "models.cal", "CoMTIP": "models.comtip",
}

__all__ = ["InputError", "__version__", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'contrastomics' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
