"""CAL benchmark protocol (issue 16, docs/evaluation.md): the validation gene split is carved from
the training genes only, never touches a test gene, and the per-pair AUROC units used for the
paired bootstrap add up to the AUROC. Toy graphs only; the benchmark is imported by path."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from contrastomics.data.string import Pairs
from contrastomics.errors import InputError
from contrastomics.evaluate.associations import make_pair_split, pair_key
from contrastomics.evaluate.splits import validation_gene_split
from benchmark_scripts import bench


def toy_pairs(n_genes: int = 80, n_pairs: int = 600, seed: int = 0) -> Pairs:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n_genes, n_pairs), rng.integers(0, n_genes, n_pairs)
    keep = a != b
    lo, hi = np.minimum(a, b)[keep], np.maximum(a, b)[keep]
    _, first = np.unique(pair_key(lo, hi, n_genes), return_index=True)
    lo, hi = lo[first], hi[first]
    return Pairs([f"G{i}" for i in range(n_genes)], lo, hi, np.full(len(lo), 950.0))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_validation_genes_are_training_genes_and_no_pair_touches_a_test_gene(seed):
    pairs = toy_pairs(seed=seed)
    test = make_pair_split(pairs, "node_disjoint", test_frac=0.2, seed=seed)
    fit, val, degree = bench("cal_associations").validation_split(pairs, test, seed)
    test_genes = set(test.pool.tolist())
    val_genes = set(val.pool.tolist())
    assert val_genes and not val_genes & test_genes
    for a, b in ((fit.a, fit.b), (val.train_a, val.train_b), (val.test_a, val.test_b)):
        assert not set(a.tolist()) & test_genes and not set(b.tolist()) & test_genes
    # training pairs never touch a validation gene; validation positives have both ends among them
    assert not (set(fit.a.tolist()) | set(fit.b.tolist())) & val_genes
    assert np.array_equal(val.train_a, fit.a) and np.array_equal(val.train_b, fit.b)
    assert set(val.test_a.tolist()) <= val_genes and set(val.test_b.tolist()) <= val_genes
    # every pair among validation genes is a validation positive (built like the test split)
    is_val = np.isin(pairs.a, list(val_genes)) & np.isin(pairs.b, list(val_genes))
    assert len(val.test_a) == int(is_val.sum()) > 0
    # validation genes are drawn from training genes only: 20% of the training genes, not of all genes
    side = ~np.isin(pairs.a, test.pool) & ~np.isin(pairs.b, test.pool)
    train_genes = np.unique(np.r_[pairs.a[side], pairs.b[side]])
    assert len(val_genes) == int(round(0.2 * len(train_genes)))
    # the development degree ignores pairs that touch test genes
    assert degree[test.pool].sum() == 0
    assert degree.sum() == 2 * int(side.sum())


def test_validation_gene_split_masks():
    a = np.array([0, 0, 1, 2, 3, 4, 5, 6, 7, 8])
    b = np.array([1, 9, 2, 3, 4, 5, 6, 7, 8, 9])
    out = validation_gene_split(a, b, test_genes=[9], val_frac=0.5, seed=3)
    assert 9 not in out["val_genes"]
    touch = (a == 9) | (b == 9)
    assert not (out["fit"] & touch).any() and not (out["val"] & touch).any()
    assert not (out["fit"] & out["val"]).any()
    v = np.isin(a, out["val_genes"]) | np.isin(b, out["val_genes"])
    assert not (out["fit"] & v).any()
    assert out["info"]["n_touching_test"] == int(touch.sum())
    with pytest.raises(InputError):
        validation_gene_split(a[:1], b[:1], test_genes=[9])


def test_auc_units_mean_is_the_auroc_and_pool_is_the_mean_over_seeds():
    m = bench("cal_associations")
    rng = np.random.default_rng(0)
    tables, aucs = [], []
    for n_pos, n_neg in ((30, 30), (25, 40)):
        y = np.r_[np.ones(n_pos, bool), np.zeros(n_neg, bool)]
        s = np.round(rng.normal(size=len(y)) + y, 1)  # rounded: ties
        assert m.auc_units(y, s).mean() == pytest.approx(roc_auc_score(y, s))
        tables.append(pd.DataFrame({"y": y, "raw": np.zeros(len(y)), "CAL": s}))
        aucs.append(roc_auc_score(y, s))
    assert m.pooled_units(tables, "CAL", xb=True).mean() == pytest.approx(np.mean(aucs))


def test_test_negatives_respect_each_definition():
    """``strict``: no excluded (STRING >= 400) pair is ever a test negative."""
    m = bench("cal_associations")
    pairs = toy_pairs(n_genes=60, n_pairs=200)
    split = make_pair_split(pairs, "node_disjoint", test_frac=0.5, seed=0)
    x = np.random.default_rng(1).normal(size=(60, 8)).astype(np.float32)
    weak = pair_key(*np.triu_indices(60, 1), 60)[::3]  # stand-in for the 400-899 pairs
    strict = np.unique(np.r_[pair_key(pairs.a, pairs.b, 60), weak])
    t = m.pair_table(split, x, pairs.degree(), strict, {}, seed=0)
    neg = t[~t.y]
    assert len(neg) and not np.isin(pair_key(neg.a.to_numpy(), neg.b.to_numpy(), 60), strict).any()
