"""Readers of GSEA / ORA result tables (contrastomics.data.gsea)."""
import gzip
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contrastomics.data.gsea import (STANDARD_COLUMNS, demo_result_path, detect_format, read_gsea_result,
                                     read_gsea_results, to_gseapy_table)
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
    with pytest.warns(UserWarning, match="2 pathway.* no gene list"):
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
        read_gsea_result(DATA / "fora.tsv", format="david")


def test_unknown_columns_lists_tried_formats_and_found_columns(tmp_path):
    p = tmp_path / "x.tsv"
    p.write_text("gene\tlogFC\tpadj\nTP53\t1.2\t0.01\n")
    with pytest.raises(InputError) as e:
        read_gsea_result(p)
    msg = str(e.value)
    assert str(p) in msg and "'logFC'" in msg and "fgsea" in msg and "clusterProfiler" in msg and "Enrichr" in msg


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
    p.write_text("pathway\tpval\tpadj\tES\tNES\tleadingEdge\nA\t0.1\t0.2\t0.5\t1.5\tTrp53;Cdkn1a;MYC;C1orf112\n"
                 "B\t0.1\t0.2\t0.5\t1.5\tENSG00000141510;7157\n")
    with pytest.warns(UserWarning, match=r"4 of 6 distinct genes do not look like human.*Trp53") as rec:
        df = read_gsea_result(p)
    assert df.attrs["non_symbol_genes"] == 4 and len(rec) == 1
    assert df["genes"][0] == ["Trp53", "Cdkn1a", "MYC", "C1orf112"]  # kept as written


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
    from contrastomics.data.gsea import as_standard

    fg = pd.DataFrame({"pathway": ["P1", "P2"], "pval": [0.01, 0.2], "padj": [0.02, 0.3], "ES": [0.5, -0.4],
                       "NES": [1.8, -1.2], "size": [30, 40], "leadingEdge": [["TP53", "MDM2"], np.array(["MYC"])]})
    df = as_standard(fg)
    assert df.attrs["format"] == "fgsea" and df["genes"].tolist() == [["TP53", "MDM2"], ["MYC"]]
    assert df["direction"].tolist() == [1, -1] and df["size"].tolist() == [30, 40]
    assert as_standard(df) is df  # already standard
    with pytest.raises(InputError, match="unknown result columns"):
        as_standard(pd.DataFrame({"a": [1]}))
