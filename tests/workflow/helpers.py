"""Running the workflow from tests: a project-independent working directory per test."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import yaml

from collabscope import schemas
from collabscope.schemas import Table
from collabscope.tableio import scan_table, table_path
from tests.conftest import PROJECT


def write_config(directory: Path, datasets: dict, **extra: object) -> Path:
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump({"datasets": datasets, **extra}, sort_keys=True))
    return path


def snakemake(directory: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the project's workflow in ``directory`` with its config.yaml."""
    command = snakemake_command(directory, *args)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=directory)


def snakemake_command(directory: Path, *args: str) -> list[str]:
    """The command line that runs the project's workflow in ``directory``."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(PROJECT / "Snakefile"),
        "--directory",
        str(directory),
        "--configfile",
        str(directory / "config.yaml"),
        *args,
    ]


def planned_jobs(output: str) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table that a dry run prints."""
    counts: dict[str, int] = {}
    if "Job stats:" not in output:
        return counts
    table = output.split("Job stats:", 1)[1]
    for line in table.splitlines()[3:]:
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not match:
            break
        if match.group(1) != "total":
            counts[match.group(1)] = int(match.group(2))
    return counts


def wos_plain_file(
    path: Path, ids: range, country: str = "England", funder: str | None = None
) -> Path:
    """A small valid WoS plain-text export with one record per id (each acknowledging
    ``funder``, when given)."""
    lines = ["FN Clarivate Analytics Web of Science", "VR 1.0"]
    for i in ids:
        lines += [
            "PT J",
            f"AU Author{i}, A",
            f"TI Record {i}",
            f"C1 [Author{i}, A] Univ Test, Dept {i}, Testtown, {country}.",
            *([f"FU {funder}"] if funder else []),
            f"PY {2001 + i % 20}",
            f"UT WOS:{i:015d}",
            "ER",
            "",
        ]
    lines.append("EF")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def normalised_addresses(results: Path) -> pl.DataFrame:
    """results/normalised's addresses (a manifest of parts) as one frame, sorted by the key."""
    table = schemas.ADDRESSES_NORMALISED
    path = Path(results) / "normalised" / "addresses.parts.json"
    return scan_table(path, table).collect().sort(table.key)


def normalised_funding(results: Path) -> pl.DataFrame:
    """results/normalised's funding (a manifest of parts) as one frame, sorted by the key."""
    table = schemas.FUNDING_NORMALISED
    path = Path(results) / "normalised" / "funding.parts.json"
    return scan_table(path, table).collect().sort(table.key)


def read_table(directory: Path, table: Table) -> pl.DataFrame:
    """``table`` under ``directory`` (its Parquet file or its manifest of parts) as one frame."""
    return scan_table(table_path(directory, table), table).collect()
