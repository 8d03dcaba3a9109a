"""Report writing of `contrastomics cluster` (report/clusters.py) for small and large maps: the large
map is one WebGL layer with per-point colours and hover text, capped tables and member lists, and
stays a self-contained file whose numbers decode back to the layout."""
import base64
import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import scipy.sparse as sp
import pytest

import contrastomics.report.figures as figures
import contrastomics.report.heatmap as heatmap
import contrastomics.report.html as report_html
from contrastomics.cluster import ClusterResult
from contrastomics.report import write_outputs
from contrastomics.report.heatmap import heatmap_figure
from contrastomics.report.html import html_text
from contrastomics.report.tables import json_text, nes_by_condition
from contrastomics.cluster.layout import cluster_layout


def make_result(sizes, n_single, conditions=(), seed=0) -> ClusterResult:
    """A ClusterResult built by hand: clusters numbered by size, singletons after (as the pipeline does)."""
    rng = np.random.default_rng(seed)
    sizes = np.r_[np.sort(np.asarray(sizes, int))[::-1], np.ones(n_single, int)]
    labels = np.repeat(np.arange(len(sizes)), sizes)
    n = len(labels)
    x = rng.normal(size=(len(sizes), 8))[labels] + 0.3 * rng.normal(size=(n, 8))
    xy = cluster_layout(labels, x)
    nes = rng.choice([-1, 1], n) * rng.uniform(1.2, 3, n)
    fdr = rng.uniform(1e-4, 0.05, n)
    names = [f"pathway <{i}> & co" if i == 3 else f"pathway {i}" for i in range(n)]
    table = pd.DataFrame({"cluster": labels, "cluster_size": sizes[labels], "term": [f"T{i}" for i in range(n)],
                          "name": names, "nes": nes, "fdr": fdr, "size": 20, "direction": np.sign(nes).astype(int),
                          "leading_edge_genes": ["A,B,C"] * n, "x": np.round(xy[:, 0], 5), "y": np.round(xy[:, 1], 5)})
    table = table.sort_values(["cluster", "fdr"], kind="stable").reset_index(drop=True)
    table["representative"] = ~table["cluster"].duplicated()
    labels_of = {c: f"label of {c}" for c in range(len(sizes))}
    table["cluster_label"] = table["cluster"].map(labels_of)
    table["cluster_keywords"] = "kw1, kw2"
    for cond in conditions:
        table[f"nes_{cond}"] = table["nes"] + rng.normal(size=n)
    g = table.groupby("cluster")
    clusters = pd.DataFrame({"cluster": np.arange(len(sizes)), "size": sizes,
                             "label": [labels_of[c] for c in range(len(sizes))],
                             "representative_term": table.loc[table["representative"], "term"].to_numpy(),
                             "keywords": "kw1, kw2", "top_genes": "A, B", "n_up": g["nes"].apply(lambda v: (v > 0).sum()),
                             "n_down": g["nes"].apply(lambda v: (v < 0).sum()), "mean_nes": g["nes"].mean(),
                             "min_fdr": g["fdr"].min(), "singleton": sizes == 1}).reset_index(drop=True)
    for cond in conditions:
        clusters[f"mean_nes_{cond}"] = g[f"nes_{cond}"].mean().to_numpy()
    summary = {"method": "test", "model": None, "n_significant": n, "fdr_cutoff": 0.05,
               "conditions": list(conditions), "notes": [],
               "metrics": {"n_clusters": int((sizes > 1).sum()), "n_singletons": int(n_single)}}
    return ClusterResult(table, clusters, summary, None, None)


def plotly_calls(html: str) -> list[list[dict]]:
    """The data array of every Plotly.newPlot call in the page."""
    out = []
    for m in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', html):
        data, _ = json.JSONDecoder().raw_decode(html[m.end():])
        out.append(data)
    return out


def decode(spec) -> np.ndarray:
    if isinstance(spec, dict):
        return np.frombuffer(base64.b64decode(spec["bdata"]), {"f4": "<f4", "f8": "<f8", "u1": "u1"}[spec["dtype"]])
    return np.asarray(spec, float)


@pytest.fixture
def big(monkeypatch):
    """Large-map mode at test sizes: the thresholds are lowered instead of writing 5,000+ pathways."""
    monkeypatch.setattr(figures, "BIG_POINTS", 100)
    monkeypatch.setattr(figures, "SVG_MAX_POINTS", 100)  # WebGL above (issue 17 #11: SVG below)
    monkeypatch.setattr(report_html, "MAX_MEMBERS_SHOWN", 5)
    monkeypatch.setattr(report_html, "MAX_TABLE_ROWS", 12)


