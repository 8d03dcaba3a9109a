"""Term splits for the gtCLIP benchmarks: the text cap, the development split, held-out rows, and
per-query retrieval ranks with paired CIs (small synthetic fixtures, hand-computed values)."""
import numpy as np
import pytest
import scipy.sparse as sp

from contrastomics.data.genesets import GeneSetLibrary
from contrastomics.errors import InputError
from contrastomics.evaluate.retrieval import (embedding_query_ranks, paired_recall, pool_indices, pool_ranks,
                                              query_ranks, recall_hits)
from contrastomics.evaluate.splits import (_related_mask, apply_text_cap, development_split, family_split,
                                           held_out_rows, make_term_split, max_cosine_to, near_duplicate_split,
                                           random_split)

GENES = [f"G{i}" for i in range(400)]


class Forest:
    """A toy ontology of ``n_fam`` chains ``F<f>_0 <- F<f>_1 <- F<f>_2`` (each is_a its predecessor):
    every term of a chain is an ancestor or descendant of every other, chains are unrelated."""

    relations = ("is_a",)

    def __init__(self, n_fam, depth=3):
        self.ids = [f"F{f}_{d}" for f in range(n_fam) for d in range(depth)]
        self._i = {t: i for i, t in enumerate(self.ids)}
        rows, cols = [], []
        for f in range(n_fam):
            for d in range(depth):
                for a in range(d + 1):  # ancestors of depth d: depths 0..d (self included)
                    rows.append(f * depth + d)
                    cols.append(f * depth + a)
        self._anc = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(self.ids), len(self.ids)))

    def __contains__(self, t):
        return t in self._i

    def index(self, t):
        return self._i[t]

    def ancestor_matrix(self, include_self=True):
        return self._anc


def forest_library(n_fam=100, seed=0):
    onto = Forest(n_fam)
    rng = np.random.default_rng(seed)
    sets = {t: list(rng.choice(GENES, size=8, replace=False)) for t in onto.ids}
    return GeneSetLibrary.from_gene_sets(sets, descriptions={t: f"text {t}" for t in sets}, genes=GENES), onto


