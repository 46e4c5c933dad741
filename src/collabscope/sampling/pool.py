"""The participant pool: every author of the pool's papers whose address is in a focal country,
one row per person after disambiguation.

Steps, each a function over LazyFrames:

1. :func:`pool_records` — the pool's papers: records with an affiliation address in every focal
   country (under the country policy), optionally only those of one configured dataset.
2. :func:`authorship_sides` — each author's side on each paper: the country, institution and
   address of their first linked address in a focal country. Links, in order of preference:
   ``c1`` (the C1 ``[Author; …]`` brackets), ``reprint`` (the RP group of a corresponding
   author) and ``sole_address`` (a paper with a single C1 address: every author is there).
   Authors with no such address (unbracketed C1 with several addresses, not corresponding) are
   not in the pool; their number is logged.
3. :func:`link_emails` — the EM addresses linked to authors (see its docstring for the methods
   and their confidences).
4. :func:`paper_lead_country` — each paper's lead side (kept small so that it can become a
   join to the classification stage's ``paper_classes``).
5. :func:`disambiguate` — authorships grouped into people by ORCID, ResearcherID, e-mail, same
   full name at the same institution, and same full name with a shared co-author (papers of at
   most :data:`COAUTHOR_BYLINE_MAX` authors); every merge is one row with its reason and
   evidence. Full names only: initials ('Li, X') never merge by name. Nothing forbids a merge
   chain from joining two ORCIDs; ``orcids`` lists them and the real-data test finds none.
6. :func:`people` — one row per person (:data:`collabscope.schemas.POOL`).

Steps 1-4 and the name keys of step 5 depend on each paper's own rows only
(:func:`paper_frames`, which a stage can compute per parse shard and keep); grouping the
authorships into people and describing them (:func:`pool_of`) is done over the whole pool.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from collabscope import schemas
from collabscope.sampling import names

MERGE_REASONS = ("orcid", "researcher_id", "email", "name_institution", "name_coauthor")
"""Disambiguation rules, strongest first; a merge row names the rule that made it."""

COAUTHOR_BYLINE_MAX = 50
"""The shared co-author rule looks only at papers with at most this many authors."""

LINK_RANK = {"c1": 0, "reprint": 1, "sole_address": 2}

EMAIL_CONFIDENCE = {
    "name": 0.95,
    "sole_author": 0.9,
    "initials": 0.85,
    "name_partial": 0.7,
    "corresponding": 0.5,
}
"""How an e-mail was linked to an author and how sure the link is (a heuristic scale):

- ``name``: the local part's letters are the full name (surname + given names, given names +
  surname, first given name + surname, or surname + first given name: 'lixiaoming',
  'john.smith');
- ``sole_author``: the paper has one author and one e-mail;
- ``initials``: initials and surname ('jsmith', 'smithja', 'lixm');
- ``name_partial``: the local part starts with surname and first initial ('wangx…') or starts
  with the first initial and ends with the surname ('angel.vazquez' for Vazquez, A);
- ``corresponding``: the first EM address, matched by none of the rules above, given to the
  paper's only corresponding author when they have no e-mail of their own (WoS lists the
  corresponding author's address first).

