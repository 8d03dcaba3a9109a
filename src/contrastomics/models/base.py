"""Model I/O shared by every model: a local folder or a hub id, ``config.json``, ``model.safetensors``
(fp32 or fp16) and ``vocab.txt``, written atomically."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import torch.nn as nn

from ..errors import InputError


def resolve_model_folder(name_or_path: str | os.PathLike) -> Path:
    """A local folder as is; anything else is a hub id fetched (or read from the local HF cache)
    with ``huggingface_hub.snapshot_download``: one code path for both."""
    p = Path(name_or_path).expanduser()
    if p.is_dir():
        return p
    if p.exists():
        raise InputError("expected a model folder, got a file", p)
    name = str(name_or_path)
    if name.count("/") != 1 or name.startswith((".", "/")):
        raise InputError(f"model folder not found: {name}")
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name))
    except Exception as e:  # offline or unknown repo
        raise InputError(f"could not load model {name!r}: not a local folder and the hub is not "
                         f"reachable ({type(e).__name__}). Download it elsewhere and pass the folder.") from None


def read_config(folder: Path) -> dict:
    f = folder / "config.json"
    if not f.exists():
        raise InputError("model folder has no config.json", folder)
    try:
        return json.loads(f.read_text())
    except json.JSONDecodeError as e:
        raise InputError(f"config.json is not valid JSON ({e.msg})", f, e.lineno) from None


def load_weights(model: nn.Module, folder: Path, device: str = "cpu") -> None:
    """Load ``model.safetensors`` (any float dtype) into ``model`` with clear errors."""
    from safetensors.torch import load_file

    f = folder / "model.safetensors"
    if not f.exists():
        raise InputError("model folder has no model.safetensors", folder)
    try:
        state = load_file(str(f), device=device)
    except Exception as e:
        raise InputError(f"cannot read weights, the file is corrupted or not safetensors ({e})", f) from None
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        raise InputError(f"weights do not match this model type: missing {missing[:3]}, unexpected "
                         f"{unexpected[:3]}", f)
    bad = [k for k in own if own[k].shape != state[k].shape]
    if bad:
        raise InputError(f"weight shapes do not match the config: {bad[0]} {tuple(state[bad[0]].shape)} vs "
                         f"{tuple(own[bad[0]].shape)}", f)
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})
    model.to(device)


def save_model_folder(model: nn.Module, path: str | os.PathLike, half: bool = False,
                      extra_files: dict[str, str] | None = None) -> None:
    """Write ``model.safetensors`` + ``config.json`` (+ ``vocab.txt`` when the model has a vocab)
    into ``path`` atomically (a temporary folder renamed into place)."""
    from safetensors.torch import save_file

    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}."))
    try:
        state = {k: (v.detach().half() if half and v.is_floating_point() else v.detach()).contiguous().cpu()
                 for k, v in model.state_dict().items()}
        save_file(state, str(tmp / "model.safetensors"))
        (tmp / "config.json").write_text(json.dumps(model.config.to_dict(), indent=2))
        if hasattr(model, "vocab"):
            (tmp / "vocab.txt").write_text("\n".join(model.vocab) + "\n")
        for name, text in (extra_files or {}).items():
            (tmp / name).write_text(text)
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            dest.rename(old)
            tmp.rename(dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


