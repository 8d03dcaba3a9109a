"""``cluster_gsea`` / ``run_clustering``: a GSEA / enrichment result in, labelled pathway communities out.

:func:`~contrastomics.cluster.pathways.prepare` reads and filters the result; the method builds a
graph (kNN in the joint space of :mod:`~contrastomics.cluster.embed`, or a baseline of
:mod:`~contrastomics.cluster.baselines`); Leiden (MCL for ``overlap``) partitions it, small clusters
are attached, then labels, map and :mod:`~contrastomics.cluster.tables`. Every option is a field of
:class:`ClusterOptions`. The pipeline step by step and the default weights: docs/clustering.md.
Every random step is seeded by ``seed``: the same input gives the same clusters.
"""
from __future__ import annotations

import inspect
import numbers
import os
import time
import warnings
from dataclasses import dataclass, fields, replace
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..data.hallmark import hallmark_codes
from ..data.ontology import extract_go_id, is_go_result
from ..data.reactome import load_hierarchy, result_rows
from ..enrichment.convert import same_direction_pairs
from ..errors import InputError
from ..evaluate.semantic import go_similarity_for
from . import baselines as bl
from .communities import (LINKAGE_MAX_N, attach_small, identical_groups, join_identical, leiden, leiden_auto,
                          linkage_partition, mcl, merge_to, n_clusters_of, order_labels, split_to, target_clusters)
from .embed import METHOD_WEIGHTS, StandInModel, embedding_model, joint_space
from .graph import default_k, knn_from_embedding
from .keywords import phrase_sets, source_words, title_keywords
from .library_parts import PART_NAMES, PartSimilarity, library_parts, part_reactome_rows, part_targets, space_rows
from .labels import (cluster_themes, generic_terms, label_support, representatives, sub_themes, support_near,
                     support_summary)
from .layout import cluster_layout, features_from_graph
from .metrics import SPLIT_NOTE, evaluate, go_pairs
from .pathways import Pathways, prepare
from .tables import result_tables

PARTITIONS = ("auto", "leiden", "ward", "average")
REPRESENTATIVES = ("central", "medoid", "significant")
METHODS = ("joint", "text", "genes", "overlap", "overlap-knn", "kappa", "semantic")
#: attach threshold with an explicit ``n_clusters``: any positive similarity to a cluster
ATTACH_ANY = 1e-9
#: the default ``min_cluster_size``
MIN_CLUSTER_SIZE = 3

__all__ = ["METHODS", "ClusterOptions", "ClusterResult", "Pathways", "cluster_gsea", "evaluate", "prepare",
           "run_clustering"]


