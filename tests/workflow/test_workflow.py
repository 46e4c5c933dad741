"""The workflow as a user meets it: lint, config errors, sharding and incremental reruns."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from collabscope.config import config_problems, load_schema
from collabscope.report.model import FIGURES
from collabscope.sharding import shard_of
from tests.conftest import PROJECT
from tests.workflow.helpers import (
    normalised_addresses,
    planned_jobs,
    snakemake,
    wos_plain_file,
    write_config,
)

pytestmark = pytest.mark.workflow
SCHEMA = PROJECT / "workflow" / "schemas" / "config.schema.yaml"
# The sampling rules follow any change of the tables or the normalised addresses.
SAMPLING_JOBS = {"build_pool": 1, "draw_sample": 1, "write_invitations": 1}


def test_lint_is_clean() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def _objects(schema: dict, where: str = "config"):
    if schema.get("type") == "object":
        yield where, schema
        for key, sub in schema.get("properties", {}).items():
            yield from _objects(sub, f"{where}.{key}")
        if isinstance(schema.get("additionalProperties"), dict):
            yield from _objects(schema["additionalProperties"], f"{where}.<name>")


def test_schema_refuses_unknown_keys_and_documents_every_key() -> None:
    schema = load_schema(SCHEMA)
    for where, obj in _objects(schema):
        assert obj.get("additionalProperties") is not True, where
        assert "additionalProperties" in obj, where
        for key, sub in obj.get("properties", {}).items():
            assert sub.get("description"), f"{where}.{key} has no description"
            if key not in obj.get("required", []):
                assert "default" in sub, f"{where}.{key} has no default"


def test_default_config_is_valid() -> None:
    config = yaml.safe_load((PROJECT / "config" / "config.yaml").read_text())
    assert config_problems(config, load_schema(SCHEMA)) == []


def test_config_typo_fails_at_once_naming_the_key(tmp_path: Path) -> None:
    wos_plain_file(tmp_path / "exports" / "a.txt", range(3))
    write_config(tmp_path, {"a": {"exports": ["exports/*.txt"], "descripton": "typo"}})
    result = snakemake(tmp_path, "-n")
    assert result.returncode != 0
    assert (
        "collabscope: error: config datasets.a: unknown key 'descripton' "
        "(did you mean 'description'?)" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_pattern_matching_no_file_fails_naming_it(tmp_path: Path) -> None:
    write_config(tmp_path, {"a": {"exports": ["exprots/*.txt"]}})
    result = snakemake(tmp_path, "-n")
    assert result.returncode != 0
    assert "dataset 'a': export pattern 'exprots/*.txt' matches no file" in result.stderr


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the file is empty"),
        (b"<!DOCTYPE html><html><body>Session expired</body></html>\n", "HTML/XML page"),
        (b"PK\x03\x04\x14\x00\x00\x00", "ZIP archive"),
        (b"Authors,Title,Year,Source title,EID;;;\n", "re-saved by a spreadsheet"),
        (b"hello world\n", "not a recognised export"),
    ],
)
def test_bad_export_stops_the_run_with_one_line(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    wos_plain_file(tmp_path / "exports" / "good.txt", range(2))
    (tmp_path / "exports" / "bad.txt").write_bytes(content)
    write_config(tmp_path, {"a": {"exports": ["exports/*.txt"]}})
    result = snakemake(tmp_path, "--cores", "1")
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("collabscope: error")]
    assert len(errors) == 1, result.stderr
    assert "exports/bad.txt" in errors[0] and problem in errors[0]
    assert "Traceback" not in result.stderr


def test_undecodable_bytes_deep_in_a_file_fail_the_parse_job_naming_file_and_line(
    tmp_path: Path,
) -> None:
    path = wos_plain_file(tmp_path / "exports" / "latin1.txt", range(400))
    text = path.read_bytes().replace(b"TI Record 350", b"TI M\xfcller's record")
    path.write_bytes(text)
    line = text[: text.index(b"M\xfcller")].count(b"\n") + 1
    write_config(tmp_path, {"a": {"exports": ["exports/*.txt"]}})
    result = snakemake(tmp_path, "--cores", "1")
    assert result.returncode != 0
    assert f"collabscope: error: exports/latin1.txt, line {line}: byte(s) fc" in result.stderr
    assert "Traceback" not in result.stderr


def test_adding_an_export_reruns_only_its_shard(tmp_path: Path) -> None:
    shards = 8
    for i in range(20):
        wos_plain_file(tmp_path / "exports" / f"part{i:02d}.txt", range(i * 10, i * 10 + 10))
    write_config(tmp_path, {"a": {"exports": ["exports/*.txt"]}}, parse={"shards": shards})
    first = snakemake(tmp_path, "--cores", "2")
    assert first.returncode == 0, first.stderr
    assert planned_jobs(snakemake(tmp_path, "-n").stdout) == {}  # nothing left to do

    new = wos_plain_file(tmp_path / "exports" / "part99.txt", range(5000, 5010))
    plan = planned_jobs(snakemake(tmp_path, "-n").stdout)
    assert plan == {
        "parse_exports": 1,
        "build_tables": 1,
        "merge_works": 1,
        "normalise_addresses": 1,
        "normalise_funding": 1,
        "render_report": 1,
        **SAMPLING_JOBS,
        "classify_papers": 1,
        "compute_indicators": 1,
        "compare_runs": 1,
        "all": 1,
    }
    shard = shard_of(str(new.relative_to(tmp_path)), shards)
    dry = snakemake(tmp_path, "-n").stdout
    assert f"results/shards/{shard:04d}/records.parquet" in dry


def test_editing_a_dataset_description_reruns_no_parsing(tmp_path: Path) -> None:
    for i in range(4):
        wos_plain_file(tmp_path / "exports" / f"part{i}.txt", range(i * 10, i * 10 + 10))
    write_config(tmp_path, {"a": {"exports": ["exports/*.txt"], "description": "one"}})
    assert snakemake(tmp_path, "--cores", "2").returncode == 0
    write_config(tmp_path, {"a": {"exports": ["exports/*.txt"], "description": "two"}})
    plan = planned_jobs(snakemake(tmp_path, "-n").stdout)
    assert "parse_exports" not in plan
    assert plan.get("build_tables") == 1


def test_changing_the_country_policy_reruns_only_normalisation(tmp_path: Path) -> None:
    wos_plain_file(tmp_path / "exports" / "a.txt", range(5), country="Scotland")
    write_config(tmp_path, {"a": {"exports": ["exports/*.txt"]}})
    assert snakemake(tmp_path, "--cores", "2").returncode == 0
    results = tmp_path / "results"
    assert set(normalised_addresses(results)["country"]) == {"GBR"}
    policy = {"country_policy": {"uk_nations": "separate"}}
    write_config(tmp_path, {"a": {"exports": ["exports/*.txt"]}}, normalise=policy)
    plan = planned_jobs(snakemake(tmp_path, "-n").stdout)
    # Funders are settled with the records' countries, so they follow; so do the pool, the
    # classification and the report.
    assert plan == {
        "normalise_addresses": 1,
        "normalise_funding": 1,
        **SAMPLING_JOBS,
        "classify_papers": 1,
        "compute_indicators": 1,
        "compare_runs": 1,
        "render_report": 1,
        "all": 1,
    }
    assert snakemake(tmp_path, "--cores", "2").returncode == 0
    normalised = normalised_addresses(results)
    assert set(normalised["country"]) == {"GBR-SCT"}
    assert set(normalised["country_recorded"]) == {"GBR-SCT"}


def test_editing_the_overrides_reruns_only_normalisation(tmp_path: Path) -> None:
    wos_plain_file(tmp_path / "exports" / "a.txt", range(3), country="England")
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("organisation_text,institution_id\n", encoding="utf-8")
    write_config(
        tmp_path, {"a": {"exports": ["exports/*.txt"]}}, normalise={"overrides": "overrides.csv"}
    )
    assert snakemake(tmp_path, "--cores", "2").returncode == 0
    results = tmp_path / "results"
    assert set(normalised_addresses(results)["institution_method"]) == {"none"}  # 'Univ Test'
    overrides.write_text("organisation_text,institution_id\nUniv Test,gbr-ucl\n", encoding="utf-8")
    plan = planned_jobs(snakemake(tmp_path, "-n").stdout)
    assert plan == {
        "normalise_addresses": 1,
        "normalise_funding": 1,
        **SAMPLING_JOBS,
        "classify_papers": 1,
        "compute_indicators": 1,
        "compare_runs": 1,
        "render_report": 1,
        "all": 1,
    }
    assert snakemake(tmp_path, "--cores", "2").returncode == 0
    normalised = normalised_addresses(results)
    assert set(normalised["institution_id"]) == {"gbr-ucl"}
    assert set(normalised["institution_method"]) == {"override"}


def test_ten_thousand_files_plan_one_job_per_shard(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    record = "PT J\nAU A, B\nTI T\nUT WOS:{:015d}\nER\n\nEF\n"
    for i in range(10_000):
        (exports / f"f{i:05d}.txt").write_text(
            "FN Clarivate Analytics Web of Science\n" + record.format(i)
        )
    write_config(tmp_path, {"a": {"exports": ["exports/*.txt"]}}, parse={"shards": 64})
    result = snakemake(tmp_path, "-n", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    plan = planned_jobs(result.stdout)
    # A fixed budget however many files there are: one job per shard plus the fixed stages.
    assert plan == {
        "parse_exports": 64,
        "build_tables": 1,
        "merge_works": 1,
        "normalise_addresses": 1,
        "normalise_funding": 1,
        "render_report": 1,
        **SAMPLING_JOBS,
        "classify_papers": 1,
        "compute_indicators": 1,
        "compare_runs": 1,
        "all": 1,
    }


def test_editing_the_study_title_reruns_the_report_and_nothing_upstream(tmp_path: Path) -> None:
    wos_plain_file(tmp_path / "exports" / "a.txt", range(5))
    write_config(tmp_path, {"a": {"exports": ["exports/*.txt"]}}, study={"title": "One"})
    assert snakemake(tmp_path, "--cores", "2").returncode == 0
    report = tmp_path / "results" / "report"
    assert "<title>One</title>" in (report / "index.html").read_text(encoding="utf-8")
    assert {p.name for p in (report / "figures").iterdir()} == {
        f"{name}.{ext}" for name in FIGURES for ext in ("png", "svg")
    }
    assert len(FIGURES) == 7  # records, countries and the five trends
    write_config(tmp_path, {"a": {"exports": ["exports/*.txt"]}}, study={"title": "Two"})
    plan = planned_jobs(snakemake(tmp_path, "-n").stdout)
    # The report reruns; nothing upstream does (later stages that print the title may follow).
    assert plan["render_report"] == 1
    assert not {"parse_exports", "build_tables", "normalise_addresses", "normalise_funding"} & set(
        plan
    )
    assert snakemake(tmp_path, "--cores", "1").returncode == 0
    assert "<title>Two</title>" in (report / "index.html").read_text(encoding="utf-8")
    assert "# Two\n" in (report / "report.md").read_text(encoding="utf-8")
