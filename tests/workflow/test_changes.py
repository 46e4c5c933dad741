"""What changed since the previous run: one study refreshed as a user would, run after run.

First run -> "first run"; a rerun with nothing to do runs and rewrites nothing; a new file and
an edited record -> those files, records and the indicators they move; the same data built
again (a crash after the state was saved, --forcerun) -> the same bytes; a period edit ->
indicator rows added and removed, no parsing, no normalisation, no record changes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from tests.workflow.helpers import planned_jobs, snakemake, wos_plain_file, write_config

pytestmark = pytest.mark.workflow
DATASETS = {"a": {"exports": ["exports/*.txt"]}}
STUDY = {
    "focal_countries": ["GBR"],
    "periods": [{"label": "2001–2005", "first": 2001, "last": 2005}],
}
CHANGES = Path("results/changes/changes.parquet")


def _changes(directory: Path) -> dict[str, set[tuple]]:
    frame = pl.read_parquet(directory / CHANGES)
    found: dict[str, set[tuple]] = {}
    for row in frame.iter_rows(named=True):
        found.setdefault(row["change"], set()).add(
            (row["subject"], row["measure"], row["before"], row["after"], row["detail"])
        )
    return found


def _run(directory: Path, *args: str) -> str:
    result = snakemake(directory, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def test_changes_follow_the_data_run_after_run(tmp_path: Path) -> None:
    for i in range(4):
        wos_plain_file(tmp_path / "exports" / f"p{i}.txt", range(i * 10, i * 10 + 10))
    write_config(tmp_path, DATASETS, study=STUDY, parse={"shards": 2})
    _run(tmp_path, "--cores", "2")
    assert _changes(tmp_path) == {
        "first_run": {("files", "", None, 4.0, None), ("records", "", None, 40.0, None)}
    }
    report = (tmp_path / "results" / "report" / "report.md").read_text(encoding="utf-8")
    assert "## What changed since the previous run" in report
    assert "This is the first run in this folder (4 export files, 40 records)" in report

    # Nothing to do: nothing is planned, so nothing can be rewritten.
    assert planned_jobs(snakemake(tmp_path, "-n").stdout) == {}

    # A new file and one record edited in an old one.
    wos_plain_file(tmp_path / "exports" / "p9.txt", range(100, 105))
    edited = tmp_path / "exports" / "p0.txt"
    old_sha = hashlib.sha256(edited.read_bytes()).hexdigest()
    edited.write_text(edited.read_text().replace("TI Record 3\n", "TI Record three\n"))
    new_sha = hashlib.sha256(edited.read_bytes()).hexdigest()
    _run(tmp_path, "--cores", "2")
    changes = _changes(tmp_path)
    assert changes["total"] == {("files", "", 4.0, 5.0, None), ("records", "", 40.0, 45.0, None)}
    assert changes["file_added"] == {("exports/p9.txt", "", None, 5.0, None)}
    assert changes["file_changed"] == {
        ("exports/p0.txt", "", 10.0, 10.0, f"{old_sha} -> {new_sha}")
    }
    assert changes["record_added"] == {
        (f"WOS:{i:015d}", "", None, None, "exports/p9.txt") for i in range(100, 105)
    }
    assert changes["record_changed"] == {(f"WOS:{3:015d}", "", None, None, "exports/p0.txt")}
    assert "record_removed" not in changes and "file_removed" not in changes
    # Ids 100-104 are years 2001-2005: five more GBR records in the period and one a year.
    indicators = {(s, m): (b, a) for s, m, b, a, _ in changes["indicator_changed"]}
    assert indicators[("outputs | a | GBR | period | 2001–2005", "records")] == (10.0, 15.0)
    assert indicators[("outputs | a | GBR | year | 2003", "focal_records")] == (2.0, 3.0)
    assert ("outputs | a | GBR | year | 2006", "records") not in indicators
    report = (tmp_path / "results" / "report" / "report.md").read_text(encoding="utf-8")
    assert "4 export files and 40 records then, 5 and 45 now" in report
    assert "| Records added | 5 |" in report and "| Records changed (content hash) | 1 |" in report
    first_bytes = (tmp_path / CHANGES).read_bytes()

    # The same data again (what a crash after the state was saved leaves): the same answer.
    _run(tmp_path, "--cores", "1", "--forcerun", "compare_runs")
    assert (tmp_path / CHANGES).read_bytes() == first_bytes

    # A period edit: only the indicators, the comparison and the report rerun.
    periods = [*STUDY["periods"], {"label": "2006–2010", "first": 2006, "last": 2010}]
    write_config(tmp_path, DATASETS, study={**STUDY, "periods": periods}, parse={"shards": 2})
    plan = planned_jobs(snakemake(tmp_path, "-n").stdout)
    assert plan == {"compute_indicators": 1, "compare_runs": 1, "render_report": 1, "all": 1}
    _run(tmp_path, "--cores", "2")
    changes = _changes(tmp_path)
    assert changes["total"] == {("files", "", 5.0, 5.0, None), ("records", "", 45.0, 45.0, None)}
    assert {c for c in changes if c.startswith(("file_", "record_"))} == set()
    added = {(s, m): a for s, m, _, a, _ in changes["indicator_added"]}
    assert added[("outputs | a | GBR | period | 2006–2010", "records")] == 10.0
