"""Every Scopus CSV, CSSCI and OpenAlex file under ../shared/realdata parses, with every record
accounted for and the counts of MANIFEST.tsv: records, and records with a China / UK address.

MANIFEST counts a Scopus record as China / UK when an affiliation (else the correspondence
address) ends with a China / UK form; here the same is read from ``addresses.country_text``.
CSSCI and OpenAlex addresses have no country element: their countries come from the
normalisation rules for those sources (Chinese country-name prefixes, OpenAlex codes).
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from collabscope.errors import UserInputError
from collabscope.normalise.countries import (
    CountryPolicy,
    load_country_table,
    load_region_table,
    resolve_countries,
)
from collabscope.parse.shard import parse_files
from tests.conftest import PROJECT, REALDATA

FORMATS = ("scopus_csv", "cssci", "openalex")
CHINA_FORMS = {"CHINA", "PEOPLES R CHINA", "P R CHINA", "PR CHINA"}
UK_FORMS = {"UNITED KINGDOM", "UK", "ENGLAND", "SCOTLAND", "WALES", "NORTHERN IRELAND"}
# Files refused as a whole, with why: re-saved by a spreadsheet that split every row at ';'.
REFUSED = {
    "scopus_csv/TatraiN__scopusdata__scopus.csv": "re-saved by a spreadsheet",
    "scopus_csv/TatraiN__scopusdata__scopus__at_c41b10b7.csv": "re-saved by a spreadsheet",
}


def _manifest() -> list[dict[str, str]]:
    path = REALDATA / "MANIFEST.tsv"
    if not path.is_file():
        return []
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [r for r in rows if r["format"] in FORMATS]


def _countries(addresses: pl.DataFrame) -> pl.DataFrame:
    table = load_country_table(PROJECT / "resources/countries/countries.csv")
    regions = load_region_table(PROJECT / "resources/countries")
    return resolve_countries(addresses.lazy(), table, CountryPolicy(), regions=regions).collect()


def _with_country(addresses: pl.DataFrame, fmt: str, country: str) -> set[str]:
    """Records with an affiliation (else a correspondence address) in ``country``."""
    with_affiliation = addresses.filter(pl.col("kind") == "affiliation")["record_id"].unique()
    used = addresses.filter(
        (pl.col("kind") == "affiliation") | ~pl.col("record_id").is_in(with_affiliation.implode())
    )
    if fmt == "scopus_csv":
        forms = CHINA_FORMS if country == "CHN" else UK_FORMS
        hit = pl.col("country_text").str.to_uppercase().is_in(sorted(forms))
    else:
        used = _countries(used)
        hit = pl.col("country_recorded").str.starts_with(country)
    return set(used.filter(hit)["record_id"])


@pytest.mark.parametrize("row", _manifest(), ids=lambda r: r["file"])
def test_file_matches_manifest(realdata: Path, row: dict[str, str]) -> None:
    path = str(realdata / row["file"])
    if row["file"] in REFUSED:
        with pytest.raises(UserInputError, match=REFUSED[row["file"]]):
            parse_files({path: ["d"]})
        return
    t = parse_files({path: ["d"]}).tables
    accounting = t["accounting"].row(0, named=True)
    assert accounting["format"].startswith(row["format"])
    assert accounting["records_seen"] == int(row["records"])
    assert accounting["parsed"] + accounting["duplicates"] + accounting["quarantined"] == int(
        row["records"]
    )
    assert accounting["quarantined"] == 0, t["quarantine"].head()
    assert t["records"].height == accounting["parsed"]
    china = _with_country(t["addresses"], row["format"], "CHN")
    uk = _with_country(t["addresses"], row["format"], "GBR")
    assert (len(china), len(uk), len(china & uk)) == (
        int(row["n_china_addr"]),
        int(row["n_uk_addr"]),
        int(row["n_china_uk"]),
    )


def test_the_same_cssci_records_with_crlf_are_duplicates(realdata: Path) -> None:
    lf = str(realdata / "cssci/greysh__paper-longtail__DataSet_CSSCI_.txt")
    crlf = str(realdata / "cssci/greysh__paper-longtail__source__DataSet_CSSCI_.txt")
    t = parse_files({lf: ["d"], crlf: ["d"]}).tables
    assert t["records"].height == 96
    assert t["accounting"].sort("file").select("line_endings", "parsed", "duplicates").rows() == [
        ("LF", 96, 0),
        ("CRLF", 0, 96),
    ]


def test_scopus_rows_with_an_unnamed_funding_text_are_realigned(realdata: Path) -> None:
    # 56 of the 58 rows carry one more 'Funding Text' column than the header names.
    path = str(realdata / "scopus_csv/NLeSC__litstudy__tests__resources__scopus.csv")
    records = parse_files({path: ["d"]})["records"]
    assert records.height == 58
    assert records["record_id"].str.contains(r"^2-s2\.0-\d+$").all()
    assert records["language"].drop_nulls().unique().to_list() == ["English"]
    assert (
        records["doc_type"]
        .is_in(
            [
                "Article",
                "Review",
                "Conference Paper",
                "Book Chapter",
                "Conference Review",
                "Book",
                "Short Survey",
            ]
        )
        .all()
    )


def test_scopus_author_affiliation_links(realdata: Path) -> None:
    path = str(realdata / "scopus_csv/CalCoRE__dse-citan__data__scopus.csv")
    t = parse_files({path: ["d"]}).tables
    affiliations = t["addresses"].filter(pl.col("kind") == "affiliation")
    linked = t["author_address"].join(affiliations, on=["record_id", "address_pos"], how="semi")
    # Every affiliation of a record is some author's, and nearly every author has one.
    unlinked = affiliations.join(linked, on=["record_id", "address_pos"], how="anti")
    authors_linked = linked.select("record_id", "position").unique().height
    assert unlinked.height <= affiliations.height // 50, unlinked.head()
    assert (
        authors_linked
        >= 0.95
        * t["authorships"]
        .filter(pl.col("record_id").is_in(affiliations["record_id"].implode()))
        .height
    )
