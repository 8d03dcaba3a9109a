"""Precomputed joint-space text embeddings shipped beside a gtCLIP model (``text_table.safetensors``):
every pathway text the package ships (built-in GO and DO) and the pathway names of the common
libraries (MSigDB / Enrichr GO and Hallmark, Reactome, KEGG, WikiPathways), so a first run never
encodes them.

Keys are SHA-1 digests of the texts ``(n, 20)`` uint8; vectors ``(n, embed_dim)`` fp16. The
metadata names the model weights the table was made with; a table that does not match the loaded
model is ignored. Made by ``scripts/make_text_table.py``.
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

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
                     extra: Iterable[str] = ()) -> int:
    """Embed ``texts`` with ``model`` (distinct, sorted) and write the table to ``path`` (fp16);
    returns the number of texts. ``extra``: texts appended after them as a block of their own
    (distinct, sorted, those not in ``texts``), so adding texts leaves the earlier rows' bytes as
    they were (a batch's padding would otherwise move their last fp16 bits)."""
    from safetensors.numpy import save_file

    distinct = sorted(set(texts))
    more = sorted(set(extra) - set(distinct))
    blocks = [np.asarray(model.embed_texts(b, batch_size=batch_size), np.float16) for b in (distinct, more) if b]
    distinct += more
    tensors = {"keys": _keys(distinct), "vectors": np.concatenate(blocks) if blocks else np.zeros((0, 0), np.float16)}
    with atomic_path(path) as tmp:
        # one metadata key: safetensors writes a metadata map in no fixed order, so two keys made the
        # header's bytes differ between runs (the row count is the keys' length)
        save_file(tensors, str(tmp), metadata={"weights": weights_fingerprint(model)})
    return len(distinct)


def _keys(texts: Sequence[str]) -> np.ndarray:
    return np.frombuffer(b"".join(text_digest(t) for t in texts), np.uint8).reshape(-1, 20)


def read_text_table(model) -> Mapping[str, np.ndarray]:
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


class TableRows(Mapping):
    """``{sha1 hex: (embed_dim,) float32}`` over the fp16 table: a row is widened when it is read,
    not the whole table when it is loaded (a run looks up hundreds of its ~28,000 texts; widening
    all of them was ~0.1 s of a first run). fp16 -> fp32 is exact: the same vectors as before."""

    def __init__(self, hexes: list[str], vectors: np.ndarray):
        self._row = dict(zip(hexes, range(len(hexes))))
        self._vectors = vectors

    def __getitem__(self, key: str) -> np.ndarray:
        return self._vectors[self._row[key]].astype(np.float32)

    def __contains__(self, key) -> bool:
        return key in self._row

    def __iter__(self) -> Iterator[str]:
        return iter(self._row)

    def __len__(self) -> int:
        return len(self._row)


def read_table_file(path: Path, fingerprint: str | None) -> Mapping[str, np.ndarray]:
    """The table at ``path`` as ``{sha1 hex: float32 vector}`` (:class:`TableRows`); ``{}`` when
    unreadable or (``fingerprint`` given) made with other weights."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            if fingerprint is not None and (f.metadata() or {}).get("weights") != fingerprint:
                log.warning("ignoring %s: made with other model weights", path)
                return {}
            keys, vectors = f.get_tensor("keys"), f.get_tensor("vectors")
    except Exception as e:  # noqa: BLE001 - a broken table only costs encoding time
        log.warning("ignoring unreadable text table %s (%s)", path, e)
        return {}
    return TableRows([bytes(k).hex() for k in keys], vectors)

