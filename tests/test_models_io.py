"""Shared model I/O (models.base): checkpoints written before the architecture step still load and
give the same outputs; load_model dispatches on model_type; the one config rule for unknown keys."""
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from contrastomics.errors import InputError
from contrastomics.models import load_model
from contrastomics.models.base import MODEL_TYPES, infer_model_type
from contrastomics.models.cal import CAL
from contrastomics.models.gsfm import GSFM, GSFMConfig
from contrastomics.models.gtclip import GtClip, GtClipConfig

LEGACY = Path(__file__).parent / "data" / "legacy_models"
REF = json.loads((LEGACY / "reference.json").read_text())


def check_gsfm(m):
    assert isinstance(m, GSFM) and len(m.genes) == 60
    assert np.array_equal(m.embed(REF["gsfm_sets"]), np.array(REF["gsfm_embed"], np.float32))
    assert np.array_equal(m.score_genes(REF["gsfm_sets"])[:, :10], np.array(REF["gsfm_scores"], np.float32))


def check_cal(m):
    assert isinstance(m, CAL) and m.vocab[:3] == ["G0", "G1", "G2"]
    scores = m.score([f"G{i}" for i in range(5)], [f"G{i}" for i in range(5, 10)])["score"].to_numpy()
    assert np.array_equal(scores, np.array(REF["cal_scores"], np.float32))


def test_legacy_gsfm_loads_with_reference_outputs():
    check_gsfm(GSFM.from_pretrained(LEGACY / "gsfm"))
    check_gsfm(load_model(LEGACY / "gsfm"))


def test_legacy_cal_loads_with_reference_outputs():
    check_cal(CAL.from_pretrained(LEGACY / "cal"))
    check_cal(load_model(LEGACY / "cal"))


def test_load_model_without_model_type_dispatches_on_the_config_keys(tmp_path):
    for name in ("gsfm", "cal"):
        shutil.copytree(LEGACY / name, tmp_path / name)
        cfg = json.loads((tmp_path / name / "config.json").read_text())
        del cfg["model_type"]
        (tmp_path / name / "config.json").write_text(json.dumps(cfg))
        assert infer_model_type(cfg) == name
    check_gsfm(load_model(tmp_path / "gsfm"))
    check_cal(load_model(tmp_path / "cal"))
    (tmp_path / "cal" / "config.json").write_text(json.dumps({"dropout": 0.1}))  # fits several types
    with pytest.raises(InputError, match="no model_type"):
        load_model(tmp_path / "cal")
    (tmp_path / "cal" / "config.json").write_text(json.dumps({"model_type": "nope"}))
    with pytest.raises(InputError, match="unknown model_type 'nope'"):
        load_model(tmp_path / "cal")


def test_registry_and_fp16_save_through_the_mixin(tmp_path):
    assert MODEL_TYPES["gsfm"] is GSFM and MODEL_TYPES["gtclip"] is GtClip
    m = GSFM.from_pretrained(LEGACY / "gsfm")
    m.save_pretrained(tmp_path / "fp16", half=True)
    m.save_pretrained(tmp_path / "fp32")
    from safetensors.torch import load_file

    assert all(v.dtype == torch.float16 for v in load_file(str(tmp_path / "fp16" / "model.safetensors")).values())
    a, b = GSFM.from_pretrained(tmp_path / "fp32"), load_model(tmp_path / "fp16")
    assert np.array_equal(a.embed(REF["gsfm_sets"]), np.array(REF["gsfm_embed"], np.float32))
    assert np.allclose(b.embed(REF["gsfm_sets"]), a.embed(REF["gsfm_sets"]), atol=2e-3)


def test_one_config_rule_for_unknown_keys_and_model_type():
    d = {**GSFMConfig(vocab_size=10).to_dict(), "future_option": 1}
    with pytest.warns(UserWarning, match=r"ignoring unknown GSFM config keys \['future_option'\]"):
        assert GSFMConfig.from_dict(d) == GSFMConfig(vocab_size=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # derived and official metadata keys are silent
        official = GSFMConfig.from_dict({"vocab_size": 10, "d_model": 4, "depth": 2, "name": "x", "timestamp": "t"})
        assert official.hidden_dims == (8,) and official.decoder_hidden_dims == (4,)
        assert GtClipConfig.from_dict(GtClipConfig().to_dict()) == GtClipConfig()
    with pytest.raises(InputError, match="not a gtCLIP model"):
        GtClipConfig.from_dict(GSFMConfig(vocab_size=10).to_dict())
    with pytest.raises(InputError, match="not a gtCLIP model"):  # no model_type and keys of another model
        GtClipConfig.from_dict({"vocab_size": 10, "d_model": 4})
    with pytest.raises(InputError, match=r"lacks required key\(s\) \['vocab_size'\]"):
        GSFMConfig.from_dict({"model_type": "gsfm"})


def test_shipped_gtclip_recipe_is_the_one_the_shipped_model_was_trained_with():
    from contrastomics.models.base import read_recipe
    from contrastomics.models.gtclip import DEFAULT_MODEL_DIR

    recipe = read_recipe("gtclip-default")
    shipped = json.loads((DEFAULT_MODEL_DIR / "config.json").read_text())["training"]["preset_recipe"]
    assert recipe == shipped and recipe["train"]["lr_proj"] == 1e-3 and recipe["model"]["pooling"] == "mean"
    recipe["seed"] = 99  # a fresh dict each call
    assert read_recipe("gtclip-default")["seed"] == 0
    with pytest.raises(InputError, match="unknown recipe"):
        read_recipe("nope")


def test_old_import_paths_are_aliases_of_the_new_ones():
    import contrastomics.cli.gtclip as cli_gtclip
    import contrastomics.models.gsfm as old_gsfm
    import contrastomics.models.gtclip as old_gtclip
    from contrastomics import losses, train
    from contrastomics.models import base
    from contrastomics.training import gsfm as new_gsfm, gtclip as new_gtclip, loop

    assert old_gsfm.train_gsfm is new_gsfm.train_gsfm and old_gsfm.partition_collate is new_gsfm.partition_collate
    assert old_gsfm.reconstruction_loss is losses.reconstruction_loss
    assert old_gsfm.save_model_folder is base.save_model_folder
    assert old_gtclip.train_gtclip is new_gtclip.train_gtclip
    assert old_gtclip.GtClipTrainConfig is new_gtclip.GtClipTrainConfig
    assert cli_gtclip.train_default is new_gtclip.train_default
    assert train.fit is loop.fit
    m = old_gtclip.load_model(None)  # the deprecated loader keeps None -> the shipped model
    assert isinstance(m, GtClip) and m.config.model_type == "gtclip"
