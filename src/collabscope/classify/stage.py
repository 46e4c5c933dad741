"""Stage functions of classification and indicators: tables in, tables out."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from collabscope import schemas
from collabscope.classify import indicators as ind
from collabscope.classify import works as wk
from collabscope.classify.papers import (
    classify_papers as classify,
)
from collabscope.classify.papers import (
    country_credit,
    institution_key,
    lead_addresses,
    lead_disagreements,
    record_profile,
    with_credit,
)
from collabscope.classify.record_index import RecordIndex
from collabscope.errors import UserInputError
from collabscope.parts import (
    fill_stores,
    keep_whole,
    library_code,
    settings_digest,
    stage_stores,
    write_outputs,
)
from collabscope.tableio import parts_of, scan_table, write_table, write_table_csv

log = logging.getLogger(__name__)
# The columns of paper_classes the indicators read (not the country lists, which are costly).
INDICATOR_CLASS_COLUMNS = (
    "record_id",
    "focal",
    "scope",
    "year",
    "single_author",
    "address_source",
    "n_countries",
    "collab_type",
    "has_links",
    "lead_country",
    "lead_fallback",
    "participated",
    "international",
    "category",
    "led_by",
    "credit_fractional",
)


def _record_index(records: pl.LazyFrame) -> RecordIndex:
    """The records' ids as integer keys (:mod:`collabscope.classify.record_index`)."""
    return RecordIndex.of(records)


def _by_index(frame: pl.LazyFrame, index: RecordIndex, column: str = "record_id") -> pl.LazyFrame:
    return index.encode(frame, column)


def _by_id(frame: pl.DataFrame, index: RecordIndex, column: str = "record_id") -> pl.DataFrame:
    return index.decode(frame, column)


class Works:
    """The work-level views of the record-level tables (:mod:`collabscope.classify.works`),
    over frames whose ids are already encoded by the record index (joins on integers,
    not on strings). Without the merge tables (``paths`` None), or when every record is its own
    work (a single source), every view is its table and nothing is joined."""

    def __init__(self, paths: Mapping[str, str | Path] | None, index: RecordIndex) -> None:
        self.merged = False
        if paths is None:
            return
        record_works = scan_table(paths["record_works"], schemas.RECORD_WORKS)
        if not wk.has_merged(record_works):
            return
        self.merged = True

        def ids(frame: pl.LazyFrame) -> pl.LazyFrame:
            return _by_index(_by_index(frame, index), index, "work_id").collect().lazy()

        self.record_works = ids(record_works.select("record_id", "work_id", "is_primary"))
        self.work_fields = ids(
            scan_table(paths["work_fields"], schemas.WORK_FIELDS).select(
                "work_id", "field", "record_id"
            )
        )

    def records(self, records: pl.LazyFrame) -> pl.LazyFrame:
        if not self.merged:
            return records
        return wk.work_records(records, self.record_works, self.work_fields)

    def table(self, table: pl.LazyFrame, name: str) -> pl.LazyFrame:
        if not self.merged:
            return table
        return wk.work_table(table, name, self.work_fields)

    def membership(self, dataset_records: pl.LazyFrame) -> pl.LazyFrame:
        if not self.merged:
            return dataset_records
        return wk.work_membership(dataset_records, self.record_works)

    def records_of(self, work_ids: pl.LazyFrame) -> pl.LazyFrame:
        """The record_id of every record of the works ``work_ids`` (record_id = work id)."""
        if not self.merged:
            return work_ids
        return self.record_works.join(
            work_ids.select(work_id="record_id"), on="work_id", how="semi"
        ).select("record_id")

    def link_keys(self, records: pl.LazyFrame, authorships: pl.LazyFrame) -> pl.LazyFrame | None:
        """The cited-record keys of every record of each work (None: the records' own)."""
        if not self.merged:
            return None
        return wk.work_link_keys(records, authorships, self.record_works)


_CLASSIFY_CODE = library_code("classify/*.py")


