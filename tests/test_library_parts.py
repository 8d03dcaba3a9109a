"""Results mixing GO terms with other libraries' pathways: each library part clustered as it would be
alone (cluster/library_parts.py, development round 19)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from contrastomics.cluster import library_parts, run_clustering
from contrastomics.cluster.library_parts import MIN_PART, library_parts as parts_of, part_targets
from contrastomics.data.builtin import load_library
from contrastomics.data.reactome import load_hierarchy


@pytest.fixture(scope="module")
def mixed() -> pd.DataFrame:
    """24 GO BP terms and 24 Reactome pathways with real GO genes, NES of both signs."""
    lib = load_library("GO_BP", min_size=15, max_size=200)
    h = load_hierarchy()
    rng = np.random.default_rng(0)
    go = rng.choice(len(lib.terms), 24, replace=False)
    rows = [(f"{lib.names[i]} ({lib.terms[i]})", sorted(lib.gene_sets[i])[:20]) for i in go]
    below = np.flatnonzero([bool(a) for a in h.ancestors])  # below the top level; Enrichr's spelling
    for k, r in enumerate(rng.choice(below, 24, replace=False)):
        rows.append((f"{h.names[r]} {h.ids[r]}", sorted(lib.gene_sets[go[k % 12]])[5:25]))  # genes shared with GO
    nes = np.where(np.arange(48) % 3 == 0, -2.0, 2.0)
    return pd.DataFrame({"term": [t for t, _ in rows], "nes": nes, "fdr": np.linspace(0.001, 0.04, 48),
                         "genes": [g for _, g in rows]})


def _labels_of(res, terms) -> np.ndarray:
    pos = dict(zip(res.table["term"], res.table["cluster"]))
    return np.array([pos[t] for t in terms])


def test_each_part_is_clustered_as_it_would_be_alone(mixed):
    res = run_clustering(mixed, layout=False)
    assert res.summary["library_parts"] == {"GO": 24, "other libraries": 24}
    assert any("clustered apart" in n for n in res.summary["notes"])
    go = mixed["term"].str.contains("(GO:", regex=False).to_numpy()
    lab = _labels_of(res, mixed["term"])
    assert not set(lab[go]) & set(lab[~go])  # no cluster spans both parts
    for part in (go, ~go):
        alone = run_clustering(mixed[part].reset_index(drop=True), layout=False)
        terms = mixed["term"][part]
        assert adjusted_rand_score(_labels_of(alone, terms), lab[part]) == 1.0
        got = res.clusters.set_index("cluster").loc[sorted(set(lab[part])), "label"]
        assert sorted(got) == sorted(alone.clusters["label"])
        assert res.summary["n_clusters"] >= alone.summary["n_clusters"]
    themes = res.clusters.set_index("cluster")["theme_source"]
    assert set(themes[sorted(set(lab[go]))]) <= {"GO slim", "title phrase"}
    assert "Reactome top level" in set(themes[sorted(set(lab[~go]))])


def test_one_part_too_small_or_parts_off_is_one_partition(mixed, monkeypatch):
    small = pd.concat([mixed.iloc[:24], mixed.iloc[24:24 + MIN_PART - 1]], ignore_index=True)
    assert parts_of(small["term"]) is None
    assert run_clustering(small, layout=False, metrics=False).summary["library_parts"] is None
    monkeypatch.setattr(library_parts, "PARTS", False)
    res = run_clustering(mixed, layout=False, metrics=False)
    assert res.summary["library_parts"] is None


def test_msigdb_style_names_without_a_prefix_are_another_library():
    # a concatenated fgsea / msigdbr table: C2 CGP and C8 rows carry no library prefix, yet are no GO terms
    go = [f"GOCC_TERM_{i}" for i in range(MIN_PART)]  # MSigDB GO names count as GO by their prefix
    cgp = [f"AUTHOR{i}_BREAST_CANCER_UP" for i in range(MIN_PART)]
    assert parts_of(go + cgp).tolist() == [0] * MIN_PART + [1] * MIN_PART
    assert parts_of(go + [f"some title {i}" for i in range(MIN_PART)]) is None  # GO titles that lost their ids


def test_explicit_cluster_count_is_shared_between_the_parts(mixed):
    res = run_clustering(mixed, layout=False, metrics=False, n_clusters=6)
    assert abs(res.summary["n_clusters"] - 6) <= 1
    assert res.summary["target_clusters"] == 6


def test_part_targets():
    parts = np.array([0] * 300 + [1] * 150)
    assert part_targets(parts, None, lambda n: n // 15) == [20, 10]
    assert part_targets(parts, 7, lambda n: 0) == [5, 2]  # 4.67 / 2.33: the larger remainder first
    assert part_targets(np.array([0] * 99 + [1]), 3, lambda n: 0) == [2, 1]  # at least 1 each
    terms = ["GOBP_DNA_REPAIR"] * MIN_PART + ["REACTOME_DNA_REPAIR"] * MIN_PART
    assert parts_of(terms).tolist() == [0] * MIN_PART + [1] * MIN_PART
    # GO terms that lost their ids (newer than the built-in GO) are no other library: one part
    newer = [f"DNA repair (GO:{i:07d})" for i in range(20)] + [f"a process named in 2025, number {i}" for i in range(20)]
    assert parts_of(newer) is None
    assert parts_of(newer, libraries=["GO_Biological_Process_2025"] * 40) is None
    libs = ["GO_Biological_Process_2025"] * 20 + ["WikiPathways_2024_Human"] * 20
    assert parts_of(newer, libraries=libs).tolist() == [0] * 20 + [1] * 20  # the row's library says so
    assert parts_of(newer[:20] + [f"KEGG_PATHWAY_{i}" for i in range(20)]).tolist() == [0] * 20 + [1] * 20


def test_the_library_of_each_row_is_in_the_output():
    from pathlib import Path
    path = Path(__file__).parent / "data" / "gsea" / "gseapy_two_libraries.prerank.report.csv"
    with pytest.warns(UserWarning):
        res = run_clustering(path, fdr_cutoff=1.0, layout=False, metrics=False)
    lib = dict(zip(res.table["term"], res.table["library"]))
    assert lib == {"KEGG_APOPTOSIS": "c2_kegg_mini.gmt", "REACTOME_APOPTOSIS": "c2_reactome_mini.gmt",
                   "REACTOME_TP53_REGULATES_TRANSCRIPTION_OF_CELL_DEATH_GENES": "c2_reactome_mini.gmt"}
    assert list(res.table.columns).index("library") == list(res.table.columns).index("term") - 1


@pytest.mark.parametrize("opts", [dict(partition="leiden"), dict(split_direction=True), dict(resolution=1.0),
                                  dict(partition="average")])
def test_parts_hold_under_every_partition_option(mixed, opts):
    res = run_clustering(mixed, layout=False, metrics=False, **opts)
    go = mixed["term"].str.contains("(GO:", regex=False).to_numpy()
    lab = _labels_of(res, mixed["term"])
    assert res.summary["library_parts"] == {"GO": 24, "other libraries": 24}
    assert not set(lab[go]) & set(lab[~go])
    if opts.get("split_direction"):
        sign = np.sign(mixed["nes"].to_numpy())
        assert all(len(set(sign[lab == c])) == 1 for c in set(lab))
