"""Fine-tuning a text encoder's top layers: the frozen lower layers' token states cached once
(:class:`LayerCache`), and the fine-tuned layers saved as a delta over the installed base model
(:func:`write_delta`, :func:`read_delta`: fp16 safetensors with the base named in its metadata).
Used by :class:`~contrastomics.models.text.TextEncoder`; no torch import at module level.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from ..errors import InputError

#: File of a fine-tuned encoder's top layers (fp16) in a model folder, beside ``config.json``.
DELTA_FILE = "text_encoder_delta.safetensors"
DELTA_FORMAT = "contrastomics-text-delta/1"


def tensors_sha1(tensors: dict) -> str:
    """SHA-1 of named tensors (sorted names, raw bytes of their dtype): the delta's identity."""
    h = hashlib.sha1()
    for name in sorted(tensors):
        h.update(name.encode())
        h.update(tensors[name].detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


class LayerCache:
    """Token states after the frozen lower ``split`` layers of a text encoder, one row per text.

    ``states`` ``(n_tokens, hidden)`` fp16 holds every text's tokens back to back (truncated to
    the encoder's limit, no padding); ``offsets`` ``(n_texts + 1,)`` where each text starts;
    ``n_truncated`` texts were cut. :meth:`batch` pads a batch of rows back with its mask.
    """

    def __init__(self, states, offsets: np.ndarray, split: int, n_truncated: int = 0):
        self.states, self.offsets, self.split, self.n_truncated = states, offsets, int(split), int(n_truncated)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def nbytes(self) -> int:
        """RAM held by the cache."""
        return int(self.states.element_size() * self.states.nelement() + self.offsets.nbytes)

    def batch(self, rows, device=None):
        """``(hidden (b, longest, width) float32, attention_mask (b, longest) int64)`` of ``rows``."""
        import torch

        rows = np.asarray(rows.cpu() if hasattr(rows, "cpu") else rows, np.int64).reshape(-1)
        src, b_idx, pos = token_index(self.offsets, rows)
        longest = int(np.diff(self.offsets)[rows].max()) if len(rows) else 0
        h = torch.zeros((len(rows), longest, self.states.shape[1]))
        mask = torch.zeros((len(rows), longest), dtype=torch.long)
        b_t, p_t = torch.from_numpy(b_idx), torch.from_numpy(pos)
        h[b_t, p_t] = self.states[torch.from_numpy(src)].float()
        mask[b_t, p_t] = 1
        return (h, mask) if device is None else (h.to(device), mask.to(device))

    def __repr__(self) -> str:
        return f"LayerCache({len(self)} texts, after layer {self.split}, {self.nbytes / 2**20:.0f} MiB)"


def token_index(offsets: np.ndarray, rows: np.ndarray):
    """``(source token, batch row, position)`` of every token of ``rows``, in row order."""
    lens = offsets[rows + 1] - offsets[rows]
    pos = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
    return np.repeat(offsets[rows], lens) + pos, np.repeat(np.arange(len(rows)), lens), pos


def layer_mask(auto, h, mask):
    """The attention mask the model's own forward hands its layers (transformers 5: built by
    ``masking_utils`` for the configured attention; 4.x: the additive extended mask)."""
    try:
        from transformers.masking_utils import create_bidirectional_mask
    except ImportError:
        return auto.get_extended_attention_mask(mask, mask.shape)
    return create_bidirectional_mask(config=auto.config, inputs_embeds=h, attention_mask=mask)


def progress_iter(it, total: int, desc: str, show: bool, unit: str = "batches"):
    """A tqdm bar on a terminal; elsewhere a plain line every 30 s and at the end; nothing when off."""
    if not show:
        return it
    if sys.stderr.isatty():
        from tqdm.auto import tqdm

        return tqdm(it, total=total, desc=desc, leave=False)
    return plain_lines(it, total, desc, unit=unit)


def plain_lines(it, total: int, desc: str, interval: float = 30.0, unit: str = "batches"):
    t0 = last = time.perf_counter()
    for i, x in enumerate(it):
        yield x
        now = time.perf_counter()
        if now - last >= interval or i + 1 == total:
            last = now
            print(f"{desc}: {i + 1}/{total} {unit} ({now - t0:.0f} s)", file=sys.stderr, flush=True)


def write_delta(path: str | os.PathLike, tensors: dict, record: dict) -> None:
    """Write fine-tuned layers (fp16) with ``record`` as safetensors metadata."""
    from safetensors.torch import save_file

    meta = {"format": DELTA_FORMAT, **{k: json.dumps(v) for k, v in record.items()}}
    save_file(tensors, str(path), metadata=meta)


def read_delta(path: str | os.PathLike, record: dict) -> dict:
    """Tensors of a delta file checked against ``record`` (its checksum); a missing, corrupted or
    foreign file is an :class:`InputError`."""
    from safetensors import safe_open

    path = Path(path)
    if not path.exists():
        raise InputError(f"the model's fine-tuned text layers are missing ({path.name} is named in config.json)", path)
    try:
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # noqa: BLE001 - any reader failure means an unreadable file
        raise InputError(f"cannot read the fine-tuned text layers, the file is corrupted or not safetensors "
                         f"({type(e).__name__})", path) from None
    if meta.get("format") != DELTA_FORMAT:
        raise InputError("not a text-encoder delta of this package (no format tag)", path)
    if record.get("sha1") and tensors_sha1(tensors) != record["sha1"]:
        raise InputError("the fine-tuned text layers are corrupted: their checksum does not match config.json", path)
    return tensors
