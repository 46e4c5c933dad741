"""Normalisation computes again only the address parts whose shard or inputs changed."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from collabscope import schemas
from collabscope.combine import combine_shards
from collabscope.normalise.stage import normalise_addresses, normalise_funding
from collabscope.parse.shard import parse_shard
from collabscope.tableio import scan_table, table_path
from tests.conftest import PROJECT
from tests.workflow.helpers import wos_plain_file

RESOURCES = PROJECT / "resources"
POLICY = {"uk_nations": "GBR", "hong_kong_macau_taiwan": "separate"}


def _tables(
    root: Path, shards: list[dict[str, list[str]]], datasets: tuple[str, ...] = ("world",)
) -> Path:
    """Parse ``shards`` under ``root`` and combine them (``datasets`` configured); the
    canonical tables' directory."""
    dirs = []
    for i, files in enumerate(shards):
        out = root / "shards" / f"{i:04d}"
        parse_shard(files, {t.name: out / f"{t.name}.parquet" for t in schemas.SHARD_TABLES})
        dirs.append(out)
    tables = root / "tables"
    outputs = {t.name: table_path(tables, t) for t in schemas.CANONICAL_TABLES}
    combine_shards(dirs, {name: {"exports": ["*"]} for name in datasets}, outputs)
    return tables


def _normalise(
    tables: Path,
    out: Path,
    store: Path,
    policy: dict[str, str] = POLICY,
    overrides: Path | None = None,
) -> dict:
    return normalise_addresses(
        table_path(tables, schemas.ADDRESSES),
        RESOURCES / "countries",
        policy,
        [RESOURCES / "institutions" / "institutions.csv"],
        [RESOURCES / "institutions" / "tiers.csv"],
        None,
        overrides,
        90.0,
        {
            "addresses": out / "addresses.parts.json",
            "unmatched": out / "unmatched.csv",
            "low_confidence": out / "low_confidence.csv",
        },
        store,
    )


def _read(out: Path) -> pl.DataFrame:
    table = schemas.ADDRESSES_NORMALISED
    return scan_table(out / "addresses.parts.json", table).collect().sort(table.key)


def test_only_the_changed_shard_is_normalised_again(tmp_path: Path) -> None:
    a = str(wos_plain_file(tmp_path / "a.txt", range(0, 8), country="Peoples R China"))
    b = str(wos_plain_file(tmp_path / "b.txt", range(5, 12), country="Scotland"))
    c = str(wos_plain_file(tmp_path / "c.txt", range(20, 26), country="Wales"))
    store, out = tmp_path / "store", tmp_path / "out"
    tables = _tables(tmp_path / "run", [{a: ["world"]}, {b: ["world"]}])
    assert _normalise(tables, out, store)["parts"] == {"normalised": 2, "reused": 0}
    manifest = (out / "addresses.parts.json").read_bytes()
    unmatched = (out / "unmatched.csv").read_bytes()
    assert _normalise(tables, out, store)["parts"] == {"normalised": 0, "reused": 2}
    assert (out / "addresses.parts.json").read_bytes() == manifest
    assert (out / "unmatched.csv").read_bytes() == unmatched
    # Records 5-7 are in both shards: read once, from a.txt's shard, with China.
    first = _read(out)
    assert first.height == 12
    assert first.filter(pl.col("record_id") == f"WOS:{6:015d}")["country"].to_list() == ["CHN"]

    # A new file joins the second shard: only that shard is normalised again.
    tables = _tables(tmp_path / "run", [{a: ["world"]}, {b: ["world"], c: ["world"]}])
    assert _normalise(tables, out, store)["parts"] == {"normalised": 1, "reused": 1}
    assert len(list(store.glob("*.parquet"))) == 2  # the replaced part's result is gone
    fresh = tmp_path / "fresh"
    assert _normalise(tables, fresh, tmp_path / "fresh_store")["parts"]["normalised"] == 2
    assert _read(out).equals(_read(fresh))
    assert (out / "unmatched.csv").read_bytes() == (fresh / "unmatched.csv").read_bytes()
    assert set(_read(out)["country"]) == {"CHN", "GBR"}


def test_a_file_superseding_another_shards_records_recounts_its_review_queue(
    tmp_path: Path,
) -> None:
    """The review queues add up per-shard tallies of the kept rows: a new file that holds
    records of another shard first supersedes them there without changing that shard's files,
    so that shard's tally is computed again, and the queue equals a fresh run's."""
    a = str(wos_plain_file(tmp_path / "a.txt", range(0, 4), country="Peoples R China"))
    b = str(wos_plain_file(tmp_path / "b.txt", range(10, 16), country="Scotland"))
    store, out = tmp_path / "store", tmp_path / "out"
    tables = _tables(tmp_path / "run", [{a: ["world"]}, {b: ["world"]}])
    counts = _normalise(tables, out, store)
    assert (counts["parts"], counts["tallied"]) == ({"normalised": 2, "reused": 0}, 2)
    assert _normalise(tables, out, store)["tallied"] == 0

    def unmatched(directory: Path) -> dict[str, int]:
        queue = pl.read_csv(directory / "unmatched.csv")
        return dict(queue.select("country_recorded", "n_records").iter_rows())

    assert unmatched(out) == {"GBR-SCT": 6, "CHN": 4}
    # a0.txt sorts before b.txt: its copies of records 12-15 are the ones kept.
    a0 = str(wos_plain_file(tmp_path / "a0.txt", range(12, 16), country="Wales"))
    tables = _tables(tmp_path / "run", [{a: ["world"], a0: ["world"]}, {b: ["world"]}])
    counts = _normalise(tables, out, store)
    assert (counts["parts"], counts["tallied"]) == ({"normalised": 1, "reused": 1}, 2)
    assert unmatched(out) == {"CHN": 4, "GBR-WLS": 4, "GBR-SCT": 2}
    assert counts["institutions"] == {"none": 10}
    fresh = tmp_path / "fresh"
    _normalise(tables, fresh, tmp_path / "fresh_store")
    for name in ("unmatched.csv", "low_confidence.csv"):
        assert (out / name).read_bytes() == (fresh / name).read_bytes()


