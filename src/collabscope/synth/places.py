"""Institutions and how Web of Science writes their addresses.

An address is decided once per record (organisation form valid in the record's year,
department, street, city, postcode, region, country as written) and rendered in one of the
styles WoS used over time: the current mixed-case form, the old all-uppercase form without
spaces after commas, and the Hong Kong / Macau forms before and after WoS began writing them
as provinces of "Peoples R China".
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass

from collabscope.synth import vocab

# Address styles (AddressPlan.style).
MODERN = "modern"
UPPER = "upper"  # 'UNIV LONDON,INST EDUC,LONDON WC1H 0AL,ENGLAND'
# Hong Kong and Macau: country written as the territory, or as a province of China.
HK_OLD = "hk_old"  # '..., Shatin, Hong Kong'
HK_CITY = "hk_city"  # '..., Hong Kong, Hong Kong'
HK_PRC = "hk_prc"  # '..., Shatin, Hong Kong, Peoples R China'
HK_DOUBLE = "hk_double"  # '..., Hong Kong, Hong Kong, Peoples R China'
MO_OLD = "mo_old"  # '..., Taipa, Macau'
MO_PRC = "mo_prc"  # '..., Taipa, Macao, Peoples R China'
US_NO_COUNTRY = "us_no_country"  # old US addresses end 'CA 94305' without 'USA'

UK_NATION_QUIRK = {
    "England": "uk_england",
    "Scotland": "uk_scotland",
    "Wales": "uk_wales",
    "North Ireland": "uk_north_ireland",
}
# Institutions whose address text is a trap for naive country matching.
TRAP_QUIRKS = {
    "unsw": "trap_new_south_wales",  # 'Univ New S Wales, ..., NSW, Australia'
    "une": "trap_new_england",  # 'Univ New England, Armidale, NSW, Australia'
    "bgsu": "trap_scotland_street",  # '1001 Scotland Dr, Bowling Green, OH USA'
    "bidmc": "trap_beth_israel",  # 'Beth Israel Deaconess Med Ctr, Boston, MA USA'
    "cmu_tw": "trap_china_med_univ_taiwan",  # 'China Med Univ, Taichung, Taiwan'
}


@dataclass(frozen=True, slots=True)
class Institution:
    key: str
    country: str  # ISO3 under the default policy (UK nations -> GBR; HKG, MAC, TWN separate)
    names: tuple[tuple[str, int, int], ...]  # (WoS form, first year, last year)
    full_name: str
    city: str
    postcode: str
    region: str
    departments: tuple[str, ...]
    domain: str
    tier: str
    weight: float
    streets: tuple[str, ...]
    joint: bool
    has_c3: bool

    def name_in(self, year: int, rng: random.Random) -> str:
        valid = [n for n, y0, y1 in self.names if y0 <= year <= y1]
        if not valid:
            valid = [self.names[0][0]]
        # The first valid form is the usual one; others appear now and then.
        if len(valid) == 1 or rng.random() < 0.6:
            return valid[0]
        return valid[int(rng.random() * len(valid))]

    @property
    def nation(self) -> str:
        """For UK institutions: England, Scotland, Wales or North Ireland."""
        return self.region.split("|")[-1]


def _parse_names(names: tuple[str, ...]) -> tuple[tuple[str, int, int], ...]:
    out = []
    for name in names:
        form, _, years = name.partition("@")
        first, last = 1900, 2100
        if years:
            start, _, end = years.partition("-")
            first = int(start) if start else first
            last = int(end) if end else last
        out.append((form, first, last))
    return tuple(out)


def _load() -> dict[str, Institution]:
    table = {}
    for key, row in vocab.INSTITUTIONS.items():
        cc, names, full, city, post, region, depts, domain, tier, weight, streets = row
        table[key] = Institution(
            key=key,
            country=cc,
            names=_parse_names(names),
            full_name=full,
            city=city,
            postcode=post,
            region=region,
            departments=depts,
            domain=domain,
            tier=tier,
            weight=float(weight),
            streets=streets,
            joint=key in vocab.JOINT_INSTITUTIONS,
            has_c3=key not in vocab.NO_C3,
        )
    return table


INSTITUTIONS: dict[str, Institution] = _load()


class InstitutionPicker:
    """Weighted choice of institutions per country (cumulative weights, bisect: fast)."""

    def __init__(self, boost: dict[str, float] | None = None) -> None:
        boost = boost or {}
        self.keys: dict[str, list[str]] = {}
        self.cum: dict[str, list[float]] = {}
        for key, inst in INSTITUTIONS.items():
            self.keys.setdefault(inst.country, []).append(key)
        for cc, keys in self.keys.items():
            total = 0.0
            cum = []
            for key in keys:
                total += INSTITUTIONS[key].weight * boost.get(key, 1.0)
                cum.append(total)
            self.cum[cc] = cum

    def pick(self, rng: random.Random, country: str, avoid: tuple[str, ...] = ()) -> str:
        keys, cum = self.keys[country], self.cum[country]
        for _ in range(8):
            key = keys[bisect.bisect_right(cum, rng.random() * cum[-1])]
            if key not in avoid:
                return key
        for key in keys:
            if key not in avoid:
                return key
        return keys[0]


@dataclass(slots=True)
class AddressText:
    """An address as WoS writes it, without the final full stop."""

    text: str
    country_text: str | None  # last element as written (None: no country written)
    quirks: tuple[str, ...]


def address_style(inst: Institution, year: int, rng: random.Random, old_upper: bool) -> str:
    """The style an address of ``inst`` is written in, for a record of ``year``."""
    if old_upper:
        if inst.country == "USA" and rng.random() < 0.6:
            return US_NO_COUNTRY
        return UPPER
    if inst.country == "HKG":
        if year >= 2019:
            return HK_DOUBLE if rng.random() < 0.12 else HK_PRC
        if year >= 2012:
            return rng.choice((HK_PRC, HK_OLD, HK_CITY))
        return HK_CITY if rng.random() < 0.4 else HK_OLD
    if inst.country == "MAC":
        return MO_PRC if year >= 2016 or rng.random() < 0.2 else MO_OLD
    return MODERN


def address_text(
    inst: Institution,
    year: int,
    style: str,
    rng: random.Random,
    *,
    form: str = "",
    department: bool = True,
) -> AddressText:
    """Render one address of ``inst`` (choices of form, department and street use ``rng``)."""
    name = form or inst.name_in(year, rng)
    parts = [name]
    quirks: list[str] = []
    if department and "," not in name and inst.departments and rng.random() < 0.92:
        parts.append(inst.departments[int(rng.random() * len(inst.departments))])
    if "Lau China Inst" in name:
        quirks.append("trap_lau_china_inst")
    if inst.streets and (rng.random() < 0.3 or inst.key == "bgsu"):
        parts.append(inst.streets[int(rng.random() * len(inst.streets))])
    if inst.key in TRAP_QUIRKS:
        quirks.append(TRAP_QUIRKS[inst.key])
    if inst.joint:
        quirks.append("joint_institution")
    cc = inst.country
    country_name, location = vocab.COUNTRIES[cc]
    postcode = inst.postcode if rng.random() < 0.8 else ""
    if cc == "GBR":
        parts.append(f"{inst.city} {postcode}".strip())
        region = inst.region.split("|")
        if len(region) == 2 and rng.random() < 0.7:
            parts.append(region[0])
        country = region[-1]
        quirks.append(UK_NATION_QUIRK[country])
    elif cc == "CHN":
        parts.append(f"{inst.city} {postcode}".strip())
        if inst.region and rng.random() < 0.7:
            parts.append(inst.region)
        country = country_name
    elif cc == "HKG":
        city = inst.city if inst.city != "Hong Kong" else ""
        if style in (HK_OLD, UPPER):
            parts += [city] if city else []
            country = "Hong Kong"
            quirks.append("hk_old")
        elif style == HK_CITY:
            parts.append("Hong Kong")
            country = "Hong Kong"
            quirks.append("hk_city_country")
        elif style == HK_DOUBLE:
            parts += ["Hong Kong", "Hong Kong"]
            country = "Peoples R China"
            quirks.append("hk_double")
        else:  # HK_PRC
            parts += [city, "Hong Kong"] if city else ["Hong Kong"]
            country = "Peoples R China"
            quirks.append("hk_prc")
    elif cc == "MAC":
        city = inst.city if inst.city != "Macau" else ""
        if style == MO_PRC:
            parts += [city] if city else []
            parts.append("Macau" if rng.random() < 0.5 else "Macao")
            country = "Peoples R China"
            quirks.append("macau_prc")
        else:
            parts += [city] if city else []
            country = "Macau"
            quirks.append("macau_old")
    elif cc == "TWN":
        parts.append(f"{inst.city} {postcode}".strip())
        country = country_name
        quirks.append("taiwan")
    elif location == "us":
        parts.append(inst.city)
        # old addresses without 'USA' always end in state and ZIP ('CA 94305')
        full = postcode or style == US_NO_COUNTRY
        state_zip = inst.postcode if full else inst.postcode.split()[0]
        if style == US_NO_COUNTRY:
            parts.append(state_zip)
            country = None
            quirks.append("us_no_country")
        else:
            parts.append(f"{state_zip} USA")
            country = "USA"
    elif location == "state":
        parts.append(inst.city)
        parts.append(inst.postcode if postcode else inst.postcode.split()[0])
        country = country_name
    elif location == "before":
        parts.append(f"{postcode} {inst.city}".strip())
        if inst.region:
            parts.append(inst.region)
        country = country_name
    else:
        parts.append(f"{inst.city} {postcode}".strip())
        if inst.region:
            parts.append(inst.region)
        country = country_name
    if country is not None and not (location == "us" and style != US_NO_COUNTRY):
        parts.append(country)
    if style in (UPPER, US_NO_COUNTRY):
        text = ",".join(parts).upper()
        country = country.upper() if country else None
        quirks.append("c1_upper")
    else:
        text = ", ".join(parts)
    return AddressText(text, country, tuple(quirks))
