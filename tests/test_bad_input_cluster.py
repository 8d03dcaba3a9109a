"""Bad and awkward inputs of `contrastomics cluster` and its outputs that are handled (issue 17).

One test per case, named after it; each builds its own small synthetic result files. The CLI is
run in-process (`contrastomics.cli.main`) and the tests read what a user sees: the `error: ...`
line, the terminal table, the files in --out (never a partial or hidden one).
"""
from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from contrastomics.cluster import ClusterOptions, run_clustering
from contrastomics.cluster.communities import identical_groups, join_identical
from contrastomics.errors import InputError
from contrastomics.report import figures, outputs, write_outputs
from cli_helpers import cli, one_error_line

ROOT = Path(__file__).resolve().parents[1]
ALL_OUTPUTS = {"clusters.tsv", "clusters.json", "summary.json", "summary.md", "report.html", "clusters.png",
               "network.graphml"}
MULTI_OUTPUTS = ALL_OUTPUTS | {"nes_by_condition.tsv", "nes_heatmap.png"}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTRASTOMICS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("COLUMNS", raising=False)


def fgsea_table(sign: float = 1.0, names: dict | None = None, n: int = 12) -> pd.DataFrame:
    """An fgsea result: ``n`` pathways in groups of four sharing leading-edge genes."""
    rows = []
    for i in range(n):
        g = i // 4
        rows.append({"pathway": (names or {}).get(i, f"PATHWAY_{i}"), "pval": 1e-4, "padj": 0.01 * (i % 3 + 1),
                     "ES": 0.5 * sign, "NES": sign * (1.5 + 0.1 * i), "size": 30,
                     "leadingEdge": ",".join(f"G{g * 20 + j}" for j in range(10 + i % 4))})
    return pd.DataFrame(rows)


def write_fgsea(path: Path, **kw) -> Path:
    fgsea_table(**kw).to_csv(path, sep="\t", index=False)
    return path


def enrichr_table(extra: list[tuple[str, str]] = ()) -> pd.DataFrame:
    """An Enrichr table (over-representation: no NES): 12 pathways in groups of four, plus
    ``extra`` ``(term, ;-joined genes)`` rows."""
    rows = [(f"Pathway {i}", ";".join(f"G{(i // 4) * 20 + j}" for j in range(8 + i % 4))) for i in range(12)]
    rows += list(extra)
    return pd.DataFrame([{"Term": t, "Overlap": f"{len(g.split(';'))}/100", "P-value": 1e-6,
                          "Adjusted P-value": 1e-4 * (k + 1), "Old P-value": 0, "Old Adjusted P-value": 0,
                          "Odds Ratio": 5.0, "Combined Score": 50.0, "Genes": g} for k, (t, g) in enumerate(rows)])


def cluster_cli(capsys, out: Path, *args) -> tuple[int, str]:
    return cli(capsys, "cluster", *args, "--method", "overlap-knn", "--out", out)


def listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def no_hidden(folder: Path) -> None:
    hidden = [p.name for p in folder.iterdir() if p.name.startswith(".")]
    assert not hidden, hidden


