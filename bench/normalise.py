"""Benchmark of address normalisation (not part of the test suite).

Builds N distinct WoS-style address strings (default 1,000,000) from the curated registry's
aliases, departments, cities and invented streets and postcodes, with misspellings and
unknown organisations mixed in, then times the normalisation stage's work on them: splitting
the address, resolving the country and matching the institution. Prints the time per step,
addresses/s and peak RSS.

    python bench/normalise.py                 # 1,000,000 distinct addresses
    python bench/normalise.py --n 200000
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from pathlib import Path

import polars as pl

PROJECT = Path(__file__).resolve().parents[1]
DEPARTMENTS = (
    "Sch Educ", "Fac Educ", "Dept Educ", "Inst Educ", "Dept Psychol", "Sch Foreign Languages",
    "Grad Sch Educ", "Coll Educ Sci", "Business Sch", "Dept Math", "Sch Social Sci",
)  # fmt: skip
COUNTRY_TEXT = {
    "GBR": ("England", "Scotland", "Wales", "North Ireland"),
    "CHN": ("Peoples R China",),
    "HKG": ("Hong Kong",),
    "TWN": ("Taiwan",),
    "MAC": ("Macau",),
}


def distinct_addresses(n: int, seed: int = 1) -> list[str]:
    registry = pl.read_csv(PROJECT / "resources" / "institutions" / "institutions.csv")
    rows = registry.filter(pl.col("country").is_in(["GBR", "CHN", "HKG", "TWN", "MAC"]))
    rng = random.Random(seed)
    entries = [
        (r["aliases"].split("|")[0], r["city"] or "City", r["country"])
        for r in rows.iter_rows(named=True)
    ]
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        organisation, city, country = rng.choice(entries)
        if rng.random() < 0.05:  # an organisation the registry does not know
            organisation = f"{rng.choice(('Natl', 'Prov', 'City'))} Ctr {rng.randrange(10**6)}"
        if rng.random() < 0.02:  # a misspelling
            i = rng.randrange(len(organisation))
            organisation = organisation[:i] + organisation[i + 1 :]
        text = COUNTRY_TEXT[country]
        postcode = f"{rng.randrange(100000, 999999)}" if country == "CHN" else ""
        address = ", ".join(
            part
            for part in (
                organisation,
                rng.choice(DEPARTMENTS),
                f"{rng.randrange(1, 999)} {rng.choice(('Main', 'Univ', 'College'))} Rd",
                f"{city} {postcode}".strip(),
                rng.choice(text),
            )
            if part
        )
        if address not in seen:
            seen.add(address)
            out.append(address)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()

    from collabscope.normalise.countries import (
        CountryPolicy,
        load_country_table,
        load_region_table,
        resolve_countries,
    )
    from collabscope.normalise.institutions import load_registry, match_institutions
    from collabscope.parse.wos_address import parse_addresses

    start = time.perf_counter()
    raws = distinct_addresses(args.n)
    print(f"{len(raws)} distinct addresses built in {time.perf_counter() - start:.1f} s")

    countries = PROJECT / "resources" / "countries"
    table = load_country_table(countries / "countries.csv")
    regions = load_region_table(countries)
    institutions = PROJECT / "resources" / "institutions"
    registry = load_registry([institutions / "institutions.csv"], [institutions / "tiers.csv"])

    timings = {}
    start = time.perf_counter()
    frame = parse_addresses(pl.DataFrame({"raw": raws}, schema={"raw": pl.String}), "raw")
    timings["split"] = time.perf_counter() - start
    start = time.perf_counter()
    located = resolve_countries(frame.lazy(), table, CountryPolicy(), regions=regions).collect()
    timings["countries"] = time.perf_counter() - start
    start = time.perf_counter()
    matched = match_institutions(located.lazy(), registry).collect()
    timings["institutions"] = time.perf_counter() - start
    total = sum(timings.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
    print(
        f"normalised {len(raws)} distinct addresses in {total:.1f} s ({steps}); "
        f"{len(raws) / total:,.0f} addresses/s; peak RSS {peak_mb:.0f} MB"
    )
    shares = matched.group_by("institution_method").len().sort("institution_method")
    print("institution methods:", dict(shares.iter_rows()))


if __name__ == "__main__":
    main()
