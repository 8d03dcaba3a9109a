"""The shared trainer (contrastomics.training.loop.fit) exercised on a tiny GSFM."""
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from contrastomics.data.genesets import GeneSetLibrary
from contrastomics.models.gsfm import GSFM
from contrastomics.training.gsfm import GeneSetDataset, gsfm_step, partition_collate, train_gsfm
from contrastomics.training.loop import TrainConfig, fit, seed_everything, warmup_cosine
from module_sets import module_sets

torch.set_num_threads(1)


def modules_library(n_modules=4, genes_per_module=8, sets_per_module=12, seed=0) -> GeneSetLibrary:
    """Sets drawn from disjoint gene modules: co-members are learnable."""
    return GeneSetLibrary.from_gene_sets(module_sets(n_modules, genes_per_module, sets_per_module, seed), name="modules")


TINY = dict(d_model=8, hidden_dims=(16,), decoder_hidden_dims=(8,), dropout=0.2, partition=0.5,
            weighted_loss="unseen")


def quiet(**kw) -> TrainConfig:
    base = dict(epochs=4, batch_size=8, lr=1e-2, warmup_steps=2, device="cpu", progress=False, seed=3)
    return TrainConfig(**{**base, **kw})


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------------- schedule
def test_warmup_cosine_values():
    f = warmup_cosine(warmup_steps=4, total_steps=14, min_ratio=0.1)
    assert [round(f(s), 4) for s in range(4)] == [0.2, 0.4, 0.6, 0.8]
    assert f(4) == pytest.approx(1.0)
    # halfway through the cosine part (step 4 + 5) the multiplier is halfway to min_ratio
    assert f(9) == pytest.approx(0.1 + 0.9 * 0.5)
    assert f(14) == pytest.approx(0.1)
    assert f(100) == pytest.approx(0.1)  # clamped after the end
    g = warmup_cosine(0, 10)
    assert g(0) == pytest.approx(1.0) and g(5) == pytest.approx(0.5) and g(10) == pytest.approx(0.0)


def test_lr_follows_the_schedule_inside_fit():
    model = torch.nn.Linear(3, 1)
    data = [(torch.randn(4, 3),) for _ in range(5)]
    lrs = []

    def step(m, batch):
        out = m(batch[0]).pow(2).mean()
        return out

    class Spy(torch.optim.AdamW):
        def step(self, *a, **k):
            lrs.append(self.param_groups[0]["lr"])
            return super().step(*a, **k)

    orig = torch.optim.AdamW
    torch.optim.AdamW = Spy
    try:
        fit(model, data, step, quiet(epochs=2, warmup_steps=3, lr=0.5))
    finally:
        torch.optim.AdamW = orig
    f = warmup_cosine(3, 10)
    assert lrs == pytest.approx([0.5 * f(s) for s in range(10)])


# ---------------------------------------------------------------------- clipping
def test_grad_clipping_bounds_the_gradient_norm(monkeypatch):
    seen = []
    orig = torch.nn.utils.clip_grad_norm_

    def spy(params, max_norm, *a, **k):
        params = list(params)
        before = orig(params, max_norm, *a, **k)
        after = torch.norm(torch.stack([p.grad.norm() for p in params if p.grad is not None]))
        seen.append((float(before), float(after), max_norm))
        return before

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    model = torch.nn.Linear(4, 1)
    data = [(torch.full((2, 4), 100.0),) for _ in range(3)]
    fit(model, data, lambda m, b: 1000 * m(b[0]).sum(), quiet(epochs=1, grad_clip=0.5))
    assert len(seen) == 3
    for before, after, max_norm in seen:
        assert before > 100 and max_norm == 0.5
        assert after == pytest.approx(0.5, rel=1e-4)
    seen.clear()
    fit(torch.nn.Linear(4, 1), data, lambda m, b: m(b[0]).sum(), quiet(epochs=1, grad_clip=None))
    assert seen == []


# ---------------------------------------------------------------------- seeding
def test_same_seed_same_run_other_seed_other_run():
    lib = modules_library()
    runs = [train_gsfm(lib, dict(TINY), quiet(seed=s)) for s in (1, 1, 2)]
    (m1, r1), (m2, r2), (m3, _) = runs
    assert same(weights(m1), weights(m2))
    assert [h["loss"] for h in r1.history] == [h["loss"] for h in r2.history]
    assert not same(weights(m1), weights(m3))


