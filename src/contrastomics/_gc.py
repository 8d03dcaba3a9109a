"""The garbage collector in a command-line run.

The built-in data (GO: ~47,000 terms, their ancestor sets, the annotations and libraries) are
millions of long-lived Python objects, and every later full collection walks them again: 0.3 s of
a 3 s ``contrastomics cluster`` run. The command line turns :func:`freeze_after_loads` on; then
:func:`loaded`, which the built-in data loaders call, moves every object alive at that point out of
the collector's reach (:func:`gc.freeze`). Python sessions (the API, notebooks) keep the default
collector: there the flag stays off.
"""
from __future__ import annotations

import gc

_FREEZE = False


def freeze_after_loads(on: bool = True) -> None:
    """Make :func:`loaded` freeze the collector's objects (``on``) or do nothing (the default)."""
    global _FREEZE
    _FREEZE = bool(on)


def loaded() -> None:
    """A large, long-lived structure was just loaded: with :func:`freeze_after_loads` on, exempt
    everything alive now from later collections (objects stay valid; they are only never scanned
    for reference cycles again)."""
    if _FREEZE:
        gc.freeze()
