"""OBO/GAF parsing, ancestor closure, propagation and GO ids on a small hand-made ontology."""
import gzip
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

from contrastomics.data import annotations, ontology
from contrastomics.data.annotations import Annotations, annotations_to_library, read_gaf, read_gene_term_table
from contrastomics.data.ontology import Ontology, extract_go_id, is_go_result, parse_definition, read_obo
from contrastomics.errors import InputError

DATA = Path(__file__).parent / "data"
OBO = DATA / "ontology_mini.obo"
GAF = DATA / "ontology_mini.gaf"


@pytest.fixture(scope="module")
def onto() -> Ontology:
    return read_obo(OBO)


def test_terms_and_fields(onto):
    assert len(onto) == 9
    t = onto.term("GO:0000001")
    assert t["definition"] == 'Root of the "mini" process tree.'  # quotes, escapes and refs stripped
    assert onto.term("GO:0000003")["definition"] == "Programmed cell death."
    assert t["namespace"] == "biological_process"
    assert onto.term("GO:0000011")["namespace"] == "molecular_function"
    assert onto.term("GO:0000007")["obsolete"] and not t["obsolete"]
    assert onto.resolve("GO:0000099") == "GO:0000011"
    assert onto.replaced_by["GO:0000007"] == ["GO:0000003"]
    assert onto.term("GO:0000004")["definition"] == ""


def test_parents_relations(onto):
    assert sorted(onto.parents("GO:0000005")) == ["GO:0000003", "GO:0000004"]
    assert onto.parents("GO:0000005", relations=["is_a"]) == ["GO:0000003"]
    assert onto.parents("GO:0000004", relations=["is_a"]) == []
    # regulates is stored but not followed by default
    assert onto.parents("GO:0000006") == ["GO:0000001"]
    assert sorted(onto.parents("GO:0000006", relations=["is_a", "regulates"])) == ["GO:0000001", "GO:0000003"]
    assert sorted(onto.children("GO:0000002")) == ["GO:0000003", "GO:0000004"]


def test_ancestors_descendants(onto):
    assert onto.ancestors("GO:0000005") == {"GO:0000001", "GO:0000002", "GO:0000003", "GO:0000004"}
    assert onto.ancestors("GO:0000005", relations=["is_a"]) == {"GO:0000001", "GO:0000002", "GO:0000003"}
    assert onto.descendants("GO:0000002") == {"GO:0000003", "GO:0000004", "GO:0000005"}
    assert onto.descendants("GO:0000001", include_self=True) >= {"GO:0000001", "GO:0000006"}
    sets = onto.ancestor_sets()
    assert sets[onto.index("GO:0000004")] == frozenset({"GO:0000001", "GO:0000002"})
    m = onto.ancestor_matrix()
    assert m.shape == (9, 9) and m.diagonal().sum() == 9
    depth = onto.depth()
    assert depth[onto.index("GO:0000005")] == 4 and depth[onto.index("GO:0000001")] == 0


def test_read_gaf_filters():
    ann = read_gaf(GAF)
    assert "G7" not in ann  # NOT qualifier always excluded
    assert ann.meta["n_not_qualifier"] == 1
    assert ann["G1"] == {"GO:0000005"}
    assert ann.synonyms["G6"] == {"PEP1", "PEPX"}
    assert ann.alias_map()["PEPX"] == "G6"
    no_iea = read_gaf(GAF, evidence_exclude={"IEA"})
    assert "G8" not in no_iea and no_iea.meta["n_evidence_filtered"] == 1
    only_ida = read_gaf(GAF, evidence_include=["IDA"])
    assert set(only_ida) == {"G1", "G4", "G5", "G6", "G9"}
    mf = read_gaf(GAF, namespaces=["MF"])
    assert set(mf) == {"G6"}
    with pytest.raises(InputError, match="unknown GO namespace"):
        read_gaf(GAF, namespaces=["XX"])


