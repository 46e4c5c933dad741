# Adapter: the pool -> results/private/sample.csv and results/sampling/summary.csv.
from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.sampling.stage import draw_sample

draw = snakemake.params.draw
run(
    draw_sample,
    snakemake.input.pool,
    list(snakemake.input.tiers),
    {label: dict(spec) for label, spec in draw["strata"].items()},
    draw["size"],
    draw["reserves"],
    dict(draw["filters"]),
    draw["seed"],
    snakemake.input.get("exclusions"),
    dict(snakemake.output.items()),
)
