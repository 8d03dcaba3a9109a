"""Inputs and gseapy wrapping of contrastomics.enrichment.run."""
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contrastomics.data.genesets import GeneSetLibrary
from contrastomics.errors import InputError
from contrastomics.enrichment import read_gsea_result
from contrastomics.enrichment.run import (load_gene_sets, rank_genes, read_cls, read_expression, read_rnk, run_gsea,
                                          run_prerank, run_to_folder)

SHARED = Path("/work/shared/data/gsea")


def test_signal_to_noise_matches_hand_computation():
    expr = pd.DataFrame({"a1": [10.0, 1.0, 5.0], "a2": [12.0, 1.0, 5.0], "b1": [2.0, 3.0, 5.0], "b2": [4.0, 5.0, 5.0]},
                        index=["G1", "G2", "G3"])
    r = rank_genes(expr, ["A", "A", "B", "B"])
    # sd_A = 1.414 is floored at 0.2 * 11 = 2.2; sd_B = 1.414 stays above 0.2 * 3
    assert r["G1"] == pytest.approx((11 - 3) / (2.2 + np.std([2, 4], ddof=1)))
    # G2: sd_A = 0 floored at 0.2 * |1| = 0.2; G3 equal means -> 0
    assert r["G2"] == pytest.approx((1 - 4) / (0.2 + np.std([3, 5], ddof=1)))
    assert r["G3"] == 0 and list(r.index) == ["G1", "G3", "G2"]
    with pytest.warns(UserWarning, match="1 of 3 genes have no t_test score.*G3"):
        t = rank_genes(expr, ["A", "A", "B", "B"], method="t_test")  # G3 is constant: 0/0
    assert t["G1"] == pytest.approx(8 / np.sqrt(2 / 2 + 2 / 2)) and len(t) == 2
    with pytest.raises(InputError, match="two classes"):
        rank_genes(expr, ["A", "B", "C", "C"])


def test_read_rnk_header_duplicates_and_errors(tmp_path):
    p = tmp_path / "x.rnk"
    p.write_text("# ranked\ngene\tscore\nTP53\t-1.5\nMYC\t2.0\nTP53\t0.3\n")
    with pytest.warns(UserWarning, match="1 duplicate"):
        r = read_rnk(p)
    assert list(r.index) == ["MYC", "TP53"] and r["TP53"] == -1.5
    p.write_text("TP53\t1\nMYC\thigh\n")
    with pytest.raises(InputError) as e:
        read_rnk(p)
    assert e.value.line == 2


def test_read_cls(tmp_path):
    p = tmp_path / "a.cls"
    p.write_text("4 2 1\n# ALL AML\nALL ALL AML AML\n")
    assert read_cls(p) == ["ALL", "ALL", "AML", "AML"]
    p.write_text("5 2 1\n# ALL AML\nALL ALL AML AML\n")
    with pytest.raises(InputError, match="4 labels for 5"):
        read_cls(p)


def test_read_expression_gct_with_chip_collapses_max(tmp_path):
    gct = tmp_path / "x.gct"
    gct.write_text("#1.2\n3\t2\nNAME\tDescription\ts1\ts2\n"
                   "p1_at\tna\t1.0\t9.0\np2_at\tna\t5.0\t2.0\np3_at\tna\t7.0\t7.0\nAFFX_ctl\tna\t0\t0\n")
    chip = tmp_path / "x.chip"
    chip.write_text("Probe Set ID\tGene Symbol\tGene Title\np1_at\tTP53\tx\np2_at\tTP53\tx\np3_at\tMYC\tx\n")
    with pytest.warns(UserWarning, match="1 of 4 probes have no gene symbol"):
        expr = read_expression(gct, chip=chip)
    assert expr.loc["TP53"].tolist() == [5.0, 9.0] and expr.loc["MYC"].tolist() == [7.0, 7.0]
    assert list(expr.columns) == ["s1", "s2"]


