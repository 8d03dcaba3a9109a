"""Train / validation / test splits of gene-set libraries (terms) that do not leak.

A random split of GO leaks: parent and child terms are near-duplicates in genes and text, so a
model scores well by memorising the training twin of a test term. The splits here hold out test
sets and then *remove* from training whatever is too close to them (``near_dup``: gene Jaccard >=
0.5; ``family``: ontology ancestors and descendants; ``collection``: a whole held-out collection);
``random`` leaks and is for comparison only. Any kind takes a text cap (training texts with base
cosine >= cap to a held-out text dropped); ``dev`` is a family split whose test terms avoid every
reported test split's terms and families. Validation is carved from the training side by the same
rules; every :class:`TermSplit` carries ``info`` (rule, counts, seed). See ``docs/gtclip.md``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

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


def max_cosine_to(features: np.ndarray, rows: np.ndarray, against: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """For each of ``rows``, the largest cosine of its feature row to any row of ``against``:
    ``(len(rows),)`` float32 (rows are L2-normalised here; memory ``chunk x len(against)``)."""
    x = np.asarray(features, np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    b = x[np.asarray(against, np.int64)]
    out = np.full(len(rows), -1.0, np.float32)
    if len(against) == 0:
        return out
    for s in range(0, len(rows), chunk):
        out[s:s + chunk] = (x[rows[s:s + chunk]] @ b.T).max(axis=1)
    return out


def _holdout(rows: np.ndarray, frac: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    rows = rng.permutation(rows)
    n_out = max(1, int(round(frac * len(rows))))
    return np.sort(rows[n_out:]), np.sort(rows[:n_out])


def held_out_rows(n: int, test_frac: float = 0.1, seed: int = 0) -> np.ndarray:
    """The test rows that ``random``, ``near_dup`` and ``family`` splits of an ``n``-set library
    draw with ``seed`` (all three hold out the same rows first): ``(round(test_frac * n),)`` sorted."""
    return _holdout(np.arange(n), test_frac, np.random.default_rng(seed))[1]


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


def family_split(library, ontology, test_frac: float = 0.1, val_frac: float = 0.05, seed: int = 0,
                 avoid: np.ndarray | None = None) -> TermSplit:
    """GO family-disjoint split: no ancestor or descendant of a test (or validation) term trains.

    ``avoid``: rows whose terms and families may not be drawn as test (the development split);
    the test part is then ``round(test_frac * n)`` terms drawn from the rest (all of them when
    fewer remain). Without ``avoid`` the split is exactly the one of earlier versions.
    """
    _check(library, test_frac, val_frac)
    rng = np.random.default_rng(seed)
    n_avoided = 0
    if avoid is None:
        rest, test = _holdout(np.arange(len(library)), test_frac, rng)
    else:
        banned = _related_mask(ontology, library.terms, np.asarray(avoid, np.int64))
        eligible = np.flatnonzero(~banned)
        n_avoided = int(banned.sum())
        if len(eligible) == 0:
            raise InputError("no term is left for the test part: every term is a reported test term or in "
                             "the family of one")
        n_test = min(len(eligible), max(1, int(round(test_frac * len(library)))))
        test = np.sort(rng.permutation(eligible)[:n_test])
        rest = np.setdiff1d(np.arange(len(library)), test)
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
                                       "n_dropped_related_val": int(dropped_val),
                                       **({"n_avoided": n_avoided} if avoid is not None else {})})


def development_split(library, ontology, reported_seeds: Sequence[int] = (0, 1, 2), test_frac: float = 0.1,
                      val_frac: float = 0.05, seed: int = 1000) -> TermSplit:
    """The development split: family-disjoint, drawn with its own ``seed``, its test terms outside
    the test terms of every reported split (``random``/``near_dup``/``family`` with
    ``reported_seeds``, see :func:`held_out_rows`) and outside their families (ancestors and
    descendants). Every recipe decision is made on it; see docs/evaluation.md."""
    seeds = [int(x) for x in reported_seeds]
    if int(seed) in seeds:
        raise InputError(f"the development seed {seed} is one of the reported test seeds {seeds}; "
                         "give it its own seed")
    avoid = (np.unique(np.concatenate([held_out_rows(len(library), test_frac, x) for x in seeds]))
             if seeds else np.zeros(0, np.int64))
    out = family_split(library, ontology, test_frac, val_frac, seed, avoid=avoid)
    out.info = {**out.info, "split": "development", "reported_seeds": seeds, "n_reported_test_terms": int(len(avoid))}
    return out


def apply_text_cap(split: TermSplit, text_features: np.ndarray, cap: float = 0.9) -> TermSplit:
    """Drop training and validation terms whose text has cosine >= ``cap`` (base-encoder features,
    one row per library set) to any test text, then training terms that close to a validation
    text. Returns a new :class:`TermSplit`; ``info`` gains ``text_cap`` and the two counts."""
    if not 0 < cap <= 1:
        raise InputError(f"text_cap must be in (0, 1], got {cap}")
    train, val, test = split.train, split.val, split.test
    n_train, n_val = len(train), len(val)
    train = train[max_cosine_to(text_features, train, test) < cap]
    val = val[max_cosine_to(text_features, val, test) < cap]
    dropped_test = (n_train - len(train)) + (n_val - len(val))
    n_train = len(train)
    train = train[max_cosine_to(text_features, train, val) < cap]
    return TermSplit(train, val, test, {**split.info, "text_cap": float(cap), "n_dropped_text_test": int(dropped_test),
                                        "n_dropped_text_val": int(n_train - len(train))})


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
                    val_frac: float = 0.05, threshold: float = 0.5, seed: int = 0,
                    text_features: np.ndarray | None = None, text_cap: float | None = None,
                    reported_seeds: Sequence[int] = (0, 1, 2)) -> TermSplit:
    """One door to every split kind: ``random``, ``near_dup``, ``family``, ``collection``, ``dev``.

    ``text_cap`` (e.g. 0.9, default off) with ``text_features`` ``(len(library), d)`` base-encoder
    text vectors also drops training/validation terms whose text is that close to a held-out text
    (:func:`apply_text_cap`). ``dev``: :func:`development_split` avoiding ``reported_seeds``.
    """
    if text_cap is not None:
        if text_features is None:
            raise InputError("text_cap needs text_features (base-encoder vectors of the library's texts)")
        if np.ndim(text_features) != 2 or len(text_features) != len(library):
            raise InputError(f"text_features has shape {np.shape(text_features)}, expected one row per "
                             f"gene set ({len(library)}, d)")
        if not 0 < text_cap <= 1:
            raise InputError(f"text_cap must be in (0, 1], got {text_cap}")
    if kind == "random":
        split = random_split(library, test_frac, val_frac, seed)
    elif kind in {"near_dup", "near_duplicate_free", "a"}:
        split = near_duplicate_split(library, test_frac, val_frac, threshold, seed)
    elif kind in {"family", "go_family_disjoint", "b", "dev", "development"}:
        if ontology is None:
            raise InputError(f"the {kind} split needs an ontology (load_ontology('GO'))")
        if kind in {"family", "go_family_disjoint", "b"}:
            split = family_split(library, ontology, test_frac, val_frac, seed)
        else:
            split = development_split(library, ontology, reported_seeds, test_frac, val_frac, seed)
    elif kind in {"collection", "cross_collection", "c"}:
        split = collection_split(library, test_collections, val_frac, threshold, seed)
    else:
        raise InputError(f"unknown split {kind!r}; choose random, near_dup, family, collection or dev")
    return split if text_cap is None else apply_text_cap(split, text_features, text_cap)


def validation_gene_split(a, b, test_genes, val_frac: float = 0.2, seed: int = 0) -> dict:
    """Carve a node-disjoint validation split of gene pairs from the training side only.

    ``a``/``b``: pair gene indices; ``test_genes``: the held-out test genes. Only pairs with no end
    in ``test_genes`` are eligible; ``val_frac`` of their genes become validation genes. Returns
    bool masks over the pairs, ``fit`` (no end in test or validation genes) and ``val`` (both ends
    validation genes; crossing pairs dropped), plus ``val_genes`` and ``info`` (counts, seed).
    """
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    test_genes = np.asarray(test_genes, np.int64)
    n = int(max(a.max(initial=-1), b.max(initial=-1), test_genes.max(initial=-1))) + 1
    is_test = np.zeros(n, bool)
    is_test[test_genes] = True
    train_side = ~is_test[a] & ~is_test[b]
    genes = np.unique(np.concatenate([a[train_side], b[train_side]]))
    if len(genes) < 4:
        raise InputError(f"too few training genes ({len(genes)}) to carve a validation split")
    rng = np.random.default_rng(seed)
    val_genes = np.sort(rng.choice(genes, size=max(2, int(round(val_frac * len(genes)))), replace=False))
    is_val = np.zeros(n, bool)
    is_val[val_genes] = True
    fit = train_side & ~is_val[a] & ~is_val[b]
    val = train_side & is_val[a] & is_val[b]
    if val.sum() == 0:
        raise InputError("no training pair has both genes among the validation genes; raise val_frac")
    info = {"val_frac": val_frac, "seed": seed, "n_fit": int(fit.sum()), "n_val": int(val.sum()),
            "n_val_genes": int(len(val_genes)), "n_cross_dropped": int((train_side & ~fit & ~val).sum()),
            "n_touching_test": int((~train_side).sum())}
    return {"fit": fit, "val": val, "val_genes": val_genes, "info": info}


# deprecated aliases (the pair splits of interaction networks are evaluate.associations.PairSplit)
Split = TermSplit
make_split = make_term_split


def corpus_near_duplicates(corpus, evaluated, threshold: float = 0.5) -> tuple[np.ndarray, dict[str, int]]:
    """Leakage control of a pretraining corpus: ``(len(corpus),)`` bool, True for each corpus set
    with gene Jaccard >= ``threshold`` to any set of an evaluated library (drop those), and how many
    each library flags. ``evaluated``: ``{name: library}`` in any vocabulary; sets are compared over
    the corpus genes. Used by ``benchmarks/gsfm_gene_function.py``."""
    near = np.zeros(len(corpus), bool)
    counts = {}
    rows = np.arange(len(corpus))
    for name, lib in evaluated.items():
        other = sp.csr_matrix(lib.with_vocabulary(corpus.genes, min_size=1).membership, dtype=np.float32)
        both = sp.vstack([sp.csr_matrix(corpus.membership, dtype=np.float32), other]).tocsr()
        hit = max_jaccard_to(both, rows, len(corpus) + np.arange(other.shape[0])) >= threshold
        counts[name] = int(hit.sum())
        near |= hit
    return near, counts
