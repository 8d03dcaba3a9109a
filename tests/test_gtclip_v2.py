"""gtCLIP v2 text tower (issue 14 round 2): residual text head + distillation to the base geometry."""
import json

import numpy as np
import pytest
import torch

from contrastomics.data.genesets import GeneSetLibrary
from contrastomics.errors import InputError
from contrastomics.losses import GtClipLoss, text_distillation_loss
from contrastomics.models.gtclip import GtClip, GtClipConfig
from contrastomics.training.gtclip import GtClipTrainConfig, train_gtclip

GENES = [f"G{i}" for i in range(60)]
TOWER = {"d_model": 16, "hidden_dims": [16], "decoder_hidden_dims": [16]}


def resid_model(**kw):
    torch.manual_seed(0)
    cfg = GtClipConfig(embed_dim=12, text_dim=12, text_hidden=10, gene_tower=dict(TOWER), text_head="residual", **kw)
    return GtClip(cfg, vocab=GENES)


def cos(x):
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    return x @ x.T


def test_residual_head_at_init_reproduces_base_geometry():
    feats = np.random.default_rng(0).normal(size=(9, 12)).astype(np.float32)
    out = resid_model().project_text_features(feats)
    assert np.allclose(out @ out.T, cos(feats), atol=1e-5)
    # the published MLP head does not (the control: the test can tell the two apart)
    torch.manual_seed(0)
    mlp = GtClip(GtClipConfig(embed_dim=12, text_dim=12, text_hidden=10, gene_tower=dict(TOWER)), vocab=GENES)
    o2 = mlp.project_text_features(feats)
    assert not np.allclose(o2 @ o2.T, cos(feats), atol=1e-2)


def test_residual_head_needs_matching_dims_and_known_name():
    with pytest.raises(InputError, match="embed_dim == text_dim"):
        GtClip(GtClipConfig(embed_dim=8, text_dim=12, gene_tower=dict(TOWER), text_head="residual"), vocab=GENES)
    with pytest.raises(InputError, match="text_head"):
        GtClipConfig(text_head="linear")


def test_distillation_loss_zero_iff_tower_equals_base():
    base = torch.randn(16, 12)
    assert text_distillation_loss(base, base).item() == pytest.approx(0.0, abs=1e-7)
    assert text_distillation_loss(3.0 * base, base).item() == pytest.approx(0.0, abs=1e-7)  # cosines: scale-free
    assert text_distillation_loss(torch.randn(16, 12), base).item() > 1e-3
    loss = GtClipLoss(overlap_weight=0.0, distill_weight=2.0)
    g, t = torch.nn.functional.normalize(torch.randn(16, 12), dim=-1), torch.randn(16, 12)
    total, logs = loss(g, torch.nn.functional.normalize(t, dim=-1), torch.tensor(10.0), base_text=base)
    assert logs["distill"] == pytest.approx(text_distillation_loss(t, base).item(), rel=1e-5)
    assert total.item() == pytest.approx(logs["contrastive"] + 2.0 * logs["distill"], rel=1e-5)
    with pytest.raises(ValueError, match="base text"):
        loss(g, g, torch.tensor(10.0))


def test_config_round_trips_and_old_folders_load(tmp_path):
    m = resid_model()
    with torch.no_grad():
        m.text_proj.f[-1].weight.normal_()  # a trained correction, so the saved head matters
    feats = np.random.default_rng(1).normal(size=(5, 12)).astype(np.float32)
    m.save_pretrained(tmp_path / "v2")
    back = GtClip.from_pretrained(tmp_path / "v2")
    assert back.config.text_head == "residual"
    assert np.allclose(back.project_text_features(feats), m.project_text_features(feats), atol=1e-6)
    # a folder written before text_head existed (no such key) loads as the MLP head
    torch.manual_seed(0)
    old = GtClip(GtClipConfig(embed_dim=8, text_dim=12, text_hidden=10, gene_tower=dict(TOWER)), vocab=GENES)
    old.save_pretrained(tmp_path / "v1")
    cfg = json.loads((tmp_path / "v1" / "config.json").read_text())
    cfg.pop("text_head")
    (tmp_path / "v1" / "config.json").write_text(json.dumps(cfg))
    o = GtClip.from_pretrained(tmp_path / "v1")
    assert o.config.text_head == "mlp"
    assert np.allclose(o.project_text_features(feats), old.project_text_features(feats), atol=1e-6)


def test_training_with_distillation_stays_closer_to_base():
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny model: threads cost more than the maths
    rng = np.random.default_rng(0)
    sets = {f"T{i}": list(rng.choice(GENES, size=rng.integers(4, 10), replace=False)) for i in range(48)}
    lib = GeneSetLibrary.from_gene_sets(sets, descriptions={t: f"text {t}" for t in sets}, genes=GENES)
    feats = np.asarray(lib.membership @ rng.normal(size=(len(GENES), 12)), np.float32) + rng.normal(
        size=(48, 12)).astype(np.float32)
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)

    def drift(w):
        cfg = GtClipConfig(embed_dim=12, text_dim=12, text_hidden=16, gene_tower=dict(TOWER), text_head="residual")
        tc = GtClipTrainConfig(epochs=15, batch_size=16, lr_proj=2e-2, lr_gsfm=1e-2, warmup_steps=2, progress=False,
                               patience=None, distill_weight=w, recon_weight=0.0)
        m, _ = train_gtclip(lib, cfg, tc, text_features=feats, genes=GENES)
        assert m.config.training["distill_weight"] == w
        out = m.project_text_features(feats)
        return float(np.mean((out @ out.T - feats @ feats.T) ** 2))

    try:
        free, held = drift(0.0), drift(20.0)
    finally:
        torch.set_num_threads(n_threads)
    assert held < 0.5 * free