def report_rows(html: str) -> list[str]:
    body = html.split('<table id="ctab">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr data-s=.*?</tr>", body, flags=re.S)


def multi_run(capsys, tmp_path, files, *extra) -> tuple[int, str, Path]:
    out = tmp_path / "out"
    code, text = cluster_cli(capsys, out, *files, *extra)
    return code, text, out


# -- 1: condition names ------------------------------------------------------------------------


def test_condition_names_with_dots(tmp_path, capsys):
    """issue 17 #1: two results named X.fgsea.tsv / Y.fgsea.tsv (no --names) give a report, no AttributeError."""
    a = write_fgsea(tmp_path / "X.fgsea.tsv")
    b = write_fgsea(tmp_path / "Y.fgsea.tsv", sign=-1)
    code, text, out = multi_run(capsys, tmp_path, [a, b])
    assert code == 0 and "Traceback" not in text, text
    assert listing(out) == MULTI_OUTPUTS
    html = (out / "report.html").read_text()
    assert "NES X.fgsea" in html and "NES Y.fgsea" in html


def test_condition_names_with_spaces_and_dashes(tmp_path, capsys):
    """issue 17 #1: --names "wild type,drug-1" works in every output."""
    a = write_fgsea(tmp_path / "a.tsv")
    b = write_fgsea(tmp_path / "b.tsv", sign=-1)
    code, text, out = multi_run(capsys, tmp_path, [a, b], "--names", "wild type,drug-1")
    assert code == 0 and "Traceback" not in text, text
    tab = pd.read_csv(out / "clusters.tsv", sep="\t")
    assert {"nes_wild type", "nes_drug-1"} <= set(tab.columns)
    by = pd.read_csv(out / "nes_by_condition.tsv", sep="\t")
    assert {"mean_nes_wild type", "mean_nes_drug-1"} <= set(by.columns)
    assert "NES wild type" in (out / "report.html").read_text()


def test_same_file_twice(tmp_path, capsys):
    """issue 17 #1: the same result given twice is two conditions, not a crash."""
    a = write_fgsea(tmp_path / "X.fgsea.tsv")
    code, text, out = multi_run(capsys, tmp_path, [a, a])
    assert code == 0 and "Traceback" not in text, text
    html = (out / "report.html").read_text()
    assert "NES X.fgsea_1" in html and "NES X.fgsea_2" in html


# -- 2: one GO term named differently by two tools ---------------------------------------------


def test_go_term_named_differently_by_two_tools(tmp_path, capsys):
    """issue 17 #2: GSEA desktop's upper-case "NAME (GO:0060333)" and fgsea's "GO:0060333" are one pathway."""
    a = fgsea_table(names={0: "INTERFERON-GAMMA-MEDIATED SIGNALING PATHWAY (GO:0060333)"})
    b = fgsea_table(sign=-1, names={0: "GO:0060333"})
    b.loc[0, "padj"] = 0.5  # tested, not significant in b: its NES still shows
    pa, pb = tmp_path / "desktop.tsv", tmp_path / "fgsea.tsv"
    a.to_csv(pa, sep="\t", index=False)
    b.to_csv(pb, sep="\t", index=False)
    code, text, out = multi_run(capsys, tmp_path, [pa, pb], "--names", "desktop,fgsea")
    assert code == 0, text
    tab = pd.read_csv(out / "clusters.tsv", sep="\t")
    ifng = tab[tab["term"].str.contains("GO:0060333")]
    assert len(ifng) == 1 and len(tab) == 12
    assert ifng["nes_desktop"].iloc[0] == pytest.approx(1.5) and ifng["nes_fgsea"].iloc[0] == pytest.approx(-1.5)
    by = pd.read_csv(out / "nes_by_condition.tsv", sep="\t")
    row = by[by["cluster"] == ifng["cluster"].iloc[0]]
    assert row["n_desktop"].iloc[0] == row["n_fgsea"].iloc[0] == row["size"].iloc[0]  # no "not tested"


def test_pathway_named_with_other_case_and_punctuation(tmp_path, capsys):
    """issue 17 #2: without an ontology id, terms match across conditions ignoring case, punctuation, spaces."""
    a = fgsea_table(names={1: "HALLMARK_TNFA_SIGNALING_VIA_NFKB"})
    b = fgsea_table(sign=-1, names={1: "Hallmark TNFA signaling via NF-kB"})
    pa, pb = tmp_path / "a.tsv", tmp_path / "b.tsv"
    a.to_csv(pa, sep="\t", index=False)
    b.to_csv(pb, sep="\t", index=False)
    code, text, out = multi_run(capsys, tmp_path, [pa, pb])
    assert code == 0, text
    tab = pd.read_csv(out / "clusters.tsv", sep="\t")
    assert len(tab) == 12 and tab[["nes_a", "nes_b"]].notna().all().all()


# -- 3: unwritable --out ----------------------------------------------------------------------


def test_out_is_a_file(tmp_path, capsys, no_work):
    """issue 17 #3: cluster --out naming a file: one error line before any work."""
    res = write_fgsea(tmp_path / "r.tsv")
    out = tmp_path / "taken.txt"
    out.write_text("mine\n")
    one_error_line(*cluster_cli(capsys, out, res), "--out", "is a file")
    assert out.read_text() == "mine\n"


def test_out_under_a_file(tmp_path, capsys, no_work):
    """issue 17 #3: cluster --out inside a path that is a file."""
    res = write_fgsea(tmp_path / "r.tsv")
    (tmp_path / "f").write_text("x")
    one_error_line(*cluster_cli(capsys, tmp_path / "f" / "out", res), "--out", "is a file, not a folder")


def test_out_in_a_read_only_place(tmp_path, capsys, no_work, monkeypatch):
    """issue 17 #3: cluster --out on a read-only file system (a probe write fails; root ignores chmod)."""
    import contrastomics._io as io_mod
    res = write_fgsea(tmp_path / "r.tsv")

    def refuse(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")
    monkeypatch.setattr(io_mod.tempfile, "mkstemp", refuse)
    one_error_line(*cluster_cli(capsys, tmp_path / "out", res), "--out", "cannot be written", "Read-only")
    assert not (tmp_path / "out").exists()


def test_gsea_out_is_a_file(tmp_path, capsys, no_work):
    """issue 17 #3: gsea --out naming a file fails before gseapy runs."""
    rnk = tmp_path / "r.rnk"
    rnk.write_text("".join(f"G{i}\t{1 - i / 50:.3f}\n" for i in range(100)))
    out = tmp_path / "taken"
    out.write_text("x")
    one_error_line(*cli(capsys, "gsea", rnk, "--out", out), "--out", "is a file")


def test_cluster_metrics_out_under_a_file(tmp_path, capsys, monkeypatch):
    """issue 17 #3: cluster-metrics --out under a file fails before the metrics are computed."""
    import contrastomics.cluster.metrics as metrics

    def boom(*a, **k):
        raise AssertionError("metrics computed before --out was checked")
    monkeypatch.setattr(metrics, "evaluate_file", boom)
    (tmp_path / "f").write_text("x")
    tsv = tmp_path / "clusters.tsv"
    tsv.write_text("cluster\tterm\n0\ta\n")
    one_error_line(*cli(capsys, "cluster-metrics", tsv, "--out", tmp_path / "f" / "m.json"), "--out")


# -- 7: zero or negative counts -----------------------------------------------------------------


def test_k_zero(tmp_path, capsys):
    """issue 17 #7: --k 0 is refused with a clear message."""
    res = write_fgsea(tmp_path / "r.tsv")
    one_error_line(*cluster_cli(capsys, tmp_path / "out", res, "--k", "0"), "--k must be at least 1, got 0")
    assert not (tmp_path / "out").exists()


def test_n_clusters_zero(tmp_path, capsys):
    """issue 17 #7: --n-clusters 0 is refused (it was silently ignored)."""
    res = write_fgsea(tmp_path / "r.tsv")
    one_error_line(*cluster_cli(capsys, tmp_path / "out", res, "--n-clusters", "0"), "--n-clusters must be at least 1")


def test_negative_k_and_min_cluster_size(tmp_path, capsys):
    """issue 17 #7: negative --k / --min-cluster-size / --resolution are refused."""
    res = write_fgsea(tmp_path / "r.tsv")
    one_error_line(*cluster_cli(capsys, tmp_path / "out", res, "--k", "-3"), "--k must be at least 1")
    one_error_line(*cluster_cli(capsys, tmp_path / "out", res, "--min-cluster-size", "-1"), "--min-cluster-size")
    one_error_line(*cluster_cli(capsys, tmp_path / "out", res, "--resolution", "-1"), "--resolution")


def test_k_zero_in_python():
    """issue 17 #7: the Python API refuses k=0 / n_clusters=0 too (InputError naming the argument)."""
    for bad in ({"k": 0}, {"n_clusters": 0}, {"n_clusters": -2}, {"min_cluster_size": 0}, {"resolution": 0.0}):
        with pytest.raises(InputError, match=next(iter(bad))):
            ClusterOptions(**bad)


# -- 9: files left behind -----------------------------------------------------------------------


def _result(tmp_path, conditions: int = 1):
    paths = [write_fgsea(tmp_path / f"c{i}.tsv", sign=(-1) ** i) for i in range(conditions)]
    arg = [str(p) for p in paths] if conditions > 1 else str(paths[0])
    return run_clustering(arg, method="overlap-knn", layout=True, n_random=100)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_killed_run_leftovers_are_cleaned(tmp_path):
    """issue 17 #9: a killed run's staging folder and hidden temp files are removed by the next run; other files stay."""
    out = tmp_path / "out"
    out.mkdir()
    stage = out / f"{outputs.STAGE_PREFIX}{_dead_pid()}.k2j4h5"
    stage.mkdir()
    (stage / "network.graphml").write_text("<graphml half")
    half = {".network.ab12cd_3.graphml", ".clusters.zz9yy8xx.tsv", ".nes_heatmap.q1w2e3r4.png",
            ".contrastomics-write-check.a1b2c3d4"}
    for name in half:
        (out / name).write_text("half")
    mine = {".keep", "notes.txt", ".clusters.tsv.bak"}  # not ours: never touched
    for name in mine:
        (out / name).write_text("user")
    write_outputs(_result(tmp_path), out)
    assert listing(out) == ALL_OUTPUTS | mine


def test_a_folder_in_the_way_leaves_the_earlier_outputs_whole(tmp_path):
    """An output name taken by a folder fails before any file is replaced (no mixed output folder)."""
    out = tmp_path / "out"
    write_outputs(_result(tmp_path), out)
    before = {n: (out / n).read_bytes() for n in listing(out)}
    (out / "network.graphml").unlink()
    (out / "network.graphml").mkdir()
    with pytest.raises(IsADirectoryError, match="network.graphml: a folder of that name is in the way"):
        write_outputs(_result(tmp_path, conditions=2), out)  # another result: every file would differ
    assert all((out / n).read_bytes() == b for n, b in before.items() if n != "network.graphml")
    assert not any(p.name.startswith(outputs.STAGE_PREFIX) for p in out.iterdir())


def test_single_condition_run_removes_previous_nes_files(tmp_path):
    """issue 17 #9: a single-condition run into a multi-condition run's folder leaves no nes_* files."""
    out = tmp_path / "out"
    write_outputs(_result(tmp_path, conditions=2), out)
    assert listing(out) == MULTI_OUTPUTS
    write_outputs(_result(tmp_path), out, report=False)
    assert listing(out) == ALL_OUTPUTS - {"report.html", "clusters.png"}


def test_failed_write_keeps_the_previous_run_whole(tmp_path, monkeypatch):
    """issue 17 #9: a run that fails while writing changes nothing in --out and leaves nothing hidden."""
    out = tmp_path / "out"
    write_outputs(_result(tmp_path), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    res = _result(tmp_path, conditions=2)

    def fail(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(outputs, "heatmap_png", fail)  # the last file of a run
    with pytest.raises(OSError):
        write_outputs(res, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    fresh = tmp_path / "fresh"
    with pytest.raises(OSError):
        write_outputs(res, fresh)
    assert not fresh.exists()


def test_staging_folder_of_a_running_process_is_kept(tmp_path):
    """issue 17 #9: the cleanup leaves the staging folder of a run still writing into the same --out."""
    out = tmp_path / "out"
    out.mkdir()
    live = out / f"{outputs.STAGE_PREFIX}{os.getppid()}.abc"
    live.mkdir()
    assert outputs.clean_stale(out) == [] and live.exists()


@pytest.mark.slow
def test_kill_9_at_any_stage_leaves_nothing_a_rerun_does_not_clean(tmp_path):
    """issue 17 #9: kill -9 of `cluster` at several moments; the rerun's folder holds exactly its outputs."""
    res = write_fgsea(tmp_path / "r.tsv", n=60)
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", "from contrastomics.cli import main; main()", "cluster", str(res),
           "--method", "overlap-knn", "--out", str(out)]
    env = {**os.environ, "CONTRASTOMICS_CACHE": str(tmp_path / "cache")}
    for delay in (0.5, 1.5, 2.0, 2.1, 2.3, 2.6, 3.5):  # before, while and after writing (~2.5 s a run)
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.kill()
        p.wait()
        assert all(n in ALL_OUTPUTS or n.startswith(outputs.STAGE_PREFIX) for n in listing(out)), listing(out)
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    assert listing(out) == ALL_OUTPUTS


# -- 11: the map without WebGL ------------------------------------------------------------------


def _trace_types(html: str) -> set[str]:
    """Trace types of the page's first figure (the map)."""
    m = re.search(r'Plotly\.newPlot\(\s*"[^"]+",\s*', html)
    data, _ = json.JSONDecoder().raw_decode(html[m.end():])
    return {t["type"] for t in data}


def test_small_map_is_drawn_without_webgl(tmp_path):
    """issue 17 #11: a map of a few hundred points uses SVG scatter (WebGL-less browsers show it)."""
    write_outputs(_result(tmp_path), tmp_path / "out")
    assert _trace_types((tmp_path / "out" / "report.html").read_text()) == {"scatter"}


def test_large_map_uses_webgl(tmp_path, monkeypatch):
    """issue 17 #11: above figures.SVG_MAX_POINTS points the map switches to scattergl."""
    monkeypatch.setattr(figures, "SVG_MAX_POINTS", 5)
    write_outputs(_result(tmp_path), tmp_path / "out")
    assert _trace_types((tmp_path / "out" / "report.html").read_text()) == {"scattergl"}
    assert figures.trace_type(figures.SVG_MAX_POINTS) == "scatter"


# -- 16: very long pathway names ----------------------------------------------------------------


def test_10000_character_term_name(tmp_path, capsys):
    """issue 17 #16: a 10,000-character name is cut with an ellipsis in the terminal and in report cells."""
    long = "VERY_LONG_PATHWAY_" + "X" * 10_000
    res = tmp_path / "r.tsv"
    fgsea_table(names={i: f"{long}_{i}" for i in range(4)}).to_csv(res, sep="\t", index=False)
    code, text = cluster_cli(capsys, tmp_path / "out", res)
    assert code == 0, text[:2000]
    assert max(len(ln) for ln in text.splitlines()) < 300 and "…" in text
    html = (tmp_path / "out" / "report.html").read_text()
    rows = report_rows(html)
    cells = [c for r in rows for c in re.findall(r"<td>(.*?)</td>", r)]
    assert all(len(re.sub(r'title="[^"]*"', "", c)) < 400 for c in cells)
    assert any('title="' in c and "…" in c for c in cells)  # the full name on hover


# -- 17: report, summary and terminal cosmetics ---------------------------------------------------


def test_no_nan_or_bare_zero_in_report_cells(tmp_path, capsys):
    """issue 17 #17: an over-representation result (no NES) shows "–", not "nan" or up/down 0, in the report."""
    res = tmp_path / "enrichr.txt"
    enrichr_table().to_csv(res, sep="\t", index=False)
    code, text = cluster_cli(capsys, tmp_path / "out", res)
    assert code == 0, text
    assert "▲0 ▼0" not in text
    html = (tmp_path / "out" / "report.html").read_text()
    rows = report_rows(html)
    assert rows and not any(re.search(r">\s*nan\s*<", r, flags=re.I) for r in rows)
    for r in rows:  # size, up, down, mean NES: the up/down/NES cells say "not applicable"
        cells = re.findall(r"<td[^>]*>(.*?)</td>", r)
        assert cells[-4:-1] == ["–", "–", "–"], cells
    members = html.split("<h2>Members</h2>", 1)[1]
    assert "NES nan" not in members and "NES nan" not in html


def test_untested_condition_cell_is_a_dash(tmp_path, capsys):
    """issue 17 #17: a cluster one condition did not test shows "–" (not "nan") in its NES column."""
    a = write_fgsea(tmp_path / "a.tsv")
    b = tmp_path / "b.tsv"
    fgsea_table(sign=-1).iloc[:8].to_csv(b, sep="\t", index=False)  # b never tested PATHWAY_8..11
    code, text, out = multi_run(capsys, tmp_path, [a, b])
    assert code == 0, text
    rows = report_rows((out / "report.html").read_text())
    assert not any(">nan<" in r for r in rows)
    assert any(r.endswith("<td>–</td></tr>") for r in rows)


def test_summary_names_method_and_model(tmp_path, capsys):
    """issue 17 #17: the summary shows "method | overlap-knn" without "/ None", and a readable model name."""
    from contrastomics.cluster.api import _model_name
    res = write_fgsea(tmp_path / "r.tsv")
    code, text = cluster_cli(capsys, tmp_path / "out", res)
    assert code == 0, text
    md = (tmp_path / "out" / "summary.md").read_text()
    assert "| method | overlap-knn |" in md and "None" not in md and "| model" not in md
    metrics = (tmp_path / "out" / "report.html").read_text().split('<table class="metrics">')[1].split("</table>")[0]
    assert "<td>method</td><td>overlap-knn</td>" in metrics and "None" not in metrics

    class GtClip:  # the shipped model's class name used to be shown as is
        pass
    assert _model_name(None, GtClip()) == "gtCLIP (shipped)"
    assert _model_name("models/my_gtclip", GtClip()) == "models/my_gtclip"


def test_piped_output_is_not_wrapped_at_80_columns(tmp_path, capsys):
    """issue 17 #17: long terminal lines stay whole when stderr is a pipe or file."""
    res = tmp_path / "r.tsv"
    name = "A_PATHWAY_NAME_THAT_IS_LONGER_THAN_EIGHTY_COLUMNS_WHEN_PRINTED_WITH_ITS_CLUSTER_AND_KEYWORDS"
    fgsea_table(names={i: f"{name}_{i}" for i in range(12)}).to_csv(res, sep="\t", index=False)
    code, text = cluster_cli(capsys, tmp_path / "out", res)
    assert code == 0, text
    wrote = [ln for ln in text.splitlines() if ln.startswith("wrote ")]
    assert len(wrote) == 1 and wrote[0].rstrip().endswith(f"{tmp_path / 'out'}/")  # one line, not wrapped
    assert len(wrote[0]) > 100


def test_readme_lists_every_demo_file(tmp_path, capsys):
    """issue 17 #17: the README's first paragraph names every file `cluster --demo` writes."""
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"`demo/([\w.]+)`", readme.split("\n\n", 3)[2]))
    res = write_fgsea(tmp_path / "r.tsv")  # a single result with the report, as the demo
    code, text = cluster_cli(capsys, tmp_path / "out", res)
    assert code == 0, text
    assert listed == listing(tmp_path / "out")


# -- 24: identical gene sets --------------------------------------------------------------------


def test_identical_gene_sets_share_a_cluster(tmp_path, capsys):
    """issue 17 #24: Enrichr KEGG "Ribosome" and "Coronavirus disease" (same overlap genes) form one cluster, not two singletons."""
    genes = ";".join(f"RPL{j}" for j in range(1, 9))
    res = tmp_path / "kegg.txt"
    enrichr_table([("Ribosome", genes), ("Coronavirus disease", genes)]).to_csv(res, sep="\t", index=False)
    code, text = cluster_cli(capsys, tmp_path / "out", res)
    assert code == 0, text
    tab = pd.read_csv(tmp_path / "out" / "clusters.tsv", sep="\t").set_index("term")
    assert tab.loc["Ribosome", "cluster"] == tab.loc["Coronavirus disease", "cluster"]
    assert tab.loc["Ribosome", "cluster_size"] == 2
    notes = json.loads((tmp_path / "out" / "summary.json").read_text())["notes"]
    assert any("same gene set" in n for n in notes)


def test_same_gene_set_under_two_names_joins_its_twin_cluster():
    """issue 17 #24: a dissolved pathway joins the cluster of its identical twin; one-gene sets do not count."""
    m = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 1, 1, 1]]))
    groups = identical_groups(m)
    assert groups[0] == groups[1] and groups[2] != groups[3]  # {2}, {2}: one gene, no evidence
    labels, moved = join_identical(np.array([0, -1, -1, -1, 0]), groups, fdr=np.array([.01, .02, .03, .04, .05]))
    assert labels.tolist() == [0, 0, -1, -1, 0] and moved == 1
    # opposite NES signs under --split-direction stay apart
    labels, moved = join_identical(np.array([-1, -1, 0, 0, 0]), groups, np.zeros(5), sides=np.array([1, -1, 1, 1, 1]))
    assert labels[:2].tolist() == [-1, -1] and moved == 0


