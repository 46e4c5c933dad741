"""Checks on the curated institution registry and tier list in resources/institutions/.

`registry_problems` is the validator; the tests run it on the shipped files (no problems) and on
deliberately broken copies (each break named), and check the counts and tier nestings the
registries promise.
"""

from __future__ import annotations

import copy
import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import PROJECT

REGISTRY_DIR = PROJECT / "resources" / "institutions"
INSTITUTIONS = REGISTRY_DIR / "institutions.csv"
TIERS = REGISTRY_DIR / "tiers.csv"

INSTITUTION_COLUMNS = [
    "institution_id",
    "name",
    "country",
    "city",
    "aliases",
    "tiers",
    "transnational",
    "parent",
    "kind",
]
TIER_COLUMNS = ["tier_id", "name", "country", "description", "source"]
KINDS = frozenset({"university", "institute", "hospital", "government", "company", "other"})
ID_PATTERN = re.compile(r"^[a-z]{3}-[a-z0-9]+(?:-[a-z0-9]+)*$")
TIER_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# ISO 3166-1 alpha-3 (officially assigned codes).
_ISO3_CODES = """
    ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD
    BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR
    COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH
    ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL
    GTM GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR
    JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR
    MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL
    NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY
    PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP
    SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA
    UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE
"""
ISO3 = frozenset(_ISO3_CODES.split())

OXBRIDGE = (
    "corpus christi coll", "jesus coll", "pembroke coll", "queens coll", "st johns coll",
    "trinity coll", "wolfson coll",
)  # fmt: skip
# Aliases deliberately shared by two rows of one country: WoS writes both campuses of these
# universities the same way; the address's city element decides between them.
SHARED_ALIASES: dict[tuple[str, str], frozenset[str]] = {
    ("CHN", "china univ petr"): frozenset({"chn-cup-beijing", "chn-upc"}),
    ("CHN", "china univ geosci"): frozenset({"chn-cug-beijing", "chn-cug-wuhan"}),
    ("CHN", "china univ min & technol"): frozenset({"chn-cumt-beijing", "chn-cumt"}),
    # The Guangzhou and Zhuhai laboratories of Southern Marine Science and Engineering Guangdong
    # Laboratory both write the bare name; the address's city decides.
    ("CHN", "southern marine sci & engn guangdong lab"): frozenset(
        {"chn-smsegl-guangzhou", "chn-smsegl-zhuhai"}
    ),
    # Colleges of the same name in Oxford and Cambridge (and King's College London, Kent's
    # Darwin College): 'Jesus Coll, Oxford' and 'Jesus Coll, Cambridge' are told apart by city.
    **{("GBR", college): frozenset({"gbr-cambridge", "gbr-oxford"}) for college in OXBRIDGE},
    ("GBR", "kings coll"): frozenset({"gbr-cambridge", "gbr-kcl"}),
    ("GBR", "darwin coll"): frozenset({"gbr-cambridge", "gbr-kent"}),
}

Row = dict[str, str]


def read_csv(path: Path) -> tuple[list[str], list[Row]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), f"{path.name}: UTF-8 without BOM expected"
    assert b"\r" not in raw, f"{path.name}: LF line endings expected"
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def split(value: str) -> list[str]:
    return value.split("|") if value else []


def with_tier(rows: list[Row], tier: str) -> set[str]:
    return {r["institution_id"] for r in rows if tier in split(r["tiers"])}


