"""Cluster keywords and title themes: whole phrases taken from member titles (never descriptions).

A title is cut into noun chunks at punctuation and function words ("regulation of double-strand
break repair via homologous recombination": "regulation", "double-strand break repair", "homologous
recombination"); a phrase is a chunk or a tail of it ("break repair", "repair": English noun phrases
end with their head) holding a content word. :func:`title_keywords` ranks them by class-based TF-IDF
over member titles; :func:`shared_phrase` is the phrase in the most member titles (the theme of
non-GO clusters). Rules: docs/clustering.md ("Labels").
"""
from __future__ import annotations

import functools
import re
from collections import Counter
from typing import Sequence

import numpy as np

from ..data.gene_tables import human_symbols_upper
from ..data.genesets import msigdb_style
from ..data.reactome import load_hierarchy

#: Words that occur in most pathway titles and say nothing about a cluster (never a keyword alone).
DOMAIN_STOP_WORDS = frozenset("""
up dn down targets target role events interactions interaction class absence presence
process processes regulation regulated regulating positive negative cellular cell cells involved
pathway pathways activity response via mediated signaling signalling establishment maintenance
biological organism multicellular metabolic catabolic biosynthetic compound compounds part
protein proteins gene genes expression go reactome kegg hallmark wp biocarta pid term set
containing complex dependent assembly organization level levels system including
any result results resulting chemical reactions reaction stops prevents reduces increases
activates frequency rate extent occurs occur consequence change state stimulus
directly modulates modulating involving type types specific form formation
cluster clusters unknown ko wt kd stim unstim ctrl pos neg""".split())
#: Function words a title is cut at (they never sit inside a phrase), and the verbs of sentence-like
#: titles ("TP53 Regulates Transcription of ...", "SARS-CoV-2 modulates host translation machinery").
SEPARATORS = frozenset("""
of to in into via by and or from with without during at on for the a an as through involved
containing between within upon other than its their that which not onto toward towards across
after before under over among against along beyond like per vs versus using
regulates regulate modulates modulate activates activate inhibits inhibit mediates mediate
binds bind promotes promote induces induce stimulates stimulate controls enhances suppresses
represses recruits interacts methylate methylates acetylate acetylates phosphorylate phosphorylates
ubiquitinate ubiquitinates deacetylate deacetylates demethylate demethylates""".split())
#: Heads that name a kind of process or disease on their own ("tyrosine metabolism", "thyroid disease"),
#: unlike heads that need their modifier ("phase transition", "MAPK cascade", "lagging strand")
CATEGORY_HEADS = frozenset("""metabolism disease diseases repair development transport biosynthesis degradation
catabolism infection differentiation proliferation migration secretion homeostasis apoptosis adhesion cancer
replication transcription translation splicing chemotaxis autophagy recombination morphogenesis angiogenesis
inflammation immunity carcinoma leukemia endocytosis phagocytosis exocytosis glycosylation phosphorylation
ubiquitination acetylation methylation localization import export senescence necroptosis pyroptosis
ferroptosis biogenesis stress glycolysis gluconeogenesis deacetylation deubiquitination dephosphorylation
demethylation sumoylation neddylation palmitoylation""".split())
#: Generic heads dropped from the end of a chunk ("Wnt signaling pathway" also gives "Wnt signaling"),
#: as are trailing numbers ("... pathway 2").
TRAILING_GENERIC = frozenset({"pathway", "pathways", "stimulus"})
#: English articles and pronouns that are no content either
_FILLER = frozenset("a an the it its this these those their other any some such".split())
MAX_WORDS = 5
#: endings of English adjectives ("mitotic", "nuclear", "neural", "cytosolic", "endocytic")
_ADJECTIVE_ENDINGS = ("ic", "al", "ar", "ous", "ive", "ary", "ory", "ed", "ible", "able")
#: adjectives without such an ending (last part of "ubiquitin-dependent", "Toll-like", "leucine-rich";
#: "Mature" mRNA, "small" protein conjugation)
_ADJECTIVE_WORDS = frozenset("dependent independent like rich mature immature small large early late high low "
                             "long short free new".split())
