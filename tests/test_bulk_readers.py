"""The bulk (vectorised) readers behind ``contrastomics cluster`` give exactly what the per-item
reference code gives: gene-cell splitting, GMT parsing, leading-edge de-duplication and the shared
upper-case membership matrices, on the edge cases each fast path has to route around."""
import re

import numpy as np
import pandas as pd
import pytest

from contrastomics.cluster.pathways import (_distinct_in_order, _library_sets, _memberships, _norm, _view_memberships,
                                            prepare)
from contrastomics.data.genesets import GeneSetLibrary, humanize_term, read_gmt
from contrastomics.enrichment import read_gsea_result
from contrastomics.enrichment.gene_lists import split_gene_column, split_genes

CELLS = [
    "TP53;MDM2;TP53",                    # repeat counted once, first place kept
    "c(\"TP53\", \"MDM2\", \"TP53\")",   # R list
    "  list('A', 'B') ",
    "TP53|MDM2|NA|CDKN1A",               # NA dropped
    "TP53, MDM2 ,BAX",
    "TP53/MDM2/bax",
    "TP53 MDM2\tBAX\r\nCDK1",
    "['X', 'Y', 'X']",                   # python list repr
    "nan;NaN;Na;\"A\";A;'A'",            # quoted and bare spellings are one gene
    "A;;B;  ;A; a",                      # case kept: a != A
    "",
    "   ",
]


@pytest.mark.parametrize("extra", [[], ["TP53\x1cMDM2"], ["TP53\u2003MDM2;é"], ["A\x00B;A\x00B;C"]],
                         ids=["ascii-arrow", "info-separator", "unicode-space", "nul"])
def test_split_gene_column_equals_split_genes(extra):
    cells = CELLS + extra + [None, float("nan")]
    assert split_gene_column(cells) == [split_genes(c) for c in cells]


def test_split_gene_column_known_values():
    out = split_gene_column(CELLS)
    assert out[0] == ["TP53", "MDM2"]
    assert out[1] == ["TP53", "MDM2"]
    assert out[3] == ["TP53", "MDM2", "CDKN1A"]
    assert out[6] == ["TP53", "MDM2", "BAX", "CDK1"]
    assert out[8] == ["A"]
    assert out[9] == ["A", "B", "a"]
    assert out[10] == [] and out[11] == []
    assert split_gene_column([]) == []


def test_fgsea_table_with_repeated_and_quoted_genes(tmp_path):
    p = tmp_path / "fgsea.csv"
    p.write_text('pathway,pval,padj,ES,NES,size,leadingEdge\n'
                 'P1,0.01,0.02,0.5,1.5,10,"c(""TP53"", ""MDM2"", ""TP53"")"\n'
                 'P2,0.01,0.02,-0.5,-1.5,10,MDM2|TP53|MDM2\n')
    df = read_gsea_result(p)
    assert df["genes"].tolist() == [["TP53", "MDM2"], ["MDM2", "TP53"]]


def test_read_gmt_weighted_blank_and_repeated_fields(tmp_path):
    p = tmp_path / "w.gmt"
    # CRLF, a weight suffix, a blank field, a field that is only a weight (no symbol), a repeat
    p.write_bytes(b"A\tna\tTP53,1.0\t\tMDM2\tTP53\t ,0.5\r\nB\td\tmdm2\tCDK1 \r\nC\td\t ,1\t \r\n")
    lib = read_gmt(p)
    assert lib.terms == ["A", "B", "C"]  # C keeps a non-blank field, so it is not "empty"
    assert lib.genes == ["CDK1", "MDM2", "TP53", "mdm2"]
    assert lib.gene_sets == [["MDM2", "TP53"], ["CDK1", "mdm2"], []]
    assert lib.descriptions == ["", "d", "d"]
    assert lib.membership.has_canonical_format and lib.membership.data.tolist() == [1.0] * 4


def test_read_gmt_same_genes_in_another_order_is_a_repeat(tmp_path):
    p = tmp_path / "d.gmt"
    p.write_text("A\td\tX\tY\nA\td2\tY,1\tX\tX\nB\td\tQ\n")
    with pytest.warns(UserWarning, match="dropped 1 repeated gene set"):
        lib = read_gmt(p)
    assert lib.terms == ["A", "B"] and lib.descriptions == ["d", "d"]


