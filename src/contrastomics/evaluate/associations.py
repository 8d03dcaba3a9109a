"""Evaluating gene-association predictors without letting them game the benchmark: pair splits
(``train_edges``, ``heldout_edges``, ``node_disjoint``: :func:`make_pair_split`), uniform and
degree-matched negatives, pair metrics (AUROC, AUPRC, cross-boundary AUROC, degree correlation),
graph baselines and :func:`evaluate_split`, which scores one split with every method. The
protocol is described in ``docs/cal.md``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..data.features import cosine_of_pairs
from ..errors import InputError

SPLITS = ("train_edges", "heldout_edges", "node_disjoint")
NEGATIVES = ("uniform", "degree")


@dataclass
class PairSplit:
    """One evaluation split of gene pairs: training pairs (index arrays over the same vocabulary),
    test positive pairs, and the pool of genes negatives are drawn from."""

    name: str
    train_a: np.ndarray
    train_b: np.ndarray
    test_a: np.ndarray
    test_b: np.ndarray
    pool: np.ndarray
    info: dict = field(default_factory=dict)


def pair_key(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """One integer per undirected pair of gene indices ``< n`` (the same for ``(a, b)`` and ``(b, a)``)."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return lo.astype(np.int64) * n + hi


def make_pair_split(pairs, name: str, test_frac: float = 0.2, seed: int = 0) -> PairSplit:
    """Build a :class:`PairSplit` from canonical pairs (``a < b``).

    ``train_edges``: train and test on every pair (the paper's setting: fit, not prediction);
    ``heldout_edges``: a random ``test_frac`` of the undirected pairs is held out; ``node_disjoint``:
    a random ``test_frac`` of the genes is held out, test pairs have both ends among them, training
    pairs neither, and pairs crossing the boundary are used by neither side."""
    rng = np.random.default_rng(seed)
    a, b, n = pairs.a, pairs.b, pairs.n_genes
    used = np.unique(np.concatenate([a, b]))
    if name == "train_edges":
        return PairSplit(name, a, b, a, b, used, {"n_train": len(a), "n_test": len(a)})
    if name == "heldout_edges":
        test = rng.random(len(a)) < test_frac
        if test.sum() == 0 or (~test).sum() == 0:
            raise InputError(f"too few pairs ({len(a)}) to hold out {test_frac:.0%}")
        return PairSplit(name, a[~test], b[~test], a[test], b[test], used,
                         {"n_train": int((~test).sum()), "n_test": int(test.sum())})
    if name == "node_disjoint":
        held = np.zeros(n, dtype=bool)
        held[rng.choice(used, size=max(2, int(round(test_frac * len(used)))), replace=False)] = True
        tr = ~held[a] & ~held[b]
        te = held[a] & held[b]
        if te.sum() == 0:
            raise InputError("no pair has both genes in the held-out gene set; raise test_frac")
        return PairSplit(name, a[tr], b[tr], a[te], b[te], np.flatnonzero(held),
                         {"n_train": int(tr.sum()), "n_test": int(te.sum()),
                          "n_cross_dropped": int((~tr & ~te).sum()), "n_heldout_genes": int(held.sum())})
    raise InputError(f"unknown split {name!r}; choose from {SPLITS}")


def _reject(a, b, n, forbidden: np.ndarray, seen: set) -> np.ndarray:
    """Bad = self pair, known pair, or a pair already drawn."""
    k = pair_key(a, b, n)
    bad = (a == b) | np.isin(k, forbidden)
    out = bad.copy()
    for i in np.flatnonzero(~bad):
        if k[i] in seen:
            out[i] = True
        else:
            seen.add(int(k[i]))
    return out


