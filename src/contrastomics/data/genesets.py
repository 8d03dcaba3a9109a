"""Gene-set libraries: one type for every source (GMT, OBO+GAF, MSigDB tables, Enrichr).

A :class:`GeneSetLibrary` holds, for ``n_sets`` gene sets, their term ids, names, descriptions and
source collection, and a sparse ``(n_sets, n_genes)`` 0/1 membership matrix over a gene
vocabulary ``genes``. Everything downstream (GSFM, gtCLIP, clustering) reads this type.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._io import atomic_write, open_text
from ..errors import InputError

log = logging.getLogger(__name__)


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while bulk readers build ~10^5 lists: they hold no cycles,
    and the collector's repeated full passes over the growing heap cost more than the work itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_gc_paused = gc_paused  # deprecated alias (old private name)


def normalize_symbol(symbol: str) -> str:
    """Canonical form used to match gene symbols: stripped, upper-case.

    Human symbols are upper-case except for a few (``C1orf112``); matching is done on this key and
    the library keeps the spelling of its vocabulary.
    """
    return symbol.strip().upper()


@dataclass
class GeneSetLibrary:
    """A collection of gene sets over one gene vocabulary.

    Attributes
    ----------
    terms
        Term ids, unique (``GO:0006915``, ``HALLMARK_APOPTOSIS``).
    names
        Human-readable names (``apoptotic process``).
    descriptions
        Free-text descriptions ("" when the source has none).
    collections
        Source collection of each set (``GO_BP``, ``C2:CP:REACTOME``...).
    genes
        Gene vocabulary: column ``j`` of ``membership`` is ``genes[j]``.
    membership
        ``(n_sets, n_genes)`` CSR matrix, float32 0/1.
    """

    terms: list[str]
    names: list[str]
    descriptions: list[str]
    collections: list[str]
    genes: list[str]
    membership: sp.csr_matrix
    name: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.terms)
        for attr in ("names", "descriptions", "collections"):
            if len(getattr(self, attr)) != n:
                raise ValueError(f"{attr} has {len(getattr(self, attr))} entries for {n} terms")
        self.membership = sp.csr_matrix(self.membership, dtype=np.float32)
        if self.membership.shape != (n, len(self.genes)):
            raise ValueError(f"membership shape {self.membership.shape} != ({n}, {len(self.genes)})")
        self.membership.sum_duplicates()
        self.membership.eliminate_zeros()  # a stored 0 must not become a member below
        self.membership.data[:] = 1.0

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_gene_sets(
        cls,
        sets: Mapping[str, Iterable[str]],
        *,
        names: Mapping[str, str] | None = None,
        descriptions: Mapping[str, str] | None = None,
        collection: str | Mapping[str, str] = "",
        genes: Sequence[str] | None = None,
        name: str = "",
    ) -> "GeneSetLibrary":
        """Build a library from ``{term: genes}``.

        With ``genes`` given, the vocabulary is fixed and genes outside it are counted in
        ``meta['unknown_genes']`` (matched case-insensitively); otherwise the vocabulary is the
        sorted union of all genes.
        """
        terms = list(sets)
        gene_lists = [list(dict.fromkeys(g.strip() for g in sets[t] if g and g.strip())) for t in terms]
        if genes is None:
            vocab = sorted({g for gl in gene_lists for g in gl})
        else:
            vocab = list(genes)
        lookup = {g: i for i, g in enumerate(vocab)}
        lookup_norm = {}
        for i, g in enumerate(vocab):
            lookup_norm.setdefault(normalize_symbol(g), i)
        rows, cols = [], []
        unknown: Counter = Counter()
        for r, gl in enumerate(gene_lists):
            for g in gl:
                j = lookup.get(g)
                if j is None:
                    j = lookup_norm.get(normalize_symbol(g))
                if j is None:
                    unknown[g] += 1
                    continue
                rows.append(r)
                cols.append(j)
        mat = sp.csr_matrix(
            (np.ones(len(rows), np.float32), (np.asarray(rows, np.int64), np.asarray(cols, np.int64))),
            shape=(len(terms), len(vocab)),
        )
        names = names or {}
        descriptions = descriptions or {}
        coll = [collection.get(t, "") for t in terms] if isinstance(collection, Mapping) else [collection] * len(terms)
        lib = cls(
            terms=terms,
            names=[names.get(t, t) for t in terms],
            descriptions=[descriptions.get(t, "") or "" for t in terms],
            collections=coll,
            genes=vocab,
            membership=mat,
            name=name,
        )
        if unknown:
            lib.meta["unknown_genes"] = dict(unknown)
        return lib

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return len(self.terms)

    def __repr__(self) -> str:
        return (f"GeneSetLibrary(name={self.name!r}, n_sets={len(self)}, n_genes={len(self.genes)}, "
                f"nnz={self.membership.nnz})")

    @property
    def sizes(self) -> np.ndarray:
        """Number of genes in each set, shape ``(n_sets,)``."""
        return np.diff(self.membership.indptr)

    @property
    def gene_sets(self) -> list[list[str]]:
        """Gene symbols of each set (vocabulary order)."""
        g = np.asarray(self.genes, dtype=object)
        m = self.membership
        return [list(g[m.indices[m.indptr[i]:m.indptr[i + 1]]]) for i in range(len(self))]

    def genes_of(self, term: str) -> list[str]:
        """Gene symbols of one set."""
        return self._genes_row(self.index(term))

    def _genes_row(self, i: int) -> list[str]:
        m = self.membership
        return [self.genes[j] for j in m.indices[m.indptr[i]:m.indptr[i + 1]]]

    def index(self, term: str) -> int:
        try:
            return self._term_index()[term]
        except KeyError:
            raise KeyError(f"term {term!r} not in library {self.name!r}") from None

    def _term_index(self) -> dict[str, int]:
        cache = self.meta.get("_term_index")
        if cache is None or len(cache) != len(self.terms):
            cache = {t: i for i, t in enumerate(self.terms)}
            self.meta["_term_index"] = cache
        return cache

    def texts(self, mode: str = "both") -> list[str]:
        """Text of each set for a text encoder.

        ``mode``: ``"both"`` (name + ". " + description), ``"title"`` or ``"description"``.
        An empty description falls back to the name, an empty name to the humanised term id.
        """
        out = []
        for t, n, d in zip(self.terms, self.names, self.descriptions):
            title = n if n and n != t else humanize_term(t)
            d = d if d and not d.startswith("http") else ""
            if mode == "title":
                out.append(title)
            elif mode == "description":
                out.append(d or title)
            elif mode == "both":
                out.append(f"{title}. {d}" if d else title)
            else:
                raise InputError(f"unknown text mode {mode!r}; choose both, title or description")
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per set: term, name, description, collection, size."""
        return pd.DataFrame({"term": self.terms, "name": self.names, "description": self.descriptions,
                             "collection": self.collections, "size": self.sizes})

    # ------------------------------------------------------------------ transforms
    def subset(self, idx: Sequence[int] | np.ndarray) -> "GeneSetLibrary":
        """Rows ``idx`` (ints or a boolean mask), same vocabulary."""
        idx = np.asarray(idx)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        pick = lambda xs: [xs[i] for i in idx]  # noqa: E731
        return GeneSetLibrary(pick(self.terms), pick(self.names), pick(self.descriptions), pick(self.collections),
                              list(self.genes), self.membership[idx], self.name,
                              {k: v for k, v in self.meta.items() if not k.startswith("_")})

    def filter_size(self, min_size: int = 5, max_size: int = 500) -> "GeneSetLibrary":
        """Keep sets with ``min_size <= size <= max_size`` genes."""
        s = self.sizes
        return self.subset((s >= min_size) & (s <= max_size))

    def deduplicate(self) -> "GeneSetLibrary":
        """Drop sets whose gene content is identical to an earlier set; the count goes to
        ``meta['n_duplicates_dropped']``."""
        seen: dict[bytes, int] = {}
        keep = []
        m = self.membership
        for i in range(len(self)):
            key = np.sort(m.indices[m.indptr[i]:m.indptr[i + 1]]).tobytes()
            if key not in seen:
                seen[key] = i
                keep.append(i)
        out = self.subset(keep)
        out.meta["n_duplicates_dropped"] = len(self) - len(keep)
        return out

    def with_vocabulary(self, genes: Sequence[str], min_size: int = 1) -> "GeneSetLibrary":
        """Re-express membership over another vocabulary (case-insensitive match).

        Genes not in ``genes`` are dropped and counted in ``meta['unknown_genes']``
        (``{symbol: n_sets}``); sets left with fewer than ``min_size`` genes are dropped and
        counted in ``meta['n_sets_dropped_unknown']``.
        """
        lookup = {}
        for i, g in enumerate(genes):
            lookup.setdefault(normalize_symbol(g), i)
        col_map = np.array([lookup.get(normalize_symbol(g), -1) for g in self.genes], dtype=np.int64)
        m = self.membership.tocoo()
        ok = col_map[m.col] >= 0
        mat = sp.csr_matrix((m.data[ok], (m.row[ok], col_map[m.col[ok]])), shape=(len(self), len(genes)))
        counts = np.asarray(self.membership.sum(axis=0)).ravel()
        unknown = {self.genes[j]: int(counts[j]) for j in np.flatnonzero(col_map < 0) if counts[j] > 0}
        lib = GeneSetLibrary(list(self.terms), list(self.names), list(self.descriptions), list(self.collections),
                             list(genes), mat, self.name, {k: v for k, v in self.meta.items() if not k.startswith("_")})
        lib.meta["unknown_genes"] = unknown
        keep = lib.sizes >= min_size
        if not keep.all():
            lib = lib.subset(keep)
            lib.meta["n_sets_dropped_unknown"] = int((~keep).sum())
        return lib

    @staticmethod
    def concat(libraries: Sequence["GeneSetLibrary"], name: str = "") -> "GeneSetLibrary":
        """Stack libraries over the union of their vocabularies. Term ids must stay unique:
        a clash is prefixed with the library name."""
        vocab = sorted({g for lib in libraries for g in lib.genes})
        parts, terms, names, descs, colls = [], [], [], [], []
        seen: set[str] = set()
        for lib in libraries:
            re_lib = lib.with_vocabulary(vocab, min_size=0)
            parts.append(re_lib.membership)
            for t in lib.terms:
                t2 = t if t not in seen else f"{lib.name}:{t}"
                seen.add(t2)
                terms.append(t2)
            names += lib.names
            descs += lib.descriptions
            colls += [c or lib.name for c in lib.collections]
        mat = sp.vstack(parts).tocsr() if parts else sp.csr_matrix((0, len(vocab)), dtype=np.float32)
        return GeneSetLibrary(terms, names, descs, colls, vocab, mat, name)

    # ------------------------------------------------------------------ similarity
    def jaccard(self, other: "GeneSetLibrary | None" = None) -> np.ndarray:
        """Dense gene Jaccard between this library's sets and ``other``'s (same vocabulary),
        shape ``(len(self), len(other))``. For large libraries use :func:`jaccard_sparse`."""
        a = self.membership
        b = a if other is None else other.membership
        if b.shape[1] != a.shape[1]:
            raise ValueError("libraries must share a vocabulary; use with_vocabulary() first")
        return jaccard_dense(a, b)


