"""gtCLIP v2 corpus (contrastomics.training.corpus) on tiny synthetic libraries and a hand-made ontology:
the duplicate and leakage rules with their counts, templates, weights, simGIC proximity, weighted batches."""
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from contrastomics.data.genesets import GeneSetLibrary
from contrastomics.data.ontology import read_obo
from contrastomics.errors import InputError
from contrastomics.models.base import read_recipe
from contrastomics.models.gtclip import GtClipConfig
from contrastomics.training.corpus import (WeightedBatchSampler, build_corpus, leakage_mask, ontology_proximity,
                                          read_corpus_spec)
from contrastomics.training.gtclip import GtClipTrainConfig, train_gtclip

G = [f"G{i}" for i in range(40)]

#: root 1 <- cell death 2 <- {apoptotic process 3 (is_a), execution phase 4 (part_of)} <- caspase cascade 5;
#: regulation 6 <- root (its "regulates" edge is not followed)
MINI_OBO = Path(__file__).parent / "data" / "ontology_mini.obo"


@pytest.fixture(scope="module")
def onto():
    return read_obo(MINI_OBO)


def ic_of(onto):
    ic = np.zeros(len(onto))
    for t, v in {"GO:0000001": 0.0, "GO:0000002": 1.0, "GO:0000003": 2.0, "GO:0000004": 2.0,
                 "GO:0000005": 3.0, "GO:0000006": 2.0}.items():
        ic[onto.index(t)] = v
    return ic


def gmt(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join("\t".join([name, second, *genes]) + "\n" for name, second, genes in rows))


@pytest.fixture
def root(tmp_path):
    gmt(tmp_path / "react.gmt", [("Apoptosis", "R-HSA-1", G[0:6]), ("Cell cycle", "R-HSA-2", G[6:12]),
                                 ("Tiny", "R-HSA-3", G[12:15])])
    # KEGG: one set equal to Reactome's apoptosis (dropped: later source), two equal sets inside it (kept)
    gmt(tmp_path / "kegg.gmt", [("HSA00001 APOPTOSIS SIGNALLING", "na", G[0:6]),
                                ("HSA00002 DNA REPAIR", "na", G[20:26]), ("HSA00003 BASE EXCISION", "na", G[20:26])])
    # column 2 is a member gene (OMIM_Expanded's layout)
    gmt(tmp_path / "omim.gmt", [("leigh_syndrome", "G30", G[31:35])])
    (tmp_path / "sets.tsv").write_text(
        "name\tcollection\tsubcollection\tn_genes\tdescription\n"
        "HALLMARK_X\tH\t\t6\tGenes of x.\n"
        "REACTOME_CELL_CYCLE\tC2\tCP:REACTOME\t6\t\n"
        "CGP_SET\tC2\tCGP\t6\tSome experiment.\n")
    gmt(tmp_path / "m.gmt", [("HALLMARK_X", "na", G[26:32]), ("REACTOME_CELL_CYCLE", "na", G[6:11] + ["G39"]),
                             ("CGP_SET", "na", G[10:16])])
    return tmp_path


def spec(**over):
    d = {"name": "tiny", "vocabulary": "union", "min_size": 4, "max_size": 50, "sources": [
        {"collection": "REACT", "kind": "gmt", "path": "react.gmt", "second_column": "id", "weight": 1.0},
        {"collection": "KEGG", "kind": "enrichr", "path": "kegg.gmt", "name_regex": r"^HSA\d+ (?P<name>.+)$",
         "text": "{name} (KEGG)", "weight": 0.5},
        {"collection": "OMIM", "kind": "enrichr", "path": "omim.gmt", "second_column": "gene",
         "name_regex": "^(?P<name>.+)$", "text": "OMIM disease genes: {name}", "weight": 1.0},
        {"collection": "MSIGDB_H", "kind": "msigdb", "path": "sets.tsv", "gmt": "m.gmt", "collections": ["H"],
         "weight": 2.0},
        {"collection": "MSIGDB_C2", "kind": "msigdb", "path": "sets.tsv", "gmt": "m.gmt", "collections": ["C2"],
         "weight": 1.0}]}
    d.update(over)
    return d


