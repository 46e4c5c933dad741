"""Build Web of Science exports (plain text and tab-delimited) in tests.

Everything here is written by us, in code, in the layout of real exports: the plain-text file
begins with an FN/VR header, each field is a two-letter tag, a space and the value, continuation
lines are indented by three spaces, a record ends with ER and the file with EF; the
tab-delimited file has one header row of tags and one row per record, line-item fields joined
with '; ' and C1 addresses without their final full stop, as Web of Science writes them.

A record is a dict tag -> value: a list of items for the line-item tags (AU, AF, C1, CR …),
a string for every other tag (long strings are wrapped over continuation lines in plain text).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import polars as pl

from collabscope.parse.shard import ShardTables, parse_files

Record = dict[str, "str | list[str]"]

PLAIN_HEADER = ("FN Clarivate Analytics Web of Science", "VR 1.0")

# The column order of a current Web of Science Core Collection tab-delimited export.
TAB_COLUMNS: tuple[str, ...] = tuple(
    [
        "PT",
        "AU",
        "BA",
        "BE",
        "GP",
        "AF",
        "BF",
        "CA",
        "TI",
        "SO",
        "SE",
        "BS",
        "LA",
        "DT",
        "CT",
        "CY",
        "CL",
        "SP",
        "HO",
        "DE",
        "ID",
        "AB",
        "C1",
        "C3",
        "RP",
        "EM",
        "RI",
        "OI",
        "FU",
        "FP",
        "FX",
        "CR",
        "NR",
        "TC",
        "Z9",
        "U1",
        "U2",
        "PU",
        "PI",
        "PA",
        "SN",
        "EI",
        "BN",
        "J9",
        "JI",
        "PD",
        "PY",
        "VL",
        "IS",
        "PN",
        "SU",
        "SI",
        "MA",
        "BP",
        "EP",
        "AR",
        "DI",
        "DL",
        "D2",
        "EA",
        "PG",
        "WC",
        "WE",
        "SC",
        "GA",
        "PM",
        "OA",
        "HC",
        "HP",
        "DA",
        "UT",
    ]
)
# Line-item tags: one item per line in plain text, '; '-separated in tab-delimited files.
ITEM_TAGS = frozenset({"AU", "AF", "BA", "BF", "BE", "CA", "GP", "C1", "CR", "ED"})
# Plain-text field order (the order Web of Science writes them).
PLAIN_ORDER = [
    "PT",
    "AU",
    "AF",
    "BA",
    "BF",
    "CA",
    "GP",
    "BE",
    "TI",
    "SO",
    "SE",
    "BS",
    "LA",
    "DT",
    "CT",
    "CY",
    "CL",
    "SP",
    "HO",
    "DE",
    "ID",
    "AB",
    "C1",
    "C3",
    "RP",
    "EM",
    "RI",
    "OI",
    "FU",
    "FP",
    "FX",
    "CR",
    "NR",
    "TC",
    "Z9",
    "U1",
    "U2",
    "PU",
    "PI",
    "PA",
    "SN",
    "EI",
    "BN",
    "J9",
    "JI",
    "PD",
    "PY",
    "VL",
    "IS",
    "PN",
    "SU",
    "SI",
    "MA",
    "BP",
    "EP",
    "AR",
    "DI",
    "DL",
    "D2",
    "EA",
    "PG",
    "WC",
    "WE",
    "SC",
    "GA",
    "PM",
    "OA",
    "HC",
    "HP",
    "DA",
    "UT",
]


def wos_id(i: int) -> str:
    return f"WOS:{i:015d}"


def record(i: int, **fields: str | list[str]) -> Record:
    """A complete, realistic journal article; keyword arguments replace or add fields.

    A keyword set to '' (or []) removes the field.
    """
    rec: Record = {
        "PT": "J",
        "AU": [f"Zhang, W{i}", "Smith, J", "Li, XM"],
        "AF": [f"Zhang, Wei{i}", "Smith, John", "Li, Xiaoming"],
        "TI": f"Teacher collaboration across borders in secondary schools: a comparative study "
        f"of practice number {i}",
        "SO": "COMPARATIVE EDUCATION",
        "LA": "English",
        "DT": "Article",
        "DE": "teacher education; international collaboration; China; England",
        "ID": "HIGHER-EDUCATION; MOBILITY",
        "AB": "We compare the practice of teachers in two systems. The results differ in "
        "several respects that we describe.",
        "C1": [
            f"[Zhang, Wei{i}; Li, Xiaoming] Beijing Normal Univ, Fac Educ, Beijing 100875, "
            "Peoples R China.",
            "[Smith, John] UCL, Inst Educ, London WC1H 0AL, England.",
        ],
        "C3": "Beijing Normal University; University of London; University College London",
        "RP": f"Zhang, W{i} (corresponding author), Beijing Normal Univ, Fac Educ, Beijing 100875, "
        "Peoples R China.",
        "EM": f"zhang{i}@bnu.edu.cn; j.smith@ucl.ac.uk",
        "RI": "Smith, John/A-1234-2010",
        "OI": f"Zhang, Wei{i}/0000-0002-1825-0097; Smith, John/0000-0001-5109-3700",
        "FU": "National Natural Science Foundation of China [71974012, 72074020]; "
        "Economic and Social Research Council",
        "FX": "This work was supported by the National Natural Science Foundation of China and "
        "the Economic and Social Research Council.",
        "CR": [
            "Zhang W, 2015, COMP EDUC, V51, P123, DOI 10.1080/03050068.2015.1234567",
            "[Anonymous], 2010, ED GLANCE 2010",
        ],
        "NR": "2",
        "TC": str(i % 7),
        "Z9": str(i % 7 + 1),
        "U1": "3",
        "U2": "10",
        "PU": "ROUTLEDGE JOURNALS, TAYLOR & FRANCIS LTD",
        "SN": "0305-0068",
        "EI": "1360-0486",
        "J9": "COMP EDUC",
        "JI": "Comp. Educ.",
        "PD": "MAY",
        "PY": str(2001 + i % 20),
        "VL": "51",
        "IS": "2",
        "BP": str(100 + i),
        "EP": str(120 + i),
        "DI": f"10.1080/03050068.2015.{i:07d}",
        "PG": "21",
        "WC": "Education & Educational Research",
        "SC": "Education & Educational Research",
        "GA": "CH5QW",
        "DA": "2023-01-21",
        "UT": wos_id(i),
    }
    for tag, value in fields.items():
        if value == "" or value == []:
            rec.pop(tag, None)
        else:
            rec[tag] = value
    return rec


def plain_lines(rec: Mapping[str, str | list[str]], width: int = 70) -> list[str]:
    """The lines of one record in plain text, ER included."""
    lines: list[str] = []
    order = [t for t in PLAIN_ORDER if t in rec] + [t for t in rec if t not in PLAIN_ORDER]
    for tag in order:
        value = rec[tag]
        if isinstance(value, str):
            pieces = (
                textwrap.wrap(value, width, break_long_words=False, break_on_hyphens=False)
                if tag not in ("UT", "DI", "RP")
                else [value]
            )
        else:
            pieces = list(value)
        lines.append(f"{tag} {pieces[0]}" if pieces else tag)
        lines.extend(f"   {p}" for p in pieces[1:])
    lines.append("ER")
    return lines


def plain_text(
    records: Iterable[Mapping[str, str | list[str]]],
    header: Sequence[str] = PLAIN_HEADER,
    eol: str = "\n",
    trailer: bool = True,
) -> str:
    """A whole plain-text export: header, records separated by blank lines, EF."""
    lines = list(header)
    for rec in records:
        lines += [*plain_lines(rec), ""]
    if trailer:
        lines.append("EF")
    return eol.join(lines) + eol


def tab_value(tag: str, value: str | list[str]) -> str:
    if isinstance(value, str):
        return value
    if tag == "C1":
        return "; ".join(v.rstrip(".") for v in value)
    return "; ".join(value)


def tab_row(rec: Mapping[str, str | list[str]], columns: Sequence[str] = TAB_COLUMNS) -> str:
    return "\t".join(tab_value(c, rec[c]) if c in rec else "" for c in columns)


def tab_text(
    records: Iterable[Mapping[str, str | list[str]]],
    columns: Sequence[str] = TAB_COLUMNS,
    eol: str = "\r\n",
    trailing_tab: bool = False,
) -> str:
    """A whole tab-delimited export: header row of tags, one row per record."""
    end = "\t" if trailing_tab else ""
    rows = ["\t".join(columns) + end]
    rows += [tab_row(rec, columns) + end for rec in records]
    return eol.join(rows) + eol


def write(path: Path, text: str, encoding: str = "utf-8") -> str:
    """Write ``text`` to ``path`` exactly (no newline translation); return the path as str.

    ``encoding`` 'utf-8-sig' writes a BOM; 'utf-16' writes a little-endian BOM on
    little-endian machines, so use 'utf-16-le' with an explicit BOM for reproducibility.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if encoding == "utf-16le-bom":
        data = b"\xff\xfe" + text.encode("utf-16-le")
    else:
        data = text.encode(encoding)
    path.write_bytes(data)
    return str(path)


