"""The institution of each address: curated registries (and optionally ROR), matched exact first,
then fuzzily within a block, with user overrides that win over everything.

An address's organisation is read from its own elements, never searched for anywhere in the
string. The candidates, tried in this order, are

1. the organisation joined to the first sub-organisation, as old WoS records write merged
   bodies ('UNIV LONDON,INST EDUC' -> 'Univ London Inst Educ', an alias of UCL);
2. the organisation element ('Kings Coll London');
3. each sub-organisation in order ('Lau China Inst, Kings Coll London, ...' -> King's College
   London). A sub-organisation only matches a registry form that holds a distinctive token, so
   'Univ Reading, Inst Educ' never falls through to the 'Inst Educ' alias of UCL.

Text is compared in a normal form (:func:`normalise_institution_text`): case, accents,
punctuation and spacing are dropped, '&' and 'and' read the same, full words are shortened the
way Web of Science shortens them ('University of Oxford' -> 'univ oxford'), so old upper-case
records, modern abbreviations and ROR's full names compare equal.

Methods (``institution_method``), first hit wins:

- ``override``: the normalised organisation element is in the user's override table; its
  institution id may be the literal ``not an institution`` (id null, method still override).
- ``ror``: the address carries a ROR id (``ror_id``, which OpenAlex gives) that the registry
  knows: a curated row's ``ror`` column, a row of the user's ROR dump, or a ROR dump row that
  :func:`combine_registries` folded into the curated institution of the same name. Exact, score
  100, before any name matching. An unknown ROR id, or one whose institution lies in another
  country than the address says, falls back to the name methods below.
- ``exact`` / ``alias``: a candidate equals an institution's canonical name / one of its aliases,
  within the address's block country (``country_recorded``, with GBR-ENG/SCT/WLS/NIR read as
  GBR): 'Univ Nottingham' is the University of Nottingham in a GBR address and UNNC in a CHN one.
  When a form belongs to two institutions of one country (the campuses of China Univ Petr), the
  one whose city is among the address's elements wins; otherwise the candidate does not match.
- ``prefix``: the organisation element begins with a form of its block and goes on with a unit
  of it ('Lancaster Univ Management Sch', 'Peking Univ Canc Hosp'; see
  :data:`PREFIX_UNIT_WORDS`, a closed list so that 'Wuhan Univ Technol' never becomes Wuhan
  Univ; a UK hospital named after a university is an NHS body and does not count). Score 95.
- ``fuzzy``: for addresses without an exact or prefix hit, over distinct (block, candidate)
  strings. A candidate is blocked with the registry forms of its block: it must share a
  distinctive token with them (any token but the generic 'univ', 'coll', 'inst', 'sci', ...; see
  :data:`GENERIC_TOKENS`) and, token by token in order, be the same form except for misspelt
  generic words ('Univeristy', 'Potytech', 'Institut'; recognised with rapidfuzz's
  ``process.cdist`` against the generic vocabulary). The pairs are scored by ``fuzz.ratio`` on
  the spelled-out texts (``process.cpdist``) and kept at ``fuzzy_cutoff``. It is conservative
  on purpose: on real exports a plain ratio of 90 takes 'Wuhan Univ Sci & Technol' for Wuhan
  Univ Technol, 'Inner Mongolia Med Univ' for Inner Mongolia Univ, 'Univ Jinan' for Jinan Univ
  and 'Hubei Univ Med' for an alias 'Hubei Med Univ' -- all different universities -- and
  pinyin place names a letter apart are different places (Shanxi/Shaanxi, Henan/Hunan,
  Hangzhou/Changzhou), so a distinctive token, a missing or extra word, or word order never
  differs in a fuzzy match. 'Beijing Normal Univ' never becomes 'Beijing Univ', nor 'Univ
  Manchester' 'Manchester Metropolitan Univ'. Everything else goes to the review queue, where
  an override settles it.
- ``none``: nothing above; id null (listed by :func:`review_queues`).

``institution_score`` is 100 for override, ror, exact and alias, the rapidfuzz score for fuzzy
and null for none. ``is_transnational`` copies the registry's flag (Sino-foreign joint institutions
such as UNNC or XJTLU) and is false when nothing matched.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl

from collabscope.normalise.curated import ISO2_TO_ISO3, read_curated_csv, split_multi
from collabscope.normalise.curated import ISO3_CODES as CURATED_ISO3

FUZZY_CUTOFF = 90.0
"""Lowest rapidfuzz ``fuzz.ratio`` (0-100, on the spelled-out texts) accepted for a fuzzy
match, among forms that pass the block (same distinctive tokens in the same places)."""

REVIEW_BELOW = 95.0
"""Fuzzy matches scoring below this are listed in the low-confidence review queue."""

NOT_AN_INSTITUTION = "not an institution"
"""The override value that marks an organisation string as no institution at all."""

INSTITUTION_METHODS = ("override", "ror", "exact", "alias", "prefix", "fuzzy", "none")

REGISTRY_COLUMNS = (
    "institution_id",
    "name",
    "country",
    "city",
    "aliases",
    "tiers",
    "transnational",
    "parent",
    "kind",
)
# Optional registry column: the institution's ROR ids ('|'-separated; https://ror.org/... or the
# bare nine-character id).
ROR_COLUMN = "ror"
ROR_ID = re.compile(r"^(?:https?://ror\.org/)?(0[a-z0-9]{6}[0-9]{2})$")
TIER_COLUMNS = ("tier_id", "name", "country", "description", "source")
KINDS = frozenset({"university", "institute", "hospital", "government", "company", "other"})

REGISTRY_SCHEMA = pl.Schema(
    {
        "institution_id": pl.String,
        "name": pl.String,
        "country": pl.String,
        "city": pl.String,
        "aliases": pl.List(pl.String),
        "tiers": pl.List(pl.String),
        "transnational": pl.Boolean,
        "parent": pl.List(pl.String),
        "kind": pl.String,
        "source": pl.String,
        "ror_ids": pl.List(pl.String),
    }
)
"""What :func:`load_registry` and :func:`load_ror` return; ``source`` names the file a row came
from (for error messages and provenance); ``ror_ids`` the institution's ROR ids, each as
https://ror.org/ plus the nine-character id."""

OUTPUT_COLUMNS = pl.Schema(
    {
        "institution_id": pl.String,
        "institution_name": pl.String,
        "institution_method": pl.String,
        "institution_score": pl.Float64,
        "is_transnational": pl.Boolean,
    }
)
REQUIRED_INPUT = ("raw", "organisation", "sub_organisations", "city", "country_recorded")

OVERRIDE_COLUMNS = ("organisation_text", "institution_id")

