"""Stage functions of the normalisation step: canonical tables in, normalised tables out."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from collabscope import schemas
from collabscope.normalise.countries import (
    CountryPolicy,
    load_country_table,
    load_region_table,
    resolve_countries,
)
from collabscope.normalise.funders import (
    funder_review_queue,
    load_funder_registry,
    normalise_funders,
)
from collabscope.normalise.institutions import (
    combine_registries,
    load_overrides,
    load_registry,
    load_ror,
    match_institutions,
    review_queues,
)
from collabscope.tableio import scan_table, write_table

log = logging.getLogger(__name__)


def normalise_addresses(
    addresses: str | Path,
    countries_dir: str | Path,
    country_policy: Mapping[str, str],
    institution_registries: Sequence[str | Path],
    tier_registries: Sequence[str | Path],
    ror_dump: str | Path | None,
    overrides: str | Path | None,
    fuzzy_cutoff: float,
    outputs: Mapping[str, str | Path],
) -> dict[str, int]:
    """Each address's country under the policy and its institution; write the review queues
    (affiliations unmatched, low confidence) as CSV; return counts per method."""
    countries_dir = Path(countries_dir)
    table = load_country_table(countries_dir / "countries.csv")
    regions = load_region_table(countries_dir)
    policy = CountryPolicy(**dict(country_policy))
    registry = load_registry(list(institution_registries), list(tier_registries))
    if ror_dump:
        registry = combine_registries(registry, load_ror(ror_dump))
    located = resolve_countries(
        scan_table(addresses, schemas.ADDRESSES), table, policy, regions=regions
    )
    frame = match_institutions(
        located,
        registry,
        overrides=load_overrides(overrides) if overrides else None,
        fuzzy_cutoff=fuzzy_cutoff,
    ).collect()
    write_table(frame, schemas.ADDRESSES_NORMALISED, outputs["addresses"])
    queues = review_queues(frame.lazy())
    for name, queue in (
        ("unmatched", queues.unmatched),
        ("low_confidence", queues.low_confidence),
    ):
        Path(outputs[name]).parent.mkdir(parents=True, exist_ok=True)
        queue.with_columns(pl.col(pl.List(pl.String)).list.join("; ")).write_csv(outputs[name])
    counts = {
        "countries": dict(
            frame.group_by("country_method").len().sort("country_method").iter_rows()
        ),
        "institutions": dict(
            frame.group_by("institution_method").len().sort("institution_method").iter_rows()
        ),
    }
    log.info("policy %s; by method: %s", policy, counts)
    return counts


def normalise_funding(
    funding: str | Path,
    addresses: str | Path,
    registries: Sequence[str | Path],
    output: str | Path,
    review: str | Path,
) -> dict[str, int]:
    """Match every funder to the registry (ambiguous names settled by the record's countries);
    write the review queue as CSV; return counts per method."""
    registry = load_funder_registry(list(registries))
    record_countries = (
        scan_table(addresses, schemas.ADDRESSES_NORMALISED)
        .select("record_id", "country")
        .drop_nulls()
        .unique()
    )
    frame = normalise_funders(
        scan_table(funding, schemas.FUNDING), registry, record_countries=record_countries
    ).collect()
    write_table(frame, schemas.FUNDING_NORMALISED, output)
    queue = funder_review_queue(frame.lazy()).with_columns(
        pl.col(pl.List(pl.String)).list.join("; ")
    )
    Path(review).parent.mkdir(parents=True, exist_ok=True)
    queue.write_csv(review)
    counts = dict(frame.group_by("funder_method").len().sort("funder_method").iter_rows())
    log.info("funders by method: %s; %d texts to review", counts, queue.height)
    return counts
