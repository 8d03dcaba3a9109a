"""Each benchmark leakage control, pinned: removing or loosening a control fails here
(docs/evaluation.md, section 5). Benchmark scripts are imported from benchmarks/ by path."""
from __future__ import annotations

import anndata
import numpy as np
import pandas as pd
import pytest

from contrastomics.data.genesets import GeneSetLibrary
from benchmark_scripts import bench


def test_gsfm_corpus_never_holds_a_near_duplicate_of_an_evaluated_term():
    """A corpus set at gene Jaccard >= 0.5 to an evaluated term never enters pretraining."""
    g = bench("gsfm_gene_function")
    genes = [f"G{i}" for i in range(40)]
    target = GeneSetLibrary.from_gene_sets({"T1": genes[0:10], "T2": genes[20:30]}, genes=genes)
    corpus = GeneSetLibrary.from_gene_sets({
        "same": genes[0:10],                    # Jaccard 1
        "half": genes[0:5] + genes[10:15],      # 5 / 15 = 0.33: kept
        "near": genes[20:29] + genes[35:36],    # 9 / 11 = 0.82: dropped
        "edge": genes[0:8] + genes[30:32],      # 8 / 12 = 0.67: dropped
        "other": genes[30:40],
    }, genes=genes)
    near, per_target = g.near_duplicates(corpus, {"lib": target})
    assert dict(zip(corpus.terms, near.tolist())) == {
        "same": True, "half": False, "near": True, "edge": True, "other": False}
    assert per_target == {"lib": 3} and g.NEAR_DUPLICATE_JACCARD == 0.5


def _section(seed: int, genes: list[str]) -> anndata.AnnData:
    x = np.random.default_rng(seed).poisson(3.0, size=(30, len(genes))).astype(np.float32)
    return anndata.AnnData(x, var=pd.DataFrame(index=genes))


def test_comtip_gene_panel_never_depends_on_imaged_patients():
    """CoMTIP's genes are chosen from expression-only patients: no spot of patient B or C (the
    training and test patients of the image folds) is read to choose them."""
    c = bench("comtip_her2st")
    index = pd.DataFrame({"patient": ["A", "B", "C", "D", "C"]}, index=["A1", "B4", "C2", "D1", "C3"])
    genes = [f"G{i}" for i in range(20)]
    asked = []

    def read(sections):
        asked.extend(sections)
        return {s: _section(i, genes) for i, s in enumerate(sections)}

    _, panel, _ = c.gene_panel(index, read, n_genes=5)
    assert sorted(asked) == ["A1", "D1"] and len(panel) == 5
    assert c.IMAGED_PATIENTS == ("B", "C")


def test_heldout_means_never_include_tuning_cohorts():
    """The headline means of the clustering benchmark leave out the cohorts the defaults were
    tuned on."""
    g = bench("gsea_cohorts")
    tuned = g.TUNING_COHORTS[0]
    datasets = [{"dataset": f"{tuned}/gobp", "cohort": tuned, "group": "main"},
                {"dataset": "other/gobp", "cohort": "other", "group": "main"}]
    records = [{"dataset": f"{tuned}/gobp", "split": "default", "method": "joint",
                "metric": "nes_coherence_adjusted", "value": 1.0},
               {"dataset": "other/gobp", "split": "default", "method": "joint",
                "metric": "nes_coherence_adjusted", "value": 0.5}]
    out = {(r["dataset"]): r["value"] for r in g.summarise(records, datasets)
           if r["metric"] == "nes_coherence_adjusted" and r["method"] == "joint"}
    assert out["mean (held-out cohorts)"] == pytest.approx(0.5)
    assert out["mean (all main results)"] == pytest.approx(0.75)


def test_cluster_defaults_test_part_never_holds_a_development_cohort():
    """`cluster_defaults.py`: the joint v2 weights were chosen on p53 and leukemia (the demo is
    leukemia GO BP); no result of those cohorts, nor the demo, may be scored as test."""
    cd = bench("cluster_defaults")
    dev = {d for d, _ in cd.PARTS["dev"]}
    test = {d for d, _ in cd.PARTS["test"]}
    assert {"p53_prerank", "leukemia_prerank"} <= dev
    assert not dev & test
    assert not any(d.startswith(("p53", "leukemia")) for d in test)
    assert len({(d, lib) for d, lib in cd.PARTS["test"] if lib == "gobp"}) >= 6  # issue 16: >= 6 GO results


def test_gene_rows_never_see_held_out_texts():
    """gtCLIP's text-initialised gene rows are computed from the training sets' texts only: a
    gene seen only in held-out sets starts from a zero row."""
    import torch

    from contrastomics.models.gtclip import GtClip, GtClipConfig
    from contrastomics.training.gtclip import init_from_text

    genes = [f"G{i}" for i in range(12)]
    train_sets = [np.array([0, 1, 2]), np.array([2, 3, 4]), np.array([4, 5, 0])]
    feats = np.random.default_rng(0).normal(size=(3, 6)).astype(np.float32)

    torch.manual_seed(0)
    m = GtClip(GtClipConfig(embed_dim=4, text_dim=6, text_hidden=5,
                            gene_tower={"d_model": 4, "hidden_dims": [4]}), vocab=genes)
    init_from_text(m, [s + 2 for s in train_sets], feats)  # token ids: 2 special tokens first
    w = m.gene_tower.encoder.layers[0].weight.detach().numpy().T
    held_out_only = [g + 2 for g in range(6, 12)]
    assert not w[held_out_only].any()
    assert np.abs(w[[2, 3, 4, 5, 6, 7]]).sum(axis=1).min() > 0
