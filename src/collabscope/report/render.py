"""Render the report: one context, three forms (HTML page, Markdown, Excel workbook).

How to add a section:
  1. Give rule render_report (workflow/rules/report.smk) the tables it reads as named inputs
     (and any config section it prints through params.config).
  2. Write a builder returning a :class:`~collabscope.report.model.Section` of tables
     (TableBlock), figures (FigureBlock), category trees (TreeBlock) or text (TextBlock), in a
     module of its own under collabscope/report/ (see sections.py, indicator_sections.py).
  3. Add one line to :func:`build_context` (main sections before the appendix ones; a
     Section with ``appendix=True`` goes to the methods appendix); figure file names join
     :data:`collabscope.report.model.FIGURES` (the rule lists them as outputs).
  The templates render every block kind generically; a new kind of block needs a macro in
  templates/report.html.j2 and report.md.j2 (see ``tree``), and its data a TableBlock so that
  it gets an Excel sheet. Every table becomes a sheet of tables.xlsx automatically.

Templates render through Jinja with StrictUndefined (a missing value fails loudly) and escaping
on every output: HTML autoescape for the page, a Markdown escape (HTML entities plus Markdown
punctuation) applied by ``finalize`` to every expression of the Markdown template. A title
holding ``<script>`` therefore shows as text in both.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path

import jinja2
import xlsxwriter
from markupsafe import Markup

from collabscope import __version__
from collabscope.report import indicator_sections, qualitative, sections
from collabscope.report.changes import changes_sections
from collabscope.report.figures import FigureWriter
from collabscope.report.model import Column, ReportContext, TableBlock
from collabscope.report.tallies import load_tallies, record_tallies

FIXED_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # workbook metadata: bytes never vary


def format_cell(value: object, column: Column) -> str:
    """How a value reads in the page and in Markdown (Excel keeps the number)."""
    if value is None:
        return ""
    if column.kind == "year" and isinstance(value, int):
        return str(value)
    if column.kind == "int" and isinstance(value, int | float):
        return f"{value:,.0f}"
    if column.kind == "float" and isinstance(value, int | float):
        return f"{value:,.2f}"
    if column.kind == "pct" and isinstance(value, int | float):
        return f"{100 * value:.1f}%"
    return str(value)


class Verbatim(str):
    """Text for a Markdown code block: indented, so nothing in it is read as Markdown/HTML."""


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
# Would begin a heading or a list item at the start of a line.
_MD_LINE_START = re.compile(r"^(\s*(?:\d+)?)([#+.)-])(?=\s|$)")


def markdown_escape(value: object) -> Markup:
    """Escape one expression's value for Markdown: HTML entities for ``& < >`` (so markup shows
    as text), backslashes before Markdown punctuation, no line breaks. Macro output (already
    Markup) passes through, so a table rendered by a macro is not escaped twice."""
    if isinstance(value, Markup):
        return value
    if isinstance(value, Verbatim):
        return Markup("\n".join("    " + line for line in value.splitlines()))
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_LINE_START.sub(r"\1\\\2", text)
    return Markup(re.sub(r"\s*\n\s*", " ", text))


def _common(env: jinja2.Environment) -> jinja2.Environment:
    env.filters["cell"] = format_cell
    env.filters["verbatim"] = Verbatim
    return env


def environment() -> jinja2.Environment:
    """The HTML environment: autoescape on, StrictUndefined."""
    return _common(
        jinja2.Environment(
            loader=jinja2.PackageLoader("collabscope", "templates"),
            autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    )


def markdown_environment() -> jinja2.Environment:
    """The Markdown environment: every expression escaped for Markdown, StrictUndefined."""
    return _common(
        jinja2.Environment(
            loader=jinja2.PackageLoader("collabscope", "templates"),
            autoescape=True,  # with finalize returning Markup: our escape, never HTML's twice
            finalize=markdown_escape,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    )


def render_html(context: ReportContext) -> str:
    return environment().get_template("report.html.j2").render(ctx=context)


def render_markdown(context: ReportContext) -> str:
    return markdown_environment().get_template("report.md.j2").render(ctx=context)


def _sheet_name(table: TableBlock, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", table.id)[:31]
    name, i = base, 2
    while name.lower() in used:
        name = f"{base[: 31 - len(str(i)) - 1]}_{i}"
        i += 1
    used.add(name.lower())
    return name


def write_workbook(context: ReportContext, path: str | Path) -> None:
    """One sheet per table (figure data included), bold headers, numbers kept as numbers."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    workbook = xlsxwriter.Workbook(
        str(tmp), {"strings_to_numbers": False, "strings_to_urls": False}
    )
    workbook.set_properties({"title": context.title, "created": FIXED_TIME.replace(tzinfo=None)})
    header = workbook.add_format(
        {"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True, "valign": "top"}
    )
    total = workbook.add_format({"bold": True, "top": 1})
    formats = {
        "year": workbook.add_format({"num_format": "0"}),
        "int": workbook.add_format({"num_format": "#,##0"}),
        "float": workbook.add_format({"num_format": "#,##0.00"}),
        "pct": workbook.add_format({"num_format": "0.0%"}),
    }
    total_formats = {
        kind: workbook.add_format({"num_format": fmt, "bold": True, "top": 1})
        for kind, fmt in (("year", "0"), ("int", "#,##0"), ("float", "#,##0.00"), ("pct", "0.0%"))
    }
    used: set[str] = set()
    for table in context.tables():
        sheet = workbook.add_worksheet(_sheet_name(table, used))
        for j, column in enumerate(table.columns):
            sheet.write_string(0, j, column.label, header)
            width = max([len(column.label), *(len(format_cell(r[j], column)) for r in table.rows)])
            sheet.set_column(j, j, min(max(width + 2, 8), 80), formats.get(column.kind))
        rows = list(table.rows) + ([table.footer] if table.footer is not None else [])
        for i, row in enumerate(rows, start=1):
            is_total = table.footer is not None and i == len(rows)
            for j, (value, column) in enumerate(zip(row, table.columns, strict=True)):
                if value is None:
                    if is_total:
                        sheet.write_blank(i, j, None, total)
                    continue
                if column.numeric and isinstance(value, int | float):
                    fmt = total_formats[column.kind] if is_total else formats[column.kind]
                    sheet.write_number(i, j, value, fmt)
                else:
                    sheet.write_string(i, j, str(value), total if is_total else None)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(table.rows), 1), len(table.columns) - 1)
    workbook.close()
    os.replace(tmp, path)


