"""The vectorised readers and the line-by-line ones read every clean real export identically."""

from __future__ import annotations

import pytest
from polars.testing import assert_frame_equal

from collabscope.parse.decode import WOS_PLAIN, WOS_TAB, read_export
from collabscope.parse.wos_items import (
    _clean_plain_items,
    _clean_tab_items,
    items_from_raw_records,
)
from collabscope.parse.wos_tokens import iter_plain_records, iter_tab_records
from tests.conftest import REALDATA

PLAIN_FILES = sorted((REALDATA / "wos_plain").glob("*")) if REALDATA.is_dir() else []


@pytest.mark.skipif(not PLAIN_FILES, reason="../shared/realdata is absent")
def test_both_tokenisers_agree_on_every_clean_file() -> None:
    clean = 0
    for path in PLAIN_FILES:
        try:
            decoded = read_export(path)
        except Exception:
            continue
        if decoded.format != WOS_PLAIN:
            continue
        fast = _clean_plain_items(decoded.lines, 7)
        slow = items_from_raw_records(iter_plain_records(decoded.lines), 7)
        if fast is None:
            # Only files the line-by-line reader finds a problem in may leave the fast path.
            assert slow.meta["problem"].is_not_null().any(), path.name
            continue
        clean += 1
        assert slow.meta["problem"].is_null().all(), path.name
        assert_frame_equal(fast.meta, slow.meta, check_dtypes=True)
        # The fast path keeps empty pieces of text (they only mark a tag as present).
        assert_frame_equal(
            fast.items.filter(fast.items["value"] != ""),
            slow.items.filter(slow.items["value"] != ""),
        )
        assert set(fast.items["tag"]) == set(slow.items["tag"]), path.name
    assert clean >= 90  # all but the two files with stray text


TAB_FILES = sorted((REALDATA / "wos_tab").glob("*")) if REALDATA.is_dir() else []


@pytest.mark.skipif(not TAB_FILES, reason="../shared/realdata is absent")
def test_both_tab_readers_agree_on_every_clean_file() -> None:
    clean = 0
    for path in TAB_FILES:
        try:
            decoded = read_export(path)
        except Exception:
            continue
        if decoded.format != WOS_TAB:
            continue
        fast = _clean_tab_items(decoded.lines, 7)
        slow = items_from_raw_records(iter_tab_records(decoded.lines), 7)
        if fast is None:
            continue
        clean += 1
        assert slow.meta["problem"].is_null().all(), path.name
        assert_frame_equal(fast.meta, slow.meta)
        assert_frame_equal(fast.items, slow.items)
    assert clean >= 35
