"""Funder names (FU entries) mapped onto the curated funder registry, with method and score.

The registry is ``resources/funders/funders.csv`` plus any user registries (later files replace
rows with the same ``funder_id``); its rules are in ``resources/funders/README.md``. Every
distinct ``funder_raw`` string is resolved once, in Python; the rows are then joined back
lazily, so a million funding rows cost what their distinct strings cost.

Resolution of one entry, in order:

1. **Clean.** HTML entities unescaped ('R&amp;D'); WoS's ``Funding Source: …`` tags cut off
   and kept aside ('EPSRC Funding Source: UKRI'); grant numbers in parentheses dropped (a
   parenthesised group with a digit and no lower-case letter: '(14BTQ028)'); line-break
   hyphenation undone when the joined word is a registry word and the two halves are not both
   registry words ('Founda-tion' -> 'Foundation', 'Start-up' kept).
2. **Split glued names.** Newer WoS exports append their own agency names to the author's
   wording with no separator: 'National Natural Science Foundation of ChinaNational Natural
   Science Foundation of China (NSFC)', 'ESRCUK Research & Innovation (UKRI)Economic & Social
   Research Council (ESRC)'. The text is cut before a capital that follows ')' or a lower-case
   letter ('ChinaNational'), and before a capitalised word that follows a capital, a digit or
   '.' ('NSFNational', 'Ltd.Australian'; not 'U.S.'); Medline's 'NCI NIH HHS' is cut at its
   spaces; a leading all-capitals token is cut after a known acronym when both halves are
   registry names ('ESRCUK Research…' -> 'ESRC' + 'UK Research…', 'CAPESCAPES'). Pieces are
   then read left to right, each time taking the longest run of consecutive pieces that is a
   registry form, so a cut inside a name ('CNPq', 'DfE', 'MacArthur') is undone whenever the
   whole name is known; unmatched neighbouring pieces are joined back.
3. **Exact lookup** of each piece, normalised exactly as the README specifies
   (:func:`normalise_funder_name`): the funder's canonical name -> ``exact``, an alias ->
   ``alias``, an acronym -> ``acronym`` (score 100).
4. **Combine pieces.** Funders found in the entry are kept in order of appearance; a funder
   whose descendant (via ``parent``) is also found is dropped, because a council implies its
   umbrella body ('…UK Research & Innovation (UKRI)Economic & Social Research Council (ESRC)'
   is ESRC, not UKRI). The first remaining funder is ``funder_id`` (the author's own wording
   comes first); any other, unrelated funders found in the same entry are listed in
   ``funder_also`` ('Academy of FinlandAcademy of FinlandEuropean Commission' -> ``fin-aka``,
   also ``eur-ec``), so one row comes out per row in and funder counts stay per FU entry.
   A piece with a shared or confusable name (step 8) only counts when no piece names a
   funder outright ('NSFNational Science Foundation (NSF)' is ``usa-nsf``).
5. **Tags.** When no piece of the author's text names a funder outright, the text of a
   ``Funding Source:`` tag is looked up the same way ('Division Of Undergraduate Education
   Funding Source: National Science Foundation' -> ``usa-nsf``); data-source tags (Medline,
   researchfish) match nothing.
6. **Programmes.** Still unmatched text of the form '<programme> of|through|under|from|by
   [the] <registry name>' is the named funder's (method ``alias``; ``funder_text`` is the
   funder's name as matched): 'Young Scientists Fund of the National Natural Science
   Foundation of China' -> ``chn-nsfc``, 'Basic Science Research Program through the National
   Research Foundation of Korea' -> ``kor-nrf``. Not when the words before the connector name
   an organisation of their own (foundation, council, ministry, office, …): 'Office of Science
   of the U.S. Department of Energy' is left to the later steps.
7. **Fuzzy.** Entries still unmatched are matched with rapidfuzz ``fuzz.ratio`` (vectorised
   ``process.cdist``) against registry names and aliases, never acronyms, over distinct
   strings only, blocked by a shared distinctive token (a registry word of three or more
   letters used by at most :data:`BLOCK_MAX_FUNDERS` funders: a province, 'leverhulme',
   'economic'), accepted at ``fuzzy_cutoff``. The query is each unmatched run of pieces and,
   when a run is glued from whole words, each part of it. Acronym-like strings (one
   all-capitals token: 'TUBITAKK') and strings shorter than :data:`FUZZY_MIN_LENGTH` are
   never tried. Funders are ranked by how many of the query's distinctive words their names
   use, then by score ('…seventh framework programme' cannot become FP6's '…sixth framework
   programme'); when a second funder uses as many and scores within :data:`FUZZY_MARGIN`,
   the entry is ``ambiguous``.
8. **Shared and confusable names.** A form claimed by several funders (they list each other
   in ``ambiguous_with``: 'Ministry of Education', 'MOE', 'National Research Foundation',
   'UGC') has all of them as candidates, and so has a bare acronym that begins an acronym
   of a funder in another country it is marked ambiguous with: 'NSF' (US NSF, or NSFC
   shortened by Chinese authors) and 'NIH' (NIH, or NIHR) in the bundled registry. Without
   ``record_countries`` such entries are ``ambiguous`` with ``funder_id`` null. With it, a
   shared name goes to the one candidate whose country is among the record's address
   countries (still ``ambiguous`` when none or several are); a confusable acronym stays with
   its own funder unless the record has the country of exactly one other candidate and not
   its own ('NSF' on a paper with only Chinese addresses -> ``chn-nsfc``).

``funder_method``: exact | alias | acronym | fuzzy | ambiguous | none. ``funder_score``: 100 for
exact/alias/acronym (also when settled by record country and for a shared name left
ambiguous), the ratio for fuzzy (and for a fuzzy tie), null for none. ``funder_text``: the
normalised text that was matched (the piece, run or tag that gave the funder or the
ambiguity; for none the entry's distinct pieces, space-separated). ``funder_candidates``: the
ids considered: the candidates of an ambiguous entry; for a fuzzy match the funder and its
``ambiguous_with`` look-alikes; for none the funders of the longest registry name inside the
text, a hint for the review queue only ('Iran National Science Foundation' holds 'National
Science Foundation').
"""

