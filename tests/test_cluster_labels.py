"""Cluster labels (issue 15): title phrases, themes for every cluster, generic terms, label support,
GO relations / Wang pairs, the metrics that can fail, summary keys and ``--n-clusters K``."""
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from contrastomics.cluster import labels as lab_mod
from contrastomics.cluster.communities import merge_to, n_clusters_of, split_to
from contrastomics.cluster.embed import JointSpace
from contrastomics.cluster.keywords import (phrase_sets, shared_phrase, source_words, tag_word, title_keywords,
                                           title_phrases)
from contrastomics.cluster.labels import (cluster_themes, generic_terms, go_slim_themes, label_support,
                                          representatives, sub_themes, support_near, support_summary,
                                          support_threshold)
from contrastomics.data.ontology import read_obo
from contrastomics.evaluate.cluster_metrics import (GoPairs, cluster_metrics, label_support_shares,
                                                    opposite_pairs_joinable, silhouette)
from contrastomics.evaluate.semantic import wang_similarity

MINI_OBO = Path(__file__).parent / "data" / "ontology_mini.obo"
# mini: 0001 root; 0002 cell death (is_a root); 0003 apoptotic (is_a 0002); 0004 execution phase
# (part_of 0002); 0005 caspase cascade (is_a 0003, part_of 0004); 0006 regulation (is_a root)


@pytest.fixture(scope="module")
def onto():
    return read_obo(MINI_OBO)


# ---------------------------------------------------------------------- phrases and keywords
def test_title_phrases_are_whole_noun_phrases_never_fragments():
    ph = title_phrases("regulation of double-strand break repair via homologous recombination")
    assert {"double-strand break repair", "break repair", "repair", "homologous recombination"} <= set(ph)
    for fragment in ("regulation", "repair via homologous", "double-strand break repair via", "of double-strand"):
        assert fragment not in ph
    # a bound short word keeps its head ("T cell" never becomes "cell receptor"), generic tails drop
    ph = title_phrases("T cell receptor signaling pathway")
    assert "T cell receptor signaling" in ph.values() and "cell receptor signaling" not in ph
    assert title_phrases("positive regulation of cellular process") == {}
    assert set(title_phrases("mRNA splicing, via spliceosome")) == {"mrna splicing", "splicing", "spliceosome"}


def test_marks_and_authors_of_msigdb_names_are_never_phrases():
    # direction and version marks, GEO series, TRANSFAC matrix versions, motifs, a species in brackets
    assert "inflammatory response live" in title_phrases("ZHOU inflammatory response LIVE dn")
    assert set(title_phrases("ZHOU inflammatory response LIVE dn")).isdisjoint({"live dn", "dn"})
    assert set(title_phrases("KRAS.600 UP.V1 dn")) == {"kras.600"}
    assert set(title_phrases("MYC targets V1")) == {"myc targets"}
    assert "v1 domain" in title_phrases("proton-transporting V-type ATPase, V1 domain")  # a name, no version
    assert title_phrases("MYCN-21190229 (human)") == {"mycn-21190229": "MYCN-21190229"}
    assert not title_phrases("Gggnrmnnycat unknown") and not title_phrases("GSE3982 Q2 01")
    assert tag_word("TGTTTAC") and tag_word("Rytaawnnntgay") and not tag_word("attack") and not tag_word("strand")
    terms = ["SMID_BREAST_CANCER_BASAL_UP", "KRAS.600_UP.V1_DN", "REACTOME_APOPTOSIS", "NABA_ECM_AFFILIATED",
             "apoptotic process (GO:0006915)", "APOPTOSIS_GENES_UP"]
    known = lambda: {"KRAS", "APOPTOSIS"}  # noqa: E731  (symbols and domain words)
    assert source_words(terms, known) == ["smid", None, None, None, None, None]
    sets = phrase_sets(["Smid breast cancer basal up", "Smid breast cancer luminal B dn"], drops=["smid", "smid"])
    assert "smid" not in sets[0] and "breast cancer" in sets[0] and "breast cancer" in sets[1]
    assert shared_phrase(sets)[0] == "breast cancer"
    for names in (["apoptotic process (GO:0006915)"], ["GOBP_APOPTOTIC_PROCESS", "REACTOME_APOPTOSIS"]):
        assert source_words(names, known=lambda: 1 / 0) == [None] * len(names)  # no lookup needed


