"""The participant pool: sides, e-mail links, lead side and each disambiguation rule."""

from __future__ import annotations

import random

import polars as pl
import pytest

from collabscope import schemas
from collabscope.normalise.institutions import load_registry
from collabscope.sampling import pool as P
from collabscope.synth.people import make_person
from tests.conftest import PROJECT
from tests.unit.sampling_builders import Address, Author, Paper, pair_paper, tables

FOCAL = ("CHN", "GBR")
INSTITUTIONS = PROJECT / "resources" / "institutions"


@pytest.fixture(scope="module")
def registry() -> pl.DataFrame:
    return load_registry([INSTITUTIONS / "institutions.csv"], [INSTITUTIONS / "tiers.csv"])


def build(papers: list[Paper], registry: pl.DataFrame, dataset: str | None = None) -> P.Pool:
    frames = {name: frame.lazy() for name, frame in tables(papers).items()}
    return P.build_pool(frames, registry, FOCAL, dataset)


def person_of(pool: P.Pool, full_name: str) -> list[dict]:
    return pool.people.filter(pl.col("full_names").list.contains(full_name)).to_dicts()


# --- pool papers and sides ----------------------------------------------------------------


def test_only_papers_with_both_focal_countries_and_only_their_focal_authors(registry) -> None:
    uk_only = Paper(
        "WOS:3", 2010, [Author("Brown, A", "Brown, Alice")], [Address("gbr-leeds", "GBR")]
    )
    with_usa = Paper(
        "WOS:4",
        2012,
        [
            Author("Li, XM", "Li, Xiaoming", (1,)),
            Author("Doe, J", "Doe, Jane", (3,)),
            Author("Brown, A", "Brown, Alice", (2,)),
        ],
        [Address("chn-beijing-normal", "CHN"), Address("gbr-leeds", "GBR"), Address(None, "USA")],
    )
    pool = build([uk_only, with_usa], registry)
    assert pool.counts["papers"] == 1
    assert sorted(pool.people["full_name"]) == ["Brown, Alice", "Li, Xiaoming"]
    assert pool.counts["authorships_linked_elsewhere_only"] == 1  # Doe, in the USA
    by_name = {r["full_name"]: r for r in pool.people.to_dicts()}
    assert by_name["Li, Xiaoming"]["country"] == "CHN"
    assert by_name["Li, Xiaoming"]["tiers"][:1] == ["double-first-class"]
    assert by_name["Brown, Alice"]["institution_id"] == "gbr-leeds"
    assert "russell-group" in by_name["Brown, Alice"]["tiers"]


def test_a_named_dataset_restricts_the_pool(registry) -> None:
    a = pair_paper(
        "WOS:1", 2010, [Author("Li, XM", "Li, Xiaoming")], [Author("Brown, A", "Brown, Alice")]
    )
    b = pair_paper("WOS:2", 2011, [Author("Wu, H", "Wu, Hong")], [Author("Green, T", "Green, Tom")])
    b.datasets = ("other",)
    assert build([a, b], registry).counts["papers"] == 2
    assert sorted(build([a, b], registry, "pair").people["full_name"]) == [
        "Brown, Alice",
        "Li, Xiaoming",
    ]


def test_unbracketed_c1_links_the_corresponding_author_through_rp_only(registry) -> None:
    paper = pair_paper(
        "WOS:1",
        2004,
        [Author("LI, XM", "LI, XM", corresponding=True)],
        [Author("BROWN, A", "BROWN, A")],
    )
    paper.linked = False
    frames = tables([paper])
    # The RP group: 'LI, XM (reprint author), BNU …' -> a reprint address linked to author 1.
    reprint = (
        frames["addresses"]
        .head(1)
        .with_columns(address_pos=pl.lit(3, dtype=pl.Int64), kind=pl.lit("reprint"))
    )
    frames["addresses"] = pl.concat([frames["addresses"], reprint])
    frames["author_address"] = pl.DataFrame(
        {"record_id": ["WOS:1"], "position": [1], "address_pos": [3]},
        schema=schemas.AUTHOR_ADDRESS.schema,
    )
    pool = P.build_pool({k: v.lazy() for k, v in frames.items()}, registry, FOCAL)
    assert pool.people["name"].to_list() == ["LI, XM"]
    assert pool.people["links"].to_list() == [["reprint"]]
    assert pool.counts["authorships_unlinked"] == 1  # BROWN: two C1 addresses, no bracket


