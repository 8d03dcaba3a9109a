"""Readers of GSEA / ORA result tables (contrastomics.enrichment)."""
import gzip
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contrastomics.enrichment import (STANDARD_COLUMNS, as_standard, demo_result_path, detect_format,
                                      read_gsea_result, read_gsea_results, to_gseapy_table)
from contrastomics.errors import InputError

DATA = Path(__file__).parent / "data" / "gsea"
RUN = DATA / "gsea_desktop_run" / "my_analysis.Gsea.1700000000000"
SHARED = Path("/work/shared/data/gsea")


def read(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # clean fixtures must not warn
        return read_gsea_result(path, **kw)


def row(df, term):
    hit = df[df["term"] == term]
    assert len(hit) == 1, term
    return hit.iloc[0]


# ----------------------------------------------------------------------------------------- gseapy
def test_gseapy_prerank_real_output():
    df = read(DATA / "gseapy.gene_set.prerank.report.csv")
    assert list(df.columns[: len(STANDARD_COLUMNS)]) == STANDARD_COLUMNS
    assert df.attrs["format"] == "gseapy" and df.attrs["kind"] == "gsea" and df.attrs["n_rows"] == 5
    r = row(df, "HALLMARK_INTERFERON_ALPHA_RESPONSE")
    assert r["nes"] == pytest.approx(1.856753) and r["es"] == pytest.approx(0.5807249)
    assert r["size"] == 95 and len(r["genes"]) == 47 and r["genes"][:3] == ["USP18", "IFI44L", "MX1"]
    assert r["name"] == "Interferon alpha response"
    neg = row(df, "HALLMARK_TGF_BETA_SIGNALING")
    assert neg["direction"] == -1 and neg["fdr"] == pytest.approx(0.170588, rel=1e-5) and neg["size"] == 53
    assert df["direction"].tolist() == [1, 1, -1, 1, -1]
    assert "condition" not in df.columns  # a single Name value ("prerank") is no condition


def test_gseapy_legacy_and_enrich():
    legacy = read(DATA / "gseapy010.prerank.gene_sets.report.csv")
    assert legacy.attrs["format"] == "gseapy"
    assert row(legacy, "HALLMARK_MYOGENESIS")["genes"] == ["DES", "MYH11"]
    assert row(legacy, "HALLMARK_MYOGENESIS")["size"] == 197
    ora = read(DATA / "gseapy_enrich.human.enrichr.reports.txt")
    assert ora.attrs == {**ora.attrs, "format": "gseapy", "kind": "ora"}
    assert ora["nes"].isna().all() and (ora["direction"] == 1).all()
    r = row(ora, "HALLMARK_ALLOGRAFT_REJECTION")
    assert r["genes"] == ["INHBA", "STAB1", "JAK2", "C2"] and r["size"] == 185
    assert r["fdr"] == pytest.approx(0.8337646) and r["pvalue"] == pytest.approx(0.2718638)


def test_gseapy_several_libraries_prefix():
    """gseapy given several GMT files writes ``<file>__<set>``: read as a library column and the set name
    (a real run, tests/data/gsea/make_gseapy_two_libraries.py)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        df = read_gsea_result(DATA / "gseapy_two_libraries.prerank.report.csv")
    assert sorted(df["term"]) == ["KEGG_APOPTOSIS", "REACTOME_APOPTOSIS",
                                  "REACTOME_TP53_REGULATES_TRANSCRIPTION_OF_CELL_DEATH_GENES"]
    assert row(df, "KEGG_APOPTOSIS")["library"] == "c2_kegg_mini.gmt"
    assert row(df, "REACTOME_APOPTOSIS")["name"] == "Apoptosis"
    assert any("2 libraries (c2_reactome_mini.gmt, c2_kegg_mini.gmt)" in str(w.message) for w in seen)


@pytest.mark.parametrize("terms, expect", [
    (["lib.gmt__SET_A", "lib.gmt__SET_B"], (["SET_A", "SET_B"], ["lib.gmt"] * 2)),  # a list of one file
    (["0__a b", "1__c d", "1__e"], (["a b", "c d", "e"], ["0", "1", "1"])),  # gseapy's dicts: their index
    (["A__x", "B__y", "C__z", "D__w"], None),  # as many prefixes as rows: names, not libraries
    (["lib__SET_A", "SET_B"], None),  # only some rows
    (["__SET_A", "lib__ SET_B"], None),  # an empty prefix or name
])
def test_library_prefix_rule(terms, expect):
    from contrastomics.enrichment.convert import split_library_prefix
    got, libs, note = split_library_prefix(pd.Series(terms))
    if expect is None:
        assert got.tolist() == terms and libs is None and note is None
    else:
        assert got.tolist() == expect[0] and libs.tolist() == expect[1] and "prefix" in note


def test_gseapy_output_folder(tmp_path):
    shutil.copy(DATA / "gseapy.gene_set.prerank.report.csv", tmp_path)
    (tmp_path / "gene_sets.gmt").write_text("X\t\tA\tB\n")
    assert len(read(tmp_path)) == 5


def test_gseapy_name_column_with_several_conditions(tmp_path):
    src = pd.read_csv(DATA / "gseapy.gene_set.prerank.report.csv")
    two = pd.concat([src.assign(Name="day1"), src.assign(Name="day7", NES=-src["NES"])])
    p = tmp_path / "two.csv"
    two.to_csv(p, index=False)
    df = read(p)
    assert len(df) == 10 and sorted(df["condition"].unique()) == ["day1", "day7"]
    both = read_gsea_results([p])
    assert list(both) == ["day1", "day7"]
    assert (both["day7"]["direction"].to_numpy() == -both["day1"]["direction"].to_numpy()).all()


# ------------------------------------------------------------------------------------ GSEA desktop
def test_gsea_desktop_run_folder_genes_from_detail_files_and_edb():
    df = read(RUN)
    assert df.attrs["format"] == "gsea-desktop" and df.attrs["n_rows"] == 4 and len(df) == 4
    assert row(df, "HALLMARK_E2F_TARGETS")["genes"] == ["MCM3", "CDC20", "TOP2A", "BIRC5"]  # detail .tsv
    assert row(df, "HALLMARK_MYOGENESIS")["genes"] == ["DES", "MYH11", "ACTA2"]  # GSEA 3 detail .xls (PROBE)
    assert row(df, "HALLMARK_G2M_CHECKPOINT")["genes"] == ["CDC20", "PLK1", "CCNB2"]  # edb, up to RANK AT MAX
    assert row(df, "HALLMARK_HEME_METABOLISM")["genes"] == ["ALAS2", "HBB"]  # edb, from RANK AT MAX down
    assert df["direction"].tolist() == [1, 1, -1, -1]  # ALL report (positive NES) first, then AML
    assert row(df, "HALLMARK_MYOGENESIS")["nes"] == pytest.approx(-1.8112)
    assert row(df, "HALLMARK_HEME_METABOLISM")["size"] == 3
    assert detect_format(pd.read_csv(RUN / "gsea_report_for_ALL_1700000000000.tsv", sep="\t").columns) \
        == "gsea-desktop"


def test_gsea_desktop_output_folder_reads_its_one_run_and_names_several(tmp_path):
    a, b = read(RUN), read(RUN.parent)  # GSEA desktop's output folder holds the run folder
    assert a["term"].tolist() == b["term"].tolist()
    shutil.copytree(RUN, tmp_path / "one.Gsea.1")
    shutil.copytree(RUN, tmp_path / "two.Gsea.2")
    (tmp_path / "notes").mkdir()
    with pytest.raises(InputError, match="2 GSEA runs .*one.Gsea.1, two.Gsea.2.*pass one run folder"):
        read(tmp_path)


def test_gsea_desktop_both_reports_as_list_equal_folder():
    reports = sorted(RUN.glob("gsea_report_for_*.tsv"))
    a, b = read(reports), read(RUN)
    assert a.sort_values("term")["term"].tolist() == b.sort_values("term")["term"].tolist()


def test_gsea_desktop_one_report_warns_about_the_other():
    with pytest.warns(UserWarning, match="only one phenotype"):
        df = read_gsea_result(RUN / "gsea_report_for_AML_1700000000000.tsv")
    assert (df["direction"] == -1).all() and len(df) == 2


def test_gsea_desktop_report_alone_uses_gmt_or_warns(tmp_path):
    rep = tmp_path / "gsea_report_for_ALL_1.xls"  # GSEA 3 naming: text despite the suffix
    shutil.copy(RUN / "gsea_report_for_ALL_1700000000000.tsv", rep)
    with pytest.warns(UserWarning, match=r"2 of all 2 pathways of the report \(significant or not\) have no gene list"):
        df = read_gsea_result(rep)
    assert df["genes"].map(len).tolist() == [0, 0]
    with pytest.warns(UserWarning, match="not the leading edge"):
        df = read_gsea_result(rep, gmt=RUN / "edb" / "gene_sets.gmt")
    assert sorted(row(df, "HALLMARK_G2M_CHECKPOINT")["genes"]) == ["CCNB2", "CDC20", "EGFR", "PLK1", "VIM"]


# ------------------------------------------------------------------------------------------ fgsea
def test_fgsea_fwrite_pipe_separated():
    df = read(DATA / "fgsea_fwrite.csv")
    assert df.attrs["format"] == "fgsea" and len(df) == 4
    assert row(df, "HALLMARK_G2M_CHECKPOINT")["genes"] == ["CDC20", "TOP2A", "PLK1", "CCNB2"]
    r = row(df, "HALLMARK_MYOGENESIS")
    assert r["direction"] == -1 and r["fdr"] == pytest.approx(0.0068667) and r["size"] == 197


def test_fgsea_r_list_strings_and_rownames_column():
    df = read(DATA / "fgsea_writecsv.csv")
    assert list(df["term"]) == ["HALLMARK_E2F_TARGETS", "HALLMARK_MYOGENESIS", "HALLMARK_APICAL_SURFACE"]
    assert row(df, "HALLMARK_E2F_TARGETS")["genes"] == ["MCM3", "CDC20", "TOP2A"]
    assert row(df, "HALLMARK_APICAL_SURFACE")["genes"] == ["EPHB4"]


@pytest.mark.parametrize("sep", [";", ",", " ", "|"])
def test_fgsea_leading_edge_separators(tmp_path, sep):
    p = tmp_path / "res.tsv"
    p.write_text(f"pathway\tpval\tpadj\tES\tNES\tsize\tleadingEdge\nP1\t0.01\t0.02\t0.5\t1.7\t30\tA1BG{sep}TP53{sep}MYC\n")
    assert read(p)["genes"][0] == ["A1BG", "TP53", "MYC"]


def test_fora():
    df = read(DATA / "fora.tsv")
    assert df.attrs["kind"] == "ora" and df.attrs["format"] == "fgsea"
    assert len(row(df, "HALLMARK_E2F_TARGETS")["genes"]) == 14 and row(df, "HALLMARK_P53_PATHWAY")["size"] == 200


# -------------------------------------------------------------------------------- clusterProfiler
def test_clusterprofiler_gsego_csv():
    df = read(DATA / "clusterprofiler_gsego.csv")
    assert df.attrs["format"] == "clusterprofiler" and df.attrs["kind"] == "gsea"
    r = row(df, "GO:0006936")
    assert r["name"] == "muscle contraction" and r["direction"] == -1 and r["size"] == 168
    assert r["genes"] == ["DES", "MYH11", "ACTA2", "CNN1"] and r["es"] == pytest.approx(-0.4812347)
    assert r["fdr"] == pytest.approx(0.00061)


def test_clusterprofiler_old_qvalues_and_enrichgo():
    old = read(DATA / "clusterprofiler_gsekegg_old.tsv")
    assert row(old, "hsa04510")["name"] == "Focal adhesion" and row(old, "hsa04510")["direction"] == -1
    ora = read(DATA / "clusterprofiler_enrichgo.tsv")
    assert ora.attrs["kind"] == "ora"
    r = row(ora, "GO:0051301")
    assert r["size"] == 497 and len(r["genes"]) == 10 and r["direction"] == 1 and np.isnan(r["nes"])


# ---------------------------------------------------------------------------------------- Enrichr
def test_enrichr_web_table():
    df = read(DATA / "enrichr_GO_Biological_Process_2021_table.txt")
    assert df.attrs["format"] == "enrichr"
    r = row(df, "chromosome segregation (GO:0007059)")
    assert r["name"] == "chromosome segregation" and r["size"] == 272 and len(r["genes"]) == 10
    assert r["fdr"] == pytest.approx(6.1e-08)


# --------------------------------------------------------------------------- detection and errors
@pytest.mark.parametrize("fname,fmt", [
    ("gseapy.gene_set.prerank.report.csv", "gseapy"), ("fgsea_fwrite.csv", "fgsea"),
    ("clusterprofiler_gsego.csv", "clusterprofiler"), ("enrichr_GO_Biological_Process_2021_table.txt", "enrichr"),
    ("gseapy_enrich.human.enrichr.reports.txt", "gseapy"), ("fora.tsv", "fgsea"),
])
def test_format_override_matches_detection(fname, fmt):
    assert read(DATA / fname, format=fmt).attrs["format"] == fmt


def test_wrong_format_given():
    with pytest.raises(InputError, match=r"format='fgsea' given.*lacks.*pathway.*look like gseapy") as e:
        read_gsea_result(DATA / "gseapy.gene_set.prerank.report.csv", format="fgsea")
    assert "gseapy.gene_set.prerank.report.csv" in str(e.value)
    with pytest.raises(InputError, match="unknown format"):
        read_gsea_result(DATA / "fora.tsv", format="panther")


def test_unknown_columns_lists_tried_formats_and_found_columns(tmp_path):
    p = tmp_path / "x.tsv"
    p.write_text("gene\tscore\tpadj\nTP53\t1.2\t0.01\n")
    with pytest.raises(InputError) as e:
        read_gsea_result(p)
    msg = str(e.value)
    assert str(p) in msg and "'score'" in msg and "fgsea" in msg and "clusterProfiler" in msg and "Enrichr" in msg


def test_mixed_tools_columns(tmp_path):
    p = tmp_path / "mixed.tsv"
    p.write_text("Term\tNES\tNOM p-val\tFDR q-val\tpathway\tpval\tpadj\nA\t1\t0.1\t0.2\tA\t0.1\t0.2\n")
    with pytest.raises(InputError, match="mixes"):
        read_gsea_result(p)
    p.write_text("Term\tNES\tNOM p-val\tFDR q-val\tLead_genes\tp.adjust\tcore_enrichment\nA\t1\t0.1\t0.2\tX\t0.2\tX\n")
    with pytest.raises(InputError, match="mixes.*clusterprofiler"):
        read_gsea_result(p)


def test_empty_and_header_only(tmp_path):
    p = tmp_path / "e.tsv"
    p.write_text("")
    with pytest.raises(InputError, match="empty"):
        read_gsea_result(p)
    p.write_text("pathway\tpval\tpadj\tNES\n\n")
    with pytest.raises(InputError, match="no rows"):
        read_gsea_result(p)


def test_non_number_names_line_and_column(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("# fgsea run 2024\npathway,pval,padj,ES,NES,size,leadingEdge\nA,0.1,0.2,0.5,1.5,20,X\n"
                 "B,0.1,oops,0.5,1.5,20,X\n")
    with pytest.raises(InputError) as e:
        read_gsea_result(p)
    assert e.value.line == 4 and "'padj'" in str(e.value) and "oops" in str(e.value)


def test_nan_nes_rows_dropped_with_count(tmp_path):
    p = tmp_path / "nan.tsv"
    p.write_text("pathway\tpval\tpadj\tES\tNES\tsize\tleadingEdge\nA\t0.1\t0.2\t0.5\t1.5\t20\tX\n"
                 "B\tNA\tNA\t0.1\tNA\t20\tY\nC\t0.3\t0.4\t-0.5\t-1.1\t20\tZ\n")
    with pytest.warns(UserWarning, match="1 of 3 rows have no NES and were dropped"):
        df = read_gsea_result(p)
    assert df["term"].tolist() == ["A", "C"] and df.attrs["n_rows"] == 3
    p.write_text("pathway\tpval\tpadj\tES\tNES\nA\tNA\tNA\tNA\tNA\n")
    with pytest.raises(InputError, match="no row has a number"):
        read_gsea_result(p)


def test_duplicate_pathways_keep_best_fdr(tmp_path):
    p = tmp_path / "dup.tsv"
    p.write_text("pathway\tpval\tpadj\tES\tNES\tleadingEdge\nA\t0.1\t0.3\t0.5\t1.5\tX\nB\t0.1\t0.2\t0.5\t1.2\tY\n"
                 "A\t0.01\t0.05\t0.6\t1.9\tZ\n")
    with pytest.warns(UserWarning, match="1 duplicate row"):
        df = read_gsea_result(p)
    assert df["term"].tolist() == ["B", "A"] and row(df, "A")["nes"] == pytest.approx(1.9)


def test_non_human_genes_warned_with_examples(tmp_path):
    p = tmp_path / "mouse.tsv"
    p.write_text("pathway\tpval\tpadj\tES\tNES\tleadingEdge\nA\t0.1\t0.2\t0.5\t1.5\tTrp53;Cdkn1a;Myc;Bax\n"
                 "B\t0.1\t0.2\t0.5\t1.5\tENSMUSG00000059552;22059\n")  # a mouse result (mouse ids too)
    with pytest.warns(UserWarning) as rec:
        df = read_gsea_result(p)
    msgs = [str(w.message) for w in rec]
    assert df.attrs["non_symbol_genes"] == 6 and len(msgs) == 2
    assert "4 of 6 distinct genes look like mouse/rat symbols (e.g. Trp53, Cdkn1a, Myc, Bax): they are matched " \
           "to human symbols by upper-casing" in msgs[0]
    assert "2 of 6 distinct genes do not look like human gene symbols (e.g. ENSMUSG00000059552, 22059)" in msgs[1]
    assert df["genes"][0] == ["Trp53", "Cdkn1a", "Myc", "Bax"]  # kept as written


def test_gzip_csv_and_semicolon(tmp_path):
    src = (DATA / "fgsea_fwrite.csv").read_bytes()
    gz = tmp_path / "res.csv.gz"
    gz.write_bytes(gzip.compress(src))
    assert len(read(gz)) == 4
    semi = tmp_path / "res.txt"
    semi.write_text("pathway;pval;padj;NES;leadingEdge\nA;0.1;0.2;1.5;TP53 MYC\n")
    assert read(semi)["nes"].tolist() == [1.5]


def test_excel_refused(tmp_path):
    p = tmp_path / "res.xlsx"
    p.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(InputError, match="Excel"):
        read_gsea_result(p)


def test_ragged_rows_name_the_line(tmp_path):
    p = tmp_path / "r.tsv"
    p.write_text("pathway\tpval\tpadj\tNES\nA\t0.1\t0.2\t1.5\nB\t0.1\t0.2\t1.5\textra\tmore\n")
    with pytest.raises(InputError, match="number of columns") as e:
        read_gsea_result(p)
    assert e.value.line == 3


def test_read_gsea_results_names_and_errors():
    res = read_gsea_results([DATA / "fgsea_fwrite.csv", DATA / "clusterprofiler_gsego.csv"])
    assert list(res) == ["fgsea_fwrite", "clusterprofiler_gsego"]
    res = read_gsea_results({"ctrl": DATA / "fora.tsv"})
    assert list(res) == ["ctrl"]
    with pytest.raises(InputError, match="share"):
        read_gsea_results([DATA / "fora.tsv", DATA / "fora.tsv"])
    with pytest.raises(InputError, match="names"):
        read_gsea_results([DATA / "fora.tsv"], names=["a", "b"])


def test_gseapy_table_round_trip(tmp_path):
    df = read(DATA / "clusterprofiler_gsego.csv")
    p = tmp_path / "rt.tsv"
    to_gseapy_table(df).to_csv(p, sep="\t", index=False)
    back = read(p)
    assert back["term"].tolist() == df["term"].tolist()
    assert np.allclose(back["nes"], df["nes"]) and back["genes"].tolist() == df["genes"].tolist()
    assert back["size"].tolist() == df["size"].tolist()


def test_demo_result_is_readable():
    try:
        path = demo_result_path()
    except FileNotFoundError:
        pytest.skip("demo result not built yet (scripts/make_demo.py)")
    df = read(path)
    assert df.attrs["format"] == "gseapy" and 100 <= len(df) <= 1000
    assert (df["fdr"] < 0.25).all() and {-1, 1} <= set(df["direction"])
    assert df["genes"].map(len).min() >= 1


@pytest.mark.slow  # importing gseapy alone takes ~5-10 s on the shared machine
@pytest.mark.skipif(not (SHARED / "mds.2k.rnk").exists(), reason="shared GSEA data absent")
def test_real_gseapy_prerank_round_trip(tmp_path):
    """A tiny real gseapy prerank: its table must read back with the same numbers."""
    import gseapy

    rnk = pd.read_csv(SHARED / "mds.2k.rnk", sep="\t", header=None).iloc[::4]  # 5k genes: fast
    gmt = tmp_path / "h.gmt"
    lines = (SHARED / "h.all.v7.0.symbols.gmt").read_text().splitlines()[:6]
    gmt.write_text("\n".join(lines) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = gseapy.prerank(rnk=rnk, gene_sets=str(gmt), permutation_num=20, seed=3, threads=1,
                             outdir=None, min_size=15, max_size=500, verbose=False)
    p = tmp_path / "res.csv"
    res.res2d.to_csv(p, index=False)
    df = read_gsea_result(p)
    assert len(df) == len(res.res2d)
    src = res.res2d.set_index("Term")
    for _, r in df.iterrows():
        assert r["nes"] == pytest.approx(float(src.loc[r["term"], "NES"]))
        assert r["genes"] == src.loc[r["term"], "Lead_genes"].split(";")


def test_as_standard_from_memory_tables():
    fg = pd.DataFrame({"pathway": ["P1", "P2"], "pval": [0.01, 0.2], "padj": [0.02, 0.3], "ES": [0.5, -0.4],
                       "NES": [1.8, -1.2], "size": [30, 40], "leadingEdge": [["TP53", "MDM2"], np.array(["MYC"])]})
    df = as_standard(fg)
    assert df.attrs["format"] == "fgsea" and df["genes"].tolist() == [["TP53", "MDM2"], ["MYC"]]
    assert df["direction"].tolist() == [1, -1] and df["size"].tolist() == [30, 40]
    assert as_standard(df) is df  # already standard
    with pytest.raises(InputError, match="unknown result columns"):
        as_standard(pd.DataFrame({"a": [1]}))


# ------------------------------------------------------- other tools, any table, named columns
def test_gprofiler_web_and_gost_tables(tmp_path):
    web = tmp_path / "gProfiler_hsapiens.csv"
    web.write_text("source,term_name,term_id,adjusted_p_value,negative_log10_of_adjusted_p_value,term_size,"
                   "query_size,intersection_size,effective_domain_size,intersections\n"
                   'GO:BP,immune response,GO:0006955,1e-5,5,1000,50,3,20000,"CD4,CD8A,IL2"\n'
                   "GO:BP,cell cycle,GO:0007049,0.2,0.7,800,50,2,20000,\"CDK1,CCNB1\"\n")
    df = read(web)
    assert df.attrs["format"] == "gprofiler" and df.attrs["kind"] == "ora"
    r = row(df, "GO:0006955")
    assert r["name"] == "immune response" and r["fdr"] == 1e-5 and r["size"] == 1000
    assert r["genes"] == ["CD4", "CD8A", "IL2"] and r["direction"] == 1
    gost = tmp_path / "gost.tsv"  # gprofiler2: p_value is already corrected, intersection with evcodes
    gost.write_text("query\tsignificant\tp_value\tterm_size\tquery_size\tintersection_size\tterm_id\tsource\t"
                    "term_name\tintersection\nq1\tTRUE\t0.001\t120\t40\t2\tREAC:R-HSA-69278\tREAC\tCell Cycle\tCDK1,CCNB1\n")
    r = read(gost).iloc[0]
    assert (r["term"], r["name"], r["fdr"], r["genes"]) == ("REAC:R-HSA-69278", "Cell Cycle", 0.001, ["CDK1", "CCNB1"])


def test_david_chart_splits_id_and_name(tmp_path):
    p = tmp_path / "chart.txt"
    p.write_text("Category\tTerm\tCount\t%\tPValue\tGenes\tList Total\tPop Hits\tPop Total\tFold Enrichment\t"
                 "Bonferroni\tBenjamini\tFDR\nGOTERM_BP_DIRECT\tGO:0006955~immune response\t3\t1.2\t1e-4\t"
                 "CD4, CD8A, IL2\t200\t300\t18000\t3.2\t0.01\t0.005\t0.005\n"
                 "KEGG_PATHWAY\thsa04110:Cell cycle\t2\t0.8\t0.01\tCDK1, CCNB1\t200\t124\t7000\t2.0\t0.5\t0.2\t0.2\n")
    with pytest.warns(UserWarning, match="FDR read from column 'FDR' \\(not 'Benjamini'\\)"):  # issue 17 #24
        df = read_gsea_result(p)
    assert df.attrs["format"] == "david"
    assert list(df["term"]) == ["GO:0006955", "hsa04110"] and list(df["name"]) == ["immune response", "Cell cycle"]
    p.write_text("Category\tTerm\tCount\t%\tPValue\tGenes\tList Total\tPop Hits\tPop Total\tFold Enrichment\t"
                 "Bonferroni\tBenjamini\tFDR\nGOTERM_BP_DIRECT\tGO:0006955~immune response\t3\t1.2\t1e-4\t"
                 "CD4, CD8A, IL2\t200\t300\t18000\t3.2\t0.01\t0.005\t0.005\n")
    with pytest.warns(UserWarning, match="FDR read from column 'FDR'"):
        r = read_gsea_result(p).iloc[0]
    assert (r["term"], r["name"], r["fdr"], r["pvalue"], r["size"]) == ("GO:0006955", "immune response", 0.005, 1e-4, 300)
    assert r["genes"] == ["CD4", "CD8A", "IL2"]


def test_webgestalt_gsea_and_ora(tmp_path):
    p = tmp_path / "enrichment_results_wg.txt"
    p.write_text("geneSet\tdescription\tlink\tenrichmentScore\tnormalizedEnrichmentScore\tpValue\tFDR\tsize\t"
                 "plotPath\tleadingEdgeNum\tleadingEdgeId\tuserId\nGO:0006955\timmune response\thttp://x\t-0.5\t-2.1\t"
                 "0.001\t0.01\t300\tx.png\t2\t920;925\tCD4;CD8A\n")
    df = read(p)
    r = df.iloc[0]
    assert df.attrs["format"] == "webgestalt" and df.attrs["kind"] == "gsea"
    assert (r["term"], r["name"], r["nes"], r["direction"], r["genes"]) == ("GO:0006955", "immune response", -2.1, -1, ["CD4", "CD8A"])
    p.write_text("geneSet\tdescription\tlink\tsize\toverlap\texpect\tenrichmentRatio\tpValue\tFDR\toverlapId\n"
                 "GO:0007049\tcell cycle\thttp://x\t800\t2\t0.5\t4\t0.001\t0.02\tCDK1;CCNB1\n")
    df = read(p)
    assert df.attrs["kind"] == "ora" and df.iloc[0]["genes"] == ["CDK1", "CCNB1"]


def test_blitzgsea_table(tmp_path):
    p = tmp_path / "blitz.csv"
    p.write_text('Term,es,nes,pval,sidak,fdr,geneset_size,leading_edge\nHALLMARK_P53_PATHWAY,-0.5,-2.0,0.001,0.01,0.01,200,"CDKN1A,MDM2"\n')
    r = read(p).iloc[0]
    assert (r["nes"], r["size"], r["genes"]) == (-2.0, 200, ["CDKN1A", "MDM2"])


def test_compare_cluster_gives_one_condition_per_cluster(tmp_path):
    p = tmp_path / "cc.csv"
    p.write_text("Cluster,ID,Description,GeneRatio,BgRatio,pvalue,p.adjust,qvalue,geneID,Count\n"
                 "up,GO:1,a,2/10,20/100,0.001,0.01,0.01,A/B,2\ndown,GO:1,a,2/10,20/100,0.001,0.02,0.02,C/D,2\n")
    res = read_gsea_results([p])
    assert list(res) == ["up", "down"] and res["down"].iloc[0]["genes"] == ["C", "D"]


def test_generic_table_read_by_column_names_with_a_warning(tmp_path):
    p = tmp_path / "other_tool.tsv"
    p.write_text("Gene Set\tDescription\tNormalized Enrichment Score\tP value\tFDR q-value\tLeading edge genes\n"
                 "HALLMARK_P53_PATHWAY\tp53 targets\t-2.1\t0.0001\t0.001\tCDKN1A,MDM2\n")
    with pytest.warns(UserWarning, match=r"generic table.*term='Gene Set'.*fdr='FDR q-value'.*nes='Normalized"):
        df = read_gsea_result(p)
    r = df.iloc[0]
    assert df.attrs["format"] == "generic" and df.attrs["kind"] == "gsea"
    assert (r["term"], r["name"], r["nes"], r["pvalue"], r["fdr"], r["genes"]) == (
        "HALLMARK_P53_PATHWAY", "p53 targets", -2.1, 1e-4, 1e-3, ["CDKN1A", "MDM2"])
    ora = tmp_path / "ora.csv"  # ORA: no NES column
    ora.write_text("Pathway,Fold Enrichment,FDR,Genes\nImmune response,4.5,1e-5,CD4 CD8A IL2\n")
    with pytest.warns(UserWarning, match="generic"):
        df = read_gsea_result(ora)
    assert df.attrs["kind"] == "ora" and df.iloc[0]["genes"] == ["CD4", "CD8A", "IL2"]


def test_shinygo_table_splits_ids_from_names(tmp_path):
    p = tmp_path / "enrichment.csv"  # ShinyGO's own export (quotes, space-separated genes)
    p.write_text('"Enrichment FDR","nGenes","Pathway Genes","Fold Enrichment","Pathway","URL","Genes"\n'
                 '0.0042,2,46,126.4,"Path:hsa03050 Proteasome","https://www.genome.jp/x"," PSMB3  PSMF1"\n'
                 '0.03,3,300,4.5,"GO:0006259 Dna metabolic proc. ","https://amigo.x","POLA1 POLD1 PCNA"\n'
                 '0.04,2,200,3.0,"E2F targets","","CDK1 CCNB1"\n')
    df = read(p)
    assert df.attrs["format"] == "shinygo"
    assert list(df["term"]) == ["hsa03050", "GO:0006259", "E2F targets"]
    assert list(df["name"]) == ["Proteasome", "Dna metabolic proc.", "E2F targets"]
    assert list(df["size"]) == [46, 300, 200] and df.iloc[0]["genes"] == ["PSMB3", "PSMF1"]


def test_bader_lab_names_and_uniprot_ids(tmp_path):
    p = tmp_path / "gsea_report_for_na_pos_1.tsv"  # GSEA desktop run on an EnrichmentMap-style GMT
    p.write_text("NAME\tGS<br> follow link to MSigDB\tGS DETAILS\tSIZE\tES\tNES\tNOM p-val\tFDR q-val\t"
                 "FWER p-val\tRANK AT MAX\tLEADING EDGE\t\n"
                 "SENSORY PERCEPTION%REACTOME%R-HSA-9709957.3\tx\tx\t118\t0.6\t1.9\t0.0\t0.001\t0.01\t900\t"
                 "tags=30%, list=8%, signal=30%\t\n"
                 "HALLMARK_E2F_TARGETS%MSIGDB_C2%HALLMARK_E2F_TARGETS\tx\tx\t152\t0.8\t2.3\t0.0\t0.0\t0.0\t"
                 "800\ttags=40%, list=9%, signal=40%\t\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no genes next to a lone report: warned, tested elsewhere
        df = read_gsea_result(p)
    assert list(df["name"]) == ["Sensory perception", "E2F targets"]
    q = tmp_path / "gprofiler.csv"
    q.write_text("source,term_name,term_id,adjusted_p_value,term_size,intersection_size,intersections\n"
                 'GO:MF,structural molecule activity,GO:0005198,6.5e-15,1107,3,"A0A024QZZ7,P0DPH7,TP53"\n')
    with pytest.warns(UserWarning, match=r"2 of 3 distinct genes do not look like human.*UniProt"):
        assert read_gsea_result(q).attrs["non_symbol_genes"] == 2


def test_rbind_results_of_several_contrasts_become_conditions(tmp_path):
    p = tmp_path / "GSEA_results.csv"
    head = '"","ID","Description","setSize","enrichmentScore","NES","pvalue","p.adjust","qvalue","core_enrichment","contrast"\n'
    p.write_text(head + '"1","GO:0006123","electron transport",15,-0.78,-1.97,0.0002,0.038,0.03,"A/B","salinity"\n'
                 '"2","GO:0000977","transcription",19,-0.80,-2.16,0.00002,0.0007,0.0006,"C/D","salinity"\n'
                 '"3","GO:0006123","electron transport",15,0.6,1.5,0.01,0.04,0.04,"E/F","temperature"\n')
    with pytest.warns(UserWarning, match="'contrast' values: one condition per value"):
        res = read_gsea_results([p])
    assert list(res) == ["salinity", "temperature"] and res["temperature"].iloc[0]["nes"] == 1.5


def test_column_mapping_and_its_errors(tmp_path):
    p = tmp_path / "mine.tsv"
    p.write_text("pw\tscore\tq\tle\nTP53_TARGETS\t1.5\t0.01\tTP53/MDM2\n")
    df = read(p, format={"term": "pw", "nes": "score", "fdr": "q", "genes": "le"})
    assert (df.iloc[0]["nes"], df.iloc[0]["genes"], df.attrs["kind"]) == (1.5, ["TP53", "MDM2"], "gsea")
    with pytest.raises(InputError, match="needs at least term= and fdr="):
        read_gsea_result(p, format={"term": "pw"})
    with pytest.raises(InputError, match=r"mine.tsv.*column\(s\) 'zz' not in the table.*'score'"):
        read_gsea_result(p, format={"term": "pw", "fdr": "zz"})
    with pytest.raises(InputError, match="unknown column role"):
        read_gsea_result(p, format={"term": "pw", "fdr": "q", "pathway": "pw"})
    with pytest.raises(InputError, match=r"unknown result columns.*--column term=NAME"):
        read_gsea_result(p)
    with pytest.raises(InputError, match="format='generic': no term column"):  # q is an FDR name
        read_gsea_result(p, format="generic")


def test_gene_level_tables_are_not_pathway_results(tmp_path):
    p = tmp_path / "topTable.tsv"  # limma: an ID and an adjusted p-value, but neither NES nor gene lists
    p.write_text("ID\tlogFC\tAveExpr\tt\tP.Value\tadj.P.Val\tB\nTP53\t1.2\t8\t5\t1e-5\t1e-3\t3\n")
    with pytest.raises(InputError, match="gene-level differential expression table.*contrastomics gsea"):
        read_gsea_result(p)


def test_entrez_and_ensembl_leading_edges_are_read_as_symbols(tmp_path):
    p = tmp_path / "gseKEGG.csv"  # clusterProfiler without setReadable: Entrez ids
    p.write_text("ID,Description,setSize,enrichmentScore,NES,pvalue,p.adjust,qvalue,core_enrichment\n"
                 "hsa04110,Cell cycle,120,0.6,2.1,0.001,0.01,0.01,983/891/7157/22059\n"
                 "hsa04115,p53 signaling pathway,70,0.6,2.0,0.001,0.01,0.01,7157/1026/ENSG00000141510.17\n")
    with pytest.warns(UserWarning, match=r"5 of 6 Entrez and Ensembl gene ids read as human gene symbols"):
        df = read_gsea_result(p)
    # 22059 is mouse Trp53: NCBI ids are unique across species, so it is not a human id and stays
    assert row(df, "hsa04110")["genes"] == ["CDK1", "CCNB1", "TP53", "22059"]
    assert row(df, "hsa04115")["genes"] == ["TP53", "CDKN1A"]  # two ids of TP53 give it once
    assert df.attrs["ids_mapped_to_symbols"] == 5 and df.attrs["non_symbol_genes"] == 1


def test_review_cases_gene_tables_counts_conditions(tmp_path):
    geo2r = tmp_path / "GSE1_GEO2R.tsv"  # a gene-level table with term/FDR/gene-like columns
    geo2r.write_text("ID\tadj.P.Val\tP.Value\tt\tB\tlogFC\tGene.symbol\tGene.title\tGene.ID\n"
                     "1007_s_at\t0.01\t0.001\t5\t3\t1.2\tDDR1\tdiscoidin domain receptor\t780\n")
    with pytest.raises(InputError, match="gene-level differential expression"):
        read_gsea_result(geo2r)
    counts = tmp_path / "counts.tsv"  # a count column is not a gene list
    counts.write_text("Term\tFDR\tGenes\tNES\nApoptosis\t0.01\t2\t1.5\nCell cycle\t0.02\t9\t-1.2\n")
    with pytest.warns(UserWarning, match="single numbers"):
        df = read_gsea_result(counts)
    assert df["genes"].map(len).sum() == 0
    gost = tmp_path / "gost_multi.tsv"  # gprofiler2 multi-query long table: one condition per query
    gost.write_text("query\tsignificant\tp_value\tterm_size\tquery_size\tintersection_size\tterm_id\tsource\tterm_name\n"
                    "q1\tTRUE\t0.001\t100\t20\t5\tGO:0000001\tGO:BP\ta\nq2\tTRUE\t0.002\t100\t20\t6\tGO:0000001\tGO:BP\ta\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert list(read_gsea_results([gost])) == ["q1", "q2"]
    mine = tmp_path / "mine.tsv"  # a condition named through the mapping; an empty one is "NA"
    mine.write_text("pw\tq\tset\tscore\nA\t0.01\tx\t1\nA\t0.02\ty\t-1\nB\t0.03\t\t2\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_gsea_result(mine, format={"term": "pw", "fdr": "q", "nes": "score", "condition": "set"})
    assert list(df["condition"]) == ["x", "y", "NA"]


def test_shinygo_leading_token_must_look_like_an_id(tmp_path):
    p = tmp_path / "enrichment.csv"
    p.write_text('"Enrichment FDR","nGenes","Pathway Genes","Fold Enrichment","Pathway","URL","Genes"\n'
                 '0.01,2,40,3.0,"22q11.2 copy number variation syndrome","","TBX1 COMT"\n'
                 '0.02,2,50,3.0,"WP4657 22q11.2 copy number variation syndrome","","TBX1 COMT"\n')
    df = read(p)
    assert list(df["term"]) == ["22q11.2 copy number variation syndrome", "WP4657"]


def test_limma_camera_written_by_r_and_topgo_bounds(tmp_path):
    """camera keeps the set names only as R row names (write.table: header one field short;
    write.csv: an empty first header cell) and has a Direction column instead of a NES."""
    tsv = tmp_path / "camera.tsv"
    tsv.write_text("NGenes\tDirection\tPValue\tFDR\nHALLMARK_E2F_TARGETS\t200\tUp\t0.001\t0.01\n"
                   "HALLMARK_P53_PATHWAY\t190\tDown\t0.002\t0.02\n")
    csv = tmp_path / "camera.csv"
    csv.write_text('"","NGenes","Direction","PValue","FDR"\n"HALLMARK_E2F_TARGETS",200,"Up",0.001,0.01\n'
                   '"HALLMARK_P53_PATHWAY",190,"Down",0.002,0.02\n')
    for p in (tsv, csv):
        with pytest.warns(UserWarning, match="NES set to"):
            df = read_gsea_result(p)
        assert list(df["term"]) == ["HALLMARK_E2F_TARGETS", "HALLMARK_P53_PATHWAY"]
        assert list(df["direction"]) == [1, -1] and list(df["size"]) == [200, 190]
        assert df["nes"].to_numpy() == pytest.approx([3.0, np.log10(0.002)])  # -(-log10 p) for Down
    topgo = tmp_path / "topgo.tsv"  # GenTable: bounds written as "< 1e-30"; no adjusted p-value column
    topgo.write_text("GO.ID\tTerm\tAnnotated\tSignificant\tExpected\tclassicFisher\n"
                     "GO:0006955\timmune response\t300\t40\t10\t< 1e-30\nGO:0007049\tcell cycle\t200\t20\t10\t0.0021\n")
    with pytest.warns(UserWarning, match="no NES or ES column: the direction of each pathway is unknown"):
        df = read_gsea_result(topgo, format={"term": "GO.ID", "name": "Term", "fdr": "classicFisher",
                                             "size": "Annotated"})
    assert df["fdr"].tolist() == pytest.approx([1e-30, 0.0021]) and df.attrs["kind"] == "ora"
    assert df["direction"].tolist() == [0, 0]


def test_set_names_written_as_descriptions_are_humanised(tmp_path):
    p = tmp_path / "gsea_results.csv"  # clusterProfiler GSEA() with an MSigDB TERM2GENE
    p.write_text('"ID","Description","setSize","enrichmentScore","NES","pvalue","p.adjust","qvalue","core_enrichment"\n'
                 '"M47910","MICROTUBULE_DEPOLYMERIZATION",21,-0.77,-2.09,1e-05,0.0014,0.001,"TUBA1B/MAPRE3"\n'
                 '"GO:0006955","immune response",300,0.5,1.8,1e-04,0.01,0.01,"CD4/CD8A"\n')
    assert list(read(p)["name"]) == ["Microtubule depolymerization", "immune response"]


def test_metascape_final_go_and_all_lists(tmp_path):
    final = tmp_path / "_FINAL_GO.csv"  # summary rows repeat a member: members only; log10 p and q
    final.write_text("GroupID,Category,Term,Description,LogP,Log(q-value),InTerm_InList,Genes,Symbols\n"
                     '1_Summary,GO Biological Processes,GO:0006955,immune response,-12,-9,"40/300","920,925","CD4,CD8A"\n'
                     '1_Member,GO Biological Processes,GO:0006955,immune response,-12,-9,"40/300","920,925","CD4,CD8A"\n'
                     '1_Member,Reactome Gene Sets,R-HSA-1280215,Cytokine Signaling,-8,-6,"30/700","3558","IL2"\n')
    df = read(final)
    assert df.attrs["format"] == "metascape" and list(df["term"]) == ["GO:0006955", "R-HSA-1280215"]
    assert df["fdr"].tolist() == pytest.approx([1e-9, 1e-6]) and df["pvalue"].tolist() == pytest.approx([1e-12, 1e-8])
    assert list(df["size"]) == [300, 700] and df.iloc[0]["genes"] == ["CD4", "CD8A"]
    lists = tmp_path / "GO_AllLists.csv"  # a multi-list analysis: one condition per input list
    lists.write_text("GeneList,Category,Term,Description,LogP,Enrichment,#GeneInGOAndHitList,#GeneInGO,"
                     "Log(q-value),Hits\n"
                     "up,GO Biological Processes,GO:0006955,immune response,-12,4,40,300,-9,CD4|CD8A\n"
                     "down,GO Biological Processes,GO:0006955,immune response,-5,2,10,300,-3,IL2|CD4\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = read_gsea_results([lists])
    assert list(res) == ["up", "down"] and res["down"].iloc[0]["genes"] == ["IL2", "CD4"]


def test_mixed_species_is_an_error(tmp_path):
    p = tmp_path / "mixed.tsv"
    p.write_text("pathway\tpval\tpadj\tES\tNES\tleadingEdge\nA\t0.1\t0.2\t0.5\t1.5\tTrp53;Cdkn1a;Mdm2\n"
                 "B\t0.1\t0.2\t0.5\t1.5\tTP53;CDKN1A;MYC;BAX\n")
    with pytest.raises(InputError, match=r"mixed\.tsv.*mixed species: 4 human-like.*\(e\.g\. .*TP53.*3 mouse-like.*Trp53"):
        read_gsea_result(p)


def test_a_few_mouse_pathways_among_human_ones_are_a_species_mix(tmp_path):
    # 4 of ~100 genes are mouse-like: below the pooled 5% share, but the row that holds them is all mouse
    human = ";".join(f"GENE{i}" for i in range(100))
    p = tmp_path / "few.tsv"
    p.write_text("pathway\tpval\tpadj\tES\tNES\tleadingEdge\n"
                 f"A\t0.1\t0.2\t0.5\t1.5\t{human}\n"
                 "HALLMARK_X\t0.1\t0.2\t0.5\t1.5\tUsp18;Isg15;Ifit3;Trp53\n")
    with pytest.raises(InputError, match=r"few\.tsv.*mixed species: 1 pathway\(s\) list mouse-like genes only "
                                         r"\(HALLMARK_X: Usp18, Isg15, Ifit3\)"):
        read_gsea_result(p)
    p.write_text("pathway\tpval\tpadj\tES\tNES\tleadingEdge\n"  # a mouse result: MHC rows look human
                 f"A\t0.1\t0.2\t0.5\t1.5\t{';'.join(f'Zfp{i}' for i in range(100))}\n"
                 "B\t0.1\t0.2\t0.5\t1.5\tH2-K1;H2-D1;H2-Q7\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert len(read_gsea_result(p)) == 2


def test_a_signatures_up_and_dn_sets_in_the_same_direction_get_a_note():
    from contrastomics.enrichment.convert import same_direction_pairs

    terms = ["GROSS_ELK3_TARGETS_UP", "GROSS_ELK3_TARGETS_DN", "SMID_BASAL_UP", "SMID_BASAL_DN", "KRAS.600_UP.V1_UP"]
    with pytest.warns(UserWarning, match=r"1 signature\(s\) have their UP and DN sets enriched in the same "
                                          r"direction \(e\.g\. GROSS_ELK3_TARGETS_UP and _DN, both up\)"):
        assert len(same_direction_pairs(terms, [1.6, 1.5, 2.0, -2.0, 1.0])) == 1  # SMID's halves oppose: fine
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert same_direction_pairs(terms, [1.6, -1.5, 2.0, -2.0, 1.0]) == []


# ------------------------------------------------- read_conditions / standard_table (the one door)
def test_read_conditions_names_and_reader_frames_taken_as_they_are():
    from contrastomics.enrichment import read_conditions

    fora = DATA / "fora.tsv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = read_conditions([fora, fora])
        assert list(tables) == ["fora_1", "fora_2"]  # repeated file names get _<i>
        assert list(read_conditions([fora, fora], names=["a", "b"])) == ["a", "b"]
        assert list(read_conditions(fora, names=["ctrl"])) == ["ctrl"]
        assert list(read_conditions({"x": fora})) == ["x"]
        with pytest.raises(InputError, match="1 name\\(s\\) for 2 result"):
            read_conditions([fora, fora], names=["a"])
        with pytest.raises(InputError, match="2 names for 1 result file"):
            read_conditions(fora, names=["a", "b"])
        # a tool's own table in memory goes through the reader; its frame is not re-coerced
        fg = pd.DataFrame({"pathway": ["P1"], "pval": [0.01], "padj": [0.02], "NES": [1.5], "leadingEdge": ["A;B"]})
        (df,) = read_conditions(fg).values()
    assert df.attrs["format"] == "fgsea" and df["genes"].tolist() == [["A", "B"]]
    assert list(df.columns[: len(STANDARD_COLUMNS)]) == STANDARD_COLUMNS


def test_standard_table_checks_in_memory_frames_once():
    from contrastomics.enrichment import read_conditions, standard_table

    raw = pd.DataFrame({"term": ["T1", "T2"], "name": [None, "Two"], "nes": ["1.5", "x"], "fdr": [0.01, "0.2"],
                        "genes": ["A; B", ["C ", " ", 7]]})
    df = standard_table(raw, "mine")
    assert df["name"].tolist() == ["T1", "Two"]
    assert df["nes"].iloc[0] == 1.5 and np.isnan(df["nes"].iloc[1]) and df["fdr"].tolist() == [0.01, 0.2]
    assert df["genes"].tolist() == [["A", "B"], ["C", "7"]]
    assert raw["genes"].iloc[0] == "A; B"  # a copy: the caller's frame is left alone
    (same,) = read_conditions(raw).values()
    assert same["genes"].tolist() == df["genes"].tolist()
    with pytest.raises(InputError, match="mine: missing column\\(s\\) genes"):
        standard_table(raw.drop(columns="genes"), "mine")
    with pytest.raises(InputError, match="result: the result has no pathways"):
        read_conditions(raw.iloc[:0])


# ---------------------------------------------------------------- layouts: tools are data, not code
def test_no_code_path_branches_on_a_tool_name():
    import ast

    import contrastomics.enrichment as enr
    from contrastomics.enrichment.layouts import FORMATS

    root = Path(enr.__file__).parent
    bad = []
    for name in ("read.py", "convert.py", "gene_lists.py"):
        for node in ast.walk(ast.parse((root / name).read_text())):
            if isinstance(node, ast.Compare):
                consts = [c.value for c in ast.walk(node) if isinstance(c, ast.Constant)]
                bad += [f"{name}:{node.lineno} {v!r}" for v in consts if v in FORMATS]
    assert not bad, bad


def test_a_new_tool_is_one_layout_entry(tmp_path, monkeypatch):
    from contrastomics.enrichment import layouts

    lay = layouts.Layout("mytool", "gsea", ("SetId", "Score", "Q"), term="SetId", fdr="Q", nes="Score",
                         genes="Members", label="My tool", split_by=("Run",), drop_rows=(("SetId", "_total"),))
    monkeypatch.setattr(layouts, "LAYOUTS", layouts.LAYOUTS + (lay,))
    p = tmp_path / "my.tsv"
    p.write_text("SetId\tScore\tQ\tMembers\tRun\nS1\t1.5\t0.01\tA,B\tr1\nS1\t-1.2\t0.02\tC\tr2\n"
                 "all_total\t0\t1\t\tr1\n")
    df = read(p)
    assert df.attrs["format"] == "mytool" and df.attrs["n_rows"] == 2
    assert df["condition"].tolist() == ["r1", "r2"] and df["genes"].tolist() == [["A", "B"], ["C"]]


def test_deprecated_module_paths_still_import():
    import contrastomics.enrichment as enr
    from contrastomics import gsea_run
    from contrastomics.data import gsea

    assert gsea.read_gsea_result is enr.read_gsea_result and gsea.STANDARD_COLUMNS is enr.STANDARD_COLUMNS
    assert gsea._split_genes("A;B") == ["A", "B"] and gsea_run.run_prerank is enr.run_prerank
    with pytest.raises(AttributeError):
        gsea.no_such_name


def test_non_symbol_genes_use_the_shared_id_patterns():
    from contrastomics.data.genes import HUMAN_ORF, HUMAN_ORF_ANY_CASE, species_of_id
    from contrastomics.enrichment.gene_lists import non_symbol_examples

    genes = ["TP53", "C1orf112", "P2RY12", "c1orf112", "Trp53", "ENSG00000141510", "ENST00000269305.9", "7157",
             "P04637", "A0A024R161-2", "H2AFY2"]  # P2RY12, H2AFY2 (a previous symbol): symbols of UniProt form
    assert non_symbol_examples(genes) == (7, ["c1orf112", "Trp53", "ENSG00000141510", "ENST00000269305.9", "7157"])
    # HGNC's case for the reader's count; any case when guessing a species
    assert not HUMAN_ORF.match("C1ORF112") and HUMAN_ORF_ANY_CASE.match("C1ORF112")
    assert species_of_id("c1orf112") == "human"