from __future__ import annotations

import functools
import html
import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process

from collabscope.normalise.curated import ISO3_CODES, read_curated_csv, split_multi

FUNDER_METHODS = ("exact", "alias", "acronym", "fuzzy", "ambiguous", "none")

FUZZY_CUTOFF = 92.0
"""Lowest ``fuzz.ratio`` accepted: one or two letters wrong in a name of 30 letters
('Economic and Social Reserch Council' scores 98.6, 'Leverhulme Trsut' 93.8)."""

FUZZY_MARGIN = 2.0
"""A fuzzy best match is ambiguous when another funder scores within this many points."""

FUZZY_MIN_LENGTH = 8
"""Normalised strings shorter than this are never matched fuzzily."""

REVIEW_BELOW = 95.0
"""Fuzzy matches scoring under this go to the review queue."""

BLOCK_MAX_FUNDERS = 8
"""A registry word is a blocking key when at most this many funders use it."""

REGISTRY_COLUMNS = (
    "funder_id",
    "name",
    "country",
    "acronyms",
    "aliases",
    "parent",
    "kind",
    "ambiguous_with",
)
LIST_COLUMNS = ("acronyms", "aliases", "ambiguous_with")
KINDS = frozenset({"government", "council", "charity", "university", "company", "international"})

OUTPUT_COLUMNS = pl.Schema(
    {
        "funder_id": pl.String,
        "funder_name": pl.String,
        "funder_country": pl.String,
        "funder_method": pl.String,
        "funder_score": pl.Float64,
        "funder_text": pl.String,
        "funder_also": pl.List(pl.String),
        "funder_candidates": pl.List(pl.String),
    }
)
REQUIRED_INPUT = ("record_id", "funder_raw")


def _words(text: str) -> list[str]:
    return text.split()


# ISO 3166-1 alpha-3, plus EUR (EU bodies) and INT (international organisations).
COUNTRY_CODES = ISO3_CODES | {"EUR", "INT"}

_METHOD_RANK = {"exact": 0, "alias": 1, "acronym": 2}
_ID = re.compile(r"[a-z]{3}(-[a-z0-9]+)+")
_FOLD = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ß": "ss", "æ": "ae"})
_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_WORD = re.compile(r"[\W_]+")
_TAG = re.compile(r"\s*\bFunding Source:\s*", re.IGNORECASE)
_GRANT_BRACKETS = re.compile(r"\[[^\]]*\]")
_GRANT_PARENS = re.compile(r"\((?=[^()]*\d)[^()a-z]*\)")
_HYPHEN = re.compile(r"\b([A-Za-z]+)- ?([a-z]+)\b")
# Where a glued agency name may start: before a capital after ')' or a lower-case letter
# ('ChinaNational'), and before a capitalised word after a capital, a digit or '.'
# ('NSFNational', 'Horizon 2020European', 'Ltd.Australian'; not 'U.S.').
_GLUE = re.compile(
    r"(?<=[)a-z])(?=[A-Z])|(?<=[A-Z0-9.])(?=[A-Z][a-z])"
    # Medline's agency names end with their country: 'National Institutes of Health (NIH) - USANIH
    # National Center for Research Resources (NCRR)'.
    r"|(?<= - USA)(?=[A-Z])|(?<= - UK)(?=[A-Z])"
)
# Glue between whole words, where the parts of an unmatched run are also tried fuzzily.
_STRONG_GLUE = re.compile(r"(?<=\))(?=[A-Z])|(?<=[a-z]{2})(?=[A-Z][a-z]{2})")
_LEADING_CAPS = re.compile(r"[A-Z][A-Z0-9]{3,}")
# Medline's agency form 'NCI NIH HHS': capital tokens separated by spaces are pieces too.
_CAPS_WORDS = re.compile(r"[A-Z][A-Z0-9]+(?: [A-Z][A-Z0-9]+)+")
_ACRONYM_LIKE = re.compile(r"[A-Z0-9][A-Z0-9.&/-]*")
_STOPWORDS = frozenset(
    _words("and the for of in on to with from under des der die und del la le les pour fur")
)
_FUZZY_CHUNK = 2048
# '<programme> of the <funder>': the connectors, and words that make the head an organisation
# in its own right ('Iran National Science Foundation', 'Office of Science of the DOE').
_PROGRAMME_OF = re.compile(r" (?:of|through|under|from|by|within|via) (?:the )?")
_ORGANISATION_WORDS = frozenset(
    _words(
        """foundation foundations council ministry university universities institute
        institutes academy agency department office centre center laboratory lab society trust
        commission bureau government service services organisation organization association
        corporation company inc ltd administration authority hospital school college board
        committee"""
    )
)