def test_propagation(onto):
    ann = read_gaf(GAF)
    with pytest.warns(UserWarning, match="1 annotated term id"):
        lib = annotations_to_library(onto, ann, "BP")
    got = dict(zip(lib.terms, map(set, lib.gene_sets)))
    assert got["GO:0000005"] == {"G1"}
    assert got["GO:0000003"] == {"G1", "G2", "G4"}  # G4 via obsolete GO:0000007 -> replaced_by
    assert got["GO:0000004"] == {"G1", "G3"}  # part_of carries G1 up
    assert got["GO:0000002"] == {"G1", "G2", "G3", "G4", "G8"}
    assert got["GO:0000001"] == {"G1", "G2", "G3", "G4", "G5", "G8"}
    assert "GO:0000007" not in got  # obsolete terms are never sets
    assert lib.collections[0] == "GO_BP" and lib.name == "GO_BP"
    assert lib.names[lib.index("GO:0000003")] == "apoptotic process"
    assert lib.descriptions[lib.index("GO:0000003")] == "Programmed cell death."
    assert lib.meta["n_unknown_terms"] == 1 and lib.meta["n_obsolete_terms_replaced"] == 1
    # vocabulary = every annotated gene (shared by namespaces), unless pruned
    assert "G6" in lib.genes and "G9" in lib.genes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pruned = annotations_to_library(onto, ann, "BP", prune_genes=True)
        is_a_only = annotations_to_library(onto, ann, "BP", relations=["is_a"])
        direct = annotations_to_library(onto, ann, "BP", propagate=False)
        sized = annotations_to_library(onto, ann, "BP", min_size=2, max_size=4)
        mf = annotations_to_library(onto, ann, "MF")
    assert "G6" not in pruned.genes and len(pruned.genes) == 6
    assert set(is_a_only.genes_of("GO:0000004")) == {"G3"}
    assert set(direct.genes_of("GO:0000002")) == {"G8"}
    assert sorted(sized.terms) == ["GO:0000003", "GO:0000004"]
    assert dict(zip(mf.terms, map(set, mf.gene_sets))) == {"GO:0000010": {"G6"}, "GO:0000011": {"G6"}}


def test_gene_map_counts_unmapped(onto):
    ann = {"1": {"GO:0000003"}, "2": {"GO:0000004"}, "3": {"GO:0000004"}}
    with pytest.warns(UserWarning, match="1 annotated gene id"):
        lib = annotations_to_library(onto, ann, "BP", gene_map={"1": "CASP3", "2": "CASP7"})
    assert lib.meta["unmapped_genes"] == {"3": 1}
    assert set(lib.genes_of("GO:0000002")) == {"CASP3", "CASP7"}


def test_parse_definition():
    assert parse_definition('"A \\"quoted\\" word." [PMID:1, GOC:x]') == 'A "quoted" word.'
    assert parse_definition('"No refs."') == "No refs."


# ---------------------------------------------------------------------- bad input
def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_cycle_names_file_and_line(tmp_path):
    text = OBO.read_text().replace("id: GO:0000001\nname: biological_process\nnamespace: biological_process\n",
                                   "id: GO:0000001\nname: biological_process\nnamespace: biological_process\n"
                                   "is_a: GO:0000005\n")
    p = _write(tmp_path, "cyclic.obo", text)
    with pytest.raises(InputError, match="cycle in the ontology") as e:
        read_obo(p)
    assert e.value.path == str(p) and e.value.line is not None
    assert "GO:0000001" in str(e.value) and str(p) in str(e.value)
    # the cycle is only through is_a + part_of; with is_a alone there is none
    text2 = OBO.read_text().replace("is_a: GO:0000001 ! biological_process",
                                    "is_a: GO:0000001 ! biological_process\nrelationship: part_of GO:0000005")
    p2 = _write(tmp_path, "cyclic_part_of.obo", text2)
    with pytest.raises(InputError, match="cycle"):
        read_obo(p2)
    assert len(read_obo(p2, relations=["is_a"])) == 9


def test_self_loop(tmp_path):
    p = _write(tmp_path, "self.obo", "[Term]\nid: X:1\nname: a\nis_a: X:1\n")
    with pytest.raises(InputError, match="own parent") as e:
        read_obo(p)
    assert e.value.line == 4


def test_missing_parent_warns_or_errors(tmp_path):
    text = OBO.read_text().replace("is_a: GO:0000001\nrelationship: regulates",
                                   "is_a: GO:0000001\nis_a: GO:1234567\nrelationship: regulates")
    p = _write(tmp_path, "missing.obo", text)
    with pytest.warns(UserWarning, match="dropped 1 edge") as w:
        o = read_obo(p)
    assert "GO:1234567" in str(w[0].message)
    assert o.meta["n_missing_parents"] == 1 and o.parents("GO:0000006") == ["GO:0000001"]
    line = text.splitlines().index("is_a: GO:1234567") + 1
    with pytest.raises(InputError, match="GO:1234567") as e:
        read_obo(p, on_missing_parent="error")
    assert e.value.line == line


def test_empty_and_non_obo(tmp_path):
    with pytest.raises(InputError, match="empty"):
        read_obo(_write(tmp_path, "empty.obo", ""))
    with pytest.raises(InputError, match="not an OBO file") as e:
        read_obo(_write(tmp_path, "table.obo", "gene\tterm\nTP53\tGO:1\n"))
    assert e.value.line == 1
    with pytest.raises(InputError, match="no \\[Term\\] stanza"):
        read_obo(_write(tmp_path, "header.obo", "format-version: 1.2\n"))
    with pytest.raises(InputError, match="without an 'id:'") as e:
        read_obo(_write(tmp_path, "noid.obo", "[Term]\nname: x\n"))
    assert e.value.line == 1
    with pytest.raises(InputError, match="duplicate term id") as e:
        read_obo(_write(tmp_path, "dup.obo", "[Term]\nid: A:1\n\n[Term]\nid: A:1\n"))
    assert e.value.line == 4


