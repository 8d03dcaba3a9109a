"""The one gene-set library resolver: a built-in name, a GMT / Enrichr / MSigDB file, an OBO + GAF
pair, a ``{term: genes}`` mapping or a :class:`GeneSetLibrary`, to a :class:`GeneSetLibrary`.

Every command and function that takes a library (``--library``, ``--gmt``, ``gene_sets=``) goes
through :func:`read_library`; call sites differ only in the options they pass (duplicate names,
built-in size filter).
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from .._io import open_text
from ..errors import InputError
from .annotations import annotations_to_library, read_gaf, read_gene_term_table
from .builtin import LIBRARIES, LIBRARY_ALIASES, load_library
from .genesets import GeneSetLibrary, read_gmt
from .msigdb import MSIGDB_COLUMNS, read_enrichr, read_msigdb, species_of_names
from .ontology import DEFAULT_RELATIONS, read_obo

FORMATS = ("builtin", "gmt", "enrichr", "obo", "msigdb")
BUILTIN_NAMES = frozenset({*LIBRARIES, *LIBRARY_ALIASES, "GO"})


def is_builtin_name(spec) -> bool:
    """True for a built-in library name (``GO_BP``, ``go``, ``DO``...) that is not also a file."""
    return isinstance(spec, str) and not Path(spec).exists() and spec.upper().replace("-", "_") in BUILTIN_NAMES


def read_library(path_or_name, format: str | None = None, **kwargs) -> GeneSetLibrary:
    """Read a gene-set library from any supported source.

    Parameters
    ----------
    path_or_name
        A :class:`GeneSetLibrary` (returned as it is), a ``{term: genes}`` mapping, a built-in name
        (``GO_BP``, ``GO_MF``, ``GO_CC``, ``DO``, ``GO``), a GMT file, an MSigDB set table, or an
        ``(obo, gaf)`` pair (also as one string ``"go.obo+goa.gaf"``).
    format
        ``builtin``, ``gmt``, ``enrichr``, ``obo`` or ``msigdb``; guessed when ``None`` (built-in
        name, then the suffix, then the first line of the file).
    **kwargs
        Passed on: ``min_size``/``max_size``/``use_cache`` (builtin), ``collection``/
        ``on_duplicate``/``name`` (gmt), ``gmt``/``collections``/``name`` (msigdb), ``name``
        (enrichr), ``namespace``/``min_size``/``max_size``/``evidence_exclude``/
        ``evidence_include``/``relations`` (obo + gaf). Size options and ``use_cache`` are ignored
        for files, ``on_duplicate`` for every source but a GMT; any other option raises.
    """
    if isinstance(path_or_name, GeneSetLibrary):
        return path_or_name
    if isinstance(path_or_name, Mapping):
        return GeneSetLibrary.from_gene_sets({str(k): list(v) for k, v in path_or_name.items()})
    if format is not None and format not in FORMATS:
        raise InputError(f"unknown library format {format!r}; choose one of {', '.join(FORMATS)}")
    pair = None
    if isinstance(path_or_name, (tuple, list)):
        if len(path_or_name) != 2:
            raise InputError("an ontology library needs exactly two files: (obo, gaf)")
        pair = tuple(Path(p) for p in path_or_name)
    elif isinstance(path_or_name, str) and "+" in path_or_name and not Path(path_or_name).exists():
        a, b = path_or_name.split("+", 1)
        pair = (Path(a.strip()), Path(b.strip()))
    if pair is not None:
        return _read_obo_gaf(*pair, **_only(kwargs, "namespace", "min_size", "max_size", "evidence_exclude",
                                            "evidence_include", "relations"))

    s = str(path_or_name)
    if format == "builtin" or (format is None and is_builtin_name(s)):
        return load_library(s, **_only(kwargs, "min_size", "max_size", "use_cache"))
    path = Path(s)
    if not path.exists():
        raise InputError(f"no such file, and not a built-in library ({', '.join(LIBRARIES)}, GO)", path)
    if format is None:
        suffixes = [x.lower() for x in path.suffixes]
        if ".gmt" in suffixes:
            format = "gmt"
        elif ".obo" in suffixes:
            format = "obo"
        else:
            format = _sniff(path)
    if format == "obo":
        raise InputError("an OBO ontology needs its annotation file: pass (obo, gaf) or 'file.obo+file.gaf'", path)
    if format == "msigdb":
        return read_msigdb(path, **_only(kwargs, "gmt", "collections", "name"))
    if format == "enrichr":
        return read_enrichr(path, **_only(kwargs, "name"))
    lib = read_gmt(path, **_only(kwargs, "collection", "on_duplicate", "name"))
    if lib.descriptions and not any(lib.descriptions):
        # Enrichr's 'na' description column: add the species of names such as "X-123 (mouse)"
        lib.meta["species"] = species_of_names(lib.terms)
    return lib


#: options a source that does not take them ignores: the size filter and cache of built-in and
#: ontology libraries (a file is read whole) and the GMT reader's duplicate-name rule
_IGNORED_ELSEWHERE = ("min_size", "max_size", "use_cache", "on_duplicate")


def _only(kwargs: dict, *allowed: str) -> dict:
    """The options this source takes; those of :data:`_IGNORED_ELSEWHERE` are dropped, anything
    else unknown raises."""
    unknown = [k for k in kwargs if k not in allowed and k not in _IGNORED_ELSEWHERE]
    if unknown:
        raise InputError(f"unexpected option(s) for this library: {', '.join(unknown)}")
    return {k: v for k, v in kwargs.items() if k in allowed}


def _sniff(path: Path) -> str:
    with open_text(path) as fh:
        for line in fh:
            if line.strip():
                first = line.strip()
                break
        else:
            raise InputError("file has no content", path)
    if first.startswith(("format-version:", "[Term]", "data-version:")):
        return "obo"
    head = first.split("\t")
    if all(c in head for c in MSIGDB_COLUMNS):
        return "msigdb"
    return "gmt"


def _read_obo_gaf(obo: Path, gaf: Path, *, namespace: str | None = None, min_size: int = 5,
                  max_size: int | None = 500, evidence_exclude=None, evidence_include=None,
                  relations=None) -> GeneSetLibrary:
    onto = read_obo(obo, relations=relations or DEFAULT_RELATIONS)
    if _looks_gaf(gaf):
        ann = read_gaf(gaf, evidence_exclude=evidence_exclude, evidence_include=evidence_include)
    else:
        ann = read_gene_term_table(gaf)
    return annotations_to_library(onto, ann, namespace, min_size=min_size, max_size=max_size)


def _looks_gaf(path: Path) -> bool:
    with open_text(path) as fh:
        for line in fh:
            if line.startswith("!gaf-version") or line.startswith("!"):
                return True
            if line.strip():
                return len(line.split("\t")) >= 15
    return False
