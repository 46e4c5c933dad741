"""The indicators as sums of per-shard partial counts: a new export file counts its own shard
(and the shards whose records it brings into another dataset) only, and the indicators equal
those of the whole corpus counted at once."""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl
import pytest

from collabscope import schemas
from collabscope.classify import indicators as ind
from collabscope.classify.stage import compute_indicators
from collabscope.tableio import scan_table, table_path, write_table
from tests.unit.test_classify_parts import _classify
from tests.unit.test_normalise_parts import _funding, _normalise, _tables

FOCAL = ["CHN", "GBR"]
PERIODS = [
    {"label": "2001–2005", "first": 2001, "last": 2005},
    {"label": "2006–2010", "first": 2006, "last": 2010},
]
SETTINGS = {
    "counting": "fractional",
    "top_n": 3,
    "citing": {},
    "field_dataset": "world",
    "hcp_method": "auto",
    "top_percent": 10.0,
    "reference_datasets": [],
}


def _export(path: Path, ids: range, countries: tuple[str, ...], funder: str | None) -> str:
    """A WoS export: record i has one author per country (the first leads), cited i times,
    acknowledging ``funder``; every third record is flagged highly cited (HC)."""
    lines = ["FN Clarivate Analytics Web of Science", "VR 1.0"]
    for i in ids:
        authors = [f"Author{i}x{k}, A" for k in range(len(countries))]
        lines += ["PT J", f"AU {authors[0]}", *[f"   {a}" for a in authors[1:]]]
        lines += [f"TI Record {i}"]
        for k, (author, country) in enumerate(zip(authors, countries, strict=True)):
            lines.append(
                f"{'C1' if k == 0 else '  '} [{author}] Univ {country} {k}, Town, {country}."
            )
        lines += [*([f"FU {funder}"] if funder else []), f"TC {i}"]
        lines += [*(["HC Y"] if i % 3 == 0 else []), "WC Education & Educational Research"]
        lines += [f"PY {2001 + i % 10}", f"UT WOS:{i:015d}", "ER", ""]
    lines.append("EF")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _study(run: Path, shards: list[dict[str, list[str]]]) -> dict[str, Path]:
    """Parse, combine, normalise and classify ``shards``; the indicators' input tables."""
    tables = _tables(run, shards, ("world", "education"))
    normalised = run / "normalised"
    _normalise(tables, normalised, run / "address_store")
    _funding(tables, normalised, run / "funding_store")
    _classify(tables, normalised, run / "classified", run / "class_store")
    paths = {
        t.name: table_path(tables, t)
        for t in (schemas.RECORDS, schemas.DATASETS, schemas.DATASET_RECORDS)
    }
    paths |= {t.name: table_path(tables, t) for t in (schemas.AUTHORSHIPS, schemas.REFERENCES)}
    paths |= {t.name: table_path(run / "classified", t) for t in schemas.CLASS_PART_TABLES}
    return paths | {"funding": normalised / "funding.parts.json"}


def _indicators(tables: dict[str, Path], out: Path, store: Path | None) -> dict[str, pl.DataFrame]:
    outputs = {
        "citation_links": out / "citation_links.parquet",
        "highly_cited_works": out / "highly_cited_works.parquet",
    }
    for table in schemas.INDICATORS:
        outputs[table.name] = out / f"{table.name}.parquet"
        outputs[f"{table.name}_csv"] = out / f"{table.name}.csv"
    compute_indicators(tables, FOCAL, PERIODS, SETTINGS, outputs, store)
    return {name: pl.read_parquet(path) for name, path in outputs.items() if "csv" not in name}


def _single_files(tables: dict[str, Path], folder: Path) -> dict[str, Path]:
    """The tables as one Parquet file each: compute_indicators counts them at once."""
    single = {}
    known = {t.name: t for t in (*schemas.CANONICAL_TABLES, *schemas.CLASS_PART_TABLES)}
    known["funding"] = schemas.FUNDING_NORMALISED
    for name, path in tables.items():
        single[name] = write_table(
            scan_table(path, known[name]), known[name], folder / f"{name}.parquet"
        )
    return single


def _assert_equal_to_the_whole(
    by_shard: dict[str, pl.DataFrame], tables: dict[str, Path], folder: Path
) -> None:
    """Every output equals the one counted from the tables as single files, at once."""
    whole = _indicators(_single_files(tables, folder / "tables"), folder / "out", None)
    for name, frame in whole.items():
        assert by_shard[name].equals(frame), name


def _education(outputs: pl.DataFrame) -> pl.DataFrame:
    """The education dataset's UK rows of each period."""
    return outputs.filter(
        pl.col("dataset") == "education",
        pl.col("focal") == "GBR",
        pl.col("granularity") == "period",
    )


def _stored(store: Path) -> int:
    return len(list((store / "outputs").glob("*.parquet")))


def _counted(caplog: pytest.LogCaptureFixture) -> str:
    """The last 'partial counts of N of M shards computed' of the log."""
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("partial counts")]
    caplog.clear()
    return lines[-1]


