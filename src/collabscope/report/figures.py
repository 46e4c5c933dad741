"""Figures with deterministic bytes: matplotlib's object API on Agg, fixed metadata and SVG ids.

The same data always gives the same PNG and SVG bytes: no creation date, no software stamp, a
fixed ``svg.hashsalt`` (SVG clip-path ids are otherwise random), and a bundled font (DejaVu
Sans, shipped with matplotlib) rather than whatever the machine has. Colours are Okabe & Ito's
colour-blind-safe palette; every series also differs by marker, so print in grey still reads.

matplotlib is imported by the chart functions, not with this module: the report's process
never needs it when a worker draws its figures (:class:`FigureWriter`), and importing it is a
tenth of the report's time.
"""

from __future__ import annotations

import io
import multiprocessing
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Okabe, M. & Ito, K. (2008) Color Universal Design: distinguishable by all common colour
# vision deficiencies. Black is last: it is kept for totals.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
GREY = "#9A9A9A"
RC = {
    "svg.hashsalt": "collabscope",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E5E5E5",
    "grid.linewidth": 0.6,
    "figure.dpi": 100.0,
}
PNG_DPI = 200


def _matplotlib() -> ModuleType:
    """matplotlib on Agg (no screen, the same bytes everywhere)."""
    import matplotlib

    matplotlib.use("Agg")
    return matplotlib


def _figure(width: float = 7.0, height: float = 3.6) -> Figure:
    from matplotlib.figure import Figure

    with _matplotlib().rc_context(RC):
        return Figure(figsize=(width, height), layout="constrained")


def save(figure: Figure, directory: str | Path, name: str) -> tuple[Path, Path]:
    """Write ``name``.png and ``name``.svg; return both paths."""
    paths = Path(directory) / f"{name}.png", Path(directory) / f"{name}.svg"
    _write(figure, *paths)
    return paths


def _write(figure: Figure, png_path: Path, svg_path: Path) -> None:
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with _matplotlib().rc_context(RC):
        svg = io.BytesIO()
        figure.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
        png = io.BytesIO()
        figure.savefig(png, format="png", dpi=PNG_DPI, metadata={"Software": None})
    for path, buffer in ((png_path, png), (svg_path, svg)):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(path)


def _ready() -> None:
    """A worker's first task: submitting it starts the workers, which import matplotlib."""
    _matplotlib()


def _draw(chart: Callable[..., Figure], args: tuple[object, ...], png: Path, svg: Path) -> None:
    _write(chart(*args), png, svg)


