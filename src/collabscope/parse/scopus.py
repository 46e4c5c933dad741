"""Scopus CSV exports as field items, in the tags the shared builder reads (see wos_items).

Each row becomes the items of one record: EID as the record id (UT), the byline (AU, with AF
from "Author full names" where exported), the affiliations as C1 items carrying the names of
the authors at each one (from "Authors with affiliations"), the correspondence address as an
RP group, "Funding Details" as FU entries with their grant numbers, references as CR items,
and every other column kept under its own name (records.extra_fields).

Real exports vary: UTF-8 with or without a byte-order mark; column sets of different export
dates ("Author full names" since 2021, "Funding Text 1..n" before "Funding Texts"); author
lists separated by ';' (recent) or ',' (older: 'Phillips J.C., Braun R.'); and files where
later rows carry more "Funding Text" columns than the header names (rows appended from a newer
export). Such rows are realigned only when the EID and Source columns then hold an EID and
'Scopus'; any other row whose length differs from the header is quarantined with its line.

The CSV is split into rows by Python's csv module (it knows quoted line breaks and gives the
line each row starts on); everything after that is polars expressions over the file.
"""

from __future__ import annotations

import csv
import io
import re

import polars as pl

from collabscope.parse.text import split_list
from collabscope.parse.wos_items import _EXCERPT, ITEMS_SCHEMA, META_SCHEMA, FileItems

_EID = r"^2-s2\.0-\d+$"
_FUNDING_TEXT = re.compile(r"^Funding Text(?:s| \d+)$")
# column -> tag, read as one text each
_TEXT_COLUMNS = {
    "Title": "TI",
    "Year": "PY",
    "Source title": "SO",
    "Volume": "VL",
    "Issue": "IS",
    "Art. No.": "AR",
    "Page start": "BP",
    "Page end": "EP",
    "Cited by": "TC",
    "DOI": "DI",
    "Abstract": "AB",
    "Author Keywords": "DE",
    "Index Keywords": "ID",
    "Publisher": "PU",
    "ISSN": "SN",
    "PubMed ID": "PM",
    "Language of Original Document": "LA",
    "Abbreviated Source Title": "J9",
    "Document Type": "DT",
    "Open Access": "OA",
    "EID": "UT",
}
# Columns read into other tags (or only used to build them).
_BUILT_FROM = {
    "Authors",
    "Author full names",
    "Affiliations",
    "Authors with affiliations",
    "Correspondence Address",
    "Funding Details",
    "References",
}
# Separators that no export contains, used to split while keeping what precedes them.
_BREAK = "\uffff"
# 'Flood E.L.', 'Chen-Lim M.-L.', 'Van der Berg J.' -> 'Flood, E.L.': the surname then the
# initials, as WoS writes AU, so that names in other fields resolve to byline positions.
_SURNAME_INITIALS = r"^(\S.*?)\s+((?:\p{Lu}\.?[\s-]*)+\.?)$"
# 'E.L. Flood' (correspondence address) -> 'Flood, E.L.'
_INITIALS_SURNAME = r"^((?:\p{Lu}\.[\s-]*)+)\s*(\S.*)$"


def read_rows(lines: list[str]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(line, fields), …]) of a CSV file's lines; blank rows are skipped."""
    reader = csv.reader(io.StringIO("\n".join(lines)), strict=False)
    header: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    line = 1
    for fields in reader:
        if not header:
            header = [c.strip().lstrip("\ufeff").strip() for c in fields]
        elif any(f.strip() for f in fields):
            rows.append((line, fields))
        line = reader.line_num + 1
    return header, rows


def _realign(header: list[str], fields: list[str]) -> list[str] | None:
    """A row with more fields than the header, when the extra ones are more funding texts."""
    extra = len(fields) - len(header)
    texts = [i for i, c in enumerate(header) if _FUNDING_TEXT.match(c)]
    if extra <= 0 or not texts or "EID" not in header:
        return None
    last = texts[-1]
    joined = " ".join(f.strip() for f in fields[last : last + 1 + extra] if f.strip())
    merged = [*fields[:last], joined, *fields[last + 1 + extra :]]
    eid = merged[header.index("EID")].strip()
    source_ok = "Source" not in header or merged[header.index("Source")].strip() == "Scopus"
    if re.match(_EID, eid) and source_ok:
        return merged
    return None


