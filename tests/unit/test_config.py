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
        "config top level: unknown key 'prase' (did you mean 'parse'?); known keys: datasets, "
        "normalise, parse, study",
        "config datasets.x: unknown key 'querry' (did you mean 'query'?); known keys: "
        "description, exports, query",
    ]


def test_wrong_types_and_missing_values_are_reported() -> None:
    problems = config_problems({"datasets": {"x": {"exports": []}}, "parse": {"shards": 0}}, SCHEMA)
    assert any(p.startswith("config datasets.x.exports:") for p in problems)
    assert any(p.startswith("config parse.shards: 0 is less than the minimum") for p in problems)
