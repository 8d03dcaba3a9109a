"""Result files as users name their pathways: MSigDB GO names in any case, conditions named two ways,
Reactome names with species prefixes or trailing ids, ids without names; errors that name the file.
(From a robustness sweep of session 7: each test failed on 8c60b69.)"""
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from contrastomics.cluster import run_clustering
from contrastomics.cluster.pathways import go_terms_of, prepare
from contrastomics.errors import InputError

pytestmark = pytest.mark.filterwarnings("ignore")

GO_PAIRS = [("GO:0006281", "DNA repair"), ("GO:0006915", "apoptotic process"), ("GO:0006397", "mRNA processing"),
            ("GO:0030198", "extracellular matrix organization"), ("GO:0006338", "chromatin remodeling"),
            ("GO:0008380", "RNA splicing")]


def _msig(name, prefix="GOBP_"):
    return prefix + re.sub(r"[^A-Z0-9]+", "_", name.upper().replace("+", "PLUS")).strip("_")


def _go_genes(go_id, n=15):
    from contrastomics.data.builtin import load_library
    lib = load_library("GO_BP", min_size=1, max_size=None)
    return sorted(lib.gene_sets[lib.terms.index(go_id)])[:n]


def _frame(terms, names=None, nes=None):
    n = len(terms)
    return pd.DataFrame({"term": terms, "name": names if names is not None else terms,
                         "nes": nes if nes is not None else [2.0, -2.0] * (n // 2) + [2.0] * (n % 2),
                         "fdr": 0.01, "genes": [_go_genes(g) for g, _ in GO_PAIRS[:n]]})


def test_lower_case_msigdb_go_names_are_go_names():
    terms = [_msig(nm).lower() for _, nm in GO_PAIRS]  # "gobp_dna_repair"
    assert go_terms_of(terms, terms) == [g for g, _ in GO_PAIRS]
    pw = prepare(_frame(terms))
    assert not any("no gene-set library" in n for n in pw.notes)
    assert pw.has_full_sets.all()


def test_mixed_case_msigdb_go_names_are_go_names():
    terms = ["GOBP_" + "_".join(w.capitalize() for w in _msig(nm)[5:].split("_")) for _, nm in GO_PAIRS]
    assert go_terms_of(terms, terms) == [g for g, _ in GO_PAIRS]


def test_conditions_named_the_msigdb_way_and_by_go_id_merge():
    a = _frame([_msig(nm) for _, nm in GO_PAIRS])
    b = _frame([f"{nm} (GO:{g[3:]})" for g, nm in GO_PAIRS])
    pw = prepare({"A": a, "B": b})
    assert len(pw.table) == len(GO_PAIRS)
    assert pw.table["nes_A"].notna().all() and pw.table["nes_B"].notna().all()


def test_conditions_msigdb_2023_and_v7_names_merge():
    a = _frame([_msig(nm) for _, nm in GO_PAIRS])
    b = _frame([_msig(nm, "GO_") for _, nm in GO_PAIRS])
    pw = prepare({"new": a, "v7": b})
    assert len(pw.table) == len(GO_PAIRS)


def test_cluster_labels_drop_species_prefix_and_trailing_reactome_id():
    names = ["Cell Cycle Checkpoints", "Mitotic Spindle Checkpoint", "DNA Replication", "Apoptosis",
             "Programmed Cell Death", "Intrinsic Pathway for Apoptosis"]
    rng = np.random.default_rng(0)
    pool = _go_genes("GO:0006281", 60) + _go_genes("GO:0006915", 60)
    for spelled in ([f"Homo sapiens: {n}" for n in names], [f"{n} R-HSA-{100 + i}" for i, n in enumerate(names)]):
        df = pd.DataFrame({"term": spelled, "nes": [2.0] * 3 + [-2.0] * 3, "fdr": 0.01,
                           "genes": [list(rng.choice(pool, 20, replace=False)) for _ in names]})
        t = run_clustering(df, n_clusters=2, min_cluster_size=2).table
        labels = set(t["cluster_label"])
        assert not any(l.startswith("Homo sapiens") or re.search(r"R-HSA-\d+$", l) for l in labels), labels


@pytest.mark.parametrize("name", ["", None])
def test_cluster_label_of_a_go_id_without_name_is_the_go_name(name):
    # not '' (API, empty name) or 'GO:0006281' (clusterProfiler file, empty Description)
    ids = [g for g, _ in GO_PAIRS]
    df = _frame(ids, names=[name or g for g in ids])  # None: the name is the id, as the readers give it
    t = run_clustering(df, n_clusters=2, min_cluster_size=2).table
    go_names = {nm for _, nm in GO_PAIRS}
    assert set(t["cluster_label"]) <= go_names, set(t["cluster_label"])


def test_a_bare_reactome_id_is_titled_by_the_shipped_hierarchy():
    # the hierarchy gives the name: title and text are not the id
    ids = ["R-HSA-69620", "R-HSA-68886"]
    df = pd.DataFrame({"term": ids, "nes": [2.0, 2.0], "fdr": 0.01,
                       "genes": [_go_genes("GO:0006281"), _go_genes("GO:0006915")]})
    pw = prepare(df)
    assert pw.titles == ["Cell Cycle Checkpoints", "M Phase"] and pw.texts == pw.titles


def test_no_leading_edge_error_names_the_file(tmp_path):
    p = tmp_path / "kegg_no_genes.tsv"
    pd.DataFrame({"Term": ["KEGG_CELL_CYCLE", "KEGG_APOPTOSIS"], "ES": 0.5, "NES": [2.0, -2.0], "NOM p-val": 0.001,
                  "FDR q-val": 0.01, "Lead_genes": ["", ""]}).to_csv(p, sep="\t", index=False)
    with pytest.raises(InputError, match="kegg_no_genes"):
        prepare(str(p))


def test_msigdb_reactome_names_are_shown_and_embedded_in_reactomes_spelling():
    terms = ["REACTOME_CLASS_A_1_RHODOPSIN_LIKE_RECEPTORS", "REACTOME_CELL_CYCLE_CHECKPOINTS"]
    df = pd.DataFrame({"term": terms, "nes": [2.0, 2.0], "fdr": 0.01,
                       "genes": [_go_genes("GO:0006281"), _go_genes("GO:0006915")]})
    pw = prepare(df)
    assert pw.titles == ["Class A/1 (Rhodopsin-like receptors)", "Cell Cycle Checkpoints"]
    assert pw.texts == pw.titles


def test_reactome_spelling_for_titles_with_a_plus_and_with_the_library_holding_the_sets():
    """MSigDB drops some "+" ("FCERI mediated Ca+2 mobilization" is REACTOME_FCERI_MEDIATED_CA_2_
    MOBILIZATION); with ``gene_sets`` holding the sets (``--gmt``) the title still takes Reactome's
    spelling, while the text stays the library's (what the model embeds does not change)."""
    from contrastomics.data.genesets import GeneSetLibrary

    terms = ["REACTOME_FCERI_MEDIATED_CA_2_MOBILIZATION", "REACTOME_NONSENSE_MEDIATED_DECAY_NMD"]
    genes = [_go_genes("GO:0006281"), _go_genes("GO:0006915")]
    df = pd.DataFrame({"term": terms, "nes": [2.0, 2.0], "fdr": 0.01, "genes": genes})
    assert prepare(df).titles == ["FCERI mediated Ca+2 mobilization", "Nonsense-Mediated Decay (NMD)"]
    lib = GeneSetLibrary.from_gene_sets(dict(zip(terms, genes)), descriptions=dict(zip(terms, ["a text", "more text"])))
    pw = prepare(df, gene_sets=lib)
    assert pw.titles == ["FCERI mediated Ca+2 mobilization", "Nonsense-Mediated Decay (NMD)"]
    assert pw.texts != pw.titles


def test_a_former_msigdb_reactome_name_keeps_its_title_and_is_embedded_as_todays_pathway():
    terms = ["REACTOME_THE_CITRIC_ACID_TCA_CYCLE_AND_RESPIRATORY_ELECTRON_TRANSPORT", "REACTOME_CELL_CYCLE_CHECKPOINTS"]
    df = pd.DataFrame({"term": terms, "nes": [2.0, 2.0], "fdr": 0.01,
                       "genes": [_go_genes("GO:0006281"), _go_genes("GO:0006915")]})
    pw = prepare(df)
    assert pw.titles[0] == "The citric acid TCA cycle and respiratory electron transport"
    assert pw.texts == ["Aerobic respiration and respiratory electron transport", "Cell Cycle Checkpoints"]


def test_a_result_mixing_libraries_gets_builtin_go_sets_for_its_go_rows():
    """GO terms in the minority (a gseapy run on a GO and a Reactome library) still take their full
    sets from the built-in GO; the other rows keep their leading edges."""
    go = [f"{nm} (GO:{g[3:]})" for g, nm in GO_PAIRS[:3]]
    # GO has sets named "cell cycle", "apoptotic process" and "translation": other libraries' sets of
    # those names must not take them (by MSigDB prefix, or by the row's library)
    other = ["REACTOME_CELL_CYCLE", "REACTOME_APOPTOSIS", "KEGG_RIBOSOME", "WP_GLYCOLYSIS", "translation"]
    libs = ["GO_Biological_Process_2023"] * 3 + ["Reactome_2022"] * 2 + ["KEGG_2021_Human"] * 3
    genes = [[] for _ in go] + [_go_genes(g) for g, _ in GO_PAIRS[:5]]
    df = pd.DataFrame({"term": go + other, "name": go + other, "nes": [2.0, -2.0] * 4, "fdr": 0.01,
                       "genes": genes, "library": libs})
    pw = prepare(df)
    assert pw.has_full_sets.tolist() == [True] * 3 + [False] * 5
    assert all(len(s) > 0 for s in pw.full_sets[:3]) and all(len(s) > 0 for s in pw.leading_edge[3:])
    assert prepare(df.drop(columns="library")).has_full_sets.tolist() == [True] * 3 + [False] * 4 + [True]
    res = run_clustering(df, metrics=False, layout=False)
    assert len(res.table) == 8


def test_pathways_of_other_libraries_beside_go_are_not_counted_as_missing_from_it():
    """A GO result given with a Reactome result: the Reactome pathways are said to be no GO terms,
    not 'not found in the gene-set library GO_BP'."""
    from contrastomics.cluster.pathways import _stand_in_notes
    rows = np.array([0, -1, -1, -1])
    no_le = np.array([False, False, False, True])
    other = np.array([False, False, True, True])
    notes = _stand_in_notes("GO_BP", rows, no_le, other)
    assert notes[0] == "2 pathways are not GO terms: their leading edge stands in for the full set (1 have none: placed by their text)"
    assert notes[1].startswith("1 of 4 pathways not found in the gene-set library 'GO_BP'")


def test_enrichr_names_match_msigdb_set_names_and_a_miss_says_which_library():
    """Enrichr's "E2F Targets" is MSigDB's HALLMARK_E2F_TARGETS (its humanised term); when no name is
    in the given library, the error names the library and an example of each spelling."""
    from contrastomics.data.genesets import GeneSetLibrary

    sets = {"HALLMARK_E2F_TARGETS": _go_genes("GO:0006281"), "HALLMARK_G2M_CHECKPOINT": _go_genes("GO:0006915")}
    lib = GeneSetLibrary.from_gene_sets(sets, name="h.all")
    df = pd.DataFrame({"term": ["E2F Targets", "G2-M Checkpoint"], "nes": [2.0, 2.0], "fdr": 0.01, "genes": [[], []]})
    pw = prepare(df, gene_sets=lib)
    assert [len(s) for s in pw.full_sets] == [len(v) for v in sets.values()]
    other = GeneSetLibrary.from_gene_sets({"KEGG_RIBOSOME": ["RPL3", "RPS6"]}, name="kegg")
    with pytest.raises(InputError, match=r"none of the 2 pathway names is in the gene-set library 'kegg' \(e\.g\. 'E2F Targets'"):
        prepare(df, gene_sets=other)
