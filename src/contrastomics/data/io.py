"""Deprecated alias of :mod:`contrastomics._io` (kept so old imports work)."""
from .._io import GZIP_MAGIC, atomic_path, atomic_write, cache_root, is_gzip, open_text  # noqa: F401
