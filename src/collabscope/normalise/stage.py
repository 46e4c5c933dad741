"""Stage functions of the normalisation step: canonical tables in, normalised tables out."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
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
    review_queues_of,
    review_tallies,
)
from collabscope.parts import PartStore, library_code, settings_digest, tally_shards
from collabscope.tableio import parts_of, scan_table, write_parts_manifest

log = logging.getLogger(__name__)

_CODE = library_code("normalise/*.py")


def _slices(frame: pl.DataFrame, sizes: Sequence[int]) -> Iterator[pl.DataFrame]:
    """``frame`` cut into consecutive slices of ``sizes`` rows: the parts of a batch whose
    rows kept their order."""
    offset = 0
    for size in sizes:
        yield frame.slice(offset, size)
        offset += size


def _method_tally(addresses: pl.LazyFrame) -> pl.DataFrame:
    return (
        addresses.group_by("country_method", "institution_method")
        .agg(rows=pl.len().cast(pl.Int64))
        .collect()
    )


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
    store: str | Path,
) -> dict[str, int]:
    """Each address's country under the policy and its institution; write the review queues
    (affiliations unmatched, low confidence) as CSV; return counts per method, and of the parts
    normalised and reused.

    ``addresses`` is the canonical table (a manifest of shard parts, or one file). Each part
    is normalised once for the same settings, resources and code: ``store`` keeps the results
    (see collabscope.parts), so a new export file normalises its shard only. ``outputs``'s
    ``addresses`` is a manifest of the stored parts."""
    countries_dir = Path(countries_dir)
    parts = parts_of(addresses, schemas.ADDRESSES)
    settings = settings_digest(
        {
            "policy": dict(country_policy),
            "fuzzy_cutoff": fuzzy_cutoff,
            "files": [len(institution_registries), len(tier_registries), bool(ror_dump)],
            "overrides": bool(overrides),
            "code": _CODE,
        },
        [
            *sorted(countries_dir.glob("*.csv")),
            *institution_registries,
            *tier_registries,
            *([ror_dump] if ror_dump else []),
            *([overrides] if overrides else []),
        ],
    )

    def normalise(missing: list[list[Path]]) -> Iterator[pl.DataFrame]:
        table = load_country_table(countries_dir / "countries.csv")
        regions = load_region_table(countries_dir)
        policy = CountryPolicy(**dict(country_policy))
        registry = load_registry(list(institution_registries), list(tier_registries))
        if ror_dump:
            registry = combine_registries(registry, load_ror(ror_dump))
        # One batch, so that an affiliation string in several parts is matched once; rows keep
        # their order, so each part is a slice of the result.
        batch = [scan_table(files[0], schemas.ADDRESSES) for files in missing]
        sizes = [frame.select(pl.len()).collect().item() for frame in batch]
        located = resolve_countries(pl.concat(batch), table, policy, regions=regions)
        frame = match_institutions(
            located,
            registry,
            overrides=load_overrides(overrides) if overrides else None,
            fuzzy_cutoff=fuzzy_cutoff,
        ).collect()
        yield from _slices(frame, sizes)

    results = PartStore(store, schemas.ADDRESSES_NORMALISED)
    normalised_parts, n_normalised = results.fill([parts], settings, normalise)
    n_parts = len(normalised_parts.files)
    log.info("%d of %d address parts to normalise", n_normalised, n_parts)
    write_parts_manifest(
        schemas.ADDRESSES_NORMALISED,
        normalised_parts.files,
        normalised_parts.superseded,
        outputs["addresses"],
    )

    # The review queues and the counts by method add up over shards: each shard's are kept.
    tallies, n_tallied = tally_shards(
        [
            PartStore(Path(store) / table.name, table)
            for table in (schemas.REVIEW_SPELLINGS, schemas.REVIEW_COUNTS, schemas.ADDRESS_METHODS)
        ],
        [(normalised_parts, schemas.ADDRESSES_NORMALISED)],
        settings,
        lambda kept: (*review_tallies(kept[0]), _method_tally(kept[0])),
    )
    spellings, review_counts, methods = tallies
    log.info("%d of %d shards' review tallies to compute", n_tallied, n_parts)
    queues = review_queues_of(spellings, review_counts)
    for name, queue in (
        ("unmatched", queues.unmatched),
        ("low_confidence", queues.low_confidence),
    ):
        Path(outputs[name]).parent.mkdir(parents=True, exist_ok=True)
        queue.with_columns(pl.col(pl.List(pl.String)).list.join("; ")).write_csv(outputs[name])

    def by(method: str) -> dict[str, int]:
        totals = methods.group_by(method).agg(pl.col("rows").sum()).sort(method).collect()
        return dict(totals.iter_rows())

    counts = {
        "parts": {"normalised": n_normalised, "reused": n_parts - n_normalised},
        "tallied": n_tallied,
        "countries": by("country_method"),
        "institutions": by("institution_method"),
    }
    log.info("policy %s; by method: %s", dict(country_policy), counts)
    return counts


def normalise_funding(
    funding: str | Path,
    addresses: str | Path,
    registries: Sequence[str | Path],
    output: str | Path,
    review: str | Path,
    store: str | Path,
) -> dict[str, int]:
    """Match every funder to the registry (ambiguous names settled by the record's countries);
    write the review queue as CSV; return counts per method.

    Like :func:`normalise_addresses`, each shard's part is matched once for the same registries
    and code, kept in ``store``; ``output`` is a manifest of the stored parts. A part's
    countries are those of the same shard's normalised addresses."""
    settings = settings_digest({"code": _CODE}, list(registries))
    sources = [
        parts_of(funding, schemas.FUNDING),
        parts_of(addresses, schemas.ADDRESSES_NORMALISED),
    ]

    def normalise(missing: list[list[Path]]) -> Iterator[pl.DataFrame]:
        registry = load_funder_registry(list(registries))

        # One batch, so that a funder named in several parts is matched once. A record can be
        # in two parts (a later export of it): each part's rows see only the countries of its
        # own copy, through ids made distinct per part.
        def distinct(frame: pl.LazyFrame, part: int) -> pl.LazyFrame:
            return frame.with_columns(
                _record_id=pl.col("record_id"), record_id=pl.format(f"{part}:{{}}", "record_id")
            )

        batch = [
            distinct(scan_table(files[0], schemas.FUNDING), part)
            for part, files in enumerate(missing)
        ]
        sizes = [frame.select(pl.len()).collect().item() for frame in batch]
        countries = pl.concat(
            distinct(
                scan_table(files[1], schemas.ADDRESSES_NORMALISED).select("record_id", "country"),
                part,
            )
            for part, files in enumerate(missing)
        )
        frame = (
            normalise_funders(
                pl.concat(batch),
                registry,
                record_countries=countries.select("record_id", "country").drop_nulls().unique(),
            )
            .with_columns(record_id=pl.col("_record_id"))
            .collect()
        )
        # Rows keep their order (normalise_funders): each part is a slice, as for addresses.
        yield from _slices(frame, sizes)

    results = PartStore(store, schemas.FUNDING_NORMALISED)
    normalised_parts, n_normalised = results.fill(sources, settings, normalise)
    log.info("%d of %d funding parts to normalise", n_normalised, len(normalised_parts.files))
    write_parts_manifest(
        schemas.FUNDING_NORMALISED,
        normalised_parts.files,
        normalised_parts.superseded,
        output,
    )
    normalised = scan_table(output, schemas.FUNDING_NORMALISED)
    queue = funder_review_queue(normalised).with_columns(pl.col(pl.List(pl.String)).list.join("; "))
    Path(review).parent.mkdir(parents=True, exist_ok=True)
    queue.write_csv(review)
    methods = normalised.select("funder_method").collect()
    counts = dict(methods.group_by("funder_method").len().sort("funder_method").iter_rows())
    log.info("funders by method: %s; %d texts to review", counts, queue.height)
    return counts