def registry_problems(
    columns: list[str],
    rows: list[Row],
    tier_columns: list[str],
    tiers: list[Row],
    shared: dict[tuple[str, str], frozenset[str]] = SHARED_ALIASES,
) -> list[str]:
    """Every rule the registry files must obey, as a list of readable problems."""
    out: list[str] = []
    if columns != INSTITUTION_COLUMNS:
        out.append(f"institutions.csv columns {columns} != {INSTITUTION_COLUMNS}")
    if tier_columns != TIER_COLUMNS:
        out.append(f"tiers.csv columns {tier_columns} != {TIER_COLUMNS}")
    if out:
        return out

    tier_country: dict[str, str] = {}
    for t in tiers:
        tid = t["tier_id"]
        if not TIER_PATTERN.fullmatch(tid):
            out.append(f"tier {tid!r}: not a lower-case slug")
        if tid in tier_country:
            out.append(f"tier {tid!r}: duplicate tier_id")
        if t["country"] not in ISO3:
            out.append(f"tier {tid!r}: country {t['country']!r} is not ISO 3166-1 alpha-3")
        for col in ("name", "description", "source"):
            if not t[col].strip():
                out.append(f"tier {tid!r}: empty {col}")
        tier_country[tid] = t["country"]

    ids = [r["institution_id"] for r in rows]
    id_country = {r["institution_id"]: r["country"] for r in rows}
    seen: set[str] = set()
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in rows:
        iid, country = r["institution_id"], r["country"]
        where = f"institution {iid!r}"
        if iid in seen:
            out.append(f"{where}: duplicate institution_id")
        seen.add(iid)
        if not ID_PATTERN.fullmatch(iid):
            out.append(f"{where}: institution_id is not a lower-case slug")
        if country not in ISO3:
            out.append(f"{where}: country {country!r} is not ISO 3166-1 alpha-3")
        elif not iid.startswith(country.lower() + "-"):
            out.append(f"{where}: id prefix does not match country {country}")
        for col in ("name", "city"):
            if not r[col].strip():
                out.append(f"{where}: empty {col}")
        if r["kind"] not in KINDS:
            out.append(f"{where}: kind {r['kind']!r} not in {sorted(KINDS)}")

        aliases = r["aliases"].split("|")
        if any(a != a.strip() or not a for a in aliases):
            out.append(f"{where}: empty alias or alias with outer spaces in {r['aliases']!r}")
        if len(set(aliases)) != len(aliases):
            out.append(f"{where}: an alias is repeated")
        for folded in {a.casefold() for a in aliases if a.strip()}:
            owners[(country, folded)].add(iid)

        for tier in split(r["tiers"]):
            if tier not in tier_country:
                out.append(f"{where}: unknown tier {tier!r}")
            elif tier_country[tier] != country:
                out.append(f"{where}: tier {tier!r} belongs to {tier_country[tier]}, not {country}")
        if len(set(split(r["tiers"]))) != len(split(r["tiers"])):
            out.append(f"{where}: a tier is repeated")

        parents = split(r["parent"])
        if r["transnational"] == "Y":
            if not parents:
                out.append(f"{where}: transnational without a parent")
        elif r["transnational"] == "N":
            if parents:
                out.append(f"{where}: parent given but transnational is N")
        else:
            out.append(f"{where}: transnational {r['transnational']!r} is not Y or N")
        for p in parents:
            if p == iid:
                out.append(f"{where}: is its own parent")
            elif p not in id_country:
                out.append(f"{where}: unknown parent {p!r}")

    for (country, folded), who in sorted(owners.items()):
        if len(who) > 1 and shared.get((country, folded)) != frozenset(who):
            out.append(f"alias {folded!r} ({country}) shared by {sorted(who)}")
    for key, who in shared.items():
        if frozenset(owners.get(key, ())) != who:
            out.append(f"listed shared alias {key} is now held by {sorted(owners.get(key, ()))}")

    order = sorted(rows, key=lambda r: (r["country"], r["institution_id"]))
    if [r["institution_id"] for r in order] != ids:
        out.append("institutions.csv is not sorted by country, then institution_id")
    return out


@pytest.fixture(scope="module")
def registry() -> tuple[list[str], list[Row], list[str], list[Row]]:
    columns, rows = read_csv(INSTITUTIONS)
    tier_columns, tiers = read_csv(TIERS)
    return columns, rows, tier_columns, tiers


@pytest.fixture(scope="module")
def rows(registry: tuple[list[str], list[Row], list[str], list[Row]]) -> list[Row]:
    return registry[1]


def test_iso3_list_is_complete() -> None:
    assert len(ISO3) == 249


def test_shipped_registry_has_no_problems(
    registry: tuple[list[str], list[Row], list[str], list[Row]],
) -> None:
    assert registry_problems(*registry) == []


def _set(rows: list[Row], iid: str, column: str, value: str) -> None:
    next(r for r in rows if r["institution_id"] == iid)[column] = value


def _append(rows: list[Row], iid: str, column: str, value: str) -> None:
    row = next(r for r in rows if r["institution_id"] == iid)
    row[column] = f"{row[column]}|{value}" if row[column] else value


