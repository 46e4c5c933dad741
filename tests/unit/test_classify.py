"""Paper classification on small hand-built tables: every class, every lead rule, the edge cases.

Addresses are written as WoS writes them and run through the project's own address parser and
country resolution under a policy, so each case runs the way the workflow runs it.
"""

from __future__ import annotations

import polars as pl
import pytest

from collabscope.classify.papers import (
    classify_papers,
    country_credit,
    lead_addresses,
    lead_disagreements,
    record_profile,
    with_credit,
)
from collabscope.normalise.countries import (
    CountryPolicy,
    load_country_table,
    load_region_table,
    resolve_countries,
)
from collabscope.parse.wos_address import parse_addresses
from tests.conftest import PROJECT

COUNTRY_DIR = PROJECT / "resources" / "countries"
DEFAULT = CountryPolicy()
FOLDED = CountryPolicy(hong_kong_macau_taiwan="fold_into_CHN")
NATIONS = CountryPolicy(uk_nations="separate")

PKU = "Peking Univ, Grad Sch Educ, Beijing 100871, Peoples R China"
BNU = "Beijing Normal Univ, Fac Educ, Beijing, Peoples R China"
ECNU = "East China Normal Univ, Shanghai, Peoples R China"
HKU = "Univ Hong Kong, Fac Educ, Pokfulam, Hong Kong, Peoples R China"
NTNU = "Natl Taiwan Normal Univ, Taipei, Taiwan"
OXF = "Univ Oxford, Dept Educ, Oxford, England"
EDIN = "Univ Edinburgh, Moray House Sch Educ, Edinburgh, Scotland"
HARV = "Harvard Univ, Cambridge, MA 02138 USA"


@pytest.fixture(scope="module")
def country_tables() -> tuple[pl.DataFrame, pl.DataFrame]:
    return load_country_table(COUNTRY_DIR / "countries.csv"), load_region_table(COUNTRY_DIR)


def _addresses(rows, country_tables, policy=DEFAULT) -> pl.LazyFrame:
    """rows: (record_id, address_pos, kind, raw, institution_id)."""
    frame = pl.DataFrame(
        rows,
        schema={
            "record_id": pl.String,
            "address_pos": pl.Int64,
            "kind": pl.String,
            "raw": pl.String,
            "institution_id": pl.String,
        },
        orient="row",
    )
    parsed = parse_addresses(frame, "raw")
    table, regions = country_tables
    return resolve_countries(parsed.lazy(), table, policy, regions=regions)


def _records(rows) -> pl.LazyFrame:
    """rows: (record_id, year, n_authors)."""
    return pl.LazyFrame(
        rows, schema={"record_id": pl.String, "year": pl.Int64, "n_authors": pl.Int64}, orient="row"
    )


def _links(rows) -> pl.LazyFrame:
    """rows: (record_id, position, address_pos)."""
    return pl.LazyFrame(
        rows,
        schema={"record_id": pl.String, "position": pl.Int64, "address_pos": pl.Int64},
        orient="row",
    )


def _classify(records, addresses, links, focal=("CHN", "GBR"), rule="first_author"):
    leads = lead_addresses(addresses, links, rule)
    credit = country_credit(addresses, leads).collect()
    profile = record_profile(records, addresses, leads)
    classes = with_credit(classify_papers(profile, list(focal)), credit.lazy(), focal).collect()
    return {(row["record_id"], row["focal"]): row for row in classes.iter_rows(named=True)}, credit


A, R = "affiliation", "reprint"


