"""`contrastomics cluster`, `cluster-metrics` and `gsea` commands."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the top-level clustering commands to ``app``."""
