"""Tests for contrastomics.data.string (pair reading/cleaning) and data.features (feature matrices)."""
from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contrastomics.data.features import clean_features, cosine_of_pairs, pca, read_features
from contrastomics.data.string import Pairs, read_pairs, read_string_info, score_scale
from contrastomics.errors import InputError

SHARED = Path("/work/shared/data/ppi")


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


# ---------------------------------------------------------------------- pairs
def test_threshold_self_pairs_and_reversed_duplicates(tmp_path):
    p = write(tmp_path, "pairs.tsv", "gene_a\tgene_b\tcombined_score\n"
              "A\tB\t950\nB\tA\t990\nA\tB\t950\nC\tC\t999\nC\tD\t400\nD\tE\t901\n")
    with pytest.warns(UserWarning) as rec:
        pr = read_pairs(p, 900)
    msgs = " | ".join(str(w.message) for w in rec)
    assert "self-pair" in msgs and "reversed" in msgs
    df = pr.to_frame()
    assert sorted(map(tuple, df[["gene_a", "gene_b"]].to_numpy())) == [("A", "B"), ("D", "E")]
    assert df.set_index("gene_a").loc["A", "score"] == 990  # highest score kept
    assert pr.meta["n_self_pairs"] == 1 and pr.meta["n_below_threshold"] == 1
    assert pr.meta["n_duplicates"] == 1 and pr.meta["n_reversed_duplicates"] == 1
    assert (pr.a < pr.b).all()


def test_score_scale_0_1_rescaled_and_threshold_on_either_scale(tmp_path):
    p = write(tmp_path, "p.csv", "gene1,gene2,score\nA,B,0.95\nB,C,0.5\nC,D,0.91\n")
    with pytest.warns(UserWarning, match="0-1 scale"):
        a = read_pairs(p, 900)
    with pytest.warns(UserWarning, match="0-1 scale"):
        b = read_pairs(p, 0.9)
    assert len(a) == len(b) == 2
    np.testing.assert_allclose(sorted(a.score), [910, 950])
    assert score_scale(np.array([0, 400, 999.0])) == 1000
    with pytest.raises(InputError, match="above 1000"):
        score_scale(np.array([10, 5000.0]))


