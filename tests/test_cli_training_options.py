"""`gsfm` and `gtclip` option checks (tester sweep 3): every bad training, search or evaluation
option is one line ``error: ...`` before any model is loaded, trained or written."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from cli_helpers import cli, one_error_line

GMT = Path(__file__).resolve().parent / "data" / "msigdb_mini.gmt"


def _boom(*a, **k):
    raise AssertionError("work started before the options were checked")


@pytest.fixture
def no_training(monkeypatch):
    """Training, model loading or embedding fails the test: the checks must come first."""
    import contrastomics.training.gsfm as tg
    import contrastomics.training.gtclip as tt
    from contrastomics.models.gsfm import GSFM
    from contrastomics.models.gtclip import GtClip

    for mod, name in ((tg, "pretrain_to_folder"), (tt, "train_with_default_recipe"), (tt, "train_default")):
        monkeypatch.setattr(mod, name, _boom)
    monkeypatch.setattr(GtClip, "load", classmethod(_boom))
    monkeypatch.setattr(GSFM, "from_pretrained", classmethod(_boom))


# -- 1: gtclip train --------------------------------------------------------------------------------


@pytest.mark.parametrize("args, needle", [
    (["--epochs", "0"], "--epochs must be >= 1"),
    (["--epochs", "-3"], "--epochs must be >= 1"),
    (["--batch-size", "0"], "--batch-size must be >= 1"),
    (["--batch-size", "-1"], "--batch-size must be >= 1"),
    (["--threads", "-1"], "--threads must be >= 1"),
    (["--seed", "-1"], "--seed must be >= 0"),
    (["--trainable-text-layers", "-1"], "--trainable-text-layers must be >= 0"),
    (["--overlap-weight", "1.5"], "--overlap-weight must be in [0, 1]"),
    (["--overlap-weight", "nan"], "--overlap-weight must be in [0, 1]"),
    (["--recon-weight", "-1"], "--recon-weight must be a finite number >= 0"),
    (["--recon-weight", "inf"], "--recon-weight must be a finite number >= 0"),
    (["--text-mode", "names"], "--text-mode must be both, title or description"),
])
def test_gtclip_train_bad_numbers_write_nothing(tmp_path, capsys, no_training, args, needle):
    out = tmp_path / "g6"
    one_error_line(*cli(capsys, "gtclip", "train", "--gmt", GMT, "-o", out, *args), needle)
    assert not out.exists()


def test_gtclip_train_has_no_device_or_lr_option(capsys, no_training):
    """The tester's --device / --lr: gtclip train has neither (a usage error, no traceback)."""
    for opt in ("--device", "--lr"):
        code, text = cli(capsys, "gtclip", "train", "--gmt", GMT, "-o", "x", opt, "1")
        assert code == 2 and "No such option" in text and "Traceback" not in text


# -- 3: --top ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("top", ["-2", "-1", "0"])
def test_gtclip_search_and_describe_top_below_one(capsys, no_training, top):
    one_error_line(*cli(capsys, "gtclip", "search", "apoptosis", "--gmt", GMT, "--top", top), "--top must be >= 1")
    one_error_line(*cli(capsys, "gtclip", "describe", "--genes", "TP53", "--gmt", GMT, "--top", top),
                   "--top must be >= 1")


# -- 4: evaluate --pools / --seeds --------------------------------------------------------------------


@pytest.mark.parametrize("args, needle", [
    (["--pools", "abc"], "--pools must be comma-separated whole numbers or 'all'"),
    (["--pools", "100,x"], "--pools"),
    (["--pools", "1"], "--pools values must be >= 2"),
    (["--seeds", "x"], "--seeds must be comma-separated whole numbers"),
    (["--seeds", ""], "--seeds must be comma-separated whole numbers"),
    (["--seeds", "-1"], "--seeds values must be >= 0"),
])
def test_gtclip_evaluate_bad_lists(tmp_path, capsys, no_training, args, needle):
    out = tmp_path / "ev.json"
    one_error_line(*cli(capsys, "gtclip", "evaluate", "--gmt", GMT, "--model", tmp_path, "--out", out, *args), needle)
    assert not out.exists()


