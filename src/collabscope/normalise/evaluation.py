"""Accuracy of normalisation against a labelled set of real strings.

A label set is three TSV files (countries, institutions, funders). Each row names one string by
the SHA-1 of its text (`key`, 16 hex digits) and where it was drawn from (`file`, `record_id`,
`position`), and gives the label a person assigned by reading it; the strings themselves are not
stored, so a set built from third-party exports holds none of their text. `evaluate` parses the
export files, finds each labelled string by its key, runs the normalisation stage on the parsed
tables exactly as the workflow does, and scores the result:

- countries: per recorded country (UK nations, HKG, MAC, TWN apart), precision and recall;
  `NONE` labels are correct when no country is given.
- institutions: precision (of the matches made, how many are right) and recall against the
  strings whose institution is in the registry, plus coverage (recall against every string
  whose institution a reader could name, registry or not).
- funders: precision and recall; `AMBIGUOUS: a|b` accepts either id.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from collabscope import schemas
from collabscope.errors import UserInputError
from collabscope.normalise.stage import normalise_addresses, normalise_funding
from collabscope.parse.shard import parse_files
from collabscope.tableio import scan_table, write_table

LABEL_COLUMNS = ("key", "file", "record_id", "position", "drawn", "label", "basis", "note")
NONE = "NONE"
OTHER = "OTHER:"
AMBIGUOUS = "AMBIGUOUS:"


def text_key(text: str) -> str:
    """The key a label set uses for a string: its SHA-1, 16 hex digits."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _read_tsv(path: str | Path, columns: Sequence[str]) -> pl.DataFrame:
    """A tab-separated file of strings (no quoting) that must have ``columns``."""
    frame = pl.read_csv(path, separator="\t", quote_char=None, infer_schema=False)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UserInputError(str(path), f"missing columns {', '.join(missing)}")
    return frame


def load_labels(path: str | Path) -> pl.DataFrame:
    """A label file, checked: the columns of LABEL_COLUMNS, one row per key, no empty label."""
    path = Path(path)
    frame = (
        _read_tsv(path, LABEL_COLUMNS)
        .select(LABEL_COLUMNS)
        .with_columns(pl.col(pl.String).fill_null(""))
        .with_columns(pl.col("position").cast(pl.Int64))
    )
    repeated = frame.filter(pl.col("key").is_duplicated())["key"].unique().sort()
    if len(repeated):
        raise UserInputError(str(path), f"key {repeated[0]} is labelled twice")
    empty = frame.with_row_index("line", 2).filter(pl.col("label").str.strip_chars() == "")
    if empty.height:
        raise UserInputError(str(path), "empty label", int(empty["line"][0]))
    return frame


@dataclass(frozen=True)
class Located:
    """The parsed tables of the labelled export files, normalised as the workflow does."""

    addresses: pl.DataFrame  # ADDRESSES_NORMALISED + key
    funding: pl.DataFrame  # FUNDING_NORMALISED + key


