"""Split Web of Science addresses into organisation, sub-units, city, state, postcode, country.

The country is the last element as written; an address ending in a US state and ZIP without a
country (old exports) has none. Nothing here maps text to countries: that is the normalisation
stage's job, under its explicit policy.

Vectorised with polars list expressions over a whole column: a shard holds hundreds of
thousands of addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from collabscope.parse.text import split_list

_US_TAIL = r"^(?:([A-Z]{2})\s+)?(\d{5}(?:-\d{4})?)?\s*(USA)$"
_US_NO_COUNTRY = r"^([A-Z]{2})\s+(\d{5}(?:-\d{4})?)$"
# Australian states are written in mixed case ('Vic 3010', 'Qld 4072', 'Tas 7001').
_STATE = r"(?:[A-Z]{2,3}|Vic|Qld|Tas)"
# 'Toronto, ON M5S 1A1, Canada', 'Sydney, NSW 2052, Australia', 'Melbourne, Vic 3010, Australia'
_STATE_POSTCODE = rf"^({_STATE})\s+([0-9][0-9A-Z -]*|[A-Z]\d[A-Z]\s?\d[A-Z]\d)$"
# 'Campinas, SP, Brazil'; 'Melbourne, Vic, Australia'
_STATE_CODE = rf"^{_STATE}$"
_DIGIT = r"\d"
# 'Nanjing 210093' (or '75005 Paris') before 'Jiangsu, Peoples R China': a postcode last, or
# first of two tokens. A digit elsewhere is part of a name ('Ctr Adv 2D Mat', 'Inst 3IA Cote
# Azur') or a street number ('21 Sassoon Rd, Hong Kong': Hong Kong has no postcodes).
_CITY_POSTCODE = r"(?:^|\s)\S*\d\S*$|^\S*\d\S*\s+\S+$"

ADDRESS_PARTS = pl.Schema(
    {
        "organisation": pl.String,
        "sub_organisations": pl.List(pl.String),
        "city": pl.String,
        "state": pl.String,
        "postcode": pl.String,
        "country_text": pl.String,
        "old_style": pl.Boolean,
    }
)


@dataclass
class ParsedAddress:
    raw: str
    organisation: str | None
    sub_organisations: list[str]
    city: str | None
    state: str | None
    postcode: str | None
    country_text: str | None
    old_style: bool


def parse_address(raw: str) -> ParsedAddress:
    """One address; see :func:`parse_addresses`."""
    frame = parse_addresses(pl.DataFrame({"raw": [raw]}, schema={"raw": pl.String}), "raw")
    row = frame.select(ADDRESS_PARTS.names()).row(0, named=True)
    return ParsedAddress(raw=raw, **row)


def parse_addresses(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Add the ADDRESS_PARTS columns for the addresses in ``column``.

    'Nanjing Univ, Sch Educ, Nanjing 210093, Jiangsu, Peoples R China' -> organisation
    'Nanjing Univ', sub-units ['Sch Educ'], city 'Nanjing', postcode '210093', state
    'Jiangsu', country 'Peoples R China'. 'Stanford Univ, Stanford, CA 94305 USA' -> state
    'CA', postcode '94305', country 'USA'.
    """
    text = pl.col(column).str.strip_chars().str.strip_chars_end(".").str.strip_chars()
    elements = split_list(text, ",")
    work = frame.with_columns(
        _old=~text.str.contains(r"\p{Ll}") & text.str.contains(r"\p{L}"),
        _el=elements,
    ).with_columns(_n=pl.col("_el").list.len(), _last=pl.col("_el").list.last())
    n, last = pl.col("_n"), pl.col("_last")
    us = last.str.extract_groups(_US_TAIL)
    us_bare = last.str.extract_groups(_US_NO_COUNTRY)
    work = work.with_columns(_us=us, _bare=us_bare).with_columns(
        _is_us=pl.col("_us").struct[2].is_not_null(),
        _is_bare=pl.col("_bare").struct[0].is_not_null() & (n > 1),
    )
    is_us, is_bare = pl.col("_is_us"), pl.col("_is_bare")
    all_but_last = pl.col("_el").list.slice(0, pl.max_horizontal(n - 1, 0))
    work = work.with_columns(
        _state=pl.when(is_us)
        .then(pl.col("_us").struct[0])
        .when(is_bare)
        .then(pl.col("_bare").struct[0]),
        _post=pl.when(is_us)
        .then(pl.col("_us").struct[1])
        .when(is_bare)
        .then(pl.col("_bare").struct[1]),
        country_text=pl.when(is_us).then(pl.lit("USA")).when(~is_bare & (n > 1)).then(last),
        _rest=pl.when(~is_us & ~is_bare & (n == 1)).then(pl.col("_el")).otherwise(all_but_last),
    )

    # A state or province element before the country: only where the rest is long enough to
    # still hold an organisation and a city.
    rest = pl.col("_rest")
    rest_last = rest.list.get(-1, null_on_oob=True)
    rest_prev = rest.list.get(-2, null_on_oob=True)
    state_postcode = rest_last.str.extract_groups(_STATE_POSTCODE)
    work = work.with_columns(_sp=state_postcode).with_columns(
        _state_mode=pl.when((rest.list.len() > 2) & pl.col("_state").is_null())
        .then(
            pl.when(pl.col("_sp").struct[0].is_not_null())
            .then(pl.lit("state_postcode"))
            .when(
                rest_last.str.contains(_STATE_CODE)
                | (rest_prev.str.contains(_CITY_POSTCODE) & ~rest_last.str.contains(_DIGIT))
            )
            .then(pl.lit("state"))
        )
        .otherwise(None)
    )
    mode = pl.col("_state_mode")
    work = work.with_columns(
        _state=pl.when(mode == "state_postcode")
        .then(pl.col("_sp").struct[0])
        .when(mode == "state")
        .then(rest_last)
        .otherwise(pl.col("_state")),
        _post=pl.when(mode == "state_postcode")
        .then(pl.col("_sp").struct[1].str.strip_chars())
        .otherwise(pl.col("_post")),
        _rest=pl.when(mode.is_not_null())
        .then(rest.list.slice(0, rest.list.len() - 1))
        .otherwise(rest),
    )

    rest = pl.col("_rest")
    has_city = rest.list.len() > 1
    work = work.with_columns(
        organisation=rest.list.first(),
        sub_organisations=pl.when(has_city)
        .then(rest.list.slice(1, rest.list.len() - 2))
        .otherwise(pl.lit([], dtype=pl.List(pl.String))),
        _city_element=pl.when(has_city).then(rest.list.last()),
    )
    work = _split_city_postcode(work)
    return work.select(
        pl.exclude([c for c in work.columns if c.startswith("_")] + list(ADDRESS_PARTS)),
        organisation="organisation",
        sub_organisations="sub_organisations",
        city="_city",
        state="_state",
        postcode=pl.coalesce("_post", "_code"),
        country_text="country_text",
        old_style="_old",
    )


