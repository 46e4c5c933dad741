"""Benchmark: classification and indicators by work (with the merge tables) against by record
(not part of the test suite).

Generates the tables of ``bench/indicators.py`` for N records, then merge tables in which
``--merged`` of the records (default 10%) are a second source's copy of the record before
them (one work of two records; the copy gives the addresses of half of those works), and runs
``classify_papers`` + ``compute_indicators`` twice in child processes with
POLARS_MAX_THREADS=2: by record (no merge tables, as before issue 8) and by work. Prints wall
time and peak RSS of each.

    python bench/works.py                  # 2,000,000 records
    python bench/works.py --n 200000

Measured 2026-11-23, 2,000,000 records, 10% merged, on 2 shared cores (load ~11, so compare
CPU, not wall): by record CPU 137.7 s, by work 168.3 s; peak RSS of either child 9.4 GB.
With nothing merged (one source) the views are skipped: 200,000 records, 11.6 s and 12.7 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import indicators as bench

from collabscope import schemas
from collabscope.merge import FIELDS
from collabscope.tableio import write_table


def merge_tables(directory: Path, merged: float) -> None:
    """record_works and work_fields: every ``1/merged``-th pair of records is one work."""
    ids = pl.read_parquet(directory / "records.parquet", columns=["record_id"])["record_id"]
    step = max(2, round(2 / merged)) if merged > 0 else 0
    frame = pl.DataFrame({"record_id": ids}).with_row_index("i")
    copy = (pl.col("i") % step == 1) if step else pl.lit(False)
    frame = frame.with_columns(
        work_id=pl.when(copy).then(pl.col("record_id").shift(1)).otherwise("record_id"),
        source=pl.when(copy).then(pl.lit("scopus")).otherwise(pl.lit("wos")),
        match=pl.when(copy | copy.shift(-1).fill_null(False))
        .then(pl.lit("doi"))
        .otherwise(pl.lit("alone")),
    ).with_columns(is_primary=pl.col("record_id") == pl.col("work_id"))
    write_table(frame, schemas.RECORD_WORKS, directory / "record_works.parquet")
    # Each field from the primary record, but addresses from the copy in every other work.
    primary = frame.filter("is_primary").select("work_id", "record_id", "source")
    copies = frame.filter(~pl.col("is_primary")).select("work_id", "record_id", "source")
    half = copies.filter(pl.int_range(pl.len()) % 2 == 0)
    parts = []
    for field in FIELDS:
        rows = primary
        if field == "addresses":
            rows = pl.concat([primary.join(half, on="work_id", how="anti"), half])
        parts.append(rows.with_columns(field=pl.lit(field)))
    write_table(pl.concat(parts), schemas.WORK_FIELDS, directory / "work_fields.parquet")


def run_child(directory: Path, by_work: bool) -> None:
    from collabscope.classify.stage import classify_papers, compute_indicators

    tables = {p.stem: str(p) for p in directory.glob("*.parquet")}
    merge = {k: tables.pop(k) for k in ("record_works", "work_fields")}
    out = directory / ("out_work" if by_work else "out_record")
    classified = {t.name: str(out / f"{t.name}.parquet") for t in schemas.CLASSIFIED_TABLES}
    indicator_files = {t.name: str(out / f"{t.name}.parquet") for t in schemas.INDICATORS}
    indicator_files |= {f"{t.name}_csv": str(out / f"{t.name}.csv") for t in schemas.INDICATORS}
    start = time.perf_counter()
    summary = classify_papers(
        tables["records"], tables["author_address"], tables["addresses"], ["CHN", "GBR"],
        "first_author", classified, merge if by_work else None,
    )  # fmt: skip
    middle = time.perf_counter()
    inputs = {**tables, **classified, **(merge if by_work else {})}
    compute_indicators(
        inputs, ["CHN", "GBR"], bench.PERIODS, bench.SETTINGS,
        {**indicator_files, **{k: classified[k] for k in ("citation_links", "highly_cited_works")}},
    )  # fmt: skip
    end = time.perf_counter()
    label = "by work  " if by_work else "by record"
    print(
        f"{label}: classify {middle - start:5.1f} s, indicators {end - middle:5.1f} s, "
        f"{summary.get('works', summary.get('records'))} papers"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000_000, help="corpus records")
    parser.add_argument("--refs", type=int, default=10, help="cited references per record")
    parser.add_argument("--merged", type=float, default=0.1, help="share of records merged")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--by-work", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.by_work)
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        bench.generate(args.n, directory, args.refs)
        merge_tables(directory, args.merged)
        print(f"{args.n:,} records, {args.merged:.0%} of them a second source's copy")
        env = {**os.environ, "POLARS_MAX_THREADS": "2"}
        for by_work in (False, True):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            command = [sys.executable, __file__, "--child", str(directory)]
            subprocess.run(command + (["--by-work"] if by_work else []), env=env, check=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            print(
                f"  wall {time.perf_counter() - start:.1f} s, CPU {cpu:.1f} s, peak RSS of "
                f"any child so far {after.ru_maxrss / 1024:.0f} MB; load {os.getloadavg()[0]:.1f}"
            )


if __name__ == "__main__":
    main()