BREAKS = {
    "duplicate institution_id": lambda rows, tiers: rows.insert(1, dict(rows[0])),
    "is not ISO 3166-1 alpha-3": lambda rows, tiers: _set(rows, "gbr-oxford", "country", "UK"),
    "id prefix does not match": lambda rows, tiers: _set(rows, "gbr-oxford", "country", "IRL"),
    "unknown tier 'russel-group'": lambda rows, tiers: _set(
        rows, "gbr-leeds", "tiers", "russel-group"
    ),
    "belongs to GBR, not CHN": lambda rows, tiers: _append(
        rows, "chn-peking", "tiers", "russell-group"
    ),
    "unknown parent 'gbr-notingham'": lambda rows, tiers: _set(
        rows, "chn-unnc", "parent", "gbr-notingham"
    ),
    "transnational without a parent": lambda rows, tiers: _set(rows, "chn-xjtlu", "parent", ""),
    "parent given but transnational is N": lambda rows, tiers: _set(
        rows, "chn-xjtlu", "transnational", "N"
    ),
    "is not Y or N": lambda rows, tiers: _set(rows, "chn-xjtlu", "transnational", "yes"),
    "shared by ['gbr-cambridge', 'gbr-oxford']": lambda rows, tiers: _append(
        rows, "gbr-cambridge", "aliases", "UNIV OXFORD"
    ),
    "listed shared alias": lambda rows, tiers: _set(rows, "chn-upc", "aliases", "Upc"),
    "empty alias": lambda rows, tiers: _append(rows, "gbr-oxford", "aliases", ""),
    "an alias is repeated": lambda rows, tiers: _append(
        rows, "gbr-oxford", "aliases", "Univ Oxford"
    ),
    "kind 'college'": lambda rows, tiers: _set(rows, "gbr-oxford", "kind", "college"),
    "empty city": lambda rows, tiers: _set(rows, "gbr-oxford", "city", " "),
    "not sorted": lambda rows, tiers: rows.reverse(),
    "tier 'Russell Group': not a lower-case slug": lambda rows, tiers: tiers.append(
        {**tiers[0], "tier_id": "Russell Group"}
    ),
    "tier 'c9': duplicate tier_id": lambda rows, tiers: tiers.append(
        next(dict(t) for t in tiers if t["tier_id"] == "c9")
    ),
}


@pytest.mark.parametrize("expected", sorted(BREAKS))
def test_validator_names_each_break(
    registry: tuple[list[str], list[Row], list[str], list[Row]], expected: str
) -> None:
    columns, rows, tier_columns, tiers = copy.deepcopy(registry)
    BREAKS[expected](rows, tiers)
    problems = registry_problems(columns, rows, tier_columns, tiers)
    assert any(expected in p for p in problems), problems


def test_validator_checks_the_columns(
    registry: tuple[list[str], list[Row], list[str], list[Row]],
) -> None:
    columns, rows, tier_columns, tiers = registry
    renamed = [c if c != "parent" else "parents" for c in columns]
    assert registry_problems(renamed, rows, tier_columns, tiers)[0].startswith(
        "institutions.csv columns"
    )
    assert registry_problems(columns, rows, [*tier_columns, "url"], tiers)[0].startswith(
        "tiers.csv columns"
    )


def test_counts(rows: list[Row]) -> None:
    by_country: dict[str, int] = defaultdict(int)
    for r in rows:
        by_country[r["country"]] += 1
    assert by_country["GBR"] >= 150
    assert len(with_tier(rows, "russell-group")) == 24
    assert len(with_tier(rows, "golden-triangle")) == 6
    assert len(with_tier(rows, "c9")) == 9
    assert len(with_tier(rows, "project-985")) == 39
    assert len(with_tier(rows, "dfc-world-class")) == 42
    assert len(with_tier(rows, "double-first-class")) == 147
    assert len(with_tier(rows, "hk-ugc-funded")) == 8
    dfc_rows = [
        r
        for r in rows
        if {"dfc-world-class", "dfc-discipline"} & set(split(r["tiers"])) and r["country"] == "CHN"
    ]
    assert len(dfc_rows) >= 140


