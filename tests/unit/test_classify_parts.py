"""Classification computes again only the shards whose records, links or addresses changed, and
its parts read as one table equal a classification of the whole corpus at once."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from collabscope import schemas
from collabscope.classify.stage import classify_frames, classify_papers
from collabscope.tableio import read_parts_manifest, scan_table, table_path
from tests.unit.test_normalise_parts import _normalise, _tables

FOCAL = ["CHN", "GBR"]


def _export(path: Path, ids: range, countries: tuple[str, ...]) -> str:
    """A WoS plain-text export: record i has one author per country, each at its own address,
    in the order given (the first author's country leads)."""
    lines = ["FN Clarivate Analytics Web of Science", "VR 1.0"]
    for i in ids:
        authors = [f"Author{i}x{k}, A" for k in range(len(countries))]
        lines += ["PT J", f"AU {authors[0]}", *[f"   {a}" for a in authors[1:]]]
        lines += [f"TI Record {i}"]
        for k, (author, country) in enumerate(zip(authors, countries, strict=True)):
            lines.append(
                f"{'C1' if k == 0 else '  '} [{author}] Univ {country} {k}, Town, {country}."
            )
        lines += [f"PY {2001 + i % 20}", f"UT WOS:{i:015d}", "ER", ""]
    lines.append("EF")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _classify(
    tables: Path, normalised: Path, out: Path, store: Path, lead_rule: str = "first_author"
):
    outputs = {t.name: table_path(out, t) for t in schemas.CLASS_PART_TABLES}
    summary = classify_papers(
        table_path(tables, schemas.RECORDS),
        table_path(tables, schemas.AUTHOR_ADDRESS),
        normalised / "addresses.parts.json",
        FOCAL,
        lead_rule,
        outputs,
        None,
        store,
    )
    return summary, {
        t.name: scan_table(outputs[t.name], t).collect().sort(t.key)
        for t in schemas.CLASS_PART_TABLES
    }


def _whole(tables: Path, normalised: Path) -> dict[str, pl.DataFrame]:
    """The classification of the whole corpus at once, as it was before it was kept per shard."""
    frames = classify_frames(
        scan_table(table_path(tables, schemas.RECORDS), schemas.RECORDS),
        scan_table(table_path(tables, schemas.AUTHOR_ADDRESS), schemas.AUTHOR_ADDRESS),
        scan_table(normalised / "addresses.parts.json", schemas.ADDRESSES_NORMALISED),
        FOCAL,
        "first_author",
    )
    return {
        t.name: schemas.conform(f, t).sort(t.key)
        for t, f in zip(schemas.CLASS_PART_TABLES, frames, strict=True)
    }


def test_only_a_new_shard_is_classified_and_the_parts_equal_the_whole(tmp_path: Path) -> None:
    a = _export(tmp_path / "a.txt", range(0, 8), ("Peoples R China", "England"))
    # Records 5-7 again, domestic: the earlier file's copy (China-UK) is the one kept.
    b = _export(tmp_path / "b.txt", range(5, 12), ("Scotland",))
    c = _export(tmp_path / "c.txt", range(20, 26), ("England", "Peoples R China", "Taiwan"))
    run, store = tmp_path / "run", tmp_path / "store"
    tables = _tables(run, [{a: ["world"]}, {b: ["world"]}])
    _normalise(tables, run / "normalised", run / "normalised_store")
    summary, first = _classify(tables, run / "normalised", run / "out", store)
    assert summary["parts_computed"] == 2
    for name, frame in _whole(tables, run / "normalised").items():
        assert first[name].equals(frame), name
    pair = first["paper_classes"].filter(pl.col("focal") == "CHN+GBR")
    assert pair.height == 12  # each record once, though 5-7 are in both shards
    assert pair.filter(pl.col("participated"))["record_id"].to_list() == [
        f"WOS:{i:015d}" for i in range(0, 8)
    ]
    manifest = (run / "out" / "paper_classes.parts.json").read_bytes()
    again, same = _classify(tables, run / "normalised", run / "out", store)
    assert again["parts_computed"] == 0
    assert (run / "out" / "paper_classes.parts.json").read_bytes() == manifest
    assert all(same[name].equals(frame) for name, frame in first.items())

    # A new file in a new shard: only it is classified; the result equals a fresh run's.
    tables = _tables(run, [{a: ["world"]}, {b: ["world"]}, {c: ["world"]}])
    _normalise(tables, run / "normalised", run / "normalised_store")
    summary, grown = _classify(tables, run / "normalised", run / "out", store)
    assert summary["parts_computed"] == 1
    assert len(list((store / "paper_classes").glob("*.parquet"))) == 3
    for name, frame in _whole(tables, run / "normalised").items():
        assert grown[name].equals(frame), name
    # The new shard's records: led by the UK (first author), Taiwan a third country.
    new = grown["paper_classes"].filter(pl.col("record_id") == f"WOS:{20:015d}").sort("focal")
    assert new.select("focal", "category", "n_countries").rows() == [
        ("CHN", "icp_other_led", 3),
        ("CHN+GBR", "y_led", 3),
        ("GBR", "icp_x_led", 3),
    ]
    fresh_summary, fresh = _classify(
        tables, run / "normalised", tmp_path / "fresh", tmp_path / "s2"
    )
    assert fresh_summary["parts_computed"] == 3
    assert all(fresh[name].equals(frame) for name, frame in grown.items())
    parts = read_parts_manifest(run / "out" / "paper_classes.parts.json")
    assert [shard for shard, _ in parts.files] == ["0000", "0001", "0002"]
    assert parts.superseded is not None  # 5-7 of b's shard are left out on reading


def test_a_new_lead_rule_classifies_every_shard_again(tmp_path: Path) -> None:
    a = _export(tmp_path / "a.txt", range(0, 4), ("Peoples R China", "England"))
    b = _export(tmp_path / "b.txt", range(10, 14), ("England", "Peoples R China"))
    run, store = tmp_path / "run", tmp_path / "store"
    tables = _tables(run, [{a: ["world"]}, {b: ["world"]}])
    _normalise(tables, run / "normalised", run / "normalised_store")
    first, _ = _classify(tables, run / "normalised", run / "out", store)
    again, _ = _classify(tables, run / "normalised", run / "out", store, lead_rule="reprint")
    assert (first["parts_computed"], again["parts_computed"]) == (2, 2)
    # The store keeps the current rule's parts only.
    assert len(list((store / "paper_classes").glob("*.parquet"))) == 2


def test_parquet_outputs_without_a_store_are_single_files(tmp_path: Path) -> None:
    a = _export(tmp_path / "a.txt", range(0, 4), ("Peoples R China", "England"))
    b = _export(tmp_path / "b.txt", range(2, 6), ("Wales",))
    run = tmp_path / "run"
    tables = _tables(run, [{a: ["world"]}, {b: ["world"]}])
    _normalise(tables, run / "normalised", run / "normalised_store")
    outputs = {t.name: run / "single" / f"{t.name}.parquet" for t in schemas.CLASS_PART_TABLES}
    classify_papers(
        table_path(tables, schemas.RECORDS),
        table_path(tables, schemas.AUTHOR_ADDRESS),
        run / "normalised" / "addresses.parts.json",
        FOCAL,
        "first_author",
        outputs,
    )
    whole = _whole(tables, run / "normalised")
    for table in schemas.CLASS_PART_TABLES:
        assert pl.read_parquet(outputs[table.name]).equals(whole[table.name]), table.name


def test_manifest_outputs_without_a_store_are_refused(tmp_path: Path) -> None:
    # A manifest lists store files: without a store they would be in a folder removed on exit.
    a = _export(tmp_path / "a.txt", range(0, 2), ("England",))
    run = tmp_path / "run"
    tables = _tables(run, [{a: ["world"]}])
    _normalise(tables, run / "normalised", run / "normalised_store")
    outputs = {t.name: table_path(run / "out", t) for t in schemas.CLASS_PART_TABLES}
    with pytest.raises(ValueError, match="outputs listed as parts need a store"):
        classify_papers(
            table_path(tables, schemas.RECORDS),
            table_path(tables, schemas.AUTHOR_ADDRESS),
            run / "normalised" / "addresses.parts.json",
            FOCAL,
            "first_author",
            outputs,
        )
    assert not (run / "out").exists()