def test_inner_runs_count_when_they_end_in_a_content_word_or_are_a_phrase_elsewhere():
    titles = ["Golgi to plasma membrane protein transport", "establishment of protein localization to plasma membrane",
              "nuclear-transcribed mRNA catabolic process"]
    sets = phrase_sets(titles)
    assert "plasma membrane" in sets[0] and "plasma membrane" in sets[1]      # a tail of title 2
    assert "mrna catabolic" not in sets[2]              # ends in a generic modifier: never a phrase
    assert "nuclear-transcribed mrna" in sets[2]        # ends in a content word
    t_cell = phrase_sets(["T cell receptor signaling pathway", "activation of T cell"])
    assert "t cell" in t_cell[0]  # ends in "cell" (generic) but is a whole phrase of title 2
    assert "t cell" not in phrase_sets(["T cell receptor signaling pathway"])[0]


def test_a_single_word_from_inside_a_title_is_a_symbol_or_a_free_noun_never_a_compound_part():
    titles = ["Amino acid transport across the plasma membrane", "Response of EIF2AK4 (GCN2) to amino acid deficiency",
              "Amino acids regulate mTORC1", "Resolution of Sister Chromatid Cohesion", "Sister chromatid cohesion",
              "Interferon alpha response", "Interferon gamma response", "E2F targets", "MYC targets V1",
              "RNA Polymerase II Transcription Termination", "Eukaryotic Translation Initiation",
              "Eukaryotic Translation Elongation", "KRAS signaling up", "KRAS signaling dn", "TP53 Regulates Transcription of DNA Repair Genes"]
    sets = phrase_sets(titles)
    words = set().union(*sets)
    for fragment in ("amino", "acid", "sister", "ii", "up", "dn", "targets", "regulates transcription"):
        assert fragment not in words, fragment
    assert "amino acid" in sets[0] and "sister chromatid cohesion" in sets[4]
    assert "interferon" in sets[5] and "interferon" in sets[6]      # followed by alpha and by gamma: free
    assert "e2f" in sets[7] and "myc" in sets[8] and "kras" in sets[12]  # symbols
    assert "translation" in sets[10]                                 # a free noun after an adjective
    assert "transcription" in sets[14] and "tp53" in sets[14]        # the verb cuts the title
    # a phrase ends with a noun: no adjective alone or at the end, hyphenated or not; a symbol is no adjective
    adj = phrase_sets(["nuclear-transcribed mRNA catabolic process, exonucleolytic", "transcription, DNA-templated",
                       "ubiquitin-dependent protein catabolic process", "TNFR1-induced NF-kappa-B signaling",
                       "inflammatory response to antigenic stimulus", "Golgi-to-ER traffic", "RAL signal",
                       "SARS-CoV-2 activates/modulates innate immune responses"])
    words = set().union(*adj)
    for fragment in ("exonucleolytic", "dna-templated", "ubiquitin-dependent", "tnfr1-induced", "antigenic",
                     "activates/modulates innate", "activates/modulates"):
        assert fragment not in words, fragment
    assert {"golgi-to-er traffic", "signal", "ral", "ral signal", "antigenic stimulus", "innate immune responses"} <= words


def test_no_phrase_is_a_head_without_its_modifier_or_a_modifier_without_its_head():
    """The fragments a sweep of real results showed as keywords: a chunk's head alone ("transition",
    "cascade", "strand"), a lone head before "of" ("Activation of", "Recruitment of"), an adjective
    alone ("Mature", "small"), a run starting at a participle ("mediated degradation"), a compound's
    modifier ("adenylate" cyclase-activating / -inhibiting), a run starting inside a fixed compound
    ("cycle phase" of "cell cycle phase"); category heads ("metabolism") and symbols stay."""
    titles = ["regulation of cell cycle phase transition", "G1/S transition", "ERK1 and ERK2 cascade", "MAPK cascade",
              "Lagging Strand Synthesis", "Leading Strand Synthesis", "Activation of NF-kappaB in B cells",
              "Recruitment of NuMA to mitotic centrosomes", "Transport of Mature mRNA derived from an Intron-Containing "
              "Transcript", "protein modification by small protein conjugation or removal",
              "Phospho-APC/C mediated degradation of Cyclin A", "cell cycle checkpoint signaling",
              "adenylate cyclase-activating G protein-coupled receptor signaling pathway",
              "adenylate cyclase-inhibiting G protein-coupled receptor signaling pathway",
              "Tyrosine metabolism", "Sphingolipid metabolism", "HIV Infection", "HATs acetylate histones"]
    sets = phrase_sets(titles)
    words = set().union(*sets)
    for fragment in ("transition", "cascade", "strand", "activation", "recruitment", "mature", "small",
                     "mediated degradation", "adenylate", "cycle phase", "cycle phase transition",
                     "adenylate cyclase-activating g", "intron-containing", "acetylate histones"):
        assert fragment not in words, fragment
    for phrase in ("cell cycle phase transition", "g1/s transition", "mapk cascade", "lagging strand", "nf-kappab", "mature mrna", "degradation",
                   "g protein-coupled receptor", "metabolism", "hiv", "histones", "cell cycle"):
        assert phrase in words, phrase
    # a Title Case phrase is written in lower case when the titles write its words so
    assert sets[4]["lagging strand"] == "Lagging Strand"  # "lagging" / "strand" never written in lower case
    cased = phrase_sets(["Cell Cycle Checkpoints", "cell cycle", "Golgi Associated Vesicle Biogenesis",
                         "vesicle biogenesis"])
    assert cased[0]["cell cycle"] == "cell cycle" and cased[2]["golgi associated vesicle biogenesis"].startswith("Golgi")



