"""The parse stage for one shard of export files: raw exports in, canonical shard tables out.

Files are read one at a time, in sorted order, so peak memory follows the shard's size, not the
corpus's. Within the shard the first occurrence of a record id (file order, then line) is kept
and later ones are counted as duplicates; :mod:`collabscope.combine` settles duplicates across
shards with the same rule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from collabscope import schemas
from collabscope.parse.cssci import cssci_items
from collabscope.parse.decode import (
    CSSCI,
    OPENALEX_CSV,
    OPENALEX_JSON,
    OPENALEX_JSONL,
    SCOPUS_CSV,
    WOS_PLAIN,
    WOS_TAB,
    read_export,
)
from collabscope.parse.openalex import openalex_csv_items, openalex_json_items
from collabscope.parse.scopus import scopus_items
from collabscope.parse.wos_build import build_tables
from collabscope.parse.wos_items import (
    ITEMS_SCHEMA,
    META_SCHEMA,
    FileItems,
    plain_items,
    tab_items,
)
from collabscope.parts import DIGESTS, record_digests
from collabscope.tableio import write_table

log = logging.getLogger(__name__)


@dataclass
class ShardTables:
    """Everything one shard produces, as frames in the canonical schemas."""

    tables: dict[str, pl.DataFrame] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pl.DataFrame:
        return self.tables[name]


_FILES_SCHEMA = pl.Schema(
    {
        "file": pl.String,
        "datasets": pl.List(pl.String),
        "format": pl.String,
        "encoding": pl.String,
        "line_endings": pl.String,
        "header": pl.String,
        "sha256": pl.String,
        "bytes": pl.Int64,
        "flags_exported": pl.Boolean,
    }
)


# Each format's tokeniser: (lines, first record number) -> items in the builder's tags.
TOKENISERS: dict[str, Callable[[list[str], int], FileItems]] = {
    WOS_PLAIN: plain_items,
    WOS_TAB: tab_items,
    SCOPUS_CSV: scopus_items,
    CSSCI: cssci_items,
    OPENALEX_JSON: openalex_json_items,
    OPENALEX_JSONL: openalex_json_items,
    OPENALEX_CSV: openalex_csv_items,
}


def parse_files(files: Mapping[str, Sequence[str]]) -> ShardTables:
    """Parse export files (path -> datasets they belong to) into canonical frames."""
    metas: list[pl.DataFrame] = []
    items: list[pl.DataFrame] = []
    described: dict[str, list] = {name: [] for name in _FILES_SCHEMA.names()}
    next_rec = 0
    for path in sorted(files):
        decoded = read_export(path)
        tokens = TOKENISERS[decoded.format](decoded.lines, next_rec)
        next_rec += tokens.meta.height
        metas.append(tokens.meta.with_columns(file=pl.lit(path)))
        items.append(tokens.items)
        for key, value in (
            ("file", path),
            ("datasets", sorted(set(files[path]))),
            ("format", decoded.format),
            ("encoding", decoded.encoding),
            ("line_endings", decoded.line_endings),
            ("header", decoded.header[:200]),
            ("sha256", decoded.sha256),
            ("bytes", decoded.size),
            ("flags_exported", tokens.flags_exported),
        ):
            described[key].append(value)
    meta = pl.concat(metas) if metas else pl.DataFrame(schema={**META_SCHEMA, "file": pl.String})
    tables = build_tables(
        meta,
        pl.concat(items) if items else pl.DataFrame(schema=ITEMS_SCHEMA),
        pl.DataFrame(described, schema=_FILES_SCHEMA),
    )
    for row in tables["accounting"].iter_rows(named=True):
        log.info(
            "%s: %s %s, %d records seen, %d parsed, %d duplicates, %d quarantined",
            row["file"],
            row["format"],
            row["encoding"],
            row["records_seen"],
            row["parsed"],
            row["duplicates"],
            row["quarantined"],
        )
    return ShardTables({table.name: tables[table.name] for table in schemas.SHARD_TABLES})


def parse_shard(files: Mapping[str, Sequence[str]], outputs: Mapping[str, str | Path]) -> None:
    """Stage function: parse one shard's files and write each shard table to ``outputs``, and
    their digests (parts.record_digests) to ``outputs["digests"]`` (default: DIGESTS beside
    the records)."""
    digests = Path(outputs.get("digests", Path(outputs["records"]).parent / DIGESTS))
    # Gone until every table is written: a killed job leaves no digest of an older table.
    digests.unlink(missing_ok=True)
    tables = parse_files(files)
    written = [
        write_table(tables[table.name], table, outputs[table.name])
        for table in schemas.SHARD_TABLES
    ]
    record_digests(written, digests)