class FunderRegistryError(ValueError):
    """A funder registry is malformed; the message names the file, the funder and the problem."""


# ------------------------------------------------------------------ text
def normalise_funder_name(text: str) -> str:
    """The form names are compared in (resources/funders/README.md, step 2).

    NFKC; case-fold; diacritics folded ('ł'->'l', 'ü'->'u', 'ß'->'ss'); '&' -> 'and'; '+' ->
    'plus'; apostrophes dropped; any other non-word character a space; spaces collapsed.
    Chinese characters are kept. 'Economic & Social Research Council (ESRC)' -> 'economic and
    social research council esrc'.
    """
    return _normalise(text)


@functools.lru_cache(maxsize=1 << 17)
def _normalise(text: str) -> str:
    if text.isascii():  # NFKC, case-folding and accent-folding reduce to lower() on ASCII
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
        text = unicodedata.normalize("NFC", text)
    text = text.replace("&", " and ").replace("+", " plus ")
    text = _APOSTROPHES.sub("", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def clean_funder_text(
    raw: str, vocabulary: Iterable[str] = frozenset()
) -> tuple[str, tuple[str, ...]]:
    """(the author's text, the ``Funding Source:`` tag texts), cleaned but not normalised.

    Entities are unescaped, tags cut off, grant numbers in brackets or in parentheses holding
    a digit and no lower-case letter dropped, and 'Founda-tion' joined when 'foundation' is in
    ``vocabulary`` (normalised registry words) and 'founda' and 'tion' are not both in it.
    """
    words = vocabulary if isinstance(vocabulary, frozenset | set) else frozenset(vocabulary)
    text = unicodedata.normalize("NFKC", html.unescape(html.unescape(raw)))
    main, *tags = _TAG.split(text)

    def dehyphenate(match: re.Match[str]) -> str:
        head, tail = match.group(1), match.group(2)
        joined = (head + tail).lower()
        if joined in words and not (head.lower() in words and tail in words):
            return head + tail
        return match.group(0)

    def tidy(part: str) -> str:
        part = _GRANT_PARENS.sub(" ", _GRANT_BRACKETS.sub(" ", part))
        part = _HYPHEN.sub(dehyphenate, part)
        return " ".join(part.split()).strip(" ,;:.-")

    cleaned_tags = tuple(t for t in (tidy(tag) for tag in tags) if t)
    return tidy(main), cleaned_tags


# ------------------------------------------------------------------ registry
def _read_registry_file(path: Path) -> pl.DataFrame:
    frame = read_curated_csv(path, REGISTRY_COLUMNS, FunderRegistryError)
    frame = frame.with_columns([split_multi(c) for c in LIST_COLUMNS])
    for line, row in enumerate(frame.iter_rows(named=True), start=2):
        fid = row["funder_id"]
        if fid is None or not _ID.fullmatch(fid):
            raise FunderRegistryError(
                f"{path}, line {line}: funder_id {fid!r} is not <iso3 lower-case>-<slug>"
            )
        if row["name"] is None:
            raise FunderRegistryError(f"{path}: {fid}: empty name")
        country = row["country"]
        if country not in COUNTRY_CODES:
            raise FunderRegistryError(
                f"{path}: {fid}: country {country!r} is not an ISO 3166-1 alpha-3 code, EUR or INT"
            )
        if fid[:3] != country.lower():
            raise FunderRegistryError(
                f"{path}: {fid}: id must start with the country code ({country.lower()}-)"
            )
        if row["kind"] not in KINDS:
            raise FunderRegistryError(
                f"{path}: {fid}: kind {row['kind']!r} is not one of {sorted(KINDS)}"
            )
        for spelling in [row["name"], *row["acronyms"], *row["aliases"]]:
            if not normalise_funder_name(spelling):
                raise FunderRegistryError(
                    f"{path}: {fid}: name or alias {spelling!r} is empty once normalised"
                )
    duplicated = frame.filter(pl.col("funder_id").is_duplicated())
    if duplicated.height:
        raise FunderRegistryError(
            f"{path}: {duplicated['funder_id'][0]}: funder_id appears twice in this file"
        )
    return frame.with_columns(source=pl.lit(str(path)))


def load_funder_registry(paths: Sequence[str | Path]) -> pl.DataFrame:
    """Read and validate one or more funder registries; later files override earlier ones.

    Each file has the columns of ``resources/funders/funders.csv`` (extra columns are ignored).
    A row whose ``funder_id`` is already defined replaces it; a new id adds a funder. Returns
    one row per funder, sorted by country and id, with ``acronyms``, ``aliases`` and
    ``ambiguous_with`` as lists and ``source`` naming the file the row came from.

    Raises :class:`FunderRegistryError`, naming the file and funder, for a missing file or
    column, a malformed id, an empty name, a country that is not ISO 3166-1 alpha-3 (or EUR,
    INT), an unknown kind, a duplicate id within one file, a ``parent`` or ``ambiguous_with``
    that is not another funder, a parent chain that loops, ``ambiguous_with`` not listed in
    both rows, and a normalised name, acronym or alias shared by two funders that do not list
    each other in ``ambiguous_with``.
    """
    if not paths:
        raise FunderRegistryError("no funder registry given")
    rows: dict[str, dict] = {}
    for path in paths:
        for row in _read_registry_file(Path(path)).iter_rows(named=True):
            rows[row["funder_id"]] = row
    for fid, row in rows.items():
        where = f"{row['source']}: {fid}"
        parent = row["parent"]
        if parent is not None and (parent not in rows or parent == fid):
            raise FunderRegistryError(f"{where}: parent {parent!r} is not another funder")
        for other in row["ambiguous_with"]:
            if other not in rows or other == fid:
                raise FunderRegistryError(
                    f"{where}: ambiguous_with {other!r} is not another funder"
                )
            if fid not in rows[other]["ambiguous_with"]:
                raise FunderRegistryError(
                    f"{where}: ambiguous_with {other}, but {other} "
                    f"({rows[other]['source']}) does not list {fid} in ambiguous_with"
                )
        seen, current = {fid}, parent
        while current is not None:
            if current in seen:
                raise FunderRegistryError(f"{where}: parent chain loops through {current}")
            seen.add(current)
            current = rows[current]["parent"]
    owners: dict[str, dict[str, str]] = {}
    for fid, row in rows.items():
        for spelling in [row["name"], *row["acronyms"], *row["aliases"]]:
            owners.setdefault(normalise_funder_name(spelling), {}).setdefault(fid, spelling)
    for form, claims in sorted(owners.items()):
        ids = sorted(claims)
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                if b not in rows[a]["ambiguous_with"]:
                    raise FunderRegistryError(
                        f"{rows[a]['source']}: {a}: {claims[a]!r} (normalised {form!r}) is also "
                        f"a name of {b} ({rows[b]['source']}), but {a} and {b} do not list each "
                        "other in ambiguous_with"
                    )
    frame = pl.DataFrame(
        list(rows.values()),
        schema={
            **{c: pl.String for c in REGISTRY_COLUMNS},
            **{c: pl.List(pl.String) for c in LIST_COLUMNS},
            "source": pl.String,
        },
    )
    return frame.select(*REGISTRY_COLUMNS, "source").sort("country", "funder_id")


# ------------------------------------------------------------------ matcher
def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split("|") if v.strip()]
    return [str(v) for v in value]  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Hit:
    """One piece of text found in the registry."""

    text: str
    candidates: tuple[str, ...]
    methods: tuple[str, ...]
    owner: str | None  # a confusable acronym's own funder; None for shared names

    @property
    def definite(self) -> bool:
        return len(self.candidates) == 1


