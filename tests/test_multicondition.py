"""Multi-condition maps (issue 6, item 3): several GSEA results on one clustered map.

``contrastomics cluster A.tsv B.tsv C.tsv --names a,b,c`` clusters the union of the pathways that
are significant in any condition and reports, per cluster, the NES of its members in each
condition: per-pathway ``nes_<name>`` / ``fdr_<name>`` columns in clusters.tsv, per-cluster
``mean_nes_<name>`` in clusters.json, a cluster x condition heatmap in report.html and as a PNG.
A pathway significant in one condition is shown with its NES in the others when the other inputs
contain it.

Fixtures: three real gseapy prerank results against MSigDB Hallmark (tests/data/multicondition,
see its README). Most tests use ``overlap-knn`` (no model needed) or a tiny hashed model, so the
file runs in seconds.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contrastomics import cluster_gsea
from contrastomics.enrichment import read_gsea_result
from contrastomics.errors import InputError

DATA = Path(__file__).parent / "data" / "multicondition"
CONDS = {"leukemia": DATA / "leukemia_hallmark.gseapy.tsv", "p53": DATA / "p53_hallmark.gseapy.tsv",
         "mds": DATA / "mds_hallmark.gseapy.tsv"}
FDR = 0.25


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTRASTOMICS_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def inputs() -> dict[str, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {k: read_gsea_result(p) for k, p in CONDS.items()}


@pytest.fixture(scope="module")
def mapped() -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cluster_gsea([str(p) for p in CONDS.values()], names=list(CONDS), method="overlap-knn",
                            fdr_cutoff=FDR, n_random=100)


class HashModel:
    """Tiny deterministic two-tower model: hashed genes / hashed words (no download, no torch)."""

    cache_key = "hash-model-test-multicondition"

    @staticmethod
    def _embed(items, dim=64):
        out = np.zeros((len(items), dim), np.float32)
        for i, toks in enumerate(items):
            for t in toks:
                out[i, int(hashlib.md5(t.upper().encode()).hexdigest()[:8], 16) % dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    def embed_gene_sets(self, gene_sets):
        return self._embed([list(g) for g in gene_sets])

    def embed_texts(self, texts):
        return self._embed([t.lower().split() for t in texts])


def _significant_terms(df: pd.DataFrame) -> set[str]:
    return set(df.loc[(df["fdr"] < FDR) & df["nes"].notna(), "term"])


# ---------------------------------------------------------------------- API
def test_map_is_the_union_of_significant_pathways(inputs, mapped):
    union = set().union(*(_significant_terms(df) for df in inputs.values()))
    assert set(mapped["term"]) == union
    assert mapped["term"].is_unique
    # the three cohorts disagree: the union is larger than any single result
    assert len(union) > max(len(_significant_terms(df)) for df in inputs.values())


def test_nes_per_condition_matches_the_input_where_significant(inputs, mapped):
    for cond, df in inputs.items():
        assert {f"nes_{cond}", f"fdr_{cond}"} <= set(mapped.columns)
        sig = df[(df["fdr"] < FDR)].set_index("term")
        got = mapped.set_index("term").loc[sig.index]
        np.testing.assert_allclose(got[f"nes_{cond}"].to_numpy(float), sig["nes"].to_numpy(float), rtol=1e-6)
        np.testing.assert_allclose(got[f"fdr_{cond}"].to_numpy(float), sig["fdr"].to_numpy(float), rtol=1e-6)


def test_nes_shown_in_other_conditions_when_present(inputs, mapped):
    table = mapped.set_index("term")
    for cond, df in inputs.items():
        full = df.drop_duplicates("term").set_index("term")
        present = table.index.intersection(full.index)
        assert len(present) == len(table)  # Hallmark: every pathway was tested in every cohort
        np.testing.assert_allclose(table.loc[present, f"nes_{cond}"].to_numpy(float),
                                   full.loc[present, "nes"].to_numpy(float), rtol=1e-6)


def test_cluster_records_hold_mean_nes_per_condition(mapped):
    clusters = pd.DataFrame(mapped.attrs["clusters"])
    for cond in CONDS:
        assert {f"mean_nes_{cond}", f"n_tested_{cond}"} <= set(clusters.columns)
        expect = mapped.groupby("cluster")[f"nes_{cond}"].mean()
        got = clusters.set_index("cluster")[f"mean_nes_{cond}"]
        np.testing.assert_allclose(got.loc[expect.index].to_numpy(float), expect.to_numpy(float), rtol=1e-6)
        tested = mapped.groupby("cluster")[f"nes_{cond}"].count()  # members the condition tested (a NES)
        assert (clusters.set_index("cluster")[f"n_tested_{cond}"].loc[tested.index] == tested).all()
    assert mapped.attrs["summary"]["conditions"] == list(CONDS)


def test_opposite_cohorts_keep_their_signs_in_shared_clusters(inputs, mapped):
    # leukemia (ALL vs AML) and p53 (MUT vs WT) both have E2F/G2M up: a proliferation cluster must show
    # positive NES in both columns, read from the inputs, not recomputed
    e2f = mapped.set_index("term").loc["HALLMARK_E2F_TARGETS"]
    assert e2f["nes_leukemia"] == pytest.approx(float(inputs["leukemia"].set_index("term").loc["HALLMARK_E2F_TARGETS", "nes"]))
    assert e2f["nes_leukemia"] > 1.5 and e2f["nes_p53"] > 1.5


def test_joint_method_runs_on_several_conditions():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = cluster_gsea({k: str(p) for k, p in CONDS.items()}, method="joint", model=HashModel(),
                           fdr_cutoff=FDR, n_random=100)
    assert {f"nes_{c}" for c in CONDS} <= set(out.columns)
    assert out["cluster"].nunique() >= 2
    assert out.attrs["summary"]["conditions"] == list(CONDS)


def test_wrong_number_of_names_is_an_input_error():
    with pytest.raises(InputError, match="name"):
        cluster_gsea([str(CONDS["leukemia"]), str(CONDS["p53"])], names=["a", "b", "c"], method="overlap-knn",
                     fdr_cutoff=FDR)


def test_condition_where_nothing_is_significant_still_maps_the_others(inputs):
    # a cut that only leukemia passes: p53 contributes no pathway but keeps its column
    cut = 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = cluster_gsea([str(CONDS["leukemia"]), str(CONDS["mds"])], names=["leukemia", "mds"],
                               method="overlap-knn", fdr_cutoff=cut, n_random=100)
        except InputError as e:  # acceptable only if it names the condition and suggests a cut
            assert "mds" in str(e) and "FDR" in str(e)
            return
    assert set(out["term"]) == set(inputs["leukemia"].loc[inputs["leukemia"]["fdr"] < cut, "term"]) | set(
        inputs["mds"].loc[inputs["mds"]["fdr"] < cut, "term"])


# ---------------------------------------------------------------------- CLI + report
def _run_cli(*args):
    return subprocess.run([sys.executable, "-c", "from contrastomics.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def cli_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("multi") / "map"
    r = _run_cli("cluster", *map(str, CONDS.values()), "--names", ",".join(CONDS), "--method", "overlap-knn",
                 "--fdr", str(FDR), "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    return out


def test_cli_writes_per_condition_nes_table(cli_out):
    tab = pd.read_csv(cli_out / "clusters.tsv", sep="\t")
    assert {f"nes_{c}" for c in CONDS} | {f"fdr_{c}" for c in CONDS} <= set(tab.columns)
    js = json.loads((cli_out / "clusters.json").read_text())
    assert all(f"mean_nes_{c}" in js["clusters"][0] for c in CONDS)
    html = (cli_out / "report.html").read_text()
    for c in CONDS:
        assert f"NES {c}" in html  # per-condition columns of the cluster table


def _plotly_traces(html: str) -> list[dict]:
    traces = []
    dec = json.JSONDecoder()
    for m in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', html):
        data, _ = dec.raw_decode(html[m.end():])
        traces += data
    return traces


def test_cli_report_has_cluster_by_condition_heatmap_in_html_and_png(cli_out):
    html = (cli_out / "report.html").read_text()
    heat = [t for t in _plotly_traces(html) if t.get("type") == "heatmap"]
    assert heat, "no heatmap trace in report.html"
    axes = [set(map(str, t.get("x", []))) | set(map(str, t.get("y", []))) for t in heat]
    assert any(set(CONDS) <= a for a in axes), "heatmap axes do not name the conditions"
    pngs = [p for p in cli_out.glob("*.png") if "heatmap" in p.name.lower()]
    assert pngs and pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_heatmap_values_are_cluster_means_per_condition(cli_out):
    tab = pd.read_csv(cli_out / "clusters.tsv", sep="\t")
    by = pd.read_csv(cli_out / "nes_by_condition.tsv", sep="\t").set_index("cluster")
    html = (cli_out / "report.html").read_text()
    heat = next(t for t in _plotly_traces(html) if t.get("type") == "heatmap")
    assert heat["x"] == list(CONDS)
    shown = [int(str(y).split(":")[0]) for y in heat["y"]]
    assert shown == sorted(by.index[~by["singleton"]])  # clusters with >= 2 members, in id order
    z = np.array([[np.nan if v is None else v for v in row] for row in heat["z"]], float)
    for j, cond in enumerate(CONDS):
        expect = tab.groupby("cluster")[f"nes_{cond}"].mean().loc[shown].to_numpy(float)
        np.testing.assert_allclose(by.loc[shown, f"mean_nes_{cond}"].to_numpy(float), expect, rtol=1e-5)
        np.testing.assert_allclose(z[:, j], expect, rtol=1e-5)
        assert (by[f"n_{cond}"] == tab.groupby("cluster")[f"nes_{cond}"].count().loc[by.index]).all()
    assert heat.get("zmid") == 0 and heat.get("reversescale") is True


def test_one_file_holding_several_conditions_gives_a_multi_condition_map(tmp_path, mapped):
    """gseapy prerank over several columns writes one table with a ``Name`` per column: it maps like
    the same results given as separate files."""
    parts = []
    for name, path in CONDS.items():
        t = pd.read_csv(path, sep="\t")
        parts.append(t.assign(Name=name))
    one = tmp_path / "gseapy.gene_set.prerank.report.csv"
    pd.concat(parts).to_csv(one, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = cluster_gsea(str(one), method="overlap-knn", fdr_cutoff=FDR, n_random=100)
    assert df.attrs["summary"]["conditions"] == list(CONDS)
    assert sorted(df["term"]) == sorted(mapped["term"])
    for name in CONDS:
        a = df.set_index("term")[f"nes_{name}"].sort_index()
        b = mapped.set_index("term")[f"nes_{name}"].sort_index()
        assert np.allclose(a.to_numpy(), b.to_numpy(), equal_nan=True)
