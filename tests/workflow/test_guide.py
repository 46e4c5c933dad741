"""Every command of docs/guide.md, run in order in a copy of the project, as a reader would.

The guide's conventions, which this test reads:

- a fenced ``sh`` block holds commands, one a line (``#`` starts a comment);
- ``<!-- file: NAME -->`` before a fenced block: the block is the whole file NAME;
- ``<!-- add to: NAME -->`` before a ``yaml`` block: the block's keys are added to NAME.

The reader's exports are the example study's China–UK and citing files. ``snakemake`` runs
with ``--cores`` and the reader's config run for real the first time (the results the next
steps read) and at the end of the guide (which runs everything the edits before it left
pending: the overrides, the letter, the qualitative strand); in between, and for the bundled
example, the SLURM profile and the refresh script, their ``-n`` form. ``pip install`` is
checked against pyproject.toml, not run (it would install over the environment under test).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import polars as pl
import pytest
import yaml

from tests.conftest import PROJECT
from tests.workflow.helpers import normalised_addresses

pytestmark = pytest.mark.workflow
GUIDE = PROJECT / "docs" / "guide.md"
BLOCK = re.compile(r"(?:<!-- (file|add to): (\S+) -->\n)?```(\w*)\n(.*?)```", re.S)
LINKED = ("Snakefile", "workflow", "src", "resources", "config", "profiles", "tools")


def blocks() -> list[tuple[str | None, str | None, str, str]]:
    """(marker, file name, language, text) of every fenced block, in order."""
    return [m.groups() for m in BLOCK.finditer(GUIDE.read_text(encoding="utf-8"))]


def commands(text: str) -> list[str]:
    joined = text.replace("\\\n", " ")
    return [
        line.strip()
        for line in joined.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def merge(base: dict, extra: dict) -> dict:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def check_pip(command: str) -> None:
    words = shlex.split(command)
    assert words[:3] == ["pip", "install", "-e"], command
    extras = re.fullmatch(r"\.(?:\[([\w,]+)\])?", words[3])
    assert extras, command
    declared = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    for extra in filter(None, (extras.group(1) or "").split(",")):
        assert extra in declared["optional-dependencies"], extra


ENV = {**os.environ, "SNAKEMAKE": shutil.which("snakemake") or "snakemake"}


def run(command: list[str] | str, cwd: Path, shell: bool = False) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command,
        cwd=cwd,
        shell=shell,
        capture_output=True,
        text=True,
        timeout=900,
        env=ENV,
        executable="/bin/bash" if shell else None,
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


def start(command: list[str], cwd: Path, snapshot: int) -> tuple[list[str], subprocess.Popen]:
    """A dry run in the background, on a snapshot of the config as it is at this step (later
    steps edit it): dry runs are mostly Snakemake's start-up, and need not wait for each other."""
    if "--configfile" in command:
        at = command.index("--configfile") + 1
        copy = f".guide-{snapshot}-{Path(command[at]).name}"
        shutil.copy(cwd / command[at], cwd / copy)
        command = [*command[:at], copy, *command[at + 1 :]]
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )
    return command, process


