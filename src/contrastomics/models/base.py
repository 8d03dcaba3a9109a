"""What every model shares: a config base (:class:`ModelConfig`), save/load (:class:`Pretrained`:
a local folder or a hub id, ``config.json`` with a ``model_type``, ``model.safetensors`` in fp32 or
fp16, ``vocab.txt``, written atomically), :func:`load_model`, which dispatches on ``model_type``
through a small registry (:func:`register_model`), and the shipped recipes (:func:`read_recipe`)."""
from __future__ import annotations

import dataclasses
import importlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..errors import InputError

if TYPE_CHECKING:  # torch stays out of `import contrastomics.models.text`
    import torch.nn as nn

#: model_type -> model class; filled by :func:`register_model` when a model module is imported.
MODEL_TYPES: dict[str, type] = {}
#: Modules of the shipped model types, imported on demand by :func:`model_class`.
SHIPPED_MODEL_MODULES = {"gsfm": "contrastomics.models.gsfm", "gtclip": "contrastomics.models.gtclip",
                         "cal": "contrastomics.models.cal", "comtip": "contrastomics.models.comtip"}
#: Shipped training recipes, as data (``configs/<name>.json``).
CONFIGS_DIR = Path(__file__).resolve().parent / "configs"


def read_recipe(name: str) -> dict:
    """A shipped recipe, e.g. ``read_recipe("gtclip-default")`` (a fresh dict on every call)."""
    f = CONFIGS_DIR / f"{name}.json"
    if not f.exists():
        known = sorted(p.stem for p in CONFIGS_DIR.glob("*.json"))
        raise InputError(f"unknown recipe {name!r} (shipped: {', '.join(known)})")
    return json.loads(f.read_text())


# ---------------------------------------------------------------------- config
class ModelConfig:
    """Base of the model config dataclasses: ``from_dict``/``to_dict`` written once.

    Unknown keys are ignored with a warning naming them; keys in ``silent_keys`` (metadata of
    official checkpoints, derived keys) are ignored silently. A ``model_type`` other than the
    class's is an error; a missing one is accepted when every key fits the class (older configs
    and official GSFM checkpoints have none). Subclasses translate legacy keys in
    :meth:`translate_keys` and add derived keys in ``to_dict``.
    """

    display_name: ClassVar[str] = "model"
    silent_keys: ClassVar[frozenset] = frozenset()

    @classmethod
    def default_model_type(cls) -> str | None:
        f = {f.name: f for f in dataclasses.fields(cls)}.get("model_type")
        return None if f is None else f.default

    @classmethod
    def translate_keys(cls, d: dict) -> dict:
        """Hook: rewrite legacy/official keys into field names (default: unchanged)."""
        return d

    @classmethod
    def unknown_keys(cls, d: dict) -> list[str]:
        names = {f.name for f in dataclasses.fields(cls)}
        return [k for k in cls.translate_keys(dict(d)) if k not in names and k not in cls.silent_keys]

    @classmethod
    def fits(cls, d: dict) -> bool:
        """Whether a config dict without ``model_type`` reads as this class: no unknown key and
        every required field present."""
        required = {f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        return not cls.unknown_keys(d) and required <= set(cls.translate_keys(dict(d)))

    @classmethod
    def from_dict(cls, d: dict):
        expected, found = cls.default_model_type(), d.get("model_type")
        if (found is not None and found != expected) or (found is None and expected and not cls.fits(d)):
            raise InputError(f"this folder holds a {found or 'unknown'!r} model, not a {cls.display_name} model "
                             f"(config.json model_type must be {expected!r})")
        unknown = cls.unknown_keys(d)
        if unknown:
            warnings.warn(f"ignoring unknown {cls.display_name} config keys {sorted(unknown)}", stacklevel=3)
        d = cls.translate_keys(dict(d))
        fields = dataclasses.fields(cls)
        missing = [f.name for f in fields if f.name not in d and f.default is dataclasses.MISSING
                   and f.default_factory is dataclasses.MISSING]
        if missing:
            raise InputError(f"{cls.display_name} config lacks required key(s) {missing}")
        names = {f.name for f in fields}
        return cls(**{k: v for k, v in d.items() if k in names})

    def to_dict(self) -> dict:
        """Fields as a JSON-ready dict (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


# ---------------------------------------------------------------------- folder I/O
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


def read_vocab(folder: Path, kind: str = "model") -> list[str]:
    """Lines of ``vocab.txt``."""
    f = folder / "vocab.txt"
    if not f.exists():
        raise InputError(f"model folder has no vocab.txt (not a {kind} checkpoint)", folder)
    return f.read_text().splitlines()


def read_weights(folder: Path, device: str = "cpu") -> dict:
    """The tensors of ``model.safetensors`` (any float dtype), with clear errors."""
    from safetensors.torch import load_file

    f = folder / "model.safetensors"
    if not f.exists():
        raise InputError("model folder has no model.safetensors", folder)
    try:
        return load_file(str(f), device=device)
    except Exception as e:
        raise InputError(f"cannot read weights, the file is corrupted or not safetensors ({e})", f) from None


def assign_weights(model: nn.Module, state: dict, source: Path | None = None) -> None:
    """Copy ``state`` into ``model`` (cast to the model's dtypes); key or shape mismatches are
    :class:`InputError` naming ``source``."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        raise InputError(f"weights do not match this model type: missing {missing[:3]}, unexpected "
                         f"{unexpected[:3]}", source)
    bad = [k for k in own if own[k].shape != state[k].shape]
    if bad:
        raise InputError(f"weight shapes do not match the config: {bad[0]} {tuple(state[bad[0]].shape)} vs "
                         f"{tuple(own[bad[0]].shape)}", source)
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})


