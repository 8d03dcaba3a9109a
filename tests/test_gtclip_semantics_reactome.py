"""Fast checks of gtclip_semantics.py `--part reactome`: held-out Reactome sets never reach training
(split (c) `collection`, near-duplicates dropped) and the pooled CI pairs pseudo-results of the same seeds."""
import numpy as np
import pytest

from benchmark_scripts import bench

gs = bench("gtclip_semantics")


def _library():
    from contrastomics.data.genesets import GeneSetLibrary

    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(200)]
    sets, coll = {}, {}
    for i in range(40):
        sets[f"R{i}"] = list(rng.choice(genes, 20, replace=False))
        coll[f"R{i}"] = "C2:CP:REACTOME"
    for i in range(60):
        sets[f"O{i}"] = list(rng.choice(genes, 20, replace=False))
        coll[f"O{i}"] = "C2:CP:KEGG"
    sets["COPY"] = list(sets["R3"])  # a near-duplicate of a held-out set in another collection
    coll["COPY"] = "C5:GO:BP"
    return GeneSetLibrary.from_gene_sets(sets, collection=coll, genes=genes)


def test_collection_split_holds_reactome_out():
    lib = _library()
    split = gs.gr.split_for("collection", lib, None, None, 0)
    coll = np.asarray(lib.collections)
    assert set(coll[split.test]) == {"C2:CP:REACTOME"} and len(split.test) == 40
    seen = set(split.train) | set(split.val)
    assert not any(coll[i] == "C2:CP:REACTOME" for i in seen)
    assert lib.terms.index("COPY") not in seen  # gene Jaccard 1.0 to a test set: dropped


def _mean_purity(model, method, seed, per):
    return {"dataset": "d", "part": "reactome", "split": "collection", "model": model, "section": "reactome_clustering",
            "method": method, "judge": "reactome_top_level", "namespace": "REACTOME", "seed": seed,
            "metric": "mean_purity", "value": float(np.mean(per)), "per_result": list(per)}


def test_pooled_ci_pairs_same_seeds_only():
    recs = [_mean_purity("m", "overlap-knn", 0, [0.5, 0.6, 0.7]), _mean_purity("m", "overlap-knn", 1, [0.5, 0.5, 0.5]),
            _mean_purity("m", "text", 0, [0.6, 0.7, 0.8]), _mean_purity("m", "text", 1, [0.6, 0.6, 0.6]),
            _mean_purity("m", "joint", 0, [0.9, 0.9, 0.9])]  # joint lacks seed 1: no pooled record
    out = gs.reactome_pooled(recs)
    assert [r["method"] for r in out] == ["text"]
    r = out[0]
    assert r["seeds"] == [0, 1] and r["n"] == 6 and r["vs"] == "overlap-knn"
    assert r["value"] == pytest.approx(0.1) and r["low"] == pytest.approx(0.1) and r["verdict"] == "better"