def twin_features(n, twins, seed=0, d=16):
    """Random unit vectors; row ``b`` of each ``(a, b)`` in ``twins`` is a near-copy of row ``a``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    for a, b in twins:
        x[b] = x[a] + 0.01 * rng.normal(size=d)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# ---------------------------------------------------------------------- helpers
def test_max_cosine_by_hand():
    x = np.array([[1, 0], [0, 2], [3, 4]], np.float32)  # rows normalised inside: (1,0), (0,1), (.6,.8)
    out = max_cosine_to(x, np.array([0, 1]), np.array([2]))
    assert out == pytest.approx([0.6, 0.8])
    assert max_cosine_to(x, np.array([0, 2]), np.array([0, 1])) == pytest.approx([1.0, 0.8])
    assert (max_cosine_to(x, np.array([0]), np.array([], np.int64)) == -1).all()


def test_held_out_rows_are_the_test_part_of_every_random_draw_split():
    lib, onto = forest_library(40)
    for seed in (0, 1, 7):
        rows = held_out_rows(len(lib), 0.1, seed)
        assert np.array_equal(rows, random_split(lib, 0.1, 0.05, seed).test)
        assert np.array_equal(rows, near_duplicate_split(lib, 0.1, 0.05, seed=seed).test)
        assert np.array_equal(rows, family_split(lib, onto, 0.1, 0.05, seed).test)


# ---------------------------------------------------------------------- text cap
def test_text_cap_drops_training_and_validation_twins_of_held_out_texts():
    lib, onto = forest_library(100)
    base = family_split(lib, onto, 0.1, 0.05, seed=3)
    # give 10 training terms and 3 validation terms the text of a test term, and 4 training terms
    # the text of a validation term
    twins = ([(int(a), int(b)) for a, b in zip(base.test[:10], base.train[:10])]
             + [(int(a), int(b)) for a, b in zip(base.test[10:13], base.val[:3])]
             + [(int(a), int(b)) for a, b in zip(base.val[3:7], base.train[10:14])])
    feats = twin_features(len(lib), twins)
    assert max_cosine_to(feats, base.train, base.test).max() >= 0.9  # the control has something to do
    capped = make_term_split("family", lib, ontology=onto, seed=3, text_features=feats, text_cap=0.9)
    assert np.array_equal(capped.test, base.test)
    assert max_cosine_to(feats, capped.train, capped.test).max() < 0.9
    assert max_cosine_to(feats, capped.val, capped.test).max() < 0.9
    assert max_cosine_to(feats, capped.train, capped.val).max() < 0.9
    assert capped.info["n_dropped_text_test"] == 13 and capped.info["n_dropped_text_val"] == 4
    assert capped.info["text_cap"] == 0.9 and capped.summary()["n_train"] == len(base.train) - 14
    assert set(capped.train) <= set(base.train) and set(capped.val) <= set(base.val)
    # the family rule still holds after the cap
    assert not _related_mask(onto, lib.terms, capped.test)[capped.train].any()


def test_no_text_cap_leaves_every_split_as_before():
    lib, onto = forest_library(50)
    for kind in ("random", "near_dup", "family"):
        a = make_term_split(kind, lib, ontology=onto, seed=2)
        b = {"random": random_split(lib, seed=2), "near_dup": near_duplicate_split(lib, seed=2),
             "family": family_split(lib, onto, seed=2)}[kind]
        assert all(np.array_equal(x, y) for x, y in zip((a.train, a.val, a.test), (b.train, b.val, b.test)))
        assert "text_cap" not in a.info


def test_text_cap_bad_input():
    lib, onto = forest_library(20)
    feats = twin_features(len(lib), [])
    with pytest.raises(InputError, match="text_cap needs text_features"):
        make_term_split("family", lib, ontology=onto, text_cap=0.9)
    with pytest.raises(InputError, match=r"one row per gene set \(60, d\)"):
        make_term_split("family", lib, ontology=onto, text_features=feats[:10], text_cap=0.9)
    with pytest.raises(InputError, match="text_cap must be in"):
        make_term_split("family", lib, ontology=onto, text_features=feats, text_cap=1.5)
    with pytest.raises(InputError, match="text_cap must be in"):
        apply_text_cap(family_split(lib, onto), feats, 0.0)


# ---------------------------------------------------------------------- development split
def test_development_split_avoids_reported_test_terms_and_their_families():
    lib, onto = forest_library(100)
    dev = make_term_split("dev", lib, ontology=onto, seed=1000, reported_seeds=(0, 1, 2))
    reported = np.unique(np.concatenate([held_out_rows(len(lib), 0.1, s) for s in (0, 1, 2)]))
    fam = lambda rows: {lib.terms[i].split("_")[0] for i in rows}  # noqa: E731
    assert not fam(dev.test) & fam(reported)            # no dev test term in a reported test family
    assert not set(dev.test) & set(reported)
    assert len(dev.test) == round(0.1 * len(lib))
    assert not _related_mask(onto, lib.terms, dev.test)[dev.train].any()   # family-disjoint itself
    assert not _related_mask(onto, lib.terms, dev.val)[dev.train].any()
    assert dev.info["split"] == "development" and dev.info["reported_seeds"] == [0, 1, 2]
    assert dev.info["n_avoided"] == 3 * len(fam(reported))
    other = development_split(lib, onto, (0, 1, 2), seed=1001)
    assert not np.array_equal(other.test, dev.test)      # its own seed draws its own terms
    capped = make_term_split("dev", lib, ontology=onto, seed=1000, text_features=twin_features(len(lib), []),
                             text_cap=0.9)
    assert np.array_equal(capped.test, dev.test) and capped.info["text_cap"] == 0.9


def test_development_split_bad_input():
    lib, onto = forest_library(100)
    with pytest.raises(InputError, match="one of the reported test seeds"):
        development_split(lib, onto, (0, 1, 2), seed=1)
    small, sonto = forest_library(4)  # 12 terms: the reported test terms' families cover every term
    with pytest.raises(InputError, match="no term is left for the test part"):
        development_split(small, sonto, tuple(range(10)), test_frac=0.3, seed=99)
    with pytest.raises(InputError, match="needs an ontology"):
        make_term_split("dev", lib)


# ---------------------------------------------------------------------- per-query ranks and paired CIs
def test_query_ranks_match_pool_ranks_in_input_order():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(250, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = x + 0.8 * rng.normal(size=x.shape).astype(np.float32)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    g2t, t2g, pool = pool_ranks(x, y, 100, seed=3)
    a, b, p = embedding_query_ranks(x, y, 100, seed=3)
    c, d, _ = query_ranks(x @ y.T, None, 100, seed=3)
    order = np.concatenate(pool_indices(250, 100, 3)[0])
    assert pool == p == 100 and np.isnan(a).sum() == 50 and np.isnan(c).sum() == 50
    assert np.array_equal(a[order], g2t) and np.array_equal(b[order], t2g)
    assert np.array_equal(a, c, equal_nan=True) and np.array_equal(b, d, equal_nan=True)
    with pytest.raises(InputError, match="square and paired"):
        query_ranks(np.zeros((3, 4)))


def test_paired_recall_by_hand():
    a = np.array([1, 2, 9, 3, np.nan])
    b = np.array([7, 5, 9, 8, 1])
    assert np.array_equal(recall_hits(a, 5), [1, 1, 0, 1, np.nan], equal_nan=True)
    res = paired_recall(a, b, k=5)
    # hits a: 1 1 0 1, hits b: 0 1 0 0 over the 4 queries both scored -> +0.5
    assert res["diff"] == pytest.approx(0.5) and res["n"] == 4 and res["n_dropped"] == 1
    assert res["low"] <= 0.5 <= res["high"]
    same = paired_recall(b, b, k=5)
    assert same["diff"] == 0 and same["verdict"] == "tie"
