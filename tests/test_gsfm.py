"""GSFM model, checkpoint layouts, gene-function evaluation and the `contrastomics gsfm` CLI."""
import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
import torch.nn as nn
import typer
from safetensors.torch import save_file
from typer.testing import CliRunner

from contrastomics.data.genesets import GeneSetLibrary
from contrastomics.errors import InputError
from contrastomics.evaluate.gene_function import (auroc_rows, comembership_scores, evaluate_scores,
                                                   frequency_scores, make_queries)
from contrastomics.models.base import save_model_folder
from contrastomics.models.gsfm import GSFM, GSFMConfig, predict_gene_function
from contrastomics.training.gsfm import GeneSetDataset, init_output_bias, partition_collate, train_gsfm
from contrastomics.training.loop import TrainConfig
from module_sets import module_sets

torch.set_num_threads(1)

TINY = dict(d_model=8, hidden_dims=(16,), decoder_hidden_dims=(8,), dropout=0.0)




@pytest.fixture(scope="module")
def trained() -> GSFM:
    lib = GeneSetLibrary.from_gene_sets(module_sets(), name="modules")
    tc = TrainConfig(epochs=60, batch_size=8, lr=1e-2, warmup_steps=2, device="cpu", progress=False, seed=0)
    model, res = train_gsfm(lib, dict(TINY, partition=0.5, weighted_loss="unseen"), tc)
    assert res.history[-1]["loss"] < res.history[0]["loss"]
    return model


# ---------------------------------------------------------------------- model
def test_sparse_first_layer_equals_dense_multi_hot():
    torch.manual_seed(0)
    m = GSFM.from_genes([f"G{i}" for i in range(50)], **TINY)
    idx, off, rep = m.tokenize([["G1", "G5", "G7"], ["G2", "g3", "G2", "NOPE"], ["G49"]])
    assert rep["n_unknown"] == 1 and rep["unknown"] == {"NOPE": 1} and rep["empty_sets"] == []
    assert idx.tolist() == [3, 7, 9, 4, 5, 51]  # token = gene index + 2 specials; duplicate G2 once
    m.eval()
    sparse = m.encode(idx, off)
    m.config.sparse_input = False
    dense = m.encode(idx, off)
    assert torch.allclose(sparse, dense, atol=1e-6)
    # the first layer behaves as nn.Linear over the multi-hot
    x = m.multi_hot(idx, off)
    assert x.sum().item() == 6 and x[:, :2].sum().item() == 0
    lin = m.encoder.layers[0]
    assert torch.allclose(lin(x), x @ lin.weight.T + lin.bias, atol=1e-6)


def test_published_shape_and_module_names():
    m = GSFM.from_genes([f"G{i}" for i in range(100)])
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert shapes == {"encoder.layers.0.weight": (512, 102), "encoder.layers.0.bias": (512,),
                      "encoder.layers.3.weight": (256, 512), "encoder.layers.3.bias": (256,),
                      "decoder.layers.0.weight": (256, 256), "decoder.layers.0.bias": (256,),
                      "decoder.layers.3.weight": (102, 256), "decoder.layers.3.bias": (102,)}
    assert m.config.to_dict()["depth"] == 2


class OfficialGSFM(nn.Module):
    """Independent re-statement of the official maayanlab/gsfm module (depth 2)."""

    def __init__(self, vocab_size, d_model):
        super().__init__()
        self.encoder = nn.Module()
        self.encoder.layers = nn.Sequential(nn.Linear(vocab_size, 2 * d_model), nn.ReLU(), nn.Dropout(0.2),
                                            nn.Linear(2 * d_model, d_model))
        self.decoder = nn.Module()
        self.decoder.layers = nn.Sequential(nn.Linear(d_model, d_model), nn.ReLU(), nn.Dropout(0.2),
                                            nn.Linear(d_model, vocab_size))

    def forward(self, x):
        return self.decoder.layers(self.encoder.layers(x))


