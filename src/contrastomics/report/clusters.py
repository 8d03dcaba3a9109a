"""Outputs of ``contrastomics cluster``: TSV, JSON, summary, offline HTML report and PNG map.

:func:`write_outputs` renders every file in memory first and only then writes them (each one
atomically), so a failure never leaves a half-finished output folder behind.

The HTML report is one self-contained file: plotly.js is inlined (no CDN), the cluster table is
sorted and filtered by a few lines of vanilla JavaScript, and each cluster's members sit in a
``<details>`` block. It opens offline in any browser.

Large maps (more than :data:`BIG_POINTS` pathways or :data:`BIG_CLUSTERS` clusters) keep the same
page but draw differently, so that 100,000 pathways stay a file of tens of MB that a browser opens
in seconds: the map is one WebGL trace for all clustered pathways (per-point colours and hover
text) plus one for the singletons instead of one trace per cluster, the cluster table lists the
first :data:`MAX_TABLE_ROWS` clusters (largest first), and each member list shows its first
:data:`MAX_MEMBERS_SHOWN` pathways (every pathway stays in clusters.tsv / clusters.json).
"""
from __future__ import annotations

import html
import io
import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

#: cluster colours (tab10 + tab20b/c picks) without greys, which mean "singleton" on the map
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
           "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d",
           "#31a354", "#756bb1", "#9c9ede", "#cedb9c", "#e7ba52", "#e7969c", "#de9ed6", "#6baed6",
           "#fd8d3c", "#74c476", "#9e9ac8"]
SINGLETON_COLOR = "#c7c7c7"
#: above this many pathways, or this many clusters with >= 2 members, the map is drawn as one
#: WebGL layer (one plotly trace per cluster makes browsers crawl at thousands of clusters)
BIG_POINTS = 5000
BIG_CLUSTERS = 300
#: caps for large reports: cluster-table rows, members listed per cluster, heatmap rows
MAX_TABLE_ROWS = 5000
MAX_MEMBERS_SHOWN = 15
MAX_HEATMAP_ROWS = 200


def is_big(table: pd.DataFrame, clusters: pd.DataFrame) -> bool:
    """Whether the report uses its large-map drawing (see the module docstring)."""
    return len(table) > BIG_POINTS or int((~clusters["singleton"].astype(bool)).sum()) > BIG_CLUSTERS


def cluster_color(c: int, singleton: bool) -> str:
    return SINGLETON_COLOR if singleton else PALETTE[c % len(PALETTE)]


# ---------------------------------------------------------------------- tables
def tsv_text(table: pd.DataFrame) -> str:
    """``clusters.tsv``: one row per pathway (the embedding text column is left out)."""
    cols = [c for c in table.columns if c not in ("text",)]
    out = table[cols].copy()
    for c in cols:  # floats pre-formatted (same text as float_format="%.6g", ~2x faster at 100k rows)
        if out[c].dtype.kind == "f":
            out[c] = [format(x, ".6g") if x == x else "" for x in out[c].to_numpy().tolist()]
    return out.to_csv(sep="\t", index=False)


