"""Indicators on small hand-built tables: slicing, counts and shares, ranking, highly cited
papers, citation links, funders."""

from __future__ import annotations

import random

import polars as pl
import pytest

from collabscope.classify import indicators as ind

PERIODS = [
    {"label": "2001–2005", "first": 2001, "last": 2005},
    {"label": "2006–2010", "first": 2006, "last": 2010},
]


def _classes(rows) -> pl.LazyFrame:
    """rows: (record_id, focal, scope, year, participated, international, category, led_by,
    credit_fractional, single_author, lead_country)."""
    names = (
        "record_id",
        "focal",
        "scope",
        "year",
        "participated",
        "international",
        "category",
        "led_by",
        "credit_fractional",
        "single_author",
        "lead_country",
    )
    types = (pl.String, pl.String, pl.String, pl.Int64, pl.Boolean, pl.Boolean)
    types += (pl.String, pl.String, pl.Float64, pl.Boolean, pl.String)
    frame = pl.LazyFrame(rows, schema=dict(zip(names, types, strict=True)), orient="row")
    return frame.with_columns(
        lead_fallback=pl.lit(False),
        collab_type=pl.lit("bilateral"),
        n_countries=pl.lit(2, pl.Int64),
        address_source=pl.lit("c1"),
        has_links=pl.lit(True),
    )


def _members(dataset: str, ids) -> pl.LazyFrame:
    return pl.LazyFrame({"dataset": [dataset] * len(ids), "record_id": list(ids)})


def test_slices_put_a_year_in_its_year_and_its_period_only():
    frame = pl.LazyFrame({"id": ["a", "b", "c", "d"], "year": [2003, 2006, 2015, None]})
    got = ind.sliced(frame, PERIODS).collect().sort("id", "granularity")
    assert got.select("id", "granularity", "period", "first_year", "last_year").rows() == [
        ("a", "period", "2001–2005", 2001, 2005),
        ("a", "year", "2003", 2003, 2003),
        ("b", "period", "2006–2010", 2006, 2010),
        ("b", "year", "2006", 2006, 2006),
        ("c", "year", "2015", 2015, 2015),
    ]


CLASSES = [
    ("p1", "CHN", "country", 2003, True, True, "icp_x_led", "CHN", 0.5, False, "CHN"),
    ("p2", "CHN", "country", 2004, True, True, "icp_other_led", "other", 0.25, False, "USA"),
    ("p3", "CHN", "country", 2004, True, False, "single_affiliation", "CHN", 1.0, True, "CHN"),
    ("p4", "CHN", "country", 2007, True, False, "domestic_collaboration", "CHN", 1.0, False, "CHN"),
    ("p5", "CHN", "country", 2007, False, None, None, None, 0.0, False, "USA"),
]


def test_collaboration_counts_and_shares():
    got = (
        ind.collaboration(
            ind.collaboration_counts(
                ind.class_rows(_classes(CLASSES), _members("china", ["p1", "p2", "p3", "p4"]))
            ),
            PERIODS,
        )
        .collect()
        .filter(pl.col("granularity") == "period")
        .sort("period")
        .to_dicts()
    )
    first, second = got
    assert (first["papers"], first["icp"], first["icp_x_led"], first["icp_other_led"]) == (
        3,
        2,
        1,
        1,
    )
    assert (first["single_affiliation"], first["domestic_collaboration"]) == (1, 0)
    assert first["single_author"] == 1
    assert first["icp_share"] == pytest.approx(2 / 3)
    assert first["lead_share"] == pytest.approx(0.5)
    assert first["icp_share_fractional"] == pytest.approx(0.75 / 1.75)
    assert first["lead_share_fractional"] == pytest.approx(0.5 / 0.75)
    assert (second["papers"], second["domestic_collaboration"], second["icp_share"]) == (1, 1, 0)


def test_outputs_and_world_share():
    got = (
        ind.outputs(
            ind.outputs_counts(
                ind.class_rows(_classes(CLASSES), _members("world", ["p1", "p2", "p3", "p4", "p5"]))
            ),
            PERIODS,
        )
        .collect()
        .filter(pl.col("granularity") == "period")
        .sort("period")
    )
    assert got.select("records", "focal_records").rows() == [(3, 3), (2, 1)]
    assert got["world_share"].to_list() == [1.0, 0.5]
    assert got["discipline_share"].to_list() == [None, None]


def test_partners_ranked_by_the_configured_counting_and_cut_at_top_n():
    classes = _classes(
        [
            (f"r{i}", "CHN", "country", 2003, True, True, "icp_x_led", "CHN", 0.5, False, "CHN")
            for i in range(4)
        ]
    )
    credit = pl.LazyFrame(
        {
            "record_id": ["r0", "r0", "r1", "r1", "r2", "r2", "r3", "r3", "r3"],
            "country": ["CHN", "USA", "CHN", "USA", "CHN", "AUS", "CHN", "AUS", "CAN"],
            "credit_fractional": [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.1, 0.4],
        }
    )
    members = _members("china", ["r0", "r1", "r2", "r3"])
    counts = ind.partners_counts(ind.class_rows(classes, members), credit)
    full = ind.partners(counts, PERIODS, 2, "full").collect()
    full = full.filter(pl.col("granularity") == "period")
    assert full.select("rank", "partner", "records").rows() == [(1, "AUS", 2), (2, "USA", 2)]
    assert full["share_of_icp"].to_list() == [0.5, 0.5]
    frac = ind.partners(counts, PERIODS, 2, "fractional").collect()
    frac = frac.filter(pl.col("granularity") == "period")
    assert frac.select("rank", "partner").rows() == [(1, "USA"), (2, "AUS")]


