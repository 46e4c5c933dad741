"""Incremental reruns of classification and indicators: study edits never reparse."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.workflow.helpers import planned_jobs, snakemake, wos_plain_file, write_config

pytestmark = pytest.mark.workflow

PERIODS = [
    {"label": "early", "first": 2001, "last": 2010},
    {"label": "late", "first": 2011, "last": 2020},
]
DATASETS = {"a": {"exports": ["exports/*.txt"]}}
STUDY = {"focal_countries": ["GBR"], "periods": PERIODS}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("classify")
    for i in range(3):
        wos_plain_file(directory / "exports" / f"part{i}.txt", range(i * 10, i * 10 + 10))
    write_config(directory, DATASETS, study=STUDY)
    result = snakemake(directory, "--cores", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert planned_jobs(snakemake(directory, "-n").stdout) == {}
    assert (directory / "results" / "indicators" / "collaboration.csv").is_file()
    return directory


def _run(directory: Path, *args: str, study=None, classify=None):
    """Run snakemake with the study (and classify settings) edited, then restore the config."""
    extra = {"classify": classify} if classify else {}
    write_config(directory, DATASETS, study={**STUDY, **(study or {})}, **extra)
    try:
        return snakemake(directory, *args)
    finally:
        write_config(directory, DATASETS, study=STUDY)


def test_editing_periods_reruns_only_the_indicators(built: Path) -> None:
    periods = [*PERIODS[:1], {"label": "2011-2015", "first": 2011, "last": 2015}]
    plan = planned_jobs(_run(built, "-n", study={"periods": periods}).stdout)
    # The report states the study's periods, so it follows; so does the comparison with the
    # previous run, which holds the indicator values.
    assert plan == {"compute_indicators": 1, "compare_runs": 1, "render_report": 1, "all": 1}


def test_editing_focal_countries_reruns_only_classification_and_indicators(built: Path) -> None:
    plan = planned_jobs(_run(built, "-n", study={"focal_countries": ["GBR", "CHN"]}).stdout)
    # No parsing and no normalisation; the interview pool (papers in both focal countries) and
    # the report (which names them) follow.
    assert plan == {
        "classify_papers": 1,
        "compute_indicators": 1,
        "compare_runs": 1,
        "build_pool": 1,
        "draw_sample": 1,
        "write_invitations": 1,
        "render_report": 1,
        "all": 1,
    }


def test_editing_the_lead_rule_reruns_only_classification_and_indicators(built: Path) -> None:
    plan = planned_jobs(_run(built, "-n", classify={"lead_rule": "reprint"}).stdout)
    # The indicators move, so the comparison with the previous run follows; the report shows
    # the classes and names the rule in its definitions.
    assert plan == {
        "classify_papers": 1,
        "compute_indicators": 1,
        "compare_runs": 1,
        "render_report": 1,
        "all": 1,
    }


def test_an_unknown_citing_dataset_fails_naming_it(built: Path) -> None:
    result = _run(built, "--cores", "1", classify={"citing": {"a": "nope"}})
    assert result.returncode != 0
    assert "classify.citing: 'nope' is not a configured dataset" in result.stderr
    assert "Traceback" not in result.stderr