def test_gtclip_evaluate_pools_parse():
    from contrastomics.cli.gtclip import _pool_sizes

    assert _pool_sizes("100, 1000,all") == [100, 1000, None]
    assert _pool_sizes("all") == [None]


# -- 5: conflicting options -------------------------------------------------------------------------


def test_gtclip_library_and_gmt_conflict(tmp_path, capsys, no_training):
    one_error_line(*cli(capsys, "gtclip", "train", "--gmt", GMT, "--library", "GO_BP", "-o", tmp_path / "g"),
                   "--library and --gmt were both given")
    assert not (tmp_path / "g").exists()
    for cmd in (["search", "apoptosis"], ["describe", "--genes", "TP53"], ["evaluate"]):
        one_error_line(*cli(capsys, "gtclip", *cmd, "--gmt", GMT, "--library", "GO_BP"), "--library and --gmt")


def test_gtclip_describe_genes_and_genes_file_conflict(tmp_path, capsys, no_training):
    f = tmp_path / "genes.txt"
    f.write_text("MDM2\n")
    one_error_line(*cli(capsys, "gtclip", "describe", "--genes", "TP53", "--genes-file", f, "--gmt", GMT),
                   "--genes and --genes-file were both given")


# -- 8: descriptions in search / describe ---------------------------------------------------------


class _FakeClip:
    """Stands in for a trained gtCLIP: scores follow the library order."""

    def search(self, query, lib, top):
        from contrastomics.models.gtclip import _ranking

        return _ranking(np.arange(len(lib), dtype=float)[::-1].copy(), lib, top, sizes=True)

    def describe(self, genes, lib, top):
        df = self.search("", lib, top).drop(columns="n_genes")
        df.attrs["n_unknown"] = 0
        return df


def test_gtclip_search_and_describe_show_gmt_descriptions(capsys, monkeypatch):
    from contrastomics.models.gtclip import GtClip

    monkeypatch.setattr(GtClip, "load", classmethod(lambda cls, name=None: _FakeClip()))
    code, text = cli(capsys, "gtclip", "search", "apoptosis", "--gmt", GMT, "--top", "3")
    assert code == 0, text
    rows = [ln.split("\t") for ln in text.splitlines() if ln[:1].isdigit()]
    assert rows[0][2:4] == ["KEGG_APOPTOSIS", "Apoptosis"]
    assert rows[2][2:4] == ["REACTOME_TP53_REGULATES_TRANSCRIPTION_OF_CELL_DEATH_GENES",
                            "TP53 Regulates Transcription of Cell Death Genes"]
    code, text = cli(capsys, "gtclip", "describe", "--genes", "TP53", "--gmt", GMT, "--top", "6")
    assert code == 0, text
    rows = [ln.split("\t") for ln in text.splitlines() if ln[:1].isdigit()]
    assert len(rows) == 6 and all(r[2] != r[3] for r in rows), rows


# -- 9: tiny validation split -----------------------------------------------------------------------


def test_gtclip_train_warns_on_tiny_validation(tmp_path, capsys, monkeypatch):
    import contrastomics.training.gtclip as tt

    def fake_train(lib, out, **kw):
        model = SimpleNamespace(config=SimpleNamespace(training={"validation_split": {"n_test": 1}}))
        return model, SimpleNamespace(best=1.0, best_epoch=0)

    monkeypatch.setattr(tt, "train_with_default_recipe", fake_train)
    code, text = cli(capsys, "gtclip", "train", "--gmt", GMT, "-o", tmp_path / "g", "--epochs", "1")
    assert code == 0, text
    assert "warning:" in text and "validation split holds only 1 gene set" in text
    assert "best validation R@5 1.000" in text


# -- 2: gsfm train / embed --------------------------------------------------------------------------


