"""The overview page: datasets and the accounting of every export file.

The template receives a plain context object, never frames, and renders through a Jinja
environment with autoescape and StrictUndefined: a title holding markup shows as text and a
missing value fails loudly instead of printing nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2
import polars as pl

from collabscope import __version__, schemas
from collabscope.tableio import scan_table

QUARANTINE_SHOWN = 200


@dataclass(frozen=True)
class OverviewContext:
    title: str
    version: str
    datasets: list[dict[str, object]]
    files: list[dict[str, object]]
    totals: dict[str, int]
    quarantine: list[dict[str, object]]
    quarantine_total: int
    quarantine_reasons: list[dict[str, object]]


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("collabscope", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def build_context(tables: Mapping[str, str | Path], title: str) -> OverviewContext:
    datasets = scan_table(tables["datasets"], schemas.DATASETS).sort("dataset").collect()
    accounting = scan_table(tables["accounting"], schemas.ACCOUNTING).sort("file").collect()
    quarantine = scan_table(tables["quarantine"], schemas.QUARANTINE).sort("file", "line").collect()
    n_records = scan_table(tables["records"], schemas.RECORDS).select(pl.len()).collect().item()
    totals = {
        column: int(accounting[column].sum())
        for column in ("records_seen", "parsed", "duplicates", "quarantined", "stray_text")
    }
    totals["files"] = accounting.height
    totals["records"] = int(n_records)
    # Excerpts can hold author names: the report shows where and why, never what.
    reasons = (
        quarantine.with_columns(reason=pl.col("reason").str.replace(r"^lines? [\d-]+: ", ""))
        .group_by("kind", "reason")
        .agg(count=pl.len())
        .sort("count", "reason", descending=[True, False])
    )
    return OverviewContext(
        title=title,
        version=__version__,
        datasets=datasets.select(
            "dataset", "description", "query", "n_files", "records"
        ).to_dicts(),
        files=accounting.with_columns(
            sha256=pl.col("sha256").str.slice(0, 12), datasets=pl.col("datasets").list.join(", ")
        ).to_dicts(),
        totals=totals,
        quarantine=quarantine.select("file", "line", "kind", "reason")
        .head(QUARANTINE_SHOWN)
        .to_dicts(),
        quarantine_total=quarantine.height,
        quarantine_reasons=reasons.to_dicts(),
    )


def render_overview(tables: Mapping[str, str | Path], out_html: str | Path, title: str) -> None:
    """Stage function: write the overview page."""
    context = build_context(tables, title)
    html = environment().get_template("overview.html.j2").render(ctx=context)
    out = Path(out_html)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, out)
