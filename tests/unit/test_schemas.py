from __future__ import annotations

import polars as pl
import pytest

from collabscope import schemas
from collabscope.tableio import scan_table, write_table
from tests.conftest import PROJECT


def test_table_documentation_is_current() -> None:
    documented = (PROJECT / "docs" / "tables.md").read_text(encoding="utf-8")
    assert documented == schemas.markdown(), "run: python -m collabscope.schemas > docs/tables.md"


def test_every_column_is_described_and_keys_exist() -> None:
    for table in schemas.CANONICAL_TABLES:
        names = [c[0] for c in table.columns]
        assert len(names) == len(set(names)), table.name
        assert set(table.key) <= set(names), table.name
        assert all(c[2].strip() for c in table.columns), table.name


def test_writer_sorts_by_key_and_gives_identical_bytes(tmp_path) -> None:
    frame = pl.DataFrame({"dataset": ["b", "a", "a"], "record_id": ["WOS:2", "WOS:9", "WOS:1"]})
    first = write_table(frame, schemas.DATASET_RECORDS, tmp_path / "one.parquet")
    second = write_table(frame.reverse(), schemas.DATASET_RECORDS, tmp_path / "two.parquet")
    assert first.read_bytes() == second.read_bytes()
    back = scan_table(first, schemas.DATASET_RECORDS).collect()
    assert back.rows() == [("a", "WOS:1"), ("a", "WOS:9"), ("b", "WOS:2")]
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


def test_writer_refuses_a_frame_missing_a_column(tmp_path) -> None:
    with pytest.raises(ValueError, match="missing columns"):
        write_table(pl.DataFrame({"dataset": ["a"]}), schemas.DATASET_RECORDS, tmp_path / "x.pq")
