"""ROR ids in institution matching: an address whose ROR id (OpenAlex gives one) the registry
knows is matched by it, method ``ror``, before any name matching; an unknown ROR id falls back
to the names. The registry knows a ROR id from a registry file's ``ror`` column, from a ROR
dump row, or from a ROR dump row that is a curated institution of the same name."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from collabscope import schemas
from collabscope.normalise.countries import load_country_table, load_region_table
from collabscope.normalise.institutions import (
    INSTITUTION_METHODS,
    RegistryError,
    combine_registries,
    load_registry,
    load_ror,
    match_institutions,
    ror_url,
)
from collabscope.normalise.stage import normalise_addresses
from collabscope.tableio import write_table
from tests.unit.test_institutions import (
    COUNTRY_DIR,
    DATA,
    HEADER,
    INSTITUTIONS,
    TIERS,
    located,
    write,
)

OXFORD = "https://ror.org/052gg0110"
BNU = "https://ror.org/022k4wk35"
UNKNOWN = "https://ror.org/05zzzzz99"


@pytest.fixture(scope="module")
def registry() -> pl.DataFrame:
    return load_registry([INSTITUTIONS], [TIERS])


@pytest.fixture(scope="module")
def countries() -> tuple[pl.DataFrame, pl.DataFrame]:
    return load_country_table(COUNTRY_DIR / "countries.csv"), load_region_table(COUNTRY_DIR)


def _user_registry(tmp_path: Path) -> Path:
    """A user's registry with a ror column: Beijing Normal University by its bare id, and an
    institution the bundled registry lacks."""
    return write(
        tmp_path / "mine.csv",
        HEADER.rstrip("\n")
        + ",ror\n"
        + "chn-beijing-normal,Beijing Normal University,CHN,Beijing,Beijing Normal Univ,"
        + "double-first-class,N,,university,022K4WK35\n"
        + "gbr-seaside,Seaside Institute of Learning,GBR,Brighton,Seaside Inst Learning,,N,,"
        + "institute,https://ror.org/03zzzzz11|https://ror.org/04zzzzz22\n",
    )


def _rows(raws, ror_ids, known, countries, **kwargs) -> list[dict]:
    frame = located(raws, countries).with_columns(ror_id=pl.Series(ror_ids, dtype=pl.String))
    return match_institutions(frame.lazy(), known, **kwargs).collect().to_dicts()


def test_ror_url_reads_both_forms():
    assert ror_url("052GG0110") == OXFORD
    assert ror_url(" https://ror.org/052gg0110 ") == OXFORD
    assert ror_url("https://ror.org/0example01") is None  # ten characters: not a ROR id
    assert ror_url("Univ Oxford") is None
    assert "ror" in INSTITUTION_METHODS


def test_a_known_ror_id_wins_over_the_name_an_unknown_one_falls_back(tmp_path, countries):
    mine = load_registry([INSTITUTIONS, _user_registry(tmp_path)], [TIERS])
    bnu = mine.filter(pl.col("institution_id") == "chn-beijing-normal")
    assert bnu["ror_ids"].to_list() == [[BNU]]
    rows = _rows(
        [
            # OpenAlex writes the institution's display name; a name match would fail here.
            "Fac Educ, Beijing, Peoples R China",
            "Seaside Inst Learning, Brighton, England",
            "Univ Oxford, Oxford, England",  # unknown ROR id: the name decides
            "Univ Oxford, Oxford, England",  # no ROR id at all
            "Peking Univ, Beijing, Peoples R China",
        ],
        [BNU, "04ZZZZZ22", UNKNOWN, None, "not-a-ror-id"],
        mine,
        countries,
    )
    assert [
        (r["institution_id"], r["institution_method"], r["institution_score"]) for r in rows
    ] == [
        ("chn-beijing-normal", "ror", 100.0),
        ("gbr-seaside", "ror", 100.0),
        ("gbr-oxford", "exact", 100.0),
        ("gbr-oxford", "exact", 100.0),
        ("chn-peking", "exact", 100.0),
    ]
    assert rows[0]["institution_name"] == "Beijing Normal University"


def test_a_ror_id_of_another_country_and_an_override_do_not_win(tmp_path, countries):
    mine = load_registry([INSTITUTIONS, _user_registry(tmp_path)], [TIERS])
    overrides = pl.DataFrame({"organisation_text": ["Xyz Coll"], "institution_id": ["gbr-oxford"]})
    rows = _rows(
        ["Univ Oxford, Oxford, England", "Xyz Coll, Beijing, Peoples R China"],
        [BNU, BNU],  # Beijing Normal's id on an English address: the name decides
        mine,
        countries,
        overrides=overrides,
    )
    assert [(r["institution_id"], r["institution_method"]) for r in rows] == [
        ("gbr-oxford", "exact"),
        ("gbr-oxford", "override"),
    ]


def test_a_ror_dump_gives_its_ids_to_the_curated_rows_of_the_same_institution(
    tmp_path, registry, countries
):
    records = json.loads((DATA / "ror_sample.json").read_text(encoding="utf-8"))
    seaside = json.loads(json.dumps(records[0]))  # Oxford's record, renamed and re-identified
    seaside["id"] = "https://ror.org/04zzzzz33"
    for name in seaside["names"]:
        name["value"] = "Seaside Institute of Learning"
    dump = tmp_path / "ror.json"
    dump.write_text(json.dumps([*records, seaside]), encoding="utf-8")
    combined = combine_registries(registry, load_ror(dump))
    ror_ids = dict(combined.select("institution_id", "ror_ids").iter_rows())
    assert ror_ids["gbr-oxford"] == [OXFORD]
    assert ror_ids["chn-peking"] == ["https://ror.org/02v51f717"]
    assert ror_ids["https://ror.org/04zzzzz33"] == ["https://ror.org/04zzzzz33"]
    assert ror_ids["gbr-york"] == []
    rows = _rows(
        [
            "Dept Educ, Oxford, England",
            "Sch Educ, Brighton, England",
            "Peking Univ, Beijing, Peoples R China",
        ],
        [OXFORD, "https://ror.org/04zzzzz33", "https://ror.org/03cve4549"],  # Tsinghua's id
        combined,
        countries,
    )
    assert [(r["institution_id"], r["institution_method"]) for r in rows] == [
        ("gbr-oxford", "ror"),
        ("https://ror.org/04zzzzz33", "ror"),
        ("chn-tsinghua", "ror"),  # the ROR id says Tsinghua, whatever the string
    ]


def test_bad_ror_cells_are_errors_naming_the_line(tmp_path):
    bad = write(
        tmp_path / "bad.csv",
        HEADER.rstrip("\n") + ",ror\nchn-x,X University,CHN,Beijing,X Univ,,N,,university,Oxford\n",
    )
    with pytest.raises(RegistryError, match=r"bad.csv, line 2, institution 'chn-x': 'Oxford'"):
        load_registry([INSTITUTIONS, bad], [TIERS])
    twice = write(
        tmp_path / "twice.csv",
        HEADER.rstrip("\n")
        + ",ror\n"
        + "chn-x,X University,CHN,Beijing,X Univ,,N,,university,052gg0110\n"
        + "chn-y,Y University,CHN,Beijing,Y Univ,,N,,university,052gg0110\n",
    )
    with pytest.raises(RegistryError, match=r"ROR id https://ror.org/052gg0110 is given to"):
        load_registry([INSTITUTIONS, twice], [TIERS])


def test_the_stage_counts_the_ror_method(tmp_path, countries):
    frame = located(
        ["Fac Educ, Beijing, Peoples R China", "Univ Oxford, Oxford, England"], countries
    )
    addresses = frame.select("raw").with_columns(
        record_id=pl.Series(["W1", "W1"]),
        address_pos=pl.Series([1, 2], dtype=pl.Int64),
        kind=pl.lit("affiliation"),
        organisation=pl.Series(["Fac Educ", "Univ Oxford"]),
        sub_organisations=pl.lit([], pl.List(pl.String)),
        city=pl.Series(["Beijing", "Oxford"]),
        country_text=pl.Series(["China", "United Kingdom"]),
        country_code=pl.Series(["CHN", "GBR"]),
        ror_id=pl.Series([BNU, UNKNOWN]),
    )
    missing = [c for c in schemas.ADDRESSES.schema.names() if c not in addresses.columns]
    addresses = addresses.with_columns(
        pl.lit(None, schemas.ADDRESSES.schema[c]).alias(c) for c in missing
    )
    path = write_table(addresses, schemas.ADDRESSES, tmp_path / "addresses.parquet")
    out = {
        "addresses": tmp_path / "out.parts.json",
        "unmatched": tmp_path / "unmatched.csv",
        "low_confidence": tmp_path / "low.csv",
    }
    counts = normalise_addresses(
        path,
        COUNTRY_DIR,
        {"uk_nations": "GBR", "hong_kong_macau_taiwan": "separate"},
        [INSTITUTIONS, _user_registry(tmp_path)],
        [TIERS],
        None,
        None,
        90.0,
        out,
        tmp_path / "store",
    )
    assert counts["institutions"] == {"exact": 1, "ror": 1}
