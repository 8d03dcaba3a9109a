import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from contrastomics.data.ontology import Ontology, extract_go_id
from contrastomics.evaluate.cluster_metrics import (cluster_metrics, coverage, jaccard_matrix, nes_coherence,
                                                    silhouette, within_between)
from contrastomics.evaluate.semantic import information_content, simgic
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


def tiny_ontology_ic():
    """The tiny ontology and its information content from a 5-set annotation of 8 genes."""
    onto = tiny_ontology()
    genes = [f"G{i}" for i in range(8)]
    lib = GeneSetLibrary.from_gene_sets({"GO:0000001": genes, "GO:0000002": genes[:4], "GO:0000003": genes[:2],
                                         "GO:0000004": genes[2:4], "GO:0000005": genes[4:]})
    return onto, information_content(onto, lib)


def test_simgic_matches_hand_computation():
    onto, ic = tiny_ontology_ic()
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


# ------------------------------------------------------------ scaling: exact below, estimated above
import contrastomics.evaluate.cluster_metrics as cm  # noqa: E402
from contrastomics.evaluate.semantic import SimGIC  # noqa: E402

PAIR_KEYS = ("jaccard_within", "jaccard_between", "silhouette_gene_jaccard",
             "le_jaccard_within", "le_jaccard_between", "silhouette_le_jaccard")


