"""Shared test data: gene sets drawn inside disjoint gene modules (co-membership is learnable)."""
from __future__ import annotations

import numpy as np


def module_sets(n_modules=4, per_module=8, sets_per_module=12, seed=0) -> dict[str, list[str]]:
    """``sets_per_module`` sets of 4..``per_module`` genes drawn inside each of ``n_modules`` modules."""
    rng = np.random.default_rng(seed)
    out = {}
    for m in range(n_modules):
        genes = [f"M{m}G{i}" for i in range(per_module)]
        for k in range(sets_per_module):
            out[f"S{m}_{k}"] = list(rng.choice(genes, size=rng.integers(4, per_module + 1), replace=False))
    return out