#: words that need the modifier before them ("APC/C-mediated", "Phospho-APC/C mediated degradation"):
#: a phrase never starts with one
_NEEDS_MODIFIER = frozenset("""mediated dependent independent induced activated associated coupled linked related
derived regulated stimulated gated anchored specific containing based bound directed driven responsive sensitive
resistant like""".split())
#: nouns of pathway titles with an adjective's ending
_NOUNS_LIKE_ADJECTIVES = frozenset("""signal signals survival potential removal arrival retrieval interval memory
boundary capillary sugar sugars seed speed feed library category territory artery animal mineral material
terminal radical individual traffic""".split())

_SEGMENT = re.compile(r"[,;:()\[\]{}]|\s-\s|\.\s")
#: marks of MSigDB-style names that tag a set instead of describing it: direction and version
#: ("UP", "DN", "V1", "UP.V1", the trailing "down"), GEO series ("GSE3982"), TRANSFAC matrix versions
#: ("MYC Q2", "SOX5 01"); never part of a phrase (they act as separators)
_TAG_WORD = re.compile(r"(?:up|dn|gse\d+|gds\d+|q\d|0\d)", re.I)
#: a version ("V1", "V6.5") is a tag only at the end of a title or before another tag ("V1 domain",
#: "V2 vasopressin receptor" are names)
_VERSION_WORD = re.compile(r"v\d+(?:\.\d+)?", re.I)
_VERSION = re.compile(r"(?<=[A-Za-z])\.v\d+(?![\w.])", re.I)
_SPECIES = re.compile(r"\(\s*(?:human|mouse|rat|homo sapiens|mus musculus|rattus norvegicus)\s*\)", re.I)
_TRAILING_DOWN = re.compile(r"\s+down\s*$", re.I)
_IUPAC = frozenset("ACGTNRYKMSWBDHV")
_STRIP = "\"'.,;:!?*"


@functools.lru_cache(maxsize=65536)
def _adjective(word: str) -> bool:
    """Whether ``word`` (its last part after a hyphen) looks like an English adjective."""
    w = word.lower().rsplit("-", 1)[-1]
    return (w.endswith(_ADJECTIVE_ENDINGS) and w not in _NOUNS_LIKE_ADJECTIVES) or w in _ADJECTIVE_WORDS \
        or ("-" in word and w.endswith("ing"))  # "cyclase-activating", "Intron-Containing", "DNA-binding"


def tag_word(word: str) -> bool:
    """A mark of an MSigDB-style name, not a content word: :data:`_TAG_WORD`, or a DNA motif of
    C3's ``TGTTTAC_FOXO4_01`` / ``GGGNRMNNYCAT_UNKNOWN`` (6+ IUPAC letters, mostly A/C/G/T/N, with a
    G or an N: "attack", "strand" are words)."""
    w = word.upper()
    if _TAG_WORD.fullmatch(w):
        return True
    return (len(w) >= 6 and set(w) <= _IUPAC and ("G" in w or "N" in w)
            and sum(c in "ACGTN" for c in w) >= 0.6 * len(w))


def source_word(term: str, known=frozenset()) -> str | None:
    """The first word of an MSigDB-style name without a library prefix (C2 CGP, C7, C8:
    ``SMID_BREAST_CANCER_BASAL_UP``, ``DESCARTES_FETAL_LUNG_...``), lower-cased: the first author or
    source, no theme. ``None`` when it is ``known`` (gene symbols and domain words, upper-case) or the
    name has another form."""
    if not msigdb_style(term, unprefixed=True):
        return None
    first = str(term).strip().split("_", 1)[0]
    return None if first.split(".")[0] in known or first.lower() in CATEGORY_HEADS else first.lower()


def source_words(terms: Sequence[str], known=None) -> list[str | None]:
    """:func:`source_word` of every term; ``known()`` (the upper-case words that are no author;
    default :func:`domain_words`) is called only when some term has the form."""
    if not any(msigdb_style(t, unprefixed=True) for t in terms):  # GO titles, GOBP_ names: no lookup
        return [None] * len(terms)
    words = frozenset((known or domain_words)())
    return [source_word(t, words) for t in terms]


@functools.lru_cache(maxsize=1)
def domain_words() -> frozenset[str]:
    """Upper-case words that name no author: human gene symbols and the words of Reactome's pathway
    names (the shipped hierarchy)."""
    h = load_hierarchy()
    names = () if h is None else h.names
    return frozenset(human_symbols_upper()) | {w.upper() for n in names for w in re.split(r"[^A-Za-z0-9]+", n) if w}