def test_load_gene_sets_from_mapping_and_gmt(tmp_path):
    lib = load_gene_sets({"S1": ["A", "B"], "S2": ["B", "C"]})
    assert isinstance(lib, GeneSetLibrary) and len(lib) == 2
    gmt = tmp_path / "x.gmt"
    gmt.write_text("S1\tna\tA\tB\n")
    assert load_gene_sets(gmt).terms == ["S1"]


@pytest.mark.slow  # importing gseapy takes ~5-10 s on the shared machine
@pytest.mark.skipif(not (SHARED / "Leukemia.cls").exists(), reason="shared GSEA data absent")
def test_run_prerank_and_gsea_on_leukemia_hallmark():
    expr = read_expression(SHARED / "Leukemia_hgu95av2.trim.txt")
    assert expr.shape == (9020, 48)  # 11,548 rows -> unique symbols
    rnk = rank_genes(expr, read_cls(SHARED / "Leukemia.cls"))
    gmt = SHARED / "h.all.v7.0.symbols.gmt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pre = run_prerank(rnk, gmt, permutations=50, seed=1)
        again = run_prerank(rnk, gmt, permutations=50, seed=1)
        full = run_gsea(SHARED / "Leukemia_hgu95av2.trim.txt", SHARED / "Leukemia.cls", gmt, permutations=20, seed=1)
    assert pre.attrs["format"] == "gseapy" and pre.attrs["permutations"] == 50 and 40 <= len(pre) <= 50
    assert pre["nes"].tolist() == again["nes"].tolist()  # fixed seed -> same numbers
    assert (pre["fdr"].diff().dropna() >= 0).all()
    e2f = pre.set_index("term").loc["HALLMARK_E2F_TARGETS"]
    assert e2f["direction"] == 1 and e2f["size"] > 100  # proliferation is up in ALL vs AML
    assert set(full["term"]) == set(pre["term"]) and full.attrs["method"].startswith("gsea (phenotype")


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "mds.2k.rnk").exists(), reason="shared GSEA data absent")
def test_gsea_command_writes_a_folder_cluster_reads(tmp_path):
    from typer.testing import CliRunner

    from contrastomics.cli import app, _register

    _register()
    out = tmp_path / "g"
    res = CliRunner().invoke(app, ["gsea", str(SHARED / "mds.2k.rnk"), "-g", str(SHARED / "h.all.v7.0.symbols.gmt"),
                                   "-o", str(out), "-n", "20", "--seed", "5", "--no-cluster"])
    assert res.exit_code == 0, res.output
    df = read_gsea_result(out)
    assert df.attrs["format"] == "gseapy" and 40 <= len(df) <= 50
    assert (out / "params.json").exists()


def test_run_to_folder_rejects_chip_without_cls(tmp_path):
    with pytest.raises(InputError, match="--chip"):
        run_to_folder(tmp_path / "x.rnk", tmp_path / "x.gmt", tmp_path / "o", chip=tmp_path / "x.chip")


@pytest.mark.slow
def test_gsea_one_step_expression_classes_to_clusters(tmp_path):
    """`contrastomics gsea EXPR CLASSES --library ... --out DIR` runs GSEA and clusters in one go."""
    from typer.testing import CliRunner

    from contrastomics.cli import app, _register

    _register()
    out = tmp_path / "one"
    res = CliRunner().invoke(app, ["gsea", str(SHARED / "P53_resampling_data.txt"), str(SHARED / "P53.cls"),
                                   "--library", str(SHARED / "h.all.v7.0.symbols.gmt"), "-o", str(out), "-n", "20",
                                   "--permutation-type", "gene_set", "--min-size", "5", "--fdr", "1",
                                   "--no-report"])
    assert res.exit_code == 0, res.output
    tab = pd.read_csv(out / "clusters.tsv", sep="\t")
    assert len(tab) >= 10 and tab["cluster"].nunique() >= 2
    assert (out / "gseapy.gene_set.gsea.report.csv").exists() and (out / "summary.json").exists()
