"""Paired comparisons for benchmarks: bootstrap confidence intervals of a difference and the verdict
the docs use (a difference whose interval holds 0 is a tie). Protocol: docs/evaluation.md."""
from __future__ import annotations

from typing import Literal

import numpy as np

from ..errors import InputError

Statistic = Literal["mean", "median"]


def paired_bootstrap(a, b, *, statistic: Statistic = "mean", n_boot: int = 2000, level: float = 0.95,
                     seed: int = 0, chunk: int = 200) -> dict:
    """Bootstrap CI of ``stat(a) - stat(b)`` over paired units (terms, genes, queries, results).

    ``a`` and ``b`` are ``(n,)`` scores of two methods on the same ``n`` units; NaN pairs are left
    out (counted in ``n_dropped``). Units are resampled with replacement ``n_boot`` times (in chunks
    of ``chunk`` resamples, so memory stays ``chunk x n``); the interval is the percentile interval
    at ``level``. Returns ``{"diff", "low", "high", "level", "n", "n_dropped", "n_boot", "statistic",
    "verdict"}`` with verdict ``"better"`` (low > 0), ``"worse"`` (high < 0) or ``"tie"``.
    """
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    if a.shape != b.shape:
        raise InputError(f"paired scores need the same units: {a.shape[0]} vs {b.shape[0]} values")
    if statistic not in ("mean", "median"):
        raise InputError(f"unknown statistic {statistic!r}; choose mean or median")
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = len(a)
    if n == 0:
        raise InputError("no unit has a finite score for both methods")
    stat = np.mean if statistic == "mean" else np.median
    rng = np.random.default_rng(seed)
    boots = np.empty(n_boot)
    for s in range(0, n_boot, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_boot - s), n))
        boots[s:s + len(idx)] = (np.mean(a[idx] - b[idx], axis=1) if statistic == "mean"
                                 else stat(a[idx], axis=1) - stat(b[idx], axis=1))
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(boots, [tail, 1.0 - tail])
    diff = float(stat(a) - stat(b))
    verdict = "better" if low > 0 else "worse" if high < 0 else "tie"
    return {"diff": diff, "low": float(low), "high": float(high), "level": level, "n": int(n),
            "n_dropped": int((~ok).sum()), "n_boot": int(n_boot), "statistic": statistic, "verdict": verdict}


def ci_text(res: dict, digits: int = 3) -> str:
    """``+0.012 [+0.004, +0.020] (better)``: how a difference is written in results tables."""
    f = f"{{:+.{digits}f}}"
    return f"{f.format(res['diff'])} [{f.format(res['low'])}, {f.format(res['high'])}] ({res['verdict']})"
