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
    # The column holding the record id of each row: a table held as parts leaves out, on
    # reading, the rows of the records that its manifest's superseded table lists for the
    # part's shard (tableio.scan_parts) by this column.
    record_column: str = "record_id"

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

SUPERSEDED = Table(
    "superseded",
    ("shard", "record_id"),
    "record occurrences a parse shard kept whose id an earlier file in another shard holds "
    "(duplicates across shards, counted in accounting.duplicates of their file): their rows in "
    "that shard's record tables are not part of the canonical tables",
    (
        ("shard", STR, "parse shard (the directory under results/shards/)"),
        ("record_id", STR, "records.record_id"),
        ("source_file", STR, "export file of the superseded occurrence"),
        ("source_line", INT, "its first line (1-based)"),
        (
            "kept_shard",
            STR,
            "the shard holding the kept occurrence (where the record's dataset memberships from "
            "this file are counted)",
        ),
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
    "(results/normalised/addresses.parts.json: a manifest of parts, one per shard)",
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
        ("institution_method", STR, "override, ror, exact, alias, prefix, fuzzy or none"),
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
    "(results/normalised/funding.parts.json)",
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
    # Held as per-shard parts only when every record is its own work (one source): a work's
    # id is then its record's id.
    record_column="work_id",
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
# The merge tables held as parts (collabscope.merge.merge_stage): one per parse shard when the
# corpus has one source (every record is its own work), else one part for the whole corpus.
MERGE_PART_TABLES: tuple[Table, ...] = (RECORD_WORKS, WORK_FIELDS, WORKS)


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
    SUPERSEDED,
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
# What a parse job keeps of each export file between runs (results/parts/parse_exports/<shard>/,
# see parse.shard.TokenCache): the file's tokens, records numbered from 0. No key: the rows keep
# the tokeniser's order, which the builder's first-occurrence rules and field order depend on.
FILE_TOKENS = Table(
    "file_tokens",
    (),
    "one export file's field items, in the order its tokeniser gave them",
    (
        ("rec", INT, "record number in the file, from 0"),
        ("tag", STR, "field tag in the builder's terms (WoS tags; other formats mapped)"),
        ("value", STR, "one item or piece of the field's text"),
    ),
)
FILE_TOKEN_RECORDS = Table(
    "file_token_records",
    (),
    "one export file's records and stray blocks, in file order",
    (
        ("rec", INT, "record number in the file, from 0"),
        ("line", INT, "line the record or block begins on"),
        ("problem", STR, "why it cannot be used (null: usable)"),
        ("excerpt", STR, "its first characters, for the quarantine"),
        ("is_record", BOOL, "a record, not a stray block"),
    ),
)
# Tables keyed by record_id whose rows follow the record's first occurrence.
CHILD_TABLES: tuple[Table, ...] = (AUTHORSHIPS, ADDRESSES, AUTHOR_ADDRESS, FUNDING, REFERENCES)
# The canonical tables held as their parse shards' files, less the superseded occurrences, and
# listed by a manifest (tableio.write_parts_manifest) instead of copied into one file: at
# 2,000,000 records they are 3 GB, and rewriting them took a one-file refresh two minutes.
PART_TABLES: tuple[Table, ...] = (RECORDS, *CHILD_TABLES)

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
        ("record_ids", STR_LIST, "the person's pool papers (work ids: one per paper)"),
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
# What the pool keeps per parse shard (results/private/parts/build_pool/<name>/, owner-only,
# see sampling.stage.build_pool): each pool paper's rows, which depend on that paper alone.
POOL_NODES = Table(
    "pool_nodes",
    ("record_id", "position"),
    "a shard's pool authorships with a linked address in a focal country, their name keys, "
    "linked e-mail, paper year and lead country (personal data)",
    (
        ("record_id", STR, "records.record_id"),
        ("position", INT, "authorships.position"),
        ("address_pos", INT, "the linked address"),
        ("affiliation", STR, "the address as written"),
        ("side", STR, "its country"),
        ("institution_id", STR, "its institution"),
        ("institution_name", STR, "the institution's name"),
        ("link", STR, "c1, reprint or sole_address"),
        ("name", STR, "authorships.name"),
        ("full_name", STR, "authorships.full_name"),
        ("is_corresponding", BOOL, "authorships.is_corresponding"),
        ("orcid", STR, "normalised ORCID"),
        ("researcher_id", STR, "normalised ResearcherID"),
        ("full_key", STR, "full-name key (null for initials only)"),
        ("au_key", STR, "AU-name key"),
        ("email", STR, "linked e-mail"),
        ("email_method", STR, "how it was linked"),
        ("email_confidence", pl.Float64, "how sure the link is"),
        ("year", INT, "records.year"),
        ("lead_country", STR, "the paper's lead side"),
        ("co_keys", STR_LIST, "full-name keys of the paper's other authors (small bylines)"),
    ),
)
POOL_PAPERS = Table(
    "pool_papers",
    ("record_id",),
    "a shard's pool papers with their authorship counts, for the pool's log",
    (
        ("record_id", STR, "records.record_id"),
        ("n_authorships", INT, "authorships"),
        ("n_unlinked", INT, "authorships linked to no address (several C1 addresses)"),
        ("n_emails", INT, "authorships with a linked e-mail"),
    ),
)


# --- Classification and indicators (results/tables/ and results/indicators/) -----------------

F64 = pl.Float64
PAPER_CLASSES = Table(
    "paper_classes",
    ("record_id", "focal"),
    "every work (one per paper across sources) once per focal country (and once for the pair "
    "X+Y): its collaboration class for that country (results/tables/paper_classes.parts.json)",
    (
        ("record_id", STR, "record_works.work_id (= its primary record's record_id)"),
        ("focal", STR, "the focal country (CHN) or the pair (CHN+GBR)"),
        ("scope", STR, "country or pair"),
        ("year", INT, "records.year"),
        ("n_authors", INT, "records.n_authors"),
        ("single_author", BOOL, "exactly one author (reported apart from single-affiliation)"),
        (
            "address_source",
            STR,
            "c1 (C1 affiliations), reprint (no C1: the RP addresses) or none (no address: "
            "flagged, not dropped)",
        ),
        ("n_addresses", INT, "addresses that count (see address_source)"),
        (
            "n_institutions",
            INT,
            "distinct institutions among them (institution id, else organisation and country)",
        ),
        ("countries", STR_LIST, "distinct countries under the policy, sorted"),
        ("n_countries", INT, "number of those countries"),
        ("has_unknown_country", BOOL, "an address whose country could not be resolved"),
        (
            "collab_type",
            STR,
            "domestic-single, domestic-multiple, bilateral, trilateral, quadrilateral+; null "
            "without a known country",
        ),
        ("has_links", BOOL, "C1 author-address links present"),
        ("lead_pos", INT, "addresses.address_pos of the lead affiliation (configured rule)"),
        ("lead_country", STR, "country of the lead affiliation"),
        ("lead_source", STR, "rule that gave the lead: first_author, first_address or reprint"),
        ("lead_fallback", BOOL, "the configured rule had no address and another rule stood in"),
        (
            "leads_disagree",
            BOOL,
            "first author's and reprint (corresponding) address lie in different countries",
        ),
        (
            "participated",
            BOOL,
            "an address in the focal country (pair: in both countries)",
        ),
        (
            "international",
            BOOL,
            "an address outside the focal country (ICP); null when not participated",
        ),
        (
            "category",
            STR,
            "country: icp_x_led, icp_other_led, single_affiliation, domestic_collaboration; "
            "pair: x_led, y_led, other_led; null when not participated",
        ),
        ("led_by", STR, "the lead country when focal (pair: X or Y), else other; null when not"),
        (
            "rests_on_joint_institution",
            BOOL,
            "pair rows: the paper has addresses in both countries only through the address of a "
            "Sino-foreign joint institution (addresses.is_transnational, e.g. UNNC, XJTLU); "
            "without it the paper would not be a pair paper. Null on country rows and when not "
            "participated",
        ),
        ("credit_full", F64, "1 when participated, else 0"),
        (
            "credit_fractional",
            F64,
            "share of the paper's addresses (with a known country) in the focal country (pair: "
            "in either)",
        ),
    ),
)

COUNTRY_CREDIT = Table(
    "country_credit",
    ("record_id", "country"),
    "per work and country: full and fractional (address share) credit "
    "(results/tables/country_credit.parts.json)",
    (
        ("record_id", STR, "record_works.work_id (= its primary record's record_id)"),
        ("country", STR, "country under the policy"),
        ("n_addresses", INT, "the record's addresses there"),
        ("credit_full", F64, "1"),
        ("credit_fractional", F64, "n_addresses over the record's addresses with a country"),
        ("is_lead", BOOL, "the lead affiliation is there (configured rule)"),
    ),
)

LEAD_DISAGREEMENTS = Table(
    "lead_disagreements",
    ("record_id",),
    "works whose lead country differs between two lead rules that both give an address "
    "(results/tables/lead_disagreements.parts.json)",
    (
        ("record_id", STR, "record_works.work_id (= its primary record's record_id)"),
        ("year", INT, "records.year"),
        ("has_links", BOOL, "C1 author-address links present"),
        ("first_author_pos", INT, "first C1 address of the first author"),
        ("first_author_country", STR, "its country"),
        ("first_address_pos", INT, "first C1 address"),
        ("first_address_country", STR, "its country"),
        ("reprint_pos", INT, "first reprint (corresponding) address"),
        ("reprint_country", STR, "its country"),
        ("lead_pos", INT, "the configured rule's lead address (with fallback)"),
        ("lead_country", STR, "its country"),
        ("lead_source", STR, "rule that gave the lead"),
        ("first_author_vs_reprint", BOOL, "first-author and reprint countries differ"),
        ("first_author_vs_first_address", BOOL, "first-author and first-address countries differ"),
        ("first_address_vs_reprint", BOOL, "first-address and reprint countries differ"),
    ),
)

CITATION_LINKS = Table(
    "citation_links",
    ("citing_dataset", "record_id", "ref_pos"),
    "cited references of citing-dataset records linked to records of the dataset they cite "
    "(results/tables/citation_links.parquet)",
    (
        ("citing_dataset", STR, "the citing dataset (classify.citing key)"),
        ("record_id", STR, "the citing work (record_works.work_id)"),
        ("ref_pos", INT, "references.ref_pos"),
        ("cited_dataset", STR, "the cited dataset"),
        ("cited_record_id", STR, "the cited work: a reference matching any of its records"),
        ("link_method", STR, "doi, or link_key (first author, year, volume, first page)"),
    ),
)

HIGHLY_CITED_WORKS = Table(
    "highly_cited_works",
    ("record_id",),
    "the works judged highly cited under classify.highly_cited, as the highly_cited indicator "
    "counts them (results/tables/highly_cited_works.parquet)",
    (
        ("record_id", STR, "the work (record_works.work_id)"),
        (
            "hcp_basis",
            STR,
            "esi (the exported ESI flag) or top_percent (top per cent of its year and category)",
        ),
    ),
)

_SLICE_COLUMNS: tuple[tuple[str, pl.DataType, str], ...] = (
    ("granularity", STR, "year or period"),
    ("period", STR, "the year, or the configured period label"),
    ("first_year", INT, "first publication year of the slice"),
    ("last_year", INT, "last publication year of the slice"),
)
_SLICE = tuple(name for name, _, _ in _SLICE_COLUMNS)
_RANKED = (
    ("records", INT, "records"),
    ("records_fractional", F64, "fractional records (address share)"),
)

INDICATORS: tuple[Table, ...] = (
    Table(
        "outputs",
        ("dataset", "focal", *_SLICE),
        "records of each corpus dataset and of each focal country (pair) in it; world share",
        (
            ("dataset", STR, "corpus dataset"),
            ("focal", STR, "focal country or pair"),
            *_SLICE_COLUMNS,
            ("records", INT, "records of the dataset"),
            ("focal_records", INT, "of them with the focal country (full counting)"),
            ("focal_records_fractional", F64, "fractional counting"),
            ("world_share", F64, "focal_records / records"),
            ("world_share_fractional", F64, "focal_records_fractional / records"),
            ("field_records", INT, "records of the field dataset (classify.field_dataset)"),
            ("field_focal_records", INT, "focal-country records of the field dataset"),
            ("discipline_share", F64, "records / field_records"),
            ("focal_discipline_share", F64, "focal_records / field_focal_records"),
        ),
    ),
    Table(
        "collaboration",
        ("dataset", "focal", *_SLICE),
        "the focal country's papers: ICP (X-led, other-led), non-ICP (single-affiliation, "
        "domestic), single-author; ICP and lead shares, full and fractional",
        (
            ("dataset", STR, "corpus dataset"),
            ("focal", STR, "focal country X"),
            *_SLICE_COLUMNS,
            ("papers", INT, "X-participated papers"),
            ("icp", INT, "internationally collaborated"),
            ("icp_x_led", INT, "ICP with the lead affiliation in X"),
            ("icp_other_led", INT, "ICP led elsewhere"),
            ("non_icp", INT, "all addresses in X"),
            ("single_affiliation", INT, "non-ICP with one institution"),
            ("domestic_collaboration", INT, "non-ICP with two or more institutions"),
            ("single_author", INT, "papers with one author (any class)"),
            ("lead_fallback", INT, "papers whose lead came from a fallback rule"),
            ("papers_fractional", F64, "X's address share summed"),
            ("icp_fractional", F64, "over ICP papers"),
            ("icp_x_led_fractional", F64, "over X-led ICP papers"),
            ("icp_share", F64, "icp / papers"),
            ("lead_share", F64, "icp_x_led / icp"),
            ("icp_share_fractional", F64, "icp_fractional / papers_fractional"),
            ("lead_share_fractional", F64, "icp_x_led_fractional / icp_fractional"),
        ),
    ),
    Table(
        "pair_leads",
        ("dataset", "focal", *_SLICE),
        "papers with addresses in both focal countries: X-led, Y-led, other-led",
        (
            ("dataset", STR, "corpus dataset"),
            ("focal", STR, "the pair X+Y"),
            *_SLICE_COLUMNS,
            ("papers", INT, "papers with addresses in X and Y"),
            ("x_led", INT, "lead affiliation in X"),
            ("y_led", INT, "lead affiliation in Y"),
            ("other_led", INT, "lead elsewhere"),
            ("lead_fallback", INT, "lead from a fallback rule"),
            ("papers_fractional", F64, "X and Y's address share summed"),
            ("x_led_fractional", F64, "over X-led papers"),
            ("y_led_fractional", F64, "over Y-led papers"),
            ("x_led_share", F64, "x_led / papers"),
            ("y_led_share", F64, "y_led / papers"),
            ("other_led_share", F64, "other_led / papers"),
        ),
    ),
    Table(
        "collaboration_types",
        ("dataset", "focal", *_SLICE, "collab_type"),
        "papers by collaboration type, for each focal country and for all papers (focal ALL)",
        (
            ("dataset", STR, "corpus dataset"),
            ("focal", STR, "focal country, or ALL"),
            *_SLICE_COLUMNS,
            ("collab_type", STR, "domestic-single … quadrilateral+, or unknown"),
            ("papers", INT, "papers"),
            ("mean_countries", F64, "mean number of countries"),
            ("share", F64, "of the focal country's papers in the slice"),
        ),
    ),
    Table(
        "partners",
        ("dataset", "focal", *_SLICE, "rank"),
        "top N partner countries of the focal country's ICP papers",
        (
            ("dataset", STR, "corpus dataset"),
            ("focal", STR, "focal country"),
            *_SLICE_COLUMNS,
            ("rank", INT, "1 = most papers (classify.counting; ties by country code)"),
            ("partner", STR, "partner country"),
            *_RANKED,
            ("icp", INT, "the focal country's ICP papers in the slice"),
            ("share_of_icp", F64, "records / icp"),
        ),
    ),
    Table(
        "citing_countries",
        ("dataset", *_SLICE, "rank"),
        "top N countries of the records of each citing dataset, by the citing record's year",
        (
            ("dataset", STR, "citing dataset"),
            *_SLICE_COLUMNS,
            ("rank", INT, "1 = most citing records"),
            ("country", STR, "country of a citing record's address"),
            *_RANKED,
            ("citing_records", INT, "citing records in the slice"),
            ("share", F64, "records / citing_records"),
        ),
    ),
    Table(
        "citing_countries_by_cited",
        ("citing_dataset", "cited_dataset", *_SLICE, "cited_lead", "rank"),
        "top N countries of citing records, by the cited paper's period and lead",
        (
            ("citing_dataset", STR, "citing dataset"),
            ("cited_dataset", STR, "dataset of the cited papers"),
            *_SLICE_COLUMNS,
            ("cited_lead", STR, "lead country of the cited paper (a focal country, other, all)"),
            ("rank", INT, "1 = most citing records"),
            ("country", STR, "country of the citing record"),
            *_RANKED,
            ("citing_records", INT, "distinct citing records of the group"),
            ("share", F64, "records / citing_records"),
        ),
    ),
    Table(
        "highly_cited",
        ("dataset", "focal", *_SLICE),
        "highly cited papers of each focal country (pair): count, rate, led by the country",
        (
            ("dataset", STR, "corpus dataset"),
            ("focal", STR, "focal country or pair"),
            *_SLICE_COLUMNS,
            ("papers", INT, "focal-country papers"),
            ("hcp", INT, "highly cited among them"),
            ("hcp_led", INT, "highly cited and led by the focal country (pair: by X)"),
            ("basis_esi", INT, "papers judged by the exported ESI flag"),
            ("basis_top_percent", INT, "papers judged by the top per cent by times cited"),
            ("hcp_rate", F64, "hcp / papers"),
            ("hcp_led_share", F64, "hcp_led / hcp"),
            ("basis", STR, "in words, which basis was used"),
        ),
    ),
    Table(
        "funders",
        ("dataset", *_SLICE, "rank"),
        "top N normalised funders of each dataset",
        (
            ("dataset", STR, "dataset"),
            *_SLICE_COLUMNS,
            ("rank", INT, "1 = most records (ties by funder id)"),
            ("funder_id", STR, "registry id"),
            ("funder_name", STR, "registry name"),
            ("funder_country", STR, "funder's country"),
            ("records", INT, "records acknowledging the funder"),
            ("dataset_records", INT, "records of the dataset in the slice"),
            ("share", F64, "records / dataset_records"),
        ),
    ),
    Table(
        "funding_sources",
        ("dataset", *_SLICE),
        "records funded by X's agencies, Y's, both, others only, none",
        (
            ("dataset", STR, "dataset"),
            *_SLICE_COLUMNS,
            ("x", STR, "focal country X"),
            ("y", STR, "focal country Y (null for one focal country)"),
            ("records", INT, "records"),
            ("funded", INT, "acknowledging any funder"),
            ("by_x", INT, "a funder of X"),
            ("by_y", INT, "a funder of Y"),
            ("by_both", INT, "funders of X and Y (jointly funded)"),
            ("by_x_only", INT, "X's and not Y's"),
            ("by_y_only", INT, "Y's and not X's"),
            ("by_others_only", INT, "funded, by neither X's nor Y's (or unmatched) funders"),
            ("unfunded", INT, "no funder acknowledged"),
            ("with_unmatched_funder", INT, "a funder not in the registry"),
            ("funded_share", F64, "funded / records"),
            ("by_x_share", F64, "by_x / records"),
            ("by_y_share", F64, "by_y / records"),
            ("by_both_share", F64, "by_both / records"),
            ("by_others_only_share", F64, "by_others_only / records"),
            ("unfunded_share", F64, "unfunded / records"),
        ),
    ),
    Table(
        "lead_rules",
        ("dataset", *_SLICE),
        "lead-rule quality: fallbacks and disagreements between the rules",
        (
            ("dataset", STR, "dataset"),
            *_SLICE_COLUMNS,
            ("records", INT, "records"),
            ("no_address", INT, "records without any address"),
            ("reprint_only", INT, "records classified by their reprint address"),
            ("with_author_links", INT, "records with C1 author links"),
            ("lead_fallback", INT, "records whose lead came from a fallback rule"),
            ("first_author_vs_reprint", INT, "first-author and reprint countries differ"),
            ("first_author_vs_first_address", INT, "first-author and first-C1 countries differ"),
            ("first_address_vs_reprint", INT, "first-C1 and reprint countries differ"),
            ("lead_fallback_share", F64, "lead_fallback / records"),
        ),
    ),
)
INDICATOR_BY_NAME = {table.name: table for table in INDICATORS}
# The report's store of each shard's classes under the other country policies
# (results/parts/report/policy_classes/, see report.indicator_sections.policy_classes_section).
POLICY_CLASSES = Table(
    "policy_classes",
    ("uk_nations", "hong_kong_macau_taiwan", "record_id", "focal"),
    "each record that another country policy could classify otherwise, classified under it",
    (
        ("uk_nations", STR, "the other policy's uk_nations"),
        ("hong_kong_macau_taiwan", STR, "… and hong_kong_macau_taiwan"),
        ("record_id", STR, "records.record_id"),
        ("focal", STR, "paper_classes.focal"),
        ("participated", BOOL, "paper_classes.participated under that policy"),
        ("category", STR, "paper_classes.category under that policy"),
    ),
)

# The report's store of each shard's papers changing class under the other policies
# (results/parts/report/policy_classes/changes/): POLICY_CLASSES against the classes in use.
POLICY_CHANGES = Table(
    "policy_changes",
    ("uk_nations", "hong_kong_macau_taiwan", "focal"),
    "a shard's records changing class under another country policy, by focal country",
    (
        ("uk_nations", STR, "the other policy's uk_nations"),
        ("hong_kong_macau_taiwan", STR, "… and hong_kong_macau_taiwan"),
        ("focal", STR, "paper_classes.focal"),
        ("changed", INT, "records whose category or participation differs"),
        ("joined", INT, "of which participate under the other policy only"),
        ("left", INT, "of which participate under the policy in use only"),
    ),
)

# Per-shard tallies (collabscope.parts.tally_shards): counts of a shard's kept rows, added up
# over shards by the stage that keeps them (a kept record lives in one shard, so distinct
# record counts add up too).
# The report's (results/parts/report/tallies/, see report.tallies): rows and distinct records
# of the normalised addresses and funding entries by one or two keys of each tally.
REPORT_TALLY = Table(
    "report_tally",
    ("tally", "a", "b"),
    "a shard's rows and distinct records by the keys a and b of each tally",
    (
        ("tally", STR, "which count (see report.tallies.address_tallies)"),
        ("a", STR, "first key"),
        ("b", STR, "second key (null when the tally has one)"),
        ("rows", INT, "rows"),
        ("records", INT, "distinct records"),
    ),
)
# The report's records per dataset and publication year (results/parts/report/record_years/).
RECORD_YEARS = Table(
    "record_years",
    ("dataset", "year"),
    "a shard's records per dataset and publication year (null: none)",
    (
        ("dataset", STR, "dataset"),
        ("year", INT, "records.year"),
        ("records", INT, "records"),
    ),
)
# The affiliation review queues' (results/parts/normalised_addresses/review_*/, see
# normalise.institutions.review_tallies): a group is a queue (unmatched or low_confidence),
# the organisation's normal form, the recorded country and, for low confidence, the
# institution matched.
_REVIEW_GROUP = (
    ("queue", STR, "unmatched or low_confidence"),
    ("okey", STR, "the organisation's normal form"),
    ("country_recorded", STR, "addresses.country_recorded"),
    ("institution_id", STR, "the institution matched (null in unmatched)"),
)
REVIEW_SPELLINGS = Table(
    "review_spellings",
    ("queue", "okey", "country_recorded", "institution_id", "organisation"),
    "a shard's addresses in a review queue by group and spelling",
    (*_REVIEW_GROUP, ("organisation", STR, "spelling"), ("n", INT, "addresses")),
)
REVIEW_COUNTS = Table(
    "review_counts",
    ("queue", "okey", "country_recorded", "institution_id"),
    "a shard's counts of each review group",
    (
        *_REVIEW_GROUP,
        ("n_records", INT, "distinct records"),
        ("n_addresses", INT, "addresses"),
        ("example_raw", STR, "the first raw address in sort order"),
        ("institution_name", STR, "the institution's name"),
        ("score", F64, "lowest match score"),
    ),
)
# Addresses by match method, for the normalisation log (results/parts/normalised_addresses/
# address_methods/).
ADDRESS_METHODS = Table(
    "address_methods",
    ("country_method", "institution_method"),
    "a shard's addresses by match method",
    (
        ("country_method", STR, "addresses.country_method"),
        ("institution_method", STR, "addresses.institution_method"),
        ("rows", INT, "addresses"),
    ),
)


# The indicators' partial counts (results/parts/compute_indicators/<name>/, see
# classify.indicators): each indicator's counts by year, which add up over parse shards and over
# the years of a period. Columns named *_fractional hold credits summed as integers in
# 1e-12 units (classify.indicators.CREDIT_UNIT), so that a sum does not depend on its order.
def _partial_counts(
    name: str, keys: tuple[str, ...], counts: tuple[str, ...], holds: str, strings: tuple = ()
) -> Table:
    meanings = {
        "dataset": "dataset",
        "focal": "focal country, the pair, or ALL",
        "year": "publication year",
        "collab_type": "paper_classes.collab_type (unknown: none)",
        "partner": "partner country (null: the ICP papers, the denominator)",
        "country": "country of the citing record (null: the citing records, the denominator)",
        "funder_id": "funder (null: the dataset's records, the denominator)",
    }
    columns = [(key, INT if key == "year" else STR, meanings[key]) for key in keys]
    columns += list(strings)
    columns += [(count, INT, "sum for the key") for count in counts]
    return Table(f"{name}_counts", keys, holds, tuple(columns))


_FOCAL_YEAR = ("dataset", "focal", "year")
INDICATOR_PARTIALS: tuple[Table, ...] = (
    _partial_counts(
        "outputs",
        _FOCAL_YEAR,
        ("records", "focal_records", "focal_records_fractional"),
        "a shard's records and focal-country records",
    ),
    _partial_counts(
        "collaboration",
        _FOCAL_YEAR,
        (
            "papers",
            "icp",
            "icp_x_led",
            "icp_other_led",
            "non_icp",
            "single_affiliation",
            "domestic_collaboration",
            "single_author",
            "lead_fallback",
            "papers_fractional",
            "icp_fractional",
            "icp_x_led_fractional",
        ),
        "a shard's focal-country papers by category",
    ),
    _partial_counts(
        "pair_leads",
        _FOCAL_YEAR,
        (
            "papers",
            "x_led",
            "y_led",
            "other_led",
            "lead_fallback",
            "papers_fractional",
            "x_led_fractional",
            "y_led_fractional",
        ),
        "a shard's pair papers by lead",
    ),
    _partial_counts(
        "collaboration_types",
        (*_FOCAL_YEAR, "collab_type"),
        ("papers", "n_countries_sum", "n_countries_known"),
        "a shard's papers by collaboration type, with their number of countries summed",
    ),
    _partial_counts(
        "partners",
        (*_FOCAL_YEAR, "partner"),
        ("records", "records_fractional"),
        "a shard's ICP papers by partner country",
    ),
    _partial_counts(
        "citing_countries",
        ("dataset", "year", "country"),
        ("records", "records_fractional"),
        "a shard's citing records by country",
    ),
    _partial_counts(
        "highly_cited",
        _FOCAL_YEAR,
        ("papers", "basis_esi", "basis_top_percent"),
        "a shard's focal-country papers by the basis on which they are judged highly cited "
        "(which papers are highly cited is judged over the corpus: its top per cent)",
    ),
    _partial_counts(
        "funders",
        ("dataset", "year", "funder_id"),
        ("records",),
        "a shard's records acknowledging each funder matched to the registry",
        strings=(
            ("funder_name", STR, "the funder's name in the registry"),
            ("funder_country", STR, "its country"),
        ),
    ),
    _partial_counts(
        "funding_sources",
        ("dataset", "year"),
        (
            "records",
            "funded",
            "by_x",
            "by_y",
            "by_both",
            "by_x_only",
            "by_y_only",
            "by_others_only",
            "unfunded",
            "with_unmatched_funder",
        ),
        "a shard's records by the countries of their funders",
    ),
    _partial_counts(
        "lead_rules",
        ("dataset", "year"),
        (
            "records",
            "no_address",
            "reprint_only",
            "with_author_links",
            "lead_fallback",
            "first_author_vs_reprint",
            "first_author_vs_first_address",
            "first_address_vs_reprint",
        ),
        "a shard's records by how their lead was found and whether the lead rules agree",
    ),
)
INDICATOR_PARTIAL_BY_NAME = {
    table.name.removesuffix("_counts"): table for table in INDICATOR_PARTIALS
}

# Classification's tables, computed per parse shard and held as parts like the record tables
# (collabscope.classify.stage.classify_papers), the largest last.
CLASS_PART_TABLES: tuple[Table, ...] = (COUNTRY_CREDIT, LEAD_DISAGREEMENTS, PAPER_CLASSES)

CLASSIFIED_TABLES: tuple[Table, ...] = (
    PAPER_CLASSES,
    COUNTRY_CREDIT,
    LEAD_DISAGREEMENTS,
    CITATION_LINKS,
    HIGHLY_CITED_WORKS,
)


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
        "`records` and the tables keyed by its record_id (`authorships`, `addresses`,",
        "`author_address`, `funding`, `references`) are not copied into one file: they are the",
        "parse shards' files under `results/shards/`, listed by",
        "`results/tables/<name>.parts.json`,",
        "less the occurrences listed in `superseded` (duplicates of a record another shard holds",
        "first). Read one as a single table with",
        '`collabscope.tableio.scan_table("results/tables/records.parts.json", schemas.RECORDS)`;',
        "`.collect()` it, or `.sink_parquet(...)` it to one file. Each part is sorted by the key.",
        "",
        "The merge tables `record_works`, `work_fields` and `works` are manifests too",
        "(`results/tables/<name>.parts.json`, read the same way): with one source in the corpus",
        "every record is its own work, and they hold one part per shard, kept in",
        "`results/parts/merge_works/` and computed again only when its shard changes; with",
        "several sources, one part for the whole corpus. Rows of superseded records are left",
        "out by `record_id` (by `work_id` in `works`). `merge_accounting` is one file.",
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
        "Under `results/normalised/`: a canonical table with the normalisation stage's columns",
        "added (the canonical columns are as above). `addresses.parts.json` and",
        "`funding.parts.json` list one part per shard, kept in `results/parts/` and computed",
        "again only when its shard or the normalisation's inputs change; read them with",
        "`collabscope.tableio.scan_table(path, schemas.ADDRESSES_NORMALISED)` (or",
        "`FUNDING_NORMALISED`).",
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
    lines += _classified_markdown()
    lines += _qualitative_markdown()
    lines += _changes_markdown()
    return "\n".join(lines)


def _classified_markdown() -> list[str]:
    lines = [
        "# Classification and indicators",
        "",
        "`paper_classes`, `country_credit`, `lead_disagreements` and `citation_links` are",
        "written to `results/tables/`; each indicator to `results/indicators/<name>.parquet`",
        "and `.csv`, sliced per year (`granularity` year) and per configured period.",
        "",
    ]
    for table in (*CLASSIFIED_TABLES, *INDICATORS):
        lines += _table_markdown(table, table.name)
    return lines


def _table_markdown(table: Table, title: str) -> list[str]:
    """A table's section of docs/tables.md: its key, what it holds, every column."""
    lines = [
        f"## `{title}`",
        "",
        f"Key: {', '.join(table.key)}. Holds {table.holds}.",
        "",
        "| column | type | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | {dtype} | {meaning} |" for name, dtype, meaning in table.columns]
    return [*lines, ""]


# --- qualitative strand (issue 9): results/qualitative/ ----------------------------------------
DATE = pl.Date
QUALITATIVE_TABLES: tuple[Table, ...] = (
    Table(
        "participants",
        ("participant",),
        "one row per participant of the qualitative strand, by code only (names and e-mails of "
        "the participants sheet are dropped on reading)",
        (
            ("participant", STR, "participant code (a sampling code such as UK-R1, or another)"),
            ("stratum", STR, "stratum of the draw; '(outside the pool)' when recruited otherwise"),
            ("role", STR, "role as recorded (dean, professor, …)"),
            ("country", STR, "country as recorded (ISO 3166 alpha-3 where given so)"),
            ("mode", STR, "face-to-face, e-mail, wechat, online form, telephone or video call"),
            ("invited", DATE, "date invited"),
            ("answered", DATE, "date answered (null: no answer)"),
            ("response_days", INT, "answered - invited, in days"),
            ("from_pool", BOOL, "the code is one of the draw's (results/sampling/summary.csv)"),
            ("drawn_as", STR, "invitee or reserve (null outside the pool)"),
            ("respondent", BOOL, "answered, or has coded segments"),
            ("segments", INT, "coded segments"),
        ),
    ),
    Table(
        "segments",
        ("segment_id",),
        "every coded segment of the CSV/XLSX sheets and REFI-QDA projects, with its theme",
        (
            ("segment_id", STR, "file:line for sheets; selection guid/code guid for .qdpx"),
            ("file", STR, "coded-data file as configured"),
            ("location", STR, "line N, or the TextSource and character range"),
            ("participant", STR, "participant code"),
            ("stratum", STR, "the participant's stratum"),
            ("role", STR, "the participant's role"),
            ("country", STR, "the participant's country"),
            ("question", STR, "question or item (sheets; null for .qdpx)"),
            ("theme", STR, "top-level code above the segment's code"),
            ("code", STR, "code applied"),
            ("path", STR, "Theme > … > code"),
            ("excerpt", STR, "the coded text, white space collapsed"),
        ),
    ),
    Table(
        "codebook",
        ("path",),
        "the code hierarchy with segment and participant counts (a code's counts include the "
        "codes under it; a theme's are its whole branch)",
        (
            ("theme", STR, "top-level code"),
            ("path", STR, "Theme > … > code"),
            ("code", STR, "code"),
            ("parent", STR, "parent code (null for a theme)"),
            ("level", INT, "0 for a theme, 1 under it, …"),
            ("is_theme", BOOL, "top-level code"),
            ("segments", INT, "segments coded with the code or a code under it"),
            ("direct_segments", INT, "segments coded with the code itself"),
            ("participants", INT, "distinct participants among those segments"),
        ),
    ),
    Table(
        "theme_matrix",
        ("dimension", "group", "theme"),
        "respondents mentioning each theme by stratum, by role and by country",
        (
            ("dimension", STR, "stratum, role or country"),
            ("group", STR, "the stratum, role or country"),
            ("theme", STR, "theme"),
            ("respondents", INT, "respondents in the group"),
            ("participants", INT, "of them with a segment of the theme"),
            ("share", F64, "participants / respondents"),
            ("segments", INT, "segments of the theme in the group"),
        ),
    ),
    Table(
        "respondents",
        ("role", "country"),
        "the sample description: participants and respondents by role and country",
        (
            ("role", STR, "role"),
            ("country", STR, "country"),
            ("participants", INT, "participants listed"),
            ("respondents", INT, "of them respondents"),
        ),
    ),
    Table(
        "response_times",
        ("mode",),
        "response by mode: invited, answered, response rate, days to answer",
        (
            ("mode", STR, "mode, or '(not recorded)'"),
            ("participants", INT, "participants listed"),
            ("invited", INT, "with an invitation date"),
            ("answered", INT, "of them with an answer date"),
            ("respondents", INT, "respondents (answered or coded)"),
            ("median_days", F64, "median days from invitation to answer"),
            ("mean_days", F64, "mean days"),
            ("min_days", INT, "fewest days"),
            ("max_days", INT, "most days"),
            ("response_rate", F64, "answered / invited"),
        ),
    ),
    Table(
        "quotes",
        ("theme", "rank"),
        "representative quotes per theme, one per participant, spread over strata, attributed "
        "by code, role and country only",
        (
            ("theme", STR, "theme"),
            ("rank", INT, "1 = shown first"),
            ("participant", STR, "participant code"),
            ("role", STR, "role"),
            ("country", STR, "country"),
            ("stratum", STR, "stratum"),
            ("code", STR, "code of the segment"),
            ("excerpt", STR, "the quote"),
            ("segment_id", STR, "its segment"),
            ("attribution", STR, "code, role, country (country name where known)"),
        ),
    ),
    Table(
        "joint_display",
        ("order",),
        "per stratum: the indicators of its country beside the themes its participants raised",
        (
            ("order", INT, "row order: the draw's strata, then participants outside it"),
            ("stratum", STR, "stratum"),
            ("country", STR, "the stratum's country (null outside the draw)"),
            ("definition", STR, "country and tier condition of the stratum"),
            ("participants", INT, "participants listed"),
            ("respondents", INT, "respondents"),
            ("icp_share_dataset", STR, "dataset of the country's ICP and lead shares"),
            ("icp_share_first", F64, "the country's ICP share, first period"),
            ("icp_share_last", F64, "last period"),
            ("icp_share_trend", STR, "ICP share per period"),
            ("lead_share_dataset", STR, "dataset (as icp_share_dataset)"),
            ("lead_share_first", F64, "share of the country's ICP papers it leads, first period"),
            ("lead_share_last", F64, "last period"),
            ("lead_share_trend", STR, "lead share per period"),
            ("pair_lead_share_dataset", STR, "dataset of the pair's papers"),
            ("pair_lead_share_first", F64, "share of the pair's papers the country leads, first"),
            ("pair_lead_share_last", F64, "last period"),
            ("pair_lead_share_trend", STR, "per period"),
            ("funders_period", STR, "period of top_funders (the latest)"),
            ("top_funders", STR, "the country's leading funders: records and share"),
            ("n_themes", INT, "themes raised"),
            ("themes", STR, "themes raised: participants mentioning / respondents"),
        ),
    ),
    Table(
        "findings_quantitative",
        ("order",),
        "summary of findings, quantitative strand: headline figures, first and last period",
        (
            ("order", INT, "row order"),
            ("measure", STR, "what is measured"),
            ("unit", STR, "count or share"),
            ("dataset", STR, "dataset it is measured in"),
            ("first_period", STR, "first period with a value"),
            ("first_value", F64, "its value"),
            ("last_period", STR, "last period"),
            ("last_value", F64, "its value"),
            ("change", F64, "last - first"),
        ),
    ),
    Table(
        "findings_qualitative",
        ("order",),
        "summary of findings, qualitative strand: per theme, who raised it and where",
        (
            ("order", INT, "row order: most participants first"),
            ("theme", STR, "theme"),
            ("participants", INT, "participants raising it"),
            ("respondents", INT, "all respondents"),
            ("share", F64, "participants / respondents"),
            ("segments", INT, "segments"),
            ("by_stratum", STR, "per stratum: mentioning/respondents"),
            ("main_codes", STR, "its most used codes (segments)"),
            ("example_from", STR, "attribution of its first quote"),
        ),
    ),
)
QUALITATIVE_BY_NAME = {table.name: table for table in QUALITATIVE_TABLES}


def _qualitative_markdown() -> list[str]:
    lines = [
        "# Qualitative strand",
        "",
        "Written to `results/qualitative/<name>.parquet` and `.csv` when the config has a",
        "`qualitative` section (participants sheet and coded segments).",
        "",
    ]
    for table in QUALITATIVE_TABLES:
        lines += _table_markdown(table, f"qualitative/{table.name}")
    return lines


# --- What changed since the previous run (issue 7; collabscope.changes) ---------------------
SNAPSHOT_FILES = Table(
    "snapshot_files",
    ("file",),
    "one run's export files (results/changes/state/, kept for the next run to compare with)",
    (
        ("file", STR, "accounting.file"),
        ("sha256", STR, "accounting.sha256"),
        ("records_seen", INT, "accounting.records_seen"),
    ),
)
SNAPSHOT_RECORDS = Table(
    "snapshot_records",
    ("record_id",),
    "one run's records with a digest of their content",
    (
        ("record_id", STR, "records.record_id"),
        ("source_file", STR, "records.source_file"),
        (
            "content_hash",
            pl.UInt64,
            "digest of the record's fields (all but source_file and source_line), authors and "
            "addresses; comparable between runs of the same polars version",
        ),
    ),
)
SNAPSHOT_INDICATORS = Table(
    "snapshot_indicators",
    ("indicator", "subject", "measure"),
    "one run's indicator values, one number a row",
    (
        ("indicator", STR, "indicator table (results/indicators/<name>.parquet)"),
        ("subject", STR, "the row's key values joined by ' | ' (dataset | focal | slice)"),
        ("measure", STR, "the numeric column"),
        ("value", F64, "its value"),
    ),
)
CHANGES = Table(
    "changes",
    ("change", "subject", "measure"),
    "what changed since the previous run that built different data "
    "(results/changes/changes.parquet)",
    (
        (
            "change",
            STR,
            "first_run, total, file_added, file_removed, file_changed, record_added, "
            "record_removed, record_changed, indicator_added, indicator_removed, "
            "indicator_changed; content_not_compared when the previous snapshot's hashes came "
            "from another polars version",
        ),
        (
            "subject",
            STR,
            "files or records (first_run, total), the file, the record id, or "
            "the indicator row (indicator | dataset | focal | slice)",
        ),
        ("measure", STR, "the indicator's numeric column; '' for the other changes"),
        ("before", F64, "previous value (total: count; file: records seen; indicator: value)"),
        ("after", F64, "current value"),
        ("detail", STR, "a record's export file; a file's previous and current sha256"),
    ),
)
CHANGE_TABLES: tuple[Table, ...] = (CHANGES, SNAPSHOT_FILES, SNAPSHOT_RECORDS, SNAPSHOT_INDICATORS)


def _changes_markdown() -> list[str]:
    lines = [
        "# What changed since the previous run",
        "",
        "`results/changes/changes.parquet`, shown in the report; the snapshots it compares are",
        "kept under `results/changes/state/` (see `collabscope.changes`).",
        "",
    ]
    for table in CHANGE_TABLES:
        lines += [f"## `{table.name}`", "", f"Key: {', '.join(table.key)}. Holds {table.holds}."]
        lines += ["", "| column | type | meaning |", "|---|---|---|"]
        lines += [f"| `{name}` | {dtype} | {meaning} |" for name, dtype, meaning in table.columns]
        lines.append("")
    return lines


if __name__ == "__main__":
    sys.stdout.write(markdown())
