"""Indicators per year and per configured period, from the paper classes.

Each function returns one indicator table (a LazyFrame with the schema of the same name in
:mod:`collabscope.schemas`). Rows are sliced twice: ``granularity = year`` (``period`` is the
year) and ``granularity = period`` (``period`` is the configured label); ``first_year`` and
``last_year`` say which years a row covers. Records without a year are in no slice.

Corpus datasets are all configured datasets that are not citing datasets; citing datasets
are the keys of ``classify.citing`` (citing dataset -> the dataset whose papers they cite).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import polars as pl

from collabscope.parse.cited_references import reference_link_key

SLICE = ["granularity", "period", "first_year", "last_year"]
COUNTINGS = ("full", "fractional")


def period_years(periods: Sequence[Mapping[str, object]]) -> pl.LazyFrame:
    """year -> period label, first and last year of its period."""
    frame = pl.LazyFrame(
        {
            "period": [str(p["label"]) for p in periods],
            "first_year": [int(p["first"]) for p in periods],  # type: ignore[call-overload]
            "last_year": [int(p["last"]) for p in periods],  # type: ignore[call-overload]
        },
        schema={"period": pl.String, "first_year": pl.Int64, "last_year": pl.Int64},
    )
    return frame.with_columns(
        year=pl.int_ranges("first_year", pl.col("last_year") + 1, dtype=pl.Int64)
    ).explode("year")


def sliced(
    frame: pl.LazyFrame, periods: Sequence[Mapping[str, object]], year: str = "year"
) -> pl.LazyFrame:
    """Each row once per year and once per the period holding its year (none if in none)."""
    yearly = frame.filter(pl.col(year).is_not_null()).with_columns(
        granularity=pl.lit("year"),
        period=pl.col(year).cast(pl.String),
        first_year=pl.col(year),
        last_year=pl.col(year),
    )
    by_period = frame.join(
        period_years(periods).rename({"year": year}), on=year, how="inner"
    ).with_columns(granularity=pl.lit("period"))
    columns = yearly.collect_schema().names()
    return pl.concat([yearly, by_period.select(columns)], how="vertical")


# Indicators group by one integer slice key, ``_slice``, instead of the four SLICE columns:
# a year is itself, the i-th configured period is -(i + 1). The SLICE columns are added to the
# (small) aggregates by :func:`_labelled`: grouping millions of rows by a year cast to a
# string and a label was most of the cost of every indicator.
_S = "_slice"


def _period_keys(periods: Sequence[Mapping[str, object]]) -> pl.LazyFrame:
    """year -> ``_slice`` of each period holding it."""
    return pl.LazyFrame(
        {
            "year": [
                year
                for p in periods
                for year in range(int(p["first"]), int(p["last"]) + 1)  # type: ignore[call-overload]
            ],
            _S: [
                -(i + 1)
                for i, p in enumerate(periods)
                for _ in range(int(p["first"]), int(p["last"]) + 1)  # type: ignore[call-overload]
            ],
        },
        schema={"year": pl.Int64, _S: pl.Int64},
    )


def _sliced(
    frame: pl.LazyFrame,
    periods: Sequence[Mapping[str, object]],
    year: str = "year",
    yearly: bool = True,
) -> pl.LazyFrame:
    """Each row once per year (unless not ``yearly``) and once per period holding its year,
    keyed by ``_slice``."""
    by_year = frame.filter(pl.col(year).is_not_null()).with_columns(
        pl.col(year).cast(pl.Int64).alias(_S)
    )
    by_period = frame.join(
        _period_keys(periods).rename({"year": year}), on=year, how="inner"
    ).with_columns(pl.col(year).cast(pl.Int64))
    columns = by_year.collect_schema().names()
    if not yearly:
        return by_period.select(columns)
    return pl.concat([by_year, by_period.select(columns)], how="vertical")


def _labelled(frame: pl.LazyFrame, periods: Sequence[Mapping[str, object]]) -> pl.LazyFrame:
    """``_slice`` replaced by the SLICE columns."""
    key = pl.col(_S)
    codes = [-(i + 1) for i in range(len(periods))]
    labels = [str(p["label"]) for p in periods]
    firsts = [int(p["first"]) for p in periods]  # type: ignore[call-overload]
    lasts = [int(p["last"]) for p in periods]  # type: ignore[call-overload]
    by_year = key >= 0

    def period_value(values: list, dtype: pl.DataType) -> pl.Expr:
        if not codes:
            return pl.lit(None, dtype)
        return key.replace_strict(codes, values, default=None, return_dtype=dtype)

    return frame.with_columns(
        granularity=pl.when(by_year).then(pl.lit("year")).otherwise(pl.lit("period")),
        period=pl.when(by_year)
        .then(key.cast(pl.String))
        .otherwise(period_value(labels, pl.String)),
        first_year=pl.when(by_year).then(key).otherwise(period_value(firsts, pl.Int64)),
        last_year=pl.when(by_year).then(key).otherwise(period_value(lasts, pl.Int64)),
    ).drop(_S)


def _fsum(expr: pl.Expr) -> pl.Expr:
    """A sum of fractional credits, rounded to 1e-6: a parallel float sum depends on the order
    of its partial sums, and outputs must not depend on the thread count."""
    return expr.sum().round(6)


def _share(part: str, whole: str) -> pl.Expr:
    return pl.when(pl.col(whole) > 0).then(pl.col(part) / pl.col(whole))


def _ranked(
    frame: pl.LazyFrame, group: list[str], key: str, counting: str, top_n: int
) -> pl.LazyFrame:
    """Rank within ``group`` by the configured counting (ties broken by ``key``), keep top N."""
    value = "records" if counting == "full" else "records_fractional"
    return (
        frame.sort([*group, value, key], descending=[False] * len(group) + [True, False])
        .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(group))
        .filter(pl.col("rank") <= top_n)
    )


# ------------------------------------------------------------------ partial counts by year
# Every indicator but the citing countries by cited paper is computed in two steps: counts by
# year (``<name>_counts``, the schemas of schemas.INDICATOR_PARTIALS), which add up over any
# split of the records (the stage keeps each parse shard's, so that a new export file counts
# its shard only) and over the years of a period; then the indicator from their sums
# (:func:`finish`). A record has one year and lives in one shard, so distinct counts add up too.

# Fractional credits are summed as integers of 1e-12: a sum of floats depends on the order of
# its terms (on the thread count, or how the records are split), a sum of integers does not.
CREDIT_UNIT = 10**12


def _credit_sum(expr: pl.Expr) -> pl.Expr:
    return (expr.fill_null(0.0) * CREDIT_UNIT).round(0).cast(pl.Int64).sum()


class Frames(NamedTuple):
    """The rows the indicators count, of one shard or of the whole corpus (by work when works
    are merged): ``classes`` (the columns of classify.stage.INDICATOR_CLASS_COLUMNS),
    ``credit`` (country_credit), ``disagreements`` (lead_disagreements), ``records``
    (record_id, year, highly_cited), ``funding`` (record_id, funder_id, funder_name,
    funder_country) and ``membership`` (dataset_records)."""

    classes: pl.LazyFrame
    credit: pl.LazyFrame
    disagreements: pl.LazyFrame
    records: pl.LazyFrame
    funding: pl.LazyFrame
    membership: pl.LazyFrame


class Scope(NamedTuple):
    """What the counts depend on besides the rows: the corpus and citing datasets, the focal
    countries, and the highly cited method (which decides each paper's basis)."""

    corpus: Sequence[str]
    citing: Sequence[str]
    focal: Sequence[str]
    hcp_method: str


def class_rows(classes: pl.LazyFrame, membership: pl.LazyFrame) -> pl.LazyFrame:
    """The paper classes of each dataset's records with a year (those without are in no
    slice)."""
    return membership.join(classes, on="record_id").filter(pl.col("year").is_not_null())


def partial_counts(frames: Frames, scope: Scope) -> dict[str, pl.DataFrame]:
    """Every ``<name>_counts`` of ``frames``, by indicator name."""
    rows = class_rows(
        frames.classes, frames.membership.filter(pl.col("dataset").is_in(list(scope.corpus)))
    ).collect()
    counts = {
        "outputs": outputs_counts(rows.lazy()),
        "collaboration": collaboration_counts(rows.lazy()),
        "pair_leads": pair_leads_counts(rows.lazy()),
        "collaboration_types": collaboration_types_counts(rows.lazy(), scope.focal),
        "partners": partners_counts(rows.lazy(), frames.credit),
        "citing_countries": citing_countries_counts(
            frames.credit, frames.records, frames.membership, scope.citing
        ),
        "highly_cited": highly_cited_counts(rows.lazy(), frames.records, scope.hcp_method),
        "funders": funders_counts(frames.funding, frames.records, frames.membership),
        "funding_sources": funding_sources_counts(
            frames.funding, frames.records, frames.membership, scope.focal
        ),
        "lead_rules": lead_rules_counts(
            frames.classes, frames.disagreements, frames.membership, scope.focal
        ),
    }
    return {name: frame.collect() for name, frame in counts.items()}


def _summed(
    counts: pl.LazyFrame,
    keys: Sequence[str],
    periods: Sequence[Mapping[str, object]],
    yearly: bool = True,
    names: Sequence[str] = (),
) -> pl.LazyFrame:
    """``counts`` (by ``keys`` and year) summed per year (unless not ``yearly``) and per
    period, keyed by ``_slice``; *_fractional credits back to floats, rounded to 1e-6;
    ``names`` are taken as they are (the smallest), not summed."""
    columns = counts.collect_schema().names()
    measures = [c for c in columns if c not in {*keys, "year", *names}]
    by_year = counts.with_columns(pl.col("year").alias(_S))
    by_period = counts.join(_period_keys(periods), on="year", how="inner").select(
        *by_year.collect_schema().names()
    )
    frames = [by_year, by_period] if yearly else [by_period]
    return (
        pl.concat(frames, how="vertical")
        .group_by(*keys, _S)
        .agg(*(pl.col(name).min() for name in names), *(pl.col(m).sum() for m in measures))
        .with_columns(
            (pl.col(m) / CREDIT_UNIT).round(6) for m in measures if m.endswith("_fractional")
        )
    )


def outputs_counts(rows: pl.LazyFrame) -> pl.LazyFrame:
    return rows.group_by("dataset", "focal", "year").agg(
        records=pl.len().cast(pl.Int64),
        focal_records=pl.col("participated").sum().cast(pl.Int64),
        focal_records_fractional=_credit_sum(pl.col("credit_fractional")),
    )


def outputs(
    counts: pl.LazyFrame,
    periods: Sequence[Mapping[str, object]],
    field_dataset: str | None = None,
) -> pl.LazyFrame:
    """Records of each dataset, papers of each focal country (and pair), world share, and the
    share of the dataset (discipline) within the field dataset when one is configured."""
    counts = _summed(counts, ["dataset", "focal"], periods).with_columns(
        world_share=_share("focal_records", "records"),
        world_share_fractional=_share("focal_records_fractional", "records"),
    )
    if field_dataset:
        field = counts.filter(pl.col("dataset") == field_dataset).select(
            "focal",
            _S,
            field_records="records",
            field_focal_records="focal_records",
        )
        counts = counts.join(field, on=["focal", _S], how="left")
    else:
        counts = counts.with_columns(
            field_records=pl.lit(None, pl.Int64), field_focal_records=pl.lit(None, pl.Int64)
        )
    return _labelled(
        counts.with_columns(
            discipline_share=_share("records", "field_records"),
            focal_discipline_share=_share("focal_records", "field_focal_records"),
        ),
        periods,
    )


def collaboration_counts(rows: pl.LazyFrame) -> pl.LazyFrame:
    cat = pl.col("category")
    frac = pl.col("credit_fractional")
    return (
        rows.filter((pl.col("scope") == "country") & pl.col("participated"))
        .group_by("dataset", "focal", "year")
        .agg(
            papers=pl.len().cast(pl.Int64),
            icp=pl.col("international").sum().cast(pl.Int64),
            icp_x_led=(cat == "icp_x_led").sum().cast(pl.Int64),
            icp_other_led=(cat == "icp_other_led").sum().cast(pl.Int64),
            non_icp=(~pl.col("international")).sum().cast(pl.Int64),
            single_affiliation=(cat == "single_affiliation").sum().cast(pl.Int64),
            domestic_collaboration=(cat == "domestic_collaboration").sum().cast(pl.Int64),
            single_author=pl.col("single_author").sum().cast(pl.Int64),
            lead_fallback=pl.col("lead_fallback").sum().cast(pl.Int64),
            papers_fractional=_credit_sum(frac),
            icp_fractional=_credit_sum(frac.filter(pl.col("international"))),
            icp_x_led_fractional=_credit_sum(frac.filter(cat == "icp_x_led")),
        )
    )


def collaboration(counts: pl.LazyFrame, periods: Sequence[Mapping[str, object]]) -> pl.LazyFrame:
    """The seed's Figure 2 per focal country: ICP (X-led, other-led) and non-ICP
    (single-affiliation, domestic collaboration), single-author papers, ICP share and lead
    share, full and fractional."""
    frame = _summed(counts, ["dataset", "focal"], periods).with_columns(
        icp_share=_share("icp", "papers"),
        lead_share=_share("icp_x_led", "icp"),
        icp_share_fractional=_share("icp_fractional", "papers_fractional"),
        lead_share_fractional=_share("icp_x_led_fractional", "icp_fractional"),
    )
    return _labelled(frame, periods)


def pair_leads_counts(rows: pl.LazyFrame) -> pl.LazyFrame:
    cat = pl.col("category")
    frac = pl.col("credit_fractional")
    return (
        rows.filter((pl.col("scope") == "pair") & pl.col("participated"))
        .group_by("dataset", "focal", "year")
        .agg(
            papers=pl.len().cast(pl.Int64),
            x_led=(cat == "x_led").sum().cast(pl.Int64),
            y_led=(cat == "y_led").sum().cast(pl.Int64),
            other_led=(cat == "other_led").sum().cast(pl.Int64),
            lead_fallback=pl.col("lead_fallback").sum().cast(pl.Int64),
            papers_fractional=_credit_sum(frac),
            x_led_fractional=_credit_sum(frac.filter(cat == "x_led")),
            y_led_fractional=_credit_sum(frac.filter(cat == "y_led")),
        )
    )


def pair_leads(counts: pl.LazyFrame, periods: Sequence[Mapping[str, object]]) -> pl.LazyFrame:
    """Papers with addresses in both focal countries: X-led, Y-led, other-led."""
    frame = _summed(counts, ["dataset", "focal"], periods).with_columns(
        x_led_share=_share("x_led", "papers"),
        y_led_share=_share("y_led", "papers"),
        other_led_share=_share("other_led", "papers"),
    )
    return _labelled(frame, periods)


def collaboration_types_counts(rows: pl.LazyFrame, focal: Sequence[str]) -> pl.LazyFrame:
    columns = ["dataset", "focal", "year", "collab_type", "n_countries"]
    country_rows = rows.filter((pl.col("scope") == "country") & pl.col("participated"))
    # Every record has one row per focal country: the first focal country's rows are all.
    all_rows = rows.filter(pl.col("focal") == focal[0]).with_columns(focal=pl.lit("ALL"))
    return (
        pl.concat([country_rows.select(columns), all_rows.select(columns)])
        .with_columns(pl.col("collab_type").fill_null("unknown"))
        .group_by("dataset", "focal", "year", "collab_type")
        .agg(
            papers=pl.len().cast(pl.Int64),
            n_countries_sum=pl.col("n_countries").sum().cast(pl.Int64),
            n_countries_known=pl.col("n_countries").count().cast(pl.Int64),
        )
    )


def collaboration_types(
    counts: pl.LazyFrame, periods: Sequence[Mapping[str, object]]
) -> pl.LazyFrame:
    """Papers by collaboration type (domestic-single … quadrilateral+) for each focal country's
    papers and for all papers of the dataset (focal ``ALL``); type ``unknown`` for papers
    without a known country."""
    frame = _summed(counts, ["dataset", "focal", "collab_type"], periods).with_columns(
        mean_countries=pl.when(pl.col("n_countries_known") > 0).then(
            pl.col("n_countries_sum") / pl.col("n_countries_known")
        ),
        share=pl.col("papers") / pl.col("papers").sum().over("dataset", "focal", _S),
    )
    return _labelled(frame, periods)


def partners_counts(rows: pl.LazyFrame, credit: pl.LazyFrame) -> pl.LazyFrame:
    icp = rows.filter(
        (pl.col("scope") == "country") & pl.col("international").fill_null(False)
    ).select("dataset", "record_id", "focal", "year")
    totals = icp.group_by("dataset", "focal", "year").agg(
        partner=pl.lit(None, pl.String),
        records=pl.len().cast(pl.Int64),
        records_fractional=pl.lit(0, pl.Int64),
    )
    by_partner = (
        icp.join(credit.select("record_id", "country", "credit_fractional"), on="record_id")
        .filter(pl.col("country") != pl.col("focal"))
        .group_by("dataset", "focal", "year", pl.col("country").alias("partner"))
        .agg(
            records=pl.len().cast(pl.Int64),
            records_fractional=_credit_sum(pl.col("credit_fractional")),
        )
    )
    return pl.concat([totals, by_partner], how="vertical")


def _with_totals(summed: pl.LazyFrame, group: list[str], key: str, total: str) -> pl.LazyFrame:
    """The rows of ``summed`` with a ``key`` joined to their group's total (the null-key row's
    records) as ``total``."""
    totals = summed.filter(pl.col(key).is_null()).select(*group, pl.col("records").alias(total))
    return summed.filter(pl.col(key).is_not_null()).join(totals, on=group)


def partners(
    counts: pl.LazyFrame, periods: Sequence[Mapping[str, object]], top_n: int, counting: str
) -> pl.LazyFrame:
    """Top N partner countries of each focal country's internationally collaborated papers."""
    group = ["dataset", "focal", _S]
    rows = _with_totals(
        _summed(counts, ["dataset", "focal", "partner"], periods), group, "partner", "icp"
    ).with_columns(share_of_icp=_share("records", "icp"))
    return _labelled(_ranked(rows, group, "partner", counting, top_n), periods)


def citing_countries_counts(
    credit: pl.LazyFrame,
    records: pl.LazyFrame,
    membership: pl.LazyFrame,
    citing: Sequence[str],
) -> pl.LazyFrame:
    base = (
        membership.filter(pl.col("dataset").is_in(list(citing)))
        .join(records.select("record_id", "year"), on="record_id")
        .filter(pl.col("year").is_not_null())
    )
    totals = base.group_by("dataset", "year").agg(
        country=pl.lit(None, pl.String),
        records=pl.len().cast(pl.Int64),
        records_fractional=pl.lit(0, pl.Int64),
    )
    by_country = (
        base.join(credit.select("record_id", "country", "credit_fractional"), on="record_id")
        .group_by("dataset", "year", "country")
        .agg(
            records=pl.len().cast(pl.Int64),
            records_fractional=_credit_sum(pl.col("credit_fractional")),
        )
    )
    return pl.concat([totals, by_country], how="vertical")


def citing_countries(
    counts: pl.LazyFrame,
    periods: Sequence[Mapping[str, object]],
    top_n: int,
    counting: str,
    yearly: bool = True,
) -> pl.LazyFrame:
    """Countries of the records of each citing dataset, by the citing record's year."""
    group = ["dataset", _S]
    rows = _with_totals(
        _summed(counts, ["dataset", "country"], periods, yearly=yearly),
        group,
        "country",
        "citing_records",
    ).with_columns(share=_share("records", "citing_records"))
    return _labelled(_ranked(rows, group, "country", counting, top_n), periods)


def record_link_keys(records: pl.LazyFrame, authorships: pl.LazyFrame) -> pl.LazyFrame:
    """record_id, doi and the author-year-volume-page key a cited reference to it would carry."""
    first_author = authorships.filter(pl.col("position") == 1).select(
        "record_id", pl.col("name").alias("first_author")
    )
    return (
        records.select(
            "record_id",
            "doi",
            "year",
            "volume",
            pl.coalesce("start_page", "article_number").alias("page"),
        )
        .join(first_author, on="record_id", how="left")
        .with_columns(link_key=reference_link_key())
        .select("record_id", "doi", "link_key")
    )


def _unique_target(keys: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """``column`` -> the one record carrying it; a value carried by two records links nothing."""
    return (
        keys.filter(pl.col(column).is_not_null())
        .group_by(column)
        .agg(pl.col("record_id").min(), pl.len().alias("n"))
        .filter(pl.col("n") == 1)
        .select(column, pl.col("record_id").alias("cited_record_id"))
    )


def citation_links(
    references: pl.LazyFrame,
    records: pl.LazyFrame,
    authorships: pl.LazyFrame,
    membership: pl.LazyFrame,
    citing: Mapping[str, str],
    keys: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """Cited references of each citing dataset's records linked to the cited dataset's records:
    by DOI, else by the author-year-volume-page key (a key or DOI shared by two cited records
    links neither). ``keys`` (record_id, doi, link_key) replaces the records' own
    (:func:`record_link_keys`), e.g. with the keys of every record of a work."""
    frames = []
    for citing_dataset, cited_dataset in sorted(citing.items()):
        refs = references.select("record_id", "ref_pos", "doi", "link_key").join(
            membership.filter(pl.col("dataset") == citing_dataset), on="record_id", how="semi"
        )
        # The keys of the cited dataset's records only: building a key (regular expressions
        # on the first author's name) for every record cost more than the linking.
        cited = membership.filter(pl.col("dataset") == cited_dataset)
        corpus = (
            record_link_keys(records.join(cited, on="record_id", how="semi"), authorships)
            if keys is None
            else keys.join(cited, on="record_id", how="semi")
        )
        by_doi = refs.join(_unique_target(corpus, "doi"), on="doi", how="inner").with_columns(
            link_method=pl.lit("doi")
        )
        by_key = (
            refs.join(by_doi, on=["record_id", "ref_pos"], how="anti")
            .join(_unique_target(corpus, "link_key"), on="link_key", how="inner")
            .with_columns(link_method=pl.lit("link_key"))
        )
        frames.append(
            pl.concat([by_doi, by_key], how="vertical")
            .filter(pl.col("record_id") != pl.col("cited_record_id"))
            .select(
                pl.lit(citing_dataset).alias("citing_dataset"),
                "record_id",
                "ref_pos",
                pl.lit(cited_dataset).alias("cited_dataset"),
                "cited_record_id",
                "link_method",
            )
        )
    if not frames:
        return pl.LazyFrame(
            schema={
                "citing_dataset": pl.String,
                "record_id": pl.String,
                "ref_pos": pl.Int64,
                "cited_dataset": pl.String,
                "cited_record_id": pl.String,
                "link_method": pl.String,
            }
        )
    return pl.concat(frames, how="vertical")


def citing_countries_by_cited(
    links: pl.LazyFrame,
    classes: pl.LazyFrame,
    credit: pl.LazyFrame,
    periods: Sequence[Mapping[str, object]],
    top_n: int,
    counting: str,
    focal: Sequence[str],
) -> pl.LazyFrame:
    """Countries of the citing records, by the period of the cited paper and by the cited
    paper's lead country (a focal country, ``other``, or ``all``). A citing record counts once
    per group however many of the group's papers it cites."""
    lead = pl.col("lead_country")
    profile = classes.filter(pl.col("focal") == focal[0]).select(
        pl.col("record_id").alias("cited_record_id"),
        pl.col("year"),
        pl.when(lead.is_in(list(focal))).then(lead).otherwise(pl.lit("other")).alias("cited_lead"),
    )
    pairs = links.select("citing_dataset", "cited_dataset", "record_id", "cited_record_id").join(
        profile, on="cited_record_id"
    )
    pairs = pl.concat([pairs, pairs.with_columns(cited_lead=pl.lit("all"))], how="vertical")
    group = ["citing_dataset", "cited_dataset", _S, "cited_lead"]
    distinct = _sliced(pairs, periods).select(*group, "record_id").unique()
    totals = distinct.group_by(group).agg(citing_records=pl.len().cast(pl.Int64))
    rows = (
        distinct.join(credit.select("record_id", "country", "credit_fractional"), on="record_id")
        .group_by(*group, "country")
        .agg(
            records=pl.len().cast(pl.Int64),
            records_fractional=_fsum(pl.col("credit_fractional")),
        )
        .join(totals, on=group)
        .with_columns(share=_share("records", "citing_records"))
    )
    return _labelled(_ranked(rows, group, "country", counting, top_n), periods)


def highly_cited_flags(
    records: pl.LazyFrame,
    membership: pl.LazyFrame,
    reference_datasets: Sequence[str],
    method: str,
    top_percent: float,
) -> pl.LazyFrame:
    """Per record: ``hcp`` and its ``hcp_basis``. ``esi``: the exported HC flag (missing = not
    highly cited); ``top_percent``: the top ``top_percent``% by times cited within publication
    year and subject category of the reference datasets' records (ties at the threshold all
    in, never a paper cited zero times); ``auto``: the HC flag where exported, else the top
    per cent."""
    if method not in ("esi", "top_percent", "auto"):
        raise ValueError(f"unknown highly-cited method {method!r}")
    # auto judges every paper by its flag when every paper has one (WoS exports with the HC
    # field): then the top per cent is never read, and not worth computing.
    flagged_all = method == "auto" and (
        records.select(pl.col("highly_cited").is_not_null().all()).collect().item()
    )
    if method == "esi" or flagged_all:
        return records.select(
            "record_id", hcp=pl.col("highly_cited").fill_null(False), hcp_basis=pl.lit("esi")
        )
    datasets = membership.select(pl.col("dataset").unique()).collect().get_column("dataset")
    if datasets.is_in(list(reference_datasets)).all():
        # Every record is in a dataset and each of them is a reference: no join on two million
        # ids (most of this function's time otherwise).
        in_reference = records
    else:
        in_reference = records.join(
            membership.filter(pl.col("dataset").is_in(list(reference_datasets))),
            on="record_id",
            how="semi",
        )
    reference = (
        in_reference.select("record_id", "year", "times_cited", "subject_categories")
        .with_columns(
            pl.when(pl.col("subject_categories").list.len() > 0)
            .then(pl.col("subject_categories"))
            .otherwise(pl.lit(["(none)"], dtype=pl.List(pl.String)))
        )
        .explode("subject_categories")
        .filter(pl.col("year").is_not_null())
    )
    group = ["year", "subject_categories"]
    reference = reference.select(
        "record_id", *group, cites=pl.col("times_cited").fill_null(0)
    ).collect()
    # A paper is in when fewer than k = ceil(n * top_percent / 100) papers of its group are
    # cited more (its rank, ties at the lowest, is at most k): every paper cited at least the
    # smallest such count is in. That count comes from each group's papers per number of
    # citations, a table far smaller than ranking every paper.
    papers_above = pl.col("papers").cum_sum().over(group) - pl.col("papers")
    places = (pl.col("papers").sum().over(group) * (top_percent / 100.0)).ceil().clip(1)
    thresholds = (
        reference.group_by(*group, "cites")
        .agg(papers=pl.len())
        .sort(*group, "cites", descending=[False, False, True])
        .filter((papers_above < places) & (pl.col("cites") > 0))
        .group_by(group)
        .agg(threshold=pl.col("cites").min())
    )
    top_ids = (
        reference.join(thresholds, on=group)
        .filter(pl.col("cites") >= pl.col("threshold"))
        .get_column("record_id")
        .unique()
    )
    frame = records.select(
        "record_id", "highly_cited", top=pl.col("record_id").is_in(top_ids.implode())
    )
    if method == "top_percent":
        return frame.select("record_id", hcp=pl.col("top"), hcp_basis=pl.lit("top_percent"))
    return frame.select(
        "record_id",
        hcp=pl.coalesce("highly_cited", "top"),
        hcp_basis=pl.when(pl.col("highly_cited").is_not_null())
        .then(pl.lit("esi"))
        .otherwise(pl.lit("top_percent")),
    )


def _basis_esi(method: str) -> pl.Expr:
    """Whether a paper is judged by the ESI flag (else by the top per cent), as
    :func:`highly_cited_flags` judges it."""
    if method == "esi":
        return pl.lit(True)
    if method == "top_percent":
        return pl.lit(False)
    if method != "auto":
        raise ValueError(f"unknown highly-cited method {method!r}")
    return pl.col("highly_cited").is_not_null()


def highly_cited_counts(rows: pl.LazyFrame, records: pl.LazyFrame, method: str) -> pl.LazyFrame:
    esi = _basis_esi(method)
    return (
        rows.filter(pl.col("participated"))
        .select("dataset", "record_id", "focal", "year")
        .join(records.select("record_id", "highly_cited"), on="record_id", how="left")
        .group_by("dataset", "focal", "year")
        .agg(
            papers=pl.len().cast(pl.Int64),
            basis_esi=esi.sum().cast(pl.Int64),
            basis_top_percent=(~esi).sum().cast(pl.Int64),
        )
    )


def highly_cited_papers(rows: pl.LazyFrame) -> pl.LazyFrame:
    """The highly cited papers of ``rows`` (class rows of the papers judged highly cited, by
    :func:`class_rows`) and how many the focal country led (the pair: X led), by year."""
    led = (
        pl.when(pl.col("scope") == "pair")
        .then(pl.col("category") == "x_led")
        .otherwise(pl.col("led_by") == pl.col("focal"))
    )
    return (
        rows.filter(pl.col("participated"))
        .group_by("dataset", "focal", "year")
        .agg(hcp=pl.len().cast(pl.Int64), hcp_led=led.fill_null(False).sum().cast(pl.Int64))
    )


def highly_cited(
    counts: pl.LazyFrame,
    papers: pl.LazyFrame,
    periods: Sequence[Mapping[str, object]],
    top_percent: float,
) -> pl.LazyFrame:
    """Highly cited papers of each focal country (and pair): count, rate, and how many and
    what share of them the focal country led (for the pair: X-led); which basis was used.
    ``papers``: :func:`highly_cited_papers`."""
    group = ["dataset", "focal", _S]
    judged = _summed(papers, ["dataset", "focal"], periods)
    frame = (
        _summed(counts, ["dataset", "focal"], periods)
        .join(judged, on=group, how="left")
        .with_columns(pl.col("hcp", "hcp_led").fill_null(0))
        .with_columns(
            hcp_rate=_share("hcp", "papers"),
            hcp_led_share=_share("hcp_led", "hcp"),
            basis=pl.when(pl.col("basis_top_percent") == 0)
            .then(pl.lit("ESI highly cited flag (HC)"))
            .when(pl.col("basis_esi") == 0)
            .then(pl.lit(f"top {top_percent:g}% by times cited within year and category"))
            .otherwise(
                pl.lit(
                    f"ESI flag where exported, else top {top_percent:g}% by times cited "
                    "within year and category"
                )
            ),
        )
    )
    return _labelled(frame, periods)


def _dataset_years(membership: pl.LazyFrame, records: pl.LazyFrame) -> pl.LazyFrame:
    return membership.join(records.select("record_id", "year"), on="record_id").filter(
        pl.col("year").is_not_null()
    )


def funders_counts(
    funding: pl.LazyFrame, records: pl.LazyFrame, membership: pl.LazyFrame
) -> pl.LazyFrame:
    base = _dataset_years(membership, records)
    totals = base.group_by("dataset", "year").agg(
        funder_id=pl.lit(None, pl.String),
        funder_name=pl.lit(None, pl.String),
        funder_country=pl.lit(None, pl.String),
        records=pl.len().cast(pl.Int64),
    )
    matched = funding.filter(pl.col("funder_id").is_not_null()).select(
        "record_id", "funder_id", "funder_name", "funder_country"
    )
    # A funder has one name and country in the registry: the smallest is that one.
    by_funder = (
        base.join(matched, on="record_id")
        .group_by("dataset", "year", "funder_id")
        .agg(
            pl.col("funder_name").min(),
            pl.col("funder_country").min(),
            records=pl.col("record_id").n_unique().cast(pl.Int64),
        )
    )
    return pl.concat([totals, by_funder], how="vertical")


def funders(
    counts: pl.LazyFrame,
    periods: Sequence[Mapping[str, object]],
    top_n: int,
    yearly: bool = True,
) -> pl.LazyFrame:
    """Top N normalised funders of each dataset: records acknowledging them and their share of
    the dataset's records (funders not matched to the registry are not ranked; see the review
    queue); per year too unless not ``yearly``."""
    group = ["dataset", _S]
    summed = _summed(
        counts,
        ["dataset", "funder_id"],
        periods,
        yearly=yearly,
        names=("funder_name", "funder_country"),
    )
    rows = _with_totals(summed, group, "funder_id", "dataset_records").with_columns(
        share=_share("records", "dataset_records")
    )
    return _labelled(_ranked(rows, group, "funder_id", "full", top_n), periods)


def funding_sources_counts(
    funding: pl.LazyFrame,
    records: pl.LazyFrame,
    membership: pl.LazyFrame,
    focal: Sequence[str],
) -> pl.LazyFrame:
    x = focal[0]
    y = focal[1] if len(focal) == 2 else None
    per_record = funding.group_by("record_id").agg(
        by_x=(pl.col("funder_country") == x).any(),
        by_y=(pl.col("funder_country") == y).any() if y else pl.lit(False),
        unmatched=pl.col("funder_id").is_null().any(),
    )
    base = (
        _dataset_years(membership, records)
        .join(per_record, on="record_id", how="left")
        .with_columns(
            funded=pl.col("by_x").is_not_null(),
            by_x=pl.col("by_x").fill_null(False),
            by_y=pl.col("by_y").fill_null(False),
            unmatched=pl.col("unmatched").fill_null(False),
        )
    )
    bx, by = pl.col("by_x"), pl.col("by_y")
    return base.group_by("dataset", "year").agg(
        records=pl.len().cast(pl.Int64),
        funded=pl.col("funded").sum().cast(pl.Int64),
        by_x=bx.sum().cast(pl.Int64),
        by_y=by.sum().cast(pl.Int64),
        by_both=(bx & by).sum().cast(pl.Int64),
        by_x_only=(bx & ~by).sum().cast(pl.Int64),
        by_y_only=(by & ~bx).sum().cast(pl.Int64),
        by_others_only=(pl.col("funded") & ~bx & ~by).sum().cast(pl.Int64),
        unfunded=(~pl.col("funded")).sum().cast(pl.Int64),
        with_unmatched_funder=pl.col("unmatched").sum().cast(pl.Int64),
    )


def funding_sources(
    counts: pl.LazyFrame, periods: Sequence[Mapping[str, object]], focal: Sequence[str]
) -> pl.LazyFrame:
    """Records funded by X's agencies, by Y's, by both (jointly), by others only, and unfunded
    (no funding acknowledged). A funder not matched to the registry counts as 'other'."""
    x = focal[0]
    y = focal[1] if len(focal) == 2 else None
    frame = _summed(counts, ["dataset"], periods).with_columns(
        x=pl.lit(x),
        y=pl.lit(y, pl.String),
        **{
            f"{name}_share": _share(name, "records")
            for name in ("funded", "by_x", "by_y", "by_both", "by_others_only", "unfunded")
        },
    )
    if y is None:
        frame = frame.with_columns(
            [pl.lit(None, pl.Int64).alias(c) for c in ("by_y", "by_both", "by_x_only", "by_y_only")]
            + [pl.lit(None, pl.Float64).alias(c) for c in ("by_y_share", "by_both_share")]
        )
    return _labelled(frame, periods)


_RULE_PAIRS = (
    "first_author_vs_reprint",
    "first_author_vs_first_address",
    "first_address_vs_reprint",
)


def lead_rules_counts(
    classes: pl.LazyFrame,
    disagreements: pl.LazyFrame,
    membership: pl.LazyFrame,
    focal: Sequence[str],
) -> pl.LazyFrame:
    profile = (
        classes.filter(pl.col("focal") == focal[0])  # one row per record
        .select("record_id", "year", "address_source", "has_links", "lead_fallback")
        .join(disagreements.select("record_id", *_RULE_PAIRS), on="record_id", how="left")
    )
    return (
        membership.join(profile, on="record_id")
        .filter(pl.col("year").is_not_null())
        .group_by("dataset", "year")
        .agg(
            records=pl.len().cast(pl.Int64),
            no_address=(pl.col("address_source") == "none").sum().cast(pl.Int64),
            reprint_only=(pl.col("address_source") == "reprint").sum().cast(pl.Int64),
            with_author_links=pl.col("has_links").sum().cast(pl.Int64),
            lead_fallback=pl.col("lead_fallback").sum().cast(pl.Int64),
            **{pair: pl.col(pair).fill_null(False).sum().cast(pl.Int64) for pair in _RULE_PAIRS},
        )
    )


def lead_rules(counts: pl.LazyFrame, periods: Sequence[Mapping[str, object]]) -> pl.LazyFrame:
    """How often the lead rules disagree on the lead country and how often the configured rule
    fell back, per dataset: the quality note behind every X-led count."""
    frame = _summed(counts, ["dataset"], periods).with_columns(
        lead_fallback_share=_share("lead_fallback", "records")
    )
    return _labelled(frame, periods)


def finish(
    counts: Mapping[str, pl.LazyFrame],
    highly_cited_rows: pl.LazyFrame,
    periods: Sequence[Mapping[str, object]],
    focal: Sequence[str],
    settings: Mapping[str, object],
) -> dict[str, pl.LazyFrame]:
    """Every indicator but citing_countries_by_cited from the ``counts`` (the partial counts
    of every shard, concatenated) and the class rows of the papers judged highly cited.
    ``settings``: counting, top_n, field_dataset, top_percent (as compute_indicators')."""
    counting, top_n = str(settings["counting"]), int(settings["top_n"])  # type: ignore[call-overload]
    return {
        "outputs": outputs(counts["outputs"], periods, str(settings["field_dataset"]) or None),
        "collaboration": collaboration(counts["collaboration"], periods),
        "pair_leads": pair_leads(counts["pair_leads"], periods),
        "collaboration_types": collaboration_types(counts["collaboration_types"], periods),
        "partners": partners(counts["partners"], periods, top_n, counting),
        "citing_countries": citing_countries(counts["citing_countries"], periods, top_n, counting),
        "highly_cited": highly_cited(
            counts["highly_cited"],
            highly_cited_papers(highly_cited_rows),
            periods,
            float(settings["top_percent"]),  # type: ignore[arg-type]
        ),
        "funders": funders(counts["funders"], periods, top_n),
        "funding_sources": funding_sources(counts["funding_sources"], periods, focal),
        "lead_rules": lead_rules(counts["lead_rules"], periods),
    }