def jaccard_dense(a: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    """Jaccard similarity of 0/1 rows of ``a`` ``(n, g)`` against rows of ``b`` ``(m, g)``."""
    inter = np.asarray((a @ b.T).todense(), dtype=np.float32)
    sa = np.asarray(a.sum(axis=1), dtype=np.float32).reshape(-1, 1)
    sb = np.asarray(b.sum(axis=1), dtype=np.float32).reshape(1, -1)
    union = sa + sb - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def overlap_coefficient_dense(a: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    """Overlap coefficient |A & B| / min(|A|, |B|) of rows of ``a`` against rows of ``b``."""
    inter = np.asarray((a @ b.T).todense(), dtype=np.float32)
    sa = np.asarray(a.sum(axis=1), dtype=np.float32).reshape(-1, 1)
    sb = np.asarray(b.sum(axis=1), dtype=np.float32).reshape(1, -1)
    denom = np.minimum(sa, sb)
    return np.divide(inter, denom, out=np.zeros_like(inter), where=denom > 0)


_PREFIXES = re.compile(r"^(HALLMARK|KEGG|REACTOME|BIOCARTA|PID|WP|GOBP|GOMF|GOCC|GO|HP|WIKIPATHWAYS|KEGG_MEDICUS)_")
_ID_SUFFIX = re.compile(r"\s*\((GO|R-HSA|WP|HP|DOID)[:\-_][^)]*\)\s*$")
_WORD_SEP = re.compile(r"[_\s]+")


#: an MSigDB-style set name: upper-case words joined by "_", three or more (``SMID_BREAST_CANCER_BASAL_UP``)
MSIGDB_STYLE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9.\-]+){2,}")


