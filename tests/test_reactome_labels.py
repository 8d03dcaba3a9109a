"""Reactome results: the hierarchy neighbourhood counts as label support, and top-level or very
broad pathways never label a cluster (benchmarks/decisions/cluster.md, session 8)."""
import numpy as np

from contrastomics.cluster.labels import GENERIC_MAX_REACTOME_DESCENDANTS, generic_terms, label_support
from contrastomics.data.reactome import build_hierarchy, load_hierarchy, result_rows


def toy():
    # A contains B and C (siblings); B contains D; E stands alone
    sets = {"A": list("abcdefgh"), "B": list("abcd"), "C": list("efg"), "D": list("ab"), "E": list("xyz")}
    return build_hierarchy(list(sets), [f"R-HSA-{i}" for i in range(5)], list(sets.values()))


def test_parents_and_related_follow_containment():
    h = toy()
    row = {n: i for i, n in enumerate(h.names)}
    assert [h.names[p] for p in h.parents[row["D"]]] == ["B"]
    a = np.array([row["B"], row["B"], row["D"], row["E"], row["D"]])
    b = np.array([row["C"], row["A"], row["A"], row["A"], row["C"]])
    # siblings, descendant->ancestor, grand-child->ancestor, unrelated, cousin
    assert h.related(a, b).tolist() == [True, True, True, False, False]


def test_label_support_counts_the_hierarchy_neighbourhood():
    h = toy()
    rows = np.arange(5)
    labels = np.zeros(5, np.int64)
    reps = {0: 1}  # B labels all five
    sup, info = label_support(labels, reps, space=np.eye(5, dtype=np.float32), reactome=(rows, h))
    assert sup[0] == 0.75  # A (ancestor), C (sibling), D (descendant); not E
    assert "Reactome" in info["label_support_basis"]
    sup0, info0 = label_support(labels, reps, space=np.eye(5, dtype=np.float32))
    assert np.isnan(sup0[0]) and "not scored" in info0["label_support_basis"]  # 5 pathways: no threshold


def test_top_level_and_broad_reactome_pathways_are_generic():
    h = toy()
    gen = generic_terms([None] * 5, reactome=(np.arange(5), h))
    # A is top level with sub-pathways; E is top level but a leaf; B, C, D have parents
    assert gen.tolist() == [True, False, False, False, False]
    shipped = load_hierarchy()
    names = ["Immune System", "Hemostasis", "Cell Cycle Checkpoints"]
    rows = result_rows(names, names)
    assert (rows >= 0).all()
    assert generic_terms(names, reactome=(rows, shipped)).tolist() == [True, True, False]
    assert shipped.n_below[rows[1]] - 1 > GENERIC_MAX_REACTOME_DESCENDANTS
    assert result_rows(["KEGG_CELL_CYCLE", "GO:0007049"], None) is None