An e-mail that two authors of one paper match equally well is linked to neither.
"""


def pool_records(
    addresses: pl.LazyFrame,
    focal_countries: Sequence[str],
    dataset_records: pl.LazyFrame | None = None,
    dataset: str | None = None,
) -> pl.LazyFrame:
    """record_id of the papers with an affiliation address in every focal country (of
    ``dataset`` only, when one is named)."""
    focal = list(focal_countries)
    found = (
        addresses.filter((pl.col("kind") == "affiliation") & pl.col("country").is_in(focal))
        .group_by("record_id")
        .agg(pl.col("country").n_unique().alias("_n"))
        .filter(pl.col("_n") == len(focal))
        .select("record_id")
    )
    if dataset:
        if dataset_records is None:
            raise ValueError("pool_records: a dataset is named but no dataset_records given")
        chosen = dataset_records.filter(pl.col("dataset") == dataset).select("record_id")
        found = found.join(chosen, on="record_id", how="semi")
    return found.unique().sort("record_id")


def authorship_sides(
    authorships: pl.LazyFrame,
    addresses: pl.LazyFrame,
    author_address: pl.LazyFrame,
    focal_countries: Sequence[str],
) -> pl.LazyFrame:
    """One row per authorship with a linked address in a focal country: record_id, position,
    side (the country), address_pos, affiliation (the address as written), institution_id,
    institution_name, link (c1, reprint, sole_address)."""
    located = addresses.select(
        "record_id",
        "address_pos",
        "kind",
        pl.col("raw").alias("affiliation"),
        pl.col("country").alias("side"),
        "institution_id",
        "institution_name",
    )
    linked = author_address.join(located, on=["record_id", "address_pos"]).with_columns(
        link=pl.when(pl.col("kind") == "affiliation")
        .then(pl.lit("c1"))
        .otherwise(pl.lit("reprint"))
    )
    affiliations = located.filter(pl.col("kind") == "affiliation")
    sole = (
        affiliations.join(
            affiliations.group_by("record_id").len().filter(pl.col("len") == 1),
            on="record_id",
            how="semi",
        )
        .join(authorships.select("record_id", "position"), on="record_id")
        .with_columns(link=pl.lit("sole_address"))
    )
    columns = ["record_id", "position", "address_pos", "affiliation", "side"]
    columns += ["institution_id", "institution_name", "link"]
    candidates = pl.concat([linked.select(columns), sole.select(columns)])
    return (
        candidates.filter(pl.col("side").is_in(list(focal_countries)))
        .with_columns(_rank=pl.col("link").replace_strict(LINK_RANK, return_dtype=pl.Int64))
        .sort("record_id", "position", "_rank", "address_pos")
        .group_by("record_id", "position", maintain_order=True)
        .first()
        .drop("_rank")
    )


def paper_lead_country(addresses: pl.LazyFrame, author_address: pl.LazyFrame) -> pl.LazyFrame:
    """Each paper's lead side: record_id, lead_country, lead_rule.

    The default rule of the study's definitions: the first C1 address linked to the first
    author (``first_author_address``), else the first C1 address (``first_c1_address``);
    papers without C1 addresses have none. When the classification stage's ``paper_classes``
    exists, this function is the one to replace by a join to it.
    """
    affiliations = addresses.filter(pl.col("kind") == "affiliation").select(
        "record_id", "address_pos", "country"
    )
    first_author = (
        author_address.filter(pl.col("position") == 1)
        .join(affiliations, on=["record_id", "address_pos"])
        .group_by("record_id")
        .agg(pl.col("country").sort_by("address_pos").first().alias("_author"))
    )
    first_c1 = affiliations.group_by("record_id").agg(
        pl.col("country").sort_by("address_pos").first().alias("_c1")
    )
    return first_c1.join(first_author, on="record_id", how="left").select(
        "record_id",
        lead_country=pl.coalesce("_author", "_c1"),
        lead_rule=pl.when(pl.col("_author").is_not_null())
        .then(pl.lit("first_author_address"))
        .otherwise(pl.lit("first_c1_address")),
    )


def link_emails(records: pl.LazyFrame, authorships: pl.LazyFrame) -> pl.LazyFrame:
    """E-mails of the EM field linked to the authors of the same paper: record_id, position,
    email, email_method, email_confidence (one e-mail per authorship, the surest; see
    :data:`EMAIL_CONFIDENCE`)."""
    emails = (
        records.select("record_id", "emails")
        .explode("emails")
        .with_columns(email=names.email_key(pl.col("emails")))
        .drop_nulls("email")
        .unique(["record_id", "email"], keep="first", maintain_order=True)
        .with_columns(email_pos=pl.int_range(1, pl.len() + 1).over("record_id"))
        .select("record_id", "email", "email_pos", _letters=names.email_letters(pl.col("email")))
    )
    authors = authorships.select(
        "record_id",
        "position",
        "is_corresponding",
        _s=names.surname(pl.col("name")),
        _i=names.initials(pl.col("name")),
        _g=pl.when(names.has_full_name(pl.col("name"), pl.col("full_name"))).then(
            names.given_tokens(pl.col("full_name"))
        ),
    ).with_columns(
        _ga=pl.col("_g").list.join(""),
        _gf=pl.col("_g").list.first(),
        _i1=pl.col("_i").str.slice(0, 1),
        _n=pl.len().over("record_id"),
    )
    pairs = emails.join(authors, on="record_id")
    letters, s = pl.col("_letters"), pl.col("_s")
    ga, gf, i, i1 = pl.col("_ga"), pl.col("_gf"), pl.col("_i"), pl.col("_i1")
    usable = s.str.len_chars() >= 2
    by_name = pl.any_horizontal(
        letters == s + ga, letters == ga + s, letters == gf + s, letters == s + gf
    ).fill_null(False)
    by_initials = pl.any_horizontal(
        letters == i + s, letters == s + i, letters == i1 + s, letters == s + i1
    ).fill_null(False) & (i.str.len_chars() > 0)
    partial = (
        (letters.str.starts_with(s + i1) & (i1.str.len_chars() > 0))
        | (
            letters.str.starts_with(i1)
            & letters.str.ends_with(s)
            & (s.str.len_chars() >= 3)
            & (i1.str.len_chars() > 0)
        )
    ).fill_null(False)
    sole = (pl.col("_n") == 1) & (pl.len().over("record_id") == 1)
    method = (
        pl.when(usable & by_name)
        .then(pl.lit("name"))
        .when(sole)
        .then(pl.lit("sole_author"))
        .when(usable & by_initials)
        .then(pl.lit("initials"))
        .when(usable & partial)
        .then(pl.lit("name_partial"))
    )
    scored = (
        pairs.with_columns(email_method=method)
        .drop_nulls("email_method")
        .with_columns(
            email_confidence=pl.col("email_method").replace_strict(
                EMAIL_CONFIDENCE, return_dtype=pl.Float64
            )
        )
    )
    # An e-mail goes to its best-matching author, unless two authors match it equally well.
    best = scored.filter(
        pl.col("email_confidence") == pl.col("email_confidence").max().over("record_id", "email")
    ).filter(pl.len().over("record_id", "email") == 1)
    named = (
        best.sort(
            "record_id",
            "position",
            "email_confidence",
            "email_pos",
            descending=[False, False, True, False],
        )
        .group_by("record_id", "position", maintain_order=True)
        .first()
        .select("record_id", "position", "email", "email_method", "email_confidence")
    )
    # The corresponding author's fallback: the first EM address when nobody matched it.
    corresponding = authors.filter(pl.col("is_corresponding").fill_null(False))
    only = corresponding.filter(pl.len().over("record_id") == 1).join(
        named, on=["record_id", "position"], how="anti"
    )
    first_free = emails.filter(pl.col("email_pos") == 1).join(
        named.select("record_id", "email"), on=["record_id", "email"], how="anti"
    )
    fallback = only.join(first_free, on="record_id").select(
        "record_id",
        "position",
        "email",
        email_method=pl.lit("corresponding"),
        email_confidence=pl.lit(EMAIL_CONFIDENCE["corresponding"]),
    )
    return pl.concat([named, fallback]).sort("record_id", "position")


def _node(record_id: pl.Expr, position: pl.Expr) -> pl.Expr:
    """An authorship's key, sortable and unique: 'record_id#00001'."""
    return pl.concat_str([record_id, pl.lit("#"), position.cast(pl.String).str.zfill(5)])