def classify_frames(
    records: pl.LazyFrame,
    author_address: pl.LazyFrame,
    addresses: pl.LazyFrame,
    focal: Sequence[str],
    lead_rule: str,
    works: Mapping[str, str | Path] | None = None,
) -> list[pl.DataFrame]:
    """country_credit, lead_disagreements and paper_classes (schemas.CLASS_PART_TABLES) of the
    records, one row per work when ``works`` (the merge tables) merges any."""
    index = _record_index(records)
    view = Works(works, index)
    recs = view.records(
        _by_index(records.select("record_id", "year", "n_authors"), index)
    ).collect()
    links = view.table(_by_index(author_address, index), "author_address").collect()
    located = view.table(
        _by_index(
            addresses.select(
                "record_id",
                "address_pos",
                "kind",
                "country",
                "is_transnational",
                institution_key(),
            ),
            index,
        ),
        "addresses",
    ).collect()
    leads = lead_addresses(located.lazy(), links.lazy(), lead_rule).collect()
    credit = country_credit(located.lazy(), leads.lazy()).collect()
    profile = record_profile(recs.lazy(), located.lazy(), leads.lazy())
    classes = with_credit(classify(profile, focal), credit.lazy(), focal).collect()
    disagreements = lead_disagreements(leads.lazy(), recs.lazy()).collect()
    del recs, links, located, leads, profile
    return [_by_id(frame, index) for frame in (credit, disagreements, classes)]


def _merged(works: Mapping[str, str | Path] | None) -> bool:
    return works is not None and wk.has_merged(
        scan_table(works["record_works"], schemas.RECORD_WORKS)
    )


def classify_papers(
    records: str | Path,
    author_address: str | Path,
    addresses: str | Path,
    focal: Sequence[str],
    lead_rule: str,
    outputs: Mapping[str, str | Path],
    works: Mapping[str, str | Path] | None = None,
    store: str | Path | None = None,
) -> dict[str, int]:
    """Write paper_classes, country_credit and lead_disagreements; return summary counts.

    ``works``: the merge tables record_works and work_fields: one row per work (keyed by its
    id), addresses and author links from the record work_fields names (see
    :mod:`collabscope.classify.works`); None: one per record.

    A record's classes depend on its own rows only, so without merged works each parse
    shard is classified on its own and kept in ``store`` (one folder per table, see
    :mod:`collabscope.parts`): a new export file classifies its shard only. An output named
    ``*.parts.json`` is then a manifest of the store's files; a ``.parquet`` output is one
    file. A work can take its fields from records of several shards: merged works are
    classified together, and kept in the store as one part."""
    settings = {"focal": list(focal), "lead_rule": lead_rule, "code": _CLASSIFY_CODE}
    with stage_stores(schemas.CLASS_PART_TABLES, outputs, store, "classify_papers") as stores:
        if _merged(works):
            assert works is not None
            frames = classify_frames(
                scan_table(records, schemas.RECORDS),
                scan_table(author_address, schemas.AUTHOR_ADDRESS),
                scan_table(addresses, schemas.ADDRESSES_NORMALISED),
                focal,
                lead_rule,
                works,
            )
            parts = keep_whole(stores, frames, settings_digest(settings))
            del frames
            computed = 1
        else:
            sources = [
                parts_of(records, schemas.RECORDS),
                parts_of(author_address, schemas.AUTHOR_ADDRESS),
                parts_of(addresses, schemas.ADDRESSES_NORMALISED),
            ]

            def by_shard(missing: list[list[Path]]) -> Iterator[list[pl.DataFrame]]:
                for shard_records, shard_links, shard_addresses in missing:
                    yield classify_frames(
                        scan_table(shard_records, schemas.RECORDS),
                        scan_table(shard_links, schemas.AUTHOR_ADDRESS),
                        scan_table(shard_addresses, schemas.ADDRESSES_NORMALISED),
                        focal,
                        lead_rule,
                    )

            parts, computed = fill_stores(stores, sources, settings_digest(settings), by_shard)
        write_outputs(stores, parts, outputs)
        log.info("%d of %d class parts computed", computed, len(parts[0].files))
    classes = scan_table(outputs["paper_classes"], schemas.PAPER_CLASSES)
    summary = _class_summary(
        classes, scan_table(outputs["lead_disagreements"], schemas.LEAD_DISAGREEMENTS)
    ) | {"parts_computed": computed}
    log.info("classified (lead rule %s, focal %s): %s", lead_rule, list(focal), summary)
    return summary