@dataclass(frozen=True)
class _Resolution:
    funder_id: str | None
    method: str
    score: float | None
    text: str | None
    also: tuple[str, ...]
    candidates: tuple[str, ...]
    candidate_methods: tuple[str, ...]
    owner: str | None


class _Registry:
    """Lookup structures built once from the registry frame."""

    def __init__(self, registry: pl.DataFrame) -> None:
        missing = [c for c in REGISTRY_COLUMNS if c not in registry.columns]
        if missing:
            raise ValueError(f"normalise_funders: registry lacks columns {missing}")
        rows = list(registry.select(REGISTRY_COLUMNS).iter_rows(named=True))
        self.country = {r["funder_id"]: r["country"] for r in rows}
        parent = {r["funder_id"]: r["parent"] for r in rows}
        self.partners = {r["funder_id"]: tuple(_as_list(r["ambiguous_with"])) for r in rows}
        self.ancestors: dict[str, frozenset[str]] = {}
        for fid in parent:
            chain: list[str] = []
            current = parent.get(fid)
            while current is not None and current not in chain and current != fid:
                chain.append(current)
                current = parent.get(current)
            self.ancestors[fid] = frozenset(chain)

        forms: dict[str, dict[str, str]] = {}
        acronym_forms: dict[str, set[str]] = {}
        written_acronyms: set[str] = set()
        choice_forms: dict[str, set[str]] = {}
        for r in rows:
            fid = r["funder_id"]
            spellings = [(r["name"], "exact")]
            spellings += [(a, "alias") for a in _as_list(r["aliases"])]
            spellings += [(a, "acronym") for a in _as_list(r["acronyms"])]
            for spelling, method in spellings:
                form = normalise_funder_name(spelling)
                if not form:
                    continue
                known = forms.setdefault(form, {})
                if fid not in known or _METHOD_RANK[method] < _METHOD_RANK[known[fid]]:
                    known[fid] = method
                if method == "acronym":
                    acronym_forms.setdefault(fid, set()).add(form)
                    if re.fullmatch(r"[A-Z][A-Z0-9]{2,}", spelling):
                        written_acronyms.add(spelling)
                else:
                    choice_forms.setdefault(form, set()).add(fid)
        self.forms = {form: tuple(sorted(by_id.items())) for form, by_id in forms.items()}
        self.acronym_forms = {fid: frozenset(f) for fid, f in acronym_forms.items()}
        self.prefix_acronyms = tuple(sorted(written_acronyms, key=lambda a: (-len(a), a)))
        self.vocabulary = frozenset(w for form in self.forms for w in form.split())
        self.form_starts = frozenset(form.split()[0] for form in self.forms)
        self.form_words = max(len(form.split()) for form in self.forms) if self.forms else 0

        # Fuzzy choices: names and aliases, one row per (form, funder), blocked by token.
        self.choices: list[str] = []
        self.choice_funder: list[str] = []
        for form in sorted(choice_forms):
            for fid in sorted(choice_forms[form]):
                self.choices.append(form)
                self.choice_funder.append(fid)
        users: dict[str, set[str]] = {}
        self.funder_words: dict[str, set[str]] = {fid: set() for fid in self.country}
        for form, fid in zip(self.choices, self.choice_funder, strict=True):
            for word in form.split():
                users.setdefault(word, set()).add(fid)
                self.funder_words[fid].add(word)
        self.block_words = frozenset(
            w
            for w, fids in users.items()
            if len(fids) <= BLOCK_MAX_FUNDERS
            and len(w) >= 3
            and w not in _STOPWORDS
            and not w.isdigit()
        )
        blocks: dict[str, list[int]] = {}
        for i, form in enumerate(self.choices):
            for word in set(form.split()) & self.block_words:
                blocks.setdefault(word, []).append(i)
        self.blocks = {w: np.asarray(ix, dtype=np.int64) for w, ix in blocks.items()}

    # -------------------------------------------------------------- exact
    def lookup(self, text: str) -> _Hit | None:
        form = normalise_funder_name(text)
        found = self.forms.get(form)
        if not found:
            return None
        ids = tuple(fid for fid, _ in found)
        methods = tuple(m for _, m in found)
        if len(ids) == 1 and methods[0] == "acronym":
            owner = ids[0]
            confusable = tuple(
                p
                for p in self.partners.get(owner, ())
                if self.country.get(p) != self.country.get(owner)
                and any(a != form and a.startswith(form) for a in self.acronym_forms.get(p, ()))
            )
            if confusable:
                return _Hit(
                    form,
                    (owner, *confusable),
                    ("acronym",) * (1 + len(confusable)),
                    owner,
                )
        return _Hit(form, ids, methods, None)

    def programme_of(self, text: str) -> _Hit | None:
        """A programme named after its funder: 'Young Scientists Fund of the National Natural
        Science Foundation of China', 'Basic Science Research Program through the National
        Research Foundation of Korea', 'Discovery Grant from the NSERC'. The text after the
        first connector that leads to a registry form is matched; the words before it must
        not name an organisation of their own."""
        form = normalise_funder_name(text)
        for connector in _PROGRAMME_OF.finditer(form):
            head = form[: connector.start()].split()
            if not head or _ORGANISATION_WORDS.intersection(head):
                continue
            hit = self.lookup(form[connector.end() :])
            if hit is not None:
                return _Hit(hit.text, hit.candidates, ("alias",) * len(hit.candidates), hit.owner)
        return None

    def contained(self, form: str) -> tuple[str, ...]:
        """The funders of the longest registry form inside ``form`` (a hint for the review
        queue, never a match: 'iran national science foundation' holds 'national science
        foundation')."""
        words = form.split()
        best: tuple[int, str] | None = None
        for i, word in enumerate(words):
            if word not in self.form_starts or word in _STOPWORDS:
                continue
            for n in range(min(self.form_words, len(words) - i), 0, -1):
                if best is not None and n <= best[0]:
                    break
                if n == len(words):
                    continue
                sub = " ".join(words[i : i + n])
                if len(sub) >= 3 and sub in self.forms:
                    best = (n, sub)
                    break
        return tuple(fid for fid, _ in self.forms[best[1]]) if best else ()

    # -------------------------------------------------------------- pieces
    def pieces(self, text: str) -> list[tuple[int, int]]:
        """Atomic (start, end) spans of ``text`` between possible glue points."""
        cuts = {0, len(text), *(m.start() for m in _GLUE.finditer(text))}
        if _CAPS_WORDS.fullmatch(text):
            cuts |= {m.end() for m in re.finditer(r" ", text)}
        cuts = sorted(cuts)
        spans = [(a, b) for a, b in itertools.pairwise(cuts) if a < b]
        out: list[tuple[int, int]] = []
        for start, end in spans:
            piece = text[start:end]
            caps = _LEADING_CAPS.match(piece)
            split_at = None
            if caps and self.lookup(piece) is None and self.lookup(caps.group(0)) is None:
                token = caps.group(0)
                for acronym in self.prefix_acronyms:
                    if (
                        len(acronym) <= len(token) - 2
                        and token.startswith(acronym)
                        and self.lookup(piece[len(acronym) :]) is not None
                    ):
                        split_at = start + len(acronym)
                        break
            if split_at is None:
                out.append((start, end))
            else:
                out += [(start, split_at), (split_at, end)]
        return out

    def read(self, text: str) -> tuple[list[_Hit], list[str], str]:
        """(hits in order, fuzzy query texts, the text's distinct pieces, space-separated).

        The query texts are the unmatched runs of pieces and, for a run glued from whole
        words, each part on its own ('Gordon and Betty Moore FoundationGordon and Betty Moore
        Foundation' is tried whole and as its halves; 'CONACyT' and 'AcRF' are not cut).
        """
        spans = self.pieces(text)
        hits: list[_Hit] = []
        runs: list[list[tuple[int, int]]] = []
        current: list[tuple[int, int]] = []
        i = 0
        while i < len(spans):
            found = None
            for j in range(len(spans), i, -1):
                hit = self.lookup(text[spans[i][0] : spans[j - 1][1]])
                if hit is not None:
                    found = (j, hit)
                    break
            if found is None:
                current.append(spans[i])
                i += 1
                continue
            if current:
                runs.append(current)
                current = []
            hits.append(found[1])
            i = found[0]
        if current:
            runs.append(current)
        queries: list[str] = []
        for run in runs:
            whole = text[run[0][0] : run[-1][1]]
            queries.append(whole)
            parts = _STRONG_GLUE.split(whole)
            if len(parts) > 1:
                queries += parts
        distinct = dict.fromkeys(normalise_funder_name(text[a:b]) for a, b in spans)
        return hits, queries, " ".join(p for p in distinct if p)

    def combine(self, hits: list[_Hit]) -> _Resolution | None:
        """The entry's funder from its exact hits (most specific first), or None.

        A shared or confusable hit is settled by the entry itself when exactly one of its
        candidates is, or is related by ``parent`` to, a funder named outright in it ('NCI NIH
        HHS': NIH, under HHS; 'NSFNational Science Foundation (NSF)')."""
        named = {h.candidates[0] for h in hits if h.definite}
        related = named | {a for f in named for a in self.ancestors.get(f, ())}
        settled: list[tuple[str, str, str]] = []  # (id, method, text) in order of appearance
        for hit in hits:
            if hit.definite:
                settled.append((hit.candidates[0], hit.methods[0], hit.text))
                continue
            fitting = [
                (c, m)
                for c, m in zip(hit.candidates, hit.methods, strict=True)
                if c in related or named & self.ancestors.get(c, frozenset())
            ]
            if len(fitting) == 1:
                settled.append((*fitting[0], hit.text))
        order: list[str] = []
        best: dict[str, tuple[str, str]] = {}  # id -> (method, text)
        for fid, method, text in settled:
            if fid not in best:
                order.append(fid)
                best[fid] = (method, text)
            elif _METHOD_RANK.get(method, 9) < _METHOD_RANK.get(best[fid][0], 9):
                best[fid] = (method, text)
        implied = set().union(*(self.ancestors.get(f, frozenset()) for f in order))
        kept = [f for f in order if f not in implied]
        if kept:
            primary = kept[0]
            method, text = best[primary]
            return _Resolution(
                primary, method, 100.0, text, tuple(kept[1:]), (primary,), (method,), None
            )
        shared = [h for h in hits if not h.definite]
        if shared:
            hit = shared[0]
            return _Resolution(
                None, "ambiguous", 100.0, hit.text, (), hit.candidates, hit.methods, hit.owner
            )
        return None


