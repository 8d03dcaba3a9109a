"""Output tables of a clustering: one row per pathway (``clusters.tsv``) and one per cluster."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from .pathways import Pathways


def result_tables(pw: Pathways, labels: np.ndarray, reps: dict, keywords: dict, sign: np.ndarray,
                  coords: np.ndarray | None = None, themes: dict | None = None, support: dict | None = None,
                  subs: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """``(table, clusters, order)``: one row per pathway sorted by cluster then FDR, one row per
    cluster, and the input-order row of each ``table`` row.

    ``labels`` ``(n,)`` cluster of each pathway of ``pw`` (0 = largest); ``reps`` cluster -> row of
    its representative; ``keywords`` cluster -> keywords; ``sign`` ``(n,)`` +1/-1; ``coords``
    ``(n, 2)`` map positions; ``themes`` cluster -> theme record
    (:func:`~contrastomics.cluster.labels.cluster_themes`); ``support`` cluster -> label support;
    ``subs`` cluster -> sub-themes of a mixed cluster (:func:`~contrastomics.cluster.labels.sub_themes`).
    """
    tab = pw.table
    sizes = np.bincount(labels)
    titles = pw.titles or tab["name"].tolist()  # readable: no trailing ids, species prefixes or empty names
    label_of = {c: titles[i] for c, i in reps.items()}
    rep_rows = set(reps.values())
    out = pd.DataFrame({
        "cluster": labels,
        "cluster_size": sizes[labels],
        "cluster_label": [label_of[c] for c in labels],
        "cluster_keywords": [", ".join(keywords.get(int(c), [])) for c in labels],
        "representative": [i in rep_rows and sizes[labels[i]] > 1 for i in range(len(labels))],
        "term": tab["term"].to_numpy(),
        "name": np.asarray(titles, dtype=object),  # Reactome's own names for MSigDB's REACTOME_... terms
        "nes": tab["nes"].to_numpy(float),
        "fdr": tab["fdr"].to_numpy(float),
    })
    if themes:  # the theme of the pathway's cluster, and the share of the cluster's members under it
        at = out.columns.get_loc("cluster_keywords") + 1
        out.insert(at, "cluster_theme", [themes.get(int(c), {}).get("theme", "") for c in labels])
        out.insert(at + 1, "cluster_theme_support",
                   np.array([themes.get(int(c), {}).get("theme_support", np.nan) for c in labels], float))
    if support is not None:
        out.insert(out.columns.get_loc("cluster_label") + 1, "cluster_label_support",
                   np.array([support.get(int(c), np.nan) for c in labels], float))  # exact: 1/3 must not read 0.3333
    if "library" in tab.columns:  # several libraries in one run (gseapy's ``<library>__`` prefix)
        out.insert(out.columns.get_loc("term"), "library", tab["library"].to_numpy())
    for col in ("es", "pvalue", "size"):
        if col in tab.columns:
            out[col] = tab[col].to_numpy()
    out["direction"] = sign
    for cond in pw.conditions:
        out[f"nes_{cond}"] = tab[f"nes_{cond}"].to_numpy(float)
        out[f"fdr_{cond}"] = tab[f"fdr_{cond}"].to_numpy(float)
    out["n_leading_edge"] = [len(g) for g in pw.leading_edge]
    out["leading_edge_genes"] = [",".join(g) for g in pw.leading_edge]
    out["text"] = pw.texts
    if coords is not None:
        out["x"], out["y"] = np.round(coords[:, 0], 5), np.round(coords[:, 1], 5)
    out["_row"] = np.arange(len(out))
    out = out.sort_values(["cluster", "fdr"], kind="stable").reset_index(drop=True)
    order = out.pop("_row").to_numpy()
    # one record per cluster, aggregated column-wise (a Python loop over ~10^3-10^4 clusters of
    # pandas groups took seconds); only the shared-gene count runs per cluster, and only for >= 2
    g = out.assign(up=out["nes"] > 0, down=out["nes"] < 0).groupby("cluster", sort=True)
    agg = g.agg(size=("term", "size"), label=("cluster_label", "first"), keywords=("cluster_keywords", "first"),
                n_up=("up", "sum"), n_down=("down", "sum"), mean_nes=("nes", "mean"), min_fdr=("fdr", "min"))
    ids = agg.index.to_numpy()
    clusters = pd.DataFrame({"cluster": ids.astype(int), "size": agg["size"].to_numpy(int),
                             "label": agg["label"].to_numpy(),
                             "representative_term": tab["term"].to_numpy()[[reps[int(c)] for c in ids]],
                             "keywords": agg["keywords"].to_numpy()})
    if support is not None:
        clusters.insert(clusters.columns.get_loc("label") + 1, "label_support",
                        np.array([support.get(int(c), np.nan) for c in ids], float))
    if subs is not None:  # a mixed cluster: what else it holds, "title (members named)"
        at = clusters.columns.get_loc("label_support" if support is not None else "label") + 1
        clusters.insert(at, "sub_themes", ["; ".join(f"{titles[r]} ({k})" for r, k in zip(subs[int(c)]["rows"],
                                                                                     subs[int(c)]["counts"]))
                                           if int(c) in subs else "" for c in ids])
        clusters.insert(at + 1, "sub_theme_support",
                        np.array([subs[int(c)]["support"] if int(c) in subs else np.nan for c in ids], float))
    if themes:
        recs = [_theme_record(themes.get(int(c))) for c in ids]
        for key in ("theme", "theme_id", "theme_support", "theme_source"):
            clusters[key] = [r[key] for r in recs]
    starts = np.searchsorted(out["cluster"].to_numpy(), ids)
    sizes_ = clusters["size"].to_numpy()
    le = out["leading_edge_genes"].to_numpy()
    clusters["top_genes"] = [", ".join(_top_genes(le[a:a + m])) if m > 1 else "" for a, m in zip(starts, sizes_)]
    clusters["n_up"] = agg["n_up"].to_numpy(int)
    clusters["n_down"] = agg["n_down"].to_numpy(int)
    clusters["mean_nes"] = agg["mean_nes"].to_numpy(float)
    clusters["min_fdr"] = agg["min_fdr"].to_numpy(float)
    clusters["singleton"] = sizes_ == 1
    for cond in pw.conditions:
        clusters[f"mean_nes_{cond}"] = g[f"nes_{cond}"].mean().to_numpy(float)
        clusters[f"n_tested_{cond}"] = g[f"nes_{cond}"].count().to_numpy(int)  # members with a NES there
    return out, clusters, order


def _theme_record(theme: dict | None) -> dict:
    if not theme:
        return {"theme": "", "theme_id": "", "theme_support": float("nan"), "theme_source": ""}
    return {"theme": theme["theme"], "theme_id": theme["theme_id"],
            "theme_support": float(theme["theme_support"]), "theme_source": theme.get("theme_source", "")}


def _top_genes(le_strings, n: int = 6) -> list[str]:
    """The leading-edge genes shared by most members (at least two) of a cluster."""
    counts = Counter(g for s in le_strings for g in dict.fromkeys(x for x in str(s).split(",") if x))
    return [g for g, c in counts.most_common(n) if c >= 2]