def _class_summary(classes: pl.LazyFrame, disagreements: pl.LazyFrame) -> dict[str, int]:
    counts = classes.select(
        works=pl.col("record_id").n_unique(),
        no_address=pl.col("record_id").filter(pl.col("address_source") == "none").n_unique(),
        joint=pl.col("rests_on_joint_institution").sum(),
    ).collect()
    participated = (
        classes.group_by("focal").agg(pl.col("participated").sum()).sort("focal").collect()
    )
    return {
        "works": int(counts["works"].item()),
        "no_address": int(counts["no_address"].item()),
        "lead_disagreements": int(disagreements.select(pl.len()).collect().item()),
        "pair_resting_on_joint_institution": int(counts["joint"].item()),
        **{f"{focal_}": int(n) for focal_, n in participated.iter_rows()},
    }


def _check_datasets(settings: Mapping[str, Any], configured: set[str]) -> None:
    named = [("classify.citing", name) for pair in settings["citing"].items() for name in pair] + [
        ("classify.highly_cited.reference_datasets", n) for n in settings["reference_datasets"]
    ]
    if settings["field_dataset"]:
        named.append(("classify.field_dataset", settings["field_dataset"]))
    for key, name in named:
        if name not in configured:
            raise UserInputError(
                "config",
                f"{key}: {name!r} is not a configured dataset "
                f"(configured: {', '.join(sorted(configured))})",
            )