# ------------------------------------------------------------------ fuzzy
def _fuzzy(
    queries: list[str], reg: _Registry, cutoff: float
) -> dict[str, tuple[str, float, str | None]]:
    """query -> (best funder, score, a rival funder within the margin or None).

    Funders scoring at least ``cutoff - FUZZY_MARGIN`` are ranked first by how many of the
    query's blocking words their names use, then by score: the distinctive words must agree,
    so 'european commission seventh framework programme' is FP7 (which has 'seventh'), not
    FP6 ('…sixth framework programme' scores higher), and is then rejected because FP7's
    score is under the cutoff. A rival uses as many of the words, scores within the margin
    and is not the best's umbrella body.
    """
    members: dict[str, list[int]] = {}
    for q, query in enumerate(queries):
        for word in set(query.split()) & reg.block_words:
            members.setdefault(word, []).append(q)
    funder_codes, funder_of_choice = np.unique(np.asarray(reg.choice_funder), return_inverse=True)
    # per query: funder index -> best score
    found: list[dict[int, float]] = [{} for _ in queries]
    for word in sorted(members):
        choice_ix = reg.blocks[word]
        choices = [reg.choices[i] for i in choice_ix]
        owner = funder_of_choice[choice_ix]
        rows = members[word]
        for start in range(0, len(rows), _FUZZY_CHUNK):
            chunk = rows[start : start + _FUZZY_CHUNK]
            matrix = process.cdist(
                [queries[q] for q in chunk],
                choices,
                scorer=fuzz.ratio,
                score_cutoff=cutoff - FUZZY_MARGIN,
                dtype=np.float32,
                workers=-1,
            )
            hit_rows, hit_cols = np.nonzero(matrix)
            for r, c in zip(hit_rows.tolist(), hit_cols.tolist(), strict=True):
                per = found[chunk[r]]
                f = int(owner[c])
                per[f] = max(per.get(f, 0.0), float(matrix[r, c]))
    out: dict[str, tuple[str, float, str | None]] = {}
    for query, per in zip(queries, found, strict=True):
        if not per:
            continue
        words = set(query.split()) & reg.block_words
        ranked = sorted(
            (
                (len(words & reg.funder_words[fid]), score, fid)
                for fid, score in ((str(funder_codes[f]), v) for f, v in per.items())
            ),
            key=lambda t: (-t[0], -t[1], t[2]),
        )
        shared, best, best_id = ranked[0]
        if best < cutoff:
            continue
        rival = None
        for n, score, other in ranked[1:]:
            if n < shared or score <= best - FUZZY_MARGIN:
                break
            if other not in reg.ancestors.get(best_id, frozenset()):
                rival = other
                break
        out[query] = (best_id, round(best, 1), rival)
    return out