def _redraw_until_valid(draw, n: int, n_genes: int, exclude_keys: np.ndarray,
                        max_rounds: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``n`` pairs with ``draw(indices) -> (a, b)`` and redraw the known, self and repeated
    ones up to ``max_rounds`` times; returns the pairs and the mask of those still invalid."""
    a, b = draw(np.arange(n))
    seen: set = set()
    bad = _reject(a, b, n_genes, exclude_keys, seen)
    for _ in range(max_rounds):
        if not bad.any():
            break
        idx = np.flatnonzero(bad)
        a[idx], b[idx] = draw(idx)
        bad[idx] = _reject(a[idx], b[idx], n_genes, exclude_keys, seen)
    return a, b, bad


def uniform_negatives(n_neg: int, pool: np.ndarray, n_genes: int, exclude_keys: np.ndarray,
                      rng: np.random.Generator, max_rounds: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """``n_neg`` distinct random gene pairs from ``pool``, none of them in ``exclude_keys``."""
    a, b, bad = _redraw_until_valid(lambda idx: (rng.choice(pool, len(idx)), rng.choice(pool, len(idx))),
                                    n_neg, n_genes, exclude_keys, max_rounds)
    if bad.any():
        warnings.warn(f"uniform negatives: {int(bad.sum())} of {n_neg} could not be drawn (pool too small)")
    return a[~bad], b[~bad]


def degree_matched_negatives(pos_a: np.ndarray, pos_b: np.ndarray, degree: np.ndarray, pool: np.ndarray,
                             n_genes: int, exclude_keys: np.ndarray, rng: np.random.Generator,
                             window: int = 10, max_rounds: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """One negative per positive pair whose ends have the degrees of the positive's ends.

    Pool genes are sorted by degree; an end of degree ``d`` is replaced by a random pool gene among
    those with degree exactly ``d`` or, when fewer than ``window`` have it, among the ``window``
    pool genes nearest in degree rank. Known pairs, self pairs and repeats are redrawn.
    """
    pool = np.asarray(pool)
    order = pool[np.lexsort((rng.random(len(pool)), degree[pool]))]
    sdeg = degree[order]

    def draw(d: np.ndarray) -> np.ndarray:
        lo = np.searchsorted(sdeg, d, "left")
        hi = np.searchsorted(sdeg, d, "right")
        narrow = hi - lo < window
        mid = (lo + hi) // 2
        lo = np.where(narrow, np.clip(mid - window // 2, 0, max(0, len(order) - window)), lo)
        hi = np.where(narrow, np.minimum(lo + window, len(order)), hi)
        return order[lo + (rng.random(len(d)) * (hi - lo)).astype(np.int64)]

    da, db = degree[pos_a], degree[pos_b]
    a, b, bad = _redraw_until_valid(lambda idx: (draw(da[idx]), draw(db[idx])),
                                    len(pos_a), n_genes, exclude_keys, max_rounds)
    if bad.any():
        warnings.warn(f"degree-matched negatives: {int(bad.sum())} of {len(pos_a)} could not be drawn")
    return a[~bad], b[~bad]


def negatives(kind: str, split: PairSplit, degree: np.ndarray, n_genes: int, exclude_keys: np.ndarray,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Negatives of ``kind`` (``uniform`` / ``degree``) for a split, as many as its test positives."""
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return uniform_negatives(len(split.test_a), split.pool, n_genes, exclude_keys, rng)
    if kind == "degree":
        return degree_matched_negatives(split.test_a, split.test_b, degree, split.pool, n_genes, exclude_keys, rng)
    raise InputError(f"unknown negative kind {kind!r}; choose from {NEGATIVES}")


# ---------------------------------------------------------------------- metrics
def pair_metrics(y: np.ndarray, score: np.ndarray, raw_cosine: np.ndarray, mean_degree: np.ndarray | None = None,
                 window: tuple[float, float] = (-0.2, 0.2)) -> dict:
    """AUROC, AUPRC, cross-boundary AUROC (pairs with raw cosine in ``window``) and the Spearman
    correlation of score with mean end degree over positives (``spearman_degree``)."""
    from scipy.stats import spearmanr
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.asarray(y, dtype=bool)
    score = np.nan_to_num(np.asarray(score, dtype=np.float64), nan=0.0)
    out = {"auroc": float(roc_auc_score(y, score)), "auprc": float(average_precision_score(y, score))}
    xb = (raw_cosine >= window[0]) & (raw_cosine <= window[1])
    out["n_xb_pos"], out["n_xb_neg"] = int((xb & y).sum()), int((xb & ~y).sum())
    out["xb_auroc"] = (float(roc_auc_score(y[xb], score[xb])) if out["n_xb_pos"] and out["n_xb_neg"]
                       else float("nan"))
    if mean_degree is not None:
        s, d = score[y], mean_degree[y]
        out["spearman_degree"] = float(spearmanr(s, d).statistic) if np.ptp(s) > 0 and np.ptp(d) > 0 else float("nan")
    return out


# ---------------------------------------------------------------------- graph baselines
def adjacency(a: np.ndarray, b: np.ndarray, n: int) -> sp.csr_matrix:
    m = sp.coo_matrix((np.ones(2 * len(a), dtype=np.float32), (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
    m.data[:] = 1.0
    return m


def neighbourhood_scores(adj: sp.csr_matrix, a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    """Common neighbours and Adamic-Adar (sum over shared neighbours of 1 / log degree) of pairs."""
    deg = np.asarray(adj.sum(1)).ravel()
    w = np.where(deg > 1, 1.0 / np.log(np.maximum(deg, 2)), 0.0)
    cn = np.asarray(adj[a].multiply(adj[b]).sum(1)).ravel()
    aa = np.asarray(adj[a].multiply(adj[b]).multiply(w[None, :]).sum(1)).ravel()
    return {"common_neighbours": cn, "adamic_adar": aa}


def baseline_scorers(split: PairSplit, features: np.ndarray, degree_full: np.ndarray) -> dict:
    """name -> ``f(a, b) -> scores`` of the baselines beside every model: raw cosine of the
    features, degree product on the training graph and on the full graph (a diagnostic) and, except
    on ``node_disjoint``, common neighbours / Adamic-Adar on the training graph."""
    adj = adjacency(split.train_a, split.train_b, features.shape[0])
    deg_train = np.asarray(adj.sum(1)).ravel()
    out = {"raw_cosine": lambda a, b: cosine_of_pairs(features, a, b),
           "degree_train": lambda a, b: deg_train[a] * deg_train[b],
           "degree_full_diagnostic": lambda a, b: degree_full[a].astype(float) * degree_full[b]}
    if split.name != "node_disjoint":
        out["common_neighbours"] = lambda a, b: neighbourhood_scores(adj, a, b)["common_neighbours"]
        out["adamic_adar"] = lambda a, b: neighbourhood_scores(adj, a, b)["adamic_adar"]
    return out


# ---------------------------------------------------------------------- one full evaluation
def evaluate_split(split: PairSplit, features: np.ndarray, degree_full: np.ndarray, exclude_keys: np.ndarray,
                   scorers: dict, seed: int = 0, kinds=NEGATIVES, window=(-0.2, 0.2)) -> list[dict]:
    """Score the split's test positives and negatives of each kind with every scorer.

    ``scorers``: name -> ``f(a, b) -> scores``. Raw cosine, degree (train graph), degree (full
    graph) and, except on ``node_disjoint``, common neighbours / Adamic-Adar on the training graph
    are added here. Returns one record per (negatives, method, metric).
    """
    n = features.shape[0]
    all_scorers = {**baseline_scorers(split, features, degree_full), **scorers}
    records = []
    for k_i, kind in enumerate(kinds):
        na, nb = negatives(kind, split, degree_full, n, exclude_keys, seed=seed * 101 + k_i)
        a = np.r_[split.test_a, na]
        b = np.r_[split.test_b, nb]
        y = np.r_[np.ones(len(split.test_a), bool), np.zeros(len(na), bool)]
        raw = cosine_of_pairs(features, a, b)
        mean_deg = 0.5 * (degree_full[a] + degree_full[b])
        for name, f in all_scorers.items():
            m = pair_metrics(y, f(a, b), raw, mean_deg, window)
            for metric in ("auroc", "auprc", "xb_auroc", "spearman_degree"):
                records.append({"split": split.name, "negatives": kind, "method": name, "metric": metric,
                                "value": m[metric], "n_pos": int(y.sum()), "n_neg": int((~y).sum()),
                                "n_xb_pos": m["n_xb_pos"], "n_xb_neg": m["n_xb_neg"]})
    return records


def summary_table(records: list[dict]) -> pd.DataFrame:
    """Mean AUROC and cross-boundary AUROC over seeds: one row per (split, negatives, method)."""
    df = pd.DataFrame(records)
    return (df[df.metric.isin(["auroc", "xb_auroc"])].groupby(["split", "negatives", "method", "metric"])["value"]
            .mean().unstack("metric").reset_index())


# ---------------------------------------------------------------------- deprecated aliases
Split = PairSplit
make_split = make_pair_split


def __getattr__(name):
    """Deprecated aliases of the MLP + BCE baseline, now in :mod:`contrastomics.training.cal`."""
    if name in ("MLPLinkPredictor", "train_mlp_bce"):
        from ..training import cal as training_cal

        return getattr(training_cal, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
