"""Integration of the two strands: the joint display (per stratum, the indicators of its
country beside the themes its participants raised) and the two summaries of findings.

The indicators are those of ``results/indicators/`` (see :mod:`collabscope.classify.indicators`):
``collaboration`` (ICP and lead shares per focal country), ``pair_leads`` (who leads the pair's
papers) and ``funders``. They are per country, not per institution tier: a stratum's figures
are its country's, which the report says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from collabscope.qualitative.analysis import OUTSIDE_POOL


def _pct(value: pl.Expr) -> pl.Expr:
    return pl.format("{}%", (value * 100).round(1))


def choose_dataset(frame: pl.DataFrame, by: Sequence[str], dataset: str) -> pl.DataFrame:
    """Rows of ``dataset`` when given, else per ``by`` group the dataset with the most papers
    over the periods (ties by name): a country's own corpus."""
    periods = frame.filter(pl.col("granularity") == "period")
    if dataset:
        return periods.filter(pl.col("dataset") == dataset)
    best = (
        periods.group_by(*by, "dataset")
        .agg(pl.col("papers").sum())
        .sort([*by, "papers", "dataset"], descending=[*[False] * len(by), True, False])
        .unique(by, keep="first", maintain_order=True)
        .select(*by, "dataset")
    )
    return periods.join(best, on=[*by, "dataset"])


def _trend(frame: pl.DataFrame, key: str, value: str, name: str) -> pl.DataFrame:
    """Per ``key``: first and last period values and "label v → label v …"."""
    return (
        frame.filter(pl.col(value).is_not_null())
        .sort(key, "first_year")
        .group_by(key, maintain_order=True)
        .agg(
            pl.col("dataset").first().alias(f"{name}_dataset"),
            pl.col(value).first().alias(f"{name}_first"),
            pl.col(value).last().alias(f"{name}_last"),
            pl.format("{} {}", pl.col("period"), _pct(pl.col(value)))
            .str.join(" → ")
            .alias(f"{name}_trend"),
        )
    )


def country_figures(
    collaboration: pl.DataFrame,
    pair_leads: pl.DataFrame,
    funders: pl.DataFrame,
    focal: Sequence[str],
    dataset: str,
    top_funders: int = 3,
) -> pl.DataFrame:
    """Per focal country: ICP share and lead share trends (its own corpus), the share of the
    pair's papers it leads, its leading funders in the latest period."""
    collab = choose_dataset(collaboration, ["focal"], dataset).rename({"focal": "country"})
    icp = _trend(collab, "country", "icp_share", "icp_share")
    lead = _trend(collab, "country", "lead_share", "lead_share")
    frames = [icp.join(lead, on="country", how="full", coalesce=True)]
    if len(focal) == 2:
        pairs = choose_dataset(pair_leads, ["focal"], dataset)
        for side, column in zip(focal, ("x_led_share", "y_led_share"), strict=True):
            frames.append(
                _trend(
                    pairs.with_columns(pl.lit(side).alias("country")),
                    "country",
                    column,
                    "pair_lead_share",
                )
            )
    figures = frames[0]
    if len(frames) > 1:
        figures = figures.join(pl.concat(frames[1:]), on="country", how="full", coalesce=True)
    datasets = collab.select("country", "dataset").unique("country", keep="first")
    funded = (
        funders.filter(pl.col("granularity") == "period")
        .join(datasets, left_on=["funder_country", "dataset"], right_on=["country", "dataset"])
        .filter(pl.col("first_year") == pl.col("first_year").max().over("funder_country"))
        .sort("funder_country", "rank")
        .group_by("funder_country", maintain_order=True)
        .head(top_funders)
        .group_by("funder_country", maintain_order=True)
        .agg(
            pl.col("period").first().alias("funders_period"),
            pl.format("{} ({} records, {})", "funder_name", "records", _pct(pl.col("share")))
            .str.join("; ")
            .alias("top_funders"),
        )
        .rename({"funder_country": "country"})
    )
    return figures.join(funded, on="country", how="left")


