"""``write_outputs``: every output file of a clustering, written into a hidden staging folder inside
the output folder and moved into place only when all are complete (a failure or ``kill -9`` never
leaves a half-finished or mixed output folder; the next run removes what a killed one left; a
failed write, e.g. a full disk, is an ``OSError`` naming the output file); ``cluster_to_folder``."""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path

from ..cluster import ClusterResult, run_clustering
from .figures import EDGES_MAX, png_bytes
from .graphml import GRAPHML_MAX, edge_pairs, write_graphml
from .heatmap import heatmap_png
from .html import html_text
from .tables import json_text, jsonable, nes_by_condition, summary_table, tsv_text

#: every file a clustering may write; one an earlier run wrote and this run does not is removed
OUTPUT_FILES = ("clusters.tsv", "clusters.json", "summary.json", "summary.md", "report.html", "clusters.png",
                "network.graphml", "nes_by_condition.tsv", "nes_heatmap.png")
#: the staging folder of a run inside the output folder: ``.contrastomics-run.<pid>.<random>``
STAGE_PREFIX = ".contrastomics-run."
# hidden temp files of our own writes: atomic writes of the outputs (``.clusters.ab12cd_3.tsv``,
# older versions) and the write probe of ``_io.check_output``
_TEMP_FILE = re.compile(r"^\.(?:(?:%s)\.[a-z0-9_]{8}\.(?:%s)|contrastomics-write-check\.[a-z0-9_]{8})$" % (
    "|".join(sorted({re.escape(f.rsplit(".", 1)[0]) for f in OUTPUT_FILES})),
    "|".join(sorted({re.escape(f.rsplit(".", 1)[1]) for f in OUTPUT_FILES}))))


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours from an earlier call: this call has not made its own yet
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's live process
        return True
    return True


def clean_stale(out_dir: str | Path) -> list[str]:
    """Remove what killed runs left in ``out_dir``: staging folders of processes no longer running
    and hidden temp files of our own writes (never other files). Returns the removed names."""
    out = Path(out_dir)
    if not out.is_dir():
        return []
    removed = []
    for entry in os.scandir(out):
        name = entry.name
        if name.startswith(STAGE_PREFIX) and entry.is_dir(follow_symlinks=False):
            pid = name[len(STAGE_PREFIX):].split(".", 1)[0]
            if pid.isdigit() and _running(int(pid)):
                continue  # a run writing into the same folder right now
            shutil.rmtree(entry.path, ignore_errors=True)
        elif _TEMP_FILE.match(name) and entry.is_file(follow_symlinks=False):
            os.unlink(entry.path)
        else:
            continue
        removed.append(name)
    return removed


def _put(stage: Path, name: str, write) -> None:
    """``write(stage / name)``; an ``OSError`` (full disk...) becomes one naming the output file:
    ``cannot write OUT/NAME: No space left on device``."""
    try:
        write(stage / name)
    except OSError as e:
        raise OSError(e.errno, f"cannot write {stage.parent / name}: {e.strerror or e}") from None


def _render(result, stage: Path, report: bool, title: str) -> list[str]:
    """Write every output file of ``result`` into ``stage``; returns their names in writing order."""
    texts: dict[str, str] = {
        "clusters.tsv": tsv_text(result.table),
        "clusters.json": json_text(result.table, result.clusters, result.summary),
        "summary.json": json.dumps(jsonable(result.summary), indent=1),
        "summary.md": summary_table(result.summary),
    }
    if report:
        if "x" not in result.table.columns:
            raise ValueError("report needs 2-D coordinates: run the clustering with layout=True")
        a, b, _ = edge_pairs(result)
        texts["report.html"] = html_text(result.table, result.clusters, result.summary, title,
                                         edges=(a, b) if len(result.table) <= EDGES_MAX else None)
    conds = result.summary.get("conditions") or []
    by_cond = nes_by_condition(result.table, result.clusters, conds) if len(conds) > 1 else None
    for name, text in texts.items():
        _put(stage, name, lambda p, t=text: p.write_text(t, encoding="utf-8"))
    names = list(texts)
    if report:
        png = png_bytes(result.table, result.clusters)
        _put(stage, "clusters.png", lambda p: p.write_bytes(png))
        names.append("clusters.png")
    if result.graph is not None and len(result.table) <= GRAPHML_MAX:
        try:
            _put(stage, "network.graphml", lambda p: write_graphml(result, p))
            names.append("network.graphml")
        except OSError:
            raise  # a full disk stops the run; the other files would not fit either
        except Exception as exc:  # noqa: BLE001 - an optional export must not cost the other files
            warnings.warn(f"network.graphml not written: {exc}", stacklevel=3)
    if by_cond is not None:
        text = by_cond.to_csv(sep="\t", index=False, float_format="%.6g")
        _put(stage, "nes_by_condition.tsv", lambda p: p.write_text(text, encoding="utf-8"))
        names.append("nes_by_condition.tsv")
        if report:
            _put(stage, "nes_heatmap.png", lambda p: heatmap_png(by_cond, conds, p))
            names.append("nes_heatmap.png")
    return names


def write_outputs(result, out_dir: str | Path, *, report: bool = True, title: str = "contrastomics cluster") -> list[Path]:
    """Write ``clusters.tsv``, ``clusters.json``, ``summary.json``, ``summary.md``,
    ``network.graphml`` (up to :data:`GRAPHML_MAX` pathways; :func:`write_graphml`) and (with
    ``report``) ``report.html`` + ``clusters.png`` into ``out_dir``; with several conditions also
    ``nes_by_condition.tsv`` and (with ``report``) ``nes_heatmap.png``. Returns the written paths.

    The files are written into a hidden staging folder in ``out_dir`` and moved into place once all
    are complete; files of :data:`OUTPUT_FILES` that an earlier run wrote and this one does not
    (e.g. ``nes_*`` after a multi-condition run) are removed; other files are left alone."""
    out = Path(out_dir)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    clean_stale(out)
    stage = Path(tempfile.mkdtemp(dir=out, prefix=f"{STAGE_PREFIX}{os.getpid()}."))
    done = False
    try:
        names = _render(result, stage, report, title)
        blocked = [n for n in names if (out / n).is_dir()]  # checked before any file is moved
        if blocked:
            raise IsADirectoryError(21, f"cannot write {out / blocked[0]}: a folder of that name is in the way")
        for name in names:
            os.replace(stage / name, out / name)
        for name in OUTPUT_FILES:
            if name not in names and (out / name).is_file():
                os.unlink(out / name)
        done = True
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if created and not done:
            try:
                out.rmdir()  # a folder made for this run, and it failed: leave nothing behind
            except OSError:
                pass
    return [out / n for n in names]


def cluster_to_folder(result, out_dir: str | Path, *, report: bool = True, title: str = "contrastomics cluster",
                      **options) -> tuple[ClusterResult, list[Path]]:
    """Cluster ``result`` (:func:`~contrastomics.cluster.run_clustering` with ``options``; map
    coordinates when ``report``) and write its files into ``out_dir`` (:func:`write_outputs`).
    Leftovers of killed runs in ``out_dir`` are removed first (:func:`clean_stale`). Returns the
    :class:`~contrastomics.cluster.ClusterResult` and the written paths."""
    clean_stale(out_dir)
    res = run_clustering(result, layout=report, **options)
    return res, write_outputs(res, out_dir, report=report, title=title)
