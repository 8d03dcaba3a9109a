"""Enrichment results: read every common GSEA / ORA tool's table into one standard frame
(:mod:`.read`, following the per-tool :mod:`.layouts`), and run GSEA with gseapy (:mod:`.run`)."""
from .layouts import FORMATS
from .read import (REQUIRED_COLUMNS, STANDARD_COLUMNS, as_standard, demo_result_path, detect_format,
                   read_conditions, read_gsea_result, read_gsea_results, split_conditions, standard_table,
                   to_gseapy_table)
from .run import (RANK_METHODS, load_gene_sets, rank_genes, read_cls, read_expression, read_rnk, run_gsea,
                  run_prerank, run_to_folder)

__all__ = ["FORMATS", "REQUIRED_COLUMNS", "STANDARD_COLUMNS", "as_standard", "demo_result_path", "detect_format",
           "read_conditions", "read_gsea_result", "read_gsea_results", "split_conditions", "standard_table",
           "to_gseapy_table", "RANK_METHODS", "load_gene_sets", "rank_genes", "read_cls", "read_expression",
           "read_rnk", "run_gsea", "run_prerank", "run_to_folder"]
