"""Turn raw WoS records into rows of the canonical tables.

Rows are accumulated as Python lists per column (cheap appends) and become polars frames once
per file. Cited references are kept raw here and parsed vectorised in :mod:`cited_references`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from collabscope.parse.wos_tokens import RawRecord

# Tags turned into columns or child tables; any other tag is kept in records.extra_fields.
MODELLED_TAGS = frozenset(
    [
        "PT",
        "AU",
        "AF",
        "TI",
        "SO",
        "DT",
        "LA",
        "DE",
        "ID",
        "AB",
        "C1",
        "C3",
        "RP",
        "EM",
        "RI",
        "OI",
        "FU",
        "FX",
        "CR",
        "NR",
        "TC",
        "Z9",
        "U1",
        "U2",
        "PU",
        "SN",
        "EI",
        "J9",
        "JI",
        "PD",
        "PY",
        "VL",
        "IS",
        "BP",
        "EP",
        "AR",
        "DI",
        "EA",
        "WC",
        "SC",
        "UT",
        "PM",
        "OA",
        "HC",
        "HP",
        "DA",
    ]
)
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d|21\d\d)\b")
# The marker after a corresponding author's name depends on the WoS interface language the
# export was made in (English, Chinese with a full-width comma, Spanish, Portuguese, Russian).
_CORRESPONDING = re.compile(
    r"\s*\((?:corresponding author|reprint author|通讯作者|autor correspondiente|"
    r"autor correspondente|автор для корреспонденции)\)\s*[,，]?\s*",
    re.IGNORECASE,
)
_RP_GROUP_SPLIT = re.compile(r"\.\s*;\s+")
_BRACKETS = re.compile(r"\[([^\]]*)\]")
_FUNDER_SPLIT = re.compile(r";\s*(?![^\[]*\])")
_US_TAIL = re.compile(r"^(?:([A-Z]{2})\s+)?(\d{5}(?:-\d{4})?)?\s*(USA)$")
_STATE_POSTCODE = re.compile(r"^([A-Z]{2,3})\s+([0-9][0-9A-Z -]*|[A-Z]\d[A-Z]\s?\d[A-Z]\d)$")
_STATE_CODE = re.compile(r"^[A-Z]{2,3}$")
_US_NO_COUNTRY = re.compile(r"^([A-Z]{2})\s+(\d{5}(?:-\d{4})?)$")
_HAS_DIGIT = re.compile(r"\d")
_NAME_KEY = re.compile(r"[^a-z ]+")


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() else None


@functools.lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """Case- and punctuation-free form of an author name, for matching within a record."""
    return " ".join(_NAME_KEY.sub(" ", name.lower().replace(",", " , ")).split())


@functools.lru_cache(maxsize=1 << 16)
def _surname_initials(name: str) -> str:
    surname, _, given = name.partition(",")
    initials = "".join(w[0] for w in re.split(r"[\s.\-]+", given.strip()) if w)
    return f"{name_key(surname)}|{initials.lower()}"


def normalise_record_id(ut: str) -> str:
    ut = ut.strip()
    if ut.upper().startswith("ISI:"):
        return "WOS:" + ut[4:]
    if ut.isdigit():
        return "WOS:" + ut
    return ut


def normalise_doi(doi: str | None) -> str | None:
    if not doi:
        return None
    doi = doi.strip().lower()
    for prefix in ("https://doi.org/", "http://doi.org/", "http://dx.doi.org/", "doi:"):
        if doi.startswith(prefix):
            doi = doi[len(prefix) :]
    return doi or None


# List columns travel as one string joined with this separator and are split by polars in one
# vectorised step: building polars list columns from Python lists is ~100 times slower.
LIST_SEPARATOR = "\x1f"


def split_list(text: str | None) -> list[str]:
    if not text:
        return []
    return [part.strip() for part in text.split(";") if part.strip()]


def joined_list(parts: list[str]) -> str | None:
    return LIST_SEPARATOR.join(parts) if parts else None


def _joined_split(text: str | None) -> str | None:
    return joined_list(split_list(text))


@dataclass
class ParsedAddress:
    raw: str
    organisation: str | None
    sub_organisations: list[str]
    city: str | None
    state: str | None
    postcode: str | None
    country_text: str | None
    old_style: bool


def _split_postcode(element: str) -> tuple[str | None, str | None]:
    """'Beijing 100875' -> ('Beijing', '100875'); 'London WC1E 6BT' -> ('London', 'WC1E 6BT')."""
    tokens = element.split()
    end = len(tokens)
    while end > 1 and _HAS_DIGIT.search(tokens[end - 1]):
        end -= 1
    start = 0
    while start < end - 1 and _HAS_DIGIT.search(tokens[start]):
        start += 1
    post = tokens[:start] + tokens[end:]
    city = " ".join(tokens[start:end]) or None
    if city and _HAS_DIGIT.search(city) and not post:
        return None, city
    return city, " ".join(post) or None


def parse_address(raw: str) -> ParsedAddress:
    """Split a WoS address into organisation, sub-units, city, state, postcode and country.

    The country is the last element as written; an address ending in a US state and ZIP without
    a country (old exports) has none. Nothing here maps text to countries: that is the
    normalisation stage's job, under its explicit policy.
    """
    text = raw.strip().rstrip(".").strip()
    old_style = not any(ch.islower() for ch in text) and any(ch.isalpha() for ch in text)
    elements = [e.strip() for e in text.split(",") if e.strip()]
    state = postcode = country = city = None
    if not elements:
        return ParsedAddress(raw, None, [], None, None, None, None, old_style)
    last = elements[-1]
    rest = elements[:-1]
    us = _US_TAIL.match(last)
    if us:
        state, postcode, country = us.group(1), us.group(2), "USA"
    elif _US_NO_COUNTRY.match(last) and len(elements) > 1:
        state, postcode = _US_NO_COUNTRY.match(last).groups()
    elif len(elements) == 1:
        rest = elements
    else:
        country = last
    if len(rest) > 2 and state is None:
        sp = _STATE_POSTCODE.match(rest[-1])
        if sp:  # 'Toronto, ON M5S 1A1, Canada', 'Sydney, NSW 2052, Australia'
            state, postcode = sp.group(1), sp.group(2).strip()
            rest = rest[:-1]
        elif _STATE_CODE.match(rest[-1]) or (
            _HAS_DIGIT.search(rest[-2]) and not _HAS_DIGIT.search(rest[-1])
        ):  # 'Campinas, SP, Brazil'; 'Nanjing 210093, Jiangsu, Peoples R China'
            state = rest[-1]
            rest = rest[:-1]
    organisation = rest[0] if rest else None
    if len(rest) > 1:
        city, code = _split_postcode(rest[-1])
        postcode = postcode or code
        subs = rest[1:-1]
    else:
        subs = []
    return ParsedAddress(raw, organisation, subs, city, state, postcode, country, old_style)


@dataclass
class Columns:
    """Column lists of the tables one file produces."""

    records: dict[str, list] = field(default_factory=dict)
    authorships: dict[str, list] = field(default_factory=dict)
    addresses: dict[str, list] = field(default_factory=dict)
    author_address: dict[str, list] = field(default_factory=dict)
    funding: dict[str, list] = field(default_factory=dict)
    references: dict[str, list] = field(default_factory=dict)
    extra_fields: dict[str, list] = field(default_factory=dict)

    def add(self, table: str, **row: object) -> None:
        columns = getattr(self, table)
        if not columns:
            for key in row:
                columns[key] = []
        for key, value in row.items():
            columns[key].append(value)


class RecordBuilder:
    """Accumulates the canonical rows of the records of one export file."""

    def __init__(self, file: str, source_format: str) -> None:
        self.file = file
        self.source_format = source_format
        self.columns = Columns()

    def add(self, raw: RawRecord) -> str:
        """Add one record; return its record_id. The caller has checked it has a UT."""
        f = raw.fields

        def text(tag: str) -> str | None:
            parts = f.get(tag)
            if not parts:
                return None
            joined = " ".join(parts).strip()
            return joined or None

        record_id = normalise_record_id(text("UT") or "")
        authors = f.get("AU", [])
        full_names = f.get("AF", [])
        cited = f.get("CR", [])
        year = _int(text("PY"))
        year_source = "PY" if year is not None else None
        early_access = text("EA")
        if year is None and early_access:
            found = _YEAR.search(early_access)
            if found:
                year, year_source = int(found.group(1)), "EA"
        modern = "DA" in f or self.source_format == "wos_tab"
        hc, hp = text("HC"), text("HP")
        c1 = f.get("C1", [])
        self.columns.add(
            "records",
            record_id=record_id,
            database=record_id.split(":", 1)[0] if ":" in record_id else "WOS",
            source="wos",
            source_format=self.source_format,
            source_file=self.file,
            source_line=raw.line,
            publication_type=text("PT"),
            doc_type=text("DT"),
            title=text("TI"),
            journal=text("SO"),
            journal_abbrev=text("J9"),
            journal_iso=text("JI"),
            issn=text("SN"),
            eissn=text("EI"),
            volume=text("VL"),
            issue=text("IS"),
            start_page=text("BP"),
            end_page=text("EP"),
            article_number=text("AR"),
            doi=normalise_doi(text("DI")),
            year=year,
            year_source=year_source,
            publication_date=text("PD"),
            early_access=early_access,
            language=text("LA"),
            times_cited=_int(text("TC")),
            times_cited_all=_int(text("Z9")),
            usage_180=_int(text("U1")),
            usage_2013=_int(text("U2")),
            # Modern exports write HC only on highly cited papers, so absence there means no;
            # in older exports the flag did not exist and stays unknown.
            highly_cited=_flag(hc, modern),
            hot_paper=_flag(hp, modern),
            subject_categories=_joined_split(text("WC")),
            research_areas=_joined_split(text("SC")),
            author_keywords=_joined_split(text("DE")),
            keywords_plus=_joined_split(text("ID")),
            abstract=text("AB"),
            emails=_joined_split(text("EM")),
            organisations_enhanced=_joined_split(text("C3")),
            funding_text=text("FX"),
            publisher=text("PU"),
            pubmed_id=text("PM"),
            open_access=text("OA"),
            n_authors=len(authors),
            n_addresses=len(c1),
            n_references=_int(text("NR")),
            n_references_parsed=len(cited),
        )
        for tag, parts in f.items():
            if tag not in MODELLED_TAGS and parts:
                self.columns.add(
                    "extra_fields", record_id=record_id, tag=tag, value=" ".join(parts)
                )
        self._add_authors(record_id, authors, full_names, text("OI"), text("RI"), text("RP"), c1)
        self._add_funding(record_id, text("FU"))
        if cited:
            refs = self.columns.references
            if not refs:
                refs.update(record_id=[], ref_pos=[], raw=[])
            refs["record_id"].extend([record_id] * len(cited))
            refs["ref_pos"].extend(range(1, len(cited) + 1))
            refs["raw"].extend(cited)
        return record_id

    def _add_authors(
        self,
        record_id: str,
        authors: list[str],
        full_names: list[str],
        oi: str | None,
        ri: str | None,
        rp: str | None,
        c1: list[str],
    ) -> None:
        n = max(len(authors), len(full_names))
        short = [authors[i] if i < len(authors) else None for i in range(n)]
        full = [full_names[i] if i < len(full_names) else None for i in range(n)]
        matcher = _AuthorMatcher(short, full)
        orcid = matcher.assign_ids(oi)
        researcher = matcher.assign_ids(ri)
        address_pos = 0
        links: list[tuple[int, int]] = []
        for entry in c1:
            address_pos += 1
            names, address = _split_bracket(entry)
            self._add_address(record_id, address_pos, "affiliation", address)
            for name in names:
                links.extend((pos, address_pos) for pos in matcher.positions(name))
        corresponding: set[int] = set()
        for names, address in _reprint_groups(rp):
            positions = {pos for name in names for pos in matcher.positions(name)}
            corresponding |= positions
            if address:
                address_pos += 1
                self._add_address(record_id, address_pos, "reprint", address)
                links.extend((pos, address_pos) for pos in sorted(positions))
        for i in range(n):
            self.columns.add(
                "authorships",
                record_id=record_id,
                position=i + 1,
                name=short[i],
                full_name=full[i],
                orcid=orcid.get(i + 1),
                researcher_id=researcher.get(i + 1),
                is_corresponding=(i + 1) in corresponding,
            )
        for pos, apos in sorted(set(links)):
            self.columns.add("author_address", record_id=record_id, position=pos, address_pos=apos)

    def _add_address(self, record_id: str, pos: int, kind: str, raw: str) -> None:
        parsed = parse_address(raw)
        self.columns.add(
            "addresses",
            record_id=record_id,
            address_pos=pos,
            kind=kind,
            raw=parsed.raw,
            organisation=parsed.organisation,
            sub_organisations=joined_list(parsed.sub_organisations),
            city=parsed.city,
            state=parsed.state,
            postcode=parsed.postcode,
            country_text=parsed.country_text,
            old_style=parsed.old_style,
        )

    def _add_funding(self, record_id: str, fu: str | None) -> None:
        if not fu:
            return
        pos = 0
        for entry in _FUNDER_SPLIT.split(fu):
            entry = entry.strip()
            if not entry:
                continue
            grants = [
                g.strip()
                for group in _BRACKETS.findall(entry)
                for g in group.split(",")
                if g.strip()
            ]
            funder = " ".join(_BRACKETS.sub(" ", entry).split()) or None
            pos += 1
            self.columns.add(
                "funding",
                record_id=record_id,
                funder_pos=pos,
                funder_raw=funder,
                grant_numbers=joined_list(grants),
            )


def _flag(value: str | None, absent_means_no: bool) -> bool | None:
    if value is None:
        return False if absent_means_no else None
    value = value.strip().upper()
    if value.startswith("Y"):
        return True
    if value.startswith("N"):
        return False
    return None


def _split_bracket(entry: str) -> tuple[list[str], str]:
    """'[Li, X; Smith, J] Univ Oxford, …' -> (['Li, X', 'Smith, J'], 'Univ Oxford, …')."""
    entry = entry.strip()
    if entry.startswith("["):
        close = entry.find("]")
        if close > 0:
            names = [n.strip() for n in entry[1:close].split(";") if n.strip()]
            return names, entry[close + 1 :].strip()
    return [], entry


def _reprint_groups(rp: str | None) -> list[tuple[list[str], str | None]]:
    """RP text -> [(names, address)], one per '(corresponding author)' group."""
    if not rp:
        return []
    groups = []
    for part in _RP_GROUP_SPLIT.split(rp.strip()):
        part = part.strip().rstrip(";").strip()
        if not part:
            continue
        marker = _CORRESPONDING.search(part)
        if marker:
            names = [n.strip() for n in part[: marker.start()].split(";") if n.strip()]
            address = part[marker.end() :].strip() or None
        else:
            names, address = [], part  # an address without the author's name (older exports)
        groups.append((names, address))
    return groups


class _AuthorMatcher:
    """Finds the byline positions a name written elsewhere in the record refers to."""

    def __init__(self, short: list[str | None], full: list[str | None]) -> None:
        self.by_key: dict[str, list[int]] = {}
        self.by_initials: dict[str, list[int]] = {}
        self.full_keys: list[tuple[str, int]] = []
        for i, (s, f) in enumerate(zip(short, full, strict=True), start=1):
            for name in (s, f):
                if name:
                    self._index(self.by_key, name_key(name), i)
                    self._index(self.by_initials, _surname_initials(name), i)
            if f:
                self.full_keys.append((name_key(f), i))

    @staticmethod
    def _index(index: dict[str, list[int]], key: str, pos: int) -> None:
        bucket = index.setdefault(key, [])
        if pos not in bucket:
            bucket.append(pos)

    def positions(self, name: str) -> list[int]:
        found = self.by_key.get(name_key(name))
        if found:
            return found
        return self.by_initials.get(_surname_initials(name), [])

    def assign_ids(self, text: str | None) -> dict[int, str]:
        """'Name, First/0000-0001-…; …' -> {position: id} where the name is unambiguous."""
        assigned: dict[int, str] = {}
        for entry in split_list(text):
            name, sep, ident = entry.rpartition("/")
            if not sep or not name.strip(", ") or not ident.strip():
                continue
            positions = self.positions(name)
            if not positions:
                key = name_key(name)
                positions = [pos for full, pos in self.full_keys if full.startswith(key)]
            if len(positions) == 1 and positions[0] not in assigned:
                assigned[positions[0]] = ident.strip()
        return assigned
