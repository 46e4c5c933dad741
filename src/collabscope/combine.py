"""Combine the parse shards into the canonical tables under ``results/tables/``.

Deduplication across shards follows the rule each shard applied inside itself: the first
occurrence of a record id in (file path, line) order is the record; every later occurrence is a
duplicate, counted against its own file in ``accounting``. ``records`` and its child tables
(authorships, addresses, …) stay in the shards' files: a manifest lists them, and ``superseded``
the later occurrences a shard holds, whose rows are not part of the tables. A new export file
then changes one shard and these small tables, not a copy of the whole corpus.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypedDict

import polars as pl

from collabscope import schemas
from collabscope.tableio import scan_table, write_parts_manifest, write_table

log = logging.getLogger(__name__)
_HASH_SEED = 20240501  # any fixed seed: the hash only picks candidates, strings decide


class DatasetSpec(TypedDict, total=False):
    exports: list[str]
    description: str
    query: str


def _scan_shards(shard_dirs: Sequence[Path], table: schemas.Table) -> pl.LazyFrame:
    frames = [
        scan_table(Path(d) / f"{table.name}.parquet", table).with_columns(
            _shard=pl.lit(Path(d).name, dtype=pl.String)
        )
        for d in shard_dirs
    ]
    if not frames:
        return table.empty().lazy().with_columns(_shard=pl.lit("", dtype=pl.String))
    return pl.concat(frames, how="vertical")


def combine_shards(
    shard_dirs: Sequence[str | Path],
    datasets: Mapping[str, DatasetSpec],
    outputs: Mapping[str, str | Path],
) -> dict[str, int]:
    """Stage function: write every canonical table; return a few counts for the log."""
    dirs = [Path(d) for d in shard_dirs]
    kept = _scan_shards(dirs, schemas.RECORDS).select("record_id").collect()
    # A shard keeps one occurrence of an id; another shard's file may hold it first. The ids
    # kept by several shards are found by a 64-bit hash of each id, then checked as strings
    # among the few candidates: grouping two million strings took most of a refresh's job.
    candidates = kept.filter(pl.col("record_id").hash(_HASH_SEED).is_duplicated())
    in_several = candidates.filter(pl.col("record_id").is_duplicated())["record_id"].unique()
    in_several_shards = pl.col("record_id").is_in(in_several.implode())
    occurrences = _scan_shards(dirs, schemas.RECORDS).select(
        "record_id", "source_file", "source_line", "_shard"
    )
    duplicated = (
        occurrences.filter(in_several_shards).collect().sort("source_file", "source_line", "_shard")
        if in_several.len()
        else occurrences.clear().collect()  # none: no need to read every record's source again
    )
    first = pl.col("record_id").is_first_distinct()
    superseded = (
        duplicated.filter(~first)
        .join(
            duplicated.filter(first).select("record_id", kept_shard="_shard"),
            on="record_id",
            how="left",
        )
        .rename({"_shard": "shard"})
    )
    write_table(superseded, schemas.SUPERSEDED, outputs["superseded"])
    for table in schemas.PART_TABLES:
        write_parts_manifest(
            table,
            [(d.name, d / f"{table.name}.parquet") for d in dirs],
            outputs["superseded"],
            outputs[table.name],
        )

    # Occurrences a shard kept that another shard's file holds first: duplicates of their file.
    cross_duplicates = (
        superseded.group_by("source_file")
        .agg(moved=pl.len().cast(pl.Int64))
        .rename({"source_file": "file"})
        .lazy()
    )
    accounting = (
        _scan_shards(dirs, schemas.ACCOUNTING)
        .drop("_shard")
        .join(cross_duplicates, on="file", how="left")
        .with_columns(moved=pl.col("moved").fill_null(0))
        .with_columns(
            parsed=pl.col("parsed") - pl.col("moved"),
            duplicates=pl.col("duplicates") + pl.col("moved"),
        )
        .drop("moved")
        .collect()
    )
    _check_accounting(accounting)
    write_table(accounting, schemas.ACCOUNTING, outputs["accounting"])
    quarantine = _scan_shards(dirs, schemas.QUARANTINE).drop("_shard")
    write_table(quarantine, schemas.QUARANTINE, outputs["quarantine"])
    # Each shard lists a record's datasets once; only the ids of several shards can repeat.
    memberships = _scan_shards(dirs, schemas.DATASET_RECORDS).drop("_shard")
    dataset_records = pl.concat(
        [memberships.filter(~in_several_shards), memberships.filter(in_several_shards).unique()]
    ).collect()
    write_table(dataset_records, schemas.DATASET_RECORDS, outputs["dataset_records"])
    write_table(
        dataset_table(datasets, accounting, dataset_records),
        schemas.DATASETS,
        outputs["datasets"],
    )
    counts = {
        "records": kept.height - superseded.height,
        "files": accounting.height,
        "duplicates": int(accounting["duplicates"].sum()),
        "quarantined": int(accounting["quarantined"].sum()),
    }
    log.info("canonical tables: %s", counts)
    return counts


def _check_accounting(accounting: pl.DataFrame) -> None:
    unbalanced = accounting.filter(
        pl.col("records_seen") != pl.col("parsed") + pl.col("duplicates") + pl.col("quarantined")
    )
    if unbalanced.height:
        raise AssertionError(f"accounting does not add up for {unbalanced['file'].to_list()}")


def dataset_table(
    datasets: Mapping[str, DatasetSpec],
    accounting: pl.DataFrame,
    dataset_records: pl.DataFrame,
) -> pl.DataFrame:
    files = (
        accounting.select("file", "datasets")
        .explode("datasets")
        .group_by("datasets")
        .agg(n_files=pl.len().cast(pl.Int64))
        .rename({"datasets": "dataset"})
    )
    counts = dataset_records.group_by("dataset").agg(records=pl.len().cast(pl.Int64))
    specs = pl.DataFrame(
        {
            "dataset": list(datasets),
            "description": [datasets[d].get("description", "") for d in datasets],
            "query": [datasets[d].get("query", "") for d in datasets],
            "patterns": [list(datasets[d].get("exports", [])) for d in datasets],
        },
        schema={
            "dataset": pl.String,
            "description": pl.String,
            "query": pl.String,
            "patterns": pl.List(pl.String),
        },
    )
    return (
        specs.join(files, on="dataset", how="left")
        .join(counts, on="dataset", how="left")
        .with_columns(pl.col("n_files", "records").fill_null(0))
    )
