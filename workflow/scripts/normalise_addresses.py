# Adapter: canonical addresses -> addresses with country and institution, plus review queues.
from pathlib import Path

from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.normalise.stage import normalise_addresses

run(
    normalise_addresses,
    snakemake.input.addresses,
    Path(snakemake.input.countries[0]).parent,  # resources/countries/
    dict(snakemake.params.country_policy),
    list(snakemake.input.institutions),
    list(snakemake.input.tiers),
    snakemake.input.get("ror"),
    snakemake.input.get("overrides"),
    snakemake.params.fuzzy_cutoff,
    dict(snakemake.output.items()),
    snakemake.params.store,
)
