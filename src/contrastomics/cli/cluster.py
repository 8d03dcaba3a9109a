"""`contrastomics cluster`, `cluster-metrics` and `gsea` commands."""
from __future__ import annotations

import contextlib
import re
import warnings
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import InputError

METHOD_HELP = ("joint (GO ontology similarity for GO results + gene-set overlap + gtCLIP towers + NES "
               "direction; default) | text | genes | overlap "
               "(EnrichmentMap + MCL) | overlap-knn (leading-edge Jaccard kNN + Leiden) | kappa (DAVID) | "
               "semantic (GO semantic similarity, GO results only)")


def _split_names(names: Optional[List[str]]) -> Optional[List[str]]:
    if not names:
        return None
    out = [n.strip() for item in names for n in item.split(",") if n.strip()]
    return out or None


def _at_least_one(value: Optional[int], option: str) -> None:
    if value is not None and value < 1:
        raise InputError(f"{option} must be at least 1, got {value}")


def _check_seed(seed: int) -> None:
    if seed < 0:
        raise InputError(f"--seed must be a non-negative integer, got {seed}")


def _cli_format(fmt: Optional[str]) -> Optional[str]:
    """``--format`` checked in the CLI's words (the reader's message speaks Python: ``format=``)."""
    from ..enrichment.layouts import FORMATS, normalise_format
    if fmt is None:
        return None
    try:
        return normalise_format(fmt)
    except InputError:
        raise InputError(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}, or name the columns "
                         "with --column ROLE=COLUMN") from None


def _cli_words(e: InputError) -> InputError:
    """``e`` with the reader's Python spelling (``format='gseapy'``) as the option (``--format gseapy``)."""
    problem = re.sub(r"\bformat=(['\"])([\w-]+)\1", r"--format \2", e.problem)
    problem = problem.replace("drop format=", "drop --format")
    problem = re.sub(r"^fdr_cutoff must", "--fdr must", problem).replace("FDR < fdr_cutoff", "FDR < --fdr")
    return InputError(problem, e.path, e.line)


@contextlib.contextmanager
def _each_warning_once(prefixes: List[str]):
    """Show each warning once, its text compared without a leading prefix of ``prefixes`` (read at
    each warning: GSEA's ``gseapy: `` and then the written table's ``PATH: `` say the same thing)."""
    seen, show = set(), warnings.showwarning

    def once(message, category, filename, lineno, file=None, line=None):
        text = str(message)
        key = next((text[len(p):] for p in prefixes if text.startswith(p)), text)
        if key not in seen:
            seen.add(key)
            show(message, category, filename, lineno, file, line)
    warnings.showwarning = once
    try:
        yield
    finally:
        warnings.showwarning = show


def _column_mapping(items: List[str]) -> dict:
    """``["term=Pathway", "fdr=q"]`` -> ``{"term": "Pathway", "fdr": "q"}`` (a column name may hold commas)."""
    out = {}
    for item in items:
        role, sep, col = item.partition("=")
        if not sep or not role.strip() or not col.strip():
            raise InputError(f"--column takes ROLE=COLUMN (e.g. --column fdr=padj), got {item!r}")
        out[role.strip().lower()] = col.strip()
    return out


