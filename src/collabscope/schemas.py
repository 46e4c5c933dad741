"""Explicit schemas of every canonical table, with a one-line description per column.

The descriptions are the documentation: ``docs/tables.md`` is generated from them
(``python -m collabscope.schemas``) and a test keeps the two in step.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import polars as pl

STR = pl.String
INT = pl.Int64
BOOL = pl.Boolean
STR_LIST = pl.List(pl.String)


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    holds: str
    columns: tuple[tuple[str, pl.DataType, str], ...]

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema([(name, dtype) for name, dtype, _ in self.columns])

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)


EXTRA_FIELD = pl.Struct({"tag": pl.String, "value": pl.String})

RECORDS = Table(
    "records",
    ("record_id",),
    "one row per distinct work (first occurrence wins; see accounting for the duplicates)",
    (
        (
            "record_id",
            STR,
            "source id with prefix: WOS:…, or the WoS-platform database prefix "
            "(BCI:, ZOOREC:, MEDLINE:…; ISI: is read as WOS:); Scopus EID (2-s2.0-…); OpenAlex "
            "work id (W…); CSSCI:… (a digest of the record's fields: CSSCI exports carry no id)",
        ),
        (
            "database",
            STR,
            "prefix of record_id (WOS, BCI, ZOOREC, …); SCOPUS, OPENALEX or CSSCI for those "
            "sources",
        ),
        ("source", STR, "export family the record was read from (wos, scopus, cssci, openalex)"),
        (
            "source_format",
            STR,
            "wos_plain, wos_tab, scopus_csv, cssci, openalex_json, openalex_jsonl or openalex_csv",
        ),
        ("source_file", STR, "export file of the first occurrence, as configured"),
        ("source_line", INT, "line of the record's first line in that file (1-based)"),
        ("publication_type", STR, "PT: J journal, B book, S series, P patent, C conference"),
        ("doc_type", STR, "DT, e.g. Article; Review; Article; Early Access"),
        ("title", STR, "TI"),
        ("journal", STR, "SO, full source title"),
        ("journal_abbrev", STR, "J9, the 29-character abbreviation used in cited references"),
        ("journal_iso", STR, "JI, ISO abbreviation"),
        ("issn", STR, "SN"),
        ("eissn", STR, "EI"),
        ("volume", STR, "VL"),
        ("issue", STR, "IS"),
        ("start_page", STR, "BP"),
        ("end_page", STR, "EP"),
        ("article_number", STR, "AR"),
        ("doi", STR, "DI, lower-cased, without a resolver prefix"),
        ("year", INT, "PY; for early-access records without PY, the year of EA"),
        ("year_source", STR, "PY, EA, or null when neither is given"),
        ("publication_date", STR, "PD as exported (e.g. MAR, JUN 15)"),
        ("early_access", STR, "EA as exported (e.g. JAN 2021)"),
        ("language", STR, "LA"),
        (
            "times_cited",
            INT,
            "TC, Web of Science Core Collection times cited (Scopus: Cited by; OpenAlex: "
            "cited_by_count)",
        ),
        ("times_cited_all", INT, "Z9, times cited in all databases"),
        ("usage_180", INT, "U1, usage count in the last 180 days"),
        ("usage_2013", INT, "U2, usage count since 2013"),
        ("highly_cited", BOOL, "HC = Y: ESI highly cited paper; null when the export has no HC"),
        ("hot_paper", BOOL, "HP = Y: ESI hot paper; null when the export has no HP"),
        ("subject_categories", STR_LIST, "WC, Web of Science categories"),
        ("research_areas", STR_LIST, "SC, research areas"),
        ("author_keywords", STR_LIST, "DE"),
        ("keywords_plus", STR_LIST, "ID"),
        ("abstract", STR, "AB"),
        ("emails", STR_LIST, "EM, e-mail addresses in export order (personal data)"),
        ("organisations_enhanced", STR_LIST, "C3, WoS organisation-enhanced names"),
        ("funding_text", STR, "FX, funding acknowledgement text"),
        ("publisher", STR, "PU"),
        ("pubmed_id", STR, "PM"),
        ("open_access", STR, "OA"),
        ("n_authors", INT, "number of AU entries"),
        ("n_addresses", INT, "number of C1 addresses"),
        ("n_references", INT, "NR as exported (null when not exported)"),
        ("n_references_parsed", INT, "number of CR entries read"),
        (
            "extra_fields",
            pl.List(EXTRA_FIELD),
            "tags this version does not model, kept as (tag, value) pairs",
        ),
    ),
)

DATASET_RECORDS = Table(
    "dataset_records",
    ("dataset", "record_id"),
    "which configured datasets hold each record (a China–UK paper is in several)",
    (
        ("dataset", STR, "dataset name from the config"),
        ("record_id", STR, "records.record_id"),
    ),
)

AUTHORSHIPS = Table(
    "authorships",
    ("record_id", "position"),
    "one row per author of a record, in byline order",
    (
        ("record_id", STR, "records.record_id"),
        ("position", INT, "byline position, 1-based"),
        ("name", STR, "AU, e.g. Li, X (personal data)"),
        ("full_name", STR, "AF, e.g. Li, Xiaoming (personal data)"),
        ("orcid", STR, "from OI, matched to the author by name"),
        ("researcher_id", STR, "from RI, matched to the author by name"),
        ("is_corresponding", BOOL, "named in RP as corresponding or reprint author"),
    ),
)

ADDRESSES = Table(
    "addresses",
    ("record_id", "address_pos"),
    "one row per address: the C1 affiliations first (kind affiliation), then the RP addresses "
    "(kind reprint)",
    (
        ("record_id", STR, "records.record_id"),
        ("address_pos", INT, "1-based; affiliations keep C1 order, reprint addresses follow"),
        ("kind", STR, "affiliation (C1) or reprint (RP)"),
        (
            "raw",
            STR,
            "the address as exported, without the [Author; …] prefix and the final full stop "
            "(so plain and tab-delimited exports agree)",
        ),
        ("organisation", STR, "first comma-separated element"),
        ("sub_organisations", STR_LIST, "elements between the organisation and the city"),
        ("city", STR, "city element without postcode or state"),
        (
            "state",
            STR,
            "element between city and country where written: US/Canadian/Australian state "
            "code, Chinese province, UK county",
        ),
        ("postcode", STR, "postcode or ZIP where written"),
        (
            "country_text",
            STR,
            "the country element as written (last element: England, "
            "Peoples R China, USA …; Scopus: United Kingdom, China …); null when the address "
            "has none (CSSCI and OpenAlex, whose countries are read from the institution name "
            "and from country_code)",
        ),
        ("old_style", BOOL, "all-uppercase pre-2008 style address"),
        (
            "country_code",
            STR,
            "ISO 3166-1 alpha-3 code the source itself gives (OpenAlex institution country); "
            "null for sources that write the country as text",
        ),
        ("ror_id", STR, "ROR id the source gives (OpenAlex institutions), null otherwise"),
    ),
)

AUTHOR_ADDRESS = Table(
    "author_address",
    ("record_id", "position", "address_pos"),
    "links between authors and addresses: C1 [Author; Author] brackets and RP groups",
    (
        ("record_id", STR, "records.record_id"),
        ("position", INT, "authorships.position"),
        ("address_pos", INT, "addresses.address_pos"),
    ),
)

FUNDING = Table(
    "funding",
    ("record_id", "funder_pos"),
    "one row per FU entry",
    (
        ("record_id", STR, "records.record_id"),
        ("funder_pos", INT, "1-based order in FU"),
        ("funder_raw", STR, "funder as written, without grant numbers"),
        ("grant_numbers", STR_LIST, "the bracketed grant numbers"),
    ),
)

REFERENCES = Table(
    "references",
    ("record_id", "ref_pos"),
    "one row per cited reference (CR)",
    (
        ("record_id", STR, "records.record_id (the citing record)"),
        ("ref_pos", INT, "1-based order in CR"),
        ("raw", STR, "the cited reference as exported"),
        (
            "first_author",
            STR,
            "first element when it is a name (e.g. Smith J); null for [Anonymous]",
        ),
        ("year", INT, "publication year of the cited work"),
        ("source", STR, "cited source abbreviation (journal, book title)"),
        ("volume", STR, "V…"),
        ("page", STR, "P… (first page) or article number"),
        ("doi", STR, "first DOI, lower-cased"),
        (
            "link_key",
            STR,
            "surname|initial|year|volume|page for linking without DOI; null when a part is missing",
        ),
    ),
)

QUARANTINE = Table(
    "quarantine",
    ("file", "line"),
    "records set aside, each with the reason; they are counted in accounting",
    (
        ("file", STR, "export file"),
        ("line", INT, "first line of the record (1-based)"),
        (
            "kind",
            STR,
            "record (a record set aside, counted in accounting.quarantined) or text "
            "(stray text between records, not a record, counted in accounting.stray_text)",
        ),
        ("record_id", STR, "UT when one could be read"),
        ("reason", STR, "what is wrong"),
        ("excerpt", STR, "the first characters of the offending record or line"),
    ),
)

ACCOUNTING = Table(
    "accounting",
    ("file",),
    "per export file: records_seen = parsed + duplicates + quarantined",
    (
        ("file", STR, "export file as configured"),
        ("datasets", STR_LIST, "datasets the file belongs to"),
        ("format", STR, "detected format (records.source_format)"),
        ("encoding", STR, "detected encoding"),
        ("line_endings", STR, "LF, CRLF, CR or mixed"),
        ("header", STR, "the FN line, or the first column names for tab-delimited files"),
        ("sha256", STR, "of the file's bytes"),
        ("bytes", INT, "file size"),
        ("records_seen", INT, "records that began in the file"),
        ("parsed", INT, "records kept in records (first occurrence of their id)"),
        ("duplicates", INT, "records whose id occurred earlier (file order, then line)"),
        ("quarantined", INT, "records in quarantine"),
        ("stray_text", INT, "blocks of text outside any record (listed in quarantine, kind text)"),
    ),
)

DATASETS = Table(
    "datasets",
    ("dataset",),
    "the configured datasets with their record counts",
    (
        ("dataset", STR, "name from the config"),
        ("description", STR, "config description"),
        ("query", STR, "the database query that produced the export"),
        ("patterns", STR_LIST, "configured export file patterns"),
        ("n_files", INT, "files matched"),
        ("records", INT, "distinct records in the dataset"),
    ),
)

ADDRESSES_NORMALISED = Table(
    "addresses",
    ("record_id", "address_pos"),
    "the addresses table with each address's country under the configured policy and its "
    "institution "
    "(results/normalised/addresses.parquet)",
    (
        *ADDRESSES.columns,
        (
            "country_recorded",
            STR,
            "ISO 3166-1 alpha-3 code as written: GBR-ENG/GBR-SCT/GBR-WLS/GBR-NIR for the UK "
            "nations, HKG/MAC/TWN (also when written '…, Hong Kong, Peoples R China')",
        ),
        ("country", STR, "the country counted, under normalise.country_policy"),
        (
            "country_method",
            STR,
            "exact, alias, fuzzy, city_rule, us_state, ca_province, au_state or none",
        ),
        ("country_score", pl.Float64, "100 for rule-based matches, the rapidfuzz score for fuzzy"),
        (
            "institution_id",
            STR,
            "registry id (resources/institutions/, user registries, ROR id), null when unmatched",
        ),
        ("institution_name", STR, "canonical name"),
        ("institution_method", STR, "override, exact, alias, prefix, fuzzy or none"),
        (
            "institution_score",
            pl.Float64,
            "100 for override/exact/alias, the rapidfuzz score for fuzzy, null for none",
        ),
        ("is_transnational", BOOL, "a Sino-foreign joint institution (registry flag)"),
    ),
)

FUNDING_NORMALISED = Table(
    "funding",
    ("record_id", "funder_pos"),
    "the funding table with each funder matched to the funder registry "
    "(results/normalised/funding.parquet)",
    (
        *FUNDING.columns,
        ("funder_id", STR, "registry id (resources/funders/funders.csv), null when unmatched"),
        ("funder_name", STR, "registry name"),
        ("funder_country", STR, "ISO 3166-1 alpha-3 of the funder (EUR, INT for EU and others)"),
        ("funder_method", STR, "exact, alias, acronym, fuzzy, ambiguous or none"),
        ("funder_score", pl.Float64, "100 for exact/alias/acronym, the rapidfuzz score for fuzzy"),
        ("funder_text", STR, "the cleaned text that was matched"),
        ("funder_also", STR_LIST, "other funders named in the same glued entry"),
        ("funder_candidates", STR_LIST, "ids considered (the choices of an ambiguous name)"),
    ),
)

# Merge across sources (collabscope.merge): one work per paper, with where each part comes from.
RECORD_WORKS = Table(
    "record_works",
    ("record_id",),
    "the work each record belongs to (records of one paper in WoS, Scopus, OpenAlex and CSSCI "
    "are one work)",
    (
        ("record_id", STR, "records.record_id"),
        ("work_id", STR, "record_id of the work's primary record (first in merge.source_order)"),
        ("source", STR, "records.source"),
        (
            "match",
            STR,
            "strongest match to another record of the work: doi, title_year_author, "
            "english_title_year (CSSCI English title), or alone",
        ),
        ("is_primary", BOOL, "the record whose id is the work's id"),
    ),
)

WORK_FIELDS = Table(
    "work_fields",
    ("work_id", "field"),
    "provenance: for each work and field group, the record (and source) it is taken from",
    (
        ("work_id", STR, "record_works.work_id"),
        (
            "field",
            STR,
            "bibliographic, authors, addresses, funding, references or citations",
        ),
        (
            "record_id",
            STR,
            "the first record, in the field's source order (merge.field_sources), that has it",
        ),
        ("source", STR, "that record's source"),
    ),
)

WORKS = Table(
    "works",
    ("work_id",),
    "one row per work across sources",
    (
        ("work_id", STR, "record_id of the primary record"),
        ("sources", STR_LIST, "sources holding the work, sorted"),
        ("record_ids", STR_LIST, "its records, sorted"),
        ("n_records", INT, "number of records"),
        ("cross_source", BOOL, "held by more than one source"),
    ),
)

MERGE_ACCOUNTING = Table(
    "merge_accounting",
    ("file",),
    "per export file: parsed records, those matched to records elsewhere, and those merged into "
    "a work whose primary record is another (parsed = primary + merged)",
    (
        ("file", STR, "export file (records.source_file)"),
        ("source", STR, "records.source"),
        ("parsed", INT, "records kept from the file (accounting.parsed)"),
        ("matched", INT, "records in a work with at least one other record"),
        ("matched_doi", INT, "… of them matched by DOI"),
        ("matched_title", INT, "… by normalised title, year and first-author surname"),
        ("matched_english_title", INT, "… by a CSSCI English title and year"),
        ("merged", INT, "records that are not their work's primary record"),
    ),
)

MERGE_TABLES: tuple[Table, ...] = (RECORD_WORKS, WORK_FIELDS, WORKS, MERGE_ACCOUNTING)


CANONICAL_TABLES: tuple[Table, ...] = (
    RECORDS,
    DATASET_RECORDS,
    AUTHORSHIPS,
    ADDRESSES,
    AUTHOR_ADDRESS,
    FUNDING,
    REFERENCES,
    QUARANTINE,
    ACCOUNTING,
    DATASETS,
)
# Tables a parse shard writes (records carry their file and line; dataset_records is per shard).
SHARD_TABLES: tuple[Table, ...] = (
    RECORDS,
    DATASET_RECORDS,
    AUTHORSHIPS,
    ADDRESSES,
    AUTHOR_ADDRESS,
    FUNDING,
    REFERENCES,
    QUARANTINE,
    ACCOUNTING,
)
# Tables keyed by record_id whose rows follow the record's first occurrence.
CHILD_TABLES: tuple[Table, ...] = (AUTHORSHIPS, ADDRESSES, AUTHOR_ADDRESS, FUNDING, REFERENCES)

BY_NAME = {table.name: table for table in (*CANONICAL_TABLES, *MERGE_TABLES)}
# Tables of the normalisation stage (results/normalised/), each a canonical table plus columns.
NORMALISED_TABLES: tuple[Table, ...] = (ADDRESSES_NORMALISED, FUNDING_NORMALISED)

# --- sampling (issue 5): private tables under results/private/ --------------------------------
POOL = Table(
    "pool",
    ("person_id",),
    "one row per person of the interview pool, after disambiguation "
    "(results/private/pool.parquet; personal data, owner-only)",
    (
        ("person_id", STR, "P + 10 hex digits, stable for the same papers; reveals nothing"),
        ("country", STR, "country of the current affiliation (under the country policy)"),
        ("name", STR, "AU name on the most recent paper (personal data)"),
        ("full_name", STR, "AF name, spelled out where any paper spells it (personal data)"),
        ("names", STR_LIST, "every AU form written (personal data)"),
        ("full_names", STR_LIST, "every AF form written (personal data)"),
        ("orcids", STR_LIST, "ORCID iDs given on the person's papers"),
        ("researcher_ids", STR_LIST, "ResearcherIDs given on the person's papers"),
        ("email", STR, "the surest linked e-mail, most recent first (personal data)"),
        (
            "email_method",
            STR,
            "how it was linked: name, sole_author, initials, name_partial, corresponding",
        ),
        ("email_confidence", pl.Float64, "0.5-0.95, by method (collabscope.sampling.pool)"),
        ("emails", STR_LIST, "every linked e-mail (personal data)"),
        ("institution_id", STR, "institution of the current affiliation (null when unmatched)"),
        ("institution_name", STR, "its canonical name"),
        ("tiers", STR_LIST, "the institution's tiers (russell-group, double-first-class, …)"),
        ("affiliation", STR, "the current affiliation as written"),
        ("current_record_id", STR, "the most recent pool paper (current affiliation's source)"),
        ("record_ids", STR_LIST, "the person's pool papers"),
        ("n_pair_papers", INT, "number of pool papers"),
        ("n_authorships", INT, "authorships merged (more than papers: see two_on_one_paper)"),
        ("years", pl.List(INT), "publication years of the pool papers"),
        ("first_year", INT, "first pool-paper year"),
        ("last_year", INT, "last pool-paper year"),
        ("years_active", INT, "last_year - first_year + 1"),
        ("n_first_author", INT, "papers with the person first in the byline"),
        ("n_corresponding", INT, "papers with the person as corresponding author"),
        ("n_lead_side", INT, "papers whose lead country is the person's country on the paper"),
        ("countries", STR_LIST, "the person's sides over their papers (two after a move)"),
        ("links", STR_LIST, "how their addresses were linked: c1, reprint, sole_address"),
        (
            "merge_reasons",
            STR_LIST,
            "rules that merged authorships into this person (empty: one authorship or one "
            "paper's); each merge is listed in results/private/pool_merges.csv",
        ),
        ("two_on_one_paper", BOOL, "two authorships of one paper merged: check the merge"),
    ),
)
PRIVATE_TABLES: tuple[Table, ...] = (POOL,)


def conform(frame: pl.DataFrame, table: Table) -> pl.DataFrame:
    """Select and cast ``frame`` to the table's schema, failing loudly on a missing column."""
    missing = [name for name in table.schema.names() if name not in frame.columns]
    if missing:
        raise ValueError(f"{table.name}: missing columns {missing}")
    return frame.select([pl.col(name).cast(dtype) for name, dtype in table.schema.items()])


