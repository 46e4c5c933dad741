"""WoS plain-text exports: tokenizer, record builder and in-file accounting."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from collabscope.parse.shard import ShardTables, parse_files
from collabscope.parse.wos_tokens import iter_plain_records
from tests.unit.wos_builders import (
    check_accounting,
    parse_text,
    plain_lines,
    plain_text,
    record,
    tab_text,
    wos_id,
    write,
)


def rows(tables: ShardTables, table: str, record_id: str | None = None) -> list[dict]:
    frame = tables[table]
    if record_id is not None:
        frame = frame.filter(pl.col("record_id") == record_id)
    return frame.to_dicts()


def rec(tables: ShardTables, record_id: str) -> dict:
    found = rows(tables, "records", record_id)
    assert len(found) == 1, record_id
    return found[0]


def only_accounting(tables: ShardTables) -> dict:
    accounting = check_accounting(tables)
    assert len(accounting) == 1
    return next(iter(accounting.values()))


# --- tokenizer ----------------------------------------------------------------------------------


def test_continuation_lines_and_line_items() -> None:
    lines = [
        "FN Clarivate Analytics Web of Science",
        "VR 1.0",
        "PT J",
        "AU Zhang, W",
        "   Smith, J",
        "TI Teacher collaboration across borders",
        "   in secondary schools",
        "CR Zhang W, 2015, COMP EDUC, V51, P123",
        "   [Anonymous], 2010, ED GLANCE 2010",
        "UT WOS:000000000000001",
        "ER",
        "",
        "EF",
    ]
    (raw,) = list(iter_plain_records(lines))
    assert raw.line == 3
    assert raw.problem is None
    assert raw.fields == {
        "PT": ["J"],
        "AU": ["Zhang, W", "Smith, J"],
        "TI": ["Teacher collaboration across borders", "in secondary schools"],
        "CR": ["Zhang W, 2015, COMP EDUC, V51, P123", "[Anonymous], 2010, ED GLANCE 2010"],
        "UT": ["WOS:000000000000001"],
    }


def test_continuation_text_is_joined_with_one_space(tmp_path: Path) -> None:
    title = (
        "Improving hydrogen production from the anaerobic digestion of waste activated sludge: "
        "Effects of cobalt and iron zero valent nanoparticles"
    )
    abstract = " ".join(["Recently, different metallic additives have been studied."] * 6)
    tables = parse_text(tmp_path, plain_text([record(1, TI=title, AB=abstract)]))
    text = Path(tmp_path / "savedrecs.txt").read_text()
    assert "\n   activated sludge" in text or "\n   " in text  # the title is wrapped
    row = rec(tables, wos_id(1))
    assert (row["title"], row["abstract"]) == (title, abstract)


def test_multi_value_fields_are_lists(tmp_path: Path) -> None:
    tables = parse_text(
        tmp_path,
        plain_text(
            [
                record(
                    1,
                    DE="teacher education; international collaboration; China; England",
                    ID="HIGHER-EDUCATION; MOBILITY; STUDENTS; KNOWLEDGE; IDENTITY; POLICY; "
                    "INTERNATIONALIZATION; CHINA",
                    WC="Education & Educational Research; Psychology, Educational",
                    SC="Education & Educational Research; Psychology",
                    EM="zhang1@bnu.edu.cn; j.smith@ucl.ac.uk; xm.li@bnu.edu.cn",
                    C3="Beijing Normal University; University of London",
                    DT="Article; Early Access",
                )
            ]
        ),
    )
    row = rec(tables, wos_id(1))
    assert row["author_keywords"] == [
        "teacher education",
        "international collaboration",
        "China",
        "England",
    ]
    assert row["keywords_plus"][-2:] == ["INTERNATIONALIZATION", "CHINA"]
    assert len(row["keywords_plus"]) == 8
    assert row["subject_categories"] == [
        "Education & Educational Research",
        "Psychology, Educational",
    ]
    assert row["research_areas"] == ["Education & Educational Research", "Psychology"]
    assert row["emails"] == ["zhang1@bnu.edu.cn", "j.smith@ucl.ac.uk", "xm.li@bnu.edu.cn"]
    assert row["organisations_enhanced"] == ["Beijing Normal University", "University of London"]
    assert row["doc_type"] == "Article; Early Access"


def test_all_modelled_scalar_fields(tmp_path: Path) -> None:
    tables = parse_text(tmp_path, plain_text([record(7, PM="12345678", OA="Green Published")]))
    row = rec(tables, wos_id(7))
    expected = {
        "record_id": "WOS:000000000000007",
        "database": "WOS",
        "source": "wos",
        "source_format": "wos_plain",
        "source_file": str(tmp_path / "savedrecs.txt"),
        "source_line": 3,
        "publication_type": "J",
        "doc_type": "Article",
        "journal": "COMPARATIVE EDUCATION",
        "journal_abbrev": "COMP EDUC",
        "journal_iso": "Comp. Educ.",
        "issn": "0305-0068",
        "eissn": "1360-0486",
        "volume": "51",
        "issue": "2",
        "start_page": "107",
        "end_page": "127",
        "article_number": None,
        "doi": "10.1080/03050068.2015.0000007",
        "year": 2008,
        "year_source": "PY",
        "publication_date": "MAY",
        "early_access": None,
        "language": "English",
        "times_cited": 0,
        "times_cited_all": 1,
        "usage_180": 3,
        "usage_2013": 10,
        "highly_cited": False,
        "hot_paper": False,
        "publisher": "ROUTLEDGE JOURNALS, TAYLOR & FRANCIS LTD",
        "pubmed_id": "12345678",
        "open_access": "Green Published",
        "n_authors": 3,
        "n_addresses": 2,
        "n_references": 2,
        "n_references_parsed": 2,
        "funding_text": "This work was supported by the National Natural Science Foundation of "
        "China and the Economic and Social Research Council.",
    }
    assert {k: row[k] for k in expected} == expected


def test_record_without_er_before_next_record_is_quarantined(tmp_path: Path) -> None:
    first = plain_lines(record(1))[:-1]  # no ER
    second = plain_lines(record(2))
    text = "\n".join(["FN Clarivate Analytics Web of Science", "VR 1.0", *first, *second, "EF"])
    tables = parse_text(tmp_path, text + "\n")
    next_pt = 3 + len(first)
    assert rows(tables, "quarantine") == [
        {
            "file": str(tmp_path / "savedrecs.txt"),
            "line": 3,
            "kind": "record",
            "record_id": wos_id(1),
            "reason": f"no ER before line {next_pt} (PT): record truncated",
            "excerpt": "PT J",
        }
    ]
    assert tables["records"]["record_id"].to_list() == [wos_id(2)]
    assert rec(tables, wos_id(2))["source_line"] == next_pt
    acc = only_accounting(tables)
    assert (acc["records_seen"], acc["parsed"], acc["quarantined"]) == (2, 1, 1)
    # Nothing of the quarantined record reaches the child tables.
    assert rows(tables, "authorships", wos_id(1)) == []


def test_file_ending_inside_a_record_is_quarantined(tmp_path: Path) -> None:
    text = plain_text([record(1)], trailer=False) + "\n".join(plain_lines(record(2))[:-3])
    tables = parse_text(tmp_path, text)
    (q,) = rows(tables, "quarantine")
    assert q["reason"] == "the file ends inside this record (no ER): truncated?"
    assert q["record_id"] is None  # the UT line was cut off
    assert q["kind"] == "record"
    acc = only_accounting(tables)
    assert (acc["records_seen"], acc["parsed"], acc["quarantined"]) == (2, 1, 1)


def test_record_without_ut_is_quarantined(tmp_path: Path) -> None:
    tables = parse_text(tmp_path, plain_text([record(1), record(2, UT=""), record(3)]))
    (q,) = rows(tables, "quarantine")
    first_lines = len(plain_lines(record(1))) + 1
    assert q == {
        "file": str(tmp_path / "savedrecs.txt"),
        "line": 3 + first_lines,
        "kind": "record",
        "record_id": None,
        "reason": "no UT (record id): cannot identify it",
        "excerpt": "PT J",
    }
    assert sorted(tables["records"]["record_id"]) == [wos_id(1), wos_id(3)]


def test_malformed_line_inside_a_record(tmp_path: Path) -> None:
    lines = plain_lines(record(1))
    lines.insert(4, "this line lost its tag")
    text = "\n".join(["FN Clarivate Analytics Web of Science", "VR 1.0", *lines, "EF"]) + "\n"
    tables = parse_text(tmp_path, text)
    (q,) = rows(tables, "quarantine")
    assert q["reason"] == (
        "line 7: malformed line (not a tag, not a continuation): 'this line lost its tag'"
    )
    assert (q["line"], q["record_id"], q["kind"]) == (3, wos_id(1), "record")
    assert tables["records"].height == 0


def test_stray_text_between_records_is_not_a_record(tmp_path: Path) -> None:
    text = plain_text([record(1)], trailer=False)
    lines_before = text.count("\n")
    text += "#---reached at this spot---\nsecond stray line\n\n" + plain_text(
        [record(2)], header=()
    )
    tables = parse_text(tmp_path, text)
    (q,) = rows(tables, "quarantine")
    first = lines_before + 1
    assert q == {
        "file": str(tmp_path / "savedrecs.txt"),
        "line": first,
        "kind": "text",
        "record_id": None,
        "reason": f"lines {first}-{first + 1}: text outside any record",
        "excerpt": "#---reached at this spot---\nsecond stray line",
    }
    acc = only_accounting(tables)
    assert (acc["records_seen"], acc["parsed"], acc["quarantined"], acc["stray_text"]) == (
        2,
        2,
        0,
        1,
    )


def test_corrupted_prefix_before_pt_like_real_exports(tmp_path: Path) -> None:
    # Seen in a real export: 'nullnull' pasted before the PT tag of each record.
    text = plain_text([record(1), record(2)]).replace("\nPT J\n", "\nnullnullPT J\n")
    tables = parse_text(tmp_path, text)
    quarantine = tables["quarantine"].sort("line")
    assert quarantine["kind"].to_list() == ["text", "record", "text", "record"]
    reasons = quarantine["reason"].to_list()
    assert reasons[0] == "line 3: text outside any record"
    assert reasons[1] == "line 4: record does not begin with PT"
    assert quarantine["excerpt"].to_list()[0] == "nullnullPT J"
    acc = only_accounting(tables)
    assert (acc["records_seen"], acc["quarantined"], acc["stray_text"]) == (2, 2, 2)


def test_er_without_a_record_is_stray_text(tmp_path: Path) -> None:
    text = plain_text([record(1)], trailer=False) + "ER\n\nEF\n"
    tables = parse_text(tmp_path, text)
    (q,) = rows(tables, "quarantine")
    assert (q["kind"], q["excerpt"]) == ("text", "ER")
    assert q["reason"].endswith("ER without a record")
    acc = only_accounting(tables)
    assert (acc["records_seen"], acc["parsed"], acc["stray_text"]) == (1, 1, 1)


def test_unknown_tags_are_kept_in_order(tmp_path: Path) -> None:
    tables = parse_text(
        tmp_path,
        plain_text([record(1, ZZ="a new tag with a value that is long enough to be wrapped " * 3)]),
    )
    extra = rec(tables, wos_id(1))["extra_fields"]
    assert [e["tag"] for e in extra] == ["PG", "GA", "ZZ"]
    assert extra[0] == {"tag": "PG", "value": "21"}
    assert (
        extra[2]["value"]
        == ("a new tag with a value that is long enough to be wrapped " * 3).strip()
    )


def test_concatenated_exports_and_blank_lines(tmp_path: Path) -> None:
    # Two exports pasted into one file: the second FN/VR header and EF are not records.
    text = plain_text([record(1)], eol="\r\n") + "\r\n\r\n" + plain_text([record(2)], eol="\r\n")
    tables = parse_text(tmp_path, text)
    acc = only_accounting(tables)
    assert (acc["records_seen"], acc["parsed"], acc["stray_text"]) == (2, 2, 0)
    assert acc["line_endings"] == "CRLF"


# --- addresses, authors and their links ---------------------------------------------------------


def test_record_without_c1(tmp_path: Path) -> None:
    tables = parse_text(tmp_path, plain_text([record(1, C1="")]))
    row = rec(tables, wos_id(1))
    assert row["n_addresses"] == 0
    (address,) = rows(tables, "addresses", wos_id(1))
    assert (address["address_pos"], address["kind"], address["country_text"]) == (
        1,
        "reprint",
        "Peoples R China",
    )
    assert sorted((r["position"], r["address_pos"]) for r in rows(tables, "author_address")) == [
        (1, 1)
    ]


def test_old_and_new_address_styles_in_one_file(tmp_path: Path) -> None:
    old = record(
        1,
        AU=["SMITH, J", "JONES, K"],
        AF="",
        C1=[
            "UNIV LONDON,INST EDUC,LONDON WC1H 0AL,ENGLAND.",
            "UNIV OXFORD,DEPT EDUC,OXFORD,ENGLAND.",
        ],
        RP="SMITH, J (reprint author), UNIV LONDON,INST EDUC,LONDON WC1H 0AL,ENGLAND.",
        OI="",
        RI="",
        DA="",
        PY="1995",
    )
    tables = parse_text(tmp_path, plain_text([old, record(2)]))
    old_addresses = rows(tables, "addresses", wos_id(1))
    assert [(a["address_pos"], a["kind"], a["old_style"]) for a in old_addresses] == [
        (1, "affiliation", True),
        (2, "affiliation", True),
        (3, "reprint", True),
    ]
    assert [
        (a["organisation"], a["sub_organisations"], a["city"], a["postcode"], a["country_text"])
        for a in old_addresses[:2]
    ] == [
        ("UNIV LONDON", ["INST EDUC"], "LONDON", "WC1H 0AL", "ENGLAND"),
        ("UNIV OXFORD", ["DEPT EDUC"], "OXFORD", None, "ENGLAND"),
    ]
    assert old_addresses[2]["organisation"] == "UNIV LONDON"
    # No [Author] brackets before 2008: the reprint group is the only author-address link.
    assert [
        (r["position"], r["address_pos"]) for r in rows(tables, "author_address", wos_id(1))
    ] == [(1, 3)]
    assert [a["is_corresponding"] for a in rows(tables, "authorships", wos_id(1))] == [True, False]
    assert [a["full_name"] for a in rows(tables, "authorships", wos_id(1))] == [None, None]
    new_addresses = rows(tables, "addresses", wos_id(2))
    assert [a["old_style"] for a in new_addresses] == [False, False, False]
    assert sorted(
        (r["position"], r["address_pos"]) for r in rows(tables, "author_address", wos_id(2))
    ) == [
        (1, 1),
        (1, 3),
        (2, 2),
        (3, 1),
    ]
    # Older records have no HC and no DA: the highly-cited flag is unknown, not False.
    assert rec(tables, wos_id(1))["highly_cited"] is None


def test_author_address_links_with_short_and_full_names(tmp_path: Path) -> None:
    r = record(
        1,
        AU=["Wang, L", "Wang, L", "Zhang, W", "Smith, JP"],
        AF=["Wang, Lei", "Wang, Li", "Zhang, Wei", "Smith, John Paul"],
        C1=[
            "[Wang, Lei; Zhang, W] Beijing Normal Univ, Fac Educ, Beijing 100875, Peoples R China.",
            "[Wang, Li] Univ Hong Kong, Fac Educ, Hong Kong, Hong Kong, Peoples R China.",
            "[Smith, J. P.; Zhang, Wei] UCL, Inst Educ, London WC1H 0AL, England.",
            "[Nobody, X] Univ Nowhere, Nowhere, Peru.",
        ],
        RP="Smith, JP (corresponding author), UCL, Inst Educ, London WC1H 0AL, England.",
        OI="",
        RI="",
    )
    tables = parse_text(tmp_path, plain_text([r]))
    links = sorted((x["position"], x["address_pos"]) for x in rows(tables, "author_address"))
    assert links == [(1, 1), (2, 2), (3, 1), (3, 3), (4, 3), (4, 5)]
    corresponding = [a["is_corresponding"] for a in rows(tables, "authorships")]
    assert corresponding == [False, False, False, True]
    assert rec(tables, wos_id(1))["n_addresses"] == 4


@pytest.mark.parametrize(
    ("marker", "separator"),
    [
        ("(corresponding author)", ","),
        ("(reprint author)", ","),
        ("(Corresponding Author)", ","),
        ("(通讯作者)", "，"),
        ("(autor correspondiente)", ","),
        ("(autor correspondente)", ","),
        ("(автор для корреспонденции)", ","),
    ],
)
def test_rp_markers(tmp_path: Path, marker: str, separator: str) -> None:
    rp = f"Smith, J {marker}{separator} UCL, Inst Educ, London WC1H 0AL, England."
    tables = parse_text(tmp_path, plain_text([record(1, RP=rp)]))
    assert [a["is_corresponding"] for a in rows(tables, "authorships")] == [False, True, False]
    reprint = [a for a in rows(tables, "addresses") if a["kind"] == "reprint"]
    assert [
        (a["address_pos"], a["raw"], a["organisation"], a["country_text"]) for a in reprint
    ] == [(3, "UCL, Inst Educ, London WC1H 0AL, England", "UCL", "England")]
    assert (2, 3) in [(x["position"], x["address_pos"]) for x in rows(tables, "author_address")]


def test_rp_with_several_groups_and_addresses(tmp_path: Path) -> None:
    rp = (
        "Zhang, W1; Li, XM (corresponding author), Beijing Normal Univ, Fac Educ, Beijing 100875, "
        "Peoples R China.; Smith, J (corresponding author), UCL, Inst Educ, London WC1H 0AL, "
        "England.; Smith, J (corresponding author), Univ Oxford, Dept Educ, Oxford OX2 6PY, "
        "England."
    )
    tables = parse_text(tmp_path, plain_text([record(1, RP=rp)]))
    addresses = rows(tables, "addresses")
    assert [(a["address_pos"], a["kind"], a["organisation"]) for a in addresses] == [
        (1, "affiliation", "Beijing Normal Univ"),
        (2, "affiliation", "UCL"),
        (3, "reprint", "Beijing Normal Univ"),
        (4, "reprint", "UCL"),
        (5, "reprint", "Univ Oxford"),
    ]
    assert [a["is_corresponding"] for a in rows(tables, "authorships")] == [True, True, True]
    links = sorted((x["position"], x["address_pos"]) for x in rows(tables, "author_address"))
    assert links == [(1, 1), (1, 3), (2, 2), (2, 4), (2, 5), (3, 1), (3, 3)]


def test_ambiguous_rp_name_is_resolved_by_the_address(tmp_path: Path) -> None:
    r = record(
        1,
        AU=["Wang, L", "Wang, L"],
        AF=["Wang, Lei", "Wang, Li"],
        C1=[
            "[Wang, Lei] Tech Univ Munich, Sch Educ, D-80333 Munich, Germany.",
            "[Wang, Li] Univ Hong Kong, Fac Educ, Hong Kong, Hong Kong, Peoples R China.",
        ],
        RP="Wang, L (corresponding author), Univ Hong Kong, Fac Educ, Hong Kong, Hong Kong, "
        "Peoples R China.",
        OI="",
        RI="",
    )
    tables = parse_text(tmp_path, plain_text([r]))
    assert [a["is_corresponding"] for a in rows(tables, "authorships")] == [False, True]
    links = sorted((x["position"], x["address_pos"]) for x in rows(tables, "author_address"))
    assert links == [(1, 1), (2, 2), (2, 3)]


def test_control_character_in_rp_does_not_split_it(tmp_path: Path) -> None:
    rp = "Zhang, W1 (corresponding author), Univ A\x1eB, Beijing, Peoples R China."
    tables = parse_text(tmp_path, plain_text([record(1, RP=rp)]))
    reprint = [a for a in rows(tables, "addresses") if a["kind"] == "reprint"]
    assert len(reprint) == 1


def test_rp_without_author_name(tmp_path: Path) -> None:
    # Older exports give the reprint address alone.
    rp = "Univ Florida, Dept Wildlife Ecol & Conservat, Gainesville, FL 32611 USA."
    tables = parse_text(tmp_path, plain_text([record(1, RP=rp)]))
    (reprint,) = [a for a in rows(tables, "addresses") if a["kind"] == "reprint"]
    assert (reprint["address_pos"], reprint["state"], reprint["postcode"]) == (3, "FL", "32611")
    assert [a["is_corresponding"] for a in rows(tables, "authorships")] == [False, False, False]
    assert all(x["address_pos"] != 3 for x in rows(tables, "author_address"))


def test_rp_name_without_address(tmp_path: Path) -> None:
    tables = parse_text(tmp_path, plain_text([record(1, RP="Li, XM (corresponding author)")]))
    assert [a["kind"] for a in rows(tables, "addresses")] == ["affiliation", "affiliation"]
    assert [a["is_corresponding"] for a in rows(tables, "authorships")] == [False, False, True]


def test_orcid_and_researcher_id_matched_to_authors(tmp_path: Path) -> None:
    r = record(
        1,
        AU=["Zhang, W", "Smith, J", "Castro-Olivera, PM", "Wang, L", "Wang, L"],
        AF=["Zhang, Wei", "Smith, John", "Castro-Olivera, Pedro Miguel", "Wang, Lei", "Wang, Li"],
        OI=(
            "Smith, John/0000-0001-5109-3700; Castro-Olivera, Pedro/0000-0003-3355-9727; "
            "Wang, L/0000-0002-0000-0001; Someone, Else/0000-0002-0000-0002; "
            "Zhang, W/0000-0002-1825-0097"
        ),
        RI="Wang, Li/I-1439-2017; Smith, John/A-1234-2010; Broken entry without slash",
    )
    tables = parse_text(tmp_path, plain_text([r]))
    authors = rows(tables, "authorships")
    assert [(a["position"], a["name"], a["full_name"]) for a in authors][2] == (
        3,
        "Castro-Olivera, PM",
        "Castro-Olivera, Pedro Miguel",
    )
    assert [a["orcid"] for a in authors] == [
        "0000-0002-1825-0097",  # short name matches AU
        "0000-0001-5109-3700",
        "0000-0003-3355-9727",  # 'Castro-Olivera, Pedro' is the start of the full name
        None,  # 'Wang, L' is ambiguous: two authors
        None,
    ]
    assert [a["researcher_id"] for a in authors] == [
        None,
        "A-1234-2010",
        None,
        None,
        "I-1439-2017",
    ]


def test_funding_entries_and_grants(tmp_path: Path) -> None:
    fu = (
        "National Natural Science Foundation of China (NSFC) [71974012, 72074020]; "
        "Economic and Social Research Council [ES/P005292/1]; UCL; "
        "Ministry of Education of the People's Republic of China [19JZD052; 20YJC880001]"
    )
    tables = parse_text(tmp_path, plain_text([record(1, FU=fu, FX="We thank NSFC.")]))
    funding = [
        (f["funder_pos"], f["funder_raw"], f["grant_numbers"]) for f in rows(tables, "funding")
    ]
    assert funding == [
        (1, "National Natural Science Foundation of China (NSFC)", ["71974012", "72074020"]),
        (2, "Economic and Social Research Council", ["ES/P005292/1"]),
        (3, "UCL", []),
        (4, "Ministry of Education of the People's Republic of China", ["19JZD052", "20YJC880001"]),
    ]
    assert rec(tables, wos_id(1))["funding_text"] == "We thank NSFC."


def test_counts_are_integers_or_null(tmp_path: Path) -> None:
    tables = parse_text(
        tmp_path,
        plain_text(
            [
                record(1, TC="1234", Z9="1301", U1="0", U2="", NR="57"),
                record(2, TC="n/a", Z9="", NR=""),
            ]
        ),
    )
    one, two = rec(tables, wos_id(1)), rec(tables, wos_id(2))
    assert (one["times_cited"], one["times_cited_all"], one["usage_180"], one["usage_2013"]) == (
        1234,
        1301,
        0,
        None,
    )
    assert (one["n_references"], one["n_references_parsed"]) == (57, 2)
    assert (two["times_cited"], two["times_cited_all"], two["n_references"]) == (None, None, None)


def test_count_with_superscript_digit_does_not_crash(tmp_path: Path) -> None:
    # Regression: str.isdigit() is True for '²' but int('²') raises.
    tables = parse_text(tmp_path, plain_text([record(1, TC="²", Z9="①")]))
    row = rec(tables, wos_id(1))
    assert (row["times_cited"], row["times_cited_all"]) == (None, None)


@pytest.mark.parametrize(
    ("fields", "flags"),
    [
        ({}, (False, False)),  # modern export (DA present): absence means no
        ({"HC": "Y", "HP": "N"}, (True, False)),
        ({"HC": "Y", "HP": "Y"}, (True, True)),
        ({"HC": "N"}, (False, False)),
        ({"DA": ""}, (None, None)),  # older export (no DA): the flag did not exist
        ({"DA": "", "HC": "Y"}, (True, None)),
        ({"HC": "maybe"}, (None, False)),
    ],
)
def test_highly_cited_and_hot_paper_flags(tmp_path: Path, fields: dict, flags: tuple) -> None:
    tables = parse_text(tmp_path, plain_text([record(1, **fields)]))
    row = rec(tables, wos_id(1))
    assert (row["highly_cited"], row["hot_paper"]) == flags


@pytest.mark.parametrize(
    ("py", "ea", "year", "source"),
    [
        ("2020", "JAN 2019", 2020, "PY"),
        ("", "JAN 2021", 2021, "EA"),
        ("", "2021", 2021, "EA"),
        ("", "JUN 15 2022", 2022, "EA"),
        ("", "", None, None),
        ("", "SOON", None, None),
    ],
)
def test_year_falls_back_to_early_access(
    tmp_path: Path, py: str, ea: str, year: int | None, source: str | None
) -> None:
    tables = parse_text(tmp_path, plain_text([record(1, PY=py, EA=ea)]))
    row = rec(tables, wos_id(1))
    assert (row["year"], row["year_source"], row["early_access"]) == (year, source, ea or None)


@pytest.mark.parametrize(
    ("ut", "record_id", "database"),
    [
        ("WOS:000860676800008", "WOS:000860676800008", "WOS"),
        ("ISI:000860676800008", "WOS:000860676800008", "WOS"),
        ("isi:A1995QK12300004", "WOS:A1995QK12300004", "WOS"),
        ("000860676800008", "WOS:000860676800008", "WOS"),
        ("BCI:BCI201800796061", "BCI:BCI201800796061", "BCI"),
        ("MEDLINE:35810911", "MEDLINE:35810911", "MEDLINE"),
    ],
)
def test_record_id_normalisation(tmp_path: Path, ut: str, record_id: str, database: str) -> None:
    tables = parse_text(tmp_path, plain_text([record(1, UT=ut)]))
    row = tables["records"].row(0, named=True)
    assert (row["record_id"], row["database"]) == (record_id, database)
    assert set(tables["authorships"]["record_id"]) == {record_id}


@pytest.mark.parametrize(
    ("di", "doi"),
    [
        ("10.1080/03050068.2015.1234567", "10.1080/03050068.2015.1234567"),
        ("10.1016/J.IJHYDENE.2022.06.187", "10.1016/j.ijhydene.2022.06.187"),
        ("https://doi.org/10.1007/S10734-016-0016-X", "10.1007/s10734-016-0016-x"),
        ("http://dx.doi.org/10.1371/journal.pone.0123456", "10.1371/journal.pone.0123456"),
        ("doi:10.1111/bjet.12345", "10.1111/bjet.12345"),
        ("", None),
    ],
)
def test_doi_normalisation(tmp_path: Path, di: str, doi: str | None) -> None:
    tables = parse_text(tmp_path, plain_text([record(1, DI=di)]))
    assert rec(tables, wos_id(1))["doi"] == doi


@pytest.mark.parametrize("di", ["doi: 10.1111/BJET.12345", "https://dx.doi.org/10.1111/bjet.12345"])
def test_doi_normalisation_more_prefixes(tmp_path: Path, di: str) -> None:
    tables = parse_text(tmp_path, plain_text([record(1, DI=di)]))
    assert rec(tables, wos_id(1))["doi"] == "10.1111/bjet.12345"


# --- duplicates and accounting ------------------------------------------------------------------


def test_duplicates_in_one_file_keep_the_first_occurrence(tmp_path: Path) -> None:
    first = record(1, TI="The first occurrence of the record")
    again = record(1, TI="A later, different version of the record")
    text = plain_text([first, record(2), again, record(1, UT="ISI:000000000000001")])
    tables = parse_text(tmp_path, text, datasets=("world", "china"))
    acc = only_accounting(tables)
    assert (acc["records_seen"], acc["parsed"], acc["duplicates"], acc["quarantined"]) == (
        4,
        2,
        2,
        0,
    )
    row = rec(tables, wos_id(1))
    assert (row["title"], row["source_line"]) == ("The first occurrence of the record", 3)
    assert len(rows(tables, "authorships", wos_id(1))) == 3  # children of one occurrence only
    assert len(rows(tables, "references", wos_id(1))) == 2
    assert sorted(tables["dataset_records"].rows()) == [
        ("china", wos_id(1)),
        ("china", wos_id(2)),
        ("world", wos_id(1)),
        ("world", wos_id(2)),
    ]
    assert acc["datasets"] == ["china", "world"]


def test_duplicates_across_files_follow_file_order(tmp_path: Path) -> None:
    b = write(tmp_path / "b.txt", plain_text([record(1, TI="From b"), record(3)]))
    a = write(tmp_path / "a.txt", plain_text([record(2), record(1, TI="From a")]))
    tables = parse_files({b: ["x"], a: ["y"]})
    accounting = check_accounting(tables)
    assert (accounting[a]["parsed"], accounting[a]["duplicates"]) == (2, 0)
    assert (accounting[b]["parsed"], accounting[b]["duplicates"]) == (1, 1)
    row = rec(tables, wos_id(1))
    assert (row["title"], row["source_file"]) == ("From a", a)
    # dataset membership is recorded for every occurrence, duplicates included
    assert sorted(
        tables["dataset_records"].filter(pl.col("record_id") == wos_id(1))["dataset"]
    ) == [
        "x",
        "y",
    ]


def test_accounting_describes_the_file(tmp_path: Path) -> None:
    text = plain_text([record(1), record(2, UT=""), record(1)], eol="\r\n")
    path = write(tmp_path / "savedrecs.txt", text, "utf-8-sig")
    tables = parse_files({path: ["world"]})
    acc = only_accounting(tables)
    data = Path(path).read_bytes()
    import hashlib

    assert acc == {
        "file": path,
        "datasets": ["world"],
        "format": "wos_plain",
        "encoding": "utf-8-sig",
        "line_endings": "CRLF",
        "header": "FN Clarivate Analytics Web of Science",
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "records_seen": 3,
        "parsed": 1,
        "duplicates": 1,
        "quarantined": 1,
        "stray_text": 0,
    }


def test_whole_file_refusal_propagates(tmp_path: Path) -> None:
    good = write(tmp_path / "a.txt", plain_text([record(1)]))
    bad = write(tmp_path / "b.txt", "<!DOCTYPE html>\n<html></html>\n")
    from collabscope.errors import UserInputError

    with pytest.raises(UserInputError) as caught:
        parse_files({good: ["x"], bad: ["x"]})
    assert caught.value.file == bad
    assert caught.value.line == 1


def test_schemas_of_every_table(tmp_path: Path) -> None:
    from collabscope import schemas

    tables = parse_text(tmp_path, plain_text([record(1), record(2, UT="")]))
    for table in schemas.SHARD_TABLES:
        assert tables[table.name].schema == table.schema, table.name
    empty = parse_text(tmp_path, plain_text([record(3, UT="")]), name="empty.txt")
    for table in schemas.SHARD_TABLES:
        assert empty[table.name].schema == table.schema, table.name
    assert empty["records"].height == 0


def test_html_entities_do_not_split_lists_or_funders(tmp_path: Path) -> None:
    # Some WoS exports carry HTML entities; the ';' ending '&amp;' separates nothing.
    r = record(
        1,
        DE="Clusters; Patents; R&amp; D; Spatial",
        FU="National Key R&amp;D Program of China [2018YFB1402600]; Natural Science "
        "Foundation of China [71774012]",
    )
    tables = parse_text(tmp_path, plain_text([r]))
    assert rec(tables, wos_id(1))["author_keywords"] == [
        "Clusters",
        "Patents",
        "R&amp; D",
        "Spatial",
    ]
    assert [(f["funder_raw"], f["grant_numbers"]) for f in rows(tables, "funding")] == [
        ("National Key R&amp;D Program of China", ["2018YFB1402600"]),
        ("Natural Science Foundation of China", ["71774012"]),
    ]


def test_name_first_c1_of_zoological_record_and_biosis(tmp_path: Path) -> None:
    """BIOSIS and Zoological Record write C1 as 'Surname, Given; address' and plain text wraps
    it over lines: the name is an author link, never an address, in both export formats."""
    zoorec = record(
        1,
        UT="ZOOREC:ZOOR15005027828",
        AU=["Rota, Christopher T. (rotact@missouri.edu)", "Rumble, Mark A."],
        AF="",
        RP="",
        C1=[
            "Rota, Christopher T.; Univ Missouri, Dept Fisheries & Wildlife Sci, 302",
            "Anheuser Busch Nat Resources Bldg, Columbia, MO, 65211, USA, USA.",
        ],
    )
    biosis = record(
        2,
        UT="BIOSIS:PREV198478026010",
        AU=["RAPHAEL M G"],
        AF="",
        RP="",
        C1=[
            "RAPHAEL M G; DEPARTMENT OF FORESTRY, UNIVERSITY OF CALIFORNIA, BERKELEY, CALIF",
            "94720, USA.",
        ],
    )
    plain = parse_text(tmp_path / "plain", plain_text([zoorec, biosis]))
    tab_records = [
        {**zoorec, "C1": " ".join(zoorec["C1"]).rstrip(".")},
        {**biosis, "C1": " ".join(biosis["C1"]).rstrip(".")},
    ]
    tab = parse_text(tmp_path / "tab", tab_text(tab_records))
    for tables in (plain, tab):
        addresses = {r["record_id"]: r["raw"] for r in rows(tables, "addresses")}
        assert addresses == {
            "ZOOREC:ZOOR15005027828": "Univ Missouri, Dept Fisheries & Wildlife Sci, 302 Anheuser "
            "Busch Nat Resources Bldg, Columbia, MO, 65211, USA, USA",
            "BIOSIS:PREV198478026010": "DEPARTMENT OF FORESTRY, UNIVERSITY OF CALIFORNIA, "
            "BERKELEY, CALIF 94720, USA",
        }
        assert rec(tables, "ZOOREC:ZOOR15005027828")["n_addresses"] == 1
        links = sorted((r["record_id"], r["position"]) for r in rows(tables, "author_address"))
        assert links == [("BIOSIS:PREV198478026010", 1), ("ZOOREC:ZOOR15005027828", 1)]
        names = [r["name"] for r in rows(tables, "authorships", "ZOOREC:ZOOR15005027828")]
        assert names == ["Rota, Christopher T.", "Rumble, Mark A."]  # the e-mail is not a name
