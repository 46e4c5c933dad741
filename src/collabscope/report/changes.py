"""The report's "What changed since the previous run" section, from results/changes/changes.parquet
(written by :func:`collabscope.changes.compare_runs`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from collabscope import schemas
from collabscope.report.model import Column, Section, table_block
from collabscope.tableio import scan_table

SHOWN = 20  # rows of a list in the page; tables.xlsx has them all
_COUNTED = (
    ("file_added", "Export files added"),
    ("file_removed", "Export files removed"),
    ("file_changed", "Export files changed (other bytes, same path)"),
    ("record_added", "Records added"),
    ("record_removed", "Records removed"),
    ("record_changed", "Records changed (content hash)"),
    ("indicator_added", "Indicator values added (new rows: a new period, dataset, ...)"),
    ("indicator_removed", "Indicator values removed"),
    ("indicator_changed", "Indicator values changed"),
)


def changes_sections(tables: Mapping[str, str | Path]) -> tuple[Section, ...]:
    """The section, or none when the report was given no changes table."""
    return (changes_section(tables["changes"]),) if "changes" in tables else ()


def changes_section(path: str | Path) -> Section:
    changes = scan_table(path, schemas.CHANGES).collect()
    title = "What changed since the previous run"
    first = changes.filter(pl.col("change") == "first_run")
    if first.height:
        n = dict(first.select("subject", "after").iter_rows())
        return Section(
            "changes",
            title,
            (
                f"This is the first run in this folder ({n['files']:,.0f} export files, "
                f"{n['records']:,.0f} records): there is no earlier run to compare with. From "
                "the next run on, this section lists the export files added, removed or "
                "changed, the records added, removed or changed, and the indicator values "
                "that moved.",
            ),
        )
    totals = {row["subject"]: row for row in changes.filter(change="total").iter_rows(named=True)}
    counts = dict(changes.group_by("change").len().iter_rows())
    summary = pl.DataFrame(
        {"what": [label for _, label in _COUNTED], "n": [counts.get(c, 0) for c, _ in _COUNTED]},
        schema={"what": pl.String, "n": pl.Int64},
    )
    paragraphs = [
        "Compared with the previous run that built different data: "
        f"{totals['files']['before']:,.0f} export files and {totals['records']['before']:,.0f} "
        f"records then, {totals['files']['after']:,.0f} and {totals['records']['after']:,.0f} "
        "now. A record changed when any of its fields, authors or addresses differ (times "
        "cited included), wherever it was read from. Every record id is listed in "
        "results/changes/changes.parquet.",
    ]
    if counts.get("content_not_compared"):
        paragraphs.append(
            "The previous run hashed records with another polars version, so records are "
            "compared by id only this time: changed records are not counted."
        )
    if not any(counts.get(c) for c, _ in _COUNTED):
        paragraphs.append("Nothing the comparison covers changed.")
    blocks = [
        table_block(
            "changes", "Changes", summary, [Column("what", "Change"), Column("n", "Count", "int")]
        )
    ]
    files = changes.filter(pl.col("change").str.starts_with("file_")).sort("subject")
    if files.height:
        blocks.append(
            table_block(
                "changes_files",
                "Export files added, removed or changed",
                files.with_columns(pl.col("change").str.replace("file_", "")),
                [
                    Column("subject", "File", "code"),
                    Column("change", "Change"),
                    Column("before", "Records then", "int"),
                    Column("after", "Records now", "int"),
                ],
                shown=SHOWN,
            )
        )
    per_file = (
        changes.filter(pl.col("change").str.starts_with("record_"))
        .group_by(file="detail")
        .agg(
            *(
                (pl.col("change") == c).sum().cast(pl.Int64).alias(c.removeprefix("record_"))
                for c in ("record_added", "record_removed", "record_changed")
            )
        )
        .sort("file", nulls_last=True)
    )
    if per_file.height:
        blocks.append(
            table_block(
                "changes_records",
                "Records added, removed or changed, by export file",
                per_file,
                [
                    Column("file", "File", "code"),
                    Column("added", "Added", "int"),
                    Column("removed", "Removed", "int"),
                    Column("changed", "Changed", "int"),
                ],
                caption="A removed record is counted against the file it was last read from.",
                shown=SHOWN,
            )
        )
    moved = (
        changes.filter(pl.col("change").str.starts_with("indicator_"))
        .with_columns(
            delta=pl.col("after") - pl.col("before"),
            change=pl.col("change").str.replace("indicator_", ""),
        )
        .sort(
            pl.col("delta").abs().fill_nan(None),
            "subject",
            "measure",
            descending=[True, False, False],
            nulls_last=True,
        )
    )
    if moved.height:
        blocks.append(
            table_block(
                "changes_indicators",
                "Indicator values that moved",
                moved,
                [
                    Column("subject", "Indicator | dataset | focal | slice", "code"),
                    Column("measure", "Measure", "code"),
                    Column("change", "Change"),
                    Column("before", "Then", "float"),
                    Column("after", "Now", "float"),
                    Column("delta", "Difference", "float"),
                ],
                caption="Largest differences first (values added or removed last).",
                shown=SHOWN,
            )
        )
    return Section("changes", title, tuple(paragraphs), tuple(blocks))