def test_keywords_are_shared_title_phrases_ranked_by_class_tfidf():
    titles = ["DNA repair", "double-strand break repair", "regulation of DNA repair", "mismatch repair",
              "Wnt signaling pathway", "canonical Wnt signaling pathway", "regulation of Wnt signaling pathway",
              "planar cell polarity"]
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    kw = title_keywords(labels, titles, n_keywords=3)
    # "repair" is in 4 of 4 titles of cluster 0; "DNA repair" (2 titles) is inside/around it: skipped
    assert kw[0] == ["repair"]
    # "Wnt signaling pathway" and "Wnt signaling" are in the same 3 titles: the one without the
    # generic head
    assert kw[1][0] == "Wnt signaling"
    assert all(k.lower() in " ".join(titles).lower() for ks in kw.values() for k in ks)
    assert title_keywords(np.array([0, 1]), ["DNA repair", "Wnt signaling"]) == {}  # singletons: none


def test_shared_phrase_gives_the_phrase_in_most_titles_and_its_share():
    sets = phrase_sets(["DNA repair", "mismatch repair", "DNA replication", "telomere maintenance"])
    assert shared_phrase(sets) == ("DNA", 0.5)  # tie with "repair" (2 of 4): the alphabetical first
    own = sets[1]  # the representative "mismatch repair", its phrases among the result's
    assert shared_phrase(sets, prefer=own) == ("repair", 0.5)  # ties go to the representative's phrase
    assert shared_phrase([]) [0] == ""


def test_every_cluster_gets_a_theme_non_go_from_title_phrases():
    titles = ["E2F targets", "E2F target genes", "G2M checkpoint", "interferon alpha response",
              "interferon gamma response", "KRAS signaling up"]
    labels = np.array([0, 0, 0, 1, 1, 2])
    th = cluster_themes(labels, titles, {0: 0, 1: 3, 2: 5}, ["HALLMARK_X"] * 6)
    assert th[0] == {"theme": "E2F", "theme_id": "", "theme_support": pytest.approx(2 / 3),
                     "theme_source": "title phrase"}
    assert th[1]["theme"] == "interferon" and th[1]["theme_support"] == 1.0
    assert th[2]["theme"] and th[2]["theme_support"] == 1.0  # a singleton: a phrase of its own title


def test_go_themes_walk_regulates_and_fall_back_to_a_title_phrase_without_a_slim_term(onto, monkeypatch):
    onto.subsets["goslim_generic"] = ["GO:0000002"]
    terms = ["GO:0000003", "GO:0000005", "GO:0000006", "GO:0000006"]
    titles = ["apoptotic process", "caspase cascade", "regulation of apoptotic process", "regulation of cascade"]
    th = cluster_themes(np.array([0, 0, 1, 1]), titles, {0: 0, 1: 2}, terms, ontology=onto)
    assert th[0]["theme"] == "cell death" and th[0]["theme_source"] == "GO slim" and th[0]["theme_support"] == 1.0
    # "regulation of apoptotic process" regulates "apoptotic process", which is_a "cell death" (Map2Slim's walk)
    assert th[1]["theme"] == "cell death" and th[1]["theme_source"] == "GO slim" and th[1]["theme_support"] == 1.0
    monkeypatch.setattr(lab_mod, "THEME_RELATIONS", ("is_a", "part_of"))  # the rule before round T2
    th = cluster_themes(np.array([0, 0, 1, 1]), titles, {0: 0, 1: 2}, terms, ontology=onto)
    assert th[0]["theme"] == "cell death"
    assert th[1]["theme_source"] == "title phrase" and th[1]["theme_support"] == 0.5


