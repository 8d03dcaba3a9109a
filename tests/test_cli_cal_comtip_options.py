"""`cal` and `comtip` option checks (tester sweep 3): every bad option is one line ``error: ...``
before any data are read, any training starts or any file is written; unknown genes and
sections are all named; `comtip evaluate` warns on training sections (leakage)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from contrastomics.errors import InputError
from cli_helpers import cli, one_error_line as one_error
from test_cal import planted
from test_comtip import _her2st_folder, _visium_folder, names, tiny


@pytest.fixture(autouse=True)
def _console(monkeypatch, tmp_path):
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)   # main() installs its own
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setenv("CONTRASTOMICS_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def no_work(monkeypatch):
    """Reading the inputs or training fails the test: the option checks must come first."""
    import contrastomics.data.features as features
    import contrastomics.data.spots as spots
    import contrastomics.training.cal as tcal
    import contrastomics.training.comtip as tcomtip

    def boom(*a, **k):
        raise AssertionError("work started before the options were checked")
    for mod, name in ((features, "read_features"), (spots, "load_spots"), (tcal, "train_cal"),
                      (tcal, "benchmark_cal"), (tcomtip, "train_comtip")):
        monkeypatch.setattr(mod, name, boom)


@pytest.fixture
def cal_files(tmp_path):
    feats, pairs, _ = planted(n_groups=4, per=4)
    feats.to_csv(tmp_path / "f.tsv", sep="\t", index_label="gene")
    pairs.to_frame().rename(columns={"score": "combined_score"}).to_csv(tmp_path / "p.tsv", sep="\t", index=False)
    return tmp_path / "f.tsv", tmp_path / "p.tsv"


CAL_COMMON = [
    (["--epochs", "0"], "--epochs must be >= 1"),
    (["--threads", "-1"], "--threads must be >= 0"),
    (["--batch-size", "0"], "--batch-size must be >= 2"),
    (["--batch-size", "-1"], "--batch-size must be >= 2"),
    (["--batch-size", "1"], "InfoNCE"),
    (["--lr", "-1"], "--lr must be a finite number > 0"),
    (["--lr", "nan"], "--lr must be a finite number > 0"),
    (["--lr", "0"], "--lr must be a finite number > 0"),
    (["--pca", "-1"], "--pca must be >= 0"),
    (["--info", "nope.txt"], "nope.txt: --info file not found"),
]


@pytest.mark.parametrize("opts, needle", CAL_COMMON + [
    (["--device", "foo"], "--device 'foo' is not a device"),
    (["--temperature", "0"], "--temperature must be"),
])
def test_cal_train_bad_options_fail_before_anything_is_written(capsys, tmp_path, cal_files, no_work, opts, needle):
    out = tmp_path / "ce0"
    opts = [str(tmp_path / o) if o == "nope.txt" else o for o in opts]
    one_error(*cli(capsys, "cal", "train", *cal_files, "-o", out, *opts), needle)
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cal_train_device_cuda_without_cuda(capsys, tmp_path, cal_files, no_work):
    one_error(*cli(capsys, "cal", "train", *cal_files, "-o", tmp_path / "m", "--device", "cuda"), "CUDA is not available")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("opts, needle", CAL_COMMON + [
    (["--seeds", "x"], "--seeds must be comma-separated whole numbers"),
    (["--seeds", "0,,1"], "--seeds must be comma-separated whole numbers"),
    (["--test-frac", "1.5"], "--test-frac must be in (0, 1), got 1.5"),
    (["--test-frac", "0"], "--test-frac must be in (0, 1)"),
    (["--splits", "heldout_edges,nope"], "unknown split(s) nope"),
])
def test_cal_evaluate_bad_options_fail_before_training(capsys, tmp_path, cal_files, no_work, opts, needle):
    opts = [str(tmp_path / o) if o == "nope.txt" else o for o in opts]
    out = tmp_path / "ev.json"
    one_error(*cli(capsys, "cal", "evaluate", *cal_files, "-o", out, *opts), needle)
    assert not out.exists()


def test_cal_score_names_every_unknown_gene(capsys, tmp_path):
    from contrastomics.models.cal import CALConfig
    from contrastomics.training.cal import train_cal
    from contrastomics.training.loop import TrainConfig

    feats, pairs, _ = planted(n_groups=3, per=4)
    model, _ = train_cal(feats, pairs, CALConfig(in_dim=8, hidden_dims=(8,)),
                         TrainConfig(epochs=1, batch_size=8, progress=False))
    model.save_pretrained(tmp_path / "m")
    one_error(*cli(capsys, "cal", "score", "-m", tmp_path / "m", "--genes", "FOO,BAR"), "2 gene(s)", "FOO, BAR")
    with pytest.raises(InputError, match=r"2 gene\(s\) not in .*: FOO, BAR"):  # the Python method says the same
        model.score(["FOO"], ["BAR"])


def test_bad_pair_file_names_the_columns_looked_for_not_a_python_argument(capsys, tmp_path, cal_files):
    (tmp_path / "bad.csv").write_text("x,y\n1,2\n")
    line = one_error(*cli(capsys, "cal", "train", cal_files[0], tmp_path / "bad.csv", "-o", tmp_path / "m",
                          "--pca", "0"), "gene_a/gene_b", "protein1/protein2", "['x', 'y']")
    assert "gene_columns=" not in line and not (tmp_path / "m").exists()


# ---------------------------------------------------------------------- comtip
@pytest.fixture(scope="module")
def her2st(tmp_path_factory):
    return _her2st_folder(tmp_path_factory.mktemp("h") / "her2st")


@pytest.mark.parametrize("opts, needle", [
    (["--epochs", "0"], "--epochs must be >= 1"),
    (["--threads", "0"], "--threads must be >= 1"),
    (["--batch-size", "0"], "--batch-size must be >= 2"),
    (["--batch-size", "1"], "InfoNCE"),
    (["--lr", "-1"], "--lr must be a finite number > 0"),
    (["--lr", "nan"], "--lr must be a finite number > 0"),
    (["--lr", "0"], "--lr must be a finite number > 0"),
    (["--device", "foo"], "--device 'foo' is not a device"),
    (["--size-px", "-10"], "--size-px must be a finite number > 0"),
    (["--image-size", "0"], "--image-size must be a positive multiple"),
    (["--image-size", "12"], "--image-size must be a positive multiple"),
    (["--n-genes", "-5"], "--n-genes must be >= 1"),
    (["--n-genes", "0"], "--n-genes must be >= 1"),
    (["--sections", ""], "--sections is empty"),
    (["--sections", "T1,ZZ9"], "unknown HER2ST section(s) ZZ9"),
    (["--pretrain-sections", "P1,Q7"], "--pretrain-sections: unknown HER2ST section(s) Q7"),
    (["--pretrain-sections", "P1", "--pretrain-epochs", "0"], "--pretrain-epochs must be >= 1"),
])
def test_comtip_train_bad_options_fail_before_anything_is_written(capsys, tmp_path, her2st, no_work, opts, needle):
    out = tmp_path / "cto"
    line = one_error(*cli(capsys, "comtip", "train", "--her2st", her2st, "-o", out, *opts), needle)
    assert not out.exists()
    if "unknown HER2ST" in needle:
        assert "has P1, P2, T1" in line or "T1, P1, P2" in line


def test_comtip_sections_without_her2st(capsys, tmp_path, no_work):
    one_error(*cli(capsys, "comtip", "train", "--sections", "C2", "-o", tmp_path / "m"), "--sections needs --her2st")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_comtip_train_device_cuda_without_cuda(capsys, tmp_path, her2st, no_work):
    one_error(*cli(capsys, "comtip", "train", "--her2st", her2st, "-o", tmp_path / "m", "--device", "cuda"),
              "CUDA is not available")


@pytest.mark.parametrize("cmd", ["predict", "evaluate"])
@pytest.mark.parametrize("opts, needle", [
    (["--k", "0"], "--k must be >= 1"), (["--k", "-3"], "--k must be >= 1"),
    (["--device", "foo"], "--device 'foo' is not a device"), (["--sections", "ZZ9"], "unknown HER2ST section"),
])
def test_comtip_predict_evaluate_bad_options(capsys, tmp_path, her2st, no_work, cmd, opts, needle):
    out = tmp_path / "p.tsv"
    one_error(*cli(capsys, "comtip", cmd, "-m", tmp_path / "m", "--her2st", her2st, "-o", out, *opts), needle)
    assert not out.exists()


def test_comtip_train_unreadable_visium_folder_is_an_error(capsys, tmp_path, monkeypatch):
    import contrastomics.training.comtip as tcomtip

    monkeypatch.setattr(tcomtip, "train_comtip", lambda *a, **k: pytest.fail("trained without the named folder"))
    good = _visium_folder(tmp_path / "good")
    (tmp_path / "notmodel").mkdir()
    one_error(*cli(capsys, "comtip", "train", "--visium", good, "--visium", tmp_path / "notmodel", "-o",
                   tmp_path / "m", "--n-genes", "6", "--size-px", "30", "--image-size", "16", "--no-gene-names"),
              "notmodel", "no count matrix")
    assert not (tmp_path / "m").exists()


def _model_trained_on(folder, sections):
    from contrastomics.models.comtip import CoMTIP, save_reference

    vals = np.random.default_rng(0).normal(size=(len(sections), 6)).astype(np.float32)
    save_reference(CoMTIP(tiny(), names()), folder, vals, sections, {"size_px": 30.0})
    return folder


def test_comtip_evaluate_warns_when_a_section_was_trained_on(tmp_path, her2st):
    from typer.testing import CliRunner

    from contrastomics.cli.comtip import app

    args = ["evaluate", "--her2st", str(her2st), "--sections", "T1", "--k", "2", "--device", "cpu"]
    m = _model_trained_on(tmp_path / "leaky", ["T1", "T1", "P1"])
    with pytest.warns(UserWarning, match="T1 were also used to train this model"):
        res = CliRunner().invoke(app, [*args, "--model", str(m)])
    assert res.exit_code == 0 and "T1: mean Pearson r" in res.output, res.output
    m = _model_trained_on(tmp_path / "clean", ["X1", "X1"])
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*(train this model|trained this model)")
        res = CliRunner().invoke(app, [*args, "--model", str(m)])
    assert res.exit_code == 0, res.output


def test_comtip_leakage_warning_for_another_section_of_a_training_patient(tmp_path, her2st):
    from contrastomics.cli.comtip import _warn_leakage

    m = _model_trained_on(tmp_path / "m", ["P1", "P1"])
    with pytest.warns(UserWarning, match="P2 come from a patient whose other sections trained this model"):
        _warn_leakage(m, ["P2"], her2st)
    idx = pd.read_csv(her2st / "section_index.csv")
    assert set(idx.loc[idx.section.isin(["P1", "P2"]), "patient"]) == {"P"}
