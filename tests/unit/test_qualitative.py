"""The qualitative strand's readers and tables: REFI-QDA projects written here to the published
schema (and broken on purpose), participants and segment sheets, and the numbers of every
table on a small hand-made study."""

from __future__ import annotations

import zipfile
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from collabscope.errors import UserInputError
from collabscope.qualitative import analysis, joint
from collabscope.qualitative.refi import NS, Code, Source, guid, project_xml, read_qdpx, write_qdpx
from collabscope.qualitative.sheets import read_participants, read_segment_sheet
from collabscope.qualitative.stage import qualitative_tables
from tests.conftest import PROJECT

EXAMPLE = PROJECT / "resources" / "example" / "qualitative"
CODES = [
    Code("Motivations", [Code("Funding", [Code("Matched funding")]), Code("Visibility")]),
    Code("Challenges", [Code("Language")]),
]
TEXT_A = "Q1 Why? We had matched funding from both councils. Also visibility abroad."
TEXT_B = "Translation took months. Publishing in English is hard."
SOURCES = [
    Source(
        "Interview A",
        "UK-R1",
        TEXT_A,
        [(8, 50, "Matched funding"), (51, 74, "Visibility"), (8, 50, "Funding")],
    ),
    Source("Interview B", "MC-DF1", TEXT_B, [(0, 24, "Language"), (25, 55, "Language")]),
]
SUMMARY = pl.DataFrame(
    {
        "stratum": ["UK-R", "MC-DF"],
        "country": ["GBR", "CHN"],
        "tier": ["russell-group", "double-first-class"],
        "tier_not": [None, None],
        "invitee_codes": ["UK-R1 UK-R2", "MC-DF1 MC-DF2"],
        "reserve_codes": ["UK-R3", ""],
    }
)
PARTICIPANTS = (
    "code,name,e-mail,stratum,role,country,mode,date invited,date answered\n"
    "UK-R1,Jane Secretname,jane@secret.example,,Dean,GBR,Face to face,2024-01-01,2024-01-11\n"
    "UK-R2,Joe Hiddenname,joe@secret.example,,Professor,GBR,email,2024-01-01,\n"
    "MC-DF1,Li Concealed,li@secret.example,,Professor,CHN,WeChat,2024-01-02,2024-01-04\n"
    "X-1,Outside Person,x@secret.example,,Vice-president,AUS,e-mail,2024-01-03,2024-01-09\n"
)


def _participants(tmp_path: Path, text: str = PARTICIPANTS) -> Path:
    path = tmp_path / "participants.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _qdpx(tmp_path: Path, embed: bool = False, **changes: object) -> Path:
    variables = {"UK-R1": {"Role": "Dean"}, "MC-DF1": {"Country": "CHN"}}
    return write_qdpx(tmp_path / "p.qdpx", "t", CODES, SOURCES, variables, embed, **changes)


def _indicators() -> dict[str, pl.DataFrame]:
    periods = {"granularity": ["period"] * 2, "period": ["P1", "P2"], "first_year": [2001, 2006]}
    collab = pl.DataFrame(
        {
            "dataset": ["uk", "uk", "cn", "cn"],
            "focal": ["GBR", "GBR", "CHN", "CHN"],
            **{k: v * 2 for k, v in periods.items()},
            "papers": [10, 20, 30, 40],
            "icp_share": [0.5, 0.6, 0.25, 0.2],
            "lead_share": [0.4, 0.45, 0.7, 0.5],
        }
    )
    pairs = pl.DataFrame(
        {
            "dataset": ["pair", "pair"],
            "focal": ["CHN+GBR"] * 2,
            **periods,
            "papers": [4, 8],
            "x_led_share": [0.75, 0.5],
            "y_led_share": [0.25, 0.375],
        }
    )
    funders = pl.DataFrame(
        {
            "dataset": ["uk", "uk", "uk", "cn"],
            "granularity": ["period"] * 4,
            "period": ["P1", "P2", "P2", "P2"],
            "first_year": [2001, 2006, 2006, 2006],
            "rank": [1, 1, 2, 1],
            "funder_name": ["Old", "ESRC", "British Academy", "NSFC"],
            "funder_country": ["GBR", "GBR", "GBR", "CHN"],
            "records": [1, 5, 2, 12],
            "share": [0.1, 0.25, 0.1, 0.3],
        }
    )
    return {"collaboration": collab, "pair_leads": pairs, "funders": funders}


