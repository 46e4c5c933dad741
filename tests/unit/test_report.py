"""The report renderers: deterministic figure and workbook bytes, escaping, number formats."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from collabscope.report import figures
from collabscope.report.model import (
    Column,
    FigureBlock,
    Period,
    ReportContext,
    Section,
    Study,
    TableBlock,
    TextBlock,
)
from collabscope.report.render import (
    format_cell,
    markdown_escape,
    render_html,
    render_markdown,
    write_workbook,
)
from tests.conftest import PROJECT

SCRIPT = "<script>alert(1)</script> Teacher agency"
IMG = "Student voice <img src=x onerror=alert(1)> in programmes"

_DRAW = """
import sys
from collabscope.report import figures
series = [("a", [1, 2, None]), ("b", [3, 0, 4])]
line = figures.line_chart("T", [2001, 2002, 2003], series, "x", "y")
figures.save(line, sys.argv[1], "line")
bars = figures.bar_chart("B", ["China", "UK", "USA"], [5, 4, 1], [True, True, False], "n", "f", "o")
figures.save(bars, sys.argv[1], "bars")
"""


def _digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_figures_have_the_same_bytes_in_two_processes(tmp_path: Path) -> None:
    # Separate interpreters: SVG ids and metadata must not depend on process state or time.
    for name in ("one", "two"):
        subprocess.run(
            [sys.executable, "-c", _DRAW, str(tmp_path / name)],
            check=True,
            env={"PYTHONPATH": str(PROJECT / "src"), "PATH": "/usr/bin:/bin"},
        )
    one, two = _digests(tmp_path / "one"), _digests(tmp_path / "two")
    assert sorted(one) == ["bars.png", "bars.svg", "line.png", "line.svg"]
    assert one == two
    svg = (tmp_path / "one" / "line.svg").read_text()
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    assert (tmp_path / "one" / "line.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_drawn_by_a_worker_are_the_figures_drawn_here(tmp_path: Path) -> None:
    for name, workers in (("here", 0), ("worker", 1)):
        with figures.FigureWriter(tmp_path / name, workers) as writer:
            writer.draw("c0", figures.line_chart, "T", [2001, 2002], [("a", [1, None])], "x", "y")
            writer.draw("c1", figures.bar_chart, "B", ["CN", "UK"], [5, 4], [True, False], *"nfo")
            # A figure made here: new each time (saving lays a figure out, and a second layout
            # starts from the first).
            writer.save(figures.line_chart("S", [2001], [("b", [3])], "x", "y"), "c2")
    here = _digests(tmp_path / "here")
    assert sorted(here) == [f"c{i}.{ext}" for i in range(3) for ext in ("png", "svg")]
    assert here == _digests(tmp_path / "worker")


def test_a_figure_that_fails_in_a_worker_fails_the_report(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the figures folder should be")
    writer = figures.FigureWriter(blocked, workers=1)
    writer.save(figures.line_chart("T", [2001], [("a", [1])], "x", "y"), "c")
    with pytest.raises(OSError):
        writer.close()


def test_palette_is_okabe_ito() -> None:
    assert figures.PALETTE[:3] == ("#0072B2", "#E69F00", "#009E73")


def _context(tmp_path: Path) -> ReportContext:
    _, svg = figures.save(
        figures.line_chart("T", [2001, 2002], [("a", [1, 2])], "x", "y"), tmp_path, "f"
    )
    data = TableBlock(
        "f_data",
        "Figure data",
        (Column("year", "Year", "year"), Column("a", "a", "int")),
        ((2001, 1), (2002, 2)),
    )
    titles = TableBlock(
        "titles",
        "Titles | with a pipe",
        (
            Column("title", "Title"),
            Column("n", "Records", "int"),
            Column("share", "Share", "pct"),
        ),
        ((SCRIPT, 1234, 0.125), (IMG, 5, 0.875)),
        footer=("total", 1239, 1.0),
    )
    return ReportContext(
        "Study <b>bold</b>",
        "0",
        Study("Study <b>bold</b>", (("CHN", "China"),), (Period("2001–2005", 2001, 2005),)),
        (
            Section(
                "s",
                "Section",
                (f"A paragraph with {SCRIPT}",),
                (
                    titles,
                    FigureBlock(
                        "fig",
                        "Fig",
                        IMG,
                        "cap",
                        svg,
                        ("f.png", "f.svg"),
                        data,
                    ),
                ),
            ),
            Section(
                "cfg",
                "Config",
                (),
                (TextBlock("c", "Config", "title: <script>x</script>\n"),),
                True,
            ),
        ),
    )


def test_html_escapes_markup_and_formats_numbers(tmp_path: Path) -> None:
    html = render_html(_context(tmp_path))
    assert "<script>" not in html and "<img src=x" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Teacher agency" in html
    assert 'alt="Student voice &lt;img src=x onerror=alert(1)&gt; in programmes"' in html
    assert '<td class="int">1,234</td>' in html and '<td class="pct">12.5%</td>' in html
    assert 'src="data:image/svg+xml;base64,' in html


def test_markdown_escapes_markup_and_table_syntax(tmp_path: Path) -> None:
    md = render_markdown(_context(tmp_path))
    # Outside indented code blocks (shown verbatim, as text) no markup is left.
    prose = "\n".join(line for line in md.splitlines() if not line.startswith("    "))
    assert "<script>" not in prose and "<img" not in prose and "<b>" not in prose
    assert "| &lt;script&gt;alert(1)&lt;/script&gt; Teacher agency | 1,234 | 12.5% |" in md
    assert "**Titles \\| with a pipe**" in md
    assert "    title: &lt;script&gt;x&lt;/script&gt;" not in md  # code block: verbatim text
    assert "    title: <script>x</script>" in md  # indented code block shows it as text
    assert "\n### Config\n" in md


def test_markdown_escape() -> None:
    assert markdown_escape("a|b_c*d") == "a\\|b\\_c\\*d"
    assert markdown_escape("# not a heading") == "\\# not a heading"
    assert markdown_escape("1. not a list") == "1\\. not a list"
    assert markdown_escape("0.1.0 & <x>") == "0.1.0 &amp; &lt;x&gt;"
    assert markdown_escape("two\nlines") == "two lines"


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        (1234567, "int", "1,234,567"),
        (2001, "year", "2001"),
        (0.1234, "pct", "12.3%"),
        (1.5, "float", "1.50"),
        (None, "int", ""),
        ("x", "text", "x"),
    ],
)
def test_format_cell(value: object, kind: str, shown: str) -> None:
    assert format_cell(value, Column("c", "c", kind)) == shown  # type: ignore[arg-type]


def test_workbook_keeps_numbers_and_is_deterministic(tmp_path: Path) -> None:
    context = _context(tmp_path)
    write_workbook(context, tmp_path / "a.xlsx")
    write_workbook(context, tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.xlsx") as book:
        workbook = book.read("xl/workbook.xml").decode()
        assert 'name="titles"' in workbook and 'name="f_data"' in workbook
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        styles = book.read("xl/styles.xml").decode()
    # The share is the number 0.125 with a percentage format, not the text "12.5%".
    assert "<v>0.125</v>" in sheet and "<v>1234</v>" in sheet
    assert 'formatCode="0.0%"' in styles