#: prefixes of MSigDB-style names that name a collection, not an author (``NABA_``, C2 CP's ``SA_``)
_COLLECTION_PREFIX = re.compile(r"^(NABA|SA|SIG|ST)_")


def msigdb_style(term: str, unprefixed: bool = False) -> bool:
    """``term`` is written as an MSigDB set name (:data:`MSIGDB_STYLE`), never as a GO or Reactome
    title: a row of a gene-set collection, whatever its prefix; ``unprefixed``: one without a library
    or collection prefix (C2 CGP, C7, C8: its first word is the first author or the source)."""
    t = str(term or "").strip()
    prefixed = bool(_PREFIXES.match(t) or _COLLECTION_PREFIX.match(t))
    return bool(MSIGDB_STYLE.fullmatch(t)) and not (unprefixed and prefixed)


def unique_key_index(values: Sequence[str], key) -> dict[str, int]:
    """``key(value)`` -> position, for keys that name one position only: an ambiguous (or empty)
    key matches nothing (used to match set names across spellings)."""
    out: dict[str, int] = {}
    seen: set[str] = set()
    for j, v in enumerate(values):
        k = key(v or "")
        if not k or k in seen:
            out.pop(k, None)
            continue
        seen.add(k)
        out[k] = j
    return out


def humanize_term(term: str) -> str:
    """Readable text from a term id: ``HALLMARK_E2F_TARGETS`` -> ``E2F targets``,
    ``GOBP_DNA_REPAIR`` -> ``DNA repair``, ``apoptotic process (GO:0006915)`` -> unchanged text part,
    Bader-lab names (``EXOCYTOSIS%GOBP%GO:0006887``, ``NAME%WIKIPATHWAYS_20230110%WP411%HOMO SAPIENS``)
    -> the name part; all-caps text keeps acronyms (``VIRAL MRNA TRANSLATION`` -> ``Viral mRNA
    translation``) and lower-cases small words; a name with spaces that is not all capitals is kept
    as written (a one-word name is capitalised: ``translation (GO:0006412)`` -> ``Translation``, the
    text the shipped text table holds for it)."""
    t = term.strip()
    if _BADER_NAME.match(t):  # Bader-lab / EnrichmentMap set names: NAME%SOURCE%ID[%SPECIES]
        t = t.split("%", 1)[0].strip()
    if "(" in t:
        t = _ID_SUFFIX.sub("", t)
    if " " in t:
        if t != t.upper() or not any(c.isalpha() for c in t):
            return t
        t = "_".join(t.split())  # "SENSORY PERCEPTION": words as in an upper-case id
    if "_" in t:
        if t.islower() and _PREFIXES.match(t.upper()):  # "gobp_dna_repair": MSigDB's name, lower-cased
            t = t.upper()
        t = _PREFIXES.sub("", t)
    # printable and no space: no whitespace at all (every other whitespace character is unprintable)
    words = [w for w in (t.split("_") if t.isprintable() else _WORD_SEP.split(t)) if w]
    def word(w: str) -> str:
        # known forms (mRNA, CoA, NF-kB), acronyms/gene symbols (E2F, DNA, TNFA, MYC) and lone capitals
        # (vitamin A, hepatitis C) kept; plain and small words (AT, THE, ENDS) lower-cased
        known = _KNOWN_CASE.get(w.upper())
        if known:
            return known
        if len(w) == 1 and w.isupper() and len(words) > 1:
            return w
        if len(w) > 1 and (any(map(str.isdigit, w)) or len(w) <= 4 and w.isupper() and w not in _COMMON_WORDS):
            return w
        return w.lower()

    # hyphenated words part by part: TNF-ALPHA -> TNF-alpha, NF-KB -> NF-kB
    s = " ".join("-".join(word(part) for part in w.split("-")) for w in words)
    if not s:
        return term
    if s.split(" ", 1)[0].split("-", 1)[0].upper() in _KNOWN_CASE:  # "mRNA splicing" stays
        return s
    return s[:1].upper() + s[1:]