def test_identical_gene_sets_stay_together_at_any_n_clusters(monkeypatch):
    """issue 17 #24 with --n-clusters K: splitting clusters to reach K never separates two pathways
    with the same gene set (they are joined after the splits, before the merges). The split here
    is made to put one twin alone, as a Leiden re-partition may."""
    import contrastomics.cluster.api as api
    from contrastomics.cluster import run_clustering

    real_split = api.split_to

    def split_twins_apart(lab, k, adj, **kw):
        lab = real_split(lab, k, adj, **kw).copy()
        lab[-1] = lab.max() + 1  # the last pathway (TWIN) alone in a new cluster
        return lab

    monkeypatch.setattr(api, "split_to", split_twins_apart)

    rng = np.random.default_rng(0)
    rows = []
    for g in range(3):
        pool = [f"G{g}_{j}" for j in range(40)]
        for i in range(10):
            rows.append({"term": f"P{g}_{i}", "name": f"pathway {g} {i}", "nes": 1.5, "fdr": 0.01,
                         "genes": list(rng.choice(pool, size=12, replace=False))})
    twin = list(rows[3]["genes"])
    rows.append({"term": "TWIN", "name": "twin of P0_3", "nes": 1.5, "fdr": 0.02, "genes": twin})
    df = pd.DataFrame(rows)
    for k in (2, 3, 5, 8):
        res = run_clustering(df, method="overlap-knn", n_clusters=k, fdr_cutoff=0.05, layout=False, metrics=False)
        tab = res.table.set_index("term")
        assert tab.loc["TWIN", "cluster"] == tab.loc["P0_3", "cluster"], k
