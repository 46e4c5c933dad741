"""The sampling rules in the workflow: what an edit of the sampling config reruns, and how a
bad exclusion list or template stops the run."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from tests.workflow.helpers import planned_jobs, snakemake, write_config

pytestmark = pytest.mark.workflow
PAIR = {"pair": {"exports": ["resources/example/exports/china_uk/*.txt"]}}
SAMPLING = {
    "seed": 1,
    "size": 2,
    "reserves": 1,
    "strata": {
        "UK-R": {"country": "GBR", "tier": "russell-group"},
        "UK-NR": {"country": "GBR", "tier_not": "russell-group"},
        "MC-DF": {"country": "CHN", "tier": "double-first-class"},
        "MC-NDF": {"country": "CHN", "tier_not": "double-first-class"},
    },
}


def configure(directory: Path, **sampling: object) -> None:
    write_config(directory, PAIR, parse={"shards": 1}, sampling={**SAMPLING, **sampling})


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sampling")
    (directory / "resources").symlink_to(PROJECT / "resources")
    configure(directory)
    result = snakemake(directory, "--cores", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert planned_jobs(snakemake(directory, "-n").stdout) == {}
    return directory


def codes(directory: Path) -> list[tuple[str, str]]:
    with open(directory / "results" / "private" / "sample.csv", encoding="utf-8") as handle:
        return [(row["code"], row["person_id"]) for row in csv.DictReader(handle)]


def test_editing_the_draw_settings_reruns_only_the_draw_and_the_letters(built: Path) -> None:
    # Seed 1 -> 2 next to size 2 and reserves 1: the same set of values, a different draw.
    for change in ({"seed": 2}, {"strata": {"UK": {"country": "GBR"}, "CN": {"country": "CHN"}}}):
        configure(built, **change)
        plan = planned_jobs(snakemake(built, "-n").stdout)
        # The report shows the public summary (strata, counts, codes), so it follows.
        assert plan == {
            "draw_sample": 1,
            "write_invitations": 1,
            "render_report": 1,
            "all": 1,
        }, change
    configure(built)


def test_naming_a_dataset_rebuilds_the_pool_and_nothing_before_it(built: Path) -> None:
    configure(built, dataset="pair")
    plan = planned_jobs(snakemake(built, "-n").stdout)
    assert plan == {
        "build_pool": 1,
        "draw_sample": 1,
        "write_invitations": 1,
        "render_report": 1,  # it shows the sampling summary
        "all": 1,
    }
    configure(built)


def test_editing_the_template_rewrites_only_the_letters(built: Path) -> None:
    template = built / "letter.txt.j2"
    template.write_text("Dear {{ invitee.full_name }} ({{ invitee.code }})\n", encoding="utf-8")
    configure(built, invitation_template="letter.txt.j2")
    assert planned_jobs(snakemake(built, "-n").stdout) == {"write_invitations": 1, "all": 1}
    result = snakemake(built, "--cores", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    first_code, _ = codes(built)[0]
    letter = (built / "results" / "private" / "invitations" / f"{first_code}.txt").read_text()
    assert letter.startswith("Dear ") and letter.endswith(f"({first_code})\n")
    template.write_text("Dear {{ invitee.fullname }}\n", encoding="utf-8")
    result = snakemake(built, "--cores", "1")
    assert result.returncode != 0
    assert "collabscope: error: letter.txt.j2: rendering" in result.stderr
    assert "'fullname'" in result.stderr
    configure(built)
    assert snakemake(built, "--cores", "1").returncode == 0


def test_an_exclusion_list_redraws_and_a_malformed_one_stops_the_run(built: Path) -> None:
    before = codes(built)
    pool = built / "results" / "private" / "sample.csv"
    with open(pool, encoding="utf-8") as handle:
        first = next(csv.DictReader(handle))
    exclusions = built / "exclusions.csv"
    exclusions.write_text(f"email,reason\n{first['email']},declined\n", encoding="utf-8")
    configure(built, exclusions="exclusions.csv")
    assert planned_jobs(snakemake(built, "-n").stdout) == {
        "draw_sample": 1,
        "write_invitations": 1,
        "render_report": 1,  # it shows the sampling summary
        "all": 1,
    }
    assert snakemake(built, "--cores", "1").returncode == 0
    after = codes(built)
    assert first["person_id"] not in [pid for _, pid in after]
    # The rest of the first stratum move up one place, in the same order.
    stratum = first["stratum"]
    old = [pid for code, pid in before if code.rstrip("0123456789") == stratum]
    new = [pid for code, pid in after if code.rstrip("0123456789") == stratum]
    assert new[: len(old) - 1] == old[1:]

    exclusions.write_text("email,reason\nnobody,declined\n", encoding="utf-8")
    result = snakemake(built, "--cores", "1")
    assert result.returncode != 0
    assert (
        "collabscope: error: exclusions.csv, line 2: 'nobody' is not an e-mail address"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    configure(built)
    assert snakemake(built, "--cores", "1").returncode == 0
    assert codes(built) == before


def test_an_unknown_sampling_dataset_fails_at_once(tmp_path: Path) -> None:
    write_config(tmp_path, PAIR, sampling={"dataset": "china-uk"})
    (tmp_path / "resources").symlink_to(PROJECT / "resources")
    result = snakemake(tmp_path, "-n")
    assert result.returncode != 0
    assert (
        "collabscope: error: config sampling.dataset: 'china-uk' is not a dataset (datasets: pair)"
        in result.stderr
    )
