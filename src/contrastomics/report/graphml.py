"""``network.graphml``: the pathway kNN graph for Cytoscape, igraph or networkx."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

#: ``network.graphml`` is written up to this many pathways (above, ~150 bytes per edge add up)
GRAPHML_MAX = 20_000
_XML_FORBIDDEN = "[\x00-\x08\x0b\x0c\x0e-\x1f]"


def graphml_text(result) -> str:
    """:func:`write_graphml`'s file as text."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:  # igraph writes to a path
        path = Path(d) / "network.graphml"
        write_graphml(result, path)
        return path.read_text(encoding="utf-8")


def edge_pairs(result) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kNN-graph edges of a :class:`~contrastomics.cluster.ClusterResult` as rows of its
    :attr:`table`: ``(a, b, weight)`` with ``a < b`` in input order, one entry per undirected edge."""
    tab = result.table
    if result.graph is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    order = result.order if result.order is not None else np.arange(len(tab))
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order))
    g = result.graph.tocoo()
    keep = g.row < g.col
    return pos[g.row[keep]], pos[g.col[keep]], g.data[keep]


def write_graphml(result, path: str | Path) -> None:
    """The pathway network as GraphML for Cytoscape (File > Import > Network from File) or igraph /
    networkx: one node per pathway in :attr:`table` order with its table columns (term, name,
    cluster, cluster_label, cluster_theme, nes, fdr, size, direction, leading_edge_genes, x, y;
    integer columns typed ``long``, flags ``boolean``), one undirected edge per kNN-graph pair with its
    similarity as ``weight``; written to ``path``."""
    import igraph as ig
    tab = result.table
    a, b, w = edge_pairs(result)
    net = ig.Graph(n=len(tab), edges=np.column_stack([a, b]).tolist())
    net.es["weight"] = np.round(w.astype(float), 6).tolist()
    integers = []
    for col in tab.columns:
        if col == "text":  # long descriptions: in clusters.tsv
            continue
        v = tab[col]
        key = re.sub(r"\W", "_", str(col))  # GraphML attribute ids are XML name tokens
        if v.dtype.kind == "b":
            net.vs[key] = [bool(x) for x in v]
        elif v.dtype.kind in "iuf":  # numbers (NaN where missing)
            net.vs[key] = [float(x) for x in v.astype("float64")]
            integers += [key] if v.dtype.kind in "iu" else []
        else:  # XML 1.0 forbids most control characters
            net.vs[key] = v.fillna("").astype(str).str.replace(_XML_FORBIDDEN, " ", regex=True).tolist()
    net.write_graphml(str(path))
    if integers:  # igraph keeps numbers as doubles; integer columns (cluster, size) are declared "long"
        text = Path(path).read_text(encoding="utf-8")
        for key in integers:
            text = text.replace(f'attr.name="{key}" attr.type="double"', f'attr.name="{key}" attr.type="long"', 1)
        Path(path).write_text(text, encoding="utf-8")
