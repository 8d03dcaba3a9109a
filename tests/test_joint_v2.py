"""The `joint` v2 views (issue 15): GO ontology block, direction view, and the exact-K split fallback."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from contrastomics.cluster.api import _direction_profile
from contrastomics.cluster.communities import split_to
from contrastomics.cluster.embed import StandInModel, joint_space
from contrastomics.cluster.pathways import _memberships
from contrastomics.data.builtin import load_ontology
from contrastomics.evaluate.semantic import ic_ancestor_vectors

TERMS = ["apoptotic process (GO:0006915)", "positive regulation of apoptotic process (GO:0043065)",
         "negative regulation of apoptotic process (GO:0043066)", "DNA repair (GO:0006281)"]


def test_ontology_block_is_the_ochiai_form_of_simgic():
    rows, known = ic_ancestor_vectors(TERMS)
    assert known.all()
    dense = rows.toarray().astype(np.float64)
    onto = load_ontology("GO")
    i, j = 1, 2  # two regulation terms share their regulation ancestors
    anc = [onto.ancestors(t.split("(")[1][:-1], include_self=True) for t in TERMS]
    common = anc[i] & anc[j]
    ic = dense ** 2  # rows hold sqrt(IC) on ancestors
    cols_common = [onto.index(t) for t in common]
    expect = ic[i, cols_common].sum() / np.sqrt(ic[i].sum() * ic[j].sum())
    got = dense[i] @ dense[j] / (np.linalg.norm(dense[i]) * np.linalg.norm(dense[j]))
    assert got == pytest.approx(expect, rel=1e-5) and 0 < got < 1
    assert ic_ancestor_vectors(["KINASE_CASCADE", "RIBOSOME", "X"]) is None  # not a GO result


def _space(terms, sign, weights):
    genes = [["A", "B", "C"], ["A", "B", "D"], ["E", "F"], ["G", "H"]][: len(terms)]
    le, _, _ = _memberships(genes, genes)
    return joint_space(StandInModel(dim=16), genes, genes, terms, le, weights, full_matrix=le, terms=terms, sign=sign)


def test_ontology_weight_is_shared_out_on_non_go_results_and_direction_is_plus_minus_w():
    w = {"full_set_overlap": 0.3, "ontology": 0.5, "direction": 0.2}
    go = _space(TERMS, np.array([1, 1, -1, 1]), w)
    assert go.ontology is not None
    s = go.similarity(np.arange(4))
    assert s[0, 0] == pytest.approx(1.0, abs=1e-5)
    # the direction view adds +0.2 for the same sign, -0.2 for opposite signs
    same = _space(TERMS, np.array([1, 1, 1, 1]), w).similarity(np.arange(4))
    assert same[1, 2] - s[1, 2] == pytest.approx(0.4, abs=1e-5)
    plain = ["kinase cascade", "kinase signalling", "ribosome", "repair"]
    non_go = _space(plain, np.ones(4), w)
    assert non_go.ontology is None
    s2 = non_go.similarity(np.arange(4))
    assert s2[0, 0] == pytest.approx(1.0, abs=1e-5)  # renormalised over the views the result has
    # Ochiai(0, 1) = 2 / 3 at weight 0.3 / 0.5, direction +0.2 / 0.5
    assert s2[0, 1] == pytest.approx(0.6 * 2 / 3 + 0.4, abs=1e-5)


def test_direction_profile_compares_sign_patterns_over_conditions():
    tab = pd.DataFrame({"nes_a": [2.0, 2.0, -1.0, np.nan], "nes_b": [-1.5, 1.0, np.nan, np.nan]})
    prof = _direction_profile(tab, ["a", "b"], np.array([1, 1, -1, 1]))
    assert np.allclose(np.linalg.norm(prof, axis=1), 1)
    assert prof[0] @ prof[1] == pytest.approx(0.0, abs=1e-6)  # up/down vs up/up: orthogonal
    assert prof[2] @ prof[0] == pytest.approx(-1 / np.sqrt(2))
    assert prof[3] @ prof[1] == pytest.approx(1 / np.sqrt(2))  # untested everywhere: its merged sign
    one = _direction_profile(tab, [], np.array([1, -1, 1, 1]))
    assert one.shape == (4, 1) and one[1, 0] == -1


def test_split_to_cuts_a_near_clique_that_leiden_keeps_whole():
    n = 12
    adj = sp.csr_matrix(np.ones((n, n)) - np.eye(n))  # one clique: no modular split
    lab = split_to(np.zeros(n, np.int64), 2, adj, min_size=3)
    assert sorted(np.bincount(lab)) == [6, 6]
