"""Outputs of ``contrastomics cluster`` from a :class:`~contrastomics.cluster.ClusterResult`.

``tables`` (TSV, JSON, summary), ``figures`` (the map: plotly, PNG), ``heatmap`` (NES per
condition), ``html`` (the offline ``report.html``), ``graphml`` (the network) and ``outputs``
(:func:`write_outputs`, every file at once).
"""
from .outputs import cluster_to_folder, write_outputs
from .tables import json_text, jsonable, summary_table, tsv_text

__all__ = ["cluster_to_folder", "json_text", "jsonable", "summary_table", "tsv_text", "write_outputs"]