def _records(rows) -> pl.LazyFrame:
    """rows: (record_id, year, times_cited, highly_cited, categories, doi, volume, page)."""
    names = ("record_id", "year", "times_cited", "highly_cited", "subject_categories", "doi")
    names += ("volume", "start_page")
    types = (pl.String, pl.Int64, pl.Int64, pl.Boolean, pl.List(pl.String), pl.String)
    types += (pl.String, pl.String)
    return pl.LazyFrame(
        rows, schema=dict(zip(names, types, strict=True)), orient="row"
    ).with_columns(article_number=pl.lit(None, pl.String))


def test_top_one_per_cent_within_year_and_category():
    # 200 papers of 2010 in Education: the top 1% is 2 papers; a tie at the threshold is in.
    rows = [(f"e{i:03d}", 2010, i, None, ["Education"], None, None, None) for i in range(200)]
    rows.append(("tie", 2010, 198, None, ["Education"], None, None, None))
    # a category of its own: its most cited paper is top there; zero citations never are.
    rows += [("psy", 2010, 5, None, ["Psychology"], None, None, None)]
    rows += [("zero", 2011, 0, None, ["Psychology"], None, None, None)]
    rows += [("esi", 2011, 1, True, ["Psychology"], None, None, None)]
    records = _records(rows)
    members = _members("world", [r[0] for r in rows])
    flags = ind.highly_cited_flags(records, members, ["world"], "top_percent", 1.0).collect()
    top = set(flags.filter(pl.col("hcp"))["record_id"])
    assert top == {"e199", "e198", "tie", "psy", "esi"}  # 201 Education papers: top 3 (ceil)
    auto = ind.highly_cited_flags(records, members, ["world"], "auto", 1.0).collect()
    basis = dict(auto.select("record_id", "hcp_basis").iter_rows())
    assert basis["esi"] == "esi" and basis["e199"] == "top_percent"
    esi = ind.highly_cited_flags(records, members, ["world"], "esi", 1.0).collect()
    assert set(esi.filter(pl.col("hcp"))["record_id"]) == {"esi"}


def test_top_per_cent_equals_its_definition_by_rank_and_skips_other_datasets():
    # The definition: rank (ties at the lowest) within year and category at most
    # ceil(n * p / 100), cited at least once, among the reference datasets' papers only.
    rng = random.Random(7)
    rows = [
        (
            f"r{i:04d}",
            rng.choice([2010, 2011, None]),
            rng.choice([None, *range(40)]),
            rng.choice([None, None, True, False]),
            rng.sample(["Education", "Psychology", "Sociology"], rng.randint(0, 2)),
            None,
            None,
            None,
        )
        for i in range(3000)
    ]
    records = _records(rows)
    ids = [r[0] for r in rows]
    members = pl.concat([_members("world", ids[:2500]), _members("other", ids[2000:])])
    reference = (
        records.join(members.filter(pl.col("dataset") == "world"), on="record_id", how="semi")
        .with_columns(
            pl.when(pl.col("subject_categories").list.len() > 0)
            .then("subject_categories")
            .otherwise(pl.lit(["(none)"]))
        )
        .explode("subject_categories")
        .drop_nulls("year")
        .with_columns(cites=pl.col("times_cited").fill_null(0))
    )
    group = ["year", "subject_categories"]
    expected = set(
        reference.filter(
            (
                pl.col("cites").rank("min", descending=True).over(group)
                <= (pl.len().over(group) * 0.05).ceil().clip(1)
            )
            & (pl.col("cites") > 0)
        ).collect()["record_id"]
    )
    flags = ind.highly_cited_flags(records, members, ["world"], "top_percent", 5.0)
    top = set(flags.filter(pl.col("hcp")).collect()["record_id"])
    assert top == expected and len(expected) > 20
    assert not top & set(ids[2500:])  # only in the other dataset: never judged


def test_auto_with_every_paper_flagged_is_the_flag():
    rows = [(f"p{i}", 2010, i, i % 7 == 0, ["Education"], None, None, None) for i in range(50)]
    records, members = _records(rows), _members("world", [r[0] for r in rows])
    auto = ind.highly_cited_flags(records, members, ["world"], "auto", 10.0).collect()
    esi = ind.highly_cited_flags(records, members, ["world"], "esi", 10.0).collect()
    assert auto.sort("record_id").equals(esi.sort("record_id"))
    assert auto["hcp"].sum() == 8


