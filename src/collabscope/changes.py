"""What changed since the previous run: export files, records and indicator values.

Design (Snakemake semantics). The rule ``compare_runs`` reads this run's tables and writes
``results/changes/changes.parquet``; the report shows it. What it compares against cannot be
one of its declared inputs (that would be a cycle: the previous run's snapshot is this rule's
own product) nor a declared output (Snakemake deletes a job's outputs before running it). So
the snapshots live in a state folder the rule owns, ``results/changes/state/``, outside the
job graph:

- ``runs/<digest>/`` holds a snapshot (files with their sha256, records with a content hash,
  indicator values); ``<digest>`` is the sha256 of the snapshot's bytes (the tables are written
  by :mod:`collabscope.tableio`, so the same data always gives the same digest);
- ``state.json`` names the two latest different snapshots: ``latest`` and ``previous``.

The rule compares this run's snapshot with ``latest`` when they differ, and then makes it
``latest`` (the old one becomes ``previous``); when they are equal (the same data built again:
a crash after the state was saved, ``--forcerun``, an edit that changes nothing compared, such
as the report's title), it compares with ``previous`` instead. The answer is therefore a
function of the data alone, whatever the job order or the number of times the job runs:

- the first run in a folder says "first run";
- a rerun with nothing to do runs nothing (the rule is an ordinary job: no input changed, no
  job), so nothing is rewritten;
- a run killed anywhere, rerun, writes the same bytes as one that was never killed: the
  snapshot is written before ``state.json`` is replaced (atomically), ``changes.parquet`` last;
- two clean runs, or ``--cores 1`` and ``--cores 2``, write the same bytes (no clock, no
  host, no order of jobs in the output).

Content hashes come from polars' row hash, stable for one polars version; when the previous
snapshot was made by another version, records are compared by id only and the report says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import polars as pl

from collabscope import schemas
from collabscope.parts import PartStore, library_code, settings_digest
from collabscope.tableio import parts_of, scan_parts, scan_table, write_table

log = logging.getLogger(__name__)

SNAPSHOT = {
    "files": schemas.SNAPSHOT_FILES,
    "records": schemas.SNAPSHOT_RECORDS,
    "indicators": schemas.SNAPSHOT_INDICATORS,
}
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


def _stored_record_hashes(tables: Mapping[str, str | Path], store_dir: Path) -> pl.LazyFrame:
    """The record hashes of every shard, each computed once for its shard's records, authors
    and addresses (a store kept like the normalised addresses, see collabscope.parts): a new
    export file hashes its shard's records only."""
    sources = (schemas.RECORDS, schemas.AUTHORSHIPS, schemas.ADDRESSES)

    def hashes(missing: list[list[Path]]) -> Iterator[pl.DataFrame]:
        for files in missing:  # one shard at a time, each written before the next
            frames = (scan_table(f, table) for f, table in zip(files, sources, strict=True))
            # Streaming: a shard's abstracts never sit in memory at once.
            yield record_hashes(*frames).collect(engine="streaming")

    store = PartStore(store_dir, schemas.SNAPSHOT_RECORDS)
    settings = settings_digest({"code": _CODE, "polars": pl.__version__, "seed": _SEED})
    parts, _ = store.fill([parts_of(tables[t.name], t) for t in sources], settings, hashes)
    return scan_parts(parts, schemas.SNAPSHOT_RECORDS)


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


def _write_snapshot(tables: Mapping[str, pl.DataFrame | pl.LazyFrame], runs: Path) -> str:
    """Write a snapshot under ``runs/<digest>/`` (once); return its digest."""
    for stale in runs.glob(".tmp-*"):  # left by a job killed mid-write
        shutil.rmtree(stale, ignore_errors=True)
    tmp = runs / f".tmp-{os.getpid()}"
    digest = hashlib.sha256()
    for name, table in SNAPSHOT.items():
        path = write_table(tables[name], table, tmp / f"{name}.parquet")
        digest.update(name.encode() + b"\0" + path.read_bytes())
    key = digest.hexdigest()[:20]
    if (runs / key).is_dir():
        shutil.rmtree(tmp)
    else:
        os.replace(tmp, runs / key)
    return key


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
    """The changes table (schema :data:`schemas.CHANGES`) from two snapshots; ``before`` None
    means the first run."""
    files, records = after["files"], after["records"]
    if before is None:
        return pl.DataFrame(
            {
                "change": ["first_run", "first_run"],
                "subject": ["files", "records"],
                "measure": ["", ""],
                "before": [None, None],
                "after": [float(files.height), float(records.height)],
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
                "before": [float(before["files"].height), float(before["records"].height)],
                "after": [float(files.height), float(records.height)],
                "detail": [None, None],
            },
            schema=schemas.CHANGES.schema,
        ),
        _file_changes(before["files"], files),
        _record_changes(before["records"], records, compare_content),
        _indicator_changes(before["indicators"], after["indicators"]),
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
    runs = state_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    accounting = scan_table(tables["accounting"], schemas.ACCOUNTING)
    current = {
        "files": accounting.select("file", "sha256", "records_seen"),
        "records": _stored_record_hashes(tables, Path(record_hashes)).collect(),
        "indicators": indicator_values(indicators),
    }
    digest = _write_snapshot(current, runs)
    me = {"snapshot": digest, "polars": pl.__version__}
    state_path = state_dir / "state.json"
    state = _read_state(state_path)
    latest = state["latest"]
    if latest is not None and latest["snapshot"] == digest:
        baseline = state["previous"]  # the same data again: compare as its first build did
    else:
        baseline = latest
        _write_state(state_path, {"latest": me, "previous": latest})
    if baseline is not None and not (runs / baseline["snapshot"]).is_dir():
        log.warning("snapshot %s is gone from %s: compared as a first run", baseline, runs)
        baseline = None
    keep = {s["snapshot"] for s in (me, baseline) if s is not None}
    for old in runs.iterdir():
        if old.name not in keep:
            shutil.rmtree(old)
    snapshot = {name: pl.read_parquet(runs / digest / f"{name}.parquet") for name in SNAPSHOT}
    before = None
    if baseline is not None:
        before = {
            name: pl.read_parquet(runs / baseline["snapshot"] / f"{name}.parquet")
            for name in SNAPSHOT
        }
    same_hash = baseline is None or baseline["polars"] == me["polars"]
    changes = changes_between(before, snapshot, compare_content=same_hash)
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
