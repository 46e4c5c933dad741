"""Scheduled refresh: new export files dropped into a dataset's folder, then tools/refresh.sh
(the README's cron and systemd-timer recipes) under its lock.

test_workflow.py checks the plan when a file joins a one-dataset study; here the study has a
folder per dataset, the refresh really runs, and every output that does not depend on the new
file is left untouched.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from collabscope import schemas
from collabscope.sharding import shard_of
from tests.conftest import PROJECT
from tests.workflow.helpers import planned_jobs, snakemake, wos_plain_file, write_config

pytestmark = pytest.mark.workflow
SHARDS = 4
DATASETS = {
    "world": {"exports": ["exports/world/*.txt"]},
    "uk": {"exports": ["exports/uk/*.txt"]},
}


def _refresh(directory: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SNAKEMAKE": str(Path(sys.executable).parent / "snakemake")}
    if not Path(env["SNAKEMAKE"]).is_file():
        pytest.fail(f"no snakemake next to {sys.executable}")
    return subprocess.run(
        ["bash", str(PROJECT / "tools" / "refresh.sh"), "--configfile", "config.yaml", *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _name(i: int) -> str:
    """Web of Science's download names (savedrecs.txt, savedrecs (1).txt, ...)."""
    return "savedrecs.txt" if i == 0 else f"savedrecs ({i}).txt"


# The stages that keep per-shard results (workflow/rules/common.smk threads_for).
PER_SHARD_STAGES = (
    "normalise_addresses",
    "normalise_funding",
    "merge_works",
    "classify_papers",
    "build_pool",
    "compute_indicators",
    "compare_runs",
)


def _threads(output: str) -> dict[str, int]:
    """Rule -> threads of the jobs a run printed (Snakemake prints threads above one only)."""
    threads: dict[str, int] = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", output):
        rule = re.match(r"(?:local)?rule (\w+):", block)
        if rule:
            found = re.search(r"^\s+threads: (\d+)$", block, re.M)
            threads[rule.group(1)] = int(found.group(1)) if found else 1
    return threads


def _mtimes(results: Path) -> dict[str, int]:
    return {str(p.relative_to(results)): p.stat().st_mtime_ns for p in results.rglob("*.*")}


