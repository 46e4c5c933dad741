"""WoS tab-delimited exports, and the same records written as plain text and as tab."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl

from collabscope import schemas
from collabscope.parse.shard import ShardTables
from collabscope.parse.wos_items import _clean_tab_items
from collabscope.parse.wos_tokens import iter_tab_records
from tests.unit.wos_builders import (
    TAB_COLUMNS,
    check_accounting,
    parse_text,
    plain_text,
    record,
    tab_row,
    tab_text,
    tab_value,
    wos_id,
)

PROVENANCE = {"source_format", "source_file", "source_line"}


def only_accounting(tables: ShardTables) -> dict:
    accounting = check_accounting(tables)
    assert len(accounting) == 1
    return next(iter(accounting.values()))


def excel_quoted(value: str) -> str:
    """How Excel re-saves a field of a tab-delimited file: quoted when it holds ',' or '"'."""
    if '"' in value or "," in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def canonical(tables: ShardTables, drop_address_raw: bool = True) -> dict[str, pl.DataFrame]:
    """The shard tables without provenance, sorted by key, for comparing two parses."""
    out = {}
    for table in schemas.SHARD_TABLES:
        if table in (schemas.QUARANTINE, schemas.ACCOUNTING):
            continue
        frame = tables[table.name]
        drop = [c for c in frame.columns if c in PROVENANCE]
        if table is schemas.ADDRESSES and drop_address_raw:
            drop.append("raw")
        out[table.name] = frame.drop(drop).sort(list(table.key))
    return out


def assert_same_tables(left: ShardTables, right: ShardTables, drop_address_raw: bool = True):
    a, b = canonical(left, drop_address_raw), canonical(right, drop_address_raw)
    for name in a:
        assert a[name].height > 0, name
        assert a[name].to_dicts() == b[name].to_dicts(), name


# A varied set of records: every modelled field, old and new address styles, several reprint
# groups, no C1, early access without PY, an ESI flag, non-ASCII names, unknown tags.
def varied_records() -> list[dict]:
    return [
        record(1),
        record(
            2,
            AU=["Müller, K", "Øster, Å", "Wang, L", "Wang, L"],
            AF=["Müller, Karl", "Øster, Åsa", "Wang, Lei", "Wang, Li"],
            C1=[
                "[Müller, Karl; Wang, Lei] Tech Univ Munich, Sch Educ, D-80333 Munich, Germany.",
                "[Øster, Åsa] Univ Oslo, Dept Educ, N-0317 Oslo, Norway.",
                "[Wang, Li] Univ Hong Kong, Fac Educ, Hong Kong, Hong Kong, Peoples R China.",
            ],
            RP="Wang, L (corresponding author), Univ Hong Kong, Fac Educ, Hong Kong, Hong Kong, "
            "Peoples R China.; Müller, K (corresponding author), Tech Univ Munich, Sch Educ, "
            "D-80333 Munich, Germany.",
            OI="Øster, Åsa/0000-0002-0000-0003; Wang, Li/0000-0002-0000-0004",
            RI="Müller, Karl/B-2222-2012",
            HC="Y",
            HP="N",
            PY="",
            EA="MAR 2022",
            DT="Article; Early Access",
            WC="Education & Educational Research; Psychology, Educational",
            SC="Education & Educational Research; Psychology",
            CR=[
                "Marginson S, 2016, HIGH EDUC, V72, P413, DOI 10.1007/s10734-016-0016-x",
                "OECD, 2019, PISA 2018 RESULTS, VI",
                "Bourdieu P., 1986, HDB THEORY RES SOCIO, P241",
            ],
            NR="3",
        ),
        record(
            3,
            AU=["SMITH, J", "JONES, K"],
            AF=["SMITH, J", "JONES, K"],
            C1=[
                "UNIV LONDON,INST EDUC,LONDON WC1H 0AL,ENGLAND.",
                "OAK RIDGE NATL LAB,OAK RIDGE,TN 37830.",
            ],
            RP="SMITH, J (reprint author), UNIV LONDON,INST EDUC,LONDON WC1H 0AL,ENGLAND.",
            OI="",
            RI="",
            EM="",
            FU="",
            FX="",
            PY="1995",
            DI="",
            CR=["ZHANG W, 1990, CHINESE ED SOC, V23, P5"],
            NR="1",
        ),
        record(4, C1="", RP="", EM="", UT="ISI:000000000000004", DI="10.1080/ABC.DEF"),
        record(
            5,
            FU="Natl Key R&D Program of China [2018YFB1004300]; Fundamental Research Funds for "
            "the Central Universities [2020NTSS06, 2021NTST11]; UK Research & Innovation (UKRI)",
            TC="1234",
            Z9="1301",
            HC="Y",
            HP="Y",
            PM="35810911",
            OA="Green Published, hybrid",
        ),
        record(1),  # a duplicate in the same file
    ]


def test_the_same_records_as_plain_and_as_tab_give_the_same_tables(tmp_path: Path) -> None:
    records = varied_records()
    plain = parse_text(tmp_path, plain_text(records), name="plain.txt")
    tab = parse_text(tmp_path, tab_text(records), name="tab.txt", encoding="utf-8-sig")
    assert_same_tables(plain, tab)
    assert plain["records"].height == 5
    for tables in (plain, tab):
        acc = only_accounting(tables)
        assert (acc["records_seen"], acc["parsed"], acc["duplicates"], acc["quarantined"]) == (
            6,
            5,
            1,
            0,
        )
    assert set(plain["records"]["source_format"]) == {"wos_plain"}
    assert set(tab["records"]["source_format"]) == {"wos_tab"}
    # The tab export's row of a record is its line: header on line 1.
    assert tab["records"].sort("record_id")["source_line"].to_list() == [2, 3, 4, 5, 6]


def test_raw_addresses_do_not_depend_on_the_export_format(tmp_path: Path) -> None:
    records = varied_records()
    plain = parse_text(tmp_path, plain_text(records), name="plain.txt")
    tab = parse_text(tmp_path, tab_text(records), name="tab.txt")
    assert_same_tables(plain, tab, drop_address_raw=False)


def test_column_order_does_not_matter(tmp_path: Path) -> None:
    records = varied_records()
    columns = list(TAB_COLUMNS)
    random.Random(7).shuffle(columns)
    standard = parse_text(tmp_path, tab_text(records), name="a.txt")
    shuffled = parse_text(tmp_path, tab_text(records, columns=columns), name="b.txt")
    assert_same_tables(standard, shuffled, drop_address_raw=False)


def test_utf16le_cr_rows_trailing_tab_like_real_exports(tmp_path: Path) -> None:
    records = varied_records()
    reference = parse_text(tmp_path, tab_text(records, eol="\n"), name="lf.txt")
    for name, eol, encoding in (
        ("cr.txt", "\r", "utf-8-sig"),
        ("u16.txt", "\r\n", "utf-16le-bom"),
        ("u16cr.txt", "\r", "utf-16le-bom"),
    ):
        other = parse_text(
            tmp_path, tab_text(records, eol=eol, trailing_tab=True), name=name, encoding=encoding
        )
        assert_same_tables(reference, other, drop_address_raw=False)
        acc = only_accounting(other)
        assert acc["line_endings"] == ("CR" if eol == "\r" else "CRLF")
        assert acc["encoding"] == encoding
        assert acc["format"] == "wos_tab"
        assert acc["header"].startswith("PT\tAU\tBA\tBE\tGP\tAF")


def test_header_maps_columns_to_tags(tmp_path: Path) -> None:
    columns = ["UT", "TI", "PY", "AU", "PT", "C1", "SO", "DA"]
    rows = [
        "WOS:000000000000009\tA title\t2019\tZhang, W; Li, X\tJ\t"
        "[Zhang, W] Peking Univ, Beijing, Peoples R China; [Li, X] UCL, London, England\t"
        "COMP EDUC\t2023-01-21"
    ]
    tables = parse_text(tmp_path, "\r\n".join(["\t".join(columns), *rows]) + "\r\n")
    row = tables["records"].row(0, named=True)
    assert (row["record_id"], row["title"], row["year"], row["journal"], row["n_authors"]) == (
        wos_id(9),
        "A title",
        2019,
        "COMP EDUC",
        2,
    )
    assert tables["addresses"]["country_text"].to_list() == ["Peoples R China", "England"]
    assert sorted(tables["author_address"].select("position", "address_pos").rows()) == [
        (1, 1),
        (2, 2),
    ]


def test_excel_quoted_fields(tmp_path: Path) -> None:
    r = record(
        1,
        TI='The "smart" way, and the "dumb" way: a comparison',
        AB='He said "hello" to the "world".',
    )
    cells = [excel_quoted(tab_value(c, r[c])) if c in r else "" for c in TAB_COLUMNS]
    header = "\t".join(f'"{c}"' for c in TAB_COLUMNS)  # Excel may quote the header too
    assert cells[TAB_COLUMNS.index("AU")] == '"Zhang, W1; Smith, J; Li, XM"'
    tables = parse_text(tmp_path, header + "\r\n" + "\t".join(cells) + "\r\n")
    reference = parse_text(tmp_path, plain_text([r]), name="plain.txt")
    assert_same_tables(reference, tables)
    row = tables["records"].row(0, named=True)
    assert row["title"] == 'The "smart" way, and the "dumb" way: a comparison'
    assert row["abstract"] == 'He said "hello" to the "world".'


def test_quotes_that_are_not_excel_quoting_are_kept() -> None:
    # (the last line is empty: a file ends with a line break)
    lines = ["PT\tTI\tUT", 'J\t"Smart" and "dumb" schools\tWOS:1', 'J\t"Quoted title"\tWOS:2', ""]
    titles = [r.fields["TI"] for r in iter_tab_records(lines)]
    # A title with unpaired inner quotes is not an Excel-quoted field; a fully quoted one is.
    assert titles == [['"Smart" and "dumb" schools'], ["Quoted title"]]


def test_repeated_columns_keep_the_first_and_a_differing_later_value(tmp_path: Path) -> None:
    # All-databases exports repeat AU; an identical later value is dropped, a differing one kept.
    header = ["PT", "AU", "TI", "AU", "UT"]
    rows = [
        "J\tZhang, W; Li, X\tSame\tZhang, W; Li, X\tWOS:000000000000001",
        "J\tZhang, W\tDiffers\tZhang, Wei\tWOS:000000000000002",
        "J\t\tFirst empty\tZhang, Wei\tWOS:000000000000003",
    ]
    tables = parse_text(tmp_path, "\n".join(["\t".join(header), *rows]) + "\n")
    records = {r["record_id"]: r for r in tables["records"].to_dicts()}
    assert records[wos_id(1)]["n_authors"] == 2
    assert records[wos_id(1)]["extra_fields"] == []
    assert records[wos_id(2)]["extra_fields"] == [{"tag": "AU#4", "value": "Zhang, Wei"}]
    assert records[wos_id(3)]["n_authors"] == 1
    names = tables["authorships"].sort("record_id", "position").select("record_id", "name")
    assert names.rows() == [
        (wos_id(1), "Zhang, W"),
        (wos_id(1), "Li, X"),
        (wos_id(2), "Zhang, W"),
        (wos_id(3), "Zhang, Wei"),
    ]


ALL_DATABASES = [
    "PT",
    "AU",
    "BA",
    "CA",
    "GP",
    "RI",
    "OI",
    "BE",
    "Z2",
    "TI",
    "X1",
    "Y1",
    "Z1",
    "FT",
    "PN",
    "AE",
    "Z3",
    "SO",
    "S1",
    "SE",
    "BS",
    "VL",
    "IS",
    "SI",
    "MA",
    "BP",
    "EP",
    "AR",
    "DI",
    "D2",
    "EA",
    "SU",
    "PD",
    "PY",
    "AB",
    "X4",
    "Y4",
    "Z4",
    "AK",
    "CT",
    "CY",
    "SP",
    "CL",
    "TC",
    "Z8",
    "ZR",
    "ZA",
    "ZB",
    "ZS",
    "Z9",
    "U1",
    "U2",
    "SN",
    "EI",
    "BN",
    "UT",
    "PM",
]


def test_all_databases_export_keeps_its_extra_columns(tmp_path: Path) -> None:
    r = record(
        1,
        UT="BCI:BCI201800796061",
        Z2="张伟",
        X1="中文标题",
        ZB="3",
        ZS="0",
        Z8="1",
    )
    text = tab_text([r], columns=ALL_DATABASES, trailing_tab=True)
    tables = parse_text(tmp_path, text)
    row = tables["records"].row(0, named=True)
    assert (row["record_id"], row["database"], row["times_cited"]) == (
        "BCI:BCI201800796061",
        "BCI",
        int(r["TC"]),
    )
    assert row["extra_fields"] == [
        {"tag": "Z2", "value": "张伟"},
        {"tag": "X1", "value": "中文标题"},
        {"tag": "Z8", "value": "1"},
        {"tag": "ZB", "value": "3"},
        {"tag": "ZS", "value": "0"},
    ]
    assert row["n_addresses"] == 0  # this export has no C1 column


def test_tab_export_without_hc_column_leaves_the_flag_unknown(tmp_path: Path) -> None:
    columns = [c for c in TAB_COLUMNS if c not in ("HC", "HP")]
    tables = parse_text(tmp_path, tab_text([record(1)], columns=columns))
    row = tables["records"].row(0, named=True)
    assert (row["highly_cited"], row["hot_paper"]) == (None, None)


def test_tab_hc_column_present_but_empty_means_no(tmp_path: Path) -> None:
    tables = parse_text(tmp_path, tab_text([record(1), record(2, HC="Y", HP="Y")]))
    flags = tables["records"].sort("record_id").select("highly_cited", "hot_paper").rows()
    assert flags == [(False, False), (True, True)]


def test_short_and_long_rows_are_quarantined(tmp_path: Path) -> None:
    good = [tab_row(record(i)) for i in (1, 2, 3)]
    cells = tab_row(record(4)).split("\t")
    short = "\t".join(cells[:30])
    long = "\t".join([*cells, "unexpected"])
    text = "\r\n".join(["\t".join(TAB_COLUMNS), good[0], short, good[1], long, good[2]]) + "\r\n"
    tables = parse_text(tmp_path, text)
    n = len(TAB_COLUMNS)
    quarantine = tables["quarantine"].sort("line")
    assert quarantine.select("line", "kind", "record_id", "reason").rows() == [
        (
            3,
            "record",
            None,
            f"line 3: row has 30 fields where the header has {n} (a line break or tab inside "
            "a field?)",
        ),
        (
            5,
            "record",
            None,
            f"line 5: row has {n + 1} fields where the header has {n} (a line break or tab "
            "inside a field?)",
        ),
    ]
    assert quarantine["excerpt"].to_list() == [short[:200], long[:200]]
    acc = only_accounting(tables)
    assert (acc["records_seen"], acc["parsed"], acc["quarantined"]) == (5, 3, 2)
    assert sorted(tables["records"]["record_id"]) == [wos_id(1), wos_id(2), wos_id(3)]


def test_line_break_inside_a_field_quarantines_both_halves(tmp_path: Path) -> None:
    row = tab_row(record(1))
    broken = row.replace("Teacher collaboration across", "Teacher collaboration\nacross")
    text = "\n".join(["\t".join(TAB_COLUMNS), broken, tab_row(record(2))]) + "\n"
    tables = parse_text(tmp_path, text)
    assert tables["quarantine"]["line"].to_list() == [2, 3]
    assert tables["records"]["record_id"].to_list() == [wos_id(2)]
    only_accounting(tables)


def test_blank_rows_and_trailing_empty_column(tmp_path: Path) -> None:
    text = tab_text([record(1), record(2)], trailing_tab=True).replace("\r\n", "\r\n\r\n", 1)
    tables = parse_text(tmp_path, text + "\r\n\t\t\r\n")
    acc = only_accounting(tables)
    assert (acc["records_seen"], acc["parsed"]) == (2, 2)
    assert tables["records"].sort("record_id")["source_line"].to_list() == [3, 4]


def test_tab_row_without_ut_is_quarantined(tmp_path: Path) -> None:
    tables = parse_text(tmp_path, tab_text([record(1, UT=""), record(2)]))
    (q,) = tables["quarantine"].to_dicts()
    assert (q["line"], q["kind"], q["record_id"], q["reason"]) == (
        2,
        "record",
        None,
        "no UT (record id): cannot identify it",
    )
    assert q["excerpt"].startswith("J\tZhang, W1; Smith, J; Li, XM\t")


def test_truncated_last_tab_row_is_not_parsed_with_a_wrong_id(tmp_path: Path) -> None:
    text = tab_text([record(1), record(2)])
    cut = text.rstrip("\r\n")[:-5]
    tables = parse_text(tmp_path, cut)
    assert tables["records"]["record_id"].to_list() == [wos_id(1)]
    assert tables["quarantine"].height == 1


def test_html_entities_do_not_split_tab_items() -> None:
    lines = [
        "PT\tAU\tCR\tC1\tUT",
        "J\tZhang, W; Li, X\tSmith J, 2010, R&amp;D MANAGE, V40, P1; Li X, 2012, SCI EDUC, V3, P5"
        "\t[Zhang, W; Li, X] Inst Sci &amp; Technol, Beijing, Peoples R China\tWOS:1",
        "",
    ]
    (row,) = iter_tab_records(lines)
    assert row.fields["CR"] == [
        "Smith J, 2010, R&amp;D MANAGE, V40, P1",
        "Li X, 2012, SCI EDUC, V3, P5",
    ]
    assert row.fields["C1"] == [
        "[Zhang, W; Li, X] Inst Sci &amp; Technol, Beijing, Peoples R China"
    ]
    fast = _clean_tab_items(lines, 0)
    assert fast is not None
    assert fast.items.filter(pl.col("tag") == "CR")["value"].to_list() == row.fields["CR"]
    assert fast.items.filter(pl.col("tag") == "C1")["value"].to_list() == row.fields["C1"]