def test_a_single_c1_address_is_every_authors_address() -> None:
    paper = Paper("WOS:9", 2003, [Author("A, B"), Author("C, D")], [Address("gbr-leeds", "GBR")])
    paper.linked = False
    frames = {k: v.lazy() for k, v in tables([paper]).items()}
    sides = P.authorship_sides(
        frames["authorships"], frames["addresses"], frames["author_address"], ["GBR"]
    ).collect()
    assert sides["link"].to_list() == ["sole_address", "sole_address"]


# --- lead side --------------------------------------------------------------------------------


def test_lead_is_the_first_authors_first_address_else_the_first_c1_address() -> None:
    led_by_uk = Paper(
        "WOS:1",
        2015,
        [Author("Brown, A", addresses=(2,)), Author("Li, X", addresses=(1,))],
        [Address("chn-beijing-normal", "CHN"), Address("gbr-leeds", "GBR")],
    )
    unlinked = Paper(
        "WOS:2",
        2003,
        [Author("Brown, A"), Author("Li, X")],
        [Address("gbr-leeds", "GBR"), Address("chn-beijing-normal", "CHN")],
        linked=False,
    )
    frames = {k: v.lazy() for k, v in tables([led_by_uk, unlinked]).items()}
    leads = P.paper_lead_country(frames["addresses"], frames["author_address"]).collect()
    assert leads.sort("record_id").rows() == [
        ("WOS:1", "GBR", "first_author_address"),
        ("WOS:2", "GBR", "first_c1_address"),
    ]


def test_first_corresponding_and_lead_side_counts(registry) -> None:
    li = Author("Li, XM", "Li, Xiaoming", orcid="0000-0002-1825-0097", corresponding=True)
    papers = [
        pair_paper("WOS:1", 2010, [li], [Author("Brown, A", "Brown, Alice")]),  # Li first, lead CHN
        pair_paper("WOS:2", 2012, [Author("Wu, H", "Wu, Hong"), li], [Author("Ng, K", "Ng, Kim")]),
        Paper(  # the UK author first: lead GBR
            "WOS:3",
            2018,
            [Author("Brown, A", "Brown, Alice", (2,)), Author("Li, XM", "Li, Xiaoming", (1,))],
            [Address("chn-tsinghua", "CHN"), Address("gbr-leeds", "GBR")],
        ),
    ]
    papers[2].authors[1].orcid = li.orcid
    pool = build(papers, registry)
    [row] = person_of(pool, "Li, Xiaoming")
    assert row["n_pair_papers"] == 3
    assert (row["n_first_author"], row["n_corresponding"], row["n_lead_side"]) == (1, 2, 2)
    assert (row["first_year"], row["last_year"], row["years_active"]) == (2010, 2018, 9)
    # Current affiliation: the most recent paper's.
    assert row["institution_id"] == "chn-tsinghua"
    assert row["current_record_id"] == "WOS:3"


# --- e-mail links -------------------------------------------------------------------------


def _links(paper: Paper) -> dict[int, tuple[str, str]]:
    frames = {k: v.lazy() for k, v in tables([paper]).items()}
    found = P.link_emails(frames["records"], frames["authorships"]).collect()
    return {r["position"]: (r["email"], r["email_method"]) for r in found.to_dicts()}


def test_emails_are_linked_by_name_initials_and_partial_name() -> None:
    paper = pair_paper(
        "WOS:1",
        2015,
        [Author("Li, XM", "Li, Xiaoming"), Author("Zhao, Q", "Zhao, Qing")],
        [Author("VAZQUEZ, A", "VAZQUEZ, A"), Author("Smith, JA", "Smith, JA")],
        emails=["JSmith@leeds.ac.uk", "lixiaoming1203@bnu.edu.cn", "angel.vazquez@ed.ac.uk"],
    )
    assert _links(paper) == {
        1: ("lixiaoming1203@bnu.edu.cn", "name"),
        3: ("angel.vazquez@ed.ac.uk", "name_partial"),
        4: ("jsmith@leeds.ac.uk", "initials"),
    }


