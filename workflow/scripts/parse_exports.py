# Adapter: one shard of export files -> the shard's canonical tables.
from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.parse.shard import parse_shard

run(
    parse_shard,
    dict(snakemake.params.files),
    dict(snakemake.output.items()),
    snakemake.params.token_cache,
)
