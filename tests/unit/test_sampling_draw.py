"""The draw: reproducibility, quotas and reserves, small strata, filters, exclusions, codes."""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl
import pytest

from collabscope import schemas
from collabscope.errors import UserInputError
from collabscope.sampling import draw as D

STRATA = [
    D.Stratum("UK-R", "GBR", size=5, reserves=3, tier="russell-group"),
    D.Stratum("UK-NR", "GBR", size=5, reserves=3, tier_not="russell-group"),
    D.Stratum("MC-DF", "CHN", size=4, reserves=2, tier="double-first-class"),
    D.Stratum("MC-NDF", "CHN", size=4, reserves=2, tier_not="double-first-class"),
]
SIZES = {"UK-R": 40, "UK-NR": 30, "MC-DF": 25, "MC-NDF": 3}


def make_pool(sizes: dict[str, int] = SIZES) -> pl.DataFrame:
    """A pool of invented people, ``sizes[stratum]`` per stratum, all eligible by default."""
    tiers = {
        "UK-R": ("GBR", ["russell-group"]),
        "UK-NR": ("GBR", ["post-92"]),
        "MC-DF": ("CHN", ["double-first-class", "project-211"]),
        "MC-NDF": ("CHN", []),
    }
    rows = []
    for label, n in sizes.items():
        country, tier_list = tiers[label]
        for i in range(n):
            rows.append(
                {
                    "person_id": f"P{label}{i:04d}",
                    "country": country,
                    "name": f"Person{i}, {label[0]}",
                    "full_name": f"Person{i}, {label}",
                    "names": [f"Person{i}, {label[0]}"],
                    "full_names": [f"Person{i}, {label}"],
                    "orcids": [f"0000-0002-{i:04d}-000{len(label)}"],
                    "researcher_ids": [],
                    "email": f"p{i}@{label.lower()}.example.org",
                    "email_method": "name",
                    "email_confidence": 0.95,
                    "emails": [f"p{i}@{label.lower()}.example.org"],
                    "institution_id": f"inst-{label}",
                    "institution_name": f"Institution {label}",
                    "tiers": tier_list,
                    "affiliation": f"Institution {label}, Dept, Town, {country}",
                    "current_record_id": f"WOS:{i}",
                    "record_ids": [f"WOS:{i}"],
                    "n_pair_papers": 1 + i % 3,
                    "n_authorships": 1 + i % 3,
                    "years": [2010 + i % 10],
                    "first_year": 2010 + i % 10 - i % 3,
                    "last_year": 2010 + i % 10,
                    "years_active": 1 + i % 3,
                    "n_first_author": 0,
                    "n_corresponding": 0,
                    "n_lead_side": 0,
                    "countries": [country],
                    "links": ["c1"],
                    "merge_reasons": [],
                    "two_on_one_paper": False,
                }
            )
    return schemas.conform(pl.DataFrame(rows), schemas.POOL)


def test_same_pool_and_seed_give_the_same_people_order_and_codes() -> None:
    pool = make_pool()
    first = D.draw_sample(pool, STRATA, D.Filters(), seed=7)
    # Row order of the pool does not matter either.
    second = D.draw_sample(pool.reverse(), STRATA, D.Filters(), seed=7)
    assert first.sample.equals(second.sample)
    assert first.summary.equals(second.summary)


def test_another_seed_draws_other_people() -> None:
    pool = make_pool()
    one = D.draw_sample(pool, STRATA, D.Filters(), seed=7).sample
    two = D.draw_sample(pool, STRATA, D.Filters(), seed=8).sample
    for label in ("UK-R", "UK-NR", "MC-DF"):
        a = one.filter(pl.col("stratum") == label)["person_id"].to_list()
        b = two.filter(pl.col("stratum") == label)["person_id"].to_list()
        assert a != b, label


