# Adapter: canonical tables -> works across sources, provenance and merge accounting.
from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.merge import merge_stage

run(
    merge_stage,
    dict(snakemake.input.items()),
    list(snakemake.params.source_order),
    {field: list(order) for field, order in snakemake.params.field_sources.items()},
    dict(snakemake.output.items()),
    snakemake.params.store,
)