def write_official_checkpoint(folder: Path, genes, d_model=4, seed=0) -> OfficialGSFM:
    torch.manual_seed(seed)
    vocab = ["<unk>", "<pad>", *genes]
    ref = OfficialGSFM(len(vocab), d_model).eval()
    folder.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in ref.state_dict().items()}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({
        "vocab_size": len(vocab), "d_model": d_model, "depth": 2, "dropout": 0.2, "partition": 0.8,
        "weighted_loss": "unseen", "name": "gsfm-tiny", "file": "tiny.gmt", "timestamp": "2024-01-01"}))
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    return ref


def test_official_checkpoint_layout_loads_and_matches_reference(tmp_path):
    genes = ["TP53", "MDM2", "CDKN1A", "BAX", "EGFR", "KRAS", "MYC"]
    ref = write_official_checkpoint(tmp_path / "official", genes)
    m = GSFM.from_pretrained(tmp_path / "official")
    assert m.genes == genes and m.config.hidden_dims == (8,) and m.config.decoder_hidden_dims == (4,)
    assert m.config.weighted_loss == "unseen"
    sets = [["TP53", "MDM2"], ["EGFR", "KRAS", "MYC"]]
    idx, off, _ = m.tokenize(sets)
    m.eval()
    _, logits = m(idx, off)
    x = torch.zeros(2, len(genes) + 2)
    for r, s in enumerate(sets):
        x[r, [genes.index(g) + 2 for g in s]] = 1.0
    with torch.no_grad():
        assert torch.allclose(logits, ref(x), atol=1e-5)
    # ours written back in the same layout: same keys, same tensors
    m.save_pretrained(tmp_path / "ours")
    from safetensors.torch import load_file

    a, b = load_file(str(tmp_path / "official" / "model.safetensors")), load_file(str(tmp_path / "ours" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "ours" / "vocab.txt").read_text().splitlines()[:3] == ["<unk>", "<pad>", "TP53"]
    assert json.loads((tmp_path / "ours" / "config.json").read_text())["depth"] == 2


def test_save_load_roundtrip_fp32_and_fp16(tmp_path, trained):
    trained.save_pretrained(tmp_path / "m32")
    save_model_folder(trained, tmp_path / "m16", half=True)
    sets = [["M0G1", "M0G2"], ["M3G0", "M3G4", "M3G5"]]
    p = trained.score_genes(sets)
    assert np.array_equal(GSFM.from_pretrained(tmp_path / "m32").score_genes(sets), p)
    assert np.allclose(GSFM.from_pretrained(tmp_path / "m16").score_genes(sets), p, atol=2e-3)
    assert (tmp_path / "m16" / "model.safetensors").stat().st_size < (tmp_path / "m32" / "model.safetensors").stat().st_size


def test_load_errors_are_input_errors(tmp_path):
    write_official_checkpoint(tmp_path / "ok", ["A", "B", "C"])
    with pytest.raises(InputError, match="not found"):
        GSFM.from_pretrained(tmp_path / "missing")
    bad = tmp_path / "badjson"
    write_official_checkpoint(bad, ["A", "B", "C"])
    (bad / "config.json").write_text("{not json")
    with pytest.raises(InputError, match="config.json is not valid JSON"):
        GSFM.from_pretrained(bad)
    wrong = tmp_path / "wrongvocab"
    write_official_checkpoint(wrong, ["A", "B", "C"])
    (wrong / "vocab.txt").write_text("<unk>\n<pad>\nA\nB\n")  # one gene short of the weights
    with pytest.raises(InputError, match="shapes do not match"):
        GSFM.from_pretrained(wrong)
    novocab = tmp_path / "novocab"
    write_official_checkpoint(novocab, ["A", "B", "C"])
    (novocab / "vocab.txt").unlink()
    with pytest.raises(InputError, match="vocab.txt"):
        GSFM.from_pretrained(novocab)


def test_config_rejects_bad_options():
    with pytest.raises(InputError):
        GSFMConfig(vocab_size=5, weighted_loss="rare")
    with pytest.raises(InputError):
        GSFMConfig(vocab_size=5, partition=0.0)
    with pytest.raises(InputError):
        GSFMConfig(vocab_size=5, loss="softmax", weighted_loss="balance")


# ---------------------------------------------------------------------- training pieces
def test_partition_collate_splits_each_set():
    sets = [np.arange(2, 12), np.arange(20, 25), np.array([40])]
    idx, off, target, mask = partition_collate(0.5, 50, seed=1)(sets)
    assert off.tolist() == [0, 5, 7]  # round(0.5*10)=5, rint(2.5)=2, a single gene is kept whole
    assert target.sum(1).tolist() == [10, 5, 1]
    assert mask.sum(1).tolist() == [5, 2, 1]
    assert bool(((mask > 0) <= (target > 0)).all())  # inputs are members of their set
    idx2, *_ = partition_collate(0.5, 50, seed=1)(sets)
    assert torch.equal(idx, idx2)
    full_idx, _, _, full_mask = partition_collate(1.0, 50)(sets)
    assert torch.equal(full_mask, target) and len(full_idx) == 16


def test_trained_model_completes_its_module(trained):
    df = trained.predict(["M2G0", "M2G1", "M2G2", "UNKNOWNX"], k=5)
    assert list(df["rank"]) == [1, 2, 3, 4, 5]
    assert all(g.startswith("M2G") for g in df["gene"]) and not {"M2G0", "M2G1", "M2G2"} & set(df["gene"])
    assert df.attrs["n_unknown"] == 1
    with pytest.raises(InputError, match="none of the"):
        trained.predict(["NOPE1", "NOPE2"])
    z = trained.embed(GeneSetLibrary.from_gene_sets(module_sets(), name="m"), normalize=True)
    assert z.shape == (48, 8) and np.allclose(np.linalg.norm(z, axis=1), 1, atol=1e-5)


def test_gene_function_ranks_terms_of_the_genes_module(trained):
    sets = {f"T{m}": [f"M{m}G{i}" for i in range(1, 6)] for m in range(4)}
    sets["T1_known"] = ["M1G0", "M1G6", "M1G7", "M1G3"]
    lib = GeneSetLibrary.from_gene_sets(sets, name="terms")
    df = predict_gene_function(trained, "m1g0", lib, k=None)
    assert df.attrs["gene"] == "M1G0" and df.attrs["n_terms_scored"] == 5
    assert set(df["term"][:2]) == {"T1", "T1_known"}  # the gene's own module first
    assert df.set_index("term").loc["T1_known", "known"] and not df.set_index("term").loc["T1", "known"]
    assert df["zscore"].is_monotonic_decreasing and (df["percentile"].between(0, 100)).all()
    assert "T1_known" not in set(trained.gene_function("M1G0", lib, include_known=False)["term"])
    with pytest.raises(InputError, match="not in the model vocabulary"):
        predict_gene_function(trained, "NOTAGENE", lib)


def test_prior_bias_starts_at_gene_frequency():
    sets = {f"S{i}": ["A", f"X{i}", f"Y{i}"] + (["B"] if i < 3 else []) for i in range(10)}
    lib = GeneSetLibrary.from_gene_sets(sets, name="p")
    m = GSFM.from_genes(lib.genes, **TINY)
    bias = init_output_bias(m, GeneSetDataset.from_library(m, lib))
    tok = m.gene_index
    p = lambda n: (n + 0.5) / 11  # noqa: E731
    assert bias[tok["A"]] == pytest.approx(np.log(p(10) / (1 - p(10))))
    assert bias[tok["B"]] == pytest.approx(np.log(p(3) / (1 - p(3))))
    assert torch.allclose(m.decoder.layers[-1].bias, torch.from_numpy(bias).float())
    m2 = GSFM.from_genes(lib.genes, **TINY, loss="softmax")
    b2 = init_output_bias(m2, GeneSetDataset.from_library(m2, lib))
    assert np.exp(b2).sum() == pytest.approx(1.0) and b2[tok["A"]] - b2[tok["B"]] == pytest.approx(np.log(10.5 / 3.5))


# ---------------------------------------------------------------------- evaluation
def test_auroc_rows_matches_sklearn_with_exclusions():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, size=(3, 20)).astype(float)  # many ties
    pos = sp.csr_matrix((rng.random((3, 20)) < 0.3).astype(float))
    exc = sp.csr_matrix((rng.random((3, 20)) < 0.2).astype(float))
    got = auroc_rows(scores, pos, exc, chunk=2)
    for r in range(3):
        p, e = pos[r].toarray().ravel() > 0, exc[r].toarray().ravel() > 0
        keep = ~e | p
        assert got[r] == pytest.approx(roc_auc_score(p[keep], scores[r][keep]))


