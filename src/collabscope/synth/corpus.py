"""A benchmark corpus of any size, written file by file (memory does not grow with its size).

Each file is generated from its own random stream (seeded by the corpus seed and the file's
index), so files can be written by several processes and the bytes do not depend on how many.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import random
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from collabscope.synth.plan import CHINA, CITING, CU, UK, WORLD, Planner
from collabscope.synth.realise import CORPUS_PROFILE, Profile, Realiser, ReferencePool
from collabscope.synth.render import PLAIN, TAB, export_text, write_export

FORMATS = {"plain": PLAIN, "tab": TAB}
_KINDS = ((WORLD, 0.78), (CHINA, 0.09), (UK, 0.09), (CU, 0.02), (CITING, 0.02))
_KIND_NAMES = [k for k, _ in _KINDS]
_KIND_CUM = [sum(w for _, w in _KINDS[: i + 1]) for i in range(len(_KINDS))]
_YEARS = list(range(2001, 2021))
_YEAR_CUM = [sum(1.06**j for j in range(i + 1)) for i in range(len(_YEARS))]
# UT numbers: i -> (A*i + B) mod 10^12 is a bijection (A is coprime to 10^12): unique, scattered.
_UT_A, _UT_B, _UT_M = 7_919_000_001, 386_000_000_000, 10**12
EXPORT_DATE = "2021-06-01"


def corpus_ut(i: int) -> str:
    return f"WOS:000{(_UT_A * i + _UT_B) % _UT_M:012d}"


def export_name(i: int) -> str:
    """Web of Science's download names: savedrecs.txt, savedrecs (1).txt, ..."""
    return "savedrecs.txt" if i == 0 else f"savedrecs ({i}).txt"


def times_cited(rng: random.Random, year: int, export_year: int = 2021) -> int:
    age = max(0, export_year - year)
    if not age:
        return int(rng.random() * 3)
    return int(rng.lognormvariate(math.log(1 + 2.2 * age), 0.9))


def _pick(cum: list[float], x: float) -> int:
    lo, hi = 0, len(cum) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


class _FileWriter:
    """Writes corpus files; holds what all files share (the reference pool, the tables)."""

    def __init__(self, seed: int, profile: Profile) -> None:
        self.seed = seed
        self.profile = profile
        self.pool = ReferencePool(
            random.Random(f"collabscope-corpus/{seed}/pool"), profile.pool_size
        )

    def write(self, out_dir: Path, index: int, first: int, count: int, fmt: str) -> Path:
        rng = random.Random(f"collabscope-corpus/{self.seed}/file/{index}")
        planner = Planner(rng)
        realiser = Realiser(rng, self.profile, track_dois=False)
        realiser.pool = self.pool
        low, high = self.profile.refs
        batch = []
        rnd = rng.random
        for i in range(first, first + count):
            kind = _KIND_NAMES[_pick(_KIND_CUM, rnd() * _KIND_CUM[-1])]
            year = _YEARS[_pick(_YEAR_CUM, rnd() * _YEAR_CUM[-1])]
            if kind == CITING:
                year = min(2023, year + 1 + int(rnd() * 3))
            plan = planner.plan(
                corpus_ut(i), kind, year, n_refs=low + int(rnd() * (high - low + 1))
            )
            if plan.doc_type == "Book Review":
                plan.n_refs = int(rnd() * 3)
            elif plan.doc_type == "Editorial Material":
                plan.n_refs = int(rnd() * 12)
            if year >= 2019 and plan.doc_type == "Article" and rnd() < 0.04:
                plan.early_access = "ea_only"
            plan.times_cited = times_cited(rng, year)
            if year >= 2010 and rnd() < 0.01:
                plan.highly_cited = True
                plan.hot_paper = year >= 2019 and rnd() < 0.3
                plan.times_cited = plan.times_cited * 5 + 40
            record = realiser.realise(plan)
            realiser.add_references(record)
            batch.append((record, False))
        if fmt == "plain":
            text = export_text(batch, PLAIN, header="clarivate", da=EXPORT_DATE, eol="\n")
        else:
            text = export_text(batch, TAB, layout="modern71", da=EXPORT_DATE, eol="\r\n")
        path = out_dir / export_name(index)
        write_export(path, text, "utf-8-sig")
        return path


_WRITERS: dict[tuple[int, Profile], _FileWriter] = {}  # per worker process


def _write_file(job: tuple[Path, int, int, int, str, int, Profile]) -> Path:
    out_dir, index, first, count, fmt, seed, profile = job
    writer = _WRITERS.get((seed, profile))
    if writer is None:
        writer = _WRITERS[(seed, profile)] = _FileWriter(seed, profile)
    return writer.write(out_dir, index, first, count, fmt)


def generate_corpus(
    out_dir: Path,
    n_records: int,
    records_per_file: int = 500,
    seed: int = 1,
    fmt: str = "plain",
    *,
    workers: int | None = None,
    profile: Profile = CORPUS_PROFILE,
) -> list[Path]:
    """Write ``n_records`` realistic records (unique UTs) into files of ``records_per_file``.

    ``fmt``: "plain" (UTF-8 with BOM, LF, like a current download) or "tab" (UTF-8 with BOM,
    CRLF, the current 71-column layout). Files are named as WoS names downloads
    (``savedrecs.txt``, ``savedrecs (1).txt``, …). ``workers``: processes to write files in
    (default: up to 8 when there are at least 8 files); the bytes do not depend on it.
    Returns the files written, in order. Same arguments, same bytes.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {sorted(FORMATS)}, not {fmt!r}")
    if records_per_file < 1:
        raise ValueError("records_per_file must be at least 1")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [
        (out_dir, i, first, min(records_per_file, n_records - first), fmt, seed, profile)
        for i, first in enumerate(range(0, max(n_records, 0), records_per_file))
    ]
    if workers is None:
        workers = min(8, os.cpu_count() or 1) if len(jobs) >= 8 else 1
    if workers <= 1 or len(jobs) <= 1:
        writer = _FileWriter(seed, profile)
        return [writer.write(out_dir, i, first, count, fmt) for _, i, first, count, *_ in jobs]
    context = multiprocessing.get_context("spawn")  # never fork a process that may hold threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(_write_file, jobs, chunksize=1))
