"""The seeded, stratified draw: strata, filters, the user's exclusion list, codes.

Each person of a stratum gets a draw key, BLAKE2 of (seed, stratum, person_id), and the
stratum's eligible people are taken in key order: the first ``size`` are invitees, the next
``reserves`` are reserves, in the order in which to replace decliners. The key depends only on
the seed and the person, so the same pool and config give the same people in the same order,
another seed another draw, and adding someone to the exclusion list removes them without
reshuffling anyone else (those after them move up one place).

Codes are the stratum label and the place in the draw, as the seed study wrote them: UK-R1 …
UK-R5 for the invitees, UK-R6 … for the reserves.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from collabscope.errors import UserInputError
from collabscope.sampling import names

log = logging.getLogger(__name__)

EXCLUSION_REASONS = ("contacted", "declined", "opted_out", "other")
EXCLUSION_IDS = ("email", "orcid", "name")
EXCLUSION_COLUMNS = (*EXCLUSION_IDS, "reason", "note")
NO_STRATUM = "(in no stratum)"

SAMPLE_COLUMNS = (
    "code",
    "stratum",
    "role",
    "draw_order",
    "person_id",
    "name",
    "full_name",
    "email",
    "email_method",
    "email_confidence",
    "orcid",
    "institution_name",
    "affiliation",
    "country",
    "tiers",
    "n_pair_papers",
    "first_year",
    "last_year",
)
SUMMARY_SCHEMA = pl.Schema(
    {
        "stratum": pl.String,
        "country": pl.String,
        "tier": pl.String,
        "tier_not": pl.String,
        "size": pl.Int64,
        "reserves": pl.Int64,
        "in_pool": pl.Int64,
        "excluded": pl.Int64,
        "filtered_out": pl.Int64,
        "eligible": pl.Int64,
        "invitees": pl.Int64,
        "reserves_drawn": pl.Int64,
        "invitee_codes": pl.String,
        "reserve_codes": pl.String,
        "note": pl.String,
    }
)
"""The public summary: strata, counts and codes, nothing about a person."""


@dataclass(frozen=True)
class Stratum:
    """People whose current affiliation is in ``country`` and (when given) whose institution
    has tier ``tier`` and has not tier ``tier_not``."""

    label: str
    country: str
    size: int
    reserves: int
    tier: str | None = None
    tier_not: str | None = None

    def matches(self) -> pl.Expr:
        expr = pl.col("country") == self.country
        if self.tier:
            expr &= pl.col("tiers").list.contains(self.tier)
        if self.tier_not:
            expr &= ~pl.col("tiers").list.contains(self.tier_not)
        return expr


@dataclass(frozen=True)
class Filters:
    """Who may be drawn: at least ``min_pair_papers`` pool papers, a span of at least
    ``min_years_active`` years, a pool paper in ``active_since`` or later (0: any), a linked
    e-mail, an identified institution."""

    min_pair_papers: int = 1
    min_years_active: int = 1
    active_since: int = 0
    require_email: bool = True
    require_institution: bool = True

    def failing(self) -> pl.Expr:
        """The first filter a person fails, null when none."""
        return (
            pl.when(pl.col("n_pair_papers") < self.min_pair_papers)
            .then(pl.lit("min_pair_papers"))
            .when(pl.col("years_active").fill_null(0) < self.min_years_active)
            .then(pl.lit("min_years_active"))
            .when(pl.col("last_year").fill_null(0) < self.active_since)
            .then(pl.lit("active_since"))
            .when(pl.lit(self.require_email) & pl.col("email").is_null())
            .then(pl.lit("require_email"))
            .when(pl.lit(self.require_institution) & pl.col("institution_id").is_null())
            .then(pl.lit("require_institution"))
        )


def strata_from_config(
    strata: Mapping[str, Mapping[str, Any]],
    default_size: int,
    default_reserves: int,
    known_tiers: Iterable[str],
) -> list[Stratum]:
    """The configured strata, in config order; an unknown tier is an error naming it."""
    known = set(known_tiers)
    found = []
    for label, spec in strata.items():
        for key in ("tier", "tier_not"):
            tier = spec.get(key)
            if tier and tier not in known:
                raise UserInputError(
                    "config",
                    f"sampling.strata.{label}.{key}: unknown tier {tier!r} "
                    f"(known tiers: {', '.join(sorted(known))})",
                )
        found.append(
            Stratum(
                label=label,
                country=spec["country"],
                size=int(_or(spec.get("size"), default_size)),
                reserves=int(_or(spec.get("reserves"), default_reserves)),
                tier=spec.get("tier") or None,
                tier_not=spec.get("tier_not") or None,
            )
        )
    return found


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def assign_strata(pool: pl.DataFrame, strata: Sequence[Stratum]) -> pl.DataFrame:
    """``pool`` with a ``stratum`` column (null for people in none). A person in two strata
    means the strata overlap: an error naming them and how many people they share."""
    hits = pl.concat_list([pl.when(s.matches()).then(pl.lit(s.label)) for s in strata])
    frame = pool.with_columns(_hits=hits.list.drop_nulls())
    both = frame.filter(pl.col("_hits").list.len() > 1)
    if both.height:
        pair = both["_hits"][0].to_list()
        shared = both.filter(pl.col("_hits") == pl.lit(pair)).height
        raise UserInputError(
            "config",
            f"sampling.strata: {pair[0]!r} and {pair[1]!r} overlap ({shared} people of the "
            "pool fit both); give them exclusive conditions (e.g. tier and tier_not)",
        )
    return frame.with_columns(stratum=pl.col("_hits").list.first()).drop("_hits")


def load_exclusions(path: str | Path) -> pl.DataFrame:
    """Read the user's exclusion list: a UTF-8 CSV with a header naming ``reason`` and at least
    one of ``email``, ``orcid``, ``name`` (``note`` optional); each row identifies one person by
    any of them, with a reason among :data:`EXCLUSION_REASONS`. Lines whose first cell starts
    with ``#`` are comments. A problem raises :class:`UserInputError` naming the line.

    Returns line, email, orcid, name_key, reason."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise UserInputError(where, "exclusion list not found")
    rows: list[dict[str, Any]] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = None
            for row in reader:
                line = reader.line_num
                if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                    continue
                if header is None:
                    header = [cell.strip().lower() for cell in row]
                    _check_header(where, header, line)
                    continue
                if len(row) != len(header):
                    raise UserInputError(
                        where, f"{len(row)} cells where the header has {len(header)}", line
                    )
                rows.append(
                    {"line": line, **dict(zip(header, (c.strip() for c in row), strict=True))}
                )
    except UnicodeDecodeError as error:
        raise UserInputError(where, f"not UTF-8 text ({error.reason})") from error
    if header is None:
        raise UserInputError(
            where, f"no header line (expected columns {', '.join(EXCLUSION_COLUMNS)})"
        )
    for row in rows:
        _check_row(where, row)
    frame = pl.DataFrame(
        {
            "line": [r["line"] for r in rows],
            "email": [r.get("email") or None for r in rows],
            "orcid": [r.get("orcid") or None for r in rows],
            "name": [r.get("name") or None for r in rows],
            "reason": [r["reason"] for r in rows],
        },
        schema={
            "line": pl.Int64,
            "email": pl.String,
            "orcid": pl.String,
            "name": pl.String,
            "reason": pl.String,
        },
    )
    return frame.select(
        "line",
        email=names.email_key(pl.col("email")),
        orcid=names.orcid_key(pl.col("orcid")),
        name_key=pl.when(pl.col("name").is_not_null()).then(names.name_key(pl.col("name"))),
        reason="reason",
    )