def normalise_exports(
    files: Mapping[str, str | Path],
    resources: str | Path,
    country_policy: dict[str, str] | None = None,
) -> Located:
    """Parse each export file ({name: path}) on its own and run the normalisation stage over
    all of them with the bundled resources. A record exported in two files may read differently
    in each (one real pair has 'dummy' addresses in one file), so records are kept per file:
    the located tables carry `file` (the name given) and the source's record_id."""
    resources = Path(resources)
    tables: dict[str, list[pl.DataFrame]] = {"addresses": [], "funding": []}
    names = sorted(files)
    for index, name in enumerate(names):
        parsed = parse_files({str(files[name]): ["evaluation"]})
        for table in tables:
            tables[table].append(
                parsed[table].with_columns(
                    pl.format("{}|{}", pl.lit(index), "record_id").alias("record_id")
                )
            )
    policy = country_policy or {"uk_nations": "separate", "hong_kong_macau_taiwan": "separate"}
    with tempfile.TemporaryDirectory(prefix="collabscope-evaluation-") as scratch:
        work = Path(scratch)
        for table in (schemas.ADDRESSES, schemas.FUNDING):
            write_table(pl.concat(tables[table.name]), table, work / f"{table.name}.parquet")
        normalise_addresses(
            work / "addresses.parquet",
            resources / "countries",
            policy,
            [resources / "institutions" / "institutions.csv"],
            [resources / "institutions" / "tiers.csv"],
            None,
            None,
            90,
            {
                "addresses": work / "addresses_normalised.parts.json",
                "unmatched": work / "unmatched.csv",
                "low_confidence": work / "low_confidence.csv",
            },
            work / "store",
        )
        normalise_funding(
            work / "funding.parquet",
            work / "addresses_normalised.parts.json",
            [resources / "funders" / "funders.csv"],
            work / "funding_normalised.parts.json",
            work / "funders.csv",
            work / "funding_store",
        )
        addresses = scan_table(
            work / "addresses_normalised.parts.json", schemas.ADDRESSES_NORMALISED
        ).collect()
        funding = scan_table(
            work / "funding_normalised.parts.json", schemas.FUNDING_NORMALISED
        ).collect()
    return Located(
        addresses=_per_file(_with_keys(addresses, "raw"), names),
        funding=_per_file(_with_keys(funding, "funder_raw"), names),
    )


def _per_file(frame: pl.DataFrame, names: Sequence[str]) -> pl.DataFrame:
    parts = pl.col("record_id").str.split_exact("|", 1)
    return frame.with_columns(
        file=parts.struct[0].cast(pl.Int64).replace_strict(range(len(names)), names),
        record_id=parts.struct[1],
    )


def _with_keys(frame: pl.DataFrame, text: str) -> pl.DataFrame:
    texts = frame.select(pl.col(text).unique().drop_nulls())
    keys = texts.with_columns(key=pl.col(text).map_elements(text_key, return_dtype=pl.String))
    return frame.join(keys, on=text, how="left")


def attach_predictions(
    labels: pl.DataFrame, located: pl.DataFrame, position: str, predicted: Sequence[str]
) -> pl.DataFrame:
    """Each label row with the predictions made for its string at the place it was drawn
    from. A row whose string is not there (the export changed, or a wrong key) is an error:
    a label set that silently shrinks would flatter the scores."""
    on = ["file", "record_id", "key"]
    there = (
        located.sort("file", "record_id", position)
        .unique(on, keep="first", maintain_order=True)
        .select(*on, *predicted)
    )
    found = labels.join(there, on=on, how="left", maintain_order="left")
    lost = labels.join(there, on=on, how="anti")
    if lost.height:
        row = lost.row(0, named=True)
        raise UserInputError(
            row["file"],
            f"{lost.height} labelled strings are not in the exports, e.g. key {row['key']} "
            f"({row['record_id']}, position {row['position']}): the export or the parser changed",
        )
    return found


def load_registered_since(path: str | Path) -> dict[str, str]:
    """{'OTHER: <name>': registry id} for institutions or funders the registry added after the
    strings were labelled: the annotator named them, and a person checked that the new row is
    the one named (a hospital counts as the NHS trust that runs it)."""
    frame = _read_tsv(path, ("other", "institution_id"))
    bad = frame.filter(~pl.col("other").str.starts_with(OTHER))
    if bad.height:
        raise UserInputError(str(path), f"{bad['other'][0]!r} is not an OTHER label")
    return dict(zip(frame["other"], frame["institution_id"], strict=True))


