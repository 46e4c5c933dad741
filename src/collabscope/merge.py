"""One work per paper across sources: match records of WoS, Scopus, OpenAlex and CSSCI, and say
which record each part of a work comes from.

Records of different sources are matched (edges between record ids; within one source the
record id is the paper's identity), then grouped into works (connected components), all with
polars joins:

1. ``doi``: the same DOI (records.doi is already lower-cased without resolver prefix), with
   titles that do not contradict it (see :func:`_titles_agree`);
2. ``title_year_author``: the same normalised title (case, accents, punctuation and spacing
   dropped; at least ``MIN_TITLE_CHARS`` characters left, so that 'Editorial' or
   'Introduction' never match), the same year and the same first-author surname (its first or
   its last word: 'Monroe-White' and 'White' agree);
3. ``english_title_year``: a CSSCI record's English title (【英文篇名】) equal to another
   source's normalised title, with the same year. The author is not compared (CSSCI writes
   names in Chinese characters, the others in pinyin), so the match is dropped when the
   records it points to have different first authors.

A work's id is the record id of its primary record: the first in ``merge.source_order``
(then the lowest record id). Each field group (bibliographic data, authors, addresses,
funding, references, citations) is taken from the first record, in that field's order
(``merge.field_sources``), that has it (``work_fields`` says which). Countries are always
read from the chosen record's own addresses under its own source's rules, never re-read with
another's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import polars as pl
from rapidfuzz import fuzz, process

from collabscope import schemas
from collabscope.parts import (
    fill_stores,
    keep_whole,
    library_code,
    settings_digest,
    stage_stores,
    write_outputs,
)
from collabscope.tableio import parts_of, scan_table, write_table

log = logging.getLogger(__name__)

SOURCES = ("wos", "scopus", "openalex", "cssci")
FIELDS = ("bibliographic", "authors", "addresses", "funding", "references", "citations")
MIN_TITLE_CHARS = 20
# Lowest rapidfuzz ratio between the normalised titles of two records with the same DOI.
DOI_TITLE_MIN = 60.0
MATCH_METHODS = ("doi", "title_year_author", "english_title_year")
# A record's tag holding the English title of a CSSCI record (see parse/cssci.py).
ENGLISH_TITLE_TAG = "ET"


def normalised_title(title: pl.Expr) -> pl.Expr:
    """'The Teacher-Education of  China: A Review.' -> 'theteachereducationofchinaareview'."""
    text = (
        title.str.normalize("NFKD")
        .str.replace_all(r"\p{M}+", "")
        .str.to_lowercase()
        .str.replace_all(r"<[^>]{1,10}>", "")  # <i>, </sub> in some exports
        .str.replace_all(r"[^\p{L}\p{N}]+", "")
    )
    return pl.when(text.str.len_chars() >= MIN_TITLE_CHARS).then(text)


def surname_parts(name: pl.Expr) -> pl.Expr:
    """'Li, Xiaoming' -> ['li']; 'Monroe-White, T' -> ['monroe', 'white']; 'Van der Berg, J'
    -> ['van', 'der', 'berg']: the surname's words, accents and case dropped."""
    head = name.str.extract(r"^([^,]*)", 1)
    words = (
        head.str.normalize("NFKD")
        .str.replace_all(r"\p{M}+", "")
        .str.to_lowercase()
        .str.replace_all(r"[^\p{L}]+", " ")
        .str.strip_chars()
        .str.split(" ")
    )
    return words.list.eval(pl.element().filter(pl.element() != ""))


def _precedence(order: Sequence[str]) -> pl.Expr:
    ranks = {source: rank for rank, source in enumerate(order)}
    return pl.col("source").replace_strict(ranks, default=len(order), return_dtype=pl.Int64)