@pytest.fixture(scope="module")
def study(country_tables):
    """One record per case (2010, linked C1, unless the case is about that)."""
    records = _records(
        [
            ("single", 2010, 1),  # one author, one address in CHN
            ("two_depts", 2010, 2),  # two addresses of one institution
            ("domestic", 2010, 3),  # two CHN institutions
            ("chn_led", 2010, 3),  # CHN first author, UK second
            ("uk_led", 2010, 2),  # UK first author
            ("usa_led", 2010, 3),  # USA first, CHN, UK
            ("unlinked", 2004, 2),  # pre-2008: no author links; first C1 is the UK
            ("second_first", 2012, 2),  # first author's address is second in C1
            ("reprint_only", 2005, 1),  # no C1, RP in China
            ("no_address", 2003, 1),  # nothing at all
            ("chn_hkg", 2015, 2),  # mainland China and Hong Kong
            ("chn_twn", 2015, 2),  # mainland China and Taiwan
            ("eng_sct", 2015, 2),  # England and Scotland
        ]
    )
    rows = [
        ("single", 1, A, PKU, "chn-pku"),
        ("single", 2, R, PKU, "chn-pku"),
        ("two_depts", 1, A, PKU, "chn-pku"),
        ("two_depts", 2, A, "Peking Univ, Sch Math Sci, Beijing, Peoples R China", "chn-pku"),
        ("domestic", 1, A, PKU, "chn-pku"),
        ("domestic", 2, A, BNU, "chn-bnu"),
        ("chn_led", 1, A, BNU, "chn-bnu"),
        ("chn_led", 2, A, OXF, "gbr-oxford"),
        ("chn_led", 3, R, OXF, "gbr-oxford"),  # corresponding author in the UK
        ("uk_led", 1, A, OXF, "gbr-oxford"),
        ("uk_led", 2, A, ECNU, "chn-ecnu"),
        ("uk_led", 3, R, OXF, "gbr-oxford"),
        ("usa_led", 1, A, HARV, "usa-harvard"),
        ("usa_led", 2, A, PKU, "chn-pku"),
        ("usa_led", 3, A, EDIN, "gbr-edinburgh"),
        ("unlinked", 1, A, OXF.upper(), "gbr-oxford"),
        ("unlinked", 2, A, ECNU.upper(), "chn-ecnu"),
        ("unlinked", 3, R, ECNU.upper(), "chn-ecnu"),
        ("second_first", 1, A, OXF, "gbr-oxford"),
        ("second_first", 2, A, BNU, "chn-bnu"),
        ("second_first", 3, R, BNU, "chn-bnu"),
        ("reprint_only", 1, R, BNU, "chn-bnu"),
        ("chn_hkg", 1, A, HKU, "hkg-hku"),
        ("chn_hkg", 2, A, PKU, "chn-pku"),
        ("chn_twn", 1, A, PKU, "chn-pku"),
        ("chn_twn", 2, A, NTNU, "twn-ntnu"),
        ("eng_sct", 1, A, OXF, "gbr-oxford"),
        ("eng_sct", 2, A, EDIN, "gbr-edinburgh"),
    ]
    links = _links(
        [
            ("single", 1, 1),
            ("single", 1, 2),
            ("two_depts", 1, 1),
            ("two_depts", 2, 2),
            ("domestic", 1, 1),
            ("domestic", 2, 2),
            ("domestic", 3, 2),
            ("chn_led", 1, 1),
            ("chn_led", 2, 2),
            ("chn_led", 3, 2),
            ("chn_led", 3, 3),
            ("uk_led", 1, 1),
            ("uk_led", 2, 2),
            ("usa_led", 1, 1),
            ("usa_led", 2, 2),
            ("usa_led", 3, 3),
            ("unlinked", 2, 3),  # only the RP group links anyone
            ("second_first", 1, 2),
            ("second_first", 2, 1),
            ("chn_hkg", 1, 2),  # first author in Beijing, listed second
            ("chn_hkg", 2, 1),
            ("chn_twn", 1, 1),
            ("chn_twn", 2, 2),
            ("eng_sct", 1, 1),
            ("eng_sct", 2, 2),
        ]
    )
    return records, rows, links


def test_every_record_gets_a_row_per_focal_country_and_the_pair(study, country_tables):
    records, rows, links = study
    classes, _ = _classify(records, _addresses(rows, country_tables), links)
    assert len(classes) == 13 * 3
    assert {focal for _, focal in classes} == {"CHN", "GBR", "CHN+GBR"}


def test_classes_for_china(study, country_tables):
    records, rows, links = study
    classes, _ = _classify(records, _addresses(rows, country_tables), links)
    got = {record: row["category"] for (record, focal), row in classes.items() if focal == "CHN"}
    assert got == {
        "single": "single_affiliation",
        "two_depts": "single_affiliation",  # one institution, two departments: not domestic
        "domestic": "domestic_collaboration",
        "chn_led": "icp_x_led",
        "uk_led": "icp_other_led",
        "usa_led": "icp_other_led",
        "unlinked": "icp_other_led",  # falls back to the first C1 address: Oxford
        "second_first": "icp_x_led",  # the first author's address, not the first C1 one
        "reprint_only": "single_affiliation",
        "no_address": None,
        "chn_hkg": "icp_x_led",  # Hong Kong is not mainland China under the default policy
        "chn_twn": "icp_x_led",
        "eng_sct": None,
    }
    assert classes[("single", "CHN")]["single_author"] is True
    assert classes[("two_depts", "CHN")]["single_author"] is False
    assert classes[("two_depts", "CHN")]["n_addresses"] == 2
    assert classes[("two_depts", "CHN")]["n_institutions"] == 1
    assert classes[("two_depts", "CHN")]["collab_type"] == "domestic-single"
    assert classes[("domestic", "CHN")]["collab_type"] == "domestic-multiple"