def parse_text(
    directory: Path,
    text: str,
    name: str = "savedrecs.txt",
    encoding: str = "utf-8",
    datasets: Sequence[str] = ("world",),
) -> ShardTables:
    """Write one export file and parse it."""
    return parse_files({write(directory / name, text, encoding): list(datasets)})


def check_accounting(tables: ShardTables) -> dict[str, dict]:
    """Assert the invariants every parse must keep; return the accounting rows by file."""
    accounting = {row["file"]: row for row in tables["accounting"].to_dicts()}
    quarantine = tables["quarantine"]
    records = tables["records"]
    for file, row in accounting.items():
        assert row["records_seen"] == row["parsed"] + row["duplicates"] + row["quarantined"], row
        in_file = quarantine.filter(pl.col("file") == file)
        assert in_file.filter(pl.col("kind") == "record").height == row["quarantined"], file
        assert in_file.filter(pl.col("kind") == "text").height == row["stray_text"], file
        assert records.filter(pl.col("source_file") == file).height == row["parsed"], file
    assert records.height == sum(row["parsed"] for row in accounting.values())
    assert records["record_id"].is_unique().all()
    for column in ("file", "line", "kind", "reason", "excerpt"):
        assert quarantine[column].null_count() == 0, column
    assert (quarantine["line"] >= 1).all()
    ids = set(records["record_id"])
    for name in ("authorships", "addresses", "author_address", "funding", "references"):
        assert set(tables[name]["record_id"]) <= ids, name
    return accounting
