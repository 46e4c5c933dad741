"""Scoring normalisation against a label set (collabscope.normalise.evaluation)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from collabscope.errors import UserInputError
from collabscope.normalise import evaluation as ev

HEADER = "key\tfile\trecord_id\tposition\tdrawn\tlabel\tbasis\tnote\n"


def labels(*rows: tuple[str, str, str]) -> pl.DataFrame:
    """(text, label, basis) rows drawn from file f, record R<i>, position 1."""
    return pl.DataFrame(
        {
            "key": [ev.text_key(t) for t, _, _ in rows],
            "file": ["f"] * len(rows),
            "record_id": [f"R{i}" for i in range(len(rows))],
            "position": [1] * len(rows),
            "drawn": ["uniform"] * len(rows),
            "label": [label for _, label, _ in rows],
            "basis": [basis for _, _, basis in rows],
            "note": [""] * len(rows),
        }
    )


def test_text_key_is_the_sha1_prefix() -> None:
    assert ev.text_key("") == "da39a3ee5e6b4b0d"
    assert ev.text_key("Univ Oxford, Oxford, England") != ev.text_key("Univ Oxford, Oxford")


def test_label_files_are_checked(tmp_path: Path) -> None:
    good = tmp_path / "good.tsv"
    good.write_text(HEADER + "k1\tf\tR1\t2\tuniform\tGBR-ENG\telement\t\n", encoding="utf-8")
    frame = ev.load_labels(good)
    assert frame.row(0) == ("k1", "f", "R1", 2, "uniform", "GBR-ENG", "element", "")
    for body, problem in (
        ("key\tlabel\nk1\tGBR\n", "missing columns file, record_id, position, drawn, basis, note"),
        (
            HEADER + "k1\tf\tR1\t1\tu\tGBR\te\t\nk1\tf\tR2\t1\tu\tCHN\te\t\n",
            "key k1 is labelled twice",
        ),
        (HEADER + "k1\tf\tR1\t1\tu\t\te\t\n", "line 2: empty label"),
    ):
        bad = tmp_path / "bad.tsv"
        bad.write_text(body, encoding="utf-8")
        with pytest.raises(UserInputError, match=problem):
            ev.load_labels(bad)


def test_predictions_are_attached_by_file_record_and_key_and_lost_strings_are_an_error() -> None:
    rows = labels(("Univ Oxford, Oxford, England", "gbr-oxford", "sure"))
    located = pl.DataFrame(
        {
            "file": ["f", "f"],
            "record_id": ["R0", "R0"],
            "address_pos": [1, 2],
            "key": [ev.text_key("Univ Oxford, Oxford, England"), ev.text_key("other")],
            "institution_id": ["gbr-oxford", None],
        }
    )
    found = ev.attach_predictions(rows, located, "address_pos", ["institution_id"])
    assert found["institution_id"].to_list() == ["gbr-oxford"]
    with pytest.raises(UserInputError, match="1 labelled strings are not in the exports"):
        ev.attach_predictions(rows, located.filter(pl.col("address_pos") == 2), "address_pos", [])


def test_scores_count_registry_other_none_and_ambiguous_labels() -> None:
    rows = labels(
        ("a", "gbr-oxford", "sure"),  # right
        ("b", "gbr-oxford", "sure"),  # missed
        ("c", "gbr-ucl", "sure"),  # wrong id
        ("d", "OTHER: Royal Free Hospital", "sure"),  # matched though not in the registry
        ("e", "OTHER: Guy's Hospital", "sure"),  # rightly unmatched
        ("f", "NONE", "sure"),
        ("g", "AMBIGUOUS: usa-nsf|chn-nsfc", "context"),  # either is right
    ).with_columns(
        predicted=pl.Series(["gbr-oxford", None, "gbr-kcl", "gbr-ucl", None, None, "chn-nsfc"])
    )
    judged = ev.judged(rows, "predicted")
    assert judged["is_correct"].to_list() == [True, False, False, False, False, False, True]
    scores = ev.scores(judged, "predicted")
    assert (scores.labelled, scores.knowable, scores.matched, scores.correct, scores.nameable) == (
        7, 4, 4, 2, 6,
    )  # fmt: skip
    assert (scores.precision, scores.recall, scores.coverage) == (0.5, 0.5, 2 / 6)
    table = {r["id"]: r for r in ev.per_label(judged, "predicted").to_dicts()}
    assert (table["gbr-oxford"]["support"], table["gbr-oxford"]["recall"]) == (2, 0.5)
    assert (table["gbr-ucl"]["predicted"], table["gbr-ucl"]["precision"]) == (1, 0.0)
    assert table["usa-nsf"]["support"] == 1 and table["chn-nsfc"]["correct"] == 1


def test_countries_judge_none_as_a_class() -> None:
    rows = labels(("x", "NONE", "none"), ("y", "PER", "knowledge"), ("z", "GBR-SCT", "element"))
    rows = rows.with_columns(country_recorded=pl.Series([None, None, "GBR-SCT"], dtype=pl.String))
    judged = ev.country_predictions(rows)
    assert judged["is_correct"].to_list() == [True, False, True]
    assert ev.scores(judged, "country_recorded").precision == 2 / 3


def test_other_labels_accept_the_row_the_registry_added_since(tmp_path: Path) -> None:
    since = tmp_path / "registered_since.tsv"
    since.write_text("other\tinstitution_id\tnote\nOTHER: Natural History Museum\tgbr-nhm\t\n")
    mapping = ev.load_registered_since(since)
    rows = labels(
        ("a", "OTHER: Natural History Museum", "sure"),
        ("b", "OTHER: Guy's Hospital", "sure"),
    ).with_columns(predicted=pl.Series(["gbr-nhm", "gbr-gstt"]))
    judged = ev.judged(rows, "predicted", registered_since=mapping)
    assert judged["is_correct"].to_list() == [True, False]
    assert judged["is_knowable"].to_list() == [True, False]
    since.write_text("other\tinstitution_id\nNatural History Museum\tgbr-nhm\n")
    with pytest.raises(UserInputError, match="is not an OTHER label"):
        ev.load_registered_since(since)
