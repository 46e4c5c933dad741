"""The qualitative tables, as pure functions over polars frames.

Inputs are the frames of :mod:`collabscope.qualitative.sheets` and
:mod:`collabscope.qualitative.refi`; outputs are the tables of
:data:`collabscope.schemas.QUALITATIVE_TABLES`. Participants are identified by code, role and
country only: no reader passes a name or an e-mail on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import polars as pl

from collabscope.errors import UserInputError

OUTSIDE_POOL = "(outside the pool)"
NOT_RECORDED = "(not recorded)"
DIMENSIONS = ("stratum", "role", "country")


def fail_on_first(frame: pl.DataFrame, bad: pl.Expr, problem: Callable[[dict], str]) -> None:
    """Raise a :class:`UserInputError` for the first row of ``frame`` where ``bad`` holds,
    naming its file and sheet line (``file``, ``line`` columns) and ``problem(row)``."""
    rows = frame.filter(bad).head(1).to_dicts()
    if rows:
        row = rows[0]
        raise UserInputError(str(row["file"]), problem(row), line=row.get("line"))


# --- code hierarchy -----------------------------------------------------------------------------
def hierarchy(pairs: pl.DataFrame) -> pl.DataFrame:
    """The code tree from (code, parent, file, location) rows: code, parent, theme (top-level
    ancestor), level (0 = theme), path ("Theme > … > code"), ancestors (theme first, the code
    last). A code given two parents, or a cycle, is an error naming where."""
    edges = pairs.filter(pl.col("parent").is_not_null() & (pl.col("parent") != pl.col("code")))
    conflict = (
        edges.unique(["code", "parent"], keep="first", maintain_order=True)
        .filter(pl.col("code").is_duplicated())
        .head(2)
        .to_dicts()
    )
    if conflict:
        a, b = conflict
        raise UserInputError(
            str(b["file"]),
            f"code {a['code']!r} has two parents: {a['parent']!r} ({a['file']}, {a['location']}) "
            f"and {b['parent']!r} ({b['location']}); a code sits under one parent code or theme",
        )
    parent_of = edges.unique("code", keep="first").select("code", "parent")
    nodes = (
        pl.concat([pairs.select("code"), edges.select(pl.col("parent").alias("code"))])
        .unique(maintain_order=True)
        .join(parent_of, on="code", how="left")
    )
    tree = nodes.with_columns(
        pl.concat_list(pl.col("code")).alias("ancestors"), pl.col("parent").alias("_up")
    )
    for _ in range(nodes.height + 1):
        if tree["_up"].null_count() == tree.height:
            break
        tree = (
            tree.with_columns(
                pl.when(pl.col("_up").is_not_null())
                .then(pl.concat_list(pl.col("_up"), pl.col("ancestors")))
                .otherwise(pl.col("ancestors"))
                .alias("ancestors")
            )
            .join(parent_of.rename({"code": "_up", "parent": "_next"}), on="_up", how="left")
            .drop("_up")
            .rename({"_next": "_up"})
        )
    else:
        looped = tree.filter(pl.col("_up").is_not_null()).row(0, named=True)
        raise UserInputError(
            str(pairs["file"][0]),
            f"the code hierarchy has a cycle through {looped['code']!r}",
        )
    return tree.select(
        "code",
        "parent",
        pl.col("ancestors").list.first().alias("theme"),
        (pl.col("ancestors").list.len() - 1).alias("level"),
        pl.col("ancestors").list.join(" > ").alias("path"),
        "ancestors",
    )


# --- participants -------------------------------------------------------------------------------
def pool_codes(summary: pl.DataFrame) -> pl.DataFrame:
    """Codes of the draw (results/sampling/summary.csv): participant, pool_stratum, drawn_as."""
    frames = [
        summary.select(
            pl.col(column).fill_null("").str.split(" ").alias("participant"),
            pl.col("stratum").alias("pool_stratum"),
            pl.lit(kind).alias("drawn_as"),
        ).explode("participant")
        for column, kind in (("invitee_codes", "invitee"), ("reserve_codes", "reserve"))
    ]
    return pl.concat(frames).filter(pl.col("participant") != "")


def apply_case_variables(participants: pl.DataFrame, variables: pl.DataFrame) -> pl.DataFrame:
    """Fill the sheet's empty role, country, stratum or mode from the QDA project's case
    variables; a value that contradicts the sheet is an error naming both."""
    from collabscope.qualitative.sheets import PARTICIPANT_COLUMNS

    if variables.is_empty():
        return participants
    spelled = {s: ours for ours, spellings in PARTICIPANT_COLUMNS.items() for s in spellings}
    named = variables.with_columns(
        pl.col("variable")
        .str.to_lowercase()
        .str.replace_all(r"[\s_\-]+", " ")
        .replace_strict(spelled, default=None)
        .alias("column")
    ).filter(pl.col("column").is_in(["stratum", "role", "country", "mode"]))
    for column in ("stratum", "role", "country", "mode"):
        values = (
            named.filter(pl.col("column") == column)
            .select("participant", pl.col("value").alias("_case"))
            .unique("participant", keep="first")
        )
        joined = participants.join(values, on="participant", how="left")
        fail_on_first(
            joined,
            pl.col(column).is_not_null()
            & pl.col("_case").is_not_null()
            & (pl.col(column).str.to_lowercase() != pl.col("_case").str.to_lowercase()),
            lambda row, column=column: (
                f"participant {row['participant']}: {column} is {row[column]!r} here but "
                f"{row['_case']!r} in the QDA project's case variables"
            ),
        )
        participants = joined.with_columns(pl.coalesce(column, "_case").alias(column)).drop("_case")
    return participants


def participants_table(
    participants: pl.DataFrame, summary: pl.DataFrame, segments: pl.DataFrame
) -> pl.DataFrame:
    """One row per participant: their stratum (from the draw when their code is a pool code),
    whether they came from the pool, response time, respondent, segments coded."""
    drawn = pool_codes(summary)
    labels = sorted(summary["stratum"].to_list(), key=len, reverse=True)
    frame = participants.join(drawn, on="participant", how="left")
    fail_on_first(
        frame,
        pl.col("pool_stratum").is_not_null()
        & pl.col("stratum").is_not_null()
        & (pl.col("stratum") != pl.col("pool_stratum")),
        lambda row: (
            f"participant {row['participant']} is in stratum {row['pool_stratum']} of the "
            f"draw, not {row['stratum']!r}"
        ),
    )
    if labels:
        shaped = "^(?:" + "|".join(re.escape(label) for label in labels) + r")\d+$"
        fail_on_first(
            frame,
            pl.col("pool_stratum").is_null() & pl.col("participant").str.contains(shaped),
            lambda row: (
                f"participant {row['participant']} has the form of a sampling code, but the "
                "draw (results/sampling/summary.csv) has no such code; give participants "
                "recruited outside the pool codes of another form (e.g. X-1)"
            ),
        )
    counts = segments.group_by("participant").agg(pl.len().alias("segments"))
    return (
        frame.join(counts, on="participant", how="left")
        .with_columns(
            pl.coalesce("pool_stratum", "stratum", pl.lit(OUTSIDE_POOL)).alias("stratum"),
            pl.col("pool_stratum").is_not_null().alias("from_pool"),
            pl.col("segments").fill_null(0).cast(pl.Int64),
            (pl.col("answered") - pl.col("invited")).dt.total_days().alias("response_days"),
        )
        .with_columns(
            (pl.col("answered").is_not_null() | (pl.col("segments") > 0)).alias("respondent")
        )
        .select(
            "participant",
            "stratum",
            "role",
            "country",
            "mode",
            "invited",
            "answered",
            "response_days",
            "from_pool",
            "drawn_as",
            "respondent",
            "segments",
        )
        .sort("participant")
    )


def coded_segments(
    segments: pl.DataFrame, participants: pl.DataFrame, tree: pl.DataFrame
) -> pl.DataFrame:
    """Segments with their theme, code path and participant's stratum, role and country; a
    segment of a participant the sheet does not list is an error naming its file and place."""
    unknown = segments.join(participants.select("participant"), on="participant", how="anti")
    if unknown.height:
        row = unknown.row(0, named=True)
        raise UserInputError(
            str(row["file"]),
            f"{row['location']}: participant {row['participant']!r} is not in the participants "
            f"sheet ({unknown['participant'].n_unique()} unknown code(s): "
            f"{', '.join(sorted(unknown['participant'].unique().to_list())[:5])})",
        )
    dupes = segments.filter(pl.col("segment_id").is_duplicated()).head(1)
    if dupes.height:
        row = dupes.row(0, named=True)
        raise UserInputError(str(row["file"]), f"{row['location']}: segment read twice")
    return (
        segments.join(tree.select("code", "theme", "path"), on="code", how="left")
        .join(
            participants.select("participant", "stratum", "role", "country"),
            on="participant",
            how="left",
        )
        .select(
            "segment_id",
            "file",
            "location",
            "participant",
            "stratum",
            "role",
            "country",
            "question",
            "theme",
            "code",
            "path",
            "excerpt",
        )
        .sort("segment_id")
    )


# --- tables -------------------------------------------------------------------------------------
def codebook(tree: pl.DataFrame, segments: pl.DataFrame) -> pl.DataFrame:
    """Each code with the segments and participants coded with it or any code under it."""
    ancestors = segments.select("participant", "code").join(
        tree.select("code", "ancestors"), on="code"
    )
    rolled = (
        ancestors.explode("ancestors")
        .group_by("ancestors")
        .agg(pl.len().alias("segments"), pl.col("participant").n_unique().alias("participants"))
        .rename({"ancestors": "code"})
    )
    direct = segments.group_by("code").agg(pl.len().alias("direct_segments"))
    return (
        tree.join(rolled, on="code", how="left")
        .join(direct, on="code", how="left")
        .with_columns(
            (pl.col("level") == 0).alias("is_theme"),
            pl.col("segments", "participants", "direct_segments").fill_null(0).cast(pl.Int64),
        )
        .select(
            "theme",
            "path",
            "code",
            "parent",
            "level",
            "is_theme",
            "segments",
            "direct_segments",
            "participants",
        )
        .sort("path")
    )


def _group(column: str) -> pl.Expr:
    return pl.col(column).fill_null(NOT_RECORDED)


def theme_matrix(
    participants: pl.DataFrame, segments: pl.DataFrame, themes: Sequence[str]
) -> pl.DataFrame:
    """For each dimension (stratum, role, country), group and theme: respondents of the group,
    those mentioning the theme, their share, and the theme's segments in the group. Every
    theme appears in every group (zero when none mentions it)."""
    frames = []
    theme_frame = pl.DataFrame({"theme": list(themes)}, schema={"theme": pl.String})
    respondents = participants.filter(pl.col("respondent"))
    for dimension in DIMENSIONS:
        groups = respondents.group_by(_group(dimension).alias("group")).agg(
            pl.len().alias("respondents")
        )
        mentions = (
            segments.with_columns(_group(dimension).alias("group"))
            .group_by("group", "theme")
            .agg(
                pl.col("participant").n_unique().alias("participants"),
                pl.len().alias("segments"),
            )
        )
        frames.append(
            groups.join(theme_frame, how="cross")
            .join(mentions, on=["group", "theme"], how="left")
            .with_columns(
                pl.lit(dimension).alias("dimension"),
                pl.col("participants", "segments").fill_null(0).cast(pl.Int64),
            )
        )
    return (
        pl.concat(frames, how="diagonal")
        .with_columns((pl.col("participants") / pl.col("respondents")).alias("share"))
        .select("dimension", "group", "theme", "respondents", "participants", "share", "segments")
        .sort("dimension", "group", "theme")
    )


def respondents_by_role_country(participants: pl.DataFrame) -> pl.DataFrame:
    """The sample description: participants listed and respondents by role × country."""
    return (
        participants.group_by(_group("role").alias("role"), _group("country").alias("country"))
        .agg(pl.len().alias("participants"), pl.col("respondent").sum().alias("respondents"))
        .with_columns(pl.col("respondents").cast(pl.Int64))
        .sort("role", "country")
    )


def response_times(participants: pl.DataFrame) -> pl.DataFrame:
    """Per mode: invited, answered, response rate and days from invitation to answer."""
    days = pl.col("response_days")
    invited = pl.col("invited").is_not_null()
    return (
        participants.group_by(_group("mode").alias("mode"))
        .agg(
            pl.len().alias("participants"),
            invited.sum().alias("invited"),
            (invited & pl.col("answered").is_not_null()).sum().alias("answered"),
            pl.col("respondent").sum().alias("respondents"),
            days.median().alias("median_days"),
            days.mean().alias("mean_days"),
            days.min().alias("min_days"),
            days.max().alias("max_days"),
        )
        .with_columns(
            pl.col("invited", "answered", "respondents").cast(pl.Int64),
            pl.when(pl.col("invited") > 0)
            .then(pl.col("answered") / pl.col("invited"))
            .alias("response_rate"),
        )
        .sort("mode")
    )


def quotes(
    segments: pl.DataFrame, per_theme: int, min_chars: int = 40, max_chars: int = 600
) -> pl.DataFrame:
    """Representative quotes per theme: one per participant (their longest excerpt of the
    theme within ``min_chars``–``max_chars``, else their longest), spread over strata first
    (each stratum's best before any stratum's second), then longest; attributed by code, role
    and country only."""
    length = pl.col("excerpt").str.len_chars()
    fits = (length >= min_chars) & (length <= max_chars)
    ranked = (
        segments.with_columns(length.alias("_len"), fits.alias("_fits"))
        .sort(
            # Ties by text and code, not by segment id: a sheet and a QDA project of the same
            # coding give the same quotes.
            ["theme", "participant", "_fits", "_len", "excerpt", "code"],
            descending=[False, False, True, True, False, False],
        )
        .unique(["theme", "participant"], keep="first", maintain_order=True)
        .unique(["theme", "excerpt"], keep="first", maintain_order=True)
        .sort(
            ["theme", "stratum", "_fits", "_len", "participant"],
            descending=[False, False, True, True, False],
        )
        .with_columns(pl.int_range(pl.len()).over("theme", "stratum").alias("_round"))
        .sort(
            ["theme", "_round", "_fits", "_len", "participant"],
            descending=[False, False, True, True, False],
        )
        .with_columns((pl.int_range(pl.len()).over("theme") + 1).alias("rank"))
        .filter(pl.col("rank") <= per_theme)
    )
    return ranked.select(
        "theme",
        pl.col("rank").cast(pl.Int64),
        "participant",
        "role",
        "country",
        "stratum",
        "code",
        "excerpt",
        "segment_id",
        pl.concat_str(
            [pl.col("participant"), _group("role"), _group("country")], separator=", "
        ).alias("attribution"),
    )
