"""``write_outputs``: every output file of a clustering, rendered in memory, then each written atomically
(a failure never leaves a half-finished output folder behind); ``cluster_to_folder``: run and write."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

from .._io import atomic_path, atomic_write
from ..cluster import ClusterResult, run_clustering
from .figures import png_bytes
from .graphml import GRAPHML_MAX, graphml_text
from .heatmap import heatmap_png
from .html import html_text
from .tables import json_text, jsonable, nes_by_condition, summary_table, tsv_text


def write_outputs(result, out_dir: str | Path, *, report: bool = True, title: str = "contrastomics cluster") -> list[Path]:
    """Write ``clusters.tsv``, ``clusters.json``, ``summary.json``, ``summary.md``,
    ``network.graphml`` (up to :data:`GRAPHML_MAX` pathways; :func:`graphml_text`) and (with
    ``report``) ``report.html`` + ``clusters.png`` into ``out_dir``; with several conditions also
    ``nes_by_condition.tsv`` and (with ``report``) ``nes_heatmap.png``. Returns the written paths."""
    out = Path(out_dir)
    files: dict[str, tuple[str, "str | bytes"]] = {
        "clusters.tsv": ("w", tsv_text(result.table)),
        "clusters.json": ("w", json_text(result.table, result.clusters, result.summary)),
        "summary.json": ("w", json.dumps(jsonable(result.summary), indent=1)),
        "summary.md": ("w", summary_table(result.summary)),
    }
    if report:
        if "x" not in result.table.columns:
            raise ValueError("report needs 2-D coordinates: run the clustering with layout=True")
        files["report.html"] = ("w", html_text(result.table, result.clusters, result.summary, title))
        files["clusters.png"] = ("wb", png_bytes(result.table, result.clusters))
    conds = result.summary.get("conditions") or []
    by_cond = nes_by_condition(result.table, result.clusters, conds) if len(conds) > 1 else None
    network = None
    if result.graph is not None and len(result.table) <= GRAPHML_MAX:
        try:
            network = graphml_text(result)
        except Exception as exc:  # noqa: BLE001 - an optional export must not cost the other files
            warnings.warn(f"network.graphml not written: {exc}", stacklevel=2)
    if network is not None:
        files["network.graphml"] = ("w", network)
    if by_cond is not None:
        files["nes_by_condition.tsv"] = ("w", by_cond.to_csv(sep="\t", index=False, float_format="%.6g"))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (mode, content) in files.items():
        kw = {"encoding": "utf-8"} if mode == "w" else {}
        with atomic_write(out / name, mode, **kw) as fh:
            fh.write(content)
        written.append(out / name)
    if report and by_cond is not None:
        with atomic_path(out / "nes_heatmap.png") as tmp:
            heatmap_png(by_cond, conds, tmp)
        written.append(out / "nes_heatmap.png")
    return written


def cluster_to_folder(result, out_dir: str | Path, *, report: bool = True, title: str = "contrastomics cluster",
                      **options) -> tuple[ClusterResult, list[Path]]:
    """Cluster ``result`` (:func:`~contrastomics.cluster.run_clustering` with ``options``; map
    coordinates when ``report``) and write its files into ``out_dir`` (:func:`write_outputs`).
    Returns the :class:`~contrastomics.cluster.ClusterResult` and the written paths."""
    res = run_clustering(result, layout=report, **options)
    return res, write_outputs(res, out_dir, report=report, title=title)
