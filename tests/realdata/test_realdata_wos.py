"""Every Web of Science file under ../shared/realdata parses, and every record is accounted for.

MANIFEST.tsv counts records with simple rules (ER lines, data rows) and records with a China
or UK address (C1 addresses, else the reprint address, whose last element is a China / UK
form). Our counts must equal them; where a record is quarantined the reason is known below.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import polars as pl
import pytest

from collabscope import schemas
from collabscope.parse.shard import ShardTables, parse_files
from tests.conftest import REALDATA

CHINA_FORMS = {"PEOPLES R CHINA", "CHINA", "P R CHINA", "PR CHINA", "PEOPLES REPUBLIC OF CHINA"}
UK_FORMS = {
    "ENGLAND",
    "SCOTLAND",
    "WALES",
    "NORTH IRELAND",
    "NORTHERN IRELAND",
    "UK",
    "U K",
    "UNITED KINGDOM",
}

# Records that are quarantined in real files, with why. Anything else quarantined fails.
KNOWN_QUARANTINE = {
    # CAB Abstracts records exported through the WoS platform with an empty UT.
    "wos_plain/abhinavwidak__20231128AquaculturePaper__savedrecs__3_.txt": (8, "no UT"),
    "wos_tab/abhinavwidak__20231128AquaculturePaper__20231127WOS115mk.txt": (8, "no UT"),
    # A corrupted line 'nullnullPT J' (text pasted before the PT tag): the record that follows
    # does not begin with PT.
    "wos_plain/OVazquezVillegas__SDG-Repository__savedrecs.txt": (2, "does not begin with PT"),
}
KNOWN_STRAY_TEXT = {
    "wos_plain/cngumbi__R_Data_Statistics__savedrecs.txt": 1,  # '#---reached at this spot---'
    "wos_plain/OVazquezVillegas__SDG-Repository__savedrecs.txt": 2,  # the 'nullnull' prefixes
}
# One quarantined CAB record above (no UT) has a 'Hangzhou, China' address the manifest counts.
CHINA_IN_QUARANTINE = {
    "wos_plain/abhinavwidak__20231128AquaculturePaper__savedrecs__3_.txt": 1,
    "wos_tab/abhinavwidak__20231128AquaculturePaper__20231127WOS115mk.txt": 1,
}


def _manifest() -> list[dict[str, str]]:
    path = REALDATA / "MANIFEST.tsv"
    if not path.is_file():
        return []
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [r for r in rows if r["format"] in ("wos_plain", "wos_tab")]


WOS_FILES = _manifest()


@cache
def parsed(file: str) -> ShardTables:
    return parse_files({str(REALDATA / file): ["realdata"]})


@pytest.mark.realdata
@pytest.mark.parametrize("row", WOS_FILES, ids=[r["file"] for r in WOS_FILES])
def test_every_record_is_accounted_for(realdata: Path, row: dict[str, str]) -> None:
    tables = parsed(row["file"])
    accounting = tables["accounting"].row(0, named=True)
    assert accounting["format"] == row["format"]
    assert accounting["records_seen"] == int(row["records"])
    assert accounting["records_seen"] == (
        accounting["parsed"] + accounting["duplicates"] + accounting["quarantined"]
    )
    expected_quarantined, reason = KNOWN_QUARANTINE.get(row["file"], (0, ""))
    assert accounting["quarantined"] == expected_quarantined
    quarantine = tables["quarantine"]
    records_quarantined = quarantine.filter(pl.col("kind") == "record")
    assert records_quarantined["reason"].str.contains(reason, literal=True).all()
    assert accounting["stray_text"] == KNOWN_STRAY_TEXT.get(row["file"], 0)
    assert tables["records"]["record_id"].is_unique().all()
    for table in schemas.SHARD_TABLES:
        assert tables[table.name].schema == table.schema, table.name


@pytest.mark.realdata
@pytest.mark.parametrize("row", WOS_FILES, ids=[r["file"] for r in WOS_FILES])
def test_china_and_uk_address_counts_match_manifest(realdata: Path, row: dict[str, str]) -> None:
    addresses = parsed(row["file"])["addresses"]
    with_c1 = addresses.filter(pl.col("kind") == "affiliation")["record_id"].unique().implode()
    considered = addresses.filter(
        (pl.col("kind") == "affiliation") | ~pl.col("record_id").is_in(with_c1)
    ).with_columns(form=pl.col("country_text").str.to_uppercase().str.strip_chars())
    china = set(considered.filter(pl.col("form").is_in(CHINA_FORMS))["record_id"])
    uk = set(considered.filter(pl.col("form").is_in(UK_FORMS))["record_id"])
    expected_china = int(row["n_china_addr"]) - CHINA_IN_QUARANTINE.get(row["file"], 0)
    assert (len(china), len(uk), len(china & uk)) == (
        expected_china,
        int(row["n_uk_addr"]),
        int(row["n_china_uk"]),
    )


SAME_RECORDS = [
    ("wos_plain/Baig191192__Data__data.txt", "wos_tab/Baig191192__Data__savedrecs.txt"),
    (
        "wos_plain/auslei__scientometicsr__data__savedrecs.txt",
        "wos_tab/auslei__scientometicsr__data__savedrecs.tsv",
    ),
]


@pytest.mark.realdata
@pytest.mark.parametrize(("plain", "tab"), SAME_RECORDS)
def test_plain_and_tab_exports_of_the_same_query_agree(
    realdata: Path, plain: str, tab: str
) -> None:
    a, b = parsed(plain), parsed(tab)
    fields = ["record_id", "title", "year", "doi", "times_cited", "n_authors", "n_addresses"]
    left = a["records"].select(fields).sort("record_id")
    right = b["records"].select(fields).sort("record_id")
    assert left.height > 200
    assert left.equals(right)
    address_fields = ["record_id", "address_pos", "kind", "organisation", "city", "country_text"]
    assert (
        a["addresses"]
        .select(address_fields)
        .sort("record_id", "address_pos")
        .equals(b["addresses"].select(address_fields).sort("record_id", "address_pos"))
    )
    link_fields = ["record_id", "position", "address_pos"]
    assert (
        a["author_address"]
        .select(link_fields)
        .sort(link_fields)
        .equals(b["author_address"].select(link_fields).sort(link_fields))
    )
