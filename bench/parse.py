"""Benchmark of the parse stage (not part of the test suite).

Generates a WoS corpus of a given size with the project's own generator and parses it as the
workflow does: each shard in a fresh single-threaded process, as many at a time as --jobs,
then the cross-shard combine. Prints MB/s and records/s (wall and per core) and the peak RSS
of one shard job. When metaknowledge is installed it is timed on the same files, extracting
the same fields our tables hold, and both ratios are printed.

    python bench/parse.py                    # 200 MB corpus, 8 shards
    python bench/parse.py --mb 50 --shards 4 --format tab
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

RECORD_BYTES_ESTIMATE = 6000


def _parse_shard_job(args: tuple[dict[str, list[str]], str]) -> tuple[int, float]:
    files, out_dir = args
    os.environ["POLARS_MAX_THREADS"] = "1"  # as in the workflow: one thread per parse job
    from collabscope import schemas
    from collabscope.parse.shard import parse_shard

    outputs = {t.name: str(Path(out_dir) / f"{t.name}.parquet") for t in schemas.SHARD_TABLES}
    start = time.perf_counter()
    parse_shard(files, outputs)
    elapsed = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak_kb, elapsed


def _combine_job(args: tuple[list[str], str, int]) -> tuple[int, float]:
    shard_dirs, out_dir, threads = args
    os.environ["POLARS_MAX_THREADS"] = str(threads)  # the build_tables rule's threads
    from collabscope import schemas
    from collabscope.combine import combine_shards
    from collabscope.tableio import table_path

    outputs = {t.name: str(table_path(out_dir, t)) for t in schemas.CANONICAL_TABLES}
    start = time.perf_counter()
    combine_shards(shard_dirs, {"bench": {"exports": [], "description": ""}}, outputs)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - start


def run_ours(files: list[Path], shards: int, jobs: int, work: Path) -> dict[str, float]:
    from collabscope.sharding import assign_shards

    groups = assign_shards({str(f): ["bench"] for f in files}, shards)
    shard_dirs = [str(work / f"shard-{i:04d}") for i in groups]
    start = time.perf_counter()
    # Each shard in a fresh single-threaded process, `jobs` at a time, as `snakemake --cores
    # jobs` runs them; the peak RSS is that of the largest shard (what a cluster job needs).
    with mp.get_context("spawn").Pool(jobs, maxtasksperchild=1) as pool:
        tasks = list(zip(groups.values(), shard_dirs, strict=True))
        results = pool.map(_parse_shard_job, tasks, chunksize=1)
        combine_peak_kb, combine_seconds = pool.apply(
            _combine_job, ((shard_dirs, str(work / "tables"), min(jobs, 2)),)
        )
    wall = time.perf_counter() - start
    return {
        "seconds": wall,
        "cpu_seconds": sum(r[1] for r in results) + combine_seconds,
        "combine_seconds": combine_seconds,
        "peak_rss_mb": max(r[0] for r in results) / 1024,
        "combine_peak_rss_mb": combine_peak_kb / 1024,
    }


def _metaknowledge_job(paths: list[str]) -> tuple[int, float, int, int]:
    import metaknowledge

    start = time.perf_counter()
    n_records = errors = 0
    fields = (
        "title",
        "authorsShort",
        "authorsFull",
        "year",
        "DOI",
        "journal",
        "wosTimesCited",
        "subjects",
        "grants",
        "address",
        "reprintAddress",
        "email",
        "orcID",
    )
    for path in paths:
        collection = metaknowledge.RecordCollection(path)
        for record in collection:
            n_records += 1
            for name in fields:
                try:
                    record.get(name)
                except Exception:  # metaknowledge fails on some modern fields; count, go on
                    errors += 1
            try:
                record.getCitations()
            except Exception:
                errors += 1
    elapsed = time.perf_counter() - start
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, elapsed, n_records, errors


def run_metaknowledge(files: list[Path]) -> dict[str, float] | None:
    try:
        import metaknowledge  # noqa: F401
    except ImportError:
        return None
    with mp.get_context("spawn").Pool(1) as pool:
        peak_kb, elapsed, n_records, errors = pool.apply(
            _metaknowledge_job, ([str(f) for f in files],)
        )
    return {
        "seconds": elapsed,
        "peak_rss_mb": peak_kb / 1024,
        "records": n_records,
        "field_errors": errors,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0, help="corpus size in MB")
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="parallel parse jobs (cores)"
    )
    parser.add_argument("--per-file", type=int, default=500)
    parser.add_argument("--format", choices=["plain", "tab"], default="plain")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the corpus and outputs in this folder")
    parser.add_argument("--no-metaknowledge", action="store_true")
    args = parser.parse_args(argv)

    from collabscope.synth import generate_corpus

    work = args.keep or Path(tempfile.mkdtemp(prefix="collabscope-bench-"))
    corpus = work / "corpus"
    n_records = int(args.mb * 1e6 / RECORD_BYTES_ESTIMATE)
    start = time.perf_counter()
    files = sorted(
        generate_corpus(corpus, n_records, args.per_file, seed=args.seed, fmt=args.format)
    )
    size_mb = sum(f.stat().st_size for f in files) / 1e6
    print(
        f"corpus: {n_records} records in {len(files)} {args.format} files, {size_mb:.1f} MB "
        f"(generated in {time.perf_counter() - start:.1f} s)"
    )

    ours = run_ours(files, args.shards, args.jobs, work / "parsed")
    print(
        f"collabscope parse + combine: {ours['seconds']:.1f} s wall with {args.jobs} parallel "
        f"jobs ({ours['cpu_seconds']:.1f} s summed over jobs, of which combine "
        f"{ours['combine_seconds']:.1f} s); {size_mb / ours['seconds']:.1f} MB/s and "
        f"{n_records / ours['seconds']:.0f} records/s wall, "
        f"{size_mb / ours['cpu_seconds']:.1f} MB/s per core; peak RSS per shard job "
        f"{ours['peak_rss_mb']:.0f} MB, combine {ours['combine_peak_rss_mb']:.0f} MB "
        f"({args.shards} shards)"
    )
    if not args.no_metaknowledge and args.format == "plain":
        mk = run_metaknowledge(files)
        if mk is None:
            print("metaknowledge: not installed (pip install metaknowledge) - no comparison")
        else:
            print(
                f"metaknowledge (one process; it has no parallel mode): {mk['seconds']:.1f} s, "
                f"{size_mb / mk['seconds']:.1f} MB/s, {mk['records'] / mk['seconds']:.0f} "
                f"records/s, peak RSS {mk['peak_rss_mb']:.0f} MB, {mk['field_errors']} field "
                "errors"
            )
            print(
                f"ratio (same files, same run): {mk['seconds'] / ours['seconds']:.1f}x "
                f"metaknowledge's throughput wall-clock with {args.jobs} jobs, "
                f"{mk['seconds'] / ours['cpu_seconds']:.1f}x per core"
            )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    os.environ.setdefault("POLARS_MAX_THREADS", "1")
    main()
