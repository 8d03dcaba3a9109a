"""`contrastomics comtip` sub-commands: train, predict, evaluate.

Data come from a HER2ST folder (``--her2st ROOT --sections C2,C3``) or from Visium-style folders
(``--visium DIR``, repeatable). Heavy imports happen inside the commands so ``--help`` is fast.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import List, Optional

import typer

app = typer.Typer(no_args_is_help=True)

_HER2ST = typer.Option(None, "--her2st", help="HER2ST folder (with section_index.csv and data/).")
_SECTIONS = typer.Option(None, "--sections", help="Comma-separated HER2ST sections, e.g. C2,C3 (default: all with an image).")
_VISIUM = typer.Option(None, "--visium", help="Visium-style folder (spatial/tissue_positions*.csv + image + matrix); repeatable.")


def _load(her2st: Optional[Path], sections: Optional[str], visium: Optional[List[Path]], size_px: float,
          out_px: int, genes: Optional[list] = None, n_genes: int = 250):
    """Sections -> (patches uint8, log expression for the genes, genes, section label per spot)."""
    import numpy as np

    from ..data import spatial as S
    from ..errors import InputError

    adatas = {}
    if her2st is not None:
        sel = [s.strip() for s in sections.split(",") if s.strip()] if sections else None
        adatas.update(S.read_her2st(her2st, sel, image=True, require_image=sel is None))
    for v in visium or []:
        try:
            a = S.read_visium(v)
            adatas[a.obs["section"].iloc[0]] = a
        except InputError as e:
            warnings.warn(f"Visium folder skipped: {e}")
    if not adatas:
        raise InputError("no usable section: give --her2st (and --sections) or --visium")
    no_img = [k for k, a in adatas.items() if not S.has_image(a)]
    if no_img:
        warnings.warn(f"{len(no_img)} sections have no image and are left out: {', '.join(no_img)}")
        adatas = {k: a for k, a in adatas.items() if k not in no_img}
    if not adatas:
        raise InputError("none of the sections has an H&E image")
    for a in adatas.values():
        S.log_normalize(a)
    if genes is None:
        genes, _ = S.select_genes(list(adatas.values()), n_genes=n_genes)
    patches, values, labels = [], [], []
    for k, a in adatas.items():
        patches.append(S.extract_patches(a, size_px=size_px, out_px=out_px, progress=True))
        values.append(S.expression_matrix(a, genes))
        labels += [k] * a.n_obs
    obs_names = [n for a in adatas.values() for n in a.obs_names]
    return np.concatenate(patches), np.concatenate(values), list(genes), labels, obs_names


def _expression_only(her2st: Optional[Path], sections: str, genes: list):
    """Log expression of HER2ST sections read without images, for gene-branch pretraining."""
    import numpy as np

    from ..data import spatial as S
    from ..errors import InputError

    if her2st is None:
        raise InputError("--pretrain-sections needs --her2st")
    sel = [s.strip() for s in sections.split(",") if s.strip()]
    adatas = S.read_her2st(her2st, sel, image=False)
    if not adatas:
        raise InputError(f"none of the pretraining sections {sel} could be read", her2st)
    mats = []
    for a in adatas.values():
        S.log_normalize(a)
        mats.append(S.expression_matrix(a, genes))
    return np.concatenate(mats)


@app.command()
def train(
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write."),
    her2st: Optional[Path] = _HER2ST,
    sections: Optional[str] = _SECTIONS,
    visium: Optional[List[Path]] = _VISIUM,
    n_genes: int = typer.Option(250, help="Number of most variable genes to model."),
    string_info: Optional[Path] = typer.Option(None, help="STRING protein.info file for gene descriptions."),
    size_px: float = typer.Option(224.0, help="Patch side in full-resolution pixels."),
    image_size: int = typer.Option(48, help="Patch side fed to the ViT (pixels)."),
    epochs: int = typer.Option(5, help="Epochs (5 is the setting benchmarked on HER2ST)."),
    batch_size: int = typer.Option(64),
    lr: float = typer.Option(1e-3),
    mfm: bool = typer.Option(True, help="Masked Feature Modeling."),
    gene_names: bool = typer.Option(True, help="Gene name (text) embeddings; off = learned gene ids."),
    paat: bool = typer.Option(True, help="Pair-aware adversarial training."),
    regression_head: bool = typer.Option(False, help="Also train a linear expression head."),
    image_weights: Optional[str] = typer.Option(None, help="Pretrained ViT weights: a safetensors/torch file "
                                                "(our ViT or timm VisionTransformer keys) or a hub id."),
    pretrain_sections: Optional[str] = typer.Option(
        None, help="HER2ST sections used expression-only (no image needed) to pretrain the gene branch with "
                   "the PAAT discriminator first, e.g. A1,A2,D1. Keep the test patient's sections out."),
    pretrain_epochs: int = typer.Option(1, help="Epochs of expression-only pretraining."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    threads: int = typer.Option(1, help="CPU threads for torch."),
    seed: int = typer.Option(0),
):
    """Train CoMTIP on sections with images; writes the model and its retrieval reference."""
    import numpy as np
    import torch

    from ..data.io import atomic_path
    from ..data.spatial import read_string_descriptions
    from ..models.comtip import CoMTIPConfig, gene_name_embeddings, train_comtip
    from ..training.loop import TrainConfig, resolve_device

    torch.set_num_threads(threads)
    patches, values, genes, labels, _ = _load(her2st, sections, visium, size_px, image_size, n_genes=n_genes)
    names = None
    if gene_names:
        desc = read_string_descriptions(string_info) if string_info else {}
        if not string_info:
            warnings.warn("no --string-info: gene names are embedded from symbols alone")
        names, _ = gene_name_embeddings(genes, desc)
    cfg = CoMTIPConfig(genes=tuple(genes), image_size=image_size, mfm=mfm, use_gene_names=gene_names, paat=paat,
                       regression_head=regression_head, image_weights=str(image_weights) if image_weights else None)
    dev = resolve_device(device)
    pre_values, pc = None, None
    if pretrain_sections:
        pre_values = _expression_only(her2st, pretrain_sections, genes)
        pc = TrainConfig(epochs=pretrain_epochs, batch_size=128, lr=lr, warmup_steps=10, seed=seed, device=str(dev))
        typer.echo(f"pretraining the gene branch on {len(pre_values)} expression-only spots")
    typer.echo(f"training on {len(values)} spots from {len(set(labels))} sections, {len(genes)} genes, device {dev}")
    tc = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=0.05, warmup_steps=20, seed=seed,
                     device=str(dev), checkpoint_dir=str(out / "checkpoints"))
    model, res = train_comtip(patches, values, cfg, tc, name_table=names, pretrain_values=pre_values,
                              pretrain_config=pc)
    model.config.image_weights = None
    model.save_pretrained(out)
    with atomic_path(out / "reference.npz") as tmp:
        np.savez_compressed(tmp, values=values.astype(np.float32), sections=np.array(labels))
    (out / "train_meta.json").write_text(json.dumps({"size_px": size_px, "seconds": res.seconds,
                                                     "n_spots": len(values), "device": str(dev)}, indent=1))
    typer.echo(f"saved {out} ({res.seconds:.0f}s)")


def _predict(model_dir: Path, her2st, sections, visium, k: int, method: str, device: str):
    import numpy as np
    import torch

    from ..errors import InputError
    from ..models.comtip import CoMTIP, predict_expression
    from ..training.loop import resolve_device

    model = CoMTIP.from_pretrained(model_dir, device=str(resolve_device(device)))
    meta_f = model_dir / "train_meta.json"
    size_px = json.loads(meta_f.read_text()).get("size_px", 224.0) if meta_f.exists() else 224.0
    patches, values, genes, labels, obs = _load(her2st, sections, visium, size_px, model.config.image_size,
                                                genes=model.genes)
    ref = None
    if method != "regression":
        rf = model_dir / "reference.npz"
        if not rf.exists():
            raise InputError("model folder has no reference.npz (needed for retrieval)", model_dir)
        ref = np.load(rf)["values"]
    with torch.no_grad():
        pred = predict_expression(model, patches, reference_values=ref, k=k, method=method)
    return pred, values, genes, labels, obs


@app.command()
def predict(
    model_dir: Path = typer.Option(..., "--model", "-m", help="Folder written by `comtip train`."),
    out: Path = typer.Option(..., "--out", "-o", help="TSV (.gz ok) of predicted log expression, spots x genes."),
    her2st: Optional[Path] = _HER2ST,
    sections: Optional[str] = _SECTIONS,
    visium: Optional[List[Path]] = _VISIUM,
    k: int = typer.Option(50, help="Reference spots averaged per query."),
    method: str = typer.Option("retrieval", help="retrieval (zero-shot) or regression (needs a head)."),
    device: str = typer.Option("auto"),
):
    """Predict expression from H&E patches (zero-shot retrieval by default)."""
    import pandas as pd

    from ..data.io import atomic_path

    pred, _, genes, labels, obs = _predict(model_dir, her2st, sections, visium, k, method, device)
    df = pd.DataFrame(pred, index=obs, columns=genes)
    with atomic_path(out) as tmp:
        df.to_csv(tmp, sep="\t", float_format="%.4f", compression="gzip" if str(out).endswith(".gz") else None)
    typer.echo(f"wrote {out} ({len(df)} spots x {len(genes)} genes)")


@app.command()
def evaluate(
    model_dir: Path = typer.Option(..., "--model", "-m"),
    her2st: Optional[Path] = _HER2ST,
    sections: Optional[str] = _SECTIONS,
    visium: Optional[List[Path]] = _VISIUM,
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="TSV of Pearson r per gene and section."),
    k: int = typer.Option(50),
    method: str = typer.Option("retrieval"),
    device: str = typer.Option("auto"),
):
    """Pearson r per gene between predicted and measured expression, per held-out section."""
    import numpy as np
    import pandas as pd

    from ..data.io import atomic_write
    from ..models.comtip import pearson_per_gene

    pred, values, genes, labels, _ = _predict(model_dir, her2st, sections, visium, k, method, device)
    labels = np.array(labels)
    rows = []
    for s in dict.fromkeys(labels):
        m = labels == s
        r = pearson_per_gene(pred[m], values[m])
        rows.append(pd.Series(r, index=genes, name=s))
        typer.echo(f"{s}: mean Pearson r {np.nanmean(r):.3f} over {int(np.isfinite(r).sum())} genes "
                   f"({int((~np.isfinite(r)).sum())} constant genes left out)")
    if out is not None:
        with atomic_write(out) as fh:
            pd.DataFrame(rows).T.to_csv(fh, sep="\t", float_format="%.4f")