@pytest.mark.parametrize("args, needle", [
    (["--threads", "-1"], "--threads must be >= 1"),
    (["--lr", "nan"], "--lr must be a finite number > 0"),
    (["--lr", "inf"], "--lr must be a finite number > 0"),
    (["--lr", "0"], "--lr must be a finite number > 0"),
    (["--d-model", "-2"], "--d-model must be >= 1"),
    (["--d-model", "0"], "--d-model must be >= 1"),
    (["--hidden", "0"], "--hidden must be >= 1"),
    (["--decoder-hidden", "0"], "--decoder-hidden must be >= 1"),
    (["--dropout", "1.5"], "--dropout must be in [0, 1)"),
    (["--dropout", "1"], "--dropout must be in [0, 1)"),
    (["--dropout", "-0.1"], "--dropout must be in [0, 1)"),
    (["--epochs", "0"], "--epochs must be >= 1"),
    (["--batch-size", "0"], "--batch-size must be >= 1"),
    (["--seed", "-1"], "--seed must be >= 0"),
    (["--min-size", "0"], "--min-size must be >= 1"),
    (["--min-size", "5", "--max-size", "3"], "--max-size must be >= 5"),
])
def test_gsfm_train_bad_numbers_write_nothing(tmp_path, capsys, no_training, args, needle):
    out = tmp_path / "m"
    one_error_line(*cli(capsys, "gsfm", "train", "-l", GMT, "-o", out, *args), needle)
    assert not out.exists()


def test_gsfm_embed_threads_below_one(tmp_path, capsys, no_training):
    out = tmp_path / "e.tsv"
    one_error_line(*cli(capsys, "gsfm", "embed", "-m", tmp_path, "--gmt", GMT, "-o", out, "--threads", "-1"),
                   "--threads must be >= 1")
    assert not out.exists()


# -- 6: --resume without a checkpoint ---------------------------------------------------------------


def test_gsfm_resume_without_checkpoint_says_so(tmp_path, capsys, monkeypatch):
    import contrastomics.training.gsfm as tg

    calls = []
    monkeypatch.setattr(tg, "pretrain_to_folder", lambda lib, out, cfg, **kw: calls.append(kw) or
                        (None, SimpleNamespace(history=[{"loss": 0.5}], seconds=0.0)))
    out = tmp_path / "m"
    code, text = cli(capsys, "gsfm", "train", "-l", GMT, "-o", out, "--resume", "--epochs", "1", "--min-size", "1")
    assert code == 0 and calls[-1]["resume"], text
    assert "warning: --resume: no checkpoint" in text and "starts from scratch" in text
    ckpt = tmp_path / "m.checkpoints"
    ckpt.mkdir()
    (ckpt / "checkpoint.pt").write_bytes(b"x")
    code, text = cli(capsys, "gsfm", "train", "-l", GMT, "-o", out, "--resume", "--epochs", "1", "--min-size", "1")
    assert code == 0 and "no checkpoint" not in text, text


# -- 7: .txt tables -----------------------------------------------------------------------------------


def test_gsfm_table_suffix_message_names_txt(tmp_path, capsys, no_training):
    line = one_error_line(*cli(capsys, "gsfm", "embed", "-m", tmp_path, "--gmt", GMT, "-o", tmp_path / "e.json"),
                          "--out must end in")
    assert ".txt" in line and "tab-separated" in line
    line = one_error_line(*cli(capsys, "gsfm", "predict", "-m", tmp_path, "--genes", "TP53", "-o", tmp_path),
                          "--out must end in")
    assert ".txt" in line


def test_gsfm_txt_table_is_tab_separated(tmp_path):
    import pandas as pd

    from contrastomics.cli.gsfm import _check_table_out, _write_table

    out = tmp_path / "p.txt"
    _check_table_out(out)
    _write_table(pd.DataFrame({"gene": ["A", "B"], "score": [1.0, 2.0]}), out)
    assert out.read_text().splitlines()[0] == "gene\tscore"


def test_gtclip_preset_default_refuses_options_it_would_ignore(capsys, tmp_path, monkeypatch):
    import contrastomics.training.gtclip as tg
    monkeypatch.setattr(tg, "train_default", _boom)
    one_error_line(*cli(capsys, "gtclip", "train", "--preset", "default", "-o", tmp_path / "m", "--epochs", "3"),
                   "--preset default", "takes no --epochs")
    assert not (tmp_path / "m").exists()
