"""What changed since the previous run: export files, records and indicator values.

Design (Snakemake semantics). The rule ``compare_runs`` reads this run's tables and writes
``results/changes/changes.parquet``; the report shows it. What it compares against cannot be
one of its declared inputs (that would be a cycle: the previous run's snapshot is this rule's
own product) nor a declared output (Snakemake deletes a job's outputs before running it). So
the snapshots live in a state folder the rule owns, ``results/changes/state/``, outside the
job graph:

- ``records/<block>.parquet`` holds one parse shard's records with a content hash, less those
  the shard holds as superseded duplicates; ``<block>`` is the digest of the shard's record
  hashes (a file of the store below) and of the ids superseded in it, so a shard that did not
  change keeps its block and a run writes the blocks of the shards that changed only;
- ``runs/<digest>/`` holds a snapshot: ``files.parquet`` (the export files with their sha256),
  ``indicators.parquet`` (indicator values) and ``records.json`` (each shard's block and its
  number of records); ``<digest>`` is the sha256 of these bytes (the tables are written by
  :mod:`collabscope.tableio`, so the same data in the same blocks gives the same digest);
- ``state.json`` names the two latest snapshots of different data: ``latest`` and
  ``previous``.

Two snapshots are compared through the blocks one of them lacks only. A record id is in one
block of a snapshot at most (a shard keeps one occurrence of an id; superseded hides those of
other shards), so a record in a block both snapshots have has the same row in both, and any
other record's rows are all in the blocks one of them lacks, whichever shard it was read from
in each: a record that moved shard (parse.shards edited, a duplicate settled in another
shard) is compared like any other, by id.

The rule compares this run's snapshot with ``latest`` when they differ, and then makes it
``latest`` (the old one becomes ``previous``); when they hold the same data (the same data
built again: a crash after the state was saved, ``--forcerun``, an edit that changes nothing
compared, such as the report's title), it compares with ``previous`` instead. The same data in
other blocks (records moved shard, nothing else) gives another digest: compared with
``latest`` and found the same (files and indicators byte for byte, records row for row), it
takes ``latest``'s place. The answer is therefore a function of the data alone, whatever the
job order or the number of times the job runs:

- the first run in a folder says "first run";
- a rerun with nothing to do runs nothing (the rule is an ordinary job: no input changed, no
  job), so nothing is rewritten;
- a run killed anywhere, rerun, writes the same bytes as one that was never killed: blocks
  and the snapshot are written (atomically) before ``state.json`` is replaced (atomically),
  the snapshots and blocks it no longer names are removed after, ``changes.parquet`` last;
- two clean runs, or ``--cores 1`` and ``--cores 2``, write the same bytes (no clock, no
  host, no order of jobs in the output).

A snapshot written before records were kept in blocks (``runs/<digest>/records.parquet``, every
record in one file) is read as a snapshot of one block: compared in full, once.

Content hashes come from polars' row hash, stable for one polars version; when the previous
snapshot was made by another version, records are compared by id only and the report says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import polars as pl

from collabscope import schemas
from collabscope.parts import PartStore, file_digest, library_code, settings_digest
from collabscope.tableio import Parts, parts_of, scan_table, write_table

log = logging.getLogger(__name__)

SNAPSHOT = {
    "files": schemas.SNAPSHOT_FILES,
    "records": schemas.SNAPSHOT_RECORDS,
    "indicators": schemas.SNAPSHOT_INDICATORS,
}
_BLOCKS = "records"  # the state folder's folder of blocks
_LISTING = "records.json"  # a snapshot's list of its blocks
_SEED = 20240501  # polars' hash seed: fixed, so a hash is the same run to run
_CODE = library_code("changes.py")


def _row_hash(columns: list[str]) -> pl.Expr:
    return pl.struct(columns).hash(_SEED)


def record_hashes(
    records: pl.LazyFrame, authorships: pl.LazyFrame, addresses: pl.LazyFrame
) -> pl.LazyFrame:
    """record_id, source_file, content_hash: a digest of the record's fields (not where it was
    read: a file renamed or re-split is no change), its authors and its addresses in order."""

    def child_hashes(frame: pl.LazyFrame, position: str, name: str) -> pl.LazyFrame:
        columns = [c for c in frame.collect_schema().names() if c != "record_id"]
        return (
            frame.select("record_id", position, _h=_row_hash(columns))
            .group_by("record_id")
            .agg(pl.col("_h").sort_by(position).alias(name))
        )

    fields = [
        c for c in records.collect_schema().names() if c not in ("source_file", "source_line")
    ]
    return (
        records.select(*fields, "source_file")
        .join(child_hashes(authorships, "position", "_authors"), on="record_id", how="left")
        .join(child_hashes(addresses, "address_pos", "_addresses"), on="record_id", how="left")
        .select(
            "record_id",
            "source_file",
            content_hash=_row_hash([*fields, "_authors", "_addresses"]),
        )
    )


def _stored_record_hashes(tables: Mapping[str, str | Path], store_dir: Path) -> Parts:
    """The record hashes of every shard (superseded records included), each computed once for
    its shard's records, authors and addresses (a store kept like the normalised addresses, see
    collabscope.parts): a new export file hashes its shard's records only."""
    sources = (schemas.RECORDS, schemas.AUTHORSHIPS, schemas.ADDRESSES)

    def hashes(missing: list[list[Path]]) -> Iterator[pl.DataFrame]:
        for files in missing:  # one shard at a time, each written before the next
            frames = (scan_table(f, table) for f, table in zip(files, sources, strict=True))
            # Streaming: a shard's abstracts never sit in memory at once.
            yield record_hashes(*frames).collect(engine="streaming")

    store = PartStore(store_dir, schemas.SNAPSHOT_RECORDS)
    settings = settings_digest({"code": _CODE, "polars": pl.__version__, "seed": _SEED})
    parts, _ = store.fill([parts_of(tables[t.name], t) for t in sources], settings, hashes)
    return parts


