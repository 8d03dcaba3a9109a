"""Deprecated alias of :mod:`contrastomics.enrichment.run`."""
from .enrichment.run import (RANK_METHODS, load_gene_sets, rank_genes, read_cls, read_expression,  # noqa: F401
                             read_rnk, run_gsea, run_prerank, run_to_folder)