def test_an_email_two_authors_match_equally_is_linked_to_neither() -> None:
    paper = pair_paper(
        "WOS:1",
        2005,
        [Author("Wang, X", "Wang, X"), Author("Wang, X", "Wang, X")],
        [],
        emails=["wangx@bnu.edu.cn"],
    )
    assert _links(paper) == {}


def test_unmatched_first_email_goes_to_the_only_corresponding_author() -> None:
    paper = pair_paper(
        "WOS:1",
        2009,
        [Author("Chen, L", "Chen, Lan", corresponding=True)],
        [Author("Brown, A", "Brown, Alice")],
        emails=["office77@bnu.edu.cn", "alice.brown@leeds.ac.uk"],
    )
    assert _links(paper) == {
        1: ("office77@bnu.edu.cn", "corresponding"),
        2: ("alice.brown@leeds.ac.uk", "name"),
    }


def test_sole_author_takes_the_sole_email() -> None:
    paper = Paper(
        "WOS:1", 2009, [Author("Ng, K", "Ng, Kim")], [Address("gbr-leeds", "GBR")], ["k99@x.ac.uk"]
    )
    assert _links(paper) == {1: ("k99@x.ac.uk", "sole_author")}


def test_email_links_against_the_generators_truth() -> None:
    """People made by the example's generator, each with the e-mail it makes for them: every
    e-mail linked goes to its owner, and nearly all are linked."""
    rng = random.Random(5)
    papers, owner = [], {}
    for i in range(400):
        cultures = [("cn", "CHN"), ("en", "GBR"), ("cn", "GBR"), ("de", "GBR"), ("gr", "GBR")]
        people = [make_person(rng, cultures[int(rng.random() * 5)][0]) for _ in range(4)]
        if len({p.au for p in people}) < 4:
            continue  # the generator never writes one AU twice on a paper
        old = i % 4 == 0  # AF = AU, as before 2006
        authors = [Author(p.au, p.au if old else p.af, (1 + k % 2,)) for k, p in enumerate(people)]
        emails = []
        for k, person in enumerate(people):
            if rng.random() < 0.6:
                emails.append(f"{person.email_local}@example.ac.uk")
                owner[(f"WOS:{i}", emails[-1])] = k + 1
        papers.append(
            Paper(f"WOS:{i}", 2015, authors, [Address(None, "CHN"), Address(None, "GBR")], emails)
        )
    frames = {k: v.lazy() for k, v in tables(papers).items()}
    found = P.link_emails(frames["records"], frames["authorships"]).collect()
    right = sum(
        owner[(r, e)] == pos for r, pos, e in found.select("record_id", "position", "email").rows()
    )
    assert len(owner) > 900
    assert right == found.height  # precision 1.0
    assert found.height / len(owner) > 0.99  # recall: 965 of 966 on this seed


# --- disambiguation -----------------------------------------------------------------------


def _reasons(pool: P.Pool) -> list[str]:
    return sorted(pool.merges["reason"])


def test_same_orcid_is_one_person_across_institutions_and_name_forms(registry) -> None:
    orcid = "0000-0002-1825-0097"
    papers = [
        pair_paper("WOS:1", 2010, [Author("Li, X", "Li, X", orcid=orcid)], [Author("Brown, A")]),
        pair_paper(
            "WOS:2",
            2014,
            [Author("Li, XM", "Li, Xiaoming", orcid=f"https://orcid.org/{orcid}")],
            [Author("Green, T")],
            chn="chn-tsinghua",
        ),
    ]
    pool = build(papers, registry)
    [row] = pool.people.filter(pl.col("orcids").list.len() > 0).to_dicts()
    assert row["n_pair_papers"] == 2
    assert row["names"] == ["Li, XM", "Li, X"]
    assert row["full_name"] == "Li, Xiaoming"
    assert row["merge_reasons"] == ["orcid"]
    assert _reasons(pool) == ["orcid"]
    assert pool.merges["evidence"].to_list() == [orcid]


