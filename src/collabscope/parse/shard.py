"""The parse stage for one shard of export files: raw exports in, canonical shard tables out.

Files are read one at a time, in sorted order, so peak memory follows the shard's size, not the
corpus's. Within the shard the first occurrence of a record id (file order, then line) is kept
and later ones are counted as duplicates; :mod:`collabscope.combine` settles duplicates across
shards with the same rule.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from collabscope import schemas
from collabscope.parse.cited_references import parse_cited_references
from collabscope.parse.decode import WOS_PLAIN, read_export
from collabscope.parse.wos_fields import (
    LIST_SEPARATOR,
    RecordBuilder,
    joined_list,
    normalise_record_id,
)
from collabscope.parse.wos_tokens import iter_plain_records, iter_tab_records
from collabscope.tableio import write_table

log = logging.getLogger(__name__)


@dataclass
class ShardTables:
    """Everything one shard produces, as frames in the canonical schemas."""

    tables: dict[str, pl.DataFrame] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pl.DataFrame:
        return self.tables[name]


_EXTRA_SCHEMA = {"record_id": pl.String, "tag": pl.String, "value": pl.String}


def _frame(columns: dict[str, list], table: schemas.Table) -> pl.DataFrame:
    """Columns as built by the record builder -> a frame in the table's schema.

    List columns arrive as strings joined with LIST_SEPARATOR (see wos_fields) and are split
    here in one vectorised step.
    """
    if not columns:
        return table.empty()
    lists = {n for n, dtype in table.schema.items() if dtype == pl.List(pl.String)}
    frame = pl.DataFrame(
        {n: v for n, v in columns.items()},
        schema={n: (pl.String if n in lists else table.schema[n]) for n in columns},
    )
    empty = pl.lit([], dtype=pl.List(pl.String))
    frame = frame.with_columns(
        [pl.col(n).str.split(LIST_SEPARATOR).fill_null(empty) for n in lists if n in columns]
    )
    return schemas.conform(frame, table)


def _records_frame(columns: dict[str, list], extra: dict[str, list]) -> pl.DataFrame:
    """Records with their unmodelled tags gathered into the extra_fields list column."""
    no_extra = pl.lit([], dtype=pl.List(schemas.EXTRA_FIELD))
    if not columns:
        return schemas.RECORDS.empty()
    columns = dict(columns)
    columns["extra_fields"] = [None] * len(columns["record_id"])
    frame = _frame(
        {k: v for k, v in columns.items() if k != "extra_fields"},
        schemas.Table(
            "records_core",
            (),
            "",
            tuple(c for c in schemas.RECORDS.columns if c[0] != "extra_fields"),
        ),
    )
    if extra:
        gathered = (
            pl.DataFrame(extra, schema=_EXTRA_SCHEMA)
            .group_by("record_id", maintain_order=True)
            .agg(extra_fields=pl.struct("tag", "value"))
        )
        frame = frame.join(gathered, on="record_id", how="left", maintain_order="left")
    else:
        frame = frame.with_columns(extra_fields=no_extra)
    frame = frame.with_columns(pl.col("extra_fields").fill_null(no_extra))
    return schemas.conform(frame, schemas.RECORDS)


def parse_files(files: Mapping[str, Sequence[str]]) -> ShardTables:
    """Parse export files (path -> datasets they belong to) into canonical frames."""
    seen_ids: set[str] = set()
    parts: dict[str, list[pl.DataFrame]] = {t.name: [] for t in schemas.SHARD_TABLES}
    quarantine: dict[str, list] = {c: [] for c in schemas.QUARANTINE.schema.names()}
    accounting: dict[str, list] = {c: [] for c in schemas.ACCOUNTING.schema.names()}
    dataset_rows: dict[str, list] = {"dataset": [], "record_id": []}
    for path in sorted(files):
        datasets = sorted(set(files[path]))
        decoded = read_export(path)
        builder = RecordBuilder(path, decoded.format)
        tokens = iter_plain_records if decoded.format == WOS_PLAIN else iter_tab_records
        seen = parsed = duplicates = quarantined = stray = 0
        for raw in tokens(decoded.lines):
            ut = " ".join(raw.fields.get("UT", [])).strip()
            problem = raw.problem or (None if ut else "no UT (record id): cannot identify it")
            if raw.is_record:
                seen += 1
            if problem:
                if raw.is_record:
                    quarantined += 1
                else:
                    stray += 1
                for key, value in (
                    ("file", path),
                    ("line", raw.line),
                    ("kind", "record" if raw.is_record else "text"),
                    ("record_id", normalise_record_id(ut) if ut else None),
                    ("reason", problem),
                    ("excerpt", raw.excerpt),
                ):
                    quarantine[key].append(value)
                continue
            record_id = normalise_record_id(ut)
            if record_id in seen_ids:
                duplicates += 1
            else:
                seen_ids.add(record_id)
                builder.add(raw)
                parsed += 1
            for dataset in datasets:
                dataset_rows["dataset"].append(dataset)
                dataset_rows["record_id"].append(record_id)
        for key, value in (
            ("file", path),
            ("datasets", joined_list(datasets)),
            ("format", decoded.format),
            ("encoding", decoded.encoding),
            ("line_endings", decoded.line_endings),
            ("header", decoded.header[:200]),
            ("sha256", decoded.sha256),
            ("bytes", decoded.size),
            ("records_seen", seen),
            ("parsed", parsed),
            ("duplicates", duplicates),
            ("quarantined", quarantined),
            ("stray_text", stray),
        ):
            accounting[key].append(value)
        log.info(
            "%s: %s %s, %d records seen, %d parsed, %d duplicates, %d quarantined",
            path,
            decoded.format,
            decoded.encoding,
            seen,
            parsed,
            duplicates,
            quarantined,
        )
        columns = builder.columns
        parts["records"].append(_records_frame(columns.records, columns.extra_fields))
        for table in schemas.CHILD_TABLES:
            if table is not schemas.REFERENCES:
                parts[table.name].append(_frame(getattr(columns, table.name), table))
        if columns.references:
            raw_refs = pl.DataFrame(
                columns.references,
                schema={"record_id": pl.String, "ref_pos": pl.Int64, "raw": pl.String},
            )
            parsed_refs = parse_cited_references(raw_refs.lazy()).collect()
            parts["references"].append(schemas.conform(parsed_refs, schemas.REFERENCES))
    result = ShardTables()
    for table in schemas.SHARD_TABLES:
        if table is schemas.QUARANTINE:
            result.tables[table.name] = _frame(quarantine, table)
        elif table is schemas.ACCOUNTING:
            result.tables[table.name] = _frame(accounting, table)
        elif table is schemas.DATASET_RECORDS:
            result.tables[table.name] = _frame(dataset_rows, table).unique(maintain_order=True)
        else:
            frames = parts[table.name]
            result.tables[table.name] = (
                pl.concat(frames, how="vertical") if frames else table.empty()
            )
    return result


def parse_shard(files: Mapping[str, Sequence[str]], outputs: Mapping[str, str | Path]) -> None:
    """Stage function: parse one shard's files and write each shard table to ``outputs``."""
    tables = parse_files(files)
    for table in schemas.SHARD_TABLES:
        write_table(tables[table.name], table, outputs[table.name])
