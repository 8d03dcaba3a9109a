"""benchmarks/cluster_themes.py: the external-label metric (core genes, precision, lift, held-out
annotation) pinned on tiny hand-computed cases."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from benchmark_scripts import bench


@pytest.fixture(scope="module")
def ct():
    return bench("cluster_themes")


def test_core_genes_half_threshold(ct):
    # a in 3/3, b in 2/3 (>= 1.5), c and d in 1/3
    core, fb = ct.core_genes([["a", "b", "c"], ["a", "b"], ["a", "d", "d"]])
    assert core == {"a", "b"} and not fb
    # exactly half counts: x in 2 of 4
    core, fb = ct.core_genes([["x", "y"], ["x"], ["z"], ["w"]])
    assert core == {"x"} and not fb
    assert ct.CORE_FRACTION == 0.5


def test_core_genes_fallback_to_union(ct):
    core, fb = ct.core_genes([["a"], ["b"], ["c"]])  # nobody reaches 1.5 of 3
    assert core == {"a", "b", "c"} and fb


def test_precision_and_lift_by_hand(ct):
    universe = set("abcdefghij")            # 10 genes, 2 of them (a, c) annotated to the theme
    p, lift = ct.precision_lift({"a", "b"}, universe, {"a", "c", "zz"})
    assert p == pytest.approx(0.5)           # 1 of 2 core genes
    assert lift == pytest.approx(0.5 / 0.2)  # base rate 2/10
    p, lift = ct.precision_lift({"a", "b"}, universe, {"d"})
    assert p == 0.0 and lift == 0.0          # the metric can fail
    p, lift = ct.precision_lift({"a"}, universe, {"zz"})
    assert p == 0.0 and lift == 0.0          # no gene of the result carries the theme


def test_held_out_annotation_drops_member_subtrees(ct):
    # terms: 0 slim root-ish theme, 1 under 0 (the cluster's member), 2 under 1, 3 under 0
    anc = sp.csr_matrix(np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 0, 0, 1]], float))
    g = ct.GoGenes.__new__(ct.GoGenes)
    g.anc, g.anc_slim = anc, anc[:, [0]].tocsc()
    # gene A annotated to 2, gene B to 3, gene C to 1 and 3
    raw = sp.csr_matrix(np.array([[0, 0, 1, 0], [0, 0, 0, 1], [0, 1, 0, 1]], float))
    assert g.slim_membership(raw)[:, 0].tolist() == [True, True, True]
    assert g.slim_membership(raw, np.array([1]))[:, 0].tolist() == [False, True, True]


def test_rule_scores_no_theme_is_nan(ct):
    out = ct.rule_scores({"a"}, {"a"}, None, None, None, None)
    assert set(out) == set(ct.METRICS) and all(np.isnan(v) for v in out.values())