def test_unknown_genes_counted_and_reported(tmp_path):
    p = write(tmp_path, "p.tsv", "gene_a\tgene_b\tcombined_score\nA\tB\t999\nA\tX\t999\nY\tZ\t999\nB\tC\t950\n")
    with pytest.warns(UserWarning, match="2 pair.*3 gene"):
        pr = read_pairs(p, 900, genes=["C", "B", "A"])
    assert pr.genes == ["C", "B", "A"] and len(pr) == 2
    assert pr.meta["n_pairs_unknown_gene"] == 2 and pr.meta["unknown_genes"] == 3
    assert set(pr.meta["unknown_examples"]) == {"X", "Y", "Z"}
    with pytest.raises(InputError, match="no pair has both genes"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read_pairs(p, 900, genes=["Q", "R"])


def test_bad_score_and_columns_raise_with_line(tmp_path):
    p = write(tmp_path, "p.tsv", "gene_a\tgene_b\tcombined_score\nA\tB\t999\nA\tC\thigh\n")
    with pytest.raises(InputError) as e:
        read_pairs(p, 900)
    assert e.value.line == 3 and "non-numeric" in e.value.problem
    q = write(tmp_path, "q.tsv", "x\ty\tz\nA\tB\t1\n")
    with pytest.raises(InputError, match="two gene columns"):
        read_pairs(q, 900)
    with pytest.raises(InputError, match="not found"):
        read_pairs(p, 900, score_column="experiments")


def test_string_links_with_protein_ids_need_info(tmp_path):
    links = tmp_path / "9606.protein.links.v12.0.txt.gz"
    with gzip.open(links, "wt") as fh:
        fh.write("protein1 protein2 combined_score\n9606.ENSP01 9606.ENSP02 950\n9606.ENSP02 9606.ENSP01 950\n"
                 "9606.ENSP01 9606.ENSP03 700\n9606.ENSP03 9606.ENSP99 990\n")
    info = write(tmp_path, "info.txt", "#string_protein_id\tpreferred_name\tprotein_size\tannotation\n"
                 "9606.ENSP01\tTP53\t393\tCellular tumor antigen p53\n9606.ENSP02\tMDM2\t491\tE3 ligase\n"
                 "9606.ENSP03\tEP300\t2414\tHistone acetyltransferase\n")
    with pytest.raises(InputError, match="protein.info"):
        read_pairs(links, 900, genes=["TP53", "MDM2"])
    with pytest.warns(UserWarning):
        pr = read_pairs(links, 900, genes=["TP53", "MDM2", "EP300"], info=info)
    assert [tuple(r) for r in pr.to_frame()[["gene_a", "gene_b"]].to_numpy()] == [("TP53", "MDM2")]
    assert pr.meta["n_pairs_unmapped_id"] == 1  # ENSP99 is not in the info file
    t = read_string_info(info)
    assert list(t.symbol) == ["TP53", "MDM2", "EP300"]


def test_pairs_degree_and_reindex():
    pr = Pairs(["a", "b", "c"], np.array([0, 0]), np.array([1, 2]), np.array([900.0, 950.0]))
    assert pr.degree().tolist() == [2, 1, 1]
    r = pr.reindex(["c", "b", "a", "d"])
    assert r.to_frame().sort_values("score")[["gene_a", "gene_b"]].to_numpy().tolist() == [["b", "a"], ["c", "a"]]
    assert r.degree().tolist() == [1, 1, 2, 0]


@pytest.mark.skipif(not (SHARED / "string_v12_human.tsv.gz").exists(), reason="shared STRING data absent")
def test_real_string_file_counts():
    pr = read_pairs(SHARED / "string_v12_human.tsv.gz", 900)
    assert len(pr) == 71378  # checked with awk: combined_score >= 900
    assert pr.meta["n_self_pairs"] == 0 and pr.meta["n_reversed_duplicates"] == 0
    exp = read_pairs(SHARED / "string_v12_human.tsv.gz", 700, score_column="experiments")
    assert 0 < len(exp) < len(pr)


# ---------------------------------------------------------------------- features
def test_read_features_cleans_nan_zero_variance_duplicates(tmp_path):
    p = write(tmp_path, "f.tsv", "gene\ts1\ts2\ts3\nA\t1\t2\t3\nB\t1\t1\t1\nC\t1\tNaN\t2\nD\t3\t1\t0\nA\t9\t9\t8\n")
    with pytest.warns(UserWarning) as rec:
        df = read_features(p)
    msgs = " | ".join(str(w.message) for w in rec)
    assert "1 gene(s) with NaN" in msgs and "zero-variance" in msgs and "duplicate" in msgs
    assert list(df.index) == ["A", "D"]
    np.testing.assert_allclose(df.loc["A"].to_numpy(), [1, 2, 3])


def test_read_features_csv_parquet_anndata_agree(tmp_path):
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(6, 4)), index=[f"G{i}" for i in range(6)], columns=list("abcd"))
    x.to_csv(tmp_path / "f.csv", index_label="gene")
    x.reset_index(names="gene").to_parquet(tmp_path / "f.parquet")
    import anndata

    anndata.AnnData(x.T.to_numpy(), obs=pd.DataFrame(index=list("abcd")), var=pd.DataFrame(index=x.index)).write_h5ad(
        tmp_path / "f.h5ad")
    for f in ("f.csv", "f.parquet", "f.h5ad"):
        df = read_features(tmp_path / f)
        assert list(df.index) == list(x.index), f
        np.testing.assert_allclose(df.to_numpy(), x.to_numpy(), rtol=1e-5)
    t = read_features(tmp_path / "f.csv", genes_as="columns")
    assert t.shape == (4, 6)


def test_pca_and_cosine_of_pairs():
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.normal(size=(40, 10)), index=[f"g{i}" for i in range(40)])
    z = pca(x, 5)
    assert z.shape == (40, 5) and abs(z.to_numpy().mean(0)).max() < 1e-4
    with pytest.warns(UserWarning, match="using 9"):
        assert pca(x, 50).shape == (40, 9)
    v = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]])
    np.testing.assert_allclose(cosine_of_pairs(v, np.array([0, 0]), np.array([1, 2])), [0.0, -1.0], atol=1e-6)
    with pytest.raises(InputError, match="fewer than 2"):
        clean_features(pd.DataFrame([[1.0, 1.0]], index=["a"]))
