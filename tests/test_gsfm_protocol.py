"""GSFM gene-function protocol (docs/evaluation.md), pinned on toy sets: no corpus set at gene
Jaccard >= 0.5 to an evaluated term (dev or test) enters pretraining; dev and test terms are
disjoint and, for GO, never ancestor/descendant of each other; the co-membership variants."""
from __future__ import annotations

import numpy as np
import pytest

from contrastomics.data.genesets import GeneSetLibrary
from contrastomics.data.ontology import Ontology
from contrastomics.evaluate.splits import corpus_near_duplicates
from benchmark_scripts import bench as load_benchmark

GENES = [f"G{i}" for i in range(60)]


def bench():
    return load_benchmark("gsfm_gene_function")


def _toy():
    # evaluated library: T1 (a dev term in the benchmark's sense) and T2 (a test term) alike
    target = GeneSetLibrary.from_gene_sets({"T1": GENES[0:10], "T2": GENES[20:30] + ["NOT_IN_CORPUS"]})
    sets = {
        "exact": GENES[0:10],                  # Jaccard 1
        "at_half": GENES[0:5] + GENES[10:15],  # 5 / 15 = 0.33 -> kept
        "edge": GENES[20:26] + GENES[40:42],   # 6 / 12 = 0.5 (over corpus genes) -> dropped
        "below": GENES[20:25] + GENES[40:43],  # 5 / 13 = 0.38 -> kept
        "other": GENES[40:50],
        "twin": GENES[50:60],                  # same source as an evaluated library -> left out
    }
    coll = {t: ("KEGG" if t == "twin" else "MSigDB") for t in sets}
    corpus = GeneSetLibrary.from_gene_sets(sets, genes=GENES, collection=coll)
    return corpus, target


def test_corpus_near_duplicates_flags_jaccard_at_or_above_half():
    corpus, target = _toy()
    near, counts = corpus_near_duplicates(corpus, {"lib": target})
    assert dict(zip(corpus.terms, near.tolist())) == {
        "exact": True, "at_half": False, "edge": True, "below": False, "other": False, "twin": False}
    assert counts == {"lib": 2}
    strict, _ = corpus_near_duplicates(corpus, {"lib": target}, threshold=0.51)
    assert not strict[corpus.terms.index("edge")]  # 0.5 exactly is the boundary that drops


def test_benchmark_corpus_never_holds_a_near_duplicate_of_an_evaluated_term():
    g = bench()
    corpus, target = _toy()
    out, info = g.pretraining_corpus(corpus, {"KEGG": target})
    assert set(out.terms) == {"at_half", "below", "other"}
    assert info["near_duplicates_dropped"] == 2 and info["left_out_sets"]["KEGG"] == 1
    # every set that entered pretraining is below 0.5 to every evaluated term
    tgt = target.with_vocabulary(out.genes, min_size=1).membership.toarray() > 0
    for row in out.membership.toarray() > 0:
        inter = (row & tgt).sum(1)
        assert (inter / (row.sum() + tgt.sum(1) - inter)).max() < 0.5


def _chain_ontology(n_children: int = 8):
    # R <- A_i (i < n) and A_i <- A_i_1: every term descends from R
    ids = ["GO:0000001"] + [f"GO:{i + 2:07d}" for i in range(2 * n_children)]
    child, parent = [], []
    for i in range(n_children):
        child += [1 + i, 1 + n_children + i]
        parent += [0, 1 + i]
    n = len(ids)
    return Ontology(ids=ids, names=ids, definitions=[""] * n, namespaces=["biological_process"] * n,
                    obsolete=np.zeros(n, bool), edges={"is_a": (np.array(child), np.array(parent))}, name="chain")


def test_dev_terms_are_disjoint_and_never_in_a_test_terms_go_family(monkeypatch):
    g = bench()
    onto = _chain_ontology()
    anc = onto.ancestor_matrix(include_self=True).toarray() > 0  # anc[i, j]: j is an ancestor of i (or i)
    rng = np.random.default_rng(0)
    m = (rng.random((len(onto.ids), 40)) < 0.5).astype(np.float32)  # every term has 10-500 genes
    from scipy import sparse as sp
    monkeypatch.setattr(g, "N_TEST", 3)
    monkeypatch.setattr(g, "N_DEV", 100)  # dev = every eligible term the rule allows
    for seed in range(5):
        monkeypatch.setattr(g, "TEST_SAMPLE_SEED", seed)
        dev, test = g.term_parts(sp.csr_matrix(m), onto.ids, "GO_BP", onto)
        assert len(test) == 3 and len(dev) > 0 and not set(dev) & set(test)
        for d in dev:
            for t in test:
                assert not anc[d, t] and not anc[t, d], (seed, onto.ids[d], onto.ids[t])
        assert 0 not in dev  # the root is an ancestor of every test term


def test_non_go_parts_are_disjoint_and_cover_the_eligible_terms():
    g = bench()
    from scipy import sparse as sp
    sizes = np.r_[np.full(30, 12), 5, 600]  # two ineligible terms
    m = sp.csr_matrix(np.array([[1] * s + [0] * (600 - s) for s in sizes], np.float32))
    dev, test = g.term_parts(m, [f"T{i}" for i in range(len(sizes))], "KEGG")
    assert len(dev) == 9 and len(test) == 21 and not set(dev) & set(test)
    assert set(dev) | set(test) == set(range(30))


def test_comembership_variants():
    g = bench()
    from scipy import sparse as sp
    corpus = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 1, 1], [0, 1, 1, 0]], np.float32))
    x = sp.csr_matrix(np.array([[1, 0, 0, 0]], np.float32))
    raw = g.comembership_variant(x, corpus, "raw")
    assert raw.tolist() == [[2, 1, 1, 1]]
    assert g.comembership_variant(x, corpus, "1/size") == pytest.approx(np.array([[1 / 2 + 1 / 3, 1 / 2, 1 / 3, 1 / 3]]))
    idf = np.log(3 / 2)  # gene 0 is in 2 of 3 sets
    assert g.comembership_variant(x, corpus, "IDF") == pytest.approx(raw * idf)
    with pytest.raises(ValueError):
        g.comembership_variant(x, corpus, "tf")
