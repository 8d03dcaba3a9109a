"""Outputs of ``contrastomics cluster``: TSV, JSON, summary, offline HTML report and PNG map.

:func:`write_outputs` renders every file in memory first and only then writes them (each one
atomically), so a failure never leaves a half-finished output folder behind.

The HTML report is one self-contained file: plotly.js is inlined (no CDN), the cluster table is
sorted and filtered by a few lines of vanilla JavaScript, and each cluster's members sit in a
``<details>`` block. It opens offline in any browser.
"""
from __future__ import annotations

import html
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
           "#e6550d", "#31a354", "#756bb1", "#636363", "#9c9ede", "#cedb9c", "#e7ba52", "#e7969c",
           "#de9ed6", "#6baed6", "#fd8d3c", "#74c476", "#9e9ac8", "#969696"]
SINGLETON_COLOR = "#c7c7c7"


def cluster_color(c: int, singleton: bool) -> str:
    return SINGLETON_COLOR if singleton else PALETTE[c % len(PALETTE)]


# ---------------------------------------------------------------------- tables
def tsv_text(table: pd.DataFrame) -> str:
    """``clusters.tsv``: one row per pathway (the embedding text column is left out)."""
    cols = [c for c in table.columns if c not in ("text",)]
    return table[cols].to_csv(sep="\t", index=False, float_format="%.6g")


def json_text(table: pd.DataFrame, clusters: pd.DataFrame, summary: dict) -> str:
    """``clusters.json``: ``{"summary", "clusters": [{..., "members": [...]}]}``."""
    members = {int(c): g for c, g in table.groupby("cluster")}
    out = []
    for rec in clusters.to_dict("records"):
        g = members[int(rec["cluster"])]
        rec = {k: _jsonable(v) for k, v in rec.items()}
        rec["members"] = [
            {"term": t, "name": n, "nes": _jsonable(e), "fdr": _jsonable(f), "representative": bool(r),
             "leading_edge": [x for x in le.split(",") if x]}
            for t, n, e, f, r, le in zip(g["term"], g["name"], g["nes"], g["fdr"], g["representative"],
                                         g["leading_edge_genes"])]
        out.append(rec)
    return json.dumps({"summary": _jsonable(summary), "clusters": out}, indent=1)


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