class _Block(TypedDict):
    """A shard's entry in a snapshot's records.json."""

    shard: str
    block: str
    records: int


def _superseded_by_shard(parts: Parts) -> dict[str, list[str]]:
    """{shard: the sorted ids of the records superseded in it}."""
    if parts.superseded is None:
        return {}
    frame = (
        scan_table(parts.superseded, schemas.SUPERSEDED)
        .group_by("shard")
        .agg(pl.col("record_id").sort())
        .collect()
    )
    return dict(zip(frame["shard"].to_list(), frame["record_id"].to_list(), strict=True))


def _write_blocks(hashes: Parts, blocks: Path, known: Mapping[str, int]) -> list[_Block]:
    """Each shard's block of records (written unless there already), as records.json lists
    them: shard, block, records (``known``: the records of blocks listed before)."""
    superseded = _superseded_by_shard(hashes)
    entries: list[_Block] = []
    for shard, file in hashes.files:
        dropped = superseded.get(shard, [])
        block = settings_digest([file_digest(file), dropped])[:32]
        target = blocks / f"{block}.parquet"
        rows = known.get(block)
        if not target.is_file():
            kept = scan_table(file, schemas.SNAPSHOT_RECORDS)
            if dropped:
                kept = kept.filter(~pl.col("record_id").is_in(pl.Series(dropped).implode()))
            frame = kept.collect()
            write_table(frame, schemas.SNAPSHOT_RECORDS, target)
            rows = frame.height
        elif rows is None:  # a block a killed run wrote
            rows = pl.scan_parquet(target).select(pl.len()).collect().item()
        entries.append({"shard": shard, "block": block, "records": rows})
    return entries


def indicator_values(indicators: Mapping[str, str | Path]) -> pl.DataFrame:
    """Every number of every indicator table, one a row: (indicator, subject, measure, value)."""
    frames = []
    for name in sorted(indicators):
        table = schemas.INDICATOR_BY_NAME[name]
        measures = [
            c
            for c, dtype, _ in table.columns
            if c not in table.key and dtype in (schemas.INT, schemas.F64)
        ]
        if not measures:
            continue
        # A slice's first and last year follow from its label: left out of the subject.
        subject_keys = [k for k in table.key if k not in ("first_year", "last_year")]
        subject = pl.concat_str(
            [pl.lit(name), *(pl.col(k).cast(pl.String).fill_null("") for k in subject_keys)],
            separator=" | ",
        )
        frames.append(
            scan_table(indicators[name], table)
            .select(subject.alias("subject"), *(pl.col(m).cast(pl.Float64) for m in measures))
            .unpivot(index="subject", variable_name="measure", value_name="value")
            .with_columns(indicator=pl.lit(name))
            .collect()
        )
    if not frames:
        return schemas.SNAPSHOT_INDICATORS.empty()
    return pl.concat(frames, how="diagonal")