def test_a_new_policy_or_override_normalises_every_part_again(tmp_path: Path) -> None:
    a = str(wos_plain_file(tmp_path / "a.txt", range(0, 4), country="Scotland"))
    b = str(wos_plain_file(tmp_path / "b.txt", range(4, 8), country="Taiwan"))
    store, out = tmp_path / "store", tmp_path / "out"
    tables = _tables(tmp_path / "run", [{a: ["world"]}, {b: ["world"]}])
    assert _normalise(tables, out, store)["parts"]["normalised"] == 2
    assert set(_read(out)["country"]) == {"GBR", "TWN"}

    folded = {"uk_nations": "separate", "hong_kong_macau_taiwan": "fold_into_CHN"}
    assert _normalise(tables, out, store, folded)["parts"]["normalised"] == 2
    assert set(_read(out)["country"]) == {"GBR-SCT", "CHN"}

    overrides = tmp_path / "overrides.csv"
    overrides.write_text("organisation_text,institution_id\nUniv Test,gbr-oxford\n")
    assert _normalise(tables, out, store, overrides=overrides)["parts"]["normalised"] == 2
    assert set(_read(out)["institution_id"]) == {"gbr-oxford"}
    # The same file name with other contents is another input.
    overrides.write_text("organisation_text,institution_id\nUniv Test,gbr-cambridge\n")
    assert _normalise(tables, out, store, overrides=overrides)["parts"]["normalised"] == 2
    assert set(_read(out)["institution_id"]) == {"gbr-cambridge"}
    assert len(list(store.glob("*.parquet"))) == 2


def test_a_killed_runs_leftovers_leave_the_store(tmp_path: Path) -> None:
    a = str(wos_plain_file(tmp_path / "a.txt", range(0, 4)))
    store, out = tmp_path / "store", tmp_path / "out"
    tables = _tables(tmp_path / "run", [{a: ["world"]}])
    _normalise(tables, out, store)
    (store / ".0123abcd.parquet.999.tmp").write_bytes(b"half a part")  # killed mid-write
    (store / "0123abcd.parquet").write_bytes(b"a part no manifest lists")
    assert _normalise(tables, out, store)["parts"] == {"normalised": 0, "reused": 1}
    assert len([path for path in store.iterdir() if path.is_file()]) == 1
    # The review and method tallies of the one shard, a folder each.
    tallies = sorted(path.name for path in store.iterdir() if path.is_dir())
    assert tallies == ["address_methods", "review_counts", "review_spellings"]
    assert all(len(list((store / name).iterdir())) == 1 for name in tallies)


def _funded_export(path: Path, ids: range, country: str) -> str:
    """Records acknowledging "NSF": the USA's NSF, or China's NSFC for a record with Chinese
    addresses only (the record's countries settle the name)."""
    return str(wos_plain_file(path, ids, country=country, funder="NSF [1234]"))


def _funding(tables: Path, out: Path, store: Path) -> dict[int, str]:
    normalise_funding(
        table_path(tables, schemas.FUNDING),
        out / "addresses.parts.json",
        [RESOURCES / "funders" / "funders.csv"],
        out / "funding.parts.json",
        out / "funders.csv",
        store,
    )
    frame = scan_table(out / "funding.parts.json", schemas.FUNDING_NORMALISED).collect()
    return dict(frame.select(pl.col("record_id").str.slice(4).cast(pl.Int64), "funder_id").rows())


def test_funders_are_matched_per_shard_with_each_copys_own_countries(tmp_path: Path) -> None:
    a = _funded_export(tmp_path / "a.txt", range(0, 4), "Peoples R China")
    # Records 2-3 again, from the USA: the earlier file's copy is kept, with China's NSFC. In
    # one batch with both copies, its countries must still be its own (China only).
    b = _funded_export(tmp_path / "b.txt", range(2, 6), "USA")
    c = _funded_export(tmp_path / "c.txt", range(10, 12), "Peoples R China")
    run, out, store = tmp_path / "run", tmp_path / "out", tmp_path / "funding_store"
    tables = _tables(run, [{a: ["world"]}, {b: ["world"]}])
    _normalise(tables, out, tmp_path / "store")
    china, usa = "chn-nsfc", "usa-nsf"
    expected = {0: china, 1: china, 2: china, 3: china, 4: usa, 5: usa}
    assert _funding(tables, out, store) == expected
    log = (out / "funding.parts.json").read_bytes()
    assert _funding(tables, out, store) == expected
    assert (out / "funding.parts.json").read_bytes() == log
    stored = set(store.glob("*.parquet"))
    assert len(stored) == 2
    # A third shard: one part matched, the others read back.
    tables = _tables(run, [{a: ["world"]}, {b: ["world"]}, {c: ["world"]}])
    _normalise(tables, out, tmp_path / "store")
    assert _funding(tables, out, store) == expected | {10: china, 11: china}
    assert len(set(store.glob("*.parquet")) - stored) == 1
