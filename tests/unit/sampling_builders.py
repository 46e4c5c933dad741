"""Small hand-written canonical tables for the sampling tests.

A paper is written as ``paper(record_id, year, authors, addresses, emails=...)``: each author
is (AU, AF, [address indices], extras) and each address (raw, country, institution_id); the
builders return the four tables the pool needs, in their canonical schemas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from collabscope import schemas
from collabscope.tableio import write_table


@dataclass
class Author:
    au: str
    af: str | None = None
    addresses: Sequence[int] = (1,)
    orcid: str | None = None
    researcher_id: str | None = None
    corresponding: bool = False


@dataclass
class Address:
    institution_id: str | None
    country: str
    raw: str = ""


@dataclass
class Paper:
    record_id: str
    year: int
    authors: Sequence[Author]
    addresses: Sequence[Address]
    emails: Sequence[str] = ()
    title: str = ""
    linked: bool = True  # C1 [Author] brackets
    datasets: Sequence[str] = ("pair",)
    extra: dict = field(default_factory=dict)


INSTITUTION_NAMES = {
    "chn-beijing-normal": "Beijing Normal University",
    "chn-tsinghua": "Tsinghua University",
    "gbr-oxford": "University of Oxford",
    "gbr-leeds": "University of Leeds",
    "gbr-bristol": "University of Bristol",
    "gbr-bath-spa": "Bath Spa University",
    "chn-hunan-normal": "Hunan Normal University",
}


def _frame(table: schemas.Table, rows: list[dict]) -> pl.DataFrame:
    data = {name: [row.get(name) for row in rows] for name in table.schema.names()}
    return pl.DataFrame(data, schema=table.schema)


def tables(papers: Sequence[Paper]) -> dict[str, pl.DataFrame]:
    records, authorships, addresses, links, datasets = [], [], [], [], []
    for p in papers:
        records.append(
            {
                "record_id": p.record_id,
                "year": p.year,
                "title": p.title or f"Paper {p.record_id}",
                "journal": "JOURNAL OF TESTS",
                "emails": list(p.emails),
                "n_authors": len(p.authors),
                "n_addresses": len(p.addresses),
            }
        )
        datasets += [{"dataset": d, "record_id": p.record_id} for d in p.datasets]
        for pos, a in enumerate(p.addresses, start=1):
            name = INSTITUTION_NAMES.get(a.institution_id or "")
            addresses.append(
                {
                    "record_id": p.record_id,
                    "address_pos": pos,
                    "kind": "affiliation",
                    "raw": a.raw or f"{name or 'Somewhere'}, Dept {pos}, {a.country}",
                    "country_recorded": a.country,
                    "country": a.country,
                    "institution_id": a.institution_id,
                    "institution_name": name,
                    "institution_method": "exact" if a.institution_id else "none",
                }
            )
        for position, author in enumerate(p.authors, start=1):
            authorships.append(
                {
                    "record_id": p.record_id,
                    "position": position,
                    "name": author.au,
                    "full_name": author.af or author.au,
                    "orcid": author.orcid,
                    "researcher_id": author.researcher_id,
                    "is_corresponding": author.corresponding,
                }
            )
            if p.linked:
                links += [
                    {"record_id": p.record_id, "position": position, "address_pos": i}
                    for i in author.addresses
                ]
    return {
        "records": _frame(schemas.RECORDS, records),
        "authorships": _frame(schemas.AUTHORSHIPS, authorships),
        "addresses": _frame(schemas.ADDRESSES_NORMALISED, addresses),
        "author_address": _frame(schemas.AUTHOR_ADDRESS, links),
        "dataset_records": _frame(schemas.DATASET_RECORDS, datasets),
    }


TABLE_OF = {
    "records": schemas.RECORDS,
    "authorships": schemas.AUTHORSHIPS,
    "addresses": schemas.ADDRESSES_NORMALISED,
    "author_address": schemas.AUTHOR_ADDRESS,
    "dataset_records": schemas.DATASET_RECORDS,
}


def write_tables(papers: Sequence[Paper], directory: Path) -> dict[str, str]:
    paths = {}
    for name, frame in tables(papers).items():
        path = directory / f"{name}.parquet"
        write_table(frame, TABLE_OF[name], path)
        paths[name] = str(path)
    return paths


def pair_paper(
    record_id: str,
    year: int,
    chinese: Sequence[Author],
    british: Sequence[Author],
    chn: str | None = "chn-beijing-normal",
    gbr: str | None = "gbr-oxford",
    emails: Sequence[str] = (),
) -> Paper:
    """A China–UK paper: the Chinese authors at address 1, the British at address 2."""
    authors = [Author(a.au, a.af, (1,), a.orcid, a.researcher_id, a.corresponding) for a in chinese]
    authors += [
        Author(a.au, a.af, (2,), a.orcid, a.researcher_id, a.corresponding) for a in british
    ]
    return Paper(record_id, year, authors, [Address(chn, "CHN"), Address(gbr, "GBR")], emails)
