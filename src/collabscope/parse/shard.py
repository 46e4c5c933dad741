"""The parse stage for one shard of export files: raw exports in, canonical shard tables out.

Files are read one at a time, in sorted order, so peak memory follows the shard's size, not the
corpus's. Within the shard the first occurrence of a record id (file order, then line) is kept
and later ones are counted as duplicates; :mod:`collabscope.combine` settles duplicates across
shards with the same rule.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
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
    decode_export,
    read_export_bytes,
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
from collabscope.parts import DIGESTS, library_code, record_digests
from collabscope.schemas import FILE_TOKEN_RECORDS, FILE_TOKENS
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


# FileTokens fields kept as Parquet tables, not in its JSON description.
_TABLE_FIELDS = ("meta", "items")


@dataclass(frozen=True)
class FileTokens:
    """One export file decoded and tokenised, with what was detected about it; its records
    are numbered from 0."""

    format: str
    encoding: str
    line_endings: str
    header: str
    sha256: str
    size: int
    flags_exported: bool | None
    meta: pl.DataFrame  # schemas.FILE_TOKEN_RECORDS
    items: pl.DataFrame  # schemas.FILE_TOKENS

    @classmethod
    def of(cls, path: str, data: bytes) -> FileTokens:
        decoded = decode_export(path, data)
        tokens = TOKENISERS[decoded.format](decoded.lines, 0)
        return cls(
            format=decoded.format,
            encoding=decoded.encoding,
            line_endings=decoded.line_endings,
            header=decoded.header[:200],
            sha256=decoded.sha256,
            size=decoded.size,
            flags_exported=tokens.flags_exported,
            meta=tokens.meta,
            items=tokens.items,
        )

    def description(self) -> dict[str, object]:
        """Everything but the two tables: the JSON of the file's cache entry."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _TABLE_FIELDS}


