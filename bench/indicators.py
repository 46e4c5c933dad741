"""Benchmark of classification and all indicators (not part of the test suite).

Generates canonical and normalised tables for N records directly (no text exports: parsing
and normalisation have their own benches): world-like countries with China and UK papers,
China–UK papers, C1 author links from 2008, reprint addresses, funders, a citing dataset whose
references cite the China–UK papers by DOI or by author-year-volume-page, and references for
every record. Then runs the two workflow stages (``classify_papers``, ``compute_indicators``)
in a child process with POLARS_MAX_THREADS=2 and prints wall time and the child's peak RSS.

    python bench/indicators.py                  # 2,000,000 records
    python bench/indicators.py --n 100000 --keep /tmp/bench-indicators

Measured on 2026-11-23, 2,000,000 records, machine quiet (load 1.3-1.8 on 2 cores), two
runs: both stages 39.3 and 40.5 s wall (target 60 s), CPU 65-67 s; peak RSS 9.4 GB,
reached during classification.
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

import numpy as np
import polars as pl

from collabscope import schemas
from collabscope.tableio import write_table

COUNTRIES = ["CHN", "GBR", "USA", "AUS", "CAN", "HKG", "DEU", "ESP", "NLD", "TWN", "JPN", "KOR"]
COUNTRIES += ["SGP", "FIN", "SWE", "TUR", "ZAF", "ISR", "NZL", "IRL", "MAC", "FRA", "ITA", "BRA"]
WEIGHTS = np.array([20, 12, 25, 6, 4, 3, 3, 3, 2, 2, 2, 2] + [1] * 12, dtype=float)
CATEGORIES = [f"Category {i}" for i in range(12)]
PERIODS = [
    {"label": "2001–2005", "first": 2001, "last": 2005},
    {"label": "2006–2010", "first": 2006, "last": 2010},
    {"label": "2011–2015", "first": 2011, "last": 2015},
    {"label": "2016–2020", "first": 2016, "last": 2020},
]
SETTINGS = {
    "counting": "full",
    "top_n": 10,
    "citing": {"citing": "china_uk"},
    "field_dataset": "",
    "hcp_method": "auto",
    "top_percent": 1.0,
    "reference_datasets": [],
}


def _full(frame: pl.DataFrame, table: schemas.Table) -> pl.DataFrame:
    """The table's columns, those not generated null."""
    return frame.with_columns(
        [
            pl.lit(None, dtype).alias(name)
            for name, dtype in table.schema.items()
            if name not in frame.columns
        ]
    )


