"""Deprecated alias of :mod:`contrastomics.report` (split into tables, figures, heatmap, html,
graphml and outputs)."""
from . import figures, heatmap, tables
from .figures import (BIG_CLUSTERS, BIG_POINTS, PALETTE, SINGLETON_COLOR, cluster_color, is_big,  # noqa: F401
                      png_bytes, point_colors)
from .graphml import GRAPHML_MAX, graphml_text  # noqa: F401
from .heatmap import MAX_HEATMAP_ROWS, heatmap_png  # noqa: F401
from .html import MAX_MEMBERS_SHOWN, MAX_TABLE_ROWS, html_text  # noqa: F401
from .outputs import write_outputs  # noqa: F401
from .tables import json_text, nes_by_condition, summary_table, tsv_text  # noqa: F401

_RENAMED = {"_jsonable": (tables, "jsonable"), "_fmt": (tables, "format_metric"),
            "_figure": (figures, "map_figure"), "_plot_html": (figures, "plot_html"),
            "_up": (figures, "is_up"), "_short": (figures, "shorten"),
            "_label_spots": (figures, "label_spots"), "_heatmap_figure": (heatmap, "heatmap_figure")}


def __getattr__(name: str):
    if name in _RENAMED:  # the old private names, now public in their modules
        module, new = _RENAMED[name]
        return getattr(module, new)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