# ---------------------------------------------------------------------- building
def test_corpus_rules_templates_weights_and_counts(root):
    c = build_corpus(spec(), root, progress=False)
    lib, rep = c.library, c.report["collections"]
    texts = dict(zip(lib.terms, lib.texts("both")))
    # Reactome ids from column 2, names as text; the 3-gene set is below min_size
    assert texts["R-HSA-1"] == "Apoptosis" and "R-HSA-3" not in texts
    assert rep["REACT"]["size_or_vocabulary"] == 1 and rep["REACT"]["kept"] == 2
    # KEGG's copy of R-HSA-1 dropped (earlier source wins); the two equal KEGG sets both stay
    assert "HSA00001 APOPTOSIS SIGNALLING" not in texts and rep["KEGG"]["duplicate_set"] == 1
    assert texts["HSA00002 DNA REPAIR"] == "DNA repair (KEGG)"
    assert texts["HSA00003 BASE EXCISION"] == "Base excision (KEGG)"
    # column 2 read as a member gene
    assert lib.genes_of("leigh_syndrome") == ["G30", "G31", "G32", "G33", "G34"]
    assert texts["leigh_syndrome"] == "OMIM disease genes: Leigh syndrome"
    # MSigDB: description kept; REACTOME_CELL_CYCLE has no description -> humanised "Cell cycle": same text
    # as Reactome's (different genes), dropped as a duplicate text
    assert texts["HALLMARK_X"] == "X. Genes of x." and "REACTOME_CELL_CYCLE" not in texts
    assert rep["MSIGDB_C2"]["duplicate_text"] == 1 and rep["MSIGDB_C2"]["kept"] == 1
    # counts add up per collection
    for st in rep.values():
        assert st["read"] == st["size_or_vocabulary"] + sum(st[r] for r in
                                                            ("duplicate_set", "duplicate_text", "go_family",
                                                             "jaccard", "text_cap")) + st["kept"]
    assert rep["KEGG"]["no_description"] == 2 and rep["MSIGDB_H"]["no_description"] == 0
    # weights: per set as given, scaled to mean 1; shares from them
    w = dict(zip(lib.terms, c.weights))
    assert c.weights.mean() == pytest.approx(1.0)
    kegg = w["HSA00002 DNA REPAIR"]
    assert w["HALLMARK_X"] == pytest.approx(4 * kegg) and w["R-HSA-1"] == pytest.approx(2 * kegg)
    assert sum(st["share"] for st in rep.values()) == pytest.approx(1.0, abs=1e-3)
    assert rep["MSIGDB_H"]["share"] == pytest.approx(w["HALLMARK_X"] / c.weights.sum(), abs=1e-4)


def test_corpus_is_deterministic_and_groups_and_exclusion_work(root, tmp_path):
    a, b = build_corpus(spec(), root, progress=False), build_corpus(spec(), root, progress=False)
    assert a.library.terms == b.library.terms and np.array_equal(a.weights, b.weights)
    assert (a.library.membership != b.library.membership).nnz == 0
    # one group: REACT and KEGG count as one library, so KEGG's copy of R-HSA-1 stays
    s = spec()
    s["sources"][0]["group"] = s["sources"][1]["group"] = "pathways"
    g = build_corpus(s, root, progress=False)
    assert "HSA00001 APOPTOSIS SIGNALLING" in g.library.terms
    # near-copies: gene Jaccard >= 0.15 to a set of an earlier source (CGP_SET 2 / 10 to R-HSA-2,
    # HALLMARK_X 2 / 9 to leigh_syndrome, REACTOME_CELL_CYCLE 5 / 7 to R-HSA-2)
    near = build_corpus(spec(duplicate_jaccard=0.15), root, progress=False)
    rep = near.report["collections"]
    assert rep["MSIGDB_C2"]["duplicate_set"] == 2 and rep["MSIGDB_H"]["duplicate_set"] == 1
    assert "HSA00002 DNA REPAIR" in near.library.terms and "leigh_syndrome" in near.library.terms
    ex = build_corpus(spec(), root, exclude=["REACT"], progress=False)
    assert "REACT" not in set(ex.library.collections) and "HSA00001 APOPTOSIS SIGNALLING" in ex.library.terms
    a.write(tmp_path / "out")
    assert json.loads((tmp_path / "out" / "report.json").read_text())["n_sets"] == len(a.library)
    assert len((tmp_path / "out" / "corpus.gmt").read_text().splitlines()) == len(a.library)


