"""GSEA post-processing: cluster significant pathways into labelled communities.

``cluster_gsea`` is the user API (see :mod:`contrastomics.cluster.api`); the rooms below it are
``embed`` (joint gtCLIP space), ``graph`` (sparse kNN), ``communities`` (Leiden, MCL, small
clusters), ``labels`` (representatives, c-TF-IDF) and ``baselines`` (EnrichmentMap, DAVID kappa,
GO semantic).
"""
from .api import METHODS, ClusterResult, cluster_gsea, prepare, run_clustering

__all__ = ["METHODS", "ClusterResult", "cluster_gsea", "prepare", "run_clustering"]
