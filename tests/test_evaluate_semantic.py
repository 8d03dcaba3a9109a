"""GO semantic similarity: Wang's graph measure on a hand-computed ontology, and on real GO."""
from __future__ import annotations

import numpy as np
import pytest

from contrastomics.data.ontology import read_obo
from contrastomics.evaluate.semantic import lin_rel_for, lin_rel_similarity, wang_s_values, wang_similarity

OBO = """format-version: 1.2

[Term]
id: GO:0000001
name: root
namespace: biological_process

[Term]
id: GO:0000002
name: b
namespace: biological_process
is_a: GO:0000001

[Term]
id: GO:0000003
name: c
namespace: biological_process
is_a: GO:0000001

[Term]
id: GO:0000004
name: d
namespace: biological_process
is_a: GO:0000002
relationship: part_of GO:0000003
"""


@pytest.fixture()
def onto(tmp_path):
    p = tmp_path / "mini.obo"
    p.write_text(OBO)
    return read_obo(p)


def test_wang_s_values_by_hand(onto):
    s, known = wang_s_values(["GO:0000004"], onto)
    got = {onto.ids[j]: v for j, v in zip(s.indices, s.data)}
    # D itself 1; parent B by is_a 0.8; parent C by part_of 0.6; root: best path 0.8 * 0.8
    assert got == pytest.approx({"GO:0000004": 1.0, "GO:0000002": 0.8, "GO:0000003": 0.6, "GO:0000001": 0.64})
    assert known.tolist() == [True]


def test_wang_similarity_by_hand(onto):
    sim, known = wang_similarity(["GO:0000004", "GO:0000002", "GO:0000003", "GO:9999999"], onto)
    # shared ancestors of D and B: {B, root}: ((0.8 + 1) + (0.64 + 0.8)) / (3.04 + 1.8)
    assert sim[0, 1] == pytest.approx(3.24 / 4.84, rel=1e-6)
    # B and C share only the root: (0.8 + 0.8) / (1.8 + 1.8)
    assert sim[1, 2] == pytest.approx(1.6 / 3.6, rel=1e-6)
    assert np.allclose(sim, sim.T)
    assert np.allclose(np.diag(sim)[:3], 1.0)
    assert known.tolist() == [True, True, True, False]
    assert not sim[3].any() and not sim[:, 3].any()


@pytest.mark.slow
def test_lin_and_rel_by_hand(onto):
    # IC by term row: root 0, b 1, c 2, d 3 (D lies under B by is_a and under C by part_of)
    ic = np.zeros(len(onto))
    for t, v in {"GO:0000001": 0.0, "GO:0000002": 1.0, "GO:0000003": 2.0, "GO:0000004": 3.0}.items():
        ic[onto.ids.index(t)] = v
    lin, rel, known = lin_rel_similarity(["GO:0000004", "GO:0000002", "GO:0000003", "GO:9999999"], onto, ic)
    assert known.tolist() == [True, True, True, False]
    # D and B: MICA B (IC 1) -> 2 / 4; D and C: MICA C (IC 2) -> 4 / 5 (the more informative ancestor wins)
    assert lin[0, 1] == pytest.approx(0.5) and lin[0, 2] == pytest.approx(0.8)
    assert rel[0, 2] == pytest.approx(0.8 * (1 - np.exp(-2.0)))
    # B and C share only the root (IC 0): unrelated in both measures; unknown terms are 0
    assert lin[1, 2] == 0 and rel[1, 2] == 0 and not lin[3].any() and not lin[:, 3].any()
    assert np.allclose(lin, lin.T) and np.allclose(np.diag(lin)[:3], 1.0)
    assert lin_rel_for(["HALLMARK_E2F_TARGETS", "KEGG_CELL_CYCLE"]) is None  # not a GO result


def test_wang_on_go_ranks_siblings_above_strangers():
    from contrastomics.data.builtin import load_ontology
    go = load_ontology("GO")
    # T cell activation vs its is_a parent (lymphocyte activation) and its child (T cell
    # differentiation), vs glycolysis; "positive regulation of" links by `regulates`, not followed
    sim, _ = wang_similarity(["GO:0042110", "GO:0046649", "GO:0030217", "GO:0006096"], go)
    assert sim[0, 1] > sim[0, 2] > 0.5 > 0.1 > sim[0, 3]
