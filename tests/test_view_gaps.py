"""What the ontology view holds for a pathway it does not know (cluster/view_gaps.py; development
rounds 17 and 18 of benchmarks/decisions/cluster.md)."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from contrastomics.cluster import run_clustering, view_gaps
from contrastomics.cluster.view_gaps import fill_unknown, own_ontology

pytestmark = pytest.mark.filterwarnings("ignore")


def _toy():
    """3 known pathways with ontology rows, 2 unknown ones (zero rows); a dense block whose inner
    products are easy to read."""
    onto = sp.csr_matrix(np.array([[3.0, 4, 0, 0], [0, 0, 2, 0], [0, 0, 0, 5], [0, 0, 0, 0], [0, 0, 0, 0]]))
    known = np.array([True, True, True, False, False])
    dense = np.array([[1.0, 0], [0, 1], [-1, 0], [0.8, 0.6], [-0.6, -0.8]])
    return onto, known, dense


def test_zero_keeps_the_rows_and_self_gives_each_unknown_pathway_a_column():
    onto, known, dense = _toy()
    assert fill_unknown(onto, known, dense, (), how="zero") is onto
    s = fill_unknown(onto, known, dense, (), how="self").toarray()
    assert s.shape == (5, 6)
    assert s[3].tolist() == [0, 0, 0, 0, 1, 0] and s[4].tolist() == [0, 0, 0, 0, 0, 1]
    assert np.array_equal(s[:3, :4], onto.toarray()[:3])
    with pytest.raises(ValueError, match="unknown rows"):
        fill_unknown(onto, known, dense, (), how="mean")


def test_impute_is_the_similarity_weighted_mean_of_the_nearest_known_unit_rows(monkeypatch):
    monkeypatch.setattr(view_gaps, "IMPUTE_NEIGHBOURS", 2)
    onto, known, dense = _toy()
    gene_block = sp.csr_matrix(np.array([[0.0, 1], [0, 0], [0, 0], [0, 0.5], [0, 0]]))
    got = fill_unknown(onto, known, dense, (gene_block, None), how="impute").toarray()
    unit = onto.toarray()[:3] / np.linalg.norm(onto.toarray()[:3], axis=1, keepdims=True)
    # pathway 3: similarities 0.8 + 0.5 (dense + gene block) to 0, 0.6 to 1, -0.8 to 2 -> 0 and 1
    assert np.allclose(got[3], 1.3 * unit[0] + 0.6 * unit[1])
    # pathway 4: 0.6 to 2, -0.6 to 0, -0.8 to 1 -> 2 (0.6) and 0 (-0.6, floored at 0)
    assert np.allclose(got[4], 0.6 * unit[2])
    assert np.array_equal(got[:3], onto.toarray()[:3])


def test_impute_own_leaves_other_libraries_zero():
    onto, known, dense = _toy()
    terms = ["a (GO:0006915)", "b (GO:0006281)", "c (GO:0008380)", "d (GO:9900001)", "KEGG_RIBOSOME"]
    assert own_ontology(terms).tolist() == [True, True, True, True, False]
    got = fill_unknown(onto, known, dense, (), how="impute-own", terms=terms).toarray()
    assert got[3].any() and not got[4].any()
    # the Reactome view: other libraries' marks (MSigDB prefixes, GO ids) are not Reactome pathways
    assert own_ontology(["REACTOME_APOPTOSIS", "Cell Cycle R-HSA-1640170", "KEGG_CELL_CYCLE", "WP_APOPTOSIS",
                         "GOBP_APOPTOTIC_PROCESS"]).tolist() == [True, True, False, False, False]


def test_a_go_term_newer_than_the_shipped_ontology_gets_a_place_in_the_view():
    from contrastomics.data.builtin import load_library
    lib = load_library("GO_BP", min_size=1, max_size=None)
    ids = ["GO:0006281", "GO:0006915", "GO:0006397", "GO:0030198", "GO:0006338", "GO:0008380"]
    terms = [f"{lib.names[lib.terms.index(g)]} ({g})" for g in ids] + ["double-strand break repair, new (GO:9900001)"]
    genes = [sorted(lib.gene_sets[lib.terms.index(g)])[:15] for g in ids] + [sorted(lib.gene_sets[0])[:15]]
    df = pd.DataFrame({"term": terms, "name": [t.split(" (")[0] for t in terms], "nes": [2.0] * 7, "fdr": 0.01,
                       "genes": genes})
    res = run_clustering(df, metrics=False, layout=False)
    onto = res.space.ontology.toarray()
    assert (np.linalg.norm(onto, axis=1) > 0).all()  # before round 18 the new term's row was all zero