def merge_edges(nodes: pl.LazyFrame, coauthors: pl.LazyFrame) -> pl.LazyFrame:
    """Pairs of authorships that the rules say are one person: node, other, reason, evidence.

    ``nodes``: node, record_id, orcid, researcher_id, email, full_key, institution_id.
    ``coauthors``: node, co_key (the full-name key of another author of the same paper).
    Each group of authorships sharing a value is joined as a star on its first node. The name
    rules never merge two authorships of one paper, nor use a name that two authors of one
    paper share.
    """

    def star(
        frame: pl.LazyFrame, by: list[str], reason: str, evidence: pl.Expr, by_name: bool = False
    ) -> pl.LazyFrame:
        # A value that one authorship has merges nothing: most are, and are dropped first.
        grouped = (
            frame.drop_nulls(by)
            .filter(pl.len().over(by) > 1)
            .select("node", "record_id", *by, _evidence=evidence)
        )
        if by_name:
            # Two authors of one paper with one name are two people: neither is merged by name.
            grouped = grouped.filter(pl.col("node").n_unique().over(*by, "record_id") == 1)
        return (
            grouped.with_columns(other=pl.col("node").min().over(by))
            .filter(pl.col("node") != pl.col("other"))
            .select("node", "other", reason=pl.lit(reason), evidence="_evidence")
        )

    institution = pl.concat_str([pl.col("full_key"), pl.lit(" @ "), pl.col("institution_id")])
    edges = [
        star(nodes, ["orcid"], "orcid", pl.col("orcid")),
        star(nodes, ["researcher_id"], "researcher_id", pl.col("researcher_id")),
        star(nodes, ["email"], "email", pl.col("email")),
        star(nodes, ["full_key", "institution_id"], "name_institution", institution, True),
    ]
    # Only a name on several papers can share a co-author across papers: the others are
    # dropped before the (large) join with the co-authors.
    shared = (
        nodes.drop_nulls("full_key")
        .filter(pl.col("record_id").n_unique().over("full_key") > 1)
        .select("node", "record_id", "full_key")
        .join(coauthors, on="node")
        .filter(pl.col("record_id").n_unique().over("full_key", "co_key") > 1)
    )
    with_coauthor = pl.concat_str([pl.col("full_key"), pl.lit(" with "), pl.col("co_key")])
    edges.append(star(shared, ["full_key", "co_key"], "name_coauthor", with_coauthor, True))
    # Two shared co-authors can join a pair twice under one rule: the smallest evidence is
    # kept, whatever order the rows came in.
    return (
        pl.concat(edges)
        .sort("reason", "node", "other", "evidence")
        .unique(["node", "other", "reason"], keep="first", maintain_order=True)
    )