@dataclass(frozen=True)
class ClusterOptions:
    """Every option of a clustering run: the keyword arguments of :func:`cluster_gsea` and
    :func:`run_clustering`.

    Parameters
    ----------
    method
        ``joint`` (GO ontology similarity for GO results + gene-set overlap + gtCLIP towers + NES
        direction; default), ``text``, ``genes``,
        ``overlap`` (EnrichmentMap + MCL), ``overlap-knn``, ``kappa``, ``semantic`` (GO only).
    fdr_cutoff
        Keep pathways with FDR (or adjusted p-value) ``< fdr_cutoff``, a number in ``(0, 1]``; ``1``
        keeps every pathway.
    resolution
        Leiden resolution, or ``"auto"`` to hit ``n_clusters`` clusters.
    n_clusters
        Target number of clusters for ``resolution="auto"`` (default ``floor(n / 15)``). Given explicitly,
        the run returns about that many clusters of ``>= 2`` members (+- 10% on the development
        results): members of dissolved small clusters join their most similar cluster whenever the
        similarity is positive (``attach_threshold="auto"`` otherwise keeps far ones single).
    partition
        ``leiden`` (communities of the kNN graph), ``ward`` or ``average`` (a linkage tree of the
        space cut at ``n_clusters``; up to 5,000 pathways, Leiden above), or ``auto``: Ward for the
        embedding methods (``joint``, ``text``, ``genes``), Leiden for the graph baselines as their
        peers do. ``overlap`` always uses MCL; a numeric ``resolution`` means Leiden.
    split_direction
        Never put up- and down-regulated pathways in one cluster (``joint`` keeps them apart through
        its ``direction`` view already; this makes it absolute, for every method).
    min_cluster_size
        Smaller clusters are dissolved and their members attached to the nearest cluster when
        similar enough (else they stay singletons).
    attach_threshold
        Similarity (a number) a dissolved member needs to join a cluster (``"auto"``: as close as
        that cluster's own members typically are).
    k
        Neighbours per pathway in the kNN graph (default :func:`~contrastomics.cluster.graph.default_k`).
    model
        gtCLIP model folder / hub id / object (default: the shipped model).
    gene_sets
        Full gene sets and descriptions: GMT path, :class:`~contrastomics.data.genesets.GeneSetLibrary`,
        built-in name (``"GO_BP"``) or ``None`` (built-in GO for GO results, else the leading edges).
    weights
        Share of the joint cosine per view for ``joint`` (default
        :data:`~contrastomics.cluster.embed.DEFAULT_WEIGHTS`).
    gate_leading_edge
        Only pathways sharing a leading-edge gene may be neighbours (default off).
    representative
        ``central`` (among the more central half of the members, the one most others sit near in
        meaning: the label-support relation), ``medoid`` (highest mean similarity to the others) or
        ``significant`` (lowest FDR).
    n_keywords
        c-TF-IDF keywords per cluster (``>= 1``).
    seed
        Seed for Leiden, layout and the metrics' random clusterings (an integer ``>= 0``).
    names
        Condition names, one per result.
    format
        The tool that wrote ``result`` (default: detected from its columns), or ``{"term": ...,
        "fdr": ..., "nes": ..., "genes": ...}`` naming the columns of any other table (see
        :func:`contrastomics.enrichment.read_gsea_result`).
    metrics
        Compute the metrics (``summary["metrics"]``).
    layout
        Compute 2-D map coordinates (columns ``x``, ``y``; needed by the report).
    n_random
        Random clusterings for the chance level of the metrics (``>= 1``).
    """

    method: str = "joint"
    fdr_cutoff: float = 0.05
    resolution: float | str = "auto"
    n_clusters: int | None = None
    partition: str = "auto"
    split_direction: bool = False
    min_cluster_size: int = MIN_CLUSTER_SIZE
    attach_threshold: float | str = "auto"
    k: int | None = None
    model: object = None
    gene_sets: object = None
    weights: dict | None = None
    gate_leading_edge: bool | None = None
    representative: str = "central"
    n_keywords: int = 4
    seed: int = 0
    names: Sequence[str] | None = None
    format: str | dict | None = None
    metrics: bool = True
    layout: bool = False
    n_random: int = 200

    def __post_init__(self):
        if self.method not in METHODS:
            raise InputError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.partition not in PARTITIONS:
            raise InputError(f"unknown partition {self.partition!r}; choose one of {', '.join(PARTITIONS)}")
        if self.representative not in REPRESENTATIVES:
            raise InputError(f"unknown representative rule {self.representative!r}; choose one of "
                             + ", ".join(REPRESENTATIVES))
        if not (_is_number(self.fdr_cutoff) and 0 < self.fdr_cutoff <= 1):
            raise InputError(f"fdr_cutoff must be a number in (0, 1] (pathways with FDR < fdr_cutoff are kept; "
                             f"1 keeps every pathway), got {self.fdr_cutoff!r}")
        for name in ("k", "n_clusters", "min_cluster_size", "n_keywords", "n_random"):
            v = getattr(self, name)
            if (v is not None or name in ("n_keywords", "n_random")) and not _is_whole(v, 1):
                raise InputError(f"{name} must be a whole number of at least 1, got {v!r}")
        if not _is_whole(self.seed, 0):
            raise InputError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.attach_threshold != "auto" and not (_is_number(self.attach_threshold)
                                                    and np.isfinite(self.attach_threshold)):
            raise InputError(f"attach_threshold must be 'auto' or a number (a similarity), "
                             f"got {self.attach_threshold!r}")
        if self.resolution not in ("auto", None) and not (isinstance(self.resolution, (int, float))
                                                          and 0 < self.resolution < float("inf")):
            raise InputError(f"resolution must be a positive number or 'auto', got {self.resolution!r}")

    @classmethod
    def build(cls, caller: str, options: "ClusterOptions | None" = None, **kwargs) -> "ClusterOptions":
        """``options`` (default: all defaults) with ``kwargs`` replacing fields; an unknown name is a
        TypeError naming ``caller``, as for any Python function."""
        known = {f.name for f in fields(cls)}
        unknown = [key for key in kwargs if key not in known]
        if unknown:
            raise TypeError(f"{caller}() got an unexpected keyword argument {unknown[0]!r} "
                            f"(options: {', '.join(sorted(known))})")
        if options is None:
            return cls(**kwargs)
        return replace(options, **kwargs) if kwargs else options


