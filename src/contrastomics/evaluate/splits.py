"""Train / validation / test splits of gene-set libraries (terms) that do not leak.

A random split of GO leaks: parent and child terms are near-duplicates in genes and text, so a
model scores well by memorising the training twin of a test term. The splits here hold out test
sets and then *remove* from training whatever is too close to them (``near_dup``: gene Jaccard >=
0.5; ``family``: ontology ancestors and descendants; ``collection``: a whole held-out collection);
``random`` leaks and is for comparison only. Validation is carved from the training side by the
same rule; every :class:`TermSplit` carries ``info`` (rule, counts, seed). See ``docs/gtclip.md``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..errors import InputError


@dataclass
class TermSplit:
    """Row indices into a gene-set library (train / validation / test terms). ``info``: the rule, its parameters and the counts."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    info: dict = field(default_factory=dict)

    def summary(self) -> dict:
        return {**self.info, "n_train": int(len(self.train)), "n_val": int(len(self.val)),
                "n_test": int(len(self.test))}


def max_jaccard_to(membership: sp.csr_matrix, rows: np.ndarray, against: np.ndarray,
                   chunk: int = 2048) -> np.ndarray:
    """For each of ``rows``, the largest gene Jaccard to any set in ``against``: ``(len(rows),)``.

    Sparse products in chunks, so memory stays ``chunk x len(against)``.
    """
    m = sp.csr_matrix(membership, dtype=np.float32)
    sizes = np.diff(m.indptr).astype(np.float32)
    b = m[against]
    sb = sizes[against][None, :]
    out = np.zeros(len(rows), np.float32)
    for s in range(0, len(rows), chunk):
        r = rows[s:s + chunk]
        inter = (m[r] @ b.T).toarray()
        union = sizes[r][:, None] + sb - inter
        jac = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        out[s:s + chunk] = jac.max(axis=1) if jac.shape[1] else 0.0
    return out