# Full words as Web of Science abbreviates them in addresses; applied to both sides, so a
# registry or ROR name written in full meets the WoS form.
ABBREVIATIONS: Mapping[str, str] = {
    "university": "univ",
    "universities": "univ",
    "universitat": "univ",
    "universite": "univ",
    "universidad": "univ",
    "college": "coll",
    "institute": "inst",
    "institution": "inst",
    "national": "natl",
    "technology": "technol",
    "technological": "technol",
    "science": "sci",
    "sciences": "sci",
    "scientific": "sci",
    "medical": "med",
    "medicine": "med",
    "agricultural": "agr",
    "agriculture": "agr",
    "engineering": "engn",
    "central": "cent",
    "international": "int",
    "school": "sch",
    "academy": "acad",
    "department": "dept",
    "research": "res",
    "center": "ctr",
    "centre": "ctr",
    "laboratory": "lab",
    "laboratories": "lab",
    "hospital": "hosp",
    "polytechnic": "polytech",
    "education": "educ",
    "educational": "educ",
    "faculty": "fac",
    "traditional": "tradit",
    "aeronautics": "aeronaut",
    "astronautics": "astronaut",
    "telecommunications": "telecommun",
    "mining": "min",
    "geosciences": "geosci",
    "petroleum": "petr",
    "chemical": "chem",
    "military": "mil",
    "economics": "econ",
    "political": "polit",
    "saint": "st",
    "east": "e",
    "west": "w",
    "north": "n",
    "south": "s",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
}
STOP_WORDS = frozenset({"of", "the", "and", "for", "at"})

_GENERIC_TEXT = """
    univ coll inst sch dept fac ctr lab natl sci technol acad res hosp med polytech int engn
    key grad div unit off assoc soc fdn trust co ltd corp grp program minist agcy council serv
    studies educ affiliated affil cent state city provincial prov municipal joint campus branch
"""
GENERIC_TOKENS = frozenset(_GENERIC_TEXT.split())
"""Words that name a kind of body rather than a particular one. They never serve as the key
token a fuzzy candidate must share, a sub-organisation made only of them ('Inst Educ') never
matches, and in a fuzzy match they may differ by a misspelling only. Every other token is
distinctive, compass letters included ('Univ E London' vs 'Univ W London')."""

# Registries may name Kosovo (XKX, user-assigned) as ROR does.
ISO3_CODES = CURATED_ISO3 | {"XKX"}

# ROR organisation types -> registry kind, the first listed type that maps deciding.
ROR_KINDS: Mapping[str, str] = {
    "education": "university",
    "healthcare": "hospital",
    "facility": "institute",
    "government": "government",
    "company": "company",
    "nonprofit": "other",
    "archive": "other",
    "funder": "other",
    "other": "other",
}
_ROR_KIND_ORDER = ("education", "healthcare", "facility", "government", "company")
_ROR_LANG_PREFIX = r"^(?:[a-z]{2,3}|no_lang_code):\s*"

# Generic words written in full (and the longer abbreviations), for recognising a misspelt
# generic token ('univeristy', 'potytech'); short abbreviations would catch real words
# ('natal' is not 'natl', 'grand' not 'grad', 'unist' not 'unit').
_GENERIC_WORDS = tuple(
    sorted(
        {w for w, a in ABBREVIATIONS.items() if a in GENERIC_TOKENS}
        | {"polytech", "technol", "affiliated", "provincial", "municipal", "ministry"}
    )
)
_SPELLED: Mapping[str, str] = {
    "univ": "university",
    "coll": "college",
    "inst": "institute",
    "natl": "national",
    "technol": "technology",
    "sci": "science",
    "med": "medicine",
    "engn": "engineering",
    "cent": "central",
    "int": "international",
    "sch": "school",
    "acad": "academy",
    "dept": "department",
    "res": "research",
    "ctr": "centre",
    "lab": "laboratory",
    "hosp": "hospital",
    "polytech": "polytechnic",
    "educ": "education",
    "fac": "faculty",
}
_TYPO_MIN_LENGTH = 6
_TYPO_CUTOFF = 85.0

_SUB_SEP = "\x1f"
_METHOD_RANK = {"exact": 0, "alias": 1, "prefix": 2, "fuzzy": 3}


class RegistryError(ValueError):
    """A registry, tier or override file is malformed; the message names the file, the row or
    institution and the value."""


# --- text --------------------------------------------------------------------------------------


def normalise_institution_text(text: pl.Expr) -> pl.Expr:
    """The form organisation names are compared in: accents, case and apostrophes dropped,
    other punctuation read as spaces, 'of', 'the', 'and' ('&'), 'for' and 'at' dropped, full
    words shortened as WoS shortens them (:data:`ABBREVIATIONS`), single spaces.

    'UNIV LONDON,INST EDUC' -> 'univ london inst educ'; "King's College London" -> 'kings coll
    london'; 'Univ Sci & Technol China' -> 'univ sci technol china'; 'East China Normal
    University' -> 'e china normal univ'.
    """
    cleaned = (
        text.str.normalize("NFKD")
        .str.replace_all(r"\p{M}+", "")
        .str.to_lowercase()
        .str.replace_all(r"['’`´]", "")
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
    )
    tokens = cleaned.str.split(" ").list.eval(
        pl.element()
        .replace(dict(ABBREVIATIONS))
        .filter((pl.element() != "") & ~pl.element().is_in(list(STOP_WORDS)))
    )
    return tokens.list.join(" ")


def _compact(form: pl.Expr) -> pl.Expr:
    """The exact-match key: the normal form without spaces ('xi an jiao tong univ' and 'xian
    jiaotong univ' meet)."""
    return form.str.replace_all(" ", "", literal=True)


def _signature(form: pl.Expr) -> pl.Expr:
    """The distinctive tokens of a normal form, sorted and space-joined ('' when none)."""
    return (
        form.str.split(" ")
        .list.eval(
            pl.element().filter((pl.element() != "") & ~pl.element().is_in(list(GENERIC_TOKENS)))
        )
        .list.unique()
        .list.sort()
        .list.join(" ")
    )


def _text_forms(strings: pl.Series) -> pl.DataFrame:
    """Distinct strings -> (_text, _form, _key)."""
    frame = pl.DataFrame({"_text": strings.unique().drop_nulls()}, schema={"_text": pl.String})
    frame = frame.with_columns(_form=normalise_institution_text(pl.col("_text")))
    return frame.with_columns(_key=_compact(pl.col("_form")))


# --- registries --------------------------------------------------------------------------------


def _read_table(path: Path, columns: Iterable[str]) -> pl.DataFrame:
    return read_curated_csv(path, columns, RegistryError).with_columns(
        _line=pl.int_range(2, pl.len() + 2)
    )


