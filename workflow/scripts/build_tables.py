# Adapter: parse shards -> results/tables/ (duplicates settled across shards).
from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.combine import combine_shards
from collabscope.sharding import remove_other_shard_folders

run(
    combine_shards,
    list(snakemake.params.shard_dirs),
    dict(snakemake.params.datasets),
    dict(snakemake.output.items()),
)
# The token caches of shards that no longer have a parse job.
run(remove_other_shard_folders, snakemake.params.token_caches, snakemake.params.shards)
