"""``report.html``: one self-contained offline page (map, metrics, sortable cluster table, member lists)."""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..cluster.labels import LOW_SUPPORT, mixed_note
from .figures import cluster_color, is_big, is_up, map_figure, plot_html, shorten
from .heatmap import heatmap_figure
from .tables import metric_rows, nes_by_condition

#: caps for large reports: cluster-table rows, members listed per cluster
MAX_TABLE_ROWS = 5000
MAX_MEMBERS_SHOWN = 15


def _theme_text(theme, support) -> str:
    """``immune system process (62%)``; empty for clusters without a theme."""
    if not isinstance(theme, str) or not theme:
        return ""
    return f"{theme} ({support:.0%})" if isinstance(support, float) and support == support else theme


def _support_text(rec) -> str:
    """``; label support 40%`` for a cluster record with a label support, else empty."""
    sup = rec.get("label_support", float("nan")) if hasattr(rec, "get") else float("nan")
    return f"; label support {sup:.0%}" if _finite(sup) else ""


#: longer cell texts (10,000-character pathway names) are cut with an ellipsis, in full on hover
MAX_CELL_CHARS = 120
#: a table cell with no value (not tested, no NES)
MISSING = "–"


def _finite(v) -> bool:
    return isinstance(v, (int, float, np.number)) and bool(np.isfinite(v))


def _number(v, fmt: str = ".2f") -> str:
    """``v`` formatted, :data:`MISSING` for NaN / missing (never "nan")."""
    return format(v, fmt) if _finite(v) else MISSING


def _short_html(v, n: int = MAX_CELL_CHARS) -> str:
    """Escaped text, cut to ``n`` characters; a cut text carries the full one as its hover title."""
    s = str(v)
    if len(s) <= n:
        return html.escape(s)
    return f'<span title="{html.escape(s, quote=True)}">{html.escape(shorten(s, n))}</span>'


def _cell(v, n: int = MAX_CELL_CHARS) -> str:
    return f"<td>{_short_html(v, n)}</td>"


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


