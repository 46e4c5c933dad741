"""Benchmark of the whole workflow (not part of the test suite).

Generates a WoS corpus of N records in files of 500 with the project's generator (as
bench/parse.py does), then, in a fresh working directory:

1. `snakemake -n` on the new corpus (planning time with thousands of files);
2. the full build with `--cores 2`: wall time and the peak RSS of the largest process, and per
   stage (rule) from Snakemake's `benchmark:` files: jobs, summed and longest job time, peak RSS;
3. `snakemake -n` again with nothing to do;
4. one more 500-record file dropped into the exports and the workflow run again (a nightly
   refresh): its wall time as a share of the full build's.

    python bench/end_to_end.py                       # 2,000,000 records, 4,000 files
    python bench/end_to_end.py --records 20000       # a quick look
    python bench/end_to_end.py --records 200000 --shards 16 --keep /tmp/e2e

The issue's targets on a 2-core, 24 GB workstation: full build of 2,000,000 records <= 10 min
with peak RSS <= 8 GB; `snakemake -n` on 4,000 files <= 20 s; adding one file <= 5% of the
full build's time.

Measured on 2026-11-24, 2,000,000 records in 4,000 files (10.3 GB), machine quiet (load
average 1.2 before the build), one run each (`--reuse` of one generated corpus):

- Before this day's changes, 258 shards: full build 935.7 s wall, 1,635 s CPU, peak RSS
  7,356 MB (build_pool). Snakemake's own process used about 0.7 of a core while the parse jobs
  ran (see profiles/default), build_tables took 209 s, render_report 83 s, and 11,702 WoS
  records had been merged into other papers' works by title (merge.py now matches across
  sources only).
- This code, 129 shards (about 80 MB each): full build **589.1 s wall** (target 600 s), 1,081 s
  CPU of all processes, 141 jobs; peak RSS **5,815 MB** (compare_runs; target 8 GB). Per
  stage, wall s (jobs run one after another except the parse jobs, two at a time):
  parse_exports 664.9 summed over 129 jobs (8.8 s the longest), build_tables 116.2,
  render_report 29.0, normalise_addresses 26.2, merge_works 18.6, classify_papers 18.4,
  compare_runs 16.1, compute_indicators 9.4, build_pool 7.7, normalise_funding 2.2.
- Again with 64 MB build_tables parts (combine.py): full build **594.8 s**, 1,068 s CPU, peak
  RSS 5,861 MB, build_tables 108.5 s; one more file 256.6 s (43.1%). This run included the
  ~9 s wait described next (SLURM's controller was down).
- `snakemake -n`: 3.5 s with nothing built (141 jobs), 3.9 s with everything built (target
  20 s); 13.2 and 12.8 s when SLURM is installed but its controller is down: the SLURM
  executor plugin waits for `scontrol show config` at every Snakemake start.
- One more 500-record file: 253.5 s wall, 13 jobs, **43.0%** of the full build's wall time
  (target 5%: not met). Every stage after parsing still reads and writes the whole corpus.
- A period edit plans compute_indicators, compare_runs, render_report; an institution
  override plans no parse_exports or build_tables.

Measured on 2026-11-24, later, same corpus (load 0.6 and 1.3 before the builds):

- The record tables left in the shards (build_tables writes manifests and the superseded
  duplicates instead of 3 GB), shard tables in Polars' row groups: full build **455.4 s**,
  827 s CPU, peak RSS 5,919 MB; build_tables 2.7 s (was 108.5); one more file **147.3 s =
  32.4%**.
- Then normalisation and compare_runs computing only the parts they have not seen (stores
  under results/parts/): full build
  **436.4 s**, 784 s CPU, peak RSS **4,445 MB**; `snakemake -n` 3.6 s. One more file:
  **114.0 s = 26.1%** (target 5%: not met), of which render_report 30.6, classify_papers 22.2,
  merge_works 18.9, compute_indicators 12.6, build_pool 8.1, normalise_addresses 3.1 (20.8 in
  the full build), parse_exports 3.3, build_tables 2.6, compare_runs 2.4 (12.8), and
  normalise_funding 2.0. The rest still read the whole corpus.
- Then merge_works skipping the matching when the corpus has one source, and the record
  index encoding ids by a hash join (SLURM's controller was down: every Snakemake start
  waited ~9 s, planning 12.3 s): full build **426.7 s**, 773 s CPU, peak RSS 4,456 MB. One
  more file: **92.7 s = 21.7%**; again by hand with the controller up, 87.6 s (20.5%). Its
  stages: render_report 14.6 (25.0 in the full build), classify_papers 18.5, merge_works 10.2,
  compute_indicators 9.6, build_pool 8.1, parse_exports 3.3, normalise_addresses 3.2,
  build_tables 2.6, compare_runs 2.3, normalise_funding 1.9.

Measured on 2026-11-24, the next session (load 0.5 before the build; the machine was noisier
than before: the 129 parse jobs summed 646 s against 595 s in a run an hour earlier):

- Classification, the merge (one source) and the funders kept per shard like the addresses;
  the pool reading only the record columns it uses; the indicators reading no reference when
  no dataset cites; the report reading the highly cited works the indicators judged: full
  build **446.0 s**, 816 s CPU, peak RSS **2,826 MB** (compute_indicators; 4,456 before);
  `snakemake -n` 4.0 s. One more file: **55.6 s = 12.5%** (target 5%: not met), 13 jobs:
  render_report 14.8, compute_indicators 9.2, build_pool 5.2, parse_exports 3.8,
  normalise_addresses 3.5, build_tables 3.0, compare_runs 2.4, classify_papers 1.7 (15.9 in
  the full build), merge_works 1.1 (8.9), normalise_funding 0.7 (4.0); the rest is Snakemake's
  planning and the unbenchmarked draw_sample and write_invitations. An hour earlier, quieter,
  without the last two report changes: full build 414.6 s, one more file 53.9 s (13.0%).

Measured on 2026-11-24, a later session, two runs of the same code (load 1.2 and 0.6 before
the builds; the parse jobs summed 705 s in the first, 647 s in the second):

- Counts that add up over shards tallied per shard and summed (collabscope.parts.tally_shards:
  the review queues, the report's audit, countries, country policy and the papers changing
  class under another policy); the report's span funders sliced by the span only;
  build_tables sorting only the ids several shards hold; write_invitations reading the drawn
  people's papers only. Full build **477.8 / 451.4 s**, 870 / 822 s CPU, peak RSS **2,819 /
  2,875 MB**; `snakemake -n` 4.1 s. One more file: **45.3 s = 9.5% / 46.0 s = 10.2%** (target
  5%: not met), 13 jobs: render_report 9.1 / 9.3 (was 14.8), compute_indicators 9.2 / 9.3,
  build_pool 5.2 / 5.0, parse_exports 3.5, compare_runs 2.6 / 2.5, build_tables 2.2 / 2.4
  (3.0), classify_papers 1.7 / 1.6, normalise_addresses 1.1 (3.5; 26.3 / 27.0 in the full
  build, which now tallies every shard), merge_works 1.0, normalise_funding 0.8 / 0.7; about 6 s
  is Snakemake's start, planning and bookkeeping (it hashes every input under 1 MB when a job
  ends) and 2.7 s the unbenchmarked draw_sample and write_invitations. A Snakemake start waits
  about 9 s more when SLURM is installed and its controller is down (the SLURM executor plugin
  asks `scontrol show config` on import): start it (tools/local-slurm/start.sh) before a run.

Measured on 2026-11-24, the session after (the machine was noisier: the 129 parse jobs summed
686 and 666 s against 636 s that morning; load 1.7 and 1.5 before the builds):

- Run A: every indicator a sum of per-shard counts by year (results/parts/compute_indicators/),
  the report's records per year and funders tallied per shard, the parse jobs' table digests
  (digests.json) used by the per-shard stages, no numpy in a parse job, the report's figure
  names readable without matplotlib. Full build **484.9 s**, 876 s CPU, peak RSS **2,651 MB**
  (normalise_addresses; compute_indicators 2,801 -> 748 MB); `snakemake -n` 3.2 s. One more
  file: **35.9 s = 7.4%** (5.0% of the CPU time; target 5%: not met): render_report 6.8,
  build_pool 4.9, parse_exports 4.0, compute_indicators 3.0 (9.2 before), build_tables 2.4,
  compare_runs 1.9, classify_papers 1.4, normalise_addresses 1.2, merge_works 0.7,
  normalise_funding 0.7.
- Run B, also: render_report on one core beside write_invitations, Snakemake's checksums of
  small inputs capped at 256 KB (max-checksum-file-size), numpy and rapidfuzz loaded only by
  the matchers. Full build **458.0 s**, 824 s CPU, peak RSS **2,624 MB**; `snakemake -n` 3.5 s.
  One more file: **39.0 s = 8.5%** (6.0% of the CPU time): render_report 9.1, build_pool 7.0,
  compute_indicators 3.6, parse_exports 3.4, compare_runs 2.6, build_tables 2.2,
  classify_papers 1.6, normalise_addresses 1.1, merge_works 0.8, normalise_funding 0.8. Its
  refresh ran on a slower machine than run A's (build_pool, unchanged, 7.0 against 4.9 s, its
  CPU 10.6 against 7.8 s); by hand, render_report on one core and on two took 8.7 / 7.9 and
  7.3 / 8.9 s: no difference beyond the noise.

Measured on 2026-11-24, the session after (a new machine without SLURM; load 0.7-1.2 before
the builds; that morning, the code of the last run above built in 368.7 s and one more file
took 33.0 s = 8.9%):

- Run A (be3b2c5): compare_runs keeping its records snapshot per shard (a refresh compares the
  changed shards only), the pool's per-paper frames kept per shard (results/private/parts/),
  the top per cent from each group's papers per number of citations, build_tables finding the
  ids of several shards by a hash, the report's figures drawn by a forked worker, and the
  per-shard stages on one thread once their store holds results (two of them then run side by
  side). Full build **393.0 s**, 693 s CPU, peak RSS **2,607 MB**. One more file: **23.0 s =
  5.8%** (target 5%: not met).
- Run B (96f09c5), also: no source read when no id is in two shards, the classification's log
  summary without hashing six million ids, no class row read for citation links when nothing
  cites, checksums capped at 32 KB, no matplotlib in the report's own process. Full build
  **370.1 s**, 655 s CPU, peak RSS 2,628 MB. One more file: **22.2 s = 6.0%**, of which the
  parse job 6.5 s wall for 2.8 s CPU: it waited on the disk (its shard's 28 other files were
  no longer in the page cache after the build).
- Run C (d884f98), also: the sampling jobs first among the jobs ready at once. Full build
  **369.2 s**, 657 s CPU, peak RSS **2,658 MB**; `snakemake -n` 2.8 s (nothing built) and
  3.1 s (everything built). One more file: **17.2 s = 4.7%** (3.5% of the CPU time), 13
  jobs: render_report 3.6, parse_exports 3.0, build_pool 2.7, compute_indicators 1.6,
  build_tables 1.4, normalise_addresses 1.0, classify_papers 0.9, normalise_funding 0.8,
  merge_works 0.6, compare_runs 0.5; the rest, about 5 s, is Snakemake's start (2 s of
  imports), planning and bookkeeping, draw_sample and write_invitations.
- Run D, the same code again (load 2.2 before the build; the parse jobs summed 550 s against
  519 s in run C): full build **384.8 s**, 688 s CPU, peak RSS **2,616 MB**; `snakemake -n`
  3.5 / 3.4 s. One more file: **18.9 s = 4.9%** (3.7% of the CPU time): parse_exports 4.1,
  render_report 3.6, build_pool 2.7, compute_indicators 1.7, build_tables 1.7,
  normalise_addresses 1.1, classify_papers 1.0, normalise_funding 0.7, merge_works 0.6,
  compare_runs 0.5. The margin is thin: a parse job that reads its shard's other files from
  the disk (run B) takes the refresh over 5%.

Measured on 2026-11-24, the session after (same machine and corpus, SLURM's controller
started before the runs):

- Run E (b6bbc81), also: each parse job keeps every export file's tokens and records
  (results/parts/parse_exports/<shard>/, 2.4 GB for the 9.6 GB of exports) and does not read
  a file whose size, modification and status-change times are the ones it stamped when it
  last read it (load 1.0 before the build). Full build **402.3 s**, 726 s CPU, peak RSS
  **2,640 MB** (the parse jobs, writing their caches, summed 601 s against 519-550 s in runs C
  and D); `snakemake -n` 3.4 / 2.9 s. One more file: **16.4 s = 4.1%** (3.1% of the CPU
  time), its parse job reading that file alone ("1 of 29 files tokenised ... (1 files
  read)"): render_report 3.6, build_pool 2.6, parse_exports 2.2, compute_indicators 1.7,
  build_tables 1.3, normalise_addresses 1.0, classify_papers 0.9, normalise_funding 0.7,
  merge_works 0.5, compare_runs 0.5.
- Run F, the same code again (load 0.2 before the build): full build **386.7 s**, 703 s CPU,
  peak RSS **2,646 MB** (parse jobs summed 575 s); `snakemake -n` 2.9 / 2.7 s. One more file:
  **15.5 s = 4.0%** (3.0% of the CPU time): render_report 3.6, build_pool 2.4,
  parse_exports 2.1, compute_indicators 1.5, build_tables 1.3, normalise_addresses 0.9,
  classify_papers 0.9, normalise_funding 0.7, merge_works 0.5, compare_runs 0.5.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]


# Runs a command and prints the peak RSS (KB) of the largest process in its tree: the corpus
# generator's processes are this script's children too, so they are kept out of the figure.
PEAK_WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "r = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "sys.stderr.write(f'PEAK_RSS_KB={r.ru_maxrss} CPU_S={r.ru_utime + r.ru_stime}'); "
    "sys.exit(code)"
)


def snakemake(work: Path, *args: str) -> tuple[float, str, float]:
    """Run the project's workflow in ``work``; (wall s, output, peak RSS MB). Fails loudly.
    The CPU time of the run (all processes) is in the output as ``CPU_S=``."""
    command = [
        sys.executable,
        "-c",
        PEAK_WRAPPER,
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(PROJECT / "Snakefile"),
        "--directory",
        str(work),
        "--configfile",
        str(work / "config.yaml"),
        *args,
    ]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=work)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"snakemake {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    peak_kb = int(re.search(r"PEAK_RSS_KB=(\d+)", result.stderr).group(1))
    return elapsed, result.stdout + result.stderr, peak_kb / 1024


def cpu_seconds(output: str) -> float:
    return float(re.search(r"CPU_S=([\d.]+)", output).group(1))


def load() -> str:
    """The machine's load average (it may be shared: wall times then exceed CPU times)."""
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


