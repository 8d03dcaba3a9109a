"""Option checks shared by the sub-commands: each raises :class:`~contrastomics.errors.InputError`
(one line ``error: ...`` on the console) before any work starts or any file is written."""
from __future__ import annotations

import math
from typing import Iterable, Optional

from ..errors import InputError


def at_least(value: Optional[float], least: float, option: str) -> None:
    """``option`` (e.g. ``"--epochs"``) must be ``>= least`` when given."""
    if value is not None and not value >= least:
        raise InputError(f"{option} must be >= {least:g}, got {value}")


def positive(value: Optional[float], option: str) -> None:
    """``option`` must be a finite number ``> 0`` when given (a learning rate, a temperature)."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise InputError(f"{option} must be a finite number > 0, got {value}")


def fraction(value: Optional[float], option: str, *, closed: bool = True) -> None:
    """``option`` must lie in ``[0, 1]`` (``closed``) or ``[0, 1)`` when given (a dropout, a test share)."""
    if value is not None and not (0 <= value <= 1 if closed else 0 <= value < 1):
        raise InputError(f"{option} must be in [0, 1{']' if closed else ')'}, got {value}")


def contrastive_batch(value: Optional[int], item: str, option: str = "--batch-size") -> None:
    """An InfoNCE batch holds at least 2 ``item`` s (each is contrasted with the others of its batch)."""
    if value is not None and value < 2:
        raise InputError(f"{option} must be >= 2 (InfoNCE contrasts each {item} with the others of its batch), "
                         f"got {value}")


def threads(value: Optional[int], option: str = "--threads") -> None:
    at_least(value, 1, option)


def device(name: Optional[str], option: str = "--device") -> None:
    """``cpu``, ``cuda``, ``cuda:N`` or ``mps``, and available on this machine."""
    if name in (None, "", "auto"):
        return
    import torch  # only the training commands take --device, and they import torch anyway
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError):
        raise InputError(f"{option} {name!r} is not a device; use cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"{option} {name!r}: CUDA is not available on this machine; use --device cpu")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise InputError(f"{option} {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"{option} {name!r}: MPS is not available on this machine; use --device cpu")


def exclusive(option_values: Iterable[tuple[str, object]]) -> None:
    """At most one of ``(option, value)`` may be given (not ``None`` / empty)."""
    given = [o for o, v in option_values if v not in (None, "", [], ())]
    if len(given) > 1:
        raise InputError(f"{' and '.join(given)} were both given; give one")


def int_list(text: Optional[str], option: str, *, least: int = 0) -> Optional[list[int]]:
    """``"0,1,2"`` -> ``[0, 1, 2]``; each ``>= least``; a clear error for anything else."""
    if text is None:
        return None
    parts = [p.strip() for p in str(text).split(",")]
    if not parts or any(not p.lstrip("-").isdigit() for p in parts):
        raise InputError(f"{option} must be comma-separated whole numbers, got {text!r}")
    values = [int(p) for p in parts]
    if any(v < least for v in values):
        raise InputError(f"{option} values must be >= {least}, got {text!r}")
    return values
