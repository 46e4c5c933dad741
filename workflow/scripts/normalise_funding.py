# Adapter: canonical funding -> funders matched to the registry, plus the review queue.
from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.normalise.stage import normalise_funding

run(
    normalise_funding,
    snakemake.input.funding,
    snakemake.input.addresses,
    list(snakemake.input.registries),
    snakemake.output.funding,
    snakemake.output.review,
    snakemake.params.store,
)
