"""Stage functions of the normalisation step: canonical tables in, normalised tables out."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from collabscope import schemas
from collabscope.normalise.countries import (
    CountryPolicy,
    load_country_table,
    load_region_table,
    resolve_countries,
)
from collabscope.tableio import scan_table, write_table

log = logging.getLogger(__name__)


def normalise_addresses(
    addresses: str | Path,
    countries_dir: str | Path,
    country_policy: Mapping[str, str],
    output: str | Path,
) -> dict[str, int]:
    """Resolve every address's country under the policy; return counts per method."""
    countries_dir = Path(countries_dir)
    table = load_country_table(countries_dir / "countries.csv")
    regions = load_region_table(countries_dir)
    policy = CountryPolicy(**dict(country_policy))
    frame = resolve_countries(
        scan_table(addresses, schemas.ADDRESSES), table, policy, regions=regions
    ).collect()
    write_table(frame, schemas.ADDRESSES_NORMALISED, output)
    counts = dict(frame.group_by("country_method").len().sort("country_method").iter_rows())
    log.info("countries by method (policy %s): %s", policy, counts)
    return counts