def test_distinct_in_order_keeps_first_mentions():
    lists = [["B", "A", "B", "C", "A"], [], ["A"], ["C", "C"]]
    le, codes, genes = _distinct_in_order(lists)
    assert le == [["B", "A", "C"], [], ["A"], ["C"]]
    assert [genes[c] for c in codes] == [g for gl in le for g in gl]
    assert all(a is not b for a, b in zip(le, lists))  # copies, never the table's own lists


@pytest.mark.parametrize("vocab", [["CDK1", "MDM2", "TP53", "ZZZ"],            # upper-case: no re-sort
                                   ["Abc", "CDK1", "MDM2", "Tp53", "abc", "tp53"]])  # case clashes
def test_view_memberships_equal_generic_memberships(vocab):
    lib = GeneSetLibrary.from_gene_sets({"S0": vocab[:3], "S1": vocab[1:], "S2": []}, genes=vocab)
    rows = np.array([0, -1, 1, 2, 0])
    le = [["mdm2", "X"], ["Q", "q"], [vocab[-1]], ["Z"], []]
    full, full_rows = _library_sets(lib, rows)
    assert full == [lib.genes_of("S0"), [], lib.genes_of("S1"), [], lib.genes_of("S0")]
    _, codes, genes = _distinct_in_order(le)
    got = _view_memberships(le, codes, genes, full_rows, lib.genes)
    want = _memberships(le, [f if f else g for f, g in zip(full, le)])
    assert got[2] == want[2]
    for a, b in zip(got[:2], want[:2]):
        assert a.shape == b.shape and a.has_canonical_format
        assert (a != b).nnz == 0 and a.dtype == b.dtype == np.float32


def test_prepare_dedups_leading_edges_and_takes_full_sets_from_the_library(tmp_path):
    gmt = tmp_path / "lib.gmt"
    gmt.write_text("P1\tCell cycle\tTP53\tMDM2\tCDK1\nP2\thttp://x\tBAX\tBAK1\n")
    df = pd.DataFrame({"term": ["P1", "P2", "P3"], "name": ["P1", "P2", "p three"], "nes": [2.0, -1.5, 1.0],
                       "fdr": [0.01, 0.02, 0.03], "genes": [["TP53", "MDM2", "TP53"], "BAX; BAX ;bak1", ["Q"]]})
    pw = prepare(df, gene_sets=str(gmt), human_genes=["TP53", "MDM2", "BAX", "BAK1", "Q"])
    assert pw.leading_edge == [["TP53", "MDM2"], ["BAX", "bak1"], ["Q"]]
    assert pw.full_sets == [["CDK1", "MDM2", "TP53"], ["BAK1", "BAX"], []]
    assert pw.has_full_sets.tolist() == [True, True, False]
    assert pw.genes == ["BAK1", "BAX", "CDK1", "MDM2", "Q", "TP53"]
    assert pw.le_matrix.toarray().tolist() == [[0, 0, 0, 1, 0, 1], [1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0]]
    assert pw.full_matrix.toarray().tolist() == [[0, 0, 1, 1, 0, 1], [1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0]]
    assert pw.texts == ["Cell cycle", "P2", "p three"]


@pytest.mark.parametrize("s", ["Cell-cycle (GO:0007049)", "ÄÖ über ǅ İstanbul K", "a_b\tc\x00d", "", "--"])
def test_norm_equals_regex(s):
    assert _norm(s) == re.sub(r"[^0-9a-z]+", "", s.lower())


@pytest.mark.parametrize("term", ["HALLMARK_E2F_TARGETS", "GOBP_DNA_REPAIR", "KEGG_CELL\tCYCLE",
                                  "REACTOME_A\u2003B", "WP_X__Y_", "BP0006915", "apoptotic process (GO:0006915)"])
def test_humanize_term_fast_split_matches_regex_split(term):
    words = [w for w in re.split(r"[_\s]+", re.sub(r"^(HALLMARK|KEGG|REACTOME|WP|GOBP|GO)_", "", term)) if w]
    out = humanize_term(term)
    if " " not in term and "(" not in term:
        assert out.lower().split() == [w.lower() for w in words]
    assert humanize_term("HALLMARK_E2F_TARGETS") == "E2F targets"
