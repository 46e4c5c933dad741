"""What the report templates receive: plain, frozen context objects, never frames.

A report is a list of :class:`Section` objects, each holding paragraphs and blocks (tables,
figures, preformatted text). The HTML and Markdown templates and the Excel writer render any
section the same way, so a new part of the study (indicators, sampling) plugs in as one more
section builder without touching the renderers. Numbers stay numbers here; formatting is the
renderers' job (``pct`` columns hold fractions: 0.125 shows as 12.5% and is stored as 0.125 in
Excel with a percentage format).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

# The report's figures, files under figures/ (.png and .svg): the rule lists them as outputs,
# so they are named here, in a module the Snakefile can import without matplotlib.
TREND_FIGURES = (
    "outputs_trend",
    "world_share_trend",
    "icp_share_trend",
    "lead_share_trend",
    "pair_lead_trend",
)
FIGURES = ("records_per_year", "address_countries", *TREND_FIGURES)

ColumnKind = Literal["text", "code", "year", "int", "float", "pct"]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: ColumnKind = "text"

    @property
    def numeric(self) -> bool:
        return self.kind in ("year", "int", "float", "pct")


@dataclass(frozen=True)
class TableBlock:
    """A table of the report; ``id`` is its anchor in the HTML and its sheet in Excel."""

    id: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[object, ...], ...]
    caption: str = ""
    footer: tuple[object, ...] | None = None  # a totals row, same columns
    shown: int | None = None  # rows in the page when fewer than all (Excel has all)
    kind: Literal["table"] = "table"

    @property
    def visible_rows(self) -> tuple[tuple[object, ...], ...]:
        return self.rows if self.shown is None else self.rows[: self.shown]


@dataclass(frozen=True)
class FigureBlock:
    """A figure written as PNG and SVG under ``figures/``; the page embeds the SVG."""

    id: str
    title: str
    alt: str
    caption: str
    svg: Path  # read when the page is rendered: the figure may still be drawing before
    files: tuple[str, ...]  # paths relative to the report folder
    data: TableBlock  # the numbers plotted, also a sheet in Excel
    kind: Literal["figure"] = "figure"

    @property
    def svg_data_uri(self) -> str:
        """The SVG, embedded in the page."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.read_bytes()).decode()


@dataclass(frozen=True)
class TextBlock:
    """Preformatted text (the configuration as used)."""

    id: str
    title: str
    text: str
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class TreeNode:
    """One box of a category tree: a count and its share of the parent box (None at a root)."""

    label: str
    count: int
    share: float | None = None
    note: str = ""
    children: tuple[TreeNode, ...] = ()


@dataclass(frozen=True)
class TreeBlock:
    """A category tree (the seed's Figure 2), drawn as nested boxes in HTML and a nested list
    in Markdown; ``data`` holds the same numbers as a table (an Excel sheet)."""

    id: str
    title: str
    caption: str
    roots: tuple[TreeNode, ...]
    data: TableBlock
    kind: Literal["tree"] = "tree"


Block = TableBlock | FigureBlock | TextBlock | TreeBlock


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    paragraphs: tuple[str, ...] = ()
    blocks: tuple[Block, ...] = ()
    appendix: bool = False


@dataclass(frozen=True)
class Period:
    label: str
    first: int
    last: int


@dataclass(frozen=True)
class Study:
    title: str
    focal_countries: tuple[tuple[str, str], ...]  # (code, name)
    periods: tuple[Period, ...]


@dataclass(frozen=True)
class ReportContext:
    title: str
    version: str
    study: Study
    sections: tuple[Section, ...] = field(default_factory=tuple)

    @property
    def main(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if not s.appendix)

    @property
    def appendix(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.appendix)

    def tables(self) -> list[TableBlock]:
        """Every table, including each figure's data, in page order (one Excel sheet each)."""
        found: list[TableBlock] = []
        for section in self.sections:
            for block in section.blocks:
                if isinstance(block, TableBlock):
                    found.append(block)
                elif isinstance(block, FigureBlock | TreeBlock):
                    found.append(block.data)
        # A figure's data can also be shown as a table of the page: one sheet all the same.
        return [t for i, t in enumerate(found) if all(t is not u for u in found[:i])]


def table_block(
    id: str,
    title: str,
    frame: pl.DataFrame,
    columns: list[Column],
    caption: str = "",
    footer: tuple[object, ...] | None = None,
    shown: int | None = None,
) -> TableBlock:
    """A :class:`TableBlock` from the named columns of ``frame`` (rows in frame order)."""
    rows = tuple(frame.select([c.key for c in columns]).iter_rows())
    return TableBlock(id, title, tuple(columns), rows, caption, footer, shown)
