"""The interview pool on real Web of Science exports (../shared/realdata): the China–UK papers
among them, their authors grouped into people, e-mails linked.

Real bylines repeat people (ORCID, ResearcherID, e-mails, names at one institution), so every
rule fires; no merge may join two different ORCID iDs or ResearcherIDs, nor two authors of one
paper.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl
import pytest

from collabscope.normalise.countries import (
    CountryPolicy,
    load_country_table,
    load_region_table,
    resolve_countries,
)
from collabscope.normalise.institutions import load_registry, match_institutions
from collabscope.parse.shard import parse_files
from collabscope.sampling import pool as P
from tests.conftest import PROJECT, REALDATA

pytestmark = pytest.mark.realdata
RESOURCES = PROJECT / "resources"


@cache
def real_pool() -> tuple[P.Pool, int]:
    files = sorted(str(p) for p in (REALDATA / "wos_plain").iterdir())
    tables = parse_files({f: ["realdata"] for f in files})
    countries = RESOURCES / "countries"
    located = resolve_countries(
        tables["addresses"].lazy(),
        load_country_table(countries / "countries.csv"),
        CountryPolicy(),
        regions=load_region_table(countries),
    )
    institutions = RESOURCES / "institutions"
    registry = load_registry([institutions / "institutions.csv"], [institutions / "tiers.csv"])
    addresses = match_institutions(located, registry).collect().lazy()
    frames = {
        name: tables[name].lazy()
        for name in ("authorships", "records", "author_address", "dataset_records")
    }
    frames["addresses"] = addresses
    pool = P.build_pool(frames, registry, ["CHN", "GBR"])
    pair = P.pool_records(addresses, ["CHN", "GBR"])
    n_emails = (
        (
            tables["records"]
            .lazy()
            .join(pair, on="record_id")
            .select(pl.col("emails").list.len().sum())
        )
        .collect()
        .item()
    )
    return pool, n_emails


def test_real_pool_merges_by_every_rule_without_conflicts(realdata: Path) -> None:
    pool, _ = real_pool()
    people = pool.people
    assert pool.counts["papers"] == 124
    assert people["n_authorships"].sum() == pool.counts["authorships_in_focal_countries"]
    assert set(pool.merges_by_rule) == set(P.MERGE_REASONS)  # every rule fires on real data
    assert people.filter(pl.col("n_pair_papers") > 1).height >= 50  # measured 59
    assert people.filter(pl.col("orcids").list.len() > 1).height == 0
    assert people.filter(pl.col("researcher_ids").list.len() > 1).height == 0
    assert not people["two_on_one_paper"].any()


def test_real_emails_are_linked_to_authors(realdata: Path) -> None:
    pool, n_emails = real_pool()
    assert n_emails == 271
    assert pool.counts["emails_linked"] >= 205  # measured 213 of the 271
    linked = pool.people.drop_nulls("email")
    assert set(linked["email_method"]) <= set(P.EMAIL_CONFIDENCE)
    by_name = linked.filter(pl.col("email_method").is_in(["name", "initials", "name_partial"]))
    surnames = by_name.select(
        pl.col("name")
        .str.split(",")
        .list.first()
        .str.to_lowercase()
        .str.replace_all(r"[^a-z]", ""),
        pl.col("email").str.split("@").list.first().str.replace_all(r"[^a-z]", ""),
    )
    # Name-linked e-mails carry the surname (accents and spaces aside).
    assert surnames.filter(pl.col("email").str.contains(pl.col("name"), literal=True)).height >= (
        0.9 * surnames.height
    )
