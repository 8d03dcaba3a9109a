"""read_gmt / GeneSetLibrary on bad and edge-case input: each problem is one InputError naming
file and line, or a warning with counts; unknown genes are counted, never silently dropped."""
import gc
import gzip
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from contrastomics.data import genesets
from contrastomics.data.genesets import GeneSetLibrary, gc_paused, read_gmt, write_gmt
from contrastomics.errors import InputError

DATA = Path(__file__).parent / "data"


def _gmt(tmp_path, text, name="lib.gmt"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_reads_sets_descriptions_and_weights(tmp_path):
    p = _gmt(tmp_path, "# comment\nA\tdesc a\tTP53\tMDM2\tTP53\n\nB\tna\tCASP3,1.0\tCASP7,0.5\t\n")
    lib = read_gmt(p)
    assert lib.terms == ["A", "B"]
    assert lib.genes_of("A") == ["MDM2", "TP53"]  # duplicate gene within a set counted once
    assert set(lib.genes_of("B")) == {"CASP3", "CASP7"}
    assert lib.descriptions == ["desc a", ""]  # 'na' -> ""
    assert lib.collections == ["lib", "lib"] and lib.name == "lib"
    assert lib.membership.dtype == np.float32 and lib.membership.nnz == 4


def test_malformed_line_names_file_and_line(tmp_path):
    p = _gmt(tmp_path, "A\tda\tTP53\nJUSTONEFIELD TP53 MDM2\nC\td\tX\n")
    with pytest.raises(InputError, match="found 1 tab-separated field") as e:
        read_gmt(p)
    assert e.value.path == str(p) and e.value.line == 2
    assert str(e.value).startswith(f"{p}:2: not a GMT line")


def test_empty_name(tmp_path):
    with pytest.raises(InputError, match="empty name") as e:
        read_gmt(_gmt(tmp_path, "A\td\tX\n\td\tY\n"))
    assert e.value.line == 2


def test_empty_gene_list_warns_with_count(tmp_path):
    p = _gmt(tmp_path, "A\td\tTP53\nB\td\nC\td\t\t\nD\td\tMDM2\n")
    with pytest.warns(UserWarning, match="skipped 2 gene set\\(s\\) with no genes"):
        lib = read_gmt(p)
    assert lib.terms == ["A", "D"] and lib.meta["n_empty_sets_skipped"] == 2


def test_only_empty_sets_is_an_error(tmp_path):
    with pytest.raises(InputError, match="no gene set with at least one gene"):
        read_gmt(_gmt(tmp_path, "A\td\nB\tna\n"))
    with pytest.raises(InputError, match="no gene set"):
        read_gmt(_gmt(tmp_path, "\n\n# only comments\n", name="blank.gmt"))


def test_empty_file(tmp_path):
    p = _gmt(tmp_path, "")
    with pytest.raises(InputError, match="file is empty") as e:
        read_gmt(p)
    assert e.value.path == str(p)
    with pytest.raises(InputError, match="file not found"):
        read_gmt(tmp_path / "missing.gmt")


def test_duplicates(tmp_path):
    same = _gmt(tmp_path, "A\td\tX\tY\nA\td2\tY\tX\n", "same.gmt")
    with pytest.warns(UserWarning, match="dropped 1 repeated gene set"):
        assert read_gmt(same).terms == ["A"]
    diff = _gmt(tmp_path, "A\td\tX\tY\nB\td\tZ\nA\td\tX\n", "diff.gmt")
    with pytest.raises(InputError, match="duplicate gene set name 'A' \\(first on line 1\\)") as e:
        read_gmt(diff, on_duplicate="error")
    assert e.value.line == 3
    with pytest.warns(UserWarning, match="1 duplicate set name"):
        first = read_gmt(diff, on_duplicate="first")
    assert first.terms == ["A", "B"] and set(first.genes_of("A")) == {"X", "Y"}
    with pytest.warns(UserWarning):
        ren = read_gmt(diff, on_duplicate="rename")
    assert ren.terms == ["A", "B", "A_2"] and ren.genes_of("A_2") == ["X"]
    with pytest.raises(InputError, match="on_duplicate must be"):
        read_gmt(diff, on_duplicate="skip")


def test_gzip_without_gz_suffix(tmp_path):
    p = tmp_path / "library.gmt"  # gzip bytes behind a plain suffix
    p.write_bytes(gzip.compress(b"A\td\tTP53\tMDM2\n"))
    assert read_gmt(p).genes_of("A") == ["MDM2", "TP53"]
    q = tmp_path / "library_noext"
    q.write_bytes(gzip.compress(b"A\td\tTP53\n"))
    assert read_gmt(q, name="x").name == "x"


def test_crlf_and_whitespace(tmp_path):
    p = tmp_path / "win.gmt"
    p.write_bytes(b"A\td\t TP53 \tMDM2\r\nB\td\tCASP3\r\n")
    lib = read_gmt(p)
    assert lib.genes_of("A") == ["MDM2", "TP53"] and lib.terms == ["A", "B"]


def test_unknown_genes_counted_with_vocabulary(tmp_path):
    p = _gmt(tmp_path, "A\td\tTP53\tMDM2\tNOTAGENE1\nB\td\tNOTAGENE1\tNOTAGENE2\nC\td\ttp53\n")
    lib = read_gmt(p)
    out = lib.with_vocabulary(["TP53", "MDM2", "CASP3"])
    assert out.terms == ["A", "C"]  # B had only unknown genes
    assert out.meta["n_sets_dropped_unknown"] == 1
    assert out.meta["unknown_genes"] == {"NOTAGENE1": 2, "NOTAGENE2": 1}
    assert out.genes_of("C") == ["TP53"]  # case-insensitive match keeps the vocabulary's spelling
    assert out.membership.shape == (2, 3)
    kept = lib.with_vocabulary(["TP53"], min_size=0)
    assert len(kept) == 3 and kept.sizes.tolist() == [1, 0, 1]


def test_from_gene_sets_fixed_vocabulary_counts_unknown():
    lib = GeneSetLibrary.from_gene_sets({"S": ["TP53", "FOO", "", " MDM2 "]}, genes=["MDM2", "TP53"])
    assert lib.genes_of("S") == ["MDM2", "TP53"]
    assert lib.meta["unknown_genes"] == {"FOO": 1}


def test_explicit_zero_is_not_a_member():
    m = sp.csr_matrix((np.array([1.0, 0.0], np.float32), (np.array([0, 0]), np.array([0, 1]))), shape=(1, 2))
    lib = GeneSetLibrary(["a"], ["a"], [""], [""], ["G1", "G2"], m)
    assert lib.gene_sets == [["G1"]]


def test_write_read_roundtrip(tmp_path):
    lib = GeneSetLibrary.from_gene_sets({"A": ["X", "Y"], "B": ["Z"]}, descriptions={"A": "alpha"})
    write_gmt(lib, tmp_path / "out.gmt")
    back = read_gmt(tmp_path / "out.gmt")
    assert back.terms == ["A", "B"] and back.descriptions == ["alpha", "B"]
    assert [sorted(g) for g in back.gene_sets] == [["X", "Y"], ["Z"]]


def test_filter_dedup_concat():
    a = GeneSetLibrary.from_gene_sets({"A": list("abcde"), "B": list("ab"), "C": list("edcba")}, name="L1")
    assert a.filter_size(3, 10).terms == ["A", "C"]
    d = a.deduplicate()
    assert d.terms == ["A", "B"] and d.meta["n_duplicates_dropped"] == 1
    b = GeneSetLibrary.from_gene_sets({"A": ["z"]}, name="L2")
    c = GeneSetLibrary.concat([a, b])
    assert c.terms == ["A", "B", "C", "L2:A"] and c.genes_of("L2:A") == ["z"]
    assert c.collections[-1] == "L2"
    assert np.isclose(a.jaccard()[0, 1], 2 / 5)


def test_real_fixture_files_parse_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lib = read_gmt(DATA / "msigdb_mini.gmt")
    assert len(lib) == 6 and lib.sizes[lib.index("HALLMARK_P53_PATHWAY")] == 200


def test_gc_paused_restores_the_collector():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a collector paused by the caller stays paused
    finally:
        gc.enable()
    assert genesets._gc_paused is gc_paused  # old private name kept for old imports
