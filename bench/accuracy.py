"""Accuracy of normalisation on a labelled set of real strings (not part of the test suite;
tests/realdata/test_accuracy.py holds the targets).

The label set is tests/data/accuracy/: addresses labelled with their country and, for UK and
mainland-China addresses, their institution; funder names labelled with their funder. People
labelled them by reading each string (tests/data/accuracy/README.md says how they were drawn
and the rules used). The files keep only a hash of each string and where it came from; the
strings are read from the real exports in ../shared/realdata at run time.

    python bench/accuracy.py                # summary, per-country and per-institution tables
    python bench/accuracy.py --errors       # and every error, with its string
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import polars as pl

from collabscope.normalise import evaluation as ev

PROJECT = Path(__file__).resolve().parents[1]
REALDATA = PROJECT.parent / "shared" / "realdata"
LABELS = PROJECT / "tests" / "data" / "accuracy"


def load_all(labels: Path = LABELS) -> dict[str, pl.DataFrame]:
    """countries, institutions (with `set` = gbr or chn) and funders."""
    return {
        "countries": ev.load_labels(labels / "countries.tsv"),
        "institutions": pl.concat(
            ev.load_labels(labels / f"institutions_{code}.tsv").with_columns(set=pl.lit(code))
            for code in ("gbr", "chn")
        ),
        "funders": ev.load_labels(labels / "funders.tsv"),
    }


def evaluate(realdata: Path = REALDATA, labels: Path = LABELS) -> dict[str, pl.DataFrame]:
    """The judged rows of each label set (label, prediction, is_correct, ...)."""
    sets = load_all(labels)
    files = {name: realdata / name for frame in sets.values() for name in frame["file"].unique()}
    located = ev.normalise_exports(files, PROJECT / "resources")
    countries = ev.attach_predictions(
        sets["countries"], located.addresses, "address_pos", ["raw", "country_recorded"]
    )
    institutions = ev.attach_predictions(
        sets["institutions"],
        located.addresses,
        "address_pos",
        ["raw", "country_recorded", "institution_id", "institution_method"],
    )
    funders = ev.attach_predictions(
        sets["funders"], located.funding, "funder_pos", ["funder_raw", "funder_id", "funder_method"]
    )
    return {
        "countries": ev.country_predictions(countries),
        "institutions": ev.judged(
            institutions,
            "institution_id",
            registered_since=ev.load_registered_since(labels / "registered_since.tsv"),
        ),
        "funders": ev.judged(funders, "funder_id"),
    }


def _line(name: str, s: ev.Scores, coverage: bool = False) -> str:
    text = (
        f"{name:<28} labelled {s.labelled:>5}  knowable {s.knowable:>5}  matched {s.matched:>5}"
        f"  correct {s.correct:>5}  precision {s.precision:.4f}  recall {s.recall:.4f}"
    )
    return text + (f"  coverage {s.coverage:.4f}" if coverage else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="print every error")
    args = parser.parse_args()
    if not (REALDATA / "MANIFEST.tsv").is_file():
        sys.exit(f"bench/accuracy.py: the real exports are not at {REALDATA}")
    started = time.perf_counter()
    judged = evaluate()
    print(f"parsed and normalised the labelled exports in {time.perf_counter() - started:.1f} s\n")
    pl.Config.set_tbl_rows(400)
    pl.Config.set_fmt_str_lengths(90)
    pl.Config.set_tbl_width_chars(200)

    countries = judged["countries"]
    print(_line("countries", ev.scores(countries, "country_recorded")))
    for basis, rows in countries.group_by("basis", maintain_order=True):
        print(_line(f"  basis {basis[0]}", ev.scores(rows, "country_recorded")))
    print("\nper country (recorded; UK nations, HKG, MAC, TWN apart):")
    print(ev.per_label(countries, "country_recorded"))

    institutions = judged["institutions"]
    print()
    for code, rows in institutions.group_by("set", maintain_order=True):
        name = {"gbr": "institutions, UK", "chn": "institutions, mainland China"}[code[0]]
        print(_line(name, ev.scores(rows, "institution_id"), coverage=True))
    print("\nper institution:")
    print(ev.per_label(institutions, "institution_id"))

    funders = judged["funders"]
    print()
    print(_line("funders", ev.scores(funders, "funder_id"), coverage=True))
    for drawn, rows in funders.group_by("drawn", maintain_order=True):
        print(_line(f"  drawn {drawn[0]}", ev.scores(rows, "funder_id"), coverage=True))

    if args.errors:
        for name, predicted, text in (
            ("countries", "country_recorded", "raw"),
            ("institutions", "institution_id", "raw"),
            ("funders", "funder_id", "funder_raw"),
        ):
            rows = judged[name]
            wrong = rows.filter(
                ~pl.col("is_correct") & (pl.col(predicted).is_not_null() | pl.col("is_knowable"))
            )
            print(f"\n{name}: {wrong.height} errors (wrong match, or a knowable one missed)")
            print(wrong.select("key", "label", predicted, "basis", text))


if __name__ == "__main__":
    main()
