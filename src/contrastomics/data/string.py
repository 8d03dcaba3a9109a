"""Association pairs from STRING (or any scored gene-pair list) as a clean undirected table.

Reads STRING v12 ``protein.links`` files (``.detailed`` / ``.full`` too) and tables of symbol pairs
with a score column (TSV or CSV, gzipped or not): self-pairs are dropped, reversed duplicates
merged (highest score kept), scores put on STRING's 0-1000 scale, genes without features counted,
and STRING protein ids mapped to symbols with the ``protein.info`` file. Accepted columns:
``docs/data.md`` (STRING pairs).
"""
from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from .._io import open_text
from ..errors import InputError

GENE_COLUMN_PAIRS = [("gene_a", "gene_b"), ("gene1", "gene2"), ("protein1", "protein2"), ("preferred_name_a",
                     "preferred_name_b"), ("symbol_a", "symbol_b"), ("source", "target"), ("node1", "node2"),
                     ("#node1", "node2")]
SCORE_COLUMNS = ["combined_score", "score", "weight", "confidence"]
STRING_ID = re.compile(r"^\d+\.ENS[A-Z]*P\d+")


@dataclass
class Pairs:
    """Undirected scored gene pairs.

    ``genes`` is the gene vocabulary; ``a``/``b`` ``(n_pairs,)`` index into it with ``a < b``
    (canonical orientation, so a pair and its reverse are one row); ``score`` is on STRING's
    0-1000 scale. ``meta`` records what cleaning removed (counts, examples).
    """

    genes: list[str]
    a: np.ndarray
    b: np.ndarray
    score: np.ndarray
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.a)

    @property
    def n_genes(self) -> int:
        return len(self.genes)

    def to_frame(self) -> pd.DataFrame:
        g = np.asarray(self.genes, dtype=object)
        return pd.DataFrame({"gene_a": g[self.a], "gene_b": g[self.b], "score": self.score})

    def degree(self) -> np.ndarray:
        """Number of partners of each gene ``(n_genes,)``."""
        return np.bincount(np.concatenate([self.a, self.b]), minlength=self.n_genes)

    def reindex(self, genes: list[str]) -> "Pairs":
        """Same pairs over another vocabulary that contains every used gene."""
        pos = {g: i for i, g in enumerate(genes)}
        old = np.asarray(self.genes, dtype=object)
        a = np.array([pos[g] for g in old[self.a]], dtype=np.int64)
        b = np.array([pos[g] for g in old[self.b]], dtype=np.int64)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        return Pairs(list(genes), lo, hi, self.score.copy(), dict(self.meta))

    def subset(self, mask: np.ndarray) -> "Pairs":
        return Pairs(self.genes, self.a[mask], self.b[mask], self.score[mask], dict(self.meta))


def read_string_info(path: str | os.PathLike) -> pd.DataFrame:
    """Read STRING's ``protein.info`` file -> DataFrame with ``string_id``, ``symbol``, ``annotation``."""
    p = Path(path)
    with open_text(p) as fh:
        try:
            df = pd.read_csv(fh, sep="\t", dtype=str)
        except Exception as e:
            raise InputError(f"cannot parse STRING info file ({e})", p) from None
    df.columns = [c.lstrip("#") for c in df.columns]
    need = {"string_protein_id", "preferred_name"}
    if not need <= set(df.columns):
        raise InputError(f"not a STRING protein.info file: needs columns {sorted(need)}, found {list(df.columns)[:6]}",
                         p, 1)
    df = df.rename(columns={"string_protein_id": "string_id", "preferred_name": "symbol"})
    if "annotation" not in df.columns:
        df["annotation"] = ""
    return df[["string_id", "symbol", "annotation"]]


def _detect_columns(df: pd.DataFrame, p: Path, gene_columns: tuple[str, str] | None,
                    score_column: str | None) -> tuple[str, str, str | None]:
    cols = list(df.columns)
    if gene_columns is not None:
        missing = [c for c in gene_columns if c not in cols]
        if missing:
            raise InputError(f"gene column(s) {missing} not found; columns: {cols[:10]}", p, 1)
        ga, gb = gene_columns
    else:
        lower = {c.lower(): c for c in cols}
        found = [(lower[x], lower[y]) for x, y in GENE_COLUMN_PAIRS if x in lower and y in lower]
        if not found:
            looked = ", ".join(f"{x}/{y}" for x, y in GENE_COLUMN_PAIRS)
            raise InputError(f"cannot find the two gene columns: looked for {looked} (any case); "
                             f"columns: {cols[:10]}. Rename two columns to one of these pairs", p, 1)
        ga, gb = found[0]
    if score_column is not None:
        if score_column not in cols:
            raise InputError(f"score column {score_column!r} not found; columns: {cols[:16]}", p, 1)
        return ga, gb, score_column
    lower = {c.lower(): c for c in cols}
    for s in SCORE_COLUMNS:
        if s in lower:
            return ga, gb, lower[s]
    return ga, gb, None