def clustered_sets(n=3000, n_genes=4000, n_clusters=60, singletons=0.15, seed=0):
    """Pathways drawn from cluster-specific gene pools plus background genes; 10% relabelled at
    random, ``singletons`` of them made singletons (own ids)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_clusters, n)
    pools = [rng.choice(n_genes, 120, replace=False) for _ in range(n_clusters)]
    rows, cols = [], []
    for i, c in enumerate(truth):
        g = np.unique(np.r_[rng.choice(pools[c], rng.integers(10, 60), replace=False),
                            rng.choice(n_genes, rng.integers(2, 30))])
        rows.append(np.full(len(g), i))
        cols.append(g)
    m = sp.csr_matrix((np.ones(sum(map(len, cols))), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n, n_genes))
    labels = truth.copy()
    flip = rng.random(n) < 0.1
    labels[flip] = rng.integers(0, n_clusters, flip.sum())
    single = rng.random(n) < singletons
    labels[single] = n_clusters + np.arange(single.sum())
    nes = np.where(rng.random(n) < 0.6, 1.0, -1.0) * rng.uniform(1, 3, n)
    le = m.copy()
    le.data[::3] = 0
    le.eliminate_zeros()
    return labels, nes, m, le


def test_every_pathway_as_anchor_reproduces_the_exact_values():
    labels, nes, m, le = clustered_sets(n=500, n_clusters=15)
    rng = np.random.default_rng(3)
    go = rng.random((500, 500)).astype(np.float32)
    go = (go + go.T) / 2
    np.fill_diagonal(go, 1)
    mask = rng.random(500) < 0.8
    ex = cluster_metrics(labels, nes, full_sets=m, leading_edge=le, go_similarity=go, go_mask=mask)
    est = cluster_metrics(labels, nes, full_sets=m, leading_edge=le, go_similarity=go, go_mask=mask,
                          exact_max_n=0, sample_size=10 ** 6)
    assert ex["metrics_exact"] and not est["metrics_exact"]
    assert est["pairs_sampled_n"] == 500 and est["silhouette_sample"] == int((cm.cluster_sizes(labels) >= 2).sum())
    for k in PAIR_KEYS + ("jaccard_ratio", "silhouette_go_semantic", "go_semantic_within", "go_semantic_between"):
        assert est[k] == pytest.approx(ex[k], rel=1e-5, abs=1e-7), k
    assert est["silhouette_gene_jaccard_se"] == pytest.approx(0.0, abs=1e-12)  # whole population
    assert set(ex) - {"nes_coherence_chance", "nes_coherence_chance_sd"} <= set(est)


def test_anchor_estimates_within_001_of_exact_at_3000_pathways():
    labels, nes, m, le = clustered_sets(n=3000)
    ex = cluster_metrics(labels, nes, full_sets=m, leading_edge=le)
    est = cluster_metrics(labels, nes, full_sets=m, leading_edge=le, exact_max_n=0, sample_size=1000)
    assert est["silhouette_sample"] == 1000 and est["metrics_sample_seed"] == 0
    for k in PAIR_KEYS:
        assert abs(est[k] - ex[k]) < 0.01, (k, est[k], ex[k])
    for k in ("jaccard_ratio", "le_jaccard_ratio"):
        assert est[k] == pytest.approx(ex[k], rel=0.05)
    # the reported standard error is honest: the silhouette error is within 3 of them
    assert abs(est["silhouette_gene_jaccard"] - ex["silhouette_gene_jaccard"]) < 3 * est["silhouette_gene_jaccard_se"]
    # a real clustering: within >> between, silhouette above that of shuffled labels
    shuffled = cluster_metrics(np.random.default_rng(0).permutation(labels), nes, full_sets=m,
                               exact_max_n=0, sample_size=1000)
    assert est["jaccard_ratio"] > 5 > shuffled["jaccard_ratio"]
    assert est["silhouette_gene_jaccard"] > shuffled["silhouette_gene_jaccard"] + 0.05


def test_above_threshold_nothing_dense_is_built(monkeypatch):
    labels, nes, m, le = clustered_sets(n=700, n_clusters=20)

    def boom(*a, **k):
        raise AssertionError("dense n x n built above the exact threshold")
    monkeypatch.setattr(cm, "jaccard_matrix", boom)
    monkeypatch.setattr(cm, "silhouette", boom)
    monkeypatch.setattr(cm, "within_between", boom)
    out = cm.cluster_metrics(labels, nes, full_sets=m, leading_edge=le, exact_max_n=500)
    assert out["metrics_exact"] is False and out["metrics_exact_max_n"] == 500
    assert out["silhouette_sample"] == int((cm.cluster_sizes(labels) >= 2).sum())  # 5,000 > n: all
    assert 0 < out["jaccard_between"] < out["jaccard_within"]


def test_anchor_sample_is_proportional_and_seeded():
    labels = np.r_[np.repeat(np.arange(10), [200, 100, 100, 50, 50, 20, 20, 4, 3, 2]), 100 + np.arange(451)]
    idx, w = cm.anchor_sample(labels, 110, seed=4)
    again, _ = cm.anchor_sample(labels, 110, seed=4)
    assert np.array_equal(idx, again) and len(np.unique(idx)) == len(idx)
    ns = cm.cluster_sizes(labels) >= 2
    assert ns[idx].sum() == 110
    counts = np.bincount(labels[idx[ns[idx]]], minlength=10)
    quota = np.bincount(labels[ns]) * 110 / ns.sum()
    assert np.all(np.abs(counts - quota) < 1)  # each cluster gets its share rounded up or down
    # singletons at the same fraction, capped at a quarter of the non-singleton anchors
    assert (~ns[idx]).sum() == min(int(np.ceil(110 * 451 / 549)), 110 // 4)
    assert w[ns[idx]] == pytest.approx(549 / 110) and w[~ns[idx]] == pytest.approx(451 / 27)


def test_default_sample_size_keeps_pairs_bounded():
    assert cm.default_sample_size(10_000) == 5000
    assert cm.default_sample_size(100_000) == 2000
    assert cm.default_sample_size(10 ** 7) == cm.MIN_SAMPLE_SIZE


def test_batched_chance_draws_equal_one_big_draw(monkeypatch):
    labels, nes, *_ = clustered_sets(n=300, n_clusters=10)
    monkeypatch.setattr(cm, "_CHUNK_ENTRIES", 300 * 7)  # batches of 7 random clusterings
    out = cm.nes_coherence(labels, nes, n_random=50, seed=2)
    # reference: the pre-batching computation, one (n_random, n) permutation
    sizes = cm.cluster_sizes(labels)
    _, codes = np.unique(labels, return_inverse=True)
    codes = np.where(sizes >= 2, codes, -1)
    perm = np.random.default_rng(2).permuted(np.tile(nes > 0, (50, 1)), axis=1)
    ref = cm._sign_coherence_batch(codes, int(codes.max()) + 1, perm)
    assert out["chance"] == float(ref.mean()) and out["chance_sd"] == float(ref.std())


def test_hypergeometric_chance_matches_permutation_chance():
    labels, nes, *_ = clustered_sets(n=2000, n_clusters=80)
    perm = cm.nes_coherence(labels, nes, n_random=400, seed=0)
    hyper = cm.nes_coherence(labels, nes, n_random=400, seed=0, exact_max_n=100)
    assert hyper["observed"] == perm["observed"]
    assert hyper["chance"] == pytest.approx(perm["chance"], abs=0.003)
    assert hyper["chance_sd"] == pytest.approx(perm["chance_sd"], rel=0.25)


def test_lazy_simgic_equals_dense_and_feeds_the_metrics():
    onto, ic = tiny_ontology_ic()
    rng = np.random.default_rng(0)
    pool = ["GO:0000002", "GO:0000003", "GO:0000004", "GO:0000005", "unknown"]
    ids = [pool[i] for i in rng.integers(0, 5, 60)]  # repeats and unknown terms
    dense, known = simgic(ids, onto, ic)
    lazy = SimGIC(ids, onto, ic, block=7)
    assert np.array_equal(np.asarray(lazy), dense) and np.array_equal(lazy.known, known)
    assert lazy.n_unique == 4
    assert np.array_equal(lazy.rows([3, 0, 59]), dense[[3, 0, 59]])
    ix = np.ix_([1, 5, 9], [2, 4])
    assert np.array_equal(lazy[ix], dense[ix])
    x = rng.random((60, 3))
    assert np.allclose(lazy @ x, dense @ x)
    labels = rng.integers(0, 6, 60)
    nes = rng.normal(size=60)
    ex = cluster_metrics(labels, nes, go_similarity=dense, go_mask=known)
    assert cluster_metrics(labels, nes, go_similarity=lazy, go_mask=known) == pytest.approx(ex, nan_ok=True)
    est = cluster_metrics(labels, nes, go_similarity=lazy, go_mask=known, exact_max_n=0, sample_size=10 ** 6)
    for k in ("silhouette_go_semantic", "go_semantic_within", "go_semantic_between"):
        assert est[k] == pytest.approx(ex[k], rel=1e-6), k


def test_go_similarity_for_is_lazy_above_max_dense():
    from contrastomics.evaluate.semantic import go_similarity_for
    terms = ["GO:0006915", "GO:0008219", "GO:0012501", "GO:0006281", "GO:0006260", "GO:0007049",
             "GO:0000278", "GO:0006954", "GO:0045087", "GO:0006955", "GO:0008283", "not GO"]
    dense = go_similarity_for(terms, max_dense=None)
    if dense is None:
        pytest.skip("built-in GO ontology not available")
    lazy = go_similarity_for(terms, max_dense=5)
    assert isinstance(dense[0], np.ndarray) and isinstance(lazy[0], SimGIC)
    assert np.array_equal(np.asarray(lazy[0]), dense[0]) and np.array_equal(lazy[1], dense[1])
    assert not lazy[1][-1] and dense[0][0, 0] == pytest.approx(1.0)


def test_silhouette_precomputed_equals_scikit_learn():
    from sklearn.metrics import silhouette_score

    from contrastomics.evaluate.cluster_metrics import silhouette_precomputed
    rng = np.random.default_rng(0)
    for _ in range(30):
        n = int(rng.integers(3, 40))
        x = rng.normal(size=(n, 3))
        d = np.linalg.norm(x[:, None] - x[None], axis=2)
        lab = rng.integers(0, int(rng.integers(2, 6)), n)  # singletons included
        if len(np.unique(lab)) < 2:
            continue
        assert silhouette_precomputed(d, lab) == pytest.approx(silhouette_score(d, lab, metric="precomputed"), abs=1e-12)


def test_ic_ancestor_vectors_weigh_mf_terms_by_their_own_annotation():
    # IC from all three GO namespaces: two kinase activities are closer than a kinase and a
    # transporter activity (with IC from GO BP alone every MF term was "as rare as a one-gene term")
    from contrastomics.evaluate.semantic import ic_ancestor_vectors
    found = ic_ancestor_vectors(["GO:0004672", "GO:0004674", "GO:0022857"])
    if found is None:
        pytest.skip("no built-in GO")
    rows, known = found
    assert known.all()
    x = rows.toarray()
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    assert x[0] @ x[1] > 0.9 and x[0] @ x[2] < 0.05  # from GO BP alone: 0.96 and 0.16
