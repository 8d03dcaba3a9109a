"""CAL protocol on the held-out-edge split (issue 16, docs/evaluation.md): validation pairs are
carved from the training pairs only, never equal a fit or test pair in either direction, their
negatives are never STRING pairs, and the graph baselines scored on them see the fit graph only.
Toy graphs; the benchmark is imported by path."""
from __future__ import annotations

import fnmatch

import numpy as np
import pytest

from contrastomics.data.string import Pairs
from contrastomics.evaluate.associations import make_pair_split, pair_key
from benchmark_scripts import bench
from test_cal_protocol import toy_pairs as cal_protocol_toy_pairs


def toy_pairs(seed: int = 0) -> Pairs:
    return cal_protocol_toy_pairs(n_genes=70, n_pairs=700, seed=seed)


def directed(a, b) -> set:
    """Both orientations of each pair."""
    return set(zip(a.tolist(), b.tolist())) | set(zip(b.tolist(), a.tolist()))


def dev_part(seed: int):
    pairs = toy_pairs(seed=seed)
    test = make_pair_split(pairs, "heldout_edges", test_frac=0.2, seed=seed)
    fit, val, degree = bench("cal_associations").dev_split("heldout_edges", pairs, test, seed)
    return pairs, test, fit, val, degree


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_validation_pairs_are_training_pairs_disjoint_from_fit_and_test_both_ways(seed):
    pairs, test, fit, val, degree = dev_part(seed)
    v, f, t = directed(val.test_a, val.test_b), directed(fit.a, fit.b), directed(test.test_a, test.test_b)
    assert v and f and not v & f and not v & t and not f & t
    # fit + validation = the test split's training pairs, nothing else (each pair once)
    assert v | f == directed(test.train_a, test.train_b)
    assert len(val.test_a) + len(fit.a) == len(test.train_a)
    # validation = ~20% of the training pairs, drawn with seed + 1000 (not the test draw)
    assert abs(len(val.test_a) / len(test.train_a) - 0.2) < 0.08
    assert val.info["seed"] == seed + 1000
    # the validation split trains on the fit graph; its pool is the test split's pool
    assert np.array_equal(val.train_a, fit.a) and np.array_equal(val.train_b, fit.b)
    assert np.array_equal(val.pool, test.pool)
    # degree for matching: the training graph (fit + validation), no test pair
    assert np.array_equal(degree, np.bincount(np.r_[test.train_a, test.train_b], minlength=pairs.n_genes))


def test_validation_negatives_are_never_string_pairs():
    m = bench("cal_associations")
    pairs, test, fit, val, degree = dev_part(0)
    n = pairs.n_genes
    x = np.random.default_rng(1).normal(size=(n, 8)).astype(np.float32)
    weak = pair_key(*np.triu_indices(n, 1), n)[::4]  # stand-in for the STRING 400-899 pairs
    strict = np.unique(np.r_[pair_key(pairs.a, pairs.b, n), weak])
    t = m.pair_table(val, x, degree, strict, {}, seed=0)
    assert set(t.kind) == {"uniform", "degree"}
    neg = t[~t.y]
    assert len(neg) and not np.isin(pair_key(neg.a.to_numpy(), neg.b.to_numpy(), n), strict).any()
    pos = t[t.y & (t.kind == "degree")]
    assert directed(pos.a.to_numpy(), pos.b.to_numpy()) == directed(val.test_a, val.test_b)


def test_graph_baselines_on_validation_see_the_fit_graph_only():
    m = bench("cal_associations")
    pairs, test, fit, val, degree = dev_part(1)
    n = pairs.n_genes
    x = np.random.default_rng(2).normal(size=(n, 8)).astype(np.float32)
    t = m.pair_table(val, x, degree, pair_key(pairs.a, pairs.b, n), {}, seed=1)
    a, b = t.a.to_numpy(), t.b.to_numpy()

    def graph_scores(ga, gb):
        adj = np.zeros((n, n))
        adj[ga, gb] = adj[gb, ga] = 1
        deg = adj.sum(1)
        w = np.where(deg > 1, 1 / np.log(np.maximum(deg, 2)), 0)
        return (adj[a] * adj[b]).sum(1), (adj[a] * adj[b] * w).sum(1), deg[a] * deg[b]

    cn, aa, dp = graph_scores(fit.a, fit.b)
    assert np.allclose(t.common_neighbours, cn) and np.allclose(t.adamic_adar, aa)
    assert np.allclose(t.degree_train, dp)
    # the check has teeth: on the training graph (fit + validation pairs) the scores differ
    cn_tr, aa_tr, dp_tr = graph_scores(test.train_a, test.train_b)
    assert not np.allclose(cn_tr, cn) and not np.allclose(dp_tr, dp)


def test_node_disjoint_table_and_caches_unchanged():
    m = bench("cal_associations")
    pairs = toy_pairs()
    nd = make_pair_split(pairs, "node_disjoint", test_frac=0.3, seed=0)
    x = np.random.default_rng(3).normal(size=(pairs.n_genes, 8)).astype(np.float32)
    t = m.pair_table(nd, x, pairs.degree(), pair_key(pairs.a, pairs.b, pairs.n_genes), {}, seed=0)
    assert "adamic_adar" not in t and "common_neighbours" not in t
    assert m.proto_methods("node_disjoint") == m.PROTO_METHODS
    assert {"adamic_adar", "common_neighbours"} <= set(m.proto_methods("heldout_edges"))
    assert "adamic_adar" in m.proto_baselines("heldout_edges")
    nd_pre, he_pre = m.proto_prefix("node_disjoint"), m.proto_prefix("heldout_edges")
    assert nd_pre == m.PROTOCOL and he_pre != nd_pre
    for part in ("dev", "test"):
        assert not fnmatch.fnmatch(f"{he_pre}_{part}_combined.json", f"{nd_pre}_{part}_*.json")