def scopus_items(lines: list[str], first_rec: int = 0) -> FileItems:
    """Items of a Scopus CSV export; records are numbered from ``first_rec``."""
    header, rows = read_rows(lines)
    names = _unique_names(header)
    good: list[list[str]] = []
    meta: dict[str, list] = {name: [] for name in META_SCHEMA.names()}
    for offset, (line, fields) in enumerate(rows):
        problem = None
        if len(fields) != len(header):
            realigned = _realign(header, fields)
            if realigned is None:
                problem = f"row has {len(fields)} fields, the header has {len(header)}"
            else:
                fields = realigned
        meta["rec"].append(first_rec + offset)
        meta["line"].append(line)
        meta["problem"].append(problem)
        meta["excerpt"].append(",".join(fields)[:_EXCERPT])
        meta["is_record"].append(True)
        good.append(fields if problem is None else [""] * len(header))
    meta_frame = pl.DataFrame(meta, schema=META_SCHEMA)
    table = pl.DataFrame(
        {name: [row[i] for row in good] for i, name in enumerate(names)}
        if good
        else {name: [] for name in names},
        schema=dict.fromkeys(names, pl.String),
    ).with_columns(rec=pl.int_range(pl.len(), dtype=pl.Int64) + first_rec)
    table = table.filter(
        pl.col("rec").is_in(meta_frame.filter(pl.col("problem").is_null())["rec"].implode())
    )
    no_eid = _no_eid(table)
    meta_frame = meta_frame.with_columns(
        problem=pl.when(pl.col("rec").is_in(no_eid.implode()))
        .then(pl.lit("no EID (the Scopus record id): cannot identify it"))
        .otherwise(pl.col("problem"))
    )
    return FileItems(meta_frame, _items(table.filter(~pl.col("rec").is_in(no_eid.implode()))))