def _holdout(rows: np.ndarray, frac: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    rows = rng.permutation(rows)
    n_out = max(1, int(round(frac * len(rows))))
    return np.sort(rows[n_out:]), np.sort(rows[:n_out])


def _drop_near_duplicates(membership, keep: np.ndarray, held: np.ndarray, threshold: float) -> np.ndarray:
    if len(keep) == 0 or len(held) == 0:
        return keep
    mj = max_jaccard_to(membership, keep, held)
    return keep[mj < threshold]


def _check(library, test_frac: float, val_frac: float):
    if len(library) < 3:
        raise InputError(f"need at least 3 gene sets to split, got {len(library)}")
    if not 0 < test_frac < 1 or not 0 <= val_frac < 1:
        raise InputError(f"test_frac and val_frac must be in (0, 1), got {test_frac}, {val_frac}")


def random_split(library, test_frac: float = 0.1, val_frac: float = 0.05, seed: int = 0) -> TermSplit:
    """Random split (leaks near-duplicates; for comparison with published random-split numbers)."""
    _check(library, test_frac, val_frac)
    rng = np.random.default_rng(seed)
    rest, test = _holdout(np.arange(len(library)), test_frac, rng)
    train, val = _holdout(rest, val_frac, rng) if val_frac > 0 else (rest, rest[:0])
    return TermSplit(train, val, test, {"split": "random", "test_frac": test_frac, "val_frac": val_frac, "seed": seed})


def near_duplicate_split(library, test_frac: float = 0.1, val_frac: float = 0.05, threshold: float = 0.5,
                         seed: int = 0) -> TermSplit:
    """Hold out ``test_frac`` at random; drop training (and validation) sets with gene Jaccard
    >= ``threshold`` to any test set; validation is carved from the rest the same way."""
    _check(library, test_frac, val_frac)
    rng = np.random.default_rng(seed)
    m = library.membership
    rest, test = _holdout(np.arange(len(library)), test_frac, rng)
    n_rest = len(rest)
    rest = _drop_near_duplicates(m, rest, test, threshold)
    dropped_test = n_rest - len(rest)
    val = rest[:0]
    if val_frac > 0:
        rest, val = _holdout(rest, val_frac / (1 - test_frac), rng)
        n_rest = len(rest)
        rest = _drop_near_duplicates(m, rest, val, threshold)
        dropped_val = n_rest - len(rest)
    else:
        dropped_val = 0
    return TermSplit(rest, val, test, {"split": "near_duplicate_free", "threshold": threshold, "test_frac": test_frac,
                                       "val_frac": val_frac, "seed": seed, "n_dropped_near_test": int(dropped_test),
                                       "n_dropped_near_val": int(dropped_val)})


def _related_mask(ontology, terms: list[str], held_rows: np.ndarray) -> np.ndarray:
    """Boolean ``(len(terms),)``: term is an ancestor or descendant (or itself) of a held-out term."""
    idx = np.array([ontology.index(t) if t in ontology else -1 for t in terms])
    if (idx < 0).any():
        missing = [terms[i] for i in np.flatnonzero(idx < 0)[:3]]
        raise InputError(f"{int((idx < 0).sum())} library terms are not in the ontology (e.g. {missing}); "
                         "the family split needs ontology terms")
    anc = sp.csr_matrix(ontology.ancestor_matrix(include_self=True), dtype=np.float32)  # anc[i, j]: j is ancestor of i
    h = np.zeros(anc.shape[0], np.float32)
    h[idx[held_rows]] = 1.0
    is_anc_of_held = anc.T @ h > 0  # j is an ancestor of some held-out term
    is_desc_of_held = anc @ h > 0   # i has a held-out ancestor
    related = is_anc_of_held | is_desc_of_held
    return related[idx]


def family_split(library, ontology, test_frac: float = 0.1, val_frac: float = 0.05, seed: int = 0) -> TermSplit:
    """GO family-disjoint split: no ancestor or descendant of a test (or validation) term trains."""
    _check(library, test_frac, val_frac)
    rng = np.random.default_rng(seed)
    rest, test = _holdout(np.arange(len(library)), test_frac, rng)
    rel = _related_mask(ontology, library.terms, test)
    n_rest = len(rest)
    rest = rest[~rel[rest]]
    dropped_test = n_rest - len(rest)
    val = rest[:0]
    dropped_val = 0
    if val_frac > 0:
        rest, val = _holdout(rest, val_frac / (1 - test_frac), rng)
        rel_v = _related_mask(ontology, library.terms, val)
        n_rest = len(rest)
        rest = rest[~rel_v[rest]]
        dropped_val = n_rest - len(rest)
    return TermSplit(rest, val, test, {"split": "go_family_disjoint", "relations": list(ontology.relations)
                                       if hasattr(ontology, "relations") else None, "test_frac": test_frac,
                                       "val_frac": val_frac, "seed": seed, "n_dropped_related_test": int(dropped_test),
                                       "n_dropped_related_val": int(dropped_val)})


def collection_split(library, test_collections, val_frac: float = 0.05, threshold: float = 0.5,
                     seed: int = 0) -> TermSplit:
    """Cross-collection split: test = sets of ``test_collections``; training = the rest minus sets
    with gene Jaccard >= ``threshold`` to any test set; validation carved from training likewise."""
    test_collections = [test_collections] if isinstance(test_collections, str) else list(test_collections)
    coll = np.asarray(library.collections)
    is_test = np.isin(coll, test_collections)
    if not is_test.any():
        raise InputError(f"no set of collection(s) {test_collections} in the library "
                         f"(collections: {sorted(set(coll))[:10]})")
    rng = np.random.default_rng(seed)
    m = library.membership
    test = np.flatnonzero(is_test)
    rest = np.flatnonzero(~is_test)
    n_rest = len(rest)
    rest = _drop_near_duplicates(m, rest, test, threshold)
    dropped = n_rest - len(rest)
    val = rest[:0]
    dropped_val = 0
    if val_frac > 0:
        rest, val = _holdout(rest, val_frac, rng)
        n_rest = len(rest)
        rest = _drop_near_duplicates(m, rest, val, threshold)
        dropped_val = n_rest - len(rest)
    return TermSplit(rest, val, test, {"split": "cross_collection", "test_collections": test_collections,
                                       "threshold": threshold, "val_frac": val_frac, "seed": seed,
                                       "n_dropped_near_test": int(dropped), "n_dropped_near_val": int(dropped_val)})


def make_term_split(kind: str, library, *, ontology=None, test_collections=None, test_frac: float = 0.1,
                    val_frac: float = 0.05, threshold: float = 0.5, seed: int = 0) -> TermSplit:
    """One door to every split kind: ``random``, ``near_dup``, ``family``, ``collection``."""
    if kind == "random":
        return random_split(library, test_frac, val_frac, seed)
    if kind in {"near_dup", "near_duplicate_free", "a"}:
        return near_duplicate_split(library, test_frac, val_frac, threshold, seed)
    if kind in {"family", "go_family_disjoint", "b"}:
        if ontology is None:
            raise InputError("the family split needs an ontology (load_ontology('GO'))")
        return family_split(library, ontology, test_frac, val_frac, seed)
    if kind in {"collection", "cross_collection", "c"}:
        return collection_split(library, test_collections, val_frac, threshold, seed)
    raise InputError(f"unknown split {kind!r}; choose random, near_dup, family or collection")


# deprecated aliases (the pair splits of interaction networks are evaluate.associations.PairSplit)
Split = TermSplit
make_split = make_term_split
