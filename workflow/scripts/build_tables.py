# Adapter: parse shards -> results/tables/ (duplicates settled across shards).
from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.combine import combine_shards

run(
    combine_shards,
    list(snakemake.params.shard_dirs),
    dict(snakemake.params.datasets),
    dict(snakemake.output.items()),
)