def test_same_researcher_id_is_one_person(registry) -> None:
    papers = [
        pair_paper(
            "WOS:1", 2010, [Author("Li, X", researcher_id="A-1234-2010")], [Author("Brown, A")]
        ),
        pair_paper(
            "WOS:2", 2014, [Author("Li, X", researcher_id="a-1234-2010")], [Author("Green, T")]
        ),
    ]
    pool = build(papers, registry)
    assert pool.people.height == 3
    assert _reasons(pool) == ["researcher_id"]


def test_same_email_is_one_person(registry) -> None:
    papers = [
        pair_paper(
            "WOS:1",
            2010,
            [Author("Wu, H")],
            [Author("Smith, J", "Smith, John")],
            emails=["john.smith@leeds.ac.uk"],
        ),
        pair_paper(
            "WOS:2",
            2016,
            [Author("Ma, N")],
            [Author("Smith, JR", "Smith, John R.")],
            gbr="gbr-bristol",
            emails=["John.Smith@Leeds.ac.uk"],
        ),
    ]
    pool = build(papers, registry)
    [row] = person_of(pool, "Smith, John")
    assert row["n_pair_papers"] == 2
    assert row["merge_reasons"] == ["email"]
    assert row["email"] == "john.smith@leeds.ac.uk"
    assert row["institution_id"] == "gbr-bristol"  # the most recent paper's


def test_same_full_name_at_same_institution_is_one_person_whatever_the_spelling(registry) -> None:
    papers = [
        pair_paper("WOS:1", 2011, [Author("Li, XM", "Li, Xiao-Ming")], [Author("Brown, A")]),
        pair_paper("WOS:2", 2013, [Author("LI, XM", "LI, XIAOMING")], [Author("Green, T")]),
    ]
    pool = build(papers, registry)
    [row] = person_of(pool, "LI, XIAOMING")
    assert row["n_pair_papers"] == 2
    assert row["merge_reasons"] == ["name_institution"]
    assert pool.merges["evidence"].to_list() == ["li|xiaoming @ chn-beijing-normal"]


def test_li_x_at_two_institutions_with_nothing_shared_is_two_people(registry) -> None:
    papers = [
        pair_paper(
            "WOS:1", 2011, [Author("Li, X", "Li, Xin")], [Author("Brown, A", "Brown, Alice")]
        ),
        pair_paper(
            "WOS:2",
            2013,
            [Author("Li, X", "Li, Xin")],
            [Author("Green, T", "Green, Tom")],
            chn="chn-tsinghua",
        ),
    ]
    pool = build(papers, registry)
    assert len(person_of(pool, "Li, Xin")) == 2
    assert pool.merges.height == 0


def test_initials_only_at_one_institution_are_not_merged(registry) -> None:
    papers = [
        pair_paper("WOS:1", 2003, [Author("LI, X", "LI, X")], [Author("BROWN, A")]),
        pair_paper("WOS:2", 2004, [Author("LI, X", "LI, X")], [Author("GREEN, T")]),
    ]
    pool = build(papers, registry)
    assert pool.people.filter(pl.col("name") == "LI, X").height == 2


def test_same_full_name_with_a_shared_coauthor_is_one_person(registry) -> None:
    brown = Author("Brown, A", "Brown, Alice")
    papers = [
        pair_paper("WOS:1", 2011, [Author("Li, X", "Li, Xin")], [brown]),
        pair_paper(
            "WOS:2",
            2013,
            [Author("Li, X", "Li, Xin")],
            [brown],
            chn="chn-tsinghua",
            gbr="gbr-leeds",
        ),
    ]
    pool = build(papers, registry)
    [li] = person_of(pool, "Li, Xin")
    [alice] = person_of(pool, "Brown, Alice")
    assert li["merge_reasons"] == ["name_coauthor"]  # each is the other's shared co-author
    assert alice["merge_reasons"] == ["name_coauthor"]
    assert sorted(pool.merges["evidence"]) == ["brown|alice with li|xin", "li|xin with brown|alice"]


