import os
import gzip
from pathlib import Path

import pytest

from contrastomics import _io
from contrastomics._io import atomic_path, atomic_write, cache_root, is_gzip, open_text
from contrastomics.data import io as data_io
from contrastomics.errors import InputError


def test_cache_root_and_old_location(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTRASTOMICS_CACHE", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"
    monkeypatch.delenv("CONTRASTOMICS_CACHE")
    assert cache_root() == Path.home() / ".cache" / "contrastomics"
    # contrastomics.data.io is a deprecated alias of contrastomics._io
    assert data_io.open_text is open_text and data_io.atomic_write is _io.atomic_write


def test_atomic_write_leaves_nothing_on_error(tmp_path):
    out = tmp_path / "out.tsv"
    with pytest.raises(RuntimeError):
        with atomic_write(out) as fh:
            fh.write("half")
            raise RuntimeError("boom")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_replaces_existing(tmp_path):
    out = tmp_path / "out.tsv"
    out.write_text("old")
    with atomic_write(out) as fh:
        fh.write("new")
    assert out.read_text() == "new"


def test_atomic_path_cleans_up(tmp_path):
    out = tmp_path / "x.parquet"
    with pytest.raises(ValueError):
        with atomic_path(out) as tmp:
            tmp.write_text("partial")
            raise ValueError
    assert list(tmp_path.iterdir()) == []


def test_open_text_reads_gzip_without_suffix(tmp_path):
    p = tmp_path / "sets.gmt"
    with gzip.open(p, "wt") as fh:
        fh.write("A\tdesc\tTP53\tMDM2\n")
    assert is_gzip(p)
    with open_text(p) as fh:
        assert fh.read().startswith("A\tdesc\tTP53")


def test_open_text_errors_name_the_file(tmp_path):
    empty = tmp_path / "empty.gmt"
    empty.write_text("")
    with pytest.raises(InputError, match="empty.gmt: file is empty"):
        open_text(empty)
    with pytest.raises(InputError, match="file not found"):
        open_text(tmp_path / "missing.gmt")


def test_input_error_formats_file_and_line():
    e = InputError("bad line", "x.gmt", 3)
    assert str(e) == "x.gmt:3: bad line"
    assert str(InputError("plain")) == "plain"


def test_atomic_outputs_get_normal_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "a.txt") as fh:
            fh.write("x")
        with atomic_path(tmp_path / "b.bin") as tmp:
            tmp.write_bytes(b"y")
    finally:
        os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.bin").stat().st_mode & 0o777 == 0o644


def test_cli_error_is_one_unwrapped_line_even_with_brackets(tmp_path):
    import subprocess
    import sys
    long = tmp_path / ("x" * 90 + "[1].gmt")
    long.write_text("only_one_field\n")
    r = subprocess.run([sys.executable, "-c", "from contrastomics.cli import main; main()", "gsfm", "embed",
                        "--model", str(tmp_path / "nomodel"), "--gmt", str(long), "--out", str(tmp_path / "e.parquet")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    errors = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1 and errors[0].startswith("error:"), r.stderr