def _tables(tmp_path: Path, segments: list[Path] | None = None) -> dict[str, pl.DataFrame]:
    return qualitative_tables(
        _participants(tmp_path),
        segments or [_qdpx(tmp_path)],
        SUMMARY,
        _indicators(),
        ["CHN", "GBR"],
        "",
        2,
        {"GBR": "United Kingdom", "CHN": "China", "AUS": "Australia"},
    )


# --- REFI-QDA ------------------------------------------------------------------------------------
@pytest.mark.parametrize("embed", [False, True])
def test_qdpx_segments_codes_and_case_variables(tmp_path: Path, embed: bool) -> None:
    project = read_qdpx(_qdpx(tmp_path, embed))
    segments = project.segments.select("participant", "code", "parent", "excerpt")
    assert sorted(segments.rows()) == [
        ("MC-DF1", "Language", "Challenges", "Publishing in English is hard."),
        ("MC-DF1", "Language", "Challenges", "Translation took months."),
        ("UK-R1", "Funding", "Motivations", "We had matched funding from both councils."),
        ("UK-R1", "Matched funding", "Funding", "We had matched funding from both councils."),
        ("UK-R1", "Visibility", "Motivations", "Also visibility abroad."),
    ]
    assert dict(project.codes.iter_rows()) == {
        "Motivations": None,
        "Funding": "Motivations",
        "Matched funding": "Funding",
        "Visibility": "Motivations",
        "Challenges": None,
        "Language": "Challenges",
    }
    assert sorted(project.variables.rows()) == [
        ("MC-DF1", "Country", "CHN"),
        ("UK-R1", "Role", "Dean"),
    ]
    if not embed:
        with zipfile.ZipFile(tmp_path / "p.qdpx") as archive:
            assert sum(n.startswith("sources/") for n in archive.namelist()) == 2


def test_qdpx_bytes_are_deterministic(tmp_path: Path) -> None:
    first = _qdpx(tmp_path).read_bytes()
    assert _qdpx(tmp_path).read_bytes() == first


def _broken(tmp_path: Path, qde: str | bytes) -> Path:
    data = qde.encode("utf-8") if isinstance(qde, str) else qde
    return write_qdpx(tmp_path / "bad.qdpx", "t", [], [], embed=True, qde=data)


