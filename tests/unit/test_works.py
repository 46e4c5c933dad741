"""Classification and indicators count works, not records: a paper exported from both Web of
Science and Scopus is classified and counted once, with its addresses from the record the merge
chose, in every dataset holding either record, and a citation of it links to the work."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from collabscope import schemas
from collabscope.classify import works as wk
from collabscope.classify.stage import classify_papers, compute_indicators
from collabscope.merge import merge_works
from collabscope.normalise.countries import (
    CountryPolicy,
    load_country_table,
    load_region_table,
    resolve_countries,
)
from collabscope.parse.wos_address import parse_addresses
from collabscope.sampling import stage as pool_stage
from collabscope.tableio import write_table
from tests.conftest import PROJECT
from tests.unit.sampling_builders import Author, pair_paper, write_tables

COUNTRY_DIR = PROJECT / "resources" / "countries"
ORDER = ["wos", "scopus", "openalex", "cssci"]
TITLE = "Teacher education in China and England: a comparison"
BNU = "Beijing Normal Univ, Fac Educ, Beijing, Peoples R China"
OXF = "Univ Oxford, Dept Educ, Oxford, England"
HARV = "Harvard Univ, Cambridge, MA 02138 USA"
ECNU = "East China Normal Univ, Shanghai, Peoples R China"
FOCAL = ["CHN", "GBR"]
PERIODS = [{"label": "2011–2020", "first": 2011, "last": 2020}]
SETTINGS = {
    "counting": "full",
    "top_n": 10,
    "citing": {"citing": "world"},
    "field_dataset": "",
    "hcp_method": "auto",
    "top_percent": 1.0,
    "reference_datasets": [],
}


def _full(frame: pl.DataFrame, table: schemas.Table) -> pl.DataFrame:
    missing = [c for c in table.schema.names() if c not in frame.columns]
    return schemas.conform(
        frame.with_columns(pl.lit(None, table.schema[c]).alias(c) for c in missing), table
    )


def _records() -> pl.DataFrame:
    """WOS:1 and its Scopus copy (same DOI; Scopus lists Harvard where WoS lists Oxford, and
    has more citations), a WoS paper of its own, and a citing paper."""
    rows = [
        ("WOS:1", "wos", "10.1/a", TITLE, 2015, 2, 2, 5, 1),
        ("2-s2.0-1", "scopus", "10.1/a", TITLE, 2015, 2, 2, 9, 1),
        (
            "WOS:2",
            "wos",
            "10.1/b",
            "Rural schools in Shanghai and their teachers",
            2016,
            1,
            1,
            0,
            0,
        ),
        ("WOS:9", "wos", "10.1/c", "Who cites comparisons of teacher education", 2018, 1, 1, 0, 1),
    ]
    frame = pl.DataFrame(
        rows,
        schema=[
            "record_id",
            "source",
            "doi",
            "title",
            "year",
            "n_authors",
            "n_addresses",
            "times_cited",
            "n_references_parsed",
        ],
        orient="row",
    ).with_columns(
        source_file=pl.col("source") + ".txt",
        volume=pl.lit("12"),
        start_page=pl.lit("34"),
        extra_fields=pl.lit([], pl.List(schemas.EXTRA_FIELD)),
        subject_categories=pl.lit(["Education"], pl.List(pl.String)),
    )
    return _full(frame, schemas.RECORDS)


def _addresses() -> pl.DataFrame:
    rows = [
        ("WOS:1", 1, "affiliation", BNU),
        ("WOS:1", 2, "affiliation", OXF),
        ("2-s2.0-1", 1, "affiliation", BNU),
        ("2-s2.0-1", 2, "affiliation", HARV),
        ("WOS:2", 1, "affiliation", ECNU),
        ("WOS:9", 1, "affiliation", HARV),
    ]
    frame = pl.DataFrame(
        rows, schema=["record_id", "address_pos", "kind", "raw"], orient="row"
    ).with_columns(institution_id=pl.lit(None, pl.String))
    parsed = parse_addresses(frame, "raw")
    located = resolve_countries(
        parsed.lazy(),
        load_country_table(COUNTRY_DIR / "countries.csv"),
        CountryPolicy(),
        regions=load_region_table(COUNTRY_DIR),
    ).collect()
    return _full(located, schemas.ADDRESSES_NORMALISED)


def _authorships() -> pl.DataFrame:
    rows = [
        ("WOS:1", 1, "Li, X"),
        ("WOS:1", 2, "Smith, JA"),
        ("2-s2.0-1", 1, "Li X."),
        ("2-s2.0-1", 2, "Smith J.A."),
        ("WOS:2", 1, "Wang, Y"),
        ("WOS:9", 1, "Brown, K"),
    ]
    return _full(
        pl.DataFrame(rows, schema=["record_id", "position", "name"], orient="row"),
        schemas.AUTHORSHIPS,
    )


def _links() -> pl.DataFrame:
    rows = [("WOS:1", 1, 1), ("WOS:1", 2, 2), ("2-s2.0-1", 1, 1), ("2-s2.0-1", 2, 2)]
    rows += [("WOS:2", 1, 1), ("WOS:9", 1, 1)]
    return pl.DataFrame(rows, schema=["record_id", "position", "address_pos"], orient="row")


def _tables(tmp: Path, field_sources: dict[str, list[str]]) -> dict[str, Path]:
    records, authorships = _records(), _authorships()
    funding = _full(
        pl.DataFrame({"record_id": ["2-s2.0-1"], "funder_pos": [1], "funder_raw": ["NSFC"]}),
        schemas.FUNDING_NORMALISED,
    )
    references = _full(
        pl.DataFrame(
            {"record_id": ["WOS:9", "WOS:1"], "ref_pos": [1, 1], "doi": ["10.1/a", "10.1/b"]}
        ),
        schemas.REFERENCES,
    )
    membership = pl.DataFrame(
        [
            ("world", "WOS:1"),
            ("world", "2-s2.0-1"),
            ("world", "WOS:2"),
            ("scopus_only", "2-s2.0-1"),
            ("citing", "WOS:9"),
        ],
        schema=["dataset", "record_id"],
        orient="row",
    )
    datasets = _full(
        pl.DataFrame({"dataset": ["world", "scopus_only", "citing"]}), schemas.DATASETS
    )
    merged = merge_works(
        records.lazy(),
        authorships.lazy(),
        funding.lazy(),
        ORDER,
        field_sources,
    )
    frames = {
        "records": (records, schemas.RECORDS),
        "authorships": (authorships, schemas.AUTHORSHIPS),
        "author_address": (_links(), schemas.AUTHOR_ADDRESS),
        "addresses": (_addresses(), schemas.ADDRESSES_NORMALISED),
        "funding": (funding, schemas.FUNDING_NORMALISED),
        "references": (references, schemas.REFERENCES),
        "dataset_records": (membership, schemas.DATASET_RECORDS),
        "datasets": (datasets, schemas.DATASETS),
        "record_works": (merged["record_works"], schemas.RECORD_WORKS),
        "work_fields": (merged["work_fields"], schemas.WORK_FIELDS),
    }
    return {name: write_table(f, t, tmp / f"{name}.parquet") for name, (f, t) in frames.items()}


def _outputs(tmp: Path) -> dict[str, Path]:
    names = [t.name for t in (*schemas.CLASSIFIED_TABLES, *schemas.INDICATORS)]
    out = {name: tmp / "out" / f"{name}.parquet" for name in names}
    return out | {f"{t.name}_csv": tmp / "out" / f"{t.name}.csv" for t in schemas.INDICATORS}


def _run(
    tmp: Path,
    field_sources: dict[str, list[str]],
    by_work: bool = True,
    settings: dict = SETTINGS,
    unreadable: tuple[str, ...] = (),
):
    tables = _tables(tmp, field_sources)
    outputs = _outputs(tmp)
    merge = {k: tables[k] for k in ("record_works", "work_fields")} if by_work else None
    classify_papers(
        tables["records"],
        tables["author_address"],
        tables["addresses"],
        FOCAL,
        "first_author",
        outputs,
        merge,
    )
    inputs = {**tables, **{k: outputs[k] for k in ("paper_classes", "country_credit")}}
    inputs["lead_disagreements"] = outputs["lead_disagreements"]
    if not by_work:
        inputs = {k: v for k, v in inputs.items() if k not in ("record_works", "work_fields")}
    inputs |= {name: tmp / "missing" / f"{name}.parquet" for name in unreadable}
    compute_indicators(inputs, FOCAL, PERIODS, settings, outputs)
    return {name: pl.read_parquet(path) for name, path in outputs.items() if name[-4:] != "_csv"}


def _pair(classes: pl.DataFrame) -> dict[str, bool]:
    rows = classes.filter(pl.col("scope") == "pair").select("record_id", "participated")
    return dict(rows.rows())


def test_a_paper_in_wos_and_scopus_is_classified_once_with_wos_addresses(tmp_path):
    out = _run(tmp_path, {})
    classes = out["paper_classes"]
    # Three works (WOS:1 with its Scopus copy, WOS:2, WOS:9), three rows each (CHN, GBR, pair).
    assert classes.height == 9
    assert sorted(classes["record_id"].unique()) == ["WOS:1", "WOS:2", "WOS:9"]
    # Addresses from WoS (first in the source order): Beijing and Oxford, not Harvard.
    assert _pair(classes) == {"WOS:1": True, "WOS:2": False, "WOS:9": False}
    credit = out["country_credit"].filter(pl.col("record_id") == "WOS:1")
    assert sorted(credit["country"]) == ["CHN", "GBR"]
    # The world dataset holds two works, not three records; CHN took part in both.
    world = out["outputs"].filter(
        (pl.col("dataset") == "world")
        & (pl.col("granularity") == "period")
        & (pl.col("focal") == "CHN")
    )
    assert world.select("records", "focal_records").rows() == [(2, 2)]
    # A dataset holding only the Scopus record holds the work.
    scopus = out["outputs"].filter(
        (pl.col("dataset") == "scopus_only")
        & (pl.col("granularity") == "period")
        & (pl.col("focal") == "CHN+GBR")
    )
    assert scopus.select("records", "focal_records").rows() == [(1, 1)]
    # The citing paper cites the DOI both records carry: one link, to the work.
    links = out["citation_links"]
    assert links.select("record_id", "cited_record_id", "link_method").rows() == [
        ("WOS:9", "WOS:1", "doi")
    ]


def test_without_citing_datasets_no_reference_or_author_is_read(tmp_path):
    # The references, first authors and link keys only serve the citation links: a study
    # without citing datasets does not read them (the references are the largest table).
    out = _run(
        tmp_path,
        {},
        settings=SETTINGS | {"citing": {}},
        unreadable=("references", "authorships"),
    )
    assert out["citation_links"].is_empty()
    assert out["citing_countries"].is_empty() and out["citing_countries_by_cited"].is_empty()
    # Without a citing dataset "citing" is a corpus dataset: its paper is counted.
    outputs = out["outputs"].filter(pl.col("granularity") == "period", pl.col("focal") == "CHN")
    assert set(outputs["dataset"]) == {"world", "scopus_only", "citing"}


def test_field_precedence_picks_the_scopus_addresses(tmp_path):
    out = _run(tmp_path, {"addresses": ["scopus", "wos"]})
    classes = out["paper_classes"]
    assert classes.height == 9
    # Beijing and Harvard: no longer a China–UK paper, still one work keyed WOS:1.
    assert _pair(classes) == {"WOS:1": False, "WOS:2": False, "WOS:9": False}
    credit = out["country_credit"].filter(pl.col("record_id") == "WOS:1")
    assert sorted(credit["country"]) == ["CHN", "USA"]


def test_without_the_merge_tables_every_record_counts(tmp_path):
    """What the stages did before: the duplicate is two papers and the citation is ambiguous."""
    out = _run(tmp_path, {}, by_work=False)
    assert out["paper_classes"].height == 12
    world = out["outputs"].filter(
        (pl.col("dataset") == "world")
        & (pl.col("granularity") == "period")
        & (pl.col("focal") == "CHN")
    )
    assert world.select("records", "focal_records").rows() == [(3, 3)]
    assert out["citation_links"].height == 0


def test_work_records_take_each_column_from_its_field_record():
    records = _records().lazy()
    merged = merge_works(
        records,
        _authorships().lazy(),
        _full(pl.DataFrame({"record_id": ["2-s2.0-1"], "funder_pos": [1]}), schemas.FUNDING).lazy(),
        ORDER,
        {"citations": ["scopus", "wos"]},
    )
    view = wk.work_records(
        records, merged["record_works"].lazy(), merged["work_fields"].lazy()
    ).collect()
    assert view.columns == records.collect_schema().names()
    assert view.select("record_id", "source", "times_cited").sort("record_id").rows() == [
        ("WOS:1", "wos", 9),  # bibliographic from WoS, citations from Scopus
        ("WOS:2", "wos", 0),
        ("WOS:9", "wos", 0),
    ]
    membership = wk.work_membership(
        pl.LazyFrame({"dataset": ["a", "a", "b"], "record_id": ["WOS:1", "2-s2.0-1", "2-s2.0-1"]}),
        merged["record_works"].lazy(),
    ).collect()
    assert sorted(membership.rows()) == [("a", "WOS:1"), ("b", "WOS:1")]


@pytest.mark.parametrize("field", ["addresses", "author_address", "authorships", "funding"])
def test_a_single_source_view_is_the_table_itself(field):
    records = _records().filter(pl.col("source") == "wos")
    tables = {
        "addresses": _addresses(),
        "author_address": _links(),
        "authorships": _authorships(),
        "funding": _full(
            pl.DataFrame({"record_id": ["WOS:2"], "funder_pos": [1]}), schemas.FUNDING
        ),
    }
    table = tables[field].filter(pl.col("record_id").is_in(records["record_id"].implode()))
    merged = merge_works(
        records.lazy(),
        _authorships().lazy(),
        tables["funding"].lazy(),
        ORDER,
        {},
    )
    view = wk.work_table(table.lazy(), field, merged["work_fields"].lazy()).collect()
    assert view.equals(table)
    assert (
        wk.work_records(records.lazy(), merged["record_works"].lazy(), merged["work_fields"].lazy())
        .collect()
        .sort("record_id")
        .equals(records.sort("record_id"))
    )


def _pool(tmp: Path, by_work: bool) -> pl.DataFrame:
    """The pool of two China–UK papers, the first exported from WoS and from Scopus."""
    zhang, hughes = Author("Zhang, W", "Zhang, Wei"), Author("Hughes, A", "Hughes, Anna")
    papers = [
        pair_paper("WOS:0001", 2015, [zhang], [hughes]),
        pair_paper("2-s2.0-0001", 2015, [zhang], [hughes]),
        pair_paper("WOS:0002", 2017, [zhang], [Author("Moss, B", "Moss, Ben")]),
    ]
    tables = write_tables(papers, tmp / "tables")
    if by_work:
        ids = ["WOS:0001", "2-s2.0-0001", "WOS:0002"]
        work = {"WOS:0001": "WOS:0001", "2-s2.0-0001": "WOS:0001", "WOS:0002": "WOS:0002"}
        source = {i: "scopus" if i.startswith("2-s2.0") else "wos" for i in ids}
        record_works = pl.DataFrame(
            {
                "record_id": ids,
                "work_id": [work[i] for i in ids],
                "source": [source[i] for i in ids],
                "match": ["doi", "doi", "alone"],
                "is_primary": [work[i] == i for i in ids],
            }
        )
        # Everything from WoS but the funding, which only Scopus gives (no addresses there).
        work_fields = pl.DataFrame(
            [
                (w, field, "2-s2.0-0001" if field == "funding" and w == "WOS:0001" else w)
                for w in ("WOS:0001", "WOS:0002")
                for field in ("bibliographic", "authors", "addresses", "funding")
            ],
            schema=["work_id", "field", "record_id"],
            orient="row",
        ).with_columns(source=pl.lit("wos"))
        tables["record_works"] = str(
            write_table(record_works, schemas.RECORD_WORKS, tmp / "record_works.parquet")
        )
        tables["work_fields"] = str(
            write_table(work_fields, schemas.WORK_FIELDS, tmp / "work_fields.parquet")
        )
    private = tmp / "private"
    pool_stage.build_pool(
        tables,
        [PROJECT / "resources" / "institutions" / "institutions.csv"],
        [PROJECT / "resources" / "institutions" / "tiers.csv"],
        FOCAL,
        "",
        {k: private / f"{k}.x" for k in ("pool", "csv", "merges")},
    )
    return pl.read_parquet(private / "pool.x")


def test_an_author_on_both_records_of_one_work_has_one_paper(tmp_path):
    pool = _pool(tmp_path / "works", by_work=True)
    zhang = pool.filter(pl.col("full_name") == "Zhang, Wei")
    assert zhang.select("n_pair_papers", "record_ids").rows() == [(2, ["WOS:0001", "WOS:0002"])]
    hughes = pool.filter(pl.col("full_name") == "Hughes, Anna")
    assert hughes.select("n_pair_papers", "record_ids").rows() == [(1, ["WOS:0001"])]
    # By record (no merge tables), the Scopus copy is a third paper.
    by_record = _pool(tmp_path / "records", by_work=False)
    zhang = by_record.filter(pl.col("full_name") == "Zhang, Wei")
    assert zhang["n_pair_papers"].to_list() == [3]
