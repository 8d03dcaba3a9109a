"""Paired bootstrap CIs and the tie rule of docs/evaluation.md."""
from __future__ import annotations

import numpy as np
import pytest

from contrastomics.errors import InputError
from contrastomics.evaluate.stats import ci_text, paired_bootstrap


def test_a_constant_shift_is_better_with_a_zero_width_interval():
    a = np.linspace(0, 1, 50)
    res = paired_bootstrap(a + 0.1, a)
    assert res["diff"] == pytest.approx(0.1) and res["low"] == pytest.approx(0.1) and res["high"] == pytest.approx(0.1)
    assert res["verdict"] == "better"
    assert paired_bootstrap(a, a + 0.1)["verdict"] == "worse"


def test_noise_around_zero_is_a_tie_and_seeded():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=200), rng.normal(size=200)
    res = paired_bootstrap(a, b, n_boot=500, seed=3)
    assert res["low"] < 0 < res["high"] and res["verdict"] == "tie"
    assert res == paired_bootstrap(a, b, n_boot=500, seed=3)
    assert "(tie)" in ci_text(res)


def test_median_statistic_and_nan_units():
    a = np.array([0.9, 0.8, np.nan, 0.7, 0.95])
    b = np.array([0.5, 0.6, 0.4, np.nan, 0.55])
    res = paired_bootstrap(a, b, statistic="median", n_boot=300)
    assert res["n"] == 3 and res["n_dropped"] == 2
    assert res["diff"] == pytest.approx(np.median([0.9, 0.8, 0.95]) - np.median([0.5, 0.6, 0.55]))


def test_mismatched_or_empty_inputs_are_clear_errors():
    with pytest.raises(InputError, match="same units"):
        paired_bootstrap([1, 2], [1, 2, 3])
    with pytest.raises(InputError, match="no unit"):
        paired_bootstrap([np.nan], [1.0])
