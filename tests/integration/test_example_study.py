"""The bundled example study end to end, as `snakemake --cores all` runs it, twice.

Checks what a user relies on: the report is written, every record of every export is accounted
for exactly as the generator's ground truth says, and a second run from scratch (with another
number of cores) gives byte-identical tables.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import stat
from pathlib import Path

import polars as pl
import pytest

from collabscope import schemas
from collabscope.normalise.institutions import normalise_institution_text
from collabscope.tableio import scan_table, table_path
from tests.conftest import PROJECT
from tests.unit.test_institutions import TRUTH_NAMES
from tests.workflow.helpers import normalised_addresses, normalised_funding, read_table, snakemake

pytestmark = pytest.mark.workflow
EXAMPLE = PROJECT / "resources" / "example"


def _truth(name: str) -> list[dict[str, str]]:
    with open(EXAMPLE / "truth" / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _run_example(directory: Path, cores: int) -> Path:
    directory.mkdir()
    (directory / "resources").symlink_to(PROJECT / "resources")
    shutil.copy(PROJECT / "config" / "config.yaml", directory / "config.yaml")
    result = snakemake(directory, "--cores", str(cores), timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return directory / "results"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("example")
    # Different core counts give the jobs different polars thread counts: same bytes anyway.
    return _run_example(base / "first", cores=2), _run_example(base / "second", cores=1)


def _canonical(tables: Path, table: schemas.Table) -> pl.DataFrame:
    """A canonical table as one frame, sorted by its key (a part table comes in shard order)."""
    return scan_table(table_path(tables, table), table).collect().sort(table.key)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_both_runs_write_byte_identical_tables(two_runs: tuple[Path, Path]) -> None:
    first, second = two_runs
    names = sorted(p.name for p in (first / "tables").iterdir())
    tables = (*schemas.CANONICAL_TABLES, *schemas.MERGE_TABLES, *schemas.CLASSIFIED_TABLES)
    assert names == sorted(table_path("", t).name for t in tables)
    for name in names:
        assert _digest(first / "tables" / name) == _digest(second / "tables" / name), name


def test_accounting_equals_the_generators_truth(two_runs: tuple[Path, Path]) -> None:
    accounting = pl.read_parquet(two_runs[0] / "tables" / "accounting.parquet")
    got = {
        Path(row["file"]).as_posix().split("resources/example/", 1)[1]: row
        for row in accounting.iter_rows(named=True)
    }
    truth = _truth("files.tsv")
    assert sorted(got) == sorted(row["file"] for row in truth)
    for row in truth:
        mine = got[row["file"]]
        assert (
            mine["records_seen"],
            mine["parsed"],
            mine["duplicates"],
            mine["quarantined"],
            mine["format"],
            mine["encoding"],
            mine["line_endings"],
        ) == (
            int(row["records_written"]),
            int(row["expected_parsed"]),
            int(row["expected_duplicates"]),
            int(row["expected_quarantined"]),
            row["format"],
            row["encoding"],
            row["line_endings"],
        ), row["file"]
        assert mine["records_seen"] == mine["parsed"] + mine["duplicates"] + mine["quarantined"]


def test_records_and_datasets_equal_the_truth(two_runs: tuple[Path, Path]) -> None:
    tables = two_runs[0] / "tables"
    truth = _truth("records.tsv")
    records = _canonical(tables, schemas.RECORDS)
    assert sorted(records["record_id"]) == sorted(row["ut"] for row in truth)
    expected = sorted((d, row["ut"]) for row in truth for d in row["datasets"].split(","))
    dataset_records = pl.read_parquet(tables / "dataset_records.parquet")
    assert sorted(dataset_records.iter_rows()) == expected
    datasets = pl.read_parquet(tables / "datasets.parquet")
    per_dataset = dict(datasets.select("dataset", "records").iter_rows())
    for name, count in per_dataset.items():
        assert count == sum(1 for d, _ in expected if d == name), name
    # The one record the generator broke on purpose is in quarantine with its reason.
    quarantine = pl.read_parquet(tables / "quarantine.parquet")
    assert quarantine.height == 1
    assert quarantine["reason"][0].startswith("no UT")


def test_report_shows_the_counts_and_escapes_titles(two_runs: tuple[Path, Path]) -> None:
    html = (two_runs[0] / "report" / "index.html").read_text(encoding="utf-8")
    datasets = pl.read_parquet(two_runs[0] / "tables" / "datasets.parquet")
    for name, count in datasets.select("dataset", "records").iter_rows():
        assert name in html
        assert f"{count:,}" in html or str(count) in html
    assert "<script>alert" not in html


def test_every_address_gets_its_true_country(two_runs: tuple[Path, Path]) -> None:
    normalised = normalised_addresses(two_runs[0])
    truth = {(row["ut"], int(row["position"])): row["country"] for row in _truth("addresses.tsv")}
    got = {
        (row["record_id"], row["address_pos"]): row["country"]
        for row in normalised.iter_rows(named=True)
    }
    assert len(got) == len(truth) > 3000
    wrong = {key: (got.get(key), truth[key]) for key in truth if got.get(key) != truth[key]}
    assert wrong == {}


def test_funders_are_matched_and_the_review_queue_is_written(two_runs: tuple[Path, Path]) -> None:
    funding = _canonical(two_runs[0] / "tables", schemas.FUNDING)
    normalised = normalised_funding(two_runs[0])
    assert normalised.select("record_id", "funder_pos").equals(
        funding.select("record_id", "funder_pos")
    )
    truth = {(row["ut"], row["raw"]): row["canonical"] for row in _truth("funders.tsv")}
    assert len(truth) > 500
    matched = normalised.filter(pl.col("funder_id").is_not_null())
    assert matched.height == normalised.height  # every example funder is in the registry
    review = (two_runs[0] / "review" / "funders.csv").read_text(encoding="utf-8")
    assert review.startswith("funder_text,")


def test_uk_and_china_addresses_get_their_true_institution(two_runs: tuple[Path, Path]) -> None:
    normalised = normalised_addresses(two_runs[0])
    got = {
        (row["record_id"], row["address_pos"]): row["institution_id"]
        for row in normalised.iter_rows(named=True)
    }
    # The truth names institutions; find their registry ids by name (a few are spelt apart).
    registry = pl.read_csv(PROJECT / "resources" / "institutions" / "institutions.csv")
    key = normalise_institution_text(pl.col("name")).str.replace_all(r"[^a-z]", "")
    by_name = dict(registry.select(key, "institution_id").iter_rows())
    truth = {}
    for row in _truth("addresses.tsv"):
        if row["country"] in ("GBR", "CHN"):
            name_key = pl.select(
                normalise_institution_text(pl.lit(row["institution"])).str.replace_all(
                    r"[^a-z]", ""
                )
            ).item()
            truth[(row["ut"], int(row["position"]))] = TRUTH_NAMES.get(
                row["institution"], by_name.get(name_key)
            )
    assert len(truth) > 2000
    assert None not in truth.values()
    wrong = {key: (got[key], truth[key]) for key in truth if got[key] != truth[key]}
    assert wrong == {}
    for name in ("affiliations_unmatched.csv", "affiliations_low_confidence.csv"):
        assert (two_runs[0] / "review" / name).is_file()


# --- sampling (issue 5) -----------------------------------------------------------------------
# Outputs with names or e-mails: results/private/. The canonical and intermediate tables are the
# exports' own AU/AF/EM columns (marked "personal data" in docs/tables.md), not outputs for
# publication (results/parts/ holds per-shard parts of such tables); everything else a run
# writes is public and is searched below.
TABLE_DIRS = ("private", "tables", "shards", "normalised", "parts")


def test_pool_sample_and_letters_are_byte_identical_across_runs(
    two_runs: tuple[Path, Path],
) -> None:
    first, second = two_runs
    names = [
        "private/pool.parquet",
        "private/pool.csv",
        "private/sample.csv",
        "private/mail_merge.csv",
        "sampling/summary.csv",
    ]
    letters = sorted(
        p.relative_to(first).as_posix() for p in (first / "private" / "invitations").rglob("*.txt")
    )
    assert len(letters) == 32  # 4 strata x (5 invitees + 3 reserves)
    for name in names + letters:
        assert _digest(first / name) == _digest(second / name), name


def test_pool_equals_the_generators_truth(two_runs: tuple[Path, Path]) -> None:
    results = two_runs[0]
    truth = [r for r in _truth("records.tsv") if {"CHN", "GBR"} <= set(r["countries"].split(","))]
    pool = pl.read_parquet(results / "private" / "pool.parquet")
    papers = set(pool["record_ids"].explode())
    log = (results.parent / "logs" / "build_pool" / "build_pool.log").read_text()
    assert f"'papers': {len(truth)}," in log
    # A pair paper without any person in the pool has no author linked to an address (C1
    # without [author] brackets, reprint author unnamed or outside the focal countries).
    missing = {r["ut"]: r["quirks"] for r in truth if r["ut"] not in papers}
    assert papers <= {r["ut"] for r in truth}
    assert len(missing) == 5
    assert all("c1_unlinked" in quirks for quirks in missing.values())
    # The generator draws every author of every paper afresh: one person per pool authorship,
    # and namesakes ('Li, Rui' twice, at different institutions) stay apart.
    assert pool.height == 937
    assert pool["n_authorships"].sum() == pool.height
    assert pl.read_csv(results / "private" / "pool_merges.csv").height == 0
    namesakes = pool.group_by("full_name").agg(pl.col("institution_id").n_unique(), pl.len())
    assert namesakes.filter(pl.col("len") > 1).height >= 5
    # Every linked e-mail is its owner's: the generator builds it from the person's plain name.
    linked = pool.drop_nulls("email").with_columns(
        surname=pl.col("full_name")
        .str.split(",")
        .list.first()
        .str.normalize("NFKD")
        .str.replace_all(r"[^A-Za-z]", "")
        .str.to_lowercase(),
        local=pl.col("email").str.split("@").list.first().str.replace_all(r"[^a-z]", ""),
    )
    assert linked.height == 383
    assert linked.filter(~pl.col("local").str.contains(pl.col("surname"), literal=True)).height == 0


def test_lead_side_equals_the_generators_truth(two_runs: tuple[Path, Path]) -> None:
    from collabscope.sampling.pool import paper_lead_country

    results = two_runs[0]
    leads = paper_lead_country(
        normalised_addresses(results).lazy(),
        scan_table(table_path(results / "tables", schemas.AUTHOR_ADDRESS), schemas.AUTHOR_ADDRESS),
    ).collect()
    got = {r: (c, rule) for r, c, rule in leads.iter_rows()}
    truth = {r["ut"]: (r["lead_country"], r["lead_rule"]) for r in _truth("records.tsv")}
    with_lead = {ut: lead for ut, lead in truth.items() if lead[1] != "none"}
    assert len(with_lead) > 1200
    assert {ut: got.get(ut) for ut in with_lead} == with_lead
    assert not set(got) - set(with_lead)  # no lead where the truth has none


def test_private_outputs_are_owner_only(two_runs: tuple[Path, Path]) -> None:
    private = two_runs[0] / "private"
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    for path in private.rglob("*"):
        if path.name == ".snakemake_timestamp":
            continue  # Snakemake's empty marker of a directory output
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, path


def _public_text(path: Path) -> str:
    if path.suffix == ".parquet":  # compressed: search the values, not the bytes
        return pl.read_parquet(path).cast(pl.String, strict=False).write_csv()
    return path.read_bytes().decode("utf-8", errors="replace")


def test_no_name_or_email_of_the_pool_in_any_public_output_or_log(
    two_runs: tuple[Path, Path],
) -> None:
    results = two_runs[0]
    pool = pl.read_parquet(results / "private" / "pool.parquet")
    secrets = set(pool["emails"].explode().drop_nulls()) | set(pool["full_name"])
    secrets |= set(pool["full_names"].explode()) | set(pool["email"].drop_nulls())
    assert len(secrets) > 1200
    public = [
        p
        for p in results.rglob("*")
        if p.is_file() and p.relative_to(results).parts[0] not in TABLE_DIRS
    ]
    for folder in ("logs", "benchmarks"):
        public += [p for p in (results.parent / folder).rglob("*") if p.is_file()]
    assert {p.relative_to(results.parent).parts[0] for p in public} == {
        "results",
        "logs",
        "benchmarks",
    }
    assert any(p.name == "summary.csv" for p in public)
    assert any(p.name == "build_pool.log" for p in public)
    found = {}
    for path in public:
        text = _public_text(path).lower()
        hits = sorted(s for s in secrets if s.lower() in text)
        if hits:
            found[str(path.relative_to(results.parent))] = hits[:5]
    assert found == {}


def test_a_web_of_science_only_study_has_one_work_per_record(two_runs: tuple[Path, Path]) -> None:
    tables = two_runs[0] / "tables"
    records = _canonical(tables, schemas.RECORDS)
    works = read_table(tables, schemas.WORKS)
    merge_accounting = pl.read_parquet(tables / "merge_accounting.parquet")
    assert works.height == records.height
    assert works["sources"].to_list() == [["wos"]] * works.height
    assert merge_accounting["merged"].sum() == 0
    assert merge_accounting["parsed"].sum() == records.height


def test_indicators_are_byte_identical_across_core_counts(two_runs: tuple[Path, Path]) -> None:
    first, second = two_runs
    names = sorted(p.name for p in (first / "indicators").iterdir())
    assert len(names) == 2 * len(schemas.INDICATORS)
    for name in names:
        assert _digest(first / "indicators" / name) == _digest(second / "indicators" / name), name


def test_every_lead_and_citation_link_equals_the_truth(two_runs: tuple[Path, Path]) -> None:
    classes = read_table(two_runs[0] / "tables", schemas.PAPER_CLASSES).filter(
        pl.col("focal") == "CHN"
    )
    got = dict(classes.select("record_id", "lead_country").iter_rows())
    source = dict(classes.select("record_id", "address_source").iter_rows())
    truth = _truth("records.tsv")
    with_c1 = [row for row in truth if row["lead_rule"] != "none"]
    assert len(with_c1) > 1200
    assert {row["ut"]: got[row["ut"]] for row in with_c1} == {
        row["ut"]: row["lead_country"] for row in with_c1
    }
    # Records without C1 are classified by their reprint address, never dropped.
    assert {source[row["ut"]] for row in truth if row["lead_rule"] == "none"} == {"reprint"}
    links = pl.read_parquet(two_runs[0] / "tables" / "citation_links.parquet")
    expected = {
        (row["citing_ut"], int(row["ref_pos"]), row["cited_ut"]) for row in _truth("citations.tsv")
    }
    assert len(expected) > 300
    assert set(links.select("record_id", "ref_pos", "cited_record_id").iter_rows()) == expected


# --- issue 9: the example's fictional coded interviews ----------------------------------------
def test_qualitative_tables_are_byte_identical_and_hold_the_examples_numbers(
    two_runs: tuple[Path, Path],
) -> None:
    first, second = two_runs
    names = sorted(p.name for p in (first / "qualitative").iterdir())
    assert len(names) == 2 * len(schemas.QUALITATIVE_TABLES)
    for name in names:
        assert _digest(first / "qualitative" / name) == _digest(second / "qualitative" / name)
    people = pl.read_parquet(first / "qualitative" / "participants.parquet")
    assert (people.height, people["respondent"].sum(), (~people["from_pool"]).sum()) == (13, 12, 2)
    sheet = (EXAMPLE / "qualitative" / "segments.csv").read_text(encoding="utf-8")
    segments = pl.read_parquet(first / "qualitative" / "segments.parquet")
    assert segments.height == sheet.count("\n") - 1  # the .qdpx holds the sheet's coding
    themes = pl.read_parquet(first / "qualitative" / "codebook.parquet").filter("is_theme")
    assert sorted(themes["theme"]) == [
        "Challenges",
        "Dissemination",
        "Distribution of responsibilities",
        "Initiation",
        "Motivations",
    ]
    joint = pl.read_parquet(first / "qualitative" / "joint_display.parquet")
    assert joint["stratum"].to_list() == ["UK-R", "UK-NR", "MC-DF", "MC-NDF", "(outside the pool)"]
    collaboration = pl.read_parquet(first / "indicators" / "collaboration.parquet").filter(
        (pl.col("dataset") == "uk") & (pl.col("granularity") == "period")
    )
    gbr = collaboration.filter(pl.col("focal") == "GBR").sort("first_year")
    uk_r = joint.row(0, named=True)
    assert (uk_r["icp_share_first"], uk_r["icp_share_last"]) == (
        gbr["icp_share"][0],
        gbr["icp_share"][-1],
    )
    for path in [*(first / "qualitative").iterdir(), *(first / "report").glob("*.*")]:
        assert b"Fictional Person" not in path.read_bytes(), path


# --- the report (issue 6) ---------------------------------------------------------------------


def test_report_is_byte_identical_across_core_counts(two_runs: tuple[Path, Path]) -> None:
    first, second = two_runs
    files = sorted(p.relative_to(first).as_posix() for p in (first / "report").rglob("*"))
    assert "report/tables.xlsx" in files and "report/figures/pair_lead_trend.svg" in files
    for name in files:
        if (first / name).is_file():
            assert _digest(first / name) == _digest(second / name), name
