"""Cited references (CR): DOI, first author, year, source, volume, page and the link key."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from collabscope.parse.cited_references import parse_cited_references, reference_link_key
from tests.unit.wos_builders import parse_text, plain_text, record, tab_text, wos_id

COLUMNS = ("first_author", "year", "source", "volume", "page", "doi", "link_key")


def parsed(*raw: str) -> list[dict]:
    frame = parse_cited_references(pl.DataFrame({"raw": list(raw)}).lazy()).collect()
    assert frame.columns[0] == "raw"
    return [{k: row[k] for k in COLUMNS} for row in frame.to_dicts()]


def one(raw: str) -> tuple:
    (row,) = parsed(raw)
    return tuple(row[k] for k in COLUMNS)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "Zhang W, 2015, COMP EDUC, V51, P123, DOI 10.1080/03050068.2015.1234567",
            (
                "Zhang W",
                2015,
                "COMP EDUC",
                "51",
                "123",
                "10.1080/03050068.2015.1234567",
                "zhang|w|2015|51|123",
            ),
        ),
        (
            "[Anonymous], 2010, ED GLANCE 2010",
            (None, 2010, "ED GLANCE 2010", None, None, None, None),
        ),
        (
            "[Anonymous], 2019, NATURE, V570, P7, DOI 10.1038/D41586-019-01234-5",
            (None, 2019, "NATURE", "570", "7", "10.1038/d41586-019-01234-5", None),
        ),
        (
            # Several DOIs: the first one wins, lower-cased.
            "Smith J, 2010, J EDUC PSYCHOL, V102, P123, DOI [10.1037/A0012345, "
            "10.1037/a0012345.supp]",
            (
                "Smith J",
                2010,
                "J EDUC PSYCHOL",
                "102",
                "123",
                "10.1037/a0012345",
                "smith|j|2010|102|123",
            ),
        ),
        (
            "Ahmed S, 2019, SUSTAINABILITY-BASEL, V11, DOI [10.3390/su11041234, "
            "DOI 10.3390/SU11041234]",
            ("Ahmed S", 2019, "SUSTAINABILITY-BASEL", "11", None, "10.3390/su11041234", None),
        ),
        (
            "APHA, 2011, STANDARD METHODS EXA, DOI DOI 10.2105/AJPH.56.4.684-A",
            ("APHA", 2011, "STANDARD METHODS EXA", None, None, "10.2105/ajph.56.4.684-a", None),
        ),
        (
            # A book: no volume, a page; no link key (a part is missing).
            "Bourdieu P., 1986, HDB THEORY RES SOCIO, P241",
            ("Bourdieu P.", 1986, "HDB THEORY RES SOCIO", None, "241", None, None),
        ),
        (
            "Marginson S, 2011, HIGHER ED GLOBAL KNO",
            ("Marginson S", 2011, "HIGHER ED GLOBAL KNO", None, None, None, None),
        ),
        (
            "Lee J, 2020, SUSTAINABILITY-BASEL, V12, ARTN 1234",
            ("Lee J", 2020, "SUSTAINABILITY-BASEL", "12", "1234", None, "lee|j|2020|12|1234"),
        ),
        (
            "Lee J, 2020, PLOS ONE, V15, Pe0123456, DOI 10.1371/journal.pone.0123456",
            (
                "Lee J",
                2020,
                "PLOS ONE",
                "15",
                "e0123456",
                "10.1371/journal.pone.0123456",
                "lee|j|2020|15|e0123456",
            ),
        ),
        (
            "Zhang W, 2015, COMP EDUC, VS1, PS12",
            ("Zhang W", 2015, "COMP EDUC", "S1", "S12", None, "zhang|w|2015|s1|s12"),
        ),
        (
            "Van der Berg S, 2008, STUD EDUC EVAL, V34, P145",
            (
                "Van der Berg S",
                2008,
                "STUD EDUC EVAL",
                "34",
                "145",
                None,
                "vanderberg|s|2008|34|145",
            ),
        ),
        (
            "ZHANG W, 1998, CHINESE ED SOC, V31, P5",
            ("ZHANG W", 1998, "CHINESE ED SOC", "31", "5", None, "zhang|w|1998|31|5"),
        ),
        (
            "Li XM, 2015, COMP EDUC, V51, P123",
            ("Li XM", 2015, "COMP EDUC", "51", "123", None, "li|x|2015|51|123"),
        ),
        (
            "OECD, 2019, PISA 2018 RESULTS, VI",
            ("OECD", 2019, "PISA 2018 RESULTS", None, None, None, None),
        ),
        (
            # No author.
            "1998, SCI TECHNOL IND OUTLO",
            (None, 1998, "SCI TECHNOL IND OUTLO", None, None, None, None),
        ),
        (
            "Zhang W, UNPUB",
            ("Zhang W", None, None, None, None, None, None),
        ),
    ],
    ids=lambda v: v[:30] if isinstance(v, str) else None,
)
def test_cited_reference_parts(raw: str, expected: tuple) -> None:
    assert one(raw) == expected


def test_no_year_reference_keeps_author_volume_and_page() -> None:
    first_author, year, _source, volume, page, doi, key = one("Smith J, COMP EDUC, V3, P1")
    assert (first_author, year, volume, page, doi, key) == ("Smith J", None, "3", "1", None, None)


def test_no_year_reference_keeps_its_source() -> None:
    assert one("Smith J, COMP EDUC, V3, P1")[2] == "COMP EDUC"


def test_year_must_be_an_element_not_a_number_in_a_title() -> None:
    # '2018' inside the source title is not the year of the cited work.
    assert one("OECD, PISA 2018 RESULTS, VI")[1] is None
    assert one("OECD, 2019, PISA 2018 RESULTS, VI")[1] == 2019


def test_link_key_is_the_same_function_on_record_columns() -> None:
    # A record (first author 'Zhang, Wei', 2015, volume 51, first page 123) gets the key a
    # citation 'Zhang W, 2015, COMP EDUC, V51, P123' gets, so the two can be linked.
    records = pl.DataFrame(
        {"author": ["Zhang, Wei", "Van der Berg, Servaas", "Li, XM", "Smith, J"]}
    ).with_columns(
        y=pl.Series([2015, 2008, 2015, None], dtype=pl.Int64),
        v=pl.Series(["51", "34", "51", "3"]),
        p=pl.Series(["123", "145", "123", "1"]),
    )
    keys = records.select(key=reference_link_key("author", "y", "v", "p"))["key"].to_list()
    assert keys == ["zhang|w|2015|51|123", "vanderberg|s|2008|34|145", "li|x|2015|51|123", None]
    cited = [row["link_key"] for row in parsed("Zhang W, 2015, COMP EDUC, V51, P123")]
    assert cited == [keys[0]]


@pytest.mark.parametrize("fmt", ["plain", "tab"])
def test_references_table_from_an_export(tmp_path: Path, fmt: str) -> None:
    cr = [
        "Zhang W, 2015, COMP EDUC, V51, P123, DOI 10.1080/03050068.2015.1234567",
        "[Anonymous], 2010, ED GLANCE 2010",
        "Smith J, COMP EDUC, V3, P1",
    ]
    r = record(1, CR=cr, NR="3")
    text = plain_text([r, record(2, CR="", NR="0")]) if fmt == "plain" else tab_text([r])
    tables = parse_text(tmp_path, text, name=f"{fmt}.txt")
    refs = tables["references"].sort("ref_pos")
    assert refs.select("record_id", "ref_pos", "raw").rows() == [
        (wos_id(1), 1, cr[0]),
        (wos_id(1), 2, cr[1]),
        (wos_id(1), 3, cr[2]),
    ]
    assert refs["doi"].to_list() == ["10.1080/03050068.2015.1234567", None, None]
    assert refs["year"].to_list() == [2015, 2010, None]
    records = tables["records"].sort("record_id")
    assert records.select("n_references", "n_references_parsed").rows()[0] == (3, 3)
    if fmt == "plain":
        assert records.select("n_references", "n_references_parsed").rows()[1] == (0, 0)
