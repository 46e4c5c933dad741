"""With one source the merge computes again only the shards whose records or funding changed, and
its parts read as one table equal a merge of the whole corpus at once; with several sources it
merges the whole corpus as one part."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from collabscope import schemas
from collabscope.merge import merge_stage, merge_works
from collabscope.tableio import (
    Parts,
    read_parts_manifest,
    scan_parts,
    scan_table,
    table_path,
    write_table,
)
from tests.unit.test_normalise_parts import _tables
from tests.unit.test_scopus import ROW_1, scopus_csv

ORDER = ["wos", "scopus", "openalex", "cssci"]
FIELDS = {"funding": ["scopus", "wos"], "addresses": ["wos", "scopus"]}
PARTS = schemas.MERGE_PART_TABLES


def _export(path: Path, ids: range, funded: bool = True) -> str:
    """A WoS plain-text export: every second record funded (none unless ``funded``), every
    third without a times-cited count, every fifth without an address (the field groups
    work_fields chooses by)."""
    lines = ["FN Clarivate Analytics Web of Science", "VR 1.0"]
    for i in ids:
        lines += ["PT J", f"AU Author{i}, A", f"TI Record {i} on teacher education"]
        if i % 5:
            lines.append(f"C1 [Author{i}, A] Univ Oxford, Oxford, England.")
        if funded and i % 2 == 0:
            lines.append(f"FU National Natural Science Foundation of China [{i}]")
        if i % 3:
            lines.append(f"TC {i}")
        lines += [f"PY {2001 + i % 20}", f"UT WOS:{i:015d}", "ER", ""]
    lines.append("EF")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _inputs(tables: Path) -> dict[str, Path]:
    return {t.name: table_path(tables, t) for t in (schemas.RECORDS, *schemas.CHILD_TABLES)}


def _merge(
    tables: Path,
    out: Path,
    store: Path | None,
    order: list[str] = ORDER,
    fields: dict[str, list[str]] = FIELDS,
    suffix: str = "",
) -> tuple[dict[str, int], dict[str, pl.DataFrame]]:
    outputs = {
        t.name: (out / f"{t.name}{suffix}" if suffix else table_path(out, t))
        for t in schemas.MERGE_TABLES
    }
    counts = merge_stage(_inputs(tables), order, fields, outputs, store)
    return counts, {
        t.name: scan_table(outputs[t.name], t).collect().sort(t.key) for t in schemas.MERGE_TABLES
    }


def _whole(tables: Path, order: list[str] = ORDER) -> dict[str, pl.DataFrame]:
    """The merge of the whole corpus at once, as it was before it was kept per shard."""
    inputs = _inputs(tables)
    result = merge_works(
        scan_table(inputs["records"], schemas.RECORDS),
        scan_table(inputs["authorships"], schemas.AUTHORSHIPS),
        scan_table(inputs["funding"], schemas.FUNDING),
        order,
        FIELDS,
    )
    return {t.name: result[t.name].sort(t.key) for t in schemas.MERGE_TABLES}


def _manifests(out: Path) -> dict[str, bytes]:
    return {t.name: table_path(out, t).read_bytes() for t in PARTS}


def _stored(store: Path, table: schemas.Table) -> int:
    return len(list((store / table.name).glob("*.parquet")))


def test_only_a_new_shard_is_merged_and_the_parts_equal_the_whole(tmp_path: Path) -> None:
    a = _export(tmp_path / "a.txt", range(0, 8))
    # 5-7 again, unfunded: a's copies are kept, and 6 is funded.
    b = _export(tmp_path / "b.txt", range(5, 12), funded=False)
    c = _export(tmp_path / "c.txt", range(20, 26))
    run, store, out = tmp_path / "run", tmp_path / "store", tmp_path / "run" / "out"
    tables = _tables(run, [{a: ["world"]}, {b: ["world"]}])
    counts, first = _merge(tables, out, store)
    assert counts == {
        "records": 12,
        "works": 12,
        "cross_source_works": 0,
        "merged_records": 0,
        "parts_computed": 2,
    }
    whole = _whole(tables)
    for name, frame in whole.items():
        assert first[name].equals(frame), name
    assert first["works"].height == 12
    funded = first["work_fields"].filter(pl.col("field") == "funding")["record_id"]
    assert funded.to_list() == [f"WOS:{i:015d}" for i in (0, 2, 4, 6)]
    # The parts hold b's copies of 5-7 (work_id = record_id): left out on reading, by work_id
    # in works.
    for table in PARTS:
        parts = read_parts_manifest(table_path(out, table))
        assert [shard for shard, _ in parts.files] == ["0000", "0001"]
        assert parts.superseded is not None
        raw = pl.concat([pl.read_parquet(file) for _, file in parts.files])
        assert raw.height > first[table.name].height, table.name
    # merge_accounting: the bytes the whole-corpus merge writes.
    expected = write_table(
        whole["merge_accounting"], schemas.MERGE_ACCOUNTING, tmp_path / "expected.parquet"
    )
    written = out / "merge_accounting.parquet"
    assert written.read_bytes() == expected.read_bytes()
    assert first["merge_accounting"].select("parsed", "matched", "merged").sum().row(0) == (
        12,
        0,
        0,
    )

    # Nothing changed: nothing computed, the same manifests.
    manifests = _manifests(out)
    again, same = _merge(tables, out, store)
    assert again["parts_computed"] == 0
    assert _manifests(out) == manifests
    assert written.read_bytes() == expected.read_bytes()
    assert all(same[name].equals(frame) for name, frame in first.items())

    # A new file in a new shard: only it is merged; the result equals the whole corpus's.
    tables = _tables(run, [{a: ["world"]}, {b: ["world"]}, {c: ["world"]}])
    grown_counts, grown = _merge(tables, out, store)
    assert grown_counts["parts_computed"] == 1
    assert grown_counts["records"] == grown_counts["works"] == 18
    assert all(_stored(store, t) == 3 for t in PARTS)
    for name, frame in _whole(tables).items():
        assert grown[name].equals(frame), name
    fresh_counts, fresh = _merge(tables, tmp_path / "fresh", tmp_path / "s2")
    assert fresh_counts["parts_computed"] == 3
    assert _manifests(tmp_path / "fresh") != _manifests(out)  # relative paths to other stores
    assert all(fresh[name].equals(frame) for name, frame in grown.items())


def test_new_merge_settings_merge_every_shard_again(tmp_path: Path) -> None:
    a = _export(tmp_path / "a.txt", range(0, 4))
    b = _export(tmp_path / "b.txt", range(10, 14))
    run, store = tmp_path / "run", tmp_path / "store"
    tables = _tables(run, [{a: ["world"]}, {b: ["world"]}])
    out = run / "out"
    assert _merge(tables, out, store)[0]["parts_computed"] == 2
    assert _merge(tables, out, store)[0]["parts_computed"] == 0
    order = ["scopus", "wos", "openalex", "cssci"]
    assert _merge(tables, out, store, order=order)[0]["parts_computed"] == 2
    fields = {**FIELDS, "references": ["scopus", "wos"]}
    counts, merged = _merge(tables, out, store, order=order, fields=fields)
    assert counts["parts_computed"] == 2
    # The store keeps the current settings' parts only.
    assert all(_stored(store, t) == 2 for t in PARTS)
    for name, frame in _whole(tables, order).items():
        assert merged[name].equals(frame), name


def test_two_sources_are_merged_together_as_one_part(tmp_path: Path) -> None:
    # The Scopus record ROW_1 and the WoS one with its DOI and title: one work across shards.
    wos = tmp_path / "wos.txt"
    wos.write_text(
        "FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Li, X\nAU Smith, JA\n"
        "TI Teacher education in China and England\nSO COMPARATIVE EDUCATION\n"
        "C1 [Li, X] Beijing Normal Univ, Fac Educ, Beijing, Peoples R China.\n"
        "PY 2019\nDI 10.1080/03050068.2019.1234567\nUT WOS:000000000000001\nER\n\nEF\n",
        encoding="utf-8",
    )
    scopus = tmp_path / "scopus.csv"
    scopus.write_bytes(scopus_csv([ROW_1]))
    more = _export(tmp_path / "more.txt", range(30, 34))
    run, store, out = tmp_path / "run", tmp_path / "store", tmp_path / "run" / "out"
    shards = [{str(wos): ["world"], more: ["world"]}, {str(scopus): ["world"]}]
    tables = _tables(run, shards)
    counts, merged = _merge(tables, out, store)
    assert counts == {
        "records": 6,
        "works": 5,
        "cross_source_works": 1,
        "merged_records": 1,
        "parts_computed": 1,
    }
    whole = _whole(tables)
    for name, frame in whole.items():
        assert merged[name].equals(frame), name
    cross = merged["works"].filter("cross_source")
    assert cross.select("work_id", "sources").rows() == [("WOS:000000000000001", ["scopus", "wos"])]
    for table in PARTS:
        parts = read_parts_manifest(table_path(out, table))
        assert len(parts.files) == 1 and parts.superseded is None, table.name
        assert _stored(store, table) == 1
    expected = write_table(
        whole["merge_accounting"], schemas.MERGE_ACCOUNTING, tmp_path / "expected.parquet"
    )
    assert (out / "merge_accounting.parquet").read_bytes() == expected.read_bytes()
    # Merged again each run (its works can span every shard), into the same part.
    assert _merge(tables, out, store)[0]["parts_computed"] == 1
    assert all(_stored(store, t) == 1 for t in PARTS)


def test_parquet_outputs_without_a_store_are_single_files(tmp_path: Path) -> None:
    a = _export(tmp_path / "a.txt", range(0, 4))
    b = _export(tmp_path / "b.txt", range(2, 6))
    tables = _tables(tmp_path / "run", [{a: ["world"]}, {b: ["world"]}])
    out = tmp_path / "single"
    counts, _ = _merge(tables, out, None, suffix=".parquet")
    assert counts["parts_computed"] == 2
    whole = _whole(tables)
    for table in schemas.MERGE_TABLES:
        assert pl.read_parquet(out / f"{table.name}.parquet").equals(whole[table.name]), table.name
    with pytest.raises(ValueError, match="need a store"):
        _merge(tables, tmp_path / "manifests", None)


def test_superseded_rows_are_left_out_by_the_tables_record_column(tmp_path: Path) -> None:
    works = pl.DataFrame(
        {
            "work_id": ["WOS:1", "WOS:2"],
            "sources": [["wos"], ["wos"]],
            "record_ids": [["WOS:1"], ["WOS:2"]],
            "n_records": [1, 1],
            "cross_source": [False, False],
        },
        schema=schemas.WORKS.schema,
    )
    part = write_table(works, schemas.WORKS, tmp_path / "part.parquet")
    superseded = write_table(
        pl.DataFrame(
            {
                "shard": ["0"],
                "record_id": ["WOS:2"],
                "source_file": ["b.txt"],
                "source_line": [3],
                "kept_shard": ["1"],
            },
            schema=schemas.SUPERSEDED.schema,
        ),
        schemas.SUPERSEDED,
        tmp_path / "superseded.parquet",
    )
    parts = Parts("works", (("0", part),), superseded)
    kept = scan_parts(parts, schemas.WORKS).collect()
    assert kept["work_id"].to_list() == ["WOS:1"]
    # A table without the column its rows are left out by says so.
    table = schemas.Table("works", ("work_id",), "", schemas.WORKS.columns, "record_id")
    with pytest.raises(ValueError, match="no column 'record_id'"):
        scan_parts(parts, table)