GOOD_XML = project_xml("t", CODES, SOURCES, {}, embed=True).decode("utf-8")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: (d / "x.qdpx").write_text("plain text") and d / "x.qdpx", "is not one"),
        (lambda d: _zip(d, {"other.xml": b"<a/>"}), "no project.qde"),
        (lambda d: _broken(d, GOOD_XML.replace("</Project>", "")), "bad XML"),
        (lambda d: _broken(d, "<Project xmlns='urn:other'/>"), "not a Project in namespace"),
        (
            lambda d: _broken(
                d, GOOD_XML.replace(guid("t", "code", "/Challenges", "Language"), "deadbeef", 1)
            ),
            "is coded with CodeRef",
        ),
        (
            lambda d: _broken(d, GOOD_XML.replace('endPosition="55"', 'endPosition="99"')),
            "characters 25-99, outside the text (55 characters)",
        ),
        (
            lambda d: _broken(d, GOOD_XML.replace('name="Visibility"', 'name="Language"')),
            "duplicate code 'Language'",
        ),
        (
            lambda d: write_qdpx(
                d / "p.qdpx",
                "t",
                CODES,
                SOURCES,
                qde=project_xml("t", CODES, SOURCES, {}).replace(b"internal://", b"internal://x"),
            ),
            "not in the zip",
        ),
    ],
    ids=["not-zip", "no-qde", "bad-xml", "namespace", "coderef", "outside", "duplicate", "path"],
)
def test_malformed_projects_name_the_file_and_the_problem(tmp_path: Path, make, message) -> None:
    path = make(tmp_path)
    with pytest.raises(UserInputError) as error:
        read_qdpx(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def _zip(directory: Path, members: dict[str, bytes]) -> Path:
    path = directory / "z.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_bad_xml_names_its_line(tmp_path: Path) -> None:
    broken = GOOD_XML.replace("<Sources>", "<Sources><Oops>", 1)
    line = broken.splitlines().index(next(x for x in broken.splitlines() if "<Oops>" in x)) + 1
    with pytest.raises(UserInputError, match=r"project.qde\), line \d+: bad XML") as error:
        read_qdpx(_broken(tmp_path, broken))
    assert error.value.line is not None and error.value.line >= line
    assert NS in GOOD_XML


# --- sheets --------------------------------------------------------------------------------------
def test_participants_sheet_drops_names_and_normalises_modes(tmp_path: Path) -> None:
    frame = read_participants(_participants(tmp_path))
    assert "name" not in frame.columns and "e-mail" not in frame.columns
    assert frame["mode"].to_list() == ["face-to-face", "e-mail", "wechat", "e-mail"]
    assert frame["line"].to_list() == [2, 3, 4, 5]


def test_participants_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "p.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for i, line in enumerate(PARTICIPANTS.splitlines()):
        sheet.write_row(i, 0, line.split(","))
    book.close()
    frame = read_participants(path)
    assert frame["participant"].to_list() == ["UK-R1", "UK-R2", "MC-DF1", "X-1"]
    assert frame["answered"].to_list()[1] is None
    assert str(frame["invited"][0]) == "2024-01-01"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("code,role\nUK-R1,Dean\n", "missing column(s) country"),
        (
            "code,role,country\nUK-R1,Dean,GBR\nUK-R1,Dean,GBR\n",
            "line 3: participant UK-R1 is listed twice",
        ),
        (
            "code,role,country\nJane Doe,Dean,GBR\n",
            "line 2: participant code 'Jane Doe' is not a code",
        ),
        ("code,role,country,mode\nUK-R1,Dean,GBR,pigeon\n", "line 2: mode 'pigeon'"),
        (
            "code,role,country,invited\nUK-R1,Dean,GBR,yesterday\n",
            "line 2: invited 'yesterday' is not a date",
        ),
        (
            "code,role,country,invited,answered\nUK-R1,Dean,GBR,2024-02-01,2024-01-01\n",
            "answered (2024-01-01) before being invited",
        ),
    ],
)
def test_bad_participant_sheets(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserInputError) as error:
        read_participants(_participants(tmp_path, text))
    assert message in str(error.value) and "participants.csv" in str(error.value)


def test_segment_sheet_lines(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "Participant,Question,Code,Theme,Excerpt\n"
        "UK-R1,Q1,Funding,Motivations,We had money.\n"
        ",,,,\n"
        "MC-DF1,Q2,Language,,Hard.\n"
    )
    frame = read_segment_sheet(path)
    assert frame.select("segment_id", "location", "parent").rows() == [
        ("s.csv:000002", "line 2", "Motivations"),
        ("s.csv:000004", "line 4", None),
    ]


