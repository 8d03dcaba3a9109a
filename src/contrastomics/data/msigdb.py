"""MSigDB set tables and Enrichr GMT files (the one resolver of every source is
:func:`contrastomics.data.library.read_library`).

- :func:`read_msigdb`: msigdbr's set table (``name, collection, subcollection, n_genes,
  description, ...``) joined with a membership GMT; filter by collection label
  (``"H"``, ``"C2"``, ``"C2:CP:REACTOME"``: a label matches itself and its sub-collections).
- :func:`read_enrichr`: Enrichr GMT (description column ``na`` or empty, names such as
  ``FOXP3-21729870 (human)`` kept as they are, ``GENE,1.0`` weights stripped); the species in a
  name's ``(human)``/``(mouse)`` suffix goes to ``meta['species']``.
"""
from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path
from typing import Sequence

import pandas as pd

from .._io import open_text
from ..errors import InputError
from .genesets import GeneSetLibrary, read_gmt

MSIGDB_COLUMNS = ("name", "collection", "subcollection", "description")
#: the species suffix of Enrichr set names: ``FOXP3-21729870 (human)``
SPECIES_SUFFIX = re.compile(r"\((human|mouse|rat|fly|yeast|worm|zebrafish)\)\s*$", re.IGNORECASE)


def collection_label(collection: str, subcollection: str) -> str:
    """``("C2", "CP:REACTOME")`` -> ``"C2:CP:REACTOME"``; ``("H", "")`` -> ``"H"``."""
    collection, subcollection = (collection or "").strip(), (subcollection or "").strip()
    return f"{collection}:{subcollection}" if subcollection else collection


def _matches(label: str, wanted: Sequence[str]) -> bool:
    lab = label.upper()
    return any(lab == w or lab.startswith(w + ":") for w in wanted)


def read_msigdb_table(path: str | Path) -> pd.DataFrame:
    """The MSigDB set table as a DataFrame (all columns as text, a ``label`` column added)."""
    path = Path(path)
    with open_text(path) as fh:
        header = fh.readline().rstrip("\r\n").split("\t")
        missing = [c for c in MSIGDB_COLUMNS if c not in header]
        if missing:
            raise InputError(f"not an MSigDB set table: missing column(s) {', '.join(missing)} "
                             f"(expected {', '.join(MSIGDB_COLUMNS)}, ...)", path, 1)
    with open_text(path) as fh:
        try:
            df = pd.read_csv(fh, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE)
        except pd.errors.ParserError as exc:
            m = re.search(r"line (\d+)", str(exc))
            raise InputError(f"malformed MSigDB table row: {exc}", path, int(m.group(1)) if m else None) from None
    dup = df["name"].duplicated()
    if dup.any():
        line = int(dup.to_numpy().nonzero()[0][0]) + 2  # header is line 1
        raise InputError(f"duplicate gene set name {df['name'][dup].iloc[0]!r} in the MSigDB table", path, line)
    df["label"] = [collection_label(c, s) for c, s in zip(df["collection"], df["subcollection"])]
    return df


def read_msigdb(
    sets_tsv: str | Path,
    gmt: str | Path | None = None,
    collections: str | Sequence[str] | None = None,
    *,
    name: str = "MSigDB",
) -> GeneSetLibrary:
    """Read MSigDB sets: names, collections and descriptions from the table, genes from a GMT.

    Parameters
    ----------
    sets_tsv
        msigdbr-style set table (``msigdb_hs_sets.tsv``).
    gmt
        Membership GMT whose set names are the table's names. Default: ``msigdb_hs.gmt`` beside a
        ``*_sets.tsv`` table.
    collections
        Keep these collection labels (``"H"``, ``"C2"``, ``"C2:CP:REACTOME"``, case-insensitive);
        ``None`` keeps all.

    Returns
    -------
    GeneSetLibrary
        One set per table row that has membership; ``collections`` hold labels such as
        ``C2:CP:REACTOME``; ``descriptions`` the table's description (the GMT's column 2 when the
        table has none). ``meta['n_without_membership']`` counts table rows (after the filter) with
        no GMT line, ``meta['n_not_in_table']`` GMT sets absent from the table (dropped).
    """
    sets_tsv = Path(sets_tsv)
    table = read_msigdb_table(sets_tsv)
    all_names = set(table["name"])
    if gmt is None:
        guess = sets_tsv.with_name(sets_tsv.name.replace("_sets.tsv", ".gmt"))
        if guess == sets_tsv or not guess.exists():
            raise InputError(f"the MSigDB table has names and descriptions only: put its membership GMT beside "
                             f"it as {guess.name if guess != sets_tsv else 'NAME.gmt'} (in Python you may also pass gmt=FILE)",
                             sets_tsv)
        gmt = guess
    if collections is not None:
        wanted = [collections] if isinstance(collections, str) else list(collections)
        wanted = [w.strip().upper() for w in wanted]
        keep = [_matches(lab, wanted) for lab in table["label"]]
        if not any(keep):
            labels = sorted(set(table["label"]))
            raise InputError(f"no MSigDB collection matches {', '.join(wanted)}; available: {', '.join(labels)}",
                             sets_tsv)
        table = table[keep]
    members = read_gmt(gmt, on_duplicate="first")
    gmt_desc = dict(zip(members.terms, members.descriptions))
    in_gmt = table["name"].isin(set(members.terms))
    n_without = int((~in_gmt).sum())
    table = table[in_gmt]
    n_not_in_table = len(set(members.terms) - all_names)
    if table.empty:
        raise InputError(f"none of the selected MSigDB sets has membership in {gmt}", sets_tsv)
    if n_without:
        warnings.warn(f"{n_without} of the {n_without + len(table)} MSigDB set(s) selected in {sets_tsv.name} have no "
                      f"gene list in {Path(gmt).name}: the library holds the other {len(table)}", stacklevel=2)
    lib = members.subset([members.index(t) for t in table["name"]])
    lib.descriptions = [d or gmt_desc.get(t, "") for t, d in zip(table["name"], table["description"])]
    lib.collections = list(table["label"])
    lib.names = list(table["name"])
    lib.name = name
    lib.meta.update(source=str(sets_tsv), membership=str(gmt), n_without_membership=n_without,
                    n_not_in_table=n_not_in_table,
                    collections_filter=None if collections is None else wanted)
    if "membership_version" in table.columns:
        lib.meta["membership_version"] = dict(zip(table["name"], table["membership_version"]))
    return lib


def species_of_names(names: Sequence[str]) -> dict[str, str]:
    """``{name: species}`` for the set names with a species suffix (``KDM5B-21448134 (mouse)``)."""
    return {t: m.group(1).lower() for t in names if (m := SPECIES_SUFFIX.search(t))}


def read_enrichr(path: str | Path, *, name: str | None = None) -> GeneSetLibrary:
    """Read an Enrichr library GMT (``name<TAB>na<TAB>GENE[,weight]...``).

    Names are kept verbatim (``NANOG-21062744 (human)``); ``,1.0``-style weights are stripped;
    ``na``/empty descriptions become ``""``. ``meta['species']`` maps each name with a species
    suffix to that species (``ChEA`` mixes human and mouse experiments).
    """
    path = Path(path)
    lib = read_gmt(path, name=name)
    lib.meta["species"] = species_of_names(lib.terms)
    lib.meta["format"] = "enrichr"
    return lib


def __getattr__(name):  # deprecated location of the resolver
    if name == "read_library":
        from .library import read_library
        return read_library
    raise AttributeError(name)
