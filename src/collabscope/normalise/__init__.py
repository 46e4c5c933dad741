"""Normalisation: countries under an explicit policy (institutions and funders follow)."""

from collabscope.normalise.countries import (
    COUNTRY_METHODS,
    FUZZY_CUTOFF,
    CountryPolicy,
    CountryTableError,
    country_forms,
    load_country_table,
    load_region_table,
    normalise_country_text,
    resolve_countries,
)

__all__ = [
    "COUNTRY_METHODS",
    "FUZZY_CUTOFF",
    "CountryPolicy",
    "CountryTableError",
    "country_forms",
    "load_country_table",
    "load_region_table",
    "normalise_country_text",
    "resolve_countries",
]
