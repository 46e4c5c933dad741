"""Split a Web of Science address into organisation, sub-units, city, state, postcode, country."""

from __future__ import annotations

import re
from dataclasses import dataclass

_US_TAIL = re.compile(r"^(?:([A-Z]{2})\s+)?(\d{5}(?:-\d{4})?)?\s*(USA)$")
_STATE_POSTCODE = re.compile(r"^([A-Z]{2,3})\s+([0-9][0-9A-Z -]*|[A-Z]\d[A-Z]\s?\d[A-Z]\d)$")
_STATE_CODE = re.compile(r"^[A-Z]{2,3}$")
_US_NO_COUNTRY = re.compile(r"^([A-Z]{2})\s+(\d{5}(?:-\d{4})?)$")
_HAS_DIGIT = re.compile(r"\d")


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