def _chunks(title: str, drop: str | None = None) -> list[list[str]]:
    """Noun chunks of a title as word lists (see the module docstring). A lone word before "of"
    ("Activation of ...", "Recruitment of ...") is a head waiting for its complement: no chunk,
    unless it names a kind of process (:data:`CATEGORY_HEADS`: "Transcription of ..."). Tags of
    MSigDB-style names (:func:`tag_word`, a species in brackets) and the word ``drop`` (the name's
    :func:`source_word`) separate chunks like function words."""
    out = []
    for seg in _SEGMENT.split(_SPECIES.sub(",", _TRAILING_DOWN.sub("", _VERSION.sub("", str(title))))):
        chunk: list[str] = []
        words = [x for x in (w.strip(_STRIP) for w in seg.split()) if x]
        for i, w in enumerate(words):
            version = _VERSION_WORD.fullmatch(w) and all(tag_word(v) or _VERSION_WORD.fullmatch(v)
                                                          for v in words[i + 1:])
            if w.lower() in SEPARATORS or tag_word(w) or version or w.lower() == drop \
                    or ("/" in w and all(p in SEPARATORS for p in w.lower().split("/") if p)):
                if chunk and not (w.lower() == "of" and len(chunk) == 1 and not _symbol_like(chunk[0])
                                  and chunk[0].lower() not in CATEGORY_HEADS):
                    out.append(chunk)
                chunk = []
            else:
                chunk.append(w)
        if chunk:
            out.append(chunk)
    return out


def _spans(words: list[str], max_words: int, tails_only: bool):
    """``(lower-case, written, start)`` word runs of one chunk, also without a trailing generic head; only
    its tails with ``tails_only``. Runs never start right after a bound short word ("T cell") nor
    consist of generic words only."""
    variants = [words]
    while len(variants[-1]) > 1 and (variants[-1][-1].lower() in TRAILING_GENERIC or variants[-1][-1].isdigit()):
        variants.append(variants[-1][:-1])  # "Wnt signaling pathway" is also "Wnt signaling"
    for ws in variants:
        low = [w.lower() for w in ws]
        n = len(ws)
        for a in range(n):
            if low[a] in _FILLER or low[a] in _NEEDS_MODIFIER or not re.search(r"[^\W_]", low[a]) \
                    or (a and len(low[a - 1]) <= 2):
                continue
            ends = [n] if tails_only else range(a + 1, min(n, a + max_words) + 1)
            for b in ends:
                if b - a > max_words or (b - a == 1 and len(low[a]) < 2):
                    continue
                if b < n and len(ws[b - 1]) == 1:  # the "G" of "G protein-coupled" modifies what follows
                    continue
                # the head alone of a longer chunk ("transition" of "cell cycle phase transition",
                # "cascade", "strand") is no phrase; a symbol is ("HIV" of "HIV infection"), and so is
                # a head that names a kind of process or disease ("metabolism", "repair", "disease")
                if tails_only and b - a == 1 and n > 1 and not (_symbol_like(ws[a]) or low[a] in CATEGORY_HEADS):
                    continue
                if all(w in DOMAIN_STOP_WORDS or w in _FILLER for w in low[a:b]):
                    continue
                # a noun phrase ends with its head, never an adjective ("antigenic" [stimulus],
                # "mitotic nuclear" [division], "DNA-templated"); a symbol is no adjective ("RAL")
                if _adjective(ws[b - 1]) and not ("-" not in ws[b - 1] and _symbol_like(ws[b - 1])):
                    continue
                yield " ".join(low[a:b]), " ".join(ws[a:b]), a


def title_phrases(title: str, max_words: int = MAX_WORDS) -> dict[str, str]:
    """``{lower-case phrase: phrase as written}`` of one title on its own: every tail of up to
    ``max_words`` words of every chunk that holds a content word."""
    out: dict[str, str] = {}
    for words in _chunks(title):
        for low, written, _ in _spans(words, max_words, True):
            out.setdefault(low, written)
    return out


