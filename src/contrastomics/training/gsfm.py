"""GSFM training: gene sets as vocabulary ids, random input/target partitions, the reconstruction
step, and :func:`train_gsfm` (plus :func:`pretrain_to_folder`, the ``contrastomics gsfm train``
procedure)."""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn

from .._io import open_text
from ..errors import InputError
from ..losses import reconstruction_loss
from ..models.gsfm import GSFM, SPECIAL_TOKENS
from .loop import TrainConfig, fit, seed_everything


def library_token_ids(model, library) -> tuple[list[np.ndarray], dict]:
    """Map each set of a ``GeneSetLibrary`` onto the vocabulary of ``model`` (a :class:`GSFM` or a
    model with a ``gene_tower``): a list of sorted id arrays, and a report of unknown genes
    (``n_unknown`` occurrences, ``empty_sets`` rows)."""
    gi = getattr(model, "gene_tower", model).gene_index
    col = np.array([gi.get(g, gi.get(str(g).upper(), -1)) for g in library.genes], dtype=np.int64)
    m = library.membership
    sets, n_unknown, empty = [], 0, []
    for i in range(len(library)):
        j = col[m.indices[m.indptr[i]:m.indptr[i + 1]]]
        n_unknown += int((j < 0).sum())
        s = np.unique(j[j >= 0])
        if len(s) == 0:
            empty.append(i)
        sets.append(s)
    return sets, {"n_unknown": n_unknown, "empty_sets": empty}


class GeneSetDataset(torch.utils.data.Dataset):
    """Gene sets as arrays of vocabulary indices (built once from a CSR membership matrix)."""

    def __init__(self, sets: list[np.ndarray]):
        self.sets = [np.asarray(s, dtype=np.int64) for s in sets if len(s) > 0]

    @classmethod
    def from_library(cls, model: GSFM, library) -> "GeneSetDataset":
        """Map a ``GeneSetLibrary`` onto the model vocabulary (unknown genes dropped)."""
        return cls(library_token_ids(model, library)[0])

    def __len__(self) -> int:
        return len(self.sets)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.sets[i]


def partition_collate(partition: float, vocab_size: int, seed: int | None = None):
    """Collate gene index arrays into ``(indices, offsets, target, input_mask)``.

    Each set keeps a random ``round(partition * size)`` of its genes as input (at least one; sets
    of one gene are kept whole); ``target`` is the dense multi-hot of the whole set
    ``(batch, vocab)``; ``input_mask`` marks input genes. Vectorised over the batch: one random key
    per gene, the smallest keys of each set are its input part.

    With ``seed=None`` the keys come from NumPy's global RNG, which :func:`~contrastomics.training.loop.fit`
    seeds per rank and saves in its checkpoints, so a resumed run draws the same partitions as an
    uninterrupted one (use ``num_workers=0``, the default, for that guarantee).
    """
    rng = np.random.default_rng(seed) if seed is not None else np.random

    def collate(batch: list[np.ndarray]):
        n = len(batch)
        sizes = np.fromiter((len(s) for s in batch), dtype=np.int64, count=n)
        flat = np.concatenate(batch).astype(np.int64) if n else np.zeros(0, np.int64)
        row = np.repeat(np.arange(n), sizes)
        if partition < 1.0:
            k = np.where(sizes > 1, np.maximum(1, np.rint(partition * sizes)), sizes).astype(np.int64)
            order = np.lexsort((rng.random(len(flat)), row))
            starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
            rank = np.empty(len(flat), np.int64)
            rank[order] = np.arange(len(flat)) - starts
            keep = rank < k[row]
        else:
            keep = np.ones(len(flat), bool)
        inp, inp_row = flat[keep], row[keep]
        offsets = np.concatenate([[0], np.cumsum(np.bincount(inp_row, minlength=n))[:-1]]).astype(np.int64)
        target = torch.zeros(n, vocab_size)
        target[torch.from_numpy(row), torch.from_numpy(flat)] = 1.0
        input_mask = torch.zeros(n, vocab_size)
        input_mask[torch.from_numpy(inp_row), torch.from_numpy(inp)] = 1.0
        return torch.from_numpy(inp), torch.from_numpy(offsets), target, input_mask

    return collate


def gsfm_step(model: nn.Module, batch) -> tuple[torch.Tensor, dict]:
    """``step_fn`` for :func:`~contrastomics.training.loop.fit`."""
    indices, offsets, target, input_mask = batch
    core = model.module if hasattr(model, "module") else model
    _, logits = model(indices, offsets)
    cfg = core.config
    return reconstruction_loss(logits, target, input_mask, cfg.weighted_loss, cfg.loss), {}


