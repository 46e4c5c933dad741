"""The "summary of quantitative findings": sentences written from the indicator numbers.

Nothing here is fixed text about the study: every sentence is built from a series of
(period, value) pairs, and the verb (rose, fell, stayed about the same) is chosen by comparing
the first and last period that have a value. A share that moves by less than
:data:`STABLE_POINTS` percentage points, or a count that moves by less than
:data:`STABLE_RELATIVE` of its first value, "stayed about the same". A period whose
denominator is zero has no value and is named as such; a series with no value says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

STABLE_POINTS = 2.0  # percentage points
STABLE_RELATIVE = 0.10  # a tenth of the first period's count

Kind = Literal["share", "count"]


def _value(value: float, kind: Kind, unit: str = "") -> str:
    if kind == "share":
        return f"{100 * value:.1f}%"
    if unit.endswith("s") and round(value) == 1:
        unit = unit[:-1]  # 1 paper
    return f"{value:,.0f}{' ' + unit if unit else ''}"


def direction(first: float, last: float, kind: Kind) -> str:
    """rose, fell or stayed about the same, by the stated thresholds."""
    if kind == "share":
        moved = 100 * (last - first)
        if abs(moved) < STABLE_POINTS:
            return "stayed about the same"
    else:
        threshold = STABLE_RELATIVE * abs(first)
        moved = last - first
        if abs(moved) < threshold or moved == 0:
            return "stayed about the same"
    return "rose" if moved > 0 else "fell"


def trend_sentence(
    subject: str, series: Sequence[tuple[str, float | None]], kind: Kind, unit: str = ""
) -> str:
    """One sentence on how ``subject`` moved from its first to its last period with a value.

    ``series`` is (period label, value or None when the period has no denominator), in period
    order; ``unit`` follows a count ("papers")."""
    present = [(label, v) for label, v in series if v is not None]
    missing = [label for label, v in series if v is None]
    why = "nothing to divide by" if kind == "share" else "no papers counted"
    gap = f" (no value for {', '.join(missing)}: {why})" if missing else ""
    if not present:
        return f"{subject}: no value in any period{gap}."
    if len(present) == 1:
        label, value = present[0]
        shown = _value(value, kind, unit)
        return f"{subject} was {shown} in {label}, the only period with a value{gap}."
    (first_label, first), (last_label, last) = present[0], present[-1]
    verb = direction(first, last, kind)
    if verb == "stayed about the same":
        return (
            f"{subject} stayed about the same: {_value(first, kind, unit)} in {first_label} and "
            f"{_value(last, kind, unit)} in {last_label}{gap}."
        )
    return (
        f"{subject} {verb} from {_value(first, kind, unit)} in {first_label} to "
        f"{_value(last, kind, unit)} in {last_label}{gap}."
    )


def threshold_note() -> str:
    return (
        f"Each sentence compares the first and the last period with a value: a share moving "
        f"less than {STABLE_POINTS:g} percentage points, or a count moving less than "
        f"{100 * STABLE_RELATIVE:g}% of its first value, is said to have stayed about the same."
    )