_BADER_NAME = re.compile(r"^[^%]+(%[^%]*){2,3}$")
#: small words lower-cased in all-caps names (mostly lower-case in GO and Reactome names)
_COMMON_WORDS = frozenset("""
NON CO PRE POST ANTI SUB SELF SEMI MULTI OVER OUT DOWN AND OF THE IN TO BY VIA UP DN CELL LATE EARLY FROM WITH
INTO ON FOR OR NOT BONE GENE LIKE TYPE HEME BILE ACID FATE MASS SIZE BODY LUNG SKIN LIVER ROLE LOSS GAIN HIGH LOW
FAT ZINC IRON IONS SALT HEAT COLD SPERM EGG ION BETA HOST AXON ACYL AT AS AN IS ARE BE BUT UPON ONTO END ENDS ENV
TOLL LONG STEM IRON TUBE CORE SITE EYE PART DRUG DUE BASE ZONE MAST GAP BIND HAIR PORE SIDE CORD POLY ONE TWO MALE
TERM RICH EAR VERY BUD LEFT EXIT COAT NODE GERM DUCT AXIS BOX RAFT LOOP CONE CIS BOND CAP OXO SEX LIFE PAIN PLUS
UREA TAIL FEAR RATE LENS FREE FORK WAKE ZONA FOAM GLIA POLE ATOM TRI FOOD BULB LIMB LINK DE PRI TAU PRO ARYL FLAP
TIP EXON STEP MAY CUP LOBE OTIC ARM NOVO RIBO DISC EDGE BAND CAN DOES
""".split())
#: acronyms written in mixed case (the all-caps spelling -> the usual one)
_KNOWN_CASE = {w.upper(): w for w in """
mRNA tRNA rRNA snRNA snoRNA miRNA ncRNA lncRNA siRNA piRNA dsRNA ssRNA ssDNA dsDNA mtDNA cDNA RNAs mRNAs tRNAs
rRNAs miRNAs snRNP snRNPs snoRNP CoA cAMP cGMP kB NF-kB kappaB NF-kappaB GTPase GTPases ATPase ATPases NADPH NADH
NADP SUMOylation GABAergic CoV mTOR mTORC1 mTORC2 ESCRT COPII SNARE
""".split()}


