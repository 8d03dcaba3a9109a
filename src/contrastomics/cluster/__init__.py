"""GSEA post-processing: cluster significant pathways into labelled communities.

``cluster_gsea`` is the user API (see :mod:`contrastomics.cluster.api`); the rooms below it are
``pathways`` (standard tables -> significant pathways and their views), ``embed`` (joint gtCLIP
space), ``graph`` (sparse kNN), ``baselines`` (EnrichmentMap, DAVID kappa, GO semantic),
``communities`` (Leiden, MCL, small clusters, exact cluster counts), ``labels`` (representatives,
themes, label support), ``keywords`` (title phrases), ``layout`` (the 2-D map) and ``tables``.
"""
from .api import METHODS, ClusterOptions, ClusterResult, cluster_gsea, prepare, run_clustering

__all__ = ["METHODS", "ClusterOptions", "ClusterResult", "cluster_gsea", "prepare", "run_clustering"]