def test_go_slim_themes_keep_to_the_aspect_of_the_members(tmp_path):
    obo = tmp_path / "aspects.obo"
    obo.write_text("format-version: 1.2\n\n[Term]\nid: GO:0000001\nname: biological_process\nnamespace: "
                   "biological_process\n\n[Term]\nid: GO:0000010\nname: molecular_function\nnamespace: "
                   "molecular_function\n\n[Term]\nid: GO:0000011\nname: peptidase activity\nnamespace: "
                   "molecular_function\nis_a: GO:0000010\n\n[Term]\nid: GO:0000012\nname: regulation of peptidase "
                   "activity\nnamespace: biological_process\nis_a: GO:0000001\nrelationship: regulates GO:0000011\n")
    o = read_obo(obo)
    o.subsets["goslim_generic"] = ["GO:0000011"]
    ids, lab = ["GO:0000012", "GO:0000012"], np.zeros(2, np.int64)
    assert go_slim_themes(ids, lab, ontology=o, same_aspect=False)[0]["theme"] == "peptidase activity"
    assert go_slim_themes(ids, lab, ontology=o, same_aspect=True) == {}  # a process cluster: no function theme
    assert go_slim_themes(["GO:0000011"] * 2, lab, ontology=o, same_aspect=True)[0]["theme"] == "peptidase activity"


# ---------------------------------------------------------------------- representatives
def test_generic_terms_by_descendants_and_set_size(onto):
    terms = ["GO:0000001", "GO:0000002", "GO:0000005", "HALLMARK_X", None]
    sizes = np.array([10, 10, 10, 800, 10])
    # root: 5 descendants; cell death: 3; caspase cascade: 0
    assert generic_terms(terms, sizes, ontology=onto, max_descendants=3, max_set_size=750).tolist() == \
        [True, False, False, True, False]
    assert generic_terms(terms, sizes, ontology=onto, max_descendants=2, max_set_size=900).tolist() == \
        [True, True, False, False, False]


def test_representative_skips_generic_members_unless_all_are():
    sim = np.array([[1, .9, .9, 0], [.9, 1, .2, 0], [.9, .2, 1, 0], [0, 0, 0, 1]], float)
    labels, fdr = np.array([0, 0, 0, 1]), np.array([.01, .02, .03, .04])
    assert representatives(labels, None, fdr, fdr, similarity=sim)[0] == 0
    reps = representatives(labels, None, fdr, fdr, similarity=sim, eligible=np.array([False, True, True, True]))
    assert reps[0] == 1  # 1 and 2 tie on centrality (0.55): the lower FDR
    reps = representatives(labels, None, fdr, fdr, "significant", eligible=np.array([False, False, True, False]))
    assert reps == {0: 2, 1: 3}  # the ineligible cluster 1 still gets its only member


def test_central_representative_is_the_member_most_others_sit_near():
    # one cluster of 6: member 0 is the medoid, but only member 1 has most members in its neighbourhood
    sim = np.full((6, 6), 0.5)
    sim[0, :] = sim[:, 0] = 0.7
    sim[1, :] = sim[:, 1] = 0.6
    np.fill_diagonal(sim, 1.0)
    near_pairs = {(1, 2), (1, 3), (1, 4), (0, 5)}
    near_pairs |= {(b, a) for a, b in near_pairs}

    def near(a, b):
        return np.array([(int(i), int(j)) in near_pairs for i, j in zip(a, b)], bool)
    labels, fdr = np.zeros(6, int), np.linspace(.01, .06, 6)
    assert representatives(labels, None, fdr, fdr, "medoid", similarity=sim, near=near)[0] == 0
    assert representatives(labels, None, fdr, fdr, similarity=sim, near=near)[0] == 1
    assert representatives(labels, None, fdr, fdr, similarity=sim)[0] == 0  # no relation: the medoid
    # the candidates are the more central half: with member 1 the least central, the medoid stays
    sim[1, 2:] = sim[2:, 1] = 0.1
    assert representatives(labels, None, fdr, fdr, similarity=sim, near=near, central_pool=0.5)[0] == 0
    assert representatives(labels, None, fdr, fdr, similarity=sim, near=near, central_pool=0.0)[0] == 1
    # generic members stay out; ties in medoid order
    elig = np.array([True, False, True, True, True, True])
    assert representatives(labels, None, fdr, fdr, similarity=sim, near=near, eligible=elig, central_pool=0.0)[0] == 0


