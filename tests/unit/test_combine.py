"""Duplicates across shards: first occurrence by (file, line) wins, wherever the shards split."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from collabscope import schemas
from collabscope.combine import combine_shards
from collabscope.parse.shard import parse_shard
from tests.workflow.helpers import wos_plain_file


def _run(tmp_path: Path, shards: list[dict[str, list[str]]]) -> dict[str, pl.DataFrame]:
    dirs = []
    for i, files in enumerate(shards):
        out = tmp_path / "shards" / str(i)
        parse_shard(files, {t.name: out / f"{t.name}.parquet" for t in schemas.SHARD_TABLES})
        dirs.append(out)
    outputs = {t.name: tmp_path / "tables" / f"{t.name}.parquet" for t in schemas.CANONICAL_TABLES}
    combine_shards(dirs, {"world": {"exports": ["*"]}, "china": {"exports": ["*"]}}, outputs)
    return {name: pl.read_parquet(path) for name, path in outputs.items()}


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


def test_tables_written_in_record_id_parts_equal_one_piece(tmp_path: Path, monkeypatch) -> None:
    files = {
        str(wos_plain_file(tmp_path / f"{i}.txt", range(i * 7, i * 7 + 9))): ["world"]
        for i in range(4)
    }
    shards = [dict(list(files.items())[:2]), dict(list(files.items())[2:])]
    whole = _run(tmp_path / "whole", shards)
    monkeypatch.setattr("collabscope.combine.PART_BYTES", 1)  # one part per few records
    parts = _run(tmp_path / "parts", shards)
    for table in (schemas.RECORDS, *schemas.CHILD_TABLES):
        assert parts[table.name].equals(whole[table.name]), table.name
        keys = parts[table.name].select(table.key)
        assert keys.equals(keys.sort(table.key)), table.name
    assert whole["records"].height == 30  # ids 0-29, those of overlapping files once
    assert whole["addresses"].height == 30
