"""The workflow end to end on a study mixing Web of Science, Scopus, CSSCI and OpenAlex files."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from collabscope import schemas
from collabscope.tableio import read_parts_manifest, scan_table, table_path
from tests.unit.test_cssci import BANNER, RECORD_1
from tests.unit.test_openalex import WORK
from tests.unit.test_scopus import ROW_1, scopus_csv
from tests.workflow.helpers import (
    normalised_addresses,
    planned_jobs,
    read_table,
    snakemake,
    write_config,
)


def _exports(root: Path) -> None:
    exports = root / "exports"
    exports.mkdir(parents=True)
    # The WoS version of the Scopus record ROW_1 (same DOI), with WoS's own address style.
    (exports / "wos.txt").write_text(
        "FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Li, X\nAU Smith, JA\n"
        "TI Teacher education in China and England\nSO COMPARATIVE EDUCATION\n"
        "C1 [Li, X] Beijing Normal Univ, Fac Educ, Beijing, Peoples R China.\n"
        "C1 [Smith, JA] Univ Oxford, Dept Educ, Oxford, England.\n"
        "PY 2019\nDI 10.1080/03050068.2019.1234567\nUT WOS:000000000000001\nER\n\nEF\n",
        encoding="utf-8",
    )
    (exports / "scopus.csv").write_bytes(scopus_csv([ROW_1]))
    (exports / "cssci.txt").write_bytes((BANNER + RECORD_1).encode("gb18030"))
    (exports / "openalex.jsonl").write_text(json.dumps(WORK) + "\n", encoding="utf-8")


def test_mixed_sources_run_end_to_end(tmp_path: Path) -> None:
    _exports(tmp_path)
    datasets = {"mixed": {"exports": ["exports/*"]}}
    write_config(tmp_path, datasets)
    run = snakemake(tmp_path, "--cores", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    tables = tmp_path / "results" / "tables"
    accounting = pl.read_parquet(tables / "accounting.parquet").sort("file")
    assert accounting.select("format", "encoding", "parsed").rows() == [
        ("cssci", "gb18030", 1),
        ("openalex_jsonl", "ascii", 1),
        ("scopus_csv", "utf-8-sig", 1),
        ("wos_plain", "ascii", 1),
    ]
    # WoS and Scopus share the DOI; OpenAlex (another DOI) has the same title, year and first
    # author: one work, primary WoS. The CSSCI record's English title is another paper's.
    works = read_table(tables, schemas.WORKS).sort("work_id")
    cross = works.filter("cross_source")
    assert cross.select("work_id", "sources").rows() == [
        ("WOS:000000000000001", ["openalex", "scopus", "wos"])
    ]
    fields = read_table(tables, schemas.WORK_FIELDS).filter(
        pl.col("work_id") == "WOS:000000000000001"
    )
    assert dict(fields.select("field", "source").rows())["funding"] == "scopus"
    assert dict(fields.select("field", "source").rows())["addresses"] == "wos"

    # Each source's addresses are read its own way: all four find China and the UK.
    addresses = normalised_addresses(tmp_path / "results")
    records = scan_table(table_path(tables, schemas.RECORDS), schemas.RECORDS).collect()
    records = records.select("record_id", "source")
    by_source = (
        addresses.filter(pl.col("kind") == "affiliation")
        .join(records, on="record_id")
        .group_by("source")
        .agg(pl.col("country").unique().sort())
        .sort("source")
    )
    assert by_source.rows() == [
        ("cssci", ["CHN", "GBR", "HKG"]),
        ("openalex", ["CHN", "GBR", "PRT"]),
        ("scopus", ["CHN", "GBR"]),
        ("wos", ["CHN", "GBR"]),
    ]

    # Classification and indicators count works: the WoS, Scopus and OpenAlex records are one
    # paper, classified by the WoS addresses (China and the UK; OpenAlex adds Portugal).
    classes = read_table(tables, schemas.PAPER_CLASSES)
    assert classes.height == 6  # two works, three rows each (CHN, GBR, CHN+GBR)
    # A work's records can be in several shards: merged works are classified together.
    assert len(read_parts_manifest(table_path(tables, schemas.PAPER_CLASSES)).files) == 1
    pair = classes.filter(pl.col("scope") == "pair").sort("record_id")
    assert pair.select("record_id", "countries", "category").rows() == [
        ("CSSCI:fd7b24973e1887c8", ["CHN", "GBR", "HKG"], "x_led"),
        ("WOS:000000000000001", ["CHN", "GBR"], "x_led"),
    ]
    outputs = pl.read_parquet(tmp_path / "results" / "indicators" / "outputs.parquet")
    year = outputs.filter(pl.col("granularity") == "year", pl.col("focal") == "CHN+GBR")
    assert year.select("dataset", "period", "records", "focal_records").rows() == [
        ("mixed", "2019", 2, 2)
    ]
    # The pool: Li and Smith have one paper each (three records), by its work id.
    pool = pl.read_parquet(tmp_path / "results" / "private" / "pool.parquet")
    assert sorted(
        pool.filter(pl.col("name").is_in(["Li, X", "Smith, JA"]))
        .select("name", "n_pair_papers", "record_ids")
        .rows()
    ) == [("Li, X", 1, ["WOS:000000000000001"]), ("Smith, JA", 1, ["WOS:000000000000001"])]

    report = (tmp_path / "results" / "report" / "report.md").read_text(encoding="utf-8")
    assert "the 4 records are 2 works (1 held by more than one source)" in report

    # Changing where funders come from reruns the merge and what reads it (classification,
    # indicators, the pool and its draw, the report), never parsing or normalisation.
    merge = {"field_sources": {"funding": ["wos", "scopus", "openalex", "cssci"]}}
    write_config(tmp_path, datasets, merge=merge)
    assert planned_jobs(snakemake(tmp_path, "-n").stdout) == {
        "merge_works": 1,
        "classify_papers": 1,
        "compute_indicators": 1,
        "compare_runs": 1,
        "build_pool": 1,
        "draw_sample": 1,
        "write_invitations": 1,
        "render_report": 1,
        "all": 1,
    }

    # Addresses from OpenAlex first: the same work becomes trilateral (its own countries,
    # read the OpenAlex way), and is still counted once.
    merge = {"field_sources": {"addresses": ["openalex", "wos", "scopus", "cssci"]}}
    write_config(tmp_path, datasets, merge=merge)
    run = snakemake(tmp_path, "--cores", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    classes = read_table(tables, schemas.PAPER_CLASSES)
    assert classes.height == 6
    work = classes.filter(pl.col("record_id") == "WOS:000000000000001", pl.col("focal") == "CHN")
    assert work.select("countries", "collab_type").rows() == [(["CHN", "GBR", "PRT"], "trilateral")]