def test_a_new_file_counts_its_shard_and_the_indicators_equal_the_whole(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="collabscope")
    a = _export(tmp_path / "a.txt", range(0, 10), ("Peoples R China", "England"), "NSFC")
    # Records 6-9 again, in the education dataset: the earlier file's copy (shard 0) is kept,
    # and that shard counts them in education too.
    b = _export(tmp_path / "b.txt", range(6, 16), ("Scotland",), "ESRC")
    c = _export(tmp_path / "c.txt", range(20, 27), ("England", "Peoples R China"), None)
    run, store = tmp_path / "run", tmp_path / "store"
    tables = _study(run, [{a: ["world"]}, {b: ["education"]}])
    first = _indicators(tables, tmp_path / "by_shard", store)
    assert _counted(caplog) == "partial counts of 2 of 2 shards computed"
    _assert_equal_to_the_whole(first, tables, tmp_path / "whole")
    education = _education(first["outputs"])
    # 6-15 in education (6-9 through shard 1's copies), all with a UK address.
    assert education.select("records", "focal_records").sum().row(0) == (10, 10)
    funders = first["funders"].filter(pl.col("granularity") == "period")
    assert set(funders["funder_id"]) == {"chn-nsfc", "gbr-esrc"}

    # Nothing new: nothing counted again.
    _indicators(tables, tmp_path / "by_shard", store)
    assert _counted(caplog) == "partial counts of 0 of 2 shards computed"
    assert _stored(store) == 2

    # A new file in a third shard, in education, with records 0-1 again: its shard is counted,
    # and shard 0, whose records 0-1 it brings into education; shard 1 is read back.
    d = _export(tmp_path / "d.txt", range(0, 2), ("Wales",), None)
    tables = _study(run, [{a: ["world"]}, {b: ["education"]}, {c: ["education"], d: ["education"]}])
    grown = _indicators(tables, tmp_path / "by_shard", store)
    assert _counted(caplog) == "partial counts of 2 of 3 shards computed"
    _assert_equal_to_the_whole(grown, tables, tmp_path / "whole2")
    education = _education(grown["outputs"])
    assert education["records"].sum() == 10 + 7 + 2
    assert _stored(store) == 3  # the store keeps the current parts only


def test_counts_add_up_over_any_split_of_the_records() -> None:
    """Each partial count adds up: the indicators of two halves' counts equal the whole's,
    fractional credits to the last digit whatever the order of the terms."""
    n = 40
    ids = [f"r{i:02d}" for i in range(n)]
    focal_rows = []
    for i, record in enumerate(ids):
        for focal in ("CHN", "GBR", "CHN+GBR"):
            focal_rows.append(
                {
                    "record_id": record,
                    "focal": focal,
                    "scope": "pair" if "+" in focal else "country",
                    "year": 2001 + i % 10,
                    "single_author": i % 7 == 0,
                    "address_source": "c1",
                    "n_countries": 1 + i % 3,
                    "collab_type": ["domestic-single", "bilateral", "trilateral"][i % 3],
                    "has_links": True,
                    "lead_country": "CHN" if i % 2 else "GBR",
                    "lead_fallback": i % 5 == 0,
                    "participated": i % 4 != 0,
                    "international": i % 3 != 0,
                    "category": "x_led" if "+" in focal else "icp_x_led",
                    "led_by": "CHN" if i % 2 else "GBR",
                    "credit_fractional": 1 / (1 + i % 3),
                }
            )
    classes = pl.DataFrame(focal_rows)
    credit = pl.DataFrame(
        {
            "record_id": [r for r in ids for _ in range(3)],
            "country": ["CHN", "GBR", "USA"] * n,
            "credit_fractional": [1 / 3, 1 / 7, 1 - 1 / 3 - 1 / 7] * n,
        }
    )
    disagreements = pl.DataFrame(
        {
            "record_id": ids,
            "first_author_vs_reprint": [i % 2 == 0 for i in range(n)],
            "first_author_vs_first_address": [False] * n,
            "first_address_vs_reprint": [i % 3 == 0 for i in range(n)],
        }
    )
    records = pl.DataFrame(
        {
            "record_id": ids,
            "year": [2001 + i % 10 for i in range(n)],
            "highly_cited": [True if i % 6 == 0 else None for i in range(n)],
        }
    )
    funding = pl.DataFrame(
        {
            "record_id": [r for r in ids for _ in range(2)],
            "funder_id": ["chn-nsfc", None] * n,
            "funder_name": ["NSFC", None] * n,
            "funder_country": ["CHN", None] * n,
        }
    )
    membership = pl.DataFrame(
        {"dataset": ["world"] * n + ["education"] * 10, "record_id": ids + ids[:10]}
    )
    scope = ind.Scope(["education", "world"], [], FOCAL, "auto")

    def counts(keep: list[str]) -> dict[str, pl.DataFrame]:
        only = pl.col("record_id").is_in(keep)
        frames = ind.Frames(
            *(
                frame.filter(only).lazy()
                for frame in (classes, credit, disagreements, records, funding, membership)
            )
        )
        return ind.partial_counts(frames, scope)

    whole = counts(ids)
    halves = [counts(ids[::2]), counts(ids[1::2])]
    split = {name: pl.concat([half[name] for half in reversed(halves)]) for name in whole}
    flagged = ind.class_rows(
        classes.lazy().filter(pl.col("record_id").is_in(ids[:5])), membership.lazy()
    )

    def indicators(partial: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        frames = ind.finish(
            {name: frame.lazy() for name, frame in partial.items()},
            flagged,
            PERIODS,
            FOCAL,
            SETTINGS,
        )
        return {
            name: schemas.conform(frame.collect(), schemas.INDICATOR_BY_NAME[name]).sort(
                schemas.INDICATOR_BY_NAME[name].key, nulls_last=True
            )
            for name, frame in frames.items()
        }

    by_halves, at_once = indicators(split), indicators(whole)
    for name, frame in at_once.items():
        assert frame.height > 0 or name == "citing_countries", name
        assert by_halves[name].equals(frame), name
    share = at_once["collaboration"].filter(pl.col("granularity") == "period")
    assert share["papers_fractional"].sum() > 0
    top = at_once["funders"].filter(pl.col("granularity") == "period", pl.col("dataset") == "world")
    assert sorted(top.select("period", "records").rows()) == [("2001–2005", 20), ("2006–2010", 20)]
