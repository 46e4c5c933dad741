from __future__ import annotations

from collabscope.config import config_problems, load_schema
from tests.conftest import PROJECT

SCHEMA = load_schema(PROJECT / "workflow" / "schemas" / "config.schema.yaml")


def test_minimal_config_is_valid() -> None:
    assert config_problems({"datasets": {"x": {"exports": ["e/*.txt"]}}}, SCHEMA) == []


def test_misspelt_keys_are_named_with_a_suggestion() -> None:
    problems = config_problems(
        {"datasets": {"x": {"exports": ["e"], "querry": "q"}}, "prase": {}}, SCHEMA
    )
    assert problems == [
        "config top level: unknown key 'prase' (did you mean 'parse'?); known keys: classify, "
        "datasets, merge, normalise, parse, qualitative, sampling, study",
        "config datasets.x: unknown key 'querry' (did you mean 'query'?); known keys: "
        "description, exports, query",
    ]


def test_wrong_types_and_missing_values_are_reported() -> None:
    problems = config_problems({"datasets": {"x": {"exports": []}}, "parse": {"shards": 0}}, SCHEMA)
    assert any(p.startswith("config datasets.x.exports:") for p in problems)
    assert any(p.startswith("config parse.shards: 0 is less than the minimum") for p in problems)


def _with_periods(*periods: tuple[str, int, int]) -> dict:
    return {
        "datasets": {"x": {"exports": ["e"]}},
        "study": {"periods": [{"label": name, "first": f, "last": t} for name, f, t in periods]},
    }


def test_periods_that_run_backwards_overlap_or_repeat_a_label_are_refused() -> None:
    assert config_problems(_with_periods(("a", 2001, 2005), ("b", 2006, 2010)), SCHEMA) == []
    assert config_problems(_with_periods(("a", 2005, 2001)), SCHEMA) == [
        "config study.periods.0: 'a' ends (2001) before it starts (2005)"
    ]
    assert config_problems(_with_periods(("a", 2001, 2006), ("b", 2006, 2010)), SCHEMA) == [
        "config study.periods: 'a' and 'b' overlap (a year may be in one period only)"
    ]
    assert config_problems(_with_periods(("a", 2001, 2002), ("a", 2003, 2004)), SCHEMA) == [
        "config study.periods: the label 'a' is used twice"
    ]


def test_focal_countries_are_one_or_two_iso3_codes() -> None:
    base = {"datasets": {"x": {"exports": ["e"]}}}
    assert config_problems({**base, "study": {"focal_countries": ["CHN"]}}, SCHEMA) == []
    for bad in ([], ["CHN", "GBR", "USA"], ["China"], ["CHN", "CHN"]):
        problems = config_problems({**base, "study": {"focal_countries": bad}}, SCHEMA)
        assert problems and problems[0].startswith("config study.focal_countries"), bad
