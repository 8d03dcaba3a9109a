"""Metrics of a clustering (:mod:`contrastomics.evaluate.cluster_metrics`): of a run's pathways
(:func:`evaluate`) or of a ``clusters.tsv`` written earlier (:func:`evaluate_file`)."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import open_text
from ..errors import InputError
from ..data.builtin import load_ontology
from ..data.ontology import extract_go_id, is_go_result
from ..evaluate.cluster_metrics import GoPairs, cluster_metrics
from ..evaluate.semantic import go_similarity_for
from .pathways import Pathways, prepare

#: ``summary["metrics"]["nes_coherence_note"]`` of a run with ``--split-direction``
SPLIT_NOTE = ("clusters were split by NES sign, so sign coherence is 1 by construction; run without "
              "--split-direction to measure it")


def evaluate(labels: np.ndarray, pw: Pathways, nes: np.ndarray, *, go=None, go_wang: GoPairs | None = None,
             gate=None, n_random: int = 200, seed: int = 0) -> dict:
    """Metrics of a labelling ``(n,)`` of ``pw`` with NES ``(n,)``; ``go``: the ``(sim, known)``
    simGIC pair when already computed (default: computed here for GO results); ``go_wang``: the
    :class:`~contrastomics.evaluate.cluster_metrics.GoPairs` of the terms (default: made here for GO
    results); ``gate``: the memberships a leading-edge gate used (``None``: no gate)."""
    if go is None:
        go = go_similarity_for(pw.go_terms or pw.table["term"].tolist())
    if go_wang is None and go is not None:
        go_wang = go_pairs(pw.go_terms or pw.table["term"].tolist())
    return cluster_metrics(labels, nes, full_sets=pw.full_matrix, leading_edge=pw.le_matrix,
                           go_similarity=None if go is None else go[0], go_mask=None if go is None else go[1],
                           n_random=n_random, seed=seed, go_wang=go_wang, gate=gate)


def go_pairs(terms) -> GoPairs | None:
    """:class:`~contrastomics.evaluate.cluster_metrics.GoPairs` of a GO result's terms over the built-in
    GO; ``None`` for a non-GO result or without the built-in ontology."""
    ids = [extract_go_id(str(t)) for t in terms]
    if not is_go_result(ids):
        return None
    try:
        onto = load_ontology("GO")
    except Exception:  # noqa: BLE001 - a missing data carrier only removes the optional GO metrics
        return None
    return GoPairs(ids, onto)


def evaluate_file(clusters_tsv: str | Path, *, gene_sets=None, n_random: int = 200, seed: int = 0) -> dict:
    """Metrics of the clustering in a ``clusters.tsv`` written by ``contrastomics cluster``.

    ``gene_sets`` as in :class:`~contrastomics.cluster.api.ClusterOptions`. Returns a summary
    ``{"n_significant", "method", "model", "metrics"}`` (the shape
    :func:`~contrastomics.report.tables.summary_table` prints)."""
    with open_text(clusters_tsv) as fh:
        try:
            tab = pd.read_csv(fh, sep="\t")
        except (pd.errors.ParserError, UnicodeDecodeError) as e:
            raise InputError(f"not a clusters.tsv table: {e}", clusters_tsv) from None
    need = {"cluster", "term", "nes", "fdr"}
    if not need <= set(tab.columns):
        raise InputError(f"not a clusters.tsv: missing column(s) {', '.join(sorted(need - set(tab.columns)))}",
                         clusters_tsv)
    df = pd.DataFrame({"term": tab["term"].astype(str), "name": tab.get("name", tab["term"]).astype(str),
                       "nes": tab["nes"], "fdr": tab["fdr"],
                       "genes": tab.get("leading_edge_genes", pd.Series([""] * len(tab))).fillna("")})
    df = df.assign(fdr=df["fdr"].fillna(0.0))
    if pd.to_numeric(df["nes"], errors="coerce").isna().all():
        df.attrs["kind"] = "ora"  # an over-representation result: no NES, coherence is n/a
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the clustering run already reported them
        pw = prepare(df, fdr_cutoff=float("inf"), gene_sets=gene_sets)
    order = {t: i for i, t in enumerate(pw.table["term"])}
    labels = tab.set_index("term").loc[list(order), "cluster"].to_numpy()
    m = evaluate(labels, pw, pw.table["nes"].to_numpy(float), n_random=n_random, seed=seed)
    for key in ("nes_opposite_pairs_joinable", "nes_coherence_can_fail"):  # the file does not say the method
        m[key] = None
    return {"n_significant": len(labels), "method": "(from file)", "model": None, "metrics": m}
