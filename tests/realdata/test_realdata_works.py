"""The CalCoRE__dse-citan query exported from Web of Science and from Scopus (../shared/realdata)
through the whole workflow: classification and indicators count each paper once.

146 WoS and 318 Scopus records, 141 of them the same paper (tests/realdata/test_realdata_merge.py):
323 works. paper_classes has one row per work and focal row, each work's countries are those of
the record the merge chose for its addresses, and each dataset's outputs count its works (a
dataset of both exports: 323, not 464).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml

from collabscope import schemas
from collabscope.tableio import scan_table, table_path
from tests.workflow.helpers import normalised_addresses, read_table, snakemake

pytestmark = [pytest.mark.realdata, pytest.mark.workflow]
WOS = "wos_plain/CalCoRE__dse-citan__data__wos.txt"
SCOPUS = "scopus_csv/CalCoRE__dse-citan__data__scopus.csv"
N_WOS, N_SCOPUS, N_BOTH = 146, 318, 141
N_WORKS = N_WOS + N_SCOPUS - N_BOTH


@pytest.fixture(scope="module")
def results(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("real-works")
    config = {
        "study": {"title": "CalCoRE, WoS and Scopus"},
        "datasets": {
            "wos": {"exports": [str(realdata / WOS)]},
            "scopus": {"exports": [str(realdata / SCOPUS)]},
            "both": {"exports": [str(realdata / WOS), str(realdata / SCOPUS)]},
        },
    }
    (directory / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    result = snakemake(directory, "--cores", "2", timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    return directory / "results"


def test_paper_classes_has_one_row_per_work(results: Path) -> None:
    tables = results / "tables"
    works = read_table(tables, schemas.WORKS)
    assert (works.height, works.filter("cross_source").height) == (N_WORKS, N_BOTH)
    classes = read_table(tables, schemas.PAPER_CLASSES)
    # CHN, GBR and the pair: three rows per work, none per merged-away Scopus record.
    assert classes.height == 3 * N_WORKS
    assert classes.group_by("focal").len().sort("focal").rows() == [
        ("CHN", N_WORKS),
        ("CHN+GBR", N_WORKS),
        ("GBR", N_WORKS),
    ]
    assert set(classes["record_id"]) == set(works["work_id"])
    for table in (schemas.COUNTRY_CREDIT, schemas.LEAD_DISAGREEMENTS):
        ids = set(read_table(tables, table)["record_id"])
        assert ids <= set(works["work_id"]), table.name


def test_each_work_has_the_countries_of_its_chosen_record(results: Path) -> None:
    tables = results / "tables"
    chosen = read_table(tables, schemas.WORK_FIELDS).filter(pl.col("field") == "addresses")
    addresses = normalised_addresses(results)
    expected = (
        addresses.filter(pl.col("kind") == "affiliation", pl.col("country").is_not_null())
        .join(chosen.select("record_id", "work_id"), on="record_id")
        .group_by("work_id")
        .agg(pl.col("country").unique().sort())
        .sort("work_id")
    )
    credit = (
        read_table(tables, schemas.COUNTRY_CREDIT)
        .group_by("record_id")
        .agg(pl.col("country").unique().sort())
        .rename({"record_id": "work_id"})
        .sort("work_id")
    )
    assert expected.height > 0.9 * N_WORKS
    assert credit.equals(expected)
    # WoS first: the works in both exports take the WoS record's addresses; five of them (four
    # editorials) have no C1 address in either record.
    sources = chosen.join(
        read_table(tables, schemas.WORKS).select("work_id", "sources"), on="work_id"
    )
    both = sources.filter(pl.col("sources") == ["scopus", "wos"])
    assert both.group_by("source").len().rows() == [("wos", N_BOTH - 5)]


def test_outputs_count_each_dataset_s_works(results: Path) -> None:
    record_works = read_table(results / "tables", schemas.RECORD_WORKS)
    records = (
        scan_table(table_path(results / "tables", schemas.RECORDS), schemas.RECORDS)
        .select("record_id", "year")
        .collect()
    )
    classes = read_table(results / "tables", schemas.PAPER_CLASSES)
    years = classes.filter(pl.col("focal") == "CHN").select(work_id="record_id", wyear="year")
    outputs = pl.read_parquet(results / "indicators" / "outputs.parquet").filter(
        pl.col("granularity") == "year", pl.col("focal") == "CHN"
    )
    for dataset, source, n_records in (("wos", "wos", N_WOS), ("scopus", "scopus", N_SCOPUS)):
        members = (
            record_works.filter(pl.col("source") == source)
            .join(records, on="record_id")
            .select("work_id")
            .unique()
            .join(years, on="work_id")
            .drop_nulls("wyear")
        )
        counted = outputs.filter(pl.col("dataset") == dataset)["records"].sum()
        assert counted == members.height
        assert counted <= n_records
    # The dataset of both exports holds each paper once: 323 works, not 464 records.
    with_year = years.drop_nulls("wyear")
    both = outputs.filter(pl.col("dataset") == "both")["records"].sum()
    assert both == with_year.height
    assert N_WORKS - 5 <= both <= N_WORKS
    # Works in both exports are in the wos and the scopus dataset, once each.
    cross = (
        read_table(results / "tables", schemas.WORKS)
        .filter("cross_source")
        .join(with_year, on="work_id")
    )
    single = outputs.filter(pl.col("dataset").is_in(["wos", "scopus"]))["records"].sum()
    assert single == with_year.height + cross.height