class FigureWriter:
    """Writes figures as PNG and SVG into ``directory``: here, or with ``workers`` > 0 in
    processes of their own. Drawing is single-threaded and most of the report's time; with a
    worker, the report builds its tables while its figures are drawn. :meth:`close` (or leaving
    the ``with`` block) waits for every figure and raises the first failure.

    Workers are forked when the writer is made, so make it before any polars query (forked
    later, a child could inherit a lock one of polars' threads held). Spawning instead would
    run a Snakemake script again in the child (its ``__main__``), so where fork is not the
    platform's way (macOS, Windows) the figures are drawn here."""

    def __init__(self, directory: str | Path, workers: int = 0) -> None:
        self.directory = Path(directory)
        self._pool = (
            ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
            if workers > 0 and sys.platform == "linux"
            else None
        )
        self._pending: list[Future[None]] = []
        if self._pool is not None:
            self._pending.append(self._pool.submit(_ready))  # forks the workers now

    def save(self, figure: Figure, name: str) -> tuple[Path, Path]:
        """Write (or have a worker write) ``name``.png and ``name``.svg; return both paths."""
        paths = self.directory / f"{name}.png", self.directory / f"{name}.svg"
        if self._pool is None:
            _write(figure, *paths)
        else:
            self._pending.append(self._pool.submit(_write, figure, *paths))
        return paths

    def draw(self, name: str, chart: Callable[..., Figure], *args: object) -> tuple[Path, Path]:
        """Write (or have a worker write) the figure ``chart(*args)`` (a chart function of
        this module) as ``name``.png and ``name``.svg; return both paths. A worker draws it
        from the arguments: the report's process needs no matplotlib."""
        paths = self.directory / f"{name}.png", self.directory / f"{name}.svg"
        if self._pool is None:
            _write(chart(*args), *paths)
        else:
            self._pending.append(self._pool.submit(_draw, chart, args, *paths))
        return paths

    def close(self) -> None:
        try:
            for pending in self._pending:
                pending.result()
        finally:
            self._pending = []
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
                self._pool = None

    def __enter__(self) -> FigureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def line_chart(
    title: str,
    x: Sequence[int],
    series: Sequence[tuple[str, Sequence[float | None]]],
    xlabel: str,
    ylabel: str,
) -> Figure:
    """One line per series over ``x`` (years), legend to the right, integer x ticks; a None
    value is a gap in its line."""
    figure = _figure()
    with _matplotlib().rc_context(RC):
        axes = figure.add_subplot()
        for i, (label, values) in enumerate(series):
            axes.plot(
                x,
                [float("nan") if v is None else v for v in values],
                label=label,
                color=PALETTE[i % len(PALETTE)],
                marker=MARKERS[i % len(MARKERS)],
                markersize=3.5,
                linewidth=1.4,
            )
        axes.set_title(title, loc="left")
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        axes.set_ylim(bottom=0)
        if x:
            step = max(1, (max(x) - min(x)) // 10 + 1)
            axes.set_xticks(list(range(min(x), max(x) + 1, step)))
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return figure


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    highlight: Sequence[bool],
    xlabel: str,
    highlight_label: str,
    other_label: str,
) -> Figure:
    """Horizontal bars, largest on top; highlighted bars in the first palette colour."""
    figure = _figure(7.0, 0.6 + 0.24 * max(len(labels), 1))
    with _matplotlib().rc_context(RC):
        axes = figure.add_subplot()
        positions = list(range(len(labels)))[::-1]
        colours = [PALETTE[0] if h else GREY for h in highlight]
        axes.barh(positions, values, color=colours, height=0.7)
        axes.set_yticks(positions, labels)
        axes.set_title(title, loc="left")
        axes.set_xlabel(xlabel)
        axes.grid(axis="y", visible=False)
        axes.set_axisbelow(True)
        for position, value in zip(positions, values, strict=True):
            axes.annotate(
                f"{value:,.0f}",
                (value, position),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        axes.margins(x=0.1)
        if any(highlight) and not all(highlight):
            from matplotlib.patches import Patch

            handles = [
                Patch(color=PALETTE[0], label=highlight_label),
                Patch(color=GREY, label=other_label),
            ]
            axes.legend(handles=handles, loc="lower right", frameon=False)
    return figure


def trend_chart(
    title: str,
    x: Sequence[int],
    series: Sequence[tuple[str, Sequence[float | None], int, bool]],
    ylabel: str,
    periods: Sequence[tuple[str, int, int]],
    percent: bool = False,
) -> Figure:
    """Yearly series with the configured periods shaded (alternately) and labelled on top.

    ``series`` holds (label, values, colour index, dashed): full counting solid, fractional
    dashed in the same colour, so a pair of lines reads as one country. A None value is a gap.
    The legend sits under the axes, where it covers no line."""
    figure = _figure(7.5, 4.2)
    with _matplotlib().rc_context(RC):
        axes = figure.add_subplot()
        for i, (label, first, last) in enumerate(periods):
            if i % 2 == 0:
                axes.axvspan(first - 0.5, last + 0.5, color="#F2F2F2", zorder=0, linewidth=0)
            axes.annotate(
                label,
                ((first + last) / 2, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7.5,
                color="#444444",
            )
        scale = 100.0 if percent else 1.0
        for label, values, colour, dashed in series:
            axes.plot(
                x,
                [float("nan") if v is None else scale * v for v in values],
                label=label,
                color=PALETTE[colour % len(PALETTE)],
                marker=MARKERS[colour % len(MARKERS)],
                markersize=3.5,
                linewidth=1.4,
                linestyle=(0, (4, 2)) if dashed else "-",
                markerfacecolor="white" if dashed else PALETTE[colour % len(PALETTE)],
            )
        axes.set_title(title, loc="left", pad=14)
        axes.set_xlabel("Publication year")
        axes.set_ylabel(ylabel)
        axes.set_ylim(bottom=0, top=100 if percent else None)
        if x:
            step = max(1, (max(x) - min(x)) // 10 + 1)
            axes.set_xticks(list(range(min(x), max(x) + 1, step)))
            axes.set_xlim(min(x) - 0.6, max(x) + 0.6)
        if series:
            axes.legend(
                loc="upper center",
                bbox_to_anchor=(0.5, -0.16),
                ncol=min(4, (len(series) + 1) // 2),  # full above fractional
                frameon=False,
                fontsize=8,
            )
    return figure
