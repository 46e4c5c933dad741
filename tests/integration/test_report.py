"""The report of the bundled example, as a reader and as Snakemake see it.

One run of the example workflow; then: the report's files are written and byte-identical when
the report rule runs again; `snakemake --report` packs them; the numbers in the page, the
Markdown and the workbook equal the tables they come from (read independently here); the
titles holding markup in the example show as text; and the page, loaded in headless Chromium,
has every image loaded and no console message.
"""

from __future__ import annotations

import csv
import hashlib
import html
import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
import yaml

from collabscope import schemas
from collabscope.report import render
from collabscope.report.figures import FigureWriter
from collabscope.report.model import FIGURES, Column, Section, table_block
from collabscope.tableio import scan_table, table_path
from tests.conftest import PROJECT
from tests.integration import chromium
from tests.workflow.helpers import normalised_addresses, normalised_funding, read_table, snakemake

pytestmark = pytest.mark.workflow
SCRIPT_TITLE = "<script>alert(1)</script>"
IMG_TITLE = "<img src=x onerror=alert(1)>"
REPORT_FILES = [
    "index.html",
    "report.md",
    "tables.xlsx",
    *(f"figures/{n}.{e}" for n in FIGURES for e in ("png", "svg")),
]
SCREENSHOTS = PROJECT / "results" / "screenshots"  # kept for a person to look at


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("report")
    (directory / "resources").symlink_to(PROJECT / "resources")
    shutil.copy(PROJECT / "config" / "config.yaml", directory / "config.yaml")
    result = snakemake(directory, "--cores", "2", timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return directory


def _digests(report: Path) -> dict[str, str]:
    return {name: hashlib.sha256((report / name).read_bytes()).hexdigest() for name in REPORT_FILES}


def test_report_files_are_written_and_identical_when_rendered_again(run: Path) -> None:
    report = run / "results" / "report"
    first = _digests(report)
    result = snakemake(run, "--cores", "1", "--forcerun", "render_report")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "render_report" in result.stderr
    assert _digests(report) == first


def test_snakemake_report_packs_the_deliverables(run: Path) -> None:
    result = snakemake(run, "--report", "snakemake-report.zip")
    assert result.returncode == 0, result.stderr[-3000:]
    with zipfile.ZipFile(run / "snakemake-report.zip") as archive:
        names = archive.namelist()
    for name in REPORT_FILES:
        assert any(n.endswith("/" + Path(name).name) for n in names), name
    assert any(n.endswith("/report.html") for n in names)


# ---------------------------------------------------------------- numbers equal their tables


class _Tables(HTMLParser):
    """Cell texts of every <table data-table=...>: {id: {"body": rows, "foot": rows}}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, list[list[str]]]] = {}
        self.current: str | None = None
        self.part = "head"
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.current = dict(attrs)["data-table"]
            self.tables[self.current or ""] = {"body": [], "foot": []}
        elif tag in ("thead", "tbody", "tfoot"):
            self.part = {"thead": "head", "tbody": "body", "tfoot": "foot"}[tag]
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append("".join(self.cell))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.current and self.part != "head":
                self.tables[self.current][self.part].append(self.row)
            self.row = None
        elif tag == "table":
            self.current = None


def _html_tables(run: Path) -> dict[str, dict[str, list[list[str]]]]:
    parser = _Tables()
    parser.feed((run / "results" / "report" / "index.html").read_text(encoding="utf-8"))
    return parser.tables


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _sheet(workbook: Path, name: str) -> list[list[object]]:
    """Rows of one sheet (strings and numbers), read from the workbook's XML."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    with zipfile.ZipFile(workbook) as book:
        strings = [
            "".join(t.text or "" for t in si.iter(f"{{{ns['m']}}}t"))
            for si in ET.fromstring(book.read("xl/sharedStrings.xml")).findall("m:si", ns)
        ]
        sheets = ET.fromstring(book.read("xl/workbook.xml")).find("m:sheets", ns)
        assert sheets is not None
        ids = {s.get("name"): s.get(rel) for s in sheets}
        rels = ET.fromstring(book.read("xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target") for r in rels if r.get("Id") == ids[name])
        sheet = ET.fromstring(book.read(f"xl/{target}"))
    rows = []
    for row in sheet.iter(f"{{{ns['m']}}}row"):
        values: dict[int, object] = {}
        for cell in row.findall("m:c", ns):
            letters = re.match(r"[A-Z]+", cell.get("r", "")).group(0)  # type: ignore[union-attr]
            position = 0
            for letter in letters:
                position = position * 26 + ord(letter) - 64
            value = cell.find("m:v", ns)
            if value is None:
                values[position - 1] = None
            elif cell.get("t") == "s":
                values[position - 1] = strings[int(value.text or 0)]
            else:
                number = float(value.text or 0)
                values[position - 1] = int(number) if number.is_integer() else number
        width = max(values, default=-1) + 1
        rows.append([values.get(i) for i in range(width)])
    return rows


def test_datasets_and_accounting_in_the_page_equal_the_tables(run: Path) -> None:
    tables = _html_tables(run)
    datasets = pl.read_parquet(run / "results" / "tables" / "datasets.parquet")
    shown = {row[0]: (_number(row[3]), _number(row[4])) for row in tables["datasets"]["body"]}
    assert shown == {
        d: (f, r) for d, f, r in datasets.select("dataset", "n_files", "records").iter_rows()
    }
    assert shown["china_uk"] == (2, 270)  # the example's truth: 270 China–UK papers

    accounting = pl.read_parquet(run / "results" / "tables" / "accounting.parquet")
    columns = ["records_seen", "parsed", "duplicates", "quarantined", "stray_text"]
    files = {row[0]: [_number(c) for c in row[4:]] for row in tables["accounting_files"]["body"]}
    assert files == {
        row[0]: list(row[1:]) for row in accounting.select("file", *columns).iter_rows()
    }
    total = tables["accounting_files"]["foot"][0]
    assert [_number(c) for c in total[4:]] == [int(accounting[c].sum()) for c in columns]
    per_dataset: dict[str, list[int]] = {}
    for row in accounting.iter_rows(named=True):
        for name in row["datasets"]:
            sums = per_dataset.setdefault(name, [0] * (len(columns) + 1))
            sums[0] += 1
            for i, column in enumerate(columns, start=1):
                sums[i] += row[column]
    shown_datasets = {
        r[0]: [_number(c) for c in r[1:]] for r in tables["accounting_datasets"]["body"]
    }
    assert shown_datasets == per_dataset


def test_file_hashes_in_the_page_are_the_files_sha256(run: Path) -> None:
    rows = _html_tables(run)["input_files"]["body"]
    assert len(rows) == 10
    for file, size, digest in rows:
        data = (run / file).read_bytes()
        assert (_number(size), digest) == (len(data), hashlib.sha256(data).hexdigest())


def test_match_methods_and_policy_effect_equal_the_normalised_tables(run: Path) -> None:
    tables = _html_tables(run)
    addresses = normalised_addresses(run / "results")
    funding = normalised_funding(run / "results")
    for table, frame, column in (
        ("match_countries", addresses, "country_method"),
        ("match_institutions", addresses, "institution_method"),
        ("match_funders", funding, "funder_method"),
    ):
        expected = {}
        for method in frame[column].unique():
            rows = frame.filter(pl.col(column) == method)
            share = f"{100 * rows.height / frame.height:.1f}%"
            expected[method] = (rows.height, share, rows["record_id"].n_unique())
        shown = {r[0]: (_number(r[1]), r[2], _number(r[3])) for r in tables[table]["body"]}
        assert shown == expected, table
        assert _number(tables[table]["foot"][0][1]) == frame.height
    affiliations = addresses.filter(pl.col("kind") == "affiliation")
    effect = {r[0]: [_number(c) for c in r[2:]] for r in tables["country_policy_effect"]["body"]}
    for code in ("CHN", "GBR"):
        counted = affiliations.filter(pl.col("country") == code)
        recorded = counted.filter(pl.col("country_recorded") == code)
        assert effect[code] == [
            recorded.height,
            counted.height,
            recorded["record_id"].n_unique(),
            counted["record_id"].n_unique(),
        ], code
    alternatives = {
        (r[0], r[1]): (r[2], _number(r[3]), _number(r[4]))
        for r in tables["country_policy_alternatives"]["body"]
    }
    assert alternatives[("GBR", "separate")] == ("yes", effect["CHN"][3], effect["GBR"][3])
    greater_china = affiliations.filter(
        pl.col("country_recorded").is_in(["CHN", "HKG", "MAC", "TWN"])
    )["record_id"].n_unique()
    assert alternatives[("GBR", "fold_into_CHN")] == ("", greater_china, effect["GBR"][3])
    assert greater_china > effect["CHN"][3]
    assert alternatives[("separate", "separate")][2] == 0  # no address written plain 'UK'
    # Under the default policy every UK nation counts as GBR: nothing recorded as plain GBR.
    folded = {(r[0], r[1]): _number(r[2]) for r in tables["country_policy_folded"]["body"]}
    assert set(folded) == {(f"GBR-{n}", "GBR") for n in ("ENG", "SCT", "WLS", "NIR")}
    assert sum(folded.values()) == effect["GBR"][1]


def test_unmatched_organisations_are_the_review_queue_most_records_first(run: Path) -> None:
    with open(run / "results" / "review" / "affiliations_unmatched.csv", encoding="utf-8") as f:
        queue = list(csv.DictReader(f))
    queue.sort(key=lambda r: (-int(r["n_records"]), -int(r["n_addresses"]), r["organisation"]))
    rows = _html_tables(run)["unmatched_institutions"]["body"]
    assert len(rows) == 20 < len(queue)
    assert [(r[0], r[1], _number(r[2]), _number(r[3])) for r in rows] == [
        (q["organisation"], q["country_recorded"], int(q["n_records"]), int(q["n_addresses"]))
        for q in queue[:20]
    ]
    sheet = _sheet(run / "results" / "report" / "tables.xlsx", "unmatched_institutions")
    assert len(sheet) == len(queue) + 1  # every string in the workbook, not only the first 20


def test_workbook_and_markdown_hold_the_same_numbers(run: Path) -> None:
    report = run / "results" / "report"
    records = _records(run / "results")
    members = pl.read_parquet(run / "results" / "tables" / "dataset_records.parquet")
    per_year = members.join(records.select("record_id", "year"), on="record_id").filter(
        pl.col("dataset") == "china_uk"
    )
    sheet = _sheet(report / "tables.xlsx", "records_per_year")
    header = sheet[0]
    column = header.index("china_uk")
    by_year = {row[0]: (row + [None] * len(header))[column] for row in sheet[1:]}
    for year in range(2001, 2021):
        assert by_year[year] == per_year.filter(pl.col("year") == year).height, year
    assert by_year[2023] is None  # the China–UK corpus was not searched for 2023: a gap
    shares = _sheet(report / "tables.xlsx", "match_countries")
    assert shares[0] == ["Method", "Addresses", "Share", "Records"]
    assert abs(sum(row[2] for row in shares[1:-1]) - 1.0) < 1e-9  # fractions, not text

    markdown = (report / "report.md").read_text(encoding="utf-8")
    datasets = pl.read_parquet(run / "results" / "tables" / "datasets.parquet")
    for name, files, count in datasets.select("dataset", "n_files", "records").iter_rows():
        escaped = name.replace("_", "\\_")
        assert re.search(
            rf"^\| {re.escape(escaped)} \| .* \| {files} \| {count:,} \|$", markdown, re.M
        ), name


# ---------------------------------------------------------------- markup in titles is text


def _records(results: Path) -> pl.DataFrame:
    return scan_table(table_path(results / "tables", schemas.RECORDS), schemas.RECORDS).collect()


def _report_inputs(results: Path) -> dict[str, Path]:
    """render_report's inputs in a run's results folder."""
    inputs: dict[str, Path] = {
        n: table_path(results / "tables", schemas.BY_NAME[n])
        for n in ("datasets", "accounting", "quarantine", "records", "dataset_records")
    }
    inputs |= {
        "addresses": results / "normalised" / "addresses.parts.json",
        "funding": results / "normalised" / "funding.parts.json",
        "unmatched": results / "review" / "affiliations_unmatched.csv",
        "low_confidence": results / "review" / "affiliations_low_confidence.csv",
        "funder_review": results / "review" / "funders.csv",
        "countries": PROJECT / "resources" / "countries" / "countries.csv",
        "author_address": table_path(results / "tables", schemas.AUTHOR_ADDRESS),
        "sampling_summary": results / "sampling" / "summary.csv",
    }
    inputs |= {t.name: table_path(results / "tables", t) for t in schemas.CLASSIFIED_TABLES}
    inputs |= {t.name: results / "indicators" / f"{t.name}.parquet" for t in schemas.INDICATORS}
    return inputs


def _hostile_page(run: Path, out: Path) -> Path:
    """The real report plus a section listing the example's titles that hold markup: the way
    the indicator sections (highly cited papers) will show titles."""
    results = run / "results"
    records = _records(results)
    hostile = records.filter(pl.col("title").str.contains("<", literal=True)).sort("record_id")
    inputs = _report_inputs(results)
    config = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    with FigureWriter(out / "figures") as figure_writer:
        context = render.build_context(inputs, config, figure_writer)
    titles = table_block(
        "titles",
        "Titles",
        hostile,
        [
            Column("record_id", "Record", "code"),
            Column("title", "Title"),
            Column("year", "Year", "year"),
        ],
    )
    section = Section("titles", "Records with markup in their titles", (), (titles,))
    context = type(context)(
        context.title, context.version, context.study, (*context.sections, section)
    )
    (out / "index.html").write_text(render.render_html(context), encoding="utf-8")
    (out / "report.md").write_text(render.render_markdown(context), encoding="utf-8")
    return out / "index.html"


def test_example_titles_with_markup_show_as_text(run: Path, tmp_path: Path) -> None:
    records = _records(run / "results")
    hostile = records.filter(pl.col("title").str.contains("<", literal=True))
    assert hostile.height == 2
    assert any(SCRIPT_TITLE in t for t in hostile["title"])
    assert any(IMG_TITLE in t for t in hostile["title"])
    page = _hostile_page(run, tmp_path)
    html = page.read_text(encoding="utf-8")
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    for text in (html, markdown):
        assert "<script" not in text and "onerror=alert(1)>" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert html.count("<img ") == len(FIGURES)  # the figures, nothing else
    # The report itself, as the workflow wrote it, holds no script at all.
    real = (run / "results" / "report" / "index.html").read_text(encoding="utf-8")
    assert "<script" not in real and real.count("<img ") == len(FIGURES)


# ---------------------------------------------------------------- as a person sees it


@pytest.fixture(scope="module")
def browser() -> str:
    found = chromium.find()
    if found is None:
        pytest.skip(
            "Chromium is not installed (Debian package `chromium`; .ci/run installs it with "
            "apt-get when it can): the report was not checked in a browser"
        )
    return found


def test_page_loads_in_chromium_with_every_image_and_no_console_message(
    run: Path, browser: str
) -> None:
    page = run / "results" / "report" / "index.html"
    state = chromium.load(browser, page)
    assert state.console == []
    assert state.errors == []
    assert state.scripts == 0
    assert len(state.images) == len(FIGURES)
    for image in state.images:
        assert image["complete"] and image["width"] > 300 and image["height"] > 150, image
        assert image["alt"].startswith(("Line chart", "Horizontal bar chart")), image
    assert "Methods appendix" in state.text and "Normalisation audit" in state.text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = chromium.screenshot(
        browser, page, SCREENSHOTS / "report.png", 1280, min(state.height, 16000)
    )
    assert shot.stat().st_size > 50_000
    narrow_height = min(chromium.load(browser, page, width=420).height, 16000)
    narrow = chromium.screenshot(
        browser, page, SCREENSHOTS / "report-narrow.png", 420, narrow_height
    )
    assert narrow.stat().st_size > 10_000


def test_titles_with_markup_never_run_in_chromium(run: Path, browser: str, tmp_path: Path) -> None:
    page = _hostile_page(run, tmp_path)
    state = chromium.load(browser, page)
    assert state.errors == [] and state.console == []  # no alert, no failed <img src=x>
    assert state.scripts == 0 and len(state.images) == len(FIGURES)
    assert SCRIPT_TITLE in state.text and IMG_TITLE in state.text  # shown, as text


# ------------------------------------------- classification, indicators, sampling: numbers


def _indicator(run: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(run / "results" / "indicators" / f"{name}.parquet")


def _periods(frame: pl.DataFrame, **where: str) -> dict[str, dict[str, object]]:
    frame = frame.filter(pl.col("granularity") == "period")
    for column, value in where.items():
        frame = frame.filter(pl.col(column) == value)
    return {row["period"]: row for row in frame.iter_rows(named=True)}


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


PERIODS = ("2001–2005", "2006–2010", "2011–2015", "2016–2020")


def test_category_trees_equal_the_collaboration_indicators(run: Path) -> None:
    report = run / "results" / "report"
    html = (report / "index.html").read_text(encoding="utf-8")
    markdown = (report / "report.md").read_text(encoding="utf-8")
    years = pl.col("first_year").is_between(2001, 2020)
    collaboration = _indicator(run, "collaboration").filter(pl.col("granularity") == "year", years)
    chn = collaboration.filter(pl.col("dataset") == "china", pl.col("focal") == "CHN")
    n = {c: int(chn[c].sum()) for c in ("papers", "icp", "icp_x_led", "icp_other_led", "non_icp")}
    n |= {c: int(chn[c].sum()) for c in ("single_affiliation", "domestic_collaboration")}
    assert n["papers"] == 568 and n["icp"] + n["non_icp"] == n["papers"]
    tree = html.split('data-tree="tree_CHN"', 1)[1].split("</ul>\n</figure>", 1)[0]
    nodes = re.findall(
        r'<span class="label">([^<]*)</span> <span class="count">([\d,]+)</span>'
        r'(?: <span class="share">([\d.]+%)</span>)?',
        tree,
    )
    assert nodes[:7] == [
        ("China-participated papers", f"{n['papers']:,}", ""),
        ("Internationally collaborated (ICP)", str(n["icp"]), _pct(n["icp"] / n["papers"])),
        ("China-led", str(n["icp_x_led"]), _pct(n["icp_x_led"] / n["icp"])),
        ("Led by another country", str(n["icp_other_led"]), _pct(n["icp_other_led"] / n["icp"])),
        ("Not internationally collaborated", str(n["non_icp"]), _pct(n["non_icp"] / n["papers"])),
        (
            "Single affiliation",
            str(n["single_affiliation"]),
            _pct(n["single_affiliation"] / n["non_icp"]),
        ),
        (
            "Domestic collaboration",
            str(n["domestic_collaboration"]),
            _pct(n["domestic_collaboration"] / n["non_icp"]),
        ),
    ]
    assert f"\n  - Internationally collaborated (ICP): {n['icp']} (" in markdown
    assert f"\n    - China-led: {n['icp_x_led']} ({_pct(n['icp_x_led'] / n['icp'])})" in markdown
    pair = _indicator(run, "pair_leads").filter(
        pl.col("granularity") == "year", years, pl.col("dataset") == "china_uk"
    )
    total, x_led = int(pair["papers"].sum()), int(pair["x_led"].sum())
    assert total == 270
    assert f"\n- China–United Kingdom papers: {total}" in markdown
    assert f"\n  - China-led: {x_led} ({_pct(x_led / total)})" in markdown
    sheet = _sheet(report / "tables.xlsx", "tree_CHN_GBR")
    assert sheet[0] == ["Category", "Share of", "Papers", "Share of parent"]
    assert sheet[1][2] == total and sheet[2][2] == x_led
    assert abs(sheet[2][3] - x_led / total) < 1e-12  # a fraction with a % format, not text


def test_period_tables_equal_the_indicators(run: Path) -> None:
    tables = _html_tables(run)
    rows = _periods(_indicator(run, "collaboration"), dataset="uk", focal="GBR")
    shown = tables["collaboration_GBR"]["body"]
    assert [r[0] for r in shown] == list(PERIODS)
    for row in shown:
        want = rows[row[0]]
        assert [_number(c) for c in row[1:3]] == [want["papers"], want["icp"]]
        assert row[3] == _pct(want["icp_share"]) and row[6] == _pct(want["lead_share"])
    pair = _periods(_indicator(run, "pair_leads"), dataset="china_uk")
    for row in tables["pair_leads_CHN_GBR"]["body"]:
        want = pair[row[0]]
        assert [_number(row[1]), _number(row[2]), row[3]] == [
            want["papers"],
            want["x_led"],
            _pct(want["x_led_share"]),
        ]
    hcp = _periods(_indicator(run, "highly_cited"), dataset="china_uk", focal="CHN+GBR")
    for row in tables["highly_cited_CHN_GBR"]["body"]:
        want = hcp[row[0]]
        assert [_number(row[1]), _number(row[2]), row[3]] == [
            want["papers"],
            want["hcp"],
            _pct(want["hcp_rate"]),
        ]
    assert sum(_number(r[2]) for r in tables["highly_cited_CHN_GBR"]["body"]) == 7
    # The list of them: the example exports the ESI flag, so the flagged pair papers.
    results = run / "results" / "tables"
    pair_papers = read_table(results, schemas.PAPER_CLASSES).filter(
        pl.col("focal") == "CHN+GBR", pl.col("participated"), pl.col("year").is_between(2001, 2020)
    )
    china_uk = pl.read_parquet(results / "dataset_records.parquet").filter(
        pl.col("dataset") == "china_uk"
    )
    flagged = (
        _records(results.parent)
        .filter(pl.col("highly_cited").fill_null(False))
        .join(pair_papers, on="record_id", how="semi")
        .join(china_uk, on="record_id", how="semi")
    )
    listed = tables["highly_cited_papers_CHN_GBR"]["body"]
    assert {r[0] for r in listed} == set(flagged["record_id"]) and len(listed) == 7
    # Listed from the works compute_indicators judged highly cited, not judged again.
    judged = read_table(results, schemas.HIGHLY_CITED_WORKS)
    all_flagged = _records(results.parent).filter(pl.col("highly_cited").fill_null(False))
    assert set(judged.filter(pl.col("hcp_basis") == "esi")["record_id"]) == set(
        all_flagged["record_id"]
    )
    assert [_number(r[4]) for r in listed] == sorted(flagged["times_cited"], reverse=True)
    types = _indicator(run, "collaboration_types").filter(
        pl.col("granularity") == "period", pl.col("dataset") == "china", pl.col("focal") == "CHN"
    )
    for row in tables["collaboration_types_CHN"]["body"]:
        for i, period in enumerate(PERIODS):
            want = types.filter(pl.col("period") == period, pl.col("collab_type") == row[0])
            got = row[1 + 2 * i : 3 + 2 * i]
            expected = (
                ["", ""] if want.height == 0 else [str(want["papers"][0]), _pct(want["share"][0])]
            )
            assert got == expected, (row[0], period)
    partners = _indicator(run, "partners").filter(
        pl.col("granularity") == "period", pl.col("dataset") == "china", pl.col("focal") == "CHN"
    )
    for row in tables["partners_CHN"]["body"]:
        rank = _number(row[0])
        for i, period in enumerate(PERIODS):
            want = partners.filter(pl.col("period") == period, pl.col("rank") == rank)
            cells = row[1 + 3 * i : 4 + 3 * i]
            if want.height == 0:
                assert cells == ["", "", ""]
            else:
                w = want.row(0, named=True)
                assert cells == [w["partner"], str(w["records"]), _pct(w["share_of_icp"])]
    funding = _periods(_indicator(run, "funding_sources"), dataset="china_uk")
    for row in tables["funding_sources"]["body"]:
        if row[0] == "china_uk":
            want = funding[row[1]]
            assert _number(row[2]) == want["records"]
            assert row[3:8] == [
                _pct(want[c]) for c in ("funded_share", "by_x_share", "by_y_share", "by_both_share")
            ] + [_pct(want["by_others_only_share"])]
    rules = _periods(_indicator(run, "lead_rules"), dataset="world")
    for row in tables["lead_rules"]["body"]:
        if row[0] == "world":
            want = rules[row[1]]
            assert [_number(c) for c in (row[2], row[4], row[6])] == [
                want["records"],
                want["lead_fallback"],
                want["first_author_vs_reprint"],
            ]


def test_overall_citing_countries_are_counted_from_the_records(run: Path) -> None:
    tables = run / "results" / "tables"
    members = pl.read_parquet(tables / "dataset_records.parquet").filter(
        pl.col("dataset") == "citing"
    )
    years = _records(tables.parent).select("record_id", "year")
    citing = members.join(years, on="record_id").filter(pl.col("year").is_not_null())
    credit = read_table(tables, schemas.COUNTRY_CREDIT)
    counts = (
        citing.join(credit, on="record_id")
        .group_by("country")
        .agg(pl.len().alias("n"))
        .sort(["n", "country"], descending=[True, False])
        .head(10)
    )
    shown = _html_tables(run)["citing_citing_overall"]["body"]
    assert [(r[1], _number(r[2])) for r in shown] == list(counts.iter_rows())
    assert {_number(r[5]) for r in shown} == {citing.height}
    assert citing.height == 192  # citing papers after 2020 count too


def test_sampling_summary_is_the_public_csv_and_no_name_or_email_is_in_the_report(
    run: Path,
) -> None:
    results = run / "results"
    with open(results / "sampling" / "summary.csv", encoding="utf-8") as f:
        summary = list(csv.DictReader(f))
    shown = _html_tables(run)["sampling"]["body"]
    assert [(r[0], _number(r[4]), _number(r[9]), r[11]) for r in shown] == [
        (s["stratum"], int(s["in_pool"]), int(s["invitees"]), s["invitee_codes"]) for s in summary
    ]
    assert _number(_html_tables(run)["sampling"]["foot"][0][9]) == 20
    pool = pl.read_parquet(results / "private" / "pool.parquet")
    secrets = set(pool["emails"].explode().drop_nulls()) | set(pool["full_name"])
    secrets |= set(pool["full_names"].explode()) | set(pool["email"].drop_nulls())
    secrets |= set(pool["name"])
    assert len(secrets) > 1200
    report = results / "report"
    texts = {"index.html": (report / "index.html").read_text(encoding="utf-8")}
    texts["report.md"] = (report / "report.md").read_text(encoding="utf-8")
    with zipfile.ZipFile(report / "tables.xlsx") as book:  # compressed: read its XML
        texts["tables.xlsx"] = "".join(book.read(n).decode("utf-8") for n in book.namelist())
    for path in (report / "figures").iterdir():
        texts[path.name] = path.read_bytes().decode("utf-8", errors="replace")
    assert "UK-R1" in texts["tables.xlsx"] and "UK-R1" in texts["report.md"]
    found = {
        name: sorted(s for s in secrets if s.lower() in text.lower())[:5]
        for name, text in texts.items()
    }
    assert found == {name: [] for name in texts}


def test_findings_are_written_from_the_numbers(run: Path) -> None:
    html = (run / "results" / "report" / "index.html").read_text(encoding="utf-8")
    pair = _periods(_indicator(run, "pair_leads"), dataset="china_uk")
    first, last = pair[PERIODS[0]], pair[PERIODS[-1]]
    a, b = first["x_led"] / first["papers"], last["x_led"] / last["papers"]
    verb = "rose" if b > a else "fell"
    assert (
        f"The share of China-led papers among China–United Kingdom papers {verb} from "
        f"{_pct(a)} in {PERIODS[0]} to {_pct(b)} in {PERIODS[-1]}." in html
    )
    chn = _periods(_indicator(run, "collaboration"), dataset="china", focal="CHN")
    assert (
        f"The number of China-participated papers (dataset china) rose from "
        f"{chn[PERIODS[0]]['papers']} papers in {PERIODS[0]} to {chn[PERIODS[-1]]['papers']} "
        f"papers in {PERIODS[-1]}." in html
    )


def test_policy_class_changes_recount_the_records(run: Path) -> None:
    rows = _html_tables(run)["country_policy_classes"]["body"]
    changes = {(r[0], r[1], r[3]): [_number(c) for c in r[4:]] for r in rows}
    assert len(changes) == 4 * 3
    in_use = [r for r in rows if r[2] == "yes"]
    assert [(r[0], r[1]) for r in in_use] == [("GBR", "separate")] * 3
    assert all(changes[("GBR", "separate", k)] == [0, 0, 0] for k in ("CHN", "GBR", "CHN–GBR"))
    # Folding Hong Kong, Macau and Taiwan into CHN: a paper joins China's papers when one of
    # the addresses that count (C1, else reprint) is there and none is in mainland China.
    results = run / "results"
    addresses = normalised_addresses(results)
    has_c1 = (pl.col("kind") == "affiliation").any().over("record_id")
    counted = addresses.filter(
        (pl.col("kind") == "affiliation") | ((pl.col("kind") == "reprint") & ~has_c1)
    )
    greater = set(counted.filter(pl.col("country").is_in(["HKG", "MAC", "TWN"]))["record_id"])
    mainland = set(counted.filter(pl.col("country") == "CHN")["record_id"])
    joined = changes[("GBR", "fold_into_CHN", "CHN")][1]
    assert joined == len(greater - mainland) > 0
    # Keeping the UK nations apart leaves no paper in "GBR": every GBR paper leaves.
    classes = read_table(results / "tables", schemas.PAPER_CLASSES)
    gbr = classes.filter(pl.col("focal") == "GBR", pl.col("participated")).height
    assert changes[("separate", "separate", "GBR")] == [gbr, 0, gbr]


def _html_number(text: str) -> float | None:
    text = text.strip()
    if re.fullmatch(r"-?[\d,]+(\.\d+)?%", text):
        return float(text[:-1].replace(",", "")) / 100
    if re.fullmatch(r"-?[\d,]+(\.\d+)?", text):
        return float(text.replace(",", ""))
    return None


NEW_TABLES = (
    "collaboration_CHN",
    "collaboration_GBR",
    "pair_leads_CHN_GBR",
    "partners_CHN",
    "partners_GBR",
    "citing_citing_overall",
    "citing_citing_periods",
    "citing_by_cited",
    "highly_cited_CHN",
    "highly_cited_CHN_GBR",
    "highly_cited_papers_CHN_GBR",
    "collaboration_types_CHN",
    "funding_sources",
    "funders_top",
    "lead_rules",
    "sampling",
    "country_policy_classes",
    "outputs_trend",
    "world_share_trend",
    "icp_share_trend",
    "lead_share_trend",
    "pair_lead_trend",
)


def test_new_tables_hold_the_same_numbers_in_html_markdown_and_xlsx(run: Path) -> None:
    report = run / "results" / "report"
    html_tables = _html_tables(run)
    markdown = (report / "report.md").read_text(encoding="utf-8")
    md_rows = {
        tuple(
            html.unescape(c.strip().replace("\\", "")) for c in line.strip().strip("|").split("|")
        )
        for line in markdown.splitlines()
        if line.startswith("| ") and not line.startswith("| ---")
    }
    for name in NEW_TABLES:
        body = html_tables[name]["body"] + html_tables[name]["foot"]  # totals row too
        sheet = _sheet(report / "tables.xlsx", name)[1:]
        assert len(body) == len(sheet) > 0, name
        for html_row, xlsx_row in zip(body, sheet, strict=True):
            xlsx_row = xlsx_row + [None] * (len(html_row) - len(xlsx_row))
            for text, value in zip(html_row, xlsx_row, strict=True):
                number = _html_number(text)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    assert number is not None, (name, text, value)
                    step = 0.0005 if text.endswith("%") else 0.005 if "." in text else 0
                    assert abs(number - value) <= step + 1e-9, (name, text, value)
                elif value is None:
                    assert text == "", (name, text)
                else:
                    assert text == str(value), (name, text, value)
            md = tuple(c.replace("\\", "") for c in html_row)
            assert md in md_rows, (name, html_row)


def test_policy_classes_from_the_store_equal_those_computed(run: Path, tmp_path: Path) -> None:
    from collabscope.report import indicator_sections as sections

    results = run / "results"
    inputs = _report_inputs(results)
    config = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    names = render.sections.country_names(inputs["countries"])
    info = sections.load(inputs, render.sections.study(config, names), names)
    computed = sections.policy_classes_section(inputs, config, info)
    store = tmp_path / "store"
    assert sections.policy_classes_section(inputs, config, info, store) == computed
    stored = {p: p.stat().st_mtime_ns for p in store.glob("*.parquet")}
    assert len(stored) == len(list((results / "shards").iterdir()))  # one part per shard
    assert sections.policy_classes_section(inputs, config, info, store) == computed
    assert {p: p.stat().st_mtime_ns for p in store.glob("*.parquet")} == stored  # read, not redone
    changed = [r for r in computed.blocks[0].rows if r[2] != "yes" and r[4]]
    assert changed  # the example has UK nations and Hong Kong: some papers change class
