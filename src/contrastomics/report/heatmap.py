"""The multi-condition heatmap: mean NES per cluster and condition (HTML figure and PNG)."""
from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from .figures import shorten

#: heatmap rows at most (the largest clusters)
MAX_HEATMAP_ROWS = 200


def _heatmap_rows(by_cond: pd.DataFrame) -> pd.DataFrame:
    """Rows drawn in the heatmaps: clusters with >= 2 members (every cluster when there are none),
    because hundreds of singleton rows would bury the clusters the map is about; at most
    :data:`MAX_HEATMAP_ROWS` (the largest clusters: ids are numbered by size)."""
    rows = by_cond[~by_cond["singleton"]]
    rows = rows if len(rows) else by_cond
    return rows.head(MAX_HEATMAP_ROWS)


def _heatmap_note(by_cond: pd.DataFrame, shown: int) -> str:
    single = int(by_cond["singleton"].sum())
    real = len(by_cond) - single
    parts = []
    if real and shown < real:
        parts.append(f"the {shown} largest of {real} clusters shown")
    if real and single:
        parts.append(f"{single} singleton(s) left out")
    if not real and shown < single:
        parts.append(f"the first {shown} of {single} singletons shown")
    return "; ".join(parts) + " (see nes_by_condition.tsv)" if parts else ""


def _heatmap_arrays(by_cond: pd.DataFrame, conditions):
    rows = _heatmap_rows(by_cond)
    z = rows[[f"mean_nes_{c}" for c in conditions]].to_numpy(float)
    n = rows[[f"n_{c}" for c in conditions]].to_numpy(int)
    names = [f"{int(c)}: {lab}" for c, lab in zip(rows["cluster"], rows["label"])]
    finite = z[np.isfinite(z)]
    zmax = float(np.abs(finite).max()) if finite.size else 1.0
    return rows, z, n, names, max(zmax, 1e-6)


def heatmap_figure(by_cond: pd.DataFrame, conditions):
    """The plotly heatmap of :func:`~contrastomics.report.tables.nes_by_condition` for ``report.html``."""
    import plotly.graph_objects as go
    rows, z, n, names, zmax = _heatmap_arrays(by_cond, conditions)
    size = rows["size"].to_numpy(int)
    custom = np.stack([np.broadcast_to(size[:, None], z.shape), n], axis=-1).tolist()
    text = [["" if not np.isfinite(v) else f"{v:.2f}" for v in r] for r in z]
    fig = go.Figure(go.Heatmap(
        z=[[None if not np.isfinite(v) else float(v) for v in r] for r in z],
        x=[html.escape(str(c)) for c in conditions], y=[html.escape(shorten(s, 60)) for s in names],  # plotly: HTML
        colorscale="RdBu", reversescale=True, zmid=0, zmin=-zmax, zmax=zmax,
        text=text, texttemplate="%{text}", customdata=custom, hoverongaps=True,
        colorbar=dict(title=dict(text="mean NES")),
        hovertemplate="cluster %{y}<br>condition %{x}<br>mean NES %{z:.2f}<br>"
                      "%{customdata[1]} of %{customdata[0]} members present<extra></extra>"))
    note = _heatmap_note(by_cond, len(rows))
    fig.update_layout(template="plotly_white", height=max(320, 140 + 24 * len(rows)),
                      margin=dict(l=10, r=10, t=50, b=10),
                      title=("Mean NES per cluster and condition (red = up, blue = down, blank = not tested)"
                             + (f"; {note}" if note else "")),
                      xaxis=dict(side="top"), yaxis=dict(autorange="reversed", automargin=True))
    return fig


def heatmap_png(by_cond: pd.DataFrame, conditions, path: str | Path) -> None:
    """``nes_heatmap.png``: the cluster x condition mean-NES heatmap, written to ``path``."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    rows, z, n, names, zmax = _heatmap_arrays(by_cond, conditions)
    cmap = plt.get_cmap("RdBu_r").copy()
    cmap.set_bad("#e0e0e0")
    fig, ax = plt.subplots(figsize=(min(4 + 1.1 * len(conditions), 16), min(1.6 + 0.32 * len(rows), 40)), dpi=120)
    im = ax.imshow(np.ma.masked_invalid(z), cmap=cmap, vmin=-zmax, vmax=zmax, aspect="auto")
    ax.set_xticks(range(len(conditions)), [str(c) for c in conditions], fontsize=9, parse_math=False)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(names)), [shorten(s, 48) for s in names], fontsize=8, parse_math=False)
    if z.size <= 600:  # cell values stay legible only on small grids
        for (i, j), v in np.ndenumerate(z):
            ax.text(j, i, "n/a" if not np.isfinite(v) else f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if np.isfinite(v) and abs(v) > 0.6 * zmax else "#222")
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02).set_label("mean NES of members")
    note = _heatmap_note(by_cond, len(rows))
    ax.set_title("Mean NES per cluster and condition (grey = not tested)" + (f"\n{note}" if note else ""), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)

