"""Crash safety: the example study killed with SIGKILL in the middle of a run, then rerun, gives
every output byte for byte as a clean run does, whatever the number of cores.

The kill takes the whole process group (Snakemake and its running jobs), as a power loss or the
OOM killer would, once normalise_addresses has started (parsing and the combined tables are
done, the normalised tables, classification, sampling, comparison and report are not). The
rerun is what a user does after a crash: ``--unlock`` (the dead run's locks) and
``--rerun-incomplete``. The killed run uses 2 cores and its rerun 1; the clean run 2. Two clean
runs with 1 and 2 cores are compared table by table in test_example_study.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from tests.workflow.helpers import planned_jobs, snakemake, snakemake_command

pytestmark = pytest.mark.workflow
KILL_WHEN_STARTED = "normalise_addresses"


def _example(directory: Path) -> Path:
    directory.mkdir()
    (directory / "resources").symlink_to(PROJECT / "resources")
    shutil.copy(PROJECT / "config" / "config.yaml", directory / "config.yaml")
    return directory


def _kill_once_started(directory: Path, rule: str, timeout: float = 600) -> None:
    """Run the workflow and SIGKILL its process group as soon as ``rule``'s job has begun
    (its log exists: the job's script opens it first)."""
    log = directory / "logs" / rule / f"{rule}.log"
    process = subprocess.Popen(
        snakemake_command(directory, "--cores", "2"),
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    try:
        while not log.exists():
            if process.poll() is not None:
                pytest.fail(f"the run ended (status {process.returncode}) before {rule} began")
            if time.monotonic() > deadline:
                pytest.fail(f"{rule} did not begin within {timeout} s")
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)


def _files(results: Path) -> dict[str, bytes]:
    return {str(p.relative_to(results)): p.read_bytes() for p in results.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def clean_and_resumed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    base = tmp_path_factory.mktemp("crash")
    killed = _example(base / "killed")
    _kill_once_started(killed, KILL_WHEN_STARTED)
    assert snakemake(killed, "--unlock").returncode == 0
    after_kill = planned_jobs(snakemake(killed, "-n", "--rerun-incomplete").stdout)
    resumed = snakemake(killed, "--cores", "1", "--rerun-incomplete", timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    clean = _example(base / "clean")
    result = snakemake(clean, "--cores", "2", timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return clean / "results", killed / "results", after_kill


def test_the_kill_interrupted_the_run(clean_and_resumed: tuple[Path, Path, dict]) -> None:
    _, _, after_kill = clean_and_resumed
    # The killed job and everything after it were left to do; parsing was not.
    assert after_kill[KILL_WHEN_STARTED] == 1
    assert after_kill["render_report"] == 1 and after_kill["compare_runs"] == 1
    assert "parse_exports" not in after_kill and "build_tables" not in after_kill


def test_a_killed_and_resumed_run_writes_what_a_clean_run_writes(
    clean_and_resumed: tuple[Path, Path, dict],
) -> None:
    clean, resumed, _ = clean_and_resumed
    clean_files, resumed_files = _files(clean), _files(resumed)
    # Every file, hidden temporary files included: a killed write leaves nothing behind.
    assert sorted(resumed_files) == sorted(clean_files)
    assert len(clean_files) > 60
    differ = sorted(name for name in clean_files if clean_files[name] != resumed_files[name])
    assert differ == []
    # The comparison with the previous run says "first run" in both: the killed run was
    # stopped before its comparison, so there is no earlier run to compare with.
    report = (resumed / "report" / "report.md").read_text(encoding="utf-8")
    assert "This is the first run in this folder" in report
