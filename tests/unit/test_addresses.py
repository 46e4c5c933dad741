"""parse_address on real-style WoS addresses: organisation, sub-units, city, state, postcode and
the country element as written (mapping it to a country is the normalisation stage's job)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collabscope.parse.wos_address import parse_address
from tests.unit.wos_builders import parse_text, plain_text, record, tab_text

# raw -> (organisation, sub_organisations, city, state, postcode, country_text, old_style)
CASES: dict[str, tuple] = {
    "Univ New S Wales, Sch Educ, Sydney, NSW 2052, Australia": (
        "Univ New S Wales",
        ["Sch Educ"],
        "Sydney",
        "NSW",
        "2052",
        "Australia",
        False,
    ),
    "Stanford Univ, Stanford, CA 94305 USA": (
        "Stanford Univ",
        [],
        "Stanford",
        "CA",
        "94305",
        "USA",
        False,
    ),
    "Univ Calif Berkeley, Dept Chem & Biomol Engn, Berkeley, CA 94720-1462 USA.": (
        "Univ Calif Berkeley",
        ["Dept Chem & Biomol Engn"],
        "Berkeley",
        "CA",
        "94720-1462",
        "USA",
        False,
    ),
    "Queens Univ Belfast, Sch Educ, Belfast BT7 1NN, Antrim, North Ireland": (
        "Queens Univ Belfast",
        ["Sch Educ"],
        "Belfast",
        "Antrim",
        "BT7 1NN",
        "North Ireland",
        False,
    ),
    "Beijing Normal Univ, Fac Educ, Beijing 100875, Peoples R China": (
        "Beijing Normal Univ",
        ["Fac Educ"],
        "Beijing",
        None,
        "100875",
        "Peoples R China",
        False,
    ),
    "Nanjing Univ, Sch Educ, Nanjing 210093, Jiangsu, Peoples R China.": (
        "Nanjing Univ",
        ["Sch Educ"],
        "Nanjing",
        "Jiangsu",
        "210093",
        "Peoples R China",
        False,
    ),
    "Lau China Inst, Kings Coll London, London WC2R 2LS, England": (
        "Lau China Inst",
        ["Kings Coll London"],
        "London",
        None,
        "WC2R 2LS",
        "England",
        False,
    ),
    "Univ Oxford, Dept Educ, 15 Norham Gardens, Oxford OX2 6PY, England.": (
        "Univ Oxford",
        ["Dept Educ", "15 Norham Gardens"],
        "Oxford",
        None,
        "OX2 6PY",
        "England",
        False,
    ),
    "Univ Edinburgh, Moray House Sch Educ, Edinburgh EH8 8AQ, Midlothian, Scotland": (
        "Univ Edinburgh",
        ["Moray House Sch Educ"],
        "Edinburgh",
        "Midlothian",
        "EH8 8AQ",
        "Scotland",
        False,
    ),
    "Cardiff Univ, Sch Social Sci, Cardiff CF10 3WT, S Glam, Wales": (
        "Cardiff Univ",
        ["Sch Social Sci"],
        "Cardiff",
        "S Glam",
        "CF10 3WT",
        "Wales",
        False,
    ),
    # A street called 'Scotland Dr' in Dallas: the country is the last element, USA.
    "1 Scotland Dr, Dallas, TX 75201 USA": (
        "1 Scotland Dr",
        [],
        "Dallas",
        "TX",
        "75201",
        "USA",
        False,
    ),
    "Univ Toronto, Ontario Inst Studies Educ, Toronto, ON M5S 1V6, Canada": (
        "Univ Toronto",
        ["Ontario Inst Studies Educ"],
        "Toronto",
        "ON",
        "M5S 1V6",
        "Canada",
        False,
    ),
    "Univ Montreal, Ctr Rech, Montreal, PQ H3C 3J7, Canada.": (
        "Univ Montreal",
        ["Ctr Rech"],
        "Montreal",
        "PQ",
        "H3C 3J7",
        "Canada",
        False,
    ),
    "Univ Estadual Campinas, Fac Educ, Campinas, SP, Brazil": (
        "Univ Estadual Campinas",
        ["Fac Educ"],
        "Campinas",
        "SP",
        None,
        "Brazil",
        False,
    ),
    "Fed Univ Para, Programa Desenvolvimento, BR-66075900 Belem, Para, Brazil.": (
        "Fed Univ Para",
        ["Programa Desenvolvimento"],
        "Belem",
        "Para",
        "BR-66075900",
        "Brazil",
        False,
    ),
    "Sorbonne Univ, F-75005 Paris, France": (
        "Sorbonne Univ",
        [],
        "Paris",
        None,
        "F-75005",
        "France",
        False,
    ),
    "Univ Tokyo, Bunkyo Ku, Tokyo 1130033, Japan": (
        "Univ Tokyo",
        ["Bunkyo Ku"],
        "Tokyo",
        None,
        "1130033",
        "Japan",
        False,
    ),
    "Natl Taiwan Normal Univ, Taipei 106, Taiwan": (
        "Natl Taiwan Normal Univ",
        [],
        "Taipei",
        None,
        "106",
        "Taiwan",
        False,
    ),
    "Chinese Acad Sci, Beijing, Peoples R China": (
        "Chinese Acad Sci",
        [],
        "Beijing",
        None,
        None,
        "Peoples R China",
        False,
    ),
    "Univ Autonoma Yucatan, Fac Ingn Quim, Campus Ciencias Exactas & Ingn,Km 33-5, Merida 97203, "
    "Yucatan, Mexico.": (
        "Univ Autonoma Yucatan",
        ["Fac Ingn Quim", "Campus Ciencias Exactas & Ingn", "Km 33-5"],
        "Merida",
        "Yucatan",
        "97203",
        "Mexico",
        False,
    ),
    # Old, all-uppercase addresses (before 2008), commas without spaces.
    "UNIV LONDON,INST EDUC,LONDON WC1H 0AL,ENGLAND.": (
        "UNIV LONDON",
        ["INST EDUC"],
        "LONDON",
        None,
        "WC1H 0AL",
        "ENGLAND",
        True,
    ),
    "CARDIOL HOSP,PESSAC,FRANCE.": ("CARDIOL HOSP", [], "PESSAC", None, None, "FRANCE", True),
    "LAWRENCE BERKELEY LAB, BERKELEY, CA USA.": (
        "LAWRENCE BERKELEY LAB",
        [],
        "BERKELEY",
        "CA",
        None,
        "USA",
        True,
    ),
    "MAYO CLIN & MAYO FDN,DEPT PEDIAT,ROCHESTER,MN 55905, USA.": (
        "MAYO CLIN & MAYO FDN",
        ["DEPT PEDIAT"],
        "ROCHESTER",
        "MN",
        "55905",
        "USA",
        True,
    ),
    "UNIV HONG KONG,DEPT PHYSIOL,HONG KONG,HONG KONG.": (
        "UNIV HONG KONG",
        ["DEPT PHYSIOL"],
        "HONG KONG",
        None,
        None,
        "HONG KONG",
        True,
    ),
    # Old US addresses end with the state and ZIP and no country element: none is recorded
    # here; the normalisation stage reads state + ZIP.
    "OAK RIDGE NATL LAB,OAK RIDGE,TN 37830.": (
        "OAK RIDGE NATL LAB",
        [],
        "OAK RIDGE",
        "TN",
        "37830",
        None,
        True,
    ),
    # One element: an organisation, no country.
    "Univ Nowhere": ("Univ Nowhere", [], None, None, None, None, False),
}


@pytest.mark.parametrize("raw", list(CASES), ids=[r[:40] for r in CASES])
def test_parse_address(raw: str) -> None:
    parsed = parse_address(raw)
    got = (
        parsed.organisation,
        parsed.sub_organisations,
        parsed.city,
        parsed.state,
        parsed.postcode,
        parsed.country_text,
        parsed.old_style,
    )
    assert got == CASES[raw]
    assert parsed.raw == raw


def test_hong_kong_keeps_its_city_for_the_country_policy() -> None:
    # WoS writes Hong Kong addresses with 'Peoples R China' as last element; the policy
    # (HKG separate from CHN) needs the 'Hong Kong' element, kept as the city.
    parsed = parse_address("Univ Hong Kong, Fac Educ, Hong Kong, Hong Kong, Peoples R China")
    assert (parsed.organisation, parsed.city, parsed.country_text) == (
        "Univ Hong Kong",
        "Hong Kong",
        "Peoples R China",
    )
    assert "Hong Kong" in [parsed.city, *parsed.sub_organisations, parsed.state]
    macau = parse_address("Univ Macau, Fac Educ, Taipa, Macau, Peoples R China")
    assert macau.country_text == "Peoples R China"
    assert "Macau" in [macau.city, *macau.sub_organisations, macau.state]


@pytest.mark.parametrize(
    ("raw", "city", "state", "postcode"),
    [
        (
            "Univ Melbourne, Melbourne Grad Sch Educ, Melbourne, Vic 3010, Australia",
            "Melbourne",
            "Vic",
            "3010",
        ),
        ("Univ Queensland, Sch Educ, Brisbane, Qld 4072, Australia", "Brisbane", "Qld", "4072"),
        ("Monash Univ, Clayton, Vic 3800, Australia", "Clayton", "Vic", "3800"),
        (
            "Univ Melbourne, Sch Social & Polit Sci, Melbourne, Vic, Australia",
            "Melbourne",
            "Vic",
            None,
        ),
    ],
)
def test_australian_mixed_case_states(raw: str, city: str, state: str, postcode: str | None):
    parsed = parse_address(raw)
    assert (parsed.city, parsed.state, parsed.postcode, parsed.country_text) == (
        city,
        state,
        postcode,
        "Australia",
    )


@pytest.mark.parametrize(
    ("raw", "subs", "city", "country"),
    [
        (
            "UNIV HONG KONG,DEPT PHYSIOL,5 SASSOON RD,HONG KONG,HONG KONG.",
            ["DEPT PHYSIOL", "5 SASSOON RD"],
            "HONG KONG",
            "HONG KONG",
        ),
        (
            "Univ Hong Kong, Fac Educ, 21 Sassoon Rd, Hong Kong, Peoples R China",
            ["Fac Educ", "21 Sassoon Rd"],
            "Hong Kong",
            "Peoples R China",
        ),
    ],
)
def test_street_number_before_the_city(raw: str, subs: list[str], city: str, country: str):
    parsed = parse_address(raw)
    assert (parsed.sub_organisations, parsed.city, parsed.state, parsed.postcode) == (
        subs,
        city,
        None,
        None,
    )
    assert parsed.country_text == country


@pytest.mark.parametrize(
    ("raw", "old_style"),
    [
        ("UNIV LONDON,INST EDUC,LONDON WC1H 0AL,ENGLAND.", True),
        ("UCL, Inst Educ, London WC1H 0AL, England.", False),
        ("MIT, CAMBRIDGE, MA 02139 USA", True),
        ("12345", False),  # no letters at all: not an old-style address
        ("", False),
    ],
)
def test_old_style_is_all_uppercase(raw: str, old_style: bool) -> None:
    assert parse_address(raw).old_style is old_style


def test_empty_and_blank_addresses() -> None:
    for raw in ("", "  ", ".", " , , "):
        parsed = parse_address(raw)
        assert parsed.raw == raw
        assert (parsed.organisation, parsed.city, parsed.country_text) == (None, None, None)
        assert parsed.sub_organisations == []


def test_whitespace_and_final_stop_do_not_change_the_parts() -> None:
    a = parse_address("  Tsinghua Univ,  Inst Educ , Beijing 100084 , Peoples R China.  ")
    b = parse_address("Tsinghua Univ, Inst Educ, Beijing 100084, Peoples R China")
    assert (
        (a.organisation, a.sub_organisations, a.city, a.postcode, a.country_text)
        == (
            b.organisation,
            b.sub_organisations,
            b.city,
            b.postcode,
            b.country_text,
        )
        == ("Tsinghua Univ", ["Inst Educ"], "Beijing", "100084", "Peoples R China")
    )


@pytest.mark.parametrize("fmt", ["plain", "tab"])
def test_address_table_follows_parse_address(tmp_path: Path, fmt: str) -> None:
    c1 = [f"[Zhang, Wei1] {raw}" for raw in CASES if raw.strip()]
    r = record(1, C1=c1, RP="")
    text = plain_text([r]) if fmt == "plain" else tab_text([r])
    tables = parse_text(tmp_path, text, name=f"{fmt}.txt")
    addresses = tables["addresses"].sort("address_pos").to_dicts()
    assert [a["address_pos"] for a in addresses] == list(range(1, len(c1) + 1))
    assert tables["records"]["n_addresses"].to_list() == [len(c1)]
    for address, raw in zip(addresses, [r for r in CASES if r.strip()], strict=True):
        expected = CASES[raw]
        got = (
            address["organisation"],
            address["sub_organisations"],
            address["city"],
            address["state"],
            address["postcode"],
            address["country_text"],
            address["old_style"],
        )
        assert got == expected, raw
        assert address["kind"] == "affiliation"
