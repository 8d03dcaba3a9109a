"""The pathway map: an interactive plotly figure (``report.html``) and a static PNG (``clusters.png``).

Large maps (:func:`is_big`) are drawn as a few traces with per-point colours instead of one trace
per cluster; above :data:`SVG_MAX_POINTS` points as WebGL (see docs/clustering.md, "The report files").
"""
from __future__ import annotations

import html
import io
import json

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
#: maps up to this many pathways are drawn as SVG (plotly ``scatter``), which every browser shows;
#: above, as WebGL (``scattergl``: fast, but an empty grey box where WebGL is off)
SVG_MAX_POINTS = 2000
#: hover texts cut pathway names longer than this (the report table has them in full on hover)
HOVER_CHARS = 200
#: the network's edges are drawn on maps up to :data:`EDGES_MAX` pathways (a legend entry toggles
#: them), shown at first up to :data:`EDGES_VISIBLE_MAX`; large maps (:func:`is_big`) never carry them
EDGES_VISIBLE_MAX = 1000
EDGES_MAX = 5000


def trace_type(n_points: int) -> str:
    """``scatter`` (SVG) for up to :data:`SVG_MAX_POINTS` points, ``scattergl`` (WebGL) above."""
    return "scatter" if n_points <= SVG_MAX_POINTS else "scattergl"


def is_big(table: pd.DataFrame, clusters: pd.DataFrame) -> bool:
    """Whether the report uses its large-map drawing (the module docstring: few WebGL traces)."""
    return len(table) > BIG_POINTS or int((~clusters["singleton"].astype(bool)).sum()) > BIG_CLUSTERS


def cluster_color(c: int, singleton: bool) -> str:
    """Colour of cluster ``c`` (grey for singletons)."""
    return SINGLETON_COLOR if singleton else PALETTE[c % len(PALETTE)]