# ---------------------------------------------------------------------- checkpoint + resume
def test_resume_after_interruption_gives_the_uninterrupted_weights(tmp_path):
    lib = modules_library()
    full, res_full = train_gsfm(lib, dict(TINY), quiet(epochs=4, checkpoint_dir=str(tmp_path / "a")))

    class Killed(Exception):
        pass

    def kill_after_epoch_2(epoch, record):
        if epoch == 2:  # raised before epoch 2's checkpoint: the run restarts after epoch 1
            raise Killed

    cfg = quiet(epochs=4, checkpoint_dir=str(tmp_path / "b"))
    seed_everything(cfg.seed)  # as train_gsfm does, so the initial weights match the full run
    model = GSFM.from_genes(lib.genes, **TINY)
    data = GeneSetDataset.from_library(model, lib)
    collate = partition_collate(model.config.partition, model.config.vocab_size, seed=None)
    with pytest.raises(Killed):
        fit(model, data, gsfm_step, cfg, collate_fn=collate, on_epoch_end=kill_after_epoch_2)
    state = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=False)
    assert state["epoch"] == 1

    fresh = GSFM.from_genes(lib.genes, **TINY)  # new process: new random init, overwritten on resume
    cfg.resume = True
    res = fit(fresh, GeneSetDataset.from_library(fresh, lib), gsfm_step, cfg,
              collate_fn=partition_collate(0.5, fresh.config.vocab_size, seed=None))
    assert [h["epoch"] for h in res.history] == [0, 1, 2, 3]
    assert [h["loss"] for h in res.history] == pytest.approx([h["loss"] for h in res_full.history], abs=1e-6)
    a, b = weights(full), weights(fresh)
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert json.loads((tmp_path / "b" / "history.json").read_text())[-1]["epoch"] == 3


# ---------------------------------------------------------------------- early stopping
def test_early_stopping_restores_the_best_epoch():
    lib = modules_library()
    scores = iter([0.5, 0.7, 0.6, 0.55, 0.9, 0.9])
    snapshots = []

    def eval_fn(model):
        snapshots.append(weights(model))
        return {"auc": next(scores)}

    model, res = train_gsfm(lib, dict(TINY), quiet(epochs=6, monitor="auc", patience=2), eval_fn=eval_fn)
    assert res.stopped_early and len(res.history) == 4  # epochs 0-3; 0.9 at epoch 4 is never reached
    assert res.best == pytest.approx(0.7) and res.best_epoch == 1
    assert same(weights(model), snapshots[1])
    assert not same(weights(model), snapshots[3])


def test_loss_falls_and_modules_are_learned():
    lib = modules_library()
    model, res = train_gsfm(lib, dict(TINY), quiet(epochs=30, lr=2e-2, seed=0))
    losses = [h["loss"] for h in res.history]
    assert losses[-1] < 0.8 * losses[0]
    top = model.predict(["M2G0", "M2G1", "M2G2"], k=5)["gene"].tolist()
    assert sum(g.startswith("M2") for g in top) >= 4


# ---------------------------------------------------------------------- DDP
DDP_SCRIPT = textwrap.dedent("""
    import json, os, sys
    import numpy as np, torch
    torch.set_num_threads(1)
    from contrastomics.data.genesets import GeneSetLibrary
    from contrastomics.training.gsfm import train_gsfm
    from contrastomics.training.loop import TrainConfig
    import torch.distributed as dist
    rng = np.random.default_rng(0)
    sets = {}
    for m in range(4):
        genes = [f"M{m}G{i}" for i in range(8)]
        for k in range(16):
            sets[f"S{m}_{k}"] = list(rng.choice(genes, size=5, replace=False))
    lib = GeneSetLibrary.from_gene_sets(sets)
    cfg = dict(d_model=8, hidden_dims=(16,), decoder_hidden_dims=(8,), partition=0.5, weighted_loss="unseen")
    model, res = train_gsfm(lib, cfg, TrainConfig(epochs=int(sys.argv[2]), batch_size=8, lr=2e-2, warmup_steps=2,
                                                   device="cpu", progress=False, seed=0))
    emb = model.embed([["M0G0", "M0G1"], ["M1G0"], ["M3G2", "M3G4", "M3G5"]])
    out = {"rank": dist.get_rank(), "world": dist.get_world_size(), "losses": [h["loss"] for h in res.history],
           "emb_shape": list(emb.shape), "steps": res.steps,
           "w_sum": float(sum(p.detach().double().sum() for p in model.parameters()))}
    with open(os.path.join(sys.argv[1], f"rank{dist.get_rank()}.json"), "w") as fh:
        json.dump(out, fh)
""")


def run_torchrun(tmp_path, epochs):
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT)
    torchrun = shutil.which("torchrun")
    cmd = ([torchrun] if torchrun else [sys.executable, "-m", "torch.distributed.run"])
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([*cmd, "--standalone", "--nproc_per_node", "2", str(script), str(tmp_path), str(epochs)],
                       capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    return [json.loads((tmp_path / f"rank{i}.json").read_text()) for i in range(2)]


def test_ddp_two_processes_gloo(tmp_path):
    r0, r1 = run_torchrun(tmp_path, epochs=8)
    assert (r0["world"], r1["world"]) == (2, 2)
    assert r0["emb_shape"] == [3, 8]
    # 64 sets, 2 ranks, batch 8 -> 4 steps per epoch per rank
    assert r0["steps"] == r1["steps"] == 8 * 4
    # the loss is all-reduced: both ranks log the same falling curve
    assert r0["losses"] == pytest.approx(r1["losses"])
    assert r0["losses"][-1] < 0.9 * r0["losses"][0]
    # DDP keeps the replicas identical
    assert r0["w_sum"] == pytest.approx(r1["w_sum"], rel=1e-6)