def test_near_block_equals_near_pair_by_pair():
    from contrastomics.cluster.embed import JointSpace
    rng = np.random.default_rng(3)
    dense = rng.normal(size=(40, 6)).astype(np.float32)
    dense *= 0.7 / np.linalg.norm(dense, axis=1, keepdims=True)
    m = sp.csr_matrix((rng.random((40, 30)) < 0.15) * 0.1, dtype=np.float32)
    for space in (JointSpace(dense=dense, full_overlap=m), dense @ dense.T, sp.csr_matrix(dense @ dense.T)):
        near, thr = support_near(space, 40, quantile=0.8)
        r, c = np.array([3, 7, 11]), np.arange(40)
        pairwise = near(np.repeat(r, 40), np.tile(c, 3)).reshape(3, 40)
        assert np.isfinite(thr) and pairwise.any() and (near.block(r, c) == pairwise).all()


# ---------------------------------------------------------------------- GO pairs, label support
def test_go_pairs_relations_and_wang_match_the_dense_similarity(onto):
    ids = ["GO:0000002", "GO:0000003", "GO:0000004", "GO:0000005", "GO:0000006", "GO:9999999"]
    gp = GoPairs(ids, onto)
    assert gp.known.tolist() == [True] * 5 + [False]
    a, b = np.array([1, 1, 3, 0, 1, 4]), np.array([2, 3, 0, 4, 4, 4])
    # siblings (shared parent 0002), descendant, ancestor, siblings under the root, unrelated, self
    assert gp.related(a, b).tolist() == [True, True, True, True, False, True]
    dense, _ = wang_similarity(ids, onto)
    assert np.allclose(gp.wang_pairs(a, b), dense[a, b], atol=1e-6)
    assert np.allclose(gp.dense(), dense, atol=1e-6)
    with pytest.raises(ValueError):
        gp.related(np.array([5]), np.array([0]))


def test_label_support_shares_count_other_members_only():
    labels = np.array([0, 0, 0, 0, 1, 1, 2])
    near = lambda a, b: b != 3  # noqa: E731 - member 3 is far from its label
    s = label_support_shares(labels, {0: 0, 1: 4, 2: 6}, near)
    assert s[0] == pytest.approx(2 / 3) and s[1] == 1.0 and np.isnan(s[2])
    summ = support_summary(s)
    assert summ["labels_scored"] == 2 and summ["labels_low_support"] == 0
    assert summ["label_support_mean"] == pytest.approx((2 / 3 + 1) / 2)


def test_sub_themes_cover_a_mixed_cluster_greedily():
    # cluster 0 (20 members, label 0): the label names 1-2; member 5 names 5-9, member 10 names 10-13;
    # member 15 names 15 and 16 (2 members, 10% of the cluster: just enough); the rest are alone;
    # cluster 1 (members 20-23) is well labelled and gets no sub-theme
    groups = [{0, 1, 2}, {5, 6, 7, 8, 9}, {10, 11, 12, 13}, {15, 16}, {20, 21, 22, 23}]
    pairs = {(a, b) for g in groups for a in g for b in g if a != b}

    def near(a, b):
        return np.array([(int(i), int(j)) in pairs for i, j in zip(a, b)], bool)
    labels = np.array([0] * 20 + [1] * 4)
    reps = {0: 0, 1: 20}
    support = label_support_shares(labels, reps, near)
    assert support[0] == pytest.approx(2 / 19) and support[1] == 1.0
    fdr = np.linspace(0.001, 0.02, 24)
    out = sub_themes(labels, reps, support, near, fdr)
    assert list(out) == [0]
    assert out[0]["rows"] == [5, 10, 15] and out[0]["counts"] == [5, 4, 2]
    assert out[0]["support"] == pytest.approx((3 - 1 + 5 + 4 + 2) / 19)
    # generic members never name a sub-theme; the next best takes their place
    elig = np.ones(24, bool)
    elig[5] = False
    assert sub_themes(labels, reps, support, near, fdr, eligible=elig)[0]["rows"][0] == 6
    # the summary counts the mixed clusters their label and sub-themes describe (>= 1/3)
    assert support_summary(support, sub=out)["mixed_described"] == 1
    assert support_summary(support, sub={})["mixed_described"] == 0