def _fuzzable(run: str) -> str | None:
    """The normalised run if it may be matched fuzzily (not acronym-like, long enough)."""
    if _ACRONYM_LIKE.fullmatch(run.strip()):
        return None
    form = normalise_funder_name(run)
    return form if len(form) >= FUZZY_MIN_LENGTH else None


def _resolve_all(raws: list[str], reg: _Registry, cutoff: float) -> list[_Resolution]:
    pending: dict[int, tuple[list[str], str]] = {}  # index -> (fuzzy queries, spaced text)
    out: list[_Resolution | None] = []
    for k, raw in enumerate(raws):
        main, tags = clean_funder_text(raw, reg.vocabulary)
        hits, runs, spaced = reg.read(main)
        resolution = reg.combine(hits)
        if resolution is None or resolution.funder_id is None:
            for tag in tags:
                from_tag = reg.combine(reg.read(tag)[0])
                if from_tag is not None and from_tag.funder_id is not None:
                    resolution = from_tag
                    break
        if resolution is None:
            programmes = [h for h in (reg.programme_of(r) for r in runs) if h is not None]
            resolution = reg.combine(programmes)
        if resolution is None:
            queries = [q for q in (_fuzzable(r) for r in runs) if q]
            pending[k] = (queries, spaced)
        out.append(resolution)
    distinct = sorted({q for queries, _ in pending.values() for q in queries})
    found = _fuzzy(distinct, reg, cutoff)
    for k, (queries, spaced) in pending.items():
        matches = sorted(
            ((found[q], q) for q in queries if q in found), key=lambda m: (-m[0][1], m[1])
        )
        if not matches:
            hint = reg.contained(spaced) if spaced else ()
            out[k] = _Resolution(None, "none", None, spaced or None, (), hint, (), None)
            continue
        (fid, score, rival), query = matches[0]
        if rival is not None:
            cands = (fid, rival)
            out[k] = _Resolution(None, "ambiguous", score, query, (), cands, ("fuzzy",) * 2, None)
        else:
            cands = (fid, *reg.partners.get(fid, ()))
            out[k] = _Resolution(fid, "fuzzy", score, query, (), cands, ("fuzzy",), None)
    return [r for r in out if r is not None]