def test_queries_split_half_and_baselines():
    lib = GeneSetLibrary.from_gene_sets(module_sets(), name="m")
    q, kept = make_queries(lib.membership, seeds=(0, 1), min_genes=6, max_genes=None)
    sizes = lib.sizes[kept]
    assert len(q) == 2 * len(kept) and len(kept) == int((lib.sizes >= 6).sum())
    assert np.array_equal(q.inputs.getnnz(1)[:len(kept)], sizes // 2)
    assert q.inputs.multiply(q.heldout).nnz == 0  # halves are disjoint
    assert np.array_equal((q.inputs + q.heldout).toarray()[:len(kept)], lib.membership[kept].toarray())
    assert not np.array_equal(q.inputs[:len(kept)].toarray(), q.inputs[len(kept):].toarray())  # seeds differ
    # co-membership by brute force
    corpus = lib.membership.toarray()
    x = q.inputs[:3].toarray()
    brute = np.array([[sum(corpus[s, i] * corpus[s, j] for s in range(len(corpus)) for i in np.flatnonzero(x[r]))
                       for j in range(corpus.shape[1])] for r in range(3)])
    assert np.array_equal(comembership_scores(q.inputs[:3], lib.membership), brute)
    # modules are disjoint: co-membership recovers every held-out gene, frequency does not
    assert evaluate_scores(comembership_scores(q.inputs, lib.membership), q)["median"] == 1.0
    assert evaluate_scores(frequency_scores(q.inputs, lib.membership), q)["median"] < 0.8


# ---------------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def cli():
    from contrastomics.cli import gsfm as gsfm_cli

    root = typer.Typer()
    root.add_typer(gsfm_cli.app, name="gsfm")
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(root, ["gsfm", *map(str, args)])

    return invoke


@pytest.fixture(scope="module")
def gmt(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("gmt") / "modules.gmt"
    p.write_text("".join(f"{k}\tna\t" + "\t".join(v) + "\n" for k, v in module_sets().items()))
    return p


@pytest.fixture(scope="module")
def model_dir(cli, gmt, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models") / "tiny"
    r = cli("train", "--library", gmt, "--out", out, "--epochs", 25, "--d-model", 8, "--hidden", 16,
            "--decoder-hidden", 8, "--batch-size", 8, "--lr", 0.01, "--min-size", 3, "--partition", 0.5,
            "--weighted-loss", "unseen", "--no-progress", "--threads", 1)
    assert r.exit_code == 0, r.output
    return out


def test_cli_train_writes_a_loadable_model(model_dir):
    assert sorted(p.name for p in model_dir.iterdir()) == ["config.json", "model.safetensors", "vocab.txt"]
    assert not model_dir.with_name("tiny.checkpoints").exists()  # resume point removed after success
    m = GSFM.from_pretrained(model_dir)
    assert len(m.genes) == 32 and m.config.partition == 0.5


def test_cli_embed_parquet(cli, model_dir, gmt, tmp_path):
    out = tmp_path / "emb.parquet"
    r = cli("embed", "--model", model_dir, "--gmt", gmt, "--out", out)
    assert r.exit_code == 0, r.output
    df = pd.read_parquet(out)
    assert df.shape == (48, 3 + 8) and df["gene_set"].iloc[0] == "S0_0"
    sets = module_sets()
    assert np.allclose(df.filter(regex=r"^e\d+$").to_numpy(), GSFM.from_pretrained(model_dir).embed(list(sets.values())), atol=1e-6)


def test_cli_embed_gzip_without_suffix_and_unknown_sets(cli, model_dir, tmp_path):
    f = tmp_path / "sets.txt"
    f.write_bytes(gzip.compress(b"A\tna\tM0G1\tM0G2\tFOO\nB\tna\tBAR\tBAZ\nC\tna\tM3G3\n"))
    out = tmp_path / "e.tsv"
    with pytest.warns(UserWarning) as w:
        r = cli("embed", "--model", model_dir, "--gmt", f, "--out", out)
    assert r.exit_code == 0, r.output
    msgs = " ".join(str(x.message) for x in w)
    assert "3 distinct gene symbols" in msgs and "skipped 1 gene set" in msgs
    df = pd.read_csv(out, sep="\t")
    assert df["gene_set"].tolist() == ["A", "C"] and df["n_unknown"].tolist() == [1, 0]


@pytest.mark.parametrize("content, match", [
    ("only_one_field\n", "not a GMT line"),
    ("", "empty"),
    ("A\tna\tFOO\tBAR\n", "no gene set has a gene of the model vocabulary"),
])
def test_cli_embed_bad_input_is_one_error_and_no_output(cli, model_dir, tmp_path, content, match):
    f = tmp_path / "bad.gmt"
    f.write_text(content)
    out = tmp_path / "e.parquet"
    r = cli("embed", "--model", model_dir, "--gmt", f, "--out", out)
    assert r.exit_code != 0 and isinstance(r.exception, InputError)
    assert match in str(r.exception) and "\n" not in str(r.exception)
    assert str(f) in str(r.exception) or match == "no gene set has a gene of the model vocabulary"
    assert not out.exists() and not list(tmp_path.glob(".e.parquet*"))


def test_cli_predict(cli, model_dir, tmp_path):
    out = tmp_path / "pred.csv"
    with pytest.warns(UserWarning, match="1 of 4 input genes are not in the model vocabulary"):
        r = cli("predict", "--model", model_dir, "--genes", "M1G0,M1G1, M1G2,NOPE", "-k", 4, "--out", out)
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out)
    assert len(df) == 4 and all(g.startswith("M1G") for g in df["gene"]) and "M1G0" not in set(df["gene"])
    assert "rank" in r.output
    r = cli("predict", "--model", model_dir, "--genes", ",,")
    assert isinstance(r.exception, InputError)


def test_cli_gene_function(cli, model_dir, gmt, tmp_path):
    out = tmp_path / "gf.tsv"
    r = cli("gene-function", "--model", model_dir, "--gene", "M2G3", "--library", gmt, "--min-size", 3,
            "-k", 5, "--out", out)
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out, sep="\t")
    assert len(df) == 5 and all(t.startswith("S2_") for t in df["term"])
    r = cli("gene-function", "--model", model_dir, "--gene", "NOTAGENE", "--library", gmt, "--min-size", 3)
    assert isinstance(r.exception, InputError) and "NOTAGENE" in str(r.exception)


def test_cli_errors_print_one_line_exit_2(model_dir, tmp_path, capsys):
    from contrastomics.cli import main

    with pytest.raises(SystemExit) as e:
        main(["gsfm", "predict", "--model", str(tmp_path / "nomodel"), "--genes", "TP53"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "model folder not found" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as e:
        main(["gsfm", "train", "--library", str(tmp_path / "nope.gmt"), "--out", str(tmp_path / "m")])
    assert e.value.code == 2 and not (tmp_path / "m").exists()


def test_embedding_table_counts_what_was_embedded():
    """n_genes / n_unknown of `gsfm embed` follow the tokenizer: an older symbol of a vocabulary
    gene (AARS for AARS1) and a lower-case symbol are known, an unknown symbol is counted."""
    from contrastomics.data.genesets import GeneSetLibrary
    from contrastomics.models.gsfm import embedding_table

    model = GSFM.from_genes(["AARS1", "TP53", "MDM2", "CDKN1A"], d_model=4)
    lib = GeneSetLibrary.from_gene_sets({"S": ["AARS", "tp53", "NOTAGENE"], "T": ["MDM2", "CDKN1A"]})
    with pytest.warns(UserWarning):
        df = embedding_table(model, lib, source="x")
    assert df.set_index("gene_set")[["n_genes", "n_unknown"]].to_dict("index") == {
        "S": {"n_genes": 2, "n_unknown": 1}, "T": {"n_genes": 2, "n_unknown": 0}}