def test_two_shared_coauthors_give_one_merge_with_the_smallest_evidence(registry) -> None:
    """Li, Xin shares two co-authors between papers at different institutions: one merge of
    the pair, whose evidence is the smallest (not the first row, whose order varied from run
    to run), whatever the order of the papers and authors."""
    coauthors = [Author("Zhou, B", "Zhou, Bo"), Author("Brown, A", "Brown, Alice")]
    papers = [
        pair_paper("WOS:1", 2011, [Author("Li, X", "Li, Xin")], coauthors[::-1]),
        pair_paper(
            "WOS:2",
            2013,
            [Author("Li, X", "Li, Xin")],
            coauthors,
            chn="chn-tsinghua",
            gbr="gbr-leeds",
        ),
    ]
    pool = build(papers, registry)
    li = pool.merges.filter(pl.col("evidence").str.starts_with("li|xin"))
    assert li.select("node", "other", "evidence").rows() == [
        ("WOS:2#00001", "WOS:1#00001", "li|xin with brown|alice")
    ]
    for shuffled in (papers[::-1], [*papers[1:], papers[0]]):
        again = build(shuffled, registry)
        assert again.merges.equals(pool.merges)
        assert again.people.equals(pool.people)


def test_two_authors_of_one_paper_with_one_name_are_never_merged_by_name(registry) -> None:
    papers = [
        pair_paper(
            "WOS:1",
            2011,
            [Author("Li, X", "Li, Xin"), Author("Li, X", "Li, Xin")],
            [Author("B, A")],
        ),
        pair_paper("WOS:2", 2012, [Author("Li, X", "Li, Xin")], [Author("C, D")]),
    ]
    pool = build(papers, registry)
    assert len(person_of(pool, "Li, Xin")) == 3
    assert not pool.people["two_on_one_paper"].any()


def test_merges_chain_across_rules_and_each_merge_keeps_its_reason(registry) -> None:
    orcid = "0000-0002-1825-0097"
    papers = [
        pair_paper("WOS:1", 2010, [Author("Li, X", "Li, Xin", orcid=orcid)], [Author("B, A")]),
        pair_paper(
            "WOS:2",
            2012,
            [Author("Li, X", "Li, Xin", orcid=orcid)],
            [Author("C, D")],
            chn="chn-tsinghua",
        ),
        # Same name, same institution as WOS:2, no ORCID: joins through the name rule.
        pair_paper(
            "WOS:3", 2014, [Author("Li, X", "Li, Xin")], [Author("E, F")], chn="chn-tsinghua"
        ),
        # An e-mail shared with WOS:3 and nothing else.
        pair_paper(
            "WOS:4",
            2016,
            [Author("Li, X", "Li, X")],
            [Author("G, H")],
            chn="chn-hunan-normal",
            emails=["lixin@163.com"],
        ),
    ]
    papers[2].emails = ["lixin@163.com"]
    pool = build(papers, registry)
    [row] = pool.people.filter(pl.col("n_pair_papers") > 1).to_dicts()
    assert row["n_pair_papers"] == 4
    assert row["merge_reasons"] == ["email", "name_institution", "orcid"]
    assert set(pool.merges["person_id"]) == {row["person_id"]}


def test_person_ids_are_stable_and_reveal_nothing(registry) -> None:
    papers = [
        pair_paper(
            "WOS:1", 2010, [Author("Li, X", "Li, Xin")], [Author("Brown, A", "Brown, Alice")]
        )
    ]
    first = build(papers, registry).people
    second = build(list(reversed(papers)), registry).people
    assert first["person_id"].to_list() == second["person_id"].to_list()
    assert all(len(pid) == 11 and pid.startswith("P") for pid in first["person_id"])
    assert first.select(schemas.POOL.schema.names()).schema.names() == schemas.POOL.schema.names()


def test_hyper_authored_papers_give_no_coauthor_evidence(registry) -> None:
    crowd = [Author(f"Member{i}, A", f"Member{i}, Anne") for i in range(P.COAUTHOR_BYLINE_MAX)]
    papers = [
        pair_paper("WOS:1", 2011, [Author("Li, X", "Li, Xin")], crowd),
        pair_paper("WOS:2", 2013, [Author("Li, X", "Li, Xin")], crowd[:1], chn="chn-tsinghua"),
    ]
    pool = build(papers, registry)
    assert len(person_of(pool, "Li, Xin")) == 2  # WOS:1 has 51 authors
    papers[0] = pair_paper("WOS:1", 2011, [Author("Li, X", "Li, Xin")], crowd[:-1])
    assert len(person_of(build(papers, registry), "Li, Xin")) == 1  # 50 authors