def json_text(table: pd.DataFrame, clusters: pd.DataFrame, summary: dict) -> str:
    """``clusters.json``: ``{"summary", "clusters": [{..., "members": [...]}]}``.

    Indented up to :data:`BIG_POINTS` pathways; compact above (Python's fast C encoder only runs
    without indentation: 100,000 members take ~1 s instead of ~8 s)."""
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
        rec = {k: _jsonable(v) for k, v in rec.items()}
        rec["members"] = rows[a:b]
        out.append(rec)
    return json.dumps({"summary": _jsonable(summary), "clusters": out}, indent=1 if len(table) <= BIG_POINTS else None)


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if not math.isfinite(float(v)) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def summary_table(summary: dict) -> str:
    """Human-readable metrics table (markdown) for the terminal and ``summary.md``."""
    m = summary.get("metrics", {})
    rows = [
        ("pathways clustered", summary.get("n_significant")),
        ("FDR cut-off", summary.get("fdr_cutoff")),
        ("method / model", f"{summary.get('method')} / {summary.get('model')}"),
        ("clusters (>= 2 members)", m.get("n_clusters")),
        ("singletons", m.get("n_singletons")),
        ("coverage (in non-singleton clusters)", _fmt(m.get("coverage"))),
        ("NES sign coherence", _fmt(m.get("nes_coherence"))),
        ("  chance (same cluster sizes)", _fmt(m.get("nes_coherence_chance"))),
        ("  chance-adjusted", _fmt(m.get("nes_coherence_adjusted"))),
        ("gene Jaccard within / between", f"{_fmt(m.get('jaccard_within'))} / {_fmt(m.get('jaccard_between'))}"
                                          f" (ratio {_fmt(m.get('jaccard_ratio'), 2)})"),
        ("silhouette, gene-Jaccard distance", _fmt(m.get("silhouette_gene_jaccard"))),
    ]
    if "silhouette_go_semantic" in m:
        rows.append(("silhouette, GO semantic (simGIC) distance", _fmt(m.get("silhouette_go_semantic"))))
    lines = ["| metric | value |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(lines) + "\n"


def _fmt(v, nd: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:.{nd}f}" if isinstance(v, float) else str(v)


def _theme_text(theme, support) -> str:
    """``immune system process (62%)``; empty for clusters without a theme."""
    if not isinstance(theme, str) or not theme:
        return ""
    return f"{theme} ({support:.0%})" if isinstance(support, float) and support == support else theme


# ---------------------------------------------------------------------- figures

def _figure(table: pd.DataFrame, clusters: pd.DataFrame, max_labels: int = 25):
    import plotly.graph_objects as go
    if is_big(table, clusters):
        return _big_figure(table, clusters, max_labels)
    fig = go.Figure()
    single = set(clusters.loc[clusters["singleton"], "cluster"].astype(int))
    groups = {int(c): g for c, g in table.groupby("cluster", sort=False)}
    for rec in clusters.itertuples():
        c = int(rec.cluster)
        if c in single or c not in groups:
            continue
        _add_trace(fig, groups[c], f"{c}: {_short(rec.label, 40)} ({rec.size})", cluster_color(c, False), f"c{c}")
    if single:
        g = table[table["cluster"].isin(single)]
        _add_trace(fig, g, f"singletons ({len(g)})", SINGLETON_COLOR, "singletons")
    for rec in clusters[~clusters["singleton"]].head(max_labels).itertuples():
        g = groups.get(int(rec.cluster))
        if g is None:
            continue
        fig.add_annotation(x=float(g["x"].mean()), y=float(g["y"].mean()), text=_short(rec.label, 32),
                           showarrow=False, font=dict(size=10, color="#222"), bgcolor="rgba(255,255,255,0.65)")
    fig.update_layout(template="plotly_white", height=720, margin=dict(l=10, r=10, t=40, b=10),
                      title="Pathway map: colour = cluster, ▲ up (NES > 0), ▼ down (NES < 0), size = -log10 FDR",
                      legend=dict(font=dict(size=10), itemsizing="constant"),
                      xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig


def _hover(g: pd.DataFrame, label_chars: int = 60) -> list[str]:
    return [f"<b>{html.escape(str(n))}</b><br>{html.escape(str(t))}<br>cluster {c}: {html.escape(_short(lab, label_chars))}"
            f"<br>NES {e:.2f}, FDR {f:.2g}, size {s}"
            for n, t, c, lab, e, f, s in zip(g["name"], g["term"], g["cluster"], g["cluster_label"], g["nes"],
                                             g["fdr"], g.get("size", pd.Series([""] * len(g))).astype(str))]


def _add_trace(fig, g: pd.DataFrame, name: str, color: str, group: str):
    import plotly.graph_objects as go
    size = 6 + 3 * np.clip(-np.log10(np.maximum(g["fdr"].to_numpy(float), 1e-10)), 0, 6)
    sym = np.where(_up(g), "triangle-up", "triangle-down")
    fig.add_trace(go.Scattergl(x=g["x"], y=g["y"], mode="markers", name=name, legendgroup=group,
                               marker=dict(color=color, size=size, symbol=sym, line=dict(width=0.5, color="#333")),
                               hovertext=_hover(g), hoverinfo="text"))


def point_colors(cluster: np.ndarray, singleton: np.ndarray) -> np.ndarray:
    """Per-point colours (``cluster_color`` for every pathway at once)."""
    out = np.asarray(PALETTE, dtype=object)[np.asarray(cluster, np.int64) % len(PALETTE)]
    out[np.asarray(singleton, bool)] = SINGLETON_COLOR
    return out


def _centres(table: pd.DataFrame) -> pd.DataFrame:
    return table.groupby("cluster", sort=True)[["x", "y"]].mean()


def _label_spots(clusters: pd.DataFrame, centres: pd.DataFrame, max_labels: int,
                 min_dx: float = 0.35, min_dy: float = 0.06) -> list[tuple[int, str, float, float]]:
    """``(cluster, label, x, y)`` for the largest clusters, skipping any whose label would sit on
    one already placed (map units: coordinates span [-1, 1]; a label is much wider than tall)."""
    out: list[tuple[int, str, float, float]] = []
    for c, lab in zip(clusters.loc[~clusters["singleton"], "cluster"], clusters.loc[~clusters["singleton"], "label"]):
        if len(out) >= max_labels:
            break
        if c not in centres.index:
            continue
        x, y = float(centres.loc[c, "x"]), float(centres.loc[c, "y"])
        if all(abs(x - a) >= min_dx or abs(y - b) >= min_dy for _, _, a, b in out):
            out.append((int(c), str(lab), x, y))
    return out


def _typed(a, dtype: str = "f4") -> dict:
    """A numeric array as plotly.js's base64 typed-array spec (1-4 bytes a number instead of ~18 characters)."""
    import base64
    code = {"f4": "<f4", "u1": "u1"}[dtype]
    return {"dtype": dtype, "bdata": base64.b64encode(np.ascontiguousarray(a, code).tobytes()).decode("ascii")}


def _big_figure(table: pd.DataFrame, clusters: pd.DataFrame, max_labels: int = 25) -> dict:
    """The map as a plain plotly figure dict for :func:`_plot_html`: one WebGL trace per NES sign
    for the clustered pathways (colour = cluster id through a palette colour scale, so colours are
    one byte a point) and one per sign for the singletons, instead of one trace per cluster."""
    import plotly.io as pio
    single = table["cluster"].map(clusters.set_index("cluster")["singleton"]).fillna(False).to_numpy(bool)
    up = _up(table)
    n_pal = len(PALETTE)
    scale = [[i / (n_pal - 1), col] for i, col in enumerate(PALETTE)]
    traces = []
    for is_single, sign in ((False, True), (False, False), (True, True), (True, False)):
        mask = (single == is_single) & (up == sign)
        if not mask.any():
            continue
        g = table[mask]
        size = 3 + 0.7 * np.clip(-np.log10(np.maximum(g["fdr"].to_numpy(float), 1e-10)), 0, 6)
        color = (SINGLETON_COLOR if is_single else
                 _typed(g["cluster"].to_numpy(np.int64) % n_pal, "u1"))
        marker = dict(color=color, size=_typed(size), symbol="triangle-up" if sign else "triangle-down",
                      line=dict(width=0))
        if not is_single:
            marker.update(colorscale=scale, cmin=0, cmax=n_pal - 1, showscale=False)
        what = "singletons" if is_single else "in clusters (colour = cluster)"
        traces.append(dict(type="scattergl", x=_typed(g["x"]), y=_typed(g["y"]), mode="markers",
                           name=f"{'▲ NES > 0' if sign else '▼ NES < 0'}, {what}: {len(g):,}",
                           legendgroup="singletons" if is_single else "clusters",
                           marker=marker, hovertext=_hover(g, 40), hoverinfo="text"))
    notes = [dict(x=x, y=y, text=html.escape(_short(lab, 32)), showarrow=False, font=dict(size=10, color="#222"),
                  bgcolor="rgba(255,255,255,0.65)")
             for _, lab, x, y in _label_spots(clusters, _centres(table), max_labels)]
    layout = dict(template=pio.templates["plotly_white"].to_plotly_json(), height=760,
                  margin=dict(l=10, r=10, t=40, b=10), hovermode="closest", annotations=notes,
                  title=dict(text=f"Pathway map ({len(table):,} pathways, {int((~clusters['singleton']).sum()):,} "
                                  "clusters): colour = cluster, size = -log10 FDR; labels on the largest "
                                  "clusters, hover for any pathway", font=dict(size=14)),
                  legend=dict(font=dict(size=10), itemsizing="constant", orientation="h", y=-0.02),
                  xaxis=dict(visible=False), yaxis=dict(visible=False))
    return dict(data=traces, layout=layout)


def _plot_html(fig: dict, div_id: str, config: dict) -> str:
    """A figure dict as ``<div>`` + inlined plotly.js + ``Plotly.newPlot``, like ``plotly.io.to_html``
    but serialised by :mod:`json` directly: plotly's encoder validates nothing here but escapes
    every ``<`` of the hover HTML as ``\\u003c`` (megabytes at 100,000 points); only ``</`` and
    ``<!`` need escaping inside a ``<script>``."""
    from plotly.offline import get_plotlyjs

    def dump(obj) -> str:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).replace("</", "\\u003c/").replace(
            "<!", "\\u003c!")
    height = fig["layout"].get("height", 720)
    return (f'<div><div id="{div_id}" class="plotly-graph-div" style="height:{height}px; width:100%;"></div>'
            f'<script type="text/javascript">{get_plotlyjs()}</script>'
            f'<script type="text/javascript">Plotly.newPlot("{div_id}", {dump(fig["data"])}, '
            f'{dump(fig["layout"])}, {dump(config)})</script></div>')


def _up(g: pd.DataFrame) -> np.ndarray:
    """Up-regulated (or over-represented: no NES) pathways."""
    if "direction" in g.columns:
        return g["direction"].to_numpy() > 0
    nes = g["nes"].to_numpy(float)
    return np.isnan(nes) | (nes >= 0)


def _short(s: str, n: int) -> str:
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "…"


def png_bytes(table: pd.DataFrame, clusters: pd.DataFrame, title: str = "", max_labels: int = 15) -> bytes:
    """``clusters.png``: the same map as a static matplotlib figure (Agg, no display needed).

    Large maps (:func:`is_big`) use small markers without outlines, rasterised so that a vector
    copy of the figure stays small, and label the ``max_labels`` largest clusters only."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    big = is_big(table, clusters)
    fig, ax = plt.subplots(figsize=(10, 8), dpi=120)
    single = table["cluster"].map(clusters.set_index("cluster")["singleton"]).fillna(False).to_numpy(bool)
    colors = point_colors(table["cluster"].to_numpy(), single)
    log_fdr = np.clip(-np.log10(np.maximum(table["fdr"].to_numpy(float), 1e-10)), 0, 6)
    size = 2 + 1.2 * log_fdr if big else 14 + 8 * log_fdr
    up = _up(table)
    for sel, marker in ((up, "^"), (~up, "v")):
        ax.scatter(table["x"].to_numpy()[sel], table["y"].to_numpy()[sel], c=list(colors[sel]), s=size[sel],
                   marker=marker, linewidths=0 if big else 0.3, edgecolors="#333", alpha=0.8 if big else 0.9,
                   rasterized=big)
    centres = _centres(table)
    if big:  # labels that would sit on each other are left out
        spots = _label_spots(clusters, centres, max_labels)
    else:
        real = clusters[~clusters["singleton"]].head(max_labels)
        spots = [(c, lab, *centres.loc[c, ["x", "y"]]) for c, lab in zip(real["cluster"], real["label"])
                 if c in centres.index]
    for c, lab, x, y in spots:
        ax.annotate(f"{c}: {_short(lab, 34)}", (x, y), fontsize=7, ha="center",
                    bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.7))
    ax.set_axis_off()
    default = "Pathway clusters (▲ NES > 0, ▼ NES < 0; grey = singleton)"
    if big:
        default = (f"{len(table):,} pathways in {int((~clusters['singleton']).sum()):,} clusters "
                   f"(▲ NES > 0, ▼ NES < 0; grey = singleton; labels on the largest)")
    ax.set_title(title or default, fontsize=10)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


# ---------------------------------------------------------------------- multi-condition heatmap
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


def _heatmap_figure(by_cond: pd.DataFrame, conditions):
    import plotly.graph_objects as go
    rows, z, n, names, zmax = _heatmap_arrays(by_cond, conditions)
    size = rows["size"].to_numpy(int)
    custom = np.stack([np.broadcast_to(size[:, None], z.shape), n], axis=-1).tolist()
    text = [["" if not np.isfinite(v) else f"{v:.2f}" for v in r] for r in z]
    fig = go.Figure(go.Heatmap(
        z=[[None if not np.isfinite(v) else float(v) for v in r] for r in z],
        x=list(map(str, conditions)), y=[_short(s, 60) for s in names],
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
    ax.set_xticks(range(len(conditions)), [str(c) for c in conditions], fontsize=9)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(names)), [_short(s, 48) for s in names], fontsize=8)
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


# ---------------------------------------------------------------------- HTML
_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:18px;color:#222}
h1{font-size:20px;margin:0 0 6px} h2{font-size:16px;margin:18px 0 6px}
.metrics{border-collapse:collapse;font-size:13px} .metrics td{padding:2px 10px;border-bottom:1px solid #eee}
#ctab{border-collapse:collapse;font-size:13px;width:100%} #ctab th{cursor:pointer;background:#f3f3f3;
text-align:left;padding:4px 6px;position:sticky;top:0} #ctab td{padding:3px 6px;border-bottom:1px solid #eee}
#ctab th:after{content:' \\2195';color:#aaa} .sw{display:inline-block;width:11px;height:11px;border-radius:2px;
margin-right:5px;vertical-align:middle} details{margin:3px 0;font-size:13px} summary{cursor:pointer}
.up{color:#b2182b} .down{color:#2166ac} input#q{padding:4px 8px;width:320px;margin:4px 0 8px}
.muted{color:#777;font-size:12px}
"""

_JS = """
function sortTable(n){const t=document.getElementById('ctab');const b=t.tBodies[0];
const rows=Array.from(b.rows);const asc=t.dataset.col==n&&t.dataset.dir!='asc';
t.dataset.col=n;t.dataset.dir=asc?'asc':'desc';
rows.sort((a,c)=>{let x=a.cells[n].dataset.v??a.cells[n].innerText,y=c.cells[n].dataset.v??c.cells[n].innerText;
const fx=parseFloat(x),fy=parseFloat(y);if(!isNaN(fx)&&!isNaN(fy)){x=fx;y=fy;}
return (x>y?1:x<y?-1:0)*(asc?1:-1);});rows.forEach(r=>b.appendChild(r));}
function filterAll(){const q=document.getElementById('q').value.toLowerCase();
document.querySelectorAll('#ctab tbody tr').forEach(r=>{r.style.display=r.dataset.s.includes(q)?'':'none';});
document.querySelectorAll('details.cl').forEach(d=>{d.style.display=d.dataset.s.includes(q)?'':'none';});}
"""


def html_text(table: pd.DataFrame, clusters: pd.DataFrame, summary: dict, title: str = "contrastomics cluster") -> str:
    """``report.html``: map + metrics + sortable/searchable cluster table + member lists, offline."""
    big = is_big(table, clusters)
    fig = _figure(table, clusters)
    config = {"displaylogo": False, "responsive": True}
    plot = (_plot_html(fig, "map", config) if big else
            fig.to_html(full_html=False, include_plotlyjs=True, config=config))
    conds = summary.get("conditions") or []
    heat = ""
    if len(conds) > 1:
        heat = "<h2>NES per condition</h2>" + _heatmap_figure(nes_by_condition(table, clusters, conds), conds).to_html(
            full_html=False, include_plotlyjs=False, config=config)
    m = summary.get("metrics", {})
    metric_rows = "".join(
        f"<tr><td>{html.escape(a)}</td><td>{html.escape(str(b))}</td></tr>"
        for a, b in [("pathways", summary.get("n_significant")), ("FDR cut-off", summary.get("fdr_cutoff")),
                     ("method / model", f"{summary.get('method')} / {summary.get('model')}"),
                     ("clusters (≥ 2 members)", m.get("n_clusters")), ("singletons", m.get("n_singletons")),
                     ("coverage", _fmt(m.get("coverage"))),
                     ("NES sign coherence (chance; adjusted)",
                      f"{_fmt(m.get('nes_coherence'))} ({_fmt(m.get('nes_coherence_chance'))}; "
                      f"{_fmt(m.get('nes_coherence_adjusted'))})"),
                     ("gene Jaccard within / between", f"{_fmt(m.get('jaccard_within'))} / {_fmt(m.get('jaccard_between'))}"),
                     ("silhouette gene-Jaccard / GO semantic",
                      f"{_fmt(m.get('silhouette_gene_jaccard'))} / {_fmt(m.get('silhouette_go_semantic'))}")])
    themed = "theme" in clusters.columns
    head = (["cluster", "label", "keywords"] + (["GO slim theme (share of members)"] if themed else [])
            + ["shared leading-edge genes", "size", "up", "down", "mean NES", "min FDR"] + [f"NES {c}" for c in conds])
    shown = clusters.head(MAX_TABLE_ROWS)
    body = []
    for rec in shown.itertuples():
        c = int(rec.cluster)
        cells = [f'<td data-v="{c}"><span class="sw" style="background:{cluster_color(c, rec.singleton)}"></span>{c}</td>',
                 f"<td>{html.escape(str(rec.label))}</td>", f"<td>{html.escape(str(rec.keywords))}</td>"]
        if themed:
            cells.append(f"<td>{html.escape(_theme_text(rec.theme, rec.theme_support))}</td>")
        cells += [f"<td>{html.escape(str(getattr(rec, 'top_genes', '')))}</td>",
                 f"<td>{rec.size}</td>", f"<td>{rec.n_up}</td>", f"<td>{rec.n_down}</td>",
                 f"<td>{rec.mean_nes:.2f}</td>", f'<td data-v="{rec.min_fdr:.3e}">{rec.min_fdr:.2g}</td>']
        cells += [f"<td>{getattr(rec, 'mean_nes_' + cd):.2f}</td>" for cd in conds]
        search = html.escape(f"{c} {rec.label} {rec.keywords} {getattr(rec, 'theme', '')} "
                             f"{getattr(rec, 'top_genes', '')}".lower(), quote=True)
        body.append(f'<tr data-s="{search}">' + "".join(cells) + "</tr>")
    thead = "".join(f'<th onclick="sortTable({i})">{html.escape(h)}</th>' for i, h in enumerate(head))
    table_note = (f'<p class="muted">The table lists the {len(shown):,} largest of {len(clusters):,} clusters '
                  "(singletons included); every cluster is in clusters.tsv and clusters.json.</p>"
                  if len(shown) < len(clusters) else "")
    info = clusters.set_index("cluster")
    listed = set(shown.loc[~shown["singleton"].astype(bool), "cluster"].astype(int)) if big else None
    order = np.argsort(table["cluster"].to_numpy(), kind="stable")
    ids = table["cluster"].to_numpy()[order]
    col = {c: table[c].to_numpy()[order] for c in ("name", "nes", "fdr", "representative")}
    col["up"] = _up(table)[order]
    bounds = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True])
    details = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        c = ids[a]
        if listed is not None and int(c) not in listed:
            continue
        rec = info.loc[c]
        names = [str(x) for x in col["name"][a:b]]
        keep = np.arange(a, b)
        more = ""
        if big and b - a > MAX_MEMBERS_SHOWN:
            # the representative first, then the input order (by FDR), so the list reads like the cluster
            keep = keep[np.argsort(~col["representative"][a:b].astype(bool), kind="stable")[:MAX_MEMBERS_SHOWN]]
            more = (f'<li class="muted">… and {b - a - len(keep):,} more (all members are in clusters.tsv '
                    "and clusters.json)</li>")
        items = "".join(
            f'<li class="{"up" if d else "down"}">{"▲" if d else "▼"} {html.escape(str(n))} '
            f'<span class="muted">NES {e:.2f}, FDR {f:.2g}{" · representative" if r else ""}</span></li>'
            for n, e, f, r, d in zip(col["name"][keep], col["nes"][keep], col["fdr"][keep],
                                     col["representative"][keep], col["up"][keep]))
        search = html.escape(" ".join([str(c), str(rec["label"]), str(rec["keywords"])] + names).lower(),
                             quote=True)
        details.append(f'<details class="cl" data-s="{search}"><summary><span class="sw" style="background:'
                       f'{cluster_color(int(c), bool(rec["singleton"]))}"></span>cluster {c}: '
                       f'{html.escape(str(rec["label"]))} ({b - a})</summary><ul>{items}{more}</ul></details>')
    members_note = (f'<p class="muted">Clusters of the table with &ge; 2 members; each lists at most '
                    f"{MAX_MEMBERS_SHOWN} pathways (the search covers all of them).</p>" if big else "")
    how = ("click the legend to hide the clustered pathways or the singletons; the cluster table finds any "
           "cluster" if big else "click legend entries to hide clusters")
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in summary.get("notes", []))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{_CSS}</style>
<script>{_JS}</script></head><body>
<h1>{html.escape(title)}</h1>
<p class="muted">Pathways grouped by contrastomics ({html.escape(str(summary.get('method')))}). Hover a point for its
pathway; {how}. Metric definitions: docs/clustering.md.</p>
<table class="metrics">{metric_rows}</table>{f'<ul class="muted">{notes}</ul>' if notes else ''}
{plot}
{heat}
<h2>Clusters</h2>
<input id="q" placeholder="search clusters and pathways…" oninput="filterAll()">
<table id="ctab"><thead><tr>{thead}</tr></thead><tbody>{''.join(body)}</tbody></table>{table_note}
<h2>Members</h2>{members_note}
{''.join(details)}
</body></html>
"""


#: ``network.graphml`` is written up to this many pathways (above, ~150 bytes per edge add up)
GRAPHML_MAX = 20_000
_XML_FORBIDDEN = "[\x00-\x08\x0b\x0c\x0e-\x1f]"


def graphml_text(result) -> str:
    """The pathway network as GraphML for Cytoscape (File > Import > Network from File) or igraph /
    networkx: one node per pathway in :attr:`table` order with its table columns (term, name,
    cluster, cluster_label, cluster_theme, nes, fdr, size, direction, leading_edge_genes, x, y),
    one undirected edge per kNN-graph pair with its similarity as ``weight``."""
    import tempfile

    import igraph as ig
    tab = result.table
    order = result.order if result.order is not None else np.arange(len(tab))
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order))
    g = result.graph.tocoo()
    keep = g.row < g.col
    net = ig.Graph(n=len(tab), edges=np.column_stack([pos[g.row[keep]], pos[g.col[keep]]]).tolist())
    net.es["weight"] = np.round(g.data[keep].astype(float), 6).tolist()
    for col in tab.columns:
        if col == "text":  # long descriptions: in clusters.tsv
            continue
        v = tab[col]
        key = re.sub(r"\W", "_", str(col))  # GraphML attribute ids are XML name tokens
        if v.dtype.kind in "iubf":  # numbers (NaN where missing; booleans as 0/1)
            net.vs[key] = [float(x) for x in v.astype("float64")]
        else:  # XML 1.0 forbids most control characters
            net.vs[key] = v.fillna("").astype(str).str.replace(_XML_FORBIDDEN, " ", regex=True).tolist()
    with tempfile.TemporaryDirectory() as d:  # igraph writes to a path; the caller writes atomically
        path = Path(d) / "network.graphml"
        net.write_graphml(str(path))
        return path.read_text(encoding="utf-8")


def write_outputs(result, out_dir: str | Path, *, report: bool = True, title: str = "contrastomics cluster") -> list[Path]:
    """Write ``clusters.tsv``, ``clusters.json``, ``summary.json``, ``summary.md``,
    ``network.graphml`` (up to :data:`GRAPHML_MAX` pathways; :func:`graphml_text`) and (with
    ``report``) ``report.html`` + ``clusters.png`` into ``out_dir``; with several conditions also
    ``nes_by_condition.tsv`` and (with ``report``) ``nes_heatmap.png``. Returns the written paths."""
    from ..data.io import atomic_path, atomic_write
    out = Path(out_dir)
    files: dict[str, tuple[str, "str | bytes"]] = {
        "clusters.tsv": ("w", tsv_text(result.table)),
        "clusters.json": ("w", json_text(result.table, result.clusters, result.summary)),
        "summary.json": ("w", json.dumps(_jsonable(result.summary), indent=1)),
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