def components(nodes: pl.LazyFrame, edges: pl.LazyFrame) -> pl.DataFrame:
    """node -> label, the smallest node of its connected component (label propagation until
    nothing changes; a few rounds for the chains real data make)."""
    undirected = pl.concat(
        [edges.select("node", "other"), edges.select(node="other", other="node")]
    ).collect()
    # An authorship without an edge is its own component: only the few with one propagate.
    labels = undirected.select("node").unique().with_columns(label=pl.col("node"))
    while True:
        reached = (
            undirected.join(labels, left_on="other", right_on="node")
            .group_by("node")
            .agg(pl.col("label").min().alias("_reached"))
        )
        updated = (
            labels.join(reached, on="node", how="left")
            .with_columns(label=pl.min_horizontal("label", "_reached"))
            .drop("_reached")
        )
        # Pointer jumping: a node takes its label's label, which halves long chains.
        updated = (
            updated.join(updated.rename({"node": "label", "label": "_up"}), on="label", how="left")
            .with_columns(label=pl.min_horizontal("label", "_up"))
            .drop("_up")
        )
        if updated.sort("node").equals(labels.sort("node")):
            break
        labels = updated
    return (
        nodes.select("node")
        .unique()
        .collect()
        .join(updated, on="node", how="left")
        .with_columns(label=pl.coalesce("label", "node"))
        .sort("node")
    )


def person_ids(labels: pl.Series) -> pl.Series:
    """A stable id per component: 'P' and 10 hex digits of BLAKE2 of its smallest node (the
    same papers give the same ids; the id reveals nothing about the person)."""
    return pl.Series(
        "person_id",
        ["P" + hashlib.blake2s(x.encode(), digest_size=5).hexdigest() for x in labels.to_list()],
        dtype=pl.String,
    )


