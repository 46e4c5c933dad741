"""The report's counts of the corpus, added up from per-shard tallies.

The audit, the countries of affiliations and the country-policy sections count rows and
distinct records of the normalised addresses and funding by a key or two; the records-per-year
figure counts each dataset's records by year, the funders section each funder's records by
year. Those counts add up over parse shards, since a kept record lives in one shard: each
shard's are kept in the report's store (collabscope.parts.tally_shards), so a new export file
counts its own shard only instead of the whole corpus again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import polars as pl

from collabscope import schemas
from collabscope.classify import indicators as ind
from collabscope.normalise.countries import CountryPolicy
from collabscope.parts import (
    Memberships,
    PartStore,
    file_digest,
    library_code,
    settings_digest,
    tally_shards,
)
from collabscope.tableio import parts_of

_CODE = library_code("report/tallies.py", "normalise/countries.py", "classify/indicators.py")
NO_COUNTRY = "(no country element)"
# The four country policies (uk_nations, hong_kong_macau_taiwan) the report recounts under.
POLICIES = tuple((uk, hmt) for uk in ("GBR", "separate") for hmt in ("separate", "fold_into_CHN"))


def _counted(frame: pl.LazyFrame, tally: str, a: pl.Expr, b: pl.Expr | None = None) -> pl.LazyFrame:
    """Rows and distinct records of ``frame`` by ``a`` (and ``b``), as ``tally``."""
    second = b if b is not None else pl.lit(None)
    return (
        frame.group_by(a=a.cast(pl.String), b=second.cast(pl.String))
        .agg(
            rows=pl.len().cast(pl.Int64),
            records=pl.col("record_id").n_unique().cast(pl.Int64),
        )
        .select(pl.lit(tally).alias("tally"), "a", "b", "rows", "records")
    )


def address_tallies(addresses: pl.LazyFrame, folds: pl.DataFrame) -> pl.DataFrame:
    """The tallies of normalised addresses (``folds``: countries.csv's code, folds_into)."""
    affiliations = addresses.filter(pl.col("kind") == "affiliation")
    country, recorded = pl.col("country"), pl.col("country_recorded")
    frames = [
        _counted(addresses, "country_method", pl.col("country_method")),
        _counted(addresses, "institution_method", pl.col("institution_method")),
        _counted(
            addresses.filter(pl.col("country_method") == "none"),
            "country_unmatched",
            pl.col("country_text").fill_null(NO_COUNTRY),
        ),
        _counted(
            addresses.filter(pl.col("institution_method") == "none"),
            "institution_unmatched",
            pl.lit(""),
        ),
        _counted(affiliations.filter(country.is_not_null()), "affiliation_country", country),
        _counted(affiliations.filter(recorded == country), "recorded_as_counted", country),
        _counted(affiliations.filter(recorded != country), "folded", recorded, country),
    ]
    # Each policy's country of an affiliation, recounted from the recorded one.
    written = (
        affiliations.filter(recorded.is_not_null())
        .select("record_id", "country_recorded")
        .unique()
        .join(folds.lazy(), left_on="country_recorded", right_on="code", how="left")
    )
    for uk, hmt in POLICIES:
        policy = CountryPolicy(uk_nations=uk, hong_kong_macau_taiwan=hmt)  # type: ignore[arg-type]
        counted = (
            pl.when(pl.col("folds_into").is_in(sorted(policy.fold_targets())))
            .then(pl.col("folds_into"))
            .otherwise(recorded)
        )
        frames.append(_counted(written, f"policy {uk} {hmt}", counted))
    return pl.concat(frames).collect()


def funding_tallies(funding: pl.LazyFrame) -> pl.DataFrame:
    """The tallies of normalised funding entries."""
    return _counted(funding, "funder_method", pl.col("funder_method")).collect()


class Tallies:
    """The corpus's tallies: every shard's added up."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame

    def of(self, tally: str) -> pl.DataFrame:
        """One tally's a, b, rows and records."""
        return self.frame.filter(pl.col("tally") == tally).drop("tally")


def load_tallies(tables: Mapping[str, str | Path], store: str | Path | None) -> Tallies:
    """The tallies of the normalised addresses and funding entries in ``tables``, each shard's
    kept in ``store`` (None: a temporary folder)."""
    folds = pl.read_csv(
        tables["countries"], columns=["code", "folds_into"], schema_overrides={"code": pl.String}
    ).filter(pl.col("folds_into").is_not_null())
    settings = settings_digest({"code": _CODE, "countries": file_digest(tables["countries"])})
    sources = (
        ("addresses", schemas.ADDRESSES_NORMALISED, lambda kept: [address_tallies(kept[0], folds)]),
        ("funding", schemas.FUNDING_NORMALISED, lambda kept: [funding_tallies(kept[0])]),
    )
    with tempfile.TemporaryDirectory(prefix="collabscope-report-tallies-") as scratch:
        frames = []
        for name, table, tally in sources:
            folder = Path(store if store is not None else scratch) / f"{name}_tallies"
            (shards,), _ = tally_shards(
                [PartStore(folder, schemas.REPORT_TALLY)],
                [(parts_of(tables[name], table), table)],
                settings,
                tally,
            )
            frames.append(shards)
        summed = (
            pl.concat(frames)
            .group_by("tally", "a", "b")
            .agg(pl.col("rows").sum(), pl.col("records").sum())
            .collect()
        )
    return Tallies(summed)


class RecordTallies(NamedTuple):
    """Records per dataset and year (schemas.RECORD_YEARS), and funders' records per dataset
    and year (the funders' partial counts of classify.indicators), of the whole corpus."""

    record_years: pl.DataFrame
    funders: pl.LazyFrame


def record_tallies(tables: Mapping[str, str | Path], store: str | Path | None) -> RecordTallies:
    """The records and funders of each dataset by year, each shard's kept in ``store`` (None: a
    temporary folder). By record (the report's figures count records, not works)."""
    records = parts_of(tables["records"], schemas.RECORDS)
    sources = [
        (records, schemas.RECORDS),
        (parts_of(tables["funding"], schemas.FUNDING_NORMALISED), schemas.FUNDING_NORMALISED),
    ]

    def tally(kept: list[pl.LazyFrame]) -> list[pl.DataFrame]:
        shard_records, funding, membership = kept
        years = shard_records.select("record_id", "year")
        per_year = (
            membership.join(years, on="record_id", how="left")
            .group_by("dataset", "year")
            .agg(records=pl.len().cast(pl.Int64))
        )
        return [per_year.collect(), ind.funders_counts(funding, years, membership).collect()]

    with tempfile.TemporaryDirectory(prefix="collabscope-report-records-") as scratch:
        folder = Path(store if store is not None else scratch)
        stores = [
            PartStore(folder / "record_years", schemas.RECORD_YEARS),
            PartStore(folder / "funders", schemas.INDICATOR_PARTIAL_BY_NAME["funders"]),
        ]
        (per_year, funders), _ = tally_shards(
            stores,
            sources,
            settings_digest({"code": _CODE}),
            tally,
            Memberships.of(records, tables["dataset_records"]),
        )
        summed = per_year.group_by("dataset", "year").agg(pl.col("records").sum()).collect()
        return RecordTallies(summed, funders.collect().lazy())