def test_label_support_in_a_similarity_space_uses_the_random_pair_quantile():
    rng = np.random.default_rng(0)
    n = 40
    sim = rng.uniform(0, 0.5, (n, n))
    sim = (sim + sim.T) / 2
    sim[0, 1:4] = sim[1:4, 0] = 0.95  # the label of cluster 0 is close to 3 of its 5 other members
    labels = np.r_[np.zeros(6, int), np.ones(n - 6, int)]
    thr = support_threshold(sim, n, quantile=0.99)
    assert 0.45 < thr < 0.5
    shares, info = label_support(labels, {0: 0, 1: 6}, space=sim, quantile=0.99)
    assert shares[0] == pytest.approx(3 / 5)
    assert info["label_support_threshold"] == pytest.approx(thr) and "0.99 quantile" in info["label_support_basis"]


def test_label_support_for_go_terms_uses_the_neighbourhood_or_wang(onto):
    ids = ["GO:0000003", "GO:0000004", "GO:0000005", "GO:0000006"]
    gp = GoPairs(ids, onto)
    labels = np.zeros(4, int)
    shares, info = label_support(labels, {0: 0}, go=gp, wang=1.01)  # the neighbourhood only
    assert shares[0] == pytest.approx(2 / 3)  # sibling 0004 and descendant 0005; not 0006
    w = gp.wang_pairs(np.array([0]), np.array([3]))[0]
    shares, _ = label_support(labels, {0: 0}, go=gp, wang=float(w))
    assert shares[0] == 1.0 and "Wang" in info["label_support_basis"]


# ---------------------------------------------------------------------- metrics that can fail
def test_opposite_pairs_joinable_counts_shared_genes_and_exempt_rows():
    gate = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]], np.float32))
    nes = np.array([2.0, -1.0, -2.0, -1.5])
    # up: 0; down: 1 (shares gene 1), 2 (nothing shared), 3 (no genes: exempt) -> 2 of 3
    assert opposite_pairs_joinable(nes, gate) == pytest.approx(2 / 3)
    assert opposite_pairs_joinable(nes, None) == 1.0
    assert np.isnan(opposite_pairs_joinable(np.abs(nes), gate))
    est = opposite_pairs_joinable(nes, gate, exact_max_n=1, n_sample=20000)
    assert est == pytest.approx(2 / 3, abs=0.02)
    m = cluster_metrics(np.array([0, 0, 1, 1]), nes, gate=sp.csr_matrix((4, 3)), n_random=10)
    assert m["nes_opposite_pairs_joinable"] == 1.0 and m["nes_coherence_can_fail"] is True


def test_wang_silhouette_exact_and_estimated(onto):
    ids = ["GO:0000003", "GO:0000005", "GO:0000004", "GO:0000006", "GO:0000002", "GO:0000001"] * 3
    gp = GoPairs(ids, onto)
    labels = np.array([0, 0, 1, 1, 2, 2] * 3)
    nes = np.ones(len(ids))
    m = cluster_metrics(labels, nes, go_wang=gp, n_random=10)
    dense, _ = wang_similarity(ids, onto)
    assert m["silhouette_go_wang"] == pytest.approx(silhouette(labels, 1.0 - dense), abs=1e-6)
    est = cluster_metrics(labels, nes, go_wang=gp, n_random=10, exact_max_n=5, sample_size=len(ids))
    assert est["metrics_exact"] is False
    assert est["silhouette_go_wang"] == pytest.approx(m["silhouette_go_wang"], abs=1e-6)
    assert est["go_wang_within"] == pytest.approx(m["go_wang_within"], abs=1e-6)