def test_pair_and_uk_classes(study, country_tables):
    records, rows, links = study
    classes, _ = _classify(records, _addresses(rows, country_tables), links)
    pair = {r: row["category"] for (r, f), row in classes.items() if f == "CHN+GBR"}
    assert {r: c for r, c in pair.items() if c} == {
        "chn_led": "x_led",
        "uk_led": "y_led",
        "usa_led": "other_led",
        "unlinked": "y_led",
        "second_first": "x_led",
    }
    uk = {r: row["category"] for (r, f), row in classes.items() if f == "GBR" and row["category"]}
    assert uk["eng_sct"] == "domestic_collaboration"  # England and Scotland are both the UK
    assert classes[("eng_sct", "GBR")]["collab_type"] == "domestic-multiple"
    assert classes[("usa_led", "GBR")]["collab_type"] == "trilateral"
    assert classes[("usa_led", "GBR")]["n_countries"] == 3


def test_uk_nations_separate_make_england_scotland_international(study, country_tables):
    records, rows, links = study
    classes, _ = _classify(
        records, _addresses(rows, country_tables, NATIONS), links, focal=("GBR-ENG",)
    )
    row = classes[("eng_sct", "GBR-ENG")]
    assert (row["category"], row["collab_type"]) == ("icp_x_led", "bilateral")
    assert row["countries"] == ["GBR-ENG", "GBR-SCT"]


def test_hong_kong_and_taiwan_folded_into_china_make_domestic_papers(study, country_tables):
    records, rows, links = study
    classes, _ = _classify(records, _addresses(rows, country_tables, FOLDED), links)
    assert classes[("chn_hkg", "CHN")]["category"] == "domestic_collaboration"
    assert classes[("chn_twn", "CHN")]["category"] == "domestic_collaboration"
    assert classes[("chn_hkg", "CHN")]["countries"] == ["CHN"]
    # Under the default policy they are bilateral.
    default, _ = _classify(records, _addresses(rows, country_tables), links)
    assert default[("chn_hkg", "CHN")]["countries"] == ["CHN", "HKG"]
    assert default[("chn_twn", "CHN")]["collab_type"] == "bilateral"


def test_lead_fallbacks_and_flags(study, country_tables):
    records, rows, links = study
    classes, _ = _classify(records, _addresses(rows, country_tables), links)
    unlinked = classes[("unlinked", "CHN")]
    assert (unlinked["has_links"], unlinked["lead_source"], unlinked["lead_fallback"]) == (
        False,
        "first_address",
        True,
    )
    assert unlinked["lead_country"] == "GBR"
    linked = classes[("chn_led", "CHN")]
    assert (linked["has_links"], linked["lead_source"], linked["lead_fallback"]) == (
        True,
        "first_author",
        False,
    )
    assert linked["leads_disagree"] is True  # first author in China, reprint address in the UK
    reprint = classes[("reprint_only", "CHN")]
    assert (reprint["address_source"], reprint["lead_source"], reprint["lead_fallback"]) == (
        "reprint",
        "reprint",
        True,
    )
    assert reprint["participated"] is True
    nothing = classes[("no_address", "CHN")]
    assert nothing["address_source"] == "none"
    assert nothing["participated"] is False
    assert nothing["collab_type"] is None
    assert nothing["lead_country"] is None


def test_the_three_lead_rules(study, country_tables):
    _, rows, links = study
    addresses = _addresses(rows, country_tables)
    leads = {
        rule: {
            r["record_id"]: r["lead_country"]
            for r in lead_addresses(addresses, links, rule).collect().iter_rows(named=True)
        }
        for rule in ("first_author", "first_address", "reprint")
    }
    assert leads["first_author"]["second_first"] == "CHN"
    assert leads["first_address"]["second_first"] == "GBR"
    assert leads["reprint"]["chn_led"] == "GBR"
    assert leads["first_author"]["chn_led"] == "CHN"
    assert leads["reprint"]["usa_led"] == "USA"  # no RP: falls back to the first C1 address
    assert leads["reprint"]["unlinked"] == "CHN"
    assert "no_address" not in leads["reprint"]
    with pytest.raises(ValueError, match="unknown lead rule"):
        lead_addresses(addresses, links, "last_author")


