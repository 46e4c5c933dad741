"""Canonical tables from the field items of a shard's WoS records, vectorised with polars.

Input: ``meta`` (one row per record or stray block, with its file), ``items`` (rec, tag,
value; see :mod:`wos_items`) and ``files`` (file, format, datasets). Every step is a polars
expression over the whole shard; the only Python loop is :func:`parse_address` over the
shard's distinct address strings, which repeat heavily across records.

Rules kept from the record-at-a-time reading of WoS:
- a record's id is its UT (ISI: read as WOS:); a record without one is quarantined;
- the first occurrence of an id (file order, then line) is kept, later ones are duplicates;
- names in C1 brackets, RP groups and OI/RI entries are matched to byline positions by a
  case- and punctuation-free key of the AU or AF name, else by surname + initials;
- reprint (RP) addresses follow the C1 addresses in ``address_pos``.
"""

from __future__ import annotations

import polars as pl

from collabscope import schemas
from collabscope.parse.cited_references import parse_cited_references
from collabscope.parse.cssci import parse_cssci_references
from collabscope.parse.decode import (
    CSSCI,
    OPENALEX_CSV,
    OPENALEX_JSON,
    OPENALEX_JSONL,
    SCOPUS_CSV,
    SOURCE_OF_FORMAT,
    WOS_TAB,
)
from collabscope.parse.scopus import parse_scopus_references
from collabscope.parse.text import protect_entities, restore_entities, split_list
from collabscope.parse.wos_address import parse_addresses

# Tags turned into columns or child tables; any other tag is kept in records.extra_fields.
MODELLED_TAGS = frozenset(
    [
        "PT",
        "AU",
        "AF",
        "TI",
        "SO",
        "DT",
        "LA",
        "DE",
        "ID",
        "AB",
        "C1",
        "C3",
        "RP",
        "EM",
        "RI",
        "OI",
        "FU",
        "FX",
        "CR",
        "NR",
        "TC",
        "Z9",
        "U1",
        "U2",
        "PU",
        "SN",
        "EI",
        "J9",
        "JI",
        "PD",
        "PY",
        "VL",
        "IS",
        "BP",
        "EP",
        "AR",
        "DI",
        "EA",
        "WC",
        "SC",
        "UT",
        "PM",
        "OA",
        "HC",
        "HP",
        "DA",
        # Per-address values a source gives beside the C1 text (OpenAlex): ISO3 country
        # code and ROR id, in C1 order.
        "CC",
        "RR",
    ]
)

# records column -> tag, by kind of value
_TEXT = {
    "publication_type": "PT",
    "doc_type": "DT",
    "title": "TI",
    "journal": "SO",
    "journal_abbrev": "J9",
    "journal_iso": "JI",
    "issn": "SN",
    "eissn": "EI",
    "volume": "VL",
    "issue": "IS",
    "start_page": "BP",
    "end_page": "EP",
    "article_number": "AR",
    "publication_date": "PD",
    "early_access": "EA",
    "language": "LA",
    "abstract": "AB",
    "funding_text": "FX",
    "publisher": "PU",
    "pubmed_id": "PM",
    "open_access": "OA",
}
_INT = {
    "times_cited": "TC",
    "times_cited_all": "Z9",
    "usage_180": "U1",
    "usage_2013": "U2",
    "n_references": "NR",
}
_LIST = {
    "subject_categories": "WC",
    "research_areas": "SC",
    "author_keywords": "DE",
    "keywords_plus": "ID",
    "emails": "EM",
    "organisations_enhanced": "C3",
}
# Tags read as one text (pieces joined with a space) besides the columns above.
_OTHER_TEXT = ["UT", "DI", "PY", "HC", "HP", "OI", "RI", "RP", "FU"]
_TEXT_TAGS = sorted({*_TEXT.values(), *_INT.values(), *_LIST.values(), *_OTHER_TEXT})

_YEAR = r"\b(1[5-9]\d\d|20\d\d|21\d\d)\b"
# The marker after a corresponding author's name depends on the WoS interface language the
# export was made in (English, Chinese with a full-width comma, Spanish, Portuguese, Russian).
_CORRESPONDING = (
    r"\s*\((?:corresponding author|reprint author|通讯作者|autor correspondiente|"
    r"autor correspondente|автор для корреспонденции)\)\s*[,，]?\s*"
)
# Splits RP groups; a noncharacter, which no export contains.
_GROUP_BREAK = "\uffff"
# Below this share of distinct cited-reference strings, parsing the distinct ones and joining
# back beats parsing every row.
_PARSE_DISTINCT_BELOW = 0.6
_NO_UT = "no UT (record id): cannot identify it"
_EMPTY_LIST = pl.lit([], dtype=pl.List(pl.String))