def _write_snapshot(
    files: pl.DataFrame, indicators: pl.DataFrame, blocks: list[_Block], runs: Path
) -> str:
    """Write a snapshot under ``runs/<digest>/`` (once); return its digest."""
    for stale in runs.glob(".tmp-*"):  # left by a job killed mid-write
        shutil.rmtree(stale, ignore_errors=True)
    tmp = runs / f".tmp-{os.getpid()}"
    digest = hashlib.sha256()
    for name, frame in (("files", files), ("indicators", indicators)):
        path = write_table(frame, SNAPSHOT[name], tmp / f"{name}.parquet")
        digest.update(name.encode() + b"\0" + path.read_bytes())
    listing = tmp / _LISTING
    listing.write_text(json.dumps({"blocks": blocks}, indent=1) + "\n", encoding="utf-8")
    digest.update(b"records\0" + listing.read_bytes())
    key = digest.hexdigest()[:20]
    if (runs / key).is_dir():
        shutil.rmtree(tmp)
    else:
        os.replace(tmp, runs / key)
    return key


@dataclass(frozen=True)
class _Snapshot:
    """A snapshot to compare: its files and indicator values, its records as blocks (key and
    rows: the same key, the same rows) and how many records they hold; ``tables``: the digest
    of its files' and indicators' bytes."""

    files: pl.DataFrame
    indicators: pl.DataFrame
    blocks: tuple[tuple[str, pl.LazyFrame], ...]
    records: int
    tables: str = ""


def _listed(folder: Path) -> list[_Block] | None:
    """The blocks a snapshot's records.json lists; None for a snapshot without one."""
    listing = folder / _LISTING
    if not listing.is_file():
        return None
    blocks: list[_Block] = json.loads(listing.read_text(encoding="utf-8"))["blocks"]
    return blocks


def _load(state_dir: Path, snapshot: str) -> _Snapshot | None:
    """The snapshot ``snapshot`` of ``state_dir``; None when it (or one of its blocks) is gone."""
    folder = state_dir / "runs" / snapshot
    paths = [folder / "files.parquet", folder / "indicators.parquet"]
    if not all(path.is_file() for path in paths):
        return None
    tables = hashlib.sha256(b"".join(file_digest(path).encode() for path in paths)).hexdigest()
    listed = _listed(folder)
    if listed is None:  # written before records were kept in blocks: one block of all
        whole = folder / "records.parquet"
        if not whole.is_file():
            return None
        records = pl.scan_parquet(whole).select(pl.len()).collect().item()
        blocks = ((f"runs/{snapshot}", pl.scan_parquet(whole)),)
    else:
        files = [state_dir / _BLOCKS / f"{entry['block']}.parquet" for entry in listed]
        if not all(file.is_file() for file in files):
            return None
        records = sum(entry["records"] for entry in listed)
        blocks = tuple(
            (entry["block"], pl.scan_parquet(file))
            for entry, file in zip(listed, files, strict=True)
        )
    files_, indicators = (pl.read_parquet(path) for path in paths)
    return _Snapshot(files_, indicators, blocks, records, tables)


