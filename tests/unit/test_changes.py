"""changes_between: two snapshots -> the changes table (removals, NaN and null values)."""

from __future__ import annotations

import math

import polars as pl

from collabscope import schemas
from collabscope.changes import changes_between, record_hashes


def _snapshot(files: list[tuple], records: list[tuple], indicators: list[tuple]) -> dict:
    def frame(rows: list[tuple], table: schemas.Table) -> pl.DataFrame:
        return pl.DataFrame(rows, schema=table.schema, orient="row")

    return {
        "files": frame(files, schemas.SNAPSHOT_FILES),
        "records": frame(records, schemas.SNAPSHOT_RECORDS),
        "indicators": frame(indicators, schemas.SNAPSHOT_INDICATORS),
    }


BEFORE = _snapshot(
    [("a.txt", "aa", 2), ("b.txt", "bb", 1)],
    [("W1", "a.txt", 1), ("W2", "a.txt", 2), ("W3", "b.txt", 3)],
    [
        ("outputs", "s1", "records", 3.0),
        ("outputs", "s1", "share", math.nan),
        ("outputs", "s2", "share", None),
        ("outputs", "s3", "records", 1.0),
    ],
)
AFTER = _snapshot(
    [("a.txt", "aa", 2)],
    [("W1", "a.txt", 1), ("W2", "a.txt", 9)],
    [
        ("outputs", "s1", "records", 2.0),
        ("outputs", "s1", "share", math.nan),
        ("outputs", "s2", "share", 0.5),
        ("outputs", "s4", "records", 2.0),
    ],
)


def test_removals_changes_and_indicator_values() -> None:
    changes = changes_between(BEFORE, AFTER)
    assert changes.schema == schemas.CHANGES.schema
    rows = set(changes.select("change", "subject", "measure", "before", "after").iter_rows())
    assert rows == {
        ("total", "files", "", 2.0, 1.0),
        ("total", "records", "", 3.0, 2.0),
        ("file_removed", "b.txt", "", 1.0, None),
        ("record_removed", "W3", "", None, None),
        ("record_changed", "W2", "", None, None),
        ("indicator_changed", "s1", "records", 3.0, 2.0),
        ("indicator_changed", "s2", "share", None, 0.5),  # null -> a value is a change
        ("indicator_removed", "s3", "records", 1.0, None),
        ("indicator_added", "s4", "records", None, 2.0),
    }  # NaN then and now (a 0/0 share) is no change
    removed = changes.filter(change="record_removed")
    assert removed["detail"].to_list() == ["b.txt"]  # the file it was last read from


def test_without_content_hashes_records_are_compared_by_id_only() -> None:
    changes = changes_between(BEFORE, AFTER, compare_content=False)
    assert "record_changed" not in set(changes["change"])
    assert changes.filter(change="record_removed").height == 1


def test_first_run_and_what_a_record_hash_covers() -> None:
    first = changes_between(None, AFTER)
    assert first.select("change", "subject", "after").rows() == [
        ("first_run", "files", 1.0),
        ("first_run", "records", 2.0),
    ]
    records = pl.DataFrame(
        {"record_id": ["W1", "W2"], "title": ["T", "T"], "source_file": ["a", "b"]}
    ).with_columns(source_line=pl.lit(1))
    authors = pl.DataFrame({"record_id": ["W1", "W2"], "position": [1, 1], "name": ["Li", "Li"]})
    addresses = pl.DataFrame({"record_id": ["W1"], "address_pos": [1], "raw": ["Univ X"]})

    def hashes(recs: pl.DataFrame, auth: pl.DataFrame) -> list[int]:
        frame = record_hashes(recs.lazy(), auth.lazy(), addresses.lazy()).collect()
        return frame.sort("record_id")["content_hash"].to_list()

    base = hashes(records, authors)
    # Where a record was read from is no change; its fields and authors are.
    moved = records.with_columns(source_file=pl.lit("c"), source_line=pl.lit(7))
    assert hashes(moved, authors) == base
    assert hashes(records.with_columns(title=pl.lit("U")), authors) != base
    renamed = authors.with_columns(name=pl.lit("Wang"))
    assert hashes(records, renamed)[0] != base[0]