def _read_table(p: Path) -> pd.DataFrame:
    with open_text(p) as fh:
        head = fh.readline()
    if "\t" in head:
        sep = "\t"
    elif "," in head:
        sep = ","
    else:
        sep = r"\s+"  # STRING protein.links files are space separated
    try:
        return pd.read_csv(p, sep=sep, dtype=str, engine="python" if sep == r"\s+" else "c")
    except Exception as e:
        raise InputError(f"cannot parse pair table ({e})", p) from None


def score_scale(scores: np.ndarray) -> float:
    """1000 when scores look like STRING's integer 0-1000 scale, 1 for a 0-1 scale."""
    s = scores[np.isfinite(scores)]
    if len(s) == 0:
        return 1000.0
    if s.min() < 0:
        raise InputError(f"negative scores found (min {s.min()}); expected 0-1 or 0-1000")
    if s.max() <= 1.0:
        return 1.0
    if s.max() <= 1000:
        return 1000.0
    raise InputError(f"scores above 1000 found (max {s.max()}); expected 0-1 or 0-1000")


def read_pairs(path: str | os.PathLike, min_score: float | None = 900, *, score_column: str | None = None,
               gene_columns: tuple[str, str] | None = None, info: str | os.PathLike | pd.DataFrame | None = None,
               genes: Iterable[str] | None = None) -> Pairs:
    """Read scored gene pairs and clean them.

    Parameters
    ----------
    path
        STRING links file or pair table (see module docstring).
    min_score
        Keep pairs with ``score >= min_score``, on STRING's 0-1000 scale (900 = "highest
        confidence"). A 0-1 threshold (e.g. 0.9) is accepted too. Scores on a 0-1 scale are
        rescaled to 0-1000 with a warning. ``None`` keeps all pairs.
    score_column
        Column to threshold (default: ``combined_score``/``score``); pass a channel such as
        ``experiments`` to use one STRING evidence channel.
    info
        STRING ``protein.info`` file (or its frame from :func:`read_string_info`) to map
        ``9606.ENSP...`` ids to symbols (or symbols to ids when ``genes`` are STRING ids).
    genes
        Genes that have features. Pairs naming other genes are dropped, counted in
        ``meta['n_pairs_unknown_gene']`` / ``meta['unknown_genes']`` and reported in a warning.

    Returns
    -------
    :class:`Pairs` over the genes that occur in the kept pairs (sorted), or over ``genes`` in
    their order when given.
    """
    p = Path(path)
    df = _read_table(p)
    if df.shape[0] == 0:
        raise InputError("pair table has a header but no rows", p)
    ga, gb, sc = _detect_columns(df, p, gene_columns, score_column)
    meta: dict = {"path": str(p), "n_rows": int(len(df)), "score_column": sc}
    g1 = df[ga].fillna("").astype(str).str.strip().to_numpy(dtype=object)
    g2 = df[gb].fillna("").astype(str).str.strip().to_numpy(dtype=object)
    empty = (g1 == "") | (g2 == "")
    if empty.any():
        line = int(np.flatnonzero(empty)[0]) + 2
        raise InputError(f"{int(empty.sum())} row(s) with an empty gene name (first at this line)", p, line)
    if sc is None:
        if min_score is not None:
            warnings.warn(f"{p.name}: no score column found; keeping all {len(df)} pairs (no threshold)")
        score = np.full(len(df), 1000.0)
    else:
        score = pd.to_numeric(df[sc], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(score)
        if bad.any():
            line = int(np.flatnonzero(bad)[0]) + 2
            raise InputError(f"score column {sc!r} has {int(bad.sum())} non-numeric value(s), e.g. "
                             f"{df[sc].iloc[line - 2]!r}", p, line)
        try:
            scale = score_scale(score)
        except InputError as e:
            raise InputError(e.problem, p) from None
        if scale == 1.0:
            warnings.warn(f"{p.name}: scores in {sc!r} are on a 0-1 scale; rescaled to STRING's 0-1000")
            score = score * 1000.0
        meta["input_scale"] = scale
    if min_score is not None:
        thr = float(min_score)
        if 0 < thr <= 1.0:
            thr *= 1000.0  # a 0-1 threshold given for 0-1000 scores
        if thr > 1000:
            raise InputError(f"min_score {min_score} is above STRING's maximum of 1000")
        keep = score >= thr
        meta.update(min_score=thr, n_below_threshold=int((~keep).sum()))
        g1, g2, score = g1[keep], g2[keep], score[keep]
        if len(g1) == 0:
            raise InputError(f"no pair has {sc} >= {thr:g} (max {df[sc].astype(float).max():g})", p)

    g1, g2, mapped = _map_ids(g1, g2, info, genes, p, meta)
    score = score[mapped]

    self_pair = g1 == g2
    meta["n_self_pairs"] = int(self_pair.sum())
    if self_pair.any():
        warnings.warn(f"{p.name}: dropped {int(self_pair.sum())} self-pair(s) (e.g. {g1[self_pair][0]})")
        g1, g2, score = g1[~self_pair], g2[~self_pair], score[~self_pair]
        if len(g1) == 0:
            raise InputError(f"every kept pair ({meta['n_self_pairs']}) pairs a gene with itself; an association "
                             "needs two different genes", p)

    if genes is not None:
        vocab = list(dict.fromkeys(str(g) for g in genes))
        pos = {g: i for i, g in enumerate(vocab)}
        known = np.array([x in pos for x in g1], dtype=bool) & np.array([x in pos for x in g2], dtype=bool)
        unknown = sorted(set(g1[~known]) - pos.keys() | set(g2[~known]) - pos.keys())
        meta.update(n_pairs_unknown_gene=int((~known).sum()), unknown_genes=len(unknown),
                    unknown_examples=unknown[:10])
        if (~known).any():
            warnings.warn(f"{p.name}: dropped {int((~known).sum())} pair(s) naming {len(unknown)} gene(s) "
                          f"without features (e.g. {', '.join(unknown[:5])})")
        g1, g2, score = g1[known], g2[known], score[known]
        if len(g1) == 0:
            raise InputError("no pair has both genes in the feature matrix; check that both use the same "
                             "identifiers (symbols vs STRING ids: pass the STRING info file)", p)
    else:
        vocab = sorted(set(g1) | set(g2))
        pos = {g: i for i, g in enumerate(vocab)}
    ia = np.array([pos[x] for x in g1], dtype=np.int64)
    ib = np.array([pos[x] for x in g2], dtype=np.int64)
    lo, hi = np.minimum(ia, ib), np.maximum(ia, ib)
    frame = pd.DataFrame({"a": lo, "b": hi, "s": score})
    n_before = len(frame)
    n_exact = int(pd.DataFrame({"a": ia, "b": ib}).duplicated().sum())
    frame = frame.groupby(["a", "b"], sort=True, as_index=False)["s"].max()
    n_dup = n_before - len(frame)
    meta.update(n_duplicates=n_exact, n_reversed_duplicates=n_dup - n_exact, n_pairs=int(len(frame)))
    if n_dup:
        warnings.warn(f"{p.name}: merged {n_dup} duplicate pair row(s) ({n_exact} exact, {n_dup - n_exact} "
                      "reversed A-B / B-A); kept the highest score")
    return Pairs(vocab, frame.a.to_numpy(), frame.b.to_numpy(), frame.s.to_numpy(dtype=np.float32), meta)


def _map_ids(g1: np.ndarray, g2: np.ndarray, info, genes, p: Path, meta: dict):
    """Put pair ids in the namespace of ``genes`` (symbols or STRING protein ids)."""
    pair_ids = bool(STRING_ID.match(str(g1[0])))
    feat_ids = None
    if genes is not None:
        genes = list(genes)
        feat_ids = bool(genes) and bool(STRING_ID.match(str(genes[0])))
    target_ids = pair_ids if feat_ids is None else feat_ids
    if pair_ids == target_ids:
        return g1, g2, np.ones(len(g1), dtype=bool)
    if info is None:
        raise InputError("pairs use STRING protein ids (9606.ENSP...) but the features use gene symbols "
                         "(or the reverse); pass the STRING protein.info file to map them", p)
    table = info if isinstance(info, pd.DataFrame) else read_string_info(info)
    mapping = (dict(zip(table.string_id, table.symbol)) if pair_ids
               else dict(zip(table.symbol, table.string_id)))
    m1 = np.array([mapping.get(x) for x in g1], dtype=object)
    m2 = np.array([mapping.get(x) for x in g2], dtype=object)
    ok = np.array([x is not None for x in m1]) & np.array([x is not None for x in m2])
    meta["n_pairs_unmapped_id"] = int((~ok).sum())
    if (~ok).any():
        ex = [x for x, m in zip(np.concatenate([g1, g2]), np.concatenate([m1, m2])) if m is None][:5]
        warnings.warn(f"{p.name}: dropped {int((~ok).sum())} pair(s) whose ids are not in the STRING info "
                      f"file (e.g. {', '.join(map(str, ex))})")
    if not ok.any():
        raise InputError("no pair id could be mapped with the STRING info file", p)
    return m1[ok], m2[ok], ok