# ------------------------------------------------------------------ the stage function
def normalise_funders(
    funding: pl.LazyFrame,
    registry: pl.DataFrame,
    *,
    record_countries: pl.LazyFrame | None = None,
    fuzzy_cutoff: float = FUZZY_CUTOFF,
) -> pl.LazyFrame:
    """Add ``funder_id``, ``funder_name``, ``funder_country``, ``funder_method``,
    ``funder_score``, ``funder_text``, ``funder_also`` and ``funder_candidates``.

    ``funding`` needs ``record_id`` and ``funder_raw`` (the canonical funding table has them);
    rows keep their order and other columns, one row out per row in. ``registry`` comes from
    :func:`load_funder_registry`. ``record_countries`` (``record_id``, ``country`` as ISO3:
    the countries of the record's addresses, under the study's country policy) settles
    shared and confusable names; without it they stay ``ambiguous``. The distinct
    ``funder_raw`` strings are collected once here; everything else stays lazy.
    """
    schema = funding.collect_schema()
    missing = [c for c in REQUIRED_INPUT if c not in schema]
    if missing:
        raise ValueError(f"normalise_funders: funding lacks columns {missing}")
    clash = [c for c in OUTPUT_COLUMNS if c in schema]
    if clash:
        raise ValueError(f"normalise_funders: funding already has columns {clash}")
    reg = _Registry(registry)
    raws = (
        funding.select(pl.col("funder_raw").drop_nulls().unique())
        .collect()
        .get_column("funder_raw")
        .sort()
        .to_list()
    )
    resolved = _resolve_all(raws, reg, fuzzy_cutoff)
    lists = ("_also", "_cands", "_cmethods")
    table = pl.DataFrame(
        {
            "funder_raw": raws,
            "_id": [r.funder_id for r in resolved],
            "_method": [r.method for r in resolved],
            "_score": [r.score for r in resolved],
            "_text": [r.text for r in resolved],
            # ids hold no '|' (checked on loading): joined here, split in polars (much faster
            # than building list columns from Python lists)
            "_also": ["|".join(r.also) for r in resolved],
            "_cands": ["|".join(r.candidates) for r in resolved],
            "_cmethods": ["|".join(r.candidate_methods) for r in resolved],
            "_owner": [r.owner for r in resolved],
        },
        schema={
            "funder_raw": pl.String,
            "_id": pl.String,
            "_method": pl.String,
            "_score": pl.Float64,
            "_text": pl.String,
            **dict.fromkeys(lists, pl.String),
            "_owner": pl.String,
        },
    ).with_columns(
        [
            pl.when(pl.col(c) == "")
            .then(pl.lit([], pl.List(pl.String)))
            .otherwise(pl.col(c).str.split("|"))
            .alias(c)
            for c in lists
        ]
    )
    work = funding.with_row_index("_row").join(
        table.lazy(), on="funder_raw", how="left", maintain_order="left"
    )
    pick = pl.lit(None, pl.String)
    pick_method = pl.lit(None, pl.String)
    if record_countries is not None:
        picked = _pick_by_country(work, record_countries, reg.country)
        work = work.join(picked, on="_row", how="left", maintain_order="left")
        pick, pick_method = pl.col("_pick"), pl.col("_pick_method")
    decided = pl.col("_id").is_null() & (pl.col("_method") == "ambiguous") & pick.is_not_null()
    funder_id = pl.when(decided).then(pick).otherwise(pl.col("_id"))
    method = (
        pl.when(decided)
        .then(pick_method)
        .otherwise(pl.col("_method").fill_null("none"))
        .alias("funder_method")
    )
    names = registry.select(
        _fid=pl.col("funder_id"), funder_name=pl.col("name"), funder_country=pl.col("country")
    )
    empty = pl.lit([], pl.List(pl.String))
    out = (
        work.with_columns(
            funder_id=funder_id,
            funder_method=method,
            funder_score=pl.col("_score"),
            funder_text=pl.col("_text"),
            funder_also=pl.col("_also").fill_null(empty),
            funder_candidates=pl.col("_cands").fill_null(empty),
        )
        .join(names.lazy(), left_on="funder_id", right_on="_fid", how="left", maintain_order="left")
        .sort("_row")
    )
    return out.select(*schema.names(), *OUTPUT_COLUMNS.names()).cast(dict(OUTPUT_COLUMNS))