def test_small_map_keeps_one_trace_per_cluster(tmp_path):
    res = make_result([12, 9, 7, 5], n_single=4)
    assert not figures.is_big(res.table, res.clusters)
    write_outputs(res, tmp_path)
    html = (tmp_path / "report.html").read_text()
    traces = plotly_calls(html)[0]
    assert [t["name"] for t in traces] == ["0: label of 0 (12)", "1: label of 1 (9)", "2: label of 2 (7)",
                                           "3: label of 3 (5)", "singletons (4)"]
    assert html.count('<details class="cl"') == 8 and "more (all members" not in html
    assert (tmp_path / "clusters.json").read_text().startswith("{\n")  # indented for reading


def test_big_map_is_one_webgl_layer_per_sign_with_decodable_points(tmp_path, big):
    res = make_result([40, 30, 20, 10, 8, 6, 4, 3, 2, 2], n_single=25)
    assert figures.is_big(res.table, res.clusters)
    write_outputs(res, tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert "<script src" not in html and "Plotly.newPlot" in html
    traces = plotly_calls(html)[0]
    assert len(traces) == 4 and all(t["type"] == "scattergl" for t in traces)
    tab = res.table
    single = tab["cluster"].isin(res.clusters.loc[res.clusters["singleton"], "cluster"]).to_numpy()
    up = (tab["direction"] > 0).to_numpy()
    seen = []
    for t, (is_single, sign) in zip(traces, [(False, True), (False, False), (True, True), (True, False)]):
        sel = tab[(single == is_single) & (up == sign)]
        np.testing.assert_allclose(decode(t["x"]), sel["x"], atol=1e-6)
        np.testing.assert_allclose(decode(t["y"]), sel["y"], atol=1e-6)
        assert t["marker"]["symbol"] == ("triangle-up" if sign else "triangle-down")
        if is_single:
            assert t["marker"]["color"] == figures.SINGLETON_COLOR
        else:  # colour index into the palette colour scale = cluster id mod palette size
            np.testing.assert_array_equal(decode(t["marker"]["color"]), sel["cluster"] % len(figures.PALETTE))
            scale = t["marker"]["colorscale"]
            assert [c for _, c in scale] == figures.PALETTE and t["marker"]["cmax"] == len(figures.PALETTE) - 1
        assert len(t["hovertext"]) == len(sel)
        seen += t["hovertext"]
    assert len(seen) == len(tab)
    # names are escaped for the hover HTML and nothing can close the <script> early
    assert any("pathway &lt;3&gt; &amp; co" in h for h in seen)
    scripts = html.count("<script")
    assert html.count("</script>") == scripts


def test_big_map_caps_table_and_member_lists(tmp_path, big):
    res = make_result([40, 30, 20, 10, 8, 6, 4, 3, 2, 2, 2, 2, 2, 2], n_single=25)
    html = html_text(res.table, res.clusters, res.summary)
    body = html[html.index('<table id="ctab">'):html.index("</table>", html.index('<table id="ctab">'))]
    assert body.count("<tr data-s=") == 12
    assert "lists the 12 largest of 39 clusters" in html
    # member lists only for table clusters with >= 2 members, each cut to 5 with a note on the rest
    assert html.count('<details class="cl"') == 12
    assert "… and 35 more" in html and "… and 25 more" in html
    first = html[html.index('<details class="cl"'):html.index("</details>")]
    assert first.count("<li class=\"up\">") + first.count("<li class=\"down\">") == 5
    assert "representative" in first  # the representative is listed first
    # the search still covers every member of a listed cluster
    assert all(f"pathway {i}" in first for i in range(40) if i != 3)


def test_big_json_is_compact_and_complete(tmp_path, big):
    res = make_result([40, 30, 20, 10], n_single=25)
    text = json_text(res.table, res.clusters, res.summary)
    assert "\n" not in text
    js = json.loads(text)
    assert sum(len(c["members"]) for c in js["clusters"]) == len(res.table)
    c0 = js["clusters"][0]
    assert c0["cluster"] == 0 and len(c0["members"]) == 40 and c0["members"][0]["representative"]
    assert c0["members"][0]["leading_edge"] == ["A", "B", "C"]
    expect = res.table[res.table["cluster"] == 0]["fdr"].tolist()
    assert [m["fdr"] for m in c0["members"]] == pytest.approx(expect)


def test_big_png_is_written(big):
    res = make_result([40, 30, 20], n_single=60)
    png = figures.png_bytes(res.table, res.clusters)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_labels_are_text_in_every_figure(tmp_path):
    # "$...$" is no matplotlib mathtext (it stopped the whole run), and "<i>" no plotly markup
    res = make_result([6, 5, 4], n_single=1, conditions=("a", "b"))
    res.clusters["label"] = ["path $\\badcmd{x}$ one", "T5 &amp; <i>it</i><br>x", "plain", "single"]
    png = figures.png_bytes(res.table, res.clusters)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    fig = figures.map_figure(res.table, res.clusters)
    names = [t.name for t in fig.data]
    assert "1: T5 &amp;amp; &lt;i&gt;it&lt;/i&gt;&lt;br&gt;x (5)" in names
    assert any(a.text == "T5 &amp;amp; &lt;i&gt;it&lt;/i&gt;&lt;br&gt;x" for a in fig.layout.annotations)
    by = nes_by_condition(res.table, res.clusters, ["a", "b"])
    assert by["label"].str.contains("badcmd").any()
    heatmap.heatmap_png(by, ["a", "b"], tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"


def test_heatmap_rows_are_capped_with_a_note(monkeypatch):
    monkeypatch.setattr(heatmap, "MAX_HEATMAP_ROWS", 3)
    res = make_result([9, 8, 7, 6, 5], n_single=2, conditions=("a", "b"))
    by = nes_by_condition(res.table, res.clusters, ["a", "b"])
    fig = heatmap_figure(by, ["a", "b"])
    assert [y.split(":")[0] for y in fig.data[0].y] == ["0", "1", "2"]
    assert "the 3 largest of 5 clusters shown; 2 singleton(s) left out" in fig.layout.title.text


@pytest.mark.slow
def test_big_report_draws_in_headless_chromium(tmp_path, big):
    """The one-layer WebGL map draws offline: cluster colours are on the screenshot."""
    from matplotlib.image import imread
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    res = make_result([60, 50, 40, 30], n_single=20)
    write_outputs(res, tmp_path)
    png = tmp_path / "shot.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1200,1400", "--virtual-time-budget=8000", f"--screenshot={png}",
                    (tmp_path / "report.html").as_uri()], capture_output=True, timeout=180, check=True)
    img = (imread(png)[..., :3] * 255).round().astype(int)
    for c in range(4):
        rgb = np.array([int(figures.PALETTE[c][i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(img - rgb).sum(-1) < 30).sum() > 50, f"cluster {c} colour not on the screenshot"


def test_big_map_labels_do_not_sit_on_each_other():
    clusters = pd.DataFrame({"cluster": range(5), "label": list("abcde"), "singleton": [False] * 4 + [True]})
    centres = pd.DataFrame({"x": [0.0, 0.1, 0.5, 0.0, 0.9], "y": [0.0, 0.0, 0.0, 0.5, 0.9]}, index=range(5))
    spots = figures.label_spots(clusters, centres, max_labels=3)
    # b collides with a and is skipped; the singleton e is never labelled
    assert [s[0] for s in spots] == [0, 2, 3]


def test_network_graphml_matches_the_table_and_the_graph(tmp_path):
    """network.graphml (for Cytoscape): node r is table row r with its columns, edges are the kNN
    graph's pairs (the graph is in input order, the table sorted by cluster) with their weights."""
    import igraph as ig

    from contrastomics.cluster import run_clustering
    from contrastomics.enrichment import demo_result_path
    res = run_clustering(str(demo_result_path()), method="overlap-knn", metrics=False)
    write_outputs(res, tmp_path, report=False)
    g = ig.Graph.Read_GraphML(str(tmp_path / "network.graphml"))
    tab = res.table
    assert g.vcount() == len(tab) and g.vs["term"] == tab["term"].tolist()
    assert [int(c) for c in g.vs["cluster"]] == tab["cluster"].tolist()
    assert np.allclose(g.vs["nes"], tab["nes"])
    text = (tmp_path / "network.graphml").read_text()  # Cytoscape shows cluster 3, not 3.0
    assert 'attr.name="cluster" attr.type="long"' in text and 'attr.name="nes" attr.type="double"' in text
    assert 'attr.name="representative" attr.type="boolean"' in text
    nx = pytest.importorskip("networkx")  # Cytoscape-like typed reading
    nodes = nx.read_graphml(tmp_path / "network.graphml").nodes(data=True)
    first = next(iter(nodes))[1]
    assert isinstance(first["cluster"], int) and isinstance(first["representative"], bool)
    assert g.ecount() == res.graph.nnz // 2
    row = {int(t): r for r, t in enumerate(res.order)}  # input-order row -> table row
    a, b = res.graph.nonzero()
    i, j = a[a < b][0], b[a < b][0]
    e = g.get_eid(row[i], row[j])
    assert g.es[e]["weight"] == pytest.approx(float(res.graph[i, j]), abs=1e-6)


def test_network_graphml_survives_control_characters(tmp_path):
    import igraph as ig

    from contrastomics.cluster import run_clustering
    from contrastomics.enrichment import demo_result_path, read_gsea_result
    df = read_gsea_result(demo_result_path())
    df.loc[0, "name"] = "a \x01 b"
    res = run_clustering(df, method="overlap-knn", metrics=False)
    write_outputs(res, tmp_path, report=False)
    g = ig.Graph.Read_GraphML(str(tmp_path / "network.graphml"))
    assert "a   b" in g.vs["name"]


def _with_graph(res, seed=0):
    """``res`` with a random symmetric kNN-like graph in input order (rows shuffled against the table)."""
    rng = np.random.default_rng(seed)
    n = len(res.table)
    a, b = rng.integers(0, n, 3 * n), rng.integers(0, n, 3 * n)
    keep = a != b
    g = sp.csr_matrix((np.full(keep.sum(), 0.5, np.float32), (a[keep], b[keep])), shape=(n, n))
    g = g.maximum(g.T).tocsr()
    res.graph, res.order = g, rng.permutation(n)
    return res


def test_map_shows_the_network_edges_with_a_toggle(tmp_path, monkeypatch):
    res = _with_graph(make_result([12, 9, 7, 5], n_single=4))
    res.clusters["label_support"] = [0.5, 0.25, 1.0, np.nan, np.nan, np.nan, np.nan, np.nan]
    write_outputs(res, tmp_path)
    traces = plotly_calls((tmp_path / "report.html").read_text())[0]
    edges = traces[0]
    n_edges = res.graph.nnz // 2
    assert edges["name"] == f"network edges ({n_edges})" and edges["mode"] == "lines"
    assert edges.get("visible", True) is True  # small map: shown at first
    xs = decode(edges["x"])
    assert len(xs) == 3 * n_edges and np.isnan(xs[2::3]).all()
    # the first segment joins the table rows of a graph edge, whatever the input order
    pos = np.empty(len(res.order), int)
    pos[res.order] = np.arange(len(res.order))
    gi, gj = res.graph.nonzero()
    pairs = {frozenset((pos[i], pos[j])) for i, j in zip(gi, gj)}
    x, y = res.table["x"].to_numpy(), res.table["y"].to_numpy()
    seg = {int(np.flatnonzero((x == xs[0]) & (y == decode(edges["y"])[0]))[0]),
           int(np.flatnonzero((x == xs[1]) & (y == decode(edges["y"])[1]))[0])}
    assert frozenset(seg) in pairs
    # the label support is in the legend and the cluster table
    assert traces[1]["name"] == "0: label of 0 (12; label support 50%)"
    html = (tmp_path / "report.html").read_text()
    assert "<th onclick=\"sortTable(2)\">label support</th>" in html and '<td data-v="0.25">25%</td>' in html
    # a mixed cluster (support < 1/3) says so under its label, with its sub-themes or that it has none
    assert html.count("mixed; ") == 1 and "mixed; no other member names 10% of the cluster" in html
    res.clusters["sub_themes"] = ["", "tRNA splicing (4); mRNA export (3)", "", "", "", "", "", ""]
    write_outputs(res, tmp_path)
    assert "mixed; also: tRNA splicing (4); mRNA export (3)" in (tmp_path / "report.html").read_text()
    monkeypatch.setattr(figures, "EDGES_VISIBLE_MAX", 10)  # larger maps: the edges start hidden
    write_outputs(res, tmp_path)
    assert plotly_calls((tmp_path / "report.html").read_text())[0][0]["visible"] == "legendonly"


def test_big_maps_carry_no_edges(tmp_path, big):
    res = _with_graph(make_result([40, 30, 20, 10, 8, 6, 4, 3, 2, 2], n_single=25))
    write_outputs(res, tmp_path)
    names = [t["name"] for t in plotly_calls((tmp_path / "report.html").read_text())[0]]
    assert not any(n.startswith("network edges") for n in names)
