"""The partition step: a Ward / average-linkage cut of the space (default for the embedding
methods, round 10 of benchmarks/decisions/cluster.md) and Leiden for the graph baselines."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage

from contrastomics.cluster import api, run_clustering
from contrastomics.cluster import communities
from contrastomics.cluster.communities import kmeans_polish, linkage_partition
from contrastomics.cluster.embed import JointSpace
from contrastomics.errors import InputError
from contrastomics.report.tables import summary_table

from test_cluster import FakeModel, labels_in_input_order, synthetic_result


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTRASTOMICS_CACHE", str(tmp_path / "cache"))


def _space(seed=0, n=30, genes=50):
    """A joint space with a dense block and a sparse block (rows scaled so the cosine is a weighted sum)."""
    rng = np.random.default_rng(seed)
    dense = rng.normal(size=(n, 8))
    dense *= np.sqrt(0.6) / np.linalg.norm(dense, axis=1, keepdims=True)
    m = (rng.random((n, genes)) < 0.2).astype(float)
    m[m.sum(1) == 0, 0] = 1
    m *= np.sqrt(0.4) / np.linalg.norm(m, axis=1, keepdims=True)
    return JointSpace(dense=dense.astype(np.float32), full_overlap=sp.csr_matrix(m)), np.hstack([dense, m])


def test_ward_on_the_joint_space_is_ward_on_its_concatenated_vectors(monkeypatch):
    monkeypatch.setattr(communities, "POLISH", False)  # the cut itself; the polish is tested below
    x, flat = _space()
    expect = fcluster(linkage(flat, "ward"), 4, criterion="maxclust")
    got = linkage_partition(x, 4, min_size=1)
    # the same partition (labels may be numbered differently)
    pairs = {(a, b) for a, b in zip(expect, got)}
    assert len(pairs) == len(set(expect)) == len(set(got)) == 4


def test_polish_is_lloyds_kmeans_from_the_cut_on_the_concatenated_vectors(monkeypatch):
    from sklearn.cluster import KMeans
    x, flat = _space(seed=3, n=80)
    monkeypatch.setattr(communities, "POLISH", False)
    cut = linkage_partition(x, 5, min_size=1)
    k = cut.max() + 1
    start = np.array([flat[cut == c].mean(0) for c in range(k)])
    km = KMeans(k, init=start, n_init=1, max_iter=100, tol=0, algorithm="lloyd").fit(flat)
    mine = kmeans_polish(x, cut)
    assert np.array_equal(mine, km.labels_)
    monkeypatch.setattr(communities, "POLISH", True)
    got = linkage_partition(x, 5, min_size=1)  # the default: the polished cut (same count here)
    assert np.array_equal(got, mine) and len(np.unique(got)) == k
    # a pathway only moves to a cluster of its own group
    groups = np.where(flat[:, 0] > 0, 1, -1)
    lab = kmeans_polish(x, np.where(groups > 0, 0, 1) * 2 + (np.arange(80) % 2), groups=groups)
    assert all(len(set(groups[lab == c])) == 1 for c in np.unique(lab))


def test_silhouette_values_are_scikit_learns_on_the_distances_ward_cuts():
    from sklearn.metrics import pairwise_distances, silhouette_samples
    from contrastomics.cluster.communities import euclidean_in_place
    from contrastomics.evaluate.cluster_metrics import silhouette_values
    x, flat = _space(seed=5, n=60)
    d = euclidean_in_place(np.asarray(x.similarity(slice(None)), np.float64))
    np.fill_diagonal(d, 0.0)
    assert np.allclose(d, pairwise_distances(flat), atol=1e-5)  # the joint space's Euclidean distances
    lab = np.arange(60) % 4
    assert np.allclose(silhouette_values(d, lab), silhouette_samples(d, lab, metric="precomputed"))
    lab[:3] = 9  # a cluster of three, and a singleton scoring 0
    lab[3] = 10
    assert np.allclose(silhouette_values(d, lab), silhouette_samples(d, lab, metric="precomputed"))


def test_cut_gives_the_target_count_of_real_clusters():
    x, _ = _space(seed=1, n=60)
    for target in (2, 5, 9):
        lab = linkage_partition(x, target, min_size=3)
        assert (np.bincount(lab) >= 3).sum() == target
    avg = linkage_partition(x, 5, method="average", min_size=3)
    assert (np.bincount(avg) >= 3).sum() == 5
    with pytest.raises(ValueError, match="unknown linkage"):
        linkage_partition(x, 3, method="single")


def test_groups_merge_only_above_every_within_group_merge():
    x, _ = _space(seed=2, n=40)
    groups = np.repeat([1, -1], 20)
    lab = linkage_partition(x, 4, min_size=1, groups=groups)
    assert all(len(set(groups[lab == c])) == 1 for c in np.unique(lab))
    # a precomputed similarity (simGIC-like, diagonal left at 0) is cut too
    s = x.similarity(slice(None)).astype(float)
    np.fill_diagonal(s, 0.0)
    lab2 = linkage_partition(None, 4, similarity=s, min_size=1, groups=groups)
    assert all(len(set(groups[lab2 == c])) == 1 for c in np.unique(lab2))


def test_the_summary_says_why_coherence_cannot_fail():
    from contrastomics.report.tables import metric_rows

    def coherence(summary):
        return dict(metric_rows(summary))["NES sign coherence"]
    m = {"nes_coherence": 1.0, "nes_coherence_can_fail": False, "labels_scored": 0, "label_support_mean": None,
         "labels_low_support": 0, "pathways_low_support_share": 0.0}
    assert "leading-edge gate" in coherence({"metrics": m, "leading_edge_gate": True})
    assert "no edge of the network" in coherence({"metrics": m, "leading_edge_gate": False})  # kappa, no edges
    split = {"metrics": {**m, "nes_coherence_note": "split"}, "leading_edge_gate": True}
    assert "1 by construction" in coherence(split) and "gate" not in coherence(split)
    assert "  pathways in those clusters" not in dict(metric_rows(split))  # nothing scored: no 0.000
    df, _ = synthetic_result()
    res = run_clustering(df, model=FakeModel(), split_direction=True)
    assert res.summary["metrics"]["nes_coherence_can_fail"] is False and res.summary["metrics"]["nes_coherence_note"]


def test_default_partition_is_ward_for_embeddings_and_leiden_for_graph_baselines(monkeypatch):
    df, truth = synthetic_result()
    model = FakeModel()
    res = run_clustering(df, model=model, metrics=False)
    assert res.summary["partition"] == "ward" and res.summary["resolution"] is None
    assert "| partition | Ward cut |" in summary_table(res.summary)
    assert run_clustering(df, method="overlap-knn", metrics=False).summary["partition"] == "leiden"
    assert run_clustering(df, method="overlap", metrics=False).summary["partition"] == "mcl"
    assert run_clustering(df, method="overlap-knn", partition="ward", metrics=False).summary["partition"] == "ward"
    leiden = run_clustering(df, model=model, partition="leiden", metrics=False).summary
    assert leiden["partition"] == "leiden" and leiden["resolution"] is not None
    # a numeric resolution means Leiden; above the size limit Leiden too
    assert run_clustering(df, model=model, resolution=1.0, metrics=False).summary["partition"] == "leiden"
    monkeypatch.setattr(api, "LINKAGE_MAX_N", 10)
    assert run_clustering(df, model=model, metrics=False).summary["partition"] == "leiden"


def test_ward_recovers_planted_themes_at_an_explicit_count():
    from sklearn.metrics import adjusted_rand_score
    df, truth = synthetic_result()
    out = run_clustering(df, model=FakeModel(), n_clusters=4, partition="ward")
    assert out.summary["n_clusters"] == 4
    assert adjusted_rand_score(truth, labels_in_input_order(df, out.table)) == pytest.approx(1.0)


def test_unknown_partition_is_a_clear_error():
    df, _ = synthetic_result()
    with pytest.raises(InputError, match="unknown partition 'kmeans'"):
        run_clustering(df, partition="kmeans")


def test_representative_rules_are_options_and_a_wrong_one_is_a_clear_error():
    df, _ = synthetic_result()
    outs = {how: run_clustering(df, model=FakeModel(), n_clusters=4, representative=how, layout=False)
            for how in ("central", "medoid", "significant")}
    for how, out in outs.items():
        assert out.summary["representative"] == how
        # same partition; every cluster has exactly one label member, and its support is in [0, 1]
        assert out.table.groupby("cluster")["representative"].sum().eq(1).all()
        assert out.clusters["label_support"].dropna().between(0, 1).all()
    assert (outs["central"].table["cluster"] == outs["medoid"].table["cluster"]).all()
    # the central rule never picks a label that fewer members sit near than the medoid's
    assert outs["central"].summary["metrics"]["label_support_mean"] >= \
        outs["medoid"].summary["metrics"]["label_support_mean"] - 1e-12
    with pytest.raises(InputError, match="unknown representative rule 'best'"):
        run_clustering(df, representative="best")
