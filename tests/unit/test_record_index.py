"""Integer record keys of the classification stages, and the integer slice key of indicators."""

from __future__ import annotations

import polars as pl
import pytest

from collabscope.classify import indicators as ind
from collabscope.classify.record_index import RecordIndex

IDS = ["WOS:003", "WOS:001", "SCOPUS:2-s2.0-9", "WOS:002"]


def test_keys_follow_the_ids_string_order_and_decode_back() -> None:
    index = RecordIndex(pl.Series(IDS))
    frame = pl.DataFrame({"record_id": ["WOS:002", "WOS:003", None, "SCOPUS:2-s2.0-9"]})
    encoded = index.encode(frame).collect()
    assert encoded["record_id"].dtype == pl.UInt32
    # SCOPUS:... < WOS:001 < WOS:002 < WOS:003
    assert encoded["record_id"].to_list() == [2, 3, None, 0]
    assert index.decode(encoded)["record_id"].to_list() == frame["record_id"].to_list()
    # An empty table built with a string schema (no citing dataset: no citation links).
    empty = pl.DataFrame(schema={"record_id": pl.String})
    assert index.decode(empty).schema == empty.schema


def test_a_sorted_table_gets_a_sorted_key_an_unsorted_one_does_not() -> None:
    index = RecordIndex(pl.Series(IDS))
    ordered = index.encode(pl.LazyFrame({"record_id": ["WOS:001", "WOS:001", "WOS:003"]}))
    assert ordered.collect()["record_id"].flags["SORTED_ASC"]
    shuffled = index.encode(pl.LazyFrame({"record_id": ["WOS:003", "WOS:001"]}))
    assert not shuffled.collect()["record_id"].flags["SORTED_ASC"]
    grouped = (
        index.encode(pl.LazyFrame({"record_id": ["WOS:001", "WOS:001", "WOS:003"], "n": [1, 2, 4]}))
        .group_by("record_id")
        .agg(pl.col("n").sum())
        .sort("record_id")
        .collect()
    )
    assert grouped["n"].to_list() == [3, 4]


def test_an_id_that_is_not_a_record_is_an_error_naming_it() -> None:
    index = RecordIndex(pl.Series(IDS))
    with pytest.raises(ValueError, match="WOS:004"):
        index.encode(pl.DataFrame({"record_id": ["WOS:001", "WOS:004"]}))
    with pytest.raises(ValueError, match="WOS:001"):
        RecordIndex(pl.Series([], dtype=pl.String)).encode(pl.DataFrame({"record_id": ["WOS:001"]}))


def test_integer_slices_label_as_the_string_slices() -> None:
    periods = [
        {"label": "early", "first": 2001, "last": 2005},
        {"label": "overlap", "first": 2004, "last": 2008},
    ]
    frame = pl.LazyFrame({"id": [1, 2, 3, 4], "year": [2001, 2004, 2009, None]})
    expected = ind.sliced(frame, periods).collect()
    got = ind._labelled(ind._sliced(frame, periods), periods).collect()
    key = ["id", "granularity", "period"]
    assert got.select(expected.columns).sort(key).equals(expected.sort(key))
    # 3 yearly rows, 2001 in one period, 2004 in two, 2009 in none.
    assert got.height == 6
