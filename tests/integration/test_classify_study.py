"""Classification and indicators end to end, through the workflow, on generated WoS exports.

1. The seed study's Figure 2: a corpus built to its marginals (4,986 mainland-China education
   papers, 312 China–UK papers) — the workflow must recover every number exactly.
2. Both routes give the same answer: the China-participated subset derived by address from a
   world corpus equals the explicitly exported China subset, and so do its indicators.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest
import yaml

from collabscope import schemas
from collabscope.synth.marginals import FIGURE2, Marginals, generate_marginals_corpus
from tests.conftest import PROJECT
from tests.workflow.helpers import read_table, snakemake

pytestmark = pytest.mark.workflow

PERIODS = [
    {"label": "2001–2005", "first": 2001, "last": 2005},
    {"label": "2006–2010", "first": 2006, "last": 2010},
    {"label": "2011–2015", "first": 2011, "last": 2015},
    {"label": "2016–2020", "first": 2016, "last": 2020},
]


def _run(directory: Path, spec: Marginals, seed: int, datasets: list[str]) -> Path:
    generate_marginals_corpus(directory, spec, seed=seed)
    (directory / "resources").symlink_to(PROJECT / "resources")
    config = {
        "study": {"focal_countries": ["CHN", "GBR"], "periods": PERIODS},
        "datasets": {name: {"exports": [f"exports/{name}/*.txt"]} for name in datasets},
        "parse": {"shards": 2},
    }
    (directory / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    result = snakemake(directory, "--cores", "2", timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return directory / "results"


def _totals(path: Path, dataset: str, focal: str, columns: list[str]) -> dict[str, int]:
    frame = pl.read_parquet(path).filter(
        (pl.col("granularity") == "period")
        & (pl.col("dataset") == dataset)
        & (pl.col("focal") == focal)
    )
    return {column: int(frame[column].sum()) for column in columns}


@pytest.fixture(scope="module")
def figure2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("figure2"), FIGURE2, 2, ["china", "china_uk"])


def test_figure2_china_papers_recovered_exactly(figure2: Path) -> None:
    got = _totals(
        figure2 / "indicators" / "collaboration.parquet",
        "china",
        "CHN",
        [
            "papers",
            "icp",
            "icp_x_led",
            "icp_other_led",
            "non_icp",
            "single_affiliation",
            "domestic_collaboration",
        ],
    )
    assert got == {
        "papers": 4986,
        "icp": 2315,
        "icp_x_led": 1311,
        "icp_other_led": 1004,
        "non_icp": 2671,
        "single_affiliation": 958,
        "domestic_collaboration": 1713,
    }


def test_figure2_china_uk_papers_recovered_exactly(figure2: Path) -> None:
    for dataset in ("china", "china_uk"):
        got = _totals(
            figure2 / "indicators" / "pair_leads.parquet",
            dataset,
            "CHN+GBR",
            ["papers", "x_led", "y_led", "other_led"],
        )
        assert got == {"papers": 312, "x_led": 169, "y_led": 108, "other_led": 35}, dataset


def test_figure2_every_paper_in_its_true_class(figure2: Path) -> None:
    """Per record, not only in total: each paper's class and lead equal the generator's."""
    with open(figure2.parent / "truth" / "classes.tsv", encoding="utf-8", newline="") as handle:
        truth = {row["ut"]: row for row in csv.DictReader(handle, delimiter="\t")}
    classes = read_table(figure2 / "tables", schemas.PAPER_CLASSES)
    china = classes.filter(pl.col("focal") == "CHN")
    got = dict(china.select("record_id", "category").iter_rows())
    assert len(got) == len(truth) == 4986
    wrong = {
        ut: (got[ut], row["class"])
        for ut, row in truth.items()
        if got[ut] != row["class"].split("+")[0]
    }
    assert wrong == {}
    leads = dict(china.select("record_id", "lead_country").iter_rows())
    assert {ut for ut, row in truth.items() if leads[ut] != row["lead_country"]} == set()
    # Records before 2008 carry no author links: their lead is the first C1 address, flagged.
    old = china.filter(pl.col("year") < 2008)
    assert old.height > 100
    assert old["lead_fallback"].all() and not old["has_links"].any()
    assert not china.filter(pl.col("year") >= 2008)["lead_fallback"].any()


def test_figure2_per_period_rows_add_up_to_the_years(figure2: Path) -> None:
    frame = pl.read_parquet(figure2 / "indicators" / "collaboration.parquet").filter(
        (pl.col("dataset") == "china") & (pl.col("focal") == "CHN")
    )
    by = frame.group_by("granularity").agg(pl.col("papers", "icp").sum()).sort("granularity")
    assert by.select("papers", "icp").rows() == [(4986, 2315), (4986, 2315)]
    csv_rows = pl.read_csv(figure2 / "indicators" / "collaboration.csv")
    assert (
        csv_rows.height == pl.read_parquet(figure2 / "indicators" / "collaboration.parquet").height
    )


WORLD = Marginals(
    icp_x_led=150,
    icp_other_led=120,
    single_affiliation=110,
    domestic_collaboration=140,
    pair_x_led=30,
    pair_y_led=25,
    pair_other_led=10,
    y_only=300,
    neither=500,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("world"), WORLD, 7, ["world", "china", "china_uk"])


def test_subset_derived_from_the_world_equals_the_exported_subset(world: Path) -> None:
    classes = read_table(world / "tables", schemas.PAPER_CLASSES)
    members = pl.read_parquet(world / "tables" / "dataset_records.parquet")
    world_ids = members.filter(pl.col("dataset") == "world").select("record_id")
    assert world_ids.height == WORLD.x_papers + WORLD.y_only + WORLD.neither
    for focal, dataset in (("CHN", "china"), ("CHN+GBR", "china_uk")):
        derived = set(
            classes.join(world_ids, on="record_id").filter(
                (pl.col("focal") == focal) & pl.col("participated")
            )["record_id"]
        )
        exported = set(members.filter(pl.col("dataset") == dataset)["record_id"])
        assert derived == exported, focal
    assert len(set(members.filter(pl.col("dataset") == "china")["record_id"])) == WORLD.x_papers


def test_indicators_of_the_derived_subset_equal_those_of_the_exported_subset(world: Path) -> None:
    keys = ["focal", "granularity", "period"]
    for name, focal in (("collaboration", "CHN"), ("pair_leads", "CHN+GBR")):
        frame = pl.read_parquet(world / "indicators" / f"{name}.parquet").filter(
            pl.col("focal") == focal
        )
        from_world = frame.filter(pl.col("dataset") == "world").drop("dataset").sort(keys)
        exported = (
            frame.filter(pl.col("dataset") == ("china" if focal == "CHN" else "china_uk"))
            .drop("dataset")
            .sort(keys)
        )
        assert from_world.height > 10  # years and periods
        assert from_world.equals(exported), name
    outputs = pl.read_parquet(world / "indicators" / "outputs.parquet").filter(
        (pl.col("dataset") == "world") & (pl.col("granularity") == "period")
    )
    by_focal = outputs.group_by("focal").agg(pl.col("records", "focal_records").sum())
    assert dict(by_focal.select("focal", "focal_records").iter_rows()) == {
        "CHN": WORLD.x_papers,
        "GBR": WORLD.pair_x_led + WORLD.pair_y_led + WORLD.pair_other_led + WORLD.y_only,
        "CHN+GBR": 65,
    }
