"""CLI and Python-API option checks: seeds, counts, formats, full disks, --version, --gmt files,
the console's cluster list, and the documented output columns (tester sweep 2)."""
from __future__ import annotations

import errno
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest

import contrastomics
from contrastomics.cluster import ClusterOptions, cluster_gsea, run_clustering
from contrastomics.data.genesets import read_gmt
from contrastomics.errors import InputError
from contrastomics.report import outputs, write_outputs
from contrastomics.report.tables import metric_rows
from cli_helpers import cli, one_error_line

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTRASTOMICS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("COLUMNS", raising=False)


def fgsea_table(n: int = 12, sign: float = 1.0, prefix: str = "PATHWAY") -> pd.DataFrame:
    """An fgsea result: ``n`` pathways in groups of four sharing leading-edge genes."""
    return pd.DataFrame([{
        "pathway": f"{prefix}_{i}", "pval": 1e-4, "padj": 0.01 * (i % 3 + 1), "ES": 0.5 * sign,
        "NES": sign * (1.5 + 0.1 * i), "size": 30,
        "leadingEdge": ",".join(f"{prefix[0]}{(i // 4) * 20 + j}" for j in range(10 + i % 4))} for i in range(n)])


def write_fgsea(path: Path, **kw) -> Path:
    fgsea_table(**kw).to_csv(path, sep="\t", index=False)
    return path


# -- 1: negative seeds ----------------------------------------------------------------------------


def test_negative_seed_is_one_error_line_in_every_command(tmp_path, capsys, no_work):
    res = write_fgsea(tmp_path / "r.tsv")
    for method in ("joint", "overlap"):
        one_error_line(*cli(capsys, "cluster", res, "--method", method, "--seed", "-1", "--out", tmp_path / "o"),
                       "--seed must be a non-negative integer")
    tsv = tmp_path / "clusters.tsv"
    tsv.write_text("cluster\tterm\n0\ta\n")
    one_error_line(*cli(capsys, "cluster-metrics", tsv, "--seed", "-1"), "--seed must be a non-negative integer")
    rnk = tmp_path / "r.rnk"
    rnk.write_text("".join(f"G{i}\t{1 - i / 50:.3f}\n" for i in range(100)))
    one_error_line(*cli(capsys, "gsea", rnk, "--seed", "-1", "--out", tmp_path / "g"),
                   "--seed must be a non-negative integer")
    assert not (tmp_path / "o").exists() and not (tmp_path / "g").exists()


def test_gsea_threads_below_one(tmp_path, capsys, no_work):
    rnk = tmp_path / "r.rnk"
    rnk.write_text("".join(f"G{i}\t{1 - i / 50:.3f}\n" for i in range(100)))
    one_error_line(*cli(capsys, "gsea", rnk, "--threads", "0", "--out", tmp_path / "g"),
                   "--threads must be at least 1")


def test_gsea_checks_the_clustering_options_before_its_permutations(tmp_path, capsys, no_work):
    rnk = tmp_path / "r.rnk"
    rnk.write_text("".join(f"G{i}\t{1 - i / 50:.3f}\n" for i in range(100)))
    for args, needle in ((("--fdr", "2"), "--fdr must be a number in (0, 1]"), (("--fdr", "0"), "--fdr must be"),
                         (("--method", "foo"), "unknown method 'foo'")):
        one_error_line(*cli(capsys, "gsea", rnk, *args, "--out", tmp_path / "g"), needle)
    assert not (tmp_path / "g").exists()


# -- 2: a full disk -------------------------------------------------------------------------------


def _disk_full_at(monkeypatch, name: str) -> None:
    write_text = Path.write_text

    def full(self, *a, **k):
        if self.name == name:
            raise OSError(errno.ENOSPC, "No space left on device")
        return write_text(self, *a, **k)
    monkeypatch.setattr(Path, "write_text", full)


def test_full_disk_is_one_error_line_and_writes_nothing(tmp_path, capsys, monkeypatch):
    res = write_fgsea(tmp_path / "r.tsv")
    out = tmp_path / "out"
    _disk_full_at(monkeypatch, "report.html")
    line = one_error_line(*cli(capsys, "cluster", res, "--method", "overlap-knn", "--out", out),
                          f"cannot write {out / 'report.html'}: No space left on device")
    assert line == f"error: cannot write {out / 'report.html'}: No space left on device"
    assert not out.exists()  # made for this run: nothing half-written is left


