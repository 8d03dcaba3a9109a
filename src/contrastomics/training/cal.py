"""Training CAL (pair dataset, InfoNCE step, :func:`train_cal`), the MLP + BCE link-prediction
baseline, and the honest benchmark that trains both on each split (:func:`benchmark_cal`)."""
from __future__ import annotations

import warnings
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import InputError
from ..evaluate.associations import SPLITS, evaluate_split, make_pair_split, pair_key
from ..losses import gather_features, info_nce
from ..models.cal import CAL, CALConfig, mlp
from .loop import TrainConfig, fit, seed_everything

#: The paper's recipe (``cal train --published``); the CLI default is 256 wide, lr 2e-3, 10 epochs.
PUBLISHED_RECIPE = {"hidden_dims": (1024, 1024, 1024), "batch_size": 512, "lr": 3e-4, "epochs": 100}


class PairDataset(torch.utils.data.Dataset):
    """Index pairs ``(n, 2)``; ``__getitems__`` fetches a whole batch at once (no per-item Python)."""

    def __init__(self, a: np.ndarray, b: np.ndarray):
        self.pairs = torch.as_tensor(np.stack([a, b], axis=1).astype(np.int64))

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.pairs[i]

    def __getitems__(self, idx: list[int]) -> torch.Tensor:
        return self.pairs[torch.as_tensor(idx)]


def stack_pairs(batch):
    """Collate: a batch from ``__getitems__`` is already a tensor; single items are stacked."""
    return batch if isinstance(batch, torch.Tensor) else torch.stack(batch)


def cal_step(model: nn.Module, batch: torch.Tensor):
    """Symmetric InfoNCE over the batch's pairs (in-batch negatives, gathered across DDP ranks)."""
    za, zb = model(batch)
    core = model.module if hasattr(model, "module") else model
    loss = info_nce(gather_features(za), gather_features(zb), core.logit_scale)
    return loss


def train_cal(features: pd.DataFrame, pairs, config: CALConfig | None = None, train_config=None,
              eval_fn=None) -> tuple[CAL, "object"]:
    """Train CAL on ``pairs`` (:class:`~contrastomics.data.string.Pairs`) over ``features``
    (genes x dims DataFrame; pairs are re-indexed onto its rows).

    Returns ``(model, TrainResult)``. ``train_config`` is a :class:`~contrastomics.training.loop.TrainConfig`
    (default: published batch 512, AdamW 3e-4, 100 epochs).
    """
    genes = [str(g) for g in features.index]
    if list(pairs.genes) != genes:
        missing = set(np.asarray(pairs.genes, dtype=object)[np.unique(np.concatenate([pairs.a, pairs.b]))]) - set(genes)
        if missing:
            raise InputError(f"{len(missing)} paired gene(s) have no features, e.g. {sorted(missing)[:5]}; "
                             "read pairs with genes=features.index")
        pairs = pairs.reindex(genes)
    if len(pairs) < 2:
        raise InputError(f"need at least 2 training pairs, got {len(pairs)}")
    config = config or CALConfig(in_dim=features.shape[1])
    if config.in_dim != features.shape[1]:
        config = CALConfig.from_dict({**config.to_dict(), "in_dim": int(features.shape[1])})
    tc = train_config or TrainConfig(epochs=100, batch_size=512, lr=3e-4, warmup_steps=50)
    if tc.batch_size > len(pairs):
        warnings.warn(f"batch size {tc.batch_size} > {len(pairs)} pairs; using {len(pairs)}")
        tc.batch_size = len(pairs)
    tc.drop_last = len(pairs) % tc.batch_size == 1  # a batch of one pair has no negatives
    known = np.stack([pairs.a, pairs.b], axis=1)
    seed_everything(tc.seed)  # weight init reproducible from the train seed
    model = CAL(config, genes, features.to_numpy(np.float32), known)
    result = fit(model, PairDataset(pairs.a, pairs.b), cal_step, tc, collate_fn=stack_pairs, eval_fn=eval_fn)
    model.cpu().eval()
    return model, result