def _differing(before: _Snapshot, after: _Snapshot) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The records of the blocks of ``before`` that ``after`` lacks, and the other way round:
    every record whose row can differ (see the module's docstring)."""
    shared = Counter(key for key, _ in before.blocks) & Counter(key for key, _ in after.blocks)

    def rest(snapshot: _Snapshot) -> pl.DataFrame:
        skip = shared.copy()
        frames = []
        for key, frame in snapshot.blocks:
            if skip[key] > 0:
                skip[key] -= 1
            else:
                frames.append(frame)
        if not frames:
            return schemas.SNAPSHOT_RECORDS.empty()
        return pl.concat(frames, how="vertical").collect()

    return rest(before), rest(after)


def _same_data(before: _Snapshot, after: _Snapshot) -> bool:
    """Whether two snapshots hold the same files, indicators and records, in whatever blocks."""
    if before.tables != after.tables or before.records != after.records:
        return False
    old, new = _differing(before, after)
    return old.sort("record_id").equals(new.sort("record_id"))


def _read_state(path: Path) -> dict[str, dict[str, str] | None]:
    if not path.is_file():
        return {"latest": None, "previous": None}
    return json.loads(path.read_text(encoding="utf-8"))


def _write_state(path: Path, state: Mapping[str, object]) -> None:
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a job killed mid-write
        stale.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def changes_between(
    before: Mapping[str, pl.DataFrame] | None,
    after: Mapping[str, pl.DataFrame],
    *,
    compare_content: bool = True,
) -> pl.DataFrame:
    """The changes table (schema :data:`schemas.CHANGES`) from two snapshots (tables files,
    records and indicators); ``before`` None means the first run."""

    def whole(snapshot: Mapping[str, pl.DataFrame], key: str) -> _Snapshot:
        records = snapshot["records"]
        blocks = ((key, records.lazy()),)
        return _Snapshot(snapshot["files"], snapshot["indicators"], blocks, records.height)

    old = None if before is None else whole(before, "before")
    return _changes(old, whole(after, "after"), compare_content)


def _changes(before: _Snapshot | None, after: _Snapshot, compare_content: bool) -> pl.DataFrame:
    files = after.files
    if before is None:
        return pl.DataFrame(
            {
                "change": ["first_run", "first_run"],
                "subject": ["files", "records"],
                "measure": ["", ""],
                "before": [None, None],
                "after": [float(files.height), float(after.records)],
                "detail": [None, None],
            },
            schema=schemas.CHANGES.schema,
        )
    parts = [
        pl.DataFrame(
            {
                "change": ["total", "total"],
                "subject": ["files", "records"],
                "measure": ["", ""],
                "before": [float(before.files.height), float(before.records)],
                "after": [float(files.height), float(after.records)],
                "detail": [None, None],
            },
            schema=schemas.CHANGES.schema,
        ),
        _file_changes(before.files, files),
        _record_changes(*_differing(before, after), compare_content),
        _indicator_changes(before.indicators, after.indicators),
    ]
    return pl.concat([schemas.conform(p, schemas.CHANGES) for p in parts])


def _file_changes(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    both = before.join(after, on="file", how="full", coalesce=True, suffix="_after")
    change = (
        pl.when(pl.col("sha256").is_null())
        .then(pl.lit("file_added"))
        .when(pl.col("sha256_after").is_null())
        .then(pl.lit("file_removed"))
        .when(pl.col("sha256") != pl.col("sha256_after"))
        .then(pl.lit("file_changed"))
    )
    return (
        both.with_columns(change=change)
        .filter(pl.col("change").is_not_null())
        .select(
            "change",
            subject="file",
            measure=pl.lit(""),
            before=pl.col("records_seen").cast(pl.Float64),
            after=pl.col("records_seen_after").cast(pl.Float64),
            detail=pl.when(pl.col("change") == "file_changed").then(
                pl.concat_str("sha256", "sha256_after", separator=" -> ")
            ),
        )
    )


def _record_changes(before: pl.DataFrame, after: pl.DataFrame, content: bool) -> pl.DataFrame:
    both = before.join(after, on="record_id", how="full", coalesce=True, suffix="_after")
    change = (
        pl.when(pl.col("content_hash").is_null())
        .then(pl.lit("record_added"))
        .when(pl.col("content_hash_after").is_null())
        .then(pl.lit("record_removed"))
    )
    if content:
        change = change.when(pl.col("content_hash") != pl.col("content_hash_after")).then(
            pl.lit("record_changed")
        )
    return (
        both.with_columns(change=change)
        .filter(pl.col("change").is_not_null())
        .select(
            "change",
            subject="record_id",
            measure=pl.lit(""),
            before=pl.lit(None, pl.Float64),
            after=pl.lit(None, pl.Float64),
            detail=pl.coalesce("source_file_after", "source_file"),
        )
    )


def _indicator_changes(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    # Rows of indicators present in only one run (a new period, a new dataset) are added or
    # removed; a value that differs, or becomes or stops being null, changed.
    both_nan = (pl.col("value").is_nan() & pl.col("value_after").is_nan()).fill_null(False)
    change = (
        pl.when(pl.col("_in_before").is_null())
        .then(pl.lit("indicator_added"))
        .when(pl.col("_in_after").is_null())
        .then(pl.lit("indicator_removed"))
        .when(pl.col("value").ne_missing(pl.col("value_after")) & ~both_nan)
        .then(pl.lit("indicator_changed"))
    )
    return (
        before.with_columns(_in_before=pl.lit(True))
        .join(
            after.with_columns(_in_after=pl.lit(True)),
            on=["indicator", "subject", "measure"],
            how="full",
            coalesce=True,
            suffix="_after",
        )
        .with_columns(change=change)
        .filter(pl.col("change").is_not_null())
        .select(
            "change",
            "subject",
            "measure",
            before="value",
            after="value_after",
            detail=pl.lit(None, pl.String),
        )
    )


def compare_runs(
    tables: Mapping[str, str | Path],
    indicators: Mapping[str, str | Path],
    state_dir: str | Path,
    output: str | Path,
    record_hashes: str | Path,
) -> dict[str, int]:
    """Stage function: snapshot this run, compare it with the previous different snapshot in
    ``state_dir``, write the changes table; return the count of each change for the log.

    ``record_hashes``: where each shard's record hashes are kept under the digest of the
    shard's files (collabscope.parts), so that a new export file hashes its shard only."""
    state_dir = Path(state_dir)
    runs, blocks = state_dir / "runs", state_dir / _BLOCKS
    runs.mkdir(parents=True, exist_ok=True)
    blocks.mkdir(exist_ok=True)
    state_path = state_dir / "state.json"
    state = _read_state(state_path)
    known = {
        entry["block"]: entry["records"]
        for named in (state["latest"], state["previous"])
        if named is not None
        for entry in _listed(runs / named["snapshot"]) or []
    }
    listed = _write_blocks(_stored_record_hashes(tables, Path(record_hashes)), blocks, known)
    accounting = scan_table(tables["accounting"], schemas.ACCOUNTING)
    files = accounting.select("file", "sha256", "records_seen").collect()
    digest = _write_snapshot(files, indicator_values(indicators), listed, runs)
    me = {"snapshot": digest, "polars": pl.__version__}
    current = _load(state_dir, digest)
    if current is None:
        raise RuntimeError(f"{runs / digest}: the snapshot just written cannot be read")
    latest = state["latest"]
    if latest is not None and latest["snapshot"] == digest:
        baseline = state["previous"]  # the same data again: compare as its first build did
    else:
        baseline = latest
        before = None if latest is None else _load(state_dir, latest["snapshot"])
        if before is not None and _same_data(before, current):
            # The same data with records in other blocks: it takes the place of latest.
            baseline = state["previous"]
            _write_state(
                state_path, {"latest": {**latest, "snapshot": digest}, "previous": baseline}
            )
        else:
            _write_state(state_path, {"latest": me, "previous": latest})
    previous = None if baseline is None else _load(state_dir, baseline["snapshot"])
    if baseline is not None and previous is None:
        log.warning("snapshot %s is gone from %s: compared as a first run", baseline, runs)
        baseline = None
    keep = {s["snapshot"] for s in (me, baseline) if s is not None}
    for old in runs.iterdir():
        if old.name not in keep:
            shutil.rmtree(old)
    named = {f"{entry['block']}.parquet" for run in keep for entry in _listed(runs / run) or []}
    for path in [*blocks.glob("*.parquet"), *blocks.glob(".*.tmp")]:
        if path.name not in named:
            path.unlink()
    same_hash = baseline is None or baseline["polars"] == me["polars"]
    changes = _changes(previous, current, compare_content=same_hash)
    if not same_hash:
        log.warning(
            "previous snapshot made with polars %s, this one with %s: records compared by id only",
            baseline["polars"] if baseline else None,
            me["polars"],
        )
        note = _note("content_not_compared", f"polars {baseline['polars']} -> {me['polars']}")
        changes = pl.concat([changes, note])
    write_table(changes, schemas.CHANGES, output)
    counts = dict(changes.group_by("change").len().sort("change").iter_rows())
    log.info("snapshot %s against %s: %s", digest, baseline and baseline["snapshot"], counts)
    return counts


def _note(change: str, detail: str) -> pl.DataFrame:
    row = {"change": change, "subject": "", "measure": "", "before": None, "after": None}
    return pl.DataFrame([{**row, "detail": detail}], schema=schemas.CHANGES.schema)