def match_records(records: pl.LazyFrame, authorships: pl.LazyFrame) -> pl.DataFrame:
    """(record_id, other_id, method): pairs of records of one work, each pair once."""
    # A double surname is written whole by one source and in part by another ('Monroe-White'
    # and 'White', 'Contreras-Palacios' and 'Palacios'): its first and its last word both count.
    parts = surname_parts(pl.col("name"))
    first_author = (
        authorships.filter(pl.col("position") == 1)
        .select(
            "record_id",
            surname=parts.list.join(""),
            surname_first=parts.list.first(),
            surname_last=parts.list.last(),
        )
        .unique("record_id")
        .with_columns(pl.col("surname").replace("", None))
    )
    english = (
        records.select("record_id", "extra_fields")
        .explode("extra_fields")
        .filter(pl.col("extra_fields").struct.field("tag") == ENGLISH_TITLE_TAG)
        .select("record_id", english=pl.col("extra_fields").struct.field("value"))
        .unique("record_id")
    )
    keyed = (
        records.select("record_id", "source", "doi", "year", key=normalised_title(pl.col("title")))
        .join(first_author, on="record_id", how="left")
        .join(english, on="record_id", how="left")
        .with_columns(english_key=normalised_title(pl.col("english")))
        .collect()
    )

    def pairs(frame: pl.DataFrame, on: list[str], method: str) -> pl.DataFrame:
        # Records of different sources only: within one source a record id is the paper's
        # identity (WoS UT, Scopus EID, ...) and duplicates are settled by it when the tables
        # are built. Two WoS records with one title, year and first author are two papers (at
        # 2,000,000 records, 11,702 such records were merged into other papers' works).
        frame = frame.drop_nulls(on)
        return (
            frame.select("record_id", "source", *on)
            .join(frame.select(*on, other_id="record_id", other_source="source"), on=on)
            .filter(
                (pl.col("record_id") < pl.col("other_id"))
                & (pl.col("source") != pl.col("other_source"))
            )
            .select("record_id", "other_id", method=pl.lit(method))
        )

    cssci = keyed.filter(pl.col("source") == "cssci").select(
        "record_id", key="english_key", year="year"
    )
    others = keyed.filter(pl.col("source") != "cssci").select(
        other_id="record_id", key="key", year="year", surname="surname"
    )
    # Without an author to compare, a title and year shared by records of two different first
    # authors is ambiguous: no match then.
    english_pairs = (
        cssci.drop_nulls(["key", "year"])
        .join(others.drop_nulls(["key", "year"]), on=["key", "year"])
        .filter(pl.col("surname").n_unique().over("record_id") == 1)
        .select(
            record_id=pl.min_horizontal("record_id", "other_id"),
            other_id=pl.max_horizontal("record_id", "other_id"),
            method=pl.lit("english_title_year"),
        )
    )
    found = pl.concat(
        [
            _titles_agree(pairs(keyed, ["doi"], "doi"), keyed),
            pairs(keyed, ["key", "year", "surname_first"], "title_year_author"),
            pairs(keyed, ["key", "year", "surname_last"], "title_year_author"),
            english_pairs,
        ]
    )
    # One row per pair, the strongest method first.
    rank = pl.col("method").replace_strict(
        {m: i for i, m in enumerate(MATCH_METHODS)}, return_dtype=pl.Int64
    )
    found = (
        found.with_columns(_rank=rank)
        .sort("record_id", "other_id", "_rank")
        .unique(["record_id", "other_id"], keep="first", maintain_order=True)
        .drop("_rank")
    )
    return _unambiguous(found, keyed.select("record_id", "source"))


def _unambiguous(pairs: pl.DataFrame, sources: pl.DataFrame) -> pl.DataFrame:
    """The pairs without a record that matches two records of one other source: a Scopus
    record matching two WoS records would join two papers into one work through it. (Every
    pair is ordered: ``record_id`` < ``other_id``.)"""
    ends = pl.concat(
        [
            pairs.select("record_id", end="other_id"),
            pairs.select(record_id="other_id", end="record_id"),
        ]
    ).join(sources.rename({"record_id": "end", "source": "end_source"}), on="end")
    ambiguous = ends.filter(pl.len().over("record_id", "end_source") > 1).select(
        record_id=pl.min_horizontal("record_id", "end"),
        other_id=pl.max_horizontal("record_id", "end"),
    )
    if ambiguous.height:
        log.info("matches dropped as ambiguous: %d", ambiguous.unique().height)
    return pairs.join(ambiguous, on=["record_id", "other_id"], how="anti")