# ---------------------------------------------------------------------- --n-clusters K
def _two_level_graph(n_groups=6, per=5):
    """``n_groups`` cliques of ``per`` nodes, joined in pairs by weaker edges."""
    group = np.repeat(np.arange(n_groups), per)
    w = (group[:, None] == group[None, :]) * 1.0 + (group[:, None] // 2 == group[None, :] // 2) * 0.3
    np.fill_diagonal(w, 0)
    return sp.csr_matrix(w), w, group


def test_split_and_merge_reach_exactly_k_clusters():
    adj, w, group = _two_level_graph()
    pairs = group // 2  # 3 clusters of 10
    split = split_to(pairs, 6, adj, min_size=3)
    assert n_clusters_of(split) == 6
    assert len({(a, b) for a, b in zip(split, group)}) == 6  # the cliques, exactly
    merged = merge_to(group, 3, similarity=w)
    assert n_clusters_of(merged) == 3
    assert len({(a, b) for a, b in zip(merged, pairs)}) == 3  # each clique joined its pair partner
    assert n_clusters_of(merge_to(group, 3, similarity=w, groups=np.where(group < 3, 1, -1))) == 3


def test_medoid_centrality_is_the_mean_joint_cosine_with_every_block():
    """The centrality behind labels read from the space counts the ontology block too (round 20)."""
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(6, 3)).astype(np.float32)
    onto = sp.csr_matrix(rng.random((6, 4)) * (rng.random((6, 4)) > 0.5), dtype=np.float32)
    over = sp.csr_matrix((rng.random((6, 5)) > 0.5).astype(np.float32))
    x = JointSpace(dense, over, False, None, onto)
    labels = np.array([0, 0, 0, 1, 1, 1])
    s = x.similarity(slice(None)).astype(np.float64)
    want = np.array([(s[i, labels == labels[i]].sum() - s[i, i]) / 2 for i in range(6)])
    assert np.allclose(lab_mod._mean_similarity_to_own_cluster(labels, x), want, atol=1e-5)
    # the rule before round 20 left the ontology block out
    old = want - np.array([((onto[i] @ onto[labels == labels[i]].T).sum() - (onto[i] @ onto[i].T).sum()) / 2
                           for i in range(6)])
    lab_mod.CENTRALITY_EVERY_BLOCK = False
    try:
        assert np.allclose(lab_mod._mean_similarity_to_own_cluster(labels, x), old, atol=1e-5)
    finally:
        lab_mod.CENTRALITY_EVERY_BLOCK = True


def test_support_summary_counts_the_pathways_under_misleading_labels():
    shares = {0: 0.1, 1: 0.5, 2: 0.2, 3: float("nan")}  # 3: a singleton
    out = support_summary(shares, sizes=np.array([10, 5, 4, 1]))
    assert out["labels_low_support"] == 2 and out["labels_scored"] == 3
    assert out["pathways_low_support_share"] == pytest.approx(14 / 20)
    assert "pathways_low_support_share" not in support_summary(shares)


def test_hallmark_results_are_themed_by_process_category():
    """Hallmark clusters get Liberzon et al.'s process category (data/hallmark.py), whatever the
    naming: MSigDB's, humanised, or Enrichr's; fewer than half hallmark sets: title phrases."""
    from contrastomics.data.hallmark import hallmark_categories, hallmark_key, load_categories

    cats = load_categories()
    assert len(cats) == 50 and set(cats.values()) == {
        "cellular component", "development", "DNA damage", "immune", "metabolic", "pathway", "proliferation", "signaling"}
    assert hallmark_key("TNF-alpha Signaling via NF-kB") == hallmark_key("HALLMARK_TNFA_SIGNALING_VIA_NFKB")
    terms = ["HALLMARK_E2F_TARGETS", "x", "G2-M Checkpoint", "HALLMARK_INFLAMMATORY_RESPONSE",
             "HALLMARK_COMPLEMENT", "HALLMARK_KRAS_SIGNALING_UP", "not a hallmark"]
    names = ["E2F targets", "MYC targets V1", "", "", "", "", "not a hallmark"]
    assert hallmark_categories(terms, names) == ["proliferation", "proliferation", "proliferation", "immune",
                                                 "immune", "signaling", None]
    titles = ["E2F targets", "MYC targets V1", "G2M checkpoint", "Inflammatory response", "Complement",
              "KRAS signaling up", "not a hallmark"]
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    th = cluster_themes(labels, titles, {0: 0, 1: 3}, [None] * 7, pathways=(terms, names))
    assert th[0] == {"theme": "proliferation", "theme_id": "", "theme_support": 1.0, "theme_source": "Hallmark category"}
    assert th[1]["theme"] == "immune" and th[1]["theme_support"] == 0.5  # 2 of 4 members
    few = (["HALLMARK_E2F_TARGETS"] + ["other"] * 6, [""] * 7)
    th = cluster_themes(labels, titles, {0: 0, 1: 3}, [None] * 7, pathways=few)
    assert {t["theme_source"] for t in th.values()} == {"title phrase"}