def _is_number(v) -> bool:  # a real number: not a bool, not a numeric string
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _is_whole(v, least: int) -> bool:  # 3 or 3.0 (not True), at least ``least``
    return _is_number(v) and bool(v >= least) and v == int(v)


def check_result_argument(result) -> None:
    """Refuse a ``result`` that is none of a path, a DataFrame, or a non-empty list / dict of them
    (:class:`InputError` naming the argument), before anything is read."""
    allowed = "a result file path, a pandas DataFrame, or a non-empty list / dict of them"
    paths = (str, os.PathLike)
    if isinstance(result, (list, tuple, Mapping)):
        if not result:
            raise InputError(f"result is an empty {type(result).__name__}; give {allowed}")
        items = result.items() if isinstance(result, Mapping) else enumerate(result)
        checks = [(f"result[{key!r}]", r) for key, r in items]
    else:
        checks = [("result", result)]
    for where, r in checks:
        if isinstance(r, pd.Series):
            raise InputError(f"{where} is a pandas Series (one column); pass the whole result table (a "
                             "DataFrame) or its file path")
        if isinstance(r, (list, tuple)) and where != "result" and r and all(isinstance(x, paths) for x in r):
            continue  # the files of one condition (GSEA desktop's pos + neg reports)
        if not isinstance(r, (*paths, pd.DataFrame)):
            raise InputError(f"{where} must be {allowed}; got {type(r).__name__}")


@dataclass
class ClusterResult:
    """Everything a run produced; :attr:`table` is the tidy per-pathway output, sorted by cluster
    then FDR. :attr:`embedding`, :attr:`graph`, :attr:`coords` and :attr:`space` keep the pathways
    in input order: row ``order[r]`` of them is row ``r`` of :attr:`table`."""

    table: pd.DataFrame
    clusters: pd.DataFrame
    summary: dict
    embedding: np.ndarray | None
    graph: sp.csr_matrix
    coords: np.ndarray | None = None
    space: object | None = None  #: the :class:`~contrastomics.cluster.embed.JointSpace` (embedding methods)
    order: np.ndarray | None = None  #: input-order row of each :attr:`table` row


_BLAS = None


def _blas_controller():
    """One ``threadpoolctl`` controller per process (finding the loaded BLAS libraries took ~25 ms
    per run). scikit-learn brings no BLAS of its own (it uses SciPy's), so it is not imported here
    (0.7 s per run)."""
    global _BLAS
    if _BLAS is None:
        import scipy.linalg  # noqa: F401 - load every BLAS a run uses (NumPy's and SciPy's OpenBLAS)
        from threadpoolctl import ThreadpoolController
        _BLAS = ThreadpoolController()
    return _BLAS


def _keyword_options(func):
    """Show :class:`ClusterOptions`' fields as keyword-only parameters of ``func`` (``help()``, IDEs)."""
    sig = inspect.signature(func)
    params = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    params += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type)
               for f in fields(ClusterOptions)]
    func.__signature__ = sig.replace(parameters=params)
    return func


@_keyword_options
def run_clustering(result, options: ClusterOptions | None = None, /, **kwargs) -> ClusterResult:
    """Full run, returning a :class:`ClusterResult`.

    ``result`` as in :func:`cluster_gsea`; the options are :class:`ClusterOptions` (given whole as
    ``options``, as keywords, or both: keywords win). BLAS runs on one thread: the matrices are
    small, and multi-threaded OpenBLAS on a busy two-core machine made small eigen-decompositions
    20x slower."""
    opts = ClusterOptions.build("run_clustering", options, **kwargs)
    check_result_argument(result)
    with _blas_controller().limit(limits=1, user_api="blas"):
        return _run(result, opts)