@pytest.fixture
def study(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """A study built once by a refresh, and the jobs that first build ran."""
    for i in range(6):
        wos_plain_file(tmp_path / "exports" / "world" / _name(i), range(i * 10, i * 10 + 10))
    for i in range(3):
        wos_plain_file(tmp_path / "exports" / "uk" / _name(i), range(1000 + i * 10, 1010 + i * 10))
    write_config(tmp_path, DATASETS, parse={"shards": SHARDS})
    first = _refresh(tmp_path, "--cores", "2")
    assert first.returncode == 0, first.stderr[-3000:]
    first_build = planned_jobs(first.stderr)
    assert first_build["parse_exports"] == SHARDS
    # Every shard to compute: two threads each.
    assert {r: _threads(first.stderr)[r] for r in PER_SHARD_STAGES} == dict.fromkeys(
        PER_SHARD_STAGES, 2
    )
    return tmp_path, first_build


def test_a_new_file_in_one_datasets_folder_reruns_only_what_depends_on_it(
    study: tuple[Path, dict[str, int]],
) -> None:
    study, first_build = study
    results = study / "results"
    before = _mtimes(results)
    new = wos_plain_file(study / "exports" / "uk" / _name(3), range(9000, 9005))
    shard = f"{shard_of(str(new.relative_to(study)), SHARDS):04d}"
    # One parse job (the new file's shard) instead of one per shard; every stage after parsing
    # runs again once (normalisation computes the new shard's part only).
    expected = {**first_build, "parse_exports": 1}
    assert {"build_tables", "normalise_addresses", "render_report"} <= set(expected)
    assert planned_jobs(snakemake(study, "-n").stdout) == expected

    refresh = _refresh(study, "--cores", "2")
    assert refresh.returncode == 0, refresh.stderr[-3000:]
    assert planned_jobs(refresh.stderr) == expected  # what ran, not only what was planned
    # One shard to compute: one thread each, two of them side by side on two cores.
    assert {r: _threads(refresh.stderr)[r] for r in PER_SHARD_STAGES} == dict.fromkeys(
        PER_SHARD_STAGES, 1
    )
    after = _mtimes(results)
    changed = {name for name in after if after[name] != before.get(name)}
    # Only the new file's shard, and the combined tables, normalised tables and report after it
    # (the files are spread over all four shards, so three were left alone).
    shards = {p.parent.name for p in (results / "shards").glob("*/records.parquet")}
    assert len(shards) == SHARDS
    assert {name.split("/")[1] for name in changed if name.startswith("shards/")} == {shard}
    assert {"shards", "tables", "normalised", "report"} <= {name.split("/")[0] for name in changed}
    # The shard's parse job tokenised the new file only: the others' tokens were kept, and
    # the token caches of the other shards were left alone.
    exports = [p for p in (study / "exports").rglob("*.txt") if p.parent.name in DATASETS]
    held = {f"{s:04d}": 0 for s in range(SHARDS)}
    for path in exports:
        held[f"{shard_of(str(path.relative_to(study)), SHARDS):04d}"] += 1
    log = (study / "logs" / "parse_exports" / f"{shard}.log").read_text()
    assert f"1 of {held[shard]} files tokenised" in log
    # (The other files' descriptions may be stamped again: written just before the first
    # build, they were read once more to be sure.)
    cached = {n for n in changed if n.startswith("parts/parse_exports/") and n.endswith("parquet")}
    assert {Path(name).parent.name for name in cached} == {shard} and len(cached) == 2
    # An entry per file: its tokens, its records, its description.
    folders = (results / "parts" / "parse_exports").iterdir()
    assert {folder.name: len(list(folder.iterdir())) / 3 for folder in folders} == held
    # Normalisation ran again, but matched the new shard's addresses only.
    log = (study / "logs" / "normalise_addresses" / "normalise_addresses.log").read_text()
    assert f"1 of {SHARDS} address parts to normalise" in log
    log = (study / "logs" / "normalise_funding" / "normalise_funding.log").read_text()
    assert f"1 of {SHARDS} funding parts to normalise" in log
    log = (study / "logs" / "merge_works" / "merge_works.log").read_text()
    assert f"1 of {SHARDS} merge parts computed" in log
    log = (study / "logs" / "classify_papers" / "classify_papers.log").read_text()
    assert f"1 of {SHARDS} class parts computed" in log
    log = (study / "logs" / "build_pool" / "build_pool.log").read_text()
    assert f"pool parts of 1 of {SHARDS} shards computed" in log
    # So did the merge (one source: every record is its own work), classification, the record
    # hashes that tell what changed since the previous run, and the report's classes under the
    # other country policies: each store holds one part per shard. So did the tallies that
    # the review queues add up.
    for store in (
        "parts/normalised_addresses",
        *(
            f"parts/normalised_addresses/{name}"
            for name in ("review_spellings", "review_counts", "address_methods")
        ),
        "parts/normalised_funding",
        *(f"parts/merge_works/{t.name}" for t in schemas.MERGE_PART_TABLES),
        *(f"parts/classify_papers/{t.name}" for t in schemas.CLASS_PART_TABLES),
        "parts/record_hashes",
        # The pool's papers, kept with the rest of the personal data.
        *(f"private/parts/build_pool/{t.name}" for t in (schemas.POOL_NODES, schemas.POOL_PAPERS)),
        "parts/report/policy_classes",
        "parts/report/policy_classes/changes",
        # (Its funding tallies too, but the study's exports acknowledge no funder: every
        # shard's is the same empty tally, one file.)
        "parts/report/tallies/addresses_tallies",
    ):
        assert len({name for name in changed if Path(name).parent == Path(store)}) == 1, store
        assert len(list((results / store).glob("*.parquet"))) == SHARDS, store
    dataset_records = pl.read_parquet(results / "tables" / "dataset_records.parquet")
    new_ids = {f"WOS:{i:015d}" for i in range(9000, 9005)}
    assert set(dataset_records.filter(pl.col("dataset") == "uk")["record_id"]) >= new_ids
    assert not set(dataset_records.filter(pl.col("dataset") == "world")["record_id"]) & new_ids
    datasets = dict(pl.read_parquet(results / "tables" / "datasets.parquet")
                    .select("dataset", "records").iter_rows())  # fmt: skip
    assert datasets == {"world": 60, "uk": 35}

    # A file no dataset's pattern matches, or a note beside the exports, reruns nothing.
    wos_plain_file(study / "exports" / "unused" / "x.txt", range(7000, 7005))
    (study / "exports" / "uk" / "notes.md").write_text("not an export\n")
    assert planned_jobs(snakemake(study, "-n").stdout) == {}


def test_refreshes_never_overlap_and_a_killed_ones_stale_lock_is_cleared(
    study: tuple[Path, dict[str, int]],
) -> None:
    study, _ = study
    wos_plain_file(study / "exports" / "world" / _name(99), range(8000, 8003))
    with open(study / ".collabscope-refresh.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a refresh still running
        blocked = _refresh(study, "--cores", "2")
    assert blocked.returncode == 75
    assert "another refresh holds .collabscope-refresh.lock" in blocked.stderr
    assert planned_jobs(snakemake(study, "-n").stdout)["parse_exports"] == 1  # nothing ran
    # What a refresh killed with SIGKILL (reboot, OOM) leaves: Snakemake's own lock files.
    locks = study / ".snakemake" / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    (locks / "0.input.lock").write_text(f"exports/world/{_name(99)}\n")
    (locks / "0.output.lock").write_text("results/tables/records.parts.json\n")
    plain = snakemake(study, "--cores", "2")
    assert plain.returncode != 0 and "Directory cannot be locked" in plain.stderr
    refresh = _refresh(study, "--cores", "2")
    assert refresh.returncode == 0, refresh.stderr[-3000:]
    assert planned_jobs(snakemake(study, "-n").stdout) == {}