def test_gzip_without_suffix(tmp_path):
    p = tmp_path / "mini_obo_no_suffix"
    p.write_bytes(gzip.compress(OBO.read_bytes()))
    assert len(read_obo(p)) == 9
    g = tmp_path / "mini_gaf.txt"
    g.write_bytes(gzip.compress(GAF.read_bytes()))
    assert read_gaf(g)["G1"] == {"GO:0000005"}


def test_bad_gaf(tmp_path):
    with pytest.raises(InputError, match="not a GAF line") as e:
        read_gaf(_write(tmp_path, "bad.gaf", "!gaf-version: 2.1\nA\tB\tC\n"))
    assert e.value.line == 2
    with pytest.raises(InputError, match="no annotation"):
        read_gaf(_write(tmp_path, "hdr.gaf", "!gaf-version: 2.1\n"))
    with pytest.raises(InputError, match="empty"):
        read_gaf(_write(tmp_path, "empty.gaf", ""))


def test_gene_term_table(tmp_path):
    p = _write(tmp_path, "do.txt", "7157\tDOID:162\t123\n7157\tDOID:1612\t4\n836\tDOID:162\t5\n")
    ann = read_gene_term_table(p)
    assert ann["7157"] == {"DOID:162", "DOID:1612"} and len(ann) == 2
    with pytest.raises(InputError, match="expected at least 2") as e:
        read_gene_term_table(_write(tmp_path, "bad.txt", "7157\tDOID:1\n836\n"))
    assert e.value.line == 2


def test_propagation_is_sparse_matrix_product(onto):
    # many genes through the same path: result must equal the per-gene Python reference
    rng = np.random.default_rng(0)
    terms = [t for t in onto.ids if not onto.obsolete[onto.index(t)]]
    ann = {f"g{i}": set(rng.choice(terms, size=2, replace=False)) for i in range(200)}
    lib = annotations_to_library(onto, ann, None)
    for t, genes in zip(lib.terms, lib.gene_sets):
        ref = {g for g, ts in ann.items() if any(t == x or t in onto.ancestors(x) for x in ts)}
        assert set(genes) == ref


def test_gmt_given_as_gaf_is_rejected(tmp_path):
    p = _write(tmp_path, "sets.gmt", "SET_A\tdesc\tG1\tG2\tG3\tG4\tG5\tG6\n")
    with pytest.raises(InputError, match="not a GAF line.*column 5") as e:
        read_gaf(p)
    assert e.value.line == 1
    with pytest.raises(InputError, match="should hold a term id"):
        read_gene_term_table(_write(tmp_path, "t.txt", "7157\tcancer\n"))


def test_obsolete_without_replacement_is_counted(tmp_path):
    text = OBO.read_text().replace("replaced_by: GO:0000003\n", "consider: GO:0000003\n")
    o = read_obo(_write(tmp_path, "obs.obo", text))
    with pytest.warns(UserWarning, match="1 annotated term id\\(s\\) are obsolete"):
        lib = annotations_to_library(o, {"G4": {"GO:0000007"}, "G1": {"GO:0000003"}}, "BP")
    assert lib.meta["n_obsolete_terms_dropped"] == 1
    assert "G4" not in set(lib.genes_of("GO:0000003"))


def test_go_ids():
    assert extract_go_id("apoptotic process (GO:0006915)") == "GO:0006915"
    assert extract_go_id("GOBP_X GO_0006915") == "GO:0006915"
    assert extract_go_id("HALLMARK_APOPTOSIS") is None and extract_go_id(None) is None
    assert is_go_result(["GO:0000001", None, "GO:0000002", None])  # half carry a GO id
    assert not is_go_result(["GO:0000001", None, None])
    assert not is_go_result(["GO:0000001"])  # at least two


def test_moved_names_still_found_in_ontology_module():
    # deprecated location of the annotation names; caches pickled before the move name it
    assert ontology.Annotations is Annotations and ontology.read_gaf is read_gaf
    assert ontology.annotations_to_library is annotations.annotations_to_library
    with pytest.raises(AttributeError):
        ontology.no_such_name
    ann = Annotations({"G1": {"GO:0000001"}}, {"G1": {"ALIAS1"}}, {"n_lines": 1})
    Annotations.__module__ = "contrastomics.data.ontology"
    try:
        old = pickle.dumps(ann)
    finally:
        Annotations.__module__ = "contrastomics.data.annotations"
    assert b"contrastomics.data.ontology" in old
    back = pickle.loads(old)
    assert type(back) is Annotations and back.gene_terms == {"G1": {"GO:0000001"}}
    assert back.alias_map() == {"ALIAS1": "G1"}
