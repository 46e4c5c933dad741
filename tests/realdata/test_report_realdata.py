"""The report of a small study made of real Web of Science exports (../shared/realdata).

Six real files (plain and tab-delimited, the ones with the most China addresses) as two
datasets, through the whole workflow: the report is written; its datasets, accounting and
records per country equal the tables; the China count equals the manifest's China-address
count; and the page loads in headless Chromium with every image and no console message.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest
import yaml

from collabscope.report.model import FIGURES
from tests.conftest import PROJECT
from tests.integration import chromium
from tests.integration.test_report import _html_tables, _number
from tests.workflow.helpers import normalised_addresses, snakemake

pytestmark = [pytest.mark.realdata, pytest.mark.workflow]
FILES = {
    "plain": [
        "wos_plain/PythonnotJava__WOSAnalysis__src__1.9.txt",
        "wos_plain/xzy11239__bibliometrics-project__data__raw__data_4.txt",
        "wos_plain/globe2060org__data-availability-review2025__savedrecs__1_.txt",
        "wos_plain/wo1dnr5__wos-bibliometrics__savedrecs.txt",
    ],
    "tab": [
        "wos_tab/Lin1Xiao2Zhou3__VOS-CiteSpace-Datasets__cite__savedrecs1.txt",
        "wos_tab/AJHetherwickLBL__Web_Of_Science_Query__savedrecs__2_.txt",
    ],
}


@pytest.fixture(scope="module")
def run(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("real-report")
    datasets = {
        name: {"exports": [str(realdata / f) for f in files], "description": f"real {name}"}
        for name, files in FILES.items()
    }
    config = {"study": {"title": "Real exports"}, "datasets": datasets}
    (directory / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    result = snakemake(directory, "--cores", "2", timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    return directory


def test_report_numbers_equal_the_tables_and_the_manifest(realdata: Path, run: Path) -> None:
    tables = _html_tables(run)
    results = run / "results"
    datasets = pl.read_parquet(results / "tables" / "datasets.parquet")
    shown = {r[0]: _number(r[4]) for r in tables["datasets"]["body"]}
    assert shown == dict(datasets.select("dataset", "records").iter_rows())
    with open(realdata / "MANIFEST.tsv", encoding="utf-8", newline="") as handle:
        manifest = {
            r["file"]: r for r in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        }
    files = [f for group in FILES.values() for f in group]
    assert sum(shown.values()) == sum(int(manifest[f]["records"]) for f in files)
    # The manifest counts records with a China address (C1, else reprint); the report counts
    # records with a C1 affiliation in mainland China: at most as many, and nearly all.
    effect = {r[0]: [_number(c) for c in r[2:]] for r in tables["country_policy_effect"]["body"]}
    china_manifest = sum(int(manifest[f]["n_china_addr"]) for f in files)
    assert 0.9 * china_manifest <= effect["CHN"][3] <= china_manifest
    addresses = normalised_addresses(results)
    chn = addresses.filter(pl.col("kind") == "affiliation", pl.col("country") == "CHN")
    assert effect["CHN"][3] == chn["record_id"].n_unique()


def test_real_report_loads_in_chromium(run: Path) -> None:
    browser = chromium.find()
    if browser is None:
        pytest.skip("Chromium is not installed: the real-data report was not checked in a browser")
    state = chromium.load(browser, run / "results" / "report" / "index.html")
    assert state.console == [] and state.errors == [] and state.scripts == 0
    assert len(state.images) == len(FIGURES)
    assert all(i["complete"] and i["width"] > 300 for i in state.images), state.images
    shots = PROJECT / "results" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page = run / "results" / "report" / "index.html"
    chromium.screenshot(
        browser, page, shots / "report-realdata.png", 1280, min(state.height, 16000)
    )
