"""Deprecated alias of :mod:`contrastomics.training.loop`."""
from .training.loop import *  # noqa: F401,F403
