# Adapter: the pool -> results/private/sample.csv and results/sampling/summary.csv.
from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.sampling.stage import draw_sample

run(
    draw_sample,
    snakemake.input.pool,
    list(snakemake.input.tiers),
    {label: dict(spec) for label, spec in snakemake.params.strata.items()},
    snakemake.params.size,
    snakemake.params.reserves,
    dict(snakemake.params.filters),
    snakemake.params.seed,
    snakemake.input.get("exclusions"),
    dict(snakemake.output.items()),
)
