"""The one Parquet writer and reader of the project.

Every table is written sorted by its key (in the order given, for the few without one),
zstd-compressed (level 1: level 3 writes 40% slower for files 7% smaller), with statistics,
through a temporary file renamed into place, so that a killed job never leaves a half-written
table behind and the same rows always give the same bytes. A table too large to copy into
one file (schemas.PART_TABLES) is a manifest listing its parts; :func:`scan_table` reads
either as one table.
"""

from __future__ import annotations

import glob
import itertools
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from collabscope.schemas import (
    CLASS_PART_TABLES,
    MERGE_PART_TABLES,
    PART_TABLES,
    SUPERSEDED,
    Table,
    conform,
)

_PART_TABLE_NAMES = frozenset(
    table.name for table in (*PART_TABLES, *MERGE_PART_TABLES, *CLASS_PART_TABLES)
)


def _temporary(path: Path) -> Path:
    """The temporary file ``path`` is written to before its rename; a job killed mid-write
    (SIGKILL, power loss) leaves one behind, named by its pid: remove those first, so that the
    rerun leaves exactly the files a clean run does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _in_key_order(data: pl.DataFrame, table: Table) -> pl.DataFrame:
    """``data`` conformed to ``table`` and sorted by its key: the same rows, the same bytes. A
    table without a key keeps the order it is given."""
    data = conform(data, table)
    if not table.key:
        return data
    return data.sort(list(table.key), maintain_order=True, nulls_last=True)


def write_table(frame: pl.DataFrame | pl.LazyFrame, table: Table, path: str | Path) -> Path:
    """Write ``frame`` as ``table`` to ``path`` (sorted by the key, zstd, atomic rename)."""
    path = Path(path)
    tmp = _temporary(path)
    data = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    data = _in_key_order(data, table)
    data.write_parquet(
        tmp,
        compression="zstd",
        compression_level=1,
        statistics=True,
    )
    os.replace(tmp, path)
    return path


def scan_table(path: str | Path, table: Table) -> pl.LazyFrame:
    """Scan a table written by :func:`write_table`, or listed by :func:`write_parts_manifest`,
    checking its schema."""
    if str(path).endswith(PARTS_SUFFIX):
        return _scan_parts(Path(path), table)
    frame = pl.scan_parquet(path)
    found = frame.collect_schema()
    if found != table.schema:
        raise ValueError(f"{path}: schema differs from {table.name}: {found} != {table.schema}")
    return frame


# A table held as several files (schemas.PART_TABLES, the normalised addresses): a JSON manifest
# names the files, each with the parse shard its rows come from, in order, and the table of
# the occurrences in those shards that are not part of the table.
PARTS_SUFFIX = ".parts.json"


@dataclass(frozen=True)
class Parts:
    """What a manifest lists: (shard, file) per part, and the superseded table, if any."""

    table: str
    files: tuple[tuple[str, Path], ...]
    superseded: Path | None


def table_path(directory: str | Path, table: Table) -> Path:
    """Where ``table`` is under ``directory``: its Parquet file, or its manifest when it is
    held as parts (the record tables, the merge tables but merge_accounting, and
    classification's)."""
    suffix = PARTS_SUFFIX if table.name in _PART_TABLE_NAMES else ".parquet"
    return Path(directory) / f"{table.name}{suffix}"


def write_parts_manifest(
    table: Table,
    parts: Sequence[tuple[str, str | Path]],
    superseded: str | Path | None,
    path: str | Path,
) -> Path:
    """Write the manifest of ``table`` held as ``parts`` ((shard, Parquet file of the table)
    each) less the rows of the record ids that ``superseded`` (a schemas.SUPERSEDED table)
    lists for the part's shard. Paths are stored relative to the manifest, so a results
    directory can be moved; the same parts give the same bytes."""
    path = Path(path)
    shards = [shard for shard, _ in parts]
    if len(set(shards)) != len(shards):
        raise ValueError(f"{table.name}: two parts of one shard: {sorted(shards)}")
    manifest = {
        "table": table.name,
        "parts": [
            {"shard": shard, "file": os.path.relpath(file, path.parent)} for shard, file in parts
        ],
        "superseded": os.path.relpath(superseded, path.parent) if superseded else None,
    }
    tmp = _temporary(path)
    tmp.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_parts_manifest(path: str | Path) -> Parts:
    """The parts a manifest lists, their paths made absolute."""
    path = Path(path)
    manifest = json.loads(path.read_text(encoding="utf-8"))
    superseded = manifest.get("superseded")
    return Parts(
        table=manifest.get("table"),
        files=tuple((part["shard"], path.parent / part["file"]) for part in manifest["parts"]),
        superseded=path.parent / superseded if superseded else None,
    )


def parts_of(path: str | Path, table: Table) -> Parts:
    """The parts of ``table`` at ``path``: those its manifest lists, or the one file."""
    if not str(path).endswith(PARTS_SUFFIX):
        return Parts(table.name, (("", Path(path)),), None)
    parts = read_parts_manifest(path)
    if parts.table != table.name:
        raise ValueError(f"{path}: lists the parts of {parts.table!r}, not {table.name}")
    return parts


def _scan_parts(path: Path, table: Table) -> pl.LazyFrame:
    return scan_parts(parts_of(path, table), table, listed_by=path)


def scan_parts(
    parts: Parts, table: Table, listed_by: str | Path = "", path_column: str | None = None
) -> pl.LazyFrame:
    """``parts`` read as one table of ``table``'s schema, less their superseded rows (those
    whose ``table.record_column`` is a record id the superseded table lists for the part's
    shard); with ``path_column``, a column of that name with each row's file."""
    where = f" listed by {listed_by}" if listed_by else ""
    for _, file in parts.files:
        if not file.exists():
            again = f"; delete {listed_by} and run the workflow again" if listed_by else ""
            raise FileNotFoundError(f"{file}: a part of {table.name}{where} is missing{again}")
        if pl.Schema(pl.read_parquet_schema(file)) != table.schema:
            raise ValueError(f"{file}: schema differs from {table.name}{where}")
    superseded = {}
    if parts.superseded is not None:
        if table.record_column not in table.schema:
            raise ValueError(
                f"{table.name}{where}: has no column {table.record_column!r} to leave out the "
                "superseded records by"
            )
        superseded = (
            scan_table(parts.superseded, SUPERSEDED)
            .select("shard", "record_id")
            .collect()
            .partition_by("shard", as_dict=True)
        )
    frames = []
    # Runs of parts without superseded rows are one scan (Polars reads its files in parallel).
    for dropped, run in itertools.groupby(parts.files, key=lambda part: (part[0],) in superseded):
        if not dropped:
            files = [file for _, file in run]
            frames.append(pl.scan_parquet(files, include_file_paths=path_column))
            continue
        for shard, file in run:
            ids = superseded[(shard,)].get_column("record_id")
            kept = ~pl.col(table.record_column).is_in(ids.implode())
            frames.append(pl.scan_parquet(file, include_file_paths=path_column).filter(kept))
    if not frames:
        return table.empty().lazy()
    return pl.concat(frames, how="vertical")


def write_table_csv(frame: pl.DataFrame, table: Table, path: str | Path) -> Path:
    """Write ``frame`` as ``table`` to a CSV (sorted by the key, lists joined by '; ', atomic
    rename): the same rows as its Parquet, for a spreadsheet."""
    path = Path(path)
    tmp = _temporary(path)
    data = _in_key_order(frame, table).with_columns(pl.col(pl.List(pl.String)).list.join("; "))
    data.write_csv(tmp)
    os.replace(tmp, path)
    return path
