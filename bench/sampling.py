"""Benchmark of the interview pool and draw (not part of the test suite).

Builds N China–UK papers (default 50,000) with 2-12 authors each, drawn from a population of
people who write several papers (so every disambiguation rule has work: shared ORCIDs,
e-mails, names at one institution, co-authors), then times building the pool and drawing the
sample. Prints papers/s, authorships/s and peak RSS.

    python bench/sampling.py              # 50,000 papers
    python bench/sampling.py --papers 5000
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from pathlib import Path

import polars as pl

from collabscope import schemas
from collabscope.normalise.institutions import load_registry
from collabscope.sampling import draw, pool

PROJECT = Path(__file__).resolve().parents[1]
SURNAMES = ["Li", "Wang", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu"]
SURNAMES += ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas"]
GIVEN = ["Wei", "Lan", "Hong", "Jie", "Min", "Qing", "Yan", "Bo", "Tao", "Fang", "Jun", "Xin"]
GIVEN += ["Anna", "Ben", "Clare", "David", "Emma", "Frank", "Grace", "Harry", "Iris", "Jack"]


def corpus(n_papers: int, seed: int = 1) -> dict[str, pl.DataFrame]:
    rng = random.Random(seed)
    registry = pl.read_csv(PROJECT / "resources" / "institutions" / "institutions.csv")
    places = {
        c: registry.filter(pl.col("country") == c)["institution_id"].to_list()
        for c in ("CHN", "GBR")
    }
    people = []
    for i in range(max(50, n_papers // 2)):
        country = "CHN" if i % 2 else "GBR"
        surname = rng.choice(SURNAMES)
        given = rng.choice(GIVEN) + rng.choice(GIVEN).lower()
        people.append(
            {
                "au": f"{surname}, {given[0]}",
                "af": f"{surname}, {given}",
                "country": country,
                "institution": rng.choice(places[country]),
                "orcid": f"0000-000{1 + i % 3}-{i // 10000 % 10000:04d}-{i % 10000:04d}"
                if rng.random() < 0.3
                else None,
                "email": f"{given.lower()}.{surname.lower()}{i}@example.org"
                if rng.random() < 0.5
                else None,
            }
        )
    records, authorships, addresses, links = [], [], [], []
    for p in range(n_papers):
        rid = f"WOS:{p:015d}"
        chosen = rng.sample(people, rng.randint(2, 12))
        if {c["country"] for c in chosen} != {"CHN", "GBR"}:
            chosen[0] = next(q for q in people if q["country"] != chosen[1]["country"])
        insts = list(dict.fromkeys((c["institution"], c["country"]) for c in chosen))
        records.append(
            {
                "record_id": rid,
                "year": 2001 + p % 20,
                "title": f"Paper {p}",
                "emails": [c["email"] for c in chosen if c["email"]],
            }
        )
        for pos, (inst, country) in enumerate(insts, start=1):
            addresses.append(
                {
                    "record_id": rid,
                    "address_pos": pos,
                    "kind": "affiliation",
                    "raw": f"{inst}, Dept, Town, {country}",
                    "country": country,
                    "institution_id": inst,
                }
            )
        for position, c in enumerate(chosen, start=1):
            authorships.append(
                {
                    "record_id": rid,
                    "position": position,
                    "name": c["au"],
                    "full_name": c["af"],
                    "orcid": c["orcid"],
                    "is_corresponding": position == 1,
                }
            )
            pos = insts.index((c["institution"], c["country"])) + 1
            links.append({"record_id": rid, "position": position, "address_pos": pos})

    def table(rows: list[dict], spec: schemas.Table) -> pl.DataFrame:
        frame = pl.DataFrame(rows)
        missing = [pl.lit(None, dtype).alias(n) for n, dtype in spec.schema.items()]
        missing = [e for e, n in zip(missing, spec.schema.names(), strict=True) if n not in frame]
        return schemas.conform(frame.with_columns(missing), spec)

    return {
        "records": table(records, schemas.RECORDS),
        "authorships": table(authorships, schemas.AUTHORSHIPS),
        "addresses": table(addresses, schemas.ADDRESSES_NORMALISED),
        "author_address": table(links, schemas.AUTHOR_ADDRESS),
        "dataset_records": table([], schemas.DATASET_RECORDS),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=50_000)
    args = parser.parse_args()
    start = time.perf_counter()
    tables = corpus(args.papers)
    n_authorships = tables["authorships"].height
    print(f"corpus: {args.papers} papers, {n_authorships} authorships")
    print(f"  generated in {time.perf_counter() - start:.1f} s")
    institutions = PROJECT / "resources" / "institutions"
    registry = load_registry([institutions / "institutions.csv"], [institutions / "tiers.csv"])
    start = time.perf_counter()
    built = pool.build_pool({k: v.lazy() for k, v in tables.items()}, registry, ["CHN", "GBR"])
    elapsed = time.perf_counter() - start
    print(
        f"pool: {built.people.height} people, {built.merges.height} merges "
        f"{built.merges_by_rule} in {elapsed:.1f} s "
        f"({args.papers / elapsed:.0f} papers/s, {n_authorships / elapsed:.0f} authorships/s)"
    )
    strata = [
        draw.Stratum("UK-R", "GBR", 5, 3, tier="russell-group"),
        draw.Stratum("UK-NR", "GBR", 5, 3, tier_not="russell-group"),
        draw.Stratum("MC-DF", "CHN", 5, 3, tier="double-first-class"),
        draw.Stratum("MC-NDF", "CHN", 5, 3, tier_not="double-first-class"),
    ]
    start = time.perf_counter()
    result = draw.draw_sample(built.people, strata, draw.Filters(), seed=1)
    print(f"draw: {result.sample.height} drawn in {time.perf_counter() - start:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
