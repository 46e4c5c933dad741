"""The report's qualitative sections: sample and response, codebook, theme matrix, quotes,
joint display and the two summaries of findings. Built from results/qualitative/ when the
render_report rule has those tables as inputs (``qualitative_<name>``); otherwise none."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from collabscope import schemas
from collabscope.report.model import Column, Section, TableBlock, table_block
from collabscope.tableio import scan_table


@dataclass(frozen=True)
class QuotesBlock(TableBlock):
    """Quotes grouped by theme: a table in Excel, block quotes in the page and in Markdown
    (templates ``qualitative_quotes.{html,md}.j2``)."""

    kind: Literal["quotes"] = "quotes"  # type: ignore[assignment]

    @property
    def by_theme(self) -> tuple[tuple[str, tuple[tuple[object, ...], ...]], ...]:
        themes: dict[str, list[tuple[object, ...]]] = {}
        for row in self.rows:
            themes.setdefault(str(row[0]), []).append(row)
        return tuple((theme, tuple(rows)) for theme, rows in themes.items())


def _read(tables: Mapping[str, str | Path], name: str) -> pl.DataFrame:
    return scan_table(tables[f"qualitative_{name}"], schemas.QUALITATIVE_BY_NAME[name]).collect()


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if unit == "count" else f"{100 * value:.1f}%"


def _change(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    return f"{value:+,.0f}" if unit == "count" else f"{100 * value:+.1f} points"


def sections(tables: Mapping[str, str | Path], config: Mapping[str, object]) -> tuple[Section, ...]:
    """The qualitative sections, or none when the strand is not configured."""
    if "qualitative_participants" not in tables:
        return ()
    spec = config.get("qualitative", {})
    assert isinstance(spec, Mapping)
    matrix_by = str(spec.get("matrix_by", "stratum"))
    people = _read(tables, "participants")
    respondents = int(people["respondent"].sum())
    outside = int((~people["from_pool"]).sum())
    invited = int(people["invited"].is_not_null().sum())
    answered = int((people["invited"].is_not_null() & people["answered"].is_not_null()).sum())
    countries = people.filter(pl.col("respondent"))["country"].n_unique()
    sample = Section(
        "qualitative",
        "Qualitative strand: participants and response",
        (
            f"{people.height} participants listed, {respondents} respondents from {countries} "
            f"countries; {people.height - outside} from the interview sample's codes, "
            f"{outside} recruited outside the pool. {answered} of {invited} invited answered.",
            "Participants are identified by code, role and country only.",
        ),
        (
            table_block(
                "qual_respondents",
                "Participants by role and country",
                _read(tables, "respondents"),
                [
                    Column("role", "Role"),
                    Column("country", "Country", "code"),
                    Column("participants", "Participants", "int"),
                    Column("respondents", "Respondents", "int"),
                ],
            ),
            table_block(
                "qual_response_times",
                "Response by mode",
                _read(tables, "response_times"),
                [
                    Column("mode", "Mode"),
                    Column("invited", "Invited", "int"),
                    Column("answered", "Answered", "int"),
                    Column("response_rate", "Response rate", "pct"),
                    Column("median_days", "Median days to answer", "float"),
                    Column("min_days", "Fewest days", "int"),
                    Column("max_days", "Most days", "int"),
                ],
                caption="Days from the invitation to the answer.",
            ),
        ),
    )
    codebook = _read(tables, "codebook").with_columns(
        pl.concat_str(pl.lit("· ").repeat_by("level").list.join(""), pl.col("code")).alias("label")
    )
    matrix = _read(tables, "theme_matrix").filter(pl.col("dimension") == matrix_by)
    groups = matrix.select("group", "respondents").unique().sort("group")
    wide = matrix.pivot("group", index="theme", values="share", sort_columns=True)
    themes = codebook.filter(pl.col("is_theme")).select("theme", "participants")
    wide = themes.join(wide, on="theme", how="left").sort(
        ["participants", "theme"], descending=[True, False]
    )
    coding = Section(
        "qualitative_themes",
        "Qualitative strand: codebook and themes",
        (
            "Segment and participant counts of a code include the codes under it; a theme's are "
            "its whole branch.",
        ),
        (
            table_block(
                "qual_codebook",
                "Codebook",
                codebook,
                [
                    Column("label", "Code"),
                    Column("theme", "Theme"),
                    Column("segments", "Segments", "int"),
                    Column("participants", "Participants", "int"),
                ],
            ),
            table_block(
                f"qual_themes_by_{matrix_by}",
                f"Respondents mentioning each theme, by {matrix_by}",
                wide,
                [
                    Column("theme", "Theme"),
                    Column("participants", "All", "int"),
                    *(
                        Column(g, f"{g} (n={n})", "pct")
                        for g, n in groups.select("group", "respondents").iter_rows()
                    ),
                ],
                caption="Share of the group's respondents with a segment of the theme; "
                "All = participants. Counts in results/qualitative/theme_matrix.csv.",
            ),
        ),
    )
    quotes = _read(tables, "quotes").sort("theme", "rank")
    quote_rows = tuple(quotes.select("theme", "excerpt", "attribution", "code").iter_rows())
    quote_section = Section(
        "qualitative_quotes",
        "Qualitative strand: representative quotes",
        ("Up to one quote per participant and theme, spread over the strata first.",),
        (
            QuotesBlock(
                "qual_quotes",
                "Representative quotes",
                (
                    Column("theme", "Theme"),
                    Column("excerpt", "Quote"),
                    Column("attribution", "Participant"),
                    Column("code", "Code"),
                ),
                quote_rows,
            ),
        ),
    )
    joint = _read(tables, "joint_display").sort("order")
    columns = [
        Column("stratum", "Stratum", "code"),
        Column("definition", "Defined as"),
        Column("respondents", "Respondents", "int"),
        Column("icp_share_trend", "Country's ICP share"),
        Column("lead_share_trend", "Country's lead share of its ICP papers"),
    ]
    if joint["pair_lead_share_trend"].is_not_null().any():
        columns.append(Column("pair_lead_share_trend", "Share of the pair's papers it leads"))
    columns += [
        Column("top_funders", "Country's leading funders"),
        Column("themes", "Themes raised"),
    ]
    datasets = sorted(
        {d for c in ("icp_share_dataset", "pair_lead_share_dataset") for d in joint[c].drop_nulls()}
    )
    joint_section = Section(
        "joint_display",
        "Joint display",
        (
            "Per stratum, the quantitative figures of its country (the indicators are per "
            "country, not per institution tier) beside the themes its respondents raised "
            "(mentioning/respondents). "
            f"Datasets: {', '.join(datasets) or 'none'}; funders in the latest period.",
        ),
        (table_block("qual_joint_display", "Joint display", joint, columns),),
    )
    quant = _read(tables, "findings_quantitative").sort("order")
    quant = quant.with_columns(
        pl.struct("first_value", "unit")
        .map_elements(lambda r: _value(r["first_value"], r["unit"]), return_dtype=pl.String)
        .alias("first"),
        pl.struct("last_value", "unit")
        .map_elements(lambda r: _value(r["last_value"], r["unit"]), return_dtype=pl.String)
        .alias("last"),
        pl.struct("change", "unit")
        .map_elements(lambda r: _change(r["change"], r["unit"]), return_dtype=pl.String)
        .alias("change_text"),
    )
    qual = _read(tables, "findings_qualitative").sort("order")
    findings = Section(
        "findings_summary",
        "Summary of findings",
        (
            "The quantitative strand's headline figures, first period against last, and the "
            "qualitative strand's themes, most widely raised first.",
        ),
        (
            table_block(
                "findings_quantitative",
                "Quantitative findings",
                quant,
                [
                    Column("measure", "Measure"),
                    Column("dataset", "Dataset", "code"),
                    Column("first_period", "First period"),
                    Column("first", "Value"),
                    Column("last_period", "Last period"),
                    Column("last", "Value"),
                    Column("change_text", "Change"),
                ],
            ),
            table_block(
                "findings_qualitative",
                "Qualitative findings",
                qual,
                [
                    Column("theme", "Theme"),
                    Column("participants", "Respondents raising it", "int"),
                    Column("share", "Share", "pct"),
                    Column("by_stratum", "By stratum"),
                    Column("main_codes", "Main codes (segments)"),
                    Column("example_from", "Example from"),
                ],
            ),
        ),
    )
    return (sample, coding, quote_section, joint_section, findings)