def generate(n: int, out: Path, refs_per_record: int, seed: int = 1) -> dict[str, Path]:
    rng = np.random.default_rng(seed)
    n_citing = n // 20
    ids = np.arange(n + n_citing)
    record_id = pl.Series("record_id", ids).cast(pl.String).str.zfill(15)
    record_id = ("WOS:" + record_id).alias("record_id")
    year = rng.choice(np.arange(2001, 2021), size=ids.size, p=_growth(20))
    year[n:] = np.minimum(year[n:] + rng.integers(1, 4, n_citing), 2023)
    n_addr = rng.choice([1, 2, 3, 4, 5], size=ids.size, p=[0.35, 0.35, 0.18, 0.08, 0.04])
    n_authors = n_addr + rng.integers(0, 3, ids.size)
    n_authors[rng.random(ids.size) < 0.12] = 1
    tc = rng.lognormal(1.5, 1.1, ids.size).astype(np.int64)
    hc = np.where(rng.random(ids.size) < 0.01, True, False)
    hc_known = rng.random(ids.size) < 0.7
    records = pl.DataFrame(
        {
            "record_id": record_id,
            "year": year,
            "n_authors": n_authors,
            "n_addresses": n_addr,
            "times_cited": tc,
            "hc": hc,
            "hc_known": hc_known,
            "cat": rng.integers(0, len(CATEGORIES), ids.size),
            "volume": rng.integers(1, 60, ids.size),
            "start_page": rng.integers(1, 2000, ids.size),
        }
    ).with_columns(
        highly_cited=pl.when("hc_known").then(pl.col("hc")),
        subject_categories=pl.concat_list(
            pl.col("cat").replace_strict(list(range(len(CATEGORIES))), CATEGORIES)
        ),
        doi=pl.when(pl.col("year") > 2003).then(
            pl.format("10.1000/bench.{}", pl.col("record_id").str.slice(4))
        ),
        volume=pl.col("volume").cast(pl.String),
        start_page=pl.col("start_page").cast(pl.String),
        database=pl.lit("WOS"),
    )

    # Addresses: countries drawn per address; a China-UK share planted.
    total = int(n_addr.sum())
    owner = np.repeat(ids, n_addr)
    pos = np.arange(total) - np.repeat(np.cumsum(n_addr) - n_addr, n_addr) + 1
    country = rng.choice(len(COUNTRIES), size=total, p=WEIGHTS / WEIGHTS.sum())
    inst = rng.integers(0, 400, total)
    addresses = pl.DataFrame(
        {
            "rid": owner,
            "address_pos": pos,
            "country": np.array(COUNTRIES)[country],
            "inst": inst,
        }
    ).with_columns(
        record_id=pl.col("rid").cast(pl.String).str.zfill(15).map_batches(lambda s: "WOS:" + s),
        kind=pl.lit("affiliation"),
        institution_id=pl.format("{}-{}", pl.col("country").str.to_lowercase(), pl.col("inst")),
    )
    # The reprint address: the first author's (70%) or the last address's (a last author's).
    reprint = (
        addresses.join(records.select("record_id", "n_addresses"), on="record_id")
        .filter(
            pl.col("address_pos")
            == pl.when(pl.col("rid") % 10 < 7).then(1).otherwise(pl.col("n_addresses"))
        )
        .with_columns(address_pos=pl.col("n_addresses") + 1, kind=pl.lit("reprint"))
        .drop("n_addresses")
    )
    addresses = pl.concat([addresses, reprint.select(addresses.columns)]).with_columns(
        raw=pl.format("Univ {}, City, {}", pl.col("inst"), pl.col("country")),
        organisation=pl.format("Univ {}", pl.col("inst")),
        country_recorded=pl.col("country"),
        country_method=pl.lit("exact"),
        country_score=pl.lit(100.0),
        institution_method=pl.lit("exact"),
        institution_score=pl.lit(100.0),
        is_transnational=pl.lit(False),
    )

    # Authors and C1 links (from 2008): author k at address min(k, n_addr); RP for author 1.
    authors = records.select("record_id", "year", "n_authors", "n_addresses").with_columns(
        position=pl.int_ranges(1, pl.col("n_authors") + 1)
    )
    authors = authors.explode("position").with_columns(
        name=pl.format("Author{}, A", pl.col("position")),
        is_corresponding=pl.col("position") == 1,
    )
    links = authors.filter(pl.col("year") >= 2008).select(
        "record_id", "position", address_pos=pl.min_horizontal("position", "n_addresses")
    )
    links = pl.concat(
        [
            links,
            authors.filter(pl.col("position") == 1).select(
                "record_id", "position", address_pos=pl.col("n_addresses") + 1
            ),
        ]
    )

    # Datasets: world = all corpus records; china/uk/china_uk by address; citing = the tail.
    countries = (
        addresses.filter(pl.col("kind") == "affiliation")
        .group_by("record_id")
        .agg(chn=(pl.col("country") == "CHN").any(), gbr=(pl.col("country") == "GBR").any())
    )
    corpus = records.head(n).select("record_id").join(countries, on="record_id")
    members = pl.concat(
        [
            corpus.select(pl.lit("world").alias("dataset"), "record_id"),
            corpus.filter("chn").select(pl.lit("china").alias("dataset"), "record_id"),
            corpus.filter("gbr").select(pl.lit("uk").alias("dataset"), "record_id"),
            corpus.filter(pl.col("chn") & pl.col("gbr")).select(
                pl.lit("china_uk").alias("dataset"), "record_id"
            ),
            records.tail(n_citing).select(pl.lit("citing").alias("dataset"), "record_id"),
        ]
    )

    # References: every record cites refs_per_record pool works; citing records also cite
    # China-UK papers (half by DOI, half by author-year-volume-page).
    n_refs = ids.size * refs_per_record
    references = pl.DataFrame(
        {
            "rid": np.repeat(ids, refs_per_record),
            "ref_pos": np.tile(np.arange(1, refs_per_record + 1), ids.size),
            "work": rng.integers(0, 5_000_000, n_refs),
        }
    ).with_columns(
        record_id=pl.col("rid").cast(pl.String).str.zfill(15).map_batches(lambda s: "WOS:" + s),
        doi=pl.when(pl.col("work") % 3 == 0).then(pl.format("10.2000/pool.{}", pl.col("work"))),
        link_key=pl.format("pool{}|a|1999|1|{}", pl.col("work"), pl.col("ref_pos")),
    )
    cu = members.filter(pl.col("dataset") == "china_uk").join(records, on="record_id")
    cu = cu.select("record_id", "doi", "year", "volume", "start_page")
    citing_ids = records.tail(n_citing)["record_id"]
    picks = rng.integers(0, max(cu.height, 1), n_citing * 3)
    cited = cu[picks].with_columns(
        citing=pl.Series(np.repeat(citing_ids.to_numpy(), 3)),
        ref_pos=pl.Series(np.tile(refs_per_record + np.arange(1, 4), n_citing)),
        by_doi=pl.Series(rng.random(n_citing * 3) < 0.5),
    )
    extra = cited.select(
        pl.col("citing").alias("record_id"),
        "ref_pos",
        doi=pl.when("by_doi").then("doi"),
        link_key=pl.format(
            "author|a|{}|{}|{}", pl.col("year"), pl.col("volume"), pl.col("start_page")
        ),
    )
    references = pl.concat(
        [references.select("record_id", "ref_pos", "doi", "link_key"), extra]
    ).unique(["record_id", "ref_pos"], keep="first")

    # Funding: 40% of records, one to three funders from a registry of 240.
    funded = records.select("record_id").sample(fraction=0.4, seed=seed)
    funding = funded.with_columns(funder_pos=pl.int_ranges(1, 1 + (pl.int_range(pl.len()) % 3) + 1))
    funding = funding.explode("funder_pos").with_columns(
        f=(pl.col("record_id").str.slice(4).cast(pl.Int64) * 7 + pl.col("funder_pos")) % 240
    )
    funding = funding.with_columns(
        funder_id=pl.when(pl.col("f") < 230).then(pl.format("funder-{}", pl.col("f"))),
        funder_name=pl.when(pl.col("f") < 230).then(pl.format("Funder {}", pl.col("f"))),
        funder_country=pl.when(pl.col("f") < 230).then(
            pl.col("f").mod(len(COUNTRIES)).replace_strict(list(range(len(COUNTRIES))), COUNTRIES)
        ),
        funder_raw=pl.format("Funder {}", pl.col("f")),
    )
    datasets = pl.DataFrame({"dataset": ["world", "china", "uk", "china_uk", "citing"]})

    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "records": (records, schemas.RECORDS),
        "dataset_records": (members, schemas.DATASET_RECORDS),
        "authorships": (authors, schemas.AUTHORSHIPS),
        "author_address": (links, schemas.AUTHOR_ADDRESS),
        "references": (references, schemas.REFERENCES),
        "datasets": (datasets, schemas.DATASETS),
        "addresses": (addresses, schemas.ADDRESSES_NORMALISED),
        "funding": (funding, schemas.FUNDING_NORMALISED),
    }
    written = {}
    for name, (frame, table) in paths.items():
        written[name] = write_table(_full(frame, table), table, out / f"{name}.parquet")
    return written


