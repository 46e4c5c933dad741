"""changes_between: two snapshots -> the changes table (removals, NaN and null values);
compare_runs: run after run, the comparison of the shards' blocks that differ finds what a
comparison of the whole corpus finds (new files, duplicates settled in another shard, records
that move shard), and a run killed anywhere leaves what a clean run leaves."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest

from collabscope import changes as changes_module
from collabscope import schemas
from collabscope.changes import changes_between, compare_runs, record_hashes
from collabscope.combine import combine_shards
from collabscope.parse.shard import parse_shard
from collabscope.tableio import scan_table, table_path, write_table
from tests.workflow.helpers import wos_plain_file


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


# --- compare_runs on parsed shards -------------------------------------------------------------


def _tables(root: Path, shards: list[list[Path]]) -> dict[str, str]:
    """Parse ``shards`` (export files each) under ``root`` and combine them: compare_runs'
    tables."""
    dirs = []
    for i, files in enumerate(shards):
        out = root / "shards" / f"{i:04d}"
        outputs = {t.name: out / f"{t.name}.parquet" for t in schemas.SHARD_TABLES}
        parse_shard({str(f): ["world"] for f in files}, outputs)
        dirs.append(out)
    paths = {t.name: table_path(root / "tables", t) for t in schemas.CANONICAL_TABLES}
    combine_shards(dirs, {"world": {"exports": ["*"]}}, paths)
    return {k: str(paths[k]) for k in ("records", "authorships", "addresses", "accounting")}


def _whole(tables: dict[str, str]) -> dict[str, pl.DataFrame]:
    """The snapshot of the whole corpus at once (what the comparison must agree with)."""
    scans = (
        scan_table(tables[t.name], t)
        for t in (schemas.RECORDS, schemas.AUTHORSHIPS, schemas.ADDRESSES)
    )
    accounting = scan_table(tables["accounting"], schemas.ACCOUNTING)
    return {
        "files": accounting.select("file", "sha256", "records_seen").collect(),
        "records": record_hashes(*scans).collect(),
        "indicators": schemas.SNAPSHOT_INDICATORS.empty(),
    }


def _compare(tables: dict[str, str], work: Path, out: str = "changes.parquet") -> bytes:
    compare_runs(tables, {}, work / "state", work / out, work / "store")
    return (work / out).read_bytes()


def _expected(before: dict | None, after: dict, path: Path) -> bytes:
    return write_table(changes_between(before, after), schemas.CHANGES, path).read_bytes()


def test_run_after_run_the_blocks_that_differ_give_the_whole_comparison(tmp_path: Path) -> None:
    exports, work = tmp_path / "exports", tmp_path / "work"
    a = wos_plain_file(exports / "a.txt", range(0, 10))
    b = wos_plain_file(exports / "b.txt", range(10, 20))
    c = wos_plain_file(exports / "c.txt", range(20, 25), country="Scotland")
    d = wos_plain_file(exports / "d.txt", range(30, 35))
    # Sorts before a.txt: holds records 5 and 6 first, with other addresses.
    zero = wos_plain_file(exports / "0.txt", range(5, 7), country="Wales")
    e = wos_plain_file(exports / "e.txt", range(40, 45))
    runs = [
        [[a], [b], [c]],
        [[a], [b, d], [c]],  # a new file in one shard
        # Records 5 and 6 now kept in the third shard: the first shard's files are the same,
        # its records are not (5 and 6 superseded there).
        [[a], [b, d], [c, zero]],
        [[a], [b, d], [c]],  # 0.txt removed: a's 5 and 6 are the records again
        [[a, c], [b], [d, e]],  # re-sharded, and a new file: c's records move, unchanged
    ]
    wholes: list[dict] = []
    for i, shards in enumerate(runs):
        tables = _tables(tmp_path / f"run{i}", shards)
        wholes.append(_whole(tables))
        expected = _expected(wholes[i - 1] if i else None, wholes[i], tmp_path / f"exp{i}")
        assert _compare(tables, work) == expected, i
    found = pl.read_parquet(work / "changes.parquet")
    assert found.filter(pl.col("change").str.starts_with("record_"))["subject"].to_list() == [
        f"WOS:{i:015d}" for i in range(40, 45)
    ]

    # The blocks of the last two runs: only those of the shards that differ are compared.
    state = json.loads((work / "state" / "state.json").read_text())
    latest, previous = (
        changes_module._load(work / "state", state[k]["snapshot"]) for k in ("latest", "previous")
    )
    assert latest is not None and previous is not None
    old, new = changes_module._differing(previous, latest)
    assert old.height == 30 and new.height == 35  # every shard differs after re-sharding

    # Records 5 and 6 changed (read from 0.txt), then back: checked against the whole corpus
    # above; and their content, not only where they are read.
    kept = wholes[2]["records"].filter(pl.col("record_id") == f"WOS:{5:015d}")
    assert kept["source_file"].to_list() == [str(zero)]


def test_one_new_file_compares_its_shard_only(tmp_path: Path) -> None:
    exports, work = tmp_path / "exports", tmp_path / "work"
    a = wos_plain_file(exports / "a.txt", range(0, 10))
    b = wos_plain_file(exports / "b.txt", range(10, 20))
    c = wos_plain_file(exports / "c.txt", range(20, 25))
    d = wos_plain_file(exports / "d.txt", range(30, 35))
    _compare(_tables(tmp_path / "one", [[a], [b], [c]]), work)
    _compare(_tables(tmp_path / "two", [[a], [b, d], [c]]), work)
    state = json.loads((work / "state" / "state.json").read_text())
    latest, previous = (
        changes_module._load(work / "state", state[k]["snapshot"]) for k in ("latest", "previous")
    )
    assert latest is not None and previous is not None
    old, new = changes_module._differing(previous, latest)
    assert (old.height, new.height) == (10, 15)
    # Four blocks kept: the three shards' of the latest run, and the changed shard's before.
    blocks = {
        entry["block"]
        for run in (state["latest"], state["previous"])
        for entry in json.loads(
            (work / "state" / "runs" / run["snapshot"] / "records.json").read_text()
        )["blocks"]
    }
    assert len(blocks) == 4
    assert {p.stem for p in (work / "state" / "records").iterdir()} == blocks


def test_the_same_data_in_other_shards_is_no_new_run(tmp_path: Path) -> None:
    exports, work = tmp_path / "exports", tmp_path / "work"
    a = wos_plain_file(exports / "a.txt", range(0, 10))
    b = wos_plain_file(exports / "b.txt", range(10, 20))
    c = wos_plain_file(exports / "c.txt", range(20, 25))
    _compare(_tables(tmp_path / "one", [[a], [b]]), work)
    first = json.loads((work / "state" / "state.json").read_text())
    answer = _compare(_tables(tmp_path / "two", [[a], [b], [c]]), work)
    before = json.loads((work / "state" / "state.json").read_text())
    # parse.shards edited: the same records in other shards. The answer is the one the data
    # gave (against the run before it); the snapshot takes latest's place.
    assert _compare(_tables(tmp_path / "three", [[a, c], [b]]), work) == answer
    after = json.loads((work / "state" / "state.json").read_text())
    assert after["previous"] == before["previous"] == first["latest"]
    assert after["latest"]["snapshot"] != before["latest"]["snapshot"]
    assert sorted(p.name for p in (work / "state" / "runs").iterdir()) == sorted(
        [after["latest"]["snapshot"], after["previous"]["snapshot"]]
    )
    # And once more, killed after its state was saved or not: the same answer.
    assert _compare(_tables(tmp_path / "four", [[a, c], [b]]), work) == answer


def test_a_state_written_before_blocks_is_read(tmp_path: Path) -> None:
    """A state folder of the previous version (every record in runs/<digest>/records.parquet)
    is compared with, in full; the same data is recognised in it."""
    exports, work = tmp_path / "exports", tmp_path / "work"
    a = wos_plain_file(exports / "a.txt", range(0, 10))
    b = wos_plain_file(exports / "b.txt", range(10, 20))
    older, tables = _tables(tmp_path / "one", [[a]]), _tables(tmp_path / "two", [[a], [b]])
    state = {}
    for name, source in (("previous", older), ("latest", tables)):
        snapshot = work / "state" / "runs" / name
        for part, frame in _whole(source).items():
            write_table(frame, changes_module.SNAPSHOT[part], snapshot / f"{part}.parquet")
        state[name] = {"snapshot": name, "polars": pl.__version__}
    (work / "state" / "state.json").write_text(json.dumps(state))
    # The same data as latest: compared with previous, as before.
    expected = _expected(_whole(older), _whole(tables), tmp_path / "expected")
    assert _compare(tables, work) == expected
    saved = json.loads((work / "state" / "state.json").read_text())
    assert saved["previous"] == state["previous"]
    assert (work / "state" / "runs" / "previous" / "records.parquet").is_file()
    assert not (work / "state" / "runs" / "latest").exists()
    # New data: compared with the snapshot in blocks.
    c = wos_plain_file(exports / "c.txt", range(20, 25))
    newer = _tables(tmp_path / "three", [[a], [b, c]])
    expected = _expected(_whole(tables), _whole(newer), tmp_path / "expected")
    assert _compare(newer, work) == expected
    assert not (work / "state" / "runs" / "previous").exists()


class _Killed(Exception):
    pass


@pytest.mark.parametrize(
    "where", ["_write_blocks", "_write_snapshot", "_write_state", "_changes", "write_table"]
)
def test_a_run_killed_anywhere_then_rerun_leaves_what_a_clean_run_leaves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    exports = tmp_path / "exports"
    a = wos_plain_file(exports / "a.txt", range(0, 10))
    b = wos_plain_file(exports / "b.txt", range(10, 20))
    c = wos_plain_file(exports / "c.txt", range(20, 25))
    runs = [
        _tables(tmp_path / "one", [[a], [b]]),
        _tables(tmp_path / "two", [[a], [b, c]]),  # a new file
        _tables(tmp_path / "three", [[a, c], [b]]),  # the same data in other shards
    ]

    def files(work: Path) -> dict[str, bytes]:
        return {str(p.relative_to(work)): p.read_bytes() for p in work.rglob("*") if p.is_file()}

    clean = tmp_path / "clean"
    for tables in runs:
        _compare(tables, clean)
    for killed in (1, 2):
        work = tmp_path / f"killed{killed}"
        for tables in runs[:killed]:
            _compare(tables, work)
        # Left by writes killed earlier: removed by the next run.
        (work / "state" / "runs" / ".tmp-1").mkdir()
        (work / "state" / "records" / ".x.parquet.1.tmp").write_bytes(b"x")
        original = getattr(changes_module, where)

        def dies(*args: object, original: object = original, **kwargs: object) -> object:
            original(*args, **kwargs)  # type: ignore[operator]
            raise _Killed

        with monkeypatch.context() as patch:
            patch.setattr(changes_module, where, dies)
            with pytest.raises(_Killed):
                _compare(runs[killed], work)
        for tables in runs[killed:]:
            _compare(tables, work)
        assert files(work) == files(clean), (where, killed)