def cluster(
    results: Optional[List[Path]] = typer.Argument(None, help="GSEA / enrichment result file(s) or folder(s): "
                                                   "gseapy, GSEA desktop, fgsea, clusterProfiler, Enrichr."),
    out: Path = typer.Option(Path("clusters"), "--out", "-o", help="Output folder."),
    demo: bool = typer.Option(False, "--demo", help="Cluster the shipped demo result (leukemia ALL vs AML, GO BP)."),
    fdr: float = typer.Option(0.05, "--fdr", help="Keep pathways with FDR / adjusted p-value below this (FDR < cut-off; 1 keeps every pathway)."),
    method: str = typer.Option("joint", "--method", "-m", help=METHOD_HELP),
    resolution: str = typer.Option("auto", "--resolution", help="Leiden resolution, or 'auto' (~n/15 clusters)."),
    partition: str = typer.Option("auto", "--partition", help="auto (Ward for joint/text/genes, Leiden for the "
                                  "graph baselines) | ward | average | leiden."),
    n_clusters: Optional[int] = typer.Option(None, "--n-clusters", help="Number of clusters (>= 2 members) to "
                                             "return; leftovers join their nearest cluster (--resolution auto). "
                                             "At most half the pathways; clusters of 2 are allowed when needed."),
    split_direction: bool = typer.Option(False, "--split-direction", help="Never put up- and down-regulated pathways "
                                         "in one cluster (joint already weighs direction in its similarity)."),
    min_cluster_size: int = typer.Option(3, "--min-cluster-size", help="Smaller clusters are dissolved and their "
                                         "members attached to the nearest cluster when similar enough; a larger "
                                         "size lowers the default count to n / size."),
    gmt: Optional[str] = typer.Option(None, "--gmt", help="GMT with the full gene sets and descriptions "
                                      "(default: built-in GO for GO results, else leading edges only)."),
    model: Optional[str] = typer.Option(None, "--model", help="gtCLIP model folder or hub id (default: shipped)."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Input format: gseapy, gsea-desktop, fgsea, "
                                      "clusterprofiler, enrichr, gprofiler, webgestalt, david, generic "
                                      "(default: detected from the columns)."),
    column: Optional[List[str]] = typer.Option(None, "--column", help="ROLE=COLUMN for a table of any other "
                                               "tool (repeat): roles term, fdr (required), nes, genes, name, "
                                               "pvalue, es, size, condition; e.g. --column term=Pathway "
                                               "--column fdr=q."),
    names: Optional[List[str]] = typer.Option(None, "--names", help="Condition names, one per result "
                                              "(repeat or comma-separate)."),
    k: Optional[int] = typer.Option(None, "--k", help="Neighbours per pathway in the kNN graph (default ~10-15)."),
    representative: str = typer.Option("central", "--representative", help="central (the member most others sit near in meaning) | medoid | significant (lowest FDR)"),
    seed: int = typer.Option(0, "--seed"),
    report: bool = typer.Option(True, "--report/--no-report", help="Write report.html and clusters.png."),
) -> None:
    """Group the significant pathways of a GSEA result into labelled communities.

    Writes clusters.tsv, clusters.json, summary.json/.md, network.graphml, report.html and clusters.png
    into --out (with several conditions also nes_by_condition.tsv and nes_heatmap.png).
    """
    from rich.markup import escape

    from .._io import check_output
    from ..cluster.labels import mixed_note
    from ..enrichment.read import demo_result_path
    from ..report import cluster_to_folder, summary_table
    from ..report.figures import shorten
    from . import make_console

    console = make_console()
    if demo:
        if results:
            raise InputError("give either --demo or result files, not both")
        try:
            results = [demo_result_path()]
        except FileNotFoundError as e:
            raise InputError(str(e)) from None
    if not results:
        raise InputError("no result file given (or use --demo)")
    res_value: "float | str" = resolution
    if resolution != "auto":
        try:
            res_value = float(resolution)
        except ValueError:
            res_value = float("nan")
        if not 0 < res_value < float("inf"):
            raise InputError(f"--resolution must be a positive number or 'auto', got {resolution!r}")
    _at_least_one(k, "--k")
    _at_least_one(n_clusters, "--n-clusters")
    _at_least_one(min_cluster_size, "--min-cluster-size")
    _check_seed(seed)
    check_output(out, folder=True)
    if column:
        if fmt is not None and fmt.strip().lower() != "generic":
            raise InputError(f"give either --format {fmt} or --column, not both")
        fmt = _column_mapping(column)
    else:
        fmt = _cli_format(fmt)
    arg = [str(r) for r in results] if len(results) > 1 else str(results[0])
    title = "contrastomics cluster: " + (", ".join(Path(str(r)).name for r in results))
    try:
        with console.status("clustering pathways…"):
            res, written = cluster_to_folder(
                arg, out, report=report, title=title, method=method, fdr_cutoff=fdr, resolution=res_value,
                partition=partition, n_clusters=n_clusters, split_direction=split_direction,
                min_cluster_size=min_cluster_size, model=model, gene_sets=gmt, names=_split_names(names),
                format=fmt, k=k, representative=representative, seed=seed)
    except InputError as e:
        raise _cli_words(e) from None
    if gmt and res.summary.get("n_significant") and not res.summary.get("n_full_sets_from_library"):
        warnings.warn(f"--gmt {gmt}: none of the {res.summary['n_significant']} pathways is in this library "
                      "(other names or ids?); the leading edges stand in for the full gene sets", stacklevel=1)
    console.print(summary_table(res.summary))
    shown = res.clusters[~res.clusters["singleton"]]
    top = shown.head(10)
    for rec in top.to_dict("records"):
        share = rec.get("theme_support", float("nan"))  # the share of members under the theme
        theme = (f" [cyan]\\[{escape(shorten(rec['theme'], 40))}{f' {share:.0%}' if share == share else ''}][/cyan]"
                 if rec.get("theme") else "")
        signs = f", ▲{rec['n_up']} ▼{rec['n_down']}" if rec["mean_nes"] == rec["mean_nes"] else ""  # no NES: ORA
        sup = rec.get("label_support", float("nan"))
        support = f" [dim](label support {sup:.0%})[/dim]" if sup == sup else ""
        console.print(f"  [bold]{rec['cluster']:>3}[/bold] ({rec['size']:>3}{signs}) {escape(shorten(rec['label'], 80))}"
                      f"{support}{theme}  [dim]{escape(shorten(rec['keywords'], 60))}[/dim]")
        note = mixed_note(sup, rec.get("sub_themes"), lambda t: escape(shorten(t, 110)))
        if note:  # a mixed cluster: its label names few members
            console.print(f"        [yellow]mixed;[/yellow] {note}")
    if len(shown) > len(top):
        console.print(f"  ... and {len(shown) - len(top)} more (see clusters.tsv)")
    console.print(f"wrote {', '.join(p.name for p in written)} to {escape(str(out))}/")


