"""The text table shipped beside a gtCLIP model: written, read back, used by the clustering cache
without encoding, and ignored when it was made with other weights."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from contrastomics.cluster.embed import TextCache
from contrastomics.models.gtclip import GtClip, GtClipConfig
from contrastomics.models.text_table import TABLE_FILE, read_text_table, write_text_table

GENES = [f"G{i}" for i in range(30)]


def fake_embed(texts, batch_size=64, progress=True):
    out = np.stack([np.random.default_rng(int(hashlib.sha1(t.encode()).hexdigest()[:8], 16)).normal(size=8)
                    for t in texts]).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture()
def model(tmp_path, monkeypatch):
    torch.manual_seed(0)
    m = GtClip(GtClipConfig(embed_dim=8, text_dim=12, text_hidden=10,
                            gene_tower={"d_model": 16, "hidden_dims": [16]}), vocab=GENES)
    monkeypatch.setattr(m, "embed_texts", fake_embed)
    m._folder = tmp_path
    return m


def test_table_round_trip_in_fp16(model, tmp_path):
    texts = ["apoptotic process. A programmed cell death.", "DNA repair", "DNA repair"]
    assert write_text_table(model, texts, tmp_path / TABLE_FILE) == 2
    table = read_text_table(model)
    key = hashlib.sha1(b"DNA repair").hexdigest()
    assert set(table) == {hashlib.sha1(t.encode()).hexdigest() for t in texts}
    assert np.allclose(table[key], fake_embed(["DNA repair"])[0], atol=2e-3)  # fp16


def test_extra_texts_are_appended_leaving_the_earlier_rows_as_they_were(model, tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import load_file
    write_text_table(model, ["DNA repair", "cell cycle"], tmp_path / "a.safetensors")
    n = write_text_table(model, ["cell cycle", "DNA repair"], tmp_path / "b.safetensors",
                         extra=["Cell cycle", "DNA repair", "ABC transporters"])
    a, b = load_file(str(tmp_path / "a.safetensors")), load_file(str(tmp_path / "b.safetensors"))
    assert n == 4 and len(b["keys"]) == 4  # "DNA repair" is not repeated
    assert np.array_equal(a["keys"], b["keys"][:2]) and np.array_equal(a["vectors"], b["vectors"][:2])
    # the appended block is sorted too; one metadata key, so the file is the same on every run
    assert bytes(b["keys"][2]) == hashlib.sha1(b"ABC transporters").digest()
    with safe_open(str(tmp_path / "b.safetensors"), "numpy") as f:
        assert list(f.metadata()) == ["weights"]
    write_text_table(model, ["cell cycle", "DNA repair"], tmp_path / "c.safetensors",
                     extra=["Cell cycle", "DNA repair", "ABC transporters"])
    assert (tmp_path / "b.safetensors").read_bytes() == (tmp_path / "c.safetensors").read_bytes()


def test_clustering_cache_uses_the_table_without_encoding(model, tmp_path, monkeypatch):
    write_text_table(model, ["DNA repair", "cell cycle"], tmp_path / TABLE_FILE)

    def no_encoding(*a, **k):
        raise AssertionError("a shipped text was encoded")

    monkeypatch.setattr(model, "embed_texts", no_encoding)
    cache = TextCache(model, root=tmp_path / "cache")
    out = cache.embed(["cell cycle", "DNA repair", "cell cycle"])
    assert out.shape == (3, 8) and np.allclose(out[0], out[2])
    # table hits are cached with the user's texts, so a warm run never reads the (20 MB) table again
    again = TextCache(model, root=tmp_path / "cache")
    monkeypatch.setattr(again, "shipped_vectors", lambda: pytest.fail("the table was read on a warm run"))
    assert np.array_equal(again.embed(["DNA repair"])[0], out[1])


def test_table_of_other_weights_is_ignored(model, tmp_path, caplog):
    write_text_table(model, ["DNA repair"], tmp_path / TABLE_FILE)
    with torch.no_grad():
        next(p for n, p in model.named_parameters() if n.startswith("text")).add_(1.0)
    assert read_text_table(model) == {}
    assert "other model weights" in caplog.text


def test_model_embeds_shipped_texts_from_the_table_without_its_encoder(model, tmp_path, monkeypatch):
    """`gtclip describe` on a built-in library: every text is in the table, the text encoder is
    never even loaded (issue 17 #13: the first describe took 190 s of encoding)."""
    write_text_table(model, ["DNA repair", "cell cycle"], tmp_path / TABLE_FILE)
    monkeypatch.delattr(model, "embed_texts")  # back to GtClip.embed_texts
    out = model.embed_texts(["cell cycle", "DNA repair"])
    assert np.allclose(out, fake_embed(["cell cycle", "DNA repair"]), atol=2e-3)
    assert model._text_encoder is None


def test_shipped_table_matches_the_shipped_model_and_warm_runs_skip_torch(tmp_path):
    """The clustering trusts the shipped table without loading the model (no torch on warm runs), so
    the table must have been made with the shipped weights: checked here, once, with torch."""
    import subprocess
    import sys

    from contrastomics.cluster.embed import SHIPPED_MODEL_DIR
    from contrastomics.models.gtclip import GtClip
    from contrastomics.models.text_table import TABLE_FILE, read_text_table

    if not (SHIPPED_MODEL_DIR / TABLE_FILE).is_file():
        pytest.skip("no shipped text table")
    assert read_text_table(GtClip.from_pretrained(SHIPPED_MODEL_DIR)), "shipped table made with other weights"
    code = ("import sys, warnings; warnings.simplefilter('ignore');"
            "from contrastomics.cluster.embed import embedding_model, _text_cache;"
            "m = embedding_model(None); t = _text_cache(m).shipped_vectors(); "
            "print(len(t), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "CONTRASTOMICS_CACHE": str(tmp_path)}).stdout.split()
    assert int(out[0]) > 20000 and out[1] == "False"
