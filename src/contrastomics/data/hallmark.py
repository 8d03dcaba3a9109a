"""MSigDB Hallmark process categories: the 50 hallmark gene sets in 8 categories (proliferation,
immune, signaling, metabolic, development, DNA damage, pathway, cellular component; Liberzon et al.
2015, Table 1), shipped in ``assets/msigdb/`` (source and licence in its README). They theme the
clusters of a Hallmark result as GO slim terms and Reactome top levels theme theirs.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Sequence

import numpy as np

CATEGORY_FILE = Path(__file__).resolve().parents[1] / "assets" / "msigdb" / "hallmark_categories.tsv"
#: a result is a Hallmark result when at least this share of its pathways are hallmark sets
MIN_MATCHED = 0.5


def hallmark_key(name: str) -> str:
    """A hallmark name without case, punctuation or the ``HALLMARK_`` prefix, so MSigDB's
    ``HALLMARK_TNFA_SIGNALING_VIA_NFKB``, a humanised "TNFA signaling via NFKB" and Enrichr's
    "TNF-alpha Signaling via NF-kB" are one key."""
    s = re.sub(r"[^0-9a-z]+", "", str(name or "").lower())
    s = s[len("hallmark"):] if s.startswith("hallmark") else s
    return s.replace("tnfalpha", "tnfa")


@functools.lru_cache(maxsize=1)
def load_categories() -> dict[str, str]:
    """``{hallmark_key(name): category}`` of the 50 shipped rows; ``{}`` when the asset is missing."""
    if not CATEGORY_FILE.is_file():
        return {}
    rows = [line.rstrip("\n").split("\t") for line in CATEGORY_FILE.read_text().splitlines()[1:] if line.strip()]
    return {hallmark_key(name): category for name, category in rows}


def hallmark_categories(terms: Sequence[str], names: Sequence[str] | None = None) -> list[str | None]:
    """The process category of every pathway (by its term, else its name); ``None`` for a pathway
    that is not a hallmark set."""
    cats = load_categories()
    names = list(names) if names is not None else [None] * len(terms)
    return [cats.get(hallmark_key(t)) or cats.get(hallmark_key(n)) for t, n in zip(terms, names)]


def hallmark_codes(terms: Sequence[str], names: Sequence[str] | None = None,
                   among: np.ndarray | None = None) -> np.ndarray | None:
    """``(n,)`` int: the index of every pathway's process category (``-1``: not a hallmark set), or
    ``None`` unless :data:`MIN_MATCHED` of the pathways (of those where ``among`` is true, e.g. the
    ones without a GO id in a result mixing GO and Hallmark) are hallmark sets: a name such as
    "Apoptosis" or "Glycolysis" names a pathway of other libraries too."""
    found = hallmark_categories(terms, names)
    mask = np.ones(len(found), bool) if among is None else np.asarray(among, bool)
    if sum(c is not None for c, m in zip(found, mask) if m) < max(2, MIN_MATCHED * mask.sum()):
        return None
    order = sorted(set(load_categories().values()))
    return np.array([order.index(c) if c is not None and m else -1 for c, m in zip(found, mask)], np.int64)


def hallmark_themes(terms: Sequence[str], names: Sequence[str] | None, labels: np.ndarray,
                    prefer: dict[int, int] | None = None) -> dict[int, dict]:
    """The process category of most members of each cluster: ``{cluster: {"theme", "theme_id",
    "theme_support"}}``, support = share of all the cluster's members in it (ties: the category of
    the cluster's label, ``prefer``: cluster -> its index here, then the one with fewer hallmark
    sets, the more specific). ``{}`` unless :data:`MIN_MATCHED` of the pathways are hallmark sets;
    clusters without a hallmark member are left out."""
    labels = np.asarray(labels)
    codes = hallmark_codes(terms, names)
    if codes is None:
        return {}
    cats = list(load_categories().values())
    order = sorted(set(cats))
    found = [order[k] if k >= 0 else None for k in codes]
    size = {c: cats.count(c) for c in order}
    out = {}
    for c in np.unique(labels):
        members = [found[i] for i in np.flatnonzero(labels == c) if found[i] is not None]
        if not members:
            continue
        own = found[prefer[int(c)]] if prefer and int(c) in prefer else None
        best = max(sorted(set(members)), key=lambda k: (members.count(k), k == own, -size[k]))
        out[int(c)] = {"theme": best, "theme_id": "",
                       "theme_support": float(members.count(best) / int((labels == c).sum()))}
    return out