def cluster_metrics(
    clusters_tsv: Path = typer.Argument(..., help="clusters.tsv written by `contrastomics cluster`."),
    gmt: Optional[str] = typer.Option(None, "--gmt", help="GMT with the full gene sets (default: built-in GO "
                                      "for GO terms, else leading edges)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the metrics as JSON here."),
    n_random: int = typer.Option(200, "--n-random", help="Random clusterings for the chance level (>= 100)."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Metrics of a clustering: NES coherence vs chance, within/between Jaccard, silhouettes."""
    import json

    from .._io import atomic_write, check_output
    from ..cluster.metrics import evaluate_file
    from ..report import jsonable, summary_table
    from . import make_console

    if n_random < 100:
        raise InputError("--n-random must be at least 100")
    _check_seed(seed)
    if out:
        check_output(out, folder=False)
    summary = evaluate_file(clusters_tsv, gene_sets=gmt, n_random=n_random, seed=seed)
    make_console().print(summary_table(summary))
    text = json.dumps(jsonable(summary["metrics"]), indent=1)
    if out:
        with atomic_write(out) as fh:
            fh.write(text)
    else:
        typer.echo(text)


def register(app: typer.Typer) -> None:
    """Add the top-level clustering commands to ``app``."""
    app.command("cluster")(cluster)
    app.command("cluster-metrics")(cluster_metrics)
    app.command("gsea")(gsea)


def gsea(
    data: Path = typer.Argument(..., help="Ranked gene list (.rnk: gene<TAB>score), or an expression table "
                                "(.gct / tab text, genes x samples) followed by its CLASSES file."),
    classes: Optional[Path] = typer.Argument(None, help=".cls phenotype file for an expression table "
                                             "(two-class GSEA); leave out for a .rnk."),
    library: str = typer.Option("GO_BP", "--library", "--gene-sets", "-l", "-g",
                                help="GMT file or built-in library (GO_BP, GO_MF, GO_CC, DO)."),
    out: Path = typer.Option(Path("gsea"), "--out", "-o", help="Output folder: GSEA table + clusters + report."),
    cls: Optional[Path] = typer.Option(None, "--cls", help="Same as CLASSES (kept for scripts)."),
    chip: Optional[Path] = typer.Option(None, "--chip", help=".chip file mapping probe ids to gene symbols."),
    permutations: int = typer.Option(1000, "--permutations", "-n", help="Number of permutations."),
    permutation_type: str = typer.Option("phenotype", "--permutation-type", help="phenotype | gene_set (with classes)."),
    metric: str = typer.Option("signal_to_noise", "--metric", help="Ranking metric with classes (gseapy names)."),
    min_size: int = typer.Option(15, "--min-size"),
    max_size: int = typer.Option(500, "--max-size"),
    threads: int = typer.Option(1, "--threads", help="CPU threads for gseapy (>= 1)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the permutations and the clustering (>= 0)."),
    do_cluster: bool = typer.Option(True, "--cluster/--no-cluster", help="Cluster the significant pathways "
                                    "(as `contrastomics cluster`) into the same folder."),
    fdr: float = typer.Option(0.25, "--fdr", help="FDR cut-off for the clustering (GSEA's own suggestion, "
                              "0.25; `contrastomics cluster` defaults to 0.05)."),
    method: str = typer.Option("joint", "--method", "-m", help=METHOD_HELP),
    split_direction: bool = typer.Option(False, "--split-direction", help="Never put up- and down-regulated pathways "
                                         "in one cluster (joint already weighs direction in its similarity)."),
    report: bool = typer.Option(True, "--report/--no-report", help="Write report.html and clusters.png."),
) -> None:
    """Run GSEA with gseapy (prerank on a .rnk, two-class GSEA on EXPR CLASSES), then cluster the
    significant pathways: from expression to labelled communities in one command.

    Example: contrastomics gsea Leukemia.txt Leukemia.cls --library GO_BP --out leukemia/
    """
    from .._io import check_output
    from ..enrichment.run import run_to_folder
    from ..report import cluster_to_folder, summary_table
    from . import make_console

    if classes is not None and cls is not None and Path(classes) != Path(cls):
        raise InputError(f"two class files given ({classes} and --cls {cls}); give one")
    cls = classes if classes is not None else cls
    _at_least_one(threads, "--threads")
    _check_seed(seed)
    if do_cluster:  # the clustering's options are checked before GSEA's permutations, not after them
        from ..cluster.api import ClusterOptions
        try:
            ClusterOptions(method=method, fdr_cutoff=fdr, split_direction=split_direction, seed=seed)
        except InputError as e:
            raise _cli_words(e) from None
    check_output(out, folder=True)
    console = make_console()
    prefixes = ["gseapy: "]
    with _each_warning_once(prefixes):
        with console.status(f"gseapy: {permutations} permutations…"):
            path = run_to_folder(data, library, out, cls=cls, chip=chip, permutations=permutations, seed=seed,
                                 min_size=min_size, max_size=max_size, permutation_type=permutation_type,
                                 method=metric, threads=threads)
        prefixes.append(f"{path}: ")  # the clustering reads the table the run has just warned about
        console.print(f"wrote {path}")
        if not do_cluster:
            typer.echo(f"next: contrastomics cluster {out}")
            return
        gmt = library if Path(library).exists() else library.upper().replace("-", "_")
        try:
            with console.status("clustering pathways…"):
                res, written = cluster_to_folder(str(path), out, report=report,
                                                 title=f"contrastomics gsea: {Path(data).name}", method=method,
                                                 fdr_cutoff=fdr, split_direction=split_direction, gene_sets=gmt,
                                                 seed=seed)
        except InputError as e:
            raise InputError(f"GSEA finished ({path}) but clustering stopped: {e}") from None
    console.print(summary_table(res.summary))
    console.print(f"wrote {', '.join(p.name for p in written)} to {out}/")
