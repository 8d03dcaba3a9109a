"""Cross-modal retrieval metrics (gene set <-> pathway text): R@k and median rank in disjoint pools.

Row ``i`` of gene-set embeddings ``(n, d)`` and text embeddings ``(n, d)`` is a pair; each query
ranks the ``P`` candidates of its pool (rank = 1 + candidates scoring strictly higher). Full
definition: docs/gtclip.md, "Retrieval metrics".
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError


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
    n = len(gene)
    if n == 0:
        raise InputError("no test pairs to evaluate")
    pool = n if pool_size is None or pool_size >= n else int(pool_size)
    order = np.random.default_rng(seed).permutation(n)
    g2t, t2g = [], []
    for s in range(0, n - pool + 1, pool):
        idx = order[s:s + pool]
        g2t.append(pair_ranks(gene[idx], text[idx]))
        t2g.append(pair_ranks(text[idx], gene[idx]))
    return np.concatenate(g2t), np.concatenate(t2g), pool


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