def test_full_disk_in_python_names_the_file_and_keeps_the_previous_run(tmp_path, monkeypatch):
    res = run_clustering(str(write_fgsea(tmp_path / "r.tsv")), method="overlap-knn", layout=True, n_random=100)
    out = tmp_path / "out"
    write_outputs(res, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    _disk_full_at(monkeypatch, "summary.md")
    with pytest.raises(OSError, match=re.escape(f"cannot write {out / 'summary.md'}: No space left")) as exc:
        write_outputs(res, out)
    assert exc.value.errno == errno.ENOSPC
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# -- 3: --version ---------------------------------------------------------------------------------


def test_version(capsys):
    code, text = cli(capsys, "--version")
    assert code == 0 and text.strip() == f"contrastomics {contrastomics.__version__}"


# -- 4: Python API arguments ----------------------------------------------------------------------


@pytest.mark.parametrize("bad, needle", [
    ({"fdr_cutoff": "0.1"}, "fdr_cutoff"), ({"fdr_cutoff": None}, "fdr_cutoff"), ({"fdr_cutoff": 0}, "fdr_cutoff"),
    ({"fdr_cutoff": float("nan")}, "fdr_cutoff"), ({"seed": -1}, "seed must be a non-negative integer"),
    ({"seed": 1.5}, "seed"), ({"n_random": 0}, "n_random"), ({"n_random": -5}, "n_random"),
    ({"n_keywords": 0}, "n_keywords"), ({"n_keywords": -1}, "n_keywords"), ({"attach_threshold": "x"}, "attach_threshold"),
    ({"attach_threshold": True}, "attach_threshold")])
def test_bad_options_are_refused(bad, needle):
    with pytest.raises(InputError, match=re.escape(needle)):
        ClusterOptions(**bad)
    with pytest.raises(InputError, match=re.escape(needle)):
        cluster_gsea("never_read.tsv", **bad)


def test_good_options_still_pass():
    ClusterOptions(fdr_cutoff=1, seed=0, n_random=1, n_keywords=1, attach_threshold=0.2)
    ClusterOptions(fdr_cutoff=0.25, seed=2**40, attach_threshold="auto")


@pytest.mark.parametrize("bad, needle", [
    (None, "result must be a result file path, a pandas DataFrame"), (5, "got int"),
    ([], "result is an empty list"), ({}, "result is an empty dict"),
    (pd.Series(["a", "b"]), "pandas Series"), ([5], "result[0] must be"), ({"a": None}, "result['a'] must be")])
def test_bad_result_argument_is_refused_before_reading(bad, needle):
    with pytest.raises(InputError, match=re.escape(needle)):
        cluster_gsea(bad)


# -- 5: --split-direction with one cluster --------------------------------------------------------


def test_split_direction_raises_k_to_the_directions_present(tmp_path):
    df = pd.concat([fgsea_table(8), fgsea_table(8, sign=-1.0, prefix="DOWN")], ignore_index=True)
    for method in ("joint", "overlap-knn"):
        with pytest.warns(UserWarning, match="--split-direction keeps up and down apart: 2 clusters at least"):
            res = run_clustering(df, method=method, n_clusters=1, split_direction=True, metrics=False)
        t = res.table
        assert (t.groupby("cluster")["direction"].nunique() == 1).all(), method
        assert set(t["direction"]) == {1, -1}


def test_split_direction_never_joins_signs_at_the_default_count_of_a_tiny_result():
    # 3 pathways (2 up, 1 down): the default count is 1, but a cut under --split-direction keeps one
    # cluster per direction at least (it had returned one cluster of both signs)
    df = pd.concat([fgsea_table(2), fgsea_table(1, sign=-1.0, prefix="DOWN")], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_clustering(df, split_direction=True)
    t = res.table
    assert (t.groupby("cluster")["direction"].nunique() == 1).all()
    assert "1 by construction" not in dict(metric_rows(res.summary))["NES sign coherence"]  # n/a: no cluster


# -- 6: --fdr 1 keeps every pathway ---------------------------------------------------------------


def test_fdr_cutoff_one_keeps_every_pathway():
    df = fgsea_table(12).assign(padj=[1.0] * 4 + [0.5] * 8)
    res = run_clustering(df, method="overlap-knn", fdr_cutoff=1, metrics=False)
    assert len(res.table) == 12


# -- 7: --format errors in the CLI's words --------------------------------------------------------


def test_wrong_format_is_named_as_the_option(tmp_path, capsys):
    res = write_fgsea(tmp_path / "r.tsv")
    line = one_error_line(*cli(capsys, "cluster", res, "--format", "gseapy", "--out", tmp_path / "o"),
                          "--format gseapy", "--format fgsea")
    assert "format=" not in line
    line = one_error_line(*cli(capsys, "cluster", res, "--format", "bogus", "--out", tmp_path / "o"),
                          "unknown --format 'bogus'", "--column")
    assert "format=" not in line


# -- 8: every cluster is counted on the console ---------------------------------------------------


def test_console_says_how_many_clusters_are_not_listed(tmp_path, capsys):
    res = write_fgsea(tmp_path / "r.tsv", n=60)
    code, text = cli(capsys, "cluster", res, "--method", "overlap-knn", "--n-clusters", "13", "--no-report",
                     "--out", tmp_path / "o")
    assert code == 0, text
    n = int((pd.read_csv(tmp_path / "o" / "clusters.tsv", sep="\t").groupby("cluster").size() >= 2).sum())
    assert n > 10, text
    assert f"  ... and {n - 10} more (see clusters.tsv)" in text


# -- 9: gsea warns once ---------------------------------------------------------------------------


def test_gsea_shows_each_warning_once(tmp_path, capsys, monkeypatch):
    """The GSEA run and the clustering of its table warn alike (``gseapy: X`` and ``PATH: X``)."""
    import contrastomics.enrichment.run as run
    note = "1 of 40 distinct genes do not look like human gene symbols (e.g. 1234567): map them first"

    def fake_run(data, library, out, **kw):
        warnings.warn(f"gseapy: {note}")
        path = Path(out) / "gseapy.gene_set.prerank.report.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        fgsea_table(12).to_csv(path, index=False)
        return path

    monkeypatch.setattr(run, "run_to_folder", fake_run)
    monkeypatch.setattr(outputs, "run_clustering", lambda *a, **k: (warnings.warn(
        f"{tmp_path / 'g' / 'gseapy.gene_set.prerank.report.csv'}: {note}"), run_clustering(*a, **k))[1])
    rnk = tmp_path / "r.rnk"
    rnk.write_text("G1\t1\n")
    code, text = cli(capsys, "gsea", rnk, "--method", "overlap-knn", "--no-report", "--out", tmp_path / "g")
    assert code == 0, text
    assert text.count("do not look like human gene symbols") == 1, text


# -- 10: every output column is documented --------------------------------------------------------


def test_every_output_column_is_in_the_docs_table(tmp_path):
    doc = (ROOT / "docs" / "clustering.md").read_text()
    table = doc.split("## The pathway table", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| (.+?) \|", table, flags=re.M))
    names = {n.strip("`") for cell in documented for n in cell.split(", ")}
    paths = [str(write_fgsea(tmp_path / f"c{i}.tsv", sign=(-1) ** i)) for i in range(2)]
    for result in (paths[0], paths):
        df = cluster_gsea(result, method="overlap-knn", layout=True, n_random=100)
        cols = {re.sub(r"^(nes|fdr)_c\d$", r"\1_<name>", c) for c in df.columns}
        assert cols <= names, cols - names


# -- 11: --gmt that is not a GMT, or matches nothing ----------------------------------------------


def test_result_table_given_as_gmt_is_refused(tmp_path, capsys):
    res = tmp_path / "r.tsv"
    pd.DataFrame({"Term": ["A_SET", "B_SET"], "ES": [-0.48, 0.57], "NES": [-2.59169, 2.38917],
                  "NOM p-val": [0.0, 0.0012], "FDR q-val": [0.0, 0.021], "Tag %": ["89/177", "85/151"],
                  "Lead_genes": ["CEBPB;MCL1", "DCK;BARD1"]}).to_csv(res, sep="\t", index=False)
    gmt = tmp_path / "notgmt.gmt"
    gmt.write_bytes(res.read_bytes())
    with pytest.raises(InputError, match=re.escape(f"{gmt}:1: not a GMT file")):
        read_gmt(gmt)
    one_error_line(*cli(capsys, "cluster", res, "--gmt", gmt, "--out", tmp_path / "o"), f"{gmt}:1", "not a GMT")
    headless = tmp_path / "headless.gmt"
    headless.write_text("".join(line + "\n" for line in res.read_text().splitlines()[1:]))
    with pytest.raises(InputError, match=re.escape(f"{headless}:1: not a GMT file: 6 of the 10 'genes'")):
        read_gmt(headless)


def test_entrez_and_symbol_gmts_are_read(tmp_path):
    gmt = tmp_path / "entrez.gmt"
    gmt.write_text("SET_A\tna\t7157\t672\t675\nSET_B\thttp://x\t1956\t2064\nSET_C\tna\tTP53,1.0\tRP11-34P13.7\n")
    lib = read_gmt(gmt)
    assert lib.gene_sets[0] == ["672", "675", "7157"] or set(lib.gene_sets[0]) == {"7157", "672", "675"}


def test_gmt_matching_no_pathway_is_a_warning(tmp_path, capsys):
    res = write_fgsea(tmp_path / "r.tsv")
    gmt = tmp_path / "other.gmt"
    gmt.write_text("OTHER_1\tna\tP1\tP2\tP3\nOTHER_2\tna\tP4\tP5\n")
    code, text = cli(capsys, "cluster", res, "--method", "overlap-knn", "--gmt", gmt, "--no-report",
                     "--out", tmp_path / "o")
    assert code == 0, text
    assert any(ln.startswith("warning:") and "none of the 12 pathways" in ln for ln in text.splitlines()), text
