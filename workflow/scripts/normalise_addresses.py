# Adapter: canonical addresses -> addresses with their country under the configured policy.
from pathlib import Path

from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.normalise.stage import normalise_addresses

run(
    normalise_addresses,
    snakemake.input.addresses,
    Path(snakemake.input.countries[0]).parent,  # resources/countries/
    dict(snakemake.params.country_policy),
    snakemake.output.addresses,
)