def compute_indicators(
    tables: Mapping[str, str | Path],
    focal: Sequence[str],
    periods: Sequence[Mapping[str, Any]],
    settings: Mapping[str, Any],
    outputs: Mapping[str, str | Path],
) -> dict[str, int]:
    """Every indicator as Parquet and CSV (``outputs[name]`` and ``outputs[name + '_csv']``)
    and the citation links table; return rows per indicator.

    Counted by work when ``tables`` has the merge tables ``record_works`` and ``work_fields``
    (:mod:`collabscope.classify.works`): dataset membership, records, funding, references and
    the cited-record keys are work-level views; otherwise by record.

    ``settings``: counting (full|fractional, how top-N lists are ranked), top_n, citing
    ({citing dataset: cited dataset}), field_dataset ('' for none), hcp_method
    (auto|esi|top_percent), top_percent, reference_datasets (for the top per cent; empty:
    all corpus datasets).
    """
    configured = set(
        scan_table(tables["datasets"], schemas.DATASETS).select("dataset").collect()["dataset"]
    )
    _check_datasets(settings, configured)
    citing = dict(settings["citing"])
    corpus = sorted(configured - set(citing))
    counting, top_n = settings["counting"], int(settings["top_n"])
    index = _record_index(scan_table(tables["records"], schemas.RECORDS))
    view = Works(tables if "record_works" in tables else None, index)
    membership = (
        view.membership(
            _by_index(scan_table(tables["dataset_records"], schemas.DATASET_RECORDS), index)
        )
        .collect()
        .lazy()
    )
    corpus_members = membership.filter(pl.col("dataset").is_in(corpus))
    records = (
        view.records(
            _by_index(
                scan_table(tables["records"], schemas.RECORDS).select(
                    "record_id",
                    "year",
                    "times_cited",
                    "highly_cited",
                    "subject_categories",
                    "doi",
                    "volume",
                    "start_page",
                    "article_number",
                ),
                index,
            )
        )
        .collect()
        .lazy()
    )
    classes = (
        _by_index(
            scan_table(tables["paper_classes"], schemas.PAPER_CLASSES).select(
                *INDICATOR_CLASS_COLUMNS
            ),
            index,
        )
        .collect()
        .lazy()
    )
    credit = (
        _by_index(scan_table(tables["country_credit"], schemas.COUNTRY_CREDIT), index)
        .collect()
        .lazy()
    )
    disagreements = _by_index(
        scan_table(tables["lead_disagreements"], schemas.LEAD_DISAGREEMENTS), index
    )
    funding = view.table(
        _by_index(
            scan_table(tables["funding"], schemas.FUNDING_NORMALISED).select(
                "record_id", "funder_id", "funder_name", "funder_country"
            ),
            index,
        ),
        "funding",
    )
    # No citing dataset (a study without citing-country indicators): no link to look for, and
    # the references, first authors and keys (seconds at two million records) are not read.
    links = schemas.CITATION_LINKS.empty()
    if citing:
        # The references of the citing works' records only, read through a filter (not a semi
        # join): it skips the row groups of the sorted table without them. It is the largest table.
        citing_ids = view.records_of(
            membership.filter(pl.col("dataset").is_in(list(citing))).select("record_id")
        )
        references = view.table(
            _by_index(
                scan_table(tables["references"], schemas.REFERENCES)
                .select("record_id", "ref_pos", "doi", "link_key")
                .filter(
                    pl.col("record_id").is_in(
                        index.decode(citing_ids.collect())["record_id"].implode()
                    )
                ),
                index,
            ),
            "references",
        )
        first_authors = _by_index(
            scan_table(tables["authorships"], schemas.AUTHORSHIPS)
            .filter(pl.col("position") == 1)
            .select("record_id", "position", "name"),
            index,
        )
        # A reference matching any record of a work (its DOI, or its own first author's key) links
        # to the work: the keys of every record of the cited datasets' works (by record, the
        # records' own). Keys are costly (regular expressions on names): only those records.
        cited_ids = view.records_of(
            membership.filter(pl.col("dataset").is_in(list(citing.values()))).select("record_id")
        )
        keys = view.link_keys(
            _by_index(
                scan_table(tables["records"], schemas.RECORDS).select(
                    "record_id", "doi", "year", "volume", "start_page", "article_number"
                ),
                index,
            ).join(cited_ids, on="record_id", how="semi"),
            first_authors,
        )
        links = ind.citation_links(
            references,
            records,
            view.table(first_authors, "authorships"),
            membership,
            citing,
            keys=keys,
        ).collect()
        links = _by_id(_by_id(links, index), index, "cited_record_id")
    write_table(links, schemas.CITATION_LINKS, outputs["citation_links"])
    reference = list(settings["reference_datasets"]) or corpus
    flags = (
        ind.highly_cited_flags(
            records, membership, reference, settings["hcp_method"], float(settings["top_percent"])
        )
        .collect()
        .lazy()
    )
    # The report lists these works: it reads them here rather than judging them again.
    highly_cited = flags.filter(pl.col("hcp")).select("record_id", "hcp_basis").collect()
    write_table(
        _by_id(highly_cited, index), schemas.HIGHLY_CITED_WORKS, outputs["highly_cited_works"]
    )
    # The classes of each corpus dataset's records, sliced once: most indicators aggregate it.
    slices = ind.class_slices(classes, corpus_members, periods)
    field = settings["field_dataset"] or None
    frames = {
        "outputs": ind.outputs(slices, field),
        "collaboration": ind.collaboration(slices),
        "pair_leads": ind.pair_leads(slices),
        "collaboration_types": ind.collaboration_types(slices, focal),
        "partners": ind.partners(slices, credit, top_n, counting),
        "citing_countries": ind.citing_countries(
            credit, records, membership, sorted(citing), periods, top_n, counting
        ),
        "citing_countries_by_cited": ind.citing_countries_by_cited(
            _by_index(_by_index(links.lazy(), index), index, "cited_record_id"),
            classes,
            credit,
            periods,
            top_n,
            counting,
            focal,
        ),
        "highly_cited": ind.highly_cited(slices, flags, float(settings["top_percent"])),
        "funders": ind.funders(funding, records, membership, periods, top_n),
        "funding_sources": ind.funding_sources(funding, records, membership, periods, focal),
        "lead_rules": ind.lead_rules(classes, disagreements, membership, periods, focal),
    }
    # One at a time: collected together, every indicator's slices were in memory at once.
    rows = {"citation_links": links.height, "highly_cited_works": highly_cited.height}
    for name, lazy in frames.items():
        frame = lazy.collect()
        table = schemas.INDICATOR_BY_NAME[name]
        write_table(frame, table, outputs[name])
        write_table_csv(frame, table, outputs[f"{name}_csv"])
        rows[name] = frame.height
    log.info("indicators (focal %s, %d periods): rows %s", list(focal), len(periods), rows)
    return rows