def _growth(k: int) -> np.ndarray:
    weights = 1.08 ** np.arange(k)
    return weights / weights.sum()


def run_stages(directory: Path) -> None:
    """The child: both stages as the workflow runs them, timed."""
    from collabscope.classify.stage import classify_papers, compute_indicators

    tables = {p.stem: str(p) for p in directory.glob("*.parquet")}
    out = directory / "out"
    classified = {
        t.name: str(out / "tables" / f"{t.name}.parquet") for t in schemas.CLASSIFIED_TABLES
    }
    indicator_files = {t.name: str(out / "ind" / f"{t.name}.parquet") for t in schemas.INDICATORS}
    indicator_files |= {
        f"{t.name}_csv": str(out / "ind" / f"{t.name}.csv") for t in schemas.INDICATORS
    }
    start = time.perf_counter()
    summary = classify_papers(
        tables["records"], tables["author_address"], tables["addresses"], ["CHN", "GBR"],
        "first_author", classified,
    )  # fmt: skip
    middle = time.perf_counter()
    # Peak so far = classification's; the workflow runs each stage in its own process.
    classify_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = compute_indicators(
        {**tables, **classified}, ["CHN", "GBR"], PERIODS, SETTINGS,
        {**indicator_files, **{k: classified[k] for k in ("citation_links", "highly_cited_works")}},
    )  # fmt: skip
    end = time.perf_counter()
    peak = f"peak RSS {classify_peak:,.0f} MB"
    print(f"classify_papers     {middle - start:6.1f} s  {peak}  {summary}")
    print(f"compute_indicators  {end - middle:6.1f} s  rows {rows}")
    print(f"both stages         {end - start:6.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000_000, help="corpus records")
    parser.add_argument("--refs", type=int, default=10, help="cited references per record")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this folder")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_stages(args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.keep or Path(tmp)
        start = time.perf_counter()
        paths = generate(args.n, directory, args.refs)
        size = sum(p.stat().st_size for p in paths.values()) / 1e6
        print(f"generated {args.n:,} records (+5% citing) in {time.perf_counter() - start:.1f} s,")
        print(f"  {size:.0f} MB of tables; running the stages with {args.threads} threads")
        env = {**os.environ, "POLARS_MAX_THREADS": str(args.threads)}
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--child", str(directory)], env=env, check=True)
        wall = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = usage.ru_utime + usage.ru_stime
        print(
            f"wall time {wall:.1f} s (incl. interpreter start), CPU time {cpu:.1f} s, "
            f"peak RSS {usage.ru_maxrss / 1024:.0f} MB; load average now "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )


if __name__ == "__main__":
    main()