def map_figure(table: pd.DataFrame, clusters: pd.DataFrame, max_labels: int = 25, edges=None):
    """The interactive map: one plotly trace per cluster, or :func:`_big_figure`'s dict for large maps.

    ``edges``: ``(a, b)`` arrays of :attr:`table` rows, the network's edges, drawn as one grey line
    trace under the points (a legend entry shows / hides it; hidden at first above
    :data:`EDGES_VISIBLE_MAX` pathways; never on large maps)."""
    import plotly.graph_objects as go
    if is_big(table, clusters):
        return _big_figure(table, clusters, max_labels)
    fig = go.Figure()
    kind = trace_type(len(table))
    if edges is not None and len(edges[0]):
        fig.add_trace(edge_trace(table, edges[0], edges[1], kind))
    single = set(clusters.loc[clusters["singleton"], "cluster"].astype(int))
    groups = {int(c): g for c, g in table.groupby("cluster", sort=False)}
    support = clusters["label_support"] if "label_support" in clusters.columns else pd.Series(np.nan, clusters.index)
    for c, label, size, sup in zip(clusters["cluster"], clusters["label"], clusters["size"], support):
        c = int(c)
        if c in single or c not in groups:
            continue
        share = f"; label support {sup:.0%}" if sup == sup else ""
        _add_trace(fig, groups[c], f"{c}: {html.escape(shorten(label, 40))} ({size}{share})", cluster_color(c, False),
                   f"c{c}", kind)  # plotly reads legend names and annotations as HTML
    if single:
        g = table[table["cluster"].isin(single)]
        _add_trace(fig, g, f"singletons ({len(g)})", SINGLETON_COLOR, "singletons", kind)
    real = clusters[~clusters["singleton"]].head(max_labels)
    for c, label in zip(real["cluster"], real["label"]):
        g = groups.get(int(c))
        if g is None:
            continue
        fig.add_annotation(x=float(g["x"].mean()), y=float(g["y"].mean()), text=html.escape(shorten(label, 32)),
                           showarrow=False, font=dict(size=10, color="#222"), bgcolor="rgba(255,255,255,0.65)")
    fig.update_layout(template="plotly_white", height=720, margin=dict(l=10, r=10, t=40, b=10),
                      title="Pathway map: colour = cluster, ▲ up (NES > 0), ▼ down (NES < 0), size = -log10 FDR",
                      legend=dict(font=dict(size=10), itemsizing="constant"),
                      xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig


def edge_trace(table: pd.DataFrame, a: np.ndarray, b: np.ndarray, kind: str = "scatter"):
    """The network edges between :attr:`table` rows ``a[i]`` and ``b[i]`` as one line trace (segments
    separated by gaps)."""
    import plotly.graph_objects as go
    x, y = table["x"].to_numpy(float), table["y"].to_numpy(float)
    gap = np.full(len(a), np.nan)
    xs = np.column_stack([x[a], x[b], gap]).ravel()
    ys = np.column_stack([y[a], y[b], gap]).ravel()
    return (go.Scatter if kind == "scatter" else go.Scattergl)(
        x=xs, y=ys, mode="lines", name=f"network edges ({len(a):,})", hoverinfo="skip",
        line=dict(color="rgba(120,120,120,0.35)", width=0.6), legendgroup="edges",
        visible=True if len(table) <= EDGES_VISIBLE_MAX else "legendonly")


def _hover(g: pd.DataFrame, label_chars: int = 60) -> list[str]:
    return [f"<b>{html.escape(shorten(n, HOVER_CHARS))}</b><br>{html.escape(shorten(t, HOVER_CHARS))}<br>"
            f"cluster {c}: {html.escape(shorten(lab, label_chars))}"
            f"<br>{f'NES {e:.2f}, ' if e == e else ''}FDR {f:.2g}{'' if s in ('', 'nan') else f', size {s}'}"
            for n, t, c, lab, e, f, s in zip(g["name"], g["term"], g["cluster"], g["cluster_label"], g["nes"],
                                             g["fdr"], g.get("size", pd.Series([""] * len(g))).astype(str))]


def _add_trace(fig, g: pd.DataFrame, name: str, color: str, group: str, kind: str = "scattergl"):
    import plotly.graph_objects as go
    size = 6 + 3 * np.clip(-np.log10(np.maximum(g["fdr"].to_numpy(float), 1e-10)), 0, 6)
    sym = np.where(is_up(g), "triangle-up", "triangle-down")
    fig.add_trace((go.Scatter if kind == "scatter" else go.Scattergl)(x=g["x"], y=g["y"], mode="markers", name=name, legendgroup=group,
                               marker=dict(color=color, size=size, symbol=sym, line=dict(width=0.5, color="#333")),
                               hovertext=_hover(g), hoverinfo="text"))


def point_colors(cluster: np.ndarray, singleton: np.ndarray) -> np.ndarray:
    """Per-point colours (``cluster_color`` for every pathway at once)."""
    out = np.asarray(PALETTE, dtype=object)[np.asarray(cluster, np.int64) % len(PALETTE)]
    out[np.asarray(singleton, bool)] = SINGLETON_COLOR
    return out


def _centres(table: pd.DataFrame) -> pd.DataFrame:
    return table.groupby("cluster", sort=True)[["x", "y"]].mean()


def label_spots(clusters: pd.DataFrame, centres: pd.DataFrame, max_labels: int,
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
    """The map as a plain plotly figure dict for :func:`plot_html`: one trace per NES sign
    for the clustered pathways (colour = cluster id through a palette colour scale, so colours are
    one byte a point) and one per sign for the singletons, instead of one trace per cluster."""
    import plotly.io as pio
    single = table["cluster"].map(clusters.set_index("cluster")["singleton"]).fillna(False).to_numpy(bool)
    up = is_up(table)
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
        traces.append(dict(type=trace_type(len(table)), x=_typed(g["x"]), y=_typed(g["y"]), mode="markers",
                           name=f"{'▲ NES > 0' if sign else '▼ NES < 0'}, {what}: {len(g):,}",
                           legendgroup="singletons" if is_single else "clusters",
                           marker=marker, hovertext=_hover(g, 40), hoverinfo="text"))
    notes = [dict(x=x, y=y, text=html.escape(shorten(lab, 32)), showarrow=False, font=dict(size=10, color="#222"),
                  bgcolor="rgba(255,255,255,0.65)")
             for _, lab, x, y in label_spots(clusters, _centres(table), max_labels)]
    layout = dict(template=pio.templates["plotly_white"].to_plotly_json(), height=760,
                  margin=dict(l=10, r=10, t=40, b=10), hovermode="closest", annotations=notes,
                  title=dict(text=f"Pathway map ({len(table):,} pathways, {int((~clusters['singleton']).sum()):,} "
                                  "clusters): colour = cluster, size = -log10 FDR; labels on the largest "
                                  "clusters, hover for any pathway", font=dict(size=14)),
                  legend=dict(font=dict(size=10), itemsizing="constant", orientation="h", y=-0.02),
                  xaxis=dict(visible=False), yaxis=dict(visible=False))
    return dict(data=traces, layout=layout)


def plot_html(fig: dict, div_id: str, config: dict) -> str:
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


def is_up(g: pd.DataFrame) -> np.ndarray:
    """Up-regulated (or over-represented: no NES) pathways."""
    if "direction" in g.columns:
        return g["direction"].to_numpy() > 0
    nes = g["nes"].to_numpy(float)
    return np.isnan(nes) | (nes >= 0)


def shorten(s: str, n: int) -> str:
    """``s`` cut to ``n`` characters with an ellipsis."""
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
    up = is_up(table)
    for sel, marker in ((up, "^"), (~up, "v")):
        ax.scatter(table["x"].to_numpy()[sel], table["y"].to_numpy()[sel], c=list(colors[sel]), s=size[sel],
                   marker=marker, linewidths=0 if big else 0.3, edgecolors="#333", alpha=0.8 if big else 0.9,
                   rasterized=big)
    centres = _centres(table)
    if big:  # labels that would sit on each other are left out
        spots = label_spots(clusters, centres, max_labels)
    else:
        real = clusters[~clusters["singleton"]].head(max_labels)
        spots = [(c, lab, *centres.loc[c, ["x", "y"]]) for c, lab in zip(real["cluster"], real["label"])
                 if c in centres.index]
    for c, lab, x, y in spots:
        ax.annotate(f"{c}: {shorten(lab, 34)}", (x, y), fontsize=7, ha="center", parse_math=False,  # "$" is text
                    bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.7))
    ax.set_axis_off()
    n_real = int((~clusters["singleton"]).sum())
    default = "Pathway clusters (▲ NES > 0, ▼ NES < 0; grey = singleton" + (
        f"; labels on the {max_labels} largest of {n_real})" if n_real > max_labels else ")")
    if big:
        default = (f"{len(table):,} pathways in {n_real:,} clusters "
                   f"(▲ NES > 0, ▼ NES < 0; grey = singleton; labels on the largest)")
    ax.set_title(title or default, fontsize=10, parse_math=False)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
