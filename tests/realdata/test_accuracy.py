"""Normalisation against the labelled set in tests/data/accuracy (see its README.md): the
issue's targets, on strings people labelled by reading them. bench/accuracy.py prints the
per-country and per-institution tables and every error."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import polars as pl
import pytest

from collabscope.normalise import evaluation as ev
from tests.conftest import PROJECT, REALDATA

sys.path.insert(0, str(PROJECT / "bench"))
import accuracy

pytestmark = pytest.mark.realdata


@cache
def judged() -> dict[str, pl.DataFrame]:
    return accuracy.evaluate(REALDATA, accuracy.LABELS)


def test_the_label_set_is_as_large_as_the_issue_asks(realdata: Path) -> None:
    sets = accuracy.load_all()
    assert sets["countries"].height >= 1000
    assert sets["institutions"].height >= 500
    assert sets["funders"].height >= 300
    assert sorted(sets["institutions"]["set"].unique()) == ["chn", "gbr"]


def test_countries_are_never_wrong_and_always_found_where_the_address_says(realdata: Path) -> None:
    countries = judged()["countries"]
    written = countries.filter(pl.col("basis").is_in(["element", "state", "none"]))
    assert written.height >= 1000
    assert written["is_correct"].all(), written.filter(~pl.col("is_correct"))
    # Only world knowledge places the rest ('Universidad de Lima'): flagged, never guessed.
    known_only = countries.filter(pl.col("basis") == "knowledge")
    assert (known_only["country_recorded"] == ev.NONE).all()


@pytest.mark.parametrize("country", ["gbr", "chn"])
def test_institutions_precision_and_recall(realdata: Path, country: str) -> None:
    rows = judged()["institutions"].filter(pl.col("set") == country)
    scores = ev.scores(rows, "institution_id")
    assert scores.precision >= 0.98, scores
    # Recall over the strings that name their institution: a key laboratory written without
    # its host (the annotator's 'unsure', read from the paper's other addresses) cannot be.
    sure = ev.scores(rows.filter(pl.col("basis") == "sure"), "institution_id")
    assert sure.recall >= 0.95, sure


def test_funders_precision(realdata: Path) -> None:
    scores = ev.scores(judged()["funders"], "funder_id")
    assert scores.precision >= 0.98, scores
    assert scores.correct >= 70  # about half of the funders the registry knows are found