def authorship_keys(authorships: pl.LazyFrame) -> pl.LazyFrame:
    """Each authorship's name, corresponding flag and identity keys: record_id, position,
    name, full_name, is_corresponding, orcid, researcher_id, full_key, au_key."""
    return authorships.select(
        "record_id",
        "position",
        "name",
        "full_name",
        "is_corresponding",
        orcid=names.orcid_key(pl.col("orcid")),
        researcher_id=pl.col("researcher_id").str.strip_chars().str.to_uppercase(),
        full_key=names.full_key(pl.col("name"), pl.col("full_name")),
        au_key=names.au_key(pl.col("name")),
    )


@dataclass(frozen=True)
class PaperFrames:
    """The part of the pool that depends on each paper's own rows only, for the papers with an
    address in every focal country (of any dataset)."""

    nodes: pl.DataFrame  # collabscope.schemas.POOL_NODES
    papers: pl.DataFrame  # collabscope.schemas.POOL_PAPERS


def paper_frames(
    tables: Mapping[str, pl.LazyFrame], focal_countries: Sequence[str], carry: str | None = None
) -> PaperFrames:
    """Steps 1-4 and the keys of step 5 for every paper with an address in every focal
    country: its authorships in a focal country with their keys, e-mail, paper year, lead
    country and co-authors' keys (``nodes``), and its authorship counts (``papers``).

    ``tables``: authorships, records, author_address and the normalised addresses. With
    ``carry``, a column of the addresses copied to each paper's rows (the paper's addresses
    must agree on it): the rows of several parts are computed together and split after."""
    addresses = tables["addresses"]
    chosen = pool_records(addresses, focal_countries).collect()
    chosen_ids = chosen.get_column("record_id").implode()

    def only(frame: pl.LazyFrame) -> pl.LazyFrame:
        # The pool's papers are few: read each table's share once, not once per consumer
        # (a filter, not a semi join: Parquet decodes the other columns of its rows only).
        return frame.filter(pl.col("record_id").is_in(chosen_ids)).collect().lazy()

    located = ["record_id", "address_pos", "kind", "raw", "country"]
    located += ["institution_id", "institution_name", *([carry] if carry else [])]
    authorships = only(tables["authorships"].select(schemas.AUTHORSHIPS.schema.names()))
    author_address = only(tables["author_address"].select("record_id", "position", "address_pos"))
    # Only the columns the pool reads: the other record columns (titles, abstracts, keywords)
    # made this the stage's slowest read.
    records = only(tables["records"].select("record_id", "year", "emails"))
    pool_addresses = only(addresses.select(located))
    sides = (
        authorship_sides(authorships, pool_addresses, author_address, focal_countries)
        .collect()
        .lazy()
    )
    emails = link_emails(records, authorships).collect()
    keyed = authorship_keys(authorships).collect()
    # Co-authors of hyper-authored papers say little about identity and would make the pair
    # table quadratic in the byline (3,000 authors: 9 million pairs); they are not used.
    small = keyed.group_by("record_id").len().filter(pl.col("len") <= COAUTHOR_BYLINE_MAX)
    co_keys = (
        sides.select("record_id", "position")
        .join(small.lazy().select("record_id"), on="record_id", how="semi")
        .join(
            keyed.lazy().select("record_id", _co_position="position", _co_key="full_key"),
            on="record_id",
        )
        .filter((pl.col("position") != pl.col("_co_position")) & pl.col("_co_key").is_not_null())
        .group_by("record_id", "position")
        .agg(co_keys=pl.col("_co_key").unique().sort())
    )
    leads = paper_lead_country(pool_addresses, author_address).select("record_id", "lead_country")
    nodes = (
        sides.join(keyed.lazy(), on=["record_id", "position"])
        .join(emails.lazy(), on=["record_id", "position"], how="left")
        .join(records.select("record_id", "year"), on="record_id", how="left")
        .join(leads, on="record_id", how="left")
        .join(co_keys, on=["record_id", "position"], how="left")
        .with_columns(pl.col("co_keys").fill_null(pl.lit([], dtype=pl.List(pl.String))))
    )
    single = (
        pool_addresses.filter(pl.col("kind") == "affiliation")
        .group_by("record_id")
        .len()
        .filter(pl.col("len") == 1)
    )
    unlinked = (
        authorships.join(author_address, on=["record_id", "position"], how="anti")
        .join(single, on="record_id", how="anti")
        .group_by("record_id")
        .agg(n_unlinked=pl.len())
    )
    papers = (
        chosen.lazy()
        .join(
            authorships.group_by("record_id").agg(n_authorships=pl.len()),
            on="record_id",
            how="left",
        )
        .join(unlinked, on="record_id", how="left")
        .join(
            emails.lazy().group_by("record_id").agg(n_emails=pl.len()), on="record_id", how="left"
        )
        .with_columns(pl.col("n_authorships", "n_unlinked", "n_emails").fill_null(0).cast(pl.Int64))
    )
    if carry:
        owner = pool_addresses.select("record_id", carry).unique("record_id")
        nodes = nodes.join(owner, on="record_id")
        papers = papers.join(owner, on="record_id")
    nodes_frame, papers_frame = pl.collect_all([nodes, papers])
    return PaperFrames(nodes_frame, papers_frame)


