"""Works across sources: matching, grouping, precedence, provenance and accounting."""

from __future__ import annotations

import polars as pl

from collabscope import schemas
from collabscope.merge import match_records, merge_works

ORDER = ["wos", "scopus", "openalex", "cssci"]
TITLE = "Teacher education in China and England: a comparison"


def _records(rows: list[dict]) -> pl.LazyFrame:
    defaults = {
        "doi": None,
        "year": 2019,
        "title": TITLE,
        "extra_fields": [],
        "n_authors": 1,
        "n_addresses": 1,
        "n_references_parsed": 1,
        "times_cited": 1,
    }
    full = [{**defaults, **row, "source_file": f"{row['source']}.txt"} for row in rows]
    frame = pl.DataFrame(full).with_columns(
        pl.col("extra_fields").cast(pl.List(schemas.EXTRA_FIELD))
    )
    missing = [c for c in schemas.RECORDS.schema.names() if c not in frame.columns]
    frame = frame.with_columns([pl.lit(None).alias(c) for c in missing])
    return schemas.conform(frame, schemas.RECORDS).lazy()


def _authors(names: dict[str, str]) -> pl.LazyFrame:
    frame = pl.DataFrame(
        {"record_id": list(names), "position": [1] * len(names), "name": list(names.values())}
    )
    missing = [c for c in schemas.AUTHORSHIPS.schema.names() if c not in frame.columns]
    return schemas.conform(
        frame.with_columns([pl.lit(None).alias(c) for c in missing]), schemas.AUTHORSHIPS
    ).lazy()


def _funding(ids: list[str]) -> pl.LazyFrame:
    frame = pl.DataFrame({"record_id": ids, "funder_pos": [1] * len(ids)})
    missing = [c for c in schemas.FUNDING.schema.names() if c not in frame.columns]
    return schemas.conform(
        frame.with_columns([pl.lit(None).alias(c) for c in missing]), schemas.FUNDING
    ).lazy()


RECORDS = [
    # WoS and Scopus share a DOI written differently cased upstream (already normalised).
    {"record_id": "WOS:1", "source": "wos", "doi": "10.1/a", "n_addresses": 2},
    {"record_id": "2-s2.0-1", "source": "scopus", "doi": "10.1/a"},
    # OpenAlex without DOI: same title (other case and punctuation), year and surname.
    {
        "record_id": "W1",
        "source": "openalex",
        "title": "TEACHER EDUCATION IN CHINA AND ENGLAND - A COMPARISON",
    },
    # CSSCI: Chinese title, English title equal, same year.
    {
        "record_id": "CSSCI:1",
        "source": "cssci",
        "title": "中英教师教育比较",
        "extra_fields": [{"tag": "ET", "value": TITLE}],
    },
    # Same title and first author, another year: another paper.
    {"record_id": "WOS:2", "source": "wos", "doi": "10.1/b", "year": 2018},
    # A short generic title never matches by title.
    {"record_id": "WOS:3", "source": "wos", "title": "Editorial", "year": 2020},
    {"record_id": "2-s2.0-3", "source": "scopus", "title": "Editorial", "year": 2020},
    # A DOI on the wrong record (a preface holding an article's DOI) does not join them.
    {
        "record_id": "WOS:4",
        "source": "wos",
        "doi": "10.1/c",
        "title": "Preface: special issue on data science education",
    },
    {
        "record_id": "2-s2.0-4",
        "source": "scopus",
        "doi": "10.1/c",
        "title": "Evaluation of a competency framework in statistics courses",
    },
]
AUTHORS = {
    "WOS:1": "Li, X",
    "2-s2.0-1": "Li, X.",
    "W1": "Li, X",
    "CSSCI:1": "李晓明",
    "WOS:2": "Li, X",
    "WOS:3": "Wang, L",
    "2-s2.0-3": "Wang, L.",
    "WOS:4": "Chen, Y",
    "2-s2.0-4": "Chen, Y.",
}


def test_matches() -> None:
    pairs = match_records(_records(RECORDS), _authors(AUTHORS)).sort("record_id", "other_id")
    assert pairs.rows() == [
        ("2-s2.0-1", "CSSCI:1", "english_title_year"),
        ("2-s2.0-1", "W1", "title_year_author"),
        ("2-s2.0-1", "WOS:1", "doi"),
        ("CSSCI:1", "W1", "english_title_year"),
        ("CSSCI:1", "WOS:1", "english_title_year"),
        ("W1", "WOS:1", "title_year_author"),
    ]


