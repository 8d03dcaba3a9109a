"""Deprecated alias of :mod:`contrastomics.enrichment` (the GSEA / ORA result readers moved there).

Names are looked up lazily: the data layer does not import the enrichment layer above it.
"""
from __future__ import annotations

import importlib

_MOVED = {
    "STANDARD_COLUMNS": "read", "REQUIRED_COLUMNS": "read", "as_standard": "read", "demo_result_path": "read",
    "detect_format": "read", "read_gsea_result": "read", "read_gsea_results": "read", "split_conditions": "read",
    "to_gseapy_table": "read", "FORMATS": "layouts", "first_per_row": "gene_lists",
    "lists_from_codes": "gene_lists", "split_genes": "gene_lists", "split_gene_column": "gene_lists",
    "_split_genes": "gene_lists.split_genes", "_split_gene_column": "gene_lists.split_gene_column",
}


def __getattr__(name):
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, _, attr = _MOVED[name].partition(".")
    return getattr(importlib.import_module(f"contrastomics.enrichment.{module}"), attr or name)


def __dir__():
    return sorted(_MOVED)