def _check_header(where: str, header: list[str], line: int) -> None:
    unknown = [c for c in header if c not in EXCLUSION_COLUMNS]
    if unknown:
        raise UserInputError(
            where,
            f"unknown column {unknown[0]!r} (columns: {', '.join(EXCLUSION_COLUMNS)})",
            line,
        )
    if len(set(header)) != len(header):
        raise UserInputError(where, "a column is named twice", line)
    if "reason" not in header or not any(c in header for c in EXCLUSION_IDS):
        raise UserInputError(
            where, "the header needs a reason column and one of email, orcid, name", line
        )


def _check_row(where: str, row: Mapping[str, Any]) -> None:
    line = row["line"]
    if not any(row.get(c) for c in EXCLUSION_IDS):
        raise UserInputError(where, "no email, orcid or name to identify the person", line)
    email = row.get("email")
    if email and pl.select(names.email_key(pl.lit(email))).item() is None:
        raise UserInputError(where, f"{email!r} is not an e-mail address", line)
    orcid = row.get("orcid")
    if orcid and pl.select(names.orcid_key(pl.lit(orcid))).item() is None:
        raise UserInputError(where, f"{orcid!r} is not an ORCID iD (0000-0000-0000-000X)", line)
    name = row.get("name")
    if name and "," not in name:
        raise UserInputError(where, f"name {name!r}: write it as 'Surname, Given names'", line)
    if row["reason"] not in EXCLUSION_REASONS:
        raise UserInputError(
            where,
            f"reason {row['reason']!r} is not one of {', '.join(EXCLUSION_REASONS)}",
            line,
        )