# --- tables --------------------------------------------------------------------------------------
def test_hierarchy_paths_and_errors() -> None:
    pairs = pl.DataFrame(
        {
            "code": ["c", "b", "x"],
            "parent": ["b", "a", None],
            "file": ["f"] * 3,
            "location": ["line 2", "line 3", "line 4"],
        }
    )
    tree = analysis.hierarchy(pairs).sort("code")
    assert tree.select("code", "theme", "level", "path").rows() == [
        ("a", "a", 0, "a"),
        ("b", "a", 1, "a > b"),
        ("c", "a", 2, "a > b > c"),
        ("x", "x", 0, "x"),
    ]
    two = pairs.vstack(
        pl.DataFrame({"code": ["c"], "parent": ["x"], "file": ["f"], "location": ["line 9"]})
    )
    with pytest.raises(
        UserInputError, match=r"code 'c' has two parents: 'b' \(f, line 2\) and 'x' \(line 9\)"
    ):
        analysis.hierarchy(two)
    cycle = pl.DataFrame(
        {"code": ["a", "b"], "parent": ["b", "a"], "file": ["f"] * 2, "location": ["1", "2"]}
    )
    with pytest.raises(UserInputError, match="cycle"):
        analysis.hierarchy(cycle)


def test_tables_of_a_small_study(tmp_path: Path) -> None:
    t = _tables(tmp_path)
    people = t["participants"]
    assert people.select(
        "participant", "stratum", "from_pool", "drawn_as", "respondent", "response_days", "segments"
    ).rows() == [
        ("MC-DF1", "MC-DF", True, "invitee", True, 2, 2),
        ("UK-R1", "UK-R", True, "invitee", True, 10, 3),
        ("UK-R2", "UK-R", True, "invitee", False, None, 0),
        ("X-1", analysis.OUTSIDE_POOL, False, None, True, 6, 0),
    ]
    codebook = {
        r["path"]: (r["segments"], r["direct_segments"], r["participants"])
        for r in t["codebook"].iter_rows(named=True)
    }
    assert codebook == {
        "Motivations": (3, 0, 1),
        "Motivations > Funding": (2, 1, 1),
        "Motivations > Funding > Matched funding": (1, 1, 1),
        "Motivations > Visibility": (1, 1, 1),
        "Challenges": (2, 0, 1),
        "Challenges > Language": (2, 2, 1),
    }
    matrix = t["theme_matrix"].filter(pl.col("dimension") == "stratum")
    assert matrix.select("group", "theme", "respondents", "participants", "share").rows() == [
        ("(outside the pool)", "Challenges", 1, 0, 0.0),
        ("(outside the pool)", "Motivations", 1, 0, 0.0),
        ("MC-DF", "Challenges", 1, 1, 1.0),
        ("MC-DF", "Motivations", 1, 0, 0.0),
        ("UK-R", "Challenges", 1, 0, 0.0),
        ("UK-R", "Motivations", 1, 1, 1.0),
    ]
    by_country = t["theme_matrix"].filter(pl.col("dimension") == "country")
    assert sorted(by_country["group"].unique().to_list()) == ["AUS", "CHN", "GBR"]
    times = {r["mode"]: r for r in t["response_times"].iter_rows(named=True)}
    assert (
        times["e-mail"]["invited"],
        times["e-mail"]["answered"],
        times["e-mail"]["response_rate"],
    ) == (2, 1, 0.5)
    assert times["e-mail"]["median_days"] == 6.0 and times["face-to-face"]["max_days"] == 10
    assert t["respondents"].rows() == [
        ("Dean", "GBR", 1, 1),
        ("Professor", "CHN", 1, 1),
        ("Professor", "GBR", 1, 0),
        ("Vice-president", "AUS", 1, 1),
    ]
    quotes = t["quotes"]
    assert quotes.select("theme", "rank", "participant", "attribution").rows() == [
        ("Challenges", 1, "MC-DF1", "MC-DF1, Professor, China"),
        ("Motivations", 1, "UK-R1", "UK-R1, Dean, United Kingdom"),
    ]
    assert quotes["excerpt"][1] == "We had matched funding from both councils."


def test_no_name_or_email_reaches_any_table(tmp_path: Path) -> None:
    tables = _tables(tmp_path)
    for name, frame in tables.items():
        text = frame.write_csv()
        for secret in ("Secretname", "Hiddenname", "Concealed", "Outside Person", "secret.example"):
            assert secret not in text, (name, secret)


