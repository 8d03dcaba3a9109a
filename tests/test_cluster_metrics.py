import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from contrastomics.data.ontology import Ontology
from contrastomics.evaluate.cluster_metrics import (cluster_metrics, coverage, jaccard_matrix, nes_coherence,
                                                    silhouette, within_between)
from contrastomics.evaluate.semantic import extract_go_id, information_content, simgic
from contrastomics.data.genesets import GeneSetLibrary


def exact_chance(labels, nes):
    """Mean coherence over every placement of the signs (exact expectation of the permutation null)."""
    n = len(nes)
    n_pos = int((np.asarray(nes) > 0).sum())
    vals = []
    for pos in itertools.combinations(range(n), n_pos):
        s = -np.ones(n)
        s[list(pos)] = 1
        vals.append(nes_coherence(labels, s, n_random=100)["observed"])
    return float(np.mean(vals))


def test_nes_coherence_hand_example_and_chance():
    labels = np.array([0, 0, 0, 1, 1, 2])
    nes = np.array([1.5, 2.0, -1.0, -2.0, -1.2, 1.1])
    out = nes_coherence(labels, nes, n_random=4000, seed=1)
    # non-singleton members: cluster 0 majority 2/3, cluster 1 2/2 -> 4/5; the singleton is ignored
    assert out["observed"] == pytest.approx(0.8)
    chance = exact_chance(labels, nes)
    assert out["chance"] == pytest.approx(chance, abs=0.01)
    assert out["adjusted"] == pytest.approx((0.8 - out["chance"]) / (1 - out["chance"]))


def test_nes_coherence_pure_clusters_adjust_to_one_and_nan_nes_is_ignored():
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    nes = np.array([1, 2, 1, -1, -2, -3, 1, np.nan])
    out = nes_coherence(labels, nes, n_random=300)
    assert out["observed"] == 1.0 and out["adjusted"] == pytest.approx(1.0)
    assert out["chance"] < 0.95


def test_coverage_and_within_between():
    labels = np.array([0, 0, 1, 1, 2])
    assert coverage(labels) == pytest.approx(0.8)
    m = sp.csr_matrix(np.array([[1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [0, 0, 0, 1, 1], [0, 0, 0, 1, 0], [1, 0, 0, 0, 1]]))
    jac = jaccard_matrix(m)
    assert jac[0, 1] == pytest.approx(2 / 3) and jac[2, 3] == pytest.approx(0.5) and jac[0, 4] == pytest.approx(1 / 3)
    wb = within_between(labels, jac)
    assert wb["within"] == pytest.approx((2 / 3 + 0.5) / 2)
    between = [jac[i, j] for i in range(5) for j in range(5) if labels[i] != labels[j]]
    assert wb["between"] == pytest.approx(np.mean(between))


def test_silhouette_separates_good_from_shuffled_labels():
    rng = np.random.default_rng(0)
    pts = np.concatenate([rng.normal(0, 0.1, (10, 2)), rng.normal(3, 0.1, (10, 2))])
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
    good = np.repeat([0, 1], 10)
    assert silhouette(good, d) > 0.9
    assert silhouette(rng.permutation(good), d) < 0.2
    # singletons are excluded: only one real cluster left -> undefined
    assert np.isnan(silhouette(np.r_[np.zeros(19, int), 1], d))


def tiny_ontology():
    # R <- A <- {A1, A2};  R <- B
    ids = ["GO:0000001", "GO:0000002", "GO:0000003", "GO:0000004", "GO:0000005"]
    child = np.array([1, 2, 3, 4])
    parent = np.array([0, 1, 1, 0])
    return Ontology(ids=ids, names=["R", "A", "A1", "A2", "B"], definitions=[""] * 5,
                    namespaces=["biological_process"] * 5, obsolete=np.zeros(5, bool),
                    edges={"is_a": (child, parent)}, name="tiny")


def test_simgic_matches_hand_computation():
    onto = tiny_ontology()
    genes = [f"G{i}" for i in range(8)]
    lib = GeneSetLibrary.from_gene_sets({"GO:0000001": genes, "GO:0000002": genes[:4], "GO:0000003": genes[:2],
                                         "GO:0000004": genes[2:4], "GO:0000005": genes[4:]})
    ic = information_content(onto, lib)
    assert ic[0] == pytest.approx(0.0) and ic[1] == pytest.approx(np.log(2)) and ic[2] == pytest.approx(np.log(4))
    sim, known = simgic(["GO:0000003", "GO:0000004", "GO:0000005", "not a term"], onto, ic)
    assert known.tolist() == [True, True, True, False]
    # anc(A1) = {R, A, A1}, anc(A2) = {R, A, A2}: shared IC = log 2, union = log 2 + 2 log 4
    assert sim[0, 1] == pytest.approx(np.log(2) / (np.log(2) + 2 * np.log(4)), rel=1e-5)
    assert sim[0, 2] == pytest.approx(0.0)  # only the root (IC 0) is shared
    assert sim[0, 0] == pytest.approx(1.0) and sim[3, 3] == 0.0


def test_extract_go_id():
    assert extract_go_id("apoptotic process (GO:0006915)") == "GO:0006915"
    assert extract_go_id("GO_0006915") == "GO:0006915"
    assert extract_go_id("HALLMARK_APOPTOSIS") is None


def test_cluster_metrics_keys_and_values():
    labels = np.array([0, 0, 0, 1, 1, 1, 2])
    nes = np.array([1, 1, 1, -1, -1, -1, 1.0])
    m = sp.csr_matrix(np.kron(np.eye(3), np.ones((1, 4)))[[0, 0, 0, 1, 1, 1, 2]])
    out = cluster_metrics(labels, nes, full_sets=m, leading_edge=m, n_random=100)
    assert out["n_clusters"] == 2 and out["n_singletons"] == 1
    assert out["coverage"] == pytest.approx(6 / 7)
    assert out["nes_coherence_adjusted"] == pytest.approx(1.0)
    assert out["jaccard_within"] == pytest.approx(1.0) and out["jaccard_between"] == pytest.approx(0.0)
    assert out["silhouette_gene_jaccard"] == pytest.approx(1.0)