def build_context(
    tables: Mapping[str, str | Path],
    config: Mapping[str, object],
    figure_writer: FigureWriter,
    store: str | Path | None = None,
) -> ReportContext:
    """Every section available from the tables given, in page order.

    A later stage's part (indicators, sampling) plugs in as: its tables as named inputs of
    render_report, a builder in :mod:`collabscope.report.sections` returning a Section, one
    line here; its figure names join model.FIGURES (the rule lists them as outputs).
    Figures go through ``figure_writer``: they may still be drawing when this returns.
    ``store``: the folder where sections keep what they compute per shard (None: nowhere)."""
    names = sections.country_names(tables["countries"])
    info = sections.study(config, names)
    tallies = load_tallies(tables, None if store is None else Path(store) / "tallies")
    counted = record_tallies(tables, None if store is None else Path(store) / "records")
    figures = (
        sections.records_per_year(counted.record_years, figure_writer),
        sections.address_countries(tallies, info, names, figure_writer),
    )
    data = indicator_sections.load(tables, info, names)
    return ReportContext(
        title=info.title,
        version=__version__,
        study=info,
        sections=(
            sections.study_section(info),
            indicator_sections.findings_section(data),
            sections.datasets_section(tables),
            sections.overview_section(figures),
            indicator_sections.categories_section(data, tables),
            indicator_sections.trends_section(data, figure_writer),
            indicator_sections.partners_section(data),
            indicator_sections.citing_section(data, tables, config),
            indicator_sections.highly_cited_section(data, tables, config),
            indicator_sections.funding_section(data, counted.funders, config),
            indicator_sections.lead_section(data, tables),
            indicator_sections.sampling_section(tables),
            *qualitative.sections(tables, config),
            indicator_sections.definitions_section(data, config),
            sections.country_policy_section(tallies, config, info, names),
            indicator_sections.policy_classes_section(
                tables, config, data, None if store is None else Path(store) / "policy_classes"
            ),
            sections.audit_section(tables, tallies),
            sections.accounting_section(tables),
            sections.inputs_section(tables, config),
            sections.software_section(),
            *changes_sections(tables),  # issue 7: what changed since the previous run
        ),
    )


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def render_report(
    tables: Mapping[str, str | Path],
    outputs: Mapping[str, str | Path],
    config: Mapping[str, object],
    store: str | Path | None = None,
    workers: int = 0,
) -> ReportContext:
    """Stage function: write index.html, report.md, tables.xlsx and figures/ (PNG and SVG).
    ``store``: see :func:`build_context`; ``workers``: processes drawing the figures meanwhile
    (0: drawn here, in turn)."""
    html = Path(outputs["html"])
    with FigureWriter(html.parent / "figures", workers) as figure_writer:
        context = build_context(tables, config, figure_writer, store)
        _write_text(Path(outputs["markdown"]), render_markdown(context))
        write_workbook(context, outputs["xlsx"])
    # The page embeds the figures' SVG: rendered once every figure is written.
    _write_text(html, render_html(context))
    return context
