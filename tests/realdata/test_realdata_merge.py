"""The same queries exported from Web of Science and Scopus (../shared/realdata) become one work
per paper: the CalCoRE__dse-citan pair (data/wos.txt and data/scopus.csv) and others.

The numbers were checked by hand on a sample (see the issue report): DOI matches agree on
title and year; the title matches are WoS records without a DOI (proceedings) or with a
different DOI form for the same paper.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from collabscope.merge import merge_works
from collabscope.parse.shard import parse_files

ORDER = ["wos", "scopus", "openalex", "cssci"]
# (WoS file, Scopus file) -> (WoS records, Scopus records, works held by both,
#                             of them matched by DOI, by title + year + first author)
PAIRS = {
    (
        "wos_plain/CalCoRE__dse-citan__data__wos.txt",
        "scopus_csv/CalCoRE__dse-citan__data__scopus.csv",
    ): (146, 318, 141, 127, 14),
    (
        "wos_plain/tonyhungry__Umbrella-Review__savedrecs.txt",
        "scopus_csv/tonyhungry__Umbrella-Review__scopus.csv",
    ): (29, 29, 29, 29, 0),
    (
        "wos_plain/glauberbalthazar83__PoultryBibliometric__savedrecs.txt",
        "scopus_csv/glauberbalthazar83__PoultryBibliometric__scopus.csv",
    ): (31, 69, 10, 10, 0),
}


def _merge(realdata: Path, files: tuple[str, ...]) -> tuple[dict, dict]:
    tables = parse_files({str(realdata / f): ["d"] for f in files}).tables
    out = merge_works(
        tables["records"].lazy(),
        tables["authorships"].lazy(),
        tables["funding"].lazy(),
        ORDER,
        {"funding": ["scopus", "wos", "openalex", "cssci"]},
    )
    return tables, out


@pytest.mark.parametrize("pair", list(PAIRS), ids=lambda p: p[0].split("/")[1])
def test_wos_scopus_overlap(realdata: Path, pair: tuple[str, str]) -> None:
    n_wos, n_scopus, both, by_doi, by_title = PAIRS[pair]
    tables, out = _merge(realdata, pair)
    record_works = out["record_works"]
    assert record_works.group_by("source").len().sort("source").rows() == [
        ("scopus", n_scopus),
        ("wos", n_wos),
    ]
    works = out["works"]
    cross = works.filter(pl.col("sources") == ["scopus", "wos"])
    assert cross.height == both
    assert works.filter("cross_source").height == both
    wos_matches = record_works.filter(pl.col("source") == "wos").group_by("match").len()
    counts = dict(wos_matches.rows())
    assert (counts.get("doi", 0), counts.get("title_year_author", 0)) == (by_doi, by_title)
    # Every work is one WoS record at most and one Scopus record at most (no chaining).
    assert works["n_records"].max() <= 2
    # WoS is first: every cross-source work's id is its WoS record, addresses from WoS.
    primary = record_works.filter("is_primary").join(cross.select("work_id"), on="work_id")
    assert set(primary["source"]) == {"wos"} and primary.height == both
    # Addresses come from the WoS record, or from Scopus where the WoS record has none.
    addresses = (
        out["work_fields"]
        .filter(pl.col("field") == "addresses")
        .join(primary.select("work_id", wos_id="record_id"), on="work_id")
        .join(tables["records"].select(wos_id="record_id", n="n_addresses"), on="wos_id")
    )
    assert addresses.filter((pl.col("source") == "wos") != (pl.col("n") > 0)).is_empty(), addresses
    # Matched records agree on the year (±1 for early access) wherever both give one.
    years = (
        record_works.join(cross.select("work_id"), on="work_id")
        .join(tables["records"].select("record_id", "year"), on="record_id")
        .group_by("work_id")
        .agg(spread=pl.col("year").max() - pl.col("year").min())
    )
    assert years["spread"].max() <= 1 if years.height else True
    accounting = out["merge_accounting"].sort("source")
    assert accounting.select("source", "parsed", "matched", "merged").rows() == [
        ("scopus", n_scopus, both, both),
        ("wos", n_wos, both, 0),
    ]
