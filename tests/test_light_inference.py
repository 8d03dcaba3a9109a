"""The shipped model's torch-free paths give what the torch model gives, and a first `cluster` run on a
GO result whose texts are in the shipped table loads neither torch nor scikit-learn."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from contrastomics.cluster.embed import SHIPPED_MODEL_DIR, ShippedModel

pytestmark = pytest.mark.skipif(not (SHIPPED_MODEL_DIR / "model.safetensors").is_file(), reason="no shipped model")


def test_numpy_gene_tower_equals_the_torch_model():
    from contrastomics.data.builtin import load_library
    from contrastomics.models.gtclip import GtClip

    lib = load_library("GO_BP", min_size=1, max_size=None)
    sets = [list(g) for g in lib.gene_sets[:200]] + [[], ["NOT_A_GENE"], ["tp53", "TP53", "AARS"]]
    with warnings.catch_warnings(record=True) as w_torch:
        warnings.simplefilter("always")
        ref = GtClip.from_pretrained(SHIPPED_MODEL_DIR).embed_gene_sets(sets)
    with warnings.catch_warnings(record=True) as w_np:
        warnings.simplefilter("always")
        got = ShippedModel(SHIPPED_MODEL_DIR).embed_gene_sets(sets)
    assert got.shape == ref.shape and got.dtype == np.float32
    assert np.abs(got - ref).max() < 1e-5
    assert [str(x.message) for x in w_np] == [str(x.message) for x in w_torch]  # unknown genes, empty sets


def test_light_text_path_equals_the_torch_model():
    from contrastomics.cluster.embed import _encoder_cache_off
    from contrastomics.models.gtclip import GtClip

    texts = ["zebra stripe patterning signaling", "Cell Cycle Checkpoints of the ocelot", "x " * 300]  # not in the table
    shipped = ShippedModel(SHIPPED_MODEL_DIR)
    from contrastomics.models.numpy_tower import light_text_tower
    assert light_text_tower(SHIPPED_MODEL_DIR) is not None
    with pytest.warns(UserWarning, match="truncated"):
        got = shipped.embed_texts(texts)
    real = GtClip.from_pretrained(SHIPPED_MODEL_DIR)
    with _encoder_cache_off(real), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = real.embed_texts(texts, progress=False)
    assert np.abs(got - ref).max() < 1e-5


def test_msigdb_go_names_get_go_ids_and_the_builtin_library():
    from contrastomics.cluster.pathways import _library, go_terms_of

    terms = ["GOBP_APOPTOTIC_PROCESS", "GOBP_2FE_2S_CLUSTER_ASSEMBLY", "GOBP_NOT_A_REAL_PROCESS",
             "HALLMARK_APOPTOSIS", "DNA repair (GO:0006281)"]
    got = go_terms_of(terms, terms)
    assert got[0] == "GO:0006915" and got[1].startswith("GO:") and got[4] == "GO:0006281"
    assert got[2:4] == terms[2:4]  # unknown names and non-GO sets keep their term
    assert _library(None, terms[:3]) is not None  # MSigDB GO names: the built-in GO gives full sets
    assert _library(None, ["HALLMARK_APOPTOSIS", "HALLMARK_P53_PATHWAY"]) is None


def test_a_first_run_on_a_go_result_loads_no_torch(tmp_path):
    code = ("import sys, warnings; warnings.simplefilter('ignore');"
            "from contrastomics.enrichment import demo_result_path;"
            "from contrastomics.cluster import run_clustering;"
            "r = run_clustering(demo_result_path());"
            "print(r.summary['n_clusters'] > 1, sorted(m for m in ('torch', 'sklearn', 'transformers', "
            "'sentence_transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "CONTRASTOMICS_CACHE": str(tmp_path)}).stdout.strip()
    assert out == "True []", out


def test_the_shipped_table_covers_hallmark_and_msigdb_go_names():
    from contrastomics.cluster.pathways import _library, _match_library, pathway_text
    from contrastomics.models.text_table import text_digest

    table = ShippedModel(SHIPPED_MODEL_DIR).shipped_text_vectors()
    hallmark = pathway_text("HALLMARK_APOPTOSIS", "HALLMARK_APOPTOSIS", None, -1)
    assert text_digest(hallmark).hex() in table
    names = ["GOBP_APOPTOTIC_PROCESS", "GOMF_NADPLUS_BINDING"]
    lib = _library(None, names)
    for t, r in zip(names, _match_library(lib, names, names)):
        assert text_digest(pathway_text(t, t, lib, int(r))).hex() in table


def test_a_text_in_the_table_under_another_case_is_read_not_encoded(monkeypatch):
    # the base encoder lower-cases: "Cellular response to lectin" (MSigDB, humanised) is the table's
    # "cellular response to lectin" (Enrichr); nothing is encoded
    from contrastomics.models import text as text_mod
    from contrastomics.models.text_table import text_digest

    shipped = ShippedModel(SHIPPED_MODEL_DIR)
    table = shipped.shipped_text_vectors()
    assert text_digest("cellular response to lectin").hex() in table
    monkeypatch.setattr(text_mod, "encode_frozen", lambda *a, **k: pytest.fail("encoded a text found in the table"))
    got = shipped.embed_texts(["Cellular response to lectin"])
    assert np.array_equal(got[0], table[text_digest("cellular response to lectin").hex()])
