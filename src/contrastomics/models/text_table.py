"""Precomputed joint-space text embeddings shipped beside a gtCLIP model (``text_table.safetensors``):
every pathway text the package ships (built-in GO and DO), so a first run never encodes them.

Keys are SHA-1 digests of the texts ``(n, 20)`` uint8; vectors ``(n, embed_dim)`` fp16 (names of
other libraries: ``keys_q8`` / ``vectors_q8`` int8 with ``scales_q8``, one per row). The
metadata names the model weights the table was made with; a table that does not match the loaded
model is ignored. Made by ``scripts/make_text_table.py``.
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .._io import atomic_path

log = logging.getLogger(__name__)

TABLE_FILE = "text_table.safetensors"


def text_digest(text: str) -> bytes:
    return hashlib.sha1(text.encode()).digest()


def weights_fingerprint(model) -> str:
    """SHA-1 of the text head's weights (what the table's vectors depend on, with the base encoder
    named in the config)."""
    h = hashlib.sha1(str(getattr(model.config, "text_encoder", "")).encode())
    h.update(str(getattr(model, "cache_key", None) or "").encode())  # a fine-tuned text delta
    for name, p in sorted(model.state_dict().items()):
        if name.startswith("text"):
            h.update(name.encode())
            h.update(p.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()


def write_text_table(model, texts: Iterable[str], path: str | Path, *, batch_size: int = 256,
                     compact_texts: Iterable[str] = ()) -> int:
    """Embed ``texts`` with ``model`` (distinct, sorted) and write the table to ``path`` (fp16);
    ``compact_texts`` not among them are stored in int8 with one scale per row (half the size, cosine
    error ~1e-3: for names of libraries the package does not ship). Returns the number of texts."""
    from safetensors.numpy import save_file

    distinct = sorted(set(texts))
    compact = sorted(set(compact_texts) - set(distinct))
    tensors = {"keys": _keys(distinct),
               "vectors": np.asarray(model.embed_texts(distinct, batch_size=batch_size), np.float16)}
    if compact:
        x = np.asarray(model.embed_texts(compact, batch_size=batch_size), np.float32)
        scale = np.maximum(np.abs(x).max(axis=1), 1e-12) / 127.0
        tensors.update(keys_q8=_keys(compact), vectors_q8=np.round(x / scale[:, None]).astype(np.int8),
                       scales_q8=scale.astype(np.float32))
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"weights": weights_fingerprint(model),
                                               "n": str(len(distinct) + len(compact))})
    return len(distinct) + len(compact)


def _keys(texts: Sequence[str]) -> np.ndarray:
    return np.frombuffer(b"".join(text_digest(t) for t in texts), np.uint8).reshape(-1, 20)


def read_text_table(model) -> dict[str, np.ndarray]:
    """``{sha1 hex of text: (embed_dim,) float32}`` from the table beside ``model`` (its folder), or
    ``{}`` when the model has no table or the table was made with other weights. Kept on the model
    while its text weights stay the same."""
    folder = getattr(model, "_folder", None)
    if folder is None or not (Path(folder) / TABLE_FILE).is_file():
        return {}
    fingerprint = weights_fingerprint(model)
    kept = getattr(model, "_text_table", None)
    if kept is not None and kept[0] == fingerprint:
        return kept[1]
    table = read_table_file(Path(folder) / TABLE_FILE, fingerprint)
    model._text_table = (fingerprint, table)
    return table


def read_table_file(path: Path, fingerprint: str | None) -> dict[str, np.ndarray]:
    """The table at ``path`` as ``{sha1 hex: vector}``; ``{}`` when unreadable or (``fingerprint``
    given) made with other weights."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            if fingerprint is not None and (f.metadata() or {}).get("weights") != fingerprint:
                log.warning("ignoring %s: made with other model weights", path)
                return {}
            keys, vectors = f.get_tensor("keys"), f.get_tensor("vectors").astype(np.float32)
            if "keys_q8" in f.keys():
                keys = np.concatenate([keys, f.get_tensor("keys_q8")])
                vectors = np.concatenate([vectors, f.get_tensor("vectors_q8").astype(np.float32)
                                          * f.get_tensor("scales_q8")[:, None]])
    except Exception as e:  # noqa: BLE001 - a broken table only costs encoding time
        log.warning("ignoring unreadable text table %s (%s)", path, e)
        return {}
    hexes = [bytes(k).hex() for k in keys]
    return dict(zip(hexes, vectors))

