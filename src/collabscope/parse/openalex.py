"""OpenAlex works (JSON, JSON Lines, CSV export) as field items for the shared builder.

- JSON: a list of works, or an API page ``{"meta": …, "results": [works]}``; JSON Lines: one
  work per line (API dumps, snapshot ``part_*.gz`` files once decompressed).
- CSV: OpenAlex's flattened export (``authorships.author.display_name`` etc., lists joined
  with '|').

Each authorship's institutions become C1 items '[Author] Institution' (one per distinct
institution in the record, listing every author there), with the institution's country as an
ISO 3166-1 alpha-3 code (CC, from OpenAlex's alpha-2 ``country_code``) and its ROR id (RR)
beside it: OpenAlex gives countries as codes, so they are never read from names.
``is_corresponding`` becomes an RP group without an address (the flag, not a second address);
ORCIDs become OI entries; referenced works become CR items (their W ids); grants become FU.

JSON is decoded with the json module and the fields are gathered per work in Python: this is
the tokenising step (as the line-by-line WoS tokeniser); the builder works on whole frames.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import polars as pl

from collabscope.normalise.curated import ISO2_TO_ISO3
from collabscope.parse.scopus import read_rows
from collabscope.parse.wos_items import _EXCERPT, ITEMS_SCHEMA, META_SCHEMA, FileItems

_WORK_ID = re.compile(r'"id"\s*:\s*"https://openalex\.org/(W\d+)"')
_NO_ID = "no OpenAlex work id (https://openalex.org/W…): cannot identify it"


def _short(value: Any) -> str | None:
    """'https://openalex.org/W123' -> 'W123'; 'https://orcid.org/0000-…' -> '0000-…'."""
    if not value:
        return None
    return str(value).rstrip("/").rsplit("/", 1)[-1]


class _Items:
    def __init__(self, first_rec: int) -> None:
        self.rec = first_rec
        self.items: dict[str, list] = {"rec": [], "tag": [], "value": []}
        self.meta: dict[str, list] = {name: [] for name in META_SCHEMA.names()}

    def add(self, tag: str, value: Any, keep_empty: bool = False) -> None:
        # CC and RR are kept even when empty: they line up with the C1 items by position.
        if (value is None or value == "") and not keep_empty:
            return
        value = "" if value is None else value
        self.items["rec"].append(self.rec)
        self.items["tag"].append(tag)
        self.items["value"].append(str(value))

    def record(self, line: int, problem: str | None, excerpt: str) -> None:
        self.meta["rec"].append(self.rec)
        self.meta["line"].append(line)
        self.meta["problem"].append(problem)
        self.meta["excerpt"].append(excerpt[:_EXCERPT])
        self.meta["is_record"].append(True)

    def result(self) -> FileItems:
        return FileItems(
            pl.DataFrame(self.meta, schema=META_SCHEMA),
            pl.DataFrame(self.items, schema=ITEMS_SCHEMA),
        )


def _works(lines: list[str]) -> Iterator[tuple[int, Any, str | None]]:
    """(line, work, problem) for every work in a JSON or JSON Lines file."""
    text = "\n".join(lines)
    stripped = text.strip()
    whole: Any = None
    try:
        whole = json.loads(stripped)
    except json.JSONDecodeError as err:
        first = next((line.strip() for line in lines if line.strip()), "")
        if not (first.startswith("{") and first.endswith("}")):
            # One JSON document (not one work per line) that does not parse: nothing in it
            # can be trusted, so it is one quarantined entry at the error.
            yield err.lineno, None, f"not valid JSON ({err.msg} at line {err.lineno} column "
            f"{err.colno}); no work of this file could be read"
            return
    if whole is None:  # JSON Lines
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line), None
            except json.JSONDecodeError as err:
                yield number, None, f"not valid JSON ({err.msg} at column {err.colno})"
        return
    works = whole.get("results", [whole]) if isinstance(whole, dict) else whole
    if not isinstance(works, list):
        works = [works]
    # Each work's own "id" key starts it; nested ids are authors (A…) or institutions (I…).
    starts = [text.count("\n", 0, m.start()) + 1 for m in _WORK_ID.finditer(text)]
    exact = len(starts) == len(works)
    for i, work in enumerate(works):
        yield (starts[i] if exact else 1), work, None


def openalex_json_items(lines: list[str], first_rec: int = 0) -> FileItems:
    """Items of an OpenAlex JSON or JSON Lines file; records are numbered from ``first_rec``."""
    out = _Items(first_rec)
    for line, work, problem in _works(lines):
        if problem is None and not isinstance(work, dict):
            problem = "not a JSON object (an OpenAlex work)"
        work_id = _short(work.get("id")) if problem is None else None
        if problem is None and not (work_id and re.fullmatch(r"W\d+", work_id)):
            problem = _NO_ID
        excerpt = json.dumps(work, ensure_ascii=False)[:_EXCERPT] if work is not None else ""
        out.record(line, problem, excerpt if work is not None else lines[line - 1])
        if problem is None:
            _work_items(out, work, work_id)
        out.rec += 1
    return out.result()


def _get(work: dict, *path: str) -> Any:
    value: Any = work
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _work_items(out: _Items, work: dict, work_id: str) -> None:
    out.add("UT", work_id)
    out.add("TI", work.get("title") or work.get("display_name"))
    out.add("PY", work.get("publication_year"))
    out.add("PD", work.get("publication_date"))
    out.add("DI", work.get("doi"))
    out.add("DT", work.get("type"))
    out.add("LA", work.get("language"))
    out.add("TC", work.get("cited_by_count"))
    out.add("SO", _get(work, "primary_location", "source", "display_name"))
    out.add("SN", _get(work, "primary_location", "source", "issn_l"))
    out.add("PU", _get(work, "primary_location", "source", "host_organization_name"))
    out.add("VL", _get(work, "biblio", "volume"))
    out.add("IS", _get(work, "biblio", "issue"))
    out.add("BP", _get(work, "biblio", "first_page"))
    out.add("EP", _get(work, "biblio", "last_page"))
    out.add("PM", _short(_get(work, "ids", "pmid")))
    out.add("OA", _get(work, "open_access", "oa_status"))
    out.add("AB", _abstract(work.get("abstract_inverted_index")))
    keywords = [k.get("display_name") for k in work.get("keywords") or [] if isinstance(k, dict)]
    out.add("DE", "; ".join(k for k in keywords if k))
    authorships = [a for a in work.get("authorships") or [] if isinstance(a, dict)]
    institutions: dict[str, tuple[str, str | None, str | None, list[str]]] = {}
    for authorship in authorships:
        name = _get(authorship, "author", "display_name") or authorship.get("raw_author_name")
        if not name:
            continue
        out.add("AU", surname_first(name))
        out.add("AF", name)
        orcid = _short(_get(authorship, "author", "orcid"))
        if orcid:
            out.add("OI", f"{name}/{orcid}")
        if authorship.get("is_corresponding"):
            out.add("RP", f"{name} (corresponding author),")
        listed = [i for i in authorship.get("institutions") or [] if isinstance(i, dict)]
        for institution in listed:
            label = institution.get("display_name")
            if not label:
                continue
            key = institution.get("id") or label
            code = institution.get("country_code")
            entry = institutions.setdefault(
                key,
                (label, ISO2_TO_ISO3.get(code or ""), institution.get("ror"), []),
            )
            entry[3].append(name)
        if not listed:
            # Only the affiliation as written: its country when OpenAlex gives exactly one.
            countries = authorship.get("countries") or []
            for raw in authorship.get("raw_affiliation_strings") or []:
                code = ISO2_TO_ISO3.get(countries[0]) if len(countries) == 1 else None
                institutions.setdefault(raw, (raw, code, None, []))[3].append(name)
    for label, code, ror, names in institutions.values():
        out.add("C1", f"[{'; '.join(dict.fromkeys(names))}] {label}")
        out.add("CC", code, keep_empty=True)
        out.add("RR", ror, keep_empty=True)
    for cited in work.get("referenced_works") or []:
        out.add("CR", _short(cited))
    funders = []
    for grant in work.get("grants") or work.get("awards") or []:
        if not isinstance(grant, dict):
            continue
        funder = grant.get("funder_display_name") or _short(grant.get("funder"))
        award = grant.get("award_id") or grant.get("funder_award_id")
        funders.append(f"{funder or ''} [{award}]" if award else (funder or ""))
    out.add("FU", "; ".join(f.strip() for f in funders if f.strip()))


def surname_first(name: str) -> str:
    """'Massimo Aria' -> 'Aria, M': the AU form, the last word being the surname."""
    words = name.replace(",", " ").split()
    if len(words) < 2:
        return name
    initials = "".join(w[0] for w in words[:-1] if w[0].isalpha())
    return f"{words[-1]}, {initials}" if initials else name


def _abstract(inverted: Any) -> str | None:
    """OpenAlex gives abstracts as {word: [positions]}; the text is the words by position."""
    if not isinstance(inverted, dict) or not inverted:
        return None
    placed = sorted((p, w) for w, positions in inverted.items() for p in positions or [])
    return " ".join(w for _, w in placed)


# Flattened CSV export: column -> tag, read as one text each.
_CSV_TEXT = {
    "display_name": "TI",
    "title": "TI",
    "publication_year": "PY",
    "publication_date": "PD",
    "doi": "DI",
    "type": "DT",
    "language": "LA",
    "cited_by_count": "TC",
    "abstract": "AB",
    "primary_location.source.display_name": "SO",
    "primary_location.source.issn_l": "SN",
    "ids.pmid": "PM",
    "open_access.oa_status": "OA",
}


def openalex_csv_items(lines: list[str], first_rec: int = 0) -> FileItems:
    """Items of an OpenAlex CSV export; records are numbered from ``first_rec``.

    Lists are '|'-joined per authorship. An authorship's institutions and countries are tied
    to its author only when the file has exactly one per author (the flattening loses the
    grouping otherwise); then the institutions are listed without author links or country.
    """
    header, rows = read_rows(lines)
    out = _Items(first_rec)
    column = {name: i for i, name in enumerate(header)}

    def cell(fields: list[str], name: str) -> str:
        i = column.get(name)
        return fields[i].strip() if i is not None and i < len(fields) else ""

    def listed(fields: list[str], name: str) -> list[str]:
        text = cell(fields, name)
        return [part.strip() for part in text.split("|")] if text else []

    for line, fields in rows:
        problem = None
        work_id = _short(cell(fields, "id"))
        if len(fields) != len(header):
            problem = f"row has {len(fields)} fields, the header has {len(header)}"
        elif not (work_id and re.fullmatch(r"W\d+", work_id)):
            problem = _NO_ID
        out.record(line, problem, ",".join(fields))
        if problem is None:
            out.add("UT", work_id)
            seen = set()
            for name, tag in _CSV_TEXT.items():
                if tag not in seen and cell(fields, name):
                    out.add(tag, cell(fields, name))
                    seen.add(tag)
            authors = listed(fields, "authorships.author.display_name")
            orcids = listed(fields, "authorships.author.orcid")
            corresponding = listed(fields, "authorships.is_corresponding")
            labels = listed(fields, "authorships.institutions.display_name")
            countries = listed(fields, "authorships.countries")
            for i, name in enumerate(authors):
                out.add("AU", surname_first(name))
                out.add("AF", name)
                if len(orcids) == len(authors) and orcids[i]:
                    out.add("OI", f"{name}/{_short(orcids[i])}")
                if len(corresponding) == len(authors) and corresponding[i].lower() == "true":
                    out.add("RP", f"{name} (corresponding author),")
            one_each = len(labels) == len(authors)
            places: dict[str, tuple[str | None, list[str]]] = {}
            for i, label in enumerate(labels):
                if not label:
                    continue
                code = (
                    ISO2_TO_ISO3.get(countries[i])
                    if one_each and len(countries) == len(authors)
                    else None
                )
                place = places.setdefault(label, (code, []))
                if one_each:
                    place[1].append(authors[i])
            for label, (code, names) in places.items():
                prefix = f"[{'; '.join(dict.fromkeys(names))}] " if names else ""
                out.add("C1", prefix + label)
                out.add("CC", code, keep_empty=True)
                out.add("RR", None, keep_empty=True)
            out.add("FU", "; ".join(listed(fields, "funders.display_name")))
        out.rec += 1
    return out.result()