def test_label_support_on_hallmark_results_counts_the_process_category():
    """Two hallmark sets of one process category are near (siblings under it), besides the
    similarity threshold; a result of fewer than half hallmark sets has no categories."""
    from contrastomics.data.hallmark import hallmark_codes

    terms = ["HALLMARK_E2F_TARGETS", "HALLMARK_G2M_CHECKPOINT", "HALLMARK_MYC_TARGETS_V1",
             "HALLMARK_COMPLEMENT", "HALLMARK_HYPOXIA", "HALLMARK_GLYCOLYSIS"]
    codes = hallmark_codes(terms)
    assert codes is not None and (codes >= 0).all() and codes[0] == codes[1] == codes[2] != codes[3]
    assert hallmark_codes(["Apoptosis", "Glycolysis", "Cell Cycle", "Mitotic G1 phase", "Signaling by WNT"]) is None
    sim = np.full((6, 6), 0.1)
    np.fill_diagonal(sim, 1.0)
    sim[4, 5] = sim[5, 4] = 0.9  # similar, but 6 pathways give no threshold
    labels = np.array([0, 0, 0, 0, 1, 1])
    without, _ = label_support(labels, {0: 0, 1: 4}, space=sim, quantile=0.99)
    shares, info = label_support(labels, {0: 0, 1: 4}, space=sim, quantile=0.99, categories=codes)
    # 6 pathways: no similarity threshold (MIN_SUPPORT_PATHWAYS), so the categories alone decide
    assert np.isnan(without[0]) and shares[0] == pytest.approx(2 / 3)  # G2M and MYC V1, not complement
    assert shares[1] == 0.0 and "process category" in info["label_support_basis"]  # hypoxia vs glycolysis
    near, _ = support_near(sim, 6, categories=codes)
    assert near.block(np.array([0]), np.arange(6)).tolist() == [[True, True, True, False, False, False]]


def test_hallmark_codes_of_a_result_mixing_go_and_hallmark():
    """Hallmark sets beside a majority of GO terms still have their categories (decided among the
    pathways without a GO id); a hallmark-like name of a GO term gets none."""
    from contrastomics.data.hallmark import hallmark_codes

    terms = ["GO:0006281", "GO:0007049", "GO:0006915", "HALLMARK_E2F_TARGETS", "HALLMARK_G2M_CHECKPOINT"]
    names = ["DNA repair", "cell cycle", "apoptosis", "", ""]
    go = [True, True, True, False, False]
    assert hallmark_codes(terms, names)[[0, 2]].tolist() != [-1, -1]  # GO's "DNA repair" reads as a hallmark name
    codes = hallmark_codes(terms, names, among=[not g for g in go])
    assert codes.tolist()[:3] == [-1, -1, -1] and codes[3] == codes[4] >= 0


def test_label_support_is_not_scored_on_a_few_pathways_without_an_ontology():
    """Below MIN_SUPPORT_PATHWAYS the random-pair quantile is one of a handful of pairs: no threshold,
    and without an ontology neighbourhood no share (n/a, never "mixed"); a Hallmark one still counts."""
    from contrastomics.cluster.labels import MIN_SUPPORT_PATHWAYS
    from contrastomics.data.hallmark import hallmark_codes

    n = MIN_SUPPORT_PATHWAYS - 1
    rng = np.random.default_rng(0)
    sim = rng.uniform(0, 0.5, (n, n))
    sim = (sim + sim.T) / 2
    labels = np.r_[np.zeros(6, int), np.ones(n - 6, int)]
    assert np.isnan(support_threshold(sim, n))
    shares, info = label_support(labels, {0: 0, 1: 6}, space=sim)
    assert all(np.isnan(v) for v in shares.values()) and "not scored" in info["label_support_basis"]
    codes = hallmark_codes(["HALLMARK_E2F_TARGETS", "HALLMARK_G2M_CHECKPOINT"] + ["HALLMARK_HYPOXIA"] * (n - 2))
    shares, _ = label_support(labels, {0: 0, 1: 6}, space=sim, categories=codes)
    assert shares[0] == pytest.approx(1 / 5) and shares[1] == 1.0


def test_hallmark_theme_ties_go_to_the_labels_category():
    terms = ["HALLMARK_TNFA_SIGNALING_VIA_NFKB", "HALLMARK_EPITHELIAL_MESENCHYMAL_TRANSITION",
             "HALLMARK_INFLAMMATORY_RESPONSE", "HALLMARK_E2F_TARGETS"]
    labels = np.array([0, 0, 0, 1])
    titles = ["TNFA signaling via NFKB", "Epithelial mesenchymal transition", "Inflammatory response", "E2F targets"]
    for rep, category in ((0, "signaling"), (2, "immune"), (1, "development")):  # one of each: a three-way tie
        th = cluster_themes(labels, titles, {0: rep, 1: 3}, [None] * 4, pathways=(terms, [""] * 4))
        assert th[0]["theme"] == category and th[0]["theme_support"] == pytest.approx(1 / 3)