def markdown() -> str:
    """Documentation of every table, generated from the schemas above."""
    lines = [
        "# Canonical tables",
        "",
        "Parquet files under `results/tables/`, one schema each, generated from",
        "`src/collabscope/schemas.py` by `python -m collabscope.schemas > docs/tables.md`.",
        "Rows are sorted by the key; files are zstd-compressed and written atomically.",
        "",
    ]
    for table in (*CANONICAL_TABLES, *MERGE_TABLES):
        lines += [
            f"## `{table.name}`",
            "",
            f"Key: {', '.join(table.key)}. Holds {table.holds}.",
            "",
        ]
        lines += ["| column | type | meaning |", "|---|---|---|"]
        for name, dtype, meaning in table.columns:
            lines.append(f"| `{name}` | {dtype} | {meaning} |")
        lines.append("")
    lines += [
        "# Normalised tables",
        "",
        "Parquet files under `results/normalised/`: a canonical table with the normalisation",
        "stage's columns added (the canonical columns are as above).",
        "",
    ]
    for table in NORMALISED_TABLES:
        base = BY_NAME[table.name]
        added = [c for c in table.columns if c not in base.columns]
        lines += [
            f"## `normalised/{table.name}`",
            "",
            f"Key: {', '.join(table.key)}. Holds {table.holds}.",
            "",
            "| added column | type | meaning |",
            "|---|---|---|",
        ]
        for name, dtype, meaning in added:
            lines.append(f"| `{name}` | {dtype} | {meaning} |")
        lines.append("")
    lines += [
        "# Private tables",
        "",
        "Parquet files under `results/private/` (owner-only: directory 0700, files 0600).",
        "They hold names and e-mail addresses; public outputs get only counts and codes.",
        "",
    ]
    for table in PRIVATE_TABLES:
        lines += [
            f"## `private/{table.name}`",
            "",
            f"Key: {', '.join(table.key)}. Holds {table.holds}.",
            "",
            "| column | type | meaning |",
            "|---|---|---|",
        ]
        for name, dtype, meaning in table.columns:
            lines.append(f"| `{name}` | {dtype} | {meaning} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown())