def load_tiers(paths: Sequence[str | Path]) -> pl.DataFrame:
    """Read tier files (``tier_id, name, country, description, source``); a later file's row
    replaces an earlier one with the same ``tier_id``."""
    frames = []
    for path in map(Path, paths):
        frame = _read_table(path, TIER_COLUMNS)
        for row in frame.iter_rows(named=True):
            where = f"{path}, line {row['_line']}"
            if row["tier_id"] is None:
                raise RegistryError(f"{where}: empty tier_id")
            if row["country"] not in ISO3_CODES:
                raise RegistryError(
                    f"{where}: tier {row['tier_id']!r}: country {row['country']!r} is not "
                    "an ISO 3166-1 alpha-3 code"
                )
        repeated = frame.filter(pl.col("tier_id").is_duplicated())
        if repeated.height:
            raise RegistryError(f"{path}: tier {repeated['tier_id'][0]!r} appears twice")
        frames.append(frame.drop("_line").with_columns(source=pl.lit(str(path))))
    if not frames:
        return pl.DataFrame(schema={**dict.fromkeys(TIER_COLUMNS, pl.String), "source": pl.String})
    tiers = pl.concat(frames)
    return tiers.unique("tier_id", keep="last", maintain_order=True).sort("tier_id")


def load_registry(paths: Sequence[str | Path], tiers_paths: Sequence[str | Path]) -> pl.DataFrame:
    """Read and validate institution registries (the columns of
    ``resources/institutions/institutions.csv``) and their tier files.

    A later file's row replaces an earlier row with the same ``institution_id`` (so a user's
    file extends or corrects the bundled one). Raises :class:`RegistryError`, naming the file,
    line or institution and value, when an id is empty or repeated within a file, a country is
    not ISO 3166-1 alpha-3, a name is missing, a tier is unknown or belongs to another country,
    ``transnational`` is not Y/N, a parent is not a known id, a kind is unknown, or one
    normalised name or alias belongs to two institutions of one country that do not differ by
    city. Returns :data:`REGISTRY_SCHEMA` rows sorted by country and id.
    """
    tiers = load_tiers(tiers_paths)
    tier_country = dict(zip(tiers["tier_id"], tiers["country"], strict=True))
    frames = []
    for path in map(Path, paths):
        frame = _read_table(path, REGISTRY_COLUMNS)
        _check_rows(path, frame, tier_country)
        frame = frame.with_columns(ror_ids=_read_ror_column(path, frame))
        frames.append(frame.with_columns(source=pl.lit(str(path))))
    if not frames:
        raise RegistryError("load_registry: no registry files given")
    rows = pl.concat(frames).unique("institution_id", keep="last", maintain_order=True)
    registry = rows.select(
        "institution_id",
        "name",
        "country",
        "city",
        aliases=split_multi("aliases"),
        tiers=split_multi("tiers"),
        transnational=pl.col("transnational") == "Y",
        parent=split_multi("parent"),
        kind="kind",
        source="source",
        ror_ids="ror_ids",
    ).sort("country", "institution_id")
    _check_ror_ids(registry)
    known = set(registry["institution_id"])
    for iid, parents, source in registry.select("institution_id", "parent", "source").iter_rows():
        for parent in parents:
            if parent not in known:
                raise RegistryError(
                    f"{source}: institution {iid!r}: parent {parent!r} is not an institution_id"
                )
    _check_shared_forms(registry)
    return registry.cast(dict(REGISTRY_SCHEMA))  # type: ignore[arg-type]


def ror_url(value: str) -> str | None:
    """'052gg0110' or 'https://ror.org/052GG0110' -> 'https://ror.org/052gg0110'; None when the
    text is not a ROR id."""
    found = ROR_ID.match(value.strip().lower())
    return f"https://ror.org/{found.group(1)}" if found else None


def ror_key(column: pl.Expr) -> pl.Expr:
    """The same as :func:`ror_url`, over a column (null when not a ROR id)."""
    bare = column.str.strip_chars().str.to_lowercase().str.extract(ROR_ID.pattern, 1)
    return pl.concat_str(pl.lit("https://ror.org/"), bare)


def _read_ror_column(path: Path, frame: pl.DataFrame) -> pl.Series:
    """The optional ``ror`` column of a registry file, as lists of ROR URLs (empty lists when
    the file has no such column); a cell that is not a ROR id is an error naming the line."""
    header = pl.read_csv(path, n_rows=0, infer_schema=False, encoding="utf8").columns
    if ROR_COLUMN not in header:
        return pl.Series("ror_ids", [[]] * frame.height, dtype=pl.List(pl.String))
    cells = read_curated_csv(path, [ROR_COLUMN], RegistryError)[ROR_COLUMN]
    out = []
    for line, iid, cell in zip(frame["_line"], frame["institution_id"], cells, strict=True):
        ids = []
        for value in (cell or "").split("|"):
            if not value.strip():
                continue
            url = ror_url(value)
            if url is None:
                raise RegistryError(
                    f"{path}, line {line}, institution {iid!r}: {value.strip()!r} is not a ROR "
                    "id (https://ror.org/0xxxxxx00 or the nine characters)"
                )
            ids.append(url)
        out.append(ids)
    return pl.Series("ror_ids", out, dtype=pl.List(pl.String))


def _check_ror_ids(registry: pl.DataFrame) -> None:
    """One ROR id names one institution."""
    shared = (
        registry.select("institution_id", "source", ror="ror_ids")
        .explode("ror")
        .drop_nulls("ror")
        .filter(pl.col("institution_id").n_unique().over("ror") > 1)
        .sort("ror", "institution_id")
    )
    if shared.height:
        ror = shared["ror"][0]
        ids = shared.filter(pl.col("ror") == ror)["institution_id"].to_list()
        raise RegistryError(f"{shared['source'][0]}: ROR id {ror} is given to {ids}")


def _check_rows(path: Path, frame: pl.DataFrame, tier_country: Mapping[str, str]) -> None:
    seen: set[str] = set()
    for row in frame.iter_rows(named=True):
        iid = row["institution_id"]
        where = f"{path}, line {row['_line']}"
        if iid is None:
            raise RegistryError(f"{where}: empty institution_id")
        where = f"{where}, institution {iid!r}"
        if iid in seen:
            raise RegistryError(f"{where}: institution_id appears twice in this file")
        seen.add(iid)
        if row["name"] is None:
            raise RegistryError(f"{where}: empty name")
        country = row["country"]
        if country not in ISO3_CODES:
            raise RegistryError(f"{where}: country {country!r} is not an ISO 3166-1 alpha-3 code")
        for tier in (row["tiers"] or "").split("|"):
            tier = tier.strip()
            if not tier:
                continue
            if tier not in tier_country:
                known = ", ".join(sorted(tier_country))
                raise RegistryError(f"{where}: unknown tier {tier!r} (known tiers: {known})")
            if tier_country[tier] != country:
                raise RegistryError(
                    f"{where}: tier {tier!r} belongs to {tier_country[tier]}, not {country}"
                )
        if row["transnational"] not in ("Y", "N"):
            raise RegistryError(f"{where}: transnational {row['transnational']!r} is not Y or N")
        if row["kind"] not in KINDS:
            raise RegistryError(f"{where}: kind {row['kind']!r} not in {sorted(KINDS)}")


