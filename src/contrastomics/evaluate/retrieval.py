"""Cross-modal retrieval metrics (gene set <-> pathway text): R@k and median rank in disjoint pools.

Row ``i`` of gene-set embeddings ``(n, d)`` and text embeddings ``(n, d)`` is a pair; each query
ranks the ``P`` candidates of its pool (rank = 1 + candidates scoring strictly higher).
:func:`query_ranks` keeps each query's rank in input order, so two methods on the same test pairs
compare query by query (:func:`paired_recall`, a paired bootstrap). Full definition:
docs/gtclip.md, "Retrieval metrics".
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from .stats import paired_bootstrap


def pair_ranks(queries: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Rank (1-based) of ``keys[i]`` among all keys for ``queries[i]``: ``(n,)`` int.

    Uses dot products (cosine for normalised rows); vectorised, ``O(n^2)`` memory in float32.
    """
    q = np.asarray(queries, np.float32)
    k = np.asarray(keys, np.float32)
    if q.shape != k.shape:
        raise InputError(f"queries {q.shape} and keys {k.shape} must have the same shape (paired rows)")
    sim = q @ k.T
    true = np.diagonal(sim)[:, None]
    return 1 + (sim > true).sum(axis=1)


def pool_ranks(gene: np.ndarray, text: np.ndarray, pool_size: int | None = None,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """Ranks in both directions over disjoint random pools.

    Returns ``(ranks_gene_to_text, ranks_text_to_gene, pool)`` for the queries that fall into a
    pool (``floor(n / pool) * pool`` of them).
    """
    g2t, t2g = [], []
    pools, pool = pool_indices(len(gene), pool_size, seed)
    for idx in pools:
        g2t.append(pair_ranks(gene[idx], text[idx]))
        t2g.append(pair_ranks(text[idx], gene[idx]))
    return np.concatenate(g2t), np.concatenate(t2g), pool


def pool_indices(n: int, pool_size: int | None = None, seed: int = 0) -> tuple[list[np.ndarray], int]:
    """The disjoint pools of :func:`pool_ranks`: ``(list of index arrays, pool)``; the test pairs are
    shuffled with ``seed`` and cut into ``floor(n / pool)`` pools (``None`` or ``>= n``: one pool)."""
    if n == 0:
        raise InputError("no test pairs to evaluate")
    if pool_size is not None and pool_size < 1:
        raise InputError(f"pool_size must be >= 1, got {pool_size}")
    pool = n if pool_size is None or pool_size >= n else int(pool_size)
    order = np.random.default_rng(seed).permutation(n)
    return [order[s:s + pool] for s in range(0, n - pool + 1, pool)], pool


def query_ranks(score_g2t: np.ndarray, score_t2g: np.ndarray | None = None, pool_size: int | None = 1000,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-query ranks in input order from full ``(n, n)`` score matrices (``score[i, j]``: query
    ``i`` vs candidate ``j``; ``score_t2g`` defaults to ``score_g2t.T``, the embedding case
    ``gene @ text.T``). Pools as :func:`pool_ranks` (same seed, same pools). Returns
    ``(g2t, t2g, pool)``: ``(n,)`` float, NaN for the queries left out of every pool."""
    a = np.asarray(score_g2t, np.float32)
    b = a.T if score_t2g is None else np.asarray(score_t2g, np.float32)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or b.shape != a.shape:
        raise InputError(f"score matrices must be square and paired, got {a.shape} and {b.shape}")
    n = a.shape[0]
    out = np.full((2, n), np.nan)
    pools, pool = pool_indices(n, pool_size, seed)
    for idx in pools:
        for row, m in ((0, a), (1, b)):
            blk = m[np.ix_(idx, idx)]
            out[row, idx] = 1 + (blk > np.diagonal(blk)[:, None]).sum(axis=1)
    return out[0], out[1], pool


def embedding_query_ranks(gene: np.ndarray, text: np.ndarray, pool_size: int | None = 1000,
                          seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`query_ranks` of paired embeddings (cosine for L2-normalised rows), one pool at a time
    (memory ``pool x pool``); the same ranks as :func:`pool_ranks`, in input order."""
    g = np.asarray(gene, np.float32)
    t = np.asarray(text, np.float32)
    if g.shape != t.shape:
        raise InputError(f"gene {g.shape} and text {t.shape} embeddings must have the same shape (paired rows)")
    out = np.full((2, len(g)), np.nan)
    pools, pool = pool_indices(len(g), pool_size, seed)
    for idx in pools:
        out[0, idx] = pair_ranks(g[idx], t[idx])
        out[1, idx] = pair_ranks(t[idx], g[idx])
    return out[0], out[1], pool


def recall_hits(ranks: np.ndarray, k: int = 5) -> np.ndarray:
    """``1.0`` where ``rank <= k``, ``0.0`` where not, NaN where the query was not scored."""
    r = np.asarray(ranks, np.float64)
    return np.where(np.isnan(r), np.nan, (r <= k).astype(np.float64))


def paired_recall(ranks_a: np.ndarray, ranks_b: np.ndarray, k: int = 5, **bootstrap) -> dict:
    """Paired bootstrap CI of ``R@k(a) - R@k(b)`` over the queries both methods scored (same test
    pairs, same pools; several seeds: concatenate each seed's ranks, paired within the seed).
    ``bootstrap``: keywords of :func:`contrastomics.evaluate.stats.paired_bootstrap`."""
    return paired_bootstrap(recall_hits(ranks_a, k), recall_hits(ranks_b, k), **bootstrap)


def retrieval_metrics(gene: np.ndarray, text: np.ndarray, pool_size: int | None = 1000,
                      ks=(1, 5, 10), seed: int = 0) -> dict:
    """R@k, median rank and chance R@k in both directions.

    Parameters
    ----------
    gene, text
        Paired embeddings ``(n, d)``, L2-normalised.
    pool_size
        Candidates per query (``None``: the whole set).
    ks
        Cut-offs of Recall@k.
    seed
        Shuffling seed of the pools.

    Returns
    -------
    dict
        ``{"pool", "n_queries", "gene_to_text": {"R@1", ..., "median_rank"},
        "text_to_gene": {...}, "chance": {"R@1", ...}}``.
    """
    g2t, t2g, pool = pool_ranks(gene, text, pool_size, seed)
    out = {"pool": pool, "n_queries": int(len(g2t))}
    for name, r in (("gene_to_text", g2t), ("text_to_gene", t2g)):
        d = {f"R@{k}": float((r <= k).mean()) for k in ks}
        d["median_rank"] = float(np.median(r))
        out[name] = d
    out["chance"] = {f"R@{k}": min(1.0, k / pool) for k in ks}
    out["chance"]["median_rank"] = (pool + 1) / 2
    return out


def recall_at(gene: np.ndarray, text: np.ndarray, k: int = 5, pool_size: int | None = 1000, seed: int = 0) -> float:
    """Mean of gene->text and text->gene R@k (the early-stopping metric)."""
    m = retrieval_metrics(gene, text, pool_size, ks=(k,), seed=seed)
    return 0.5 * (m["gene_to_text"][f"R@{k}"] + m["text_to_gene"][f"R@{k}"])


def retrieval_eval_fn(library, text_features: np.ndarray | None = None, pool_size: int = 1000, k: int = 5):
    """An ``eval_fn`` for :func:`contrastomics.models.gtclip.train_gtclip`: ``{"val_r5": mean R@k}``
    on ``library`` (validation sets) with precomputed base-text features ``(n, text_dim)``."""

    def eval_fn(model) -> dict:
        g = model.embed_gene_sets(library.gene_sets) if len(library) else None
        if text_features is not None:
            t = model.project_text_features(text_features)
        else:
            t = model.embed_texts(library.texts(model.config.text_mode), progress=False)
        return {"val_r5": recall_at(g, t, k, pool_size)}

    return eval_fn