# ---------------------------------------------------------------------- GMT
def read_gmt(
    path: str | Path,
    *,
    collection: str | None = None,
    on_duplicate: str = "rename",
    name: str | None = None,
) -> GeneSetLibrary:
    """Read a GMT file: ``name<TAB>description<TAB>gene<TAB>gene...`` per line.

    gzip is detected from the bytes, whatever the suffix. Lines with no genes are skipped with one
    warning that counts them; a line with a single field, an empty file or a file with no gene set
    raises :class:`InputError` naming the file and line. Duplicate set names (one rule for every
    command): identical content is dropped with a warning; differing content is renamed
    ``NAME_2``, ``NAME_3``... with a warning that counts them (``on_duplicate='rename'``), or,
    from Python only, keeps the first (``'first'``) or raises (``'error'``). A table that is not a
    GMT (a header line of result columns, or 'genes' that are decimal numbers such as ``-2.59``;
    integer ids such as Entrez ids are genes) raises :class:`InputError` naming the file and line.
    """
    path = Path(path)
    if on_duplicate not in ("error", "first", "rename"):
        raise InputError(f"on_duplicate must be 'error', 'first' or 'rename', not {on_duplicate!r}")
    with gc_paused():
        return _read_gmt(path, collection, on_duplicate, name)


