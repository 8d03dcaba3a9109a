"""Data layer: gene-set libraries, GSEA results, gene ids, interaction networks, spatial data."""
from .genesets import GeneSetLibrary, read_gmt, write_gmt, humanize_term, normalize_symbol

__all__ = ["GeneSetLibrary", "read_gmt", "write_gmt", "humanize_term", "normalize_symbol"]