def _joined(column: str) -> pl.Expr:
    # Aggregating to a list and joining it is ~5x faster than str.join as an aggregation.
    return pl.col(column).list.join(" ")


def _digits(text: pl.Expr) -> pl.Expr:
    return pl.when(text.str.contains(r"^[0-9]+$")).then(text.cast(pl.Int64, strict=False))


def name_key(name: pl.Expr) -> pl.Expr:
    """Case- and punctuation-free form of an author name, for matching within a record."""
    # Chinese characters are kept (CSSCI bylines): without them every Chinese name would have
    # the same empty key.
    return (
        name.str.to_lowercase()
        .str.replace_all(r"[^a-z\p{Han} ]+", " ")
        .str.replace_all(r" {2,}", " ")
        .str.strip_chars(" ")
    )


def surname_initials_key(name: pl.Expr) -> pl.Expr:
    """'Li, Xiao-Ming' -> 'li|xm': the fallback key when full names are written differently."""
    surname = name.str.extract(r"(?s)^([^,]*)", 1)
    given = name.str.extract(r"(?s)^[^,]*,(.*)$", 1).fill_null("")
    initials = (
        given.str.replace_all(r"[\s.\-]+", " ")
        .str.strip_chars(" ")
        .str.split(" ")
        .list.eval(pl.element().str.slice(0, 1))
        .list.join("")
        .str.to_lowercase()
    )
    return pl.concat_str([name_key(surname), initials], separator="|")


def record_id(ut: pl.Expr) -> pl.Expr:
    ut = ut.str.strip_chars()
    return (
        pl.when(ut.str.to_uppercase().str.starts_with("ISI:"))
        .then(pl.lit("WOS:") + ut.str.slice(4))
        .when(ut.str.contains(r"^[0-9]+$"))
        .then(pl.lit("WOS:") + ut)
        .otherwise(ut)
    )


def _doi(text: pl.Expr) -> pl.Expr:
    """'https://dx.doi.org/10.1/X', 'doi: 10.1/X', '10.1/X' -> '10.1/x'."""
    doi = (
        text.str.strip_chars()
        .str.to_lowercase()
        .str.replace(r"^(?:(?:https?://)?(?:dx\.)?doi\.org/|doi:)\s*", "")
        .str.strip_chars()
    )
    return pl.when(doi.str.len_bytes() > 0).then(doi)


def _flag(text: pl.Expr, absent_means_no: pl.Expr) -> pl.Expr:
    # Modern exports write HC only on highly cited papers, so absence there means no; in
    # older exports the flag did not exist and stays unknown.
    value = text.str.strip_chars().str.to_uppercase()
    return (
        pl.when(text.is_null())
        .then(pl.when(absent_means_no).then(False))
        .when(value.str.starts_with("Y"))
        .then(True)
        .when(value.str.starts_with("N"))
        .then(False)
    )


def _address_text(address: pl.Expr) -> pl.Expr:
    # Plain-text exports end every address with a full stop, tab-delimited ones do not (nor
    # do RP groups split at '.; '): without it the same address reads the same everywhere.
    return address.str.strip_chars().str.strip_chars_end(".").str.strip_chars()