def test_disagreements_are_listed(study, country_tables):
    records, rows, links = study
    addresses = _addresses(rows, country_tables)
    listed = lead_disagreements(lead_addresses(addresses, links, "first_author"), records)
    got = {
        r["record_id"]: (
            r["first_author_vs_reprint"],
            r["first_author_vs_first_address"],
            r["first_address_vs_reprint"],
        )
        for r in listed.collect().iter_rows(named=True)
    }
    assert got == {
        "chn_led": (True, False, True),
        "second_first": (False, True, True),
        "unlinked": (False, False, True),  # no first-author address to compare
        "chn_hkg": (False, True, False),
    }


def test_full_and_fractional_credit(study, country_tables):
    records, rows, links = study
    classes, credit = _classify(records, _addresses(rows, country_tables), links)
    usa = classes[("usa_led", "CHN")]
    assert (usa["credit_full"], usa["credit_fractional"]) == (1.0, pytest.approx(1 / 3))
    assert classes[("usa_led", "CHN+GBR")]["credit_fractional"] == pytest.approx(2 / 3)
    assert classes[("eng_sct", "CHN")]["credit_full"] == 0.0
    assert classes[("two_depts", "CHN")]["credit_fractional"] == 1.0
    # A paper without both countries is no pair paper, whatever its China or UK credit.
    assert classes[("two_depts", "CHN+GBR")]["participated"] is False
    assert classes[("two_depts", "CHN+GBR")]["credit_fractional"] == 0.0
    assert classes[("eng_sct", "CHN+GBR")]["credit_fractional"] == 0.0
    sums = credit.group_by("record_id").agg(pl.col("credit_fractional").sum())
    assert sums["credit_fractional"].to_list() == pytest.approx([1.0] * sums.height)
    assert "no_address" not in credit["record_id"].to_list()
    lead = credit.filter(pl.col("is_lead")).sort("record_id")
    assert dict(lead.select("record_id", "country").iter_rows())["uk_led"] == "GBR"


def test_one_focal_country_has_no_pair_rows(study, country_tables):
    records, rows, links = study
    classes, _ = _classify(records, _addresses(rows, country_tables), links, focal=("GBR",))
    assert {f for _, f in classes} == {"GBR"}
    assert classes[("usa_led", "GBR")]["category"] == "icp_other_led"
    with pytest.raises(ValueError, match="one or two focal"):
        classify_papers(pl.LazyFrame(), ["CHN", "GBR", "USA"])


def test_pair_papers_resting_only_on_a_joint_institution_are_flagged(country_tables):
    unnc = "Univ Nottingham Ningbo China, Sch Educ, Ningbo, Zhejiang, Peoples R China"
    nott = "Univ Nottingham, Sch Educ, Nottingham NG8 1BB, England"
    rows = [
        # UNNC (China side only through the joint institution) with its UK parent
        ("R1", 1, "affiliation", unnc, "chn-unnc"),
        ("R1", 2, "affiliation", nott, "gbr-nottingham"),
        # the same, plus a mainland university: a China–UK paper either way
        ("R2", 1, "affiliation", unnc, "chn-unnc"),
        ("R2", 2, "affiliation", BNU, "chn-beijing-normal"),
        ("R2", 3, "affiliation", nott, "gbr-nottingham"),
        # no joint institution at all
        ("R3", 1, "affiliation", PKU, "chn-peking"),
        ("R3", 2, "affiliation", OXF, "gbr-oxford"),
    ]
    addresses = _addresses(rows, country_tables).with_columns(
        is_transnational=pl.col("institution_id") == "chn-unnc"
    )
    records = _records([("R1", 2015, 2), ("R2", 2015, 3), ("R3", 2015, 2)])
    classes, _ = _classify(records, addresses, _links([]))
    pair = {record: row for (record, focal), row in classes.items() if focal == "CHN+GBR"}
    assert {r: pair[r]["participated"] for r in pair} == {"R1": True, "R2": True, "R3": True}
    assert {r: pair[r]["rests_on_joint_institution"] for r in pair} == {
        "R1": True,
        "R2": False,
        "R3": False,
    }
    country_rows = [row for (_, focal), row in classes.items() if focal != "CHN+GBR"]
    assert all(row["rests_on_joint_institution"] is None for row in country_rows)