def test_corpus_against_test_sets_counts_each_rule(root):
    base = build_corpus(spec(), root, progress=False)
    test = GeneSetLibrary.from_gene_sets({"T1": G[26:32], "T2": ["G20", "G21", "G22", "G38"]},
                                         names={"T1": "t1", "T2": "t2"})
    feats = np.zeros((len(base.library), 2), np.float32)
    feats[:, 0] = 1.0
    tfeat = np.array([[0.0, 1.0], [0.0, 1.0]], np.float32)
    i = base.library.index("leigh_syndrome")
    feats[i] = [0.3, 0.954]  # cosine 0.954 to the test texts: over the cap
    c = build_corpus(spec(), root, test=test, text_features=feats, test_text_features=tfeat, progress=False)
    rep = c.report["collections"]
    assert "HALLMARK_X" not in c.library.terms and rep["MSIGDB_H"]["jaccard"] == 1   # Jaccard 1 to T1
    # KEGG DNA repair sets: 3 of 7 genes shared with T2 (0.43) -> kept
    assert "HSA00002 DNA REPAIR" in c.library.terms
    assert "leigh_syndrome" not in c.library.terms and rep["OMIM"]["text_cap"] == 1
    with pytest.raises(InputError, match="text cap needs"):
        build_corpus(spec(), root, test=test, progress=False)
    assert len(build_corpus(spec(), root, test=test, text_cap=None, progress=False).library) == len(c.library) + 1


def test_leakage_rules_by_hand(onto):
    lib = GeneSetLibrary.from_gene_sets({
        "GO:0000002": G[0:4], "GO:0000003": G[4:8], "GO:0000004": G[8:12], "GO:0000006": G[12:16],
        "near": ["G20", "G21", "G22", "G25", "G26"],        # 3 / 6 = 0.5 to the test set: dropped
        "far": ["G20", "G21", "G22", "G27", "G28", "G29"],   # 3 / 7: kept
        "text": G[30:34], "other": G[34:38]}, genes=G)
    test = GeneSetLibrary.from_gene_sets({"GO:0000003": G[4:8], "X": ["G20", "G21", "G22", "G23"]}, genes=G)
    feats = np.tile(np.array([[1.0, 0.0]], np.float32), (len(lib), 1))
    feats[lib.index("text")] = [0.4146, 0.91]      # cosine 0.91 to the test text [0, 1]: over the cap, dropped
    feats[lib.index("other")] = [0.6, 0.8]          # 0.8: kept
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    rule = leakage_mask(lib, test, ontology=onto, text_features=feats,
                        test_text_features=np.array([[0.0, 1.0], [0.0, 1.0]], np.float32))
    got = dict(zip(lib.terms, rule.tolist()))
    # family of the test term apoptotic process (3): itself and its ancestor cell death (2); its sibling
    # execution phase (4) and regulation (6) stay
    assert got == {"GO:0000002": 1, "GO:0000003": 1, "GO:0000004": 0, "GO:0000006": 0, "near": 2, "far": 0,
                   "text": 3, "other": 0}
    none = leakage_mask(lib, test, ontology=onto, jaccard=None, text_cap=None)
    assert none.tolist() == [1, 1, 0, 0, 0, 0, 0, 0]


