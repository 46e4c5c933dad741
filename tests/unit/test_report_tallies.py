"""The report's address and funding counts, added up from per-shard tallies, equal the counts
over the whole corpus, also when a new file supersedes records of another shard."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from collabscope import schemas
from collabscope.classify import indicators as ind
from collabscope.report.tallies import (
    address_tallies,
    funding_tallies,
    load_tallies,
    record_tallies,
)
from collabscope.tableio import scan_table, table_path, write_table
from tests.unit.test_normalise_parts import RESOURCES, _funding, _normalise, _tables
from tests.workflow.helpers import wos_plain_file

COUNTRIES = RESOURCES / "countries" / "countries.csv"


def _tables_of(tables: Path, out: Path) -> dict[str, Path]:
    return {
        "addresses": out / "addresses.parts.json",
        "funding": out / "funding.parts.json",
        "countries": COUNTRIES,
        "records": table_path(tables, schemas.RECORDS),
    }


def _whole(tables: dict[str, Path]) -> pl.DataFrame:
    """The tallies of the whole corpus at once."""
    folds = pl.read_csv(
        COUNTRIES, columns=["code", "folds_into"], schema_overrides={"code": pl.String}
    ).filter(pl.col("folds_into").is_not_null())
    addresses = scan_table(tables["addresses"], schemas.ADDRESSES_NORMALISED)
    funding = scan_table(tables["funding"], schemas.FUNDING_NORMALISED)
    return pl.concat([address_tallies(addresses, folds), funding_tallies(funding)])


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select("tally", "a", "b", "rows", "records").sort(
        "tally", "a", "b", nulls_last=True
    )


def test_shard_tallies_add_up_to_the_whole_corpus(tmp_path: Path) -> None:
    a = str(wos_plain_file(tmp_path / "a.txt", range(0, 6), "Peoples R China", "NSF [1]"))
    b = str(wos_plain_file(tmp_path / "b.txt", range(10, 16), "Taiwan", "NSFC [2]"))
    c = str(wos_plain_file(tmp_path / "c.txt", range(20, 24), "Northern Ireland"))
    store, out = tmp_path / "store", tmp_path / "out"
    shards = [{a: ["world"]}, {b: ["world"]}, {c: ["world"]}]
    tables = _tables(tmp_path / "run", shards)
    _normalise(tables, out, tmp_path / "normalised")
    _funding(tables, out, tmp_path / "funded")
    paths = _tables_of(tables, out)
    summed = load_tallies(paths, store).frame
    assert _sorted(summed).equals(_sorted(_whole(paths)))
    assert len(list((store / "addresses_tallies").glob("*.parquet"))) == 3
    policy = dict(
        summed.filter(pl.col("tally") == "policy GBR fold_into_CHN").select("a", "records").rows()
    )
    assert policy == {"CHN": 12, "GBR": 4}  # Taiwan folded into China, Northern Ireland the UK

    # a0.txt sorts before b.txt and holds records 13-15 first: shard 0 changes, and shard 1
    # loses three records without a change to its files. Both are counted again.
    a0 = str(wos_plain_file(tmp_path / "a0.txt", range(13, 16), "Wales"))
    shards[0][a0] = ["world"]
    tables = _tables(tmp_path / "run", shards)
    _normalise(tables, out, tmp_path / "normalised")
    _funding(tables, out, tmp_path / "funded")
    before = {p.name for p in (store / "addresses_tallies").glob("*.parquet")}
    summed = load_tallies(paths, store).frame
    after = {p.name for p in (store / "addresses_tallies").glob("*.parquet")}
    assert len(after - before) == 2 and len(after) == 3
    assert _sorted(summed).equals(_sorted(_whole(paths)))
    countries = dict(
        summed.filter(pl.col("tally") == "affiliation_country").select("a", "records").rows()
    )
    assert countries == {"CHN": 6, "TWN": 3, "GBR": 7}


def test_single_file_tables_are_one_part_and_a_new_registry_counts_again(tmp_path: Path) -> None:
    a = str(wos_plain_file(tmp_path / "a.txt", range(0, 5), "Hong Kong", "NSF [1]"))
    b = str(wos_plain_file(tmp_path / "b.txt", range(3, 9), "Scotland"))
    out = tmp_path / "out"
    tables = _tables(tmp_path / "run", [{a: ["world"]}, {b: ["world"]}])
    _normalise(tables, out, tmp_path / "normalised")
    _funding(tables, out, tmp_path / "funded")
    paths = _tables_of(tables, out)
    # The tables as single Parquet files (a stage called outside the workflow).
    single = tmp_path / "single"
    for name, table in (
        ("addresses", schemas.ADDRESSES_NORMALISED),
        ("funding", schemas.FUNDING_NORMALISED),
    ):
        write_table(scan_table(paths[name], table), table, single / f"{name}.parquet")
        paths[name] = single / f"{name}.parquet"
    store = tmp_path / "store"
    summed = load_tallies(paths, store).frame
    assert _sorted(summed).equals(_sorted(_whole(paths)))
    assert [
        len(list((store / f"{n}_tallies").glob("*.parquet"))) for n in ("addresses", "funding")
    ] == [1, 1]
    countries = dict(
        summed.filter(pl.col("tally") == "affiliation_country").select("a", "records").rows()
    )
    assert countries == {"HKG": 5, "GBR": 4}  # records 3-4 are kept from a.txt, in Hong Kong
    # Another countries.csv (here: the same rows, one more line) is a new setting.
    countries_csv = tmp_path / "countries.csv"
    countries_csv.write_text(COUNTRIES.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    before = set((store / "addresses_tallies").glob("*.parquet"))
    load_tallies({**paths, "countries": countries_csv}, store)
    assert set((store / "addresses_tallies").glob("*.parquet")).isdisjoint(before)


def test_records_per_year_and_funders_add_up_with_memberships_from_other_shards(
    tmp_path: Path,
) -> None:
    a = str(wos_plain_file(tmp_path / "a.txt", range(0, 6), "Peoples R China", "NSFC [1]"))
    # Records 4-5 again, in education: shard 0 keeps them and counts them in education too.
    b = str(wos_plain_file(tmp_path / "b.txt", range(4, 9), "England", "ESRC [2]"))
    run, out, store = tmp_path / "run", tmp_path / "out", tmp_path / "store"
    tables = _tables(run, [{a: ["world"]}, {b: ["education"]}])
    _normalise(tables, out, tmp_path / "normalised")
    _funding(tables, out, tmp_path / "funded")
    paths = _tables_of(tables, out) | {
        "dataset_records": table_path(tables, schemas.DATASET_RECORDS)
    }

    def whole() -> tuple[pl.DataFrame, pl.DataFrame]:
        members = scan_table(paths["dataset_records"], schemas.DATASET_RECORDS)
        records = scan_table(paths["records"], schemas.RECORDS).select("record_id", "year")
        funding = scan_table(paths["funding"], schemas.FUNDING_NORMALISED)
        per_year = (
            members.join(records, on="record_id", how="left")
            .group_by("dataset", "year")
            .agg(records=pl.len().cast(pl.Int64))
            .collect()
        )
        return per_year, ind.funders_counts(funding, records, members).collect()

    def tops(counts: pl.DataFrame) -> pl.DataFrame:
        span = [{"label": "all", "first": 2001, "last": 2020}]
        return ind.funders(counts.lazy(), span, 5, yearly=False).collect().sort("dataset", "rank")

    counted = record_tallies(paths, store)
    per_year, funders = whole()
    by = ["dataset", "year"]
    assert counted.record_years.sort(by).equals(
        per_year.select(counted.record_years.columns).sort(by)
    )
    assert tops(counted.funders.collect()).equals(tops(funders))
    education = counted.record_years.filter(pl.col("dataset") == "education")
    assert education["records"].sum() == 5  # 4-8, of which 4-5 through shard 1's copies
    top = tops(counted.funders.collect()).filter(pl.col("dataset") == "education")
    assert top.select("funder_id", "records").rows() == [("gbr-esrc", 3), ("chn-nsfc", 2)]