# ---------------------------------------------------------------------- figures
def _figure(table: pd.DataFrame, clusters: pd.DataFrame, max_labels: int = 25):
    import plotly.graph_objects as go
    fig = go.Figure()
    single = set(clusters.loc[clusters["singleton"], "cluster"].astype(int))
    for rec in clusters.itertuples():
        c = int(rec.cluster)
        g = table[table["cluster"] == c]
        is_single = c in single
        if is_single:
            continue
        _add_trace(fig, g, f"{c}: {_short(rec.label, 40)} ({rec.size})", cluster_color(c, False), f"c{c}")
    if single:
        g = table[table["cluster"].isin(single)]
        _add_trace(fig, g, f"singletons ({len(g)})", SINGLETON_COLOR, "singletons")
    for rec in clusters[~clusters["singleton"]].head(max_labels).itertuples():
        g = table[table["cluster"] == rec.cluster]
        fig.add_annotation(x=float(g["x"].mean()), y=float(g["y"].mean()), text=_short(rec.label, 32),
                           showarrow=False, font=dict(size=10, color="#222"), bgcolor="rgba(255,255,255,0.65)")
    fig.update_layout(template="plotly_white", height=720, margin=dict(l=10, r=10, t=40, b=10),
                      title="Pathway map: colour = cluster, ▲ up (NES > 0), ▼ down (NES < 0), size = -log10 FDR",
                      legend=dict(font=dict(size=10), itemsizing="constant"),
                      xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig


def _add_trace(fig, g: pd.DataFrame, name: str, color: str, group: str):
    import plotly.graph_objects as go
    size = 6 + 3 * np.clip(-np.log10(np.maximum(g["fdr"].to_numpy(float), 1e-10)), 0, 6)
    sym = np.where(_up(g), "triangle-up", "triangle-down")
    hover = [f"<b>{html.escape(str(n))}</b><br>{html.escape(str(t))}<br>cluster {c}: {html.escape(_short(lab, 60))}"
             f"<br>NES {e:.2f}, FDR {f:.2g}, size {s}"
             for n, t, c, lab, e, f, s in zip(g["name"], g["term"], g["cluster"], g["cluster_label"], g["nes"],
                                              g["fdr"], g.get("size", pd.Series([""] * len(g))).astype(str))]
    fig.add_trace(go.Scattergl(x=g["x"], y=g["y"], mode="markers", name=name, legendgroup=group,
                               marker=dict(color=color, size=size, symbol=sym, line=dict(width=0.5, color="#333")),
                               hovertext=hover, hoverinfo="text"))


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
    """``clusters.png``: the same map as a static matplotlib figure (Agg, no display needed)."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(10, 8), dpi=120)
    single = set(clusters.loc[clusters["singleton"], "cluster"].astype(int))
    for up, marker in ((True, "^"), (False, "v")):
        g = table[_up(table) == up]
        colors = [cluster_color(int(c), int(c) in single) for c in g["cluster"]]
        size = 14 + 8 * np.clip(-np.log10(np.maximum(g["fdr"].to_numpy(float), 1e-10)), 0, 6)
        ax.scatter(g["x"], g["y"], c=colors, s=size, marker=marker, linewidths=0.3, edgecolors="#333", alpha=0.9)
    for rec in clusters[~clusters["singleton"]].head(max_labels).itertuples():
        g = table[table["cluster"] == rec.cluster]
        ax.annotate(f"{rec.cluster}: {_short(rec.label, 34)}", (g["x"].mean(), g["y"].mean()), fontsize=7,
                    ha="center", bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.7))
    ax.set_axis_off()
    ax.set_title(title or "Pathway clusters (▲ NES > 0, ▼ NES < 0; grey = singleton)", fontsize=10)
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
    because hundreds of singleton rows would bury the clusters the map is about."""
    rows = by_cond[~by_cond["singleton"]]
    return rows if len(rows) else by_cond


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
    dropped = int(by_cond["singleton"].sum()) if len(rows) < len(by_cond) else 0
    fig.update_layout(template="plotly_white", height=max(320, 140 + 24 * len(rows)),
                      margin=dict(l=10, r=10, t=50, b=10),
                      title=("Mean NES per cluster and condition (red = up, blue = down, blank = not tested)"
                             + (f"; {dropped} singleton(s) left out (see nes_by_condition.tsv)" if dropped else "")),
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
    dropped = int(by_cond["singleton"].sum()) if len(rows) < len(by_cond) else 0
    ax.set_title("Mean NES per cluster and condition (grey = not tested)"
                 + (f"\n{dropped} singleton(s) left out (see nes_by_condition.tsv)" if dropped else ""), fontsize=9)
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
    fig = _figure(table, clusters)
    plot = fig.to_html(full_html=False, include_plotlyjs=True, config={"displaylogo": False, "responsive": True})
    conds = summary.get("conditions") or []
    heat = ""
    if len(conds) > 1:
        heat = "<h2>NES per condition</h2>" + _heatmap_figure(nes_by_condition(table, clusters, conds), conds).to_html(
            full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True})
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
    head = ["cluster", "label", "keywords", "shared leading-edge genes", "size", "up", "down", "mean NES", "min FDR"] + [f"NES {c}" for c in conds]
    body = []
    for rec in clusters.itertuples():
        c = int(rec.cluster)
        cells = [f'<td data-v="{c}"><span class="sw" style="background:{cluster_color(c, rec.singleton)}"></span>{c}</td>',
                 f"<td>{html.escape(str(rec.label))}</td>", f"<td>{html.escape(str(rec.keywords))}</td>",
                 f"<td>{html.escape(str(getattr(rec, 'top_genes', '')))}</td>",
                 f"<td>{rec.size}</td>", f"<td>{rec.n_up}</td>", f"<td>{rec.n_down}</td>",
                 f"<td>{rec.mean_nes:.2f}</td>", f'<td data-v="{rec.min_fdr:.3e}">{rec.min_fdr:.2g}</td>']
        cells += [f"<td>{getattr(rec, 'mean_nes_' + cd):.2f}</td>" for cd in conds]
        search = html.escape(f"{c} {rec.label} {rec.keywords} {getattr(rec, 'top_genes', '')}".lower(), quote=True)
        body.append(f'<tr data-s="{search}">' + "".join(cells) + "</tr>")
    thead = "".join(f'<th onclick="sortTable({i})">{html.escape(h)}</th>' for i, h in enumerate(head))
    details = []
    for c, g in table.groupby("cluster", sort=True):
        rec = clusters.loc[clusters["cluster"] == c].iloc[0]
        items = "".join(
            f'<li class="{"up" if d > 0 else "down"}">{"▲" if d > 0 else "▼"} {html.escape(str(n))} '
            f'<span class="muted">NES {e:.2f}, FDR {f:.2g}{" · representative" if r else ""}</span></li>'
            for n, e, f, r, d in zip(g["name"], g["nes"], g["fdr"], g["representative"], _up(g) * 2 - 1))
        search = html.escape(" ".join([str(c), str(rec["label"]), str(rec["keywords"])] + g["name"].astype(str).tolist()).lower(),
                             quote=True)
        details.append(f'<details class="cl" data-s="{search}"><summary><span class="sw" style="background:'
                       f'{cluster_color(int(c), bool(rec["singleton"]))}"></span>cluster {c}: '
                       f'{html.escape(str(rec["label"]))} ({len(g)})</summary><ul>{items}</ul></details>')
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in summary.get("notes", []))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{_CSS}</style>
<script>{_JS}</script></head><body>
<h1>{html.escape(title)}</h1>
<p class="muted">Pathways grouped by contrastomics ({html.escape(str(summary.get('method')))}). Hover a point for its
pathway; click legend entries to hide clusters. Metric definitions: docs/clustering.md.</p>
<table class="metrics">{metric_rows}</table>{f'<ul class="muted">{notes}</ul>' if notes else ''}
{plot}
{heat}
<h2>Clusters</h2>
<input id="q" placeholder="search clusters and pathways…" oninput="filterAll()">
<table id="ctab"><thead><tr>{thead}</tr></thead><tbody>{''.join(body)}</tbody></table>
<h2>Members</h2>
{''.join(details)}
</body></html>
"""


def write_outputs(result, out_dir: str | Path, *, report: bool = True, title: str = "contrastomics cluster") -> list[Path]:
    """Write ``clusters.tsv``, ``clusters.json``, ``summary.json``, ``summary.md`` and (with
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