def _positioned(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """Number the rows of each record 1, 2, …; ``frame`` is ordered by rec."""
    return frame.with_columns(_rank_in_record().alias(name))


def _rank_in_record() -> pl.Expr:
    # Rows are ordered by rec, so a record's rows are one run: the row index minus the index
    # where the run starts. Much cheaper than a window over rec.
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    starts = pl.when(pl.col("rec") != pl.col("rec").shift(1)).then(row).otherwise(None)
    return row - starts.fill_null(0).cum_max() + 1


def build_tables(
    meta: pl.DataFrame, items: pl.DataFrame, files: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """All shard tables from the tokenised records of a shard's files.

    ``meta`` has a ``file`` column; ``rec`` numbers records in file order then line, so "first
    occurrence" is the lowest ``rec``. ``files`` has file, format, datasets and the columns of
    accounting that describe the file itself.
    """
    texts = (
        items.filter(pl.col("tag").is_in(_TEXT_TAGS) & (pl.col("value") != ""))
        .group_by("rec", "tag", maintain_order=True)
        .agg(pl.col("value"))
        .with_columns(_joined("value"))
    )
    wide = (
        texts.pivot(on="tag", index="rec", values="value")
        if texts.height
        else pl.DataFrame(schema={"rec": pl.Int64})
    )
    wide = wide.with_columns(
        [pl.lit(None, dtype=pl.String).alias(t) for t in _TEXT_TAGS if t not in wide.columns]
    )

    ut = pl.col("UT")
    meta = (
        meta.sort("rec")
        .join(wide.select("rec", "UT"), on="rec", how="left")
        .with_columns(
            record_id=pl.when(ut.is_not_null()).then(record_id(ut)),
        )
        .with_columns(
            problem=pl.coalesce(
                "problem",
                pl.when(pl.col("is_record") & pl.col("record_id").is_null()).then(pl.lit(_NO_UT)),
            )
        )
        .with_columns(usable=pl.col("is_record") & pl.col("problem").is_null())
    )
    first = pl.col("record_id").is_first_distinct()
    usable = meta.filter("usable").with_columns(first=first)
    meta = meta.join(usable.select("rec", "first"), on="rec", how="left").with_columns(
        kept=pl.col("first").fill_null(False)
    )

    tables: dict[str, pl.DataFrame] = {}
    tables["quarantine"] = schemas.conform(
        meta.filter(pl.col("problem").is_not_null()).select(
            "file",
            "line",
            kind=pl.when("is_record").then(pl.lit("record")).otherwise(pl.lit("text")),
            record_id="record_id",
            reason="problem",
            excerpt="excerpt",
        ),
        schemas.QUARANTINE,
    )
    problem = pl.col("problem").is_not_null()
    counts = meta.group_by("file").agg(
        records_seen=pl.col("is_record").sum(),
        parsed=pl.col("kept").sum(),
        duplicates=(pl.col("usable") & ~pl.col("kept")).sum(),
        quarantined=(pl.col("is_record") & problem).sum(),
        stray_text=(~pl.col("is_record") & problem).sum(),
    )
    count_columns = ["records_seen", "parsed", "duplicates", "quarantined", "stray_text"]
    tables["accounting"] = schemas.conform(
        files.sort("file")
        .join(counts, on="file", how="left", maintain_order="left")
        .with_columns(pl.col(count_columns).fill_null(0)),
        schemas.ACCOUNTING,
    )
    tables["dataset_records"] = schemas.conform(
        meta.filter("usable")
        .join(files.select("file", "datasets"), on="file", how="left")
        .explode("datasets")
        .select(dataset="datasets", record_id="record_id")
        .unique(maintain_order=True),
        schemas.DATASET_RECORDS,
    )

    kept = meta.filter("kept").join(
        files.select("file", "format", "flags_exported"), on="file", how="left"
    )
    ids = kept.select("rec", "record_id")
    # Item order within a record is byline, address and reference order: keep it.
    if ids.height < meta.height:  # some records are duplicates or quarantined
        items = items.join(ids, on="rec", how="semi", maintain_order="left")
    wide = wide.join(ids, on="rec", how="inner", maintain_order="left")
    items = _core_form_c1(kept, items)
    tables["records"] = _records(kept, wide, items)
    tables["authorships"], tables["addresses"], tables["author_address"] = _people_and_places(
        ids, wide, items, kept.select("rec", "format")
    )
    tables["funding"] = _funding(ids, wide)
    tables["references"] = _references(ids, items, kept.select("rec", "format"))
    return tables


# BIOSIS and Zoological Record exported through the WoS platform write C1 as 'Surname, Given;
# address' (the author first, unbracketed), and plain text wraps one such address over lines.
_NAME_FIRST_C1 = r"^(?:BIOSIS|ZOOREC):"
# 'Saab, Victoria A.' or, in old BIOSIS, 'RAPHAEL M G': a person, never a place.
_PERSON = (
    r"^(?:[^,;\d\[\]]{1,60},\s*[^,;\d\[\]]{1,60}"
    r"|[A-Z][A-Z'\-]+(?: [A-Z][A-Z'\-]+)*(?: [A-Z]){1,3})$"
)


def _core_form_c1(kept: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """C1 items of name-first records rewritten in the Core form '[Surname, Given] address',
    so that names become author links and only places become addresses."""
    name_first = kept.filter(pl.col("record_id").str.contains(_NAME_FIRST_C1))
    if not name_first.height:
        return items
    is_c1 = (pl.col("tag") == "C1") & pl.col("rec").is_in(name_first["rec"].implode())
    # Rejoin the field as exported: tab-delimited items were split at ';', plain-text items
    # are the lines of one wrapped text.
    part = pl.col("value").str.strip_chars()
    parts = (
        items.filter(is_c1)
        .join(name_first.select("rec", "format"), on="rec", how="left")
        .group_by("rec", maintain_order=True)
        .agg(
            text=pl.when(pl.col("format").first() == WOS_TAB)
            .then(pl.col("value").str.join("; "))
            .otherwise(pl.col("value").str.join(" "))
        )
        .with_columns(value=pl.col("text").str.split(";"))
        .explode("value")
        .with_columns(part.alias("value"))
        .filter(pl.col("value").str.len_bytes() > 0)
        .with_columns(is_person=pl.col("value").str.strip_chars_end(".").str.contains(_PERSON))
        # Each address takes the names written just before it.
        .with_columns(
            address_no=(~pl.col("is_person")).cast(pl.Int64).cum_sum().over("rec")
            - (~pl.col("is_person")).cast(pl.Int64)
        )
    )
    rewritten = (
        parts.group_by("rec", "address_no", maintain_order=True)
        .agg(
            names=pl.col("value").filter("is_person").str.strip_chars_end("."),
            address=pl.col("value").filter(~pl.col("is_person")).first(),
        )
        .filter(pl.col("address").is_not_null())  # names with no address after them: no place
        .select(
            "rec",
            tag=pl.lit("C1"),
            value=pl.when(pl.col("names").list.len() > 0)
            .then(pl.format("[{}] {}", pl.col("names").list.join("; "), "address"))
            .otherwise("address"),
        )
    )
    return pl.concat([items.filter(~is_c1), rewritten.cast(items.schema)]).sort(
        "rec", maintain_order=True
    )


def _records(kept: pl.DataFrame, wide: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    def text(tag: str) -> pl.Expr:
        return pl.col(tag)

    item_counts = (
        items.filter(pl.col("tag").is_in(["AU", "C1", "CR", "DA"]))
        .group_by("rec")
        .agg(
            n_authors=(pl.col("tag") == "AU").sum(),
            n_addresses=(pl.col("tag") == "C1").sum(),
            n_references_parsed=(pl.col("tag") == "CR").sum(),
            has_da=(pl.col("tag") == "DA").any(),
        )
    )
    extra = (
        items.filter(~pl.col("tag").is_in(sorted(MODELLED_TAGS)) & (pl.col("value") != ""))
        .group_by("rec", "tag", maintain_order=True)
        .agg(pl.col("value"))
        .with_columns(_joined("value"))
        .group_by("rec", maintain_order=True)
        .agg(extra_fields=pl.struct("tag", "value"))
    )
    year = _digits(text("PY"))
    early_year = pl.col("early_access").str.extract(_YEAR, 1).cast(pl.Int64)
    # Plain-text exports carry HC/HP only on flagged records, and only since the DA field
    # appeared; a tab-delimited header says whether the columns were exported.
    flags_exported = pl.coalesce("flags_exported", "has_da")
    record_id = pl.col("record_id")
    frame = (
        kept.select("rec", "record_id", "file", "line", "format", "flags_exported")
        .join(wide.drop("record_id"), on="rec", how="left")
        .join(item_counts, on="rec", how="left")
        .join(extra, on="rec", how="left")
        .with_columns(
            pl.col("n_authors", "n_addresses", "n_references_parsed").fill_null(0),
            pl.col("has_da").fill_null(False),
            pl.col("extra_fields").fill_null(pl.lit([], dtype=pl.List(schemas.EXTRA_FIELD))),
            **{column: text(tag) for column, tag in _TEXT.items()},
        )
        .with_columns(
            **{column: _digits(text(tag)) for column, tag in _INT.items()},
            **{
                column: split_list(text(tag)).fill_null(_EMPTY_LIST)
                for column, tag in _LIST.items()
            },
            source=pl.col("format").replace_strict(SOURCE_OF_FORMAT, default=None),
        )
        .with_columns(
            database=pl.when(pl.col("source") != "wos")
            .then(pl.col("source").str.to_uppercase())
            .when(record_id.str.contains(":", literal=True))
            .then(record_id.str.extract(r"^([^:]*):", 1))
            .otherwise(pl.lit("WOS")),
            source_format="format",
            source_file="file",
            source_line="line",
            doi=_doi(text("DI")),
            year=pl.coalesce(year, early_year),
            year_source=pl.when(year.is_not_null())
            .then(pl.lit("PY"))
            .when(early_year.is_not_null())
            .then(pl.lit("EA")),
            highly_cited=_flag(text("HC"), flags_exported),
            hot_paper=_flag(text("HP"), flags_exported),
        )
    )
    return schemas.conform(frame, schemas.RECORDS)


def _resolve(mentions: pl.DataFrame, names: pl.DataFrame) -> pl.DataFrame:
    """Mentions (rec, name, …) -> one row per byline position each name points to.

    ``names`` holds (rec, position, name, key) for every AU and AF name. The exact key wins;
    only a name with no exact match falls back to surname + initials, computed just for the
    records that need it.
    """
    keyed = mentions.with_row_index("_name_row").with_columns(_key=name_key(pl.col("name")))
    by_key = (
        names.select("rec", _key="key", position="position").filter(pl.col("_key") != "").unique()
    )
    exact = keyed.join(by_key, on=["rec", "_key"], how="inner")
    # Fallback per name, not per mention: a C1 bracket or RP group names several people.
    rest = keyed.join(exact.select("_name_row"), on="_name_row", how="anti")
    initials = surname_initials_key(pl.col("name"))
    by_initials_index = (
        names.join(rest.select("rec").unique(), on="rec", how="semi")
        .select("rec", "position", _initials=initials)
        .unique()
    )
    by_initials = rest.with_columns(_initials=initials).join(
        by_initials_index, on=["rec", "_initials"], how="inner"
    )
    columns = [*mentions.columns, "position"]
    return pl.concat([exact.select(columns), by_initials.select(columns)])


def _people_and_places(
    ids: pl.DataFrame, wide: pl.DataFrame, items: pl.DataFrame, formats: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    # Zoological Record bylines carry the e-mail: 'Rota, Christopher T. (rotact@missouri.edu)'.
    name = pl.col("value").str.replace(r"\s*\([^()]*@[^()]*\)\s*$", "")
    short = _positioned(items.filter(pl.col("tag") == "AU"), "position").select(
        "rec", "position", name=name
    )
    full = _positioned(items.filter(pl.col("tag") == "AF"), "position").select(
        "rec", "position", full_name=name
    )
    authors = short.join(full, on=["rec", "position"], how="full", coalesce=True).sort(
        "rec", "position"
    )
    names = (
        pl.concat(
            [
                authors.select("rec", "position", name="name"),
                authors.select("rec", "position", name="full_name"),
            ]
        )
        .drop_nulls("name")
        .with_columns(key=name_key(pl.col("name")))
    )

    # C1: '[Li, X; Smith, J] Univ Oxford, …'
    bracket = pl.col("value").str.strip_chars().str.extract_groups(r"(?s)^\[([^\]]*)\](.*)$")
    c1 = _positioned(items.filter(pl.col("tag") == "C1"), "address_pos").with_columns(
        bracket=bracket
    )
    c1 = c1.select(
        "rec",
        "address_pos",
        kind=pl.lit("affiliation"),
        address=_address_text(pl.coalesce(pl.col("bracket").struct[1], pl.col("value"))),
        names=split_list(pl.col("bracket").struct[0]),
    )
    n_c1 = c1.group_by("rec").agg(n_c1=pl.len())

    # RP: 'Li, X (corresponding author), Univ Oxford, …; Smith, J (reprint author), …'
    marker = pl.col("part").str.extract_groups(rf"(?is)^(.*?){_CORRESPONDING}(.*)$")
    groups = (
        wide.select(
            "rec",
            part=pl.col("RP")
            .str.strip_chars()
            .str.replace_all(r"\.\s*;\s+", _GROUP_BREAK)
            .str.split(_GROUP_BREAK),
        )
        .explode("part")
        .with_columns(pl.col("part").str.strip_chars().str.strip_chars_end(";").str.strip_chars())
        .filter(pl.col("part").str.len_bytes() > 0)
        .with_columns(marker=marker)
        .with_columns(
            names=pl.when(pl.col("marker").struct[0].is_not_null())
            .then(split_list(pl.col("marker").struct[0]))
            .otherwise(_EMPTY_LIST),
            address=_address_text(
                pl.when(pl.col("marker").struct[0].is_not_null())
                .then(pl.col("marker").struct[1])
                .otherwise(pl.col("part"))
            ),
        )
        .with_columns(
            address=pl.when(pl.col("address").str.len_bytes() > 0).then(pl.col("address"))
        )
        .with_columns(group=_rank_in_record() - 1)
    )
    reprint = (
        groups.filter(pl.col("address").is_not_null())
        .join(n_c1, on="rec", how="left")
        .with_columns(
            address_pos=pl.col("n_c1").fill_null(0) + pl.int_range(pl.len()).over("rec") + 1
        )
    )
    groups = groups.join(
        reprint.select("rec", "group", "address_pos"), on=["rec", "group"], how="left"
    )

    # Names written elsewhere in the record, resolved to byline positions in one pass: C1
    # brackets and RP groups (which author is at which address, who corresponds) and OI/RI.
    ids_written = _author_ids(wide)
    mentions = pl.concat(
        [
            c1.select("rec", source=pl.lit("C1"), mention="address_pos", name="names"),
            groups.select("rec", source=pl.lit("RP"), mention="group", name="names"),
        ]
    ).explode("name")
    mentions = pl.concat(
        [mentions.drop_nulls("name"), ids_written.select("rec", "source", "mention", "name")]
    )
    resolved = _resolve(mentions, names)
    by_source = resolved.partition_by("source", as_dict=True, include_key=False)
    none = resolved.clear().drop("source")
    c1_links = by_source.get(("C1",), none).rename({"mention": "address_pos"})
    rp_positions = _settle_by_address(
        by_source.get(("RP",), none).join(
            groups.select("rec", mention="group", address_pos="address_pos", address="address"),
            on=["rec", "mention"],
        ),
        c1_links.join(
            c1.select("rec", "address_pos", c1_address="address"), on=["rec", "address_pos"]
        ),
    )
    links = pl.concat(
        [
            c1_links.select("rec", "position", "address_pos"),
            rp_positions.drop_nulls("address_pos").select("rec", "position", "address_pos"),
        ]
    ).unique()
    corresponding = (
        rp_positions.select("rec", "position").unique().with_columns(is_corresponding=pl.lit(True))
    )
    orcid = _assign_ids(ids_written, resolved, "OI", authors)
    researcher = _assign_ids(ids_written, resolved, "RI", authors)
    authorships = (
        authors.join(orcid.rename({"ident": "orcid"}), on=["rec", "position"], how="left")
        .join(researcher.rename({"ident": "researcher_id"}), on=["rec", "position"], how="left")
        .join(corresponding, on=["rec", "position"], how="left")
        .with_columns(pl.col("is_corresponding").fill_null(False))
        .join(ids, on="rec")
    )

    addresses = pl.concat(
        [
            c1.select("rec", "address_pos", "kind", "address"),
            reprint.select("rec", "address_pos", kind=pl.lit("reprint"), address="address"),
        ]
    )
    addresses = _address_parts(addresses, formats)
    given = [
        _positioned(items.filter(pl.col("tag") == tag), "address_pos").select(
            "rec", "address_pos", pl.col("value").replace("", None).alias(column)
        )
        for tag, column in (("CC", "country_code"), ("RR", "ror_id"))
    ]
    for frame in given:
        addresses = addresses.join(frame, on=["rec", "address_pos"], how="left")
    addresses = addresses.join(ids, on="rec").rename({"address": "raw"})
    author_address = links.join(ids, on="rec")
    return (
        schemas.conform(authorships, schemas.AUTHORSHIPS),
        schemas.conform(addresses, schemas.ADDRESSES),
        schemas.conform(author_address, schemas.AUTHOR_ADDRESS),
    )


_NAME_ONLY_FORMATS = [OPENALEX_JSON, OPENALEX_JSONL, OPENALEX_CSV]


def _address_parts(addresses: pl.DataFrame, formats: pl.DataFrame) -> pl.DataFrame:
    """Address parts, read the way each source writes addresses.

    WoS and Scopus write comma-separated addresses ending with the country; CSSCI writes
    '英国肯特大学.商学院' (institution, then units, full stops between, no city or country);
    OpenAlex gives an institution name, with its country code and ROR id beside it.
    """
    addresses = addresses.join(formats, on="rec", how="left")
    comma = addresses.filter(~pl.col("format").is_in([CSSCI, *_NAME_ONLY_FORMATS]))
    cssci = addresses.filter(pl.col("format") == CSSCI)
    named = addresses.filter(pl.col("format").is_in(_NAME_ONLY_FORMATS))
    comma = comma.join(_parsed_addresses(comma["address"]), on="address", how="left")
    elements = split_list(pl.col("address"), ".")
    cssci = cssci.with_columns(
        organisation=elements.list.first(),
        sub_organisations=elements.list.slice(1),
    )
    named = named.with_columns(organisation=pl.col("address"), sub_organisations=_EMPTY_LIST)
    nothing = {
        "city": pl.lit(None, pl.String),
        "state": pl.lit(None, pl.String),
        "postcode": pl.lit(None, pl.String),
        "country_text": pl.lit(None, pl.String),
        "old_style": pl.lit(False),
    }
    columns = [*comma.columns]
    return (
        pl.concat(
            [
                comma,
                cssci.with_columns(**nothing).select(columns),
                named.with_columns(**nothing).select(columns),
            ]
        )
        .sort("rec", "address_pos")
        .drop("format")
    )


def _parsed_addresses(addresses: pl.Series) -> pl.DataFrame:
    """Address parts of the distinct strings (they repeat heavily across records)."""
    distinct = pl.DataFrame({"address": addresses.unique().sort()})
    return parse_addresses(distinct, "address")


def _settle_by_address(rp: pl.DataFrame, c1_links: pl.DataFrame) -> pl.DataFrame:
    """An RP name that fits several authors ('Wang, L' for Wang Lei and Wang Li) is the one
    whose C1 address is the reprint address, when exactly that settles it."""
    rp = rp.with_columns(_name=pl.int_range(pl.len()).over("rec", "mention", "name"))
    rp = rp.with_columns(_fits=pl.len().over("rec", "mention", "name"))
    at_address = (
        rp.filter(pl.col("_fits") > 1)
        .join(
            c1_links.select("rec", "position", address="c1_address"),
            on=["rec", "position", "address"],
            how="semi",
        )
        .select("rec", "mention", "name", "position")
        .unique()
    )
    settled = at_address.group_by("rec", "mention", "name").agg(_settled=pl.len())
    rp = rp.join(settled, on=["rec", "mention", "name"], how="left")
    keep = (
        (pl.col("_fits") == 1)
        | pl.col("_settled").is_null()
        | pl.struct("rec", "mention", "name", "position").is_in(
            at_address.select(pl.struct("rec", "mention", "name", "position")).to_series().implode()
        )
    )
    return rp.filter(keep).drop("_name", "_fits", "_settled", "address")


def _author_ids(wide: pl.DataFrame) -> pl.DataFrame:
    """OI and RI entries 'Name, First/0000-0001-…' -> (rec, source, mention, name, ident)."""
    entries = [
        wide.select("rec", source=pl.lit(tag), entry=split_list(pl.col(tag)))
        .explode("entry")
        .drop_nulls("entry")
        .with_columns(mention=pl.int_range(pl.len()).over("rec"))
        for tag in ("OI", "RI")
    ]
    return (
        pl.concat(entries)
        .with_columns(parts=pl.col("entry").str.extract_groups(r"(?s)^(.*)/([^/]*)$"))
        .select(
            "rec",
            "source",
            pl.col("mention").cast(pl.Int64),
            name=pl.col("parts").struct[0],
            ident=pl.col("parts").struct[1].str.strip_chars(),
        )
        .filter(
            (pl.col("name").str.strip_chars(", ").str.len_bytes() > 0)
            & (pl.col("ident").str.len_bytes() > 0)
        )
    )


def _assign_ids(
    written: pl.DataFrame, resolved: pl.DataFrame, tag: str, authors: pl.DataFrame
) -> pl.DataFrame:
    """(rec, position, ident) for the OI or RI entries that point to one author only.

    A name that matches no byline name exactly or by initials may still be the start of one
    full name ('Li, X' for 'Li, Xiaoming'). Each author takes the first id that is theirs.
    """
    entries = written.filter(pl.col("source") == tag)
    found = resolved.filter(pl.col("source") == tag).select("rec", "mention", "position")
    unmatched = entries.join(found, on=["rec", "mention"], how="anti")
    full_keys = (
        authors.join(unmatched.select("rec").unique(), on="rec", how="semi")
        .drop_nulls("full_name")
        .select("rec", "position", full_key=name_key(pl.col("full_name")))
    )
    by_prefix = (
        unmatched.with_columns(key=name_key(pl.col("name")))
        .join(full_keys, on="rec")
        .filter(pl.col("full_key").str.starts_with(pl.col("key")))
        .select("rec", "mention", "position")
    )
    candidates = pl.concat([found, by_prefix]).unique()
    single = candidates.filter(pl.len().over("rec", "mention") == 1)
    return (
        single.join(entries.select("rec", "mention", "ident"), on=["rec", "mention"])
        .sort("rec", "mention")
        .unique(["rec", "position"], keep="first", maintain_order=True)
        .select("rec", "position", "ident")
    )


def _funding(ids: pl.DataFrame, wide: pl.DataFrame) -> pl.DataFrame:
    """FU 'Funder A [grant1, grant2]; Funder B' -> one row per funder with its grants."""
    entries = (
        wide.select(
            "rec",
            entry=protect_entities(pl.col("FU")).str.extract_all(r"(?:\[[^\]]*\]|[^;\[]|\[)+"),
        )
        .explode("entry")
        .with_columns(restore_entities(pl.col("entry")).str.strip_chars())
        .filter(pl.col("entry").str.len_bytes() > 0)
    )
    grants = split_list(
        pl.col("entry")
        .str.extract_all(r"\[[^\]]*\]")
        .list.eval(pl.element().str.slice(1, pl.element().str.len_chars() - 2))
        .list.join(",")
        .str.replace_all(";", ","),  # '[71774012, 72004015]' and '[71774012; 72004015]'
        ",",
    ).fill_null(_EMPTY_LIST)
    funder = (
        pl.col("entry").str.replace_all(r"\[[^\]]*\]", " ").str.replace_all(r"\s+", " ")
    ).str.strip_chars()
    frame = _positioned(entries, "funder_pos").with_columns(
        funder_raw=pl.when(funder.str.len_bytes() > 0).then(funder),
        grant_numbers=grants,
    )
    return schemas.conform(frame.join(ids, on="rec"), schemas.FUNDING)


def _references(ids: pl.DataFrame, items: pl.DataFrame, formats: pl.DataFrame) -> pl.DataFrame:
    cited = _positioned(items.filter(pl.col("tag") == "CR"), "ref_pos").join(ids, on="rec")
    cited = cited.join(formats, on="rec", how="left")
    # Other sources write cited references their own way (OpenAlex: work ids only).
    other = {
        SCOPUS_CSV: parse_scopus_references,
        CSSCI: parse_cssci_references,
    }
    frames = [
        schemas.conform(
            parse(
                cited.filter(pl.col("format") == fmt)
                .select("record_id", "ref_pos", raw="value")
                .lazy()
            ).collect(),
            schemas.REFERENCES,
        )
        for fmt, parse in other.items()
    ]
    ids_only = cited.filter(pl.col("format").is_in(_NAME_ONLY_FORMATS)).select(
        "record_id", "ref_pos", raw="value"
    )
    unparsed = [c for c in schemas.REFERENCES.schema.names() if c not in ids_only.columns]
    frames.append(
        schemas.conform(
            ids_only.with_columns([pl.lit(None).alias(c) for c in unparsed]), schemas.REFERENCES
        )
    )
    cited = cited.filter(~pl.col("format").is_in([*other, *_NAME_ONLY_FORMATS]))
    frames.append(_wos_references(cited.select("record_id", "ref_pos", raw="value")))
    return pl.concat(frames)


def _wos_references(cited: pl.DataFrame) -> pl.DataFrame:
    distinct = cited.select("raw").unique()
    if distinct.height < _PARSE_DISTINCT_BELOW * cited.height:
        # Papers of one field cite the same works: parse each distinct string once.
        parsed = parse_cited_references(distinct.lazy()).collect()
        frame = cited.join(parsed, on="raw", how="left")
    else:
        frame = parse_cited_references(cited.lazy()).collect()
    return schemas.conform(frame, schemas.REFERENCES)