def _registry_forms(registry: pl.DataFrame) -> pl.DataFrame:
    """(institution_id, country, _written, _method, _form, _key, _sig, _city) for every name and
    alias with a non-empty normal form; one row per (id, key), 'exact' before 'alias'."""
    names = registry.select(
        "institution_id", "country", "city", _written=pl.col("name"), _method=pl.lit("exact")
    )
    aliases = registry.select(
        "institution_id", "country", "city", _written=pl.col("aliases"), _method=pl.lit("alias")
    ).explode("_written")
    forms = pl.concat([names, aliases]).drop_nulls("_written")
    forms = forms.with_columns(_form=normalise_institution_text(pl.col("_written")))
    forms = forms.with_columns(
        _key=_compact(pl.col("_form")),
        _sig=_signature(pl.col("_form")),
        _city=_compact(normalise_institution_text(pl.col("city"))),
    ).filter(pl.col("_key") != "")
    return (
        forms.sort("institution_id", "_method", descending=[False, True])  # exact first
        .unique(["institution_id", "_key"], keep="first", maintain_order=True)
        .sort("country", "_key", "institution_id")
    )


def _check_shared_forms(registry: pl.DataFrame) -> None:
    """One normalised form, one institution per country, unless the owners differ by city."""
    forms = _registry_forms(registry).join(
        registry.select("institution_id", "source"), on="institution_id"
    )
    shared = (
        forms.group_by("country", "_key")
        .agg(
            pl.col("institution_id"),
            pl.col("_city"),
            pl.col("_written"),
            pl.col("source"),
        )
        .filter(pl.col("institution_id").list.len() > 1)
        .sort("country", "_key")
    )
    for country, _key, ids, cities, written, sources in shared.iter_rows():
        if len(set(cities)) == len(cities):
            continue  # campuses told apart by the address's city
        owners = ", ".join(
            f"{iid!r} ({src})" for iid, src in sorted(zip(ids, sources, strict=True))
        )
        raise RegistryError(
            f"alias {' / '.join(sorted({repr(w) for w in written}))} belongs to several "
            f"institutions in {country} with the same city: {owners}"
        )


def _ror_names(value: Any) -> list[str]:
    return [v for v in (value or []) if v]


def load_ror(path: str | Path) -> pl.DataFrame:
    """Read a ROR data dump (schema v2) the user downloaded: the JSON file (a list of records)
    or the CSV file of the same release.

    Returns :data:`REGISTRY_SCHEMA` rows: ``institution_id`` the ROR id (https://ror.org/...),
    ``name`` the ``ror_display`` name, ``country`` the first location's country code in ISO3,
    ``city`` its GeoNames name, ``aliases`` every name (display, labels, aliases) and acronym,
    no tiers, not transnational, ``kind`` from ROR's types (education -> university, healthcare
    -> hospital, facility -> institute, government, company, else other). Withdrawn records are
    skipped; inactive ones (closed or merged organisations) are kept for older papers. Merge
    with the curated registry by :func:`combine_registries`.
    """
    path = Path(path)
    if not path.is_file():
        raise RegistryError(f"{path}: file not found")
    rows = _ror_json(path) if path.suffix.lower() == ".json" else _ror_csv(path)
    out: dict[str, list[Any]] = {c: [] for c in REGISTRY_SCHEMA.names()}
    for record in rows:
        if record["status"] == "withdrawn":
            continue  # inactive organisations stay: older papers name them
        country2 = (record["country"] or "").upper()
        if country2 not in ISO2_TO_ISO3:
            raise RegistryError(
                f"{path}: ROR record {record['id']}: country code {country2!r} is not ISO 3166-1"
            )
        names = record["names"]
        display = record["display"] or (names[0] if names else None)
        if display is None:
            continue
        aliases = list(dict.fromkeys([display, *names]))
        kind = next((ROR_KINDS[t] for t in _ROR_KIND_ORDER if t in record["types"]), None)
        if kind is None:
            kind = next((ROR_KINDS[t] for t in record["types"] if t in ROR_KINDS), "other")
        out["institution_id"].append(record["id"])
        out["name"].append(display)
        out["country"].append(ISO2_TO_ISO3[country2])
        out["city"].append(record["city"])
        out["aliases"].append(aliases)
        out["tiers"].append([])
        out["transnational"].append(False)
        out["parent"].append([])
        out["kind"].append(kind)
        out["source"].append(str(path))
        out["ror_ids"].append([url] if (url := ror_url(record["id"])) else [])
    frame = pl.DataFrame(out, schema=REGISTRY_SCHEMA)
    return frame.unique("institution_id", keep="first").sort("country", "institution_id")