def _titles_agree(pairs: pl.DataFrame, keyed: pl.DataFrame) -> pl.DataFrame:
    """DOI pairs whose titles also agree (``DOI_TITLE_MIN`` rapidfuzz ratio), or where a title
    is missing or too short to compare: a DOI written on the wrong record (a WoS preface
    holding its issue's article DOI) must not join two papers into one work."""
    titles = keyed.select("record_id", title="key")
    both = pairs.join(titles, on="record_id", how="left").join(
        titles.rename({"record_id": "other_id", "title": "other_title"}), on="other_id", how="left"
    )
    score = process.cpdist(
        both["title"].fill_null("").to_list(),
        both["other_title"].fill_null("").to_list(),
        scorer=fuzz.ratio,
        workers=1,
    )
    agree = (
        both["title"].is_null()
        | both["other_title"].is_null()
        | pl.Series(score >= DOI_TITLE_MIN if len(both) else [], dtype=pl.Boolean)
    )
    return both.filter(agree).select(pairs.columns)


def _components(ids: pl.Series, edges: pl.DataFrame) -> pl.DataFrame:
    """(record_id, group): the smallest record id reachable from each record."""
    label = pl.DataFrame({"record_id": ids, "group": ids})
    if edges.height == 0:
        return label  # every record is its own work
    undirected = pl.concat(
        [
            edges.select(a="record_id", b="other_id"),
            edges.select(a="other_id", b="record_id"),
        ]
    )
    while True:
        lowest = (
            undirected.join(label, left_on="b", right_on="record_id")
            .group_by("a")
            .agg(pl.col("group").min().alias("reached"))
        )
        updated = (
            label.join(lowest, left_on="record_id", right_on="a", how="left")
            .with_columns(group=pl.min_horizontal("group", "reached"))
            .drop("reached")
        )
        # Every record also takes the label of its group's label (pointer jumping).
        updated = (
            updated.join(label.rename({"record_id": "group", "group": "jump"}), on="group")
            .with_columns(group=pl.min_horizontal("group", "jump"))
            .drop("jump")
        )
        if updated.sort("record_id").equals(label.sort("record_id")):
            return label
        label = updated


def merge_works(
    records: pl.LazyFrame,
    authorships: pl.LazyFrame,
    funding: pl.LazyFrame,
    source_order: Sequence[str],
    field_sources: Mapping[str, Sequence[str]],
) -> dict[str, pl.DataFrame]:
    """The tables record_works, work_fields, works and merge_accounting (see schemas)."""
    base = _base(records)
    # Only records of different sources match: with one source (a Web of Science-only study)
    # there is nothing to compare, and normalising two million titles took most of the stage.
    several = base["source"].n_unique() > 1
    edges = match_records(records, authorships) if several else _NO_EDGES
    return _works(base, edges, funding, source_order, field_sources)


def records_alone(
    records: pl.LazyFrame,
    funding: pl.LazyFrame,
    source_order: Sequence[str],
    field_sources: Mapping[str, Sequence[str]],
) -> dict[str, pl.DataFrame]:
    """:func:`merge_works` of records that match no other record (those of a corpus with one
    source): each is its own work, so any subset of the records (a parse shard) gives the
    rows of its own records, and the authors, which only matching reads, are not needed."""
    return _works(_base(records), _NO_EDGES, funding, source_order, field_sources)


_NO_EDGES = pl.DataFrame(
    schema={"record_id": pl.String, "other_id": pl.String, "method": pl.String}
)


def _base(records: pl.LazyFrame) -> pl.DataFrame:
    return records.select(
        "record_id",
        "source",
        "source_file",
        "n_authors",
        "n_addresses",
        "n_references_parsed",
        "times_cited",
    ).collect()