def test_joint_display_and_findings(tmp_path: Path) -> None:
    t = _tables(tmp_path)
    rows = {r["stratum"]: r for r in t["joint_display"].iter_rows(named=True)}
    uk = rows["UK-R"]
    assert uk["definition"] == "GBR, tier russell-group"
    assert (uk["icp_share_dataset"], uk["icp_share_first"], uk["icp_share_last"]) == (
        "uk",
        0.5,
        0.6,
    )
    assert uk["icp_share_trend"] == "P1 50.0% → P2 60.0%"
    assert uk["pair_lead_share_trend"] == "P1 25.0% → P2 37.5%"
    assert uk["top_funders"] == "ESRC (5 records, 25.0%); British Academy (2 records, 10.0%)"
    assert uk["themes"] == "Motivations (1/1)" and uk["respondents"] == 1
    assert rows["MC-DF"]["pair_lead_share_last"] == 0.5
    assert rows[analysis.OUTSIDE_POOL]["icp_share_trend"] is None
    assert t["joint_display"]["stratum"].to_list() == ["UK-R", "MC-DF", analysis.OUTSIDE_POOL]
    quant = t["findings_quantitative"]
    got = {
        r["measure"]: (r["first_value"], r["last_value"], r["change"])
        for r in quant.iter_rows(named=True)
    }
    assert got["China-participated papers"] == (30.0, 40.0, 10.0)
    assert got["China–United Kingdom papers led by United Kingdom"] == (0.25, 0.375, 0.125)
    assert got["Leading funder of GBR (ESRC)"][1] == 0.25
    qual = t["findings_qualitative"]
    assert qual.select("theme", "participants", "respondents", "by_stratum").rows() == [
        ("Challenges", 1, 3, "MC-DF 1/1"),
        ("Motivations", 1, 3, "UK-R 1/1"),
    ]


