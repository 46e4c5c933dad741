"""The summary of quantitative findings: sentences from the numbers, never fixed text."""

from __future__ import annotations

import polars as pl

from collabscope import schemas
from collabscope.report import findings
from collabscope.report.indicator_sections import findings_paragraphs, from_frames
from collabscope.report.model import Period, Study

PERIODS = (Period("P1", 2001, 2005), Period("P2", 2006, 2010), Period("P3", 2011, 2015))
NAMES = {"CHN": "China", "GBR": "United Kingdom", "USA": "United States"}


def _frame(name: str, rows: list[dict[str, object]]) -> pl.DataFrame:
    """Rows of one indicator table; columns not given are null."""
    schema = schemas.INDICATOR_BY_NAME[name].schema
    return pl.DataFrame(
        [{column: row.get(column) for column in schema.names()} for row in rows], schema=schema
    )


def _slice(period: Period, granularity: str = "period") -> dict[str, object]:
    return {
        "granularity": granularity,
        "period": period.label,
        "first_year": period.first,
        "last_year": period.last,
    }


def _study(focal: tuple[str, ...]) -> Study:
    return Study("t", tuple((c, NAMES[c]) for c in focal), PERIODS)


def _frames(pair_counts: list[tuple[int, int, int]], focal: tuple[str, ...] = ("CHN", "GBR")):
    """A corpus 'pairs' whose pair papers per period are (papers, x_led, y_led), and one
    'china' corpus whose CHN papers are twice as many, ICP the pair papers."""
    collaboration, pair, outputs, partners, funding, hcp = [], [], [], [], [], []
    for period, (papers, x_led, y_led) in zip(PERIODS, pair_counts, strict=True):
        for granularity in ("period", "year"):
            s = _slice(period, granularity) | (
                {"period": str(period.first), "last_year": period.first}
                if granularity == "year"
                else {}
            )
            collaboration.append(
                s
                | {
                    "dataset": "china",
                    "focal": "CHN",
                    "papers": 2 * papers,
                    "icp": papers,
                    "icp_x_led": x_led,
                    "non_icp": papers,
                }
            )
            if len(focal) == 2:
                pair.append(
                    s
                    | {
                        "dataset": "pairs",
                        "focal": "CHN+GBR",
                        "papers": papers,
                        "x_led": x_led,
                        "y_led": y_led,
                    }
                )
                hcp.append(s | {"dataset": "pairs", "focal": "CHN+GBR", "papers": papers, "hcp": 1})
            outputs.append(
                s
                | {
                    "dataset": "china",
                    "focal": "CHN",
                    "records": 2 * papers,
                    "focal_records": 2 * papers,
                }
            )
        partners.append(
            _slice(period)
            | {
                "dataset": "china",
                "focal": "CHN",
                "rank": 1,
                "partner": "USA" if papers % 2 else "GBR",
                "records": papers,
                "icp": papers,
                "share_of_icp": 1.0 if papers else None,
            }
        )
        funding.append(_slice(period) | {"dataset": "pairs", "records": papers, "by_both": x_led})
    frames = {
        "collaboration": _frame("collaboration", collaboration),
        "pair_leads": _frame("pair_leads", pair),
        "outputs": _frame("outputs", outputs),
        "partners": _frame("partners", partners),
        "funding_sources": _frame("funding_sources", funding),
        "highly_cited": _frame("highly_cited", hcp),
    }
    return from_frames(frames, _study(focal), NAMES, {"china": 100, "pairs": 50})


def test_trend_sentence_chooses_the_verb_from_the_numbers() -> None:
    up = findings.trend_sentence("S", [("A", 0.10), ("B", 0.5), ("C", 0.40)], "share")
    down = findings.trend_sentence("S", [("A", 0.40), ("B", 0.5), ("C", 0.10)], "share")
    flat = findings.trend_sentence("S", [("A", 0.400), ("B", 0.1), ("C", 0.415)], "share")
    assert up == "S rose from 10.0% in A to 40.0% in C."
    assert down == "S fell from 40.0% in A to 10.0% in C."
    assert flat == "S stayed about the same: 40.0% in A and 41.5% in C."
    # Counts: a tenth of the first value is the threshold.
    assert findings.trend_sentence("N", [("A", 100), ("B", 109)], "count", "papers") == (
        "N stayed about the same: 100 papers in A and 109 papers in B."
    )
    assert findings.trend_sentence("N", [("A", 100), ("B", 111)], "count", "papers") == (
        "N rose from 100 papers in A to 111 papers in B."
    )


def test_trend_sentence_names_periods_without_a_denominator() -> None:
    gap = findings.trend_sentence("S", [("A", None), ("B", 0.2), ("C", 0.5)], "share")
    assert gap == ("S rose from 20.0% in B to 50.0% in C (no value for A: nothing to divide by).")
    one = findings.trend_sentence("S", [("A", None), ("B", 0.25)], "share")
    assert one == (
        "S was 25.0% in B, the only period with a value (no value for A: nothing to divide by)."
    )
    assert findings.trend_sentence("S", [("A", None)], "share") == (
        "S: no value in any period (no value for A: nothing to divide by)."
    )


def test_findings_differ_with_the_tables() -> None:
    rising = findings_paragraphs(_frames([(10, 2, 8), (20, 8, 12), (40, 30, 10)]))
    falling = findings_paragraphs(_frames([(40, 30, 10), (20, 8, 12), (11, 2, 9)]))
    assert rising != falling
    assert (
        "The share of China-led papers among China–United Kingdom papers rose from 20.0% in P1 "
        "to 75.0% in P3." in rising
    )
    assert (
        "The share of China-led papers among China–United Kingdom papers fell from 75.0% in P1 "
        "to 18.2% in P3." in falling
    )
    assert (
        "The number of China–United Kingdom papers (dataset pairs) rose from 10 papers in P1 to "
        "40 papers in P3." in rising
    )
    assert "The number of China-participated papers (dataset china) fell from 80 papers" in (
        " ".join(falling)
    )
    # The partner sentence names whoever ranks first in the last period.
    assert any("most frequent partner country in P3 was United Kingdom" in s for s in rising)
    assert any("most frequent partner country in P3 was United States" in s for s in falling)
    assert "3 of the 70 China–United Kingdom papers (4.3%) are highly cited." in rising


def test_findings_with_a_zero_denominator_and_one_focal_country() -> None:
    # No pair paper in P1: its shares have nothing to divide by; the sentence says so.
    gap = findings_paragraphs(_frames([(0, 0, 0), (20, 8, 12), (40, 30, 10)]))
    assert (
        "The share of China-led papers among China–United Kingdom papers rose from 40.0% in P2 "
        "to 75.0% in P3 (no value for P1: nothing to divide by)." in gap
    )
    single = findings_paragraphs(_frames([(10, 2, 8), (20, 8, 12), (40, 30, 10)], ("CHN",)))
    assert not any("United Kingdom papers" in s for s in single)
    assert (
        "The share of China-led papers among China's internationally collaborated papers rose "
        "from 20.0% in P1 to 75.0% in P3." in single
    )


def test_one_paper_is_singular() -> None:
    assert findings.trend_sentence("N", [("A", 1), ("B", 19)], "count", "papers") == (
        "N rose from 1 paper in A to 19 papers in B."
    )