def _ror_json(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RegistryError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(data, list):
        raise RegistryError(f"{path}: a ROR v2 JSON dump is a list of records")
    rows = []
    for i, record in enumerate(data):
        if not isinstance(record, dict) or "id" not in record or "names" not in record:
            raise RegistryError(f"{path}: record {i} is not a ROR v2 record (no id or names)")
        names = record.get("names") or []
        display = next((n["value"] for n in names if "ror_display" in n.get("types", [])), None)
        locations = record.get("locations") or []
        details = locations[0].get("geonames_details", {}) if locations else {}
        rows.append(
            {
                "id": record["id"],
                "status": record.get("status"),
                "display": display,
                "names": _ror_names(n.get("value") for n in names),
                "country": details.get("country_code"),
                "city": details.get("name"),
                "types": list(record.get("types") or []),
            }
        )
    return rows


def _ror_csv(path: Path) -> list[dict[str, Any]]:
    """The v2 CSV: multi-valued cells are '; '-separated, names carry a language prefix
    ('en: University of Oxford', 'no_lang_code: UCL')."""
    prefix = re.compile(_ROR_LANG_PREFIX)

    def split(cell: str | None) -> list[str]:
        return [prefix.sub("", v.strip()) for v in (cell or "").split(";") if v.strip()]

    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        needed = {"id", "names.types.ror_display", "status"}
        missing = needed - set(reader.fieldnames or [])
        if missing:
            raise RegistryError(f"{path}: not a ROR v2 CSV (missing columns {sorted(missing)})")
        rows = []
        for row in reader:
            display = split(row.get("names.types.ror_display"))
            names = [
                *display,
                *split(row.get("names.types.label")),
                *split(row.get("names.types.alias")),
                *split(row.get("names.types.acronym")),
            ]
            countries = split(row.get("locations.geonames_details.country_code"))
            cities = split(row.get("locations.geonames_details.name"))
            rows.append(
                {
                    "id": row["id"].strip(),
                    "status": (row.get("status") or "").strip(),
                    "display": display[0] if display else None,
                    "names": names,
                    "country": countries[0] if countries else None,
                    "city": cities[0] if cities else None,
                    "types": split(row.get("types")),
                }
            )
    return rows


def combine_registries(registry: pl.DataFrame, ror: pl.DataFrame) -> pl.DataFrame:
    """The curated registry plus ROR rows, curated rows winning within a country.

    A ROR row whose display name is a curated name or alias of its country is that curated
    institution and is dropped whole; from the other ROR rows, each name or alias that is a
    curated form of their country is removed (the curated institution keeps it), and a row
    left without any form is dropped."""
    curated_ids = _registry_forms(registry).select("country", "_key", "institution_id").unique()
    curated = curated_ids.select("country", "_key").unique()
    key = _compact(normalise_institution_text(pl.col("name")))
    same = ror.with_columns(_key=key).join(curated, on=["country", "_key"], how="semi")
    ror = ror.join(same.select("institution_id"), on="institution_id", how="anti")
    # The ROR id of a ROR row that is a curated institution becomes that institution's (when
    # its name is the form of one curated institution only, and no curated row claims the id).
    claimed = registry.select(pl.col("ror_ids").explode()).drop_nulls()["ror_ids"]
    donated = (
        same.select("country", "_key", _ror=pl.col("ror_ids"))
        .explode("_ror")
        .drop_nulls("_ror")
        .filter(~pl.col("_ror").is_in(claimed.implode()))
        .join(curated_ids, on=["country", "_key"])
        .filter(pl.col("institution_id").n_unique().over("_ror") == 1)
        .group_by("institution_id")
        .agg(_donated=pl.col("_ror").unique().sort())
    )
    registry = (
        registry.join(donated, on="institution_id", how="left", maintain_order="left")
        .with_columns(
            ror_ids=pl.concat_list(
                "ror_ids", pl.col("_donated").fill_null(pl.lit([], pl.List(pl.String)))
            )
        )
        .drop("_donated")
    )
    ror_forms = (
        ror.select("institution_id", "country", _written=pl.col("aliases"))
        .explode("_written")
        .drop_nulls("_written")
        .with_columns(_key=_compact(normalise_institution_text(pl.col("_written"))))
        .filter(pl.col("_key") != "")
        .join(curated, on=["country", "_key"], how="anti")
        .group_by("institution_id", maintain_order=True)
        .agg(pl.col("_written").unique(maintain_order=True).alias("aliases"))
    )
    kept = ror.drop("aliases").join(ror_forms, on="institution_id", how="inner")
    kept = kept.select(REGISTRY_SCHEMA.names())
    combined = pl.concat([registry.select(REGISTRY_SCHEMA.names()), kept])
    return combined.sort("country", "institution_id")


def load_overrides(path: str | Path) -> pl.DataFrame:
    """Read the user's override CSV (``organisation_text``, ``institution_id``)."""
    path = Path(path)
    if not path.is_file():
        raise RegistryError(f"{path}: file not found")
    frame = _read_table(path, OVERRIDE_COLUMNS)
    empty = frame.filter(pl.col("organisation_text").is_null() | pl.col("institution_id").is_null())
    if empty.height:
        raise RegistryError(f"{path}, line {empty['_line'][0]}: empty cell")
    return frame.drop("_line")


# --- matching ----------------------------------------------------------------------------------


def _override_map(overrides: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """(_okey, _o_id) per normalised organisation; errors on unknown ids and contradictions."""
    missing = [c for c in OVERRIDE_COLUMNS if c not in overrides.columns]
    if missing:
        raise RegistryError(f"overrides: missing columns {missing}")
    frame = overrides.select(
        pl.col("organisation_text").cast(pl.String),
        pl.col("institution_id").cast(pl.String).str.strip_chars(),
    ).drop_nulls()
    frame = frame.with_columns(
        _okey=_compact(normalise_institution_text(pl.col("organisation_text")))
    )
    known = set(registry["institution_id"]) | {NOT_AN_INSTITUTION}
    unknown = sorted(set(frame["institution_id"]) - known)
    if unknown:
        raise RegistryError(
            f"overrides: institution_id {unknown[0]!r} is neither in the registry nor "
            f"{NOT_AN_INSTITUTION!r}"
        )
    clash = (
        frame.group_by("_okey")
        .agg(pl.col("institution_id").unique().sort(), pl.col("organisation_text").sort())
        .filter(pl.col("institution_id").list.len() > 1)
        .sort("_okey")
    )
    if clash.height:
        _, ids, texts = clash.row(0)
        raise RegistryError(
            f"overrides: {texts[0]!r} and {texts[-1]!r} are the same organisation once "
            f"normalised but map to {ids[0]!r} and {ids[1]!r}"
        )
    return (
        frame.select("_okey", _o_id="institution_id").unique("_okey").filter(pl.col("_okey") != "")
    )


def _block(country: pl.Expr) -> pl.Expr:
    """The country an address is matched within: the UK nations read as GBR."""
    return country.str.replace(r"^GBR-[A-Z]{3}$", "GBR")


def _candidates(combos: pl.DataFrame) -> pl.DataFrame:
    """(_combo, _cpos, _cand): the combined form, the organisation, then each sub-organisation."""
    subs = pl.col("_subs")
    combined = pl.when(subs.list.len() > 0).then(
        pl.concat_str([pl.col("organisation"), subs.list.first()], separator=" ")
    )
    cands = combos.select(
        "_combo",
        _cand=pl.concat_list(
            [combined.cast(pl.String), pl.col("organisation").cast(pl.String), subs]
        ),
    )
    cands = cands.with_columns(_cpos=pl.int_ranges(pl.col("_cand").list.len(), dtype=pl.Int32))
    return cands.explode(["_cand", "_cpos"]).drop_nulls("_cand")


def _choose(hits: pl.DataFrame, context: pl.DataFrame, cities: pl.DataFrame) -> pl.DataFrame:
    """Hits (_combo, _cpos, institution_id, _method, _score) -> one per combo.

    Per candidate: one id, or the one whose city is among the address's elements; else none.
    Then the first candidate (lowest _cpos) that is left."""
    per_id = hits.group_by("_combo", "_cpos", "institution_id").agg(
        pl.col("_method").sort_by(pl.col("_method").replace_strict(_METHOD_RANK)).first(),
        pl.col("_score").max(),
    )
    per_id = per_id.with_columns(_n=pl.len().over("_combo", "_cpos"))
    multiple = per_id.filter(pl.col("_n") > 1)
    if multiple.height:
        multiple = (
            multiple.join(cities, on="institution_id", how="left")
            .join(context, on="_combo", how="left")
            .filter(pl.col("_ctx").list.contains(pl.col("_city")))
            .drop("_city", "_ctx")
            .filter(pl.len().over("_combo", "_cpos") == 1)
        )
    chosen = pl.concat([per_id.filter(pl.col("_n") == 1), multiple]).drop("_n")
    return chosen.sort("_combo", "_cpos").unique("_combo", keep="first", maintain_order=True)


# What may follow an institution's name inside one organisation element: a unit of it
# ('Lancaster Univ Management Sch', 'Peking Univ Canc Hosp'). Never a word that goes on
# naming another institution ('Wuhan Univ Technol' is not Wuhan Univ), so the list is closed.
PREFIX_UNIT_WORDS = frozenset(
    {"sch", "fac", "dept", "ctr", "lab", "labs", "key", "grad", "management", "business",
     "campus", "div", "affiliated", "hosp", "canc"}
)  # fmt: skip
# A UK hospital named after a university is an NHS body, not the university ('Univ Coll London
# Hosp', 'Oxford Univ Hosp'); a Chinese university's hospital is part of the university.
_NOT_UNITS_IN = {"GBR": ("hosp", "canc")}


def _prefix_hits(cands: pl.DataFrame, forms: pl.DataFrame) -> pl.DataFrame:
    """Organisation elements that begin with a registry form of their block, followed by a
    unit word or by nothing but 'china' (WoS's 'South China Univ Technol China'). The longest
    form wins; method prefix, score 95."""
    words = pl.col("_form").str.split(" ")
    rest = pl.col("_words").list.slice(pl.col("_k"))
    organisations = (
        cands.filter(pl.col("_cpos") == 1)
        .select("_combo", "_cpos", "_block", _words=words)
        .with_columns(_k=pl.int_ranges(2, pl.col("_words").list.len()))
        .explode("_k")
        .drop_nulls("_k")
        .with_columns(
            _key=pl.col("_words").list.slice(0, pl.col("_k")).list.join(""),
            _next=rest.list.first(),
            _rest=rest.list.join(" "),
        )
    )
    blocked = pl.lit(False)
    for block, words_out in _NOT_UNITS_IN.items():
        blocked = blocked | ((pl.col("_block") == block) & pl.col("_next").is_in(list(words_out)))
    unit = pl.col("_next").is_in(list(PREFIX_UNIT_WORDS)) & ~blocked
    organisations = organisations.filter(unit | (pl.col("_rest") == "china"))
    hits = organisations.join(
        forms.select(_block="country", _key="_key", institution_id="institution_id", _fsig="_sig"),
        on=["_block", "_key"],
    ).filter(pl.col("_fsig") != "")
    longest = pl.col("_k") == pl.col("_k").max().over("_combo")
    return hits.filter(longest).select(
        "_combo", "_cpos", "institution_id", _method=pl.lit("prefix"), _score=pl.lit(95.0)
    )


def _token_classes(tokens: pl.Series) -> pl.DataFrame:
    """Distinct tokens -> (_tok, _canon, _generic): a generic token, or a token of six or more
    letters within a typo of a generic word and with its first letter ('univeristy',
    'potytech', 'institut'), stands for its abbreviation; every other token is distinctive and
    stands for itself."""
    words = list(_GENERIC_WORDS)
    abbreviated = [ABBREVIATIONS.get(w, "minist" if w == "ministry" else w) for w in words]
    frame = pl.DataFrame({"_tok": tokens.unique().drop_nulls()}, schema={"_tok": pl.String})
    frame = frame.filter(pl.col("_tok") != "").sort("_tok")
    frame = frame.with_columns(_generic=pl.col("_tok").is_in(list(GENERIC_TOKENS)))
    unsure = frame.filter(
        ~pl.col("_generic") & (pl.col("_tok").str.len_chars() >= _TYPO_MIN_LENGTH)
    )["_tok"]
    typo = pl.DataFrame(schema={"_tok": pl.String, "_typo_of": pl.String})
    if unsure.len():
        import numpy as np  # here: loading a registry (the pool) needs no matcher
        from rapidfuzz import fuzz, process

        scores = process.cdist(
            unsure.to_list(),
            words,
            scorer=fuzz.ratio,
            score_cutoff=_TYPO_CUTOFF,
            dtype=np.float32,
            workers=-1,
        )
        best_at = scores.argmax(axis=1)
        found = scores[np.arange(unsure.len()), best_at] >= _TYPO_CUTOFF
        # and the same first letter ('search' is not 'research', 'ecological' not 'technol')
        initials = np.asarray([w[0] for w in words])[best_at]
        found &= unsure.str.slice(0, 1).to_numpy() == initials
        typo = pl.DataFrame(
            {
                "_tok": unsure.filter(pl.Series(found)),
                "_typo_of": pl.Series(np.asarray(abbreviated, dtype=object)[best_at[found]]),
            },
            schema=typo.schema,
        )
    return frame.join(typo, on="_tok", how="left").select(
        "_tok",
        _canon=pl.coalesce("_typo_of", "_tok"),
        _generic=pl.col("_generic") | pl.col("_typo_of").is_not_null(),
    )


def _sequences(forms: pl.Series) -> pl.DataFrame:
    """Distinct normal forms -> (_form, _seq, _sig, _spelled).

    ``_seq``: the canonical tokens in order (a misspelt generic word read as the word);
    ``_sig``: the sorted distinctive tokens; ``_spelled``: the tokens in order with generic
    abbreviations written out ('univ' -> 'university'), the text fuzzy scores compare."""
    frame = pl.DataFrame({"_form": forms.unique().drop_nulls()}, schema={"_form": pl.String})
    tokens = frame.with_columns(_tok=pl.col("_form").str.split(" ")).explode("_tok")
    tokens = tokens.with_columns(_pos=pl.int_range(pl.len()).over("_form"))
    classes = _token_classes(tokens["_tok"])
    tokens = tokens.join(classes, on="_tok", how="inner")
    spelled = pl.when(pl.col("_generic") & (pl.col("_tok") == pl.col("_canon")))
    spelled = spelled.then(pl.col("_canon").replace(_SPELLED)).otherwise(pl.col("_tok"))
    return (
        tokens.sort("_form", "_pos")
        .group_by("_form", maintain_order=True)
        .agg(
            _seq=pl.col("_canon").str.join(" "),
            _sig=pl.col("_canon").filter(~pl.col("_generic")).unique().sort().str.join(" "),
            _spelled=spelled.str.join(" "),
        )
    )


def _sharing_a_key_token(queries: pl.DataFrame, forms: pl.DataFrame) -> pl.DataFrame:
    """The queries holding, as a whole word, a distinctive token of a registry form of their
    block (Aho-Corasick per block, so the later steps see only these)."""
    tokens = (
        forms.select("country", _tok=pl.col("_form").str.split(" "))
        .explode("_tok")
        .filter(~pl.col("_tok").is_in(list(GENERIC_TOKENS)) & (pl.col("_tok") != ""))
        .unique()
        .sort("country", "_tok")
    )
    vocab = {
        country: [f" {t} " for t in toks]
        for country, toks in tokens.group_by("country").agg("_tok").iter_rows()
    }
    kept = []
    for (block,), part in queries.partition_by("_block", as_dict=True).items():
        if block is not None and block in vocab:
            padded = pl.concat_str([pl.lit(" "), pl.col("_form"), pl.lit(" ")])
            kept.append(part.filter(padded.str.contains_any(vocab[block])))
    if not kept:
        return queries.clear()
    return pl.concat(kept)


def _fuzzy_hits(queries: pl.DataFrame, forms: pl.DataFrame, cutoff: float) -> pl.DataFrame:
    """(_block, _form) queries -> (_block, _form, institution_id, _score).

    A query meets the registry forms of its block with the same canonical token sequence (the
    same distinctive tokens in the same places, generic words differing by a typo at most);
    each pair is scored by ``fuzz.ratio`` on the spelled-out texts (``process.cpdist`` over the
    pairs) and kept at ``cutoff`` or above; per query the best score's institutions remain."""
    schema = {
        "_block": pl.String,
        "_form": pl.String,
        "institution_id": pl.String,
        "_score": pl.Float64,
    }
    queries = _sharing_a_key_token(queries, forms)
    if queries.height == 0:
        return pl.DataFrame(schema=schema)
    forms = forms.filter(pl.col("country").is_in(queries["_block"].unique().implode()))
    seqs = _sequences(pl.concat([queries["_form"], forms["_form"]]))
    seqs = seqs.filter(pl.col("_sig") != "")
    choices = forms.select(_block="country", _choice="_form", institution_id="institution_id")
    choices = choices.join(
        seqs.select(_choice="_form", _seq="_seq", _c_spelled="_spelled"), on="_choice"
    )
    pairs = (
        queries.select("_block", "_form")
        .join(seqs.select("_form", "_seq", "_spelled"), on="_form")
        .join(choices, on=["_block", "_seq"])
        .filter(pl.col("_form") != pl.col("_choice"))
    )
    if pairs.height == 0:
        return pl.DataFrame(schema=schema)
    import numpy as np  # here: loading a registry (the pool) needs no matcher
    from rapidfuzz import fuzz, process

    scores = process.cpdist(
        pairs["_spelled"].to_list(),
        pairs["_c_spelled"].to_list(),
        scorer=fuzz.ratio,
        score_cutoff=cutoff,
        dtype=np.float32,
        workers=-1,
    )
    pairs = pairs.with_columns(_score=pl.Series(scores, dtype=pl.Float64).round(1))
    pairs = pairs.filter(pl.col("_score") >= cutoff)
    best = pairs.filter(pl.col("_score") == pl.col("_score").max().over("_block", "_form"))
    return best.select(list(schema)).unique().sort(list(schema))


def match_institutions(
    addresses: pl.LazyFrame,
    registry: pl.DataFrame,
    *,
    overrides: pl.DataFrame | None = None,
    fuzzy_cutoff: float = FUZZY_CUTOFF,
) -> pl.LazyFrame:
    """Add ``institution_id``, ``institution_name``, ``institution_method``,
    ``institution_score`` and ``is_transnational`` (see the module docstring).

    ``addresses`` needs ``raw``, ``organisation``, ``sub_organisations``, ``city`` and
    ``country_recorded`` (from :func:`~collabscope.normalise.countries.resolve_countries`);
    ``state`` is used too when present. ``registry`` comes from :func:`load_registry` (or
    :func:`combine_registries`), ``overrides`` has ``organisation_text`` and
    ``institution_id``. Rows keep their order and other columns. The distinct (country,
    organisation, sub-organisations, city) combinations are collected once and matched here;
    the result joins back lazily.
    """
    schema = addresses.collect_schema()
    missing = [c for c in REQUIRED_INPUT if c not in schema]
    if missing:
        raise ValueError(f"match_institutions: addresses lack columns {missing}")
    clash = [c for c in OUTPUT_COLUMNS if c in schema]
    if clash:
        raise ValueError(f"match_institutions: addresses already have columns {clash}")

    state = pl.col("state") if "state" in schema else pl.lit(None, pl.String)
    join_keys = ["_block", "organisation", "_subs_joined", "city", "_state"]
    keyed = addresses.with_columns(
        _block=_block(pl.col("country_recorded")),
        _subs_joined=pl.col("sub_organisations").list.join(_SUB_SEP),
        _state=state.cast(pl.String),
    )
    combos = (
        keyed.select(*join_keys, _subs=pl.col("sub_organisations"))
        .unique(join_keys)
        .collect()
        .sort(join_keys, nulls_last=True)
        .with_row_index("_combo")
    )
    matched = _match_combos(combos, registry, overrides, fuzzy_cutoff)
    result = keyed.join(
        matched.lazy(), on=join_keys, how="left", nulls_equal=True, maintain_order="left"
    )
    if "ror_id" in schema:
        result = _ror_matches(result, registry)
    return result.with_columns(
        institution_method=pl.col("institution_method").fill_null("none"),
        is_transnational=pl.col("is_transnational").fill_null(False),
    ).select(*schema.names(), *OUTPUT_COLUMNS.names())


def _ror_matches(frame: pl.LazyFrame, registry: pl.DataFrame) -> pl.LazyFrame:
    """Addresses whose ``ror_id`` the registry knows take its institution, method ``ror``,
    score 100, over any name match (not over a user's override). Not when the institution
    lies in another country than the address's block: then the name match stands."""
    known = (
        registry.select(
            _ror="ror_ids",
            _ror_institution="institution_id",
            _ror_name="name",
            _ror_country="country",
            _ror_transnational="transnational",
        )
        .explode("_ror")
        .drop_nulls("_ror")
        # A curated institution before a ROR dump row with the same id.
        .sort(pl.col("_ror_institution").str.starts_with("https://ror.org/"), "_ror_institution")
        .unique("_ror", keep="first", maintain_order=True)
    )
    hit = (
        pl.col("_ror_institution").is_not_null()
        & (pl.col("institution_method").fill_null("none") != "override")
        & (pl.col("_block").is_null() | (pl.col("_block") == pl.col("_ror_country")))
    )
    return (
        frame.with_columns(_ror=ror_key(pl.col("ror_id")))
        .join(known.lazy(), on="_ror", how="left", maintain_order="left")
        .with_columns(
            institution_id=pl.when(hit).then("_ror_institution").otherwise("institution_id"),
            institution_name=pl.when(hit).then("_ror_name").otherwise("institution_name"),
            institution_method=pl.when(hit).then(pl.lit("ror")).otherwise("institution_method"),
            institution_score=pl.when(hit).then(pl.lit(100.0)).otherwise("institution_score"),
            is_transnational=pl.when(hit).then("_ror_transnational").otherwise("is_transnational"),
        )
    )


def _match_combos(
    combos: pl.DataFrame,
    registry: pl.DataFrame,
    overrides: pl.DataFrame | None,
    cutoff: float,
) -> pl.DataFrame:
    join_keys = ["_block", "organisation", "_subs_joined", "city", "_state"]
    forms = _registry_forms(registry)
    cities = forms.select("institution_id", "_city").unique("institution_id")
    context = combos.select(
        "_combo",
        _ctx=pl.concat_list(
            [pl.col("city").cast(pl.String), pl.col("_state").cast(pl.String), pl.col("_subs")]
        ).list.eval(_compact(normalise_institution_text(pl.element()))),
    )

    cands = _candidates(combos)
    texts = _text_forms(cands["_cand"])
    cands = cands.join(texts.rename({"_text": "_cand"}), on="_cand", how="left").join(
        combos.select("_combo", "_block"), on="_combo"
    )
    cands = cands.filter(pl.col("_key").fill_null("") != "")

    # Exact: the candidate's key is a registry form of its block. Sub-organisations only meet
    # forms with a distinctive token ('Inst Educ' after another university is a department).
    exact = cands.join(
        forms.select(
            _block="country",
            _key="_key",
            institution_id="institution_id",
            _method="_method",
            _fsig="_sig",
        ),
        on=["_block", "_key"],
    ).filter((pl.col("_cpos") < 2) | (pl.col("_fsig") != ""))
    exact = exact.select("_combo", "_cpos", "institution_id", "_method", _score=pl.lit(100.0))
    exact_chosen = _choose(exact, context, cities)
    prefix_chosen = _choose(
        _prefix_hits(cands.join(exact_chosen.select("_combo"), on="_combo", how="anti"), forms),
        context,
        cities,
    )
    exact_chosen = pl.concat([exact_chosen, prefix_chosen])

    # Fuzzy: candidates of combos without an exact match, over distinct (block, form).
    rest = cands.join(exact_chosen.select("_combo"), on="_combo", how="anti")
    queries = rest.select("_block", "_form").unique()
    fuzzy = _fuzzy_hits(queries, forms, cutoff)
    fuzzy_hits = rest.join(fuzzy, on=["_block", "_form"]).select(
        "_combo", "_cpos", "institution_id", _method=pl.lit("fuzzy"), _score="_score"
    )
    fuzzy_chosen = _choose(fuzzy_hits, context, cities)

    chosen = pl.concat([exact_chosen, fuzzy_chosen]).select(
        "_combo", "institution_id", "_method", "_score"
    )

    out = combos.select("_combo", *join_keys).join(chosen, on="_combo", how="left")
    if overrides is not None:
        omap = _override_map(overrides, registry)
        out = out.with_columns(
            _okey=_compact(normalise_institution_text(pl.col("organisation")))
        ).join(omap, on="_okey", how="left")
        is_override = pl.col("_o_id").is_not_null()
        out = out.with_columns(
            institution_id=pl.when(is_override)
            .then(pl.col("_o_id").replace(NOT_AN_INSTITUTION, None))
            .otherwise(pl.col("institution_id")),
            _method=pl.when(is_override).then(pl.lit("override")).otherwise(pl.col("_method")),
            _score=pl.when(is_override).then(pl.lit(100.0)).otherwise(pl.col("_score")),
        ).drop("_okey", "_o_id")
    info = registry.select(
        "institution_id", institution_name="name", is_transnational="transnational"
    )
    out = out.join(info, on="institution_id", how="left")
    return out.select(
        *join_keys,
        pl.col("institution_id").cast(pl.String),
        pl.col("institution_name").cast(pl.String),
        institution_method=pl.col("_method").fill_null("none"),
        institution_score=pl.col("_score").cast(pl.Float64),
        is_transnational=pl.col("is_transnational").fill_null(False),
    )


# --- review ------------------------------------------------------------------------------------


class ReviewQueues(NamedTuple):
    """Organisation strings to look at, most records affected first."""

    unmatched: pl.DataFrame
    low_confidence: pl.DataFrame


# The queues add up over parse shards (collabscope.parts.tally_shards): each shard's
# schemas.REVIEW_SPELLINGS and REVIEW_COUNTS, whose group is these columns.
_REVIEW_GROUP = ("queue", "okey", "country_recorded", "institution_id")


def review_tallies(
    matched: pl.LazyFrame, *, review_below: float = REVIEW_BELOW
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(schemas.REVIEW_SPELLINGS, schemas.REVIEW_COUNTS) of matched addresses (with
    ``record_id``): what :func:`review_queues_of` adds up into the queues."""
    base = matched.filter(pl.col("organisation").is_not_null()).with_columns(
        okey=_compact(normalise_institution_text(pl.col("organisation")))
    )
    queued = pl.concat(
        [
            base.filter(pl.col("institution_method") == "none").with_columns(
                queue=pl.lit("unmatched"), institution_id=pl.lit(None, pl.String)
            ),
            base.filter(
                (pl.col("institution_method") == "fuzzy")
                & (pl.col("institution_score") < review_below)
            ).with_columns(queue=pl.lit("low_confidence")),
        ]
    )
    spellings = queued.group_by(*_REVIEW_GROUP, "organisation").agg(n=pl.len().cast(pl.Int64))
    counts = queued.group_by(_REVIEW_GROUP).agg(
        n_records=pl.col("record_id").n_unique().cast(pl.Int64),
        n_addresses=pl.len().cast(pl.Int64),
        example_raw=pl.col("raw").min(),
        institution_name=pl.col("institution_name").first(),
        score=pl.col("institution_score").min(),
    )
    return spellings.collect(), counts.collect()


def review_queues_of(spellings: pl.LazyFrame, counts: pl.LazyFrame) -> ReviewQueues:
    """The review queues from :func:`review_tallies` of the whole corpus, or of each shard
    concatenated in shard order (a record is in one shard: its distinct counts add up).

    Strings are grouped by their normal form and recorded country (and the institution
    matched); ``organisation`` shows the most frequent spelling (ties: the first in sort
    order), ``example_raw`` the first raw address in sort order. ``unmatched``: method none
    (organisation, country_recorded, n_records, n_addresses, example_raw); ``low_confidence``:
    fuzzy matches scoring below the threshold (organisation, country_recorded, institution_id,
    institution_name, score, n_records, n_addresses, example_raw). Both are sorted by n_records
    descending, then organisation, country and institution."""
    group = list(_REVIEW_GROUP)
    spelling = (
        spellings.group_by(*group, "organisation")
        .agg(pl.col("n").sum())
        .sort(*group, "n", "organisation", descending=[False] * len(group) + [True, False])
        .unique(group, keep="first", maintain_order=True)
        .select(*group, "organisation")
    )
    totals = counts.group_by(group).agg(
        pl.col("n_records").sum(),
        pl.col("n_addresses").sum(),
        pl.col("example_raw").min(),
        pl.col("institution_name").first(),
        pl.col("score").min(),
    )
    out = (
        totals.join(spelling, on=group, how="left", nulls_equal=True)
        .sort(
            ["n_records", "organisation", "country_recorded", "institution_id"],
            descending=[True, False, False, False],
            nulls_last=True,
        )
        .collect()
    )
    unmatched = out.filter(pl.col("queue") == "unmatched").select(
        "organisation", "country_recorded", "n_records", "n_addresses", "example_raw"
    )
    low = out.filter(pl.col("queue") == "low_confidence").select(
        "organisation",
        "country_recorded",
        "institution_id",
        "institution_name",
        "score",
        "n_records",
        "n_addresses",
        "example_raw",
    )
    return ReviewQueues(unmatched=unmatched, low_confidence=low)


def review_queues(matched: pl.LazyFrame, *, review_below: float = REVIEW_BELOW) -> ReviewQueues:
    """The review queues of matched addresses (with ``record_id``): see
    :func:`review_queues_of`; fuzzy matches scoring below ``review_below`` are low
    confidence."""
    spellings, counts = review_tallies(matched, review_below=review_below)
    return review_queues_of(spellings.lazy(), counts.lazy())
