"""The example study on a real single-node SLURM cluster, through the project's slurm profile.

tools/local-slurm/start.sh installs (Debian packages) and starts munge, MariaDB, slurmdbd,
slurmctld and slurmd on localhost; the example study then runs with
`snakemake --profile profiles/slurm` (executor slurm). Checks that every job of the plan went
through sbatch (the accounting database, queried with sacct, holds one completed job per planned
job, the per-shard parse jobs as one job array) and that every output equals a local
`--cores 2` run's byte for byte. Skipped only where the packages cannot be installed (not root,
no apt-get). The cluster is stopped afterwards if this test started it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from tests.workflow.helpers import planned_jobs, snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.cluster]
TOOLS = PROJECT / "tools" / "local-slurm"
# Bounds: the run itself takes about 100 s on 2 cores (each job starts Snakemake afresh).
RUN_TIMEOUT = 900
CANNOT_INSTALL = 3  # start.sh's exit code for "not root / no apt-get"


def _cluster_answers() -> bool:
    if not (shutil.which("scontrol") and shutil.which("sacct")):
        return False
    checks = (["scontrol", "ping"], ["sacct", "-n", "-X", "-S", "now-1minutes"])
    return all(subprocess.run(c, capture_output=True, timeout=30).returncode == 0 for c in checks)


@pytest.fixture(scope="module")
def slurm_cluster() -> Iterator[None]:
    already_running = _cluster_answers()
    start = subprocess.run(
        ["bash", str(TOOLS / "start.sh")], capture_output=True, text=True, timeout=1200
    )
    if start.returncode == CANNOT_INSTALL:
        pytest.skip(f"no local SLURM cluster here: {start.stderr.strip()}")
    assert start.returncode == 0, start.stdout + start.stderr
    try:
        yield
    finally:
        if not already_running:
            stop = subprocess.run(
                ["bash", str(TOOLS / "stop.sh")], capture_output=True, text=True, timeout=300
            )
            assert stop.returncode == 0, stop.stdout + stop.stderr
            assert not _cluster_answers()


def _example(directory: Path) -> Path:
    directory.mkdir()
    (directory / "resources").symlink_to(PROJECT / "resources")
    shutil.copy(PROJECT / "config" / "config.yaml", directory / "config.yaml")
    return directory


def _sacct(run_id: str) -> list[tuple[str, str, str]]:
    """(JobID, State, Comment) of every job (array tasks one by one) named ``run_id``."""
    result = subprocess.run(
        ["sacct", "-a", "-X", "-P", "-n", "-S", "now-1days", "--name", run_id,
         "--format=JobID,State,Comment%200"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return [tuple(line.split("|", 2)) for line in result.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def runs(
    slurm_cluster: None, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, dict[str, int], subprocess.CompletedProcess]:
    base = tmp_path_factory.mktemp("slurm")
    local = _example(base / "local")
    result = snakemake(local, "--cores", "2", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]

    cluster = _example(base / "cluster")
    plan = planned_jobs(snakemake(cluster, "-n").stdout)
    prefix = f"collabscope-test-{uuid.uuid4().hex[:8]}"
    # `timeout -s INT`: on a hang Snakemake gets Ctrl-C, which scancels its jobs (SIGTERM would
    # wait for them); SIGKILL 30 s later if even that hangs. Status checks every 2 s, not 40+.
    command = [
        "timeout", "-s", "INT", "-k", "30", str(RUN_TIMEOUT),
        sys.executable, "-m", "snakemake",
        "--snakefile", str(PROJECT / "Snakefile"), "--directory", str(cluster),
        "--configfile", str(cluster / "config.yaml"),
        "--profile", str(PROJECT / "profiles" / "slurm"),
        "--slurm-jobname-prefix", prefix,
        "--slurm-init-seconds-before-status-checks", "2",
        "--seconds-between-status-checks", "2",
    ]  # fmt: skip
    try:
        run = subprocess.run(
            command, capture_output=True, text=True, cwd=cluster, timeout=RUN_TIMEOUT + 60
        )
    finally:  # nothing of ours left queued, whatever happened
        queued = subprocess.run(["squeue", "-h", "-o", "%i %j"], capture_output=True, text=True)
        mine = [line.split()[0] for line in queued.stdout.splitlines() if prefix in line]
        if mine:
            subprocess.run(["scancel", *mine], timeout=60)
    assert run.returncode == 0, run.stderr[-5000:]
    return local / "results", cluster / "results", plan, run


def test_every_job_went_through_sbatch(runs) -> None:
    _, _, plan, run = runs
    # Only `all` (no command) runs in the Snakemake process; everything else is a SLURM job.
    assert set(re.findall(r"localrule (\w+):", run.stderr)) == {"all"}
    run_id = re.search(r"SLURM run ID: (\S+)", run.stderr).group(1)
    jobs = _sacct(run_id)
    assert len({job_id for job_id, _, _ in jobs}) == len(jobs)
    assert {state for _, state, _ in jobs} == {"COMPLETED"}, jobs
    per_rule = Counter(re.match(r"rule_(\w+?)(_wildcards_.*)?$", c).group(1) for *_, c in jobs)
    expected = {rule: n for rule, n in plan.items() if rule != "all"}
    assert expected["parse_exports"] >= 2  # the example has several shards
    assert per_rule == expected
    # The profile submits the per-shard parse jobs as one job array: <array id>_<task>.
    parse_ids = [job_id for job_id, _, c in jobs if c.startswith("rule_parse_exports")]
    assert len({job_id.split("_")[0] for job_id in parse_ids}) == 1
    assert all(re.fullmatch(r"\d+_\d+", job_id) for job_id in parse_ids), parse_ids


def test_outputs_equal_a_local_run_byte_for_byte(runs) -> None:
    local, cluster, _, _ = runs
    files = sorted(p.relative_to(local) for p in local.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(cluster) for p in cluster.rglob("*") if p.is_file())
    names = {p.as_posix() for p in files}
    expected = {"report/index.html", "normalised/addresses.parts.json", "tables/records.parts.json"}
    assert expected <= names
    different = [p for p in files if (local / p).read_bytes() != (cluster / p).read_bytes()]
    assert different == []
