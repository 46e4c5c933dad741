"""Config checking with messages a user can act on.

Snakemake's own ``validate`` names the offending key but prints the whole schema around it;
this check runs first and says, in one line per problem, where the problem is and what was
probably meant.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml


def load_schema(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def config_problems(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Every schema violation as 'where: what', with a suggestion for misspelt keys."""
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.path))):
        where = ".".join(str(p) for p in error.absolute_path) or "top level"
        if error.validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            extra = sorted(set(error.instance) - set(allowed))
            for key in extra:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                known = ", ".join(allowed)
                problems.append(f"config {where}: unknown key {key!r}{hint}; known keys: {known}")
        else:
            problems.append(f"config {where}: {error.message}")
    if not problems:
        problems.extend(_period_problems(config.get("study", {}).get("periods", [])))
    return problems


def _period_problems(periods: list[Mapping[str, Any]]) -> list[str]:
    """What the schema cannot say: a period runs forwards, and no year is in two periods."""
    problems = []
    for index, period in enumerate(periods):
        if period["first"] > period["last"]:
            problems.append(
                f"config study.periods.{index}: {period['label']!r} ends ({period['last']}) "
                f"before it starts ({period['first']})"
            )
    ordered = sorted(periods, key=lambda period: period["first"])
    for earlier, later in itertools.pairwise(ordered):
        if later["first"] <= earlier["last"]:
            problems.append(
                f"config study.periods: {earlier['label']!r} and {later['label']!r} overlap "
                f"(a year may be in one period only)"
            )
    labels = [period["label"] for period in periods]
    for label in sorted({label for label in labels if labels.count(label) > 1}):
        problems.append(f"config study.periods: the label {label!r} is used twice")
    return problems
