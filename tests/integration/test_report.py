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
import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
import yaml

from collabscope.report import render
from collabscope.report.model import Column, Section, table_block
from tests.conftest import PROJECT
from tests.integration import chromium
from tests.workflow.helpers import snakemake

pytestmark = pytest.mark.workflow
SCRIPT_TITLE = "<script>alert(1)</script>"
IMG_TITLE = "<img src=x onerror=alert(1)>"
REPORT_FILES = [
    "index.html",
    "report.md",
    "tables.xlsx",
    *(f"figures/{n}.{e}" for n in render.FIGURES for e in ("png", "svg")),
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
    addresses = pl.read_parquet(run / "results" / "normalised" / "addresses.parquet")
    funding = pl.read_parquet(run / "results" / "normalised" / "funding.parquet")
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
    records = pl.read_parquet(run / "results" / "tables" / "records.parquet")
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


def _hostile_page(run: Path, out: Path) -> Path:
    """The real report plus a section listing the example's titles that hold markup: the way
    the indicator sections (highly cited papers) will show titles."""
    results = run / "results"
    records = pl.read_parquet(results / "tables" / "records.parquet")
    hostile = records.filter(pl.col("title").str.contains("<", literal=True)).sort("record_id")
    inputs = {
        n: results / "tables" / f"{n}.parquet"
        for n in ("datasets", "accounting", "quarantine", "records", "dataset_records")
    }
    inputs |= {
        "addresses": results / "normalised" / "addresses.parquet",
        "funding": results / "normalised" / "funding.parquet",
        "unmatched": results / "review" / "affiliations_unmatched.csv",
        "low_confidence": results / "review" / "affiliations_low_confidence.csv",
        "funder_review": results / "review" / "funders.csv",
        "countries": PROJECT / "resources" / "countries" / "countries.csv",
    }
    config = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    context = render.build_context(inputs, config, out / "figures")
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
    records = pl.read_parquet(run / "results" / "tables" / "records.parquet")
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
    assert html.count("<img ") == len(render.FIGURES)  # the figures, nothing else
    # The report itself, as the workflow wrote it, holds no script at all.
    real = (run / "results" / "report" / "index.html").read_text(encoding="utf-8")
    assert "<script" not in real and real.count("<img ") == len(render.FIGURES)


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
    assert len(state.images) == len(render.FIGURES)
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
    assert state.scripts == 0 and len(state.images) == len(render.FIGURES)
    assert SCRIPT_TITLE in state.text and IMG_TITLE in state.text  # shown, as text
