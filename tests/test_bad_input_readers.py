"""Bad and odd result files the readers handle (issue 17: the readers' part). One test per case,
named after it; each builds its fixture here. A newcomer can read this file as the list of what
the readers take, convert, warn about or refuse with one line."""
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contrastomics.data.genes import GeneMapper
from contrastomics.data.genesets import humanize_term
from contrastomics.enrichment import demo_result_path, read_conditions, read_gsea_result
from contrastomics.errors import InputError

RUN = Path(__file__).parent / "data" / "gsea" / "gsea_desktop_run" / "my_analysis.Gsea.1700000000000"
FGSEA = "pathway\tpval\tpadj\tES\tNES\tsize\tleadingEdge\n"


def cli(*args):
    return subprocess.run([sys.executable, "-c", "from contrastomics.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, timeout=180)


def one_error_line(r, *parts):
    """The CLI refused with one ``error:`` line holding every part, no traceback, exit 2."""
    err = r.stderr.strip()
    assert r.returncode == 2 and "Traceback" not in r.stderr + r.stdout, r.stderr[-2000:]
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, err
    for p in parts:
        assert p in " ".join(err.split()), (p, err)


def read_warned(path, **kw):
    """read_gsea_result and the text of every warning it gave."""
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        df = read_gsea_result(path, **kw)
    return df, " | ".join(str(x.message) for x in w)


# ----------------------------------------------------------------- #6 infinite NES, p/FDR out of range
def test_infinite_nes_rows_are_kept_with_their_sign(tmp_path):
    """+inf/-inf NES (fgsea's strongest pathways) are kept, their sign the direction, clipped to the
    largest finite |NES| of the table; a NaN NES is still dropped."""
    p = tmp_path / "inf.tsv"
    p.write_text(FGSEA + "A\t0.001\t0.01\t0.5\tinf\t10\tTP53;MYC\nB\t0.001\t0.01\t-0.5\t-Inf\t10\tTP53\n"
                 "C\t0.001\t0.01\t0.5\t1.5\t10\tBAX\nD\t0.001\t0.01\t-0.5\t-1.75\t10\tBAX\n"
                 "E\t0.001\t0.01\t0.5\tNA\t10\tBAX\n")
    df, msg = read_warned(p)
    assert df["term"].tolist() == ["A", "B", "C", "D"]
    assert df["nes"].tolist() == [1.75, -1.75, 1.5, -1.75] and df["direction"].tolist() == [1, -1, 1, -1]
    assert "2 of 5 rows have an infinite NES (inf or -inf; e.g. A, B): kept, their direction from the sign" in msg
    assert "+/-1.75, the largest finite |NES|" in msg and "1 of 5 rows have no NES and were dropped (e.g. E)" in msg


def test_infinite_nes_clusters_with_a_finite_nes(tmp_path):
    """issue 17 #6: a result with inf/-inf NES clusters; the pathways are in clusters.tsv with a finite NES."""
    text = demo_result_path().read_text().splitlines()
    for i in (1, 2):  # the two most significant pathways: +inf and -inf
        cells = text[i].split("\t")
        cells[3] = "inf" if i == 1 else "-inf"
        text[i] = "\t".join(cells)
    p = tmp_path / "demo_inf.tsv"
    p.write_text("\n".join(text) + "\n")
    r = cli("cluster", p, "--method", "overlap-knn", "--no-report", "--out", tmp_path / "out")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "2 of 595 rows have an infinite NES" in " ".join(r.stderr.split())
    tab = pd.read_csv(tmp_path / "out" / "clusters.tsv", sep="\t")
    assert np.isfinite(tab["nes"]).all()
    top = tab.set_index("term").loc[[text[1].split("\t")[1], text[2].split("\t")[1]]]  # Name, Term, ES, NES
    assert (np.sign(top["nes"]) == [1, -1]).all() and (top["nes"].abs() == tab["nes"].abs().max()).all()


def test_infinite_nes_in_a_standard_frame_is_left_out():
    """issue 17 #6: an in-memory standard frame with an infinite NES: left out with a count, not 'up'."""
    from contrastomics.cluster.pathways import prepare
    df = pd.DataFrame({"term": ["A", "B", "C"], "name": ["A", "B", "C"], "nes": [np.inf, 1.5, -1.2],
                       "fdr": [0.01, 0.01, 0.02], "genes": [["TP53"], ["MYC", "TP53"], ["BAX"]]})
    with pytest.warns(UserWarning, match=r"1 pathway\(s\) with an infinite \(inf, -inf\) NES were left out"):
        pw = prepare(df, human_genes=["TP53", "MYC", "BAX"])
    assert pw.table["term"].tolist() == ["B", "C"]


def test_fdr_outside_0_1_or_infinite_is_read_as_missing(tmp_path):
    """issue 17 #6/#18: a few FDRs outside 0..1 or infinite: counted, named by line, read as missing."""
    p = tmp_path / "range.tsv"
    p.write_text(FGSEA + "A\t0.001\t1.5\t0.5\t2\t10\tTP53\nB\t0.001\tinf\t-0.5\t-1\t10\tTP53\n"
                 "C\t0.001\t0.01\t0.5\t1.5\t10\tBAX\nD\t0.001\t0.02\t0.5\t1.5\t10\tBAX\nE\t0.2\t0.3\t0.5\t1.5\t10\tMYC\n")
    df, msg = read_warned(p)
    assert df["fdr"].isna().tolist() == [True, True, False, False, False]
    assert "2 row(s) have an FDR outside 0..1 or infinite in column 'padj' (e.g. line 2: 1.5): read as missing" in msg


def test_fdr_outside_0_1_in_a_standard_frame_is_read_as_missing():
    """issue 17 #6: an in-memory standard frame with FDR inf or -0.5: counted, read as missing."""
    df = pd.DataFrame({"term": ["A", "B", "C"], "name": ["A", "B", "C"], "nes": [1.0, 1.5, -1.2],
                       "fdr": [np.inf, -0.5, 0.02], "genes": [["TP53"], ["MYC"], ["BAX"]]})
    with pytest.warns(UserWarning, match=r"2 pathway\(s\) have an FDR outside 0\.\.1 or infinite \(e\.g\. A: inf\)"):
        out = read_conditions(df)["result"]
    assert out["fdr"].isna().tolist() == [True, True, False]


# ----------------------------------------------------------------- #8 duplicates with opposite signs
def test_duplicate_terms_with_opposite_sign_and_equal_fdr_say_so(tmp_path):
    """issue 17 #8: duplicates tying on FDR with opposite NES signs: the warning says which was kept."""
    p = tmp_path / "dup.tsv"
    p.write_text(FGSEA + "A\t0.001\t0.01\t0.5\t1.9\t10\tTP53;MYC\nA\t0.001\t0.01\t-0.5\t-1.8\t10\tTP53\n"
                 "C\t0.001\t0.01\t0.5\t1.5\t10\tBAX\n")
    df, msg = read_warned(p)
    assert df["nes"].tolist() == [1.9, 1.5]
    assert "1 of them tie on FDR with rows of the opposite NES sign" in msg and "A: NES +1.9 kept, -1.8 dropped" in msg


def test_duplicate_terms_with_opposite_sign_in_a_standard_frame_say_so():
    """issue 17 #8: the same in an in-memory standard frame (the cluster's own duplicate rule)."""
    from contrastomics.cluster.pathways import prepare
    df = pd.DataFrame({"term": ["A", "A", "C"], "name": ["A", "A", "C"], "nes": [-1.7, 1.6, 1.2],
                       "fdr": [0.01, 0.01, 0.02], "genes": [["TP53"], ["MYC", "TP53"], ["BAX"]]})
    with pytest.warns(UserWarning, match=r"tie on FDR with rows of the opposite NES sign.*A: NES -1\.7 kept, \+1\.6"):
        prepare(df, human_genes=["TP53", "MYC", "BAX"])


# ----------------------------------------------------------------- #16 UTF-16
def test_utf16_result_with_bom_is_read(tmp_path):
    """issue 17 #16: a UTF-16 file with a byte-order mark (Excel's 'Unicode text') is read."""
    p = tmp_path / "utf16.tsv"
    p.write_bytes((FGSEA + "A\t0.001\t0.01\t0.5\t2\t10\tTP53;MYC\n").encode("utf-16"))
    df = read_gsea_result(p)
    assert df["term"].tolist() == ["A"] and df["genes"].iloc[0] == ["TP53", "MYC"]


def test_utf16_without_bom_names_the_encoding(tmp_path):
    """issue 17 #16: UTF-16 without a BOM: one line naming the encoding, nothing written."""
    p = tmp_path / "utf16le.tsv"
    p.write_bytes((FGSEA + "A\t0.001\t0.01\t0.5\t2\t10\tTP53;MYC\n").encode("utf-16-le"))
    r = cli("cluster", p, "--out", tmp_path / "out")
    one_error_line(r, "utf16le.tsv: is UTF-16 text without a byte-order mark; save it as UTF-8")
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------- #17 --names a,a
def test_names_given_twice_is_an_error(tmp_path):
    """issue 17 #17: --names a,a is refused (names must be distinct), not silently renamed."""
    demo = demo_result_path()
    r = cli("cluster", demo, demo, "--names", "a,a", "--out", tmp_path / "out")
    one_error_line(r, "--names must be distinct: 'a' given more than once")
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="--names must be distinct"):
        read_conditions([demo, demo], names=["x", "x"])


# ----------------------------------------------------------------- #18 log10 and Metascape
def test_metascape_go_all_lists_with_go_id_column(tmp_path):
    """issue 17 #18: Metascape GO_AllLists.csv (id column GO, Log(q-value)) is detected; q = 10^x."""
    p = tmp_path / "GO_AllLists.csv"
    p.write_text("GeneList,Category,GO,Description,LogP,Log(q-value),InTerm_InList,Genes,Symbols\n"
                 'up,GO Biological Processes,GO:0006955,immune response,-12,-7.2,40/300,"920,925","CD4,CD8A"\n'
                 'up,GO Biological Processes,GO:0007049,cell cycle,-2,-0.5,10/300,"983","CDK1"\n')
    df, msg = read_warned(p)
    assert df.attrs["format"] == "metascape" and df["term"].tolist() == ["GO:0006955", "GO:0007049"]
    assert df["fdr"].tolist() == pytest.approx([10 ** -7.2, 10 ** -0.5]) and msg == ""
    assert df["size"].tolist() == [300, 300] and df["genes"].iloc[0] == ["CD4", "CD8A"]


def test_log10_fdr_column_mapped_by_hand_is_converted(tmp_path):
    """issue 17 #18: --column fdr='Log(q-value)' is read as 10^x (said in a warning), never as -7.2."""
    p = tmp_path / "metascape.csv"
    p.write_text("GO,Description,Log(q-value),Symbols\nGO:0006955,immune response,-7.2,\"CD4,CD8A\"\n"
                 "GO:0007049,cell cycle,-0.5,CDK1\n")
    df, msg = read_warned(p, format={"term": "GO", "name": "Description", "fdr": "Log(q-value)", "genes": "Symbols"})
    assert df["fdr"].tolist() == pytest.approx([10 ** -7.2, 10 ** -0.5])
    assert "column 'Log(q-value)' holds log10 values: read as FDR = 10^x" in msg


def test_minus_log10_fdr_column_is_converted(tmp_path):
    """issue 17 #18: a -log10(FDR) column (values >= 0) is found by name and read as 10^-x."""
    p = tmp_path / "mlog.tsv"
    p.write_text("term\tgenes\t-log10(FDR)\nA\tTP53;MYC\t3\nB\tBAX\t0.5\n")
    df, msg = read_warned(p)
    assert df["fdr"].tolist() == pytest.approx([1e-3, 10 ** -0.5])
    assert "column '-log10(FDR)' holds -log10 values: read as FDR = 10^-x" in msg


def test_fdr_column_of_log_values_without_log_name_is_refused(tmp_path):
    """issue 17 #18: an FDR column mostly outside 0..1 with no 'log' in its name: one line, file:line."""
    p = tmp_path / "neg.tsv"
    p.write_text(FGSEA + "A\t0.001\t-7.2\t0.5\t2\t10\tTP53\nB\t0.001\t-3\t-0.5\t-1\t10\tTP53\n")
    r = cli("cluster", p, "--out", tmp_path / "out")
    one_error_line(r, "neg.tsv:2: column 'padj' holds -7.2, not an FDR between 0 and 1 (2 of 2 values outside "
                      "0..1); a log10 column needs 'log' in its name")
    assert not (tmp_path / "out").exists()


def test_log_named_column_with_both_signs_is_refused(tmp_path):
    """issue 17 #18: a column named as log10 that holds both signs cannot be converted: refused."""
    p = tmp_path / "both.tsv"
    p.write_text("term\tgenes\tlog10(FDR)\nA\tTP53\t-3\nB\tBAX\t2\n")
    with pytest.raises(InputError, match=r"both\.tsv:3: column 'log10\(FDR\)' is named as a log10 FDR but holds "
                                         r"negative and positive values \(2\)"):
        read_gsea_result(p)


# ----------------------------------------------------------------- #19 no header, MSigDB overlaps
ENRICHR_ROWS = ("Cell Cycle\t10/124\t1e-05\t0.001\t0\t0\t5.2\t60.1\tCDK1;CCNB1;CCNA2;CDC20;BUB1;MAD2L1;CDK2;"
                "CCNE1;E2F1;RB1\nApoptosis\t5/80\t0.001\t0.04\t0\t0\t3.1\t20.5\tBAX;BAK1;CASP3;CASP9;TP53\n")


@pytest.mark.parametrize("fmt", [None, "enrichr"])
def test_enrichr_table_without_header_line(tmp_path, fmt):
    """issue 17 #19: an Enrichr table without its header line is detected (';' gene lists are not the
    separator), with or without --format enrichr, and the reader says so."""
    p = tmp_path / "enrichr_no_header.txt"
    p.write_text(ENRICHR_ROWS)
    df, msg = read_warned(p, format=fmt)
    assert df["term"].tolist() == ["Cell Cycle", "Apoptosis"] and df["fdr"].tolist() == [0.001, 0.04]
    assert df["size"].tolist() == [124, 80] and df["genes"].iloc[1] == ["BAX", "BAK1", "CASP3", "CASP9", "TP53"]
    assert "no header line (line 1 is data): read with the header Term, Overlap, P-value" in msg


def test_table_without_header_of_unknown_tool_names_the_fix(tmp_path):
    """issue 17 #19: a header-less table of no known tool: one line saying the header line is missing."""
    p = tmp_path / "no_header.tsv"
    p.write_text("A\t0.1\t0.01\tTP53;MYC\nB\t0.2\t0.02\tBAX\n")
    with pytest.raises(InputError, match=r"no_header\.tsv:1: line 1 looks like data, not a header \(2 of 4 fields "
                                         r"are numbers.*add the header line of the tool that wrote it"):
        read_gsea_result(p)


def test_msigdb_compute_overlaps_export_is_not_supported(tmp_path):
    """issue 17 #19: an MSigDB 'compute overlaps' export: one line 'this format is not supported'."""
    p = tmp_path / "overlap.tsv"
    p.write_text("Collection(s):\tH\n# overlaps shown:\t1\n# genesets in collections:\t50\n"
                 "# genes in comparison (n):\t100\n# genes in universe (N):\t45956\n\n"
                 "Gene Set Name\t# Genes in Gene Set (K)\tDescription\t# Genes in Overlap (k)\tk/K\tp-value\tFDR q-value\n"
                 "HALLMARK_E2F_TARGETS\t200\tE2F targets\t15\t0.075\t1.2e-20\t6e-17\n\n\n"
                 "Gene/Gene Set Overlap Matrix\n\nEntrez Gene Id\tGene Symbol\tGene Description\tHALLMARK_E2F_TARGETS\n"
                 "1017\tCDK2\tcyclin dependent kinase 2\tHALLMARK_E2F_TARGETS\n")
    r = cli("cluster", p, "--out", tmp_path / "out")
    one_error_line(r, "overlap.tsv: looks like an MSigDB 'compute overlaps' export", "this format is not supported")
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------- #20 columns by case and role
def test_r_table_with_renamed_case_columns(tmp_path):
    """issue 17 #20: a clusterProfiler table with lower-case / snake_case columns (janitor, R) is detected."""
    p = tmp_path / "gse.csv"
    p.write_text('"id","description","set_size","enrichment_score","nes","pvalue","p_adjust","core_enrichment"\n'
                 '"GO:0006955","immune response",10,0.5,1.8,0.001,0.01,"CD4/CD8A"\n')
    df, msg = read_warned(p)
    assert df.attrs["format"] == "clusterprofiler" and msg == ""
    r = df.iloc[0]
    assert (r["term"], r["name"], r["nes"], r["fdr"], r["size"], r["genes"]) == (
        "GO:0006955", "immune response", 1.8, 0.01, 10, ["CD4", "CD8A"])


def test_gprofiler_dotted_r_columns(tmp_path):
    """issue 17 #20: g:Profiler's R tables with dotted columns (gProfileR: term.id, p.value, overlap.size)."""
    p = tmp_path / "gprofiler.tsv"
    p.write_text("query.number\tsignificant\tp.value\tterm.size\tquery.size\toverlap.size\tterm.id\tdomain\t"
                 "term.name\tintersection\n1\tTRUE\t0.001\t120\t40\t2\tGO:0006955\tBP\timmune response\tCD4,CD8A\n")
    df = read_gsea_result(p)
    r = df.iloc[0]
    assert df.attrs["format"] == "gprofiler"
    assert (r["term"], r["name"], r["fdr"], r["size"], r["genes"]) == ("GO:0006955", "immune response", 0.001, 120,
                                                                       ["CD4", "CD8A"])


def test_fgsea_leading_edge_column_called_genes(tmp_path):
    """issue 17 #20: an fgsea table whose leadingEdge column is called 'genes': found by its role."""
    p = tmp_path / "fgsea.tsv"
    p.write_text("pathway\tpval\tpadj\tES\tNES\tsize\tgenes\nA\t0.001\t0.01\t0.5\t1.9\t10\tTP53;MYC\n")
    df, msg = read_warned(p)
    assert df.attrs["format"] == "fgsea" and df["genes"].iloc[0] == ["TP53", "MYC"]
    assert "no 'leadingEdge' column: genes read from column 'genes'" in msg


# ----------------------------------------------------------------- #21 run folder gene sets, stand-ins
def test_gsea_desktop_run_folder_uses_its_own_gene_sets(tmp_path):
    """issue 17 #21: without --gmt, a GSEA desktop run folder's edb/gene_sets.gmt gives the full sets."""
    from contrastomics.cluster.pathways import prepare
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    df = read_gsea_result(run)
    assert df.attrs["gene_sets"] == str(run / "edb" / "gene_sets.gmt")
    pw = prepare(run, fdr_cutoff=1.0)
    assert pw.has_full_sets.all() and not any("no gene-set library" in n for n in pw.notes)
    members = {ln.split("\t")[0]: ln.rstrip("\n").split("\t")[2:] for ln in open(run / "edb" / "gene_sets.gmt")}
    for term, full in zip(pw.table["term"], pw.full_sets):
        assert sorted(full) == sorted(members[term])


def test_fgsea_without_leading_edge_and_partial_gmt_says_what_stands_in(tmp_path):
    """issue 17 #21: fgsea without leadingEdge + a partial GMT: the full set stands in for the missing
    leading edge; pathways in neither have no genes (not 'their leading edge stands in')."""
    from contrastomics.cluster.pathways import prepare
    p = tmp_path / "fgsea_no_le.tsv"
    p.write_text("pathway\tpval\tpadj\tES\tNES\tsize\nA\t0.001\t0.01\t0.5\t1.9\t10\nB\t0.001\t0.01\t0.5\t1.7\t10\n")
    gmt = tmp_path / "part.gmt"
    gmt.write_text("A\tna\tTP53\tMDM2\tCDKN1A\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pw = prepare(str(p), gene_sets=str(gmt), human_genes=["TP53", "MDM2", "CDKN1A"])
    assert pw.notes == ["1 of 2 pathways not found in the gene-set library 'part' (e.g. 'B'): 1 have no leading edge either "
                        "(no genes: placed by their text)",
                        "1 of 2 pathways have no leading-edge genes in the result: their full set from 'part' "
                        "stands in for the missing leading edge"]


# ----------------------------------------------------------------- #22 names
def test_bader_lab_names_with_species_are_cleaned():
    """issue 17 #22: Bader-lab NAME%SOURCE_DATE%ID%SPECIES names give the name part."""
    assert humanize_term("ALPHA 6 BETA 4 SIGNALING PATHWAY%WIKIPATHWAYS_20230110%WP244%HOMO SAPIENS") == \
        "Alpha 6 beta 4 signaling pathway"
    assert humanize_term("mRNA processing%WikiPathways_20230110%WP411%Homo sapiens") == "mRNA processing"
    assert humanize_term("VIRAL MRNA TRANSLATION%REACTOME DATABASE ID RELEASE 85%192823") == "Viral mRNA translation"


@pytest.mark.parametrize("term, name", [
    ("VIRAL MRNA TRANSLATION", "Viral mRNA translation"),
    ("MICROTUBULE DEPOLYMERIZATION AT THE MINUS ENDS", "Microtubule depolymerization at the minus ends"),
    ("ENV_FACTOR_ZN", "Env factor ZN"),
    ("REACTOME_MRNA_SPLICING", "mRNA splicing"),
    ("NF-KB SIGNALING", "NF-kB signaling"),
    ("ACETYL-COA METABOLIC PROCESS", "Acetyl-CoA metabolic process"),
    ("SARS-COV-2 INFECTION", "SARS-CoV-2 infection"),
    ("HALLMARK_TNFA_SIGNALING_VIA_NFKB", "TNFA signaling via NFKB"),
    ("GOBP_DNA_REPAIR", "DNA repair"),
])
def test_all_caps_names_keep_acronyms_and_small_words(term, name):
    """issue 17 #22: case restored from ALL CAPS keeps known acronyms and lower-cases small words."""
    assert humanize_term(term) == name


# ----------------------------------------------------------------- #23 symbols of other years
CURRENT = ["AARS1", "BMAL1", "H3-3B", "H2AX", "G6PC1"]
PREVIOUS = ["AARS", "ARNTL", "H3F3B", "H2AFX", "G6PC"]


def test_current_hgnc_symbols_count_as_human():
    """issue 17 #23: current HGNC symbols are human and meet the previous ones of older annotations."""
    from contrastomics.cluster.pathways import _check_genes
    from contrastomics.data.gene_tables import is_human_symbol, other_symbols
    assert all(is_human_symbol(g) for g in CURRENT + PREVIOUS)
    assert all(o in other_symbols(c) and c in other_symbols(o) for c, o in zip(CURRENT, PREVIOUS))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # GO 2019 spells them the old way: no "not human" warning
        _check_genes([CURRENT], PREVIOUS)
        _check_genes([PREVIOUS], CURRENT)


def test_symbols_of_other_years_map_to_a_model_vocabulary():
    """issue 17 #23: a model trained on old symbols takes current ones, and the reverse."""
    from contrastomics.models.gsfm import GSFM
    old = GSFM.from_genes(PREVIOUS + ["TP53"], d_model=8, hidden_dims=(16,), decoder_hidden_dims=(8,))
    idx, _, rep = old.tokenize([CURRENT + ["TP53", "NOPE"]])
    assert rep["unknown"] == {"NOPE": 1} and idx.tolist() == [2, 3, 4, 5, 6, 7]
    new = GSFM.from_genes(CURRENT, d_model=8, hidden_dims=(16,), decoder_hidden_dims=(8,))
    assert new.tokenize([PREVIOUS])[2]["n_unknown"] == 0
    symbols, rep = GeneMapper.default().map(PREVIOUS)
    assert symbols == CURRENT and rep.n_alias == 5


# ----------------------------------------------------------------- #24 DAVID
DAVID = ("Category\tTerm\tCount\t%\tPValue\tGenes\tList Total\tPop Hits\tPop Total\tFold Enrichment\t"
         "Bonferroni\tBenjamini\tFDR\n")


def test_david_chart_filtered_on_its_fdr_column(tmp_path):
    """issue 17 #24: DAVID charts use DAVID's FDR column (not Benjamini) and the reader says which."""
    p = tmp_path / "chart.txt"
    p.write_text(DAVID + "GOTERM_BP_DIRECT\tGO:0006955~immune response\t3\t1.2\t1e-4\tCD4, CD8A, IL2\t200\t300\t"
                 "18000\t3.2\t0.2\t0.06\t0.04\n")
    df, msg = read_warned(p)
    assert df["fdr"].tolist() == [0.04] and "FDR read from column 'FDR' (not 'Benjamini')" in msg


def test_old_david_chart_fdr_in_percent(tmp_path):
    """issue 17 #24: DAVID before 2021 wrote FDR in percent: divided by 100, said in a warning."""
    p = tmp_path / "chart_6.8.txt"
    p.write_text(DAVID + "GOTERM_BP_FAT\tGO:0006955~immune response\t3\t1.2\t1e-4\tCD4, CD8A, IL2\t200\t300\t18000\t"
                 "3.2\t0.01\t0.06\t4.5\nGOTERM_BP_FAT\tGO:0007049~cell cycle\t3\t1.2\t1e-3\tCDK1\t200\t300\t18000\t"
                 "3.2\t0.01\t0.06\t0.5\n")
    df, msg = read_warned(p)
    assert df["fdr"].tolist() == pytest.approx([0.045, 0.005])
    assert "column 'FDR' holds percentages (DAVID before 2021): FDR = value / 100" in msg


# ----------------------------------------------------------------- reader sweep 1
def _run_copy(tmp_path, stamps=("1700000000000", "1700000000000")):
    """The desktop run fixture copied with its two reports renamed to the given timestamps."""
    run = tmp_path / RUN.name
    shutil.copytree(RUN, run)
    for rep, stamp in zip(("ALL", "AML"), stamps):
        (run / f"gsea_report_for_{rep}_1700000000000.tsv").rename(run / f"gsea_report_for_{rep}_{stamp}.tsv")
    return run, sorted(run.glob("gsea_report_for_*"))


def test_both_reports_of_one_run_are_one_result(tmp_path):
    """The two gsea_report_for_* files of one run are one condition with both directions, as the run
    folder; with one name it is that name's; with two names or two timestamps, two conditions."""
    run, reports = _run_copy(tmp_path)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        tables = read_conditions([str(p) for p in reports])
    assert list(tables) == ["result"] and "only one phenotype" not in " ".join(str(x.message) for x in w)
    assert tables["result"]["direction"].tolist() == [1, 1, -1, -1]
    assert tables["result"]["term"].tolist() == read_conditions(run)["result"]["term"].tolist()
    assert list(read_conditions(reports, names=["mine"])) == ["mine"]
    with pytest.warns(UserWarning, match="only one phenotype"):
        assert list(read_conditions(reports, names=["a", "b"])) == ["a", "b"]
    _, other = _run_copy(tmp_path / "two", ("1700000000000", "1700000000999"))
    with pytest.warns(UserWarning, match="only one phenotype"):
        assert len(read_conditions(other)) == 2  # two runs' reports in one folder: two conditions


def test_es_without_nes_gives_the_direction(tmp_path):
    """fgsea without its NES column: the sign of ES is the direction, and a warning says so."""
    p = tmp_path / "noNES.tsv"
    p.write_text("pathway\tpval\tpadj\tlog2err\tES\tsize\tleadingEdge\n"
                 "A\t0.001\t0.01\t0.5\t0.6\t10\tTP53|MYC\nB\t0.001\t0.01\t0.5\t-0.55\t10\tBAX\n")
    df, msg = read_warned(p)
    assert df.attrs["kind"] == "gsea" and df["direction"].tolist() == [1, -1]
    assert df["nes"].tolist() == [0.6, -0.55]
    assert "no NES column: direction taken from the sign of ES" in msg


def test_no_nes_or_es_leaves_the_direction_unknown(tmp_path):
    """A table whose NES is not recognised (here named 'score') is not read as all up-regulated."""
    p = tmp_path / "score.tsv"
    p.write_text("ID\tName\tscore\tp\tq\tgenes\nGO:0006397\tmRNA processing\t2.4\t0.0\t0.0\tTP53,MYC\n"
                 "GO:0000398\tmRNA splicing\t-2.1\t0.0\t0.0\tBAX\n")
    df, msg = read_warned(p)
    assert df["direction"].tolist() == [0, 0] and df["nes"].isna().all()
    assert ("no NES or ES column: the direction of each pathway is unknown (name it with --column "
            "nes=COLUMN") in msg
    df, _ = read_warned(p, format={"term": "ID", "fdr": "q", "nes": "score"})
    assert df["direction"].tolist() == [1, -1]


def test_column_mapping_finds_the_roles_it_does_not_name(tmp_path):
    """--column term=... fdr=... on a gseapy table: NES, ES, p-value and genes are still read, and the
    warning names them."""
    p = tmp_path / "gseapy.tsv"
    p.write_text("Term\tES\tNES\tNOM p-val\tFDR q-val\tTag %\tLead_genes\n"
                 "mRNA processing (GO:0006397)\t0.58\t2.47\t0\t0\t125/201\tHNRNPA0;PRPF40A\n"
                 "immune response (GO:0006955)\t-0.5\t-2.1\t0\t0.01\t20/300\tCD4\n")
    df, msg = read_warned(p, format={"term": "Term", "fdr": "FDR q-val"})
    assert df["nes"].tolist() == [2.47, -2.1] and df["direction"].tolist() == [1, -1]
    assert df["genes"].tolist() == [["HNRNPA0", "PRPF40A"], ["CD4"]] and df["size"].tolist() == [201, 300]
    assert df["pvalue"].tolist() == [0, 0] and df["es"].tolist() == [0.58, -0.5]
    assert ("columns named (term='Term', fdr='FDR q-val') and the roles not named found from the gseapy "
            "prerank/gsea layout (nes='NES', es='ES', pvalue='NOM p-val', genes='Lead_genes')") in msg
    q = tmp_path / "other.tsv"  # no tool's layout: common column names
    q.write_text("Pathway\tq\tNES\tleading edge\nA\t0.01\t-1.5\tTP53\n")
    df, msg = read_warned(q, format={"term": "Pathway", "fdr": "q"})
    assert df["nes"].tolist() == [-1.5] and df["genes"].tolist() == [["TP53"]]
    assert "found by common column names (nes='NES', genes='leading edge')" in msg


def test_gsea_desktop_gene_list_counts_say_all_rows(tmp_path):
    """The desktop reader does not know the FDR cut: its counts say they are of all rows."""
    rep = tmp_path / "gsea_report_for_ALL_1.tsv"
    shutil.copy(RUN / "gsea_report_for_ALL_1700000000000.tsv", rep)
    _, msg = read_warned(rep)
    assert "2 of all 2 pathways of the report (significant or not) have no gene list" in msg


def test_decimal_commas_are_named(tmp_path):
    p = tmp_path / "euro.csv"
    p.write_text("pathway;pval;padj;ES;NES;size;leadingEdge\nA;0,001;0,01;0,5;2,4771;10;TP53\n")
    with pytest.raises(InputError, match=r"euro\.csv:2: column 'NES' holds '2,4771', not a number; decimal "
                                         r"commas\? save the file with '\.' as the decimal mark"):
        read_gsea_result(p)
    q = tmp_path / "word.tsv"
    q.write_text(FGSEA + "A\t0.001\t0.01\t0.5\thigh\t10\tTP53\n")
    with pytest.raises(InputError, match=r"holds 'high', not a number$"):
        read_gsea_result(q)


def test_mouse_symbols_are_said_to_be_upper_cased(tmp_path):
    """Mouse symbols are matched by upper-casing (the wording says so); a human result with a few
    mixed-case symbols (Il10, Cep164) is not warned about."""
    p = tmp_path / "mouse.tsv"
    p.write_text(FGSEA + "A\t0.001\t0.01\t0.5\t2\t10\tTrp53;Cdkn1a;Myc\nB\t0.001\t0.01\t0.5\t2\t10\tBax;TP53\n")
    _, msg = read_warned(p)
    assert ("4 of 5 distinct genes look like mouse/rat symbols (e.g. Trp53, Cdkn1a, Myc, Bax): they are matched "
            "to human symbols by upper-casing (right for most genes, wrong for some, e.g. Trp53 vs TP53); map "
            "them through orthologs for exact results") in msg
    q = tmp_path / "human.tsv"
    q.write_text(FGSEA + "A\t0.001\t0.01\t0.5\t2\t10\tTP53;CDKN1A;MYC;Il10\nB\t0.001\t0.01\t0.5\t2\t10\tBAX;Cep164\n")
    _, msg = read_warned(q)
    assert "mouse" not in msg and "human gene symbols" not in msg