def _read_gmt(path: Path, collection: str | None, on_duplicate: str, name: str | None) -> GeneSetLibrary:
    with open_text(path) as fh:
        text = fh.read()
    # one pass over the lines for names, checks and duplicates; the genes (99% of the bytes) are
    # parsed afterwards in bulk from each kept line's tab-joined gene fields
    terms: list[str] = []
    descs: list[str] = []
    gene_fields: list[str] = []
    first_line: dict[str, int] = {}
    row_of: dict[str, int] = {}
    n_empty, n_dup_same, n_dup_diff = 0, 0, 0
    renamed: list[str] = []
    checked: list[tuple[int, str, str, str]] = []  # the first lines, for _check_gmt_lines
    for lineno, raw in enumerate(text.split("\n"), 1):  # text mode already turned \r\n and \r into \n
        line = raw.rstrip("\r\n")
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t", 2)
        if len(fields) < 2:
            raise InputError(
                "not a GMT line: expected 'name<TAB>description<TAB>genes...', found "
                f"{len(fields)} tab-separated field(s)", path, lineno)
        term = fields[0].strip()
        if not term:
            raise InputError("gene set with an empty name", path, lineno)
        rest = fields[2] if len(fields) > 2 else ""
        if not rest.strip():  # every gene field blank
            n_empty += 1
            continue
        if term in row_of:
            if _gmt_gene_set(gene_fields[row_of[term]]) == _gmt_gene_set(rest):
                n_dup_same += 1
                continue
            n_dup_diff += 1
            if on_duplicate == "error":
                raise InputError(f"duplicate gene set name {term!r} (first on line {first_line[term]}) with "
                                 "different genes", path, lineno)
            if on_duplicate == "first":
                continue
            k = 2
            while f"{term}_{k}" in row_of:
                k += 1
            term = f"{term}_{k}"
            renamed.append(f"{term} (line {lineno})")
        if len(terms) < _GMT_CHECK_LINES:
            checked.append((lineno, term, fields[1], rest))
            if len(checked) == _GMT_CHECK_LINES:
                _check_gmt_lines(checked, path)
        row_of[term] = len(terms)
        first_line[term] = lineno
        terms.append(term)
        descs.append(fields[1].strip())
        gene_fields.append(rest)
    if len(checked) < _GMT_CHECK_LINES:
        _check_gmt_lines(checked, path)
    if not terms:
        raise InputError("no gene set with at least one gene in this GMT file", path)
    if n_empty:
        warnings.warn(f"{path}: skipped {n_empty} gene set(s) with no genes", stacklevel=3)
    if n_dup_same:
        warnings.warn(f"{path}: dropped {n_dup_same} repeated gene set(s) (same name, same genes)", stacklevel=3)
    if n_dup_diff:
        what = ("the first of each kept" if on_duplicate == "first" else
                f"the later copies renamed NAME_2, NAME_3... ({', '.join(renamed[:3])}{'...' if len(renamed) > 3 else ''})")
        warnings.warn(f"{path}: {n_dup_diff} duplicate set name(s) with different genes; {what}", stacklevel=3)
    lib_name = name or path.name.split(".gmt")[0]
    genes, membership = _gmt_membership(gene_fields)
    lib = GeneSetLibrary(terms=terms, names=list(terms),
                         descriptions=["" if d.lower() in {"na", "none", ""} else d for d in descs],
                         collections=[collection or lib_name] * len(terms), genes=genes, membership=membership,
                         name=lib_name)
    lib.meta.update(source=str(path), n_empty_sets_skipped=n_empty)
    return lib


#: lines of a GMT file looked at by :func:`_check_gmt_lines`
_GMT_CHECK_LINES = 50
#: a decimal or scientific number (``-2.59``, ``1e-05``): never a gene; whole numbers (Entrez ids) are
_DECIMAL = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][+-]?\d+|-\d+)$")
#: column names of result tables: two of them on the first line make it a table header
_HEADER_WORDS = {"nes", "es", "fdr", "fdr q-val", "nom p-val", "fwer p-val", "pval", "padj", "pvalue", "p-value",
                 "p.adjust", "qvalue", "adjusted p-value", "size", "setsize", "tag %", "lead_genes", "leadingedge",
                 "leading_edge", "core_enrichment", "genes", "overlap", "odds ratio", "combined score", "log2err",
                 "enrichmentscore", "description", "term", "pathway", "gene_set", "name"}