def init_output_bias(model: GSFM, data: GeneSetDataset) -> np.ndarray:
    """Set the decoder's output bias to each gene's log prior in ``data`` and return it.

    BCE: ``logit(p_j)`` with ``p_j`` the share of sets holding gene ``j``; softmax: ``log`` of the
    gene's share of all memberships. A fresh model then starts at the gene-frequency ranking, and
    training spends its (on CPU, scarce) steps on co-membership instead of on learning popularity.
    Counts get +0.5 so unseen genes stay finite; the two special tokens get the smallest value.
    """
    counts = np.bincount(np.concatenate(data.sets), minlength=model.config.vocab_size).astype(np.float64) + 0.5
    counts[:2] = 0.5
    if model.config.loss == "softmax":
        bias = np.log(counts / counts.sum())
    else:
        p = np.clip(counts / (len(data) + 1.0), 1e-6, 1 - 1e-6)
        bias = np.log(p / (1 - p))
    with torch.no_grad():
        model.decoder.layers[-1].bias.copy_(torch.from_numpy(bias).float())
    return bias


def train_gsfm(library, config: dict | None = None, train_config=None, genes: Sequence[str] | None = None,
               eval_fn=None, prior_bias: bool = False) -> tuple[GSFM, object]:
    """Pretrain a GSFM on a ``GeneSetLibrary``.

    ``genes`` fixes the vocabulary (default: the library's genes). ``prior_bias`` starts the output
    bias at the genes' log prior (:func:`init_output_bias`; not in the published recipe).
    Returns ``(model, TrainResult)``.
    """
    tc = train_config or TrainConfig()
    seed_everything(tc.seed)  # the initial weights are part of the seeded run
    model = GSFM.from_genes(list(genes) if genes is not None else library.genes, **(config or {}))
    data = GeneSetDataset.from_library(model, library)
    if len(data) == 0:
        raise InputError("no gene set shares a gene with the model vocabulary")
    if prior_bias:
        init_output_bias(model, data)
    # seed=None: partitions follow fit's seeded (and checkpointed) global NumPy RNG
    collate = partition_collate(model.config.partition, model.config.vocab_size, seed=None)
    result = fit(model, data, gsfm_step, tc, collate_fn=collate, eval_fn=eval_fn)
    return model, result


def read_vocabulary(path: Path) -> list[str]:
    """Gene symbols of a vocabulary file (one per line; special tokens and duplicates dropped)."""
    with open_text(path) as fh:
        genes = list(dict.fromkeys(x.strip() for x in fh if x.strip() and x.strip() not in SPECIAL_TOKENS))
    if not genes:
        raise InputError("vocabulary file has no gene symbol", path)
    return genes


def restrict_to_vocabulary(library, genes: Sequence[str], source=None):
    """``library`` limited to ``genes``; dropped symbols and emptied sets are counted in a warning."""
    restricted = library.with_vocabulary(genes, min_size=1)
    unknown = restricted.meta.get("unknown_genes", {})
    if len(restricted) == 0:
        raise InputError("no gene set has a gene of the vocabulary", source)
    if unknown:
        warnings.warn(f"{len(unknown)} library gene symbols ({sum(unknown.values())} memberships) are not in "
                      f"{source} and were dropped; {len(library) - len(restricted)} sets left empty were skipped")
    return restricted


def pretrain_to_folder(library, out: Path, config: dict, *, vocab: Path | None = None, epochs: int = 50,
                       batch_size: int = 256, lr: float = 1e-3, seed: int = 0, progress: bool = True,
                       resume: bool = False, checkpoint_dir: Path | None = None, prior_bias: bool = False,
                       log=print):
    """Pretrain a GSFM on ``library`` and save it to the folder ``out`` (``contrastomics gsfm train``).

    ``vocab``: a gene vocabulary file (default: every gene of the library). Checkpoints go to
    ``checkpoint_dir`` (default ``OUT.checkpoints``, removed once the run finishes). ``log``
    receives one-line progress messages. Returns ``(model, TrainResult)``.
    """
    genes = None
    if vocab is not None:
        genes = read_vocabulary(vocab)
        library = restrict_to_vocabulary(library, genes, vocab)
    ckpt = checkpoint_dir or out.with_name(out.name + ".checkpoints")
    tc = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device="auto", progress=progress,
                     checkpoint_dir=str(ckpt), resume=resume,
                     warmup_steps=min(100, max(1, len(library) // batch_size)))
    log(f"training GSFM on {len(library)} gene sets, {len(genes or library.genes)} genes, {epochs} epochs")
    model, result = train_gsfm(library, config, tc, genes=genes, prior_bias=prior_bias)
    model.cpu().save_pretrained(out)
    if checkpoint_dir is None:  # the run finished: its resume point is no longer needed
        shutil.rmtree(ckpt, ignore_errors=True)
    return model, result