def joint_display(
    participants: pl.DataFrame,
    matrix: pl.DataFrame,
    summary: pl.DataFrame,
    figures: pl.DataFrame,
) -> pl.DataFrame:
    """Per stratum: its definition, respondents, its country's figures and the themes raised
    (participants mentioning each of the respondents, most mentioned first)."""
    strata = summary.select(
        "stratum",
        pl.col("country").alias("stratum_country"),
        pl.when(pl.col("tier").fill_null("") != "")
        .then(pl.format("{}, tier {}", "country", "tier"))
        .when(pl.col("tier_not").fill_null("") != "")
        .then(pl.format("{}, not {}", "country", "tier_not"))
        .otherwise(pl.col("country"))
        .alias("definition"),
    )
    outside = (
        participants.filter(pl.col("stratum") == OUTSIDE_POOL)
        .select("stratum")
        .unique()
        .with_columns(
            pl.lit(None, pl.String).alias("stratum_country"),
            pl.lit("participants recruited outside the pool").alias("definition"),
        )
    )
    other = (
        participants.filter(
            ~pl.col("stratum").is_in(summary["stratum"].to_list())
            & (pl.col("stratum") != OUTSIDE_POOL)
        )
        .group_by("stratum")
        .agg(pl.col("country").unique().sort().str.join(", ").alias("_countries"))
        .select(
            "stratum",
            pl.lit(None, pl.String).alias("stratum_country"),
            pl.format("outside the draw ({})", "_countries").alias("definition"),
        )
    )
    counts = participants.group_by("stratum").agg(
        pl.len().alias("participants"),
        pl.col("respondent").sum().cast(pl.Int64).alias("respondents"),
    )
    themes = (
        matrix.filter((pl.col("dimension") == "stratum") & (pl.col("participants") > 0))
        .sort(["group", "participants", "theme"], descending=[False, True, False])
        .group_by("group", maintain_order=True)
        .agg(
            pl.format("{} ({}/{})", "theme", "participants", "respondents")
            .str.join("; ")
            .alias("themes"),
            pl.len().cast(pl.Int64).alias("n_themes"),
        )
        .rename({"group": "stratum"})
    )
    return (
        pl.concat([strata, outside, other])
        .join(counts, on="stratum", how="left")
        .join(figures, left_on="stratum_country", right_on="country", how="left")
        .join(themes, on="stratum", how="left")
        .with_columns(pl.col("participants", "respondents", "n_themes").fill_null(0).cast(pl.Int64))
        .rename({"stratum_country": "country"})
        .with_row_index("order")
        .with_columns(pl.col("order").cast(pl.Int64))
    )


def findings_quantitative(
    collaboration: pl.DataFrame,
    pair_leads: pl.DataFrame,
    funders: pl.DataFrame,
    focal: Sequence[str],
    dataset: str,
    names: Mapping[str, str],
) -> pl.DataFrame:
    """Headline figures, first period against last: papers, ICP share and lead share of each
    focal country; the pair's papers and who leads them; each country's leading funder."""
    rows = []
    collab = choose_dataset(collaboration, ["focal"], dataset)
    for i, (country) in enumerate(focal):
        name = names.get(country, country)
        for column, measure, unit in (
            ("papers", f"{name}-participated papers", "count"),
            ("icp_share", f"{name}: internationally collaborated share", "share"),
            ("lead_share", f"{name}: share of its ICP papers it leads", "share"),
        ):
            rows.append(
                _first_last(collab.filter(pl.col("focal") == country), column, measure, unit, i)
            )
    if len(focal) == 2:
        pairs = choose_dataset(pair_leads, ["focal"], dataset)
        x, y = (names.get(c, c) for c in focal)
        for column, measure, unit in (
            ("papers", f"{x}–{y} papers", "count"),
            ("x_led_share", f"{x}–{y} papers led by {x}", "share"),
            ("y_led_share", f"{x}–{y} papers led by {y}", "share"),
        ):
            rows.append(_first_last(pairs, column, measure, unit, 2))
    frame = pl.concat([r for r in rows if r.height], how="vertical") if rows else None
    datasets = collab.select(pl.col("focal").alias("funder_country"), "dataset").unique(
        "funder_country"
    )
    top = (
        funders.filter(pl.col("granularity") == "period")
        .join(datasets, on=["funder_country", "dataset"])
        .filter(pl.col("first_year") == pl.col("first_year").max().over("funder_country"))
        .sort("funder_country", "rank")
        .unique("funder_country", keep="first", maintain_order=True)
    )
    funder_rows = top.select(
        pl.lit(3).alias("area_order"),
        pl.format("Leading funder of {} ({})", "funder_country", "funder_name").alias("measure"),
        pl.lit("share").alias("unit"),
        "dataset",
        pl.lit(None, pl.String).alias("first_period"),
        pl.lit(None, pl.Float64).alias("first_value"),
        pl.col("period").alias("last_period"),
        pl.col("share").cast(pl.Float64).alias("last_value"),
    )
    parts = [p for p in (frame, funder_rows) if p is not None and p.height]
    if not parts:
        return _empty_findings()
    out = pl.concat(parts, how="diagonal_relaxed")
    return (
        out.with_columns((pl.col("last_value") - pl.col("first_value")).alias("change"))
        .with_row_index("order")
        .select(
            pl.col("order").cast(pl.Int64),
            "measure",
            "unit",
            "dataset",
            "first_period",
            "first_value",
            "last_period",
            "last_value",
            "change",
        )
    )


