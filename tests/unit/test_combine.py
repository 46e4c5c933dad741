"""Duplicates across shards: first occurrence by (file, line) wins, wherever the shards split."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from collabscope import schemas
from collabscope.combine import combine_shards
from collabscope.parse.shard import parse_shard
from collabscope.tableio import scan_table, table_path
from tests.workflow.helpers import wos_plain_file


def _run(tmp_path: Path, shards: list[dict[str, list[str]]]) -> dict[str, pl.DataFrame]:
    dirs = []
    for i, files in enumerate(shards):
        out = tmp_path / "shards" / str(i)
        parse_shard(files, {t.name: out / f"{t.name}.parquet" for t in schemas.SHARD_TABLES})
        dirs.append(out)
    outputs = {t.name: table_path(tmp_path / "tables", t) for t in schemas.CANONICAL_TABLES}
    combine_shards(dirs, {"world": {"exports": ["*"]}, "china": {"exports": ["*"]}}, outputs)
    # Parts come in shard order, each sorted by the key: sorted, the tables of any split agree.
    return {
        t.name: scan_table(outputs[t.name], t).collect().sort(t.key, nulls_last=True)
        for t in schemas.CANONICAL_TABLES
    }


def test_cross_shard_duplicates_are_settled_like_in_shard_ones(tmp_path: Path) -> None:
    a = str(wos_plain_file(tmp_path / "a.txt", range(0, 10), country="Peoples R China"))
    b = str(wos_plain_file(tmp_path / "b.txt", range(5, 15), country="England"))
    split = _run(tmp_path / "split", [{b: ["china"]}, {a: ["world"]}])
    together = _run(tmp_path / "together", [{a: ["world"], b: ["china"]}])
    for name in ("records", "addresses", "authorships", "dataset_records", "accounting"):
        assert split[name].equals(together[name]), name
    records = split["records"]
    assert records.height == 15
    # Records 5-9 are in both files; a.txt comes first, so its occurrence (China) is kept.
    kept = split["addresses"].filter(pl.col("record_id") == f"WOS:{7:015d}")
    assert kept["country_text"].to_list() == ["Peoples R China"]
    accounting = {r["file"]: r for r in split["accounting"].to_dicts()}
    assert (accounting[a]["parsed"], accounting[a]["duplicates"]) == (10, 0)
    assert (accounting[b]["parsed"], accounting[b]["duplicates"]) == (5, 5)
    datasets = split["dataset_records"].group_by("dataset").len().sort("dataset").rows()
    assert datasets == [("china", 10), ("world", 10)]
    assert split["datasets"].select("dataset", "records", "n_files").sort("dataset").rows() == [
        ("china", 10, 1),
        ("world", 10, 1),
    ]


def test_a_record_in_two_shards_of_one_dataset_is_listed_once(tmp_path: Path) -> None:
    a = str(wos_plain_file(tmp_path / "a.txt", range(0, 10), country="Peoples R China"))
    b = str(wos_plain_file(tmp_path / "b.txt", range(5, 15), country="England"))
    split = _run(tmp_path / "split", [{b: ["world"]}, {a: ["world"]}])
    together = _run(tmp_path / "together", [{a: ["world"], b: ["world"]}])
    assert split["dataset_records"].equals(together["dataset_records"])
    assert split["dataset_records"]["dataset"].to_list() == ["world"] * 15
    assert split["superseded"]["record_id"].to_list() == [f"WOS:{i:015d}" for i in range(5, 10)]


def test_part_tables_read_without_the_superseded_occurrences(tmp_path: Path) -> None:
    files = {
        str(wos_plain_file(tmp_path / f"{i}.txt", range(i * 7, i * 7 + 9))): ["world"]
        for i in range(4)
    }
    shards = [dict(list(files.items())[2:]), dict(list(files.items())[:2])]
    tables = _run(tmp_path / "run", shards)
    assert tables["records"].height == 30  # ids 0-29, those of overlapping files once
    for table in schemas.PART_TABLES:
        keys = tables[table.name].select(table.key)
        assert keys.n_unique() == keys.height, table.name
    assert tables["addresses"].height == 30
    assert tables["author_address"].select("record_id").n_unique() == 30
    # Files 1 and 2 share ids 14-15 across the shards; file 1 (shard 1) is first by path.
    superseded = tables["superseded"]
    assert superseded.select("shard", "record_id").rows() == [
        ("0", f"WOS:{14:015d}"),
        ("0", f"WOS:{15:015d}"),
    ]
    assert superseded["source_file"].unique().to_list() == [str(tmp_path / "2.txt")]
    kept = tables["records"].filter(pl.col("record_id") == f"WOS:{14:015d}")
    assert kept["source_file"].to_list() == [str(tmp_path / "1.txt")]


def test_a_results_directory_moved_elsewhere_still_reads(tmp_path: Path) -> None:
    a = str(wos_plain_file(tmp_path / "a.txt", range(0, 6)))
    _run(tmp_path / "run", [{a: ["world"]}])
    shutil.move(tmp_path / "run", tmp_path / "moved")
    moved = table_path(tmp_path / "moved" / "tables", schemas.RECORDS)
    assert scan_table(moved, schemas.RECORDS).collect().height == 6


def test_a_manifest_read_as_another_table_or_with_a_foreign_part_is_an_error(
    tmp_path: Path,
) -> None:
    a = str(wos_plain_file(tmp_path / "a.txt", range(0, 6)))
    _run(tmp_path / "run", [{a: ["world"]}])
    tables = tmp_path / "run" / "tables"
    with pytest.raises(ValueError, match="lists the parts of 'records', not authorships"):
        scan_table(table_path(tables, schemas.RECORDS), schemas.AUTHORSHIPS)
    part = tmp_path / "run" / "shards" / "0" / "records.parquet"
    pl.DataFrame({"record_id": ["WOS:1"]}).write_parquet(part)
    with pytest.raises(ValueError, match=r"records.parquet: schema differs from records"):
        scan_table(table_path(tables, schemas.RECORDS), schemas.RECORDS)
