"""CoMTIP benchmark protocol (issue 16): same seed -> same model, the gene list never depends on
test spots or patients, and the development part never holds a test spot. Fast, synthetic data."""
from __future__ import annotations

import anndata
import numpy as np
import pandas as pd
import torch

from contrastomics.models.comtip import CoMTIPConfig
from contrastomics.training.comtip import train_comtip
from contrastomics.training.loop import TrainConfig
from benchmark_scripts import bench as load_benchmark

GENES = tuple(f"G{i}" for i in range(6))


def bench():
    return load_benchmark("comtip_her2st")


def _tiny_run(seed: int, noise_seed: int):
    rng = np.random.default_rng(0)
    patches = rng.integers(0, 255, (24, 16, 16, 3)).astype(np.uint8)
    values = rng.random((24, len(GENES))).astype(np.float32)
    names = rng.normal(size=(len(GENES), 8)).astype(np.float32)
    cfg = CoMTIPConfig(genes=GENES, image_size=16, patch_size=4, vit_dim=16, vit_depth=1, vit_heads=2, gene_dim=16,
                       gene_heads=2, text_dim=8, embed_dim=8)
    torch.manual_seed(noise_seed)  # whatever the global RNG state was before the call
    torch.rand(noise_seed + 1)
    tc = TrainConfig(epochs=1, batch_size=12, lr=1e-3, warmup_steps=1, progress=False, seed=seed, device="cpu")
    model, _ = train_comtip(patches, values, cfg, tc, name_table=names)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_same_seed_gives_identical_weights():
    """The seed applies before the weights are initialised: two runs with seed 3 are identical
    even when the global RNG state differs before each call; seed 4 differs."""
    torch.set_num_threads(1)
    a, b, c = _tiny_run(3, noise_seed=10), _tiny_run(3, noise_seed=77), _tiny_run(4, noise_seed=10)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def _section(seed, genes, n=40):
    x = np.random.default_rng(seed).poisson(3.0, size=(n, len(genes))).astype(np.float32)
    return anndata.AnnData(x, var=pd.DataFrame(index=genes))


def test_gene_list_never_depends_on_test_spots_or_patients():
    """Perturbing every imaged (training or test) patient's counts leaves the gene list and its
    statistics unchanged; the same perturbation of an expression-only section changes them."""
    c = bench()
    index = pd.DataFrame({"patient": ["A", "B", "C", "D", "C"]}, index=["A1", "B4", "C2", "D1", "C3"])
    genes = [f"G{i}" for i in range(20)]
    base = {s: _section(i, genes) for i, s in enumerate(index.index)}

    def reader(sections_data):
        return lambda names: {s: sections_data[s].copy() for s in names}

    _, panel, stats = c.gene_panel(index, reader(base), n_genes=5)
    low = genes.index(str(stats["variance"].idxmin()))  # the least variable gene: far from the list

    def spike(a):   # give that gene a huge variance: it tops any list built from this section
        a = a.copy()
        a.X[:, low] = np.where(np.arange(a.n_obs) % 2, 500.0, 0.0)
        return a

    imaged_spiked = {s: spike(a) if index.loc[s, "patient"] in ("B", "C") else a for s, a in base.items()}
    _, panel2, stats2 = c.gene_panel(index, reader(imaged_spiked), n_genes=5)
    assert panel2 == panel
    pd.testing.assert_frame_equal(stats2, stats)
    # the perturbation is strong enough to move the list when it hits a section that is used
    _, panel3, _ = c.gene_panel(index, reader({**base, "A1": spike(base["A1"])}), n_genes=5)
    assert genes[low] in panel3 and genes[low] not in panel


def test_development_part_never_holds_a_test_spot():
    """Each fold: test sections are in neither training nor validation; the cross-patient folds
    train on one patient only; the B4 validation block is a contiguous stripe apart from training."""
    c = bench()
    plan = c.fold_plan()
    fams = {f["family"] for f in plan}
    assert fams == set(c.FAMILIES)
    for f in plan:
        used = set(f["train"]) | ({f["val_section"]} if f["val_section"] else set())
        assert not used & set(f["test"])
        assert f["val_section"] not in f["train"]
        if f["family"].startswith("cross-patient"):
            assert len({s[0] for s in used}) == 1 and not {s[0] for s in used} & {s[0] for s in f["test"]}
    b4c = next(f for f in plan if f["fold"] == "B4->C")
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, (50, 2)).astype(np.float32)
    fake = {f"{k}_{s}": v for s in c.IMAGED for k, v in
            (("patches", np.arange(50)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)),
             ("expr", np.arange(50, dtype=np.float32)[:, None]), ("xy", xy))}
    tr_p, tr_y, va_p, va_y = c.fold_data(b4c, fake)
    assert len(va_y) == 10 and len(tr_y) == 40
    assert not set(va_y.ravel()) & set(tr_y.ravel())
    val_x = xy[va_y.ravel().astype(int), 0]
    tr_x = xy[tr_y.ravel().astype(int), 0]
    assert val_x.min() >= tr_x.max()   # one stripe: every validation spot lies beyond every training spot