# ---------------------------------------------------------------------- ontology proximity
def test_ontology_proximity_top_k_simgic_by_hand(onto):
    lib = GeneSetLibrary.from_gene_sets({"GO:0000002": G[0:4], "apoptotic process (GO:0000003)": G[4:8],
                                         "GO:0000004": G[8:12], "GO:0000006": G[12:16], "REACTOME_X": G[16:20]},
                                        genes=G)
    p = ontology_proximity(lib, top_k=1, ontology=onto, ic=ic_of(onto), progress=False)
    d = p.toarray()
    # simGIC(3, 2) = IC{1, 2} / IC{1, 2, 3} = 1 / 3 beats simGIC(3, 4) = IC{1, 2} / IC{1, 2, 3, 4} = 1 / 5:
    # 3 and 4 both pick their parent 2
    assert d[1, 0] == pytest.approx(1 / 3) and d[2, 0] == pytest.approx(1 / 3)
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0)
    assert d[1, 2] == 0 and not d[3].any() and not d[4].any()   # 6 shares only the root (IC 0); no GO id
    p2 = ontology_proximity(lib, top_k=3, ontology=onto, ic=ic_of(onto), progress=False).toarray()
    assert p2[1, 2] == pytest.approx(0.2)
    with pytest.raises(InputError, match="independent judge"):
        ontology_proximity(lib, similarity="wang", ontology=onto, ic=ic_of(onto))


# ---------------------------------------------------------------------- training hooks
def test_weighted_batches_follow_the_weights_and_repeat_with_the_seed():
    w = np.array([6.0, 1, 1, 1, 1, 1, 1, 0])
    batches = list(WeightedBatchSampler(w, 2, 4000, seed=3))
    assert all(len(set(b)) == 2 for b in batches)           # no set twice in a batch
    counts = np.bincount(np.concatenate(batches), minlength=8) / (2 * 4000)
    assert counts[7] == 0 and counts[0] > 2.5 * counts[1:7].mean()
    assert batches[:50] == list(WeightedBatchSampler(w, 2, 50, seed=3))


def test_paired_batches_hold_neighbours():
    nb = sp.csr_matrix(np.kron(np.eye(10), np.ones((2, 2))) - np.eye(20))   # pairs (0, 1), (2, 3)...
    w = np.ones(20)
    for b in WeightedBatchSampler(w, 8, 50, seed=0, neighbours=nb, pair_frac=0.5):
        assert len(set(b)) == 8
        # 2 pairs asked: the last two rows are partners of earlier rows
        assert all((j ^ 1) in b[:6] for j in b[6:])
    plain = list(WeightedBatchSampler(w, 8, 50, seed=0))
    paired_rate = np.mean([(nb[b][:, b].sum(1) > 0).mean() for b in
                           WeightedBatchSampler(w, 8, 200, seed=0, neighbours=nb, pair_frac=1.0)])
    plain_rate = np.mean([(nb[b][:, b].sum(1) > 0).mean() for b in plain])
    # a seed whose partner is already drawn leaves its slot to an independent draw
    assert paired_rate > 0.9 and plain_rate < 0.6