def test_a_double_surname_written_in_part_still_matches() -> None:
    records = [
        {
            "record_id": "WOS:5",
            "source": "wos",
            "title": "Waking up to marginalization in data science",
        },
        {
            "record_id": "2-s2.0-5",
            "source": "scopus",
            "title": "Waking up to Marginalization in Data Science",
        },
        {"record_id": "WOS:6", "source": "wos", "title": "Equity in statistics education research"},
        {
            "record_id": "2-s2.0-6",
            "source": "scopus",
            "title": "Equity in Statistics Education Research",
        },
    ]
    authors = {
        "WOS:5": "Monroe-White, T",
        "2-s2.0-5": "White, T.M.",
        "WOS:6": "Contreras Palacios, H",
        "2-s2.0-6": "Contreras, H.",
    }
    pairs = match_records(_records(records), _authors(authors)).sort("record_id")
    assert pairs.rows() == [
        ("2-s2.0-5", "WOS:5", "title_year_author"),
        ("2-s2.0-6", "WOS:6", "title_year_author"),
    ]


def test_same_title_and_year_other_first_author_is_another_paper() -> None:
    records = [
        *RECORDS[:4],
        {"record_id": "WOS:9", "source": "wos", "doi": "10.1/z"},
    ]
    pairs = match_records(_records(records), _authors({**AUTHORS, "WOS:9": "Smith, J"}))
    assert "WOS:9" not in set(pairs["record_id"]) | set(pairs["other_id"])
    # and the CSSCI English title now fits two first authors: no bilingual match at all
    assert "english_title_year" not in set(pairs["method"])


def test_works_precedence_and_accounting() -> None:
    out = merge_works(
        _records(RECORDS),
        _authors(AUTHORS),
        _funding(["2-s2.0-1", "WOS:2"]),
        ORDER,
        {"funding": ["scopus", "wos", "openalex", "cssci"], "addresses": ["wos", "scopus"]},
    )
    record_works = out["record_works"].sort("record_id")
    work = dict(record_works.select("record_id", "work_id").rows())
    assert {work[r] for r in ("WOS:1", "2-s2.0-1", "W1", "CSSCI:1")} == {"WOS:1"}
    assert len({work[r] for r in ("WOS:2", "WOS:3", "2-s2.0-3", "WOS:4", "2-s2.0-4")}) == 5
    assert dict(record_works.select("record_id", "match").rows())["CSSCI:1"] == (
        "english_title_year"
    )
    works = out["works"].filter(pl.col("work_id") == "WOS:1").row(0, named=True)
    assert works["sources"] == ["cssci", "openalex", "scopus", "wos"]
    assert works["n_records"] == 4 and works["cross_source"]
    fields = dict(
        out["work_fields"].filter(pl.col("work_id") == "WOS:1").select("field", "record_id").rows()
    )
    assert fields == {
        "bibliographic": "WOS:1",
        "authors": "WOS:1",
        "addresses": "WOS:1",
        "funding": "2-s2.0-1",  # Scopus first for funders
        "references": "WOS:1",
        "citations": "WOS:1",
    }
    accounting = out["merge_accounting"].sort("file")
    assert accounting.select("file", "parsed", "matched", "merged").rows() == [
        ("cssci.txt", 1, 1, 1),
        ("openalex.txt", 1, 1, 1),
        ("scopus.txt", 3, 1, 1),
        ("wos.txt", 4, 1, 0),
    ]


def test_primary_follows_the_source_order() -> None:
    out = merge_works(_records(RECORDS[:2]), _authors(AUTHORS), _funding([]), ["scopus", "wos"], {})
    assert set(out["record_works"]["work_id"]) == {"2-s2.0-1"}
    assert out["work_fields"].filter(pl.col("field") == "funding").height == 0


def test_records_of_one_source_are_never_matched() -> None:
    # Two WoS papers with one title, year, first author and even DOI (a WoS preface holding
    # its issue's article DOI): the UT is WoS's identity, so they stay two papers.
    title = "Teacher education in China and England: a comparison"
    records = [
        {"record_id": "WOS:7", "source": "wos", "title": title, "doi": "10.1/q"},
        {"record_id": "WOS:8", "source": "wos", "title": title, "doi": "10.1/q"},
    ]
    authors = {"WOS:7": "Li, Y", "WOS:8": "Li, Y"}
    assert match_records(_records(records), _authors(authors)).height == 0
    out = merge_works(_records(records), _authors(authors), _funding([]), ["wos", "scopus"], {})
    assert out["record_works"].filter(pl.col("work_id") != pl.col("record_id")).height == 0


def test_a_record_matching_two_of_one_source_matches_neither() -> None:
    # A Scopus record with the title, year and author of two WoS papers would join both into
    # one work through it: ambiguous, no match. The unambiguous OpenAlex pair still matches.
    title = "Teacher education in China and England: a comparison"
    records = [
        {"record_id": "WOS:7", "source": "wos", "title": title},
        {"record_id": "WOS:8", "source": "wos", "title": title},
        {"record_id": "2-s2.0-7", "source": "scopus", "title": title},
        {"record_id": "W7", "source": "openalex", "title": "Another paper on school leadership"},
        {"record_id": "WOS:9", "source": "wos", "title": "Another paper on school leadership"},
    ]
    authors = {r["record_id"]: "Li, Y" for r in records}
    pairs = match_records(_records(records), _authors(authors))
    assert pairs.rows() == [("W7", "WOS:9", "title_year_author")]