def _check_gmt_lines(lines: list[tuple[int, str, str, str]], path: Path) -> None:
    """Refuse a table that is not a GMT, from its first ``(line, name, description, genes)``: a
    header of result columns followed by numbers, or 'genes' of which a quarter are decimals."""
    n_genes, decimals = 0, []
    for lineno, _, _, rest in lines:
        genes = [g.strip() for g in rest.split("\t") if g.strip()]
        n_genes += len(genes)
        decimals += [(lineno, g) for g in genes if _DECIMAL.match(g)]
    if not decimals:
        return
    head = lines[0]
    words = [w.strip().lower() for w in (head[1], head[2], *head[3].split("\t"))]
    if sum(w in _HEADER_WORDS for w in words) >= 2:
        raise InputError("not a GMT file: this line looks like a table header "
                         f"({', '.join(w for w in words if w)[:80]}) and later lines hold numbers (e.g. "
                         f"{decimals[0][1]!r} on line {decimals[0][0]}); a GMT line is 'name<TAB>description"
                         "<TAB>gene<TAB>gene...' (a GSEA result is the result argument, not --gmt)", path, head[0])
    if len(decimals) >= 0.25 * n_genes:
        raise InputError(f"not a GMT file: {len(decimals)} of the {n_genes} 'genes' on the first {len(lines)} "
                         f"lines are numbers (e.g. {decimals[0][1]!r}); a GMT line is 'name<TAB>description"
                         "<TAB>gene<TAB>gene...'", path, decimals[0][0])


def _gmt_gene(field: str) -> str:
    """A GMT gene field -> symbol: ``"TP53,1.0"`` (weighted GMT) -> ``"TP53"``; ``""`` when blank."""
    return field.split(",")[0].strip()


def _gmt_gene_set(gene_fields: str) -> set[str]:
    return {_gmt_gene(g) for g in gene_fields.split("\t") if g.strip()}


def _gmt_membership(gene_fields: Sequence[str]) -> tuple[list[str], sp.csr_matrix]:
    """Sorted gene vocabulary and 0/1 ``(n_sets, n_genes)`` membership of tab-joined GMT gene fields.

    The same sets as ``from_gene_sets`` of each line's genes (blank fields and blank symbols dropped,
    repeats counted once), with the ~100x fewer distinct fields cleaned instead of every field.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    lists = pc.split_pattern(pa.array(gene_fields, pa.large_string()), "\t")
    counts = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    enc = pc.dictionary_encode(pc.list_flatten(lists))
    codes = enc.indices.to_numpy(zero_copy_only=False)
    symbols = [_gmt_gene(t) if t.strip() else "" for t in enc.dictionary.to_pylist()]
    vocab = sorted(set(symbols) - {""})
    col = {g: j for j, g in enumerate(vocab)}
    col_of = np.fromiter((col.get(g, -1) for g in symbols), np.int64, len(symbols))
    cols = col_of[codes]
    rows = np.repeat(np.arange(len(gene_fields), dtype=np.int64), counts)
    ok = cols >= 0
    # tokens come row by row: the CSR is built directly, then sorted and de-duplicated per row
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[ok], minlength=len(gene_fields)))])
    mat = sp.csr_matrix((np.ones(int(ok.sum()), np.float32), cols[ok], indptr), shape=(len(gene_fields), len(vocab)))
    mat.sum_duplicates()
    return vocab, mat


def write_gmt(library: GeneSetLibrary, path: str | Path) -> None:
    """Write ``library`` as GMT (description column = description, else name), atomically."""
    with atomic_write(path) as fh:
        for term, name, desc, genes in zip(library.terms, library.names, library.descriptions, library.gene_sets):
            d = (desc or name or "na").replace("\t", " ").replace("\n", " ")
            fh.write("\t".join([term, d, *genes]) + "\n")
