"""Tests for CAL (models.cal, training.cal), the association evaluation (evaluate.associations) and `contrastomics cal`."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from contrastomics.data.string import Pairs
from contrastomics.errors import InputError
from contrastomics.evaluate.associations import (adjacency, degree_matched_negatives, evaluate_split,
                                                 make_pair_split, neighbourhood_scores, pair_key, pair_metrics,
                                                 summary_table, uniform_negatives)
from contrastomics.models.cal import CAL, CALConfig
from contrastomics.training.cal import benchmark_cal, cli_train_config, train_cal, train_mlp_bce
from contrastomics.training.loop import TrainConfig


def planted(n_groups: int = 20, per: int = 8, dim: int = 8, seed: int = 0):
    """Genes in groups whose members interact; a member's features are a rotation of a group
    centre by one of two fixed 90-degree rotations, so interacting genes are often orthogonal in
    raw feature space (raw cosine cannot see them) while a learned map can."""
    rng = np.random.default_rng(seed)
    rot = np.zeros((dim, dim))
    for i in range(0, dim, 2):
        rot[i, i + 1], rot[i + 1, i] = -1, 1
    genes, x, group = [], [], []
    for g in range(n_groups):
        c = rng.normal(size=dim)
        for m in range(per):
            v = (c if m % 2 == 0 else rot @ c) + 0.05 * rng.normal(size=dim)
            x.append(v)
            genes.append(f"G{g}_{m}")
            group.append(g)
    group = np.array(group)
    a, b = np.triu_indices(len(genes), 1)
    same = group[a] == group[b]
    feats = pd.DataFrame(np.array(x, dtype=np.float32), index=genes)
    return feats, Pairs(genes, a[same], b[same], np.full(same.sum(), 950.0, np.float32)), group


def auroc(pos, neg):
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg])


def test_alpha_one_is_raw_cosine_and_outputs_are_unit_norm():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 6)).astype(np.float32)
    m = CAL(CALConfig(in_dim=6, hidden_dims=(16,), alpha=1.0), [str(i) for i in range(10)], x)
    z = m.embed_genes()
    np.testing.assert_allclose(z.norm(dim=1).numpy(), 1.0, atol=1e-5)
    a, b = np.array([0, 1, 2]), np.array([3, 4, 5])
    np.testing.assert_allclose(m.score_pairs(a, b), m.raw_cosine(a, b), atol=1e-4)
    za, zb = m(torch.tensor([[0, 3], [1, 4], [0, 0]]))
    np.testing.assert_allclose((za * zb).sum(1).detach().numpy(), [*m.score_pairs(a[:2], b[:2]), 1.0], atol=1e-5)
    with pytest.raises(InputError):
        CALConfig(alpha=1.5)


def test_cal_learns_planted_associations_on_unseen_genes():
    feats, pairs, group = planted()
    held = group >= 15  # node-disjoint: the last 5 groups are never seen in training
    tr = pairs.subset(~held[pairs.a] & ~held[pairs.b])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny model: extra threads only add synchronisation on a busy machine
    try:
        model, res = train_cal(feats, tr, CALConfig(in_dim=8, hidden_dims=(64, 64), alpha=0.1),
                               TrainConfig(epochs=40, batch_size=128, lr=1e-2, warmup_steps=5, progress=False, seed=0))
    finally:
        torch.set_num_threads(threads)
    assert res.history[-1]["loss"] < res.history[0]["loss"] - 0.3
    hg = np.flatnonzero(held)
    a, b = np.triu_indices(len(hg), 1)
    a, b = hg[a], hg[b]
    y = group[a] == group[b]
    s, raw = model.score_pairs(a, b), model.raw_cosine(a, b)
    assert auroc(raw[y], raw[~y]) < 0.8  # planted so that raw cosine is weak
    assert auroc(s[y], s[~y]) > auroc(raw[y], raw[~y]) + 0.1


def test_save_load_roundtrip_score_and_neighbours(tmp_path):
    feats, pairs, group = planted(n_groups=6, per=4)
    model, _ = train_cal(feats, pairs, CALConfig(in_dim=8, hidden_dims=(16,)),
                         TrainConfig(epochs=2, batch_size=16, progress=False))
    model.save_pretrained(tmp_path / "m")
    m2 = CAL.from_pretrained(tmp_path / "m")
    a, b = pairs.a[:5], pairs.b[:5]
    np.testing.assert_allclose(m2.score_pairs(a, b), model.score_pairs(a, b), atol=1e-6)
    nb = m2.neighbours("G0_0", k=5)
    known = {feats.index[j] for j in range(4) if j != 0}  # G0_1..G0_3 are its training partners
    assert len(nb) == 5 and not (set(nb.partner) & known) and not nb.known.any()
    assert (np.diff(nb.score.to_numpy()) <= 1e-6).all()
    nk = m2.neighbours("G0_0", k=30, include_known=True)
    assert known <= set(nk.partner) and nk.known.sum() == 3
    df = m2.score(["G0_0"], ["G0_1"])
    assert bool(df.known.iloc[0]) and -1 <= df.raw_cosine.iloc[0] <= 1
    with pytest.raises(InputError, match="not in the model"):
        m2.score(["NOPE"], ["G0_1"])
    (tmp_path / "m" / "vocab.txt").unlink()
    with pytest.raises(InputError, match="not a CAL model folder"):
        CAL.from_pretrained(tmp_path / "m")


# ---------------------------------------------------------------------- evaluation protocol
def random_graph(n=300, m=1500, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.pareto(1.5, n) + 1  # heavy-tailed degrees, as in STRING
    p = w / w.sum()
    a, b = rng.choice(n, m, p=p), rng.choice(n, m, p=p)
    keep = a != b
    lo, hi = np.minimum(a, b)[keep], np.maximum(a, b)[keep]
    k = np.unique(lo * n + hi)
    return Pairs([f"g{i}" for i in range(n)], k // n, k % n, np.full(len(k), 900.0, np.float32))


def test_edge_split_keeps_each_pair_on_one_side():
    pr = random_graph()
    s = make_pair_split(pr, "heldout_edges", seed=1)
    ktr, kte = set(pair_key(s.train_a, s.train_b, 300)), set(pair_key(s.test_a, s.test_b, 300))
    assert not ktr & kte and len(ktr) + len(kte) == len(pr)
    assert not set(pair_key(s.test_b, s.test_a, 300)) & ktr  # reversed direction too
    assert 0.15 < len(kte) / len(pr) < 0.25


def test_node_split_is_disjoint_and_negatives_stay_inside():
    pr = random_graph()
    s = make_pair_split(pr, "node_disjoint", seed=2)
    held = set(s.pool.tolist())
    assert held and all(u in held and v in held for u, v in zip(s.test_a, s.test_b))
    assert not (set(s.train_a) | set(s.train_b)) & held
    deg = pr.degree()
    excl = pair_key(pr.a, pr.b, 300)
    na, nb = degree_matched_negatives(s.test_a, s.test_b, deg, s.pool, 300, excl, np.random.default_rng(0))
    assert set(na) | set(nb) <= held
    assert not np.isin(pair_key(na, nb, 300), excl).any() and (na != nb).all()


def test_degree_matched_negatives_match_degrees_and_remove_degree_signal():
    pr = random_graph(n=600, m=4000)
    deg = pr.degree()
    pool = np.flatnonzero(deg > 0)
    excl = pair_key(pr.a, pr.b, 600)
    rng = np.random.default_rng(0)
    na, nb = degree_matched_negatives(pr.a, pr.b, deg, pool, 600, excl, rng)
    ua, ub = uniform_negatives(len(pr), pool, 600, excl, rng)
    assert len(na) > 0.95 * len(pr) and len(ua) == len(pr)
    assert len(np.unique(pair_key(na, nb, 600))) == len(na)  # no repeats
    assert not np.isin(pair_key(ua, ub, 600), excl).any()
    # sorted degree profiles agree closely for matched negatives (up to the small rank window)
    d_pos = np.sort(deg[pr.a].astype(float) * deg[pr.b])
    d_neg = np.sort(deg[na].astype(float) * deg[nb])
    assert abs(np.median(d_neg) / np.median(d_pos) - 1) < 0.15
    dprod = lambda a, b: deg[a].astype(float) * deg[b]  # noqa: E731
    assert auroc(dprod(pr.a, pr.b), dprod(ua, ub)) > 0.75  # uniform negatives: degree alone wins
    assert abs(auroc(dprod(pr.a[: len(na)], pr.b[: len(na)]), dprod(na, nb)) - 0.5) < 0.06


def test_pair_metrics_and_neighbourhood_scores():
    y = np.array([1, 1, 0, 0, 1, 0], bool)
    score = np.array([0.9, 0.8, 0.1, 0.85, 0.2, 0.3])
    raw = np.array([0.0, 0.5, 0.1, -0.1, 0.15, 0.9])
    m = pair_metrics(y, score, raw, mean_degree=np.array([1, 2, 0, 0, 3, 0.0]))
    # all pairs: 6 of 9 positive-negative comparisons won; inside [-0.2, 0.2]: pos {0.9, 0.2} vs neg {0.1, 0.85} -> 3 of 4 comparisons won
    assert m["n_xb_pos"] == 2 and m["n_xb_neg"] == 2 and m["xb_auroc"] == pytest.approx(0.75)
    assert m["auroc"] == pytest.approx(6 / 9)
    assert m["spearman_degree"] == pytest.approx(-1.0)
    # path 0-1-2 plus 1-3: pair (0,2) shares neighbour 1 (degree 3)
    adj = adjacency(np.array([0, 1, 1]), np.array([1, 2, 3]), 4)
    sc = neighbourhood_scores(adj, np.array([0, 0]), np.array([2, 3]))
    np.testing.assert_allclose(sc["common_neighbours"], [1, 1])
    np.testing.assert_allclose(sc["adamic_adar"], [1 / np.log(3)] * 2)


def test_evaluate_split_records_and_mlp_baseline():
    feats, pairs, group = planted(n_groups=10, per=6)
    x = feats.to_numpy()
    s = make_pair_split(pairs, "heldout_edges", seed=0)
    mlp = train_mlp_bce(x, s.train_a, s.train_b, (16,), TrainConfig(epochs=2, batch_size=32, progress=False))
    recs = evaluate_split(s, x, pairs.degree(), pair_key(pairs.a, pairs.b, len(x)), {"MLP_BCE": mlp.score_pairs})
    methods = {r["method"] for r in recs}
    assert {"raw_cosine", "degree_train", "adamic_adar", "common_neighbours", "MLP_BCE"} <= methods
    assert {r["negatives"] for r in recs} == {"uniform", "degree"}
    aa = [r["value"] for r in recs if r["method"] == "adamic_adar" and r["metric"] == "auroc"]
    assert min(aa) > 0.9  # groups are cliques: held-out edges close triangles


# ---------------------------------------------------------------------- CLI
def test_cli_train_score_neighbours_and_bad_input(tmp_path, capsys):
    from contrastomics.cli import main

    feats, pairs, _ = planted(n_groups=6, per=4)
    feats.to_csv(tmp_path / "f.tsv", sep="\t", index_label="gene")
    df = pairs.to_frame().rename(columns={"score": "combined_score"})
    df = pd.concat([df, pd.DataFrame({"gene_a": ["G0_0", "XX"], "gene_b": ["G0_0", "G0_1"], "combined_score": [999, 999]})])
    df.to_csv(tmp_path / "p.tsv", sep="\t", index=False)
    m = tmp_path / "model"
    with pytest.raises(SystemExit) as e:
        main(["cal", "train", str(tmp_path / "f.tsv"), str(tmp_path / "p.tsv"), "-o", str(m), "--pca", "0",
              "--hidden", "16", "--epochs", "2", "--batch-size", "16"])
    assert e.value.code in (0, None)
    assert (m / "model.safetensors").exists()
    with pytest.raises(SystemExit):
        main(["cal", "score", "-m", str(m), "--genes", "G0_0,G1_0", "-o", str(tmp_path / "s.tsv")])
    s = pd.read_csv(tmp_path / "s.tsv", sep="\t")
    assert list(s.columns) == ["gene_a", "gene_b", "score", "raw_cosine", "known"] and len(s) == 1
    with pytest.raises(SystemExit):
        main(["cal", "neighbours", "G0_0", "-m", str(m), "-k", "3", "-o", str(tmp_path / "n.tsv")])
    n = pd.read_csv(tmp_path / "n.tsv", sep="\t")
    assert len(n) == 3 and not n.known.any() and "raw_cosine" in n.columns
    with pytest.raises(SystemExit) as e:
        main(["cal", "score", "-m", str(m), "--genes", "G0_0"])
    assert e.value.code == 2
    assert "two genes" in capsys.readouterr().err


# ---------------------------------------------------------------------- CLI end to end (CliRunner)
def _messy_inputs(tmp_path):
    """Planted features plus a NaN gene and a zero-variance gene; pairs on a 0-1 score scale with a
    self-pair, an exact duplicate, a reversed duplicate and a gene that has no features."""
    feats, pairs, group = planted(n_groups=6, per=4)
    bad = pd.DataFrame([[np.nan] * feats.shape[1], [1.0] * feats.shape[1]], index=["NANGENE", "FLATGENE"],
                       columns=feats.columns, dtype=np.float32)
    pd.concat([feats, bad]).to_csv(tmp_path / "f.tsv", sep="\t", index_label="gene")
    df = pairs.to_frame().rename(columns={"score": "combined_score"})
    df["combined_score"] = 0.95
    extra = pd.DataFrame({"gene_a": ["G0_0", "G0_0", "G0_1", "NOFEAT", "NANGENE", "G5_0"],
                          "gene_b": ["G0_0", "G0_1", "G0_0", "G0_1", "G0_1", "G5_1"],
                          "combined_score": [0.99, 0.95, 0.95, 0.99, 0.99, 0.2]})
    pd.concat([df, extra]).to_csv(tmp_path / "p.tsv", sep="\t", index=False)
    return feats, pairs, group


def test_cli_end_to_end_with_messy_input(tmp_path):
    import json
    import warnings

    from typer.testing import CliRunner

    from contrastomics.cli.cal import app

    feats, pairs, group = _messy_inputs(tmp_path)
    runner = CliRunner()
    m = tmp_path / "model"
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = runner.invoke(app, ["train", str(tmp_path / "f.tsv"), str(tmp_path / "p.tsv"), "-o", str(m), "--pca", "0",
                                "--hidden", "16", "--epochs", "3", "--batch-size", "16", "--min-score", "0.9"])
    assert r.exit_code == 0, r.output
    said = " ".join(str(x.message) for x in w)
    for phrase in ("NaN", "zero-variance", "0-1 scale", "self-pair", "1 reversed", "without features"):
        assert phrase in said, phrase
    # 36 planted pairs kept (6 groups x 6); the 0.2-score pair is below threshold, NOFEAT/NANGENE pairs are counted
    assert "36 pairs (2 dropped for genes without features)" in r.output
    loaded = CAL.from_pretrained(m)
    assert len(loaded.known_pairs) == 36 and "NANGENE" not in loaded.vocab and "FLATGENE" not in loaded.vocab

    r = runner.invoke(app, ["score", "-m", str(m), "--genes", "G0_0,G0_2", "--genes", "G1_0,G2_1",
                            "--genes", "G2_1,G1_0", "-o", str(tmp_path / "s.tsv")])
    assert r.exit_code == 0, r.output
    s = pd.read_csv(tmp_path / "s.tsv", sep="\t")
    assert len(s) == 2 and s.known.tolist() == [True, False]  # reversed repeat scored once
    x = feats.to_numpy()
    u, v = x[feats.index.get_loc("G1_0")], x[feats.index.get_loc("G2_1")]
    assert s.raw_cosine[1] == pytest.approx(u @ v / np.linalg.norm(u) / np.linalg.norm(v), abs=1e-3)

    r = runner.invoke(app, ["neighbours", "G0_0", "-m", str(m), "-k", "5", "-o", str(tmp_path / "n.tsv")])
    assert r.exit_code == 0, r.output
    n = pd.read_csv(tmp_path / "n.tsv", sep="\t")
    known = {"G0_1", "G0_2", "G0_3"}  # G0_0's training partners are left out
    assert len(n) == 5 and not (set(n.partner) & known) and "G0_0" not in set(n.partner)
    assert (np.diff(n.score.to_numpy()) <= 1e-6).all() and not n.known.any()
    r = runner.invoke(app, ["neighbours", "G0_0", "-m", str(m), "-k", "3", "--include-known", "-o",
                            str(tmp_path / "n2.tsv")])
    assert r.exit_code == 0
    assert pd.read_csv(tmp_path / "n2.tsv", sep="\t").partner.nunique() == 3

    r = runner.invoke(app, ["evaluate", str(tmp_path / "f.tsv"), str(tmp_path / "p.tsv"), "--pca", "0", "--hidden", "8",
                            "--epochs", "2", "--batch-size", "16", "--seeds", "0", "--min-score", "0.9",
                            "--splits", "heldout_edges,node_disjoint", "--test-frac", "0.3", "-o", str(tmp_path / "ev.json")])
    assert r.exit_code == 0, r.output
    ev = json.loads((tmp_path / "ev.json").read_text())
    recs = ev["records"]
    assert ev["benchmark"] == "cal_evaluate" and all({"dataset", "split", "method", "metric", "value"} <= set(x) for x in recs)
    methods = {x["method"] for x in recs}
    assert {"CAL", "MLP_BCE", "raw_cosine", "degree_train", "adamic_adar"} <= methods
    assert {x["split"] for x in recs} == {"heldout_edges", "node_disjoint"}


def test_cli_bad_input_is_one_clear_error(tmp_path):
    from typer.testing import CliRunner

    from contrastomics.cli.cal import app

    _messy_inputs(tmp_path)
    runner = CliRunner()
    m = tmp_path / "model"
    r = runner.invoke(app, ["train", str(tmp_path / "f.tsv"), str(tmp_path / "p.tsv"), "-o", str(m), "--pca", "0",
                            "--hidden", "8", "--epochs", "1", "--batch-size", "16", "--min-score", "0.9"])
    assert r.exit_code == 0, r.output
    cases = [(["score", "-m", str(m), "--genes", "G0_0,NOPE"], "NOPE"),
             (["score", "-m", str(m), "--genes", "G0_0,G0_0"], "self-pair"),
             (["neighbours", "NOPE", "-m", str(m)], "NOPE"),
             (["neighbours", "G0_0", "-m", str(m), "-k", "0"], "-k must be"),
             (["train", str(tmp_path / "f.tsv"), str(tmp_path / "p.tsv"), "-o", str(m), "--min-score", "1200"],
              "above STRING's maximum"),
             (["train", str(tmp_path / "f.tsv"), str(tmp_path / "p.tsv"), "-o", str(m), "--hidden", "a,b"], "--hidden")]
    for args, phrase in cases:
        r = runner.invoke(app, args)
        assert isinstance(r.exception, InputError), (args, r.output)
        assert phrase in str(r.exception), (args, str(r.exception))
    (tmp_path / "big.tsv").write_text("gene_a\tgene_b\tcombined_score\nG0_0\tG0_1\t5000\n")
    r = runner.invoke(app, ["train", str(tmp_path / "f.tsv"), str(tmp_path / "big.tsv"), "-o", str(m)])
    assert isinstance(r.exception, InputError) and "above 1000" in str(r.exception)


def test_cli_published_recipe_and_options_form(tmp_path):
    import json
    import warnings

    from typer.testing import CliRunner

    from contrastomics.cli.cal import app

    _messy_inputs(tmp_path)
    m = tmp_path / "pub"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = CliRunner().invoke(app, ["train", "--features", str(tmp_path / "f.tsv"), "--pairs", str(tmp_path / "p.tsv"),
                                     "-o", str(m), "--pca", "0", "--min-score", "900", "--published", "--epochs", "1"])
    assert r.exit_code == 0, r.output
    cfg = json.loads((m / "config.json").read_text())
    assert cfg["hidden_dims"] == [1024, 1024, 1024] and cfg["temperature"] == 0.05
    r = CliRunner().invoke(app, ["train", "-o", str(m)])
    assert isinstance(r.exception, InputError) and "missing features" in str(r.exception)


def test_old_import_paths_are_aliases_of_the_new_ones():
    import contrastomics.evaluate.associations as ea
    import contrastomics.evaluate.splits as es
    import contrastomics.models.cal as old
    from contrastomics.training import cal as new

    assert old.train_cal is new.train_cal and old.PairDataset is new.PairDataset and old.cal_step is new.cal_step
    assert ea.train_mlp_bce is new.train_mlp_bce and ea.MLPLinkPredictor is new.MLPLinkPredictor
    assert ea.Split is ea.PairSplit and ea.make_split is ea.make_pair_split
    assert es.Split is es.TermSplit and es.make_split is es.make_term_split
    with pytest.raises(AttributeError):
        old.nothing_here


def test_benchmark_cal_records_each_seed_and_split():
    feats, pairs, _ = planted(n_groups=8, per=5)
    logs = []
    recs = benchmark_cal(feats, pairs, pairs, ["heldout_edges", "train_edges"], [0, 1], hidden_dims=(8,), epochs=1,
                         batch_size=16, log=logs.append)
    assert logs == ["seed 0 heldout_edges: done", "seed 0 train_edges: done", "seed 1 heldout_edges: done",
                    "seed 1 train_edges: done"]
    assert {(r["seed"], r["split"]) for r in recs} == {(s, n) for s in (0, 1) for n in ("heldout_edges", "train_edges")}
    assert "MLP_BCE" not in {r["method"] for r in recs if r["split"] == "train_edges"}
    tab = summary_table(recs)
    assert {"auroc", "xb_auroc"} <= set(tab.columns) and len(tab) == len(tab.drop_duplicates(["split", "negatives", "method"]))
    assert cli_train_config(1000, 10, 512, 2e-3).warmup_steps == 1 and cli_train_config(10 ** 6, 100, 64, 1e-3).warmup_steps == 100