def load_weights(model: nn.Module, folder: Path, device: str = "cpu") -> None:
    """Load ``model.safetensors`` (any float dtype) into ``model`` with clear errors."""
    assign_weights(model, read_weights(folder, device), folder / "model.safetensors")
    model.to(device)


def share_like_umask(folder: Path) -> None:
    """Give ``folder`` and everything in it the permissions plain ``mkdir``/``open`` would (the
    umask), not the private 0700/0600 of ``mkdtemp`` and safetensors, so shared models load."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(folder, 0o777 & ~mask)
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o777 & ~mask)
        for f in files:
            os.chmod(os.path.join(root, f), 0o666 & ~mask)


def swap_folder(src: Path, dest: Path) -> None:
    """Rename the finished folder ``src`` to ``dest``, replacing an existing one (the old folder is
    moved aside first, so ``dest`` is never half-written)."""
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        dest.rename(old)
        src.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        src.rename(dest)


def save_model_folder(model: nn.Module, path: str | os.PathLike, half: bool = False,
                      extra_files: dict[str, str] | None = None) -> None:
    """Write ``model.safetensors`` (fp16 floats with ``half=True``) + ``config.json`` (+ ``vocab.txt``
    when the model has a vocab) into ``path`` atomically (a temporary folder renamed into place)."""
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
        share_like_umask(tmp)
        swap_folder(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# ---------------------------------------------------------------------- models
class Pretrained:
    """Save/load mixin of every model (``nn.Module`` subclasses with a ``config``).

    Subclasses set ``config_class`` and, when the constructor needs more than the config (a
    vocabulary, buffers from the weights), override :meth:`build_from_folder`.
    """

    config_class: ClassVar[type[ModelConfig]]

    def save_pretrained(self, path: str | os.PathLike, half: bool = False) -> None:
        """Write ``model.safetensors`` (fp32, or fp16 with ``half=True``), ``config.json`` and
        ``vocab.txt`` (models with a vocabulary) to the folder ``path`` atomically."""
        save_model_folder(self, path, half=half)

    @classmethod
    def build_from_folder(cls, config: ModelConfig, folder: Path, state: dict):
        """Hook: a fresh model for ``config`` (weights are assigned afterwards)."""
        return cls(config)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, device: str = "cpu"):
        """Load from a local folder or a Hugging Face hub id (one code path)."""
        folder = resolve_model_folder(name_or_path)
        config = cls.config_class.from_dict(read_config(folder))
        state = read_weights(folder, device)
        model = cls.build_from_folder(config, folder, state)
        assign_weights(model, state, folder / "model.safetensors")
        return model.to(device)


def register_model(cls: type) -> type:
    """Class decorator: make ``cls`` loadable by :func:`load_model` under its config's ``model_type``."""
    MODEL_TYPES[cls.config_class.default_model_type()] = cls
    return cls


def model_class(model_type: str) -> type:
    """The registered class of ``model_type`` (shipped types are imported on first use)."""
    if model_type not in MODEL_TYPES and model_type in SHIPPED_MODEL_MODULES:
        importlib.import_module(SHIPPED_MODEL_MODULES[model_type])
    if model_type not in MODEL_TYPES:
        known = sorted(set(MODEL_TYPES) | set(SHIPPED_MODEL_MODULES))
        raise InputError(f"unknown model_type {model_type!r} (known: {', '.join(known)})")
    return MODEL_TYPES[model_type]


def infer_model_type(config: dict) -> str:
    """``model_type`` of a config dict; without one, the single model type whose config fits it."""
    if config.get("model_type"):
        return str(config["model_type"])
    fitting = []
    for t in sorted(set(MODEL_TYPES) | set(SHIPPED_MODEL_MODULES)):
        if model_class(t).config_class.fits(config):
            fitting.append(t)
    if len(fitting) != 1:
        raise InputError("config.json has no model_type and its keys fit "
                         f"{'no model type' if not fitting else 'several model types: ' + ', '.join(fitting)}")
    return fitting[0]


def load_model(name_or_path: str | os.PathLike, device: str = "cpu"):
    """Any saved model (folder or hub id), as the class named by its ``config.json`` ``model_type``."""
    folder = resolve_model_folder(name_or_path)
    return model_class(infer_model_type(read_config(folder))).from_pretrained(folder, device=device)
