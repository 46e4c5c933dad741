"""WoS export files as two frames: one row per record, one row per field item.

``items`` (rec, tag, value) holds every field of every record: for line-item tags (authors,
addresses, cited references) one row per item, for other tags one row per piece of text, joined
with a space later. ``meta`` (rec, line, problem, excerpt, is_record) says where each record
began and why it cannot be used, if it cannot.

A well-formed plain-text file is tokenised with polars string expressions in one pass over
all its lines. A file with any structural oddity (a truncated record, stray text, a malformed
line) goes through the line-by-line tokeniser of :mod:`wos_tokens` instead, which reports
each problem with its line; both produce the same frames, so one builder serves both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from collabscope.parse.text import protect_entities, restore_entities
from collabscope.parse.wos_tokens import (
    LINE_ITEM_TAGS,
    RawRecord,
    iter_plain_records,
    iter_tab_records,
    tab_header,
)

ITEMS_SCHEMA = pl.Schema({"rec": pl.Int64, "tag": pl.String, "value": pl.String})
META_SCHEMA = pl.Schema(
    {
        "rec": pl.Int64,
        "line": pl.Int64,
        "problem": pl.String,
        "excerpt": pl.String,
        "is_record": pl.Boolean,
    }
)
_EXCERPT = 200
_FILE_HEADER_TAGS = ["FN", "VR", "EF"]


@dataclass
class FileItems:
    meta: pl.DataFrame
    items: pl.DataFrame
    # Whether the export has ESI flag (HC/HP) fields at all: known from a tab-delimited
    # header; None for plain text, where only flagged records carry the tag.
    flags_exported: bool | None = None


def plain_items(lines: list[str], first_rec: int = 0) -> FileItems:
    """Items of a plain-text export; records are numbered from ``first_rec``."""
    fast = _clean_plain_items(lines, first_rec)
    if fast is not None:
        return fast
    return items_from_raw_records(iter_plain_records(lines), first_rec)


def tab_items(lines: list[str], first_rec: int = 0) -> FileItems:
    """Items of a tab-delimited export; records are numbered from ``first_rec``."""
    tokens = _clean_tab_items(lines, first_rec)
    if tokens is None:
        tokens = items_from_raw_records(iter_tab_records(lines), first_rec)
    tokens.flags_exported = "HC" in tab_header(lines)[1]
    return tokens


# A quoted field (Excel re-save) is one whose inner quotes are all doubled.
_QUOTED = r'^"((?:[^"]|"")*)"$'
# C1 items are '; '-separated, but a '[Author; Author]' prefix is kept whole.
_C1_ITEM = r"(?:\[[^\]]*\]|[^;\[])+"
# Characters Python's str.strip() treats as space and polars does not (see text.WHITESPACE).
_SEPARATORS = "[\x1c-\x1f]"


def _clean_tab_items(lines: list[str], first_rec: int) -> FileItems | None:
    """Vectorised reading of a well-formed tab-delimited file; None when it needs the slow path
    (repeated column names, short or long rows, quoted line breaks, a last row without a line
    break, unbalanced brackets in C1, separator control characters)."""
    start, header = tab_header(lines)
    named = len(header)
    while named and not header[named - 1]:
        named -= 1
    columns = header[:named]
    if len(set(columns)) != named or (lines and lines[-1].strip()):
        return None
    rows = (
        pl.DataFrame({"text": lines[start + 1 :]}, schema={"text": pl.String})
        .with_row_index("line", offset=start + 2)
        .filter(pl.col("text").str.contains(r"\S"))
    )
    fields = pl.col("text").str.split("\t")
    check = rows.select(
        shape_ok=(
            (fields.list.len() >= named)
            & (
                fields.list.slice(named)
                .list.eval(pl.element().str.contains(r"\S"))
                .list.any()
                .not_()
            )
        ).all(),
        separators=pl.col("text").str.contains(_SEPARATORS).any(),
    ).row(0)
    if rows.height and (not check[0] or check[1]):
        return None
    rows = rows.with_row_index("index").with_columns(rec=pl.col("index").cast(pl.Int64) + first_rec)
    names = pl.DataFrame(
        {"column": list(range(named)), "tag": columns},
        schema={"column": pl.Int64, "tag": pl.String},
    ).filter(pl.col("tag") != "")
    value = pl.col("value").str.strip_chars()
    unquoted = value.str.extract(_QUOTED, 1).str.replace_all('""', '"', literal=True)
    cells = (
        rows.select("rec", value=fields.list.slice(0, named))
        .with_columns(column=pl.int_ranges(0, pl.col("value").list.len(), dtype=pl.Int64))
        .explode("value", "column")
        .join(names, on="column", how="inner", maintain_order="left")
        .with_columns(value=pl.coalesce(unquoted, value))
        .filter(pl.col("value").str.len_bytes() > 0)
    )
    line_item = pl.col("tag").is_in(list(LINE_ITEM_TAGS))
    c1_bracketed = (pl.col("tag") == "C1") & pl.col("value").str.contains("[", literal=True)
    if cells.filter(
        c1_bracketed
        & (pl.col("value").str.count_matches(r"\[") != pl.col("value").str.count_matches(r"\]"))
    ).height:
        return None
    items = (
        cells.with_columns(
            value=pl.when(c1_bracketed)
            .then(protect_entities(pl.col("value")).str.extract_all(_C1_ITEM))
            .when(line_item)
            .then(protect_entities(pl.col("value")).str.split(";"))
            .otherwise(pl.concat_list(pl.col("value")))
        )
        .explode("value")
        .with_columns(
            value=pl.when(line_item)
            .then(restore_entities(pl.col("value")).str.strip_chars())
            .otherwise("value")
        )
        .filter(pl.col("value").str.len_bytes() > 0)
        .select("rec", "tag", "value")
    )
    meta = rows.select(
        "rec",
        line=pl.col("line").cast(pl.Int64),
        problem=pl.lit(None, dtype=pl.String),
        excerpt=pl.col("text").str.slice(0, _EXCERPT),
        is_record=pl.lit(True),
    )
    return FileItems(meta.cast(dict(META_SCHEMA)), items.cast(dict(ITEMS_SCHEMA)))


def _clean_plain_items(lines: list[str], first_rec: int) -> FileItems | None:
    """Vectorised tokenising of a well-formed file; None when the file needs the slow path."""
    text = pl.col("text")
    frame = (
        pl.DataFrame({"text": lines}, schema={"text": pl.String})
        .with_row_index("line", offset=1)
        .with_columns(
            # (\s is Unicode White_Space, what strip_chars() removes)
            blank=~text.str.contains(r"\S"),
            tag=pl.when(text.str.contains(r"^[A-Z][A-Z0-9](?:[ \t]|$)")).then(text.str.slice(0, 2)),
        )
        .with_columns(
            cont=~pl.col("blank") & text.str.contains(r"^[ \t]"),
            starts=(pl.col("tag") == "PT").fill_null(False).cum_sum(),
            ends=(pl.col("tag") == "ER").fill_null(False).cum_sum(),
        )
        .with_columns(depth=pl.col("starts") - pl.col("ends"))
    )
    tag = pl.col("tag")
    depth = pl.col("depth")
    header_like = text.str.contains("Web of", literal=True) | text.str.contains(
        "ISI Export", literal=True
    )
    outside_ok = (
        pl.col("blank")
        | (tag == "ER").fill_null(False)
        | tag.is_in(_FILE_HEADER_TAGS).fill_null(False)
        | ((pl.col("starts") == 0) & header_like & ~pl.col("cont"))
    )
    inside_ok = (
        pl.col("blank") | pl.col("cont") | (tag.is_not_null() & ~tag.is_in(_FILE_HEADER_TAGS))
    )
    check = frame.select(
        depth_ok=((depth == 0) | (depth == 1)).all(),
        ends_closed=depth.last() == 0,
        outside_ok=pl.when(depth == 0).then(outside_ok).otherwise(True).all(),
        inside_ok=pl.when(depth == 1).then(inside_ok).otherwise(True).all(),
    ).row(0)
    if len(lines) and not all(check):
        return None
    inside = frame.filter((depth == 1) & ~pl.col("blank"))
    is_tag = tag.is_not_null()
    items = inside.select(
        rec=pl.col("starts") - 1 + first_rec,
        tag=tag.forward_fill(),
        value=text.str.slice(pl.when(is_tag).then(3).otherwise(0)).str.strip_chars(),
    )
    # Line items are items; an empty piece of text adds nothing but its tag's presence.
    items = items.filter(~((pl.col("value") == "") & pl.col("tag").is_in(list(LINE_ITEM_TAGS))))
    meta = inside.filter(tag == "PT").select(
        rec=pl.col("starts") - 1 + first_rec,
        line=pl.col("line").cast(pl.Int64),
        problem=pl.lit(None, dtype=pl.String),
        excerpt=text.str.slice(0, _EXCERPT),
        is_record=pl.lit(True),
    )
    return FileItems(meta.cast(dict(META_SCHEMA)), items.cast(dict(ITEMS_SCHEMA)))


def items_from_raw_records(records: Iterable[RawRecord], first_rec: int = 0) -> FileItems:
    """Frames from the line-by-line tokeniser's records (slow path and tab-delimited files)."""
    meta: dict[str, list] = {name: [] for name in META_SCHEMA.names()}
    recs: list[int] = []
    tags: list[str] = []
    values: list[str] = []
    rec = first_rec
    for raw in records:
        meta["rec"].append(rec)
        meta["line"].append(raw.line)
        meta["problem"].append(raw.problem)
        meta["excerpt"].append(raw.excerpt)
        meta["is_record"].append(raw.is_record)
        for tag, parts in raw.fields.items():
            if parts:
                recs.extend([rec] * len(parts))
                tags.extend([tag] * len(parts))
                values.extend(parts)
            elif tag not in LINE_ITEM_TAGS:
                recs.append(rec)
                tags.append(tag)
                values.append("")
        rec += 1
    return FileItems(
        pl.DataFrame(meta, schema=META_SCHEMA),
        pl.DataFrame({"rec": recs, "tag": tags, "value": values}, schema=ITEMS_SCHEMA),
    )