# ---------------------------------------------------------------------- MLP + BCE baseline
class MLPLinkPredictor(nn.Module):
    """Plain MLP encoder g (no residual, no contrastive loss) with a BCE link head
    ``logit(u, v) = w . (g(u) * g(v)) + c``; negatives are random pairs of training genes."""

    def __init__(self, features: np.ndarray, train_genes: np.ndarray, hidden_dims=(256, 256, 256),
                 out_dim: int | None = None):
        super().__init__()
        d = features.shape[1]
        self.register_buffer("features", torch.as_tensor(np.asarray(features, dtype=np.float32)))
        self.register_buffer("train_genes", torch.as_tensor(np.asarray(train_genes, dtype=np.int64)))
        self.net = mlp([d, *hidden_dims, out_dim or d])
        self.head = nn.Linear(out_dim or d, 1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(F.normalize(x, dim=-1))

    def logits(self, za: torch.Tensor, zb: torch.Tensor) -> torch.Tensor:
        return self.head(za * zb).squeeze(-1)

    def forward(self, pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        neg = self.train_genes[torch.randint(len(self.train_genes), pos.shape, device=pos.device)]
        both = torch.cat([pos, neg])
        uniq, inv = torch.unique(both, return_inverse=True)
        z = self.encode(self.features[uniq])
        lg = self.logits(z[inv[:, 0]], z[inv[:, 1]])
        return lg[: len(pos)], lg[len(pos):]

    @torch.no_grad()
    def score_pairs(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.eval()
        z = self.encode(self.features)
        return self.logits(z[torch.as_tensor(a)], z[torch.as_tensor(b)]).numpy()


def bce_step(model, batch):
    """Balanced BCE of positive pairs and the random negatives drawn by :class:`MLPLinkPredictor`."""
    pos, neg = model(batch)
    return 0.5 * (F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos))
                  + F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg)))


def train_mlp_bce(features: np.ndarray, train_a: np.ndarray, train_b: np.ndarray, hidden_dims=(256, 256, 256),
                  train_config=None) -> MLPLinkPredictor:
    """Train the :class:`MLPLinkPredictor` baseline with the shared trainer."""
    tc = train_config or TrainConfig(epochs=30, batch_size=512, lr=1e-3, warmup_steps=50, progress=False)
    seed_everything(tc.seed)
    genes = np.unique(np.concatenate([train_a, train_b]))
    model = MLPLinkPredictor(features, genes, hidden_dims)
    fit(model, PairDataset(train_a, train_b), bce_step, tc, collate_fn=stack_pairs)
    return model.cpu().eval()


def cli_train_config(n_pairs: int, epochs: int, batch_size: int, lr: float, seed: int = 0,
                     device: str = "auto") -> TrainConfig:
    """The ``cal train`` schedule: warmup over ~5% of the steps (1 to 100 steps)."""
    return TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=device,
                       warmup_steps=min(100, max(1, epochs * max(1, n_pairs // batch_size) // 20)))


def benchmark_cal(features: pd.DataFrame, pairs, known, splits: Sequence[str] = SPLITS,
                  seeds: Sequence[int] = (0, 1, 2), test_frac: float = 0.2, hidden_dims=(256,), epochs: int = 10,
                  batch_size: int = 512, lr: float = 2e-3, mlp_baseline: bool = True,
                  log: Callable[[str], None] | None = None) -> list[dict]:
    """For each seed and split, train CAL (and the MLP + BCE baseline, except on ``train_edges``)
    on the split's training pairs and score the test pairs with
    :func:`~contrastomics.evaluate.associations.evaluate_split`.

    ``pairs`` (positives) are over ``features.index``; negatives avoid every pair of ``known``
    (e.g. all STRING pairs at any score). Returns the records, each with its ``seed``.
    """
    n = len(features)
    x = features.to_numpy(np.float32)
    exclude = np.unique(pair_key(known.a, known.b, n))
    degree = pairs.degree()
    records = []
    for seed in seeds:
        for name in splits:
            split = make_pair_split(pairs, name, test_frac=test_frac, seed=seed)
            tr = pairs.subset(np.isin(pair_key(pairs.a, pairs.b, n), pair_key(split.train_a, split.train_b, n)))
            tc = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, warmup_steps=20, seed=seed, progress=False)
            cal, _ = train_cal(features, tr, CALConfig(in_dim=x.shape[1], hidden_dims=hidden_dims), tc)
            scorers = {"CAL": cal.score_pairs}
            if mlp_baseline and name != "train_edges":
                baseline = train_mlp_bce(x, split.train_a, split.train_b, hidden_dims, TrainConfig(
                    epochs=epochs, batch_size=batch_size, lr=1e-3, warmup_steps=20, seed=seed, progress=False))
                scorers["MLP_BCE"] = baseline.score_pairs
            records += [{**r, "seed": seed} for r in evaluate_split(split, x, degree, exclude, scorers, seed=seed)]
            if log is not None:
                log(f"seed {seed} {name}: done")
    return records
