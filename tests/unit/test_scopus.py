"""Scopus CSV exports: fields, author-affiliation links, correspondence, funding, accounting."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import pytest

from collabscope.errors import UserInputError
from collabscope.parse.shard import parse_files

HEADER = [
    "Authors",
    "Author full names",
    "Author(s) ID",
    "Title",
    "Year",
    "Source title",
    "Volume",
    "Issue",
    "Art. No.",
    "Page start",
    "Page end",
    "Cited by",
    "DOI",
    "Affiliations",
    "Authors with affiliations",
    "Author Keywords",
    "Funding Details",
    "Funding Texts",
    "References",
    "Correspondence Address",
    "Language of Original Document",
    "Document Type",
    "Source",
    "EID",
]
OXFORD = "Department of Education, University of Oxford, Oxford, United Kingdom"
BNU = "Faculty of Education, Beijing Normal University, Beijing, China"
ROW_1 = {
    "Authors": "Li X.; Smith J.A.",
    "Author full names": "Li, Xiaoming (57219859113); Smith, John A. (8615389200)",
    "Author(s) ID": "57219859113; 8615389200",
    "Title": "Teacher education in China and England",
    "Year": "2019",
    "Source title": "Comparative Education",
    "Volume": "55",
    "Issue": "3",
    "Page start": "301",
    "Page end": "320",
    "Cited by": "12",
    "DOI": "10.1080/03050068.2019.1234567",
    "Affiliations": f"{BNU}; {OXFORD}",
    "Authors with affiliations": f"Li X., {BNU}; Smith J.A., {OXFORD}",
    "Author Keywords": "teacher education; comparison",
    "Funding Details": "National Natural Science Foundation of China, NSFC: 71774012; "
    "Economic and Social Research Council, ESRC",
    "Funding Texts": "Funded by NSFC and ESRC.",
    "References": "Brennan P.F., Bakken S., Nursing needs big data, J Nurs Sch, 47, pp. 477-484, "
    "(2015); Aria M., Cuccurullo C., bibliometrix, J Informetr, 11, pp. 959-975, (2017)",
    "Correspondence Address": f"J.A. Smith; {OXFORD}; email: j.smith@example.ac.uk",
    "Language of Original Document": "English",
    "Document Type": "Article",
    "Source": "Scopus",
    "EID": "2-s2.0-85000000001",
}
# A second record with a line break inside its abstract-free title field, old-style authors.
ROW_2 = {
    "Authors": "Wang, L., Chen, Y.",
    "Title": "Two lines\nof title",
    "Year": "2005",
    "Source title": "Educational Review",
    "Affiliations": "Peking University, Beijing, China",
    "Authors with affiliations": "Wang, L., Peking University, Beijing, China; "
    "Chen, Y., Peking University, Beijing, China",
    "Source": "Scopus",
    "EID": "2-s2.0-85000000002",
}


def scopus_csv(rows: list[dict[str, str]], header: list[str] = HEADER, bom: bool = True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def parse(tmp_path: Path, data: bytes, name: str = "scopus.csv") -> dict[str, pl.DataFrame]:
    path = tmp_path / name
    path.write_bytes(data)
    return parse_files({str(path): ["d"]}).tables


def test_fields_authors_and_links(tmp_path: Path) -> None:
    t = parse(tmp_path, scopus_csv([ROW_1, ROW_2]))
    records = t["records"].sort("record_id")
    assert records["record_id"].to_list() == ["2-s2.0-85000000001", "2-s2.0-85000000002"]
    first = records.row(0, named=True)
    assert (first["source"], first["source_format"], first["database"]) == (
        "scopus",
        "scopus_csv",
        "SCOPUS",
    )
    assert (first["year"], first["doi"], first["times_cited"], first["journal"]) == (
        2019,
        "10.1080/03050068.2019.1234567",
        12,
        "Comparative Education",
    )
    assert first["author_keywords"] == ["teacher education", "comparison"]
    assert first["funding_text"] == "Funded by NSFC and ESRC."
    # the second record starts on line 3 and its title holds a line break
    assert records["source_line"].to_list() == [2, 3]
    assert records["title"][1] == "Two lines\nof title"

    authors = t["authorships"].sort("record_id", "position")
    assert authors.select("name", "full_name", "is_corresponding").rows() == [
        ("Li, X.", "Li, Xiaoming", False),
        ("Smith, J.A.", "Smith, John A.", True),
        ("Wang, L.", None, False),
        ("Chen, Y.", None, False),
    ]
    addresses = t["addresses"].sort("record_id", "address_pos")
    assert addresses.select("kind", "raw", "country_text").rows() == [
        ("affiliation", BNU, "China"),
        ("affiliation", OXFORD, "United Kingdom"),
        ("reprint", OXFORD, "United Kingdom"),
        ("affiliation", "Peking University, Beijing, China", "China"),
    ]
    links = t["author_address"].sort("record_id", "position", "address_pos")
    assert links.select("position", "address_pos").rows() == [
        (1, 1),
        (2, 2),
        (2, 3),
        (1, 1),
        (2, 1),
    ]


def test_funding_and_references(tmp_path: Path) -> None:
    t = parse(tmp_path, scopus_csv([ROW_1]))
    assert t["funding"].sort("funder_pos").select("funder_raw", "grant_numbers").rows() == [
        ("National Natural Science Foundation of China, NSFC", ["71774012"]),
        ("Economic and Social Research Council, ESRC", []),
    ]
    refs = t["references"].sort("ref_pos")
    assert refs["raw"].to_list() == [
        "Brennan P.F., Bakken S., Nursing needs big data, J Nurs Sch, 47, pp. 477-484, (2015)",
        "Aria M., Cuccurullo C., bibliometrix, J Informetr, 11, pp. 959-975, (2017)",
    ]
    assert refs["year"].to_list() == [2015, 2017]


def test_bad_rows_are_quarantined_with_their_line(tmp_path: Path) -> None:
    no_eid = {**ROW_2, "EID": ""}
    data = scopus_csv([ROW_1, no_eid, ROW_1], bom=False)
    # a row with a stray extra field (not a funding text realignment) after them
    data += b'"Zhou Q.","x","y"\r\n'
    t = parse(tmp_path, data)
    accounting = t["accounting"].row(0, named=True)
    assert (
        accounting["records_seen"],
        accounting["parsed"],
        accounting["duplicates"],
        accounting["quarantined"],
    ) == (4, 1, 1, 2)
    assert t["quarantine"].sort("line").select("line", "reason").rows() == [
        (3, "no EID (the Scopus record id): cannot identify it"),
        (6, f"row has 3 fields, the header has {len(HEADER)}"),
    ]


def test_rows_with_more_funding_texts_than_the_header_are_realigned(tmp_path: Path) -> None:
    header = [c if c != "Funding Texts" else "Funding Text 1" for c in HEADER]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    fields = [ROW_1.get(c if c != "Funding Text 1" else "Funding Texts", "") for c in header]
    i = header.index("Funding Text 1")
    writer.writerow([*fields[: i + 1], "Second funding text.", *fields[i + 1 :]])
    t = parse(tmp_path, out.getvalue().encode())
    record = t["records"].row(0, named=True)
    assert record["funding_text"] == "Funded by NSFC and ESRC. Second funding text."
    assert record["record_id"] == "2-s2.0-85000000001"
    assert t["quarantine"].height == 0


def test_limited_export_without_affiliations(tmp_path: Path) -> None:
    header = ["Authors", "Author(s) ID", "Title", "Year", "Source title", "DOI", "Source", "EID"]
    t = parse(tmp_path, scopus_csv([ROW_1], header=header))
    assert t["records"].height == 1
    assert t["addresses"].height == 0
    assert t["authorships"]["name"].to_list() == ["Li, X.", "Smith, J.A."]


def test_spreadsheet_mangled_export_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mangled.csv"
    path.write_bytes(b"Authors,Title,Year,EID;;;;\n" + b'"Li, X.,""1"";2;",T"",2020,2-s2.0-1";;\n')
    with pytest.raises(UserInputError, match="re-saved by a spreadsheet"):
        parse_files({str(path): ["d"]})