class TokenCache:
    """Each export file's tokens, kept between runs of its shard's parse job, so that a new
    file in a shard of thirty is decoded and tokenised alone (at two million records, in files
    of 500, about a second of a refresh's parse job) and the others are not even read.

    An entry is named by the digest of the file's path and the parse code (changed code finds
    no entry), and holds the file's tokens, its records and its description (format,
    encoding, SHA-256, size, ...): the same inputs give the same names and bytes anywhere. The
    description is written last and removed first, so an entry a killed job left unfinished is
    not one. A job owns its shard's folder and keeps the entries of its files only.

    Whether the file is still the one described is known without reading it when its size is
    the one described and its modification and status-change times are those stamped on the
    description's own modification time when the file was last read; else the file is read
    and its SHA-256 compared. The status-change time (ctime) moves with any write, rename or
    copy over the file and no tool sets it back, so a file replaced by one with the same size
    and an old modification time is read too. A file changed less than ``SETTLE_NS`` before
    it was read gets no stamp: a change in the same clock tick could go unseen (git's "racy
    clean" entries)."""

    SETTLE_NS = 2_000_000_000

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.code = library_code("parse/*.py")
        self.used: set[str] = set()
        self.tokenised = 0
        self.read = 0

    def tokens(self, path: str) -> FileTokens:
        """``path``'s tokens: from the cache, or read, tokenised and kept."""
        key = hashlib.sha256(f"{path}\0{self.code}".encode()).hexdigest()[:32]
        self.used.add(key)
        described = self.directory / f"{key}.json"
        tables = [self.directory / f"{key}.{kind}.parquet" for kind in ("tokens", "records")]
        try:
            looked = time.time_ns()
            stat = os.stat(path)
            description = json.loads(described.read_text(encoding="utf-8"))
            if (
                stat.st_size == description["size"]
                and _changed_ns(stat) == described.stat().st_mtime_ns
            ):
                return _stored(description, tables)
        except (OSError, ValueError, KeyError, TypeError):
            description = None  # no entry, or one a reader cannot trust: read the file
        data = read_export_bytes(path)
        self.read += 1
        # Hashed only to compare with an entry: a first read's digest is decode_export's.
        if (
            description is not None
            and description.get("sha256") == hashlib.sha256(data).hexdigest()
        ):
            try:
                found = _stored(description, tables)
            except OSError:
                found = None
            if found is not None:
                self._stamp(described, stat, looked)
                return found
        described.unlink(missing_ok=True)
        tokens = FileTokens.of(path, data)
        self.tokenised += 1
        write_table(tokens.items, FILE_TOKENS, tables[0])
        write_table(tokens.meta, FILE_TOKEN_RECORDS, tables[1])
        tmp = described.with_name(f".{described.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(tokens.description(), sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, described)
        self._stamp(described, stat, looked)
        return tokens

    def _stamp(self, described: Path, stat: os.stat_result, looked: int) -> None:
        """Stamp the file's change time, as ``stat`` saw it at ``looked`` before the file was
        read, on its description; a file changed too recently for that gets a stamp no file
        has."""
        changed = _changed_ns(stat)
        settled = looked - changed > self.SETTLE_NS
        stamp = changed if settled else 0
        os.utime(described, ns=(stamp, stamp))

    def prune(self) -> int:
        """Remove the entries of files this job did not read, and temporary files a killed
        job left (".<key>...": no key before their first dot); return how many files were
        removed."""
        removed = 0
        for path in self.directory.glob("*"):
            if path.name.split(".")[0] not in self.used:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def _changed_ns(stat: os.stat_result) -> int:
    """When a file last changed: its modification or its status change, the later."""
    return max(stat.st_mtime_ns, stat.st_ctime_ns)


def _stored(description: dict, tables: Sequence[Path]) -> FileTokens:
    """An entry's tokens; OSError if a table is missing."""
    return FileTokens(
        **description, items=pl.read_parquet(tables[0]), meta=pl.read_parquet(tables[1])
    )


def parse_files(files: Mapping[str, Sequence[str]], cache: TokenCache | None = None) -> ShardTables:
    """Parse export files (path -> datasets they belong to) into canonical frames; with
    ``cache``, each file's tokens are taken from it when it holds them."""
    metas: list[pl.DataFrame] = []
    items: list[pl.DataFrame] = []
    described: dict[str, list] = {name: [] for name in _FILES_SCHEMA.names()}
    next_rec = 0
    for path in sorted(files):
        tokens = (
            cache.tokens(path)
            if cache is not None
            else FileTokens.of(path, read_export_bytes(path))
        )
        # Records are numbered across the shard's files: first occurrence is the lowest.
        renumbered = pl.col("rec") + next_rec
        metas.append(tokens.meta.with_columns(renumbered, file=pl.lit(path)))
        items.append(tokens.items.with_columns(renumbered))
        next_rec += tokens.meta.height
        for key, value in (
            ("file", path),
            ("datasets", sorted(set(files[path]))),
            ("format", tokens.format),
            ("encoding", tokens.encoding),
            ("line_endings", tokens.line_endings),
            ("header", tokens.header),
            ("sha256", tokens.sha256),
            ("bytes", tokens.size),
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


def parse_shard(
    files: Mapping[str, Sequence[str]],
    outputs: Mapping[str, str | Path],
    cache: str | Path | None = None,
) -> None:
    """Stage function: parse one shard's files and write each shard table to ``outputs``, and
    their digests (parts.record_digests) to ``outputs["digests"]`` (default: DIGESTS beside
    the records). With ``cache`` (a folder the job owns), each file's tokens are kept there
    and taken from there (:class:`TokenCache`)."""
    digests = Path(outputs.get("digests", Path(outputs["records"]).parent / DIGESTS))
    # Gone until every table is written: a killed job leaves no digest of an older table.
    digests.unlink(missing_ok=True)
    tokens = TokenCache(cache) if cache is not None else None
    tables = parse_files(files, tokens)
    if tokens is not None:
        tokens.prune()
        log.info(
            "%d of %d files tokenised, the others' tokens kept (%d files read)",
            tokens.tokenised,
            len(files),
            tokens.read,
        )
    written = [
        write_table(tables[table.name], table, outputs[table.name])
        for table in schemas.SHARD_TABLES
    ]
    record_digests(written, digests)
