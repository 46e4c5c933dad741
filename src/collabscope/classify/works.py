"""Work-level views of the record-level tables: count each paper once across sources.

A paper exported from both Web of Science and Scopus is two records but one work
(:mod:`collabscope.merge`). Classification, indicators and the sampling pool read the views
built here instead of the raw tables, so that they count works:

- one row per work, keyed by the work id under the column name ``record_id`` (a work's id is
  the record id of its primary record, so every table keeps its schema, and with a single
  source every view equals its table);
- each child table (addresses, author links, authorships, funding, references) holds the rows
  of the one record that ``work_fields`` names for the table's field group, relabelled with
  the work id: the countries of a work are those of the chosen record's own addresses, as its
  own source's rules read them (never re-read with another's);
- the columns of ``records`` come from the bibliographic record, except the counts and flags
  of another field group (``n_authors`` from the authors record, ``times_cited`` from the
  citations record, ...: :data:`RECORD_FIELD_COLUMNS`);
- a work is in a dataset when any of its records is (:func:`work_membership`);
- a cited reference that matches any record of a work links to the work
  (:func:`work_link_keys`).

Everything is a join on ids over LazyFrames, nothing collected here.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from collabscope.classify.indicators import record_link_keys

# The field group whose record each child table is taken from. Author links join authors to
# addresses by position within one record, so they follow the addresses (like the pool's
# authorships, see :func:`pool_tables`).
TABLE_FIELDS: Mapping[str, str] = {
    "addresses": "addresses",
    "author_address": "addresses",
    "authorships": "authors",
    "funding": "funding",
    "references": "references",
}
# Columns of ``records`` that belong to a field group other than the bibliographic one.
RECORD_FIELD_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "authors": ("n_authors", "emails"),
    "addresses": ("n_addresses", "organisations_enhanced"),
    "funding": ("funding_text",),
    "references": ("n_references", "n_references_parsed"),
    "citations": (
        "times_cited",
        "times_cited_all",
        "highly_cited",
        "hot_paper",
        "usage_180",
        "usage_2013",
    ),
}


def has_merged(record_works: pl.LazyFrame) -> bool:
    """Whether any work has more than one record (with a single source, none has: then every
    view is its table, and callers skip the joins)."""
    return bool(record_works.filter(~pl.col("is_primary")).select(pl.len()).collect().item())


def chosen_records(work_fields: pl.LazyFrame, field: str) -> pl.LazyFrame:
    """(record_id, work_id): the record each work takes ``field`` from; a work none of whose
    records has the field (by the merge's test: no C1 address, but maybe a reprint address)
    takes it from its bibliographic record, as a single record would."""
    bibliographic = work_fields.filter(pl.col("field") == "bibliographic").select(
        "work_id", _bibliographic="record_id"
    )
    own = work_fields.filter(pl.col("field") == field).select("work_id", "record_id")
    return bibliographic.join(own, on="work_id", how="left", maintain_order="left").select(
        pl.coalesce("record_id", "_bibliographic").alias("record_id"), "work_id"
    )


def relabel(table: pl.LazyFrame, chosen: pl.LazyFrame) -> pl.LazyFrame:
    """The rows of ``table`` whose record is in ``chosen`` (record_id, work_id), with the work
    id as ``record_id``; the table's columns and row order are kept."""
    columns = table.collect_schema().names()
    return (
        table.join(chosen, on="record_id", how="inner", maintain_order="left")
        .with_columns(pl.col("work_id").alias("record_id"))
        .select(columns)
    )


def work_table(table: pl.LazyFrame, name: str, work_fields: pl.LazyFrame) -> pl.LazyFrame:
    """The child table ``name`` (see :data:`TABLE_FIELDS`) of each work."""
    return relabel(table, chosen_records(work_fields, TABLE_FIELDS[name]))


def work_records(
    records: pl.LazyFrame, record_works: pl.LazyFrame, work_fields: pl.LazyFrame
) -> pl.LazyFrame:
    """One ``records`` row per work (``record_id`` = work id), in the order of the primary
    records: the bibliographic record's columns, those of :data:`RECORD_FIELD_COLUMNS` from
    the record of their field group (the bibliographic record's when no record has it)."""
    columns = records.collect_schema().names()
    primary = record_works.filter(pl.col("is_primary")).select("record_id", work_id="record_id")
    frame = primary.select("work_id").join(
        chosen_records(work_fields, "bibliographic"), on="work_id", how="inner"
    )
    frame = frame.join(records, on="record_id", how="inner", maintain_order="left")
    for field, field_columns in RECORD_FIELD_COLUMNS.items():
        taken = [c for c in field_columns if c in columns]
        if not taken:
            continue
        values = (
            chosen_records(work_fields, field)
            .join(records.select("record_id", *taken), on="record_id", how="inner")
            .select("work_id", *taken)
        )
        frame = frame.drop(taken).join(values, on="work_id", how="left", maintain_order="left")
    return frame.with_columns(pl.col("work_id").alias("record_id")).select(columns)


def work_membership(dataset_records: pl.LazyFrame, record_works: pl.LazyFrame) -> pl.LazyFrame:
    """(dataset, record_id = work id): a work is in every dataset holding any of its records."""
    columns = dataset_records.collect_schema().names()
    return (
        dataset_records.join(
            record_works.select("record_id", "work_id"),
            on="record_id",
            how="inner",
            maintain_order="left",
        )
        .with_columns(pl.col("work_id").alias("record_id"))
        .select(columns)
        .unique(maintain_order=True)
    )


def work_link_keys(
    records: pl.LazyFrame, authorships: pl.LazyFrame, record_works: pl.LazyFrame
) -> pl.LazyFrame:
    """(record_id = work id, doi, link_key): the DOI and author-year-volume-page key of every
    record of each work, once per work. A reference matching any record of a work links to the
    work, and a DOI two records of one work share is not 'carried by two records'."""
    keys = record_link_keys(records, authorships).join(
        record_works.select("record_id", "work_id"), on="record_id", how="inner"
    )
    # Each value once per work, one column at a time: a work whose WoS and Scopus records
    # share the DOI but write the first author differently has one DOI and two keys.
    return pl.concat(
        [
            keys.select(
                pl.col("work_id").alias("record_id"),
                pl.col("doi"),
                pl.lit(None, pl.String).alias("link_key"),
            ).filter(pl.col("doi").is_not_null()),
            keys.select(
                pl.col("work_id").alias("record_id"),
                pl.lit(None, pl.String).alias("doi"),
                pl.col("link_key"),
            ).filter(pl.col("link_key").is_not_null()),
        ]
    ).unique(maintain_order=True)


def pool_tables(
    tables: Mapping[str, pl.LazyFrame], record_works: pl.LazyFrame, work_fields: pl.LazyFrame
) -> dict[str, pl.LazyFrame]:
    """The sampling pool's tables (records, dataset_records, authorships, author_address,
    addresses) by work: an author on two records of one work has one paper. The pool links
    each author to their address by position within one record, so authorships, author links
    and addresses all come from the work's addresses record (e-mails with them)."""
    chosen = chosen_records(work_fields, "addresses")
    records = work_records(tables["records"], record_works, work_fields)
    emails = relabel(tables["records"].select("record_id", "emails"), chosen)
    return {
        "records": records.drop("emails")
        .join(emails, on="record_id", how="left", maintain_order="left")
        .select(tables["records"].collect_schema().names()),
        "dataset_records": work_membership(tables["dataset_records"], record_works),
        **{
            name: relabel(tables[name], chosen)
            for name in ("authorships", "author_address", "addresses")
        },
    }