def html_text(table: pd.DataFrame, clusters: pd.DataFrame, summary: dict, title: str = "contrastomics cluster",
              edges=None) -> str:
    """``report.html``: map + metrics + sortable/searchable cluster table + member lists, offline.
    ``edges``: the network's ``(a, b)`` table rows, drawn on the map (:func:`~.figures.map_figure`)."""
    big = is_big(table, clusters)
    fig = map_figure(table, clusters, edges=edges)
    config = {"displaylogo": False, "responsive": True}
    plot = (plot_html(fig, "map", config) if big else
            fig.to_html(full_html=False, include_plotlyjs=True, config=config))
    conds = summary.get("conditions") or []
    heat = ""
    if len(conds) > 1:
        heat = "<h2>NES per condition</h2>" + heatmap_figure(nes_by_condition(table, clusters, conds), conds).to_html(
            full_html=False, include_plotlyjs=False, config=config)
    metric_html = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape('n/a' if b is None else str(b))}</td></tr>"
                          for a, b in metric_rows(summary))
    themed = "theme" in clusters.columns
    supported = "label_support" in clusters.columns
    head = (["cluster", "label"] + (["label support"] if supported else []) + ["keywords"]
            + (["theme (share of members)"] if themed else [])
            + ["shared leading-edge genes", "size", "up", "down", "mean NES", "min FDR"] + [f"NES {c}" for c in conds])
    shown = clusters.head(MAX_TABLE_ROWS)
    body = []
    for rec in shown.to_dict("records"):  # dicts: condition names need not be Python identifiers
        c = int(rec["cluster"])
        has_nes = _finite(rec["mean_nes"])  # over-representation results have no NES: no up / down
        label = _short_html(rec["label"])
        note = mixed_note(rec["label_support"], rec.get("sub_themes"),
                          lambda t: _short_html(t, 3 * MAX_CELL_CHARS)) if supported else None
        if note:  # a mixed cluster
            label += f'<br><span class="muted">mixed; {note}</span>'
        cells = [f'<td data-v="{c}"><span class="sw" style="background:{cluster_color(c, rec["singleton"])}"></span>{c}</td>',
                 f"<td>{label}</td>"]
        if supported:
            sup = rec["label_support"]
            cells.append(f'<td data-v="{sup if _finite(sup) else -1}">{_number(sup, ".0%")}</td>')
        cells.append(_cell(rec["keywords"]))
        if themed:
            cells.append(_cell(_theme_text(rec["theme"], rec["theme_support"])))
        cells += [_cell(rec.get("top_genes", "")), f"<td>{rec['size']}</td>",
                  _cell(rec["n_up"] if has_nes else MISSING), _cell(rec["n_down"] if has_nes else MISSING),
                  _cell(_number(rec["mean_nes"])), f'<td data-v="{rec["min_fdr"]:.3e}">{_number(rec["min_fdr"], ".2g")}</td>']
        cells += [_cell(_number(rec["mean_nes_" + cd])) for cd in conds]
        search = html.escape(f"{c} {rec['label']} {rec['keywords']} {rec.get('theme', '')} "
                             f"{rec.get('top_genes', '')}".lower(), quote=True)
        body.append(f'<tr data-s="{search}">' + "".join(cells) + "</tr>")
    thead = "".join(f'<th onclick="sortTable({i})">{html.escape(h)}</th>' for i, h in enumerate(head))
    table_note = (f'<p class="muted">The table lists the {len(shown):,} largest of {len(clusters):,} clusters '
                  "(singletons included); every cluster is in clusters.tsv and clusters.json.</p>"
                  if len(shown) < len(clusters) else "")
    if supported:
        low = int((clusters["label_support"] < LOW_SUPPORT).sum())
        basis = (summary.get("labels") or {}).get("label_support_basis") or "ontology neighbourhood or similarity"
        table_note += (f'<p class="muted">Label support: the share of the other members near the label '
                       f"({html.escape(str(basis))}). "
                       + (f"{low} cluster(s) below {LOW_SUPPORT:.0%} are mixed: their label names only a few "
                          "members; under the label, the members that name most of the rest (greedy, each "
                          "with the number of members it names first), then read their keywords and members."
                          if low else "") + "</p>")
    info = clusters.set_index("cluster")
    listed = set(shown.loc[~shown["singleton"].astype(bool), "cluster"].astype(int)) if big else None
    order = np.argsort(table["cluster"].to_numpy(), kind="stable")
    ids = table["cluster"].to_numpy()[order]
    col = {c: table[c].to_numpy()[order] for c in ("name", "nes", "fdr", "representative")}
    col["up"] = is_up(table)[order]
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
            f'<li class="{"up" if d else "down"}">{"▲" if d else "▼"} {_short_html(n)} '
            f'<span class="muted">{f"NES {e:.2f}, " if _finite(e) else ""}FDR {f:.2g}'
            f'{" · representative" if r else ""}</span></li>'
            for n, e, f, r, d in zip(col["name"][keep], col["nes"][keep], col["fdr"][keep],
                                     col["representative"][keep], col["up"][keep]))
        search = html.escape(" ".join([str(c), str(rec["label"]), str(rec["keywords"])] + names).lower(),
                             quote=True)
        details.append(f'<details class="cl" data-s="{search}"><summary><span class="sw" style="background:'
                       f'{cluster_color(int(c), bool(rec["singleton"]))}"></span>cluster {c}: '
                       f'{_short_html(rec["label"])} ({b - a}{_support_text(rec)})</summary><ul>{items}{more}</ul></details>')
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
<table class="metrics">{metric_html}</table>{f'<ul class="muted">{notes}</ul>' if notes else ''}
{plot}
{heat}
<h2>Clusters</h2>
<input id="q" placeholder="search clusters and pathways…" oninput="filterAll()">
<table id="ctab"><thead><tr>{thead}</tr></thead><tbody>{''.join(body)}</tbody></table>{table_note}
<h2>Members</h2>{members_note}
{''.join(details)}
</body></html>
"""