def _unique_names(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for name in header:
        name = name or "column"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


def _no_eid(table: pl.DataFrame) -> pl.Series:
    if "EID" not in table.columns:
        return table["rec"]
    return table.filter(~pl.col("EID").str.strip_chars().str.contains(_EID))["rec"]


def _column(table: pl.DataFrame, name: str) -> pl.Expr:
    if name in table.columns:
        return pl.col(name).str.strip_chars()
    return pl.lit(None, dtype=pl.String)


def _items(table: pl.DataFrame) -> pl.DataFrame:
    parts: list[pl.DataFrame] = []

    def add(frame: pl.DataFrame) -> None:
        parts.append(
            frame.select("rec", "tag", "value").filter(pl.col("value").str.len_bytes() > 0)
        )

    for column, tag in _TEXT_COLUMNS.items():
        if column in table.columns:
            add(table.select("rec", tag=pl.lit(tag), value=_column(table, column)))
    funding_texts = [c for c in table.columns if _FUNDING_TEXT.match(c)]
    if funding_texts:
        add(
            table.select(
                "rec",
                tag=pl.lit("FX"),
                value=pl.concat_str(
                    [_column(table, c) for c in funding_texts], separator=" ", ignore_nulls=True
                ).str.strip_chars(),
            )
        )
    modelled = {*_TEXT_COLUMNS, *_BUILT_FROM, *funding_texts}
    for column in table.columns:
        if column not in modelled and column != "rec":
            add(table.select("rec", tag=pl.lit(column), value=_column(table, column)))

    authors = _authors(table)
    add(authors.select("rec", tag=pl.lit("AU"), value="name"))
    add(authors.drop_nulls("full_name").select("rec", tag=pl.lit("AF"), value="full_name"))
    add(_affiliations(table, authors))
    add(_correspondence(table))
    add(_funding(table))
    refs = table.select("rec", value=split_list(_column(table, "References"))).explode("value")
    add(refs.drop_nulls("value").with_columns(tag=pl.lit("CR")))
    if not parts:
        return pl.DataFrame(schema=ITEMS_SCHEMA)
    return pl.concat(parts).cast(dict(ITEMS_SCHEMA)).sort("rec", maintain_order=True)


def wos_style_name(name: pl.Expr) -> pl.Expr:
    """'Flood E.L.' -> 'Flood, E.L.'; names already with a comma are kept."""
    parts = name.str.extract_groups(_SURNAME_INITIALS)
    return (
        pl.when(name.str.contains(",", literal=True))
        .then(name)
        .when(parts.struct[0].is_not_null())
        .then(pl.concat_str([parts.struct[0], parts.struct[1].str.strip_chars()], separator=", "))
        .otherwise(name)
    )


def _authors(table: pl.DataFrame) -> pl.DataFrame:
    """(rec, position, name, full_name, scopus_id) in byline order."""
    text = _column(table, "Authors")
    # '[No author name available]' is Scopus's way of writing an empty byline.
    text = pl.when(text.str.contains(r"^\[No author")).then(None).otherwise(text)
    # Recent exports separate names with ';', older ones with ',' after the initials
    # ('Phillips J.C., Braun R.' and 'Yu, X., Xing, S.').
    listed = (
        pl.when(text.str.contains(";", literal=True))
        .then(text)
        .otherwise(text.str.replace_all(r"\.,\s+", "." + _BREAK))
    )
    names = (
        table.select("rec", name=split_list(listed.str.replace_all(_BREAK, ";", literal=True)))
        .explode("name")
        .drop_nulls("name")
        .with_columns(position=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("rec"))
        .with_columns(name=wos_style_name(pl.col("name")))
    )
    full = (
        table.select("rec", full=split_list(_column(table, "Author full names")))
        .explode("full")
        .drop_nulls("full")
        .with_columns(position=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("rec"))
        .select(
            "rec",
            "position",
            full_name=pl.col("full").str.replace(r"\s*\(\d+\)\s*$", "").str.strip_chars(),
        )
    )
    return names.join(full, on=["rec", "position"], how="left").sort("rec", "position")


def _affiliations(table: pl.DataFrame, authors: pl.DataFrame) -> pl.DataFrame:
    """C1 items '[Name; Name] affiliation', affiliations in the order of "Affiliations".

    An author is at an affiliation when their entry in "Authors with affiliations" (which
    begins with their name) contains it. Without "Affiliations", the entries' text after the
    name is the affiliation.
    """
    affiliations = (
        table.select("rec", affiliation=split_list(_column(table, "Affiliations")))
        .explode("affiliation")
        .drop_nulls("affiliation")
        .filter(~pl.col("affiliation").str.contains(r"^\[No affiliation"))
        .unique(["rec", "affiliation"], keep="first", maintain_order=True)
        .with_columns(order=pl.int_range(pl.len()).over("rec"))
    )
    entries = (
        table.select("rec", entry=split_list(_column(table, "Authors with affiliations")))
        .explode("entry")
        .drop_nulls("entry")
        .with_columns(entry_pos=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("rec"))
    )
    # Entry i is author i when the counts agree (names can repeat); otherwise the author
    # whose name the entry begins with.
    n_authors = authors.group_by("rec").agg(n=pl.len())
    n_entries = entries.group_by("rec").agg(m=pl.len())
    entries = entries.join(n_authors, on="rec", how="left").join(n_entries, on="rec")
    aligned = entries.filter(pl.col("n") == pl.col("m")).join(
        authors.select("rec", entry_pos="position", name="name"), on=["rec", "entry_pos"]
    )
    by_name = (
        entries.filter(pl.col("n").fill_null(0) != pl.col("m"))
        .join(
            authors.select("rec", "name", raw_name=pl.col("name").str.replace(", ", " ")), on="rec"
        )
        .filter(
            pl.col("entry").str.starts_with(pl.col("raw_name") + ",")
            | pl.col("entry").str.starts_with(pl.col("name") + ",")
        )
        .unique(["rec", "entry_pos"], keep="first", maintain_order=True)
    )
    linked = pl.concat(
        [aligned.select("rec", "entry", "name"), by_name.select("rec", "entry", "name")]
    )
    at = (
        linked.join(affiliations, on="rec")
        .filter(pl.col("entry").str.contains(pl.col("affiliation"), literal=True))
        .group_by("rec", "order", "affiliation", maintain_order=True)
        .agg(pl.col("name").unique(maintain_order=True))
    )
    c1 = (
        affiliations.join(at.select("rec", "order", "name"), on=["rec", "order"], how="left")
        .sort("rec", "order")
        .select(
            "rec",
            tag=pl.lit("C1"),
            value=pl.when(pl.col("name").list.len() > 0)
            .then(pl.concat_str([pl.lit("["), pl.col("name").list.join("; "), pl.lit("] ")]))
            .otherwise(pl.lit(""))
            + pl.col("affiliation"),
        )
    )
    return c1


def _correspondence(table: pl.DataFrame) -> pl.DataFrame:
    """RP groups from 'E.L. Flood; Center …, United States; email: floode1@chop.edu'.

    Several corresponding authors are on separate lines. A group may lack the name (only an
    address) or the address (only 'Caseau, Y.'): the part before the first ';' is a name when
    it is short, has no digits and at most one comma.
    """
    groups = (
        table.select("rec", group=_column(table, "Correspondence Address").str.split("\n"))
        .explode("group")
        .with_columns(pl.col("group").str.replace(r"(?s);?\s*email:.*$", "").str.strip_chars(" ;"))
        .filter(pl.col("group").str.len_bytes() > 0)
    )
    head = pl.col("group").str.extract(r"^([^;]*)", 1).str.strip_chars()
    is_name = (
        head.str.contains(r"^[^,\d]{1,40}(?:,[^,\d]{1,20})?$")
        & (head.str.count_matches(r"\s+") <= 4)
        & (pl.col("group").str.contains(";", literal=True) | head.str.contains(r"\.$|,"))
    )
    flipped = head.str.extract_groups(_INITIALS_SURNAME)
    name = (
        pl.when(head.str.contains(",", literal=True) | flipped.struct[1].is_null())
        .then(head)
        .otherwise(
            pl.concat_str([flipped.struct[1], flipped.struct[0].str.strip_chars()], separator=", ")
        )
    )
    address = (
        pl.when(is_name)
        .then(pl.col("group").str.extract(r"(?s)^[^;]*;(.*)$", 1))
        .otherwise(pl.col("group"))
        .str.replace_all(r"\s*,(\s*,)+", ",")
        .str.strip_chars(" ,;.")
        .fill_null("")
    )
    value = (
        pl.when(is_name)
        .then(pl.concat_str([name, pl.lit(" (corresponding author), "), address]))
        .otherwise(address)
    )
    return (
        groups.select("rec", value=value)
        .group_by("rec", maintain_order=True)
        .agg(pl.col("value"))
        .select("rec", tag=pl.lit("RP"), value=pl.col("value").list.join(".; "))
    )


def _funding(table: pl.DataFrame) -> pl.DataFrame:
    """FU 'Funder [grant]; …' from 'National Science Foundation, NSF: 1234; 2016/23/B/ST6/03455'.

    A part that is only a code (digits, no spaces) is a grant number without its funder.
    """
    entry = pl.col("entry")
    grant_only = entry.str.contains(r"\d") & ~entry.str.contains(r"\s")
    funder_grant = entry.str.extract_groups(r"(?s)^(.*?):\s*([^:]*\d[^:]*)$")
    value = (
        pl.when(grant_only)
        .then(pl.concat_str([pl.lit("["), entry, pl.lit("]")]))
        .when(funder_grant.struct[0].is_not_null())
        .then(
            pl.concat_str(
                [
                    funder_grant.struct[0].str.strip_chars(),
                    pl.lit(" ["),
                    funder_grant.struct[1],
                    pl.lit("]"),
                ]
            )
        )
        .otherwise(entry)
    )
    entries = (
        table.select("rec", entry=split_list(_column(table, "Funding Details")))
        .explode("entry")
        .drop_nulls("entry")
        .select("rec", value=value)
        .group_by("rec", maintain_order=True)
        .agg(pl.col("value"))
    )
    return entries.select("rec", tag=pl.lit("FU"), value=pl.col("value").list.join("; "))


# 'Brennan P.F., Bakken S., Title, Journal, 47, 3, pp. 477-484, (2015)'; older exports put the
# year first: 'Kalé, L., Skeel, R., (1999) J Comput Phys, 151, pp. 283-312'.
_REF_YEAR = r"\(((?:1[5-9]|20|21)\d\d)\)"
_REF_VOLUME_PAGES = r",\s*(\d+[A-Za-z]?)\s*(?:,\s*\(?[\w-]+\)?\s*)?,\s*pp?\.\s*([A-Za-z]?\d+)"
_REF_SOURCE = r",\s*([^,()]+?)\s*,\s*\d+[A-Za-z]?\s*(?:,\s*\(?[\w-]+\)?\s*)?,\s*pp?\.\s*"
_REF_DOI = r"(10\.\d{4,9}/[^\s,;]+)"


def parse_scopus_references(refs: pl.LazyFrame) -> pl.LazyFrame:
    """Add the parsed reference columns (see schemas.REFERENCES) to a frame with ``raw``."""
    from collabscope.parse.cited_references import reference_link_key

    raw = pl.col("raw")
    first = raw.str.extract(r"^([^,]*)", 1).str.strip_chars()
    first = pl.when(first.str.contains(r"^\p{Lu}[\p{L}'’ -]+\s+(?:\p{Lu}\.[\s-]*)+$")).then(first)
    old_style = raw.str.extract(r"^([^,]+,\s*(?:\p{Lu}\.[\s-]*)+),", 1)
    volume_pages = raw.str.extract_groups(_REF_VOLUME_PAGES)
    return refs.with_columns(
        first_author=pl.coalesce(first, old_style.str.replace(",", "")),
        year=raw.str.extract_all(_REF_YEAR)
        .list.last()
        .str.extract(r"(\d{4})", 1)
        .cast(pl.Int64, strict=False),
        source=raw.str.extract(_REF_SOURCE, 1),
        volume=volume_pages.struct[0],
        page=volume_pages.struct[1],
        doi=raw.str.extract(_REF_DOI, 1).str.to_lowercase().str.strip_chars_end("."),
    ).with_columns(link_key=reference_link_key())
