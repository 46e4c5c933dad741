"""The qualitative rules in the workflow: rebuilt when the coded data change and only then,
absent without the config section, bad coded data stopping the run with one clear line."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from tests.workflow.helpers import planned_jobs, snakemake, write_config

pytestmark = pytest.mark.workflow
PAIR = {"pair": {"exports": ["resources/example/exports/china_uk/*.txt"]}}
EXAMPLE = PROJECT / "resources" / "example" / "qualitative"


def configure(directory: Path, **qualitative: object) -> None:
    section = {"participants": "participants.csv", "segments": ["segments.csv"], **qualitative}
    write_config(directory, PAIR, parse={"shards": 1}, qualitative=section)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("qualitative")
    (directory / "resources").symlink_to(PROJECT / "resources")
    shutil.copy(EXAMPLE / "participants.csv", directory / "participants.csv")
    shutil.copy(EXAMPLE / "segments.csv", directory / "segments.csv")
    configure(directory)
    result = snakemake(directory, "--cores", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    return directory


def test_outputs_and_report_sections_without_names(built: Path) -> None:
    results = built / "results"
    report = (results / "report" / "index.html").read_text(encoding="utf-8")
    markdown = (results / "report" / "report.md").read_text(encoding="utf-8")
    for title in ("Joint display", "Summary of findings", "Representative quotes", "Codebook"):
        assert title in report and title in markdown, title
    assert "— MC-DF2, Professor, China" in report and "— EXT-1, " in markdown
    with zipfile.ZipFile(results / "report" / "tables.xlsx") as book:
        workbook = book.read("xl/workbook.xml").decode()
    for sheet in ("qual_codebook", "qual_joint_display", "findings_qualitative", "qual_quotes"):
        assert f'name="{sheet}"' in workbook, sheet
    public = [*(results / "qualitative").iterdir(), *(results / "report").iterdir()]
    for path in public:
        if path.is_file():
            data = path.read_bytes()
            assert b"Fictional Person" not in data and b"example.org" not in data, path


def test_editing_the_coded_data_reruns_the_strand_and_the_report_only(built: Path) -> None:
    segments = built / "segments.csv"
    original = segments.read_text(encoding="utf-8")
    segments.write_text(original + "UK-R1,Q9,Language,Challenges,An added segment.\n")
    plan = planned_jobs(snakemake(built, "-n").stdout)
    assert plan == {"analyse_qualitative": 1, "render_report": 1, "all": 1}
    segments.write_text(original)


def test_a_report_setting_reruns_the_report_only(built: Path) -> None:
    configure(built, matrix_by="role")
    assert planned_jobs(snakemake(built, "-n").stdout) == {"render_report": 1, "all": 1}
    configure(built)


def test_without_the_section_nothing_qualitative_runs(built: Path) -> None:
    write_config(built, PAIR, parse={"shards": 1})
    try:
        result = snakemake(built, "-n")
        assert "analyse_qualitative" not in result.stdout
        assert planned_jobs(result.stdout) == {"render_report": 1, "all": 1}
    finally:
        configure(built)


def test_bad_coded_data_stop_the_run_naming_the_file_and_line(built: Path) -> None:
    bad = built / "bad.csv"
    bad.write_text(
        "participant,code,theme,excerpt\nUK-R1,Language,Challenges,Fine.\nNOBODY-1,X,Y,Z\n"
    )
    configure(built, segments=["bad.csv"])
    try:
        result = snakemake(built, "--cores", "1")
        assert result.returncode != 0
        assert (
            "collabscope: error: bad.csv: line 3: participant 'NOBODY-1' is not in the "
            "participants sheet" in result.stderr
        )
    finally:
        configure(built)