def test_tier_nesting(rows: list[Row]) -> None:
    c9, p985, p211 = (with_tier(rows, t) for t in ("c9", "project-985", "project-211"))
    world, discipline = with_tier(rows, "dfc-world-class"), with_tier(rows, "dfc-discipline")
    assert c9 <= p985 <= p211 <= world | discipline
    assert p985 <= world
    assert not world & discipline
    assert world | discipline == with_tier(rows, "double-first-class")
    russell = with_tier(rows, "russell-group")
    assert with_tier(rows, "golden-triangle") <= russell
    assert not with_tier(rows, "post-92") & russell


def test_transnational_rows_name_a_foreign_or_hong_kong_partner(rows: list[Row]) -> None:
    country = {r["institution_id"]: r["country"] for r in rows}
    joint = {r["institution_id"]: split(r["parent"]) for r in rows if r["transnational"] == "Y"}
    for must in (
        "chn-unnc",
        "chn-xjtlu",
        "chn-duke-kunshan",
        "chn-nyu-shanghai",
        "chn-wenzhou-kean",
        "chn-smbu",
        "chn-uic",
        "chn-cuhk-shenzhen",
        "chn-gtiit",
    ):
        assert must in joint
    for iid, parents in joint.items():
        assert country[iid] == "CHN"
        assert all(country[p] != "CHN" for p in parents), iid


@pytest.mark.parametrize(
    ("country", "recorded", "expected"),
    [
        ("GBR", "Univ Oxford", "gbr-oxford"),
        ("GBR", "UCL", "gbr-ucl"),
        ("GBR", "Univ Coll London", "gbr-ucl"),
        ("GBR", "UNIV LONDON UNIV COLL", "gbr-ucl"),
        ("GBR", "Univ London Inst Educ", "gbr-ucl"),
        ("GBR", "Inst Educ", "gbr-ucl"),
        ("GBR", "Kings Coll London", "gbr-kcl"),
        ("GBR", "Univ London Kings Coll", "gbr-kcl"),
        ("GBR", "Univ London Imperial Coll Sci Technol & Med", "gbr-imperial"),
        ("GBR", "Univ Nottingham", "gbr-nottingham"),
        ("GBR", "UNIV NOTTINGHAM", "gbr-nottingham"),
        ("GBR", "Queens Univ Belfast", "gbr-qub"),
        ("GBR", "Univ Ulster", "gbr-ulster"),
        ("GBR", "LOUGHBOROUGH UNIV TECHNOL", "gbr-loughborough"),
        ("GBR", "Leeds Metropolitan Univ", "gbr-leeds-beckett"),
        ("GBR", "UNIV WALES UNIV COLL SWANSEA", "gbr-swansea"),
        ("GBR", "Open Univ", "gbr-open"),
        ("CHN", "Beijing Normal Univ", "chn-beijing-normal"),
        ("CHN", "BEIJING NORMAL UNIV", "chn-beijing-normal"),
        ("CHN", "Xi An Jiao Tong Univ", "chn-xjtu"),
        ("CHN", "Cent S Univ", "chn-central-south"),
        ("CHN", "E China Normal Univ", "chn-ecnu"),
        ("CHN", "Univ Chinese Acad Sci", "chn-ucas"),
        ("CHN", "Chinese Acad Sci", "chn-cas"),
        ("CHN", "Univ Nottingham", "chn-unnc"),
        ("CHN", "Xian Jiaotong Liverpool Univ", "chn-xjtlu"),
        ("CHN", "BNU HKBU United Int Coll", "chn-uic"),
        ("CHN", "China Med Univ", "chn-china-medical"),
        ("HKG", "Univ Hong Kong", "hkg-hku"),
        ("HKG", "HKU", "hkg-hku"),
        ("HKG", "Hong Kong Inst Educ", "hkg-eduhk"),
        ("MAC", "Univ Macau", "mac-um"),
        ("TWN", "China Med Univ", "twn-china-medical"),
        ("TWN", "Natl Chiao Tung Univ", "twn-nycu"),
        ("TWN", "Acad Sinica", "twn-academia-sinica"),
    ],
)
def test_wos_forms_resolve_within_their_country(
    rows: list[Row], country: str, recorded: str, expected: str
) -> None:
    found = {
        r["institution_id"]
        for r in rows
        if r["country"] == country
        and recorded.casefold() in {a.casefold() for a in r["aliases"].split("|")}
    }
    assert found == {expected}