def _run(result, o: ClusterOptions) -> ClusterResult:
    t0 = time.perf_counter()
    times = {}
    pw = prepare(result, fdr_cutoff=o.fdr_cutoff, gene_sets=o.gene_sets, names=o.names, format=o.format)
    times["prepare"] = time.perf_counter() - t0
    tab = pw.table
    n = len(tab)
    nes = tab["nes"].to_numpy(float)
    fdr = tab["fdr"].to_numpy(float)
    # no NES: up (an over-representation result), or 0 where the reader found the direction unknown
    sign = np.where(np.isnan(nes) | (nes >= 0), 1, -1)
    if "direction" in tab and np.isnan(nes).any():
        sign[np.isnan(nes) & (tab["direction"].to_numpy(float) == 0)] = 0
    split = bool(o.split_direction)
    forbid = sign if split else None
    k = default_k(n) if o.k is None else int(o.k)
    go_terms = pw.go_terms or tab["term"].tolist()
    go_ids = [extract_go_id(str(t)) for t in go_terms]
    go_result = is_go_result(go_ids)
    o, count_notes = _feasible_count(o, n, len(np.unique(sign)))
    target = int(o.n_clusters) if o.n_clusters else target_clusters(n, go=go_result)
    model_name = None

    t1 = time.perf_counter()
    x = None
    sim_for_attach = None
    go = None
    w = None  # the joint-space weights actually used (None: not an embedding method)
    parts = library_parts(go_terms, tab["name"].tolist(), tab["library"].tolist() if "library" in tab else None) \
        if o.method == "joint" else None
    part_sizes = part_counts = None
    if parts is not None:
        part_sizes = np.bincount(parts).tolist()
        part_counts = part_targets(parts, o.n_clusters, target_clusters)
        target = sum(part_counts)
    if o.method in METHOD_WEIGHTS:
        mdl = embedding_model(o.model)
        model_name = _model_name(o.model, mdl)
        w = o.weights if (o.weights is not None and o.method == "joint") else METHOD_WEIGHTS[o.method]
        with warnings.catch_warnings():  # the tower warns only on what it embeds; the note below counts all
            if hasattr(mdl, "vocabulary"):
                warnings.filterwarnings("ignore", message=r".*(not in the gtCLIP vocabulary|no gene in the vocabulary)")
            x = joint_space(mdl, pw.leading_edge, pw.full_sets, pw.texts, pw.le_matrix, w,
                            gate_leading_edge=o.gate_leading_edge, full_matrix=pw.full_matrix,
                            terms=go_terms, sign=_direction_profile(tab, pw.conditions, sign),
                            names=tab["name"].tolist(), parts=parts)
        from ..models.numpy_tower import vocabulary_note  # torch-free, but models/ is a torch room
        vocab_note = vocabulary_note(mdl, pw.leading_edge)
        if vocab_note:
            count_notes.append("leading edges: " + vocab_note)
            warnings.warn(count_notes[-1], stacklevel=3)
        times["embed"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        adj = knn_from_embedding(x, k, forbid=forbid, seed=o.seed)
    else:
        adj, sim_for_attach, go = bl.baseline_graph(o.method, pw, k, forbid)
    times["graph"] = time.perf_counter() - t1

    t1 = time.perf_counter()
    labels, used_res, info = _partition(adj, x, sim_for_attach, fdr, target, forbid, o,
                                        identical_groups(pw.le_matrix, pw.full_matrix), parts, part_counts)
    notes = list(pw.notes) + count_notes + same_direction_pairs(tab["term"].tolist(), sign)
    if parts is not None:
        notes.append(f"{part_sizes[0]} GO terms and {part_sizes[1]} pathways of other libraries were clustered "
                     "apart (each part with its own ontology view and cluster count; no cluster spans both)")
    got = n_clusters_of(labels)
    size_note = None
    if info["min_size"] < o.min_cluster_size:
        size_note = (f"clusters of {info['min_size']} members were allowed (--min-cluster-size {o.min_cluster_size}) "
                     + (f"to come nearer the {int(o.n_clusters)} clusters asked for" if o.n_clusters else
                        f"as the result has fewer pathways ({n})"))
        notes.append(size_note)
    if o.n_clusters and abs(got - int(o.n_clusters)) > 0.1 * int(o.n_clusters):
        note = f"asked for {int(o.n_clusters)} clusters, got {got}" + (
            f": no cluster of these {n} pathways splits further into parts of at least {info['min_size']} "
            "members" if got < int(o.n_clusters) else "")
        notes.append(note)
        warnings.warn(note, stacklevel=3)
    elif size_note:
        warnings.warn(size_note, stacklevel=3)
    if info["identical"]:
        notes.append(f"{info['identical']} pathway(s) with the same gene set as another were put in its cluster")
    times["partition"] = time.perf_counter() - t1

    t1 = time.perf_counter()
    space = x if x is not None else _similarity_matrix(sim_for_attach if sim_for_attach is not None else adj)
    gop = None
    if go_result:
        gop = go_pairs(go_ids)
        go = go if go is not None else go_similarity_for(go_terms)
    if parts is not None:  # each part's relation: GO terms by GO, the other pathways by Reactome's hierarchy
        gop = gop if gop is not None else go_pairs(go_ids)
        rrows = part_reactome_rows(tab["term"].tolist(), tab["name"].tolist(), parts)
    else:
        rrows = None if gop is not None else result_rows(tab["term"].tolist(), tab["name"].tolist())
    reactome = None if rrows is None else (rrows, load_hierarchy())  # a Reactome result: its hierarchy rows
    categories = hallmark_codes(tab["term"].tolist(), tab["name"].tolist(), among=[g is None for g in go_ids])
    generic = generic_terms(go_ids, np.diff(pw.full_matrix.indptr), reactome=reactome)
    # GO results: the member most central in simGIC (development: closer to its members in Wang's
    # similarity than the joint-space medoid); the clustering's space otherwise and above 5,000
    rep_sim = go[0] if go is not None and not hasattr(go[0], "rows") else (None if x is not None else space)
    if parts is not None and x is not None:
        rep_sim = PartSimilarity(go_terms, parts, x, go_sim=None if go is None else go[0])
    # the label-support relation: ``central`` picks the member most others sit near, and the support
    # of every label is read with the same relation
    relation = support_near(space, n, gop, seed=o.seed, reactome=reactome, categories=categories,
                            rows=None if parts is None else np.flatnonzero(parts != 0))
    reps = representatives(labels, x, fdr, nes, o.representative, similarity=rep_sim, eligible=~generic,
                           near=relation[0])
    phrases = phrase_sets(pw.titles, drops=source_words(tab["term"].tolist()))
    keywords = title_keywords(labels, pw.titles, n_keywords=o.n_keywords, phrases=phrases)
    themes = cluster_themes(labels, pw.titles, reps, go_ids, phrases=phrases,
                            pathways=(tab["term"].tolist(), tab["name"].tolist()))
    support, support_info = label_support(labels, reps, space=space, go=gop, seed=o.seed, reactome=reactome,
                                          relation=relation, categories=categories)
    subs = sub_themes(labels, reps, support, relation[0], fdr, eligible=~generic)
    times["labels"] = time.perf_counter() - t1

    coords = None
    if o.layout:
        t1 = time.perf_counter()
        informative = x is not None and x.dense.shape[1] >= 2 and bool(np.any(x.dense))
        # overlap-only weights leave no tower vectors: lay out from the graph instead
        coords = cluster_layout(labels, x.dense if informative else features_from_graph(adj))
        times["layout"] = time.perf_counter() - t1
    out_table, clusters, order = result_tables(pw, labels, reps, keywords, sign, coords, themes, support, subs)
    sizes = np.bincount(labels) if n else np.zeros(0, int)
    summary = {
        "method": o.method, "model": model_name, "n_input": pw.n_input,
        "n_significant": int(n), "fdr_cutoff": o.fdr_cutoff, "knn_neighbours": int(k),
        "n_clusters": int((sizes >= 2).sum()), "n_singletons": int((sizes == 1).sum()),
        "target_clusters": int(info["target"]),
        "partition": info["partition"], "resolution": used_res,
        "library_parts": None if parts is None else dict(zip(PART_NAMES, part_sizes)), "split_direction": bool(split),
        "min_cluster_size": int(o.min_cluster_size), "attached": info["attached"],
        "attach_threshold": info["attach_threshold"], "representative": o.representative, "seed": int(o.seed),
        "weights": w,
        "leading_edge_gate": bool(getattr(x, "gate", False)),
        "conditions": pw.conditions, "notes": notes,
        "n_full_sets_from_library": int(pw.has_full_sets.sum()),
        "labels": {"generic_excluded": int(generic.sum()), **support_info},
    }
    times["cluster_total"] = time.perf_counter() - t0 - times.get("layout", 0.0)
    if o.metrics:
        t1 = time.perf_counter()
        summary["metrics"] = evaluate(labels, pw, nes, go=go, go_wang=gop, gate=_gate(o.method, x, pw),
                                      n_random=o.n_random, seed=o.seed)
        summary["metrics"].update(support_summary(support, sub=subs, sizes=np.bincount(labels) if n else None))
        if split:  # 1 by construction: it cannot fail
            summary["metrics"].update(nes_coherence_can_fail=False, nes_coherence_note=SPLIT_NOTE)
        times["metrics"] = time.perf_counter() - t1
    summary["seconds"] = {k2: round(v, 4) for k2, v in times.items()}
    return ClusterResult(out_table, clusters, summary, None if x is None else x.dense, adj, coords, x, order)


def _feasible_count(o: ClusterOptions, n: int, n_directions: int) -> tuple[ClusterOptions, list[str]]:
    """``o`` with an explicit ``n_clusters`` these ``n`` pathways can meet: at most ``n // 2``
    clusters of 2 members or more, and under ``split_direction`` at least one per direction present
    (``n_directions``); with the notes (also warnings) saying what changed."""
    if not o.n_clusters:
        return o, []
    k, notes = int(o.n_clusters), []
    if k > max(1, n // 2):
        k = max(1, n // 2)
        notes.append(f"asked for {int(o.n_clusters)} clusters, but {n} pathways make at most {k} clusters of 2 "
                     f"members or more: made {k}")
    if o.split_direction and k < n_directions:
        notes.append(f"--split-direction keeps up and down apart: {n_directions} clusters at least")
        k = n_directions
    for note in notes:
        warnings.warn(note, stacklevel=4)
    return replace(o, n_clusters=k), notes


def _partition(adj: sp.csr_matrix, x, similarity, fdr: np.ndarray, target: int, forbid, o: ClusterOptions,
               same_sets: np.ndarray, parts: np.ndarray | None = None, part_counts: list[int] | None = None):
    """``(labels, resolution used, attach info)``: Leiden or a linkage cut (``partition``; MCL for
    ``overlap``; resolution ``None`` when Leiden did not run), small clusters
    attached, pathways with identical gene sets (``same_sets``: group ids) joined, cluster ids
    ordered by size (0 = largest). ``parts`` (:mod:`~contrastomics.cluster.library_parts`): each
    part partitioned alone at its count in ``part_counts`` (resolutions and thresholds: one per part)."""
    if parts is None:
        lab, used_res, info = _partition_part(adj, x, similarity, fdr, target, forbid, o, same_sets, o.n_clusters)
        return order_labels(lab, fdr), used_res, info
    lab = np.full(len(fdr), -1, np.int64)
    res, info = [], {"attached": 0, "singletons": 0, "attach_threshold": [], "identical": 0}
    for p, k in enumerate(part_counts):
        rows = np.flatnonzero(parts == p)
        sub, r, i = _partition_part(adj[rows][:, rows], space_rows(x, rows), None, fdr[rows], k,
                                    None if forbid is None else forbid[rows], o, same_sets[rows],
                                    k if o.n_clusters else None)
        lab[rows] = np.where(sub >= 0, sub + lab.max() + 1, -1)
        res.append(r)
        for key in ("attached", "singletons", "identical"):
            info[key] += i[key]
        info["attach_threshold"].append(i["attach_threshold"])
        info["partition"] = i["partition"]
        info["min_size"] = min(info.get("min_size", i["min_size"]), i["min_size"])
        info["target"] = info.get("target", 0) + i["target"]
    return order_labels(lab, fdr), (res if any(v is not None for v in res) else None), info


def _partition_part(adj: sp.csr_matrix, x, similarity, fdr: np.ndarray, target: int, forbid, o: ClusterOptions,
                    same_sets: np.ndarray, n_clusters: int | None):
    """:func:`_partition` of one part, before the cluster ids are ordered (``n_clusters``: an
    explicit count for it). A count these pathways cannot meet at ``--min-cluster-size`` is met as
    near as they allow: the default count is lowered to ``n // min_size``; an explicit count that
    leaves clusters under 4/3 of the size on average and is missed by more than 10% is tried again
    with clusters of 2 members allowed (kept when nearer; ``info["min_size"]``: the size used)."""
    size = o.min_cluster_size
    if not n_clusters and size > MIN_CLUSTER_SIZE:  # the default size keeps its count (round 13)
        size = min(size, max(len(fdr), MIN_CLUSTER_SIZE))
        target = max(1, min(target, len(fdr) // size))
    lab, used_res, info = _partition_at(adj, x, similarity, fdr, target, forbid, o, same_sets, n_clusters, size)
    tight = n_clusters and n_clusters * size > 0.75 * len(fdr)  # clusters would average < 4/3 of the size
    if tight and size > 2 and abs(n_clusters_of(lab) - n_clusters) > 0.1 * n_clusters:
        again = _partition_at(adj, x, similarity, fdr, target, forbid, o, same_sets, n_clusters, 2)
        if abs(n_clusters_of(again[0]) - n_clusters) < abs(n_clusters_of(lab) - n_clusters):
            (lab, used_res, info), size = again, 2
    info["min_size"], info["target"] = size, target
    return lab, used_res, info


def _partition_at(adj: sp.csr_matrix, x, similarity, fdr: np.ndarray, target: int, forbid, o: ClusterOptions,
                  same_sets: np.ndarray, n_clusters: int | None, size: int):
    """:func:`_partition_part` with clusters of at least ``size`` members."""
    auto = o.resolution in ("auto", None)
    linkage = partition_rule(o.method, o.partition)
    used = "mcl" if o.method == "overlap" else "leiden"
    if o.method == "overlap":
        raw = mcl(adj)
        used_res = None
    elif auto and linkage and len(fdr) <= LINKAGE_MAX_N and (x is not None or similarity is not None):
        raw = linkage_partition(x, target, method=linkage, min_size=size, groups=forbid,
                                similarity=similarity if x is None else None)
        used_res, used = None, linkage
    elif auto:
        raw, used_res = leiden_auto(adj, target, min_size=size, seed=o.seed)
    else:
        used_res = float(o.resolution)
        raw = leiden(adj, used_res, seed=o.seed)
    if o.method == "overlap":
        # EnrichmentMap keeps MCL's clusters as they are: small ones are not re-attached
        lab = np.where(np.bincount(raw)[raw] >= 2, raw, -1)
        info = {"attached": 0, "singletons": int((lab < 0).sum()), "attach_threshold": None}
    else:
        # an explicit --n-clusters: every leftover joins its nearest cluster (any positive similarity),
        # so the K clusters are all there is; the default keeps far leftovers as singletons
        threshold = o.attach_threshold
        if n_clusters and threshold == "auto":
            threshold = ATTACH_ANY
        lab, info = attach_small(raw, x, min_size=size, threshold=threshold,
                                 groups=forbid, similarity=None if x is not None else similarity)
    # an explicit K (Leiden methods): split or merge the clusters until K clusters of >= 2 members
    # remain; identical sets are joined after the splits (which could separate them) and before the
    # merges (which only combine clusters)
    exact_k = bool(n_clusters) and o.method != "overlap" and auto
    if exact_k:
        lab = split_to(lab, int(n_clusters), adj, min_size=size, seed=o.seed)
    lab, info["identical"] = join_identical(lab, same_sets, fdr, forbid)
    if exact_k:
        lab = merge_to(lab, int(n_clusters), x=x, similarity=None if x is not None else similarity, groups=forbid)
    info["partition"] = used
    return lab, used_res, info


def partition_rule(method: str, partition: str = "auto") -> str | None:
    """The linkage (``"ward"``/``"average"``) a run of ``method`` cuts, or ``None`` for Leiden / MCL."""
    if method == "overlap" or partition == "leiden":
        return None
    if partition == "auto":
        return "ward" if method in METHOD_WEIGHTS else None
    return partition


def _direction_profile(tab: pd.DataFrame, conditions, sign: np.ndarray) -> np.ndarray:
    """NES sign per condition ``(n, n_conditions)`` (0 where a condition did not test the pathway),
    rows L2-normalised: the ``direction`` view compares these patterns (one condition: ``+-1``)."""
    cols = [f"nes_{c}" for c in conditions or []]
    if len(cols) < 2 or not all(c in tab for c in cols):
        return sign.reshape(-1, 1).astype(np.float32)
    prof = np.sign(np.nan_to_num(tab[cols].to_numpy(float)))
    empty = ~prof.any(1)
    prof[empty, 0] = sign[empty]
    return (prof / np.linalg.norm(prof, axis=1, keepdims=True)).astype(np.float32)


def _gate(method: str, x, pw: Pathways):
    """The memberships whose shared genes the method's graph needs (``None``: any pair may link):
    leading edges for a gated joint space and ``overlap-knn``, full sets for ``overlap``/``kappa``."""
    if method == "overlap-knn" or (x is not None and getattr(x, "gate", False)):
        return pw.le_matrix
    return pw.full_matrix if method in ("overlap", "kappa") else None


def _model_name(option, mdl) -> str:
    """The model for the summary: ``gtCLIP (shipped)``, the folder or hub id given, or the stand-in."""
    if isinstance(mdl, StandInModel):
        return "stand-in (MiniLM text + hashed gene sets; no gtCLIP checkpoint)"
    if option is None or (isinstance(option, str) and option == "default"):
        return "gtCLIP (shipped)"
    if isinstance(option, (str, os.PathLike)):
        return str(option)
    return getattr(mdl, "cache_key", None) or getattr(mdl, "name_or_path", None) or type(mdl).__name__


def _similarity_matrix(s):
    # sparse stays sparse (rows are sliced per cluster); lazy similarity objects become arrays
    return s.tocsr() if sp.issparse(s) else np.asarray(s)


@_keyword_options
def cluster_gsea(result, options: ClusterOptions | None = None, /, **kwargs) -> pd.DataFrame:
    """Group the significant pathways of a GSEA / enrichment result into labelled communities.

    Parameters
    ----------
    result
        A result file path, a DataFrame in the standard columns of
        :func:`contrastomics.enrichment.read_gsea_result` (``term, name, nes, fdr, genes`` at least;
        ``genes`` = leading-edge genes), a tool's own table in memory (gseapy's ``res2d``, an
        fgsea/clusterProfiler table read with pandas), or a list / dict of them (several conditions: the union of
        their significant pathways is clustered, ``nes_<name>`` columns keep each condition's NES).
    options, **kwargs
        The options (:class:`ClusterOptions`: ``method``, ``fdr_cutoff``, ``resolution``,
        ``n_clusters``, ``split_direction``, ``min_cluster_size``, ``model``, ``gene_sets``, ``seed``,
        ``names``, ``format``, ``metrics``, ``k``, ``weights``...), whole or as keywords.

    Returns
    -------
    pandas.DataFrame
        One row per significant pathway: ``cluster`` (0 = largest), ``cluster_size``,
        ``cluster_label`` (representative pathway), ``cluster_label_support`` (share of members near
        the label), ``cluster_keywords``, ``cluster_theme``, ``representative``,
        ``term, name, nes, fdr, ...``, ``direction`` (+1/-1), ``leading_edge_genes``.
        ``df.attrs["summary"]`` holds parameters and metrics, ``df.attrs["clusters"]`` one record
        per cluster.

    Examples
    --------
    >>> from contrastomics import cluster_gsea            # doctest: +SKIP
    >>> df = cluster_gsea("gseapy.gene_set.prerank.report.csv", fdr_cutoff=0.25)  # doctest: +SKIP
    >>> df.groupby("cluster_label").size()                # doctest: +SKIP
    """
    res = run_clustering(result, ClusterOptions.build("cluster_gsea", options, **kwargs))
    df = res.table
    df.attrs["summary"] = res.summary
    df.attrs["clusters"] = res.clusters.to_dict("records")
    return df
