"""OpenAlex works as JSON, JSON Lines and CSV: fields, authorships, country codes, ROR ids."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from collabscope.normalise.countries import (
    CountryPolicy,
    load_country_table,
    load_region_table,
    resolve_countries,
)
from collabscope.parse.shard import parse_files
from tests.conftest import PROJECT

OXFORD = {
    "id": "https://openalex.org/I40120149",
    "display_name": "University of Oxford",
    "ror": "https://ror.org/052gg0110",
    "country_code": "GB",
}
BNU = {
    "id": "https://openalex.org/I25254941",
    "display_name": "Beijing Normal University",
    "ror": "https://ror.org/022k4wk35",
    "country_code": "CN",
}
WORK = {
    "id": "https://openalex.org/W2755950973",
    "doi": "https://doi.org/10.1016/J.JOI.2017.08.007",
    "title": "Teacher education in China and England",
    "publication_year": 2019,
    "publication_date": "2019-05-01",
    "type": "article",
    "language": "en",
    "cited_by_count": 31,
    "primary_location": {
        "source": {"display_name": "Comparative Education", "issn_l": "0305-0068"}
    },
    "biblio": {"volume": "55", "issue": "3", "first_page": "301", "last_page": "320"},
    "abstract_inverted_index": {"Teachers": [0], "learn": [1], "abroad.": [2]},
    "authorships": [
        {
            "author_position": "first",
            "author": {
                "id": "https://openalex.org/A1",
                "display_name": "Xiaoming Li",
                "orcid": "https://orcid.org/0000-0002-8517-9411",
            },
            "institutions": [BNU, OXFORD],
            "countries": ["CN", "GB"],
            "is_corresponding": False,
        },
        {
            "author_position": "last",
            "author": {"id": "https://openalex.org/A2", "display_name": "John Smith"},
            "institutions": [OXFORD],
            "countries": ["GB"],
            "is_corresponding": True,
        },
        {
            "author_position": "middle",
            "author": {"id": "https://openalex.org/A3", "display_name": "Ana Costa"},
            "institutions": [],
            "countries": ["PT"],
            "raw_affiliation_strings": ["Universidade de Lisboa, Portugal"],
            "is_corresponding": False,
        },
    ],
    "referenced_works": ["https://openalex.org/W1", "https://openalex.org/W2"],
    "grants": [
        {
            "funder_display_name": "National Natural Science Foundation of China",
            "award_id": "71774012",
        }
    ],
}


def _tables(tmp_path: Path, name: str, text: str) -> dict[str, pl.DataFrame]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse_files({str(path): ["d"]}).tables


def test_json_page(tmp_path: Path) -> None:
    page = {"meta": {"count": 1}, "results": [WORK]}
    t = _tables(tmp_path, "page.json", json.dumps(page, indent=2))
    record = t["records"].row(0, named=True)
    assert (record["record_id"], record["source"], record["database"], record["source_format"]) == (
        "W2755950973",
        "openalex",
        "OPENALEX",
        "openalex_json",
    )
    assert (record["doi"], record["year"], record["journal"], record["times_cited"]) == (
        "10.1016/j.joi.2017.08.007",
        2019,
        "Comparative Education",
        31,
    )
    assert record["abstract"] == "Teachers learn abroad."
    assert record["source_line"] == 7  # the line of the work's own "id"
    authors = t["authorships"].sort("position")
    assert authors.select("name", "full_name", "orcid", "is_corresponding").rows() == [
        ("Li, X", "Xiaoming Li", "0000-0002-8517-9411", False),
        ("Smith, J", "John Smith", None, True),
        ("Costa, A", "Ana Costa", None, False),
    ]
    addresses = t["addresses"].sort("address_pos")
    assert addresses.select("kind", "raw", "organisation", "country_code", "ror_id").rows() == [
        (
            "affiliation",
            "Beijing Normal University",
            "Beijing Normal University",
            "CHN",
            "https://ror.org/022k4wk35",
        ),
        (
            "affiliation",
            "University of Oxford",
            "University of Oxford",
            "GBR",
            "https://ror.org/052gg0110",
        ),
        (
            "affiliation",
            "Universidade de Lisboa, Portugal",
            "Universidade de Lisboa, Portugal",
            "PRT",
            None,
        ),
    ]
    links = t["author_address"].sort("position", "address_pos")
    assert links.select("position", "address_pos").rows() == [(1, 1), (1, 2), (2, 2), (3, 3)]
    assert t["references"].sort("ref_pos")["raw"].to_list() == ["W1", "W2"]
    assert t["funding"].select("funder_raw", "grant_numbers").rows() == [
        ("National Natural Science Foundation of China", ["71774012"])
    ]

    table = load_country_table(PROJECT / "resources/countries/countries.csv")
    regions = load_region_table(PROJECT / "resources/countries")
    located = resolve_countries(t["addresses"].lazy(), table, CountryPolicy(), regions=regions)
    assert located.sort("address_pos").select("country", "country_method").collect().rows() == [
        ("CHN", "source_code"),
        ("GBR", "source_code"),
        ("PRT", "source_code"),
    ]


def test_json_lines_with_a_broken_line(tmp_path: Path) -> None:
    second = {**WORK, "id": "https://openalex.org/W2"}
    text = (
        json.dumps(WORK)
        + "\n"
        + '{"id": "https://openalex.org/W3", "title": \n'
        + json.dumps(second)
        + "\n"
        + json.dumps(WORK)
        + "\n"
    )
    t = _tables(tmp_path, "works.jsonl", text)
    assert sorted(t["records"]["record_id"]) == ["W2", "W2755950973"]
    assert t["accounting"].select(
        "format", "records_seen", "parsed", "duplicates", "quarantined"
    ).row(0) == ("openalex_jsonl", 4, 2, 1, 1)
    assert t["quarantine"]["line"].to_list() == [2]
    assert t["quarantine"]["reason"][0].startswith("not valid JSON")


def test_csv_export(tmp_path: Path) -> None:
    header = (
        "id,display_name,publication_year,doi,authorships.author.display_name,"
        "authorships.author.orcid,authorships.countries,authorships.institutions.display_name,"
        "authorships.is_corresponding,cited_by_count,primary_location.source.display_name"
    )
    rows = [
        'https://openalex.org/W10,"A, title",2017,https://doi.org/10.1/X,Massimo Aria|Corrado '
        "Cuccurullo,https://orcid.org/0000-0002-8517-9411|,IT|IT,University of Naples|"
        "University of Campania,True|False,13235,Journal of Informetrics",
        # two authors, one institution listed: the flattening cannot say whose it is
        "https://openalex.org/W11,B,2018,,Li Wei|Zhang San,,CN,Peking University,,,J",
    ]
    t = _tables(tmp_path, "works.csv", header + "\n" + "\n".join(rows) + "\n")
    assert t["accounting"]["format"][0] == "openalex_csv"
    records = t["records"].sort("record_id")
    assert records.select("record_id", "title", "year", "doi").rows() == [
        ("W10", "A, title", 2017, "10.1/x"),
        ("W11", "B", 2018, None),
    ]
    addresses = t["addresses"].sort("record_id", "address_pos")
    assert addresses.select("record_id", "raw", "country_code").rows() == [
        ("W10", "University of Naples", "ITA"),
        ("W10", "University of Campania", "ITA"),
        ("W11", "Peking University", None),
    ]
    assert t["author_address"].filter(pl.col("record_id") == "W11").height == 0
    assert t["authorships"].filter(pl.col("is_corresponding"))["full_name"].to_list() == [
        "Massimo Aria"
    ]


def test_broken_json_document_is_one_quarantined_entry(tmp_path: Path) -> None:
    text = json.dumps([WORK, WORK], indent=2)
    broken = text.replace('"type": "article",', '"type": "article"', 1)
    t = _tables(tmp_path, "broken.json", broken)
    assert t["records"].height == 0
    assert t["accounting"].select("records_seen", "quarantined").row(0) == (1, 1)
    ((line, reason),) = t["quarantine"].select("line", "reason").rows()
    assert reason.startswith("not valid JSON (Expecting ',' delimiter at line")
    assert broken.splitlines()[line - 1].strip().startswith('"language"')
