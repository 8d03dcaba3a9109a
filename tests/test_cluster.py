import hashlib
import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.metrics import adjusted_rand_score

from contrastomics import cluster_gsea
from contrastomics.cluster import run_clustering
from contrastomics.cluster.communities import attach_small, leiden_auto, mcl, order_labels, target_clusters
from contrastomics.cluster.embed import DEFAULT_WEIGHTS, StandInModel, joint_embedding
from contrastomics.cluster.graph import knn_from_embedding, knn_from_similarity
from contrastomics.cluster.keywords import title_keywords
from contrastomics.data.genesets import GeneSetLibrary
from contrastomics.errors import InputError

# synthetic gene names are not human symbols; that warning is tested on its own below
pytestmark = pytest.mark.filterwarnings("ignore:.*not human gene symbols")

THEMES = {
    "alpha": ("kinase phosphorylation cascade", +1),
    "beta": ("ribosome translation elongation", +1),
    "gamma": ("interferon antiviral immunity", -1),
    "delta": ("cholesterol sterol biosynthesis", -1),
}


class FakeModel(StandInModel):
    """Hashed gene sets (from the stand-in) + hashed bag-of-words texts: fast and deterministic."""

    cache_key = "fake-test-model"

    def embed_texts(self, texts):
        out = np.zeros((len(texts), 64), np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                h = int(hashlib.md5(w.encode()).hexdigest()[:8], 16)
                out[i, h % 64] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def synthetic_result(n_per=12, seed=0, shared_text=False, pool_size=40):
    """Four themes; each pathway draws 15 genes from its theme's pool, leading edge = its first 8."""
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for ti, (theme, (words, sign)) in enumerate(THEMES.items()):
        pool = [f"{theme.upper()}{j}" for j in range(pool_size)]
        for p in range(n_per):
            genes = list(rng.choice(pool, 15, replace=False))
            rows.append({"term": f"{theme.upper()}_PATHWAY_{p}", "name": f"{words} pathway {p}" if not shared_text
                         else f"generic pathway {ti}{p}", "nes": sign * (1.5 + rng.random()),
                         "es": sign * 0.5, "pvalue": 0.001, "fdr": float(rng.random() * 0.04), "size": 15,
                         "genes": genes[:8], "direction": sign, "full": genes})
            truth.append(ti)
    return pd.DataFrame(rows), np.array(truth)


@pytest.fixture
def model():
    return FakeModel()


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTRASTOMICS_CACHE", str(tmp_path / "cache"))


def labels_in_input_order(df_in, out):
    return out.set_index("term").loc[df_in["term"], "cluster"].to_numpy()


def test_joint_recovers_planted_themes_and_is_deterministic(model):
    df, truth = synthetic_result()
    out = cluster_gsea(df, model=model, n_clusters=4, gene_sets=None)
    lab = labels_in_input_order(df, out)
    assert adjusted_rand_score(truth, lab) == pytest.approx(1.0)
    s = out.attrs["summary"]
    assert s["metrics"]["n_clusters"] == 4 and s["metrics"]["coverage"] == 1.0
    assert s["metrics"]["nes_coherence_adjusted"] == pytest.approx(1.0)
    # ids ordered by size then best FDR, a representative per cluster, keywords from the theme words
    assert out.groupby("cluster").size().is_monotonic_decreasing
    assert out.groupby("cluster")["representative"].sum().eq(1).all()
    kw = dict(zip(out["cluster"], out["cluster_keywords"]))
    assert any("interferon" in v or "antiviral" in v for v in kw.values())
    again = cluster_gsea(df, model=model, n_clusters=4)
    assert (again["cluster"].to_numpy() == out["cluster"].to_numpy()).all()


def test_text_only_cannot_see_genes_but_genes_method_can(model):
    df, truth = synthetic_result(shared_text=True)
    genes = labels_in_input_order(df, cluster_gsea(df, model=model, method="genes", n_clusters=4))
    text = labels_in_input_order(df, cluster_gsea(df, model=model, method="text", n_clusters=4))
    assert adjusted_rand_score(truth, genes) == pytest.approx(1.0)
    assert adjusted_rand_score(truth, text) < 0.5


def test_split_direction_never_mixes_signs(model):
    df, _ = synthetic_result()
    # flip half of one theme: without splitting they share genes and cluster together
    flip = df.index[df["term"].str.startswith("ALPHA")][:6]
    df.loc[flip, "nes"] *= -1
    no_direction = {k: v for k, v in DEFAULT_WEIGHTS.items() if k != "direction"}
    mixed = cluster_gsea(df, model=model, n_clusters=4, weights=no_direction)
    assert (mixed.groupby("cluster")["nes"].agg(lambda s: (s > 0).nunique()) > 1).any()
    split = cluster_gsea(df, model=model, n_clusters=5, weights=no_direction, split_direction=True)
    assert (split.groupby("cluster")["nes"].agg(lambda s: (s > 0).nunique()) == 1).all()
    # the default weighs direction in its similarity: the flipped half leaves its theme
    default = cluster_gsea(df, model=model, n_clusters=5)
    assert (default.groupby("cluster")["nes"].agg(lambda s: (s > 0).nunique()) == 1).all()


@pytest.mark.parametrize("method", ["overlap", "overlap-knn", "kappa"])
def test_overlap_baselines_find_the_gene_themes(method):
    # pools of 25: two members share ~9 of 15 genes, above EnrichmentMap's combined cutoff 0.375
    df, truth = synthetic_result(pool_size=25)
    lib = GeneSetLibrary.from_gene_sets(dict(zip(df["term"], df["full"])))
    out = cluster_gsea(df, method=method, n_clusters=4, gene_sets=lib)
    lab = labels_in_input_order(df, out)
    assert adjusted_rand_score(truth, lab) > 0.9
    assert out.attrs["summary"]["method"] == method


def test_semantic_needs_go_terms():
    df, _ = synthetic_result()
    with pytest.raises(InputError, match="GO result"):
        cluster_gsea(df, method="semantic")


def test_options_are_one_dataclass_behind_both_entry_points(model):
    from contrastomics.cluster import ClusterOptions
    df, truth = synthetic_result()
    opts = ClusterOptions(model=model, n_clusters=4)
    a = run_clustering(df, opts, metrics=False)
    b = run_clustering(df, model=model, n_clusters=4, metrics=False)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert adjusted_rand_score(truth, labels_in_input_order(df, a.table)) == pytest.approx(1.0)
    with pytest.raises(TypeError, match=r"cluster_gsea\(\) got an unexpected keyword argument 'methd'"):
        cluster_gsea(df, methd="joint")
    with pytest.raises(InputError, match="unknown method"):
        ClusterOptions(method="nope")
    import inspect
    params = inspect.signature(cluster_gsea).parameters
    assert params["fdr_cutoff"].default == 0.05 and params["method"].kind is inspect.Parameter.KEYWORD_ONLY


def test_baseline_graph_gives_the_graph_run_clustering_uses():
    from contrastomics.cluster import baselines as bl
    from contrastomics.cluster.pathways import prepare
    df, _ = synthetic_result(pool_size=25)
    lib = GeneSetLibrary.from_gene_sets(dict(zip(df["term"], df["full"])))
    pw = prepare(df, gene_sets=lib)
    adj, sim, go = bl.baseline_graph("kappa", pw, 10)
    res = run_clustering(df, method="kappa", gene_sets=lib, metrics=False)
    assert (adj != res.graph).nnz == 0 and sim.shape == (len(df), len(df)) and go is None
    with pytest.raises(InputError, match="GO result"):
        bl.baseline_graph("semantic", pw, 10)


def test_text_embeddings_are_cached_once_not_also_by_the_encoder(model, tmp_path):
    """The npz cache keeps the joint-space text vectors; the encoder's own cache is off beneath it."""
    from contrastomics.cluster.embed import TextCache

    class Encoder:
        cache = "sqlite"  # stands for an EmbeddingCache

    class WithEncoder(FakeModel):
        cache_key = "fake-with-encoder"
        text_encoder = Encoder()

        def embed_texts(self, texts):
            self.seen = self.text_encoder.cache
            return super().embed_texts(texts)

    m = WithEncoder()
    cache = TextCache(m, root=tmp_path)
    x = cache.embed(["kinase cascade", "ribosome"])
    assert m.seen is None and m.text_encoder.cache == "sqlite"  # off while embedding, restored after
    assert cache.path.exists() and np.allclose(x, FakeModel().embed_texts(["kinase cascade", "ribosome"]))


def test_bad_inputs_raise_or_warn_once(model):
    df, _ = synthetic_result()
    with pytest.raises(InputError, match="no pathways"):
        cluster_gsea(df.iloc[:0], model=model)
    with pytest.raises(InputError, match=r"no pathway passes FDR < 0.001.*--fdr"):
        cluster_gsea(df.assign(fdr=0.2), model=model, fdr_cutoff=0.001)
    with pytest.raises(InputError, match=r"none is significant even at FDR < 0.25 \(--fdr 1 would cluster every"):
        cluster_gsea(df.assign(fdr=0.6), model=model)
    with pytest.raises(InputError, match="unknown method"):
        cluster_gsea(df, method="magic")
    with pytest.raises(InputError, match=r"unknown result columns.*'term'.*--column fdr=NAME"):
        cluster_gsea(df.drop(columns="fdr"), model=model)
    with pytest.warns(UserWarning, match="generic table"):  # no NES but a direction: signed -log10 p stand-in
        signed = cluster_gsea(df.drop(columns="nes"), model=model, metrics=False)
    assert len(signed) > 0 and (np.sign(signed["nes"]) == signed["direction"]).all()
    with pytest.warns(UserWarning, match="no NES column: direction taken from the sign of ES"):
        by_es = cluster_gsea(df.drop(columns=["nes", "direction"]), model=model, metrics=False)
    assert len(by_es) > 0 and (np.sign(by_es["es"]) == by_es["direction"]).all()
    with pytest.warns(UserWarning, match="direction of each pathway is unknown"):  # no NES, ES or direction
        unknown = cluster_gsea(df.drop(columns=["nes", "direction", "es"]), model=model, metrics=False)
    assert unknown["nes"].isna().all() and len(unknown) > 0 and (unknown["direction"] == 0).all()
    bad = df.copy()
    bad.loc[:2, "nes"] = np.nan
    bad = pd.concat([bad, bad.iloc[[5]]], ignore_index=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = cluster_gsea(bad, model=model, n_clusters=4)
    msgs = " | ".join(str(x.message) for x in w)
    assert "3 pathway(s) with a missing (NaN) NES" in msgs and "1 duplicate pathway name" in msgs
    assert len(out) == len(df) - 3


def test_non_human_genes_warn(model):
    df, _ = synthetic_result()
    human = [f"{t.upper()}{j}" for t in THEMES for j in range(40)]
    mouse = df.assign(genes=[[g.capitalize() for g in gl] for gl in df["genes"]])
    from contrastomics.cluster.pathways import prepare
    with pytest.warns(UserWarning, match="not human gene symbols"):
        prepare(mouse.assign(genes=[["Trp53", "Cdkn1a", "Mdm2"]] * len(mouse)), human_genes=human)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prepare(df, human_genes=human)
    from contrastomics.cluster.pathways import _check_genes
    few = _check_genes([["TP53"] * 1 + [f"G{i}" for i in range(300)]], [f"G{i}" for i in range(300)])
    assert few and "1 of 301 leading-edge genes (<1%)" in few[0]  # not "(0%)"
    dates = _check_genes([["2-Mar", "SEPT9", "G1"]], ["G1"])  # spreadsheet dates are named as such
    assert "1 look like dates a spreadsheet made of symbols, e.g. 2-Mar" in dates[0]
    assert "dates" not in few[0]


def test_multi_condition_reports_nes_per_condition(model):
    a, _ = synthetic_result(seed=0)
    b, _ = synthetic_result(seed=1)
    b["nes"] = -b["nes"]
    b = b.iloc[: len(b) // 2]
    out = cluster_gsea([a, b], names=["ctrl", "treated"], model=model, n_clusters=4)
    assert {"nes_ctrl", "nes_treated", "fdr_ctrl", "fdr_treated"} <= set(out.columns)
    assert out["nes_treated"].notna().sum() == len(b)
    clusters = pd.DataFrame(out.attrs["clusters"])
    assert {"mean_nes_ctrl", "mean_nes_treated"} <= set(clusters.columns)
    # the flipped condition has the opposite mean NES in every cluster where it is present
    both = clusters.dropna(subset=["mean_nes_treated"])
    assert (np.sign(both["mean_nes_ctrl"]) == -np.sign(both["mean_nes_treated"])).all()


def test_joint_embedding_cosine_is_weighted_mean_of_block_cosines(model):
    le = [["A", "B", "C"], ["A", "B", "D"]]
    full = [["A", "B", "C", "E"], ["X", "Y", "Z", "W"]]
    texts = ["kinase cascade", "kinase signalling"]
    w = {"leading_edge": 0.5, "full_set": 0.2, "text": 0.3}
    x = joint_embedding(model, le, full, texts, w, use_cache=False)
    cos = lambda e: float(e[0] @ e[1])  # noqa: E731
    expect = 0.5 * cos(model.embed_gene_sets(le)) + 0.2 * cos(model.embed_gene_sets(full)) + 0.3 * cos(model.embed_texts(texts))
    assert float(x[0] @ x[1]) == pytest.approx(expect, abs=1e-5)
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


def test_knn_graph_is_symmetric_and_respects_forbidden_pairs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    g = knn_from_embedding(x, 5, block=7)
    assert (g != g.T).nnz == 0 and g.diagonal().sum() == 0
    assert (np.diff(g.indptr) >= 5).all()
    # the block loop and a dense similarity give the same graph
    s = x @ x.T
    g2 = knn_from_similarity(s, 5, min_similarity=-np.inf)
    assert abs(g - g2.maximum(g)).max() < 1e-5
    sign = np.where(np.arange(50) < 25, 1, -1)
    gs = knn_from_embedding(x, 5, forbid=sign).tocoo()
    assert (sign[gs.row] == sign[gs.col]).all()


def cliques(sizes, weak=0.01):
    n = sum(sizes)
    a = np.zeros((n, n))
    start = 0
    for s in sizes:
        a[start:start + s, start:start + s] = 1
        start += s
    a[np.arange(n - 1), np.arange(1, n)] = np.maximum(a[np.arange(n - 1), np.arange(1, n)], weak)
    a = np.maximum(a, a.T)
    np.fill_diagonal(a, 0)
    return sp.csr_matrix(a)


def test_mcl_splits_two_cliques():
    lab = mcl(cliques([6, 6]))
    assert adjusted_rand_score(np.repeat([0, 1], 6), lab) == 1.0


def test_leiden_auto_hits_the_target_count():
    lab, res = leiden_auto(cliques([10] * 6), 6, min_size=3)
    assert len(np.unique(lab)) == 6 and res > 0
    # round 13: never above n / 15 (issue 15's bound), at any size; at least 2 from 4 pathways
    assert target_clusters(600) == 40 and target_clusters(383) == 25 and target_clusters(50) == 3
    assert target_clusters(81) == 5 and target_clusters(20) == 2 and target_clusters(3) == 1
    assert all(target_clusters(n) <= n / 15 for n in range(30, 5000))
    assert target_clusters(600, per=17) == 35  # the earlier rounds' rule


def test_attach_small_joins_close_members_and_keeps_far_ones_single():
    x = np.array([[1, 0], [1, 0.05], [1, -0.05], [0, 1], [0.05, 1], [-0.05, 1], [0.99, 0.1], [-1, 0]], np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    raw = np.array([0, 0, 0, 1, 1, 1, 2, 3])
    lab, info = attach_small(raw, x, min_size=3, threshold=0.9)
    assert lab[6] == lab[0] and lab[7] == -1
    assert info == {"attached": 1, "singletons": 1, "attach_threshold": 0.9}
    ordered = order_labels(lab, np.linspace(0.01, 0.02, 8))
    assert sorted(set(ordered)) == [0, 1, 2] and ordered[7] == 2


def test_keywords_prefer_cluster_specific_phrases():
    texts = ["kinase cascade signalling", "kinase phosphorylation", "kinase cascade",
             "ribosome translation", "ribosome assembly translation", "translation elongation ribosome"]
    kw = title_keywords(np.array([0, 0, 0, 1, 1, 1]), texts, n_keywords=2)
    assert kw[0][0].startswith("kinase") and "ribosome" in " ".join(kw[1]) or "translation" in " ".join(kw[1])
    assert not any("signalling" == k for k in kw[1])


# ---------------------------------------------------------------------- CLI
def run_cli(*args):
    return subprocess.run([sys.executable, "-c", "from contrastomics.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=300)


def write_gseapy(df, path):
    from contrastomics.enrichment import to_gseapy_table
    to_gseapy_table(df).to_csv(path, sep="\t", index=False)


def test_cli_writes_all_outputs_and_metrics(tmp_path):
    df, _ = synthetic_result()
    res = tmp_path / "res.tsv"
    write_gseapy(df, res)
    out = tmp_path / "out"
    r = run_cli("cluster", str(res), "--method", "overlap-knn", "--out", str(out), "--n-clusters", "4")
    assert r.returncode == 0, r.stderr
    for f in ("clusters.tsv", "clusters.json", "summary.json", "summary.md", "report.html", "clusters.png"):
        assert (out / f).stat().st_size > 0, f
    tab = pd.read_csv(out / "clusters.tsv", sep="\t")
    assert {"cluster", "cluster_label", "nes", "fdr", "size", "leading_edge_genes"} <= set(tab.columns)
    # label support as computed, every digit: a reader comparing it with 1/3 gets the run's answer
    summary = json.loads((out / "summary.json").read_text())
    shares = tab.groupby("cluster")["cluster_label_support"].first().dropna()
    assert int((shares < 1 / 3).sum()) == summary["metrics"]["labels_low_support"]
    page = (out / "report.html").read_text()
    assert "Label support: the share of the other members near the label" in page
    assert ("are mixed" in page) == (summary["metrics"]["labels_low_support"] > 0)
    # each mixed cluster says so on the console, with its sub-themes or that it has none
    assert r.stderr.count("mixed;") == summary["metrics"]["labels_low_support"]  # 4 clusters: all listed (console: stderr)
    r = run_cli("cluster-metrics", str(out / "clusters.tsv"), "--out", str(tmp_path / "m.json"))
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "m.json").read_text())
    assert m["n_clusters"] == 4 and m["nes_coherence_adjusted"] == pytest.approx(1.0)


def test_metrics_of_a_written_clusters_tsv_match_the_run(model, tmp_path):
    from contrastomics.cluster.metrics import evaluate_file
    from contrastomics.report import write_outputs
    df, _ = synthetic_result()
    res = run_clustering(df, model=model, n_clusters=4, n_random=100)
    write_outputs(res, tmp_path, report=False)
    summary = evaluate_file(tmp_path / "clusters.tsv", n_random=100)
    assert summary["n_significant"] == len(df) and summary["method"] == "(from file)"
    for key in ("n_clusters", "coverage", "nes_coherence", "jaccard_within"):
        assert summary["metrics"][key] == pytest.approx(res.summary["metrics"][key]), key


def test_api_takes_a_tools_table_in_memory():
    from contrastomics.enrichment import demo_result_path, read_gsea_result
    raw = pd.read_csv(demo_result_path(), sep="\t")  # gseapy's res2d layout, as a user holds it
    a = cluster_gsea(raw, method="overlap-knn", metrics=False)
    b = cluster_gsea(read_gsea_result(demo_result_path()), method="overlap-knn", metrics=False)
    assert list(a["term"]) == list(b["term"]) and (a["cluster"].to_numpy() == b["cluster"].to_numpy()).all()


def test_cli_reads_any_table_with_named_columns(tmp_path):
    df, _ = synthetic_result()
    res = tmp_path / "mine.csv"
    pd.DataFrame({"Pathway": df["term"], "Score": df["nes"], "q": df["fdr"],
                  "Hits": [" ".join(g) for g in df["genes"]]}).to_csv(res, index=False)
    out = tmp_path / "out"
    r = run_cli("cluster", str(res), "--column", "term=Pathway", "--column", "fdr=q", "--column", "nes=Score",
                "--column", "genes=Hits", "--method", "overlap-knn", "--out", str(out), "--no-report")
    assert r.returncode == 0, r.stderr
    tab = pd.read_csv(out / "clusters.tsv", sep="\t")
    assert set(tab["term"]) == set(df.loc[df["fdr"] < 0.05, "term"]) and tab["nes"].notna().all()
    r = run_cli("cluster", str(res), "--column", "term=Pathway", "--format", "fgsea", "--out", str(tmp_path / "o2"))
    assert r.returncode == 2 and "not both" in r.stderr


@pytest.mark.parametrize("case", ["empty", "no_sig", "bad_format", "bad_gmt", "no_file", "bad_column"])
def test_cli_bad_input_is_one_line_and_leaves_no_output(tmp_path, case):
    df, _ = synthetic_result()
    res = tmp_path / "res.tsv"
    write_gseapy(df, res)
    args = ["cluster", str(res), "--method", "overlap-knn", "--out", str(tmp_path / "out")]
    if case == "empty":
        res.write_text("")
    elif case == "no_sig":
        args += ["--fdr", "0.00001"]
    elif case == "bad_format":
        args += ["--format", "not-a-tool"]
    elif case == "bad_column":
        args += ["--column", "term=Term", "--column", "fdr"]
    elif case == "bad_gmt":
        (tmp_path / "bad.gmt").write_text("lonely_field\n")
        args += ["--gmt", str(tmp_path / "bad.gmt")]
    else:
        args[1] = str(tmp_path / "missing.tsv")
    r = run_cli(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stderr.strip().startswith("error:")
    assert not (tmp_path / "out").exists()
    if case == "no_sig":
        assert "--fdr" in r.stderr


@pytest.mark.slow
def test_demo_meets_readability_and_coherence_targets():
    from contrastomics.enrichment import demo_result_path
    try:
        path = demo_result_path()
    except FileNotFoundError:
        pytest.skip("demo result not shipped yet")
    out = cluster_gsea(path, fdr_cutoff=0.25)
    m = out.attrs["summary"]["metrics"]
    n = m["n_pathways"]
    assert n >= 200
    assert m["n_clusters"] <= n / 15 and m["coverage"] >= 0.9
    assert m["nes_coherence_adjusted"] >= 0.9


def test_joint_space_is_weighted_ochiai_plus_towers_and_gate_follows_leading_edges(model):
    from contrastomics.cluster.pathways import _memberships
    from contrastomics.cluster.embed import joint_space
    le = [["A", "B", "C", "D"], ["C", "D", "E"], ["X", "Y"], []]
    full = [le[0] + ["Q"], le[1] + ["Q"], ["X", "Y", "Z"], ["A", "X"]]
    texts = ["kinase cascade", "kinase signalling", "kinase cascade", "ribosome"]
    le_m, _, _ = _memberships(le, full)
    w = {"leading_edge_overlap": 0.5, "leading_edge": 0.0, "full_set": 0.25, "text": 0.25}
    sp_ = joint_space(model, le, full, texts, le_m, w, gate_leading_edge=True)
    s = sp_.similarity(np.arange(4))
    fs = model.embed_gene_sets(full)
    tx = model.embed_texts(texts)
    ochiai01 = 2 / np.sqrt(4 * 3)  # |{C, D}| / sqrt(4 * 3)
    expect01 = 0.5 * ochiai01 + 0.25 * float(fs[0] @ fs[1]) + 0.25 * float(tx[0] @ tx[1])
    assert s[0, 1] == pytest.approx(expect01, abs=1e-5)
    assert s[0, 0] == pytest.approx(1.0, abs=1e-5)
    # pathway 2 has the same text as 0 but no shared leading-edge gene: never its neighbour with the
    # gate; pathway 3 has no leading edge at all and is exempt from the gate
    g = knn_from_embedding(sp_, 3).toarray()
    assert g[0, 2] == 0 and g[2, 0] == 0 and g[0, 1] > 0
    assert g[3].sum() > 0
    off = joint_space(model, le, full, texts, le_m, w)  # the default: no gate
    assert not off.gate and knn_from_embedding(off, 3).toarray()[0, 2] > 0


def test_weights_that_leave_only_direction_are_refused(model):
    """A weights dict replaces the defaults whole: {"reactome": 0} or {"direction": 0.1} would group
    by NES sign alone, and say how to start from the defaults instead."""
    from contrastomics.cluster.embed import DEFAULT_WEIGHTS
    df, _ = synthetic_result(n_per=10)
    for w in ({"reactome": 0}, {"direction": 0.1}):
        with pytest.raises(InputError, match="no view besides direction.*DEFAULT_WEIGHTS"):
            cluster_gsea(df, model=model, weights=w)
    assert len(cluster_gsea(df, model=model, weights={**DEFAULT_WEIGHTS, "reactome": 0}))


def test_joint_keeps_opposite_directions_apart(model):
    """Up and down pathways of one theme share text but not leading-edge genes: joint keeps them
    apart (its direction view, and the gate when asked for), text alone mixes them."""
    df, _ = synthetic_result(n_per=10)
    alpha = df["term"].str.startswith("ALPHA")
    down = df.index[alpha][:5]
    df.loc[down, "nes"] *= -1
    for i, r in enumerate(down):
        df.at[r, "genes"] = [f"ALPHA_DOWN{j}" for j in np.random.default_rng(i).choice(30, 8, replace=False)]
    joint = cluster_gsea(df, model=model, n_clusters=5)
    assert joint.attrs["summary"]["metrics"]["nes_coherence_adjusted"] == pytest.approx(1.0)
    assert joint.attrs["summary"]["metrics"]["nes_coherence_can_fail"]
    no_direction = {k: v for k, v in DEFAULT_WEIGHTS.items() if k != "direction"}
    gated = cluster_gsea(df, model=model, n_clusters=5, weights=no_direction, gate_leading_edge=True)
    assert gated.attrs["summary"]["metrics"]["nes_coherence_adjusted"] == pytest.approx(1.0)
    text = cluster_gsea(df, model=model, method="text", n_clusters=4)
    assert text.attrs["summary"]["metrics"]["nes_coherence_adjusted"] < 0.9


def test_cluster_table_names_shared_leading_edge_genes(model):
    df, _ = synthetic_result()
    out = cluster_gsea(df, model=model, n_clusters=4)
    top = {c["cluster"]: c["top_genes"] for c in out.attrs["clusters"]}
    theme_of = out.groupby("cluster")["term"].first().str.split("_").str[0]
    for c, genes in top.items():
        assert genes and all(g.startswith(theme_of[c]) for g in genes.split(", "))


@pytest.mark.slow
def test_report_renders_offline_in_headless_chromium(tmp_path):
    """report.html is self-contained (no external script) and draws the map in Chromium."""
    import shutil

    from matplotlib.image import imread

    from contrastomics.report import write_outputs
    from contrastomics.report.figures import PALETTE
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    df, _ = synthetic_result()
    res = run_clustering(df, model=FakeModel(), n_clusters=4, layout=True)
    write_outputs(res, tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert "<script src" not in html and "Plotly.newPlot" in html
    png = tmp_path / "shot.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1200,1400", "--virtual-time-budget=8000", f"--screenshot={png}",
                    (tmp_path / "report.html").as_uri()], capture_output=True, timeout=180, check=True)
    img = (imread(png)[..., :3] * 255).round().astype(int)
    for c in range(4):  # every cluster colour is drawn (markers are only drawn if plotly.js ran)
        rgb = np.array([int(PALETTE[c][i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(img - rgb).sum(-1) < 30).sum() > 50, f"cluster {c} colour not on the screenshot"


def test_over_representation_results_cluster_without_nes(model):
    """Enrichr / enrichGO tables have no NES: they cluster, every pathway counts as 'up', and the
    sign coherence is undefined (n/a) rather than an error."""
    from pathlib import Path
    path = Path(__file__).parent / "data" / "gsea" / "enrichr_GO_Biological_Process_2021_table.txt"
    out = cluster_gsea(str(path), model=model, fdr_cutoff=0.25, gene_sets=GeneSetLibrary.from_gene_sets({}),
                       metrics=False)
    assert len(out) == 2 and (out["direction"] == 1).all() and out["nes"].isna().all()
    df, truth = synthetic_result()
    df["nes"] = np.nan
    df.attrs["kind"] = "ora"
    out = cluster_gsea(df, model=model, n_clusters=4)
    assert adjusted_rand_score(truth, labels_in_input_order(df, out)) > 0.9 and (out["direction"] == 1).all()
    m = out.attrs["summary"]["metrics"]
    assert np.isnan(m["nes_coherence"]) and m["coverage"] == 1.0
    df = pd.DataFrame({"term": ["a", "b"], "name": ["a", "b"], "nes": [np.nan, np.nan], "fdr": [0.01, 0.01],
                       "genes": [["A"], ["B"]]})
    with pytest.raises(InputError, match="every NES is missing"):
        cluster_gsea(df, model=model)


def _random_space(n=300, genes=120, seed=0, full=True, gate=True, free=5):
    from contrastomics.cluster.embed import JointSpace, leading_edge_block
    rng = np.random.default_rng(seed)
    le = sp.random(n, genes, density=0.05, random_state=seed, format="csr")
    le.data[:] = 1
    le = sp.csr_matrix(le)
    for i in range(free):  # pathways without a leading edge (exempt from the gate)
        le.data[le.indptr[i]:le.indptr[i + 1]] = 0
    le.eliminate_zeros()
    fm = sp.random(n, genes, density=0.15, random_state=seed + 1, format="csr")
    fm.data[:] = 1
    dense = rng.standard_normal((n, 16)).astype(np.float32)
    dense *= 0.3 / np.linalg.norm(dense, axis=1, keepdims=True)
    return JointSpace(dense, leading_edge_block(le, 0.3), gate, leading_edge_block(fm, 0.2) if full else None)


@pytest.mark.parametrize("full,fused", [(False, True), (True, True), (True, False)])
def test_gated_knn_equals_exhaustive_search(full, fused, monkeypatch):
    from contrastomics.cluster import graph
    if not fused:  # scipy product + numpy top-k instead of sparse_dot_topn
        monkeypatch.setitem(__import__("sys").modules, "sparse_dot_topn", None)
    space = _random_space(full=full)
    sign = np.where(np.arange(len(space)) % 3 == 0, -1, 1)
    for forbid in (None, sign):
        r, c, v = graph.gated_knn(space, 6, forbid=forbid, max_candidates=10**6, n_jobs=1)
        got = graph._symmetrize(r, c, v, len(space)).toarray()
        # exhaustive reference: every pair scored by pair_similarity, top-6 per row
        s = space.pair_similarity(np.arange(len(space)))
        np.fill_diagonal(s, -np.inf)
        if forbid is not None:
            s[forbid[:, None] != forbid[None, :]] = -np.inf
        idx = np.argsort(-s, axis=1, kind="stable")[:, :6]
        rows = np.repeat(np.arange(len(space)), 6)
        ref = graph._symmetrize(rows, idx.ravel(), np.take_along_axis(s, idx, 1).ravel(), len(space)).toarray()
        assert np.allclose(got, ref, atol=1e-5)
        # forked workers give the same graph; a small candidate cap keeps most edges
        r2, c2, v2 = graph.gated_knn(space, 6, forbid=forbid, max_candidates=10**6, n_jobs=2, budget=500)
        assert np.allclose(graph._symmetrize(r2, c2, v2, len(space)).toarray(), got, atol=1e-6)
    # a candidate cap (top leading-edge overlaps only) keeps most of the exact edges
    r0, c0, v0 = graph.gated_knn(space, 6, max_candidates=10**6, n_jobs=1)
    full_graph = graph._symmetrize(r0, c0, v0, len(space)).toarray() > 0
    r3, c3, v3 = graph.gated_knn(space, 6, max_candidates=20, n_jobs=1)
    capped = graph._symmetrize(r3, c3, v3, len(space)).toarray() > 0
    recall = (capped & full_graph).sum() / full_graph.sum()
    assert 0.7 < recall < 1.0
    if full:  # large-n mode: only the best 8 candidates by leading-edge + towers get the full-set term
        r4, c4, v4 = graph.gated_knn(space, 6, max_candidates=10**6, full_scored=8, n_jobs=1)
        two_stage = graph._symmetrize(r4, c4, v4, len(space)).toarray() > 0
        assert 0.7 < (two_stage & full_graph).sum() / full_graph.sum() < 1.0
        assert np.allclose(v4, [space.pair_similarity(np.array([i]), np.array([j]))[0, 0] for i, j in zip(r4, c4)],
                           atol=1e-5)  # kept edges carry their exact joint cosine


# ---------------------------------------------------------------------- GO slim themes
def test_go_slim_themes_pick_the_slim_term_covering_most_members(tmp_path):
    from contrastomics.cluster.labels import go_slim_themes
    from contrastomics.data.ontology import read_obo
    obo = tmp_path / "mini.obo"
    stanzas = [("GO:0008150", "biological_process", None, True), ("GO:0000001", "metabolism", "GO:0008150", True),
               ("GO:0000002", "DNA metabolism", "GO:0000001", True), ("GO:0000003", "DNA repair", "GO:0000002", False),
               ("GO:0000004", "DNA replication", "GO:0000002", False), ("GO:0000005", "transport", "GO:0008150", True),
               ("GO:0000006", "ion transport", "GO:0000005", False)]
    text = "format-version: 1.2\n\n"
    for tid, name, parent, slim in stanzas:
        text += f"[Term]\nid: {tid}\nname: {name}\nnamespace: biological_process\n"
        text += f"is_a: {parent} ! x\n" if parent else ""
        text += "subset: goslim_generic\n" if slim else ""
        text += "\n"
    obo.write_text(text)
    onto = read_obo(obo)
    assert set(onto.subsets["goslim_generic"]) == {"GO:0008150", "GO:0000001", "GO:0000002", "GO:0000005"}
    terms = ["DNA repair (GO:0000003)", "GO:0000004", "GO_0000006", "GO:0000006", "GO:0000003", "HALLMARK_X"]
    labels = np.array([0, 0, 0, 1, 1, 2])
    th = go_slim_themes(terms, labels, ontology=onto)
    # cluster 0: DNA metabolism and metabolism both cover 2 of 3; the more specific one wins
    assert th[0]["theme"] == "DNA metabolism" and th[0]["theme_support"] == pytest.approx(2 / 3)
    assert th[1]["theme"] == "transport" and th[1]["theme_support"] == pytest.approx(0.5)
    assert 2 not in th  # a singleton without a GO id gets no theme


def test_demo_clusters_carry_go_slim_themes_with_their_true_support():
    from contrastomics.data.builtin import load_ontology
    from contrastomics.enrichment import demo_result_path
    from contrastomics.data.ontology import extract_go_id
    from contrastomics.cluster.labels import THEME_RELATIONS  # is_a, part_of and regulates (theme round T2)
    res = run_clustering(str(demo_result_path()), method="overlap-knn", metrics=False)
    cl = res.clusters[~res.clusters["singleton"]]
    assert (cl["theme"] != "").all() and "cluster_theme" in res.table.columns
    per_pathway = res.table.drop_duplicates("cluster").set_index("cluster")["cluster_theme_support"]
    assert per_pathway[cl["cluster"]].tolist() == cl["theme_support"].tolist()  # the share beside it, unrounded
    onto = load_ontology("GO")
    for rec in cl.head(3).itertuples():
        members = res.table.loc[res.table["cluster"] == rec.cluster, "term"]
        under = [rec.theme_id in onto.ancestors(t, THEME_RELATIONS, include_self=True) for t in map(extract_go_id, members)]
        assert rec.theme_support == pytest.approx(np.mean(under), abs=1e-12)


def test_non_go_results_get_title_phrase_themes():
    df, _ = synthetic_result()
    res = run_clustering(df, method="overlap-knn", metrics=False)
    cl = res.clusters
    assert (cl["theme_source"] == "title phrase").all() and (cl["theme"] != "").all()
    # each planted theme's titles all say e.g. "kinase phosphorylation cascade pathway <i>"
    assert set(cl.loc[~cl["singleton"], "theme"]) == {w for w, _ in THEMES.values()}
    assert (cl.loc[~cl["singleton"], "theme_support"] == 1.0).all()


def test_n_clusters_returns_k_clusters_without_singletons(model):
    df, truth = synthetic_result()
    for k in (3, 4, 6, 8):
        s = run_clustering(df, model=model, n_clusters=k, metrics=False).summary
        assert s["n_clusters"] == k and s["n_singletons"] == 0
    assert "k" not in s and s["knn_neighbours"] == 10


def test_unreachable_n_clusters_warns_with_the_count_it_got(model):
    df, _ = synthetic_result()  # 48 pathways: at most 16 clusters of >= 3, 24 of >= 2
    with pytest.warns(UserWarning, match=r"asked for 30 clusters, but 48 pathways make at most 24"):
        res = run_clustering(df, model=model, n_clusters=30, metrics=False)
    notes = res.summary["notes"]
    assert any("asked for 30" in n for n in notes) and any("clusters of 2 members were allowed" in n for n in notes)
    sizes = res.table.groupby("cluster").size()
    # more clusters than clusters of >= 3 allow, nearly every pathway in one
    assert 16 < res.summary["n_clusters"] <= 24 and (sizes == 1).sum() <= 2


def test_more_clusters_asked_never_gives_fewer(model):
    df, _ = synthetic_result()
    got = [run_clustering(df, model=model, n_clusters=k, metrics=False, layout=False).summary["n_clusters"]
           for k in (8, 16, 24, 40, 200)]
    assert got == sorted(got) and got[0] == 8 and got[-1] == got[-2]


def test_min_cluster_size_above_the_result_gives_one_cluster_and_a_large_one_fewer(model):
    df, _ = synthetic_result()
    with pytest.warns(UserWarning, match="clusters of 48 members were allowed"):
        one = run_clustering(df, model=model, min_cluster_size=1000, metrics=False)
    assert one.summary["n_clusters"] == 1 and one.summary["n_singletons"] == 0
    big = run_clustering(df, model=model, min_cluster_size=20, metrics=False).summary  # 3 clusters by default
    assert big["target_clusters"] == 2 and big["n_clusters"] <= 2


def test_summary_keys_and_label_support_columns(model):
    df, _ = synthetic_result()
    res = run_clustering(df, model=model, n_clusters=4)
    s, m = res.summary, res.summary["metrics"]
    assert s["n_clusters"] == m["n_clusters"] == 4 and "k" not in s
    # no leading-edge gate by default: every up/down pair may be joined, so the coherence can fail
    assert m["nes_opposite_pairs_joinable"] == 1.0 and m["nes_coherence_can_fail"] is True
    # with the gate, leading edges of opposite signs never share a gene here: it cannot fail
    mg = run_clustering(df, model=model, n_clusters=4, gate_leading_edge=True).summary["metrics"]
    assert mg["nes_opposite_pairs_joinable"] == 0.0 and mg["nes_coherence_can_fail"] is False
    assert m["labels_scored"] == 4 and 0 <= m["label_support_mean"] <= 1
    assert "cluster_label_support" in res.table.columns and "label_support" in res.clusters.columns
    per = res.clusters.set_index("cluster")["label_support"]
    assert (res.table["cluster_label_support"].to_numpy() == per.loc[res.table["cluster"]].to_numpy()).all()
    # without leading edges (full sets only) every up/down pair may be joined: the metric can fail
    full = df.assign(genes=[[] for _ in range(len(df))])
    lib = GeneSetLibrary.from_gene_sets(dict(zip(df["term"], df["full"])))
    m2 = run_clustering(full, model=model, n_clusters=4, gene_sets=lib).summary["metrics"]
    assert m2["nes_opposite_pairs_joinable"] == 1.0 and m2["nes_coherence_can_fail"] is True


def test_msigdb_spelled_go_names_match_the_library():
    # MSigDB writes GO names as GOBP_2FE_2S_..., NADPLUS, dropped hyphens: matched by a name key
    from contrastomics.cluster.pathways import _match_library
    from types import SimpleNamespace
    lib = SimpleNamespace(terms=["GO:1", "GO:2", "GO:3", "GO:4", "GO:5"],
                          names=["2Fe-2S cluster assembly", "NAD+ binding", "T-cell activation", "T cell activation",
                                 "DNA repair"])
    terms = ["GOBP_2FE_2S_CLUSTER_ASSEMBLY", "GOMF_NADPLUS_BINDING", "GOBP_T_CELL_ACTIVATION", "GOBP_DNA_REPAIR",
             "GOBP_UNKNOWN_PROCESS"]
    rows = _match_library(lib, terms, terms)
    # the two spellings of T cell activation share a key: ambiguous, so the exact-name look-up decides
    assert rows.tolist() == [0, 1, 3, 4, -1]


def test_msigdb_named_go_result_without_leading_edges_uses_the_builtin_go():
    # fgsea (msigdbr) / GSEA desktop reports name GO sets GOBP_..., with no GO id: the built-in GO
    # gives full sets and GO ids, so no --gmt is needed and the GO measures apply
    import re

    from contrastomics.data.builtin import load_library
    lib = load_library("GO_BP", min_size=15, max_size=200)
    rng = np.random.default_rng(0)
    pick = rng.choice(len(lib.terms), 40, replace=False)
    names = ["GOBP_" + re.sub(r"[^A-Za-z0-9]+", "_", lib.names[i]).strip("_").upper() for i in pick]
    df = pd.DataFrame({"term": names, "nes": rng.choice([-2.0, 2.0], 40), "fdr": 0.01,
                       "genes": [[] for _ in names]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_clustering(df)
    s = res.summary
    assert s["n_clusters"] >= 2
    assert "silhouette_go_wang" in s["metrics"]  # GO ids were found for the MSigDB names
    assert not any("no gene-set library" in n for n in s["notes"])


def test_an_identifier_in_the_gmt_description_column_is_not_the_text():
    # Reactome's own GMT puts the stable id in column 2: the pathway is embedded by its name
    from types import SimpleNamespace

    from contrastomics.cluster.pathways import pathway_text
    lib = SimpleNamespace(terms=["Cell Cycle Checkpoints", "X"], names=["Cell Cycle Checkpoints", "X"],
                          descriptions=["R-HSA-69620", "Genes of the X pathway"])
    assert pathway_text("Cell Cycle Checkpoints", "Cell Cycle Checkpoints", lib, 0) == "Cell Cycle Checkpoints"
    assert pathway_text("X", "X", lib, 1) == "Genes of the X pathway"


def test_reactome_ids_and_species_prefixes_leave_titles_and_texts():
    from contrastomics.cluster.pathways import pathway_text, pathway_title
    for name in ("Cell Cycle Checkpoints R-HSA-69620", "Homo sapiens: Cell Cycle Checkpoints",
                 "Cell Cycle Checkpoints (R-HSA-69620)"):
        assert pathway_title(name, name, None, -1) == "Cell Cycle Checkpoints"
        assert pathway_text(name, name, None, -1) == "Cell Cycle Checkpoints"
    assert pathway_title("WP554", "WP554", None, -1) == "WP554"  # an id alone stays


def test_a_go_result_with_its_own_gmt_is_embedded_by_the_builtin_go_texts():
    # a GSEA desktop folder's gene_sets.gmt (MSigDB names, URL descriptions) holds no text worth
    # embedding: pathways whose GO id is known get the built-in name + definition
    from contrastomics.cluster.pathways import prepare
    from contrastomics.data.builtin import load_library
    go = load_library("GO_BP", min_size=1, max_size=None)
    idx = [go.terms.index(t) for t in ("GO:0006281", "GO:0006915")]
    names = ["GOBP_DNA_REPAIR", "GOBP_APOPTOTIC_PROCESS"]
    own = GeneSetLibrary.from_gene_sets({n: go.gene_sets[i] for n, i in zip(names, idx)})
    df = pd.DataFrame({"term": names, "nes": [2.0, -2.0], "fdr": 0.01, "genes": [list(go.gene_sets[i])[:10] for i in idx]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pw = prepare(df, gene_sets=own)
    assert pw.texts[0].startswith("DNA repair. ") and pw.texts[1].startswith("apoptotic process. ")
    assert pw.go_terms == ["GO:0006281", "GO:0006915"]
