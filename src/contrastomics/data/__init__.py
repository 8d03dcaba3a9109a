"""Data layer: gene-set libraries, GSEA results, gene ids, interaction networks, spatial data."""
from .genesets import GeneSetLibrary, read_gmt, write_gmt, humanize_term, normalize_symbol

__all__ = ["GeneSetLibrary", "read_gmt", "write_gmt", "humanize_term", "normalize_symbol"]

# ontologies and built-in libraries (gene-set data layer)
from .ontology import Ontology, Annotations, read_obo, read_gaf, annotations_to_library  # noqa: E402
from .builtin import load_library, load_ontology, list_libraries  # noqa: E402

__all__ += ["Ontology", "Annotations", "read_obo", "read_gaf", "annotations_to_library",
            "load_library", "load_ontology", "list_libraries"]
from .msigdb import read_msigdb, read_enrichr  # noqa: E402
from .library import read_library  # noqa: E402
from .genes import GeneMapper, MappingReport, human_symbols  # noqa: E402

__all__ += ["read_msigdb", "read_enrichr", "read_library", "GeneMapper", "MappingReport", "human_symbols"]