def _pick_by_country(
    work: pl.LazyFrame, record_countries: pl.LazyFrame, country_of: Mapping[str, str]
) -> pl.LazyFrame:
    """Per undecided row: the only candidate whose country is among the record's countries.

    A confusable acronym ('NSF') has an owner (``usa-nsf``): it is kept unless the record has
    the country of exactly one other candidate (CHN) and not the owner's. A shared name has no
    owner and stays undecided (null) when no candidate or several fit."""
    rc = (
        record_countries.select("record_id", _cc=pl.col("country"))
        .drop_nulls()
        .unique()
        .with_columns(_present=pl.lit(True))
    )
    rows = (
        work.filter((pl.col("_method") == "ambiguous") & (pl.col("_cands").list.len() > 1))
        .select("_row", "record_id", "_cands", "_cmethods", "_owner")
        .explode("_cands", "_cmethods")
        .with_columns(_cc=pl.col("_cands").replace_strict(dict(country_of), default=None))
        .join(rc, on=["record_id", "_cc"], how="left")
        .with_columns(pl.col("_present").fill_null(False))
    )
    present = pl.col("_present")
    is_owner = pl.col("_cands") == pl.col("_owner")
    return (
        rows.group_by("_row")
        .agg(
            _n=present.sum(),
            _owner_in=(present & is_owner.fill_null(False)).any(),
            _owner=pl.col("_owner").first(),
            _owner_method=pl.col("_cmethods").filter(is_owner.fill_null(False)).first(),
            _only=pl.col("_cands").filter(present).first(),
            _only_method=pl.col("_cmethods").filter(present).first(),
        )
        .select(
            "_row",
            _pick=pl.when("_owner_in")
            .then("_owner")
            .when(pl.col("_n") == 1)
            .then("_only")
            .otherwise("_owner"),
            _pick_method=pl.when("_owner_in")
            .then("_owner_method")
            .when(pl.col("_n") == 1)
            .then("_only_method")
            .otherwise("_owner_method"),
        )
    )


# ------------------------------------------------------------------ review
REVIEW_COLUMNS = pl.Schema(
    {
        "funder_text": pl.String,
        "methods": pl.List(pl.String),
        "n_records": pl.UInt32,
        "n_rows": pl.UInt32,
        "best_score": pl.Float64,
        "candidate_ids": pl.List(pl.String),
        "example_raw": pl.String,
    }
)


def funder_review_queue(normalised: pl.LazyFrame) -> pl.DataFrame:
    """Entries a person should look at, one row per ``funder_text``.

    Unmatched (``none``) and ``ambiguous`` entries, fuzzy matches scoring under
    :data:`REVIEW_BELOW`, and fuzzy matches onto a funder with look-alikes (more than one
    candidate). Columns: ``funder_text``, ``methods`` (sorted), ``n_records`` (distinct
    records), ``n_rows``, ``best_score``, ``candidate_ids`` (sorted), ``example_raw`` (the
    smallest raw string). Ranked by ``n_records`` descending, then ``funder_text``.
    """
    method = pl.col("funder_method")
    fuzzy_doubt = (method == "fuzzy") & (
        (pl.col("funder_score") < REVIEW_BELOW) | (pl.col("funder_candidates").list.len() > 1)
    )
    return (
        normalised.filter(
            (method.is_in(["none", "ambiguous"]) | fuzzy_doubt)
            & pl.col("funder_text").is_not_null()
        )
        .group_by("funder_text")
        .agg(
            methods=method.unique().sort(),
            n_records=pl.col("record_id").n_unique(),
            n_rows=pl.len(),
            best_score=pl.col("funder_score").max(),
            candidate_ids=pl.col("funder_candidates").explode().drop_nulls().unique().sort(),
            example_raw=pl.col("funder_raw").min(),
        )
        .sort(["n_records", "funder_text"], descending=[True, False])
        .collect()
        .cast(dict(REVIEW_COLUMNS))
    )