def test_train_with_ontology_targets_and_sample_weights():
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    sets = {f"T{i}": list(rng.choice(G, size=6, replace=False)) for i in range(32)}
    lib = GeneSetLibrary.from_gene_sets(sets, descriptions={t: f"text {t}" for t in sets}, genes=G)
    feats = rng.normal(size=(32, 12)).astype(np.float32)
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    prox = sp.csr_matrix(np.kron(np.eye(8), np.ones((4, 4))) - np.eye(32))   # blocks of 4 related terms
    cfg = dict(embed_dim=8, text_dim=12, text_hidden=10, gene_tower={"d_model": 16, "hidden_dims": [16]})

    def run(**kw):
        tc = GtClipTrainConfig(epochs=2, batch_size=8, progress=False, warmup_steps=1, **kw)
        return train_gtclip(lib, GtClipConfig(**cfg), tc, text_features=feats, genes=G, proximity=prox)

    _, plain = run(overlap_weight=0.3)
    _, onto_run = run(overlap_weight=0.3, ontology_weight=0.4)
    assert plain.history[0]["loss"] != pytest.approx(onto_run.history[0]["loss"], abs=1e-5)
    _, paired = run(overlap_weight=0.3, ontology_weight=0.4, ontology_pair_frac=0.5)
    assert paired.steps == 2 * 4 and np.isfinite(paired.history[-1]["loss"])
    w = np.r_[np.full(16, 3.0), np.ones(16)]
    tc = GtClipTrainConfig(epochs=2, batch_size=8, progress=False, warmup_steps=1, epoch_size=64)
    m, res = train_gtclip(lib, GtClipConfig(**cfg), tc, text_features=feats, genes=G, sample_weights=w)
    assert res.steps == 2 * 8 and m.config.training["n_train_sets"] == 32
    m2, res2 = train_gtclip(lib, GtClipConfig(**cfg), tc, text_features=feats, genes=G, sample_weights=w)
    assert [r["loss"] for r in res.history] == [r["loss"] for r in res2.history]
    with pytest.raises(InputError, match="sample_weights has 3"):
        train_gtclip(lib, GtClipConfig(**cfg), tc, text_features=feats, genes=G, sample_weights=[1, 2, 3])
    with pytest.raises(InputError, match="independent judge"):
        train_gtclip(lib, GtClipConfig(**cfg), GtClipTrainConfig(ontology_weight=0.2, ontology_similarity="wang"),
                     text_features=feats, genes=G)
    with pytest.raises(InputError, match="sum <= 1"):
        train_gtclip(lib, GtClipConfig(**cfg), GtClipTrainConfig(overlap_weight=0.6, ontology_weight=0.5),
                     text_features=feats, genes=G)


# ---------------------------------------------------------------------- spec
def test_shipped_spec_reads_and_bad_specs_are_one_line_errors(tmp_path):
    s = read_corpus_spec("gtclip-v2-corpus")
    assert s == read_recipe("gtclip-v2-corpus") and s["sources"][0]["collection"] == "GO_BP"
    bad = [({"sources": []}, "non-empty 'sources'"),
           ({"sources": [{"kind": "csv", "collection": "X", "path": "x"}]}, "kind must be"),
           ({"sources": [{"kind": "gmt", "collection": "X"}]}, "'path'"),
           ({"sources": [{"kind": "gmt", "collection": "X", "path": "a"}, {"kind": "gmt", "collection": "X",
                                                                           "path": "b"}]}, "appears twice"),
           ({"sources": [{"kind": "gmt", "collection": "X", "path": "a", "weight": -1}]}, "weight"),
           ({"sources": [{"kind": "gmt", "collection": "X", "path": "a", "name_regex": "("}]}, "does not compile"),
           ({"sources": [{"kind": "gmt", "collection": "X", "path": "a", "text": "{x}"}]}, "needs a 'name_regex'")]
    for d, msg in bad:
        with pytest.raises(InputError, match=msg):
            read_corpus_spec(d)
    with pytest.raises(InputError, match="data root"):
        build_corpus({"sources": [{"kind": "gmt", "collection": "X", "path": "a.gmt"}]}, progress=False)
    with pytest.raises(InputError, match="not found"):
        build_corpus({"sources": [{"kind": "gmt", "collection": "X", "path": "a.gmt"}]}, tmp_path, progress=False)
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(InputError, match="not valid JSON"):
        read_corpus_spec(tmp_path / "bad.json")
