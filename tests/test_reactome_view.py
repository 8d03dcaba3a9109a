"""The Reactome hierarchy view (data/reactome.py) and its use in joint_space."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from contrastomics.cluster.embed import DEFAULT_WEIGHTS, joint_space
from contrastomics.data.genesets import read_gmt
from contrastomics.errors import InputError
from contrastomics.data.reactome import (build_hierarchy, information_content, load_hierarchy, name_key,
                                         former_names, reactome_ancestor_vectors, reactome_rows, read_hierarchy,
                                         write_hierarchy)

TOY = [("Top", "R-HSA-1", "A B C D E F G H"), ("Mid", "R-HSA-2", "A B C D"), ("Leaf one", "R-HSA-3", "A B"),
       ("Leaf two", "R-HSA-4", "C D"), ("Twin", "R-HSA-5", "A B"), ("Other top", "R-HSA-6", "X Y Z"),
       ("Leaf-one", "R-HSA-7", "X")]


@pytest.fixture()
def toy(tmp_path):
    gmt = tmp_path / "toy.gmt"
    gmt.write_text("".join(f"{n}\t{i}\t" + "\t".join(g.split()) + "\n" for n, i, g in TOY))
    lib = read_gmt(gmt)
    return build_hierarchy(lib.terms, lib.descriptions, lib.gene_sets)


def _anc(h, name):
    return {h.names[a] for a in h.ancestors[h.names.index(name)]}


def test_hierarchy_is_containment(toy, tmp_path):
    assert _anc(toy, "Top") == set() and _anc(toy, "Other top") == set()
    assert _anc(toy, "Mid") == {"Top"}
    assert _anc(toy, "Leaf one") == {"Mid", "Top"}  # not "Twin": the same genes, not larger
    assert _anc(toy, "Twin") == {"Mid", "Top"}
    assert _anc(toy, "Leaf two") == {"Mid", "Top"}
    assert _anc(toy, "Leaf-one") == {"Other top"}
    assert toy.ids[2] == "R-HSA-3" and list(toy.sizes) == [8, 4, 2, 2, 2, 3, 1]
    assert sorted(toy.top_level()) == ["Other top", "Top"]
    # written without gene lists, read back equal, byte-identical when written twice
    a, b = tmp_path / "a.json.gz", tmp_path / "b.json.gz"
    write_hierarchy(toy, a)
    write_hierarchy(read_hierarchy(a), b)
    assert a.read_bytes() == b.read_bytes() and b"\"A\"" not in __import__("gzip").decompress(a.read_bytes())
    assert read_hierarchy(a).ancestors == toy.ancestors


def test_shipped_hierarchy():
    h = load_hierarchy()
    assert h is not None and len(h) > 2000
    from contrastomics.data.reactome import HIERARCHY_FILE
    assert HIERARCHY_FILE.stat().st_size < 300_000
    tops = set(h.top_level())
    for name in ("Cell Cycle", "Immune System", "Metabolism", "Signal Transduction", "Disease", "DNA Repair"):
        assert name in tops
    r = h.names.index("Cell Cycle Checkpoints")
    assert h.ids[r] == "R-HSA-69620" and "Cell Cycle" in {h.names[a] for a in h.ancestors[r]}


def test_matching_name_styles():
    h = load_hierarchy()
    want = h.names.index("Cell Cycle Checkpoints")
    terms = ["Cell Cycle Checkpoints R-HSA-69620",  # Enrichr
             "R-HSA-69620",  # native GMT id as the term
             "REACTOME_CELL_CYCLE_CHECKPOINTS",  # MSigDB
             "Homo sapiens: Cell Cycle Checkpoints",  # reactome.db / fgsea
             "cell cycle checkpoints (R-HSA-69620)",
             "KEGG_CELL_CYCLE", "HALLMARK_G2M_CHECKPOINT", "GO:0000075", "not a pathway at all"]
    rows = reactome_rows(terms, [""] * len(terms))
    assert rows[:5].tolist() == [want] * 5
    assert rows[5:].tolist() == [-1] * 4
    # a humanised name beside an unhelpful term
    assert reactome_rows(["set_17"], ["Cell cycle checkpoints"]).tolist() == [want]
    assert name_key("REACTOME_CLASS_A_1_RHODOPSIN_LIKE_RECEPTORS") == name_key("Class A/1 (Rhodopsin-like receptors)")


def test_ambiguous_key_matches_nothing(toy):
    # "Leaf one" and "Leaf-one" share a name key: neither name matches; their ids still do
    assert reactome_rows(["Leaf one", "LEAF_ONE", "Mid", "R-HSA-7"], hierarchy=toy).tolist() == [-1, -1, 1, 6]


def test_former_names_match_renamed_pathways(toy, tmp_path):
    import dataclasses
    # an older release's names: "Middle" was renamed "Mid" (same id); "Gone" has an id no longer there;
    # "Top" still names a pathway, "Leaf one" is ambiguous here: neither becomes a former name
    old = former_names(toy, ["REACTOME_MIDDLE", "REACTOME_GONE", "REACTOME_TOP", "LEAF_ONE"],
                       ["R-HSA-2", "R-HSA-99", "R-HSA-1", "R-HSA-3"])
    assert old == {name_key("Middle"): "R-HSA-2"}
    h = dataclasses.replace(toy, former_names=old)
    assert reactome_rows(["REACTOME_MIDDLE", "Middle", "REACTOME_GONE"], hierarchy=h).tolist() == [1, 1, -1]
    assert reactome_rows(["REACTOME_MIDDLE"], hierarchy=toy).tolist() == [-1]
    path = tmp_path / "h.json.gz"
    write_hierarchy(h, path)
    assert read_hierarchy(path).former_names == old
    # the shipped one knows MSigDB 2023.1's spelling of pathways Reactome renamed by 2024
    shipped = load_hierarchy()
    r = reactome_rows(["REACTOME_THE_CITRIC_ACID_TCA_CYCLE_AND_RESPIRATORY_ELECTRON_TRANSPORT"])[0]
    assert r >= 0 and shipped.names[r] == "Aerobic respiration and respiratory electron transport"


def test_vectors_are_ic_weighted_ochiai(toy):
    terms = ["Leaf one", "Leaf two", "Mid", "Other top", "R-HSA-7"]
    for kind in ("size", "below"):
        rows, known = reactome_ancestor_vectors(terms, ic=kind, hierarchy=toy)
        assert known.tolist() == [False, True, True, True, True]  # "Leaf one" is ambiguous
        ic = dict(zip(toy.names, information_content(toy, kind)))
        if kind == "size":
            assert ic["Top"] == 0 and math.isclose(ic["Mid"], math.log(2), rel_tol=1e-6)
        else:  # Top: itself + Mid + 3 leaves, of 7 pathways; Mid: itself + 3 leaves
            assert math.isclose(ic["Top"], -math.log(5 / 7), rel_tol=1e-6) and math.isclose(ic["Mid"], -math.log(4 / 7), rel_tol=1e-6)
        n = sp.csr_matrix(rows)
        norm = np.sqrt(np.asarray(n.multiply(n).sum(1)).ravel())
        cos = (n @ n.T).toarray() / np.outer(norm, norm).clip(1e-12)
        # by hand: Leaf two {Leaf two, Mid, Top} vs Mid {Mid, Top}
        a, b = ic["Leaf two"] + ic["Mid"] + ic["Top"], ic["Mid"] + ic["Top"]
        assert math.isclose(cos[1, 2], (ic["Mid"] + ic["Top"]) / math.sqrt(a * b), rel_tol=1e-5)
        # Leaf-one {Leaf-one, Other top} vs Other top {Other top}
        c = ic["Leaf-one"] + ic["Other top"]
        assert math.isclose(cos[4, 3], ic["Other top"] / math.sqrt(c * ic["Other top"]), rel_tol=1e-5)
        assert cos[1, 3] == 0 and rows[0].nnz == 0


def test_not_a_reactome_result():
    assert reactome_ancestor_vectors(["GO:0006915", "GO:0008283"], ["apoptotic process", "cell population proliferation"]) is None
    assert reactome_ancestor_vectors(["HALLMARK_E2F_TARGETS", "HALLMARK_G2M_CHECKPOINT", "REACTOME_CELL_CYCLE"]) is None
    assert reactome_ancestor_vectors([]) is None


def test_joint_space_uses_the_view():
    terms = ["REACTOME_CELL_CYCLE_CHECKPOINTS", "REACTOME_MITOTIC_SPINDLE_CHECKPOINT", "REACTOME_SIGNALING_BY_WNT",
             "REACTOME_COLLAGEN_FORMATION"]
    n = len(terms)
    le = sp.csr_matrix((n, 3), dtype=np.float32)
    sign = np.ones(n)
    w = {"ontology": 0.5, "direction": 0.5}
    x = joint_space(None, [[]] * n, [[]] * n, terms, le, w, sign=sign, terms=terms, names=[""] * n)
    assert x.ontology is not None and x.ontology.shape[0] == n
    s = x.similarity(slice(None))
    assert s[0, 1] > s[0, 2] + 0.1 and s[0, 1] > s[0, 3] + 0.1  # same branch (Cell Cycle) above others
    assert math.isclose(float(s[0, 0]), 1.0, rel_tol=1e-5)
    # the reactome key overrides the ontology weight on Reactome results; 0 turns the view off, which
    # leaves only direction here: refused (a space of NES signs alone groups nothing by meaning)
    with pytest.raises(InputError, match="no view besides direction"):
        joint_space(None, [[]] * n, [[]] * n, terms, le, {**w, "reactome": 0.0}, sign=sign, terms=terms)
    # a result that is not Reactome (nor GO): no view, its weight shared out (here: to direction alone)
    other = ["HALLMARK_E2F_TARGETS", "HALLMARK_G2M_CHECKPOINT", "HALLMARK_MYC_TARGETS_V1", "HALLMARK_APOPTOSIS"]
    with pytest.raises(InputError, match="no view besides direction"):
        joint_space(None, [[]] * n, [[]] * n, other, le, w, sign=sign, terms=other)
    le_on = sp.csr_matrix(np.eye(n, 3, dtype=np.float32))  # with a leading-edge view the rest is shared out
    assert joint_space(None, [[]] * n, [[]] * n, other, le_on, {**w, "leading_edge_overlap": 0.2}, sign=sign,
                       terms=other).ontology is None
    assert "reactome" not in DEFAULT_WEIGHTS  # the default: the ontology weight serves both views


def test_reactome_results_get_top_level_themes():
    from contrastomics.data.reactome import load_hierarchy, top_level_themes
    if load_hierarchy() is None:
        pytest.skip("no shipped Reactome hierarchy")
    terms = ["REACTOME_CELL_CYCLE_CHECKPOINTS", "REACTOME_M_PHASE", "REACTOME_COLLAGEN_DEGRADATION",
             "REACTOME_COLLAGEN_BIOSYNTHESIS_AND_MODIFYING_ENZYMES", "MADE_UP_SET"]
    th = top_level_themes(terms, terms, np.array([0, 0, 1, 1, 1]))
    assert th[0]["theme"] == "Cell Cycle" and th[0]["theme_support"] == 1.0
    assert th[1]["theme"] == "Extracellular matrix organization" and th[1]["theme_support"] == pytest.approx(2 / 3)
    assert top_level_themes(["HALLMARK_APOPTOSIS", "KEGG_CELL_CYCLE"], None, np.array([0, 0])) == {}
