"""Data layer: gene-set libraries and ontologies, gene ids, interaction networks, gene features, spatial data."""
from .annotations import Annotations, annotations_to_library, read_gaf
from .builtin import list_libraries, load_library, load_ontology
from .genes import GeneMapper, MappingReport, human_symbols
from .genesets import GeneSetLibrary, humanize_term, normalize_symbol, read_gmt, write_gmt
from .library import read_library
from .msigdb import read_enrichr, read_msigdb
from .ontology import Ontology, read_obo

__all__ = ["GeneSetLibrary", "read_gmt", "write_gmt", "humanize_term", "normalize_symbol",
           "Ontology", "Annotations", "read_obo", "read_gaf", "annotations_to_library",
           "load_library", "load_ontology", "list_libraries",
           "read_msigdb", "read_enrichr", "read_library", "GeneMapper", "MappingReport", "human_symbols"]