@functools.lru_cache(maxsize=65536)
def _symbol_like(word: str) -> bool:
    """A gene, protein or other symbol ("E2F", "NOTCH1", "KRAS", "UV"), not a Title-case word or a
    Roman numeral: a digit, or two capitals."""
    return (any(ch.isdigit() for ch in word) or sum(ch.isupper() for ch in word) >= 2) \
        and not re.fullmatch(r"[IVXLC]+", word)


def _bound_words(chunks: Sequence[Sequence[list[str]]]) -> tuple[frozenset[str], frozenset[str]]:
    """Words that, wherever they stand before another word in these titles, are followed by the same
    one (plural "s" and a hyphenated tail aside): a modifier of a fixed compound ("amino" acid,
    "sister" chromatid, "adenylate" cyclase-activating / cyclase-inhibiting), no phrase alone; and
    words always preceded by the same noun ("cycle" of "cell cycle", "alpha" of "interferon alpha";
    not "spindle" of "mitotic spindle"), where no phrase starts."""
    nxt: dict[str, set[str]] = {}
    prev: dict[str, set[str]] = {}
    starts: set[str] = set()
    for cs in chunks:
        for words in cs:
            starts.add(words[0].lower())
            for w, v in zip(words, words[1:]):
                nxt.setdefault(w.lower(), set()).add(v.lower().split("-")[0].removesuffix("s"))
                prev.setdefault(v.lower(), set()).add(w.lower())
    return (frozenset(w for w, vs in nxt.items() if len(vs) == 1),
            frozenset(w for w, vs in prev.items() if len(vs) == 1 and w not in starts and not _adjective(min(vs))))


def phrase_sets(titles: Sequence[str], max_words: int = MAX_WORDS,
                drops: Sequence[str | None] | None = None) -> list[dict[str, str]]:
    """:func:`title_phrases` of every title, plus the inner runs of its chunks that end in a content
    word ("MYC targets" in "MYC targets V1", never "mRNA catabolic"; single words only when they do
    not look like adjectives: "E2F", "interferon", not "mitotic") or are a whole phrase (a chunk tail) of some title of ``titles``
    ("T cell" inside "T cell receptor signaling" once another title ends with it). ``drops``: a word
    per title that is no phrase part (its :func:`source_word`)."""
    chunks = [_chunks(t, d) for t, d in zip(titles, drops or [None] * len(titles))]
    bound, second = _bound_words(chunks)
    # a phrase in Title Case is written in lower case when these titles also write each of its
    # Title-case words so ("Cell Cycle" beside "cell surface", "cycle"); one holding a name never
    # written so keeps its capitals ("Golgi Associated Vesicle Biogenesis")
    lower = {w for cs in chunks for words in cs for w in words if w.islower()}

    def as_written(text: str) -> str:
        words = text.split(" ")
        title = [w[:1].isupper() and w[1:].islower() for w in words]
        if any(title) and all(w.lower() in lower for w, t in zip(words, title) if t):
            return " ".join(w.lower() if t else w for w, t in zip(words, title))
        return text
    valid = {low for cs in chunks for words in cs for low, _, a in _spans(words, max_words, True)
             if not (a and low.split(" ", 1)[0] in second)}
    out = []
    for cs in chunks:
        d: dict[str, str] = {}
        for words in cs:
            for low, written, a in _spans(words, max_words, False):
                if a and low.split(" ", 1)[0] in second:  # "cycle phase" of "cell cycle phase"
                    continue
                last = low.rsplit(" ", 1)[-1]
                content_end = not (last in DOMAIN_STOP_WORDS or last in _FILLER)
                # one word from inside a chunk only when it is a symbol ("E2F", "NOTCH1"), or a noun that
                # no fixed compound holds: no adjective, no compound's modifier, and first in the chunk
                # or after an adjective ("interferon" alpha / gamma, "mitotic spindle"; not "mitotic",
                # "amino" acid, "sister" chromatid, "break" in "strand break repair")
                noun_like = " " in low or _symbol_like(written) or (
                    not _adjective(low) and low not in bound and (a == 0 or _adjective(words[a - 1])))
                if low in valid or (content_end and noun_like):
                    d.setdefault(low, as_written(written))
        out.append(d)
    return out