def disambiguate(nodes: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Group the pool's authorships (:data:`collabscope.schemas.POOL_NODES` rows) into people.

    Returns (authorship -> person_id with the authorship's columns, merges: person_id, node,
    other, reason, evidence)."""
    nodes = nodes.with_columns(node=_node(pl.col("record_id"), pl.col("position"))).sort("node")
    coauthors = nodes.lazy().select("node", co_key="co_keys").explode("co_key").drop_nulls("co_key")
    edges = merge_edges(nodes.lazy(), coauthors).collect()
    labels = components(nodes.lazy(), edges.lazy())
    labels = labels.with_columns(person_ids(labels["label"]))
    assigned = nodes.join(labels.select("node", "person_id"), on="node")
    merges = (
        edges.join(labels.select("node", "person_id"), on="node")
        .select("person_id", "node", "other", "reason", "evidence")
        .sort("person_id", "node", "other", "reason")
    )
    return assigned.sort("node"), merges


def people(assigned: pl.DataFrame, merges: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """One row per person: the columns of :data:`collabscope.schemas.POOL`. ``assigned``: the
    authorships with their person_id, paper year and lead country (:func:`disambiguate`)."""
    tiers = registry.select("institution_id", "tiers")
    rows = (
        assigned.with_columns(
            is_first=pl.col("position") == 1,
            is_lead_side=(pl.col("side") == pl.col("lead_country")).fill_null(False),
            _spelled=pl.col("full_key").is_not_null(),
        )
        # Most recent paper first: current affiliation and name come from it.
        .sort("person_id", "year", "record_id", "position", descending=[False, True, True, False])
    )
    reasons = merges.group_by("person_id").agg(
        pl.col("reason").unique().sort().alias("merge_reasons")
    )
    best_email = (
        rows.drop_nulls("email")
        .sort("person_id", "email_confidence", "year", descending=[False, True, True])
        .group_by("person_id", maintain_order=True)
        .agg(
            pl.col("email").first(),
            pl.col("email_method").first(),
            pl.col("email_confidence").first(),
        )
    )
    grouped = rows.group_by("person_id", maintain_order=True).agg(
        pl.col("side").first().alias("country"),
        pl.col("name").first(),
        pl.col("full_name").filter(pl.col("_spelled")).first().alias("_spelled_name"),
        pl.col("full_name").first().alias("_latest_name"),
        pl.col("name").unique(maintain_order=True).alias("names"),
        pl.col("full_name").drop_nulls().unique(maintain_order=True).alias("full_names"),
        pl.col("orcid").drop_nulls().unique().sort().alias("orcids"),
        pl.col("researcher_id").drop_nulls().unique().sort().alias("researcher_ids"),
        pl.col("email").drop_nulls().unique().sort().alias("emails"),
        pl.col("institution_id").first(),
        pl.col("institution_name").first(),
        pl.col("affiliation").first(),
        pl.col("record_id").first().alias("current_record_id"),
        pl.col("record_id").unique().sort().alias("record_ids"),
        pl.col("record_id").n_unique().alias("n_pair_papers"),
        pl.len().alias("n_authorships"),
        pl.col("year").drop_nulls().unique().sort().alias("years"),
        pl.col("year").min().alias("first_year"),
        pl.col("year").max().alias("last_year"),
        pl.col("record_id").filter("is_first").n_unique().alias("n_first_author"),
        pl.col("record_id")
        .filter(pl.col("is_corresponding").fill_null(False))
        .n_unique()
        .alias("n_corresponding"),
        pl.col("record_id").filter("is_lead_side").n_unique().alias("n_lead_side"),
        pl.col("side").unique().sort().alias("countries"),
        pl.col("link").unique().sort().alias("links"),
    )
    return (
        grouped.join(best_email, on="person_id", how="left")
        .join(reasons, on="person_id", how="left")
        .join(tiers, on="institution_id", how="left")
        .with_columns(
            full_name=pl.coalesce("_spelled_name", "_latest_name"),
            merge_reasons=pl.col("merge_reasons").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            tiers=pl.col("tiers").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            years_active=pl.col("last_year") - pl.col("first_year") + 1,
            two_on_one_paper=pl.col("n_authorships") > pl.col("n_pair_papers"),
        )
        .sort("person_id")
    )


@dataclass(frozen=True)
class Pool:
    people: pl.DataFrame  # collabscope.schemas.POOL columns (and a few more)
    merges: pl.DataFrame  # person_id, node, other, reason, evidence
    counts: dict[str, int]  # what the log may say: counts only
    links: dict[str, int]  # authorships by how their address was linked
    merges_by_rule: dict[str, int]


def pool_of(frames: PaperFrames, registry: pl.DataFrame) -> Pool:
    """The pool of the papers of ``frames`` (steps 5 and 6, over all of them at once), with
    tiers from ``registry``."""
    nodes, papers = frames.nodes, frames.papers
    assigned, merges = disambiguate(nodes)
    frame = people(assigned, merges, registry)
    totals = papers.select(pl.col("n_authorships", "n_unlinked", "n_emails").sum())
    n_authorships, unlinked, n_emails = (int(n) for n in totals.row(0))
    counts = {
        "papers": papers.height,
        "authorships": n_authorships,
        "authorships_in_focal_countries": nodes.height,
        "authorships_linked_elsewhere_only": n_authorships - nodes.height - unlinked,
        "authorships_unlinked": unlinked,
        "emails_linked": n_emails,
        "merges": merges.height,
        "people": frame.height,
        "people_with_email": int(frame["email"].is_not_null().sum()),
    }
    return Pool(
        frame,
        merges,
        counts,
        dict(nodes.group_by("link").len().sort("link").iter_rows()),
        dict(merges.group_by("reason").len().sort("reason").iter_rows()),
    )


def in_dataset(frames: PaperFrames, chosen: pl.Series) -> PaperFrames:
    """``frames`` of the papers whose record_id is in ``chosen`` only."""
    kept = pl.col("record_id").is_in(chosen.implode())
    return PaperFrames(frames.nodes.filter(kept), frames.papers.filter(kept))


def dataset_records_of(dataset_records: pl.LazyFrame, dataset: str) -> pl.Series:
    """The record ids of ``dataset``."""
    return (
        dataset_records.filter(pl.col("dataset") == dataset)
        .select("record_id")
        .collect()
        .get_column("record_id")
    )


def build_pool(
    tables: Mapping[str, pl.LazyFrame],
    registry: pl.DataFrame,
    focal_countries: Sequence[str],
    dataset: str | None = None,
) -> Pool:
    """The whole pool from the canonical ``tables`` (authorships, records, author_address,
    dataset_records) and the normalised ``addresses``, with tiers from ``registry``."""
    frames = paper_frames(tables, focal_countries)
    if dataset:
        frames = in_dataset(frames, dataset_records_of(tables["dataset_records"], dataset))
    return pool_of(frames, registry)