def test_dataset_choice_prefers_the_named_dataset() -> None:
    frame = _indicators()["collaboration"]
    assert joint.choose_dataset(frame, ["focal"], "uk")["dataset"].unique().to_list() == ["uk"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("UK-R1,", "UK-R9,", "UK-R9 has the form of a sampling code"),
        (",,Dean,GBR", ",MC-DF,Dean,GBR", "UK-R1 is in stratum UK-R of the draw, not 'MC-DF'"),
        (",,Professor,CHN", ",,Dean,CHN", "MC-DF1: role is 'Dean' here but 'Professor'"),
    ],
    ids=["stray-sampling-code", "stratum-clash", "case-variable-clash"],
)
def test_participants_against_the_draw_and_the_project(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    variables = {"MC-DF1": {"Role": "Professor"}}
    project = write_qdpx(tmp_path / "v.qdpx", "t", CODES, SOURCES, variables)
    sheet = _participants(tmp_path, PARTICIPANTS.replace(old, new, 1))
    with pytest.raises(UserInputError) as error:
        qualitative_tables(sheet, [project], SUMMARY, _indicators(), ["CHN", "GBR"], "", 2, {})
    assert message in str(error.value) and "participants.csv" in str(error.value)


def test_segment_of_an_unknown_participant(tmp_path: Path) -> None:
    sheet = tmp_path / "segments.csv"
    sheet.write_text(
        "participant,code,theme,excerpt\nUK-R1,Funding,Motivations,Money.\nZZ-9,Funding,Motivations,Who?\n"
    )
    with pytest.raises(UserInputError) as error:
        _tables(tmp_path, [sheet])
    assert str(error.value).startswith(
        f"{sheet}: line 3: participant 'ZZ-9' is not in the participants sheet"
    )


def test_example_csv_and_qdpx_give_the_same_tables() -> None:
    args = (SUMMARY_EXAMPLE, _indicators(), ["CHN", "GBR"], "", 2, {})
    from_csv = qualitative_tables(EXAMPLE / "participants.csv", [EXAMPLE / "segments.csv"], *args)
    from_qdpx = qualitative_tables(EXAMPLE / "participants.csv", [EXAMPLE / "coding.qdpx"], *args)
    for name in (
        "participants",
        "codebook",
        "theme_matrix",
        "respondents",
        "response_times",
        "findings_qualitative",
    ):
        assert from_csv[name].equals(from_qdpx[name]), name
    assert from_csv["quotes"].drop("segment_id").equals(from_qdpx["quotes"].drop("segment_id"))
    people = from_csv["participants"]
    assert people.height == 13 and int(people["respondent"].sum()) == 12
    assert int((~people["from_pool"]).sum()) == 2
    assert from_csv["codebook"].filter(pl.col("is_theme")).height == 5


SUMMARY_EXAMPLE = pl.DataFrame(
    {
        "stratum": ["UK-R", "UK-NR", "MC-DF", "MC-NDF"],
        "country": ["GBR", "GBR", "CHN", "CHN"],
        "tier": ["russell-group", None, "double-first-class", None],
        "tier_not": [None, "russell-group", None, "double-first-class"],
        "invitee_codes": [
            " ".join(f"{s}{i}" for i in range(1, 6)) for s in ("UK-R", "UK-NR", "MC-DF", "MC-NDF")
        ],
        "reserve_codes": [
            " ".join(f"{s}{i}" for i in range(6, 9)) for s in ("UK-R", "UK-NR", "MC-DF", "MC-NDF")
        ],
    }
)


def test_participants_xlsx_with_date_cells_and_extra_columns(tmp_path: Path) -> None:
    import datetime as dt

    path = tmp_path / "dates.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet, day = book.add_worksheet(), book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, ["Participant code", "Role", "Country", "Mode", "Invited", "Answered"])
    sheet.write_row(0, 6, ["Name", "Email"])
    sheet.write_row(1, 0, ["MC-NDF2", "Dean", "CHN", "WeChat"])
    sheet.write_datetime(1, 4, dt.datetime(2024, 3, 1), day)
    sheet.write_datetime(1, 5, dt.datetime(2024, 3, 9), day)
    sheet.write_row(1, 6, ["A Secret", "a@secret.example"])
    book.close()
    frame = read_participants(path)
    assert frame.drop("file").rows() == [
        (2, "MC-NDF2", None, "Dean", "CHN", "wechat", dt.date(2024, 3, 1), dt.date(2024, 3, 9))
    ]


def test_report_sections_from_the_tables_and_none_without_them(tmp_path: Path) -> None:
    from collabscope import schemas
    from collabscope.report import qualitative as report
    from collabscope.report.render import render_html, render_markdown
    from collabscope.tableio import write_table

    assert report.sections({"countries": "x.csv"}, {"qualitative": {}}) == ()
    tables = {}
    for table in schemas.QUALITATIVE_TABLES:
        path = tmp_path / f"{table.name}.parquet"
        write_table(_tables(tmp_path)[table.name], table, path)
        tables[f"qualitative_{table.name}"] = path
    sections = report.sections(tables, {"qualitative": {"matrix_by": "role"}})
    assert [s.id for s in sections] == [
        "qualitative",
        "qualitative_themes",
        "qualitative_quotes",
        "joint_display",
        "findings_summary",
    ]
    matrix = next(b for b in sections[1].blocks if b.id == "qual_themes_by_role")
    assert [c.label for c in matrix.columns] == [
        "Theme",
        "All",
        "Dean (n=1)",
        "Professor (n=1)",
        "Vice-president (n=1)",
    ]
    assert matrix.rows == (("Challenges", 1, 0.0, 1.0, 0.0), ("Motivations", 1, 1.0, 0.0, 0.0))
    from collabscope.report.model import ReportContext, Study

    context = ReportContext("T", "0", Study("T", (), ()), sections)
    html, markdown = render_html(context), render_markdown(context)
    assert (
        "<blockquote><p>Publishing in English is hard.</p><footer>— MC-DF1, Professor, China"
        in html
    )
    assert "> — UK-R1, Dean, United Kingdom (Funding)" in markdown
    assert "Secretname" not in html + markdown