def test_citation_links_by_doi_then_key_and_never_ambiguous():
    records = _records(
        [
            ("c1", 2010, 0, None, [], "10.1/a", "5", "10"),
            ("c2", 2011, 0, None, [], None, "6", "20"),
            ("c3", 2012, 0, None, [], None, "7", "30"),
            ("c4", 2012, 0, None, [], None, "7", "30"),  # same key as c3: ambiguous
            ("x1", 2015, 0, None, [], None, None, None),
        ]
    )
    authorships = pl.LazyFrame(
        {
            "record_id": ["c1", "c2", "c3", "c4", "x1"],
            "position": [1] * 5,
            "name": ["Li, W", "Smith, JA", "Wang, L", "Wang, L", "Brown, A"],
        }
    )
    references = pl.LazyFrame(
        {
            "record_id": ["x1"] * 4,
            "ref_pos": [1, 2, 3, 4],
            "doi": ["10.1/a", None, None, "10.9/zzz"],
            "link_key": ["li|w|2010|5|10", "smith|j|2011|6|20", "wang|l|2012|7|30", None],
        }
    )
    members = pl.concat([_members("cited", ["c1", "c2", "c3", "c4"]), _members("citing", ["x1"])])
    links = ind.citation_links(references, records, authorships, members, {"citing": "cited"})
    got = links.collect().sort("ref_pos").select("ref_pos", "cited_record_id", "link_method")
    assert got.rows() == [(1, "c1", "doi"), (2, "c2", "link_key")]


def test_citing_countries_by_cited_count_a_citing_record_once_per_group():
    links = pl.LazyFrame(
        {
            "citing_dataset": ["citing"] * 3,
            "record_id": ["x1", "x1", "x2"],
            "ref_pos": [1, 2, 1],
            "cited_dataset": ["cu"] * 3,
            "cited_record_id": ["p1", "p2", "p2"],
            "link_method": ["doi"] * 3,
        }
    )
    classes = _classes(
        [
            ("p1", "CHN", "country", 2003, True, True, "icp_x_led", "CHN", 0.5, False, "CHN"),
            ("p2", "CHN", "country", 2004, True, True, "icp_other_led", "other", 0.5, False, "GBR"),
        ]
    )
    credit = pl.LazyFrame(
        {"record_id": ["x1", "x2"], "country": ["USA", "USA"], "credit_fractional": [1.0, 1.0]}
    )
    got = ind.citing_countries_by_cited(
        links, classes, credit, PERIODS, 5, "full", ["CHN", "GBR"]
    ).collect()
    period = got.filter(pl.col("granularity") == "period")
    by_lead = dict(period.select("cited_lead", "records").iter_rows())
    assert by_lead == {"CHN": 1, "GBR": 2, "all": 2}  # x1 cites p1 and p2: once in 'all'


def test_funding_sources_and_top_funders():
    funding = pl.LazyFrame(
        {
            "record_id": ["a", "a", "b", "c", "d"],
            "funder_id": ["chn-nsfc", "gbr-esrc", "chn-nsfc", None, "usa-nsf"],
            "funder_name": ["NSFC", "ESRC", "NSFC", None, "NSF"],
            "funder_country": ["CHN", "GBR", "CHN", None, "USA"],
        }
    )
    records = _records([(r, 2003, 0, None, [], None, None, None) for r in "abcde"])
    members = _members("cu", list("abcde"))
    src = ind.funding_sources(
        ind.funding_sources_counts(funding, records, members, ["CHN", "GBR"]),
        PERIODS,
        ["CHN", "GBR"],
    ).collect()
    row = src.filter(pl.col("granularity") == "period").to_dicts()[0]
    assert (row["records"], row["funded"], row["by_x"], row["by_y"], row["by_both"]) == (
        5,
        4,
        2,
        1,
        1,
    )
    assert (row["by_x_only"], row["by_others_only"], row["unfunded"]) == (1, 2, 1)
    assert row["with_unmatched_funder"] == 1
    top = ind.funders(ind.funders_counts(funding, records, members), PERIODS, 2).collect()
    top = top.filter(pl.col("granularity") == "period")
    assert top.select("rank", "funder_id", "records", "share").rows() == [
        (1, "chn-nsfc", 2, 0.4),
        (2, "gbr-esrc", 1, 0.2),
    ]
    single = ind.funding_sources(
        ind.funding_sources_counts(funding, records, members, ["CHN"]), PERIODS, ["CHN"]
    ).collect()
    assert single["by_both"].null_count() == single.height


def test_discipline_share_within_the_field_dataset():
    members = pl.concat(
        [_members("education", ["p1", "p2"]), _members("field", ["p1", "p2", "p3", "p4", "p5"])]
    )
    got = (
        ind.outputs(
            ind.outputs_counts(ind.class_rows(_classes(CLASSES), members)),
            PERIODS,
            field_dataset="field",
        )
        .collect()
        .filter((pl.col("granularity") == "period") & (pl.col("dataset") == "education"))
    )
    row = got.to_dicts()[0]
    assert (row["records"], row["field_records"], row["field_focal_records"]) == (2, 3, 3)
    assert row["discipline_share"] == pytest.approx(2 / 3)
    assert row["focal_discipline_share"] == pytest.approx(2 / 3)
