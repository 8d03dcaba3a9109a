"""`contrastomics comtip` sub-commands: train, predict, evaluate.

Data come from a HER2ST folder (``--her2st ROOT --sections C2,C3``) or from Visium-style folders
(``--visium DIR``, repeatable), read by :func:`contrastomics.data.spots.load_spots`. Heavy imports
happen inside the commands so ``--help`` is fast.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import List, Optional

import typer

from .._io import check_output

app = typer.Typer(no_args_is_help=True)

_HER2ST = typer.Option(None, "--her2st", help="HER2ST folder (with section_index.csv and data/).")
_SECTIONS = typer.Option(None, "--sections", help="Comma-separated HER2ST sections, e.g. C2,C3 (default: all with an image).")
_VISIUM = typer.Option(None, "--visium", help="Visium-style folder (spatial/tissue_positions*.csv + image + matrix); repeatable.")


def _check_sections(her2st: Optional[Path], sections: Optional[str], option: str = "--sections") -> None:
    """``option`` lists known HER2ST sections of ``--her2st`` (checked on its index, before any reading)."""
    from ..data.spatial import her2st_sections
    from ..data.spots import section_list
    from ..errors import InputError

    if sections is None:
        return
    names = section_list(sections) or []
    if not names:
        raise InputError(f"{option} is empty; leave it out to use every section with an image"
                         if option == "--sections" else f"{option} is empty; name sections, e.g. A1,A2")
    if her2st is None:
        raise InputError(f"{option} needs --her2st (the folder the sections come from)")
    have = list(her2st_sections(her2st).index)
    unknown = [x for x in names if x not in have]
    if unknown:
        raise InputError(f"{option}: unknown HER2ST section(s) {', '.join(unknown)}; {her2st} has {', '.join(have)}")


def _check_predict(her2st, sections, k: int, device: str) -> None:
    from . import checks

    checks.at_least(k, 1, "--k")
    checks.device(device)
    _check_sections(her2st, sections)


def _warn_leakage(model_dir: Path, evaluated: list, her2st: Optional[Path]) -> None:
    """Warn when an evaluated section (or, for HER2ST, its patient) was also trained on."""
    import numpy as np

    rf = Path(model_dir) / "reference.npz"
    if not rf.exists():
        return
    with np.load(rf) as z:
        trained = set(map(str, z["sections"])) if "sections" in z.files else set()
    evaluated = list(dict.fromkeys(map(str, evaluated)))
    both = [s for s in evaluated if s in trained]
    if both:
        warnings.warn(f"section(s) {', '.join(both)} were also used to train this model (their spots are in its "
                      "retrieval reference): the scores are not held-out; evaluate on other sections")
    if her2st is not None:
        from ..data.spatial import her2st_sections

        patient = her2st_sections(her2st)["patient"].astype(str).to_dict()
        seen = {patient[t] for t in trained if t in patient}
        same = [s for s in evaluated if s not in trained and patient.get(s) in seen]
        if same:
            warnings.warn(f"section(s) {', '.join(same)} come from a patient whose other sections trained this "
                          "model (spots of one patient on both sides): the scores are optimistic")


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
    epochs: int = typer.Option(5, help="Epochs (the HER2ST benchmark stops each method on validation data, at most 20)."),
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
    import torch

    from ..data.spatial import read_string_descriptions
    from ..data.spots import load_expression, load_spots
    from ..models.comtip import CoMTIPConfig, save_reference
    from ..training.comtip import gene_name_embeddings, train_comtip
    from ..errors import InputError
    from ..training.loop import TrainConfig, resolve_device
    from . import checks

    checks.at_least(n_genes, 1, "--n-genes")
    checks.positive(size_px, "--size-px")
    patch = CoMTIPConfig.patch_size
    if image_size < patch or image_size % patch:
        raise InputError(f"--image-size must be a positive multiple of the ViT patch size {patch}, got {image_size}")
    checks.at_least(epochs, 1, "--epochs")
    checks.contrastive_batch(batch_size, "spot")
    checks.positive(lr, "--lr")
    checks.threads(threads)
    checks.device(device)
    _check_sections(her2st, sections)
    if pretrain_sections is not None:
        _check_sections(her2st, pretrain_sections, "--pretrain-sections")
        checks.at_least(pretrain_epochs, 1, "--pretrain-epochs")
    check_output(out, folder=True)
    torch.set_num_threads(threads)
    spots = load_spots(her2st, sections, visium, size_px, image_size, n_genes=n_genes, strict_visium=True)
    names = None
    if gene_names:
        desc = read_string_descriptions(string_info) if string_info else {}
        if not string_info:
            warnings.warn("no --string-info: gene names are embedded from symbols alone")
        names, _ = gene_name_embeddings(spots.genes, desc)
    cfg = CoMTIPConfig(genes=tuple(spots.genes), image_size=image_size, mfm=mfm, use_gene_names=gene_names,
                       paat=paat, regression_head=regression_head,
                       image_weights=str(image_weights) if image_weights else None)
    dev = resolve_device(device)
    pre_values, pc = None, None
    if pretrain_sections:
        pre_values = load_expression(her2st, pretrain_sections, spots.genes)
        pc = TrainConfig(epochs=pretrain_epochs, batch_size=128, lr=lr, warmup_steps=10, seed=seed, device=str(dev))
        typer.echo(f"pretraining the gene branch on {len(pre_values)} expression-only spots")
    typer.echo(f"training on {len(spots.values)} spots from {len(set(spots.sections))} sections, "
               f"{len(spots.genes)} genes, device {dev}")
    tc = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=0.05, warmup_steps=20, seed=seed,
                     device=str(dev), checkpoint_dir=str(out / "checkpoints"))
    model, res = train_comtip(spots.patches, spots.values, cfg, tc, name_table=names, pretrain_values=pre_values,
                              pretrain_config=pc)
    save_reference(model, out, spots.values, spots.sections, {"size_px": size_px, "seconds": res.seconds,
                                                              "n_spots": len(spots.values), "device": str(dev)})
    typer.echo(f"saved {out} ({res.seconds:.0f}s)")


def _predict(model_dir: Path, her2st, sections, visium, k: int, method: str, device: str):
    import torch

    from ..data.spots import load_spots
    from ..models.comtip import CoMTIP, crop_size_px, predict_expression, read_reference
    from ..training.loop import resolve_device

    model = CoMTIP.from_pretrained(model_dir, device=str(resolve_device(device)))
    spots = load_spots(her2st, sections, visium, crop_size_px(model_dir), model.config.image_size, genes=model.genes)
    ref = None if method == "regression" else read_reference(model_dir)
    with torch.no_grad():
        pred = predict_expression(model, spots.patches, reference_values=ref, k=k, method=method)
    return pred, spots


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

    from .._io import atomic_path

    _check_predict(her2st, sections, k, device)
    check_output(out, folder=False)
    pred, spots = _predict(model_dir, her2st, sections, visium, k, method, device)
    df = pd.DataFrame(pred, index=spots.obs_names, columns=spots.genes)
    with atomic_path(out) as tmp:
        df.to_csv(tmp, sep="\t", float_format="%.4f", compression="gzip" if str(out).endswith(".gz") else None)
    typer.echo(f"wrote {out} ({len(df)} spots x {len(spots.genes)} genes)")


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

    from .._io import atomic_write
    from ..evaluate.expression import pearson_by_section

    _check_predict(her2st, sections, k, device)
    if out is not None:
        check_output(out, folder=False)
    pred, spots = _predict(model_dir, her2st, sections, visium, k, method, device)
    _warn_leakage(model_dir, spots.sections, her2st)
    r = pearson_by_section(pred, spots.values, spots.sections, spots.genes)
    for s in r.columns:
        typer.echo(f"{s}: mean Pearson r {np.nanmean(r[s]):.3f} over {int(np.isfinite(r[s]).sum())} genes "
                   f"({int((~np.isfinite(r[s])).sum())} constant genes left out)")
    if out is not None:
        with atomic_write(out) as fh:
            r.to_csv(fh, sep="\t", float_format="%.4f")