def _split_city_postcode(work: pl.DataFrame) -> pl.DataFrame:
    """'Beijing 100875' -> city 'Beijing', code '100875'; 'London WC1E 6BT' -> 'London' +
    'WC1E 6BT'; '100875 Beijing' -> 'Beijing' + '100875'.

    Tokens with digits at either end are the postcode; at least one token stays the city,
    unless every token has digits: then the element is a postcode without a city.
    """
    tokens = (
        pl.col("_city_element").str.replace_all(r"\s+", " ").str.strip_chars(" ").str.split(" ")
    )
    work = work.with_columns(_tok=tokens).with_columns(
        _plain=pl.col("_tok").list.eval(~pl.element().str.contains(_DIGIT)),
        _len=pl.col("_tok").list.len(),
    )
    plain, length = pl.col("_plain"), pl.col("_len")
    any_plain = plain.list.any()
    # end: one past the last token without digits (at least 1); start: the first such token,
    # but no further than end - 1.
    last_plain = length - 1 - plain.list.reverse().list.arg_max()
    first_plain = plain.list.arg_max()
    work = work.with_columns(
        _end=pl.when(any_plain).then(pl.max_horizontal(last_plain + 1, 1)).otherwise(1),
    ).with_columns(
        _start=pl.when(any_plain)
        .then(pl.min_horizontal(first_plain, pl.col("_end") - 1))
        .otherwise(pl.col("_end") - 1)
    )
    start, end, tok = pl.col("_start"), pl.col("_end"), pl.col("_tok")
    city = tok.list.slice(start, end - start).list.join(" ")
    code = pl.concat_list(tok.list.slice(0, start), tok.list.slice(end, length - end)).list.join(
        " "
    )
    work = work.with_columns(_city=city, _code=code).with_columns(
        _code=pl.when(pl.col("_code").str.len_bytes() > 0).then(pl.col("_code")),
        _city=pl.when(pl.col("_city").str.len_bytes() > 0).then(pl.col("_city")),
    )
    # Every token has digits ('WC1E 6BT', '100875'): a postcode without a city.
    all_code = ~any_plain & pl.col("_city_element").is_not_null()
    return work.with_columns(
        _code=pl.when(all_code).then(tok.list.join(" ")).otherwise(pl.col("_code")),
        _city=pl.when(all_code).then(None).otherwise(pl.col("_city")),
    )