def _works(
    base: pl.DataFrame,
    edges: pl.DataFrame,
    funding: pl.LazyFrame,
    source_order: Sequence[str],
    field_sources: Mapping[str, Sequence[str]],
) -> dict[str, pl.DataFrame]:
    """The merge tables of the records ``base`` joined into works by ``edges``."""
    funded = funding.select("record_id").unique().collect()
    groups = _components(base["record_id"], edges)
    frame = base.join(groups, on="record_id").with_columns(
        has_funding=pl.col("record_id").is_in(funded["record_id"].implode())
    )
    # How each record joined its work: its strongest edge (a record alone has none).
    rank = {m: i for i, m in enumerate(MATCH_METHODS)}
    methods = (
        pl.concat(
            [
                edges.select("record_id", "method"),
                edges.select(record_id="other_id", method="method"),
            ]
        )
        .with_columns(_rank=pl.col("method").replace_strict(rank, return_dtype=pl.Int64))
        .sort("record_id", "_rank")
        .unique("record_id", keep="first", maintain_order=True)
        .drop("_rank")
    )
    frame = (
        frame.join(methods, on="record_id", how="left")
        .with_columns(match=pl.col("method").fill_null("alone"))
        .drop("method")
        .with_columns(_order=_precedence(source_order))
        .sort("group", "_order", "record_id")
        .with_columns(work_id=pl.col("record_id").first().over("group"))
        .with_columns(is_primary=pl.col("record_id") == pl.col("work_id"))
    )
    has = {
        "bibliographic": pl.lit(True),
        "authors": pl.col("n_authors") > 0,
        "addresses": pl.col("n_addresses") > 0,
        "funding": pl.col("has_funding"),
        "references": pl.col("n_references_parsed") > 0,
        "citations": pl.col("times_cited").is_not_null(),
    }
    chosen = []
    for field in FIELDS:
        order = list(field_sources.get(field, source_order))
        chosen.append(
            frame.filter(has[field])
            .with_columns(_field_order=_precedence(order))
            .sort("work_id", "_field_order", "record_id")
            .unique("work_id", keep="first", maintain_order=True)
            .select("work_id", field=pl.lit(field), record_id="record_id", source="source")
        )
    work_fields = pl.concat(chosen)
    works = (
        frame.group_by("work_id")
        .agg(
            sources=pl.col("source").unique().sort(),
            record_ids=pl.col("record_id").sort(),
            n_records=pl.len().cast(pl.Int64),
        )
        .with_columns(cross_source=pl.col("sources").list.len() > 1)
    )
    record_works = frame.select("record_id", "work_id", "source", "match", "is_primary")
    accounting = _merge_accounting(frame)
    return {
        "record_works": schemas.conform(record_works, schemas.RECORD_WORKS),
        "work_fields": schemas.conform(work_fields, schemas.WORK_FIELDS),
        "works": schemas.conform(works, schemas.WORKS),
        "merge_accounting": schemas.conform(accounting, schemas.MERGE_ACCOUNTING),
    }


def _merge_accounting(frame: pl.DataFrame) -> pl.DataFrame:
    """Per export file: its records, how many are one work with records elsewhere (by
    method), and how many are merged into a work whose primary record is another one."""
    frame = frame.with_columns(_multi=pl.len().over("work_id") > 1)
    return (
        frame.group_by("source_file")
        .agg(
            source=pl.col("source").first(),
            parsed=pl.len().cast(pl.Int64),
            matched=pl.col("_multi").sum().cast(pl.Int64),
            matched_doi=(pl.col("match") == "doi").sum().cast(pl.Int64),
            matched_title=(pl.col("match") == "title_year_author").sum().cast(pl.Int64),
            matched_english_title=(pl.col("match") == "english_title_year").sum().cast(pl.Int64),
            merged=(~pl.col("is_primary")).sum().cast(pl.Int64),
        )
        .rename({"source_file": "file"})
    )