def test_quotas_reserves_and_codes() -> None:
    draw = D.draw_sample(make_pool(), STRATA, D.Filters(), seed=7)
    sample = draw.sample
    uk_r = sample.filter(pl.col("stratum") == "UK-R")
    assert uk_r["code"].to_list() == [f"UK-R{i}" for i in range(1, 9)]
    assert uk_r["role"].to_list() == ["invitee"] * 5 + ["reserve"] * 3
    assert uk_r["draw_order"].to_list() == list(range(1, 9))
    mc_df = sample.filter(pl.col("stratum") == "MC-DF")
    assert mc_df["code"].to_list() == [f"MC-DF{i}" for i in range(1, 7)]
    assert mc_df.filter(pl.col("role") == "invitee").height == 4
    # Each person is in the right stratum, once.
    assert sample["person_id"].n_unique() == sample.height
    assert (sample["person_id"].str.slice(1, 4) == sample["stratum"].str.slice(0, 4)).all()
    summary = draw.summary.filter(pl.col("stratum") == "UK-R").to_dicts()[0]
    assert summary["in_pool"] == 40
    assert summary["invitee_codes"] == "UK-R1 UK-R2 UK-R3 UK-R4 UK-R5"
    assert summary["reserve_codes"] == "UK-R6 UK-R7 UK-R8"