def snakemake_args(words: list[str], real: bool) -> list[str]:
    args = words[1:]
    if not real and "-n" not in args:
        args.append("-n")
    return [sys.executable, "-m", "snakemake", *args]


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("guide") / "collabscope"
    root.mkdir()
    for name in LINKED:
        (root / name).symlink_to(PROJECT / name)
    shutil.copy(PROJECT / "pyproject.toml", root / "pyproject.toml")
    example = PROJECT / "resources" / "example" / "exports"
    ran: list[str] = []
    dry: list[tuple[list[str], subprocess.Popen]] = []
    finished: list[tuple[list[str], int, str, str]] = []

    def finish_dry_runs() -> None:
        # A real run locks the folder: a dry run still planning then fails to lock it.
        while dry:
            command, process = dry.pop(0)
            out, err = process.communicate(timeout=900)
            finished.append((command, process.returncode, out, err))

    real_runs = 0
    all_blocks = blocks()
    last_real = max(
        i
        for i, (_, _, lang, text) in enumerate(all_blocks)
        if lang == "sh"
        and any(c.startswith("snakemake --cores") and "--configfile" in c for c in commands(text))
    )
    for index, (marker, name, lang, text) in enumerate(all_blocks):
        if marker == "file":
            (root / name).write_text(text, encoding="utf-8")
            continue
        if marker == "add to":
            path = root / name
            path.write_text(
                yaml.safe_dump(
                    merge(yaml.safe_load(path.read_text()), yaml.safe_load(text)),
                    allow_unicode=True,
                    sort_keys=False,
                )
            )
            continue
        if lang != "sh":
            continue
        for command in commands(text):
            words = shlex.split(command)
            if words[0] == "pip":
                check_pip(command)
            elif words[0] == "snakemake":
                mine = "--configfile" in words and "--cores" in words and "--profile" not in words
                real = mine and (real_runs == 0 or index == last_real)
                real_runs += real
                if real:
                    finish_dry_runs()
                    run(snakemake_args(words, real), root)
                else:
                    dry.append(start(snakemake_args(words, real), root, len(dry) + len(finished)))
            elif words[0] == "tools/refresh.sh":
                dry.append(start([*words, "-n"], root, len(dry) + len(finished)))
            else:
                run(command, root, shell=True)
                if words[:2] == ["mkdir", "-p"]:  # the reader downloads their exports
                    for folder in words[2:]:
                        source = example / Path(folder).name
                        for export in sorted(source.glob("*.txt")):
                            shutil.copy(export, root / folder / export.name)
            ran.append(command)
    finish_dry_runs()
    for command, returncode, out, err in finished:
        assert returncode == 0, f"{command}:\n{out[-2000:]}\n{err[-3000:]}"
        # A dry run lists its jobs; after the last real run there may be none left.
        assert "This was a dry-run" in out or "Nothing to be done" in out + err, command
    return {"root": root, "ran": ran, "real_runs": real_runs, "dry_runs": len(finished)}


def test_every_command_of_the_guide_ran(study: dict[str, object]) -> None:
    expected = [c for _, _, lang, text in blocks() if lang == "sh" for c in commands(text)]
    assert study["ran"] == expected
    assert len(expected) >= 15 and study["real_runs"] == 2 and study["dry_runs"] == 6
    assert "(docs/guide.md)" in (PROJECT / "README.md").read_text(encoding="utf-8")


def test_the_readers_study_has_the_results_the_guide_promises(study: dict[str, object]) -> None:
    root = Path(str(study["root"]))
    results = root / "results"
    # Section 4: the registry row and the override took effect.
    addresses = normalised_addresses(results)
    assert addresses.filter(pl.col("institution_id") == "usa-harvard").height == 9
    # Section 5: the reader's letter (a copy of the bundled one) and the draw's codes.
    summary = pl.read_csv(results / "sampling" / "summary.csv")
    assert summary["stratum"].to_list() == ["UK-R", "UK-NR", "MC-DF", "MC-NDF"]
    letters = sorted((results / "private" / "invitations").glob("*.txt"))
    assert len(letters) == 20
    # Section 6: the participants and the coded segments of the guide.
    people = pl.read_csv(results / "qualitative" / "participants.csv")
    assert people.select("participant", "stratum", "respondent").rows() == [
        ("EXT-1", "(outside the pool)", True),
        ("MC-DF1", "MC-DF", True),
        ("UK-R1", "UK-R", True),
        ("UK-R2", "UK-R", False),
        ("UK-R6", "UK-R", True),
    ]
    findings = pl.read_csv(results / "qualitative" / "findings_qualitative.csv")
    assert findings.select("theme", "participants", "respondents").rows() == [
        ("Challenges", 2, 4),
        ("Motivations", 2, 4),
        ("Initiation", 1, 4),
    ]
    report = (results / "report" / "index.html").read_text(encoding="utf-8")
    assert "Joint display" in report and "— UK-R6, Senior lecturer, United Kingdom" in report
