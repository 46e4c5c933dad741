"""Paper-level classification: addresses, lead affiliation, collaboration class per focal country.

Every record gets one row per focal country X (and one for the pair X+Y when two are
configured), whether or not X took part, so that counts over ``paper_classes`` always add up to
the records of a dataset; records without any address are kept and flagged
(``address_source = none``), never dropped.

The addresses that count are the C1 affiliations. A record without C1 but with a reprint (RP)
address — common for editorials and old records — is classified by its reprint addresses
(``address_source = reprint``). Affiliations are counted by institution: two C1 addresses of
one institution (two departments, or a repeated address) make a single-affiliation paper, not a
domestic collaboration. The institution is the matched ``institution_id``, else the organisation
text with its country, else the raw address.

Lead affiliation, three rules (``LEAD_RULES``): ``first_author`` — the first C1 address linked
to the first author (``author_address``); ``first_address`` — the first C1 address; ``reprint``
— the first reprint address. The configured rule is used; when its address is missing the next
one in the rule's fallback order is used and ``lead_fallback`` is set (records before 2008
carry no author links, so the first-author rule falls back to the first C1 address).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

LEAD_RULES = ("first_author", "first_address", "reprint")
# Which rule's address stands in when the configured rule's own address is missing.
LEAD_FALLBACKS: dict[str, tuple[str, ...]] = {
    "first_author": ("first_author", "first_address", "reprint"),
    "first_address": ("first_address", "reprint"),
    "reprint": ("reprint", "first_address"),
}
COLLAB_TYPES = (
    "domestic-single",
    "domestic-multiple",
    "bilateral",
    "trilateral",
    "quadrilateral+",
)
COUNTRY_CATEGORIES = (
    "icp_x_led",
    "icp_other_led",
    "single_affiliation",
    "domestic_collaboration",
)
PAIR_CATEGORIES = ("x_led", "y_led", "other_led")


def pair_name(focal: Sequence[str]) -> str | None:
    """The ``focal`` value of the pair rows (``CHN+GBR``), None for a single focal country."""
    return "+".join(focal) if len(focal) == 2 else None


def institution_key() -> pl.Expr:
    """Which institution an address is, for counting a record's institutions: the matched
    ``institution_id``, else the organisation text with its country, else the raw address.

    Hashed (fixed seeds): only the number of distinct keys per record is ever used, and the
    hash is 8 bytes where the texts of every address held 1.3 GB at 2,000,000 records. Two
    different institutions of one record colliding in 64 bits is not a practical risk."""
    return (
        pl.coalesce(
            pl.col("institution_id"),
            pl.concat_str(
                pl.col("organisation").str.to_lowercase().str.strip_chars(),
                pl.col("country"),
                separator="|",
            ),
            pl.col("raw").str.to_lowercase(),
        )
        .hash(seed=0)
        .alias("institution_key")
    )


def paper_addresses(addresses: pl.LazyFrame) -> pl.LazyFrame:
    """The addresses that count for each record: its C1 affiliations, or, for a record without
    any, its reprint addresses. Adds ``address_source`` and the ``institution_key``
    (:func:`institution_key`, unless ``addresses`` has it already: the classification stage
    computes it while it reads the addresses, so their texts are never held)."""
    has_c1 = (pl.col("kind") == "affiliation").any().over("record_id")
    has_key = "institution_key" in addresses.collect_schema()
    return addresses.filter(
        (pl.col("kind") == "affiliation") | ((pl.col("kind") == "reprint") & ~has_c1)
    ).select(
        "record_id",
        "address_pos",
        "country",
        pl.col("is_transnational").fill_null(False)
        if "is_transnational" in addresses.collect_schema()
        else pl.lit(False).alias("is_transnational"),
        pl.when(pl.col("kind") == "affiliation")
        .then(pl.lit("c1"))
        .otherwise(pl.lit("reprint"))
        .alias("address_source"),
        pl.col("institution_key") if has_key else institution_key(),
    )


def lead_addresses(
    addresses: pl.LazyFrame, author_address: pl.LazyFrame, lead_rule: str
) -> pl.LazyFrame:
    """Per record with any address: the lead address and country under each rule, the
    configured lead (``lead_pos``, ``lead_country``), which rule gave it and whether that was a
    fallback, and whether the record has C1 author links at all."""
    if lead_rule not in LEAD_RULES:
        raise ValueError(f"unknown lead rule {lead_rule!r}; one of {LEAD_RULES}")
    # In address order, so that the first row of a group is its first address (a group keeps
    # its rows' order); sorting ids that are Enum or sorted already is cheap.
    located = addresses.select("record_id", "address_pos", "kind", "country").sort(
        "record_id", "address_pos"
    )
    aff = pl.col("kind") == "affiliation"
    rp = pl.col("kind") == "reprint"
    pos = pl.col("address_pos")
    country = pl.col("country")
    # One pass over the addresses: the first C1 and reprint address (and their countries), and
    # the last C1 position (C1 affiliations are numbered first, reprint addresses after them).
    per_record = located.group_by("record_id").agg(
        first_address_pos=pos.filter(aff).min(),
        first_address_country=country.filter(aff).first(),
        reprint_pos=pos.filter(rp).min(),
        reprint_country=country.filter(rp).first(),
        last_c1_pos=pos.filter(aff).max(),
    )
    # One pass over the links: any link to a C1 address, and the first author's first one (a
    # link's lowest position is a C1 address whenever the author has one).
    linked = author_address.group_by("record_id").agg(
        any_pos=pos.min(), first_author_any=pos.filter(pl.col("position") == 1).min()
    )
    frame = (
        per_record.join(linked, on="record_id", how="left")
        .with_columns(
            has_links=(pl.col("any_pos") <= pl.col("last_c1_pos")).fill_null(False),
            first_author_pos=pl.when(pl.col("first_author_any") <= pl.col("last_c1_pos")).then(
                pl.col("first_author_any")
            ),
        )
        .join(
            located.filter(aff).select(
                "record_id",
                pl.col("address_pos").alias("first_author_pos"),
                pl.col("country").alias("first_author_country"),
            ),
            on=["record_id", "first_author_pos"],
            how="left",
        )
        .drop("any_pos", "first_author_any", "last_c1_pos")
    )
    order = LEAD_FALLBACKS[lead_rule]
    return frame.with_columns(
        lead_pos=pl.coalesce([pl.col(f"{rule}_pos") for rule in order]),
        lead_country=pl.coalesce(
            [
                pl.when(pl.col(f"{rule}_pos").is_not_null()).then(pl.col(f"{rule}_country"))
                for rule in order
            ]
        ),
        lead_source=pl.coalesce(
            [pl.when(pl.col(f"{rule}_pos").is_not_null()).then(pl.lit(rule)) for rule in order]
        ),
    ).with_columns(
        lead_fallback=pl.col("lead_source") != lead_rule,
    )


def _differ(a: str, b: str) -> pl.Expr:
    """Both rules give a country and the countries differ."""
    return (pl.col(f"{a}_country") != pl.col(f"{b}_country")).fill_null(False)


def lead_disagreements(leads: pl.LazyFrame, records: pl.LazyFrame) -> pl.LazyFrame:
    """Records whose lead country differs between two rules that both give an address."""
    return (
        leads.with_columns(
            first_author_vs_reprint=_differ("first_author", "reprint"),
            first_author_vs_first_address=_differ("first_author", "first_address"),
            first_address_vs_reprint=_differ("first_address", "reprint"),
        )
        .filter(
            pl.col("first_author_vs_reprint")
            | pl.col("first_author_vs_first_address")
            | pl.col("first_address_vs_reprint")
        )
        .join(records.select("record_id", "year"), on="record_id", how="left")
    )


def record_profile(
    records: pl.LazyFrame, addresses: pl.LazyFrame, leads: pl.LazyFrame
) -> pl.LazyFrame:
    """One row per record: counts, countries, collaboration type and the lead
    (``leads`` from :func:`lead_addresses`)."""
    used = paper_addresses(addresses)
    # One pass over the addresses (grouped by runs when the ids are sorted integers). The
    # countries without the addresses of Sino-foreign joint institutions (UNNC, XJTLU, ...):
    # a "China–UK" paper whose UK or China side is only such an address rests on it.
    per_record = used.group_by("record_id").agg(
        pl.len().cast(pl.Int64).alias("n_addresses"),
        pl.col("country").is_null().any().alias("has_unknown_country"),
        pl.col("address_source").first(),
        pl.col("institution_key").n_unique().alias("n_institutions"),
        pl.col("country").drop_nulls().unique().sort().alias("countries"),
        pl.col("country")
        .filter(~pl.col("is_transnational"))
        .drop_nulls()
        .unique()
        .alias("countries_without_joint"),
    )
    n_countries = pl.col("countries").list.len()
    return (
        records.select("record_id", "year", "n_authors")
        .join(per_record, on="record_id", how="left")
        .join(
            leads.select(
                "record_id",
                "has_links",
                "lead_pos",
                "lead_country",
                "lead_source",
                "lead_fallback",
                "first_author_country",
                "reprint_country",
            ),
            on="record_id",
            how="left",
        )
        .with_columns(
            pl.col("n_addresses").fill_null(0),
            pl.col("n_institutions").fill_null(0).cast(pl.Int64),
            pl.col("countries", "countries_without_joint").fill_null(
                pl.lit([], dtype=pl.List(pl.String))
            ),
            pl.col("has_unknown_country").fill_null(False),
            pl.col("address_source").fill_null("none"),
            pl.col("has_links").fill_null(False),
            pl.col("lead_fallback").fill_null(False),
            single_author=pl.col("n_authors") == 1,
        )
        .with_columns(
            n_countries=n_countries,
            collab_type=pl.when(n_countries == 0)
            .then(None)
            .when((n_countries == 1) & (pl.col("n_institutions") == 1))
            .then(pl.lit("domestic-single"))
            .when(n_countries == 1)
            .then(pl.lit("domestic-multiple"))
            .when(n_countries == 2)
            .then(pl.lit("bilateral"))
            .when(n_countries == 3)
            .then(pl.lit("trilateral"))
            .otherwise(pl.lit("quadrilateral+")),
            leads_disagree=(pl.col("first_author_country") != pl.col("reprint_country")).fill_null(
                False
            ),
        )
        .drop("first_author_country", "reprint_country")
    )


def country_credit(addresses: pl.LazyFrame, leads: pl.LazyFrame) -> pl.LazyFrame:
    """Per record and country: addresses there, full credit 1 and fractional credit (its share
    of the record's addresses with a known country), and whether it is the lead country."""
    used = paper_addresses(addresses).filter(pl.col("country").is_not_null())
    return (
        used.group_by("record_id", "country")
        .agg(pl.len().alias("n_addresses"))
        .with_columns(
            credit_full=pl.lit(1.0),
            credit_fractional=pl.col("n_addresses") / pl.col("n_addresses").sum().over("record_id"),
        )
        .join(leads.select("record_id", "lead_country"), on="record_id", how="left")
        .with_columns(is_lead=(pl.col("country") == pl.col("lead_country")).fill_null(False))
        .drop("lead_country")
    )


def classify_papers(profile: pl.LazyFrame, focal: Sequence[str]) -> pl.LazyFrame:
    """One row per record and focal country (and pair): the paper's class for that country."""
    focal = list(focal)
    if not 1 <= len(focal) <= 2:
        raise ValueError(f"one or two focal countries, not {focal}")
    countries = pl.col("countries")
    known = pl.col("n_countries")
    frames = []
    for x in focal:
        participated = countries.list.contains(x)
        international = participated & (known > 1)
        category = (
            pl.when(~participated)
            .then(None)
            .when(international & (pl.col("lead_country") == x))
            .then(pl.lit("icp_x_led"))
            .when(international)
            .then(pl.lit("icp_other_led"))
            .when(pl.col("n_institutions") == 1)
            .then(pl.lit("single_affiliation"))
            .otherwise(pl.lit("domestic_collaboration"))
        )
        frames.append(
            profile.with_columns(
                focal=pl.lit(x),
                scope=pl.lit("country"),
                participated=participated,
                international=pl.when(participated).then(international),
                category=category,
                led_by=pl.when(participated).then(
                    pl.when(pl.col("lead_country") == x).then(pl.lit(x)).otherwise(pl.lit("other"))
                ),
                rests_on_joint_institution=pl.lit(None, dtype=pl.Boolean),
            )
        )
    name = pair_name(focal)
    if name:
        x, y = focal
        both = countries.list.contains(x) & countries.list.contains(y)
        lead = pl.col("lead_country")
        frames.append(
            profile.with_columns(
                focal=pl.lit(name),
                scope=pl.lit("pair"),
                participated=both,
                international=pl.when(both).then(pl.lit(True)),
                category=pl.when(~both)
                .then(None)
                .when(lead == x)
                .then(pl.lit("x_led"))
                .when(lead == y)
                .then(pl.lit("y_led"))
                .otherwise(pl.lit("other_led")),
                led_by=pl.when(both).then(
                    pl.when(lead.is_in([x, y])).then(lead).otherwise(pl.lit("other"))
                ),
                rests_on_joint_institution=pl.when(both).then(
                    ~(
                        pl.col("countries_without_joint").list.contains(x)
                        & pl.col("countries_without_joint").list.contains(y)
                    )
                ),
            )
        )
    return pl.concat(frames, how="vertical").drop("countries_without_joint")


def with_credit(classes: pl.LazyFrame, credit: pl.LazyFrame, focal: Sequence[str]) -> pl.LazyFrame:
    """Add the fractional credit of each row's focal country (for the pair: of both) and the
    full credit."""
    focal = list(focal)
    frame = classes
    for country in focal:
        frame = frame.join(
            credit.filter(pl.col("country") == country).select(
                "record_id", pl.col("credit_fractional").alias(f"_{country}")
            ),
            on="record_id",
            how="left",
        )
    parts = {country: pl.col(f"_{country}").fill_null(0.0) for country in focal}
    share = pl.lit(0.0)
    for country in focal:
        share = pl.when(pl.col("focal") == country).then(parts[country]).otherwise(share)
    name = pair_name(focal)
    if name:
        # Only a paper with both countries is a pair paper: a China-only paper has China's
        # credit but none as a China–UK paper.
        share = (
            pl.when(pl.col("focal") == name)
            .then(
                pl.when(pl.col("participated"))
                .then(parts[focal[0]] + parts[focal[1]])
                .otherwise(0.0)
            )
            .otherwise(share)
        )
    return frame.with_columns(
        credit_fractional=share,
        credit_full=pl.col("participated").cast(pl.Float64),
    ).drop([f"_{country}" for country in focal])