def _phrase_counts(labels: np.ndarray, sets: Sequence[dict[str, str]]):
    """Per cluster, how many member titles hold each phrase (``{cluster: Counter}``), how many titles
    hold it over all clusters, and each phrase's most common written form."""
    per: dict[int, Counter] = {}
    forms: dict[str, Counter] = {}
    for c, ph in zip(np.asarray(labels).tolist(), sets):
        per.setdefault(int(c), Counter()).update(ph.keys())
        for k, v in ph.items():
            forms.setdefault(k, Counter())[v] += 1
    total: Counter = Counter()
    for cnt in per.values():
        total.update(cnt)
    written = {k: f.most_common(1)[0][0] for k, f in forms.items()}
    return per, total, written


def _generic_end(p: str) -> bool:
    last = p.rsplit(" ", 1)[-1]
    return last in TRAILING_GENERIC or last.isdigit()


def _maximal(cnt: Counter) -> dict[str, int]:
    """Phrases not always seen inside one longer phrase of the same cluster ("DNA" dropped when
    every member title holding it says "DNA repair"); a phrase that only adds a generic head
    ("Wnt signaling pathway" beside "Wnt signaling") gives way to the shorter one instead."""
    keep = dict(cnt)
    for p, k in cnt.items():
        words = p.split()
        for a in range(len(words)):
            for b in range(a + 1, len(words) + 1):
                sub = " ".join(words[a:b])
                if sub == p or cnt.get(sub) != k:
                    continue
                if a == 0 and all(w in TRAILING_GENERIC or w.isdigit() for w in words[b:]):
                    keep.pop(p, None)
                else:
                    keep.pop(sub, None)
    return keep


def _contains(longer: str, shorter: str) -> bool:
    """``shorter`` is a run of words of ``longer``, or the same phrase in the plural ("histones")."""
    return f" {shorter} " in f" {longer} " or longer.removesuffix("s") == shorter.removesuffix("s")


def title_keywords(labels: np.ndarray, titles: Sequence[str], n_keywords: int = 4,
                   min_cluster_size: int = 2, *, phrases: Sequence[dict[str, str]] | None = None
                   ) -> dict[int, list[str]]:
    """Up to ``n_keywords`` title phrases of each cluster with ``>= min_cluster_size`` members.

    Score = c-TF-IDF on member titles: ``tf`` = share of the cluster's titles holding the phrase,
    ``idf = log(1 + mean cluster size / titles holding it over all clusters)``. Only phrases shared
    by at least two member titles count; a phrase inside (or around) one already chosen is
    skipped; ties go to the longer phrase. ``phrases``: :func:`phrase_sets` of ``titles`` when
    already made."""
    labels = np.asarray(labels)
    per, total, written = _phrase_counts(labels, phrase_sets(titles) if phrases is None else phrases)
    sizes = Counter(labels.tolist())
    mean_size = float(np.mean(list(sizes.values()))) if sizes else 1.0
    out = {}
    for c, cnt in per.items():
        if sizes[c] < min_cluster_size:
            continue
        cand = {p: k for p, k in _maximal(cnt).items() if k >= 2}
        scored = sorted(cand, key=lambda p: (-(cand[p] / sizes[c]) * np.log1p(mean_size / total[p]),
                                             -len(p.split()), p))
        chosen: list[str] = []
        for p in scored:
            if any(_contains(q, p) or _contains(p, q) for q in chosen):
                continue
            chosen.append(p)
            if len(chosen) >= n_keywords:
                break
        out[c] = [written[p] for p in chosen]
    return out


def shared_phrase(sets: Sequence[dict[str, str]], prefer: dict[str, str] | None = None) -> tuple[str, float]:
    """The phrase held by the most member titles (their :func:`phrase_sets`) and the share of titles
    holding it. Ties: a phrase of ``prefer`` (the representative's phrases), one without a generic
    head ("pathway", a number), the longer phrase, then alphabetical. With no phrase at all, ``("", nan)``."""
    cnt: Counter = Counter()
    forms: dict[str, str] = {}
    for ph in sets:
        cnt.update(ph.keys())
        for k, v in ph.items():
            forms.setdefault(k, v)
    if not cnt:
        return "", float("nan")
    own = set(prefer or ())
    best = min(cnt, key=lambda p: (-cnt[p], p not in own, _generic_end(p), -len(p.split()), p))
    return forms[best], cnt[best] / max(len(sets), 1)