def _empty_findings() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "order": pl.Int64,
            "measure": pl.String,
            "unit": pl.String,
            "dataset": pl.String,
            "first_period": pl.String,
            "first_value": pl.Float64,
            "last_period": pl.String,
            "last_value": pl.Float64,
            "change": pl.Float64,
        }
    )


def _first_last(
    frame: pl.DataFrame, column: str, measure: str, unit: str, area: int
) -> pl.DataFrame:
    rows = frame.filter(pl.col(column).is_not_null()).sort("first_year")
    if rows.is_empty():
        return rows.clear().select()
    return pl.DataFrame(
        {
            "area_order": [area],
            "measure": [measure],
            "unit": [unit],
            "dataset": [rows["dataset"][0]],
            "first_period": [rows["period"][0]],
            "first_value": [float(rows[column][0])],
            "last_period": [rows["period"][-1]],
            "last_value": [float(rows[column][-1])],
        }
    )


def findings_qualitative(
    codebook: pl.DataFrame, matrix: pl.DataFrame, quotes: pl.DataFrame, respondents: int
) -> pl.DataFrame:
    """Per theme: participants raising it (of all respondents), the strata where it was raised
    (mentioning/respondents), its most used sub-codes, its first quote's attribution."""
    themes = codebook.filter(pl.col("is_theme")).select("theme", "segments", "participants")
    strata = (
        matrix.filter((pl.col("dimension") == "stratum") & (pl.col("participants") > 0))
        .sort("theme", "group")
        .group_by("theme", maintain_order=True)
        .agg(
            pl.format("{} {}/{}", "group", "participants", "respondents")
            .str.join("; ")
            .alias("by_stratum")
        )
    )
    codes = (
        codebook.filter(~pl.col("is_theme") & (pl.col("segments") > 0))
        .sort(["theme", "segments", "code"], descending=[False, True, False])
        .group_by("theme", maintain_order=True)
        .agg(pl.format("{} ({})", "code", "segments").head(3).str.join("; ").alias("main_codes"))
    )
    first_quote = quotes.filter(pl.col("rank") == 1).select(
        "theme", pl.col("attribution").alias("example_from")
    )
    return (
        themes.join(strata, on="theme", how="left")
        .join(codes, on="theme", how="left")
        .join(first_quote, on="theme", how="left")
        .with_columns(
            pl.lit(respondents, pl.Int64).alias("respondents"),
            (
                pl.col("participants") / respondents if respondents else pl.lit(None, pl.Float64)
            ).alias("share"),
        )
        .sort(["participants", "theme"], descending=[True, False])
        .with_row_index("order")
        .select(
            pl.col("order").cast(pl.Int64),
            "theme",
            "participants",
            "respondents",
            "share",
            "segments",
            "by_stratum",
            "main_codes",
            "example_from",
        )
    )