def job_count(output: str) -> int:
    match = re.search(r"^total\s+(\d+)$", output, re.MULTILINE)
    return int(match.group(1)) if match else 0


def planned(output: str) -> dict[str, int]:
    """Rule -> jobs from a dry run's job stats."""
    table = output.split("Job stats:", 1)[-1]
    return {
        rule: int(n)
        for rule, n in re.findall(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)
        if rule not in ("total", "all")
    }


def _number(value: str) -> float:
    return float(value) if value not in ("", "NA", "-") else 0.0


def stage_table(
    benchmarks: Path, since: float = 0.0
) -> list[tuple[str, int, float, float, float, float]]:
    """(rule, jobs, summed s, longest s, summed CPU s, peak RSS MB) from
    benchmarks/<rule>/*.tsv (those written after ``since``, a time.time())."""
    rows: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for path in sorted(benchmarks.glob("*/*.tsv")):
        if path.stat().st_mtime < since:
            continue
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                rows[path.parent.name].append(
                    (float(row["s"]), _number(row["cpu_time"]), _number(row["max_rss"]))
                )
    return [
        (
            rule,
            len(jobs),
            sum(s for s, _, _ in jobs),
            max(s for s, _, _ in jobs),
            sum(c for _, c, _ in jobs),
            max(r for _, _, r in jobs),
        )
        for rule, jobs in rows.items()
    ]