def _per_file(records: pl.LazyFrame) -> pl.DataFrame:
    """(file, source, parsed): the records kept from each export file."""
    return (
        records.group_by("source_file", "source")
        .agg(parsed=pl.len().cast(pl.Int64))
        .rename({"source_file": "file"})
        .collect()
    )


def _accounting_alone(per_file: pl.DataFrame) -> pl.DataFrame:
    """merge_accounting when no record matches another: none matched, none merged."""
    zero = pl.lit(0, dtype=pl.Int64)
    return schemas.conform(
        per_file.with_columns(
            matched=zero,
            matched_doi=zero,
            matched_title=zero,
            matched_english_title=zero,
            merged=zero,
        ),
        schemas.MERGE_ACCOUNTING,
    )


_MERGE_CODE = library_code("merge.py")


def merge_stage(
    tables: Mapping[str, str | Path],
    source_order: Sequence[str],
    field_sources: Mapping[str, Sequence[str]],
    outputs: Mapping[str, str | Path],
    store: str | Path | None = None,
) -> dict[str, int]:
    """Stage function: read the canonical tables, write the merge tables; return counts.

    With one source in the corpus no record matches another, and a record's rows depend on
    its own only: each parse shard is merged on its own and kept in ``store`` (one folder per
    table of schemas.MERGE_PART_TABLES, see :mod:`collabscope.parts`), so a new export file
    merges its shard only. An output named ``*.parts.json`` is then a manifest of the store's
    files; a ``.parquet`` output is one file. With several sources, records of any shards can
    be one work: the whole corpus is merged together and kept as one part. merge_accounting
    is one file."""
    records = scan_table(tables["records"], schemas.RECORDS)
    # One scan of the whole corpus: its sources (an export file has one), and the accounting
    # when each record is its own work.
    per_file = _per_file(records)
    settings = {
        "source_order": list(source_order),
        "field_sources": {field: list(order) for field, order in field_sources.items()},
        "code": _MERGE_CODE,
    }
    part_tables = schemas.MERGE_PART_TABLES
    with stage_stores(part_tables, outputs, store, "merge_works") as stores:
        if per_file["source"].n_unique() > 1:
            result = merge_works(
                records,
                scan_table(tables["authorships"], schemas.AUTHORSHIPS),
                scan_table(tables["funding"], schemas.FUNDING),
                source_order,
                field_sources,
            )
            parts = keep_whole(
                stores, [result[t.name] for t in part_tables], settings_digest(settings)
            )
            accounting = result["merge_accounting"]
            cross_source = int(result["works"]["cross_source"].sum())
            del result
            computed = 1
        else:
            sources = [
                parts_of(tables["records"], schemas.RECORDS),
                parts_of(tables["funding"], schemas.FUNDING),
            ]

            def by_shard(missing: list[list[Path]]) -> Iterator[list[pl.DataFrame]]:
                for shard_records, shard_funding in missing:
                    result = records_alone(
                        scan_table(shard_records, schemas.RECORDS),
                        scan_table(shard_funding, schemas.FUNDING),
                        source_order,
                        field_sources,
                    )
                    yield [result[table.name] for table in part_tables]

            parts, computed = fill_stores(stores, sources, settings_digest(settings), by_shard)
            accounting = _accounting_alone(per_file)
            cross_source = 0
        write_outputs(stores, parts, outputs)
        write_table(accounting, schemas.MERGE_ACCOUNTING, outputs["merge_accounting"])
        log.info("%d of %d merge parts computed", computed, len(parts[0].files))
    # Every record is its work's primary record or merged into another's (parsed = primary +
    # merged): as many works as primary records.
    n_records = int(accounting["parsed"].sum())
    merged = int(accounting["merged"].sum())
    counts = {
        "records": n_records,
        "works": n_records - merged,
        "cross_source_works": cross_source,
        "merged_records": merged,
        "parts_computed": computed,
    }
    log.info("merge: %s", counts)
    return counts