def test_a_stratum_too_small_warns_and_takes_everyone(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        draw = D.draw_sample(make_pool(), STRATA, D.Filters(), seed=7)
    mc_ndf = draw.sample.filter(pl.col("stratum") == "MC-NDF")
    assert mc_ndf["code"].to_list() == ["MC-NDF1", "MC-NDF2", "MC-NDF3"]
    assert mc_ndf["role"].to_list() == ["invitee"] * 3
    assert draw.warnings == [
        "stratum MC-NDF: only 3 eligible for 4 invitees and 2 reserves: all 3 taken"
    ]
    assert "MC-NDF: only 3 eligible" in caplog.text
    row = draw.summary.filter(pl.col("stratum") == "MC-NDF").to_dicts()[0]
    assert (row["eligible"], row["invitees"], row["reserves_drawn"]) == (3, 3, 0)
    assert row["note"].startswith("only 3 eligible")


def test_filters_and_the_counts_add_up() -> None:
    pool = make_pool().with_columns(
        email=pl.when(pl.col("person_id").str.ends_with("1")).then(None).otherwise(pl.col("email"))
    )
    filters = D.Filters(min_pair_papers=2, active_since=2012, require_email=True)
    draw = D.draw_sample(pool, STRATA, filters, seed=7)
    drawn = pool.join(draw.sample.select("person_id"), on="person_id")
    assert (drawn["n_pair_papers"] >= 2).all()
    assert (drawn["last_year"] >= 2012).all()
    assert drawn["email"].is_not_null().all()
    for row in draw.summary.to_dicts():
        assert row["in_pool"] == row["excluded"] + row["filtered_out"] + row["eligible"]
    uk_r = pool.filter(pl.col("person_id").str.starts_with("PUK-R"))
    eligible = uk_r.filter(
        (pl.col("n_pair_papers") >= 2)
        & (pl.col("last_year") >= 2012)
        & pl.col("email").is_not_null()
    ).height
    assert draw.summary.filter(pl.col("stratum") == "UK-R")["eligible"].item() == eligible


def test_years_active_and_institution_filters() -> None:
    pool = make_pool({"UK-R": 12}).with_columns(
        institution_id=pl.when(pl.col("person_id") == "PUK-R0002").then(None).otherwise(pl.lit("x"))
    )
    draw = D.draw_sample(pool, STRATA[:1], D.Filters(min_years_active=3), seed=1)
    drawn = pool.join(draw.sample.select("person_id"), on="person_id")
    assert (drawn["years_active"] >= 3).all()
    assert "PUK-R0002" not in drawn["person_id"].to_list()  # years_active 3, no institution


def test_people_in_no_stratum_are_counted_not_drawn() -> None:
    pool = make_pool({"UK-R": 10, "MC-NDF": 5})
    draw = D.draw_sample(pool, STRATA[:1], D.Filters(), seed=1)
    assert draw.summary["stratum"].to_list() == ["UK-R", D.NO_STRATUM]
    assert draw.summary["in_pool"].to_list() == [10, 5]


def test_overlapping_strata_and_unknown_tiers_are_errors() -> None:
    overlapping = [*STRATA, D.Stratum("UK", "GBR", size=1, reserves=0)]
    with pytest.raises(UserInputError, match="'UK-R' and 'UK' overlap"):
        D.draw_sample(make_pool(), overlapping, D.Filters(), seed=1)
    with pytest.raises(UserInputError, match="unknown tier 'russel-group'"):
        D.strata_from_config(
            {"UK-R": {"country": "GBR", "tier": "russel-group"}}, 5, 3, ["russell-group"]
        )
    strata = D.strata_from_config(
        {"A": {"country": "GBR", "size": 2}, "B": {"country": "CHN", "reserves": None}}, 5, 3, []
    )
    assert [(s.label, s.size, s.reserves) for s in strata] == [("A", 2, 3), ("B", 5, 3)]


# --- exclusions -----------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_excluded_people_are_never_drawn_and_the_rest_keep_their_order(tmp_path: Path) -> None:
    pool = make_pool()
    before = D.draw_sample(pool, STRATA, D.Filters(), seed=7).sample
    uk_r = before.filter(pl.col("stratum") == "UK-R")["person_id"].to_list()
    mc_df = before.filter(pl.col("stratum") == "MC-DF")["person_id"].to_list()
    by = pool.filter(pl.col("person_id").is_in([uk_r[1], mc_df[0], uk_r[3]]))
    rows = {r["person_id"]: r for r in by.to_dicts()}
    text = "# people we must not contact\nemail,orcid,name,reason,note\n"
    text += f"{rows[uk_r[1]]['emails'][0].upper()},,,declined,by phone\n"
    text += f",{rows[mc_df[0]]['orcids'][0]},,opted_out,\n"
    text += f',,"{rows[uk_r[3]]["full_names"][0]}",contacted,earlier study\n'
    exclusions = D.load_exclusions(write(tmp_path / "exclusions.csv", text))
    assert exclusions["line"].to_list() == [3, 4, 5]
    after = D.draw_sample(pool, STRATA, D.Filters(), seed=7, exclusions=exclusions)
    drawn = after.sample["person_id"].to_list()
    assert not {uk_r[1], mc_df[0], uk_r[3]} & set(drawn)
    # Everyone else keeps their relative order: the first reserves move up.
    new_uk_r = after.sample.filter(pl.col("stratum") == "UK-R")["person_id"].to_list()
    assert new_uk_r[:6] == [p for p in uk_r if p not in (uk_r[1], uk_r[3])]
    row = after.summary.filter(pl.col("stratum") == "UK-R").to_dicts()[0]
    assert (row["excluded"], row["eligible"]) == (2, 38)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("email,why\n", "line 1: unknown column 'why'"),
        ("email,note\nx@y.org,\n", "line 1: the header needs a reason column"),
        ("email,reason\nx@y.org,declined,extra\n", "line 2: 3 cells where the header has 2"),
        ("email,reason\nnot-an-address,declined\n", "line 2: 'not-an-address' is not an e-mail"),
        ("orcid,reason\n0000-0002-1825,declined\n", "line 2: '0000-0002-1825' is not an ORCID"),
        ("name,reason\nLi Xiaoming,declined\n", "line 2: name 'Li Xiaoming': write it as"),
        ("email,name,reason\n,,declined\n", "line 2: no email, orcid or name"),
        ("email,reason\n\nx@y.org,maybe\n", "line 3: reason 'maybe' is not one of"),
        ("", "no header line"),
    ],
)
def test_a_malformed_exclusion_list_names_the_line_and_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path / "exclusions.csv", text)
    with pytest.raises(UserInputError, match=message) as caught:
        D.load_exclusions(path)
    assert str(path) in str(caught.value)


def test_a_missing_or_undecodable_exclusion_list_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="exclusion list not found"):
        D.load_exclusions(tmp_path / "nope.csv")
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,reason\nM\xfcller, J,declined\n".encode("latin-1"))
    with pytest.raises(UserInputError, match="not UTF-8"):
        D.load_exclusions(path)