def print_stages(benchmarks: Path, since: float = 0.0) -> None:
    print(
        f"{'stage (rule)':<22}{'jobs':>6}{'summed s':>11}{'longest s':>11}{'CPU s':>9}"
        f"{'peak RSS MB':>13}"
    )
    for rule, jobs, total, longest, rule_cpu, rss in stage_table(benchmarks, since):
        print(f"{rule:<22}{jobs:>6}{total:>11.1f}{longest:>11.1f}{rule_cpu:>9.1f}{rss:>13,.0f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--per-file", type=int, default=500)
    parser.add_argument(
        "--shards", type=int, help="parse.shards (default: about one per 80 MB of exports)"
    )
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="build the corpus already in the --keep folder again (the held-back file "
        "goes back to held_back/ first) instead of generating one",
    )
    args = parser.parse_args(argv)

    from collabscope.synth import generate_corpus

    work = args.keep or Path(tempfile.mkdtemp(prefix="collabscope-e2e-"))
    exports = work / "exports"
    start = time.perf_counter()
    if args.reuse:
        # A corpus this script generated before (--keep), its results removed: generating
        # 2,000,000 records takes longer than building them.
        held = sorted((work / "held_back").glob("*.txt"))
        if not exports.is_dir() or len(held) != 1:
            sys.exit(f"--reuse: {work} holds no corpus written by this script")
        held_back = held[0]
        files = sorted(exports.glob("*.txt"))
        args.records = len(files) * args.per_file
        for name in ("results", "logs", "benchmarks", ".snakemake", "overrides.csv"):
            target = work / name
            shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    else:
        if work.exists() and any(work.iterdir()):
            sys.exit(f"{work} is not empty")
        # One file more than asked for, held back for the refresh step (same seed: unique ids).
        files = generate_corpus(
            exports, args.records + args.per_file, args.per_file, seed=args.seed, fmt="plain"
        )
        extra = files.pop()
        held_back = work / "held_back" / extra.name
        held_back.parent.mkdir()
        extra.rename(held_back)
    size_mb = sum(f.stat().st_size for f in files) / 1e6
    # About 80 MB per shard: a parse job pays ~0.5 s to start Python and import, a quarter of
    # a 40 MB shard's time (2,000,000 records in 258 shards: 2.9 s wall per job).
    shards = args.shards or max(2, math.ceil(size_mb / 80))
    print(
        f"corpus: {args.records:,} records in {len(files):,} files, {size_mb:,.1f} MB "
        f"(generated in {time.perf_counter() - start:.1f} s); parse.shards = {shards}"
    )
    config = {
        "datasets": {
            "corpus": {
                "exports": ["exports/*.txt"],
                "description": f"bench/end_to_end.py corpus, {args.records} records",
            }
        },
        "parse": {"shards": shards},
    }
    (work / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=True))

    dry, output, _ = snakemake(work, "-n")
    print(f"snakemake -n, nothing built yet: {dry:.1f} s for {job_count(output)} jobs")

    print(f"before the build: {load()}")
    wall, output, peak_mb = snakemake(work, "--cores", str(args.cores))
    cpu = cpu_seconds(output)
    print(
        f"full build, --cores {args.cores}: {wall:.1f} s wall ({args.records / wall:,.0f} "
        f"records/s), {cpu:.1f} s CPU of all its processes, {job_count(output)} jobs; peak RSS "
        f"of the largest process {peak_mb:,.0f} MB; after it: {load()}"
    )
    print_stages(work / "benchmarks")
    print("(Snakemake samples a job's CPU time: short jobs and thread pools may be under-counted)")

    noop, output, _ = snakemake(work, "-n")
    print(f"snakemake -n, everything built: {noop:.1f} s, {job_count(output)} jobs to do")

    held_back.rename(exports / held_back.name)
    refresh_start = time.time()
    again, output, _ = snakemake(work, "--cores", str(args.cores))
    print(
        f"one more {args.per_file}-record file: {again:.1f} s wall, {cpu_seconds(output):.1f} s "
        f"CPU, {job_count(output)} jobs ({100 * again / wall:.1f}% of the full build's wall "
        f"time, {100 * cpu_seconds(output) / cpu:.1f}% of its CPU time); {load()}"
    )
    print_stages(work / "benchmarks", since=refresh_start)

    # Edits that must rerun no parsing (dry runs: the plan, not the time).
    periods = [{"label": "2001–2010", "first": 2001, "last": 2010}]
    (work / "config.yaml").write_text(yaml.safe_dump({**config, "study": {"periods": periods}}))
    print(f"a period edit plans: {planned(snakemake(work, '-n')[1])}")
    (work / "overrides.csv").write_text(
        "organisation_text,institution_id\nOxford Univ Press,gbr-oxford\n"
    )
    overrides = {"normalise": {"overrides": "overrides.csv"}}
    (work / "config.yaml").write_text(yaml.safe_dump({**config, **overrides}))
    print(f"an institution override plans: {planned(snakemake(work, '-n')[1])}")
    (work / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=True))
    (exports / held_back.name).rename(held_back)  # the corpus as generated, for --reuse
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
