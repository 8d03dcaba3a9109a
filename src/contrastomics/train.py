"""Deprecated alias of :mod:`contrastomics.training.loop`."""
from .training.loop import *  # noqa: F401,F403
from .training.loop import _save_checkpoint, fit, move_to, resolve_device, seed_everything  # noqa: F401
