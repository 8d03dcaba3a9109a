"""Text outputs of a clustering: ``clusters.tsv``, ``clusters.json``, ``summary.md``, ``nes_by_condition.tsv``."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from . import figures


#: float columns of ``clusters.tsv`` written with every digit (compared against cut-offs by readers)
EXACT_COLUMNS = ("cluster_label_support",)


def tsv_text(table: pd.DataFrame) -> str:
    """``clusters.tsv``: one row per pathway (the embedding text column is left out)."""
    cols = [c for c in table.columns if c not in ("text",)]
    out = table[cols].copy()
    for c in cols:  # floats pre-formatted (same text as float_format="%.6g", ~2x faster at 100k rows)
        if out[c].dtype.kind == "f":
            # label support in full (round-trip) digits: a share of exactly 1/3 must not read 0.333333,
            # below the 1/3 cut-off of a misleading label
            fmt = repr if c in EXACT_COLUMNS else (lambda x: format(x, ".6g"))
            out[c] = [fmt(x) if x == x else "" for x in out[c].to_numpy().tolist()]
    return out.to_csv(sep="\t", index=False)


def json_text(table: pd.DataFrame, clusters: pd.DataFrame, summary: dict) -> str:
    """``clusters.json``: ``{"summary", "clusters": [{..., "members": [...]}]}``.

    Indented up to :data:`~contrastomics.report.figures.BIG_POINTS` pathways; compact above (Python's
    fast C encoder only runs without indentation: 100,000 members take ~1 s instead of ~8 s)."""
    # one pass over all pathways, then slices per cluster (a pandas group per cluster costs ~1 ms)
    order = np.argsort(table["cluster"].to_numpy(), kind="stable")
    t = table.iloc[order]
    ids = t["cluster"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True])
    start = {int(ids[a]): (a, b) for a, b in zip(bounds[:-1], bounds[1:])}

    def num(col):
        v = t[col].to_numpy(float)
        return [float(x) if math.isfinite(x) else None for x in v]
    rows = [{"term": te, "name": na, "nes": e, "fdr": f, "representative": bool(r),
             "leading_edge": [x for x in le.split(",") if x]}
            for te, na, e, f, r, le in zip(t["term"], t["name"], num("nes"), num("fdr"), t["representative"],
                                           t["leading_edge_genes"])]
    out = []
    for rec in clusters.to_dict("records"):
        a, b = start[int(rec["cluster"])]
        rec = {k: jsonable(v) for k, v in rec.items()}
        rec["members"] = rows[a:b]
        out.append(rec)
    return json.dumps({"summary": jsonable(summary), "clusters": out}, indent=1 if len(table) <= figures.BIG_POINTS else None)


def jsonable(v):
    """``v`` with numpy scalars as Python numbers and non-finite floats as ``None`` (dicts and lists recursed)."""
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if not math.isfinite(float(v)) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def metric_rows(summary: dict) -> list[tuple[str, str]]:
    """``(metric, value)`` rows shared by ``summary.md``, the terminal and ``report.html``."""
    m = summary.get("metrics", {})
    n_clusters = m.get("n_clusters", summary.get("n_clusters"))
    coh = format_metric(m.get("nes_coherence"))
    if coh == "n/a":
        pass
    elif m.get("nes_coherence_note"):  # --split-direction
        coh += " (1 by construction: clusters were split by NES sign)"
    elif m.get("nes_coherence_can_fail") is False:
        coh += (" (cannot fail here: the leading-edge gate never links an up- and a down-regulated pathway)"
                if summary.get("leading_edge_gate") else
                " (cannot fail here: no edge of the network links an up- and a down-regulated pathway)")
    rows = [
        ("pathways clustered", summary.get("n_significant")),
        ("FDR cut-off", summary.get("fdr_cutoff")),
        *method_rows(summary),
        ("clusters (>= 2 members)", n_clusters),
        ("singletons", m.get("n_singletons", summary.get("n_singletons"))),
        ("coverage (in non-singleton clusters)", format_metric(m.get("coverage"))),
        ("NES sign coherence", coh),
        ("  chance (same cluster sizes)", format_metric(m.get("nes_coherence_chance"))),
        ("  chance-adjusted", format_metric(m.get("nes_coherence_adjusted"))),
        ("gene Jaccard within / between", f"{format_metric(m.get('jaccard_within'))} / {format_metric(m.get('jaccard_between'))}"
                                          f" (ratio {format_metric(m.get('jaccard_ratio'), 2)})"),
        ("silhouette, gene-Jaccard distance", format_metric(m.get("silhouette_gene_jaccard"))),
    ]
    if "silhouette_go_semantic" in m:
        rows.append(("silhouette, GO semantic (simGIC) distance", format_metric(m.get("silhouette_go_semantic"))))
    if "silhouette_go_wang" in m:
        rows.append(("silhouette, GO graph (Wang) distance", format_metric(m.get("silhouette_go_wang"))))
    if "label_support_mean" in m:
        rows.append(("label support (mean over clusters)", format_metric(m.get("label_support_mean"))))
        rows.append((f"  labels with support < {m.get('label_support_low_cutoff', 1 / 3):.2f}",
                     f"{m.get('labels_low_support')} of {m.get('labels_scored')}"))
        if m.get("mixed_described") is not None and m.get("labels_low_support"):
            rows.append(("    of these, label + sub-themes name >= that share",
                         f"{m.get('mixed_described')} of {m.get('labels_low_support')}"))
        if m.get("pathways_low_support_share") is not None and m.get("labels_scored"):  # else n/a
            rows.append(("  pathways in those clusters", format_metric(m.get("pathways_low_support_share"))))
    return rows


def summary_table(summary: dict) -> str:
    """Human-readable metrics table (markdown) for the terminal and ``summary.md``."""
    lines = ["| metric | value |", "|---|---|"] + [f"| {a} | {'n/a' if b is None else b} |"
                                                  for a, b in metric_rows(summary)]
    return "\n".join(lines) + "\n"


def method_rows(summary: dict) -> list[tuple[str, str]]:
    """``[("method", ...), ("model", ...), ("partition", ...)]`` for display; no model row for
    methods without one, no partition row for summaries that predate it."""
    rows = [("method", str(summary.get("method") or "n/a"))]
    if summary.get("model"):
        rows.append(("model", str(summary["model"])))
    if summary.get("partition"):
        rows.append(("partition", {"ward": "Ward cut", "average": "average-linkage cut", "leiden": "Leiden",
                                   "mcl": "MCL"}.get(summary["partition"], str(summary["partition"]))))
    return rows


def format_metric(v, nd: int = 3) -> str:
    """A metric for display: ``nd`` decimals for floats, ``n/a`` for missing or non-finite values."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:.{nd}f}" if isinstance(v, float) else str(v)


def nes_by_condition(table: pd.DataFrame, clusters: pd.DataFrame, conditions) -> pd.DataFrame:
    """Cluster x condition table (``nes_by_condition.tsv``), shape ``(n_clusters, 4 + 2 * n_conditions)``.

    ``mean_nes_<c>`` is the mean NES of the cluster's members in condition ``c`` over the members that
    condition tested (NaN when it tested none); ``n_<c>`` is how many members it tested.
    """
    grp = table.groupby("cluster", sort=True)
    out = clusters[["cluster", "label", "size", "singleton"]].copy().reset_index(drop=True)
    for cond in conditions:
        mean = grp[f"nes_{cond}"].mean()
        count = grp[f"nes_{cond}"].count()
        out[f"mean_nes_{cond}"] = out["cluster"].map(mean).astype(float)
        out[f"n_{cond}"] = out["cluster"].map(count).fillna(0).astype(int)
    return out