def accepted_ids(label: pl.Expr, registered_since: Mapping[str, str] | None = None) -> pl.Expr:
    """The predictions a label accepts: its id, either id of an AMBIGUOUS label, none for an
    OTHER or NONE label (no registry id is right there) unless the registry has added the
    institution the OTHER label names since (``registered_since``)."""
    since = label.replace_strict(dict(registered_since or {}), default=None, return_dtype=pl.String)
    return (
        pl.when(since.is_not_null())
        .then(pl.concat_list(since))
        .when(label.str.starts_with(AMBIGUOUS))
        .then(
            label.str.strip_prefix(AMBIGUOUS)
            .str.split("|")
            .list.eval(pl.element().str.strip_chars())
        )
        .when(label.str.starts_with(OTHER) | (label == NONE))
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(pl.concat_list(label))
    )


@dataclass(frozen=True)
class Scores:
    """Precision and recall of one kind of match over one label set."""

    labelled: int  # rows in the set
    knowable: int  # rows whose label is a registry id (or, for countries, any label)
    matched: int  # rows given a prediction
    correct: int  # predictions the label accepts
    nameable: int  # rows whose label names something (registry or OTHER), for coverage

    @property
    def precision(self) -> float:
        return self.correct / self.matched if self.matched else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.knowable if self.knowable else 1.0

    @property
    def coverage(self) -> float:
        return self.correct / self.nameable if self.nameable else 1.0


def judged(
    found: pl.DataFrame,
    predicted: str,
    *,
    none_is_a_class: bool = False,
    registered_since: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """The label rows with `accepted`, `is_correct` (the prediction is accepted) and
    `is_knowable` (some id is right). With `none_is_a_class` (countries), NONE is a label like
    any other and the prediction NONE is right for it."""
    accepted = accepted_ids(pl.col("label"), registered_since)
    if none_is_a_class:
        accepted = pl.when(pl.col("label") == NONE).then(pl.lit([NONE])).otherwise(accepted)
    return found.with_columns(accepted=accepted).with_columns(
        is_correct=pl.col(predicted).is_not_null()
        & pl.col("accepted").list.contains(pl.col(predicted)),
        is_knowable=pl.col("accepted").list.len() > 0,
        is_nameable=pl.col("label") != NONE,
    )


def scores(judged_rows: pl.DataFrame, predicted: str) -> Scores:
    return Scores(
        labelled=judged_rows.height,
        knowable=int(judged_rows["is_knowable"].sum()),
        matched=int(judged_rows[predicted].is_not_null().sum()),
        correct=int(judged_rows["is_correct"].sum()),
        nameable=int(judged_rows["is_nameable"].sum()),
    )


def per_label(judged_rows: pl.DataFrame, predicted: str) -> pl.DataFrame:
    """Precision and recall per id (country, institution or funder): support is the rows
    labelled with it, predicted the rows given it, correct the rows given it rightly."""
    support = (
        judged_rows.filter(pl.col("is_knowable"))
        .explode("accepted")
        .group_by(pl.col("accepted").alias("id"))
        .agg(support=pl.len(), found=pl.col("is_correct").sum())
    )
    given = (
        judged_rows.filter(pl.col(predicted).is_not_null())
        .group_by(pl.col(predicted).alias("id"))
        .agg(predicted=pl.len(), correct=pl.col("is_correct").sum())
    )
    return (
        support.join(given, on="id", how="full", coalesce=True)
        .with_columns(
            pl.col("support", "found", "predicted", "correct").fill_null(0).cast(pl.Int64)
        )
        .with_columns(
            precision=pl.when(pl.col("predicted") > 0).then(
                pl.col("correct") / pl.col("predicted")
            ),
            recall=pl.when(pl.col("support") > 0).then(pl.col("found") / pl.col("support")),
        )
        .select("id", "support", "predicted", "correct", "precision", "recall")
        .sort("support", "id", descending=[True, False])
    )


def country_predictions(found: pl.DataFrame) -> pl.DataFrame:
    """Countries are judged with NONE as a class of its own: an address no reader can place is
    right to get no country."""
    return judged(
        found.with_columns(pl.col("country_recorded").fill_null(NONE)),
        "country_recorded",
        none_is_a_class=True,
    )
