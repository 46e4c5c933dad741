"""The country of each address, read from the address's own country element, under a policy.

Web of Science writes the country as the last comma-separated element of an address
('Peoples R China', 'England', 'North Ireland', 'CA 94305 USA', old 'FED REP GER'); the parser
keeps it as ``addresses.country_text``. The country is read from that element only, never by
looking for a country name anywhere in the string: 'Univ New S Wales, Sydney, NSW, Australia'
is in Australia, '1 Scotland Dr, Dallas, TX 75201 USA' in the USA and 'China Med Univ,
Taichung, Taiwan' in Taiwan.

Resolution, first hit wins (``country_method``):

1. ``exact`` / ``alias``: the normalised element equals a country's name / one of its aliases
   (``resources/countries/countries.csv``). 'IL 1101 USA' (a state and a malformed ZIP before
   USA) reads as USA. An address of a single element ('Canada') is its own country element.
2. ``fuzzy``: otherwise, rapidfuzz's ``fuzz.ratio`` against every name and alias, over the
   distinct elements only (``process.cdist``), accepted at ``FUZZY_CUTOFF`` (90) or above when
   the best score points to one country only; strings shorter than four characters are not
   tried. 'Turkiey' -> TUR (92.3).
3. ``city_rule``: refines 1-2 when the element before the country names a part of that country
   (a row whose ``folds_into`` is the country found): 'Hong Kong, Peoples R China' (WoS from
   2019) is recorded as HKG, 'Macau, Peoples R China' as MAC, 'Taipei, Taiwan, Peoples R
   China' as TWN, 'London, England, UK' as GBR-ENG.
4. ``us_state`` / ``ca_province`` / ``au_state``: when the country element is missing or
   unreadable, a state code with a postcode of the right shape ('OAK RIDGE NATL LAB,OAK
   RIDGE,TN 37830' -> USA; '..., Sackville, NB, E4L 1G7' -> CAN), or, in an address of three
   or more elements, a last element that is itself a state code or name ('HARVARD UNIV,SCH
   MED,BOSTON,MA' -> USA; '..., Prineville, Oregon' -> USA). A code that belongs to two
   countries (WA: Washington or Western Australia; NT) decides only with a postcode.
5. ``none``: nothing above applies; country is null (flagged for review, not guessed).

Sources that do not write WoS-style addresses (``addresses.country_code``, CSSCI):

0. ``source_code``: the source gives the country as a code (OpenAlex institutions); it wins.
6. ``cjk_prefix`` / ``cjk_domestic``: an address in Chinese script without a country element
   (CSSCI writes '英国肯特大学', '香港大学', '中国科学院…') is in the country whose Chinese name
   (a ``countries.csv`` alias) it begins with, the longest one winning ('中国香港…' is HKG); an
   institution without one is in mainland China, as CSSCI writes domestic institutions.

``country_recorded`` is the code as written (GBR-SCT for Scotland, HKG for Hong Kong);
``country`` applies :class:`CountryPolicy` (UK nations -> GBR by default; Hong Kong, Macau and
Taiwan kept apart from mainland China by default, or folded into CHN). Both are kept so that a
report can state the policy's effect. ``country_score`` is 100 for every rule-based match and
the rapidfuzz score for a fuzzy one (also for a city-rule refinement of a fuzzy match).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from collabscope.normalise.curated import read_curated_csv, split_multi

FUZZY_CUTOFF = 90.0
"""Lowest rapidfuzz ``fuzz.ratio`` (0-100) accepted for a fuzzy match: one inserted or dropped
letter in a name of five or more letters ('Turkiey', 'Nigria', 'Austrailia'), never two
different countries ('Austria'/'Australia' score 87.5, 'Niger'/'Nigeria' 83.3)."""

FUZZY_MIN_LENGTH = 4
"""Normalised strings shorter than this are never matched fuzzily ('MA', 'UK', 'Jr')."""

COUNTRY_METHODS = (
    "exact",
    "alias",
    "fuzzy",
    "us_state",
    "ca_province",
    "au_state",
    "city_rule",
    "source_code",
    "cjk_prefix",
    "cjk_domestic",
    "none",
)

COUNTRY_COLUMNS = ("code", "name", "sovereign", "folds_into", "aliases", "note")
REGION_COLUMNS = ("code", "name", "country", "aliases")
REGION_FILES: Mapping[str, str] = {
    "us_state": "us_states.csv",
    "ca_province": "ca_provinces.csv",
    "au_state": "au_states.csv",
}
# The postcode that may accompany a state code of each kind.
POSTCODE_PATTERNS: Mapping[str, str] = {
    "us_state": r"^\d{5}(?:-\d{4})?$",
    "ca_province": r"^[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d$",
    "au_state": r"^\d{4}$",
}
# The folds_into values a policy knows: which setting decides each group.
FOLD_GROUPS: Mapping[str, str] = {"GBR": "uk_nations", "CHN": "hong_kong_macau_taiwan"}

OUTPUT_COLUMNS = pl.Schema(
    {
        "country_recorded": pl.String,
        "country": pl.String,
        "country_method": pl.String,
        "country_score": pl.Float64,
    }
)
REQUIRED_INPUT = ("raw", "state", "postcode", "country_text")

_CODE = r"^[A-Z]{3}(?:-[A-Z]{3})?$"
# 'IL 1101 USA', 'NY USA': a US state code and ZIP-like tokens before USA (normalised text).
_US_TAIL = r"^[a-z]{2}(?:\s+[0-9][0-9a-z-]*)*\s+(usa)$"
_FUZZY_CHUNK = 2048
# A last element holding a state and a postcode but no country: 'WA 6009', 'ON M5S 1A1'.
_STATE_POSTCODE = r"^(\D*?\S)\s+(\d[\dA-Za-z-]*|[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d)$"


class CountryTableError(ValueError):
    """The country or region table is malformed; the message names the file, row and value."""


@dataclass(frozen=True)
class CountryPolicy:
    """How recorded codes map to the countries counted.

    ``uk_nations``: ``"GBR"`` (default) counts England, Scotland, Wales and Northern Ireland as
    the United Kingdom; ``"separate"`` keeps GBR-ENG, GBR-SCT, GBR-WLS, GBR-NIR. An address
    written 'UK' or 'United Kingdom' is GBR under both.

    ``hong_kong_macau_taiwan``: ``"separate"`` (default) keeps HKG, MAC and TWN apart, so CHN
    means mainland China; ``"fold_into_CHN"`` counts them as CHN.
    """

    uk_nations: Literal["GBR", "separate"] = "GBR"
    hong_kong_macau_taiwan: Literal["separate", "fold_into_CHN"] = "separate"

    def __post_init__(self) -> None:
        if self.uk_nations not in ("GBR", "separate"):
            raise ValueError(f"uk_nations must be 'GBR' or 'separate', not {self.uk_nations!r}")
        if self.hong_kong_macau_taiwan not in ("separate", "fold_into_CHN"):
            raise ValueError(
                "hong_kong_macau_taiwan must be 'separate' or 'fold_into_CHN', "
                f"not {self.hong_kong_macau_taiwan!r}"
            )

    def fold_targets(self) -> frozenset[str]:
        """The ``folds_into`` values whose rows count as that code under this policy."""
        targets = set()
        if self.uk_nations == "GBR":
            targets.add("GBR")
        if self.hong_kong_macau_taiwan == "fold_into_CHN":
            targets.add("CHN")
        return frozenset(targets)


def normalise_country_text(text: pl.Expr) -> pl.Expr:
    """The form names are compared in: accents and case dropped, apostrophes removed, '&' read
    as 'and', other punctuation as spaces, a leading 'the' dropped.

    "Côte d'Ivoire" -> 'cote divoire'; 'Bosnia & Herceg' -> 'bosnia and herceg';
    'Spain;' -> 'spain'; '刚果（布）' -> '刚果 布'.
    """
    return (
        text.str.normalize("NFKD")
        .str.replace_all(r"\p{M}+", "")
        .str.to_lowercase()
        .str.replace_all(r"['’`´]", "")
        .str.replace_all("&", " and ", literal=True)
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
        .str.replace(r"^the\s+", "")
    )


def _read_csv(path: Path, columns: Iterable[str]) -> pl.DataFrame:
    return read_curated_csv(path, columns, CountryTableError)


def load_country_table(path: str | Path) -> pl.DataFrame:
    """Read and validate ``countries.csv``.

    Returns one row per code with ``aliases`` as a list. Raises :class:`CountryTableError`
    when a code is malformed or repeated, a name is missing, ``sovereign``/``folds_into``
    name an unknown code, ``folds_into`` is not one the policy knows (GBR, CHN), a name or
    alias is empty once normalised, or one normalised form belongs to two codes.
    """
    path = Path(path)
    frame = _read_csv(path, COUNTRY_COLUMNS).with_columns(aliases=split_multi("aliases"))
    codes = frame["code"].to_list()
    for i, (code, name) in enumerate(zip(codes, frame["name"], strict=True), start=2):
        if code is None or not pl.select(pl.lit(code).str.contains(_CODE)).item():
            raise CountryTableError(f"{path}, line {i}: malformed code {code!r}")
        if name is None:
            raise CountryTableError(f"{path}, line {i}: code {code} has no name")
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise CountryTableError(f"{path}: code {code} appears twice")
        seen.add(code)
    for column in ("sovereign", "folds_into"):
        for code, ref in zip(codes, frame[column], strict=True):
            if ref is not None and ref not in seen:
                raise CountryTableError(f"{path}: {code}: {column} {ref!r} is not a code")
    for code, target in zip(codes, frame["folds_into"], strict=True):
        if target is not None and target not in FOLD_GROUPS:
            raise CountryTableError(
                f"{path}: {code}: folds_into {target!r}; the country policy knows only "
                f"{sorted(FOLD_GROUPS)}"
            )
    _check_forms(path, frame)
    return frame


def _form_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """(written, form, code, method) for every name and alias."""
    names = frame.select(pl.col("name").alias("written"), "code", method=pl.lit("exact"))
    aliases = frame.select(pl.col("aliases").alias("written"), "code").explode("written")
    aliases = aliases.drop_nulls("written").with_columns(method=pl.lit("alias"))
    both = pl.concat([names, aliases])
    return both.with_columns(form=normalise_country_text(pl.col("written")))


def _check_forms(path: Path, frame: pl.DataFrame) -> None:
    rows = _form_rows(frame)
    empty = rows.filter(pl.col("form").fill_null("") == "")
    if empty.height:
        written, code = empty.row(0, named=True)["written"], empty.row(0, named=True)["code"]
        raise CountryTableError(f"{path}: {code}: alias {written!r} is empty once normalised")
    clashes = (
        rows.group_by("form")
        .agg(pl.col("code").unique().sort(), pl.col("written").unique().sort())
        .filter(pl.col("code").list.len() > 1)
        .sort("form")
    )
    if clashes.height:
        form, codes, written = clashes.row(0)
        raise CountryTableError(
            f"{path}: alias {' / '.join(repr(w) for w in written)} (normalised {form!r}) "
            f"is on two codes: {codes[0]} and {codes[1]}"
        )


def country_forms(table: pl.DataFrame) -> pl.DataFrame:
    """Every normalised form with its code and method ('exact' for the name, else 'alias')."""
    return (
        _form_rows(table)
        .sort("method", descending=True)  # 'exact' before 'alias'
        .unique("form", keep="first", maintain_order=True)
        .select("form", "code", "method")
        .sort("form")
    )


def load_region_table(directory: str | Path) -> pl.DataFrame:
    """Read ``us_states.csv``, ``ca_provinces.csv`` and ``au_states.csv`` from ``directory``.

    Returns (method, code, name, country, aliases) with ``method`` one of ``us_state``,
    ``ca_province``, ``au_state``. A state code matches case-insensitively; ``aliases`` lists
    the full names that are accepted as a last element ('Oregon', 'Quebec'), deliberately
    without names that are also countries or common cities (Georgia, Victoria).
    """
    directory = Path(directory)
    frames = []
    for method, filename in REGION_FILES.items():
        path = directory / filename
        frame = _read_csv(path, REGION_COLUMNS)
        for i, (code, country) in enumerate(
            zip(frame["code"], frame["country"], strict=True), start=2
        ):
            if code is None or not code.isalpha() or not 2 <= len(code) <= 3:
                raise CountryTableError(f"{path}, line {i}: malformed code {code!r}")
            if country is None:
                raise CountryTableError(f"{path}, line {i}: {code} has no country")
        duplicated = frame.filter(pl.col("code").str.to_uppercase().is_duplicated())
        if duplicated.height:
            raise CountryTableError(f"{path}: code {duplicated['code'][0]} appears twice")
        frames.append(
            frame.with_columns(
                method=pl.lit(method),
                code=pl.col("code").str.to_uppercase(),
                aliases=pl.col("aliases").fill_null("").str.split("|"),
            )
        )
    regions = pl.concat(frames).select("method", "code", "name", "country", "aliases")
    return regions.with_columns(
        aliases=pl.col("aliases").list.eval(pl.element().filter(pl.element() != ""))
    )


def _region_lookup(regions: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """One row per normalised code or name: the country it points to under each method."""
    unknown = regions.filter(~pl.col("country").is_in(table["code"].implode()))
    if unknown.height:
        row = unknown.row(0, named=True)
        raise CountryTableError(
            f"{REGION_FILES[row['method']]}: {row['code']}: country {row['country']!r} "
            "is not a code of the country table"
        )
    codes = regions.select("method", "country", form=pl.col("code").str.to_lowercase())
    names = regions.select("method", "country", form=pl.col("aliases")).explode("form")
    forms = pl.concat([codes, names.drop_nulls("form")]).with_columns(
        form=normalise_country_text(pl.col("form"))
    )
    clashes = (
        forms.group_by("form", "method")
        .agg(pl.col("country").unique().sort())
        .filter(pl.col("country").list.len() > 1)
        .sort("form")
    )
    if clashes.height:
        form, method, countries = clashes.row(0)
        raise CountryTableError(
            f"{REGION_FILES[method]}: {form!r} points to {countries[0]} and {countries[1]}"
        )
    columns = [
        pl.col("country").filter(pl.col("method") == method).first().alias(f"_r_{method}")
        for method in REGION_FILES
    ]
    return forms.group_by("form").agg(columns).sort("form")


def _match_texts(texts: pl.Series, forms: pl.DataFrame, cutoff: float) -> pl.DataFrame:
    """Distinct country elements -> (_t_code, _t_method, _t_score)."""
    frame = pl.DataFrame({"_element": texts}).with_columns(
        _form=normalise_country_text(pl.col("_element"))
    )
    frame = frame.with_columns(_form=pl.col("_form").str.replace(_US_TAIL, "$1"))
    frame = frame.join(
        forms.rename({"form": "_form", "code": "_t_code", "method": "_t_method"}),
        on="_form",
        how="left",
    ).with_columns(_t_score=pl.when(pl.col("_t_code").is_not_null()).then(pl.lit(100.0)))
    queries = (
        frame.filter(
            pl.col("_t_code").is_null() & (pl.col("_form").str.len_chars() >= FUZZY_MIN_LENGTH)
        )
        .get_column("_form")
        .unique()
        .sort()
        .to_list()
    )
    fuzzy = _fuzzy_match(queries, forms, cutoff)
    frame = frame.join(fuzzy, on="_form", how="left").select(
        "_element",
        _t_code=pl.coalesce("_t_code", "_f_code"),
        _t_method=pl.coalesce(
            "_t_method", pl.when(pl.col("_f_code").is_not_null()).then(pl.lit("fuzzy"))
        ),
        _t_score=pl.coalesce("_t_score", "_f_score"),
    )
    return frame


def _fuzzy_match(queries: list[str], forms: pl.DataFrame, cutoff: float) -> pl.DataFrame:
    """Best form per query by ``fuzz.ratio`` (vectorised ``process.cdist``, in chunks); a
    query whose best score is shared by forms of two codes stays unmatched."""
    schema = {"_form": pl.String, "_f_code": pl.String, "_f_score": pl.Float64}
    if not queries or forms.height == 0:
        return pl.DataFrame(schema=schema)
    # Here, not at the top: the stages that only read a country table or a policy (sampling,
    # the report) start without loading numpy and rapidfuzz.
    import numpy as np
    from rapidfuzz import fuzz, process

    choices = forms["form"].to_list()
    code_names, code_index = np.unique(forms["code"].to_numpy(), return_inverse=True)
    found_form: list[str] = []
    found_code: list[str] = []
    found_score: list[float] = []
    for start in range(0, len(queries), _FUZZY_CHUNK):
        chunk = queries[start : start + _FUZZY_CHUNK]
        scores = process.cdist(
            chunk,
            choices,
            scorer=fuzz.ratio,
            score_cutoff=cutoff,
            dtype=np.float32,
            workers=-1,
        )
        best_at = scores.argmax(axis=1)
        best = scores[np.arange(len(chunk)), best_at]
        best_code = code_index[best_at]
        tied_elsewhere = (
            (scores == best[:, None]) & (code_index[None, :] != best_code[:, None])
        ).any(axis=1)
        keep = (best >= cutoff) & (best > 0) & ~tied_elsewhere
        for i in np.flatnonzero(keep):
            found_form.append(chunk[i])
            found_code.append(str(code_names[best_code[i]]))
            found_score.append(round(float(best[i]), 1))
    return pl.DataFrame(
        {"_form": found_form, "_f_code": found_code, "_f_score": found_score}, schema=schema
    )


def resolve_countries(
    addresses: pl.LazyFrame,
    table: pl.DataFrame,
    policy: CountryPolicy,
    *,
    regions: pl.DataFrame,
    fuzzy_cutoff: float = FUZZY_CUTOFF,
) -> pl.LazyFrame:
    """Add ``country_recorded``, ``country``, ``country_method`` and ``country_score``.

    ``addresses`` needs ``raw``, ``state``, ``postcode`` and ``country_text`` (the canonical
    addresses table has them); rows keep their order and other columns. ``table`` comes from
    :func:`load_country_table`, ``regions`` from :func:`load_region_table`. The distinct
    country elements are collected once here (they are matched in Python with rapidfuzz);
    everything else stays lazy.
    """
    schema = addresses.collect_schema()
    missing = [c for c in REQUIRED_INPUT if c not in schema]
    if missing:
        raise ValueError(f"resolve_countries: addresses lack columns {missing}")
    clash = [c for c in OUTPUT_COLUMNS if c in schema]
    if clash:
        raise ValueError(f"resolve_countries: addresses already have columns {clash}")

    forms = country_forms(table)
    text = pl.col("country_text")
    raw = pl.col("raw").str.strip_chars().str.strip_chars_end(".").str.strip_chars()
    given = pl.col("country_code") if "country_code" in schema else pl.lit(None, pl.String)
    # Chinese-script addresses (CSSCI) have no country element: see _cjk_prefix.
    cjk = text.is_null() & raw.str.contains(r"^[\p{P}\s]*\p{Han}")
    # The country element; an address of one element ('Canada') is its own element.
    element = pl.coalesce(text, pl.when(~raw.str.contains(",", literal=True) & ~cjk).then(raw))
    texts = (
        addresses.select(_element=element).unique().drop_nulls().collect().get_column("_element")
    )
    text_map = _match_texts(texts, forms, fuzzy_cutoff)

    parts = table.filter(pl.col("folds_into").is_not_null())
    part_forms = forms.join(parts.select("code", "folds_into"), on="code").select(
        _p_form="form", _p_code="code", _p_parent="folds_into"
    )
    lookup = _region_lookup(regions, table)
    state_lookup = lookup.rename({"form": "_s_form"}).rename(
        {f"_r_{m}": f"_s_{m}" for m in REGION_FILES}
    )
    last_lookup = lookup.rename({"form": "_l_form"}).rename(
        {f"_r_{m}": f"_l_{m}" for m in REGION_FILES}
    )

    work = addresses.with_columns(_element=element).join(
        text_map.lazy(), on="_element", how="left", maintain_order="left"
    )

    # City rule: the element before a country that has parts (CHN, GBR).
    has_parts = pl.col("_t_code").is_in(parts["folds_into"].unique().implode())
    before = pl.when(has_parts).then(raw).str.extract(r"([^,]*),[^,]*$", 1)
    before = before.str.replace_all(r"\S*\d\S*", "")  # 'Hong Kong 999077' -> 'Hong Kong'
    work = work.with_columns(_p_form=normalise_country_text(before)).join(
        part_forms.lazy(), on="_p_form", how="left", maintain_order="left"
    )
    city_rule = pl.col("_p_code").is_not_null() & (pl.col("_p_parent") == pl.col("_t_code"))

    # Region fallbacks, only where the country element gave nothing.
    unresolved = pl.col("_t_code").is_null()
    n_elements = pl.when(unresolved).then(raw).str.count_matches(",") + 1
    digit_text = pl.when(text.str.contains(r"\d")).then(text.str.strip_chars())
    last = pl.when(unresolved & (n_elements >= 3)).then(text).str.strip_chars()
    last_parts = last.str.extract_groups(_STATE_POSTCODE)  # 'WA 6009', 'ON M5S 1A1'
    work = work.with_columns(
        _s_form=normalise_country_text(pl.when(unresolved).then(pl.col("state"))),
        _s_post=pl.coalesce(pl.col("postcode"), digit_text).str.strip_chars(),
        _l_form=normalise_country_text(pl.coalesce(last_parts.struct[0], last)),
        _l_post=last_parts.struct[1],
    )
    work = work.join(state_lookup.lazy(), on="_s_form", how="left", maintain_order="left")
    work = work.join(last_lookup.lazy(), on="_l_form", how="left", maintain_order="left")
    state_code, state_method = _region_choice("_s", pl.col("_s_post"))
    last_code, last_method = _region_choice("_l", pl.col("_l_post"))

    work = work.with_columns(
        _c_code=pl.when(cjk).then(_cjk_prefix(raw, forms)),
        _given=given.str.strip_chars().str.to_uppercase(),
    )
    known = pl.col("_given").is_in(table["code"].implode())
    cjk_code = pl.coalesce(pl.col("_c_code"), pl.when(cjk).then(pl.lit("CHN")))
    recorded = (
        pl.when(known)
        .then(pl.col("_given"))
        .when(city_rule)
        .then(pl.col("_p_code"))
        .otherwise(pl.coalesce(pl.col("_t_code"), state_code, last_code, cjk_code))
    )
    method = (
        pl.when(known)
        .then(pl.lit("source_code"))
        .when(city_rule)
        .then(pl.lit("city_rule"))
        .when(pl.col("_t_code").is_not_null())
        .then(pl.col("_t_method"))
        .when(state_code.is_not_null())
        .then(state_method)
        .when(last_code.is_not_null())
        .then(last_method)
        .when(pl.col("_c_code").is_not_null())
        .then(pl.lit("cjk_prefix"))
        .when(cjk)
        .then(pl.lit("cjk_domestic"))
        .otherwise(pl.lit("none"))
    )
    score = (
        pl.when(known)
        .then(pl.lit(100.0))
        .when(pl.col("_t_code").is_not_null())
        .then(pl.col("_t_score"))
        .when(method != "none")
        .then(pl.lit(100.0))
        .otherwise(pl.lit(None, pl.Float64))
    )
    targets = policy.fold_targets()
    folded = {
        code: parent
        for code, parent in zip(table["code"], table["folds_into"], strict=True)
        if parent is not None and parent in targets
    }
    temporary = [
        "_element",
        "_t_code",
        "_t_method",
        "_t_score",
        "_p_form",
        "_p_code",
        "_p_parent",
        "_s_form",
        "_s_post",
        "_l_form",
        "_l_post",
        "_c_code",
        "_given",
        *[f"{p}_{m}" for p in ("_s", "_l") for m in REGION_FILES],
    ]
    return (
        work.with_columns(country_recorded=recorded, country_method=method, country_score=score)
        .with_columns(country=pl.col("country_recorded").replace(folded))
        .drop(temporary)
        .select(*schema.names(), "country_recorded", "country", "country_method", "country_score")
    )


def _cjk_prefix(raw: pl.Expr, forms: pl.DataFrame) -> pl.Expr:
    """The code of the longest Chinese-script country name ``raw`` begins with, else null."""
    han = forms.filter(pl.col("form").str.contains(r"^\p{Han}+$"))
    if not han.height:
        return pl.lit(None, pl.String)
    names = sorted(han["form"].to_list(), key=lambda f: (-len(f), f))
    found = raw.str.extract(rf"^[\p{{P}}\s]*({'|'.join(names)})", 1)
    return found.replace_strict(han["form"], han["code"], default=None)


def _region_choice(prefix: str, postcode: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The region match when exactly one kind of region fits: the code or name is one of its
    states and the postcode, when there is one, has its shape ('WA 98195' is Washington,
    'WA 6009' Western Australia, 'WA' alone neither)."""
    fits = []
    for method in REGION_FILES:
        candidate = pl.col(f"{prefix}_{method}").is_not_null() & (
            postcode.is_null() | postcode.str.contains(POSTCODE_PATTERNS[method])
        )
        fits.append((method, candidate.fill_null(False)))
    count = pl.sum_horizontal([f.cast(pl.Int32) for _, f in fits])
    code = pl.lit(None, pl.String)
    method_expr = pl.lit(None, pl.String)
    for method, fit in reversed(fits):
        code = pl.when(fit).then(pl.col(f"{prefix}_{method}")).otherwise(code)
        method_expr = pl.when(fit).then(pl.lit(method)).otherwise(method_expr)
    unique = count == 1
    return (
        pl.when(unique).then(code).otherwise(pl.lit(None, pl.String)),
        pl.when(unique).then(method_expr).otherwise(pl.lit(None, pl.String)),
    )
