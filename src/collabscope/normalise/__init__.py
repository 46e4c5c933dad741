"""Normalisation: countries under an explicit policy (normalise.countries), institutions and
funders. Nothing is imported here: a parse job that reads a curated list
(normalise.curated) does not load numpy and rapidfuzz with the country matcher."""
