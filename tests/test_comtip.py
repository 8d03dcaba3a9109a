"""CoMTIP model, losses, retrieval, persistence and CLI on tiny synthetic data."""
import json
import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch

from contrastomics.errors import InputError
from contrastomics.evaluate.expression import pearson_per_gene
from contrastomics.losses import comtip_loss
from contrastomics.models.comtip import CoMTIP, CoMTIPConfig, predict_expression, retrieve_expression, swap_values
from contrastomics.training.comtip import gene_texts, train_comtip

GENES = tuple(f"G{i}" for i in range(6))


def tiny(**kw):
    base = dict(genes=GENES, image_size=16, patch_size=4, vit_dim=16, vit_depth=1, vit_heads=2, gene_dim=16,
                gene_heads=2, text_dim=8, embed_dim=8, dropout=0.0)
    base.update(kw)
    return CoMTIPConfig(**base)


def names(n=len(GENES), d=8, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def toy_data(n=48, seed=0):
    """Patch colour encodes expression: red level drives G0..G2 up, G3..G5 down."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(0, 1, n)
    patches = np.zeros((n, 16, 16, 3), dtype=np.uint8)
    patches[..., 0] = (255 * level)[:, None, None]
    patches[..., 2] = 128
    patches = np.clip(patches + rng.integers(0, 10, patches.shape), 0, 255).astype(np.uint8)
    values = np.stack([level * 3, level * 2, level, 1 - level, 2 * (1 - level), 3 * (1 - level)], 1)
    values = (values + rng.normal(0, 0.05, values.shape)).astype(np.float32)
    return patches, values


def test_config_validation():
    with pytest.raises(InputError, match="multiple of patch_size"):
        tiny(image_size=15)
    with pytest.raises(InputError, match="gene_encoder"):
        tiny(gene_encoder="lstm")
    with pytest.raises(InputError, match="contrastive=True or regression_head=True"):
        tiny(contrastive=False)
    assert tiny(gene_encoder="mlp").paat is False            # PAAT needs the set encoder
    with pytest.raises(InputError, match="name embeddings are"):
        CoMTIP(tiny(), names(d=5))


def test_forward_all_components_and_loss_backward():
    torch.manual_seed(0)
    m = CoMTIP(tiny(regression_head=True), names()).train()
    img = torch.randint(0, 255, (5, 16, 16, 3), dtype=torch.uint8)
    vals = torch.rand(5, 6)
    out = m(img, vals)
    assert out["image"].shape == (5, 8) and out["gene"].shape == (5, 8)
    torch.testing.assert_close(out["image"].norm(dim=-1), torch.ones(5))
    n_hidden = 16 - round(16 * 0.5)
    assert out["mfm_pred"].shape == (5, n_hidden, 3 * 4 * 4) == out["mfm_target"].shape
    assert out["gene_swapped"].shape == (5, 8) and out["disc_logits"].shape == (5, 6)
    assert out["disc_labels"].sum(1).tolist() == [2.0] * 5             # 30% of 6 genes -> 2 swapped
    loss, logs = comtip_loss(m, out, vals)
    assert set(logs) == {"clip", "mfm", "paat_disc", "paat_margin", "mse"}
    loss.backward()
    assert m.image_encoder.patch_embed.weight.grad.abs().sum() > 0
    assert m.gene_encoder.name_proj[0].weight.grad.abs().sum() > 0
    assert m.mfm_decoder.query.grad.abs().sum() > 0


def test_ablation_switches_change_the_model():
    no_names = CoMTIP(tiny(use_gene_names=False))
    assert hasattr(no_names.gene_encoder, "gene_id") and not hasattr(no_names.gene_encoder, "name_table")
    no_mfm = CoMTIP(tiny(mfm=False), names()).train()
    out = no_mfm(torch.rand(2, 3, 16, 16), torch.rand(2, 6))
    assert "mfm_pred" not in out and not hasattr(no_mfm, "mfm_decoder")
    stnet = CoMTIP(tiny(contrastive=False, mfm=False, regression_head=True))
    assert not hasattr(stnet, "gene_encoder") and stnet.config.paat is False
    feat = CoMTIP(tiny(mfm_target="feature"), names()).train()
    o = feat(torch.rand(2, 3, 16, 16), torch.rand(2, 6))
    assert o["mfm_target"].shape[-1] == 16 and not o["mfm_target"].requires_grad


def test_swap_values_keeps_values_and_breaks_pairing():
    v = torch.arange(40, dtype=torch.float32).reshape(2, 20)
    s, changed = swap_values(v, 0.3, torch.Generator().manual_seed(0), return_mask=True)
    assert changed.sum().item() == 12
    for i in range(2):
        assert sorted(s[i].tolist()) == sorted(v[i].tolist())      # same multiset of values
        assert int((s[i] != v[i]).sum()) == 6                      # 30% of 20 genes moved, all of them


def test_gene_set_encoder_is_order_free():
    """Permuting genes together with their name embeddings leaves the spot embedding unchanged."""
    torch.manual_seed(0)
    nt = names()
    m = CoMTIP(tiny(), nt).eval()
    vals = torch.rand(3, 6)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    m2 = CoMTIP(tiny(genes=tuple(GENES[i] for i in perm.tolist())), nt[perm.numpy()]).eval()
    state = {k: v for k, v in m.state_dict().items() if k != "gene_encoder.name_table"}
    m2.load_state_dict(state, strict=False)
    torch.testing.assert_close(m.encode_genes(vals), m2.encode_genes(vals[:, perm]), atol=1e-5, rtol=1e-5)
    # but swapping values between genes does change it (the pairing matters)
    assert (m.encode_genes(vals) - m.encode_genes(vals[:, perm])).abs().max() > 1e-3


def test_retrieve_expression_numbers():
    keys = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    ref = np.array([[1.0, 0.0], [0.0, 2.0], [4.0, 4.0]], dtype=np.float32)
    q = np.array([[1.0, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(retrieve_expression(q, keys, ref, k=1), [[1.0, 0.0]])
    np.testing.assert_allclose(retrieve_expression(q, keys, ref, k=2, weighting="mean"), [[2.5, 2.0]])
    # similarity weights: top-2 sims 1.0, 0.6 -> shifted 0.4+1e-3, 1e-3
    w = np.array([0.401, 0.001]) / 0.402
    np.testing.assert_allclose(retrieve_expression(q, keys, ref, k=2), [w @ ref[[0, 2]]], rtol=1e-5)
    with pytest.raises(InputError):
        retrieve_expression(q, keys, ref, weighting="median")


def test_pearson_per_gene():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(30, 3)), rng.normal(size=(30, 3))
    b[:, 2] = 1.0
    r = pearson_per_gene(a, b)
    np.testing.assert_allclose(r[:2], [np.corrcoef(a[:, i], b[:, i])[0, 1] for i in range(2)])
    assert np.isnan(r[2])


def test_gene_texts_fallback_is_counted():
    texts, missing = gene_texts(["ERBB2", "NOVEL1"], {"ERBB2": "Receptor tyrosine-protein kinase erbB-2"})
    assert texts == ["ERBB2: Receptor tyrosine-protein kinase erbB-2", "NOVEL1 gene"]
    assert missing == ["NOVEL1"]


def test_training_learns_colour_to_expression(tmp_path):
    from contrastomics.training.loop import TrainConfig

    torch.set_num_threads(1)
    patches, values = toy_data(64)
    te_p, te_v = toy_data(24, seed=1)
    tc = TrainConfig(epochs=25, batch_size=32, lr=3e-3, warmup_steps=2, progress=False, seed=0)
    model, res = train_comtip(patches, values, tiny(), tc, name_table=names())
    assert res.history[-1]["clip"] < res.history[0]["clip"]
    pred = predict_expression(model, te_p, reference_values=values, k=5)
    r = pearson_per_gene(pred, te_v)
    assert np.nanmean(r) > 0.6
    # save / load round trip gives the same embeddings and predictions
    model.save_pretrained(tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg["genes"] == list(GENES)
    again = CoMTIP.from_pretrained(tmp_path / "m")
    np.testing.assert_allclose(predict_expression(again, te_p, reference_values=values, k=5), pred, atol=1e-5)
    with pytest.raises(InputError, match="no regression head"):
        predict_expression(model, te_p, method="regression")


def test_regression_baseline_trains():
    from contrastomics.training.loop import TrainConfig

    patches, values = toy_data(64)
    tc = TrainConfig(epochs=20, batch_size=32, lr=3e-3, warmup_steps=2, progress=False)
    cfg = tiny(contrastive=False, mfm=False, regression_head=True)
    model, res = train_comtip(patches, values, cfg, tc)
    pred = predict_expression(model, toy_data(24, seed=1)[0], method="regression")
    assert pred.shape == (24, 6)
    assert np.nanmean(pearson_per_gene(pred, toy_data(24, seed=1)[1])) > 0.5


def test_image_weights_loading(tmp_path):
    from safetensors.torch import save_file

    src = CoMTIP(tiny(), names())
    f = tmp_path / "vit.safetensors"
    save_file({f"image_encoder.{k}": v.contiguous() for k, v in src.image_encoder.state_dict().items()}, str(f))
    dst = CoMTIP(tiny(image_weights=str(f)), names())
    torch.testing.assert_close(dst.image_encoder.pos, src.image_encoder.pos)
    with pytest.raises(InputError, match="do not fit"):
        CoMTIP(tiny(vit_dim=32, image_weights=str(f)), names())
    with pytest.raises(InputError, match="not found"):
        CoMTIP(tiny(image_weights=str(tmp_path / "nope.safetensors")), names())


def test_timm_style_vit_weights_load(tmp_path):
    """A timm VisionTransformer state dict (fused qkv, fc1/fc2, cls_token...) maps onto our ViT."""
    from safetensors.torch import save_file

    src = CoMTIP(tiny(), names()).image_encoder.state_dict()
    back = {"cls_token": src["cls"], "pos_embed": src["pos"], "patch_embed.proj.weight": src["patch_embed.weight"],
            "patch_embed.proj.bias": src["patch_embed.bias"], "norm.weight": src["norm.weight"],
            "norm.bias": src["norm.bias"], "head.weight": torch.zeros(1000, 16)}
    for k, v in src.items():
        if k.startswith("blocks.0."):
            r = k[len("blocks.0."):]
            r = (r.replace("attn.in_proj_", "attn.qkv.").replace("attn.out_proj", "attn.proj")
                 .replace("n1.", "norm1.").replace("n2.", "norm2.").replace("mlp.0.", "mlp.fc1.")
                 .replace("mlp.3.", "mlp.fc2."))
            back[f"blocks.0.{r}"] = v
    f = tmp_path / "timm.safetensors"
    save_file({k: v.contiguous() for k, v in back.items()}, str(f))
    dst = CoMTIP(tiny(image_weights=str(f)), names()).eval()
    ref = CoMTIP(tiny(), names()).eval()
    ref.image_encoder.load_state_dict(src)
    x = torch.rand(2, 3, 16, 16)
    torch.testing.assert_close(dst.image_features(x), ref.image_features(x))


def _visium_folder(root, n_side=6, seed=0):
    """A Visium-style folder whose spot colour encodes the expression of 6 genes."""
    import gzip

    import pandas as pd
    import scipy.io
    import scipy.sparse as sp
    from PIL import Image

    rng = np.random.default_rng(seed)
    (root / "spatial").mkdir(parents=True)
    (root / "filtered_feature_bc_matrix").mkdir()
    img = np.full((40 * n_side, 40 * n_side, 3), 255, dtype=np.uint8)
    rows, counts = [], []
    for i in range(n_side):
        for j in range(n_side):
            level = rng.uniform()
            cx, cy = 40 * j + 20, 40 * i + 20
            img[cy - 15:cy + 15, cx - 15:cx + 15] = (int(255 * level), 60, 160)
            rows.append((f"S{i}_{j}-1", 1, i, j, cy, cx))
            mu = np.array([level, level, level, 1 - level, 1 - level, 1 - level]) * 20 + 1
            counts.append(rng.poisson(mu))
    Image.fromarray(img).save(root / "spatial" / "image.png")
    pd.DataFrame(rows, columns=["barcode", "in_tissue", "array_row", "array_col", "pxl_row_in_fullres",
                                "pxl_col_in_fullres"]).to_csv(root / "spatial" / "tissue_positions.csv", index=False)
    m = sp.csr_matrix(np.array(counts).T)
    d = root / "filtered_feature_bc_matrix"
    with gzip.open(d / "matrix.mtx.gz", "wb") as fh:
        scipy.io.mmwrite(fh, m)
    with gzip.open(d / "features.tsv.gz", "wt") as fh:
        fh.write("".join(f"E{g}\t{g}\tGene Expression\n" for g in GENES))
    with gzip.open(d / "barcodes.tsv.gz", "wt") as fh:
        fh.write("".join(r[0] + "\n" for r in rows))
    return root


def test_cli_train_predict_evaluate(tmp_path):
    import pandas as pd
    from typer.testing import CliRunner

    from contrastomics.cli.comtip import app

    train_dir = _visium_folder(tmp_path / "train")
    test_dir = _visium_folder(tmp_path / "test", seed=1)
    runner = CliRunner()
    # --device auto: CUDA when available, else CPU (the run must work either way)
    res = runner.invoke(app, ["train", "--visium", str(train_dir), "--out", str(tmp_path / "model"),
                              "--n-genes", "6", "--size-px", "30", "--image-size", "16", "--epochs", "2",
                              "--no-gene-names", "--device", "auto"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "model" / "reference.npz").exists()
    meta = json.loads((tmp_path / "model" / "train_meta.json").read_text())
    assert meta["device"] == ("cuda" if torch.cuda.is_available() else "cpu") and meta["n_spots"] == 36
    out = tmp_path / "pred.tsv"
    # a broken second folder is reported and skipped; the good one is still predicted
    broken = tmp_path / "broken"
    (broken / "spatial").mkdir(parents=True)
    with pytest.warns(UserWarning, match="Visium folder skipped: .*no count matrix"):
        res = runner.invoke(app, ["predict", "--model", str(tmp_path / "model"), "--visium", str(test_dir),
                                  "--visium", str(broken), "--out", str(out), "--k", "5", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out, sep="\t", index_col=0)
    assert df.shape == (36, 6) and np.isfinite(df.to_numpy()).all()
    res = runner.invoke(app, ["evaluate", "--model", str(tmp_path / "model"), "--visium", str(test_dir),
                              "--out", str(tmp_path / "r.tsv"), "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert "mean Pearson r" in res.output
    assert pd.read_csv(tmp_path / "r.tsv", sep="\t", index_col=0).shape == (6, 1)


def test_expression_only_pretraining_trains_the_discriminator():
    from contrastomics.training.comtip import pretrain_gene_branch
    from contrastomics.training.loop import TrainConfig

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    # each gene has its own typical level, so a swapped value is detectable from (gene, value)
    values = (np.arange(6)[None, :] * 1.0 + rng.normal(0, 0.1, (256, 6))).astype(np.float32)
    model = CoMTIP(tiny(paat_swap_fraction=0.5), names())
    out = model.train()(None, torch.as_tensor(values[:4]))
    assert "image" not in out and "gene" in out and "disc_logits" in out
    enc_before = model.image_encoder.pos.detach().clone()
    res = pretrain_gene_branch(model, values, TrainConfig(epochs=15, batch_size=64, lr=3e-3, warmup_steps=2,
                                                          progress=False))
    assert res.history[-1]["paat_disc"] < 0.5 * res.history[0]["paat_disc"]
    torch.testing.assert_close(model.image_encoder.pos, enc_before)   # image branch untouched
    with pytest.raises(InputError, match="enable paat"):
        pretrain_gene_branch(CoMTIP(tiny(paat=False), names()), values)


def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    from contrastomics.cli import main

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)   # main() installs its own
    with pytest.raises(SystemExit) as e:
        main(["comtip", "train", "--visium", str(tmp_path / "nope"), "--out", str(tmp_path / "m")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Visium folder not found" in err and "Traceback" not in err  # a named --visium must be readable
    assert not (tmp_path / "m").exists()                                 # nothing half-written


def test_gene_name_embeddings_fallback_counted_and_cached(tmp_path, monkeypatch):
    """Genes absent from the description vocabulary fall back to their symbol and are counted;
    the text tower runs once per (model, texts) thanks to the cache."""
    import sys
    import types

    from contrastomics.training.comtip import gene_name_embeddings

    calls = []

    class FakeST:
        def __init__(self, path, device=None):
            calls.append(path)

        def encode(self, texts, **kw):
            return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    monkeypatch.setitem(sys.modules, "sentence_transformers", types.SimpleNamespace(SentenceTransformer=FakeST))
    monkeypatch.setenv("CONTRASTOMICS_CACHE", str(tmp_path / "cache"))
    desc = {"ERBB2": "Receptor tyrosine-protein kinase erbB-2"}
    with pytest.warns(UserWarning, match="1 of 2 genes have no description.*NOVEL1"):
        emb, meta = gene_name_embeddings(["ERBB2", "NOVEL1"], desc, model_path="fake-model")
    assert meta["genes_without_description"] == ["NOVEL1"]
    assert emb[:, 0].tolist() == [len("ERBB2: Receptor tyrosine-protein kinase erbB-2"), len("NOVEL1 gene")]
    with pytest.warns(UserWarning, match="1 of 2 genes"):
        again, _ = gene_name_embeddings(["ERBB2", "NOVEL1"], desc, model_path="fake-model")
    np.testing.assert_array_equal(again, emb)
    assert calls == ["fake-model"]                                       # second call read the cache


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_training_and_prediction_on_cuda():
    from contrastomics.training.loop import TrainConfig

    patches, values = toy_data(64)
    tc = TrainConfig(epochs=3, batch_size=32, lr=3e-3, warmup_steps=2, progress=False, device="auto")
    model, _ = train_comtip(patches, values, tiny(), tc, name_table=names())
    assert model.device.type == "cuda"
    pred = predict_expression(model, patches[:8], reference_values=values, k=5)
    assert pred.shape == (8, 6) and np.isfinite(pred).all()


def _her2st_folder(root, seed=0):
    """HER2ST layout: section T1 with an image (spot colour encodes expression), P1 and P2
    expression-only (no image file)."""
    import gzip

    import pandas as pd
    from PIL import Image

    rng = np.random.default_rng(seed)
    rows = []
    for s in ("T1", "P1", "P2"):
        (root / "data/ST-cnts").mkdir(parents=True, exist_ok=True)
        (root / "data/ST-spotfiles").mkdir(parents=True, exist_ok=True)
        img = np.full((240, 240, 3), 255, dtype=np.uint8)
        ids, spots, counts = [], [], []
        for x in range(6):
            for y in range(6):
                level = rng.uniform()
                cx, cy = 40 * x + 20, 40 * y + 20
                img[cy - 15:cy + 15, cx - 15:cx + 15] = (int(255 * level), 60, 160)
                ids.append(f"{x}x{y}")
                spots.append((x, y, x, y, cx, cy, 1))
                counts.append(rng.poisson(np.array([level] * 3 + [1 - level] * 3) * 20 + 1))
        with gzip.open(root / f"data/ST-cnts/{s}.tsv.gz", "wt") as fh:
            fh.write(pd.DataFrame(counts, index=ids, columns=list(GENES)).to_csv(sep="\t"))
        pd.DataFrame(spots, columns=["x", "y", "new_x", "new_y", "pixel_x", "pixel_y", "selected"]).to_csv(
            root / f"data/ST-spotfiles/{s}_selection.tsv", sep="\t", index=False)
        rel = f"data/ST-imgs/T/{s}/{s}.jpg"
        if s == "T1":
            (root / rel).parent.mkdir(parents=True)
            Image.fromarray(img).save(root / rel, quality=95)
        rows.append({"section": s, "patient": s[0], "counts_file": f"data/ST-cnts/{s}.tsv.gz",
                     "spot_file": f"data/ST-spotfiles/{s}_selection.tsv", "image_file": rel})
    pd.DataFrame(rows).to_csv(root / "section_index.csv", index=False)
    return root


def test_cli_her2st_with_expression_only_pretraining(tmp_path):
    from typer.testing import CliRunner

    from contrastomics.cli.comtip import app

    root = _her2st_folder(tmp_path / "her2st")
    res = CliRunner().invoke(app, ["train", "--her2st", str(root), "--sections", "T1", "--pretrain-sections",
                                   "P1,P2", "--out", str(tmp_path / "m"), "--n-genes", "6", "--size-px", "30",
                                   "--image-size", "16", "--epochs", "1", "--no-gene-names", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert "pretraining the gene branch on 72 expression-only spots" in res.output
    assert "training on 36 spots from 1 sections" in res.output
    res = CliRunner().invoke(app, ["evaluate", "--model", str(tmp_path / "m"), "--her2st", str(root),
                                   "--sections", "T1", "--device", "cpu", "--k", "5"])
    assert res.exit_code == 0 and "T1: mean Pearson r" in res.output, res.output


def test_config_model_type_and_folders_written_before_it_still_load(tmp_path):
    from contrastomics.models import load_model

    torch.manual_seed(0)
    m = CoMTIP(tiny(), names()).eval()
    m.save_pretrained(tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg["model_type"] == "comtip" and cfg["genes"] == list(GENES)
    del cfg["model_type"]                                                # as written before the config had one
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    x, v = torch.rand(3, 3, 16, 16), torch.rand(3, 6)
    for again in (CoMTIP.from_pretrained(tmp_path / "m"), load_model(tmp_path / "m")):
        assert isinstance(again, CoMTIP)
        torch.testing.assert_close(again.eval().encode_image(x), m.encode_image(x))
        torch.testing.assert_close(again.encode_genes(v), m.encode_genes(v))
    with pytest.warns(UserWarning, match=r"ignoring unknown CoMTIP config keys \['future'\]"):
        assert CoMTIPConfig.from_dict({**cfg, "model_type": "comtip", "future": 1}) == tiny()


def test_save_reference_and_read_it_back(tmp_path):
    from contrastomics.models.comtip import crop_size_px, read_reference, save_reference

    m = CoMTIP(tiny(), names())
    vals = toy_data(5)[1]
    save_reference(m, tmp_path / "m", vals, ["A"] * 5, {"size_px": 30.0})
    np.testing.assert_array_equal(read_reference(tmp_path / "m"), vals)
    assert crop_size_px(tmp_path / "m") == 30.0 and crop_size_px(tmp_path) == 224.0
    with pytest.raises(InputError, match="no reference.npz"):
        read_reference(tmp_path)


def test_old_import_paths_are_aliases_of_the_new_ones():
    import contrastomics.evaluate.expression as ev
    import contrastomics.losses as losses
    import contrastomics.models.comtip as old
    import contrastomics.models.vit as vit
    import contrastomics.training.comtip as new

    for name in ("train_comtip", "pretrain_gene_branch", "gene_name_embeddings", "gene_texts", "SpotDataset",
                 "augment_collate", "comtip_step"):
        assert getattr(old, name) is getattr(new, name)
    assert old.comtip_loss is losses.comtip_loss and old.pearson_per_gene is ev.pearson_per_gene
    assert old.ViT is vit.ViT and old.timm_vit_to_comtip is vit.timm_vit_to_comtip


def test_pearson_by_section():
    from contrastomics.evaluate.expression import pearson_by_section

    rng = np.random.default_rng(0)
    pred, true = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    labels = ["B"] * 8 + ["A"] * 12
    r = pearson_by_section(pred, true, labels, ["x", "y", "z"])
    assert list(r.columns) == ["B", "A"] and list(r.index) == ["x", "y", "z"]
    np.testing.assert_allclose(r["A"], pearson_per_gene(pred[8:], true[8:]))