def match_exclusions(pool: pl.DataFrame, exclusions: pl.DataFrame) -> pl.DataFrame:
    """person_id, excluded_by (the exclusion lines that name the person: by e-mail, ORCID, or
    a name equal to any of their AU or AF forms)."""
    keys = pl.concat(
        [
            pool.select("person_id", key=pl.col("emails"))
            .explode("key")
            .with_columns(kind=pl.lit("email")),
            pool.select("person_id", key=pl.col("orcids"))
            .explode("key")
            .with_columns(kind=pl.lit("orcid")),
            pool.select("person_id", key=pl.concat_list("names", "full_names"))
            .explode("key")
            .with_columns(key=names.name_key(pl.col("key")), kind=pl.lit("name")),
        ]
    ).drop_nulls("key")
    wanted = pl.concat(
        [
            exclusions.select("line", key="email", kind=pl.lit("email")),
            exclusions.select("line", key="orcid", kind=pl.lit("orcid")),
            exclusions.select("line", key="name_key", kind=pl.lit("name")),
        ]
    ).drop_nulls("key")
    return (
        keys.join(wanted, on=["kind", "key"])
        .group_by("person_id")
        .agg(pl.col("line").unique().sort().alias("excluded_by"))
        .sort("person_id")
    )


def draw_keys(person_ids: Sequence[str], seed: int, stratum: str) -> list[str]:
    """Each person's draw key in a stratum: BLAKE2 of seed, stratum and person_id."""
    return [
        hashlib.blake2b(f"{seed}\x1f{stratum}\x1f{pid}".encode(), digest_size=16).hexdigest()
        for pid in person_ids
    ]


@dataclass(frozen=True)
class Draw:
    sample: pl.DataFrame  # SAMPLE_COLUMNS, invitees then reserves, stratum by stratum
    summary: pl.DataFrame  # SUMMARY_SCHEMA
    warnings: list[str]


def draw_sample(
    pool: pl.DataFrame,
    strata: Sequence[Stratum],
    filters: Filters,
    seed: int,
    exclusions: pl.DataFrame | None = None,
) -> Draw:
    """Exclude, filter, stratify and draw; see the module docstring."""
    frame = assign_strata(pool, strata)
    excluded = (
        match_exclusions(frame, exclusions)
        if exclusions is not None and exclusions.height
        else pl.DataFrame(schema={"person_id": pl.String, "excluded_by": pl.List(pl.Int64)})
    )
    frame = frame.join(excluded, on="person_id", how="left").with_columns(
        _status=pl.when(pl.col("excluded_by").is_not_null())
        .then(pl.lit("excluded"))
        .otherwise(filters.failing())
    )
    samples, rows, warnings = [], [], []
    for stratum in strata:
        members = frame.filter(pl.col("stratum") == stratum.label)
        eligible = members.filter(pl.col("_status").is_null())
        ordered = (
            eligible.with_columns(
                _key=pl.Series(
                    draw_keys(eligible["person_id"].to_list(), seed, stratum.label), dtype=pl.String
                )
            )
            .sort("_key", "person_id")
            .head(stratum.size + stratum.reserves)
            .with_columns(draw_order=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
            .with_columns(
                code=pl.lit(stratum.label) + pl.col("draw_order").cast(pl.String),
                role=pl.when(pl.col("draw_order") <= stratum.size)
                .then(pl.lit("invitee"))
                .otherwise(pl.lit("reserve")),
            )
        )
        samples.append(ordered)
        invitees = ordered.filter(pl.col("role") == "invitee")["code"].to_list()
        reserves = ordered.filter(pl.col("role") == "reserve")["code"].to_list()
        note = ""
        wanted = stratum.size + stratum.reserves
        if eligible.height < wanted:
            note = (
                f"only {eligible.height} eligible for {stratum.size} invitees and "
                f"{stratum.reserves} reserves: all {eligible.height} taken"
            )
            warnings.append(f"stratum {stratum.label}: {note}")
        n_excluded = members.filter(pl.col("_status") == "excluded").height
        rows.append(
            {
                "stratum": stratum.label,
                "country": stratum.country,
                "tier": stratum.tier,
                "tier_not": stratum.tier_not,
                "size": stratum.size,
                "reserves": stratum.reserves,
                "in_pool": members.height,
                "excluded": n_excluded,
                "filtered_out": members.height - n_excluded - eligible.height,
                "eligible": eligible.height,
                "invitees": len(invitees),
                "reserves_drawn": len(reserves),
                "invitee_codes": " ".join(invitees),
                "reserve_codes": " ".join(reserves),
                "note": note,
            }
        )
    outside = frame.filter(pl.col("stratum").is_null()).height
    if outside:
        rows.append({"stratum": NO_STRATUM, "in_pool": outside, "note": "not drawn from"})
    for warning in warnings:
        log.warning("%s", warning)
    summary = pl.DataFrame(rows, schema=SUMMARY_SCHEMA)
    sample = pl.concat(samples) if samples else frame.clear()
    sample = sample.with_columns(
        orcid=pl.col("orcids").list.first(),
        tiers=pl.col("tiers").list.join("; "),
    ).select(SAMPLE_COLUMNS)
    return Draw(sample, summary, warnings)
