"""Stage functions of classification and indicators: tables in, tables out."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

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
    Memberships,
    PartStore,
    fill_stores,
    keep_whole,
    library_code,
    settings_digest,
    stage_stores,
    tally_shards,
    write_outputs,
)
from collabscope.tableio import (
    PARTS_SUFFIX,
    Parts,
    parts_of,
    scan_table,
    write_table,
    write_table_csv,
)

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

    def __init__(self, paths: Mapping[str, str | Path] | None, index: RecordIndex | None) -> None:
        self.merged = False
        if paths is None or index is None:
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
        classes, scan_table(outputs["lead_disagreements"], schemas.LEAD_DISAGREEMENTS), focal
    ) | {"parts_computed": computed}
    log.info("classified (lead rule %s, focal %s): %s", lead_rule, list(focal), summary)
    return summary


def _class_summary(
    classes: pl.LazyFrame, disagreements: pl.LazyFrame, focal: Sequence[str]
) -> dict[str, int]:
    # A work has one row per focal code: its rows of one code count the works, without
    # hashing every row's record id (most of a refresh's job on two million records).
    counts = classes.select(
        works=(pl.col("focal") == focal[0]).sum(),
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


def _shard_sources(tables: Mapping[str, str | Path]) -> list[tuple[Parts, schemas.Table]] | None:
    """The per-shard parts the indicators count, when the tables are held as parts of the same
    parse shards and every record is its own work; else None (the corpus is counted at once)."""
    if not str(tables["records"]).endswith(PARTS_SUFFIX) or _merged(
        tables if "record_works" in tables else None
    ):
        return None
    sources = [
        (parts_of(tables[name], table), table)
        for name, table in (
            ("paper_classes", schemas.PAPER_CLASSES),
            ("country_credit", schemas.COUNTRY_CREDIT),
            ("lead_disagreements", schemas.LEAD_DISAGREEMENTS),
            ("records", schemas.RECORDS),
            ("funding", schemas.FUNDING_NORMALISED),
        )
    ]
    shards = [[shard for shard, _ in parts.files] for parts, _ in sources]
    return sources if shards[1:] == shards[:-1] else None


def _shard_frames(kept: list[pl.LazyFrame]) -> ind.Frames:
    """A shard's frames (in tally_shards' order: the sources of _shard_sources, then the
    memberships) with the columns the indicators read."""
    classes, credit, disagreements, records, funding, membership = kept
    return ind.Frames(
        classes.select(*INDICATOR_CLASS_COLUMNS),
        credit.select(*_CREDIT_COLUMNS),
        disagreements,
        records.select("record_id", "year", "highly_cited"),
        funding.select(*_FUNDING_COLUMNS),
        membership,
    )


def _tallied_counts(
    tables: Mapping[str, str | Path],
    sources: list[tuple[Parts, schemas.Table]],
    scope: ind.Scope,
    store: str | Path | None,
) -> dict[str, pl.LazyFrame]:
    """Every shard's partial counts, each kept in ``store`` (a new export file counts its shard
    only), concatenated in shard order."""
    names = list(schemas.INDICATOR_PARTIAL_BY_NAME)
    settings = settings_digest({"scope": scope._asdict(), "code": _CLASSIFY_CODE})
    members = Memberships.of(sources[3][0], tables["dataset_records"])
    with tempfile.TemporaryDirectory(prefix="collabscope-indicators-") as scratch:
        folder = Path(store if store is not None else scratch)
        stores = [
            PartStore(folder / name, schemas.INDICATOR_PARTIAL_BY_NAME[name]) for name in names
        ]

        def tally(kept: list[pl.LazyFrame]) -> list[pl.DataFrame]:
            counts = ind.partial_counts(_shard_frames(kept), scope)
            return [counts[name] for name in names]

        frames, computed = tally_shards(stores, sources, settings, tally, members)
        log.info("partial counts of %d of %d shards computed", computed, len(sources[0][0].files))
        # Read now: a temporary store is removed on exit.
        return {name: frame.collect().lazy() for name, frame in zip(names, frames, strict=True)}


class _Counted(NamedTuple):
    """What compute_indicators counted, with record ids as one pass keeps them (the record
    index's integers over the whole corpus, the ids themselves by shard): the partial counts
    (concatenated), the highly cited flags of every record, the class rows, country credit and
    memberships (views by work when works are merged), and the citation links (record ids)."""

    partial: dict[str, pl.LazyFrame]
    flags: pl.DataFrame
    classes: pl.LazyFrame
    credit: pl.LazyFrame
    membership: pl.LazyFrame
    links: pl.DataFrame
    encode: Callable[[pl.LazyFrame | pl.DataFrame, str], pl.LazyFrame]
    decode: Callable[[pl.DataFrame, str], pl.DataFrame]


def _as_is(frame: pl.LazyFrame | pl.DataFrame, column: str = "record_id") -> pl.LazyFrame:
    return frame.lazy()


def _same(frame: pl.DataFrame, column: str = "record_id") -> pl.DataFrame:
    return frame


def _citation_links(
    tables: Mapping[str, str | Path],
    citing: Mapping[str, str],
    view: Works,
    membership: pl.LazyFrame,
    records: pl.LazyFrame,
    encode: Callable[[pl.LazyFrame | pl.DataFrame, str], pl.LazyFrame],
    decode: Callable[[pl.DataFrame, str], pl.DataFrame],
) -> pl.DataFrame:
    """The citation links of the citing datasets' records (record ids); none without citing
    datasets, and then the references, first authors and keys (seconds at two million
    records) are not read."""
    if not citing:
        return schemas.CITATION_LINKS.empty()
    # The references of the citing works' records only, read through a filter (not a semi
    # join): it skips the row groups of the sorted table without them. It is the largest table.
    citing_ids = view.records_of(
        membership.filter(pl.col("dataset").is_in(list(citing))).select("record_id")
    )
    references = view.table(
        encode(
            scan_table(tables["references"], schemas.REFERENCES)
            .select("record_id", "ref_pos", "doi", "link_key")
            .filter(
                pl.col("record_id").is_in(
                    decode(citing_ids.collect(), "record_id")["record_id"].implode()
                )
            ),
            "record_id",
        ),
        "references",
    )
    first_authors = encode(
        scan_table(tables["authorships"], schemas.AUTHORSHIPS)
        .filter(pl.col("position") == 1)
        .select("record_id", "position", "name"),
        "record_id",
    )
    # A reference matching any record of a work (its DOI, or its own first author's key) links
    # to the work: the keys of every record of the cited datasets' works (by record, the
    # records' own). Keys are costly (regular expressions on names): only those records.
    cited_ids = view.records_of(
        membership.filter(pl.col("dataset").is_in(list(citing.values()))).select("record_id")
    )
    keys = view.link_keys(
        encode(
            scan_table(tables["records"], schemas.RECORDS).select(
                "record_id", "doi", "year", "volume", "start_page", "article_number"
            ),
            "record_id",
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
    return decode(decode(links, "record_id"), "cited_record_id")


_CREDIT_COLUMNS = ("record_id", "country", "credit_fractional")
_FUNDING_COLUMNS = ("record_id", "funder_id", "funder_name", "funder_country")
# The records' columns the highly cited flags read, and those the citation links read.
_FLAG_RECORD_COLUMNS = ("record_id", "year", "times_cited", "highly_cited", "subject_categories")
_LINK_RECORD_COLUMNS = ("doi", "volume", "start_page", "article_number")


def _corpus_tables(tables: Mapping[str, str | Path], scope: ind.Scope) -> dict[str, pl.LazyFrame]:
    """The whole tables compute_indicators reads, with the columns it reads (record ids as
    they are): memberships, records, classes, credit, funding, lead disagreements."""
    return {
        "membership": scan_table(tables["dataset_records"], schemas.DATASET_RECORDS),
        "records": scan_table(tables["records"], schemas.RECORDS).select(
            *_FLAG_RECORD_COLUMNS, *(_LINK_RECORD_COLUMNS if scope.citing else ())
        ),
        "classes": scan_table(tables["paper_classes"], schemas.PAPER_CLASSES).select(
            *INDICATOR_CLASS_COLUMNS
        ),
        "credit": scan_table(tables["country_credit"], schemas.COUNTRY_CREDIT).select(
            *_CREDIT_COLUMNS
        ),
        "funding": scan_table(tables["funding"], schemas.FUNDING_NORMALISED).select(
            *_FUNDING_COLUMNS
        ),
        "disagreements": scan_table(tables["lead_disagreements"], schemas.LEAD_DISAGREEMENTS),
    }


def _whole_corpus(
    tables: Mapping[str, str | Path], scope: ind.Scope, settings: Mapping[str, Any]
) -> _Counted:
    """The partial counts of the whole corpus at once (by work when works are merged), with
    record ids as the record index's integers."""
    index = _record_index(scan_table(tables["records"], schemas.RECORDS))
    encode, decode = index.encode, index.decode
    view = Works(tables if "record_works" in tables else None, index)
    read = _corpus_tables(tables, scope)
    membership = view.membership(encode(read["membership"])).collect().lazy()
    records = view.records(encode(read["records"])).collect().lazy()
    classes, credit = encode(read["classes"]), encode(read["credit"])
    frames = ind.Frames(
        classes,
        credit,
        encode(read["disagreements"]),
        records,
        view.table(encode(read["funding"]), "funding"),
        membership,
    )
    partial = {name: frame.lazy() for name, frame in ind.partial_counts(frames, scope).items()}
    links = _citation_links(
        tables, dict(settings["citing"]), view, membership, records, encode, decode
    )
    flags = _flags(records, membership, scope, settings)
    return _Counted(partial, flags, classes, credit, membership, links, encode, decode)


def _flags(
    records: pl.LazyFrame,
    membership: pl.LazyFrame,
    scope: ind.Scope,
    settings: Mapping[str, Any],
) -> pl.DataFrame:
    reference = list(settings["reference_datasets"]) or list(scope.corpus)
    return ind.highly_cited_flags(
        records, membership, reference, scope.hcp_method, float(settings["top_percent"])
    ).collect()


def _by_shard(
    tables: Mapping[str, str | Path],
    sources: list[tuple[Parts, schemas.Table]],
    scope: ind.Scope,
    settings: Mapping[str, Any],
    store: str | Path | None,
) -> _Counted:
    """Each shard's partial counts (kept in ``store``), and the highly cited flags and the
    citation links over the corpus; record ids as they are."""
    partial = _tallied_counts(tables, sources, scope, store)
    read = _corpus_tables(tables, scope)
    membership, records = read["membership"], read["records"]
    view = Works(None, None)  # every record is its own work
    links = _citation_links(
        tables, dict(settings["citing"]), view, membership, records, _as_is, _same
    )
    classes, credit = read["classes"], read["credit"]
    flags = _flags(records, membership, scope, settings)
    return _Counted(partial, flags, classes, credit, membership, links, _as_is, _same)


def compute_indicators(
    tables: Mapping[str, str | Path],
    focal: Sequence[str],
    periods: Sequence[Mapping[str, Any]],
    settings: Mapping[str, Any],
    outputs: Mapping[str, str | Path],
    store: str | Path | None = None,
) -> dict[str, int]:
    """Every indicator as Parquet and CSV (``outputs[name]`` and ``outputs[name + '_csv']``)
    and the citation links table; return rows per indicator.

    Counted by work when ``tables`` has the merge tables ``record_works`` and ``work_fields``
    (:mod:`collabscope.classify.works`): dataset membership, records, funding, references and
    the cited-record keys are work-level views; otherwise by record.

    The indicators are sums of partial counts by year (:mod:`collabscope.classify.indicators`).
    When the tables are parts of parse shards and every record is its own work, each shard's
    are kept in ``store`` (None: a temporary folder), so that a new export file counts its
    shard only; the papers judged highly cited (the top per cent is the corpus's) and the
    citation links are found over the corpus. Otherwise the corpus is counted at once.

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
    scope = ind.Scope(corpus, sorted(citing), list(focal), str(settings["hcp_method"]))
    sources = _shard_sources(tables)
    counted = (
        _whole_corpus(tables, scope, settings)
        if sources is None
        else _by_shard(tables, sources, scope, settings, store)
    )
    flagged = counted.flags.filter(pl.col("hcp")).select("record_id", "hcp_basis")
    # The report lists these works: it reads them here rather than judging them again.
    write_table(
        counted.decode(flagged, "record_id"),
        schemas.HIGHLY_CITED_WORKS,
        outputs["highly_cited_works"],
    )
    is_flagged = pl.col("record_id").is_in(flagged["record_id"].implode())
    highly_cited_rows = ind.class_rows(
        counted.classes.filter(is_flagged),
        counted.membership.filter(pl.col("dataset").is_in(corpus), is_flagged),
    )
    frames = ind.finish(counted.partial, highly_cited_rows, periods, focal, settings)
    links = counted.links
    write_table(links, schemas.CITATION_LINKS, outputs["citation_links"])
    # The cited papers' classes and the citing records' credit only (none without links).
    cited = counted.encode(counted.encode(links, "record_id"), "cited_record_id").collect()

    def linked(frame: pl.LazyFrame, ids: pl.Series) -> pl.LazyFrame:
        # No link (no dataset cites): no row, and no scan of every shard's rows to find none.
        return (
            frame.filter(pl.col("record_id").is_in(ids.implode())) if ids.len() else frame.clear()
        )

    frames["citing_countries_by_cited"] = ind.citing_countries_by_cited(
        cited.lazy(),
        linked(counted.classes, cited["cited_record_id"]),
        linked(counted.credit, cited["record_id"]),
        periods,
        int(settings["top_n"]),
        settings["counting"],
        focal,
    )
    # One at a time: collected together, every indicator's rows were in memory at once.
    rows = {"citation_links": links.height, "highly_cited_works": flagged.height}
    for table in schemas.INDICATORS:
        frame = frames[table.name].collect()
        write_table(frame, table, outputs[table.name])
        write_table_csv(frame, table, outputs[f"{table.name}_csv"])
        rows[table.name] = frame.height
    log.info("indicators (focal %s, %d periods): rows %s", list(focal), len(periods), rows)
    return rows
