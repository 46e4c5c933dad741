"""Combine the parse shards into the canonical tables under ``results/tables/``.

Deduplication across shards follows the rule each shard applied inside itself: the first
occurrence of a record id in (file path, line) order is the record; every later occurrence is a
duplicate, counted against its own file in ``accounting``. Child tables (authorships, addresses,
…) keep only the rows of the first occurrence.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypedDict

import polars as pl

from collabscope import schemas
from collabscope.tableio import scan_table, write_table, write_table_parts

log = logging.getLogger(__name__)

# The record tables (records and its children, keyed by record_id first) are written one
# record-id range at a time, so that memory follows the part, not the corpus: about this many
# bytes of compressed shard files per part. On the 200,000-record bench corpus (26 shards)
# build_tables peaked at 4.6 GB in one piece, 2.2 GB with 48 MB parts, 1.5 GB with 32 MB and
# 0.8 GB with 8 MB parts, for 20-28 s of CPU either way. At 2,000,000 records (129 shards,
# shard row groups skipped by range, parts encoded while the next is read): 115 s and 2.8 GB
# with 32 MB parts, 102 s and 4.2 GB with 64 MB (each part has a fixed cost per shard).
PART_BYTES = 64 * 2**20


class DatasetSpec(TypedDict, total=False):
    exports: list[str]
    description: str
    query: str


def _scan_shards(shard_dirs: Sequence[Path], table: schemas.Table) -> pl.LazyFrame:
    frames = [
        scan_table(Path(d) / f"{table.name}.parquet", table).with_columns(
            _shard=pl.lit(i, dtype=pl.Int32)
        )
        for i, d in enumerate(shard_dirs)
    ]
    if not frames:
        return table.empty().lazy().with_columns(_shard=pl.lit(0, dtype=pl.Int32))
    return pl.concat(frames, how="vertical")


def combine_shards(
    shard_dirs: Sequence[str | Path],
    datasets: Mapping[str, DatasetSpec],
    outputs: Mapping[str, str | Path],
) -> dict[str, int]:
    """Stage function: write every canonical table; return a few counts for the log."""
    dirs = [Path(d) for d in shard_dirs]
    occurrences = _scan_shards(dirs, schemas.RECORDS)
    first = (
        occurrences.select("record_id", "source_file", "source_line", "_shard")
        .sort("source_file", "source_line", "_shard")
        .unique("record_id", keep="first", maintain_order=True)
        .select("record_id", "_shard")
        .collect()
    )
    kept = first.lazy()
    # Usually no record occurs in two shards: then every shard row is kept as it is.
    n_occurrences = occurrences.select(pl.len()).collect().item()
    everything_kept = first.height == n_occurrences

    def kept_rows(frame: pl.LazyFrame) -> pl.LazyFrame:
        if not everything_kept:
            frame = frame.join(kept, on=["record_id", "_shard"], how="semi")
        return frame.drop("_shard")

    ids = first.get_column("record_id").sort()
    for table in (schemas.RECORDS, *schemas.CHILD_TABLES):
        size = sum((d / f"{table.name}.parquet").stat().st_size for d in dirs)
        n_parts = max(1, math.ceil(size / PART_BYTES))
        scan = occurrences if table is schemas.RECORDS else _scan_shards(dirs, table)
        parts = (kept_rows(part) for part in _id_range_parts(scan, ids, n_parts))
        write_table_parts(parts, table, outputs[table.name])

    # Occurrences a shard kept that another shard's file holds first: duplicates of their file.
    cross_duplicates = (
        occurrences.join(kept, on=["record_id", "_shard"], how="anti")
        .group_by("source_file")
        .agg(moved=pl.len().cast(pl.Int64))
        .rename({"source_file": "file"})
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
    dataset_records = _scan_shards(dirs, schemas.DATASET_RECORDS).drop("_shard").unique().collect()
    write_table(dataset_records, schemas.DATASET_RECORDS, outputs["dataset_records"])
    write_table(
        dataset_table(datasets, accounting, dataset_records),
        schemas.DATASETS,
        outputs["datasets"],
    )
    counts = {
        "records": first.height,
        "files": accounting.height,
        "duplicates": int(accounting["duplicates"].sum()),
        "quarantined": int(accounting["quarantined"].sum()),
    }
    log.info("canonical tables: %s", counts)
    return counts


def _id_range_parts(frame: pl.LazyFrame, ids: pl.Series, n_parts: int) -> Iterator[pl.LazyFrame]:
    """``frame`` cut into ``n_parts`` consecutive record_id ranges of about equal record counts
    (``ids``: every record id, sorted), in record_id order."""
    bounds = [ids[len(ids) * i // n_parts] for i in range(1, n_parts)] if len(ids) else []
    bounds = sorted(set(bounds))
    for low, high in zip([None, *bounds], [*bounds, None], strict=True):
        part = frame
        if low is not None:
            part = part.filter(pl.col("record_id") >= low)
        if high is not None:
            part = part.filter(pl.col("record_id") < high)
        elif low is not None:  # a null id sorts last: the last part keeps it
            part = frame.filter((pl.col("record_id") >= low) | pl.col("record_id").is_null())
        yield part


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
